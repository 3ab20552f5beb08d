// Tests of the host memory resource's block cache (kernels/memory.h): freed
// blocks are handed out again, the accounting and the limit count what callers
// hold, and the cache gives way when an allocation needs the room. The cache
// is host-only (CUDA's driver pool caches on its own), so these run on the
// host backend.

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/backend.h"
#include "kernels/memory.h"

namespace kernels {
namespace {

constexpr size_t kMiB = size_t{1} << 20;

Exec HostExec(MemoryResource* mr) {
  Exec e;
  e.backend = Backend::kHost;
  e.mr = mr;
  return e;
}

TEST(MemoryCacheTest, FreedBlockIsHandedOutAgainLastFreedFirst) {
  MemoryResource mr(Backend::kHost, 0, "host:0", 0);
  void* a = mr.Allocate(kMiB, nullptr);
  void* b = mr.Allocate(kMiB, nullptr);
  ASSERT_NE(a, b);
  mr.Deallocate(a, kMiB, nullptr);
  mr.Deallocate(b, kMiB, nullptr);
  EXPECT_EQ(mr.cached(), 2 * kMiB);
  EXPECT_EQ(mr.in_use(), 0u);
  // A request in the same size class (1 MiB less a little) gets b, then a.
  void* c = mr.Allocate(kMiB - 1000, nullptr);
  EXPECT_EQ(c, b);
  EXPECT_EQ(mr.cached(), kMiB);
  void* d = mr.Allocate(kMiB, nullptr);
  EXPECT_EQ(d, a);
  EXPECT_EQ(mr.cached(), 0u);
  // The reused blocks are whole: write all of them.
  std::memset(c, 1, kMiB - 1000);
  std::memset(d, 2, kMiB);
  mr.Deallocate(c, kMiB - 1000, nullptr);
  mr.Deallocate(d, kMiB, nullptr);
  EXPECT_EQ(mr.in_use(), 0u);
  mr.Trim();
  EXPECT_EQ(mr.cached(), 0u);
}

TEST(MemoryCacheTest, SmallAllocationsAndCudaPoolsAreNotCached) {
  MemoryResource mr(Backend::kHost, 0, "host:0", 0);
  void* p = mr.Allocate(MemoryResource::kCacheMinBytes - 256, nullptr);
  mr.Deallocate(p, MemoryResource::kCacheMinBytes - 256, nullptr);
  EXPECT_EQ(mr.cached(), 0u);
  p = mr.Allocate(MemoryResource::kCacheMinBytes, nullptr);
  mr.Deallocate(p, MemoryResource::kCacheMinBytes, nullptr);
  EXPECT_EQ(mr.cached(), MemoryResource::kCacheMinBytes);
  // A CUDA resource keeps no cache of its own (constructing one touches no
  // device).
  MemoryResource cuda(Backend::kCuda, 0, "cuda:0", 0);
  EXPECT_EQ(cuda.cache_limit(), 0u);
  EXPECT_EQ(cuda.cached(), 0u);
}

TEST(MemoryCacheTest, AccountingAndPeakCountRequestsNotTheCache) {
  MemoryResource mr(Backend::kHost, 0, "host:0", 0);
  const Exec exec = HostExec(&mr);
  const size_t request = kMiB + 1;           // rounds to 1 MiB + 256
  const size_t rounded = kMiB + 256;          // what the accounting counts
  const size_t block = kMiB + kMiB / 4;       // its size class
  {
    Buffer a(request, exec);
    EXPECT_EQ(mr.in_use(), rounded);
    EXPECT_EQ(mr.peak(), rounded);
  }
  EXPECT_EQ(mr.in_use(), 0u);
  EXPECT_EQ(mr.peak(), rounded);
  EXPECT_EQ(mr.cached(), block);
  {
    Buffer again(request, exec);  // from the cache
    EXPECT_EQ(mr.cached(), 0u);
    EXPECT_EQ(mr.in_use(), rounded);
    EXPECT_EQ(mr.peak(), rounded);
    Buffer more(3 * kMiB, exec);
    EXPECT_EQ(mr.in_use(), rounded + 3 * kMiB);
    EXPECT_EQ(mr.peak(), rounded + 3 * kMiB);
  }
  EXPECT_EQ(mr.in_use(), 0u);
  EXPECT_EQ(mr.peak(), rounded + 3 * kMiB);
  EXPECT_EQ(mr.cached(), block + 3 * kMiB);
}

TEST(MemoryCacheTest, AdoptedMemoryIsCountedAgainstTheLimitAndFreedByItsOwner) {
  MemoryResource mr(Backend::kHost, 0, "host:0", 4 * kMiB);
  const Exec exec = HostExec(&mr);
  auto owned = std::make_shared<std::vector<char>>(3 * kMiB, 'a');
  std::weak_ptr<std::vector<char>> alive = owned;
  {
    Buffer b = Buffer::Adopt(owned->data(), owned->size(), owned, exec);
    owned.reset();
    EXPECT_EQ(b.data(), alive.lock()->data());  // no copy
    EXPECT_EQ(mr.in_use(), 3 * kMiB);
    EXPECT_EQ(mr.peak(), 3 * kMiB);
    EXPECT_THROW(Buffer(2 * kMiB, exec), OutOfMemory);  // the limit counts it
    auto more = std::make_shared<std::vector<char>>(2 * kMiB);
    EXPECT_THROW(Buffer::Adopt(more->data(), more->size(), more, exec), OutOfMemory);
    Buffer moved = std::move(b);
    EXPECT_EQ(mr.in_use(), 3 * kMiB);
    EXPECT_FALSE(alive.expired());
  }
  EXPECT_TRUE(alive.expired());  // the last buffer released its owner
  EXPECT_EQ(mr.in_use(), 0u);
  EXPECT_EQ(mr.cached(), 0u);  // not the pool's memory: never cached
}

TEST(MemoryCacheTest, LimitIsRespectedByReleasingTheCache) {
  MemoryResource mr(Backend::kHost, 0, "limited-host", 16 * kMiB);
  EXPECT_EQ(mr.cache_limit(), 4 * kMiB) << "the default cap is a quarter of the limit";
  mr.set_cache_limit(16 * kMiB);
  const Exec exec = HostExec(&mr);
  void* four = nullptr;
  {
    Buffer a(8 * kMiB, exec);
    Buffer b(4 * kMiB, exec);
    four = b.data();
  }
  EXPECT_EQ(mr.cached(), 12 * kMiB);
  {
    // 12 MiB held + 12 MiB cached would pass the 16 MiB limit: the cache
    // gives up its largest blocks until the rest fits, and the request
    // succeeds.
    Buffer c(12 * kMiB, exec);
    EXPECT_EQ(mr.in_use(), 12 * kMiB);
    EXPECT_LE(mr.cached(), 4 * kMiB);
    EXPECT_EQ(mr.cached(), 4 * kMiB) << "the 4 MiB block still fits beside c";
    Buffer d(4 * kMiB, exec);
    EXPECT_EQ(d.data(), four) << "the cached 4 MiB block is reused";
    EXPECT_EQ(mr.cached(), 0u);
    EXPECT_EQ(mr.in_use(), 16 * kMiB);
    // The limit counts what callers hold: one more byte fails as before.
    try {
      Buffer e(1, exec);
      FAIL() << "allocated past the limit";
    } catch (const OutOfMemory& e) {
      EXPECT_PRED_FORMAT2(::testing::IsSubstring, "out of device memory on limited-host: needs 0.0 MiB, 16.0 MiB of the 16.0 MiB limit in use", e.what());
    }
  }
  EXPECT_EQ(mr.in_use(), 0u);
  EXPECT_EQ(mr.peak(), 16 * kMiB);
  EXPECT_EQ(mr.cached(), 16 * kMiB);
  // The whole limit in one block: the cache is released for it.
  Buffer whole(16 * kMiB, exec);
  EXPECT_EQ(mr.cached(), 0u);
  EXPECT_EQ(mr.in_use(), 16 * kMiB);
}

TEST(MemoryCacheTest, OsRefusalReleasesTheCacheThenReportsOutOfMemory) {
  MemoryResource mr(Backend::kHost, 0, "no-limit-host", 0);
  const Exec exec = HostExec(&mr);
  { Buffer a(2 * kMiB, exec); }
  EXPECT_EQ(mr.cached(), 2 * kMiB);
  try {
    Buffer huge(size_t{1} << 52, exec);  // 4 PiB
    FAIL() << "allocated 4 PiB";
  } catch (const OutOfMemory& e) {
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "no-limit-host: the device could not supply", e.what());
  }
  EXPECT_EQ(mr.cached(), 0u) << "the cache is given back before failing";
  EXPECT_EQ(mr.in_use(), 0u);
  EXPECT_EQ(mr.peak(), 2 * kMiB);
}

TEST(MemoryCacheTest, CapBoundsTheCache) {
  MemoryResource mr(Backend::kHost, 0, "host:0", 64 * kMiB);
  EXPECT_EQ(mr.cache_limit(), 16 * kMiB);
  const Exec exec = HostExec(&mr);
  {
    Buffer a(8 * kMiB, exec);
    Buffer b(8 * kMiB, exec);
    Buffer c(8 * kMiB, exec);
  }
  EXPECT_EQ(mr.cached(), 16 * kMiB) << "the third block goes back to the OS";
  mr.set_cache_limit(8 * kMiB);
  EXPECT_EQ(mr.cached(), 8 * kMiB);
  mr.set_cache_limit(0);
  EXPECT_EQ(mr.cached(), 0u);
  { Buffer d(8 * kMiB, exec); }
  EXPECT_EQ(mr.cached(), 0u) << "a zero cap turns caching off";
  mr.set_cache_limit(16 * kMiB);
  { Buffer e(8 * kMiB, exec); }
  EXPECT_EQ(mr.cached(), 8 * kMiB);
  mr.Trim();
  EXPECT_EQ(mr.cached(), 0u);
  EXPECT_EQ(mr.in_use(), 0u);
}

size_t RoundUp256(size_t bytes) { return (bytes + 255) / 256 * 256; }

// Eight threads allocate and free random sizes (small and cached, some held
// across iterations); each block is stamped and checked, so a block handed to
// two callers at once shows up, and the accounting is exact at the end.
void ConcurrentRun(MemoryResource& mr) {
  constexpr int kThreads = 8;
  constexpr int kIterations = 3000;
  constexpr size_t kHeld = 4;
  struct Live {
    void* p;
    size_t bytes;
    uint64_t stamp;
  };
  std::vector<std::vector<Live>> live(kThreads);
  std::vector<int> errors(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(1234 + t);
      std::vector<Live>& mine = live[t];
      auto check_and_free = [&](const Live& l) {
        uint64_t head = 0, tail = 0;
        std::memcpy(&head, l.p, 8);
        std::memcpy(&tail, static_cast<char*>(l.p) + l.bytes - 8, 8);
        if (head != l.stamp || tail != l.stamp) ++errors[t];
        mr.Deallocate(l.p, l.bytes, nullptr);
      };
      for (int i = 0; i < kIterations; ++i) {
        // Sizes from 8 bytes to 4 MiB, log-uniform.
        const int shift = static_cast<int>(rng() % 20);
        const size_t bytes = 8 + (size_t{8} << shift) + rng() % (size_t{8} << shift);
        void* p = mr.Allocate(bytes, nullptr);
        const uint64_t stamp = (uint64_t{static_cast<uint64_t>(t)} << 32) | static_cast<uint64_t>(i);
        std::memcpy(p, &stamp, 8);
        std::memcpy(static_cast<char*>(p) + bytes - 8, &stamp, 8);
        mine.push_back(Live{p, bytes, stamp});
        if (mine.size() > kHeld) {
          const size_t k = rng() % mine.size();
          check_and_free(mine[k]);
          mine[k] = mine.back();
          mine.pop_back();
        }
      }
    });
  }
  for (std::thread& th : threads) th.join();
  size_t held = 0;
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_EQ(errors[t], 0) << "thread " << t << " found its block overwritten";
    for (const Live& l : live[t]) held += RoundUp256(l.bytes);
  }
  EXPECT_EQ(mr.in_use(), held);
  EXPECT_LE(held, mr.peak());
  if (mr.limit() != 0) EXPECT_LE(mr.peak(), mr.limit());
  for (int t = 0; t < kThreads; ++t) {
    for (const Live& l : live[t]) mr.Deallocate(l.p, l.bytes, nullptr);
  }
  EXPECT_EQ(mr.in_use(), 0u);
  EXPECT_LE(mr.cached(), mr.cache_limit());
  mr.Trim();
  EXPECT_EQ(mr.cached(), 0u);
}

TEST(MemoryCacheTest, ConcurrentAllocateAndFreeKeepAccountingExact) {
  MemoryResource mr(Backend::kHost, 0, "host:0", 0);
  mr.set_cache_limit(32 * kMiB);
  ConcurrentRun(mr);
}

TEST(MemoryCacheTest, ConcurrentAllocateAndFreeUnderALimitReleaseTheCache) {
  // 8 threads hold at most 5 blocks of just over 8 MiB at once: 400 MiB
  // never fails on the accounting; the cache must make room itself.
  MemoryResource mr(Backend::kHost, 0, "host:0", 400 * kMiB);
  mr.set_cache_limit(mr.limit());
  ConcurrentRun(mr);
}

}  // namespace
}  // namespace kernels
