// The engine facade: submission checks, placement of tables on devices, jobs
// on one table seeing each other's effects in submission order, and the job
// lifecycle: cancel (/admin/alter/jobs), /admin/show/jobs, progress,
// deadlines, backpressure, drain and shutdown.
//
// To keep jobs queued, a test parks the only stream of a host device with a
// task that blocks until the test opens a gate; to hold a job while it runs,
// a watcher blocks the stream's worker when it is told of the job's progress.

#include "engine/engine.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/common/job_watch.h"
#include "tests/common/sync.h"

namespace engine {
namespace {

using gpudb_test::Event;
using gpudb_test::kTimeout;
using gpudb_test::NowMs;
using gpudb_test::ProgressPause;
using gpudb_test::WatchLog;

EngineOptions Options(const std::string& devices, int streams = 3) {
  EngineOptions options;
  options.devices.spec = devices;
  options.devices.streams_per_device = streams;
  options.devices.memory_limit = size_t{256} << 20;
  return options;
}

std::unique_ptr<Engine> MakeEngine(const EngineOptions& options) {
  auto engine = Engine::Create(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? *std::move(engine) : nullptr;
}

std::unique_ptr<Engine> MakeEngine(const std::string& devices) { return MakeEngine(Options(devices)); }

// One host device with one stream (so that jobs queue behind each other),
// scans checkpointing every `chunk_rows` rows.
std::unique_ptr<Engine> MakeSerialEngine(int64_t chunk_rows = 1000, int max_queued_jobs = 10000) {
  EngineOptions options = Options("host:1", 1);
  options.limits.chunk_rows = chunk_rows;
  options.max_queued_jobs = max_queued_jobs;
  return MakeEngine(options);
}

// Parks a stream: a task on it blocks until Release() (or destruction).
// Declare it after the engine, so that it is released before the engine
// drains.
class Park {
 public:
  explicit Park(Stream& stream) : entered_(std::make_shared<Event>()), open_(std::make_shared<Event>()) {
    stream.Post([entered = entered_, open = open_] {
      entered->Notify();
      open->Wait();
    });
    EXPECT_TRUE(entered_->Wait());
  }
  Park(const Park&) = delete;
  Park& operator=(const Park&) = delete;
  ~Park() { Release(); }
  void Release() { open_->Notify(); }
  // For callbacks that release it from elsewhere.
  std::shared_ptr<Event> gate() const { return open_; }

 private:
  std::shared_ptr<Event> entered_;
  std::shared_ptr<Event> open_;
};

Park ParkStream(Engine& engine) { return Park(engine.devices()[0]->stream(0)); }

JobRequest Request(const std::string& endpoint, Json request) {
  JobRequest job;
  job.endpoint = FindEndpoint(endpoint);
  EXPECT_NE(job.endpoint, nullptr) << endpoint;
  job.request = std::move(request);
  return job;
}

int64_t MustSubmit(Engine& engine, JobRequest job) {
  auto submitted = engine.Submit(std::move(job));
  EXPECT_TRUE(submitted.ok()) << submitted.status();
  return submitted.ok() ? submitted->id : -1;
}

int64_t MustSubmit(Engine& engine, const std::string& endpoint, Json request) {
  return MustSubmit(engine, Request(endpoint, std::move(request)));
}

// Waits for a job's final record (from Engine::WhenFinished).
JobSnapshot Await(Engine& engine, int64_t id) { return gpudb_test::AwaitFinished(engine, id); }

// Submits a job and waits for its final record.
JobSnapshot RunJob(Engine& engine, JobRequest job) { return Await(engine, MustSubmit(engine, std::move(job))); }
JobSnapshot RunJob(Engine& engine, const std::string& endpoint, Json request) {
  return RunJob(engine, Request(endpoint, std::move(request)));
}

// The response of a job-administration endpoint (they run at submission).
JobSnapshot Admin(Engine& engine, const std::string& endpoint, Json request) {
  const int64_t id = MustSubmit(engine, endpoint, std::move(request));
  absl::StatusOr<JobSnapshot> job = engine.FindJob({id});
  EXPECT_TRUE(job.ok()) << job.status();
  if (!job.ok()) return JobSnapshot();
  EXPECT_TRUE(job->finished()) << endpoint << " did not run at submission";
  return *job;
}

// /admin/alter/jobs cancel: the status of each job.
std::vector<std::string> Cancel(Engine& engine, std::vector<int64_t> ids, const std::string& tag = "") {
  Json request = {{"job_ids", ids}, {"action", "cancel"}, {"options", Json::object()}};
  if (!tag.empty()) request["options"]["job_tag"] = tag;
  JobSnapshot job = Admin(engine, "/admin/alter/jobs", request);
  EXPECT_EQ(job.state, JobState::kDone) << job.error;
  if (job.response == nullptr) return {};
  return (*job.response)["status"].get<std::vector<std::string>>();
}

Json CreateTable(const std::string& name) {
  return Json{{"table_name", name}, {"type_id", R"([["x","long"]])"}};
}

Json InsertJson(const std::string& table, int from, int to) {
  Json list = Json::array();
  for (int i = from; i <= to; ++i) list.push_back(Json{{"x", i}}.dump());
  return Json{{"table_name", table}, {"list_encoding", "json"}, {"list_str", list}};
}

Json Statistics(const std::string& table, Json options = Json::object()) {
  return Json{{"table_name", table}, {"column_name", "x"}, {"stats", "count,sum"}, {"options", options}};
}

Json Filter(const std::string& table, const std::string& view, Json options = Json::object()) {
  return Json{{"table_name", table}, {"view_name", view}, {"expression", "x > 0"}, {"options", options}};
}

// Creates table `name` (one long column x) with `rows` random rows.
void MakeTable(Engine& engine, const std::string& name, int64_t rows) {
  JobSnapshot created = RunJob(engine, "/create/table", CreateTable(name));
  ASSERT_EQ(created.state, JobState::kDone) << created.error;
  if (rows == 0) return;
  JobSnapshot inserted = RunJob(engine, "/insert/records/random", {{"table_name", name}, {"count", rows}});
  ASSERT_EQ(inserted.state, JobState::kDone) << inserted.error;
}

int64_t Rows(Engine& engine, const std::string& table) {
  auto t = engine.catalog().Find(table);
  return t.ok() ? (*t)->rows() : -1;
}

// ---------------------------------------------------------------------------
// Placement, submission, ordering.

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

// A job on a small table does not wait behind the shard tasks of a big
// table on the same device: shard tasks have streams of their own.
TEST(EngineTest, ASmallTablesJobDoesNotWaitBehindABigTablesShards) {
  EngineOptions options = Options("host:2", 2);
  options.limits.spread_chunk_rows = 10;
  auto engine = MakeEngine(options);
  for (const char* t : {"big", "small"}) {
    ASSERT_EQ(RunJob(*engine, "/create/table", {{"table_name", t}, {"type_id", R"([["x","double"]])"}}).state,
              JobState::kDone);
  }
  ASSERT_EQ(RunJob(*engine, "/insert/records/random", {{"table_name", "big"}, {"count", 1000}}).state,
            JobState::kDone);
  ASSERT_EQ(RunJob(*engine, "/insert/records/random", {{"table_name", "small"}, {"count", 5}}).state,
            JobState::kDone);
  auto small = engine->catalog().Find("small");
  ASSERT_TRUE(small.ok());
  ASSERT_FALSE((*small)->distributed() && (*small)->shards()[1]->rows() > 0);  // 5 rows: one device
  Device& there = *(*small)->device();
  // The small table's device is busy with shard work: both its shard streams parked.
  Park park(there.LeastBusyShardStream());
  Park park2(there.LeastBusyShardStream());
  const int64_t big_job =
      MustSubmit(*engine, "/aggregate/statistics", {{"table_name", "big"}, {"column_name", "x"}, {"stats", "sum"}});
  JobSnapshot s = RunJob(*engine, "/aggregate/statistics",
                         {{"table_name", "small"}, {"column_name", "x"}, {"stats", "count"}});
  EXPECT_EQ(s.state, JobState::kDone) << s.error;
  auto big = engine->FindJob({big_job});
  ASSERT_TRUE(big.ok());
  EXPECT_FALSE(big->finished()) << "the big job's shard on " << there.name() << " is parked";
  park.Release();
  park2.Release();
  EXPECT_EQ(Await(*engine, big_job).state, JobState::kDone);
}

// A device that fails (a sticky error, here marked by hand) makes the jobs
// that need it fail with a clear error; the tables elsewhere keep serving and
// new tables leave it out.
TEST(EngineTest, AFailedDeviceMakesItsShardsUnavailableAndTheOthersServe) {
  EngineOptions options = Options("host:3");
  options.limits.spread_chunk_rows = 10;
  auto engine = MakeEngine(options);
  for (const char* t : {"small", "big"}) {
    ASSERT_EQ(RunJob(*engine, "/create/table", {{"table_name", t}, {"type_id", R"([["x","double"]])"}}).state,
              JobState::kDone);
  }
  ASSERT_EQ(RunJob(*engine, "/insert/records/random", {{"table_name", "small"}, {"count", 5}}).state, JobState::kDone);
  ASSERT_EQ(RunJob(*engine, "/insert/records/random", {{"table_name", "big"}, {"count", 300}}).state, JobState::kDone);
  auto small = engine->catalog().Find("small");
  auto big = engine->catalog().Find("big");
  ASSERT_TRUE(small.ok() && big.ok());
  ASSERT_TRUE((*big)->distributed());
  // Fail a device that holds some of big's rows and none of small's.
  Device* failed = nullptr;
  for (const auto& shard : (*big)->shards()) {
    if (shard->rows() > 0 && shard->device() != (*small)->device()) failed = shard->device();
  }
  ASSERT_NE(failed, nullptr);
  failed->MarkFailed("an illegal memory access was encountered");
  const Json stats = {{"column_name", "x"}, {"stats", "count,sum"}};
  Json on_big = stats, on_small = stats;
  on_big["table_name"] = "big";
  on_small["table_name"] = "small";
  JobSnapshot s = RunJob(*engine, "/aggregate/statistics", on_big);
  EXPECT_EQ(s.state, JobState::kError);
  EXPECT_EQ(s.error, absl::StrCat("device ", failed->name(),
                                  " has failed (an illegal memory access was encountered); the tables and shards on "
                                  "it are unavailable until the server restarts"));
  s = RunJob(*engine, "/aggregate/statistics", on_small);
  EXPECT_EQ(s.state, JobState::kDone) << s.error;
  // A new table goes over the devices that still work.
  ASSERT_EQ(RunJob(*engine, "/create/table", {{"table_name", "fresh"}, {"type_id", R"([["x","double"]])"}}).state,
            JobState::kDone);
  auto fresh = engine->catalog().Find("fresh");
  ASSERT_TRUE(fresh.ok());
  ASSERT_EQ((*fresh)->shards().size(), 2u);
  for (const auto& shard : (*fresh)->shards()) EXPECT_NE(shard->device(), failed);
  ASSERT_EQ(RunJob(*engine, "/insert/records/random", {{"table_name", "fresh"}, {"count", 100}}).state,
            JobState::kDone);
  Json on_fresh = stats;
  on_fresh["table_name"] = "fresh";
  s = RunJob(*engine, "/aggregate/statistics", on_fresh);
  EXPECT_EQ(s.state, JobState::kDone) << s.error;
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
  // The API has no /no/such (the transports answer "not a known endpoint");
  // /create/job is in the API, but the job API answers it: no job runs it.
  EXPECT_EQ(FindEndpoint("/no/such"), nullptr);
  JobRequest job;
  job.endpoint = FindEndpoint("/create/job");
  job.request = Json::object();
  auto s = engine->Submit(job);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "endpoint: '/create/job' is not an endpoint this server runs as a job");

  job.endpoint = FindEndpoint("/get/records");
  job.request = Json{{"tabel_name", "x"}};
  s = engine->Submit(job);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "unknown field 'tabel_name'");

