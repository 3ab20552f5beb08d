// gpudb-bench: a job load harness for gpudb-engine.
//
// N concurrent gRPC clients (one thread and one connection each) submit M
// jobs each of one endpoint and payload, and wait for every result. Reports
// jobs/s, latency percentiles, errors by kind, the server's peak memory
// (/show/system/status), and, measured in the same run with the same client
// count, the round trip of a plain unary gRPC call (grpc.health.v1.Health/
// Check) against the round trip of a trivial job (/has/table), and their
// ratio. A create-wait job is two RPCs (CreateJob, then GetJob with
// options.wait_timeout_ms), so its floor is about twice the plain call.
// With --http, the same trivial call (/has/table, synchronous) over
// Kinetica's HTTP transport (POST, one keep-alive connection per client)
// beside gRPC (Execute), and the HTTP/gRPC ratios of p50, p90 and p99.
//
// Phases, in order: optional setup (a table of --setup random rows), a
// probe job (a payload the server rejects stops the run), the baseline
// (health checks and trivial jobs in alternating slices, --rounds), with
// --http gRPC and HTTP calls in alternating slices, the measured endpoint
// (the trivial-job slices themselves when it is the default /has/table).
// Each phase starts after --warmup unmeasured calls per client, all clients
// together.
//
// Exit codes: 0 every job succeeded; 1 some jobs failed (see errors);
// 2 bad flags, no server, or a failed setup or probe.

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <httplib.h>
#include <grpcpp/impl/codegen/rpc_method.h>
#include <snappy.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <condition_variable>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "engine/api/schema.h"
#include "engine/api/json.h"
#include "proto/gpudb.grpc.pb.h"
#include "server/avro_codec.h"
#include "server/codec.h"
#include "server/command_line.h"
#include "server/server.h"

ABSL_FLAG(std::string, target, "127.0.0.1:9190", "Server address host:port (ignored with --in_process).");
ABSL_FLAG(int, clients, 4, "Concurrent clients: one thread and one gRPC connection each.");
ABSL_FLAG(int, jobs, 100, "Jobs each client submits (measured; the warm-up comes on top).");
ABSL_FLAG(std::string, endpoint, "/has/table", "Endpoint the jobs run, e.g. /filter, /aggregate/statistics.");
ABSL_FLAG(std::string, payload, "",
          "The endpoint's request as JSON text, or @FILE; $TABLE stands for --table. Empty: a default for "
          "/has/table, /show/table, /filter, /aggregate/statistics and /aggregate/minmax over --table.");
ABSL_FLAG(std::string, encoding, "binary",
          "Request encoding: binary (the protobuf message, converted from the JSON payload), snappy, json.");
ABSL_FLAG(std::string, mode, "create-wait",
          "create-wait: CreateJob, then GetJob with options.wait_timeout_ms; create-poll: CreateJob, then "
          "GetJob every --poll_interval_us until done; execute: one synchronous Execute call.");
ABSL_FLAG(int64_t, wait_timeout_ms, 60000, "GetJob's options.wait_timeout_ms in create-wait mode.");
ABSL_FLAG(int, poll_interval_us, 200, "Sleep between GetJob polls in create-poll mode.");
ABSL_FLAG(int64_t, setup, 0,
          "Before the run, (re)create --table with this many random rows (columns id long, x double in "
          "[0,1), y int in [0,1000), s char16); 0: none.");
ABSL_FLAG(std::string, table, "gpudb_bench", "Table of --setup and of the default payloads.");
ABSL_FLAG(bool, in_process, false, "Start a server inside this process on a free port of 127.0.0.1.");
ABSL_FLAG(std::string, devices, "host", "Devices of the --in_process server (as gpudb-engine --devices).");
ABSL_FLAG(int, streams_per_device, 4, "Streams per device of the --in_process server.");
ABSL_FLAG(int, warmup, 5, "Unmeasured jobs (and health checks) per client before each measurement.");
ABSL_FLAG(bool, baseline, true, "Measure the health-check round trip and the trivial job, and their ratio.");
ABSL_FLAG(int, rounds, 5,
          "The baseline alternates health checks and trivial jobs in this many slices of --jobs/rounds calls "
          "per client, so that both meet the same background load.");
ABSL_FLAG(bool, http, false,
          "Also run the trivial call (/has/table) over Kinetica's HTTP transport (POST, one keep-alive "
          "connection per client) beside the same call over gRPC (Execute), in --rounds alternating slices, "
          "and report both and their ratios. With --in_process the server's HTTP listens on a free port.");
ABSL_FLAG(std::string, http_target, "127.0.0.1:9191", "The server's HTTP address host:port for --http "
          "(ignored with --in_process).");
ABSL_FLAG(bool, remove_on_complete, true, "Submit jobs with options.remove_job_on_complete=true.");
ABSL_FLAG(bool, json, false, "Print the report as JSON on stdout (no progress bar).");
ABSL_FLAG(bool, quiet, false, "No progress bar.");
ABSL_FLAG(std::string, progress, "auto", "Progress bar on stderr: auto (when stderr is a terminal), always, never.");

