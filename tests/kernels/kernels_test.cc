// Tests of the kernels layer, run on every backend of this binary: the host
// backend always, the CUDA backend when a GPU is visible (skipped otherwise).
// Each test checks the kernels against a plain reference computed here, on
// host copies of the data.

#include "tests/kernels/kernels_test_util.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <new>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/expr_program.h"
#include "kernels/filter.h"
#include "kernels/gather.h"
#include "kernels/host_threads.h"
#include "kernels/memory.h"
#include "kernels/random.h"
#include "kernels/shard.h"
#include "kernels/sort.h"
#include "kernels/statistics.h"
#include "tests/common/openmp.h"

namespace kernels {
namespace {

using namespace test;  // NOLINT

// ===========================================================================
// MemoryResource and Buffer

using MemoryTest = BackendTest;
INSTANTIATE_FOR_BACKENDS(MemoryTest);

// OneThreadScope: small host work runs on the calling thread alone (its
// OpenMP thread count 1 while the scope lives, the count before restored
// after, nested scopes too); large work, or a CUDA exec, changes nothing.
// The kernels still give their answers.
TEST(OneThreadScopeTest, SmallHostWorkRunsOnTheCallingThreadAndTheCountIsRestored) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(2);
  MemoryResource memory(Backend::kHost, 0, "host:0", 0);
  Exec host;
  host.mr = &memory;
  Exec cuda;
  cuda.backend = Backend::kCuda;
  {
    const OneThreadScope large(host, false);
    EXPECT_EQ(omp_get_max_threads(), 2);
    const OneThreadScope device(cuda, true);
    EXPECT_EQ(omp_get_max_threads(), 2);
  }
  {
    const OneThreadScope small(host, true);
    EXPECT_EQ(omp_get_max_threads(), 1);
    {
      const OneThreadScope nested(host, true);
      EXPECT_EQ(omp_get_max_threads(), 1);
    }
    EXPECT_EQ(omp_get_max_threads(), 1);
    const HostColumn v = Numbers<int64_t>({5, -1, 7, 3});
    const Column c = ToDevice(v, host);
    const Buffer order = SortOrder({{c.view(), false}}, nullptr, 4, host);
    EXPECT_EQ(FromDevice<int64_t>(order.data(), 4, host), (std::vector<int64_t>{1, 3, 0, 2}));
  }
  EXPECT_EQ(omp_get_max_threads(), 2);
  omp_set_num_threads(before);
}
// ReleaseHostThreads: the OpenMP threads a thread's host kernels started
// (which libgomp keeps, idle, from one parallel region to the next, and
// counts against the machine's cores) end; the thread's next kernel starts
// new ones and answers as before.
TEST(ReleaseHostThreadsTest, TheCallingThreadsTeamEndsAndStartsAgainOnItsNextKernel) {
  if (gpudb_test::kUnderThreadSanitizer) GTEST_SKIP() << "OpenMP teams are not seen by ThreadSanitizer";
  MemoryResource memory(Backend::kHost, 0, "host:0", 0);
  Exec host;
  host.mr = &memory;
  std::thread([&] {
    omp_set_num_threads(3);
    const HostColumn v = Numbers<int64_t>({5, -1, 7, 3});
    const Column c = ToDevice(v, host);
    const std::vector<int64_t> sorted = {1, 3, 0, 2};
    const std::set<pid_t> first = gpudb_test::OpenMpTeamThreads();
    ASSERT_EQ(first.size(), 2u);
    EXPECT_EQ(gpudb_test::OpenMpTeamThreads(), first);  // kept between regions
    ReleaseHostThreads();
    for (pid_t id : first) EXPECT_TRUE(gpudb_test::ThreadEnds(id)) << "thread " << id;
    ReleaseHostThreads();  // none held: nothing to do
    EXPECT_EQ(FromDevice<int64_t>(SortOrder({{c.view(), false}}, nullptr, 4, host).data(), 4, host), sorted);
    const std::set<pid_t> second = gpudb_test::OpenMpTeamThreads();
    EXPECT_EQ(second.size(), 2u);
    for (pid_t id : second) EXPECT_EQ(first.count(id), 0u) << "thread " << id;
    ReleaseHostThreads();
    for (pid_t id : second) EXPECT_TRUE(gpudb_test::ThreadEnds(id)) << "thread " << id;
  }).join();
}

TEST_P(MemoryTest, AccountsAllocationsInAlignedBlocks) {
  MemoryResource mr(GetParam(), 0, DeviceName(), 0);
  const Exec exec = ExecOn(&mr);
  EXPECT_EQ(mr.in_use(), 0u);
  EXPECT_EQ(mr.peak(), 0u);
  {
    Buffer a(100, exec);
    ASSERT_NE(a.data(), nullptr);
    EXPECT_EQ(a.size(), 100u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a.data()) % 256, 0u);
    EXPECT_EQ(mr.in_use(), 256u);
    {
      Buffer b(1000, exec);
      EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 256, 0u);
      EXPECT_EQ(mr.in_use(), 256u + 1024u);
      EXPECT_EQ(mr.peak(), 1280u);
    }
    EXPECT_EQ(mr.in_use(), 256u);
    EXPECT_EQ(mr.peak(), 1280u);
    Buffer c(256, exec);
    EXPECT_EQ(mr.in_use(), 512u);
    EXPECT_EQ(mr.peak(), 1280u);
  }
  EXPECT_EQ(mr.in_use(), 0u);
  EXPECT_EQ(mr.peak(), 1280u);
}

TEST_P(MemoryTest, BufferHoldsWhatIsCopiedIn) {
  std::vector<int64_t> values(1000);
  for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int64_t>(i * i) - 7;
  const Buffer a = ToDevice(values, exec_);
  Buffer b(values.size() * sizeof(int64_t), exec_);
  CopyOnDevice(b.data(), a.data(), b.size(), exec_);
  EXPECT_EQ(FromDevice<int64_t>(b.data(), 1000, exec_), values);
  Fill(b.data(), 0xff, 16, exec_);
  const std::vector<int64_t> filled = FromDevice<int64_t>(b.data(), 3, exec_);
  EXPECT_EQ(filled[0], -1);
  EXPECT_EQ(filled[1], -1);
  EXPECT_EQ(filled[2], values[2]);
}

TEST_P(MemoryTest, LimitThrowsOutOfMemoryNamingTheDevice) {
  MemoryResource mr(GetParam(), 0, "device-under-test", 4096);
  const Exec exec = ExecOn(&mr);
  Buffer a(3000, exec);
  EXPECT_EQ(mr.in_use(), 3072u);
  try {
    Buffer b(2000, exec);
    FAIL() << "allocated past the limit";
  } catch (const OutOfMemory& e) {
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "device-under-test", e.what());
  }
  EXPECT_EQ(mr.in_use(), 3072u);
  // A request larger than the whole limit, and one caught as std::bad_alloc.
  EXPECT_THROW(Buffer(size_t{1} << 20, exec), OutOfMemory);
  EXPECT_THROW(Buffer(1025, exec), std::bad_alloc);
  EXPECT_EQ(mr.in_use(), 3072u);
  EXPECT_EQ(mr.peak(), 3072u);
  // Exactly up to the limit fits; one more byte does not.
  Buffer rest(1024, exec);
  EXPECT_EQ(mr.in_use(), 4096u);
  EXPECT_THROW(Buffer(1, exec), OutOfMemory);
  EXPECT_EQ(mr.in_use(), 4096u);
  EXPECT_EQ(mr.peak(), 4096u);
  rest.Reset();
  EXPECT_EQ(mr.in_use(), 3072u);
}

TEST_P(MemoryTest, DeviceFailureThrowsAndLeavesAccountingUnchanged) {
  MemoryResource mr(GetParam(), 0, "no-limit-device", 0);
  const Exec exec = ExecOn(&mr);
  Buffer keep(1000, exec);
  try {
    Buffer huge(size_t{1} << 52, exec);  // 4 PiB: more than any device or address space
    FAIL() << "allocated 4 PiB";
  } catch (const OutOfMemory& e) {
    EXPECT_PRED_FORMAT2(::testing::IsSubstring, "no-limit-device", e.what());
  }
  EXPECT_EQ(mr.in_use(), 1024u);
  EXPECT_EQ(mr.peak(), 1024u) << "a failed allocation must not count towards the peak";
  Buffer after(10, exec);  // still healthy
  EXPECT_EQ(mr.in_use(), 1280u);
}

TEST_P(MemoryTest, ZeroBytesAllocateNothing) {
  MemoryResource mr(GetParam(), 0, DeviceName(), 256);
  const Exec exec = ExecOn(&mr);
  Buffer zero(0, exec);
  EXPECT_EQ(zero.data(), nullptr);
  EXPECT_EQ(zero.size(), 0u);
  EXPECT_EQ(mr.in_use(), 0u);
  Buffer full(256, exec);
  EXPECT_EQ(mr.in_use(), 256u);
  // Zero bytes still succeed at the limit.
  EXPECT_EQ(mr.Allocate(0, exec.stream), nullptr);
  Buffer zero_again(0, exec);
  mr.Deallocate(nullptr, 0, exec.stream);
  EXPECT_EQ(mr.in_use(), 256u);
  zero.Reset();
  EXPECT_EQ(mr.in_use(), 256u);
}

TEST_P(MemoryTest, BufferMovesOwnership) {
  MemoryResource mr(GetParam(), 0, DeviceName(), 0);
  const Exec exec = ExecOn(&mr);
  {
    Buffer a(100, exec);
    void* const p = a.data();
    Buffer b(std::move(a));
    EXPECT_EQ(b.data(), p);
    EXPECT_EQ(b.size(), 100u);
    EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(a.size(), 0u);
    EXPECT_EQ(mr.in_use(), 256u);

    Buffer c(300, exec);
    EXPECT_EQ(mr.in_use(), 256u + 512u);
    c = std::move(b);  // frees c's own block
    EXPECT_EQ(mr.in_use(), 256u);
    EXPECT_EQ(c.data(), p);
    EXPECT_EQ(b.data(), nullptr);  // NOLINT(bugprone-use-after-move)

    Buffer& alias = c;
    c = std::move(alias);  // self-move keeps the block
    EXPECT_EQ(c.data(), p);
    EXPECT_EQ(mr.in_use(), 256u);

    a = std::move(c);  // into a moved-from buffer
    EXPECT_EQ(a.data(), p);
    EXPECT_EQ(mr.in_use(), 256u);
    a.Reset();
    EXPECT_EQ(a.data(), nullptr);
    EXPECT_EQ(mr.in_use(), 0u);
    a.Reset();
    EXPECT_EQ(mr.in_use(), 0u);
  }
  // Destroying the moved-from buffers freed nothing twice.
  EXPECT_EQ(mr.in_use(), 0u);
}

// ===========================================================================
// Column

using ColumnTest = BackendTest;
INSTANTIATE_FOR_BACKENDS(ColumnTest);

size_t ExpectedUsedBytes(const HostColumn& h, bool nullable) {
  size_t bytes = nullable ? static_cast<size_t>(h.size()) : 0;
  for (const std::string& r : h.rows) bytes += r.size();
  if (h.type == PhysType::kVarChars) bytes += static_cast<size_t>(h.size() + 1) * 8;
  return bytes;
}

