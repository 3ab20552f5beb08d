// gpudb-soak: the load-and-soak harness with exactly-once accounting.
//
// N gRPC clients (one thread and one connection each) drive M mixed jobs each
// against one table set: inserts, filters, group-bys, reads by job tag,
// remove_job_on_complete, cancels (of inserts and of filters), waits
// (GetJob with wait_timeout_ms), watches (WatchJob) and synchronous calls
// (Execute); every 50th step a client submits a burst of jobs at once, so
// that a small --max-queued-jobs overflows. Then it checks, and counts every
// violation:
// - every accepted job reaches exactly one final state: DONE, ERROR or
//   CANCELLED, read again unchanged (a removed job reads as removed), a
//   watch ends with that state and sends nothing after it;
// - every result matches a reference computed here (filters count rows of a
//   table whose contents are known; group-bys match per group);
// - inserts are neither lost nor doubled: per client, the rows of the jobs
//   that ended DONE and only those (count, sum and sum of squares of their
//   sequence numbers), cancelled inserts leave nothing;
// - a refused submission is RESOURCE_EXHAUSTED and nothing else;
// - after the run and the jobs' expiry (--job-ttl of the server) the server
//   holds no job and no result, its device memory is back to its baseline
//   (taken after setup) and its resident memory within --rss-slack-mb of
//   it. (The tombstones of expired jobs last another TTL; the count is
//   printed, and includes those of this harness's own status calls.)
//
// With --injected-failures, allocations fail at random: a job may then end
// in ERROR saying so (counted apart), and an insert that failed must have
// left no row.
//
// Exit codes: 0 no violation; 1 violations (the first ones are printed);
// 2 bad flags, no server or a failed setup.

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "engine/api/json.h"
#include "kernels/memory.h"
#include "proto/gpudb.grpc.pb.h"
#include "server/command_line.h"
#include "server/server.h"

ABSL_FLAG(std::string, target, "127.0.0.1:9190", "Server address host:port (ignored with --in_process).");
ABSL_FLAG(bool, in_process, false,
          "Start a server inside this process (host device, memory only, --job-ttl=5s, --max-queued-jobs=32).");
ABSL_FLAG(int, clients, 64, "Concurrent clients: one thread and one gRPC connection each.");
ABSL_FLAG(int, jobs, 20000, "Steps each client takes (a step is one job, or a burst every 50th step).");
ABSL_FLAG(int, rows, 100000, "Rows of the reference table the reads run against.");
ABSL_FLAG(int, burst, 16, "Jobs a client submits at once every 50th step.");
ABSL_FLAG(int, expire_wait_s, 120,
          "Seconds to wait after the run for the server's jobs to expire and its memory to return.");
ABSL_FLAG(int, rss_slack_mb, 64, "Resident memory the server may keep above its baseline after the jobs expire.");
ABSL_FLAG(double, injected_failures, 0,
          "Allocations fail at random with this probability (a fault test): set in the --in-process server "
          "after setup, or expected of a --target server started with GPUDB_INJECT_ALLOCATION_FAILURES. Jobs "
          "may then end in ERROR saying the failure was injected, and must leave no trace.");
ABSL_FLAG(bool, quiet, false, "No progress line.");

