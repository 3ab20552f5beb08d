// ForEachShard: one task per part of a table on that part's device, the
// parts' progress added up, a cancel from the job's checkpoint stopping every
// part, and the layouts new tables get.

#include "engine/handlers/shards.h"

#include <gtest/gtest.h>

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "engine/handlers/rows.h"
#include "engine/table/catalog.h"
#include "engine/table/host_column.h"
#include "engine/table/record_codec.h"
#include "tests/common/table_type.h"

namespace engine {
namespace {

class ShardsTest : public ::testing::Test {
 protected:
  ShardsTest() : type_(gpudb_test::MustParse(R"([["id","long"],["k","int","shard_key"]])")) {
    for (int i = 0; i < 3; ++i) {
      devices_.push_back(std::make_unique<Device>(i, kernels::Backend::kHost, i, size_t{64} << 20, 2));
    }
    limits_.chunk_rows = 100;
    limits_.spread_chunk_rows = 10;
  }

  JobContext Context(std::function<absl::Status(int64_t, int64_t)> checkpoint) {
    return JobContext{catalog_, *devices_[0], devices_[0]->stream(0).exec(), limits_, devices_, std::move(checkpoint)};
  }

  std::shared_ptr<Table> Filled(bool replicated, int64_t rows) {
    JobContext ctx = Context([](int64_t, int64_t) { return absl::OkStatus(); });
    std::shared_ptr<Table> t = MakeTable(ctx, "t", type_, replicated);
    std::vector<HostColumn> cols = MakeHostColumns(type_);
    for (int64_t i = 0; i < rows; ++i) {
      cols[0].AppendInt(i);
      cols[1].AppendInt(i % 17);
    }
    std::vector<kernels::Column> up;
    std::vector<kernels::ColumnView> views;
    for (const HostColumn& c : cols) up.push_back(ToDevice(c, ctx.exec));
    for (const kernels::Column& c : up) views.push_back(c.view());
    EXPECT_TRUE(t->Append(views, ctx.exec).ok());
    return t;
  }

  Catalog catalog_;
  std::vector<std::unique_ptr<Device>> devices_;
  EngineLimits limits_;
  TableType type_;
};

TEST_F(ShardsTest, NewTablesTakeKinetica_sLayouts) {
  EXPECT_EQ(ChooseLayout(type_, false, 5).kind, Layout::Kind::kSharded);
  EXPECT_EQ(ChooseLayout(type_, false, 5).shard_key, std::vector<int>{1});
  EXPECT_EQ(ChooseLayout(type_, true, 5).kind, Layout::Kind::kReplicated);
  const TableType keyed = gpudb_test::MustParse(R"([["a","int","primary_key"],["b","string","primary_key"]])");
  EXPECT_EQ(ChooseLayout(keyed, false, 5).shard_key, (std::vector<int>{0, 1}));  // the primary key
  const Layout spread = ChooseLayout(gpudb_test::MustParse(R"([["a","int"]])"), false, 5);
  EXPECT_EQ(spread.kind, Layout::Kind::kSpread);
  EXPECT_EQ(spread.chunk_rows, 5);
  JobContext ctx = Context([](int64_t, int64_t) { return absl::OkStatus(); });
  auto t = MakeTable(ctx, "t", type_, false);
  ASSERT_TRUE(t->distributed());
  EXPECT_EQ(t->device(), devices_[0].get());  // the job's device is home
}

TEST_F(ShardsTest, EveryPartRunsOnItsDeviceAndProgressAddsUp) {
  std::shared_ptr<Table> t = Filled(false, 3000);
  std::mutex mu;
  std::vector<std::pair<int64_t, int64_t>> reports;
  JobContext ctx = Context([&](int64_t done, int64_t total) {
    std::lock_guard<std::mutex> lock(mu);
    reports.emplace_back(done, total);
    return absl::OkStatus();
  });
  ASSERT_EQ(PartCount(*t), 3u);
  std::set<std::string> devices;
  int64_t counted = 0;
  absl::Status s = ForEachShard(ctx, *t, [&](JobContext& part_ctx, const Table& part, size_t) -> absl::Status {
    {
      std::lock_guard<std::mutex> lock(mu);
      devices.insert(part_ctx.device.name());
      EXPECT_EQ(part.device(), &part_ctx.device);
    }
    auto n = CountRows(part_ctx, part, "k < 5", "expression");
    if (!n.ok()) return n.status();
    std::lock_guard<std::mutex> lock(mu);
    counted += *n;
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(devices, (std::set<std::string>{"host:0", "host:1", "host:2"}));
  int64_t want = 0;
  for (int64_t i = 0; i < 3000; ++i) want += i % 17 < 5 ? 1 : 0;
  EXPECT_EQ(counted, want);
  ASSERT_FALSE(reports.empty());
  EXPECT_EQ(reports.back(), std::make_pair(int64_t{3000}, int64_t{3000}));  // every shard's rows, all done
}

TEST_F(ShardsTest, ACancelStopsEveryPart) {
  std::shared_ptr<Table> t = Filled(false, 30000);
  std::mutex mu;
  int checkpoints = 0;
  JobContext ctx = Context([&](int64_t, int64_t) {
    std::lock_guard<std::mutex> lock(mu);
    return ++checkpoints > 3 ? absl::CancelledError("job cancelled") : absl::OkStatus();
  });
  std::vector<int64_t> chunks(PartCount(*t), 0);
  absl::Status s = ForEachShard(ctx, *t, [&](JobContext& part_ctx, const Table& part, size_t i) {
    return ForEachChunk(part_ctx, part.rows(), [&](int64_t, int64_t) { ++chunks[i]; });
  });
  EXPECT_TRUE(absl::IsCancelled(s)) << s;
  EXPECT_EQ(s.message(), "job cancelled");
  // 300 chunks in all; each part stops at its first checkpoint after the third.
  int64_t all = 0;
  for (int64_t c : chunks) all += c;
  EXPECT_LE(all, 3 + static_cast<int64_t>(chunks.size()));
}

TEST_F(ShardsTest, ReplicatedAndSmallTablesRunAsOnePartOnTheJobsDevice) {
  std::shared_ptr<Table> r = Filled(true, 100);
  JobContext ctx = Context([](int64_t, int64_t) { return absl::OkStatus(); });
  EXPECT_EQ(PartCount(*r), 1u);
  const Table* seen = nullptr;
  ASSERT_TRUE(ForEachShard(ctx, *r, [&](JobContext& part_ctx, const Table& part, size_t) {
                seen = &part;
                EXPECT_EQ(&part_ctx, &ctx);  // inline, on the job's own stream
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(seen, r->ShardOn(devices_[0].get()).get());
  EXPECT_EQ(LocalTable(ctx, r).get(), seen);  // no copy
  // A sharded table's rows assembled on the job's device, in the order of insertion.
  std::shared_ptr<Table> t = Filled(false, 500);
  std::shared_ptr<Table> local = LocalTable(ctx, t);
  ASSERT_FALSE(local->distributed());
  const HostColumn ids = ToHost(local->views()[0], false, 0, local->rows(), ctx.exec);
  for (int64_t i = 0; i < 500; ++i) ASSERT_EQ(ids.IntAt(i), i);
}

}  // namespace
}  // namespace engine
