// Tables over several devices: where rows go (sharded, spread, replicated),
// that they read back in the order of insertion, and that an append one
// device cannot take leaves every shard as it was.

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/jobs/device.h"
#include "engine/table/host_column.h"
#include "engine/table/record_codec.h"
#include "engine/table/table.h"
#include "engine/table/types.h"
#include "kernels/memory.h"
#include "tests/common/table_type.h"

namespace engine {
namespace {

using gpudb_test::MustParse;

constexpr char kType[] = R"([["id","long"],["k","int","nullable"],["s","string","nullable"]])";

class DistributedTableTest : public ::testing::Test {
 protected:
  DistributedTableTest() : type_(MustParse(kType)) {
    for (int i = 0; i < 3; ++i) {
      devices_.push_back(std::make_unique<Device>(i, kernels::Backend::kHost, i, size_t{64} << 20, 1));
      raw_.push_back(devices_.back().get());
    }
  }

  const kernels::Exec& exec() { return devices_[0]->stream(0).exec(); }

  // Rows [begin, begin + n): id = i, k = i % 5 (null every 7th), s = "s<i % 11>".
  std::vector<HostColumn> Rows(int64_t begin, int64_t n) {
    std::vector<HostColumn> cols = MakeHostColumns(type_);
    for (int64_t i = begin; i < begin + n; ++i) {
      cols[0].AppendInt(i);
      if (i % 7 == 0) {
        cols[1].AppendNull();
      } else {
        cols[1].AppendInt(i % 5);
      }
      cols[2].AppendString(absl::StrCat("s", i % 11));
    }
    return cols;
  }

  absl::Status Append(Table& table, int64_t begin, int64_t n) {
    std::vector<kernels::Column> up;
    std::vector<kernels::ColumnView> views;
    for (const HostColumn& c : Rows(begin, n)) up.push_back(ToDevice(c, exec()));
    for (const kernels::Column& c : up) views.push_back(c.view());
    return table.Append(views, exec());
  }

  // The ids of a single-device table (a shard), in row order.
  std::vector<int64_t> Ids(const Table& t) {
    const HostColumn ids = ToHost(t.views()[0], false, 0, t.rows(), t.device()->stream(0).exec());
    std::vector<int64_t> out;
    for (int64_t r = 0; r < ids.size; ++r) out.push_back(ids.IntAt(r));
    return out;
  }

  std::vector<int64_t> AssembledIds(const Table& t) {
    std::vector<kernels::Column> all = t.Assemble(exec());
    const HostColumn ids = ToHost(all[0].view(), false, 0, all[0].size(), exec());
    std::vector<int64_t> out;
    for (int64_t r = 0; r < ids.size; ++r) out.push_back(ids.IntAt(r));
    return out;
  }