  job.request = Json{{"table_name", "bad name!"}};
  s = engine->Submit(job);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("table_name: 'bad name!' has characters"), absl::string_view::npos);

  job = Request("/filter", Filter("t", "", {{"timeout_ms", "soon"}}));
  s = engine->Submit(job);
  ASSERT_EQ(s.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().message(), "options.timeout_ms: expected a positive number of milliseconds, got 'soon'");
  for (const char* bad : {"0", "-5"}) {
    job = Request("/filter", Filter("t", "", {{"timeout_ms", bad}}));
    EXPECT_EQ(engine->Submit(job).status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  // Nothing refused was registered.
  EXPECT_TRUE(engine->tracker().List().empty());
  EXPECT_FALSE(engine->WhenFinished(12345, [](const JobSnapshot&) { ADD_FAILURE(); }));
}

TEST(EngineTest, CreateRefusesZeroMaxQueuedJobs) {
  EngineOptions options = Options("host:1");
  options.max_queued_jobs = 0;
  auto engine = Engine::Create(options);
  ASSERT_FALSE(engine.ok());
  EXPECT_EQ(engine.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(EngineTest, JobsOnATableSeeEarlierWritesInOrder) {
  auto engine = MakeEngine("host:2");
  // Submit everything at once; each insert must be visible to the reads after it.
  std::vector<int64_t> ids;
  auto submit = [&](const std::string& endpoint, Json request) {
    auto s = engine->Submit(Request(endpoint, std::move(request)));
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
    JobSnapshot s = Await(*engine, ids[k]);
    ASSERT_EQ(s.state, JobState::kDone) << s.error;
    if (k > 0 && k % 2 == 0) {  // a statistics job after i inserts
      const int i = static_cast<int>(k / 2);
      EXPECT_EQ((*s.response)["stats"]["count"].get<double>(), i);
      EXPECT_EQ((*s.response)["stats"]["sum"].get<double>(), i * (i + 1) / 2);
    }
  }
}

// A metadata job (Handler::quick) on an idle stream runs at submission, on
// the submitting thread; behind another job on its table it waits its turn
// on the stream's worker, as any job.
TEST(EngineTest, AMetadataJobRunsAtSubmissionWhenItsStreamIsIdle) {
  auto engine = MakeSerialEngine();
  MakeTable(*engine, "t", 10);
  // The insert's job has finished; its worker may still be ending the task.
  Stream& stream = engine->devices()[0]->stream(0);
  ASSERT_TRUE(gpudb_test::PollUntil([&] { return stream.pending() == 0; }));
  const int64_t id = MustSubmit(*engine, "/has/table", {{"table_name", "t"}});
  absl::StatusOr<JobSnapshot> job = engine->FindJob({id}, /*consume=*/false);
  ASSERT_TRUE(job.ok()) << job.status();
  ASSERT_EQ(job->state, JobState::kDone) << job->error;
  EXPECT_EQ(job->worker, "host:0/0");
  EXPECT_EQ((*job->response)["table_exists"], true);

  // A filter (not quick) is never run at submission.
  const int64_t filter = MustSubmit(*engine, "/filter", Filter("t", ""));
  EXPECT_EQ(Await(*engine, filter).state, JobState::kDone);

  Park park = ParkStream(*engine);
  const int64_t behind = MustSubmit(*engine, "/show/table", {{"table_name", "t"}});
  job = engine->FindJob({behind}, /*consume=*/false);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state, JobState::kQueued);
  park.Release();
  JobSnapshot done = Await(*engine, behind);
  ASSERT_EQ(done.state, JobState::kDone) << done.error;
  EXPECT_EQ((*done.response)["table_names"], Json::array({"t"}));
}

TEST(EngineTest, AMetadataJobWaitsBehindAWriterOfItsTable) {
  auto engine = MakeEngine(Options("host:1", 2));
  MakeTable(*engine, "t", 0);
  // The insert is held at its first progress report, in the middle of its
  // run, while it holds the table; then the other stream is let go idle.
  Park park0(engine->devices()[0]->stream(0));
  Park park1(engine->devices()[0]->stream(1));
  const int64_t insert = MustSubmit(*engine, "/insert/records", InsertJson("t", 1, 60000));
  ProgressPause pause(*engine, insert);
  park0.Release();
  ASSERT_TRUE(pause.WaitReached());
  park1.Release();
  const int64_t show = MustSubmit(*engine, "/show/table", {{"table_name", "t"}, {"options", {{"get_sizes", "true"}}}});
  absl::StatusOr<JobSnapshot> job = engine->FindJob({show}, /*consume=*/false);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state, JobState::kQueued);  // a stream is idle, but the table is not
  pause.Release();
  EXPECT_EQ(Await(*engine, insert).state, JobState::kDone);
  JobSnapshot shown = Await(*engine, show);
  ASSERT_EQ(shown.state, JobState::kDone) << shown.error;
  EXPECT_EQ((*shown.response)["sizes"], Json::array({60000}));
}

TEST(EngineTest, RepeatedRequestIdReturnsTheSameJob) {
  auto engine = MakeSerialEngine();
  MakeTable(*engine, "t", 0);
  JobRequest job = Request("/insert/records", InsertJson("t", 1, 3));
  job.request_id = "req-1";
  const int64_t first = MustSubmit(*engine, job);
  ASSERT_EQ(Await(*engine, first).state, JobState::kDone);
  // A retry of the same request: the same job, and the insert is not repeated.
  absl::StatusOr<JobSnapshot> again = engine->Submit(job);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->id, first);
  EXPECT_EQ(Rows(*engine, "t"), 3);
  // Another request under the same id is refused, naming the job.
  JobRequest other = Request("/insert/records", InsertJson("t", 1, 4));
  other.request_id = "req-1";
  absl::StatusOr<JobSnapshot> refused = engine->Submit(other);
  ASSERT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find(absl::StrCat("(job ", first, ")")), absl::string_view::npos)
      << refused.status().message();
  EXPECT_EQ(Rows(*engine, "t"), 3);
}