TEST_P(ColumnTest, AppendsBatchesOfEveryType) {
  const std::vector<int64_t> batch_sizes = {0, 3, 1, 1000, 0, 2500, 7};
  for (PhysType type : kAllTypes) {
    for (bool column_nullable : {false, true}) {
      for (bool batch_nulls : {false, true}) {
        SCOPED_TRACE(testing::Message() << TypeName(type) << (column_nullable ? " nullable" : " not null")
                                        << " column, batches " << (batch_nulls ? "with" : "without")
                                        << " validity");
        const int32_t width = type == PhysType::kFixedChars ? kSampleWidth : 0;
        Column col(type, width, column_nullable);
        HostColumn expected;
        expected.type = type;
        expected.width = width;
        uint64_t seed = 1;
        for (int64_t n : batch_sizes) {
          const HostColumn batch = Sample(type, n, seed++, batch_nulls);
          const Column src = Dev(batch);
          col.Append(src.view(), exec_);
          for (int64_t i = 0; i < n; ++i) {
            expected.rows.push_back(batch.rows[i]);
            if (column_nullable) expected.validity.push_back(batch.valid(i) ? 1 : 0);
          }
        }
        ASSERT_EQ(col.size(), expected.size());
        const ColumnView v = col.view();
        EXPECT_EQ(v.type, type);
        EXPECT_EQ(v.width, width);
        EXPECT_EQ(v.size, expected.size());
        // A nullable column views with validity only once a null came.
        const bool any_null =
            std::find(expected.validity.begin(), expected.validity.end(), 0) != expected.validity.end();
        EXPECT_EQ(v.validity != nullptr, any_null);
        HostColumn got = Host(v);
        if (column_nullable && !any_null) got.validity.assign(got.rows.size(), 1);
        EXPECT_TRUE(SameRows(got, expected));
        EXPECT_EQ(col.used_bytes(), ExpectedUsedBytes(expected, column_nullable));
        EXPECT_GE(col.device_bytes(), col.used_bytes());
        if (type == PhysType::kVarChars) {
          int64_t chars = 0;
          for (const std::string& r : expected.rows) chars += static_cast<int64_t>(r.size());
          EXPECT_EQ(col.chars(), chars);
          EXPECT_EQ(Column::CharCount(v, exec_), chars);
        } else {
          EXPECT_EQ(col.chars(), 0);
        }
      }
    }
  }
}

// A nullable column of no null rows views as one without validity (so
// kernels take their paths for columns of no nulls) until a null comes; one
// adopted with validity counts its nulls when asked.
TEST_P(ColumnTest, NullableColumnWithoutNullsViewsWithoutValidity) {
  Column col(PhysType::kInt64, 0, true);
  col.Append(Dev(Numbers(std::vector<int64_t>{1, 2, 3}, {1, 1, 1})).view(), exec_);
  col.Append(Dev(Numbers(std::vector<int64_t>{4})).view(), exec_);  // no validity: valid
  EXPECT_EQ(col.view().validity, nullptr);
  EXPECT_EQ(col.view().size, 4);
  col.Append(Dev(Numbers(std::vector<int64_t>{5, 6}, {1, 0})).view(), exec_);
  ASSERT_NE(col.view().validity, nullptr);
  EXPECT_EQ(FromDevice<uint8_t>(col.view().validity, 6, exec_), (std::vector<uint8_t>{1, 1, 1, 1, 1, 0}));
  col.Truncate(4, 0);  // the null gone: still viewed with validity (not recounted), which holds
  ASSERT_NE(col.view().validity, nullptr);
  EXPECT_EQ(FromDevice<uint8_t>(col.view().validity, 4, exec_), (std::vector<uint8_t>(4, 1)));
  col.CountNulls(exec_);
  EXPECT_EQ(col.view().validity, nullptr);

  Column adopted = Dev(Numbers(std::vector<int64_t>{7, 8}, {1, 1}));
  EXPECT_NE(adopted.view().validity, nullptr);  // not counted yet
  adopted.CountNulls(exec_);
  EXPECT_EQ(adopted.view().validity, nullptr);
  Column with_null = Dev(Numbers(std::vector<int64_t>{7, 8}, {0, 1}));
  with_null.CountNulls(exec_);
  ASSERT_NE(with_null.view().validity, nullptr);
  EXPECT_EQ(FromDevice<uint8_t>(with_null.view().validity, 2, exec_), (std::vector<uint8_t>{0, 1}));
  // Gathered into a nullable column, a view without validity reads valid.
  const Buffer rows = ToDevice(std::vector<int64_t>{1, 0}, exec_);
  const Column gathered = Gather(adopted.view(), rows.as<int64_t>(), 2, true, exec_);
  EXPECT_EQ(FromDevice<uint8_t>(gathered.view().validity, 2, exec_), (std::vector<uint8_t>{1, 1}));
}

TEST_P(ColumnTest, GrowsGeometricallyOverManyBatches) {
  for (PhysType type : {PhysType::kInt32, PhysType::kFixedChars, PhysType::kVarChars}) {
    SCOPED_TRACE(TypeName(type));
    const int32_t width = type == PhysType::kFixedChars ? kSampleWidth : 0;
    Column col(type, width, /*nullable=*/true);
    HostColumn expected;
    expected.type = type;
    expected.width = width;
    std::set<size_t> capacities;
    for (int k = 0; k < 300; ++k) {
      const HostColumn batch = Sample(type, (k * 37) % 101, 100 + k, /*with_nulls=*/k % 2 == 0);
      const Column src = Dev(batch);
      col.Append(src.view(), exec_);
      for (int64_t i = 0; i < batch.size(); ++i) {
        expected.rows.push_back(batch.rows[i]);
        expected.validity.push_back(batch.valid(i) ? 1 : 0);
      }
      capacities.insert(col.device_bytes());
    }
    ASSERT_GT(expected.size(), 14000);
    EXPECT_TRUE(SameRows(Host(col.view()), expected));
    // Each buffer doubles from 1024 rows (or bytes): a handful of
    // reallocations each, not one per batch.
    const int buffers = type == PhysType::kVarChars ? 3 : 2;
    const double largest = std::max<double>(static_cast<double>(col.size()), static_cast<double>(col.chars()));
    const size_t reallocations_per_buffer = static_cast<size_t>(std::ceil(std::log2(largest / 1024))) + 1;
    EXPECT_LE(capacities.size(), buffers * reallocations_per_buffer);
  }
}

TEST_P(ColumnTest, EmptyBatchesChangeNothing) {
  for (PhysType type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    const int32_t width = type == PhysType::kFixedChars ? kSampleWidth : 0;
    Column col(type, width, /*nullable=*/true);
    ColumnView empty;
    empty.type = type;
    empty.width = width;
    col.Append(empty, exec_);
    EXPECT_EQ(col.size(), 0);
    EXPECT_EQ(col.device_bytes(), 0u);
    EXPECT_EQ(mr_->in_use(), 0u);

    const HostColumn batch = Sample(type, 5, 7, /*with_nulls=*/true);
    const Column src = Dev(batch);
    col.Append(src.view(), exec_);
    const Column empty_column = Dev(EmptyLike(batch));
    const size_t bytes = col.device_bytes();
    const size_t in_use = mr_->in_use();
    col.Append(empty, exec_);
    col.Append(empty_column.view(), exec_);
    EXPECT_EQ(col.size(), 5);
    EXPECT_EQ(col.device_bytes(), bytes);
    EXPECT_EQ(mr_->in_use(), in_use);
    EXPECT_TRUE(SameRows(Host(col.view()), batch));
  }
}

TEST_P(ColumnTest, VarCharsKeepEmptyStrings) {
  Column col(PhysType::kVarChars, 0, /*nullable=*/true);
  // First batch has no characters at all.
  const Column a = Dev(VarChars({"", "", ""}, {1, 0, 1}));
  col.Append(a.view(), exec_);
  EXPECT_EQ(col.size(), 3);
  EXPECT_EQ(col.chars(), 0);
  EXPECT_TRUE(SameRows(Host(col.view()), VarChars({"", "", ""}, {1, 0, 1})));

  const Column b = Dev(VarChars({"a", "", "bc", ""}));
  col.Append(b.view(), exec_);
  const Column c = Dev(VarChars({""}));
  col.Append(c.view(), exec_);
  EXPECT_EQ(col.chars(), 3);
  EXPECT_TRUE(SameRows(Host(col.view()),
                       VarChars({"", "", "", "a", "", "bc", "", ""}, {1, 0, 1, 1, 1, 1, 1, 1})));
}

TEST_P(ColumnTest, AppendsSlicesOfOtherColumns) {
  // A var-chars slice's offsets do not start at 0.
  const HostColumn strings = VarChars({"alpha", "", "beta", "gamma", "delta"}, {1, 1, 0, 1, 1});
  const Column s = Dev(strings);
  Column col(PhysType::kVarChars, 0, /*nullable=*/true);
  col.Append(Slice(s.view(), 2, 4), exec_);
  col.Append(Slice(s.view(), 0, 2), exec_);
  col.Append(Slice(s.view(), 4, 5), exec_);
  EXPECT_TRUE(SameRows(Host(col.view()),
                       VarChars({"beta", "gamma", "alpha", "", "delta"}, {0, 1, 1, 1, 1})));
  EXPECT_EQ(col.chars(), 19);

  const HostColumn ints = Numbers<int16_t>({10, -20, 30, -40, 50}, {1, 0, 1, 1, 0});
  const Column i = Dev(ints);
  Column col16(PhysType::kInt16, 0, /*nullable=*/true);
  col16.Append(Slice(i.view(), 3, 5), exec_);
  col16.Append(Slice(i.view(), 1, 2), exec_);
  EXPECT_TRUE(SameRows(Host(col16.view()), Numbers<int16_t>({-40, 50, -20}, {1, 0, 0})));
}

TEST_P(ColumnTest, GrowWithoutCommitLeavesColumnUnchanged) {
  for (PhysType type : {PhysType::kInt64, PhysType::kVarChars}) {
    SCOPED_TRACE(TypeName(type));
    const HostColumn rows = Sample(type, 10, 3, /*with_nulls=*/true);
    const Column src = Dev(rows);
    Column col(type, 0, /*nullable=*/true);
    col.Append(src.view(), exec_);
    const ColumnView before = col.view();
    const size_t bytes = col.device_bytes();
    const size_t in_use = mr_->in_use();
    {
      Column::Growth growth = col.Grow(100000, 1000000, exec_);
      EXPECT_GT(mr_->in_use(), in_use + 100000);  // the grown storage is allocated...
      const ColumnView during = col.view();      // ...but the column does not use it
      EXPECT_EQ(during.data, before.data);
      EXPECT_EQ(during.offsets, before.offsets);
      EXPECT_EQ(during.validity, before.validity);
      EXPECT_EQ(col.size(), 10);
      EXPECT_EQ(col.device_bytes(), bytes);
      EXPECT_TRUE(SameRows(Host(during), rows));
    }
    EXPECT_EQ(mr_->in_use(), in_use);  // dropping the growth returned it
    EXPECT_TRUE(SameRows(Host(col.view()), rows));
  }
}