namespace {

namespace pb = gpudb::v1;
using Clock = std::chrono::steady_clock;
using engine::Json;

int Fail(const std::string& message) {
  std::fprintf(stderr, "gpudb-bench: %s\n", message.c_str());
  return 2;
}

const char* CodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::OK: return "OK";
    case grpc::CANCELLED: return "CANCELLED";
    case grpc::UNKNOWN: return "UNKNOWN";
    case grpc::INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case grpc::DEADLINE_EXCEEDED: return "DEADLINE_EXCEEDED";
    case grpc::NOT_FOUND: return "NOT_FOUND";
    case grpc::ALREADY_EXISTS: return "ALREADY_EXISTS";
    case grpc::PERMISSION_DENIED: return "PERMISSION_DENIED";
    case grpc::RESOURCE_EXHAUSTED: return "RESOURCE_EXHAUSTED";
    case grpc::FAILED_PRECONDITION: return "FAILED_PRECONDITION";
    case grpc::ABORTED: return "ABORTED";
    case grpc::OUT_OF_RANGE: return "OUT_OF_RANGE";
    case grpc::UNIMPLEMENTED: return "UNIMPLEMENTED";
    case grpc::INTERNAL: return "INTERNAL";
    case grpc::UNAVAILABLE: return "UNAVAILABLE";
    case grpc::DATA_LOSS: return "DATA_LOSS";
    case grpc::UNAUTHENTICATED: return "UNAUTHENTICATED";
    default: return "UNKNOWN_CODE";
  }
}

// ---------------------------------------------------------------------------
// Requests.

enum class Mode { kCreateWait, kCreatePoll, kExecute };

// One endpoint's request, encoded once and sent by every job.
struct Work {
  std::string endpoint;
  std::string encoding;
  std::string data;      // binary, snappy
  std::string data_str;  // json
  // The same request as the body of an HTTP POST, and its Content-Type.
  std::string http_body;
  std::string content_type;
};

// A raw snappy block (no framing) of `raw`.
std::string Snappy(const std::string& raw) {
  std::string packed;
  snappy::Compress(raw.data(), raw.size(), &packed);
  return packed;
}

// Encodes `payload` (JSON text) for `endpoint` as the server expects it in
// `encoding`: json as is; binary as the protobuf request message (the
// server's own converter, server::ProtobufCodec) for gRPC and as the Avro
// record (server::AvroCodec) for HTTP; snappy as a raw snappy block of that.
absl::StatusOr<Work> MakeWork(const std::string& endpoint, const std::string& encoding, const std::string& payload) {
  const engine::EndpointSchema* schema = engine::FindEndpointSchema(endpoint);
  if (schema == nullptr) return absl::InvalidArgumentError(absl::StrCat("--endpoint: '", endpoint, "' is not a known endpoint"));
  Json parsed = Json::parse(payload, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("--payload: not a JSON object: ", payload.substr(0, 200)));
  }
  Work work{endpoint, encoding, "", "", "", ""};
  if (encoding == "json") {
    work.data_str = parsed.dump();
    work.http_body = work.data_str;
    work.content_type = "application/json";
    return work;
  }
  if (encoding != "binary" && encoding != "snappy") {
    return absl::InvalidArgumentError(absl::StrCat("--encoding: '", encoding, "' is not binary, json or snappy"));
  }
  auto normalized = engine::Normalize(*schema->request, std::move(parsed));
  if (!normalized.ok()) return absl::InvalidArgumentError(absl::StrCat("--payload: ", normalized.status().message()));
  auto bytes = server::ProtobufCodec().Encode(*schema->request, *normalized);
  if (!bytes.ok()) return absl::InvalidArgumentError(absl::StrCat("--payload: ", bytes.status().message()));
  auto avro = server::AvroCodec().Encode(*schema->request, *normalized);
  if (!avro.ok()) return absl::InvalidArgumentError(absl::StrCat("--payload: ", avro.status().message()));
  work.data = *std::move(bytes);
  work.http_body = *std::move(avro);
  work.content_type = "application/octet-stream";
  if (encoding == "snappy") {
    work.data = Snappy(work.data);
    work.http_body = Snappy(work.http_body);
    work.content_type = "application/x-snappy";
  }
  return work;
}

std::string DefaultPayload(const std::string& endpoint) {
  if (endpoint == "/has/table" || endpoint == "/show/table") return R"({"table_name": "$TABLE"})";
  if (endpoint == "/filter") return R"({"table_name": "$TABLE", "view_name": "", "expression": "x < 0.5 and y > 100"})";
  if (endpoint == "/aggregate/statistics") {
    return R"({"table_name": "$TABLE", "column_name": "x", "stats": "count,sum,mean,min,max,stdv"})";
  }
  if (endpoint == "/aggregate/minmax") return R"({"table_name": "$TABLE", "column_name": "x"})";
  return "";
}

// ---------------------------------------------------------------------------
// Results.

struct Outcome {
  bool ok = false;
  std::string kind;     // when !ok
  std::string message;  // when !ok
  double queue_ms = -1, execution_ms = -1;  // the server's info, when it gave them
  double create_us = -1;  // the CreateJob call alone (create modes)
  int get_calls = 0;      // GetJob calls it took (create modes)
};

// What one phase gathered from every client.
struct PhaseResult {
  std::string name;
  int64_t calls = 0;
  int64_t ok = 0;
  double elapsed_s = 0;
  std::vector<double> latency_us;  // successful calls only, sorted
  std::vector<double> queue_ms, execution_ms, create_ms;
  int64_t get_calls = 0;
  std::map<std::string, int64_t> errors;
  std::map<std::string, std::string> error_samples;