// ---------------------------------------------------------------------------
// Cancel (/admin/alter/jobs).

TEST(EngineTest, CancelOfAQueuedJobByIdOrTagCancelsItAndItNeverRuns) {
  auto engine = MakeSerialEngine();
  MakeTable(*engine, "t", 1000);
  Park park = ParkStream(*engine);
  const int64_t by_id = MustSubmit(*engine, "/filter", Filter("t", "va"));
  JobRequest tagged = Request("/filter", Filter("t", "vb"));
  tagged.job_tag = "cancel-me";
  const int64_t by_tag = MustSubmit(*engine, tagged);
  const int64_t kept = MustSubmit(*engine, "/filter", Filter("t", "vc"));
  WatchLog seen_id, seen_tag;
  ASSERT_NE(engine->WatchJob(by_id, seen_id.Fn()), 0);
  ASSERT_NE(engine->WatchJob(by_tag, seen_tag.Fn()), 0);

  EXPECT_EQ(Cancel(*engine, {by_id}), std::vector<std::string>{"CANCELLED"});
  JobSnapshot alter = Admin(*engine, "/admin/alter/jobs",
                            {{"job_ids", Json::array()}, {"action", "cancel"}, {"options", {{"job_tag", "cancel-me"}}}});
  ASSERT_EQ(alter.state, JobState::kDone) << alter.error;
  EXPECT_EQ((*alter.response)["job_ids"], Json::array({by_tag}));
  EXPECT_EQ((*alter.response)["action"], "cancel");
  EXPECT_EQ((*alter.response)["status"], Json::array({"CANCELLED"}));
  // Cancelled at once, while the stream is still parked.
  EXPECT_EQ(engine->FindJob({by_id})->state, JobState::kCancelled);
  EXPECT_EQ(engine->FindJob({by_tag})->state, JobState::kCancelled);
  EXPECT_STREQ(JobStatusName(engine->FindJob({by_tag})->state), "CANCELLED");
  EXPECT_FALSE(engine->FindJob({kept})->finished());
  // Cancelling again, or something unknown, says so per job.
  EXPECT_EQ(Cancel(*engine, {by_id, 999999}),
            (std::vector<std::string>{"NOT_CANCELLED: already finished (CANCELLED)",
                                      "NOT_FOUND: job 999999 does not exist"}));

  park.Release();
  EXPECT_EQ(Await(*engine, kept).state, JobState::kDone);
  EXPECT_EQ(Await(*engine, by_id).state, JobState::kCancelled);
  EXPECT_EQ(Await(*engine, by_tag).state, JobState::kCancelled);
  // They never ran: no running state, no worker, no views.
  EXPECT_FALSE(seen_id.ever_ran());
  EXPECT_FALSE(seen_tag.ever_ran());
  EXPECT_TRUE(engine->FindJob({by_id})->worker.empty());
  EXPECT_FALSE(engine->catalog().Has("va"));
  EXPECT_FALSE(engine->catalog().Has("vb"));
  EXPECT_TRUE(engine->catalog().Has("vc"));
}