  std::vector<int64_t> Range(int64_t n) {
    std::vector<int64_t> out(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out[i] = i;
    return out;
  }

  std::vector<std::unique_ptr<Device>> devices_;
  std::vector<Device*> raw_;
  TableType type_;
};

TEST_F(DistributedTableTest, OneDeviceMakesASingleDeviceTable) {
  Layout layout;
  layout.kind = Layout::Kind::kSharded;
  layout.shard_key = {1};
  auto t = Table::Create("t", type_, layout, {raw_[1]}, Table::Kind::kTable);
  EXPECT_FALSE(t->distributed());
  EXPECT_EQ(t->device(), raw_[1]);
  EXPECT_EQ(t->layout().kind, Layout::Kind::kSharded);  // as it would be on several
  ASSERT_TRUE(Append(*t, 0, 10).ok());
  EXPECT_EQ(Ids(*t), Range(10));
}

TEST_F(DistributedTableTest, ShardedRowsWithOneKeyShareAShardInEveryBatch) {
  Layout layout;
  layout.kind = Layout::Kind::kSharded;
  layout.shard_key = {1, 2};
  auto t = Table::Create("t", type_, layout, raw_, Table::Kind::kTable);
  ASSERT_TRUE(t->distributed());
  ASSERT_EQ(t->shards().size(), 3u);
  // Batches of 1, 2, 97 and 900 rows: 1000 in all.
  int64_t at = 0;
  for (int64_t n : {1, 2, 97, 900}) {
    ASSERT_TRUE(Append(*t, at, n).ok());
    at += n;
  }
  EXPECT_EQ(t->rows(), 1000);
  std::map<std::string, std::set<size_t>> shards_of_key;
  int64_t total = 0;
  for (size_t s = 0; s < t->shards().size(); ++s) {
    const Table& shard = *t->shards()[s];
    EXPECT_EQ(shard.device(), raw_[s]);
    EXPECT_GT(shard.rows(), 0) << "shard " << s;
    total += shard.rows();
    const auto ids = Ids(shard);
    EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end())) << "shard " << s << " keeps the order of insertion";
    for (int64_t i : ids) {
      const std::string key = i % 7 == 0 ? absl::StrCat("null/", i % 11) : absl::StrCat(i % 5, "/", i % 11);
      shards_of_key[key].insert(s);
    }
  }
  EXPECT_EQ(total, 1000);
  for (const auto& [key, shards] : shards_of_key) EXPECT_EQ(shards.size(), 1u) << "key " << key;
  EXPECT_EQ(AssembledIds(*t), Range(1000));
}

TEST_F(DistributedTableTest, SpreadFillsTheHomeDeviceFirstThenEvenShares) {
  Layout layout;
  layout.kind = Layout::Kind::kSpread;
  layout.chunk_rows = 100;
  auto t = Table::Create("t", type_, layout, raw_, Table::Kind::kTable);
  ASSERT_TRUE(Append(*t, 0, 60).ok());
  EXPECT_EQ(t->shards()[0]->rows(), 60);  // under a chunk: one device
  EXPECT_EQ(t->shards()[1]->rows(), 0);
  ASSERT_TRUE(Append(*t, 60, 100).ok());
  EXPECT_EQ(t->shards()[0]->rows(), 100);
  EXPECT_EQ(t->shards()[1]->rows(), 60);
  ASSERT_TRUE(Append(*t, 160, 1040).ok());  // 1200 rows: 400 each
  for (const auto& s : t->shards()) EXPECT_EQ(s->rows(), 400);
  EXPECT_EQ(t->rows(), 1200);
  EXPECT_EQ(AssembledIds(*t), Range(1200));
}

TEST_F(DistributedTableTest, ReplicatedTablesHoldEveryRowOnEveryDevice) {
  Layout layout;
  layout.kind = Layout::Kind::kReplicated;
  auto t = Table::Create("t", type_, layout, raw_, Table::Kind::kTable);
  ASSERT_TRUE(Append(*t, 0, 50).ok());
  ASSERT_TRUE(Append(*t, 50, 25).ok());
  EXPECT_EQ(t->rows(), 75);
  size_t bytes = 0;
  for (const auto& s : t->shards()) {
    EXPECT_EQ(Ids(*s), Range(75));
    bytes += s->device_bytes();
  }
  EXPECT_EQ(t->device_bytes(), bytes);
  EXPECT_EQ(t->ShardOn(raw_[2]), t->shards()[2]);
  EXPECT_EQ(AssembledIds(*t), Range(75));
}

TEST_F(DistributedTableTest, ReplaceRoutesTheNewRowsAndViewsOfTheTableThrow) {
  Layout layout;
  layout.kind = Layout::Kind::kSpread;
  layout.chunk_rows = 10;
  auto t = Table::Create("t", type_, layout, raw_, Table::Kind::kTable);
  ASSERT_TRUE(Append(*t, 0, 90).ok());
  std::vector<kernels::Column> fresh;
  for (const HostColumn& c : Rows(1000, 30)) fresh.push_back(ToDevice(c, exec()));
  ASSERT_TRUE(t->Replace(std::move(fresh), exec()).ok());
  EXPECT_EQ(t->rows(), 30);
  for (const auto& s : t->shards()) EXPECT_EQ(s->rows(), 10);
  std::vector<int64_t> want;
  for (int64_t i = 1000; i < 1030; ++i) want.push_back(i);
  EXPECT_EQ(AssembledIds(*t), want);
  EXPECT_THROW(t->views(), std::logic_error);
}

TEST_F(DistributedTableTest, AnAppendOneDeviceCannotTakeChangesNoShard) {
  // The third device has room for a few rows only.
  std::vector<std::unique_ptr<Device>> devices;
  std::vector<Device*> raw;
  for (int i = 0; i < 3; ++i) {
    devices.push_back(
        std::make_unique<Device>(i, kernels::Backend::kHost, i, i == 2 ? size_t{256} << 10 : size_t{64} << 20, 1));
    raw.push_back(devices.back().get());
  }
  Layout layout;
  layout.kind = Layout::Kind::kSpread;
  layout.chunk_rows = 10;
  auto t = Table::Create("t", type_, layout, raw, Table::Kind::kTable);
  const kernels::Exec& home = raw[0]->stream(0).exec();
  const auto append = [&](int64_t begin, int64_t n) {
    std::vector<kernels::Column> up;
    std::vector<kernels::ColumnView> views;
    for (const HostColumn& c : Rows(begin, n)) up.push_back(ToDevice(c, home));
    for (const kernels::Column& c : up) views.push_back(c.view());
    return t->Append(views, home);
  };
  ASSERT_TRUE(append(0, 30).ok());
  std::vector<int64_t> before;
  std::vector<size_t> in_use;
  for (const auto& s : t->shards()) before.push_back(s->rows());
  for (Device* d : raw) in_use.push_back(d->memory().in_use());
  absl::Status s = append(30, 100000);
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_NE(s.message().find("host:2"), absl::string_view::npos) << s;  // the device is named
  EXPECT_EQ(t->rows(), 30);
  for (size_t i = 0; i < t->shards().size(); ++i) EXPECT_EQ(t->shards()[i]->rows(), before[i]);
  // Every shard's grown storage went back (the appended-to ones keep their capacity).
  EXPECT_EQ(raw[2]->memory().in_use(), in_use[2]);
  std::vector<kernels::Column> all = t->Assemble(home);
  EXPECT_EQ(all[0].size(), 30);
  // And it still takes what fits.
  ASSERT_TRUE(append(30, 3).ok());
  EXPECT_EQ(t->rows(), 33);
}

// Jobs on job streams that fan out to every device at once, more of them
// than there are streams, all finish (shard streams serve only shard tasks).
TEST(RunOnDevicesTest, ManyConcurrentFanOutsFinishAndErrorsNameTheDevice) {
  std::vector<std::unique_ptr<Device>> devices;
  std::vector<Device*> raw;
  for (int i = 0; i < 2; ++i) {
    devices.push_back(std::make_unique<Device>(i, kernels::Backend::kHost, i, size_t{1} << 20, 1));
    raw.push_back(devices.back().get());
  }
  std::atomic<int> ran{0};
  absl::Mutex mu;
  int done = 0;
  for (int job = 0; job < 16; ++job) {
    Stream& stream = raw[job % 2]->stream(0);
    stream.Post([&] {
      absl::Status s = RunOnDevices(raw, [&](size_t, const kernels::Exec&) {
        ran.fetch_add(1);
        return absl::OkStatus();
      });
      EXPECT_TRUE(s.ok()) << s;
      absl::MutexLock lock(&mu);
      ++done;
    });
  }
  {
    absl::MutexLock lock(&mu);
    EXPECT_TRUE(mu.AwaitWithTimeout(absl::Condition(
                                        +[](int* n) { return *n == 16; }, &done),
                                    absl::Seconds(60)));
  }
  EXPECT_EQ(ran.load(), 32);

  std::vector<std::unique_ptr<Device>> more;
  std::vector<Device*> two;
  for (int i = 0; i < 2; ++i) {
    more.push_back(std::make_unique<Device>(i, kernels::Backend::kHost, i, size_t{1} << 20, 1));
    two.push_back(more.back().get());
  }
  absl::Status s = RunOnDevices(two, [&](size_t i, const kernels::Exec& exec) -> absl::Status {
    if (i == 1) kernels::Buffer too_big(size_t{8} << 20, exec);  // over the device's limit: throws
    return absl::OkStatus();
  });
  EXPECT_TRUE(absl::IsResourceExhausted(s)) << s;
  EXPECT_TRUE(absl::StartsWith(s.message(), "host:1")) << s;
  s = RunOnDevices(two, [&](size_t i, const kernels::Exec&) {
    return i == 0 ? absl::InvalidArgumentError("expression: bad") : absl::OkStatus();
  });
  EXPECT_EQ(s.message(), "expression: bad");  // not a device's fault: as it was
}

}  // namespace
}  // namespace engine