namespace {

namespace pb = gpudb::v1;
using engine::Json;
using Clock = std::chrono::steady_clock;

constexpr char kRef[] = "soak_ref";
constexpr char kIns[] = "soak_ins";
constexpr int kGroups = 97;
constexpr int kModulus = 10007;
constexpr int kRowsPerInsert = 5;

// Resident memory means little under a sanitizer (AddressSanitizer keeps
// freed memory in quarantine, ThreadSanitizer shadows it): not checked there.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || defined(GPUDB_TSAN)
constexpr bool kCheckResidentMemory = false;
#else
constexpr bool kCheckResidentMemory = true;
#endif

int Fail(const std::string& message) {
  std::fprintf(stderr, "gpudb-soak: %s\n", message.c_str());
  return 2;
}

// The reference table: row i has k = i % 97 and x = i * 7919 % 10007.
struct Reference {
  std::vector<int64_t> below;       // below[t]: rows with x < t
  std::vector<int64_t> count, sum;  // per k
  explicit Reference(int rows) : below(kModulus + 1), count(kGroups), sum(kGroups) {
    std::vector<int64_t> histogram(kModulus);
    for (int64_t i = 0; i < rows; ++i) {
      const int64_t x = i * 7919 % kModulus;
      ++histogram[x];
      ++count[i % kGroups];
      sum[i % kGroups] += x;
    }
    for (int t = 0; t < kModulus; ++t) below[t + 1] = below[t] + histogram[t];
  }
};

// Violations, kept in full count and the first few in words.
class Violations {
 public:
  void Add(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (count_++ < 20) first_.push_back(what);
  }
  int64_t count() const {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }
  std::vector<std::string> first() const {
    std::lock_guard<std::mutex> lock(mu_);
    return first_;
  }

 private:
  mutable std::mutex mu_;
  int64_t count_ = 0;
  std::vector<std::string> first_;
};

enum class Kind { kInsert, kFilter, kGroupBy, kTag, kRemove, kCancelInsert, kCancelFilter, kWatch, kExecute, kBurst };
constexpr const char* kKindNames[] = {"insert",        "filter",        "groupby", "by-tag",  "remove-on-complete",
                                      "cancel-insert", "cancel-filter", "watch",   "execute", "burst"};
constexpr int kKinds = 10;

// What a client saw, merged at the end.
struct Tally {
  int64_t accepted = 0, refused = 0, done = 0, errors = 0, cancelled = 0, injected = 0;
  int64_t by_kind[kKinds] = {};
  std::vector<double> latency_ms;
  // Insert accounting of this client: rows, sum and sum of squares of seq.
  int64_t rows = 0, seq_sum = 0, seq_sq_sum = 0;
};

class Client {
 public:
  Client(int id, const std::string& target, const Reference& ref, Violations& v) : id_(id), ref_(ref), violations_(v) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(-1);
    channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    stub_ = pb::Gpudb::NewStub(channel_);
  }
  // An error a fault test expects: an injected allocation failure.
  static bool Injected(absl::string_view message) {
    return absl::GetFlag(FLAGS_injected_failures) > 0 && absl::StrContains(message, "an injected failure");
  }

  // Execute, again while it fails by an injected fault (setup and checks).
  absl::StatusOr<Json> ExecuteRetrying(const std::string& endpoint, const Json& request) {
    absl::StatusOr<Json> r;
    for (int attempt = 0; attempt < 1000; ++attempt) {
      r = Execute(endpoint, request);
      if (r.ok() || !Injected(r.status().message())) break;
    }
    return r;
  }