TEST(EngineTest, AlterJobsRefusesBadRequests) {
  auto engine = MakeSerialEngine();
  JobSnapshot no_jobs = Admin(*engine, "/admin/alter/jobs", {{"action", "cancel"}});
  EXPECT_EQ(no_jobs.state, JobState::kError);
  EXPECT_EQ(no_jobs.error, "job_ids: no job given; give job_ids or options.job_tag");
  JobSnapshot action = Admin(*engine, "/admin/alter/jobs", {{"job_ids", {1}}, {"action", "pause"}});
  EXPECT_EQ(action.state, JobState::kError);
  EXPECT_EQ(action.error, "action: 'pause' is not supported; the action is 'cancel'");
  JobSnapshot tag = Admin(*engine, "/admin/alter/jobs", {{"action", "cancel"}, {"options", {{"job_tag", "nope"}}}});
  EXPECT_EQ(tag.state, JobState::kError);
  EXPECT_EQ(tag.error, "options.job_tag: no job has tag 'nope'");
}

TEST(EngineTest, CancelOfARunningScanStopsItAtTheNextChunk) {
  auto engine = MakeSerialEngine(/*chunk_rows=*/1000);
  MakeTable(*engine, "t", 100000);
  Park park = ParkStream(*engine);
  const int64_t id = MustSubmit(*engine, "/aggregate/statistics", Statistics("t"));
  ProgressPause hold;
  WatchLog seen;
  ASSERT_NE(engine->WatchJob(id, hold.Fn()), 0);
  ASSERT_NE(engine->WatchJob(id, seen.Fn()), 0);
  park.Release();
  ASSERT_TRUE(hold.WaitReached());
  EXPECT_EQ(engine->FindJob({id})->state, JobState::kRunning);

  EXPECT_EQ(Cancel(*engine, {id}), std::vector<std::string>{"CANCEL_REQUESTED"});
  hold.Release();
  JobSnapshot job = Await(*engine, id);
  EXPECT_EQ(job.state, JobState::kCancelled);
  EXPECT_STREQ(JobStatusName(job.state), "CANCELLED");
  EXPECT_EQ(job.error, "cancelled while running");
  EXPECT_EQ(job.response, nullptr);
  // Stopped at the chunk boundary where it was held: partway.
  EXPECT_GT(job.progress, 0);
  EXPECT_LT(job.progress, 100);
  EXPECT_EQ(job.progress, hold.progress());
  EXPECT_TRUE(seen.ever_ran());
  // The stream is free for the next job.
  JobSnapshot next = RunJob(*engine, "/aggregate/statistics", Statistics("t"));
  ASSERT_EQ(next.state, JobState::kDone) << next.error;
  EXPECT_EQ((*next.response)["stats"]["count"].get<double>(), 100000);
}

TEST(EngineTest, CancelOfAnInsertIsRefusedAndItCompletes) {
  auto engine = MakeSerialEngine();
  MakeTable(*engine, "t", 0);
  Park park = ParkStream(*engine);
  const int64_t id = MustSubmit(*engine, "/insert/records", InsertJson("t", 1, 10));
  EXPECT_EQ(Cancel(*engine, {id}), std::vector<std::string>{"NOT_CANCELLABLE: /insert/records changes data"});
  EXPECT_FALSE(engine->FindJob({id})->finished());
  park.Release();
  JobSnapshot job = Await(*engine, id);
  EXPECT_EQ(job.state, JobState::kDone) << job.error;
  EXPECT_EQ(Rows(*engine, "t"), 10);
  EXPECT_EQ(Cancel(*engine, {id}), std::vector<std::string>{"NOT_CANCELLED: already finished (DONE)"});
}

#if GPUDB_SQL
// /execute/sql decides per statement: a SELECT may be cancelled, a DELETE
// may not.
TEST(EngineTest, CancelOfASqlSelectIsTakenAndOfASqlChangeRefused) {
  auto engine = MakeSerialEngine();
  MakeTable(*engine, "t", 1000);
  Park park = ParkStream(*engine);
  const Json select{{"statement", "SELECT count(*) FROM t"}};
  const Json change{{"statement", "DELETE FROM t WHERE 1 = 1"}};
  const int64_t read = MustSubmit(*engine, "/execute/sql", select);
  const int64_t write = MustSubmit(*engine, "/execute/sql", change);
  EXPECT_EQ(Cancel(*engine, {write}), std::vector<std::string>{"NOT_CANCELLABLE: /execute/sql changes data"});
  EXPECT_NE(Cancel(*engine, {read})[0].find("CANCEL"), std::string::npos);
  park.Release();
  EXPECT_EQ(Await(*engine, read).state, JobState::kCancelled);
  EXPECT_EQ(Await(*engine, write).state, JobState::kDone);
  EXPECT_EQ(Rows(*engine, "t"), 0);
}
#endif

