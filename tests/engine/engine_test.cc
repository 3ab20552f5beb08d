// The engine facade: submission checks, placement of tables on devices, and
// jobs on one table seeing each other's effects in submission order.

#include "engine/engine.h"

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <string>

namespace engine {
namespace {

std::unique_ptr<Engine> MakeEngine(const std::string& devices) {
  EngineOptions options;
  options.devices.spec = devices;
  options.devices.streams_per_device = 3;
  options.devices.memory_limit = 64 << 20;
  auto engine = Engine::Create(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return *std::move(engine);
}

// Submits a job and waits for its final record.
JobSnapshot RunJob(Engine& engine, const std::string& endpoint, Json request) {
  JobRequest job;
  job.endpoint = endpoint;
  job.request = std::move(request);
  auto submitted = engine.Submit(std::move(job));
  EXPECT_TRUE(submitted.ok()) << submitted.status();
  std::promise<JobSnapshot> done;
  engine.WhenFinished(submitted->id, [&done](const JobSnapshot& s) { done.set_value(s); });
  return done.get_future().get();
}

TEST(EngineTest, NewTablesSpreadOverDevices) {
  auto engine = MakeEngine("host:3");
  std::set<std::string> used;
  for (int i = 0; i < 6; ++i) {
    const std::string name = "t" + std::to_string(i);
    JobSnapshot s = RunJob(*engine, "/create/table", {{"table_name", name}, {"type_id", R"([["x","int"]])"}});
    ASSERT_EQ(s.state, JobState::kDone) << s.error;
    auto table = engine->catalog().Find(name);
    ASSERT_TRUE(table.ok());
    used.insert((*table)->device()->name());
  }
  EXPECT_EQ(used, (std::set<std::string>{"host:0", "host:1", "host:2"}));
  int per_device[3] = {0, 0, 0};
  for (const auto& t : engine->catalog().List()) ++per_device[t->device()->index()];
  EXPECT_EQ(per_device[0], 2);
  EXPECT_EQ(per_device[1], 2);
  EXPECT_EQ(per_device[2], 2);
}

TEST(EngineTest, ViewLivesOnItsTablesDevice) {
  auto engine = MakeEngine("host:2");
  ASSERT_EQ(RunJob(*engine, "/create/table", {{"table_name", "a"}, {"type_id", R"([["x","int"]])"}}).state,
            JobState::kDone);
  ASSERT_EQ(RunJob(*engine, "/create/table", {{"table_name", "b"}, {"type_id", R"([["x","int"]])"}}).state,
            JobState::kDone);
  ASSERT_EQ(RunJob(*engine, "/insert/records/random", {{"table_name", "b"}, {"count", 1000}}).state,
            JobState::kDone);
  JobSnapshot f = RunJob(*engine, "/filter", {{"table_name", "b"}, {"view_name", "v"}, {"expression", "x > 0"}});
  ASSERT_EQ(f.state, JobState::kDone) << f.error;
  EXPECT_EQ((*engine->catalog().Find("v"))->device(), (*engine->catalog().Find("b"))->device());
}

TEST(EngineTest, SubmissionRefusesUnknownEndpointsAndBadRequests) {
  auto engine = MakeEngine("host:1");
  JobRequest job;
  job.endpoint = "/no/such";
  job.request = Json::object();
  auto s = engine->Submit(job);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "endpoint: '/no/such' is not an endpoint this server runs as a job");

  job.endpoint = "/get/records";
  job.request = Json{{"tabel_name", "x"}};
  s = engine->Submit(job);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "unknown field 'tabel_name'");

  job.request = Json{{"table_name", "bad name!"}};
  s = engine->Submit(job);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("table_name: 'bad name!' has characters"), absl::string_view::npos);
}

TEST(EngineTest, JobsOnATableSeeEarlierWritesInOrder) {
  auto engine = MakeEngine("host:2");
  // Submit everything at once; each insert must be visible to the reads after it.
  std::vector<int64_t> ids;
  auto submit = [&](const std::string& endpoint, Json request) {
    JobRequest job;
    job.endpoint = endpoint;
    job.request = std::move(request);
    auto s = engine->Submit(std::move(job));
    EXPECT_TRUE(s.ok()) << s.status();
    ids.push_back(s->id);
  };
  submit("/create/table", {{"table_name", "t"}, {"type_id", R"([["x","long"]])"}});
  for (int i = 1; i <= 20; ++i) {
    submit("/insert/records", {{"table_name", "t"},
                               {"list_encoding", "json"},
                               {"list_str", Json::array({Json{{"x", i}}.dump()})}});
    submit("/aggregate/statistics", {{"table_name", "t"}, {"column_name", "x"}, {"stats", "count,sum"}});
  }
  for (size_t k = 0; k < ids.size(); ++k) {
    std::promise<JobSnapshot> done;
    engine->WhenFinished(ids[k], [&done](const JobSnapshot& s) { done.set_value(s); });
    JobSnapshot s = done.get_future().get();
    ASSERT_EQ(s.state, JobState::kDone) << s.error;
    if (k > 0 && k % 2 == 0) {  // a statistics job after i inserts
      const int i = static_cast<int>(k / 2);
      EXPECT_EQ((*s.response)["stats"]["count"].get<double>(), i);
      EXPECT_EQ((*s.response)["stats"]["sum"].get<double>(), i * (i + 1) / 2);
    }
  }
}

}  // namespace
}  // namespace engine
