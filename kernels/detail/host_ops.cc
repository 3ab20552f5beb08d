// The host backend: Thrust's OpenMP system, compiled by the host compiler.

#include <omp.h>
#include <sys/mman.h>
#include <thrust/system/omp/execution_policy.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <utility>
#include <vector>

#include "kernels/detail/algorithm_ops.inl"
#include "kernels/detail/analytics_algorithms.inl"
#include "kernels/detail/ops.h"
#include "kernels/memory.h"
#include "kernels/detail/temp_allocator.h"

namespace kernels::detail {
namespace {

// Blocks of this size or more start on a huge page and ask the OS to back
// them with huge pages (madvise MADV_HUGEPAGE, a hint). They hold the
// kernels' working memory (hash tables, join pairs, gathered columns), which
// is read at random and recycled through the pool's cache: one TLB entry per
// 2 MiB instead of per 4 KiB (change_bench: 1e7 x 1e6 left join 0.40 s
// beside 0.60 s on 4 KiB pages). Memory that is written once and kept
// (loaded columns, request bodies) is not advised: in a VM whose memory is
// handed back to its host while free, a fresh huge page costs far more than
// 512 small ones (a 1e7-row Parquet load 2.0 s beside 0.9 s).
constexpr size_t kHugePageBytes = size_t{2} << 20;

void AdviseHugePages(void* p, size_t bytes) {
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHugePageBytes - 1);
  if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

// Thrust's OpenMP sort sorts one tile per thread (thrust::seq, whose
// temporaries come from the heap) and then merges tiles inside a parallel
// region, taking the merge buffers from the policy's allocator. An exception
// there (OutOfMemory from the pool) would end the process, so a sort first
// reserves, outside the region, what both phases need: twice the keys and
// values. The merge buffers come out of the reserved block; the tile
// temporaries are counted by it. Requests past the block (not expected) go to
// the pool if it has room and to the heap otherwise: never an exception
// inside the region.
class SortArena {
 public:
  SortArena(const Exec& exec, size_t bytes) : mr_(exec.mr), block_(bytes, exec) {}
  SortArena(const SortArena&) = delete;
  SortArena& operator=(const SortArena&) = delete;
  ~SortArena() {
    for (const Extra& e : extra_) Free(e);
  }

  char* allocate(std::ptrdiff_t bytes) {
    const size_t need = (static_cast<size_t>(bytes) + 255) / 256 * 256;
    std::lock_guard<std::mutex> lock(mu_);
    if (outstanding_ == 0) used_ = 0;  // merge levels free everything between them
    if (used_ + need <= block_.size()) {
      char* p = block_.as<char>() + used_;
      used_ += need;
      ++outstanding_;
      return p;
    }
    Extra e{nullptr, static_cast<size_t>(bytes), true};
    try {
      e.p = static_cast<char*>(mr_->Allocate(e.bytes, nullptr));
    } catch (...) {
      e.pooled = false;
      void* p = nullptr;
      if (posix_memalign(&p, 256, need) != 0) std::terminate();  // the host itself is out of memory
      e.p = static_cast<char*>(p);
    }
    extra_.push_back(e);
    return e.p;
  }

  void deallocate(char* p, size_t) noexcept {
    std::lock_guard<std::mutex> lock(mu_);
    const char* base = block_.as<char>();
    if (p >= base && p < base + block_.size()) {
      --outstanding_;
      return;
    }
    for (size_t i = 0; i < extra_.size(); ++i) {
      if (extra_[i].p == p) {
        Free(extra_[i]);
        extra_[i] = extra_.back();
        extra_.pop_back();
        return;
      }
    }
  }

 private:
  struct Extra {
    char* p;
    size_t bytes;
    bool pooled;
  };
  void Free(const Extra& e) noexcept {
    if (e.pooled) {
      mr_->Deallocate(e.p, e.bytes, nullptr);
    } else {
      std::free(e.p);
    }
  }