// ---------------------------------------------------------------------------
// /admin/show/jobs.

struct ShownJob {
  int64_t id = 0;
  std::string status, endpoint, auth_id, source_ip, user_data, flags, tag;
  int64_t time_received = 0;
  Json worker;  // null unless show_worker_info
};

// /admin/show/jobs as one entry per job, checking that the arrays are
// parallel.
std::vector<ShownJob> ShowJobs(Engine& engine, Json options = Json::object()) {
  JobSnapshot job = Admin(engine, "/admin/show/jobs", {{"options", options}});
  EXPECT_EQ(job.state, JobState::kDone) << job.error;
  if (job.response == nullptr) return {};
  const Json& r = *job.response;
  const size_t n = r["job_id"].size();
  for (const char* field : {"status", "endpoint_name", "time_received", "auth_id", "source_ip", "query_text",
                            "user_data", "flags"}) {
    EXPECT_EQ(r[field].size(), n) << field;
  }
  const Json tags = Json::parse(r["info"]["job_tag"].get<std::string>());
  EXPECT_EQ(tags.size(), n);
  Json workers;
  if (r["info"].contains("worker_info")) {
    workers = Json::parse(r["info"]["worker_info"].get<std::string>());
    EXPECT_EQ(workers.size(), n);
  }
  std::vector<ShownJob> out;
  for (size_t i = 0; i < n && i < tags.size(); ++i) {
    ShownJob s;
    s.id = r["job_id"][i].get<int64_t>();
    s.status = r["status"][i].get<std::string>();
    s.endpoint = r["endpoint_name"][i].get<std::string>();
    s.time_received = r["time_received"][i].get<int64_t>();
    s.auth_id = r["auth_id"][i].get<std::string>();
    s.source_ip = r["source_ip"][i].get<std::string>();
    s.user_data = r["user_data"][i].get<std::string>();
    s.flags = r["flags"][i].get<std::string>();
    s.tag = tags[i].get<std::string>();
    if (!workers.is_null() && i < workers.size()) s.worker = workers[i];
    out.push_back(s);
  }
  return out;
}

const ShownJob* FindShown(const std::vector<ShownJob>& jobs, int64_t id) {
  for (const ShownJob& j : jobs) {
    if (j.id == id) return &j;
  }
  return nullptr;
}

TEST(EngineTest, ShowJobsListsUnfinishedJobsWithTheirFields) {
  auto engine = MakeSerialEngine();
  MakeTable(*engine, "t", 100);
  const int64_t finished = MustSubmit(*engine, "/aggregate/statistics", Statistics("t"));
  ASSERT_EQ(Await(*engine, finished).state, JobState::kDone);

  Park park = ParkStream(*engine);
  const int64_t t0 = NowMs();
  JobRequest async_job = Request("/filter", Filter("t", "", {{"job_user_data", "report 7"}}));
  async_job.job_tag = "show-a";
  async_job.source_ip = "192.0.2.1";
  async_job.auth_id = "ann";
  const int64_t a = MustSubmit(*engine, async_job);
  JobRequest sync_job = Request("/aggregate/statistics", Statistics("t"));
  sync_job.async = false;
  absl::StatusOr<JobSnapshot> b = engine->Submit(sync_job);
  ASSERT_TRUE(b.ok()) << b.status();
  const int64_t t1 = NowMs();

  // By default: the unfinished jobs, not the finished async one.
  std::vector<ShownJob> shown = ShowJobs(*engine);
  EXPECT_EQ(FindShown(shown, finished), nullptr);
  const ShownJob* sa = FindShown(shown, a);
  const ShownJob* sb = FindShown(shown, b->id);
  ASSERT_NE(sa, nullptr);
  ASSERT_NE(sb, nullptr);
  EXPECT_EQ(sa->status, "RUNNING");  // queued reports RUNNING
  EXPECT_EQ(sa->endpoint, "/filter");
  EXPECT_GE(sa->time_received, t0);
  EXPECT_LE(sa->time_received, t1);
  EXPECT_EQ(sa->user_data, "report 7");
  EXPECT_EQ(sa->source_ip, "192.0.2.1");
  EXPECT_EQ(sa->auth_id, "ann");
  EXPECT_EQ(sa->flags, "async");
  EXPECT_EQ(sa->tag, "show-a");
  EXPECT_TRUE(sa->worker.is_null());  // not asked for
  EXPECT_EQ(sb->status, "RUNNING");
  EXPECT_EQ(sb->endpoint, "/aggregate/statistics");
  EXPECT_GE(sb->time_received, t0);
  EXPECT_LE(sb->time_received, t1);
  EXPECT_EQ(sb->user_data, "");
  EXPECT_EQ(sb->auth_id, "");  // submitted without one
  EXPECT_EQ(sb->flags, "sync");
  EXPECT_EQ(sb->tag, b->tag);
  for (const ShownJob& s : shown) EXPECT_NE(s.status, "DONE") << s.id;

  // With show_async_jobs the finished one is there too; worker_info when asked.
  shown = ShowJobs(*engine, {{"show_async_jobs", "true"}, {"show_worker_info", "true"}});
  const ShownJob* sf = FindShown(shown, finished);
  ASSERT_NE(sf, nullptr);
  EXPECT_EQ(sf->status, "DONE");
  EXPECT_EQ(sf->flags, "async");
  ASSERT_TRUE(sf->worker.is_object());
  EXPECT_EQ(sf->worker["job_id"], finished);
  EXPECT_EQ(sf->worker["worker"], "host:0/0");
  EXPECT_EQ(sf->worker["progress"], 100);
  sa = FindShown(shown, a);
  ASSERT_NE(sa, nullptr);
  ASSERT_TRUE(sa->worker.is_object());
  EXPECT_EQ(sa->worker["job_id"], a);
  EXPECT_EQ(sa->worker["worker"], "");  // still waiting
  EXPECT_EQ(sa->worker["progress"], 0);

  park.Release();
  EXPECT_EQ(Await(*engine, a).state, JobState::kDone);
  EXPECT_EQ(Await(*engine, b->id).state, JobState::kDone);
  engine->ForgetJob(b->id);
  shown = ShowJobs(*engine);
  EXPECT_EQ(FindShown(shown, a), nullptr);
  EXPECT_EQ(FindShown(shown, b->id), nullptr);
  shown = ShowJobs(*engine, {{"show_async_jobs", "true"}});
  ASSERT_NE(FindShown(shown, a), nullptr);
  EXPECT_EQ(FindShown(shown, a)->status, "DONE");
  EXPECT_EQ(FindShown(shown, b->id), nullptr);  // a synchronous call is forgotten once answered
}