  double Percentile(const std::vector<double>& v, double p) const {
    if (v.empty()) return 0;
    const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * v.size()));
    return v[std::min(v.size() - 1, rank == 0 ? 0 : rank - 1)];
  }
  double P(double p) const { return Percentile(latency_us, p) / 1000.0; }  // ms
  double Mean() const {
    double s = 0;
    for (double v : latency_us) s += v;
    return latency_us.empty() ? 0 : s / latency_us.size() / 1000.0;
  }
  int64_t error_count() const { return calls - ok; }
};

// ---------------------------------------------------------------------------
// A client: one channel (its own connection) and the calls of each mode.

class Client {
 public:
  explicit Client(const std::string& target) {
    grpc::ChannelArguments args;
    // A connection of its own, not one shared with the other clients.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetMaxReceiveMessageSize(-1);
    args.SetMaxSendMessageSize(-1);
    channel_ = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
    stub_ = pb::Gpudb::NewStub(channel_);
  }

  bool Connect(int seconds) {
    return channel_->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  }

  // The standard health check (grpc.health.v1.Health/Check, empty service
  // name): the plain unary round trip. Sent as raw bytes through the same
  // blocking call the generated stubs use; an empty HealthCheckRequest
  // encodes to no bytes, and SERVING answers 08 01.
  Outcome Health() {
    static const grpc::internal::RpcMethod kCheck("/grpc.health.v1.Health/Check", grpc::internal::RpcMethod::NORMAL_RPC);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    grpc::ByteBuffer request, response;
    grpc::Slice empty;
    request = grpc::ByteBuffer(&empty, 1);
    const grpc::Status s = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
        channel_.get(), kCheck, &context, request, &response);
    if (!s.ok()) return Transport(s);
    std::vector<grpc::Slice> slices;
    std::string bytes;
    if (response.Dump(&slices).ok()) {
      for (const auto& slice : slices) bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
    if (bytes != std::string("\x08\x01", 2)) return Failed("not_serving", "health check: the server is not SERVING");
    return Outcome{true};
  }

