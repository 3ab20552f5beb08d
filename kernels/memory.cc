#include "kernels/memory.h"

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kernels/detail/ops.h"

namespace kernels {
namespace {

constexpr size_t kAlignment = 256;
// Cached size classes: four per octave from 2^kMinShift (kCacheMinBytes) up
// to below 2^kMaxShift; larger requests are never cached.
constexpr int kMinShift = 16;
constexpr int kMaxShift = 61;
constexpr int kBuckets = (kMaxShift - kMinShift + 1) * 4;
static_assert(MemoryResource::kCacheMinBytes == size_t{1} << kMinShift);

size_t BucketBytes(int index) {
  const size_t octave = size_t{1} << (kMinShift + index / 4);
  return octave + static_cast<size_t>(index % 4) * (octave / 4);
}

size_t RoundUp(size_t bytes) { return (bytes + kAlignment - 1) / kAlignment * kAlignment; }

std::string Mib(size_t bytes) {
  return absl::StrCat(bytes / (1024 * 1024), ".", (bytes % (1024 * 1024)) * 10 / (1024 * 1024), " MiB");
}

// InjectAllocationFailures: an allocation fails when the hash of its
// sequence number falls below the threshold (0: never). The seed is
// published by the threshold's store (ThreadSanitizer caught a relaxed
// store racing the streams' reads of a plain seed).
std::atomic<uint64_t> injected_threshold{0};
std::atomic<uint64_t> injected_sequence{0};
uint64_t injected_seed = 0;

bool InjectedFailure() {
  const uint64_t threshold = injected_threshold.load(std::memory_order_acquire);
  if (threshold == 0) return false;
  // splitmix64 of the sequence number.
  uint64_t z = injected_sequence.fetch_add(1, std::memory_order_relaxed) + injected_seed + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return (z ^ (z >> 31)) < threshold;
}

}  // namespace

void InjectAllocationFailures(double p, uint64_t seed) {
  injected_seed = seed * 0x2545f4914f6cdd1dull;
  const double clamped = p <= 0 ? 0 : p >= 1 ? 1 : p;
  injected_threshold.store(clamped >= 1 ? ~uint64_t{0} : static_cast<uint64_t>(clamped * 18446744073709551616.0),
                           std::memory_order_release);
}

struct alignas(64) MemoryResource::Bucket {
  std::mutex mu;
  std::vector<void*> blocks;  // freed blocks of this class; the last freed is reused first
};

MemoryResource::MemoryResource(Backend backend, int device, std::string name, size_t limit)
    : backend_(backend), device_(device), name_(std::move(name)), limit_(limit) {
  if (backend_ == Backend::kHost) {
    buckets_.reset(new Bucket[kBuckets]);
    cache_limit_.store(limit_ != 0 ? limit_ / 4 : kDefaultUnlimitedCacheBytes, std::memory_order_relaxed);
  }
}

MemoryResource::~MemoryResource() { Trim(); }

int MemoryResource::ClassOf(size_t rounded, size_t* block_bytes) {
  *block_bytes = rounded;
  if (rounded < kCacheMinBytes) return -1;
  int shift = 63 - __builtin_clzll(static_cast<unsigned long long>(rounded));
  if (shift >= kMaxShift) return -1;
  const size_t octave = size_t{1} << shift;
  const size_t quarter = octave / 4;
  size_t q = (rounded - octave + quarter - 1) / quarter;
  if (q == 4) {
    ++shift;
    q = 0;
  }
  const int index = (shift - kMinShift) * 4 + static_cast<int>(q);
  *block_bytes = BucketBytes(index);
  return index;
}

void* MemoryResource::AllocateBlock(size_t block_bytes, void* stream) {
  const detail::Ops& ops = detail::OpsFor(backend_);
  if (limit_ != 0 && cached_.load(std::memory_order_relaxed) > 0) {
    // Keep held + cached blocks within the limit: make room from the cache.
    const size_t held = held_.load(std::memory_order_relaxed);
    const size_t room = held + block_bytes < limit_ ? limit_ - held - block_bytes : 0;
    if (cached_.load(std::memory_order_relaxed) > room) ReleaseCache(room);
  }
  void* p = ops.Allocate(block_bytes, device_, stream);
  if (p == nullptr && cached_.load(std::memory_order_relaxed) > 0) {
    ReleaseCache(0);  // the OS refused: give it the cache back and retry
    p = ops.Allocate(block_bytes, device_, stream);
  }
  return p;
}

size_t MemoryResource::CountInUse(size_t rounded) {
  if (InjectedFailure()) {
    throw OutOfMemory(absl::StrCat("out of device memory on ", name_, ": needs ", Mib(rounded),
                                   " (an injected failure: GPUDB_INJECT_ALLOCATION_FAILURES)"));
  }
  size_t used = in_use_.load(std::memory_order_relaxed);
  do {
    if (limit_ != 0 && (rounded > limit_ || used > limit_ - rounded)) {
      throw OutOfMemory(absl::StrCat("out of device memory on ", name_, ": needs ", Mib(rounded),
                                     ", ", Mib(used), " of the ", Mib(limit_), " limit in use"));
    }
  } while (!in_use_.compare_exchange_weak(used, used + rounded, std::memory_order_relaxed));
  return used;
}

void MemoryResource::CountPeak(size_t in_use) noexcept {
  size_t peak = peak_.load(std::memory_order_relaxed);
  while (in_use > peak && !peak_.compare_exchange_weak(peak, in_use, std::memory_order_relaxed)) {
  }
}

void* MemoryResource::Allocate(size_t bytes, void* stream) {
  if (bytes == 0) return nullptr;
  const size_t rounded = RoundUp(bytes);
  const size_t used = CountInUse(rounded);
  size_t block_bytes = rounded;
  const int cls = buckets_ != nullptr ? ClassOf(rounded, &block_bytes) : -1;
  void* p = nullptr;
  if (cls >= 0 && cached_.load(std::memory_order_relaxed) > 0) {
    Bucket& bucket = buckets_[cls];
    std::lock_guard<std::mutex> lock(bucket.mu);
    if (!bucket.blocks.empty()) {
      p = bucket.blocks.back();
      bucket.blocks.pop_back();
      cached_.fetch_sub(block_bytes, std::memory_order_relaxed);
    }
  }
  if (p == nullptr) p = AllocateBlock(block_bytes, stream);
  if (p == nullptr) {
    in_use_.fetch_sub(rounded, std::memory_order_relaxed);
    throw OutOfMemory(absl::StrCat("out of device memory on ", name_, ": the device could not supply ",
                                   Mib(rounded)));
  }
  held_.fetch_add(block_bytes, std::memory_order_relaxed);
  CountPeak(used + rounded);  // only memory actually handed out
  return p;
}

void MemoryResource::Charge(size_t bytes) {
  const size_t rounded = RoundUp(bytes);
  const size_t used = CountInUse(rounded);
  held_.fetch_add(rounded, std::memory_order_relaxed);
  CountPeak(used + rounded);
}

void MemoryResource::Discharge(size_t bytes) noexcept {
  const size_t rounded = RoundUp(bytes);
  held_.fetch_sub(rounded, std::memory_order_relaxed);
  in_use_.fetch_sub(rounded, std::memory_order_relaxed);
}

void MemoryResource::Deallocate(void* p, size_t bytes, void* stream) noexcept {
  if (p == nullptr) return;
  const size_t rounded = RoundUp(bytes);
  size_t block_bytes = rounded;
  const int cls = buckets_ != nullptr ? ClassOf(rounded, &block_bytes) : -1;
  held_.fetch_sub(block_bytes, std::memory_order_relaxed);
  bool kept = false;
  if (cls >= 0) {
    const size_t cap = cache_limit_.load(std::memory_order_relaxed);
    if (cached_.fetch_add(block_bytes, std::memory_order_relaxed) + block_bytes <= cap) {
      Bucket& bucket = buckets_[cls];
      std::lock_guard<std::mutex> lock(bucket.mu);
      try {
        bucket.blocks.push_back(p);
        kept = true;
      } catch (...) {
      }
    }
    if (!kept) cached_.fetch_sub(block_bytes, std::memory_order_relaxed);
  }
  if (!kept) detail::OpsFor(backend_).Deallocate(p, device_, stream);
  in_use_.fetch_sub(rounded, std::memory_order_relaxed);
}

void MemoryResource::ReleaseCache(size_t keep) noexcept {
  if (buckets_ == nullptr) return;
  const detail::Ops& ops = detail::OpsFor(backend_);
  std::vector<void*> freed;
  for (int i = kBuckets - 1; i >= 0 && cached_.load(std::memory_order_relaxed) > keep; --i) {
    Bucket& bucket = buckets_[i];
    const size_t block_bytes = BucketBytes(i);
    {
      std::lock_guard<std::mutex> lock(bucket.mu);
      if (keep == 0) {
        freed.swap(bucket.blocks);
        cached_.fetch_sub(freed.size() * block_bytes, std::memory_order_relaxed);
      } else {
        while (!bucket.blocks.empty() && cached_.load(std::memory_order_relaxed) > keep) {
          void* p = bucket.blocks.back();
          bucket.blocks.pop_back();
          cached_.fetch_sub(block_bytes, std::memory_order_relaxed);
          ops.Deallocate(p, device_, nullptr);
        }
      }
    }
    for (void* p : freed) ops.Deallocate(p, device_, nullptr);
    freed.clear();
  }
}

void MemoryResource::set_cache_limit(size_t bytes) {
  if (buckets_ == nullptr) return;
  cache_limit_.store(bytes, std::memory_order_relaxed);
  if (cached_.load(std::memory_order_relaxed) > bytes) ReleaseCache(bytes);
}

void MemoryResource::Trim() noexcept { ReleaseCache(0); }

Buffer::Buffer(size_t bytes, const Exec& exec)
    : data_(exec.mr->Allocate(bytes, exec.stream)), bytes_(bytes), mr_(exec.mr), stream_(exec.stream) {}

Buffer Buffer::Adopt(void* data, size_t bytes, std::shared_ptr<void> owner, const Exec& exec) {
  exec.mr->Charge(bytes);
  Buffer b;
  b.data_ = data;
  b.bytes_ = bytes;
  b.mr_ = exec.mr;
  b.stream_ = exec.stream;
  b.owner_ = std::move(owner);
  return b;
}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    Reset();
    data_ = other.data_;
    bytes_ = other.bytes_;
    mr_ = other.mr_;
    stream_ = other.stream_;
    owner_ = std::move(other.owner_);
    other.data_ = nullptr;
    other.bytes_ = 0;
    other.mr_ = nullptr;
  }
  return *this;
}

void Buffer::Reset() noexcept {
  if (owner_ != nullptr) {
    owner_.reset();
    mr_->Discharge(bytes_);
  } else if (mr_ != nullptr) {
    mr_->Deallocate(data_, bytes_, stream_);
  }
  data_ = nullptr;
  bytes_ = 0;
  mr_ = nullptr;
}

}  // namespace kernels