TEST_P(ColumnTest, ReserveThenAppendAllocatesNothingMore) {
  for (PhysType type : {PhysType::kFloat64, PhysType::kFixedChars, PhysType::kVarChars}) {
    SCOPED_TRACE(TypeName(type));
    const int32_t width = type == PhysType::kFixedChars ? kSampleWidth : 0;
    const HostColumn first = Sample(type, 10, 4, /*with_nulls=*/true);
    const HostColumn second = Sample(type, 5000, 5, /*with_nulls=*/false);
    const Column a = Dev(first), b = Dev(second);
    int64_t chars = 0;
    if (type == PhysType::kVarChars) {
      for (const auto& r : first.rows) chars += r.size();
      for (const auto& r : second.rows) chars += r.size();
    }
    Column col(type, width, /*nullable=*/true);
    col.Append(a.view(), exec_);
    col.Reserve(5010, chars, exec_);
    EXPECT_EQ(col.size(), 10);
    EXPECT_TRUE(SameRows(Host(col.view()), first));
    const size_t in_use = mr_->in_use();
    const size_t bytes = col.device_bytes();
    col.Append(b.view(), exec_);
    EXPECT_EQ(mr_->in_use(), in_use);
    EXPECT_EQ(col.device_bytes(), bytes);
    HostColumn expected = first;
    for (int64_t i = 0; i < second.size(); ++i) {
      expected.rows.push_back(second.rows[i]);
      expected.validity.push_back(1);
    }
    EXPECT_TRUE(SameRows(Host(col.view()), expected));
  }
}

TEST_P(ColumnTest, ReserveOverTheLimitLeavesColumnUnchanged) {
  for (PhysType type : {PhysType::kInt64, PhysType::kVarChars}) {
    SCOPED_TRACE(TypeName(type));
    const HostColumn rows = Sample(type, 10, 6, /*with_nulls=*/true);
    const Column src = Dev(rows);
    // Room for the column and the grown values array, but not its validity:
    // the growth fails half way through.
    // (Capacities double from 1024 rows; the pool rounds to 256 bytes.)
    auto rounded = [](size_t bytes) { return (bytes + 255) / 256 * 256; };
    const size_t small = type == PhysType::kVarChars ? rounded(1025 * 8) + 1024 + 1024 : 1024 * 8 + 1024;
    const size_t grown_values = type == PhysType::kVarChars ? rounded(100001 * 8) : 100000 * 8;
    MemoryResource limited(GetParam(), 0, "limited", small + grown_values + 50000 + 512);
    const Exec exec = ExecOn(&limited);
    Column col(type, 0, /*nullable=*/true);
    col.Append(src.view(), exec);
    EXPECT_EQ(limited.in_use(), small);
    const ColumnView before = col.view();
    const size_t bytes = col.device_bytes();

    EXPECT_THROW(col.Reserve(100000, 0, exec), OutOfMemory);
    EXPECT_THROW(col.Reserve(1 << 30, 0, exec), OutOfMemory);
    EXPECT_EQ(limited.in_use(), small);
    EXPECT_EQ(col.size(), 10);
    EXPECT_EQ(col.device_bytes(), bytes);
    EXPECT_EQ(col.view().data, before.data);
    EXPECT_EQ(col.view().validity, before.validity);
    EXPECT_TRUE(SameRows(FromDevice(col.view(), exec), rows));

    // An append that cannot fit is refused whole, too.
    const HostColumn many = Sample(type, 100000, 7, /*with_nulls=*/true);
    const Column big = Dev(many);
    EXPECT_THROW(col.Append(big.view(), exec), OutOfMemory);
    EXPECT_EQ(limited.in_use(), small);
    EXPECT_TRUE(SameRows(FromDevice(col.view(), exec), rows));
    // And the column still works.
    col.Append(src.view(), exec);
    EXPECT_EQ(col.size(), 20);
  }
}

// ===========================================================================
// Select and Count

using FilterTest = BackendTest;
INSTANTIATE_FOR_BACKENDS(FilterTest);

TEST_P(FilterTest, SelectsAndCountsAtManySizesAndRanges) {
  for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{1000}, kLargeRows}) {
    SCOPED_TRACE(testing::Message() << n << " rows");
    std::mt19937_64 rng(n);
    std::vector<int64_t> values(n);
    std::vector<uint8_t> valid(n);
    for (int64_t i = 0; i < n; ++i) {
      values[i] = static_cast<int64_t>(rng() % 1000);
      valid[i] = rng() % 8 != 0;
    }
    const Column x = Dev(Numbers(values, valid));
    ProgramBuilder b({x.view()});
    const Program gt = b.Build(Compare(Op::kCmpI, Cmp::kGt, b.Col(0), b.Int(500)));
    const std::vector<std::pair<int64_t, int64_t>> ranges = {
        {0, n}, {n / 3, n}, {n / 3, std::min(n, 2 * n / 3 + 1)}, {n, n}, {std::min<int64_t>(1, n), n}};
    for (const auto& [begin, end] : ranges) {
      SCOPED_TRACE(testing::Message() << "rows [" << begin << ", " << end << ")");
      const std::vector<int64_t> expected =
          RowsWhere(begin, end, [&](int64_t i) { return valid[i] && values[i] > 500; });
      EXPECT_EQ(SelectRows(gt, begin, end), expected);
      EXPECT_EQ(CountRows(gt, begin, end), static_cast<int64_t>(expected.size()));
    }
  }
}

// A filter of arithmetic, comparisons and three-valued and/or/not on
// numbers (NumericBlock's typed loops on the host): the rows where it is
// true, as SQL has it, nulls, division by zero and NaN included.
TEST_P(FilterTest, ArithmeticComparisonsAndLogicOnNumbers) {
  const int64_t n = 5003;
  std::vector<int64_t> v(n);
  std::vector<double> w(n);
  std::vector<uint8_t> vv(n), wv(n);
  for (int64_t i = 0; i < n; ++i) {
    v[i] = (i * 7919) % 400 - 100;
    w[i] = i % 23 == 0 ? std::nan("") : static_cast<double>((i * 31) % 2000);
    vv[i] = i % 9 != 4;
    wv[i] = i % 13 != 7;
  }
  const Column cv = Dev(Numbers(v, vv)), cw = Dev(Numbers(w, wv));
  ProgramBuilder b({cv.view(), cw.view()});
  // (v * 2 + w / 1000 > 200 or not (v / (v - 50) < 1)) and w <> 1000
  const Code lhs = Binary(Op::kAddF, Unary(Op::kIntToFloat, Binary(Op::kMulI, b.Col(0), b.Int(2))),
                          Binary(Op::kDivF, b.Col(1), b.Float(1000)));
  const Code quotient = Binary(Op::kDivI, b.Col(0), Binary(Op::kSubI, b.Col(0), b.Int(50)));
  const Program p = b.Build(Binary(Op::kAnd,
                                   Binary(Op::kOr, Compare(Op::kCmpF, Cmp::kGt, lhs, b.Float(200)),
                                          Unary(Op::kNot, Compare(Op::kCmpI, Cmp::kLt, quotient, b.Int(1)))),
                                   Compare(Op::kCmpF, Cmp::kNe, b.Col(1), b.Float(1000))));
  const std::vector<int64_t> expected = RowsWhere(0, n, [&](int64_t i) {
    // Three-valued: -1 null, 0 false, 1 true.
    const int gt = !(vv[i] && wv[i]) ? -1 : (static_cast<double>(v[i] * 2) + w[i] / 1000 > 200 ? 1 : 0);
    const int lt = !vv[i] || v[i] - 50 == 0 ? -1 : (v[i] / (v[i] - 50) < 1 ? 1 : 0);
    const int not_lt = lt < 0 ? -1 : 1 - lt;
    const int either = gt == 1 || not_lt == 1 ? 1 : (gt < 0 || not_lt < 0 ? -1 : 0);
    const int ne = !wv[i] ? -1 : (w[i] != 1000 ? 1 : 0);
    return either == 1 && ne == 1;
  });
  ASSERT_GT(expected.size(), 100u);
  EXPECT_EQ(SelectRows(p, 0, n), expected);
  EXPECT_EQ(CountRows(p, 0, n), static_cast<int64_t>(expected.size()));
}

// Constants on either side or both (kept as one value), a null constant,
// a constant divisor of zero: as row by row.
TEST_P(FilterTest, NumbersWithConstantsOnEitherSide) {
  const int64_t n = 700;
  std::vector<int64_t> v(n);
  std::vector<uint8_t> vv(n);
  for (int64_t i = 0; i < n; ++i) {
    v[i] = i % 40 - 20;
    vv[i] = i % 7 != 2;
  }
  const Column cv = Dev(Numbers(v, vv));
  ProgramBuilder b({cv.view()});
  // ((3 * 4) - v > -(2) * -5 and 1 = 1) or (null and v < 0) or v / (1 - 1) = 0 or (v * 2) / -1 = -30
  const Program p = b.Build(Binary(
      Op::kOr,
      Binary(Op::kOr,
             Binary(Op::kAnd,
                    Compare(Op::kCmpI, Cmp::kGt, Binary(Op::kSubI, Binary(Op::kMulI, b.Int(3), b.Int(4)), b.Col(0)),
                            Binary(Op::kMulI, Unary(Op::kNegI, b.Int(2)), b.Int(-5))),
                    Compare(Op::kCmpI, Cmp::kEq, b.Int(1), b.Int(1))),
             Binary(Op::kAnd, b.Null(), Compare(Op::kCmpI, Cmp::kLt, b.Col(0), b.Int(0)))),
      Binary(Op::kOr,
             Compare(Op::kCmpI, Cmp::kEq, Binary(Op::kDivI, b.Col(0), Binary(Op::kSubI, b.Int(1), b.Int(1))), b.Int(0)),
             Compare(Op::kCmpI, Cmp::kEq, Binary(Op::kDivI, Binary(Op::kMulI, b.Col(0), b.Int(2)), b.Int(-1)),
                     b.Int(-30)))));
  // Nulls: the first term is null where v is; the second false or null;
  // the third always null; so a row passes where v is valid and 12 - v > 10
  // or -(2v) = -30.
  const std::vector<int64_t> expected =
      RowsWhere(0, n, [&](int64_t i) { return vv[i] && (12 - v[i] > 10 || -(v[i] * 2) == -30); });
  ASSERT_GT(expected.size(), 100u);
  ASSERT_LT(expected.size(), 600u);
  EXPECT_EQ(SelectRows(p, 0, n), expected);
  EXPECT_EQ(CountRows(p, 0, n), static_cast<int64_t>(expected.size()));
}

TEST_P(FilterTest, AllTrueAndAllFalse) {
  const int64_t n = 100003;
  std::vector<int64_t> values(n);
  for (int64_t i = 0; i < n; ++i) values[i] = (i * 7919) % 10007 - 5000;
  const Column x = Dev(Numbers(values));
  ProgramBuilder b({x.view()});
  const Program all = b.Build(Compare(Op::kCmpI, Cmp::kGe, b.Col(0), b.Int(kInt64Min)));
  const Program none = b.Build(Compare(Op::kCmpI, Cmp::kLt, b.Col(0), b.Int(kInt64Min)));
  EXPECT_EQ(SelectRows(all, 0, n), Iota(0, n));
  EXPECT_EQ(SelectRows(all, 12345, n - 1), Iota(12345, n - 1));
  EXPECT_EQ(CountRows(all, 0, n), n);
  EXPECT_EQ(CountRows(all, 777, 778), 1);
  EXPECT_EQ(SelectRows(none, 0, n), std::vector<int64_t>{});
  EXPECT_EQ(CountRows(none, 0, n), 0);
  // An empty or reversed range selects nothing.
  const Selection empty = Select(Upload(all, exec_).view, 50, 50, exec_);
  EXPECT_EQ(empty.count, 0);
  EXPECT_EQ(CountRows(all, 60, 50), 0);
}