TEST(EngineTest, ShowJobsRefusesABadOption) {
  auto engine = MakeSerialEngine();
  JobSnapshot job = Admin(*engine, "/admin/show/jobs", {{"options", {{"show_async_jobs", "maybe"}}}});
  EXPECT_EQ(job.state, JobState::kError);
  EXPECT_EQ(job.error, "options.show_async_jobs: expected 'true' or 'false', got 'maybe'");
}

// ---------------------------------------------------------------------------
// Progress.

TEST(EngineTest, ProgressOfAScanAdvancesByChunks) {
  auto engine = MakeSerialEngine(/*chunk_rows=*/1000);
  MakeTable(*engine, "t", 50000);
  Park park = ParkStream(*engine);
  const int64_t id = MustSubmit(*engine, "/aggregate/statistics", Statistics("t"));
  WatchLog seen;
  ASSERT_NE(engine->WatchJob(id, seen.Fn()), 0);
  park.Release();
  JobSnapshot job = Await(*engine, id);
  ASSERT_EQ(job.state, JobState::kDone) << job.error;
  EXPECT_EQ(job.progress, 100);
  std::vector<int> progress = seen.intermediate();
  EXPECT_GE(progress.size(), 40u);  // 50 chunks
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_EQ(seen.in_version_order().back().progress, 100);
}

TEST(EngineTest, ProgressOfARandomInsert) {
  auto engine = MakeSerialEngine();
  MakeTable(*engine, "t", 0);
  Park park = ParkStream(*engine);
  // More rows than one draw (2^22 rows): progress after each.
  const int64_t rows = (int64_t{1} << 22) + 100000;
  const int64_t id = MustSubmit(*engine, "/insert/records/random", {{"table_name", "t"}, {"count", rows}});
  WatchLog seen;
  ASSERT_NE(engine->WatchJob(id, seen.Fn()), 0);
  park.Release();
  JobSnapshot job = Await(*engine, id);
  ASSERT_EQ(job.state, JobState::kDone) << job.error;
  std::vector<int> progress = seen.intermediate();
  EXPECT_GE(progress.size(), 2u);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_EQ(Rows(*engine, "t"), rows);
}

TEST(EngineTest, ProgressOfAnInsertOfManyRecords) {
  auto engine = MakeSerialEngine();
  MakeTable(*engine, "t", 0);
  Park park = ParkStream(*engine);
  const int64_t id = MustSubmit(*engine, "/insert/records", InsertJson("t", 1, 60000));
  WatchLog seen;
  ASSERT_NE(engine->WatchJob(id, seen.Fn()), 0);
  park.Release();
  JobSnapshot job = Await(*engine, id);
  ASSERT_EQ(job.state, JobState::kDone) << job.error;
  std::vector<int> progress = seen.intermediate();
  EXPECT_GE(progress.size(), 3u);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_EQ(Rows(*engine, "t"), 60000);
}

// ---------------------------------------------------------------------------
// Deadlines.

TEST(EngineTest, QueuedJobPastItsTimeoutFailsAndNeverRuns) {
  auto engine = MakeSerialEngine();
  MakeTable(*engine, "t", 100);
  Park park = ParkStream(*engine);
  const int64_t by_option = MustSubmit(*engine, "/filter", Filter("t", "late1", {{"timeout_ms", "30"}}));
  JobRequest by_field = Request("/filter", Filter("t", "late2"));
  by_field.timeout = absl::Milliseconds(30);
  const int64_t by_field_id = MustSubmit(*engine, by_field);
  WatchLog seen;
  ASSERT_NE(engine->WatchJob(by_option, seen.Fn()), 0);
  // Failed while the stream is still parked.
  for (int64_t id : {by_option, by_field_id}) {
    JobSnapshot job = Await(*engine, id);
    EXPECT_EQ(job.state, JobState::kError);
    EXPECT_EQ(job.error.rfind("deadline exceeded", 0), 0u) << job.error;
    EXPECT_NE(job.error.find("never started"), std::string::npos) << job.error;
  }
  park.Release();
  ASSERT_EQ(RunJob(*engine, "/filter", Filter("t", "after")).state, JobState::kDone);
  EXPECT_FALSE(seen.ever_ran());
  EXPECT_FALSE(engine->catalog().Has("late1"));
  EXPECT_FALSE(engine->catalog().Has("late2"));
  EXPECT_TRUE(engine->catalog().Has("after"));
}

TEST(EngineTest, RunningScanPastItsTimeoutStops) {
  auto engine = MakeSerialEngine(/*chunk_rows=*/1000);
  MakeTable(*engine, "t", 100000);
  Park park = ParkStream(*engine);
  const absl::Time submitted = absl::Now();
  // A second to start in: time enough on a loaded machine or under a
  // sanitizer (250 ms was not, under ThreadSanitizer beside other tests).
  const int64_t id = MustSubmit(*engine, "/aggregate/statistics", Statistics("t", {{"timeout_ms", "1000"}}));
  // Its deadline is at most this.
  const absl::Time deadline = absl::Now() + absl::Milliseconds(1000);
  // Hold the scan between two chunks until its deadline has passed (time
  // passing is the condition here).
  ProgressPause hold;
  ASSERT_NE(engine->WatchJob(id, hold.Fn()), 0);
  park.Release();
  const bool held = hold.WaitReached();
  gpudb_test::WaitUntilPast(deadline + absl::Milliseconds(5));
  hold.Release();
  JobSnapshot job = Await(*engine, id);
  EXPECT_TRUE(held);
  EXPECT_GE(absl::Now() - submitted, absl::Milliseconds(1000));
  EXPECT_EQ(job.state, JobState::kError);
  EXPECT_EQ(job.error, "deadline exceeded: the job ran past its timeout_ms and was stopped");
  EXPECT_GT(job.progress, 0);
  EXPECT_LT(job.progress, 100);
  EXPECT_EQ(job.response, nullptr);
}

// ---------------------------------------------------------------------------
// Backpressure.