  // One job of `work` in `mode`, until it has finished.
  Outcome Job(const Work& work, Mode mode) {
    if (mode == Mode::kExecute) return Execute(work);
    pb::CreateJobRequest create;
    create.set_endpoint(work.endpoint);
    create.set_request_encoding(work.encoding);
    create.set_data(work.data);
    create.set_data_str(work.data_str);
    if (absl::GetFlag(FLAGS_remove_on_complete)) (*create.mutable_options())["remove_job_on_complete"] = "true";
    pb::GpudbResponse created;
    const Clock::time_point t0 = Clock::now();
    {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
      const grpc::Status s = stub_->CreateJob(&context, create, &created);
      if (!s.ok()) return Transport(s);
    }
    const double create_us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
    if (created.status() != "OK") return Failed("error_response", created.message());
    pb::CreateJobResponse job;
    if (!job.ParseFromString(created.data())) return Failed("bad_response", "CreateJob: data is not a CreateJobResponse");

    pb::GetJobRequest get;
    get.set_job_id(job.job_id());
    const int64_t wait_ms = absl::GetFlag(FLAGS_wait_timeout_ms);
    if (mode == Mode::kCreateWait) (*get.mutable_options())["wait_timeout_ms"] = absl::StrCat(wait_ms);
    const int poll_us = absl::GetFlag(FLAGS_poll_interval_us);
    for (int calls = 1;; ++calls) {
      pb::GpudbResponse got;
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(wait_ms) +
                           std::chrono::seconds(60));
      const grpc::Status s = stub_->GetJob(&context, get, &got);
      if (!s.ok()) return Transport(s);
      if (got.status() != "OK") return Failed("error_response", got.message());
      pb::GetJobResponse state;
      if (!state.ParseFromString(got.data())) return Failed("bad_response", "GetJob: data is not a GetJobResponse");
      if (state.running()) {
        if (mode == Mode::kCreatePoll && poll_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(poll_us));
        continue;
      }
      if (state.job_status() == "DONE") {
        Outcome out{true};
        out.create_us = create_us;
        out.get_calls = calls;
        ReadMs(state.info(), "queue_ms", &out.queue_ms);
        ReadMs(state.info(), "execution_ms", &out.execution_ms);
        return out;
      }
      if (state.job_status() == "CANCELLED") {
        auto it = state.info().find("cancel_reason");
        return Failed("job_cancelled", it == state.info().end() ? "" : it->second);
      }
      auto it = state.status_map().find("error_message");
      return Failed("job_error", it == state.status_map().end() ? state.job_status() : it->second);
    }
  }

  Outcome Execute(const Work& work, pb::GpudbResponse* response = nullptr) {
    pb::ExecuteRequest request;
    request.set_endpoint(work.endpoint);
    request.set_request_encoding(work.encoding);
    request.set_data(work.data);
    request.set_data_str(work.data_str);
    pb::GpudbResponse local;
    if (response == nullptr) response = &local;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::hours(1));
    const grpc::Status s = stub_->Execute(&context, request, response);
    if (!s.ok()) return Transport(s);
    if (response->status() != "OK") return Failed("error_response", response->message());
    return Outcome{true};
  }

  // A json Execute; the response record, or an error naming the endpoint.
  absl::StatusOr<Json> ExecuteJson(const std::string& endpoint, const Json& request) {
    pb::GpudbResponse response;
    const Outcome out = Execute(Work{endpoint, "json", "", request.dump()}, &response);
    if (!out.ok) return absl::UnknownError(absl::StrCat(endpoint, ": ", out.kind, ": ", out.message));
    Json parsed = Json::parse(response.data_str(), nullptr, false);
    if (parsed.is_discarded()) return absl::UnknownError(absl::StrCat(endpoint, ": the response is not JSON"));
    return parsed;
  }

  // Kinetica's HTTP transport at host:port: one keep-alive connection of this
  // client's own (reopened by httplib if the server closes it;
  // http_connections() counts every one opened).
  void UseHttp(const std::string& host, int port) {
    http_ = std::make_unique<httplib::Client>(host, port);
    http_->set_keep_alive(true);
    // httplib writes a request's headers and body apart; with Nagle's
    // algorithm the body would wait for the server's delayed ACK (40 ms).
    http_->set_tcp_nodelay(true);
    http_->set_read_timeout(3600, 0);
    http_->set_socket_options([this](socket_t) { ++http_connections_; });
  }
  int http_connections() const { return http_connections_; }

  // `work` as one POST /<endpoint>: ok when the answer is 200 with an OK
  // wrapper (Avro or JSON, as the request).
  Outcome Post(const Work& work) {
    const httplib::Result res = http_->Post(work.endpoint.c_str(), work.http_body, work.content_type.c_str());
    if (!res) return Failed("http_" + httplib::to_string(res.error()), "no answer");
    std::string status, message;
    if (res->get_header_value("Content-Type") == "application/json") {
      const Json wrapper = Json::parse(res->body, nullptr, false);
      if (wrapper.is_object()) {
        status = wrapper.value("status", "");
        message = wrapper.value("message", "");
      }
    } else if (auto wrapper = server::AvroCodec().Decode(*engine::FindRecord("gpudb_response"), res->body);
               wrapper.ok()) {
      status = wrapper->value("status", "");
      message = wrapper->value("message", "");
    }
    if (status.empty()) return Failed(absl::StrCat("http_", res->status), "the answer is not a gpudb_response");
    if (res->status != 200 || status != "OK") return Failed(absl::StrCat("http_", res->status), message);
    return Outcome{true};
  }

 private:
  static Outcome Failed(std::string kind, std::string message) {
    Outcome out;
    out.kind = std::move(kind);
    out.message = std::move(message);
    return out;
  }
  static Outcome Transport(const grpc::Status& s) { return Failed(CodeName(s.error_code()), s.error_message()); }
  static void ReadMs(const google::protobuf::Map<std::string, std::string>& info, const char* key, double* out) {
    auto it = info.find(key);
    if (it != info.end()) *out = std::atof(it->second.c_str());
  }

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Gpudb::Stub> stub_;
  std::unique_ptr<httplib::Client> http_;
  int http_connections_ = 0;
};

// ---------------------------------------------------------------------------
// The progress bar: one line on stderr, redrawn ten times a second.

class Progress {
 public:
  Progress(bool enabled, std::string phase, int64_t total, const std::atomic<int64_t>& done,
           const std::atomic<int64_t>& errors)
      : enabled_(enabled), phase_(std::move(phase)), total_(total), done_(done), errors_(errors) {
    if (enabled_) thread_ = std::thread([this] { Loop(); });
  }
  ~Progress() {
    if (!enabled_) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
    Draw();
    std::fputc('\n', stderr);
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; })) Draw();
  }
  void Draw() {
    const int64_t done = done_.load();
    const double s = std::chrono::duration<double>(Clock::now() - start_).count();
    constexpr int kWidth = 30;
    const int filled = total_ > 0 ? static_cast<int>(kWidth * done / total_) : kWidth;
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '.');
    std::fprintf(stderr, "\r%-18s [%s] %lld/%lld  %.0f/s  errors %lld  %.1fs   ", phase_.c_str(), bar.c_str(),
                 static_cast<long long>(done), static_cast<long long>(total_), s > 0 ? done / s : 0.0,
                 static_cast<long long>(errors_.load()), s);
    std::fflush(stderr);
  }

  const bool enabled_;
  const std::string phase_;
  const int64_t total_;
  const std::atomic<int64_t>& done_;
  const std::atomic<int64_t>& errors_;
  const Clock::time_point start_ = Clock::now();
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

