// End-to-end tests of the job lifecycle through a real server::Server on an
// ephemeral port of 127.0.0.1, over a real gRPC channel: cancel
// (/admin/alter/jobs), /admin/show/jobs, GetJob waits, WatchJob, progress,
// retention (TTL, result memory), idempotent request ids, deadlines,
// backpressure and the message size limit.
//
// Jobs are held at known points with events, not sleeps: a StreamGate parks
// the one stream of a host:1, 1-stream server so that jobs stay queued; a
// ProgressPause (an engine watcher, tests/common/job_watch.h) holds a
// running job's worker at its first progress report; clients wait with
// GetJob's wait_timeout_ms and WatchJob, and a call is known to wait in the
// server once the engine counts it among the job's watchers. Scans run in
// chunks of 2000 rows, so that cancels and deadlines land between chunks.

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/engine.h"
#include "proto/gpudb.grpc.pb.h"
#include "server/server.h"
#include "tests/common/job_watch.h"
#include "tests/common/sync.h"
#include "tests/server/test_client.h"

namespace {

namespace pb = gpudb::v1;
using nlohmann::json;
using gpudb_test::At;
using gpudb_test::Client;
using gpudb_test::Contains;
using gpudb_test::CountAbove;
using gpudb_test::ExpectConsistentJob;
using gpudb_test::ExpectError;
using gpudb_test::NowMs;
using gpudb_test::PollUntil;
using gpudb_test::ProgressPause;
using gpudb_test::StreamGate;
using gpudb_test::WatchLog;
using Clock = std::chrono::steady_clock;

constexpr int64_t kChunkRows = 2000;
// Rows of the big table whose scans are cancelled while running: 1500
// chunks; a ProgressPause holds the scan at 1%.
constexpr int64_t kBigRows = 3000000;

double MsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// A filter request that counts `expression` (or makes `view`).
json Filter(const std::string& table, const std::string& expression, const std::string& view = "") {
  return {{"table_name", table}, {"view_name", view}, {"expression", expression}};
}

bool Intermediate(int progress) { return progress > 0 && progress < 100; }

class LifecycleTest : public gpudb_test::ServerTest {
 protected:
  // One host device with one stream; scans in chunks of kChunkRows.
  static server::ServerOptions Options() {
    server::ServerOptions options = gpudb_test::TestServerOptions("host:1");
    options.engine.devices.streams_per_device = 1;
    options.engine.limits.chunk_rows = kChunkRows;
    return options;
  }
  void Start(const server::ServerOptions& options = Options()) { StartServer(options); }

  engine::Engine& engine() { return server_->engine(); }

  // Every value of int column `column` of `table`, in row order.
  std::vector<int64_t> ReadInts(const std::string& table, const std::string& column) {
    std::vector<int64_t> values;
    for (int64_t offset = 0;; offset += 20000) {
      const json page = client_->Json(
          "/get/records", {{"table_name", table}, {"offset", offset}, {"limit", 20000}, {"encoding", "json"}},
          "get_records_response");
      for (const auto& text : page.value("records_json", json::array())) {
        values.push_back(json::parse(text.get<std::string>())[column].get<int64_t>());
      }
      if (!page.value("has_more_records", false)) break;
    }
    return values;
  }

  int64_t TableSize(const std::string& table) {
    const json shown = client_->Json("/show/table", {{"table_name", table}}, "show_table_response");
    return shown.value("sizes", json::array({-1}))[0].get<int64_t>();
  }

  // /admin/alter/jobs cancel of `ids` (and the job tagged `tag`), through
  // Execute or as a job (CreateJob, then GetJob). Returns the response record.
  json Cancel(Client& c, const std::vector<int64_t>& ids, const std::string& tag, bool as_job) {
    json request = {{"job_ids", ids}, {"action", "cancel"}, {"options", json::object()}};
    if (!tag.empty()) request["options"]["job_tag"] = tag;
    json r;
    if (as_job) {
      const auto [id, job_tag] = c.SubmitJson("/admin/alter/jobs", request);
      r = FinishedJson(c, id);
    } else {
      r = c.Json("/admin/alter/jobs", request, "admin_alter_jobs_response");
    }
    EXPECT_EQ(r.value("action", ""), "cancel");
    EXPECT_EQ(r.value("status", json::array()).size(), r.value("job_ids", json::array()).size()) << r;
    return r;
  }

  // Waits (GetJob wait_timeout_ms) for a job that must succeed with a json
  // response; returns the response.
  json FinishedJson(Client& c, int64_t id, const std::string& tag = "") {
    const pb::GetJobResponse job = c.WaitFinished(id, tag);
    EXPECT_EQ(job.job_status(), "DONE") << At(job.status_map(), "error_message") << At(job.info(), "cancel_reason");
    EXPECT_EQ(job.response_encoding(), "json");
    json parsed = json::parse(job.job_response_str(), nullptr, false);
    EXPECT_FALSE(parsed.is_discarded()) << job.job_response_str();
    return parsed.is_discarded() ? json::object() : parsed;
  }

  // The record GetJob gives now (no wait).
  pb::GetJobResponse Now(int64_t id, const std::string& tag = "") {
    pb::GetJobResponse job;
    const pb::GpudbResponse r = client_->Poll(id, tag, &job);
    EXPECT_EQ(r.status(), "OK") << r.message();
    return job;
  }

  json ShowJobs(const json& options) {
    return client_->Json("/admin/show/jobs", {{"options", options}}, "admin_show_jobs_response");
  }

  // The id of a RUNNING job of `endpoint` with `flags` ("sync" for Execute
  // calls), found by polling /admin/show/jobs (bounded).
  int64_t AwaitListedJob(const std::string& endpoint, const std::string& flags) {
    int64_t id = 0;
    const bool listed = PollUntil([&] {
      const json shown = ShowJobs(json::object());
      for (size_t i = 0; i < shown.value("job_id", json::array()).size(); ++i) {
        if (shown["endpoint_name"][i] == endpoint && shown["flags"][i] == flags &&
            shown["status"][i] == "RUNNING") {
          id = shown["job_id"][i].get<int64_t>();
          return true;
        }
      }
      return false;
    });
    if (!listed) ADD_FAILURE() << "no running " << flags << " job of " << endpoint << " was listed";
    return id;
  }

  // Waits until `callers` calls wait on job `id` in the server (GetJob
  // waits, WatchJob streams, Execute): the calls are then in flight.
  bool AwaitWaiting(int64_t id, size_t callers) {
    return PollUntil([&] { return engine().tracker().watchers(id) >= callers; });
  }