  bool Connect() { return channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10)); }

  // A synchronous json call; the response record, or an error.
  absl::StatusOr<Json> Execute(const std::string& endpoint, const Json& request) {
    pb::ExecuteRequest call;
    call.set_endpoint(endpoint);
    call.set_request_encoding("json");
    call.set_data_str(request.dump());
    pb::GpudbResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
    const grpc::Status s = stub_->Execute(&context, call, &response);
    if (!s.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                          absl::StrCat(endpoint, ": gRPC ", s.error_message()));
    }
    if (response.status() != "OK") return absl::UnknownError(absl::StrCat(endpoint, ": ", response.message()));
    return Json::parse(response.data_str());
  }

  void Run(int steps, int burst, std::atomic<int64_t>& progress, Tally& t) {
    for (int i = 0; i < steps; ++i) {
      const Clock::time_point t0 = Clock::now();
      const Kind kind = i % 50 == 49 ? Kind::kBurst : static_cast<Kind>((id_ * 7 + i) % (kKinds - 1));
      Step(kind, i, burst, t);
      ++t.by_kind[static_cast<int>(kind)];
      t.latency_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      progress.fetch_add(1, std::memory_order_relaxed);
    }
  }

 private:
  // A job to submit, and what its result must be.
  struct Job {
    std::string endpoint;
    Json request;
    int64_t expect_count = -1;  // /filter: rows; /insert/records: rows inserted
    bool groupby = false;
    int seq = -1;  // an insert's sequence number
    int64_t id = 0;
  };

  Job Filter(int i) const {
    const int t = (id_ * 31 + i * 17) % kModulus;
    return Job{"/filter",
               Json{{"table_name", kRef},
                    {"view_name", ""},
                    {"expression", absl::StrCat("x < ", t)},
                    {"options", Json::object()}},
               ref_.below[t]};
  }
  Job GroupBy() const {
    Job job{"/aggregate/groupby", Json{{"table_name", kRef},
                                       {"column_names", {"k", "count(*)", "sum(x)"}},
                                       {"offset", 0},
                                       {"limit", 1000},
                                       {"encoding", "json"},
                                       {"options", Json::object()}}};
    job.groupby = true;
    return job;
  }
  Job Insert(int i) const {
    Json records = Json::array();
    for (int r = 0; r < kRowsPerInsert; ++r) {
      records.push_back(Json{{"client", id_}, {"seq", i}, {"v", r}}.dump());
    }
    Job job{"/insert/records",
            Json{{"table_name", kIns},
                 {"list", Json::array()},
                 {"list_str", records},
                 {"list_encoding", "json"},
                 {"options", Json::object()}},
            kRowsPerInsert};
    job.seq = i;
    return job;
  }

  void Violation(const Job& job, const std::string& what) {
    violations_.Add(absl::StrCat("client ", id_, " ", job.endpoint, " job ", job.id, ": ", what));
  }

  // Checks a DONE job's result against the reference.
  void CheckResult(const Job& job, const std::string& text) {
    Json r = Json::parse(text, nullptr, false);
    if (!r.is_object()) return Violation(job, "the result is not a JSON object");
    if (job.endpoint == "/filter") {
      if (r.value("count", int64_t{-1}) != job.expect_count) {
        Violation(job, absl::StrCat("count ", r.value("count", int64_t{-1}), ", expected ", job.expect_count));
      }
    } else if (job.endpoint == "/insert/records") {
      if (r.value("count_inserted", int64_t{-1}) != job.expect_count) {
        Violation(job, absl::StrCat("count_inserted ", r.value("count_inserted", int64_t{-1})));
      }
    } else if (job.groupby) {
      Json cols = Json::parse(r.value("json_encoded_response", ""), nullptr, false);
      if (!cols.is_object() || !cols["column_1"].is_array()) return Violation(job, "no json_encoded_response");
      const Json &k = cols["column_1"], &n = cols["column_2"], &s = cols["column_3"];
      if (k.size() != kGroups) return Violation(job, absl::StrCat(k.size(), " groups, expected ", kGroups));
      for (size_t g = 0; g < k.size(); ++g) {
        const int key = k[g].get<int>();
        if (key < 0 || key >= kGroups || n[g].get<int64_t>() != ref_.count[key] ||
            s[g].get<int64_t>() != ref_.sum[key]) {
          return Violation(job, absl::StrCat("group ", k[g].dump(), " is (", n[g].dump(), ", ", s[g].dump(), ")"));
        }
      }
    }
  }

  // CreateJob until accepted; false when refused for good (a violation).
  bool Create(Job& job, const std::map<std::string, std::string>& options, Tally& t) {
    pb::CreateJobRequest create;
    create.set_endpoint(job.endpoint);
    create.set_request_encoding("json");
    create.set_data_str(job.request.dump());
    for (const auto& [k, v] : options) (*create.mutable_options())[k] = v;
    for (int attempt = 0;; ++attempt) {
      pb::GpudbResponse created;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      const grpc::Status s = stub_->CreateJob(&context, create, &created);
      if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
        ++t.refused;
        std::this_thread::sleep_for(std::chrono::milliseconds(1 + attempt % 20));
        continue;
      }
      if (!s.ok() || created.status() != "OK") {
        Violation(job, absl::StrCat("CreateJob failed: ", s.ok() ? created.message() : s.error_message()));
        return false;
      }
      pb::CreateJobResponse response;
      response.ParseFromString(created.data());
      job.id = response.job_id();
      ++t.accepted;
      return true;
    }
  }

  // GetJob by id (or by tag), waiting up to 60 s at a time, until final.
  // False on a failure (counted as a violation).
  bool Wait(Job& job, pb::GetJobResponse* state, const std::string& tag = "") {
    pb::GetJobRequest get;
    if (tag.empty())
      get.set_job_id(job.id);
    else
      (*get.mutable_options())["job_tag"] = tag;
    (*get.mutable_options())["wait_timeout_ms"] = "60000";
    for (int calls = 0; calls < 20; ++calls) {
      if (!Get(get, state, &job)) return false;
      if (!state->running()) return true;
    }
    Violation(job, "still running after 20 minutes");
    return false;
  }

  bool Get(const pb::GetJobRequest& get, pb::GetJobResponse* state, Job* job, std::string* error = nullptr) {
    pb::GpudbResponse got;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    const grpc::Status s = stub_->GetJob(&context, get, &got);
    if (s.ok() && got.status() == "OK" && state->ParseFromString(got.data())) return true;
    const std::string message = s.ok() ? got.message() : s.error_message();
    if (error != nullptr)
      *error = message;
    else
      Violation(*job, absl::StrCat("GetJob failed: ", message));
    return false;
  }

  // A final state, counted; its result checked when DONE. Returns it.
  std::string Final(Job& job, const pb::GetJobResponse& state, Tally& t, bool may_cancel) {
    const std::string& s = state.job_status();
    auto error = state.status_map().find("error_message");
    const std::string message = error == state.status_map().end() ? "" : error->second;
    if (s == "DONE") {
      ++t.done;
      CheckResult(job, state.job_response_str());
    } else if (s == "CANCELLED" && may_cancel) {
      ++t.cancelled;
    } else if (s == "ERROR" && Injected(message)) {
      ++t.injected;
    } else {
      ++t.errors;
      Violation(job, absl::StrCat("ended ", s, ": ", message));
    }
    if (job.seq >= 0 && s == "DONE") {
      t.rows += kRowsPerInsert;
      t.seq_sum += int64_t{kRowsPerInsert} * job.seq;
      t.seq_sq_sum += int64_t{kRowsPerInsert} * job.seq * job.seq;
    }
    return s;
  }

  // Read again: the same final state.
  void Reread(Job& job, const std::string& final_state) {
    pb::GetJobRequest get;
    get.set_job_id(job.id);
    pb::GetJobResponse again;
    if (Get(get, &again, &job) && (again.running() || again.job_status() != final_state)) {
      Violation(job, absl::StrCat("ended ", final_state, ", read again ", again.job_status()));
    }
  }

  void Cancel(Job& job) {
    auto r =
        Execute("/admin/alter/jobs", Json{{"job_ids", {job.id}}, {"action", "cancel"}, {"options", Json::object()}});
    if (!r.ok()) Violation(job, absl::StrCat("cancel: ", r.status().message()));
  }

  void Step(Kind kind, int i, int burst, Tally& t) {
    pb::GetJobResponse state;
    switch (kind) {
      case Kind::kInsert:
      case Kind::kFilter:
      case Kind::kGroupBy: {
        Job job = kind == Kind::kInsert ? Insert(i) : kind == Kind::kFilter ? Filter(i) : GroupBy();
        if (!Create(job, {}, t) || !Wait(job, &state)) return;
        Reread(job, Final(job, state, t, false));
        return;
      }
      case Kind::kTag: {
        Job job = Filter(i);
        const std::string tag = absl::StrCat("soak-", id_, "-", i);
        if (!Create(job, {{"job_tag", tag}}, t) || !Wait(job, &state, tag)) return;
        Final(job, state, t, false);
        return;
      }
      case Kind::kRemove: {
        Job job = i % 2 ? Filter(i) : GroupBy();
        if (!Create(job, {{"remove_job_on_complete", "true"}}, t) || !Wait(job, &state)) return;
        Final(job, state, t, false);
        pb::GetJobRequest get;
        get.set_job_id(job.id);
        pb::GetJobResponse again;
        std::string error;
        if (Get(get, &again, &job, &error)) {
          Violation(job, absl::StrCat("read again after its result was returned: ", again.job_status()));
        } else if (!absl::StrContains(error, "removed")) {
          Violation(job, absl::StrCat("read again: '", error, "', expected 'removed'"));
        }
        return;
      }
      case Kind::kCancelInsert:
      case Kind::kCancelFilter: {
        Job job = kind == Kind::kCancelInsert ? Insert(i) : Filter(i);
        if (!Create(job, {}, t)) return;
        Cancel(job);
        if (!Wait(job, &state)) return;
        Reread(job, Final(job, state, t, true));
        return;
      }
      case Kind::kWatch: {
        Job job = GroupBy();
        if (!Create(job, {}, t)) return;
        Watch(job, t);
        return;
      }
      case Kind::kExecute: {
        Job job = Filter(i);
        absl::StatusOr<Json> r;
        for (int attempt = 0;; ++attempt) {
          r = Execute(job.endpoint, job.request);
          if (r.status().code() != absl::StatusCode::kResourceExhausted) break;
          ++t.refused;
          std::this_thread::sleep_for(std::chrono::milliseconds(1 + attempt % 20));
        }
        ++t.accepted;
        if (!r.ok() && Injected(r.status().message())) {
          ++t.injected;
          return;
        }
        if (!r.ok()) {
          ++t.errors;
          return Violation(job, std::string(r.status().message()));
        }
        ++t.done;
        CheckResult(job, r->dump());
        return;
      }
      case Kind::kBurst: {
        std::vector<Job> jobs;
        for (int b = 0; b < burst; ++b) {
          jobs.push_back(b % 4 == 3 ? GroupBy() : Filter(i + b));
          if (!Create(jobs.back(), {}, t)) jobs.pop_back();
        }
        for (Job& job : jobs) {
          if (Wait(job, &state)) Final(job, state, t, false);
        }
        return;
      }
    }
  }

  // WatchJob until the stream ends: progress never goes back, the last
  // message is the final state, nothing comes after it.
  void Watch(Job& job, Tally& t) {
    pb::GetJobRequest get;
    get.set_job_id(job.id);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
    auto reader = stub_->WatchJob(&context, get);
    pb::GpudbResponse message;
    pb::GetJobResponse state, last;
    bool final_seen = false;
    int progress = -1;
    while (reader->Read(&message)) {
      if (final_seen) Violation(job, "a message after the final state");
      if (message.status() != "OK" || !state.ParseFromString(message.data())) {
        Violation(job, absl::StrCat("watch: ", message.message()));
        continue;
      }
      if (state.progress() < progress) Violation(job, "progress went back");
      progress = state.progress();
      final_seen = !state.running();
      last = state;
    }
    const grpc::Status s = reader->Finish();
    if (!s.ok()) return Violation(job, absl::StrCat("watch ended: ", s.error_message()));
    if (!final_seen) return Violation(job, "watch ended without the final state");
    Final(job, last, t, false);
  }

  int id_;
  const Reference& ref_;
  Violations& violations_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Gpudb::Stub> stub_;
};