// Runs `calls` calls of `fn` on every client at once (after `warmup`
// unmeasured ones each, all clients starting together), and gathers them.
template <typename Fn>
PhaseResult RunPhase(const std::string& name, std::vector<std::unique_ptr<Client>>& clients, int calls, int warmup,
                     bool progress, Fn fn) {
  const int n = static_cast<int>(clients.size());
  std::vector<PhaseResult> parts(n);
  std::atomic<int64_t> done{0}, errors{0};
  std::atomic<int> warmed{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  Clock::time_point start;
  {
    for (int i = 0; i < n; ++i) {
      threads.emplace_back([&, i] {
        Client& client = *clients[i];
        for (int k = 0; k < warmup; ++k) (void)fn(client);
        warmed.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) std::this_thread::yield();
        PhaseResult& part = parts[i];
        part.latency_us.reserve(calls);
        for (int k = 0; k < calls; ++k) {
          const Clock::time_point t0 = Clock::now();
          const Outcome out = fn(client);
          const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
          ++part.calls;
          if (out.ok) {
            ++part.ok;
            part.latency_us.push_back(us);
            if (out.queue_ms >= 0) part.queue_ms.push_back(out.queue_ms);
            if (out.execution_ms >= 0) part.execution_ms.push_back(out.execution_ms);
            if (out.create_us >= 0) part.create_ms.push_back(out.create_us / 1000.0);
            part.get_calls += out.get_calls;
          } else {
            errors.fetch_add(1);
            ++part.errors[out.kind];
            part.error_samples.emplace(out.kind, out.message);
          }
          done.fetch_add(1);
        }
      });
    }
    while (warmed.load() < n) std::this_thread::sleep_for(std::chrono::microseconds(200));
    Progress bar(progress, name, int64_t{calls} * n, done, errors);
    start = Clock::now();
    go.store(true, std::memory_order_release);
    for (auto& t : threads) t.join();
  }
  PhaseResult all;
  all.name = name;
  all.elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
  for (PhaseResult& p : parts) {
    all.calls += p.calls;
    all.ok += p.ok;
    all.latency_us.insert(all.latency_us.end(), p.latency_us.begin(), p.latency_us.end());
    all.queue_ms.insert(all.queue_ms.end(), p.queue_ms.begin(), p.queue_ms.end());
    all.execution_ms.insert(all.execution_ms.end(), p.execution_ms.begin(), p.execution_ms.end());
    all.create_ms.insert(all.create_ms.end(), p.create_ms.begin(), p.create_ms.end());
    all.get_calls += p.get_calls;
    for (const auto& [k, v] : p.errors) all.errors[k] += v;
    for (const auto& [k, v] : p.error_samples) all.error_samples.emplace(k, v);
  }
  std::sort(all.latency_us.begin(), all.latency_us.end());
  std::sort(all.queue_ms.begin(), all.queue_ms.end());
  std::sort(all.execution_ms.begin(), all.execution_ms.end());
  std::sort(all.create_ms.begin(), all.create_ms.end());
  return all;
}

// Both phases' calls as one.
PhaseResult Merge(const PhaseResult& a, const PhaseResult& b) {
  PhaseResult all = a;
  all.calls += b.calls;
  all.ok += b.ok;
  all.elapsed_s += b.elapsed_s;
  all.get_calls += b.get_calls;
  const auto join = [](std::vector<double>* to, const std::vector<double>& from) {
    to->insert(to->end(), from.begin(), from.end());
    std::sort(to->begin(), to->end());
  };
  join(&all.latency_us, b.latency_us);
  join(&all.queue_ms, b.queue_ms);
  join(&all.execution_ms, b.execution_ms);
  join(&all.create_ms, b.create_ms);
  for (const auto& [k, v] : b.errors) all.errors[k] += v;
  for (const auto& [k, v] : b.error_samples) all.error_samples.emplace(k, v);
  return all;
}

// Two calls measured in `rounds` alternating slices (first `a`, then `b`;
// --warmup unmeasured calls each in the first), `calls` per client in all,
// so that both meet the same background load (on a busy machine it changes
// from second to second); `a`'s and `b`'s results.
template <typename FnA, typename FnB>
std::pair<PhaseResult, PhaseResult> Alternate(const std::string& name_a, FnA a, const std::string& name_b, FnB b,
                                              std::vector<std::unique_ptr<Client>>& clients, int calls, int rounds,
                                              int warmup, bool progress) {
  rounds = std::max(1, std::min(rounds, calls));
  std::optional<PhaseResult> all_a, all_b;
  for (int r = 0; r < rounds; ++r) {
    const int slice = calls / rounds + (r < calls % rounds ? 1 : 0);
    const std::string of = rounds > 1 ? absl::StrCat(" ", r + 1, "/", rounds) : "";
    PhaseResult pa = RunPhase(name_a + of, clients, slice, r == 0 ? warmup : 0, progress, a);
    PhaseResult pb = RunPhase(name_b + of, clients, slice, r == 0 ? warmup : 0, progress, b);
    all_a = all_a ? Merge(*all_a, pa) : pa;
    all_b = all_b ? Merge(*all_b, pb) : pb;
  }
  return {*std::move(all_a), *std::move(all_b)};
}

// p50, p90 and p99 of `a` over those of `b` (0 where `b`'s is 0).
Json Ratios(const PhaseResult& a, const PhaseResult& b) {
  Json r = Json::object();
  for (const int p : {50, 90, 99}) r[absl::StrCat("p", p)] = b.P(p) > 0 ? a.P(p) / b.P(p) : 0.0;
  return r;
}