  // A statistics request over every row of a big table.
  static json Stats(const std::string& table, const std::map<std::string, std::string>& options = {}) {
    return {{"table_name", table}, {"column_name", "k"}, {"stats", "count,sum"}, {"options", options}};
  }
};

// ---------------------------------------------------------------------------
// 1. Cancel.

// A synchronous call whose caller has gone (past its deadline, cancelled)
// cancels its job.
TEST_F(LifecycleTest, AnExecuteWhoseCallerHasGoneCancelsItsJob) {
  // Ten abandoned heavy calls kept running and made others wait 27 s.
  Start();
  Client& c = *client_;
  MakeRandomTable("t", R"([["k","int"]])", 1000, 1);
  ASSERT_FALSE(HasFailure());
  StreamGate gate(engine());
  pb::ExecuteRequest request;
  request.set_endpoint("/filter");
  request.set_request_encoding("json");
  request.set_data_str(Filter("t", "k > 0").dump());
  pb::GpudbResponse response;
  // Past its deadline (the job waits behind the parked stream) ...
  EXPECT_EQ(c.TryExecute(request, &response, /*timeout_s=*/1).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  // ... the job is cancelled (and, being synchronous, forgotten), while the
  // stream is still parked.
  EXPECT_TRUE(PollUntil([&] { return engine().tracker().size() == 0; })) << engine().tracker().size();
  // A client that cancels its call: the same.
  grpc::ClientContext context;
  std::thread call([&] {
    pb::GpudbResponse r;
    EXPECT_EQ(c.stub().Execute(&context, request, &r).error_code(), grpc::StatusCode::CANCELLED);
  });
  ASSERT_TRUE(PollUntil([&] { return engine().tracker().size() == 1; }));
  context.TryCancel();
  call.join();
  EXPECT_TRUE(PollUntil([&] { return engine().tracker().size() == 0; })) << engine().tracker().size();
  gate.Open();
  ExpectServing();
}

// Queued jobs (the stream is parked) are cancelled at once and never run:
// through Execute and as a job, by job_ids and by options.job_tag.
TEST_F(LifecycleTest, CancelQueuedJobs) {
  Start();
  Client& c = *client_;
  MakeRandomTable("t", R"([["k","int"]])", 1000, 1);
  ASSERT_FALSE(HasFailure());

  StreamGate gate(engine());
  // Each job would make a view if it ran.
  const auto [a, tag_a] = c.SubmitJson("/filter", Filter("t", "k > 0", "va"));
  const auto [b, tag_b] = c.SubmitJson("/filter", Filter("t", "k > 0", "vb"), {{"job_tag", "cancel-b"}});
  const auto [d, tag_d] = c.SubmitJson("/filter", Filter("t", "k > 0", "vd"));
  const auto [e, tag_e] = c.SubmitJson("/filter", Filter("t", "k > 0", "ve"), {{"job_tag", "cancel-e"}});
  const auto [f, tag_f] = c.SubmitJson("/filter", Filter("t", "k > 0", "vf"));  // not cancelled
  ASSERT_FALSE(HasFailure());

  // Execute, by ids (with an id never issued among them) ...
  json r = Cancel(c, {a, 987654321}, "", /*as_job=*/false);
  EXPECT_EQ(r["job_ids"], json({a, 987654321}));
  EXPECT_EQ(r["status"], json({"CANCELLED", "NOT_FOUND: job 987654321 does not exist"}));
  // ... and by tag, binary.
  {
    pb::AdminAlterJobsRequest request;
    request.set_action("cancel");
    (*request.mutable_options())["job_tag"] = "cancel-b";
    const auto got =
        c.Binary<pb::AdminAlterJobsResponse>("/admin/alter/jobs", request, "admin_alter_jobs_response");
    ASSERT_EQ(got.job_ids_size(), 1);
    EXPECT_EQ(got.job_ids(0), b);
    EXPECT_EQ(got.action(), "cancel");
    ASSERT_EQ(got.status_size(), 1);
    EXPECT_EQ(got.status(0), "CANCELLED");
  }
  // As jobs (they run at submission, not behind the parked stream).
  r = Cancel(c, {d}, "", /*as_job=*/true);
  EXPECT_EQ(r["job_ids"], json({d}));
  EXPECT_EQ(r["status"], json({"CANCELLED"}));
  r = Cancel(c, {}, "cancel-e", /*as_job=*/true);
  EXPECT_EQ(r["job_ids"], json({e}));
  EXPECT_EQ(r["status"], json({"CANCELLED"}));

  // GetJob shows it at once, while the stream is still parked.
  for (const auto& [id, tag] : {std::make_pair(a, tag_a), std::make_pair(b, tag_b), std::make_pair(d, tag_d),
                                std::make_pair(e, tag_e)}) {
    for (const std::string& by : {std::string(), tag}) {
      const pb::GetJobResponse job = Now(id, by);
      EXPECT_EQ(job.job_status(), "CANCELLED") << id;
      EXPECT_FALSE(job.running());
      EXPECT_TRUE(Contains(At(job.info(), "cancel_reason"), "before it started")) << At(job.info(), "cancel_reason");
    }
  }
  EXPECT_EQ(Now(f).job_status(), "RUNNING");
  // A second cancel finds it finished.
  r = Cancel(c, {a, b}, "", false);
  EXPECT_EQ(r["status"], json({"NOT_CANCELLED: already finished (CANCELLED)",
                                "NOT_CANCELLED: already finished (CANCELLED)"}));

  gate.Open();
  const std::vector<int64_t> ks = ReadInts("t", "k");
  EXPECT_EQ(FinishedJson(c, f)["count"], std::count_if(ks.begin(), ks.end(), [](int64_t k) { return k > 0; }));
  // The stream ran f after the cancelled jobs: they never ran.
  for (const char* view : {"va", "vb", "vd", "ve"}) {
    EXPECT_EQ(c.Json("/has/table", {{"table_name", view}}, "has_table_response")["table_exists"], false) << view;
  }
  EXPECT_EQ(c.Json("/has/table", {{"table_name", "vf"}}, "has_table_response")["table_exists"], true);
  for (int64_t id : {a, b, d, e}) EXPECT_EQ(Now(id).job_status(), "CANCELLED") << id;
  ExpectServing();
}

// A running scan is asked to stop and ends CANCELLED at its next chunk:
// CreateJob'd scans cancelled through Execute (by tag) and as a job (by id),
// and a synchronous Execute scan, whose caller gets the error.
TEST_F(LifecycleTest, CancelRunningScan) {
  Start();
  Client& c = *client_;
  MakeRandomTable("big", R"([["k","int"]])", kBigRows, 2);
  ASSERT_FALSE(HasFailure());

  for (const bool as_job : {false, true}) {
    SCOPED_TRACE(as_job ? "cancel as a job, by id" : "cancel through Execute, by tag");
    const std::string tag = as_job ? "scan-by-id" : "scan-by-tag";
    std::future<std::vector<pb::GpudbResponse>> watched;  // destroyed after the gate and the pause
    StreamGate gate(engine());
    const auto [id, got_tag] = c.SubmitJson("/aggregate/statistics", Stats("big"), {{"job_tag", tag}});
    ProgressPause pause(engine(), id);
    // A watcher from before the job starts.
    watched = std::async(std::launch::async, [this, id = id] { return Client(NewChannel()).Watch(id); });
    gate.Open();
    ASSERT_TRUE(pause.WaitReached());

    const pb::GetJobResponse running = Now(id);
    EXPECT_EQ(running.job_status(), "RUNNING");
    EXPECT_TRUE(Intermediate(running.progress())) << running.progress();
    const json r = as_job ? Cancel(c, {id}, "", true) : Cancel(c, {}, tag, false);
    EXPECT_EQ(r["job_ids"], json({id}));
    EXPECT_EQ(r["status"], json({"CANCEL_REQUESTED"}));
    pause.Release();

    const pb::GetJobResponse job = c.WaitFinished(id);
    EXPECT_EQ(job.job_status(), "CANCELLED");
    EXPECT_LT(job.progress(), 100);
    EXPECT_TRUE(Contains(At(job.info(), "cancel_reason"), "cancelled while running"))
        << At(job.info(), "cancel_reason");
    EXPECT_EQ(Now(0, tag).job_status(), "CANCELLED");
    const std::vector<pb::GpudbResponse> messages = watched.get();
    ASSERT_FALSE(messages.empty());
    pb::GetJobResponse last;
    ASSERT_TRUE(last.ParseFromString(messages.back().data()));
    EXPECT_EQ(last.job_status(), "CANCELLED");
    EXPECT_EQ(Cancel(c, {id}, "", false)["status"], json({"NOT_CANCELLED: already finished (CANCELLED)"}));
  }

  // A synchronous call: found by /admin/show/jobs, cancelled while it runs.
  {
    std::future<pb::GpudbResponse> call;
    StreamGate gate(engine());
    call = std::async(std::launch::async, [this] {
      return Client(NewChannel()).ExecuteJson("/aggregate/statistics", Stats("big"));
    });
    const int64_t id = AwaitListedJob("/aggregate/statistics", "sync");
    ASSERT_GT(id, 0);
    ProgressPause pause(engine(), id);
    gate.Open();
    ASSERT_TRUE(pause.WaitReached());
    EXPECT_EQ(Cancel(c, {id}, "", false)["status"], json({"CANCEL_REQUESTED"}));
    pause.Release();
    ExpectError(call.get(), {"cancelled while running"}, "cancelled Execute");
  }
  // The table is intact.
  EXPECT_EQ(TableSize("big"), kBigRows);
  ExpectServing();
}

// Inserts cannot be cancelled (queued or running); they complete. Unknown
// and removed ids say NOT_FOUND; a bad request is an ERROR.
TEST_F(LifecycleTest, CancelInsertsAndUnknownJobs) {
  Start();
  Client& c = *client_;
  c.Json("/create/table", {{"table_name", "w"}, {"type_id", R"([["a","int"]])"}}, "create_table_response");
  c.Json("/create/table", {{"table_name", "r"}, {"type_id", R"([["a","int8"]])"}}, "create_table_response");
  ASSERT_FALSE(HasFailure());
  json list = json::array();
  for (int i = 0; i < 100; ++i) list.push_back(json({{"a", i}}).dump());
  const json insert = {{"table_name", "w"}, {"list_str", list}, {"list_encoding", "json"}};

  // Queued.
  {
    StreamGate gate(engine());
    const auto [id, tag] = c.SubmitJson("/insert/records", insert, {{"job_tag", "ins"}});
    EXPECT_EQ(Cancel(c, {id}, "", false)["status"], json({"NOT_CANCELLABLE: /insert/records changes data"}));
    EXPECT_EQ(Cancel(c, {}, "ins", true)["status"], json({"NOT_CANCELLABLE: /insert/records changes data"}));
    EXPECT_EQ(Now(id).job_status(), "RUNNING");
    gate.Open();
    EXPECT_EQ(FinishedJson(c, id)["count_inserted"], 100);
    EXPECT_EQ(TableSize("w"), 100);
  }
  // Running: a random insert of two chunks (4 Mi rows each), held after the first.
  {
    constexpr int64_t kRows = 5000000;
    StreamGate gate(engine());
    const auto [id, tag] = c.SubmitJson("/insert/records/random", {{"table_name", "r"}, {"count", kRows}});
    ProgressPause pause(engine(), id);
    gate.Open();
    ASSERT_TRUE(pause.WaitReached());
    EXPECT_EQ(Cancel(c, {id}, "", false)["status"], json({"NOT_CANCELLABLE: /insert/records/random changes data"}));
    EXPECT_EQ(Cancel(c, {id}, "", true)["status"], json({"NOT_CANCELLABLE: /insert/records/random changes data"}));
    pause.Release();
    EXPECT_EQ(FinishedJson(c, id)["count"], kRows);
    EXPECT_EQ(TableSize("r"), kRows);
  }

  // Unknown: an id never issued; a job removed when its result was returned.
  const auto [removed, removed_tag] =
      c.SubmitJson("/has/table", {{"table_name", "w"}}, {{"remove_job_on_complete", "true"}});
  FinishedJson(c, removed);
  for (const bool as_job : {false, true}) {
    const json r = Cancel(c, {123456789, removed}, "", as_job);
    EXPECT_EQ(r["status"], json({"NOT_FOUND: job 123456789 does not exist",
                                  "NOT_FOUND: job " + std::to_string(removed) +
                                      " was removed when its result was returned (remove_job_on_complete)"}));
  }
  // Errors: an unknown tag, no job, another action.
  ExpectError(c.ExecuteJson("/admin/alter/jobs",
                            {{"job_ids", json::array()}, {"action", "cancel"}, {"options", {{"job_tag", "nope"}}}}),
              {"job_tag", "nope"}, "unknown tag");
  ExpectError(c.ExecuteJson("/admin/alter/jobs", {{"job_ids", json::array()}, {"action", "cancel"}}), {"job_ids"},
              "no job");
  ExpectError(c.ExecuteJson("/admin/alter/jobs", {{"job_ids", {1}}, {"action", "pause"}}), {"action", "pause"},
              "unknown action");
  {
    const auto [id, tag] = c.SubmitJson("/admin/alter/jobs", {{"job_ids", {1}}, {"action", "pause"}});
    const pb::GetJobResponse job = c.WaitFinished(id);
    EXPECT_EQ(job.job_status(), "ERROR");
    EXPECT_TRUE(Contains(At(job.status_map(), "error_message"), "action")) << At(job.status_map(), "error_message");
  }
  ExpectServing();
}

// Cancels racing completion: short scans cancelled at about the time they
// finish. Each ends in exactly one final state — DONE with the right count or
// CANCELLED — consistent with the cancel's outcome, and WatchJob and GetJob
// agree on it.
TEST_F(LifecycleTest, CancelRacesCompletion) {
  server::ServerOptions options = Options();
  options.engine.limits.chunk_rows = 250;  // 80 chunks: many cancel points
  Start(options);
  Client& c = *client_;
  MakeRandomTable("race", R"([["k","int"]])", 20000, 3);
  ASSERT_FALSE(HasFailure());
  const std::vector<int64_t> ks = ReadInts("race", "k");
  ASSERT_EQ(ks.size(), 20000u);
  auto expected = [&](int64_t threshold) { return CountAbove(ks, threshold); };

  // How long a scan takes, end to end: the cancel delays spread over it.
  const auto t0 = Clock::now();
  for (int i = 0; i < 5; ++i) c.Json("/filter", Filter("race", "k > 0"), "filter_response");
  const double scan_us = std::max(50.0, MsSince(t0) * 1000 / 5);

  // 100 iterations, or fewer (at least 20) when the machine is slow.
  constexpr int kIterations = 100, kMinIterations = 20;
  const auto budget = Clock::now() + std::chrono::seconds(5);
  std::mt19937 rng(12345);
  std::map<std::string, int> outcomes;
  int done = 0, cancelled = 0, iterations = 0;
  for (int i = 0; i < kIterations && !HasFailure() && (i < kMinIterations || Clock::now() < budget); ++i) {
    ++iterations;
    const int64_t threshold = static_cast<int64_t>(rng() % 199999) - 99999;
    const std::string expression = "k > " + std::to_string(threshold);
    const std::string tag = "race-" + std::to_string(i);
    // Not a synchronization: the cancel goes out after a random part of a
    // scan's time, so that it lands before, during or after the scan; every
    // outcome is checked below.
    const double delay = std::uniform_real_distribution<double>(0, 0.5)(rng) * scan_us;
    auto pause_for = [](double us) {
      if (us > 0) std::this_thread::sleep_for(std::chrono::microseconds(static_cast<int64_t>(us)));
    };
    int64_t id = 0;
    std::future<std::vector<pb::GpudbResponse>> watched;
    json r;
    if (i % 3 == 1) {
      // By tag, from another thread, from the submission on (retried until
      // the job exists): the cancel may land before, during or after the scan.
      auto cancel = std::async(std::launch::async, [this, tag, delay, pause_for] {
        Client own(channel_);
        pause_for(delay);
        const json request = {{"job_ids", json::array()}, {"action", "cancel"}, {"options", {{"job_tag", tag}}}};
        for (const auto until = Clock::now() + std::chrono::seconds(30); Clock::now() < until;) {
          const pb::GpudbResponse response = own.ExecuteJson("/admin/alter/jobs", request);
          if (response.status() == "OK") return json::parse(response.data_str());
          if (!Contains(response.message(), "no job has tag")) {
            ADD_FAILURE() << response.message();
            break;
          }
        }
        return json::object();
      });
      id = c.SubmitJson("/filter", Filter("race", expression), {{"job_tag", tag}}).first;
      watched = std::async(std::launch::async, [this, id] { return Client(channel_).Watch(id); });
      r = cancel.get();
    } else {
      // By id, after the submission: at once, or after a while.
      id = c.SubmitJson("/filter", Filter("race", expression), {{"job_tag", tag}}).first;
      watched = std::async(std::launch::async, [this, id] { return Client(channel_).Watch(id); });
      pause_for(i % 2 == 0 ? 0.0 : delay);
      r = Cancel(c, {id}, "", /*as_job=*/i % 3 == 2);
    }
    EXPECT_EQ(r.value("job_ids", json::array()), json({id}));
    const std::string outcome = r.value("status", json::array({""}))[0].get<std::string>();
    ++outcomes[outcome];

    const pb::GetJobResponse job = c.WaitFinished(id);
    const std::string state = job.job_status();
    SCOPED_TRACE("iteration " + std::to_string(i) + ": cancel said '" + outcome + "', job " + state);
    if (outcome == "CANCELLED") {
      EXPECT_EQ(state, "CANCELLED");
    } else if (outcome == "CANCEL_REQUESTED") {
      EXPECT_TRUE(state == "CANCELLED" || state == "DONE");
    } else {
      EXPECT_EQ(outcome, "NOT_CANCELLED: already finished (DONE)");
      EXPECT_EQ(state, "DONE");
    }
    if (state == "DONE") {
      ++done;
      EXPECT_EQ(json::parse(job.job_response_str())["count"], expected(threshold)) << expression;
    } else {
      ++cancelled;
      EXPECT_EQ(state, "CANCELLED");
    }
    // Later reads say the same.
    const pb::GetJobResponse again = Now(id, tag);
    EXPECT_EQ(again.job_status(), state);
    EXPECT_EQ(again.job_response_str(), job.job_response_str());
    // The watcher's last message is the same final record; none before it is final.
    const std::vector<pb::GpudbResponse> messages = watched.get();
    ASSERT_FALSE(messages.empty());
    for (size_t m = 0; m < messages.size(); ++m) {
      pb::GetJobResponse seen;
      ASSERT_EQ(messages[m].status(), "OK") << messages[m].message();
      ASSERT_TRUE(seen.ParseFromString(messages[m].data()));
      ExpectConsistentJob(seen, "watch message");
      if (m + 1 < messages.size()) {
        EXPECT_EQ(seen.job_status(), "RUNNING");
      } else {
        EXPECT_EQ(seen.job_status(), state);
        EXPECT_EQ(seen.job_response_str(), job.job_response_str());
      }
    }
  }
  std::string summary;
  for (const auto& [outcome, n] : outcomes) summary += "  " + outcome + ": " + std::to_string(n) + "\n";
  std::printf("scan %.0f us; %d iterations: %d DONE, %d CANCELLED; cancel outcomes:\n%s", scan_us, iterations,
              done, cancelled, summary.c_str());
  EXPECT_EQ(done + cancelled, iterations);
  ExpectServing();
}

// ---------------------------------------------------------------------------
// 2. /admin/show/jobs.

TEST_F(LifecycleTest, ShowJobs) {
  Start();
  Client& c = *client_;
  MakeRandomTable("t", R"([["k","int"]])", 1000, 4);
  ASSERT_FALSE(HasFailure());
  auto with_user_data = [](json request, const std::string& user_data) {
    request["options"] = {{"job_user_data", user_data}};
    return request;
  };

  // A finished async job.
  const int64_t before_done = NowMs();
  const auto [done_id, done_tag] =
      c.SubmitJson("/filter", with_user_data(Filter("t", "k > 0"), "ud-done"), {{"job_tag", "shown-done"}});
  const int64_t after_done = NowMs();
  FinishedJson(c, done_id);

  std::future<pb::GpudbResponse> sync_call;
  StreamGate gate(engine());
  // A queued async job, and a synchronous call in flight.
  const int64_t before_queued = NowMs();
  pb::FilterRequest queued_request;
  queued_request.set_table_name("t");
  queued_request.set_expression("k < 0");
  (*queued_request.mutable_options())["job_user_data"] = "ud-queued";
  const auto [queued_id, queued_tag] = c.SubmitBinary("/filter", queued_request);
  const int64_t after_queued = NowMs();
  const int64_t before_sync = NowMs();
  sync_call = std::async(std::launch::async, [this, with_user_data] {
    return Client(NewChannel()).ExecuteJson("/aggregate/statistics",
                                            with_user_data(Stats("t"), "ud-sync"));
  });
  const int64_t sync_id = AwaitListedJob("/aggregate/statistics", "sync");
  const int64_t after_sync = NowMs();
  ASSERT_GT(sync_id, 0);

  struct Expected {
    std::string status, endpoint, user_data, flags, tag, worker;
    int64_t earliest, latest;
  };
  // Checks every field of a response record; `want` are the jobs that must be
  // listed (other than job-administration calls), `hidden` those that must not.
  auto check = [&](const json& shown, const std::map<int64_t, Expected>& want, const std::set<int64_t>& hidden,
                   bool worker_info, const std::string& what) {
    SCOPED_TRACE(what);
    const json ids = shown.value("job_id", json::array());
    for (const char* field : {"status", "endpoint_name", "time_received", "auth_id", "source_ip", "query_text",
                              "user_data", "flags"}) {
      EXPECT_EQ(shown.value(field, json::array()).size(), ids.size()) << field;
    }
    ASSERT_TRUE(shown["info"].contains("job_tag")) << shown["info"];
    const json tags = json::parse(shown["info"]["job_tag"].get<std::string>(), nullptr, false);
    ASSERT_TRUE(tags.is_array()) << shown["info"]["job_tag"];
    EXPECT_EQ(tags.size(), ids.size());
    json workers = json::array();
    if (worker_info) {
      ASSERT_TRUE(shown["info"].contains("worker_info")) << shown["info"];
      workers = json::parse(shown["info"]["worker_info"].get<std::string>(), nullptr, false);
      ASSERT_TRUE(workers.is_array());
      EXPECT_EQ(workers.size(), ids.size());
    } else {
      EXPECT_FALSE(shown["info"].contains("worker_info"));
    }
    std::set<int64_t> listed;
    for (size_t i = 0; i < ids.size() && i < tags.size(); ++i) {
      const int64_t id = ids[i].get<int64_t>();
      EXPECT_TRUE(listed.insert(id).second) << "job " << id << " listed twice";
      EXPECT_EQ(hidden.count(id), 0u) << "job " << id << " is listed";
      const std::string endpoint = shown["endpoint_name"][i];
      if (endpoint == "/admin/show/jobs" || endpoint == "/admin/alter/jobs") continue;
      auto it = want.find(id);
      if (it == want.end()) {
        ADD_FAILURE() << "unexpected job " << id << " " << endpoint;
        continue;
      }
      const Expected& e = it->second;
      EXPECT_EQ(shown["status"][i], e.status) << id;
      EXPECT_EQ(endpoint, e.endpoint) << id;
      EXPECT_GE(shown["time_received"][i].get<int64_t>(), e.earliest) << id;
      EXPECT_LE(shown["time_received"][i].get<int64_t>(), e.latest) << id;
      EXPECT_EQ(shown["auth_id"][i], "") << id;
      EXPECT_EQ(shown["source_ip"][i], "127.0.0.1") << id;
      EXPECT_EQ(shown["query_text"][i], "") << id;
      EXPECT_EQ(shown["user_data"][i], e.user_data) << id;
      EXPECT_EQ(shown["flags"][i], e.flags) << id;
      EXPECT_EQ(tags[i], e.tag) << id;
      if (worker_info && i < workers.size()) {
        EXPECT_EQ(workers[i].value("job_id", int64_t{0}), id);
        EXPECT_EQ(workers[i].value("worker", "?"), e.worker) << id;
        EXPECT_EQ(workers[i].value("progress", -1), e.status == "DONE" ? 100 : 0) << id;
      }
    }
    for (const auto& [id, e] : want) EXPECT_EQ(listed.count(id), 1u) << "job " << id << " is not listed";
  };

  const Expected done{"DONE", "/filter", "ud-done", "async", "shown-done", "host:0/0", before_done, after_done};
  const Expected queued{"RUNNING", "/filter", "ud-queued", "async", queued_tag, "", before_queued, after_queued};
  // The synchronous call's tag is generated; read it from the listing.
  std::string sync_tag;
  {
    const json shown = ShowJobs(json::object());
    const json tags = json::parse(shown["info"]["job_tag"].get<std::string>());
    for (size_t i = 0; i < shown["job_id"].size(); ++i) {
      if (shown["job_id"][i] == sync_id) sync_tag = tags[i];
    }
    EXPECT_FALSE(sync_tag.empty());
  }
  const Expected sync{"RUNNING", "/aggregate/statistics", "ud-sync", "sync", sync_tag, "", before_sync, after_sync};

  // Execute (json): finished async jobs hidden by default, shown on request.
  check(ShowJobs(json::object()), {{queued_id, queued}, {sync_id, sync}}, {done_id}, false, "default");
  check(ShowJobs({{"show_async_jobs", "false"}}), {{queued_id, queued}, {sync_id, sync}}, {done_id}, false,
        "show_async_jobs false");
  check(ShowJobs({{"show_async_jobs", "true"}, {"show_worker_info", "true"}}),
        {{done_id, done}, {queued_id, queued}, {sync_id, sync}}, {}, true, "show_async_jobs, worker info");
  ExpectError(c.ExecuteJson("/admin/show/jobs", {{"options", {{"show_async_jobs", "yes"}}}}),
              {"show_async_jobs", "yes"}, "bad option");
  // As a job: CreateJob (json), GetJob; and binary.
  {
    const auto [id, tag] = c.SubmitJson("/admin/show/jobs", {{"options", {{"show_async_jobs", "true"}}}});
    check(FinishedJson(c, id), {{done_id, done}, {queued_id, queued}, {sync_id, sync}}, {}, false, "as a job");
    pb::AdminShowJobsRequest request;
    (*request.mutable_options())["show_worker_info"] = "false";  // an empty message would be empty data
    const auto [bid, btag] = c.SubmitBinary("/admin/show/jobs", request);
    const pb::GetJobResponse job = c.WaitFinished(bid);
    ASSERT_EQ(job.job_status(), "DONE");
    pb::AdminShowJobsResponse shown;
    ASSERT_TRUE(shown.ParseFromString(job.job_response()));
    // The finished async jobs (the json one just above) are hidden.
    const std::vector<int64_t> listed(shown.job_id().begin(), shown.job_id().end());
    EXPECT_EQ(std::count(listed.begin(), listed.end(), queued_id), 1);
    EXPECT_EQ(std::count(listed.begin(), listed.end(), sync_id), 1);
    EXPECT_EQ(std::count(listed.begin(), listed.end(), done_id), 0);
    EXPECT_EQ(std::count(listed.begin(), listed.end(), id), 0);
    EXPECT_EQ(shown.status_size(), shown.job_id_size());
    EXPECT_EQ(shown.user_data_size(), shown.job_id_size());
    for (int i = 0; i < shown.job_id_size(); ++i) {
      if (shown.job_id(i) == queued_id) {
        EXPECT_EQ(shown.user_data(i), "ud-queued");
        EXPECT_EQ(shown.source_ip(i), "127.0.0.1");
        EXPECT_EQ(shown.endpoint_name(i), "/filter");
      }
    }
  }

  // Once released: the synchronous call is answered and forgotten; the queued
  // job is a finished async job.
  gate.Open();
  EXPECT_EQ(sync_call.get().status(), "OK");
  c.WaitFinished(queued_id);
  Expected queued_done = queued;
  queued_done.status = "DONE";
  queued_done.worker = "host:0/0";
  check(ShowJobs({{"show_async_jobs", "true"}, {"show_worker_info", "true"}}),
        {{done_id, done}, {queued_id, queued_done}}, {sync_id}, true, "after");
  check(ShowJobs(json::object()), {}, {done_id, queued_id, sync_id}, false, "after, default");
}

// ---------------------------------------------------------------------------
// 3. GetJob waits and WatchJob.

TEST_F(LifecycleTest, GetJobWaits) {
  Start();
  Client& c = *client_;
  MakeRandomTable("t", R"([["k","int"]])", 1000, 5);
  ASSERT_FALSE(HasFailure());
  const std::vector<int64_t> ks = ReadInts("t", "k");
  auto expected = [&](int64_t threshold) { return CountAbove(ks, threshold); };

  // Answers as soon as the job finishes: the call waits in the server, the
  // job is released, the call is answered with the result, well before its
  // wait_timeout_ms.
  for (const bool by_tag : {false, true}) {
    constexpr int kWaitMs = 30000;
    std::future<std::pair<pb::GetJobResponse, Clock::time_point>> waiter;  // the record, when it came
    StreamGate gate(engine());
    const auto [id, tag] = c.SubmitJson("/filter", Filter("t", "k > 0"));
    waiter = std::async(std::launch::async, [this, id = id, tag = tag, by_tag] {
      pb::GetJobResponse job;
      const pb::GpudbResponse r = Client(NewChannel()).Poll(by_tag ? 0 : id, by_tag ? tag : "", &job, kWaitMs);
      EXPECT_EQ(r.status(), "OK") << r.message();
      return std::make_pair(job, Clock::now());
    });
    ASSERT_TRUE(AwaitWaiting(id, 1)) << "the GetJob call never waited on the job";
    EXPECT_EQ(waiter.wait_for(std::chrono::seconds(0)), std::future_status::timeout) << "answered before the job ran";
    const auto released = Clock::now();
    gate.Open();
    const auto [job, answered] = waiter.get();
    EXPECT_EQ(job.job_status(), "DONE");
    EXPECT_EQ(json::parse(job.job_response_str())["count"], expected(0));
    EXPECT_GE(answered, released) << "answered before the job was released";
    const double after_release_ms = std::chrono::duration<double, std::milli>(answered - released).count();
    EXPECT_LT(after_release_ms, kWaitMs) << "the wait did not end when the job finished";
  }

  // Times out with the job RUNNING.
  {
    StreamGate gate(engine());
    const auto [id, tag] = c.SubmitJson("/filter", Filter("t", "k > 0"));
    for (const auto& [wait_ms, by_tag] : {std::make_pair(300, false), std::make_pair(200, true)}) {
      pb::GetJobResponse job;
      const auto start = Clock::now();
      const pb::GpudbResponse r = c.Poll(by_tag ? 0 : id, by_tag ? tag : "", &job, wait_ms);
      const double waited = MsSince(start);
      EXPECT_EQ(r.status(), "OK") << r.message();
      EXPECT_EQ(job.job_status(), "RUNNING");
      EXPECT_TRUE(job.running());
      EXPECT_GE(waited, wait_ms - 5);
      // It ended at its timeout, not when the job did (the job is parked); the
      // bound only tells a late answer from a hang.
      EXPECT_LT(waited, wait_ms + 20000);
    }
    // wait 0: at once (the bound only tells an answer at once from one after
    // a wait).
    pb::GetJobResponse job;
    const auto start = Clock::now();
    c.Poll(id, "", &job, 0);
    EXPECT_EQ(job.job_status(), "RUNNING");
    EXPECT_LT(MsSince(start), 15000);
    ExpectError(c.GetJob([&] {
      pb::GetJobRequest request;
      request.set_job_id(id);
      (*request.mutable_options())["wait_timeout_ms"] = "soon";
      return request;
    }()), {"wait_timeout_ms", "soon"}, "bad wait");
    gate.Open();
    // A finished job: at once, not after the 30 s wait.
    c.WaitFinished(id);
    const auto again = Clock::now();
    job.Clear();
    c.Poll(id, "", &job, 30000);
    EXPECT_EQ(job.job_status(), "DONE");
    EXPECT_LT(MsSince(again), 15000);
  }

  // remove_job_on_complete: the waiting call that sees it finish takes it.
  {
    std::future<pb::GetJobResponse> waiter;
    StreamGate gate(engine());
    const auto [id, tag] = c.SubmitJson("/filter", Filter("t", "k > 0"), {{"remove_job_on_complete", "true"}});
    waiter = std::async(std::launch::async, [this, id = id] {
      pb::GetJobResponse job;
      Client(NewChannel()).Poll(id, "", &job, 30000);
      return job;
    });
    EXPECT_TRUE(AwaitWaiting(id, 1)) << "the GetJob call never waited on the job";
    gate.Open();
    EXPECT_EQ(waiter.get().job_status(), "DONE");
    pb::GetJobRequest request;
    request.set_job_id(id);
    ExpectError(c.GetJob(request), {"was removed when its result was returned"}, "taken by the wait");
  }

  // 200 waiting calls at once on 20 parked jobs (asynchronous client calls:
  // all outstanding together); all answered when the stream is released.
  {
    constexpr int kJobs = 20, kCalls = 200;
    StreamGate gate(engine());
    std::vector<std::pair<int64_t, int64_t>> jobs;  // id, threshold
    for (int j = 0; j < kJobs; ++j) {
      const int64_t threshold = j * 9000 - 90000;
      jobs.emplace_back(c.SubmitJson("/filter", Filter("t", "k > " + std::to_string(threshold))).first, threshold);
    }
    struct Call {
      grpc::ClientContext context;
      pb::GetJobRequest request;
      pb::GpudbResponse response;
      grpc::Status status;
    };
    std::vector<std::unique_ptr<Call>> calls;
    std::mutex mu;
    std::condition_variable cv;
    int answered = 0;
    for (int i = 0; i < kCalls; ++i) {
      auto call = std::make_unique<Call>();
      call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      call->request.set_job_id(jobs[i % kJobs].first);
      (*call->request.mutable_options())["wait_timeout_ms"] = "50000";
      Call* raw = call.get();
      c.stub().async()->GetJob(&raw->context, &raw->request, &raw->response, [&, raw](grpc::Status status) {
        std::lock_guard<std::mutex> lock(mu);
        raw->status = status;
        ++answered;
        cv.notify_all();
      });
      calls.push_back(std::move(call));
    }
    // Every call waits in the server.
    EXPECT_TRUE(PollUntil([&] {
      size_t waiting = 0;
      for (const auto& job : jobs) waiting += engine().tracker().watchers(job.first);
      return waiting >= static_cast<size_t>(kCalls);
    })) << "not every call waits on its job";
    // The server still answers other calls while the 200 wait.
    pb::GetJobResponse sentinel;
    EXPECT_EQ(c.Poll(jobs[0].first, "", &sentinel, 100).status(), "OK");
    EXPECT_EQ(sentinel.job_status(), "RUNNING");
    EXPECT_GE(ShowJobs(json::object())["job_id"].size(), static_cast<size_t>(kJobs));
    {
      std::lock_guard<std::mutex> lock(mu);
      EXPECT_EQ(answered, 0) << "waits answered before their jobs finished";
    }
    const auto released = Clock::now();
    gate.Open();
    {
      std::unique_lock<std::mutex> lock(mu);
      const bool all = cv.wait_for(lock, std::chrono::seconds(40), [&] { return answered == kCalls; });
      EXPECT_TRUE(all) << answered << " of " << kCalls << " waits answered";
      if (!all) {  // end the calls before their state goes away
        for (auto& call : calls) call->context.TryCancel();
        cv.wait(lock, [&] { return answered == kCalls; });
      }
    }
    EXPECT_LT(MsSince(released), 20000);
    for (int i = 0; i < kCalls; ++i) {
      const Call& call = *calls[i];
      ASSERT_TRUE(call.status.ok()) << call.status.error_message();
      ASSERT_EQ(call.response.status(), "OK") << call.response.message();
      pb::GetJobResponse job;
      ASSERT_TRUE(job.ParseFromString(call.response.data()));
      EXPECT_EQ(job.job_status(), "DONE") << i;
      EXPECT_EQ(json::parse(job.job_response_str())["count"], expected(jobs[i % kJobs].second)) << i;
    }
  }
  ExpectServing();
}

TEST_F(LifecycleTest, WatchJob) {
  Start();
  Client& c = *client_;
  constexpr int64_t kRows = 200000;  // 100 chunks
  MakeRandomTable("big", R"([["k","int"]])", kRows, 6);
  ASSERT_FALSE(HasFailure());

  // A scan watched from before it starts: RUNNING with non-decreasing
  // progress, then the final record with the result; then the stream ends.
  for (const bool by_tag : {false, true}) {
    StreamGate gate(engine());
    const auto [id, tag] = c.SubmitJson("/aggregate/statistics", Stats("big"));
    pb::GetJobRequest request;
    if (by_tag)
      (*request.mutable_options())["job_tag"] = tag;
    else
      request.set_job_id(id);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    auto reader = c.stub().WatchJob(&context, request);
    std::vector<pb::GetJobResponse> seen;
    pb::GpudbResponse message;
    // The first message comes while the job waits.
    ASSERT_TRUE(reader->Read(&message));
    gate.Open();
    do {
      ASSERT_EQ(message.status(), "OK") << message.message();
      ASSERT_EQ(message.data_type(), "get_job_response");
      pb::GetJobResponse job;
      ASSERT_TRUE(job.ParseFromString(message.data()));
      ExpectConsistentJob(job, "watch");
      EXPECT_EQ(At(job.info(), "job_tag"), tag);
      EXPECT_EQ(job.endpoint(), "/aggregate/statistics");
      seen.push_back(job);
    } while (reader->Read(&message));
    const grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    ASSERT_GE(seen.size(), 2u);
    EXPECT_EQ(seen.front().job_status(), "RUNNING");
    EXPECT_EQ(seen.front().progress(), 0);
    for (size_t i = 0; i + 1 < seen.size(); ++i) {
      EXPECT_EQ(seen[i].job_status(), "RUNNING") << i;
      EXPECT_LE(seen[i].progress(), seen[i + 1].progress()) << i;
    }
    EXPECT_EQ(seen.back().job_status(), "DONE");
    EXPECT_EQ(json::parse(seen.back().job_response_str())["stats"]["count"], kRows);
  }

  // A finished job: one message, the final record.
  {
    const auto [id, tag] = c.SubmitJson("/aggregate/statistics", Stats("big"));
    c.WaitFinished(id);
    const std::vector<pb::GpudbResponse> messages = c.Watch(id);
    ASSERT_EQ(messages.size(), 1u);
    pb::GetJobResponse job;
    ASSERT_TRUE(job.ParseFromString(messages[0].data()));
    EXPECT_EQ(job.job_status(), "DONE");
    EXPECT_EQ(json::parse(job.job_response_str())["stats"]["count"], kRows);
    EXPECT_EQ(c.Watch(0, tag).size(), 1u);
  }
  // A job that is not there: one ERROR wrapper.
  {
    std::vector<pb::GpudbResponse> messages = c.Watch(987654321);
    ASSERT_EQ(messages.size(), 1u);
    ExpectError(messages[0], {"job_id", "987654321", "does not exist"}, "watch of an unknown id");
    messages = c.Watch(0, "no-such-tag");
    ASSERT_EQ(messages.size(), 1u);
    ExpectError(messages[0], {"job_tag", "no-such-tag"}, "watch of an unknown tag");
  }
  ExpectServing();
}

// ---------------------------------------------------------------------------
// 4. Progress.

TEST_F(LifecycleTest, ProgressOfLongJobs) {
  Start();
  Client& c = *client_;
  MakeRandomTable("big", R"([["k","int"]])", 200000, 7);  // 100 chunks
  c.Json("/create/table", {{"table_name", "r"}, {"type_id", R"([["a","int8"]])"}}, "create_table_response");
  ASSERT_FALSE(HasFailure());

  struct Case {
    std::string endpoint;
    json request;
  };
  constexpr int64_t kRandomRows = 9000000;  // three chunks of the generator
  for (const Case& k : {Case{"/aggregate/statistics", Stats("big")},
                        Case{"/insert/records/random", {{"table_name", "r"}, {"count", kRandomRows}}}}) {
    SCOPED_TRACE(k.endpoint);
    StreamGate gate(engine());
    const auto [id, tag] = c.SubmitJson(k.endpoint, k.request);
    WatchLog log;  // every progress value the engine reports
    ASSERT_NE(engine().WatchJob(id, log.Fn()), 0);
    pb::GetJobRequest request;
    request.set_job_id(id);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    auto reader = c.stub().WatchJob(&context, request);
    pb::GpudbResponse message;
    // The watch is in once its first message came.
    ASSERT_TRUE(reader->Read(&message));
    // Hold the job at its first progress report (the watch, being older,
    // hears of it first): WatchJob must deliver that progress while the job
    // is held, however fast the job would otherwise run.
    ProgressPause pause(engine(), id);
    gate.Open();
    ASSERT_TRUE(pause.WaitReached());
    std::vector<int> progress;
    bool seen_while_held = false;
    do {
      pb::GetJobResponse job;
      ASSERT_TRUE(job.ParseFromString(message.data())) << message.message();
      progress.push_back(job.progress());
      if (!seen_while_held && Intermediate(job.progress())) {
        EXPECT_EQ(job.job_status(), "RUNNING");
        seen_while_held = true;
        pause.Release();
      }
    } while (reader->Read(&message));
    pause.Release();
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_TRUE(seen_while_held) << "WatchJob saw only 0 and 100 (" << progress.size() << " messages)";
    ASSERT_FALSE(progress.empty());
    EXPECT_EQ(progress.back(), 100);
    EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
    // The engine reported several values between 0 and 100.
    const std::vector<int> reported = log.progress();
    EXPECT_GE(std::count_if(reported.begin(), reported.end(), Intermediate), 2) << reported.size();
    EXPECT_TRUE(std::is_sorted(reported.begin(), reported.end()));
    c.WaitFinished(id);
  }
  EXPECT_EQ(TableSize("r"), kRandomRows);
}

// ---------------------------------------------------------------------------
// 5. Retention.

TEST_F(LifecycleTest, FinishedJobsExpire) {
  server::ServerOptions options = Options();
  options.engine.jobs.ttl = absl::Milliseconds(300);
  Start(options);
  Client& c = *client_;
  MakeRandomTable("t", R"([["k","int"]])", 1000, 8);
  ASSERT_FALSE(HasFailure());
  const std::vector<int64_t> ks = ReadInts("t", "k");
  const int64_t positive = CountAbove(ks, 0);

  // Before expiry: the result; after: "expired", by id and by tag.
  const auto [id, tag] = c.SubmitJson("/filter", Filter("t", "k > 0"), {{"job_tag", "short-lived"}});
  EXPECT_EQ(FinishedJson(c, id)["count"], positive);
  // Read until it expires (the TTL's passing is the condition), with the
  // result every time before.
  pb::GpudbResponse gone;
  ASSERT_TRUE(PollUntil(
      [&] {
        pb::GetJobResponse job;
        gone = c.Poll(id, "", &job);
        if (gone.status() != "OK") return true;
        EXPECT_EQ(job.job_status(), "DONE");
        EXPECT_EQ(json::parse(job.job_response_str())["count"], positive);
        return false;
      },
      std::chrono::seconds(30), std::chrono::milliseconds(10)))
      << "job did not expire";
  ExpectError(gone, {"job_id", std::to_string(id), "expired"}, "expired by id");
  pb::GetJobRequest request;
  (*request.mutable_options())["job_tag"] = "short-lived";
  ExpectError(c.GetJob(request), {"short-lived", "expired"}, "expired by tag");
  request.Clear();
  request.set_job_id(id + 1000);
  ExpectError(c.GetJob(request), {"job_id", std::to_string(id + 1000), "does not exist"}, "never issued");
  EXPECT_EQ(Cancel(c, {id}, "", false)["status"][0].get<std::string>().rfind("NOT_FOUND: job " + std::to_string(id) +
                                                                             " expired", 0),
            0u);
  // The tag is free again.
  const auto [again, again_tag] = c.SubmitJson("/filter", Filter("t", "k > 0"), {{"job_tag", "short-lived"}});
  EXPECT_EQ(FinishedJson(c, again)["count"], positive);

  // Expiry racing GetJob from several threads: each call gets the result or
  // the expired message, and never the result again after "expired".
  constexpr int kJobs = 16, kThreads = 8;
  std::vector<std::pair<int64_t, std::string>> jobs;
  for (int j = 0; j < kJobs; ++j) jobs.push_back(c.SubmitJson("/filter", Filter("t", "k > 0")));
  for (const auto& [job_id, job_tag] : jobs) FinishedJson(c, job_id);
  std::atomic<int> results{0}, expired{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      Client own(t % 2 == 0 ? channel_ : NewChannel());
      std::vector<bool> seen_expired(kJobs, false);
      int left = kJobs;
      const auto until = Clock::now() + std::chrono::seconds(15);
      while (left > 0 && Clock::now() < until && !::testing::Test::HasFailure()) {
        for (int j = 0; j < kJobs; ++j) {
          pb::GetJobRequest get;
          if ((j + t) % 2 == 0)
            get.set_job_id(jobs[j].first);
          else
            (*get.mutable_options())["job_tag"] = jobs[j].second;
          const pb::GpudbResponse r = own.GetJob(get);
          if (r.status() == "OK") {
            pb::GetJobResponse job;
            ASSERT_TRUE(job.ParseFromString(r.data()));
            ASSERT_EQ(job.job_status(), "DONE");
            ASSERT_EQ(json::parse(job.job_response_str())["count"], positive);
            ASSERT_FALSE(seen_expired[j]) << "job " << jobs[j].first << " came back after it expired";
            ++results;
          } else {
            ASSERT_EQ(r.status(), "ERROR") << r.message();
            ASSERT_TRUE(Contains(r.message(), "expired")) << r.message();
            if (!seen_expired[j]) --left;
            seen_expired[j] = true;
            ++expired;
          }
        }
      }
      EXPECT_EQ(left, 0) << "jobs left unexpired";
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GE(expired.load(), kJobs * kThreads);
  std::printf("TTL race: %d results, %d expired answers\n", results.load(), expired.load());
  ExpectServing();
}

TEST_F(LifecycleTest, OldestResultsEvicted) {
  server::ServerOptions options = Options();
  options.engine.jobs.result_memory_limit = 1500;  // a handful of small results
  Start(options);
  Client& c = *client_;
  MakeRandomTable("t", R"([["k","int"]])", 1000, 9);
  ASSERT_FALSE(HasFailure());

  // A failed job stores no result: it stays.
  const auto [failed, failed_tag] = c.SubmitJson("/filter", Filter("nope", "k > 0"));
  EXPECT_EQ(c.WaitFinished(failed).job_status(), "ERROR");
  std::vector<int64_t> ids;
  for (int i = 0; i < 20; ++i) {
    const auto [id, tag] = c.SubmitJson("/filter", Filter("t", "k > " + std::to_string(i)));
    FinishedJson(c, id);
    ids.push_back(id);
  }
  // The oldest are evicted, the newest kept: a prefix and a suffix.
  size_t kept_from = ids.size();
  for (size_t i = 0; i < ids.size(); ++i) {
    pb::GetJobRequest request;
    request.set_job_id(ids[i]);
    const pb::GpudbResponse r = c.GetJob(request);
    if (r.status() == "OK") {
      if (kept_from == ids.size()) kept_from = i;
    } else {
      EXPECT_EQ(kept_from, ids.size()) << "job " << ids[i] << " evicted after a newer one was kept";
      ExpectError(r, {"job_id", std::to_string(ids[i]), "was evicted"}, "evicted");
    }
  }
  EXPECT_GT(kept_from, 0u) << "nothing was evicted";
  EXPECT_LT(kept_from, ids.size()) << "everything was evicted";
  EXPECT_EQ(c.WaitFinished(failed).job_status(), "ERROR");
}

// ---------------------------------------------------------------------------
// 6. Idempotency (options.request_id).

TEST_F(LifecycleTest, RequestIdsRunOnce) {
  Start();
  Client& c = *client_;
  c.Json("/create/table", {{"table_name", "w"}, {"type_id", R"([["a","int"]])"}}, "create_table_response");
  ASSERT_FALSE(HasFailure());
  json list = json::array();
  for (int i = 0; i < 5; ++i) list.push_back(json({{"a", i}}).dump());
  const json insert = {{"table_name", "w"}, {"list_str", list}, {"list_encoding", "json"}};

  // The same request twice, before and after it finished: one job, one insert.
  const auto [id, tag] = c.SubmitJson("/insert/records", insert, {{"request_id", "req-1"}});
  const auto [id2, tag2] = c.SubmitJson("/insert/records", insert, {{"request_id", "req-1"}});
  EXPECT_EQ(id2, id);
  EXPECT_EQ(tag2, tag);
  EXPECT_EQ(FinishedJson(c, id)["count_inserted"], 5);
  const auto [id3, tag3] = c.SubmitJson("/insert/records", insert, {{"request_id", "req-1"}});
  EXPECT_EQ(id3, id);
  EXPECT_EQ(tag3, tag);
  EXPECT_EQ(TableSize("w"), 5);

  // The same id with another request: an error naming the first job.
  json other = insert;
  other["list_str"] = json::array({json({{"a", 99}}).dump()});
  pb::CreateJobRequest request;
  request.set_endpoint("/insert/records");
  request.set_request_encoding("json");
  request.set_data_str(other.dump());
  (*request.mutable_options())["request_id"] = "req-1";
  ExpectError(c.CreateJob(request), {"request_id", "req-1", "job " + std::to_string(id)}, "reused request id");
  request.set_data_str(insert.dump());
  (*request.mutable_options())["job_tag"] = "other-tag";
  ExpectError(c.CreateJob(request), {"request_id", "req-1", "job " + std::to_string(id)},
              "reused request id, other options");
  EXPECT_EQ(TableSize("w"), 5);

  // 16 threads submit the same request id at once while the stream is
  // parked: one job.
  {
    StreamGate gate(engine());
    constexpr int kThreads = 16;
    std::mutex mu;
    std::condition_variable cv;
    int ready = 0;
    std::vector<std::pair<int64_t, std::string>> got(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        Client own(t % 2 == 0 ? channel_ : NewChannel());
        {
          std::unique_lock<std::mutex> lock(mu);
          ++ready;
          cv.notify_all();
          cv.wait(lock, [&] { return ready == kThreads; });
        }
        got[t] = own.SubmitJson("/insert/records", insert, {{"request_id", "req-2"}});
      });
    }
    for (auto& th : threads) th.join();
    for (int t = 1; t < kThreads; ++t) {
      EXPECT_EQ(got[t], got[0]) << t;
    }
    EXPECT_NE(got[0].first, id);
    EXPECT_EQ(Now(got[0].first).job_status(), "RUNNING");
    gate.Open();
    EXPECT_EQ(FinishedJson(c, got[0].first)["count_inserted"], 5);
  }
  EXPECT_EQ(TableSize("w"), 10);
  // An empty request id is an error.
  (*request.mutable_options())["request_id"] = "";
  ExpectError(c.CreateJob(request), {"request_id", "empty"}, "empty request id");
}

// ---------------------------------------------------------------------------
// 7. Deadlines (options.timeout_ms).

TEST_F(LifecycleTest, Deadlines) {
  Start();
  Client& c = *client_;
  MakeRandomTable("big", R"([["k","int"]])", 200000, 10);  // 100 chunks: 1% is the first
  c.Json("/create/table", {{"table_name", "w"}, {"type_id", R"([["a","int"]])"}}, "create_table_response");
  ASSERT_FALSE(HasFailure());
  const json insert = {{"table_name", "w"}, {"list_str", {R"({"a":1})", R"({"a":2})"}}, {"list_encoding", "json"}};

  // Queued past its deadline: ERROR while the stream is still parked; it never runs.
  {
    std::future<pb::GpudbResponse> call;
    StreamGate gate(engine());
    const auto [id, tag] = c.SubmitJson("/insert/records", insert, {{"timeout_ms", "150"}});
    // Through Execute, the deadline in the request's own options.
    call = std::async(std::launch::async, [this] {
      return Client(NewChannel()).ExecuteJson("/filter", {{"table_name", "big"},
                                                          {"view_name", "never"},
                                                          {"expression", "k > 0"},
                                                          {"options", {{"timeout_ms", "150"}}}});
    });
    const pb::GetJobResponse job = c.WaitFinished(id);
    EXPECT_EQ(job.job_status(), "ERROR");
    const std::string message = At(job.status_map(), "error_message");
    EXPECT_TRUE(Contains(message, "deadline") && Contains(message, "never started")) << message;
    ASSERT_EQ(call.wait_for(std::chrono::seconds(30)), std::future_status::ready);
    ExpectError(call.get(), {"deadline", "never started"}, "Execute, queued past timeout_ms");
    gate.Open();
  }
  const auto [later, later_tag] = c.SubmitJson("/insert/records", insert);
  EXPECT_EQ(FinishedJson(c, later)["count_inserted"], 2);
  EXPECT_EQ(TableSize("w"), 2) << "a job past its deadline ran";
  EXPECT_EQ(c.Json("/has/table", {{"table_name", "never"}}, "has_table_response")["table_exists"], false);

  // Running past its deadline: stopped at a chunk boundary, ERROR. The scan
  // is held at its first progress report (its first chunk) until the
  // deadline has passed.
  constexpr int kTimeoutMs = 600;
  for (const int how : {0, 1, 2}) {  // CreateJob option, request option, Execute
    SCOPED_TRACE(how);
    std::future<pb::GpudbResponse> call;
    StreamGate gate(engine());
    const auto submitted = Clock::now();
    int64_t id = 0;
    if (how == 0) {
      id = c.SubmitJson("/aggregate/statistics", Stats("big"), {{"timeout_ms", std::to_string(kTimeoutMs)}}).first;
    } else if (how == 1) {
      id = c.SubmitJson("/aggregate/statistics", Stats("big", {{"timeout_ms", std::to_string(kTimeoutMs)}})).first;
    } else {
      call = std::async(std::launch::async, [this] {
        return Client(NewChannel()).ExecuteJson("/aggregate/statistics",
                                                Stats("big", {{"timeout_ms", std::to_string(kTimeoutMs)}}));
      });
      id = AwaitListedJob("/aggregate/statistics", "sync");
    }
    ASSERT_GT(id, 0);
    ProgressPause pause(engine(), id);
    gate.Open();
    // Held within the timeout unless the machine is very slow; then the
    // deadline stops the scan on its own (which is checked all the same).
    const bool held = pause.WaitReached() && MsSince(submitted) < kTimeoutMs;
    if (!held) std::printf("the scan was not held before its deadline (%.0f ms)\n", MsSince(submitted));
    gpudb_test::WaitUntilPast(submitted + std::chrono::milliseconds(kTimeoutMs + 20));  // the deadline passes
    pause.Release();
    const std::vector<std::string> parts = {"deadline", held ? "ran past its timeout_ms" : "timeout_ms"};
    if (how < 2) {
      const pb::GetJobResponse job = c.WaitFinished(id);
      EXPECT_EQ(job.job_status(), "ERROR");
      const std::string message = At(job.status_map(), "error_message");
      for (const std::string& part : parts) EXPECT_TRUE(Contains(message, part)) << message;
      EXPECT_LT(job.progress(), 100);
    } else {
      ExpectError(call.get(), parts, "Execute past timeout_ms");
    }
  }
  // Malformed.
  pb::CreateJobRequest bad;
  bad.set_endpoint("/aggregate/statistics");
  bad.set_request_encoding("json");
  bad.set_data_str(Stats("big").dump());
  (*bad.mutable_options())["timeout_ms"] = "-5";
  ExpectError(c.CreateJob(bad), {"timeout_ms", "-5"}, "negative timeout");
  ExpectError(c.ExecuteJson("/aggregate/statistics", Stats("big", {{"timeout_ms", "soon"}})), {"timeout_ms", "soon"},
              "bad timeout in the request");
  ExpectServing();
}

// ---------------------------------------------------------------------------
// 8. Backpressure and message size.

TEST_F(LifecycleTest, BusyServerRefusesAndKeepsEveryAcceptedJob) {
  constexpr int kMaxQueued = 8, kThreads = 64, kPerThread = 4;
  server::ServerOptions options = Options();
  options.engine.max_queued_jobs = kMaxQueued;
  Start(options);
  Client& c = *client_;
  MakeRandomTable("t", R"([["k","int"]])", 1000, 11);
  ASSERT_FALSE(HasFailure());
  const std::vector<int64_t> ks = ReadInts("t", "k");
  auto expected = [&](int64_t threshold) { return CountAbove(ks, threshold); };

  StreamGate gate(engine());
  std::vector<std::shared_ptr<grpc::Channel>> channels = {channel_, NewChannel(), NewChannel(), NewChannel()};
  gpudb_test::Flood flood;
  flood.Run(kThreads, [&](int t) {
    Client own(channels[t % channels.size()]);
    for (int j = 0; j < kPerThread; ++j) {
      const int64_t threshold = (t * kPerThread + j) * 700 - 90000;
      pb::CreateJobRequest request;
      request.set_endpoint("/filter");
      request.set_request_encoding("json");
      request.set_data_str(Filter("t", "k > " + std::to_string(threshold)).dump());
      pb::GpudbResponse response;
      const grpc::Status status = own.TryCreateJob(request, &response);
      if (status.ok()) {
        ASSERT_EQ(response.status(), "OK") << response.message();
        pb::CreateJobResponse created;
        ASSERT_TRUE(created.ParseFromString(response.data()));
        flood.Accepted(created.job_id(), threshold);
      } else {
        ASSERT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
        ASSERT_TRUE(Contains(status.error_message(), "retry later")) << status.error_message();
        flood.Refused();
      }
    }
  });
  const std::vector<std::pair<int64_t, int64_t>> accepted = flood.accepted();  // id, threshold
  EXPECT_EQ(accepted.size() + flood.refused(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(accepted.size(), static_cast<size_t>(kMaxQueued));
  // Execute is refused too; job administration is not.
  {
    pb::ExecuteRequest request;
    request.set_endpoint("/filter");
    request.set_request_encoding("json");
    request.set_data_str(Filter("t", "k > 0").dump());
    pb::GpudbResponse response;
    const grpc::Status status = c.TryExecute(request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
    EXPECT_TRUE(Contains(status.error_message(), "retry later")) << status.error_message();
    const json shown = ShowJobs(json::object());
    EXPECT_GE(shown["job_id"].size(), static_cast<size_t>(kMaxQueued));
  }

  gate.Open();
  for (const auto& [id, threshold] : accepted) {
    EXPECT_EQ(FinishedJson(c, id)["count"], expected(threshold)) << "job " << id;
  }
  // Accepting again.
  const auto [id, tag] = c.SubmitJson("/filter", Filter("t", "k > 0"));
  EXPECT_EQ(FinishedJson(c, id)["count"], expected(0));
}

TEST_F(LifecycleTest, OversizedMessageRefused) {
  server::ServerOptions options = Options();
  options.max_message_bytes = 1 << 20;
  Start(options);
  Client& c = *client_;
  c.Json("/create/table", {{"table_name", "w"}, {"type_id", R"([["s","string"]])"}}, "create_table_response");
  ASSERT_FALSE(HasFailure());
  auto insert_of = [](size_t bytes) {
    json list = json::array();
    for (size_t n = 0; n < bytes; n += 1000) list.push_back(json({{"s", std::string(990, 'x')}}).dump());
    return json({{"table_name", "w"}, {"list_str", list}, {"list_encoding", "json"}});
  };
  const json big = insert_of(2 << 20);
  pb::ExecuteRequest execute;
  execute.set_endpoint("/insert/records");
  execute.set_request_encoding("json");
  execute.set_data_str(big.dump());
  pb::GpudbResponse response;
  grpc::Status status = c.TryExecute(execute, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  pb::CreateJobRequest create;
  create.set_endpoint("/insert/records");
  create.set_request_encoding("json");
  create.set_data_str(big.dump());
  status = c.TryCreateJob(create, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << status.error_message();
  // Still serving, on the same channel; a request under the limit works.
  ExpectServing();
  EXPECT_EQ(c.Json("/insert/records", insert_of(512 << 10), "insert_records_response")["count_inserted"],
            (512 << 10) / 1000 + 1);
  EXPECT_EQ(TableSize("w"), (512 << 10) / 1000 + 1);
}

// ---------------------------------------------------------------------------
// 9. Destruction with calls open.

TEST_F(LifecycleTest, DestroyingTheServerAnswersEveryOpenCallBeforeTheEngineGoes) {
  // Open while the server is destroyed: watches of a parked job, GetJob
  // waits whose timers keep firing, and Execute calls queued behind the job.
  // Every call ends with an answer (the job's final record, an error
  // wrapper, or a gRPC error), and the engine goes only after the last of
  // them: a watch's OnDone and a wait's timer reached the engine after
  // answering, which ThreadSanitizer saw as unordered with its destruction.
  Start();
  MakeRandomTable("t", R"([["v","int"]])", 1000, 7);
  ASSERT_FALSE(HasFailure());
  auto gate = std::make_unique<StreamGate>(engine());
  const int64_t id = client_->SubmitJson("/filter", Filter("t", "v > 0")).first;
  constexpr int kWatches = 4;
  constexpr int kWaiters = 4;
  constexpr int kExecutes = 2;
  std::atomic<int> watches_ended{0}, waits_ended{0}, executes_ended{0};
  std::vector<std::thread> clients;
  std::atomic<int> watching{0};
  for (int i = 0; i < kWatches; ++i) {
    clients.emplace_back([&, channel = channel_] {
      Client c(channel);
      grpc::Status status;
      bool first = true;
      const std::vector<pb::GpudbResponse> messages = c.Watch(id, "", &status, [&](const pb::GpudbResponse&) {
        if (first) ++watching;  // the job's record while it waits
        first = false;
      });
      if (status.ok()) {
        // The stream ended with the job's final record.
        ASSERT_FALSE(messages.empty());
        pb::GetJobResponse job;
        ASSERT_TRUE(job.ParseFromString(messages.back().data())) << messages.back().message();
        EXPECT_FALSE(job.running()) << job.job_status();
      }
      ++watches_ended;
    });
  }
  for (int i = 0; i < kWaiters; ++i) {
    clients.emplace_back([&, channel = channel_, i] {
      Client c(channel);
      pb::GetJobRequest request;
      request.set_job_id(id);
      for (int n = 0;; ++n) {
        (*request.mutable_options())["wait_timeout_ms"] = std::to_string(1 + (i + n) % 7);
        pb::GpudbResponse response;
        const grpc::Status status = c.TryGetJob(request, &response, 30);
        if (!status.ok()) break;  // the server has gone
        pb::GetJobResponse job;
        if (response.status() != "OK" || (job.ParseFromString(response.data()) && !job.running())) break;
      }
      ++waits_ended;
    });
  }
  for (int i = 0; i < kExecutes; ++i) {
    clients.emplace_back([&, channel = channel_] {
      Client c(channel);
      pb::ExecuteRequest request;
      request.set_endpoint("/filter");
      request.set_request_encoding("json");
      request.set_data_str(Filter("t", "v > 0").dump());
      pb::GpudbResponse response;
      const grpc::Status status = c.TryExecute(request, &response, 30);
      if (status.ok()) EXPECT_TRUE(response.status() == "OK" || response.status() == "ERROR") << response.status();
      ++executes_ended;
    });
  }
  // Every watch is registered and every Execute has its job queued.
  EXPECT_TRUE(PollUntil([&] { return watching.load() == kWatches; }));
  EXPECT_TRUE(PollUntil([&] { return engine().tracker().List().size() >= 1 + kExecutes; }));
  engine::Engine* engine = &this->engine();
  server::Server* server = server_.release();
  std::thread destroyer([server] { delete server; });
  EXPECT_TRUE(PollUntil([&] { return engine->draining(); })) << "shutdown did not begin";
  gate->Open();
  destroyer.join();
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(watches_ended.load(), kWatches);
  EXPECT_EQ(waits_ended.load(), kWaiters);
  EXPECT_EQ(executes_ended.load(), kExecutes);
}

}  // namespace