TEST_P(FilterTest, NullIsNeverTrue) {
  const std::vector<int64_t> values = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<uint8_t> valid = {1, 0, 1, 0, 0, 1, 1, 0};
  const Column x = Dev(Numbers(values, valid));
  ProgramBuilder b({x.view()});
  const Code gt3 = Compare(Op::kCmpI, Cmp::kGt, b.Col(0), b.Int(3));
  EXPECT_EQ(SelectRows(b.Build(gt3), 0, 8), (std::vector<int64_t>{5, 6}));
  // not(null) is null: the null rows stay out either way.
  EXPECT_EQ(SelectRows(b.Build(Not(gt3)), 0, 8), (std::vector<int64_t>{0, 2}));
  EXPECT_EQ(SelectRows(b.Build(Compare(Op::kCmpI, Cmp::kEq, b.Col(0), b.Col(0))), 0, 8),
            (std::vector<int64_t>{0, 2, 5, 6}));
  EXPECT_EQ(SelectRows(b.Build(IsNull(b.Col(0))), 0, 8), (std::vector<int64_t>{1, 3, 4, 7}));
  EXPECT_EQ(SelectRows(b.Build(b.Null()), 0, 8), std::vector<int64_t>{});
  EXPECT_EQ(CountRows(b.Build(b.Null()), 0, 8), 0);
  // null or true is true.
  EXPECT_EQ(SelectRows(b.Build(Or(gt3, b.Int(1))), 0, 8), Iota(0, 8));
  // null and false is false, null and true is null.
  EXPECT_EQ(CountRows(b.Build(And(gt3, b.Int(1))), 0, 8), 2);
  EXPECT_EQ(CountRows(b.Build(IsNull(And(gt3, b.Int(1)))), 0, 8), 4);
  EXPECT_EQ(CountRows(b.Build(IsNull(And(gt3, b.Int(0)))), 0, 8), 0);
}

TEST_P(FilterTest, ComparesEveryNumericType) {
  const int64_t n = 5003;
  for (PhysType type : {PhysType::kInt8, PhysType::kInt16, PhysType::kInt32, PhysType::kInt64,
                        PhysType::kFloat32, PhysType::kFloat64}) {
    SCOPED_TRACE(TypeName(type));
    const HostColumn h = Sample(type, n, 11, /*with_nulls=*/true);
    const Column x = Dev(h);
    ProgramBuilder b({x.view()});
    const bool is_float = type == PhysType::kFloat32 || type == PhysType::kFloat64;
    std::function<double(int64_t)> value = [&](int64_t i) { return AsDouble(h, i); };
    // A threshold near the middle of the values: -5 for integers (signed), 12.5 for floats.
    for (Cmp cmp : kAllCmps) {
      SCOPED_TRACE(CmpName(cmp));
      const Code c = is_float ? Compare(Op::kCmpF, cmp, b.Col(0), b.Float(12.5))
                              : Compare(Op::kCmpI, cmp, b.Col(0), b.Int(-5));
      const double threshold = is_float ? 12.5 : -5.0;
      const std::vector<int64_t> expected =
          RowsWhere(0, n, [&](int64_t i) { return h.valid(i) && ApplyCmpRef(cmp, value(i), threshold); });
      EXPECT_EQ(SelectRows(b.Build(c), 0, n), expected);
      EXPECT_EQ(CountRows(b.Build(c), 0, n), static_cast<int64_t>(expected.size()));
    }
    // A float-valued program as a predicate: true when non-null and non-zero.
    const Code as_float = is_float ? b.Col(0) : Unary(Op::kIntToFloat, b.Col(0));
    EXPECT_EQ(SelectRows(b.Build(as_float, ValueKind::kFloat), 0, n),
              RowsWhere(0, n, [&](int64_t i) { return h.valid(i) && value(i) != 0.0; }));
  }
}

TEST_P(FilterTest, ThreePredicates) {
  const int64_t n = 200003;
  std::mt19937_64 rng(5);
  std::vector<int64_t> a(n);
  std::vector<double> bv(n);
  std::vector<int32_t> c(n);
  std::vector<uint8_t> c_valid(n);
  for (int64_t i = 0; i < n; ++i) {
    a[i] = static_cast<int64_t>(rng() % 100);
    bv[i] = static_cast<double>(rng() % 1000) / 10.0;
    c[i] = static_cast<int32_t>(rng() % 5);
    c_valid[i] = rng() % 10 != 0;
  }
  const Column ca = Dev(Numbers(a)), cb = Dev(Numbers(bv)), cc = Dev(Numbers(c, c_valid));
  ProgramBuilder b({ca.view(), cb.view(), cc.view()});
  const Code pred = And(And(Compare(Op::kCmpI, Cmp::kGt, b.Col(0), b.Int(30)),
                            Compare(Op::kCmpF, Cmp::kLt, b.Col(1), b.Float(70.0))),
                        Compare(Op::kCmpI, Cmp::kNe, b.Col(2), b.Int(2)));
  const std::vector<int64_t> expected =
      RowsWhere(0, n, [&](int64_t i) { return a[i] > 30 && bv[i] < 70.0 && c_valid[i] && c[i] != 2; });
  EXPECT_EQ(SelectRows(b.Build(pred), 0, n), expected);
  EXPECT_EQ(CountRows(b.Build(pred), 100, n - 100),
            static_cast<int64_t>(RowsWhere(100, n - 100, [&](int64_t i) {
                                   return a[i] > 30 && bv[i] < 70.0 && c_valid[i] && c[i] != 2;
                                 }).size()));
}

TEST_P(FilterTest, ComparesFixedAndVarChars) {
  const std::vector<std::string> words = {"",    "a",      "abc", "abcdef", "abd", "b",
                                          "ab",  "\xC3\xA9t\xC3\xA9", "Z", "abc", "zz", "abcde"};
  const std::vector<uint8_t> valid = {1, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1};
  const HostColumn fixed = FixedChars(6, words, valid);
  const HostColumn var = VarChars(words, valid);
  const Column cf = Dev(fixed), cv = Dev(var);
  const int64_t n = static_cast<int64_t>(words.size());
  const std::vector<std::string> constants = {"", "abc", "abcdef", "abcdefg", "b", "\xC3", "ab"};
  for (const HostColumn* h : {&fixed, &var}) {
    SCOPED_TRACE(TypeName(h->type));
    ProgramBuilder b({h == &fixed ? cf.view() : cv.view()});
    for (const std::string& k : constants) {
      for (Cmp cmp : kAllCmps) {
        SCOPED_TRACE(testing::Message() << "s " << CmpName(cmp) << " " << Printable(k));
        const Code c = Compare(Op::kCmpS, cmp, b.Col(0), b.Str(k));
        const std::vector<int64_t> expected = RowsWhere(0, n, [&](int64_t i) {
          return h->valid(i) && ApplyCmpRef(cmp, CompareStrings(StringAt(*h, i), k), 0);
        });
        EXPECT_EQ(SelectRows(b.Build(c), 0, n), expected);
        EXPECT_EQ(CountRows(b.Build(c), 0, n), static_cast<int64_t>(expected.size()));
      }
    }
  }
  // Column against column: charN and string agree row by row.
  ProgramBuilder b({cf.view(), cv.view()});
  EXPECT_EQ(SelectRows(b.Build(Compare(Op::kCmpS, Cmp::kEq, b.Col(0), b.Col(1))), 0, n),
            RowsWhere(0, n, [&](int64_t i) { return valid[i] != 0; }));
  EXPECT_EQ(CountRows(b.Build(Compare(Op::kCmpS, Cmp::kNe, b.Col(0), b.Col(1))), 0, n), 0);
}

TEST_P(FilterTest, OutOfMemoryLeavesNothingAllocated) {
  const int64_t n = 100000;
  std::vector<int64_t> values(n);
  for (int64_t i = 0; i < n; ++i) values[i] = i % 3;
  const Column x = Dev(Numbers(values));
  ProgramBuilder b({x.view()});
  const DeviceProgram p = Upload(b.Build(Compare(Op::kCmpI, Cmp::kEq, b.Col(0), b.Int(1))), exec_);
  // Room for the mask (n bytes) but not for the indices.
  MemoryResource limited(GetParam(), 0, "limited", 150000);
  const Exec exec = ExecOn(&limited);
  try {
    Select(p.view, 0, n, exec);
    FAIL() << "Select fitted in 150000 bytes";
  } catch (const std::bad_alloc&) {
  }
  EXPECT_EQ(limited.in_use(), 0u);
  // A smaller range fits.
  const Selection s = Select(p.view, 0, 1000, exec);
  EXPECT_EQ(s.count, 333);
}

// ===========================================================================
// The expression VM

using EvaluateTest = BackendTest;
INSTANTIATE_FOR_BACKENDS(EvaluateTest);