Json PhaseJson(const PhaseResult& p) {
  Json errors = Json::object();
  for (const auto& [k, v] : p.errors) errors[k] = v;
  Json samples = Json::object();
  for (const auto& [k, v] : p.error_samples) samples[k] = v;
  const auto resource_exhausted = p.errors.count("RESOURCE_EXHAUSTED") ? p.errors.at("RESOURCE_EXHAUSTED") : 0;
  Json j = Json{{"calls", p.calls},
                {"completed", p.ok},
                {"elapsed_s", p.elapsed_s},
                {"per_s", p.elapsed_s > 0 ? p.ok / p.elapsed_s : 0.0},
                {"latency_ms", Json{{"mean", p.Mean()},
                                    {"p50", p.P(50)},
                                    {"p90", p.P(90)},
                                    {"p99", p.P(99)},
                                    {"max", p.latency_us.empty() ? 0.0 : p.latency_us.back() / 1000.0}}},
                {"errors", Json{{"total", p.error_count()},
                                {"resource_exhausted", resource_exhausted},
                                {"by_kind", errors},
                                {"samples", samples}}}};
  if (!p.queue_ms.empty()) {
    j["server_ms"] = Json{{"queue_p50", p.Percentile(p.queue_ms, 50)},
                          {"queue_p99", p.Percentile(p.queue_ms, 99)},
                          {"execution_p50", p.Percentile(p.execution_ms, 50)},
                          {"execution_p99", p.Percentile(p.execution_ms, 99)}};
  }
  if (!p.create_ms.empty()) {
    j["client_ms"] = Json{{"create_job_p50", p.Percentile(p.create_ms, 50)},
                          {"get_job_calls_per_job", p.ok > 0 ? static_cast<double>(p.get_calls) / p.ok : 0.0}};
  }
  return j;
}

void PrintPhase(const char* label, const PhaseResult& p, const char* unit) {
  std::printf("%-26s %8lld %-5s %9.0f/s   p50 %.3f  p90 %.3f  p99 %.3f  max %.3f ms", label,
              static_cast<long long>(p.ok), unit, p.elapsed_s > 0 ? p.ok / p.elapsed_s : 0.0, p.P(50), p.P(90),
              p.P(99), p.latency_us.empty() ? 0.0 : p.latency_us.back() / 1000.0);
  if (!p.queue_ms.empty()) {
    std::printf("\n%-26s   CreateJob call p50 %.3f ms; %.2f GetJob calls per job; server: queue p50 %.3f, run p50 %.3f ms",
                "", p.Percentile(p.create_ms, 50), p.ok > 0 ? static_cast<double>(p.get_calls) / p.ok : 0.0,
                p.Percentile(p.queue_ms, 50), p.Percentile(p.execution_ms, 50));
  }
  std::printf("\n");
  for (const auto& [kind, count] : p.errors) {
    std::printf("%-26s   errors %s: %lld (e.g. %s)\n", "", kind.c_str(), static_cast<long long>(count),
                p.error_samples.at(kind).substr(0, 160).c_str());
  }
}

std::string Mib(int64_t bytes) { return absl::StrFormat("%.1f MiB", bytes / 1048576.0); }

}  // namespace

