#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "kernels/backend.h"

namespace kernels {

// Thrown when an allocation would pass a device's byte limit, or the device
// itself is out of memory. The message names the device, the request and the
// space left. Derives from std::bad_alloc so Thrust's own failures and ours
// are caught alike.
class OutOfMemory : public std::bad_alloc {
 public:
  explicit OutOfMemory(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// Fault injection, for tests: from now on each allocation (Allocate,
// Charge) of every pool fails with probability `p` (0 turns it off), with an
// OutOfMemory whose message says it was injected. gpudb-engine sets it from
// the environment variable GPUDB_INJECT_ALLOCATION_FAILURES=P (tests only).
void InjectAllocationFailures(double p, uint64_t seed = 1);

// A device's memory pool: every byte a job uses on a device comes from here.
// Allocations are counted against a limit; in_use() and peak() report the
// accounting: bytes callers hold (each request rounded up to 256), never
// memory kept in a cache. Thread-safe.
//
// CUDA pools use stream-ordered allocation (cudaMallocAsync) from the
// device's memory pool, which itself keeps freed memory for reuse.
//
// Host pools hand out aligned host memory and keep freed blocks of at least
// kCacheMinBytes for reuse, so kernels do not pay page faults and page zeroing
// for fresh OS memory on every call. Cached blocks come in size classes of a
// quarter octave (a request is rounded up to 1, 1.25, 1.5 or 1.75 times a
// power of two, so a block may hold up to 25% more than asked) and are
// reused last-freed first; smaller requests go straight to the C allocator.
// The cache holds at most cache_limit() bytes (by default a quarter of the
// limit, or kDefaultUnlimitedCacheBytes without a limit); a block freed when
// the cache is full goes back to the OS. The cache lives inside the limit:
// an allocation that would take blocks held plus cached past the limit, or
// that the OS refuses, first releases the whole cache and retries, and only
// then fails with OutOfMemory. Reuse is not stream-ordered, which the host
// does not need (its streams run their work synchronously).
class MemoryResource {
 public:
  static constexpr size_t kCacheMinBytes = size_t{64} << 10;
  static constexpr size_t kDefaultUnlimitedCacheBytes = size_t{1} << 30;

  // `limit` is in bytes; 0 means no limit beyond the device's own memory.
  MemoryResource(Backend backend, int device, std::string name, size_t limit);
  // Releases the cache. REQUIRES: every allocation has been freed.
  ~MemoryResource();
  MemoryResource(const MemoryResource&) = delete;
  MemoryResource& operator=(const MemoryResource&) = delete;

  // Returns at least `bytes` bytes (256-byte aligned), ordered on `stream`.
  // Zero bytes returns null. Throws OutOfMemory.
  void* Allocate(size_t bytes, void* stream);
  // REQUIRES: p came from Allocate(bytes, ...) of this resource.
  void Deallocate(void* p, size_t bytes, void* stream) noexcept;
  // Counts `bytes` of memory allocated elsewhere as held (Buffer::Adopt), as
  // Allocate counts what it hands out: the same limit, accounting and
  // OutOfMemory; nothing is allocated. Discharge(bytes) ends the count.
  void Charge(size_t bytes);
  void Discharge(size_t bytes) noexcept;

  Backend backend() const { return backend_; }
  int device() const { return device_; }
  const std::string& name() const { return name_; }
  size_t limit() const { return limit_; }
  size_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
  size_t peak() const { return peak_.load(std::memory_order_relaxed); }
  // Bytes of freed blocks kept for reuse (host pools; 0 on CUDA, whose
  // driver pool caches out of our sight).
  size_t cached() const { return cached_.load(std::memory_order_relaxed); }
  size_t cache_limit() const { return cache_limit_.load(std::memory_order_relaxed); }
  // Sets the most bytes the cache may hold; 0 turns caching off. Releases
  // cached blocks beyond the new cap.
  void set_cache_limit(size_t bytes);
  // Returns every cached block to the OS.
  void Trim() noexcept;

 private:
  struct Bucket;
  // The size class of a host block holding `rounded` bytes and its bucket
  // index, or -1 when blocks of this size are not cached.
  static int ClassOf(size_t rounded, size_t* block_bytes);
  // Counts `rounded` bytes in use against the limit (throws OutOfMemory);
  // returns the bytes in use before.
  size_t CountInUse(size_t rounded);
  void CountPeak(size_t in_use) noexcept;
  void* AllocateBlock(size_t block_bytes, void* stream);
  // Frees cached blocks, largest classes first, until at most `keep` bytes
  // stay cached.
  void ReleaseCache(size_t keep) noexcept;

  const Backend backend_;
  const int device_;
  const std::string name_;
  const size_t limit_;
  std::atomic<size_t> in_use_{0};
  std::atomic<size_t> peak_{0};
  // Bytes of the blocks callers hold (size classes, not requests).
  std::atomic<size_t> held_{0};
  std::atomic<size_t> cached_{0};
  std::atomic<size_t> cache_limit_{0};
  std::unique_ptr<Bucket[]> buckets_;  // host pools only
};

// An owning, untyped allocation from a MemoryResource. Move-only; frees on
// destruction, ordered on the stream it was allocated on.
class Buffer {
 public:
  Buffer() = default;
  Buffer(size_t bytes, const Exec& exec);
  // Takes `bytes` of memory at `data` allocated elsewhere, which `owner`
  // keeps alive until the buffer is freed, counted by exec's pool meanwhile
  // (MemoryResource::Charge). REQUIRES: `data` is memory of exec's device (on
  // a host device, host memory). Throws OutOfMemory, dropping `owner`.
  static Buffer Adopt(void* data, size_t bytes, std::shared_ptr<void> owner, const Exec& exec);
  ~Buffer() { Reset(); }
  Buffer(Buffer&& other) noexcept { *this = std::move(other); }
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  template <typename T>
  T* as() { return static_cast<T*>(data_); }
  template <typename T>
  const T* as() const { return static_cast<const T*>(data_); }
  size_t size() const { return bytes_; }
  void Reset() noexcept;
  // Frees now, ordered on `stream` rather than the allocating stream: for a
  // buffer last used by work on another stream.
  void ResetOn(void* stream) noexcept {
    stream_ = stream;
    Reset();
  }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  MemoryResource* mr_ = nullptr;
  void* stream_ = nullptr;
  std::shared_ptr<void> owner_;  // adopted memory: what keeps it alive
};

}  // namespace kernels
