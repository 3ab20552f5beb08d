#include "server/allocator.h"

#include <malloc.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace server {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSanitizerAllocator = true;  // not glibc's malloc: mallopt does nothing
#else
constexpr bool kSanitizerAllocator = false;
#endif

// This process's resident anonymous memory, in bytes.
int64_t ResidentAnonymous() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("RssAnon:", 0) == 0) return std::strtoll(line.c_str() + 8, nullptr, 10) * 1024;
  }
  return -1;
}

// Blocks below kMmapThreshold come from the heap, not from mappings of
// their own (glibc's default maps 128 KiB and up, then moves its threshold
// as mapped blocks are freed), and freeing one whose memory ends the heap
// gives that memory back at once: past kTrimThreshold, not glibc's default
// twice the moving threshold (up to 64 MiB).
TEST(AllocatorTest, LargeBlocksComeFromTheHeapAndGoBackWhenFreed) {
  if (kSanitizerAllocator) GTEST_SKIP() << "the sanitizer's allocator is not glibc's";
  ASSERT_TRUE(TuneAllocator());
  const size_t mapped = mallinfo2().hblks;
  const int64_t before = ResidentAnonymous();
  constexpr size_t kBytes = 16 << 20;
  static_assert(kBytes < kMmapThreshold && kBytes > kTrimThreshold);
  void* block = std::malloc(kBytes);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBytes);
  EXPECT_EQ(mallinfo2().hblks, mapped);
  EXPECT_GE(ResidentAnonymous() - before, static_cast<int64_t>(kBytes) / 2);
  std::free(block);
  EXPECT_LT(ResidentAnonymous() - before, int64_t{2} << 20);
}

TEST(AllocatorTest, TheEnvironmentsSettingsAreLeftAlone) {
  ASSERT_EQ(setenv("MALLOC_TRIM_THRESHOLD_", "1000000", 1), 0);
  EXPECT_FALSE(TuneAllocator());
  ASSERT_EQ(unsetenv("MALLOC_TRIM_THRESHOLD_"), 0);
  ASSERT_EQ(setenv("GLIBC_TUNABLES", "glibc.malloc.arena_max=2", 1), 0);
  EXPECT_FALSE(TuneAllocator());
  ASSERT_EQ(unsetenv("GLIBC_TUNABLES"), 0);
}

}  // namespace
}  // namespace server