  std::mutex mu_;
  MemoryResource* mr_;
  Buffer block_;
  size_t used_ = 0;
  int64_t outstanding_ = 0;
  std::vector<Extra> extra_;
};

struct ArenaAllocator {
  using value_type = char;
  SortArena* arena;
  char* allocate(std::ptrdiff_t bytes) { return arena->allocate(bytes); }
  void deallocate(char* p, size_t bytes) { arena->deallocate(p, bytes); }
};

std::atomic<bool>& SerialFlag() {
  static std::atomic<bool> serial{true};
  return serial;
}

struct HostSortScope {
  SortArena arena;
  auto policy() { return thrust::omp::par(ArenaAllocator{&arena}); }
};

class HostOpsImpl final : public AnalyticsAlgorithms<HostOpsImpl, AlgorithmOps<HostOpsImpl>> {
 public:
  auto policy(const Exec& exec) const { return thrust::omp::par(TempAllocator{exec.mr, nullptr}); }
  // A few CPU threads: reduce groups with one loop each (or hashed groups
  // in input order), and order hashed rows by a counting sort (see
  // kernels_bench: Thrust's reduce_by_key and sorts on OpenMP run mostly on
  // one thread). The CUDA paths are built too, for tests.
  static constexpr bool kHasSerialGroups = true;
  // Scan plans run by blocks of rows, in loops the compiler vectorizes.
  static constexpr bool kBlockedScans = true;
  bool serial_groups() const { return SerialFlag().load(std::memory_order_relaxed); }
  int64_t threads() const { return omp_get_max_threads(); }
  // `bytes`: the keys and values of the sort; the merges need as much again,
  // plus a few 256-byte roundings per thread.
  HostSortScope sort_scope(const Exec& exec, size_t bytes) const {
    return HostSortScope{SortArena(exec, 2 * bytes + 64 * 1024)};
  }

  int DeviceCount() const override { return 0; }
  CudaDeviceInfo DeviceInfo(int) const override { return {}; }
  // A block of a huge page or more starts on one and asks for huge pages
  // (AdviseHugePages).
  void* Allocate(size_t bytes, int, void*) const override {
    constexpr size_t kAlign = 256;
    const size_t rounded = (bytes + kAlign - 1) / kAlign * kAlign;
    // posix_memalign: aligned_alloc requires a size that is a multiple of
    // the alignment, which a block of a huge page or more need not be.
    void* p = nullptr;
    if (posix_memalign(&p, rounded < kHugePageBytes ? kAlign : kHugePageBytes, rounded) != 0) return nullptr;
    if (rounded >= kHugePageBytes) AdviseHugePages(p, rounded);
    return p;
  }
  void Deallocate(void* p, int, void*) const noexcept override { std::free(p); }
  void* CreateStream(int) const override { return nullptr; }
  void DestroyStream(int, void*) const override {}
  void BindThread(int) const override {}
  void Synchronize(const Exec&) const override {}
  std::string DeviceFailure(const Exec&) const override { return ""; }
  void CopyToDevice(void* dst, const void* src, size_t bytes, const Exec&) const override {
    if (bytes > 0) std::memcpy(dst, src, bytes);
  }
  void CopyToHostSync(void* dst, const void* src, size_t bytes, const Exec&) const override {
    if (bytes > 0) std::memcpy(dst, src, bytes);
  }
  void CopyOnDevice(void* dst, const void* src, size_t bytes, const Exec&) const override {
    if (bytes > 0) std::memcpy(dst, src, bytes);
  }
  void Fill(void* dst, uint8_t value, size_t bytes, const Exec&) const override {
    if (bytes > 0) std::memset(dst, value, bytes);
  }
};

}  // namespace

void SetHostSerialGroups(bool serial) { SerialFlag().store(serial, std::memory_order_relaxed); }

const Ops& HostOps() {
  static const HostOpsImpl ops;
  return ops;
}

}  // namespace kernels::detail
