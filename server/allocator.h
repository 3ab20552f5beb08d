// The process's malloc settings (glibc).
//
// glibc raises its mmap threshold (up to 32 MiB) each time a mapped block is
// freed, and its trim threshold to twice that; past that, free memory at
// the top of a thread's arena is kept until it exceeds 64 MiB, and
// malloc_trim() never gives back the top of any arena but the main one. A
// server whose gRPC and stream threads each took an arena kept ~100 MiB of
// free memory resident after a burst of jobs (benchmarks/RELIABILITY.md).
#ifndef GPUDB_SERVER_ALLOCATOR_H_
#define GPUDB_SERVER_ALLOCATOR_H_

namespace server {

// Fixes the thresholds: blocks of kMmapThreshold or more are mapped (where
// glibc's own adjustment ends up), and free memory of more than
// kTrimThreshold at the top of an arena goes back to the system when freed.
// Leaves them as they are when the environment sets malloc's settings
// (GLIBC_TUNABLES with glibc.malloc., MALLOC_TRIM_THRESHOLD_,
// MALLOC_MMAP_THRESHOLD_). Returns whether it set them; call it once, first
// thing in main. No-op without glibc.
inline constexpr long kMmapThreshold = 32L << 20;
inline constexpr long kTrimThreshold = 4L << 20;
bool TuneAllocator();

}  // namespace server

#endif  // GPUDB_SERVER_ALLOCATOR_H_