// The server's figures from /show/system/status.
struct ServerState {
  int64_t jobs = 0, tombstones = 0, result_bytes = 0, device_in_use = 0, rss = 0, peak_rss = 0;
};

absl::StatusOr<ServerState> Status(Client& admin) {
  auto r = admin.ExecuteRetrying("/show/system/status", Json::object());
  if (!r.ok()) return r.status();
  Json system = Json::parse((*r)["status_map"].value("system", "{}"));
  ServerState s;
  s.jobs = system.value("jobs", int64_t{0});
  s.tombstones = system.value("job_tombstones", int64_t{0});
  s.result_bytes = system.value("result_bytes", int64_t{0});
  s.rss = system.value("host_resident_bytes", int64_t{0});
  s.peak_rss = system.value("host_peak_resident_bytes", int64_t{0});
  for (const Json& d : system["devices"]) s.device_in_use += d.value("memory_in_use", int64_t{0});
  return s;
}

std::string Mib(int64_t bytes) { return absl::StrFormat("%.1f MiB", bytes / 1048576.0); }

absl::Status Setup(Client& admin, int rows) {
  for (const char* table : {kRef, kIns}) {
    auto r = admin.ExecuteRetrying("/clear/table",
                                   Json{{"table_name", table}, {"options", Json{{"no_error_if_not_exists", "true"}}}});
    if (!r.ok()) return r.status();
  }
  for (const auto& [table, type] : {std::pair{kRef, R"([["id","long"],["k","int"],["x","long"]])"},
                                    std::pair{kIns, R"([["client","int"],["seq","long"],["v","int"]])"}}) {
    auto r = admin.ExecuteRetrying("/create/table", Json{{"table_name", table}, {"type_id", type}});
    if (!r.ok()) return r.status();
  }
  for (int from = 0; from < rows; from += 10000) {
    Json records = Json::array();
    for (int64_t i = from; i < std::min(rows, from + 10000); ++i) {
      records.push_back(Json{{"id", i}, {"k", i % kGroups}, {"x", i * 7919 % kModulus}}.dump());
    }
    auto r = admin.ExecuteRetrying("/insert/records", Json{{"table_name", kRef},
                                                           {"list", Json::array()},
                                                           {"list_str", records},
                                                           {"list_encoding", "json"},
                                                           {"options", Json::object()}});
    if (!r.ok()) return r.status();
  }
  return absl::OkStatus();
}