TEST(EngineTest, TooManyQueuedJobsAreRefusedUntilTheQueueDrains) {
  auto engine = MakeSerialEngine(1000, /*max_queued_jobs=*/3);
  MakeTable(*engine, "t", 0);
  std::vector<int64_t> ids;
  {
    Park park = ParkStream(*engine);
    for (int i = 1; i <= 3; ++i) ids.push_back(MustSubmit(*engine, "/insert/records", InsertJson("t", i, i)));
    absl::StatusOr<JobSnapshot> refused = engine->Submit(Request("/insert/records", InsertJson("t", 4, 4)));
    ASSERT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
    EXPECT_NE(refused.status().message().find("retry later"), absl::string_view::npos) << refused.status().message();
    EXPECT_NE(refused.status().message().find("--max-queued-jobs"), absl::string_view::npos);
    EXPECT_EQ(engine->Submit(Request("/aggregate/statistics", Statistics("t"))).status().code(),
              absl::StatusCode::kResourceExhausted);
    // Job administration is not queued, so it still works.
    std::vector<ShownJob> shown = ShowJobs(*engine);
    for (int64_t id : ids) EXPECT_NE(FindShown(shown, id), nullptr) << id;
  }
  for (int64_t id : ids) EXPECT_EQ(Await(*engine, id).state, JobState::kDone);
  // The refused job left no trace; the accepted ones all ran.
  JobSnapshot stats = RunJob(*engine, "/aggregate/statistics", Statistics("t"));
  ASSERT_EQ(stats.state, JobState::kDone) << stats.error;
  EXPECT_EQ((*stats.response)["stats"]["count"].get<double>(), 3);
  EXPECT_EQ((*stats.response)["stats"]["sum"].get<double>(), 6);
  // Room again: three more are accepted.
  {
    Park park = ParkStream(*engine);
    for (int i = 0; i < 3; ++i) ids.push_back(MustSubmit(*engine, "/aggregate/statistics", Statistics("t")));
  }
  for (int64_t id : ids) EXPECT_EQ(Await(*engine, id).state, JobState::kDone);
}

// ---------------------------------------------------------------------------
// Drain and shutdown.

TEST(EngineTest, DrainLetsJobsFinishWithinTheGrace) {
  auto engine = MakeSerialEngine(/*chunk_rows=*/1000);
  MakeTable(*engine, "t", 50000);
  Park park = ParkStream(*engine);
  const int64_t scan = MustSubmit(*engine, "/aggregate/statistics", Statistics("t"));
  const int64_t insert = MustSubmit(*engine, "/insert/records", InsertJson("t", 1, 5));
  const int64_t filter = MustSubmit(*engine, "/filter", Filter("t", "v"));
  ProgressPause hold;
  ASSERT_NE(engine->WatchJob(scan, hold.Fn()), 0);
  park.Release();
  ASSERT_TRUE(hold.WaitReached());  // the scan runs; the others wait behind it

  const absl::Time start = absl::Now();
  std::thread drainer([&] { engine->Drain(absl::Seconds(20)); });
  while (!engine->draining() && absl::Now() - start < absl::Seconds(20)) std::this_thread::yield();
  ASSERT_TRUE(engine->draining());
  absl::StatusOr<JobSnapshot> refused = engine->Submit(Request("/aggregate/statistics", Statistics("t")));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refused.status().message(), "the server is shutting down and accepts no new jobs");
  EXPECT_EQ(engine->Submit(Request("/admin/show/jobs", Json::object())).status().code(),
            absl::StatusCode::kUnavailable);
  hold.Release();
  drainer.join();
  // Drain returned once all had finished, well before its grace.
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  for (int64_t id : {scan, insert, filter}) {
    absl::StatusOr<JobSnapshot> job = engine->FindJob({id});
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(job->state, JobState::kDone) << id << ": " << job->error;
  }
  EXPECT_EQ(Rows(*engine, "t"), 50005);
  EXPECT_TRUE(engine->catalog().Has("v"));
}

TEST(EngineTest, DrainCancelsWhatItCanAfterTheGrace) {
  auto engine = MakeSerialEngine();
  MakeTable(*engine, "t", 100);
  Park park = ParkStream(*engine);
  const int64_t f1 = MustSubmit(*engine, "/filter", Filter("t", "d1"));
  const int64_t insert = MustSubmit(*engine, "/insert/records", InsertJson("t", 1, 5));
  const int64_t f2 = MustSubmit(*engine, "/filter", Filter("t", "d2"));
  // When the last cancellable job is cancelled, let the stream go.
  std::shared_ptr<Event> gate = park.gate();
  ASSERT_TRUE(engine->WhenFinished(f2, [gate](const JobSnapshot&) { gate->Notify(); }));

  const absl::Time start = absl::Now();
  engine->Drain(absl::Milliseconds(50));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(40));  // it gave them the grace
  EXPECT_TRUE(engine->draining());
  EXPECT_EQ(engine->FindJob({f1})->state, JobState::kCancelled);
  EXPECT_EQ(engine->FindJob({f2})->state, JobState::kCancelled);
  absl::StatusOr<JobSnapshot> inserted = engine->FindJob({insert});
  ASSERT_TRUE(inserted.ok());
  EXPECT_EQ(inserted->state, JobState::kDone) << inserted->error;
  EXPECT_EQ(Rows(*engine, "t"), 105);
  EXPECT_FALSE(engine->catalog().Has("d1"));
  EXPECT_FALSE(engine->catalog().Has("d2"));
  EXPECT_EQ(engine->Submit(Request("/filter", Filter("t", "d3"))).status().code(),
            absl::StatusCode::kUnavailable);
  // Again: nothing left to wait for.
  engine->Drain(absl::Seconds(20));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
}