int main(int argc, char** argv) {
  server::ParseCommandLine(
      argc, argv, "gpudb_bench.cc",
      "a job load harness for gpudb-engine.\n"
      "Usage: gpudb-bench [--target=127.0.0.1:9190 | --in-process] [--clients=4] [--jobs=100]\n"
      "                   [--endpoint=/has/table] [--payload=JSON|@FILE] [--mode=create-wait] [--json]\n"
      "                   [--http [--http-target=127.0.0.1:9191]]\n"
      "Flags may be written --in-process or --in_process.");

  const int n = absl::GetFlag(FLAGS_clients);
  const int m = absl::GetFlag(FLAGS_jobs);
  const int warmup = absl::GetFlag(FLAGS_warmup);
  if (n < 1) return Fail("--clients: must be at least 1");
  if (m < 1) return Fail("--jobs: must be at least 1");
  if (warmup < 0) return Fail("--warmup: must not be negative");
  const std::string mode_name = absl::GetFlag(FLAGS_mode);
  Mode mode;
  if (mode_name == "create-wait") {
    mode = Mode::kCreateWait;
  } else if (mode_name == "create-poll") {
    mode = Mode::kCreatePoll;
  } else if (mode_name == "execute") {
    mode = Mode::kExecute;
  } else {
    return Fail(absl::StrCat("--mode: '", mode_name, "' is not create-wait, create-poll or execute"));
  }
  if (absl::GetFlag(FLAGS_wait_timeout_ms) < 1) return Fail("--wait_timeout_ms: must be at least 1");
  const bool json_out = absl::GetFlag(FLAGS_json);
  const std::string progress_flag = absl::GetFlag(FLAGS_progress);
  if (progress_flag != "auto" && progress_flag != "always" && progress_flag != "never") {
    return Fail("--progress: expected auto, always or never");
  }
  const bool progress = !json_out && !absl::GetFlag(FLAGS_quiet) && progress_flag != "never" &&
                        (progress_flag == "always" || isatty(STDERR_FILENO));
  const std::string table = absl::GetFlag(FLAGS_table);
  const std::string endpoint = absl::GetFlag(FLAGS_endpoint);
  const std::string encoding = absl::GetFlag(FLAGS_encoding);

  std::string payload = absl::GetFlag(FLAGS_payload);
  const bool default_payload = payload.empty();
  if (default_payload) {
    payload = DefaultPayload(endpoint);
    if (payload.empty()) return Fail(absl::StrCat("--payload: required for ", endpoint, " (no default payload)"));
  } else if (payload[0] == '@') {
    std::ifstream in(payload.substr(1));
    if (!in) return Fail(absl::StrCat("--payload: cannot read ", payload.substr(1)));
    std::stringstream text;
    text << in.rdbuf();
    payload = text.str();
  }
  payload = absl::StrReplaceAll(payload, {{"$TABLE", table}});
  auto work = MakeWork(endpoint, encoding, payload);
  if (!work.ok()) return Fail(std::string(work.status().message()));
  auto trivial = MakeWork("/has/table", encoding, absl::StrCat(R"({"table_name": ")", table, R"("})"));
  if (!trivial.ok()) return Fail(std::string(trivial.status().message()));
  const bool main_is_trivial = endpoint == "/has/table" && default_payload;

  // The server.
  std::unique_ptr<server::Server> in_process;
  std::string target = absl::GetFlag(FLAGS_target);
  const bool http = absl::GetFlag(FLAGS_http);
  std::string http_target = absl::GetFlag(FLAGS_http_target);
  if (absl::GetFlag(FLAGS_in_process)) {
    server::ServerOptions options;
    options.grpc_port = 0;
    options.engine.devices.spec = absl::GetFlag(FLAGS_devices);
    options.engine.devices.streams_per_device = absl::GetFlag(FLAGS_streams_per_device);
    if (http) options.http_port = 0;
    auto started = server::Server::Start(options);
    if (!started.ok()) return Fail(absl::StrCat("--in_process: ", started.status().message()));
    in_process = *std::move(started);
    target = absl::StrCat("127.0.0.1:", in_process->grpc_port());
    http_target = absl::StrCat("127.0.0.1:", in_process->http_port());
  }
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < n; ++i) clients.push_back(std::make_unique<Client>(target));
  for (auto& c : clients) {
    if (!c->Connect(10)) return Fail(absl::StrCat("cannot connect to ", target, " within 10 s"));
  }
  if (http) {
    const size_t colon = http_target.rfind(':');
    int port = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(http_target.substr(colon + 1), &port) || port <= 0) {
      return Fail(absl::StrCat("--http_target: '", http_target, "' is not host:port"));
    }
    for (auto& c : clients) c->UseHttp(http_target.substr(0, colon), port);
    if (const Outcome probe = clients[0]->Post(*trivial); !probe.ok) {
      return Fail(absl::StrCat("HTTP POST /has/table to ", http_target, " failed (", probe.kind, "): ", probe.message));
    }
  }
  Client& admin = *clients[0];

  Json setup = nullptr;
  if (const int64_t rows = absl::GetFlag(FLAGS_setup); rows > 0) {
    const Clock::time_point t0 = Clock::now();
    if (!json_out) std::fprintf(stderr, "setup: %s with %lld random rows ...\n", table.c_str(), static_cast<long long>(rows));
    for (const auto& [ep, request] : std::vector<std::pair<std::string, Json>>{
             {"/clear/table", Json{{"table_name", table}, {"options", Json{{"no_error_if_not_exists", "true"}}}}},
             {"/create/table",
              Json{{"table_name", table}, {"type_id", R"([["id","long"],["x","double"],["y","int"],["s","char16"]])"}}},
             {"/insert/records/random",
              Json{{"table_name", table},
                   {"count", rows},
                   {"options", Json{{"seed", Json{{"value", 1}}},
                                    {"x", Json{{"min", 0}, {"max", 1}}},
                                    {"y", Json{{"min", 0}, {"max", 999}}}}}}}}) {
      auto r = admin.ExecuteJson(ep, request);
      if (!r.ok()) return Fail(absl::StrCat("--setup: ", r.status().message()));
    }
    setup = Json{{"table", table}, {"rows", rows}, {"seconds", std::chrono::duration<double>(Clock::now() - t0).count()}};
  }

  // A probe: a payload the server rejects stops the run here.
  if (const Outcome probe = admin.Job(*work, mode); !probe.ok) {
    return Fail(absl::StrCat("the first ", endpoint, " job failed (", probe.kind, "): ", probe.message));
  }

  auto job = [mode](const Work& w) { return [&w, mode](Client& c) { return c.Job(w, mode); }; };
  // The baseline: health checks and trivial jobs in alternating slices, so
  // that both see the same background load (on a busy machine it changes
  // from second to second). With the default endpoint and payload the
  // trivial-job slices are also the measured run.
  const int rounds = absl::GetFlag(FLAGS_rounds);
  std::optional<PhaseResult> health, trivial_jobs;
  if (absl::GetFlag(FLAGS_baseline)) {
    std::tie(health, trivial_jobs) = Alternate("health check", [](Client& c) { return c.Health(); }, "trivial job",
                                               job(*trivial), clients, m, rounds, warmup, progress);
  }
  // The same trivial call, synchronous, over gRPC (Execute) and over HTTP.
  std::optional<PhaseResult> grpc_calls, http_calls;
  int http_connections = 0;
  if (http) {
    std::tie(grpc_calls, http_calls) =
        Alternate("gRPC Execute", [&](Client& c) { return c.Execute(*trivial); }, "HTTP POST",
                  [&](Client& c) { return c.Post(*trivial); }, clients, m, rounds, warmup, progress);
    for (const auto& c : clients) http_connections += c->http_connections();
  }
  PhaseResult main_jobs = main_is_trivial && trivial_jobs
                              ? *trivial_jobs
                              : RunPhase(endpoint, clients, m, warmup, progress, job(*work));

  // The server's memory after the run (peaks since it started).
  Json server = Json::object();
  if (auto status = admin.ExecuteJson("/show/system/status", Json::object()); status.ok()) {
    Json system = Json::parse((*status)["status_map"].value("system", "{}"), nullptr, false);
    if (system.is_object()) {
      server["host_peak_resident_bytes"] = system.value("host_peak_resident_bytes", int64_t{0});
      Json devices = Json::array();
      for (const Json& d : system.value("devices", Json::array())) {
        devices.push_back(Json{{"name", d.value("name", "")},
                               {"memory_peak", d.value("memory_peak", int64_t{0})},
                               {"memory_in_use", d.value("memory_in_use", int64_t{0})},
                               {"memory_limit", d.value("memory_limit", int64_t{0})}});
      }
      server["devices"] = devices;
    }
  } else {
    server["error"] = std::string(status.status().message());
  }
  server["in_process"] = in_process != nullptr;

  double ratio = 0;
  if (health && trivial_jobs && health->P(50) > 0) ratio = trivial_jobs->P(50) / health->P(50);

  if (json_out) {
    Json report = Json{{"target", target},
                       {"endpoint", endpoint},
                       {"mode", mode_name},
                       {"encoding", encoding},
                       {"clients", n},
                       {"jobs_per_client", m},
                       {"jobs", main_jobs.calls},
                       {"completed", main_jobs.ok},
                       {"jobs_per_s", main_jobs.elapsed_s > 0 ? main_jobs.ok / main_jobs.elapsed_s : 0.0},
                       {"latency_ms", PhaseJson(main_jobs)["latency_ms"]},
                       {"errors", PhaseJson(main_jobs)["errors"]},
                       {"run", PhaseJson(main_jobs)},
                       {"server", server},
                       {"setup", setup}};
    if (health && trivial_jobs) {
      report["baseline"] = Json{{"rpc_name", "grpc.health.v1.Health/Check"},
                                {"rpc_p50_ms", health->P(50)},
                                {"trivial_endpoint", "/has/table"},
                                {"trivial_job_p50_ms", trivial_jobs->P(50)},
                                {"ratio", ratio},
                                {"rpc", PhaseJson(*health)},
                                {"trivial_job", PhaseJson(*trivial_jobs)}};
    }
    if (grpc_calls && http_calls) {
      report["http"] = Json{{"target", http_target},
                            {"endpoint", "/has/table"},
                            {"content_type", trivial->content_type},
                            {"connections", http_connections},
                            {"grpc", PhaseJson(*grpc_calls)},
                            {"http", PhaseJson(*http_calls)},
                            {"ratio", Ratios(*http_calls, *grpc_calls)}};
    }
    std::printf("%s\n", report.dump(2).c_str());
  } else {
    std::printf("gpudb-bench: %s, %d clients x %d jobs of %s (%s, %s)%s\n", target.c_str(), n, m, endpoint.c_str(),
                mode_name.c_str(), encoding.c_str(), in_process ? ", in-process server" : "");
    if (health) PrintPhase("health check (rpc)", *health, "calls");
    if (trivial_jobs && !main_is_trivial) PrintPhase("trivial job (/has/table)", *trivial_jobs, "jobs");
    PrintPhase(endpoint.c_str(), main_jobs, "jobs");
    if (health && trivial_jobs) {
      std::printf("round trip p50: trivial job (%s /has/table) %.3f ms vs plain gRPC call %.3f ms: ratio %.2f\n",
                  mode_name.c_str(), trivial_jobs->P(50), health->P(50), ratio);
    }
    if (grpc_calls && http_calls) {
      std::printf("the same call over both transports (/has/table, %s; HTTP %s, %d keep-alive connections opened):\n",
                  trivial->content_type.c_str(), http_target.c_str(), http_connections);
      PrintPhase("gRPC Execute /has/table", *grpc_calls, "calls");
      PrintPhase("HTTP POST /has/table", *http_calls, "calls");
      const Json r = Ratios(*http_calls, *grpc_calls);
      std::printf("HTTP/gRPC: p50 %.2f  p90 %.2f  p99 %.2f\n", r["p50"].get<double>(), r["p90"].get<double>(),
                  r["p99"].get<double>());
    }
    if (server.contains("host_peak_resident_bytes")) {
      std::printf("server peak memory: host RSS %s%s", Mib(server["host_peak_resident_bytes"].get<int64_t>()).c_str(),
                  in_process ? " (this process: server and clients)" : "");
      for (const Json& d : server["devices"]) {
        std::printf(", %s pool %s", d["name"].get<std::string>().c_str(), Mib(d["memory_peak"].get<int64_t>()).c_str());
      }
      std::printf("\n");
    }
  }
  std::fflush(stdout);
  const bool failed = main_jobs.error_count() > 0 || (health && health->error_count() > 0) ||
                      (trivial_jobs && trivial_jobs->error_count() > 0) ||
                      (grpc_calls && grpc_calls->error_count() > 0) || (http_calls && http_calls->error_count() > 0);
  clients.clear();
  if (in_process) in_process->Shutdown();
  return failed ? 1 : 0;
}