// Per client: rows, sum and sum of squares of seq in the insert table.
absl::StatusOr<std::map<int, std::vector<int64_t>>> Inserted(Client& admin) {
  auto r = admin.ExecuteRetrying("/aggregate/groupby",
                                 Json{{"table_name", kIns},
                                      {"column_names", {"client", "count(*)", "sum(seq)", "sum(seq*seq)"}},
                                      {"offset", 0},
                                      {"limit", 100000},
                                      {"encoding", "json"},
                                      {"options", Json::object()}});
  if (!r.ok()) return r.status();
  Json cols = Json::parse(r->value("json_encoded_response", "{}"));
  std::map<int, std::vector<int64_t>> out;
  for (size_t g = 0; g < cols["column_1"].size(); ++g) {
    out[cols["column_1"][g].get<int>()] = {cols["column_2"][g].get<int64_t>(), cols["column_3"][g].get<int64_t>(),
                                           cols["column_4"][g].get<int64_t>()};
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  server::ParseCommandLine(argc, argv, "gpudb_soak.cc",
                           "the load-and-soak harness of gpudb-engine, with exactly-once accounting.\n"
                           "Usage: gpudb-soak [--target=127.0.0.1:9190 | --in-process] [--clients=64] [--jobs=20000]");
  const int n = absl::GetFlag(FLAGS_clients), m = absl::GetFlag(FLAGS_jobs), rows = absl::GetFlag(FLAGS_rows);
  const int burst = absl::GetFlag(FLAGS_burst);
  if (n < 1) return Fail("--clients: must be at least 1");
  if (m < 1) return Fail("--jobs: must be at least 1");
  if (rows < kGroups) return Fail(absl::StrCat("--rows: must be at least ", kGroups));
  if (burst < 1) return Fail("--burst: must be at least 1");

  std::unique_ptr<server::Server> in_process;
  std::string target = absl::GetFlag(FLAGS_target);
  if (absl::GetFlag(FLAGS_in_process)) {
    server::ServerOptions options;
    options.grpc_port = 0;
    options.engine.devices.spec = "host";
    // Long enough that a client descheduled between its job's end and its
    // GetJob still finds the job (CI's sanitizer pass on a loaded 2-core
    // machine saw steps of 2.2 s, and 1 s expired jobs under the clients).
    options.engine.jobs.ttl = absl::Seconds(5);
    options.engine.max_queued_jobs = 32;
    auto started = server::Server::Start(options);
    if (!started.ok()) return Fail(absl::StrCat("--in_process: ", started.status().message()));
    in_process = *std::move(started);
    target = absl::StrCat("127.0.0.1:", in_process->grpc_port());
  }

  const Reference ref(rows);
  Violations violations;
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < n; ++c) {
    clients.push_back(std::make_unique<Client>(c, target, ref, violations));
    if (!clients.back()->Connect()) return Fail(absl::StrCat("cannot connect to ", target, " within 10 s"));
  }
  Client& admin = *clients[0];
  if (absl::Status s = Setup(admin, rows); !s.ok()) return Fail(absl::StrCat("setup: ", s.message()));
  auto baseline = Status(admin);
  if (!baseline.ok()) return Fail(std::string(baseline.status().message()));
  const double injected = absl::GetFlag(FLAGS_injected_failures);
  if (injected < 0 || injected > 1) return Fail("--injected_failures: expected a probability from 0 to 1");
  if (in_process != nullptr && injected > 0) kernels::InjectAllocationFailures(injected);

  // The run.
  std::vector<Tally> tallies(n);
  std::atomic<int64_t> progress{0};
  const Clock::time_point t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < n; ++c) {
    threads.emplace_back([&, c] { clients[c]->Run(m, burst, progress, tallies[c]); });
  }
  const bool show = !absl::GetFlag(FLAGS_quiet) && isatty(STDERR_FILENO);
  std::atomic<bool> running{true};
  std::thread bar([&] {
    while (show && running.load()) {
      std::fprintf(stderr, "\r%" PRId64 " / %lld steps, %" PRId64 " violations", progress.load(),
                   static_cast<long long>(n) * m, violations.count());
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  for (auto& t : threads) t.join();
  running = false;
  bar.join();
  if (show) std::fprintf(stderr, "\n");
  const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();

  Tally all;
  std::vector<double> latency;
  for (const Tally& t : tallies) {
    all.accepted += t.accepted;
    all.refused += t.refused;
    all.done += t.done;
    all.errors += t.errors;
    all.cancelled += t.cancelled;
    all.injected += t.injected;
    for (int k = 0; k < kKinds; ++k) all.by_kind[k] += t.by_kind[k];
    latency.insert(latency.end(), t.latency_ms.begin(), t.latency_ms.end());
  }
  std::sort(latency.begin(), latency.end());
  auto pct = [&](double p) { return latency[std::min(latency.size() - 1, static_cast<size_t>(p * latency.size()))]; };
  if (all.done + all.errors + all.cancelled + all.injected != all.accepted) {
    violations.Add(absl::StrCat(all.accepted, " jobs accepted, ", all.done + all.errors + all.cancelled + all.injected,
                                " reached a final state"));
  }

  // The checks run without injected faults where this process can say so.
  if (in_process != nullptr) kernels::InjectAllocationFailures(0);

  // Inserts: exactly the rows of the inserts that ended DONE, per client.
  auto inserted = Inserted(admin);
  if (!inserted.ok()) {
    violations.Add(absl::StrCat("reading the insert table: ", inserted.status().message()));
  } else {
    for (int c = 0; c < n; ++c) {
      const Tally& t = tallies[c];
      const std::vector<int64_t> want = {t.rows, t.seq_sum, t.seq_sq_sum};
      auto it = inserted->find(c);
      const std::vector<int64_t> got = it == inserted->end() ? std::vector<int64_t>{0, 0, 0} : it->second;
      if (got != want) {
        violations.Add(
            absl::StrFormat("client %d: inserted rows (count, sum seq, sum seq^2) are (%d, %d, %d), "
                            "the DONE inserts make (%d, %d, %d)",
                            c, got[0], got[1], got[2], want[0], want[1], want[2]));
      }
    }
  }
  int64_t inserted_rows = 0;
  for (const Tally& t : tallies) inserted_rows += t.rows;

  // Memory: clear the insert table (empty at the baseline), wait for the
  // jobs to expire, compare.
  if (auto r = admin.ExecuteRetrying("/clear/table", Json{{"table_name", kIns}, {"options", Json::object()}});
      !r.ok()) {
    violations.Add(std::string(r.status().message()));
  }
  if (auto r = admin.ExecuteRetrying(
          "/create/table", Json{{"table_name", kIns}, {"type_id", R"([["client","int"],["seq","long"],["v","int"]])"}});
      !r.ok()) {
    violations.Add(std::string(r.status().message()));
  }
  absl::StatusOr<ServerState> after = Status(admin);
  const Clock::time_point expire_from = Clock::now();
  const int64_t slack = int64_t{absl::GetFlag(FLAGS_rss_slack_mb)} << 20;
  while (after.ok() &&
         (after->jobs > baseline->jobs || after->result_bytes > baseline->result_bytes ||
          (kCheckResidentMemory && after->rss > baseline->rss + slack)) &&
         Clock::now() - expire_from < std::chrono::seconds(absl::GetFlag(FLAGS_expire_wait_s))) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    after = Status(admin);
  }
  const double expire_s = std::chrono::duration<double>(Clock::now() - expire_from).count();
  if (!after.ok()) {
    violations.Add(std::string(after.status().message()));
  } else {
    if (after->jobs > baseline->jobs || after->result_bytes > baseline->result_bytes) {
      violations.Add(absl::StrCat("after ", expire_s, " s the server still holds ", after->jobs, " jobs and ",
                                  after->result_bytes, " result bytes (baseline ", baseline->jobs, " and ",
                                  baseline->result_bytes, ")"));
    }
    if (after->device_in_use != baseline->device_in_use) {
      violations.Add(
          absl::StrCat("device memory in use ", after->device_in_use, " bytes, baseline ", baseline->device_in_use));
    }
    if (kCheckResidentMemory && after->rss > baseline->rss + slack) {
      violations.Add(absl::StrCat("resident memory ", Mib(after->rss), ", baseline ", Mib(baseline->rss), " (slack ",
                                  Mib(slack), ")"));
    }
  }

  std::printf("gpudb-soak: %d clients x %d steps in %.1f s: %" PRId64 " jobs accepted (%.0f jobs/s), %" PRId64
              " done, %" PRId64 " cancelled, %" PRId64 " failed by injected faults, %" PRId64 " other errors; %" PRId64
              " submissions refused (RESOURCE_EXHAUSTED, retried)\n",
              n, m, seconds, all.accepted, all.accepted / seconds, all.done, all.cancelled, all.injected, all.errors,
              all.refused);
  std::printf("steps:");
  for (int k = 0; k < kKinds; ++k)
    std::printf(" %s %" PRId64 "%s", kKindNames[k], all.by_kind[k], k + 1 < kKinds ? "," : "\n");
  std::printf("step latency: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", pct(0.5), pct(0.99), latency.back());
  std::printf("inserts: %" PRId64 " rows from the DONE inserts, every client's rows exact: %s\n", inserted_rows,
              inserted.ok() ? "checked" : "unread");
  if (after.ok()) {
    std::printf(
        "server memory: resident %s at the baseline, peak %s, %s after the jobs expired (%.1f s); device "
        "in use %s, baseline %s; jobs held %" PRId64 ", tombstones %" PRId64 ", result bytes %" PRId64 "\n",
        Mib(baseline->rss).c_str(), Mib(after->peak_rss).c_str(), Mib(after->rss).c_str(), expire_s,
        Mib(after->device_in_use).c_str(), Mib(baseline->device_in_use).c_str(), after->jobs, after->tombstones,
        after->result_bytes);
  }
  const int64_t bad = violations.count();
  std::printf("violations: %" PRId64 "\n", bad);
  for (const std::string& v : violations.first()) std::printf("  %s\n", v.c_str());
  return bad == 0 ? 0 : 1;
}