TEST(EngineTest, DestructorWithJobsQueuedFinishesEveryJob) {
  struct Outcomes {
    std::mutex mu;
    std::vector<std::pair<int64_t, JobState>> finals;
  };
  auto outcomes = std::make_shared<Outcomes>();
  std::unique_ptr<Engine> engine = MakeSerialEngine();
  MakeTable(*engine, "t", 100);
  auto park = std::make_unique<Park>(engine->devices()[0]->stream(0));
  std::vector<int64_t> ids = {
      MustSubmit(*engine, "/filter", Filter("t", "x1")),
      MustSubmit(*engine, "/insert/records", InsertJson("t", 1, 5)),
      MustSubmit(*engine, "/aggregate/statistics", Statistics("t")),
  };
  for (int64_t id : ids) {
    ASSERT_TRUE(engine->WhenFinished(id, [outcomes](const JobSnapshot& s) {
      std::lock_guard<std::mutex> lock(outcomes->mu);
      outcomes->finals.emplace_back(s.id, s.state);
    }));
  }
  // The last cancellable job's end lets the stream go.
  std::shared_ptr<Event> gate = park->gate();
  ASSERT_TRUE(engine->WhenFinished(ids.back(), [gate](const JobSnapshot&) { gate->Notify(); }));

  std::promise<void> destroyed;
  std::future<void> done = destroyed.get_future();
  std::thread destroyer([&] {
    engine.reset();
    destroyed.set_value();
  });
  const bool finished = done.wait_for(kTimeout) == std::future_status::ready;
  EXPECT_TRUE(finished) << "the destructor hangs";
  park.reset();  // let it go in any case
  destroyer.join();

  std::lock_guard<std::mutex> lock(outcomes->mu);
  ASSERT_EQ(outcomes->finals.size(), 3u);
  std::map<int64_t, JobState> state(outcomes->finals.begin(), outcomes->finals.end());
  EXPECT_EQ(state[ids[0]], JobState::kCancelled);
  EXPECT_EQ(state[ids[1]], JobState::kDone);  // an insert is not cancelled
  EXPECT_EQ(state[ids[2]], JobState::kCancelled);
}

}  // namespace
}  // namespace engine

namespace engine {
namespace {

TEST(EngineTest, SystemStatusReportsDevicesMemoryAndJobs) {
  auto engine = MakeEngine("host:2");
  ASSERT_EQ(RunJob(*engine, "/create/table", {{"table_name", "t"}, {"type_id", R"([["x","long"]])"}}).state,
            JobState::kDone);
  ASSERT_EQ(RunJob(*engine, "/insert/records/random", {{"table_name", "t"}, {"count", 100000}}).state,
            JobState::kDone);
  JobSnapshot s = Admin(*engine, "/show/system/status", Json::object());
  ASSERT_EQ(s.state, JobState::kDone) << s.error;
  const Json system = Json::parse((*s.response)["status_map"]["system"].get<std::string>());
  EXPECT_EQ(system["status"], "running");
  ASSERT_EQ(system["devices"].size(), 2u);
  size_t in_use = 0, peak = 0;
  for (const Json& d : system["devices"]) {
    EXPECT_TRUE(d["name"] == "host:0" || d["name"] == "host:1") << d.dump();
    EXPECT_EQ(d["memory_limit"].get<size_t>(), size_t{256} << 20);
    EXPECT_EQ(d["streams"].get<int>(), 3);
    in_use += d["memory_in_use"].get<size_t>();
    peak += d["memory_peak"].get<size_t>();
  }
  // 100,000 longs live on one device; the insert staged them once more.
  EXPECT_GE(in_use, size_t{800000});
  EXPECT_GE(peak, in_use);
  EXPECT_EQ(system["tables"].get<int>(), 1);
  EXPECT_GT(system["host_peak_resident_bytes"].get<int64_t>(), 0);
}

// Host devices' cached blocks are host memory: once a burst of jobs has
// expired, the reaper gives them back (and the allocator's free pages), so a
// server's memory returns to its baseline (the soak's finding: 228 MiB kept).
TEST(EngineTest, OnceABurstOfJobsExpiresIdleDevicesGiveTheirCachedMemoryBack) {
  // A table and a burst of 1,500 filters (fewer than the 10,000 records
  // that once had to go first); returns how long the burst took.
  auto burst = [](Engine& engine) {
    EXPECT_EQ(RunJob(engine, "/create/table", {{"table_name", "t"}, {"type_id", R"([["x","long"]])"}}).state,
              JobState::kDone);
    EXPECT_EQ(RunJob(engine, "/insert/records/random", {{"table_name", "t"}, {"count", 100000}}).state,
              JobState::kDone);
    const absl::Time start = absl::Now();
    for (int i = 0; i < 1500; ++i) {
      JobSnapshot job = RunJob(engine, "/filter", {{"table_name", "t"}, {"view_name", ""}, {"expression", "x > 0"}});
      EXPECT_EQ(job.state, JobState::kDone) << job.error;
    }
    return absl::Now() - start;
  };
  // The reaper gives memory back once 1,000 records have gone together, so
  // the burst's records must all be held at once: the TTL is twice as long
  // as a first burst took on this machine (sanitizers run it ten times
  // slower), at least 2 s.
  const absl::Duration took = burst(*MakeEngine("host:1"));
  EngineOptions options = Options("host:1");
  options.jobs.ttl = std::max(absl::Seconds(2), 2 * took);
  auto engine = MakeEngine(options);
  burst(*engine);
  ASSERT_FALSE(::testing::Test::HasFailure());
  const kernels::MemoryResource& memory = engine->devices()[0]->memory();
  ASSERT_GT(memory.cached(), 0u);  // the filters' selections, freed and kept for reuse
  const absl::Time deadline = absl::Now() + options.jobs.ttl + absl::Seconds(30);
  while (memory.cached() > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(memory.cached(), 0u);
}

TEST(EngineTest, SystemPropertiesGiveTheVersionClientsCheck) {
  auto engine = MakeEngine("host:1");
  JobSnapshot s = Admin(*engine, "/show/system/properties", Json::object());
  ASSERT_EQ(s.state, JobState::kDone) << s.error;
  const Json& map = (*s.response)["property_map"];
  const std::string version = map["version.gpudb_core_version"].get<std::string>();
  EXPECT_EQ(std::count(version.begin(), version.end(), '.'), 3) << version;
  EXPECT_EQ(map["conf.devices"], "host:0");
  // One rank: Kinetica's clients send multi-head I/O to the head node.
  EXPECT_EQ(map["conf.enable_worker_http_servers"], "FALSE");
}

TEST(EngineTest, FinishedJobRecordsWhenItStartedAndEnded) {
  auto engine = MakeEngine("host:1");
  JobSnapshot s = RunJob(*engine, "/create/table", {{"table_name", "t"}, {"type_id", R"([["x","long"]])"}});
  ASSERT_EQ(s.state, JobState::kDone);
  EXPECT_GT(s.received_us, 0);
  EXPECT_GE(s.started_us, s.received_us);
  EXPECT_GE(s.finished_us, s.started_us);
  EXPECT_EQ(s.time_received_ms, s.received_us / 1000);
}

}  // namespace
}  // namespace engine