// The test for the tests: Mismatches finds differing values and nulls.
TEST_P(EvaluateTest, MismatchesFindsDifferences) {
  const Column a = Dev(Numbers<int64_t>({1, 2, 3, 4, 5}, {1, 1, 0, 1, 0}));
  const Column e = Dev(Numbers<int64_t>({1, 9, 3, 4, 0}, {1, 1, 1, 0, 0}));
  ProgramBuilder b({a.view(), e.view()});
  EXPECT_EQ(Mismatches(b, b.Col(0), b.Col(1), Op::kCmpI, 5), (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(Mismatches(b, b.Col(0), b.Col(0), Op::kCmpI, 5), std::vector<int64_t>{});
}

TEST_P(EvaluateTest, IntegerArithmetic) {
  struct Case {
    int64_t a, b;
    bool a_valid, b_valid;
  };
  const std::vector<Case> cases = {
      {7, 2, true, true},          {-7, 2, true, true},          {7, -2, true, true},
      {-7, -2, true, true},        {5, 0, true, true},           {0, 0, true, true},
      {kInt64Min, 0, true, true},  {kInt64Min, -1, true, true},  {kInt64Max, 1, true, true},
      {kInt64Min, 1, true, true},  {kInt64Max, 3, true, true},   {kInt64Min, kInt64Max, true, true},
      {12, 5, false, true},        {12, 5, true, false},         {12, 0, false, true},
      {0, 0, false, false},        {-1, kInt64Min, true, true},  {kInt64Max, -1, true, true},
  };
  const int64_t n = static_cast<int64_t>(cases.size());
  std::vector<int64_t> av, bv;
  std::vector<uint8_t> avalid, bvalid;
  for (const Case& c : cases) {
    av.push_back(c.a);
    bv.push_back(c.b);
    avalid.push_back(c.a_valid);
    bvalid.push_back(c.b_valid);
  }
  const Column ca = Dev(Numbers(av, avalid)), cb = Dev(Numbers(bv, bvalid));
  auto wrap = [](uint64_t v) { return static_cast<int64_t>(v); };
  struct OpCase {
    Op op;
    const char* name;
    // Returns false for a null result.
    std::function<bool(int64_t, int64_t, int64_t*)> ref;
  };
  const std::vector<OpCase> ops = {
      {Op::kAddI, "+", [&](int64_t x, int64_t y, int64_t* r) { *r = wrap(uint64_t(x) + uint64_t(y)); return true; }},
      {Op::kSubI, "-", [&](int64_t x, int64_t y, int64_t* r) { *r = wrap(uint64_t(x) - uint64_t(y)); return true; }},
      {Op::kMulI, "*", [&](int64_t x, int64_t y, int64_t* r) { *r = wrap(uint64_t(x) * uint64_t(y)); return true; }},
      {Op::kDivI, "/", [](int64_t x, int64_t y, int64_t* r) {
         if (y == 0) return false;
         *r = (x == kInt64Min && y == -1) ? kInt64Min : x / y;  // wraps like the other operators
         return true;
       }},
      {Op::kModI, "%", [](int64_t x, int64_t y, int64_t* r) {
         if (y == 0) return false;
         *r = (x == kInt64Min && y == -1) ? 0 : x % y;
         return true;
       }},
  };
  for (const OpCase& op : ops) {
    SCOPED_TRACE(op.name);
    std::vector<int64_t> ev(n);
    std::vector<uint8_t> evalid(n);
    for (int64_t i = 0; i < n; ++i) {
      evalid[i] = avalid[i] && bvalid[i] && op.ref(av[i], bv[i], &ev[i]);
    }
    const Column ce = Dev(Numbers(ev, evalid));
    ProgramBuilder b({ca.view(), cb.view(), ce.view()});
    EXPECT_EQ(Mismatches(b, Binary(op.op, b.Col(0), b.Col(1)), b.Col(2), Op::kCmpI, n),
              std::vector<int64_t>{});
  }
  // Spot checks written out: 7 / 2 == 3, -7 % 2 == -1, x / 0 is null, INT64_MIN / -1 wraps.
  ProgramBuilder b({ca.view(), cb.view()});
  const Code div = Binary(Op::kDivI, b.Col(0), b.Col(1));
  const Code mod = Binary(Op::kModI, b.Col(0), b.Col(1));
  EXPECT_EQ(SelectRows(b.Build(Compare(Op::kCmpI, Cmp::kEq, div, b.Int(3))), 0, 2), (std::vector<int64_t>{0}));
  EXPECT_EQ(SelectRows(b.Build(Compare(Op::kCmpI, Cmp::kEq, mod, b.Int(-1))), 0, 4),
            (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(SelectRows(b.Build(IsNull(div)), 0, 7), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(SelectRows(b.Build(IsNull(mod)), 0, 7), (std::vector<int64_t>{4, 5, 6}));
  EXPECT_EQ(SelectRows(b.Build(Compare(Op::kCmpI, Cmp::kEq, div, b.Int(kInt64Min))), 7, 8),
            (std::vector<int64_t>{7}));

  // Negation wraps too: -INT64_MIN == INT64_MIN.
  std::vector<int64_t> neg(n);
  for (int64_t i = 0; i < n; ++i) neg[i] = wrap(0 - uint64_t(av[i]));
  const Column cn = Dev(Numbers(neg, avalid));
  ProgramBuilder nb({ca.view(), cn.view()});
  EXPECT_EQ(Mismatches(nb, Unary(Op::kNegI, nb.Col(0)), nb.Col(1), Op::kCmpI, n), std::vector<int64_t>{});
}

TEST_P(EvaluateTest, FloatArithmetic) {
  const std::vector<double> av = {7.5, -7.5, 7.5, 1.0, 0.0, 1e308, 5.25, 3.0, 2.0, -0.5, 9.0};
  const std::vector<double> bv = {2.0, 2.0, -2.0, 0.0, 0.0, 10.0, 0.5, 1.0, 7.0, 0.25, -0.0};
  const std::vector<uint8_t> avalid = {1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1};
  const std::vector<uint8_t> bvalid = {1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1};
  const int64_t n = static_cast<int64_t>(av.size());
  const Column ca = Dev(Numbers(av, avalid)), cb = Dev(Numbers(bv, bvalid));
  struct OpCase {
    Op op;
    const char* name;
    std::function<bool(double, double, double*)> ref;
  };
  const std::vector<OpCase> ops = {
      {Op::kAddF, "+", [](double x, double y, double* r) { *r = x + y; return true; }},
      {Op::kSubF, "-", [](double x, double y, double* r) { *r = x - y; return true; }},
      {Op::kMulF, "*", [](double x, double y, double* r) { *r = x * y; return true; }},
      {Op::kDivF, "/", [](double x, double y, double* r) {
         if (y == 0.0) return false;
         *r = x / y;
         return true;
       }},
      {Op::kModF, "%", [](double x, double y, double* r) {
         if (y == 0.0) return false;
         *r = std::fmod(x, y);
         return true;
       }},
  };
  for (const OpCase& op : ops) {
    SCOPED_TRACE(op.name);
    std::vector<double> ev(n);
    std::vector<uint8_t> evalid(n);
    for (int64_t i = 0; i < n; ++i) evalid[i] = avalid[i] && bvalid[i] && op.ref(av[i], bv[i], &ev[i]);
    const Column ce = Dev(Numbers(ev, evalid));
    ProgramBuilder b({ca.view(), cb.view(), ce.view()});
    EXPECT_EQ(Mismatches(b, Binary(op.op, b.Col(0), b.Col(1)), b.Col(2), Op::kCmpF, n),
              std::vector<int64_t>{});
  }
  // Float modulo keeps the dividend's sign: fmod(-7.5, 2) == -1.5; 5.25 % 0.5 == 0.25.
  ProgramBuilder b({ca.view(), cb.view()});
  const Code mod = Binary(Op::kModF, b.Col(0), b.Col(1));
  EXPECT_EQ(SelectRows(b.Build(Compare(Op::kCmpF, Cmp::kEq, mod, b.Float(-1.5))), 0, n),
            (std::vector<int64_t>{1}));
  EXPECT_EQ(SelectRows(b.Build(Compare(Op::kCmpF, Cmp::kEq, mod, b.Float(0.25))), 0, n),
            (std::vector<int64_t>{6}));
  // x / 0 and x % 0 are null, -0.0 included.
  EXPECT_EQ(SelectRows(b.Build(IsNull(Binary(Op::kDivF, b.Col(0), b.Col(1)))), 0, n),
            (std::vector<int64_t>{3, 4, 7, 8, 10}));
  // Moments of a single row read the value back exactly.
  const Moments m = MomentsOf(b.Build(Binary(Op::kMulF, b.Col(0), b.Col(1)), ValueKind::kFloat), 5, 6);
  EXPECT_EQ(m.count, 1);
  EXPECT_EQ(m.sum, std::numeric_limits<double>::infinity());  // 1e308 * 10

  std::vector<double> neg(n);
  for (int64_t i = 0; i < n; ++i) neg[i] = -av[i];
  const Column cn = Dev(Numbers(neg, avalid));
  ProgramBuilder nb({ca.view(), cn.view()});
  EXPECT_EQ(Mismatches(nb, Unary(Op::kNegF, nb.Col(0)), nb.Col(1), Op::kCmpF, n), std::vector<int64_t>{});
}

TEST_P(EvaluateTest, ComparisonsConversionsAndTruth) {
  const std::vector<int64_t> iv = {-3, 0, 5, 5, kInt64Max, kInt64Min, 7};
  const std::vector<int64_t> jv = {2, 0, 5, -1, kInt64Min, kInt64Max, 7};
  const std::vector<uint8_t> ivalid = {1, 1, 1, 1, 1, 1, 0};
  const int64_t n = static_cast<int64_t>(iv.size());
  std::vector<double> fv(n), gv(n);
  for (int64_t i = 0; i < n; ++i) {
    fv[i] = static_cast<double>(iv[i]) / 4.0;
    gv[i] = static_cast<double>(jv[i]) / 4.0;
  }
  const Column ci = Dev(Numbers(iv, ivalid)), cj = Dev(Numbers(jv));
  const Column cf = Dev(Numbers(fv, ivalid)), cg = Dev(Numbers(gv));
  std::vector<double> as_double(n);
  for (int64_t i = 0; i < n; ++i) as_double[i] = static_cast<double>(iv[i]);
  const Column cd = Dev(Numbers(as_double, ivalid));
  ProgramBuilder b({ci.view(), cj.view(), cf.view(), cg.view(), cd.view()});

  for (Cmp cmp : kAllCmps) {
    SCOPED_TRACE(CmpName(cmp));
    const auto expected_i = RowsWhere(0, n, [&](int64_t r) { return ivalid[r] && ApplyCmpRef(cmp, iv[r], jv[r]); });
    const auto expected_f = RowsWhere(0, n, [&](int64_t r) { return ivalid[r] && ApplyCmpRef(cmp, fv[r], gv[r]); });
    EXPECT_EQ(SelectRows(b.Build(Compare(Op::kCmpI, cmp, b.Col(0), b.Col(1))), 0, n), expected_i);
    EXPECT_EQ(SelectRows(b.Build(Compare(Op::kCmpF, cmp, b.Col(2), b.Col(3))), 0, n), expected_f);
    // A comparison is never null for valid operands, and null otherwise.
    EXPECT_EQ(SelectRows(b.Build(IsNull(Compare(Op::kCmpI, cmp, b.Col(0), b.Col(1)))), 0, n),
              (std::vector<int64_t>{6}));
  }
  // Int to float; truth values of ints and floats.
  EXPECT_EQ(Mismatches(b, Unary(Op::kIntToFloat, b.Col(0)), b.Col(4), Op::kCmpF, n), std::vector<int64_t>{});
  const auto nonzero = RowsWhere(0, n, [&](int64_t r) { return ivalid[r] && iv[r] != 0; });
  EXPECT_EQ(SelectRows(b.Build(Unary(Op::kTruthI, b.Col(0))), 0, n), nonzero);
  EXPECT_EQ(SelectRows(b.Build(Unary(Op::kTruthF, b.Col(2))), 0, n), nonzero);
  EXPECT_EQ(SelectRows(b.Build(Compare(Op::kCmpI, Cmp::kEq, Unary(Op::kTruthI, b.Col(0)), b.Int(1))), 0, n),
            nonzero);
  EXPECT_EQ(SelectRows(b.Build(IsNull(Unary(Op::kTruthF, b.Col(2)))), 0, n), (std::vector<int64_t>{6}));
  // Null constants propagate through arithmetic.
  EXPECT_EQ(SelectRows(b.Build(IsNull(Binary(Op::kAddI, b.Col(1), b.Null()))), 0, n), Iota(0, n));
  EXPECT_EQ(SelectRows(b.Build(IsNull(b.Col(1))), 0, n), std::vector<int64_t>{});
}

TEST_P(EvaluateTest, ThreeValuedLogic) {
  // p and q each 0, 1 or null: all nine pairs.
  std::vector<int64_t> pv, qv;
  std::vector<uint8_t> pvalid, qvalid;
  for (int p = 0; p < 3; ++p) {
    for (int q = 0; q < 3; ++q) {
      pv.push_back(p == 1);
      pvalid.push_back(p != 2);
      qv.push_back(q == 1);
      qvalid.push_back(q != 2);
    }
  }
  // Expected, SQL-style, with 2 for null.
  const int kNull = 2;
  auto and3 = [](int p, int q) { return (p == 0 || q == 0) ? 0 : (p == 1 && q == 1 ? 1 : 2); };
  auto or3 = [](int p, int q) { return (p == 1 || q == 1) ? 1 : (p == 0 && q == 0 ? 0 : 2); };
  std::vector<int64_t> and_v, or_v, not_v;
  std::vector<uint8_t> and_valid, or_valid, not_valid;
  for (int p = 0; p < 3; ++p) {
    for (int q = 0; q < 3; ++q) {
      const int a = and3(p, q), o = or3(p, q);
      and_v.push_back(a == 1);
      and_valid.push_back(a != kNull);
      or_v.push_back(o == 1);
      or_valid.push_back(o != kNull);
      not_v.push_back(p == 0);
      not_valid.push_back(p != kNull);
    }
  }
  const Column cp = Dev(Numbers(pv, pvalid)), cq = Dev(Numbers(qv, qvalid));
  const Column ca = Dev(Numbers(and_v, and_valid)), co = Dev(Numbers(or_v, or_valid)),
               cn = Dev(Numbers(not_v, not_valid));
  ProgramBuilder b({cp.view(), cq.view(), ca.view(), co.view(), cn.view()});
  EXPECT_EQ(Mismatches(b, And(b.Col(0), b.Col(1)), b.Col(2), Op::kCmpI, 9), std::vector<int64_t>{});
  EXPECT_EQ(Mismatches(b, Or(b.Col(0), b.Col(1)), b.Col(3), Op::kCmpI, 9), std::vector<int64_t>{});
  EXPECT_EQ(Mismatches(b, Not(b.Col(0)), b.Col(4), Op::kCmpI, 9), std::vector<int64_t>{});
  // As predicates: rows (p, q) = (1, 1) for and; any 1 for or.
  EXPECT_EQ(SelectRows(b.Build(And(b.Col(0), b.Col(1))), 0, 9), (std::vector<int64_t>{4}));
  EXPECT_EQ(SelectRows(b.Build(Or(b.Col(0), b.Col(1))), 0, 9), (std::vector<int64_t>{1, 3, 4, 5, 7}));
  EXPECT_EQ(SelectRows(b.Build(Not(b.Col(0))), 0, 9), (std::vector<int64_t>{0, 1, 2}));
}

// ===========================================================================
// Gather

using GatherTest = BackendTest;
INSTANTIATE_FOR_BACKENDS(GatherTest);

TEST_P(GatherTest, GathersEveryType) {
  const int64_t n = 500;
  std::mt19937_64 rng(9);
  std::vector<int64_t> random_indices(2000);
  for (int64_t& i : random_indices) i = static_cast<int64_t>(rng() % n);
  std::vector<int64_t> reversed = Iota(0, n);
  std::reverse(reversed.begin(), reversed.end());
  const std::vector<std::vector<int64_t>> index_lists = {
      {}, {0}, {n - 1, 0, 250, 250, 250, 3}, random_indices, reversed};
  for (PhysType type : kAllTypes) {
    for (bool src_nulls : {false, true}) {
      const HostColumn src = Sample(type, n, 21, src_nulls);
      const Column dev = Dev(src);
      for (const std::vector<int64_t>& indices : index_lists) {
        const Buffer idx = ToDevice(indices, exec_);
        for (bool nullable : {false, true}) {
          SCOPED_TRACE(testing::Message() << TypeName(type) << (src_nulls ? ", source with nulls" : "")
                                          << ", " << indices.size() << " indices"
                                          << (nullable ? ", nullable result" : ""));
          const Column out = Gather(dev.view(), idx.as<int64_t>(), static_cast<int64_t>(indices.size()),
                                    nullable, exec_);
          HostColumn expected = EmptyLike(src);
          for (int64_t i : indices) {
            expected.rows.push_back(src.rows[i]);
            if (nullable) expected.validity.push_back(src.valid(i) ? 1 : 0);
          }
          EXPECT_EQ(out.size(), static_cast<int64_t>(indices.size()));
          EXPECT_EQ(out.type(), type);
          EXPECT_EQ(out.width(), src.width);
          EXPECT_EQ(out.nullable(), nullable);
          EXPECT_TRUE(SameRows(Host(out.view()), expected));
          if (!nullable) EXPECT_EQ(out.view().validity, nullptr);
          if (type == PhysType::kVarChars) {
            int64_t chars = 0;
            for (const std::string& r : expected.rows) chars += static_cast<int64_t>(r.size());
            EXPECT_EQ(out.chars(), chars);
          }
        }
      }
    }
  }
}

TEST_P(GatherTest, GatheredColumnCanBeAppendedTo) {
  const HostColumn src = VarChars({"one", "", "three", "four"}, {1, 1, 0, 1});
  const Column dev = Dev(src);
  const Buffer idx = ToDevice(std::vector<int64_t>{3, 1, 0}, exec_);
  Column out = Gather(dev.view(), idx.as<int64_t>(), 3, /*nullable=*/true, exec_);
  out.Append(dev.view(), exec_);
  EXPECT_TRUE(SameRows(Host(out.view()), VarChars({"four", "", "one", "one", "", "three", "four"},
                                                  {1, 1, 1, 1, 1, 0, 1})));
}

// ===========================================================================
// Shards

using ShardTest = BackendTest;
INSTANTIATE_FOR_BACKENDS(ShardTest);

TEST_P(ShardTest, EqualKeysGoToOneShardInAnyBatchAndShardsAreEven) {
  // Keys: a nullable int and a string; the same tuples in two batches of
  // different sizes and orders.
  std::vector<int32_t> ints;
  std::vector<uint8_t> valid;
  std::vector<std::string> strings;
  for (int i = 0; i < 4000; ++i) {
    ints.push_back(i % 97);
    valid.push_back(i % 13 == 0 ? 0 : 1);
    strings.push_back("key" + std::to_string(i % 31));
  }
  const Column a = Dev(Numbers(ints, valid)), b = Dev(VarChars(strings));
  const Buffer shards = ShardOfRows({a.view(), b.view()}, 4000, 4, exec_);
  const std::vector<int32_t> of = FromDevice<int32_t>(shards.as<int32_t>(), 4000, exec_);
  std::map<std::string, int32_t> shard_of_key;
  std::vector<int64_t> per_shard(4, 0);
  for (int i = 0; i < 4000; ++i) {
    ASSERT_GE(of[i], 0);
    ASSERT_LT(of[i], 4);
    ++per_shard[of[i]];
    const std::string key = (valid[i] ? std::to_string(ints[i]) : "null") + "/" + strings[i];
    auto [it, fresh] = shard_of_key.emplace(key, of[i]);
    EXPECT_EQ(it->second, of[i]) << key;
  }
  for (int64_t n : per_shard) EXPECT_GT(n, 600) << "shards are roughly even";
  // The last 10 rows again, alone, as a charN column: the same shards.
  std::vector<std::string> tail(strings.end() - 10, strings.end());
  const Column a2 = Dev(
      Numbers(std::vector<int32_t>(ints.end() - 10, ints.end()), std::vector<uint8_t>(valid.end() - 10, valid.end())));
  const Column b2 = Dev(FixedChars(8, tail));
  const Buffer again = ShardOfRows({a2.view(), b2.view()}, 10, 4, exec_);
  const std::vector<int32_t> of2 = FromDevice<int32_t>(again.as<int32_t>(), 10, exec_);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(of2[i], of[3990 + i]) << i;
  // -0.0 and 0.0, and every NaN, are one key.
  const Column d = Dev(Numbers(std::vector<double>{0.0, -0.0, std::nan("1"), -std::nan("2")}));
  const std::vector<int32_t> z = FromDevice<int32_t>(ShardOfRows({d.view()}, 4, 1000, exec_).as<int32_t>(), 4, exec_);
  EXPECT_EQ(z[0], z[1]);
  EXPECT_EQ(z[2], z[3]);
}

TEST_P(ShardTest, PartitionKeepsInputOrderWithinEachShard) {
  const std::vector<int32_t> of = {2, 0, 2, 1, 0, 2, 2, 1};
  const Buffer dev = ToDevice(of, exec_);
  const ShardPartition p = PartitionRows(dev.as<int32_t>(), 8, 4, exec_);
  EXPECT_EQ(p.starts, (std::vector<int64_t>{0, 2, 4, 8, 8}));
  EXPECT_EQ(FromDevice<int64_t>(p.order.as<int64_t>(), 8, exec_), (std::vector<int64_t>{1, 4, 3, 7, 0, 2, 5, 6}));
  EXPECT_EQ(FromDevice<int64_t>(RowPositions(40, 3, exec_).as<int64_t>(), 3, exec_),
            (std::vector<int64_t>{40, 41, 42}));
  const ShardPartition none = PartitionRows(nullptr, 0, 3, exec_);
  EXPECT_EQ(none.starts, (std::vector<int64_t>{0, 0, 0, 0}));
}

// ===========================================================================
// Statistics

using StatisticsTest = BackendTest;
INSTANTIATE_FOR_BACKENDS(StatisticsTest);

// Two passes in long double: the mean first, then powers of deviations from it.
Moments ReferenceMoments(const std::vector<double>& v, const std::vector<uint8_t>& valid, int64_t begin,
                         int64_t end) {
  return TwoPassMoments(
      begin, end, [&](int64_t i) { return valid.empty() || valid[i]; }, [&](int64_t i) { return v[i]; });
}

// m3 and m4 are compared relative to their natural scale, n * sigma^3 and
// n * sigma^4 (m3 of symmetric data is a sum that cancels to near 0).
::testing::AssertionResult MomentsNear(const Moments& a, const Moments& e, double rel = 1e-9) {
  auto near = [rel](double x, double y, double scale) {
    return std::fabs(x - y) <= rel * std::max({std::fabs(y), scale, 1e-300});
  };
  if (a.count != e.count) return ::testing::AssertionFailure() << "count " << a.count << " != " << e.count;
  if (a.count == 0) return ::testing::AssertionSuccess();
  std::ostringstream msg;
  msg.precision(17);
  if (a.min != e.min) msg << " min " << a.min << " != " << e.min << ";";
  if (a.max != e.max) msg << " max " << a.max << " != " << e.max << ";";
  // Sum and mean are compared relative to the values' magnitude (a sum near 0
  // of large values carries their rounding).
  const double magnitude = std::max(std::fabs(e.min), std::fabs(e.max));
  if (!near(a.sum, e.sum, magnitude * e.count)) msg << " sum " << a.sum << " vs " << e.sum << ";";
  if (!near(a.mean, e.mean, magnitude)) msg << " mean " << a.mean << " vs " << e.mean << ";";
  if (!near(a.m2, e.m2, 0)) msg << " m2 " << a.m2 << " vs " << e.m2 << ";";
  const double n = static_cast<double>(e.count);
  const double sigma = std::sqrt(e.m2 / n);
  // Deviations are known to about the rounding of the values themselves.
  const double spread = std::max(sigma, magnitude * 1e-7);
  if (!near(a.m3, e.m3, n * spread * spread * spread)) msg << " m3 " << a.m3 << " vs " << e.m3 << ";";
  if (!near(a.m4, e.m4, n * spread * spread * spread * spread))
    msg << " m4 " << a.m4 << " vs " << e.m4 << ";";
  if (msg.str().empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << msg.str();
}

TEST_P(StatisticsTest, MatchesTwoPassReference) {
  for (int64_t n : {int64_t{1000}, kLargeRows}) {
    SCOPED_TRACE(testing::Message() << n << " rows");
    // Values near 1e6 with a spread of 1: naive sum-of-squares loses m2 here.
    std::mt19937_64 rng(n);
    std::uniform_real_distribution<double> spread(-1.0, 1.0);
    std::vector<double> v(n);
    std::vector<uint8_t> valid(n);
    for (int64_t i = 0; i < n; ++i) {
      v[i] = 1e6 + spread(rng);
      valid[i] = rng() % 5 != 0;
    }
    const Column x = Dev(Numbers(v, valid));
    ProgramBuilder b({x.view()});
    const Program p = b.Build(b.Col(0), ValueKind::kFloat);
    EXPECT_TRUE(MomentsNear(MomentsOf(p, 0, n), ReferenceMoments(v, valid, 0, n)));
    EXPECT_TRUE(MomentsNear(MomentsOf(p, n / 7, n - n / 5), ReferenceMoments(v, valid, n / 7, n - n / 5)));
  }
}

TEST_P(StatisticsTest, IntegerAndFloat32Columns) {
  const int64_t n = 30011;
  const HostColumn ints = Sample(PhysType::kInt32, n, 31, /*with_nulls=*/true);
  const HostColumn floats = Sample(PhysType::kFloat32, n, 32, /*with_nulls=*/false);
  std::vector<double> iv(n), fv(n);
  for (int64_t i = 0; i < n; ++i) {
    iv[i] = ValueAt<int32_t>(ints, i);
    fv[i] = ValueAt<float>(floats, i);
  }
  const Column ci = Dev(ints), cf = Dev(floats);
  ProgramBuilder b({ci.view(), cf.view()});
  EXPECT_TRUE(MomentsNear(MomentsOf(b.Build(Unary(Op::kIntToFloat, b.Col(0)), ValueKind::kFloat), 0, n),
                          ReferenceMoments(iv, ints.validity, 0, n)));
  EXPECT_TRUE(MomentsNear(MomentsOf(b.Build(b.Col(1), ValueKind::kFloat), 0, n),
                          ReferenceMoments(fv, {}, 0, n)));
  // An expression: x * 2 + 1 over the floats.
  std::vector<double> ev(n);
  for (int64_t i = 0; i < n; ++i) ev[i] = fv[i] * 2 + 1;
  const Code expr = Binary(Op::kAddF, Binary(Op::kMulF, b.Col(1), b.Float(2.0)), b.Float(1.0));
  EXPECT_TRUE(MomentsNear(MomentsOf(b.Build(expr, ValueKind::kFloat), 0, n), ReferenceMoments(ev, {}, 0, n)));
}

TEST_P(StatisticsTest, EmptyAllNullAndOneValue) {
  const Column x = Dev(Numbers<double>({4.5, -2.0, 8.25}, {1, 0, 1}));
  ProgramBuilder b({x.view()});
  const Program p = b.Build(b.Col(0), ValueKind::kFloat);
  const Moments empty = MomentsOf(p, 1, 1);
  EXPECT_EQ(empty.count, 0);
  EXPECT_EQ(empty.sum, 0.0);
  EXPECT_EQ(empty.m2, 0.0);
  EXPECT_EQ(MomentsOf(p, 1, 2).count, 0);  // only a null row
  const Moments one = MomentsOf(p, 2, 3);
  EXPECT_EQ(one.count, 1);
  EXPECT_EQ(one.sum, 8.25);
  EXPECT_EQ(one.min, 8.25);
  EXPECT_EQ(one.max, 8.25);
  EXPECT_EQ(one.mean, 8.25);
  EXPECT_EQ(one.m2, 0.0);
  const Moments two = MomentsOf(p, 0, 3);
  EXPECT_EQ(two.count, 2);
  EXPECT_EQ(two.sum, 12.75);
  EXPECT_EQ(two.min, 4.5);
  EXPECT_EQ(two.max, 8.25);
  EXPECT_DOUBLE_EQ(two.mean, 6.375);
  EXPECT_DOUBLE_EQ(two.m2, 2 * 1.875 * 1.875);
  // Null constants: nothing counted.
  EXPECT_EQ(MomentsOf(b.Build(b.Null(), ValueKind::kFloat), 0, 3).count, 0);
}

TEST_P(StatisticsTest, MergedSplitsAgreeWithWhole) {
  const int64_t n = 100003;
  std::mt19937_64 rng(77);
  std::normal_distribution<double> normal(50.0, 20.0);
  std::vector<double> v(n);
  std::vector<uint8_t> valid(n);
  for (int64_t i = 0; i < n; ++i) {
    v[i] = normal(rng);
    valid[i] = rng() % 3 != 0;
  }
  const Column x = Dev(Numbers(v, valid));
  ProgramBuilder b({x.view()});
  const Program p = b.Build(b.Col(0), ValueKind::kFloat);
  const Moments whole = MomentsOf(p, 0, n);
  EXPECT_TRUE(MomentsNear(whole, ReferenceMoments(v, valid, 0, n)));
  for (const auto& [s1, s2] : std::vector<std::pair<int64_t, int64_t>>{{1, 2}, {10, 90000}, {33334, 66668}, {0, n}}) {
    SCOPED_TRACE(testing::Message() << "split at " << s1 << ", " << s2);
    const Moments a = MomentsOf(p, 0, s1), m = MomentsOf(p, s1, s2), c = MomentsOf(p, s2, n);
    const Moments left = MergeMoments(MergeMoments(a, m), c);
    const Moments right = MergeMoments(a, MergeMoments(m, c));
    EXPECT_TRUE(MomentsNear(left, whole, 1e-10));
    EXPECT_TRUE(MomentsNear(right, whole, 1e-10));
    EXPECT_TRUE(MomentsNear(left, right, 1e-10));
  }
  // The empty Moments is the identity.
  const Moments part = MomentsOf(p, 5, 500);
  const Moments merged_left = MergeMoments(Moments{}, part);
  const Moments merged_right = MergeMoments(part, Moments{});
  for (const Moments& m : {merged_left, merged_right}) {
    EXPECT_EQ(m.count, part.count);
    EXPECT_EQ(m.sum, part.sum);
    EXPECT_EQ(m.min, part.min);
    EXPECT_EQ(m.max, part.max);
    EXPECT_EQ(m.mean, part.mean);
    EXPECT_EQ(m.m2, part.m2);
    EXPECT_EQ(m.m3, part.m3);
    EXPECT_EQ(m.m4, part.m4);
  }
}

// The pairwise formulas themselves: merging two-pass references of two parts
// gives the two-pass reference of the whole, for skewed data and parts of
// very different sizes and means, in any grouping.
TEST(MomentsMergeTest, FormulasMatchTwoPassReference) {
  std::mt19937_64 rng(5);
  std::exponential_distribution<double> skewed(0.5);
  const int64_t n = 20000;
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = skewed(rng) + (i < n / 2 ? 0.0 : 40.0) + (i % 7 == 0 ? -30.0 : 0.0);
  const Moments whole = ReferenceMoments(v, {}, 0, n);
  for (int64_t split : {int64_t{1}, int64_t{2}, int64_t{37}, n / 3, n / 2, n - 1}) {
    SCOPED_TRACE(testing::Message() << "split at " << split);
    const Moments a = ReferenceMoments(v, {}, 0, split), b = ReferenceMoments(v, {}, split, n);
    EXPECT_TRUE(MomentsNear(MergeMoments(a, b), whole, 1e-12));
    EXPECT_TRUE(MomentsNear(MergeMoments(b, a), whole, 1e-12));
  }
  // Three parts, both groupings.
  const Moments a = ReferenceMoments(v, {}, 0, 100), b = ReferenceMoments(v, {}, 100, 15000),
                c = ReferenceMoments(v, {}, 15000, n);
  EXPECT_TRUE(MomentsNear(MergeMoments(MergeMoments(a, b), c), whole, 1e-12));
  EXPECT_TRUE(MomentsNear(MergeMoments(a, MergeMoments(b, c)), whole, 1e-12));
  // Skewness and kurtosis from the merged moments.
  const Moments m = MergeMoments(MergeMoments(a, b), c);
  long double mean = 0;
  for (double x : v) mean += x;
  mean /= n;
  long double s2 = 0, s3 = 0, s4 = 0;
  for (double x : v) {
    s2 += (x - mean) * (x - mean);
    s3 += (x - mean) * (x - mean) * (x - mean);
    s4 += (x - mean) * (x - mean) * (x - mean) * (x - mean);
  }
  const double var = static_cast<double>(s2 / n);
  EXPECT_NEAR(Skewness(m), static_cast<double>(s3 / n) / std::pow(var, 1.5), 1e-10);
  EXPECT_NEAR(ExcessKurtosis(m), static_cast<double>(s4 / n) / (var * var) - 3.0, 1e-10);
  // Known values: {1, 2, 3, 4, 10}.
  Moments k;
  for (double x : {1.0, 2.0, 3.0, 4.0, 10.0}) {
    Moments one;
    one.count = 1;
    one.sum = one.min = one.max = one.mean = x;
    k = MergeMoments(k, one);
  }
  EXPECT_DOUBLE_EQ(k.mean, 4.0);
  EXPECT_DOUBLE_EQ(k.m2, 9 + 4 + 1 + 0 + 36);
  EXPECT_DOUBLE_EQ(k.m3, -27 - 8 - 1 + 0 + 216);
  EXPECT_DOUBLE_EQ(k.m4, 81 + 16 + 1 + 0 + 1296);
  // No values, or all equal: undefined.
  Moments same;
  same.count = 1;
  same.sum = same.min = same.max = same.mean = 3.0;
  same = MergeMoments(same, same);
  EXPECT_EQ(same.m2, 0.0);
  EXPECT_TRUE(std::isnan(Skewness(Moments{})));
  EXPECT_TRUE(std::isnan(ExcessKurtosis(same)));
}

// ===========================================================================
// RandomColumn

using RandomTest = BackendTest;
INSTANTIATE_FOR_BACKENDS(RandomTest);

constexpr int32_t kRandomWidth = 8;

RandomSpec Spec(double min, double max, double null_fraction, uint64_t seed, uint64_t stream = 0) {
  RandomSpec s;
  s.min = min;
  s.max = max;
  s.null_fraction = null_fraction;
  s.seed = seed;
  s.stream = stream;
  return s;
}

TEST_P(RandomTest, SameSeedGivesSameValues) {
  for (PhysType type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    const int32_t width = type == PhysType::kFixedChars ? kRandomWidth : 0;
    auto draw = [&](uint64_t seed, uint64_t stream) {
      return Host(RandomColumn(type, width, true, 3001, Spec(-100, 100, 0.2, seed, stream), exec_).view());
    };
    const HostColumn a = draw(42, 0);
    EXPECT_TRUE(SameRows(draw(42, 0), a));
    EXPECT_FALSE(SameRows(draw(43, 0), a)) << "another seed drew the same column";
    EXPECT_FALSE(SameRows(draw(42, 1), a)) << "another stream drew the same column";
  }
}

TEST_P(RandomTest, MatchesTheHostBackend) {
  if (GetParam() == Backend::kHost) GTEST_SKIP() << "compares another backend with the host";
  MemoryResource host_mr(Backend::kHost, 0, "host:0", 0);
  Exec host;
  host.backend = Backend::kHost;
  host.mr = &host_mr;
  for (PhysType type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    const int32_t width = type == PhysType::kFixedChars ? kRandomWidth : 0;
    const RandomSpec spec = Spec(-1e4, 1e4, 0.25, 2024, 3);
    const HostColumn here = Host(RandomColumn(type, width, true, 100003, spec, exec_).view());
    const Column there = RandomColumn(type, width, true, 100003, RandomSpec(spec), host);
    EXPECT_TRUE(SameRows(here, FromDevice(there.view(), host)));
  }
}

TEST_P(RandomTest, ZeroRows) {
  for (PhysType type : kAllTypes) {
    SCOPED_TRACE(TypeName(type));
    const int32_t width = type == PhysType::kFixedChars ? kRandomWidth : 0;
    const Column c = RandomColumn(type, width, true, 0, Spec(0, 10, 0.5, 1), exec_);
    EXPECT_EQ(c.size(), 0);
    EXPECT_EQ(c.chars(), 0);
    EXPECT_EQ(c.type(), type);
    EXPECT_TRUE(c.nullable());
    // Still a column that takes rows.
    Column grown = RandomColumn(type, width, true, 0, Spec(0, 10, 0.5, 1), exec_);
    const Column more = RandomColumn(type, width, true, 50, Spec(0, 10, 0.5, 2), exec_);
    grown.Append(more.view(), exec_);
    EXPECT_TRUE(SameRows(Host(grown.view()), Host(more.view())));
  }
}

TEST_P(RandomTest, NumbersStayWithinBounds) {
  const int64_t n = 100000;
  struct Case {
    PhysType type;
    double min, max;
    double lo, hi;  // the bounds the values must hit, after clamping to the type
  };
  const std::vector<Case> cases = {
      {PhysType::kInt8, -1000, 1000, -128, 127},
      {PhysType::kInt16, -1e6, 1e6, -32768, 32767},
      {PhysType::kInt32, -5, 5, -5, 5},
      {PhysType::kInt32, 3, 3, 3, 3},
      {PhysType::kInt64, -1e15, 1e15, -1e15, 1e15},
      {PhysType::kFloat32, -2.5, 7.25, -2.5, 7.25},
      {PhysType::kFloat64, -2.5, 7.25, -2.5, 7.25},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << TypeName(c.type) << " in [" << c.min << ", " << c.max << "]");
    const HostColumn h = Host(RandomColumn(c.type, 0, false, n, Spec(c.min, c.max, 0, 5), exec_).view());
    ASSERT_EQ(h.size(), n);
    EXPECT_TRUE(h.validity.empty());
    double lo = 1e300, hi = -1e300;
    std::set<double> distinct;
    for (int64_t i = 0; i < n; ++i) {
      double v = 0;
      switch (c.type) {
        case PhysType::kInt8: v = ValueAt<int8_t>(h, i); break;
        case PhysType::kInt16: v = ValueAt<int16_t>(h, i); break;
        case PhysType::kInt32: v = ValueAt<int32_t>(h, i); break;
        case PhysType::kInt64: v = static_cast<double>(ValueAt<int64_t>(h, i)); break;
        case PhysType::kFloat32: v = ValueAt<float>(h, i); break;
        default: v = ValueAt<double>(h, i); break;
      }
      lo = std::min(lo, v);
      hi = std::max(hi, v);
      if (distinct.size() < 100) distinct.insert(v);
    }
    EXPECT_GE(lo, c.lo);
    EXPECT_LE(hi, c.hi);
    const bool is_int = c.type != PhysType::kFloat32 && c.type != PhysType::kFloat64;
    if (is_int && c.hi - c.lo < 1000) {
      // Small integer ranges are covered end to end (and clamping is real).
      EXPECT_EQ(lo, c.lo);
      EXPECT_EQ(hi, c.hi);
      EXPECT_EQ(distinct.size(), std::min<size_t>(100, static_cast<size_t>(c.hi - c.lo + 1)));
    } else {
      // Wide ranges: spread over most of the range.
      EXPECT_LT(lo, c.lo + (c.hi - c.lo) * 0.01);
      EXPECT_GT(hi, c.hi - (c.hi - c.lo) * 0.01);
    }
  }
}

bool IsAlnum(char ch) {
  return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

TEST_P(RandomTest, StringsHaveBoundedLengthsAndPadding) {
  const int64_t n = 20000;
  struct Case {
    PhysType type;
    double min, max;
    size_t lo, hi;  // lengths expected, after clamping to the width
  };
  const std::vector<Case> cases = {
      {PhysType::kVarChars, 0, 12, 0, 12},
      {PhysType::kVarChars, 5, 5, 5, 5},
      {PhysType::kVarChars, 0, 0, 0, 0},
      {PhysType::kFixedChars, 2, 20, 2, kRandomWidth},
      {PhysType::kFixedChars, 0, 3, 0, 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(testing::Message() << TypeName(c.type) << " of length [" << c.min << ", " << c.max << "]");
    const int32_t width = c.type == PhysType::kFixedChars ? kRandomWidth : 0;
    const Column col = RandomColumn(c.type, width, false, n, Spec(c.min, c.max, 0, 9), exec_);
    const HostColumn h = Host(col.view());
    ASSERT_EQ(h.size(), n);
    size_t lo = SIZE_MAX, hi = 0, chars = 0;
    for (int64_t i = 0; i < n; ++i) {
      const std::string s = StringAt(h, i);
      lo = std::min(lo, s.size());
      hi = std::max(hi, s.size());
      chars += s.size();
      for (char ch : s) ASSERT_TRUE(IsAlnum(ch)) << "row " << i << ": " << Printable(s);
      if (c.type == PhysType::kFixedChars) {
        ASSERT_EQ(h.rows[i].size(), static_cast<size_t>(kRandomWidth));
        ASSERT_EQ(h.rows[i], s + std::string(kRandomWidth - s.size(), '\0')) << "row " << i << " not zero-padded";
      }
    }
    EXPECT_EQ(lo, c.lo);
    EXPECT_EQ(hi, c.hi);
    if (c.type == PhysType::kVarChars) EXPECT_EQ(col.chars(), static_cast<int64_t>(chars));
  }
}

TEST_P(RandomTest, NullFractionNearRequested) {
  const int64_t n = 100000;
  for (double fraction : {0.0, 0.3, 0.75, 1.0}) {
    SCOPED_TRACE(testing::Message() << "null fraction " << fraction);
    const Column col = RandomColumn(PhysType::kInt32, 0, true, n, Spec(0, 100, fraction, 3), exec_);
    const std::vector<uint8_t> valid = FromDevice<uint8_t>(col.view().validity, n, exec_);
    int64_t nulls = 0;
    for (uint8_t v : valid) {
      ASSERT_LE(v, 1);
      nulls += v == 0;
    }
    EXPECT_NEAR(static_cast<double>(nulls) / n, fraction, 0.02);
    if (fraction == 0.0) EXPECT_EQ(nulls, 0);
    if (fraction == 1.0) EXPECT_EQ(nulls, n);
  }
  // Strings get nulls the same way.
  const Column s = RandomColumn(PhysType::kVarChars, 0, true, n, Spec(1, 4, 0.3, 4), exec_);
  const std::vector<uint8_t> valid = FromDevice<uint8_t>(s.view().validity, n, exec_);
  EXPECT_NEAR(static_cast<double>(std::count(valid.begin(), valid.end(), 0)) / n, 0.3, 0.02);
  // A column that is not nullable has no validity.
  EXPECT_EQ(RandomColumn(PhysType::kInt32, 0, false, n, Spec(0, 100, 0.3, 3), exec_).view().validity, nullptr);
}

TEST_P(RandomTest, ValuesFollowRandomBits) {
  const int64_t n = 100000;
  const std::vector<int64_t> rows = {0, 1, 2, 17, 12345, n - 1};
  const uint64_t seed = 1234567, stream = 8;
  const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  auto bits = [&](int64_t row, uint64_t draw) { return RandomBits(seed, stream, row, draw); };
  // The characters of a string of length `len` in `row`: ten per 64-bit draw.
  auto text = [&](int64_t row, int64_t len) {
    std::string s;
    uint64_t b = 0;
    for (int64_t k = 0; k < len; ++k) {
      if (k % 10 == 0) b = bits(row, 2 + k / 10);
      s.push_back(alphabet[b % 62]);
      b /= 62;
    }
    return s;
  };

  {  // Validity: draw 0 against the null fraction.
    const Column c = RandomColumn(PhysType::kInt64, 0, true, n, Spec(-5, 5, 0.4, seed, stream), exec_);
    const HostColumn h = Host(c.view());
    for (int64_t r : rows) {
      SCOPED_TRACE(testing::Message() << "int64 row " << r);
      EXPECT_EQ(h.valid(r), RandomUnit(bits(r, 0)) >= 0.4);
      // Integers: start + draw 1 modulo the span.
      EXPECT_EQ(ValueAt<int64_t>(h, r), -5 + static_cast<int64_t>(bits(r, 1) % 11));
    }
  }
  {  // int8 clamped to [-128, 127].
    const HostColumn h =
        Host(RandomColumn(PhysType::kInt8, 0, false, n, Spec(-1000, 1000, 0, seed, stream), exec_).view());
    for (int64_t r : rows) {
      EXPECT_EQ(ValueAt<int8_t>(h, r), static_cast<int8_t>(-128 + static_cast<int64_t>(bits(r, 1) % 256)))
          << "row " << r;
    }
  }
  {  // Reals: min + (max - min) * unit(draw 1).
    const HostColumn d =
        Host(RandomColumn(PhysType::kFloat64, 0, false, n, Spec(-3.5, 10.0, 0, seed, stream), exec_).view());
    const HostColumn f =
        Host(RandomColumn(PhysType::kFloat32, 0, false, n, Spec(-3.5, 10.0, 0, seed, stream), exec_).view());
    for (int64_t r : rows) {
      const double scaled = 13.5 * RandomUnit(bits(r, 1));
      const double expected = -3.5 + scaled;
      EXPECT_EQ(ValueAt<double>(d, r), expected) << "row " << r;
      EXPECT_EQ(ValueAt<float>(f, r), static_cast<float>(expected)) << "row " << r;
    }
  }
  {  // Strings: length start + draw 1 modulo the span, then the text.
    const HostColumn v =
        Host(RandomColumn(PhysType::kVarChars, 0, false, n, Spec(3, 25, 0, seed, stream), exec_).view());
    const HostColumn f = Host(
        RandomColumn(PhysType::kFixedChars, kRandomWidth, false, n, Spec(2, 20, 0, seed, stream), exec_).view());
    for (int64_t r : rows) {
      SCOPED_TRACE(testing::Message() << "string row " << r);
      EXPECT_EQ(v.rows[r], text(r, 3 + static_cast<int64_t>(bits(r, 1) % 23)));
      // charN: the length range is clamped to [2, width] first.
      EXPECT_EQ(StringAt(f, r), text(r, 2 + static_cast<int64_t>(bits(r, 1) % (kRandomWidth - 1))));
    }
  }
}

}  // namespace
}  // namespace kernels
