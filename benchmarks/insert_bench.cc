// insert-bench: binary /insert/records at scale, over both transports.
//
// For each size in --rows, builds one request of that many records of the
// type (id long, x double, y int) with random values, as a client sends it:
// an Avro insert_records_request for Kinetica's HTTP transport and a
// protobuf InsertRecordsRequest for gRPC, each also as a raw snappy block.
// Then, --runs times, into a freshly created table each time (untimed):
//
//   HTTP binary / snappy   POST /insert/records (one keep-alive connection).
//                          server: x-request-time-secs (from the request's
//                          routing, body read included, to its answer);
//                          end to end: the POST's wall time.
//   gRPC binary / snappy   server: CreateJob's wall time (the body sent,
//                          decoded and the job queued) + the job's queue_ms
//                          + execution_ms (GetJob with wait_timeout_ms);
//                          end to end: one Execute's wall time.
//
// The baseline, in the same run and for the same bodies: the rate at which
// each transport merely receives the body and answers, without decoding it
// (a POST of the body to an unknown endpoint, answered 404 after the body is
// read; an Execute of an unknown endpoint carrying the body). No insert can
// beat it, so insert/receive is the fraction of the transport's own speed
// that an insert keeps. Medians of --runs; rows/s.
//
// Exit code 0 when every insert succeeded with the right count; 1 otherwise.

#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <snappy.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "engine/api/avro.h"
#include "engine/api/json.h"
#include "engine/api/schema.h"
#include "engine/storage/log.h"
#include "proto/gpudb.grpc.pb.h"
#include "server/avro_codec.h"
#include "server/server.h"

ABSL_FLAG(std::string, rows, "1e6", "Comma-separated request sizes in rows, e.g. 1e6,1e7.");
ABSL_FLAG(int, runs, 5, "Measured runs per size and way (medians are reported), after one warm-up run.");
ABSL_FLAG(std::string, devices, "host", "Devices of the in-process server (as gpudb-engine --devices).");
ABSL_FLAG(std::string, only, "", "Comma-separated subset of: http, http-snappy, grpc, grpc-snappy (empty: all).");
ABSL_FLAG(std::string, storage, "memory",
          "Comma-separated storage modes to measure in turn, each with a fresh server: memory (no data directory) "
          "or a sync level (none, background, flush, fsync) with a temporary data directory; then, per level, a "
          "checkpoint and recoveries. Ratios are to the first mode.");
ABSL_FLAG(bool, verbose, false, "Print every run's figures (for gRPC jobs: CreateJob, queue and execution apart).");

namespace {

namespace pb = gpudb::v1;
using Clock = std::chrono::steady_clock;
using engine::Json;

constexpr char kTable[] = "insert_bench";

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string Snappy(const std::string& raw) {
  std::string packed;
  snappy::Compress(raw.data(), raw.size(), &packed);
  return packed;
}

// One request of `rows` records (id long = row number, x double in [0, 1),
// y int in [0, 1000)), as each transport carries it.
struct Bodies {
  std::string avro;      // insert_records_request, Avro binary (HTTP)
  std::string protobuf;  // gpudb.v1.InsertRecordsRequest (gRPC)
};

Bodies MakeBodies(int64_t rows) {
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> x(0, 1);
  std::uniform_int_distribution<int32_t> y(0, 999);
  pb::InsertRecordsRequest request;
  request.set_table_name(kTable);
  request.set_list_encoding("binary");
  std::string avro;
  engine::AvroWriter out(&avro);
  out.String(kTable);
  out.Long(rows);  // one block with every record
  std::string record;
  for (int64_t r = 0; r < rows; ++r) {
    record.clear();
    engine::AvroWriter w(&record);
    w.Long(r);
    w.Double(x(rng));
    w.Int(y(rng));
    out.Bytes(record);
    request.add_list(record);
  }
  if (rows > 0) out.Long(0);
  out.Long(0);           // list_str: []
  out.String("binary");  // list_encoding
  out.Long(0);           // options: {}
  return Bodies{std::move(avro), request.SerializeAsString()};
}

// The figures of one way of inserting, per run.
struct Way {
  std::string name;
  std::vector<double> server_s, e2e_s, receive_server_s, receive_e2e_s;
};

class Bench {
 public:
  explicit Bench(server::Server& server)
      : http_("127.0.0.1", server.http_port()),
        stub_(pb::Gpudb::NewStub(grpc::CreateCustomChannel(absl::StrCat("127.0.0.1:", server.grpc_port()),
                                                           grpc::InsecureChannelCredentials(), ChannelArgs()))) {
    http_.set_keep_alive(true);
    http_.set_tcp_nodelay(true);
    http_.set_read_timeout(3600, 0);
    http_.set_write_timeout(3600, 0);
  }

  // A json call that must succeed.
  bool Call(const std::string& endpoint, const Json& request) {
    pb::ExecuteRequest call;
    call.set_endpoint(endpoint);
    call.set_request_encoding("json");
    call.set_data_str(request.dump());
    pb::GpudbResponse response;
    grpc::ClientContext context;
    const grpc::Status s = stub_->Execute(&context, call, &response);
    if (!s.ok() || response.status() != "OK") {
      std::fprintf(stderr, "insert-bench: %s: %s\n", endpoint.c_str(),
                   s.ok() ? response.message().c_str() : s.error_message().c_str());
      return false;
    }
    return true;
  }

  // A new, empty table of the benchmark's type.
  bool Recreate() {
    Call("/clear/table", {{"table_name", kTable}, {"authorization", ""}, {"options", {{"no_error_if_not_exists", "true"}}}});
    return Call("/create/table", {{"table_name", kTable}, {"type_id", R"([["id","long"],["x","double"],["y","int"]])"}});
  }

  // POST `body` to `path`; the server's and the wall time. `expect_rows` >= 0:
  // an OK insert of that many rows; else any answer (the baseline's 404).
  bool Post(const std::string& path, const std::string& body, const char* type, int64_t expect_rows,
            double* server_s, double* e2e_s) {
    const auto t0 = Clock::now();
    const httplib::Result res = http_.Post(path.c_str(), body, type);
    *e2e_s = Seconds(t0);
    if (!res) return Failed(absl::StrCat("POST ", path, ": ", httplib::to_string(res.error())));
    *server_s = std::atof(res->get_header_value("x-request-time-secs").c_str());
    if (expect_rows < 0) return true;
    auto wrapper = server::AvroCodec().Decode(*engine::FindRecord("gpudb_response"), res->body);
    if (!wrapper.ok() || (*wrapper)["status"] != "OK") {
      return Failed(absl::StrCat("POST ", path, ": HTTP ", res->status, ": ",
                                 wrapper.ok() ? (*wrapper)["message"].get<std::string>() : "not a gpudb_response"));
    }
    const auto& data = (*wrapper)["data"].get_binary();
    auto response = server::AvroCodec().Decode(*engine::FindRecord("insert_records_response"),
                                               absl::string_view(reinterpret_cast<const char*>(data.data()), data.size()));
    return CheckCount(response.ok() ? (*response)["count_inserted"].get<int64_t>() : -1, expect_rows);
  }

  // Execute `endpoint` with `data` in `encoding`; its wall time. `expect_rows`
  // as Post.
  bool Execute(const std::string& endpoint, const std::string& encoding, const std::string& data,
               int64_t expect_rows, double* e2e_s) {
    pb::ExecuteRequest call;
    call.set_endpoint(endpoint);
    call.set_request_encoding(encoding);
    call.set_data(data);
    pb::GpudbResponse response;
    grpc::ClientContext context;
    const auto t0 = Clock::now();
    const grpc::Status s = stub_->Execute(&context, call, &response);
    *e2e_s = Seconds(t0);
    if (!s.ok()) return Failed(absl::StrCat("Execute ", endpoint, ": ", s.error_message()));
    if (expect_rows < 0) return true;
    pb::InsertRecordsResponse inserted;
    if (response.status() != "OK" || !inserted.ParseFromString(response.data())) {
      return Failed(absl::StrCat("Execute ", endpoint, ": ", response.message()));
    }
    return CheckCount(inserted.count_inserted(), expect_rows);
  }

  // CreateJob, then GetJob with a wait: the server's time as the header
  // comment defines it.
  bool Job(const std::string& encoding, const std::string& data, int64_t expect_rows, double* server_s) {
    pb::CreateJobRequest create;
    create.set_endpoint("/insert/records");
    create.set_request_encoding(encoding);
    create.set_data(data);
    pb::GpudbResponse created;
    const auto t0 = Clock::now();
    {
      grpc::ClientContext context;
      const grpc::Status s = stub_->CreateJob(&context, create, &created);
      if (!s.ok() || created.status() != "OK") {
        return Failed(absl::StrCat("CreateJob: ", s.ok() ? created.message() : s.error_message()));
      }
    }
    const double create_s = Seconds(t0);
    pb::CreateJobResponse job;
    job.ParseFromString(created.data());
    pb::GetJobRequest get;
    get.set_job_id(job.job_id());
    (*get.mutable_options())["wait_timeout_ms"] = "3600000";
    pb::GpudbResponse got;
    grpc::ClientContext context;
    const grpc::Status s = stub_->GetJob(&context, get, &got);
    pb::GetJobResponse state;
    if (!s.ok() || got.status() != "OK" || !state.ParseFromString(got.data()) || state.job_status() != "DONE") {
      return Failed(absl::StrCat("GetJob: ", s.ok() ? got.message() : s.error_message(), " ",
                                 state.status_map().count("error_message") ? state.status_map().at("error_message") : ""));
    }
    const double queue_s = std::atof(state.info().at("queue_ms").c_str()) / 1000;
    const double execution_s = std::atof(state.info().at("execution_ms").c_str()) / 1000;
    *server_s = create_s + queue_s + execution_s;
    if (absl::GetFlag(FLAGS_verbose)) {
      std::printf("  job (%s): CreateJob %.1f ms, queue %.1f ms, execution %.1f ms\n", encoding.c_str(), create_s * 1e3,
                  queue_s * 1e3, execution_s * 1e3);
    }
    pb::InsertRecordsResponse inserted;
    inserted.ParseFromString(state.job_response());
    return CheckCount(inserted.count_inserted(), expect_rows);
  }

 private:
  static grpc::ChannelArguments ChannelArgs() {
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(-1);
    args.SetMaxReceiveMessageSize(-1);
    return args;
  }
  static bool Failed(const std::string& message) {
    std::fprintf(stderr, "insert-bench: %s\n", message.c_str());
    return false;
  }
  static bool CheckCount(int64_t got, int64_t expected) {
    if (got == expected) return true;
    return Failed(absl::StrCat("count_inserted ", got, ", expected ", expected));
  }

  httplib::Client http_;
  std::unique_ptr<pb::Gpudb::Stub> stub_;
};

bool Selected(const std::string& name) {
  const std::string only = absl::GetFlag(FLAGS_only);
  if (only.empty()) return true;
  for (absl::string_view w : absl::StrSplit(only, ',')) {
    if (w == name) return true;
  }
  return false;
}

// One run of every selected way, inserts and baselines alternating.
bool RunOnce(Bench& bench, const Bodies& bodies, const Bodies& snappy, int64_t rows, std::vector<Way>* ways) {
  for (Way& way : *ways) {
    const bool http = way.name.rfind("http", 0) == 0;
    const bool compressed = way.name.find("snappy") != std::string::npos;
    double server_s = 0, e2e_s = 0, receive_server_s = 0, receive_e2e_s = 0;
    if (!bench.Recreate()) return false;
    if (http) {
      const std::string& body = compressed ? snappy.avro : bodies.avro;
      const char* type = compressed ? "application/x-snappy" : "application/octet-stream";
      if (!bench.Post("/insert/records", body, type, rows, &server_s, &e2e_s)) return false;
      if (!bench.Post("/insert/records/not-an-endpoint", body, type, -1, &receive_server_s, &receive_e2e_s)) {
        return false;
      }
    } else {
      const std::string& body = compressed ? snappy.protobuf : bodies.protobuf;
      const char* encoding = compressed ? "snappy" : "binary";
      if (!bench.Job(encoding, body, rows, &server_s)) return false;
      if (!bench.Recreate()) return false;
      if (!bench.Execute("/insert/records", encoding, body, rows, &e2e_s)) return false;
      if (!bench.Execute("/not-an-endpoint", encoding, body, -1, &receive_e2e_s)) return false;
    }
    if (absl::GetFlag(FLAGS_verbose)) {
      std::printf("  %s: server %.1f ms, end to end %.1f ms; receive: server %.1f ms, end to end %.1f ms\n",
                  way.name.c_str(), server_s * 1e3, e2e_s * 1e3, receive_server_s * 1e3, receive_e2e_s * 1e3);
    }
    way.server_s.push_back(server_s);
    way.e2e_s.push_back(e2e_s);
    if (http) way.receive_server_s.push_back(receive_server_s);
    way.receive_e2e_s.push_back(receive_e2e_s);
  }
  return true;
}

std::string Rate(int64_t rows, const std::vector<double>& seconds) {
  if (seconds.empty()) return "-";
  return absl::StrFormat("%.2fM", rows / Median(seconds) / 1e6);
}

// The figures of one storage mode: per size, each way's median server time.
struct ModeResult {
  std::string mode;
  std::vector<std::vector<Way>> sizes;
};

// Rows of the benchmark's table as bytes (id 8 + x 8 + y 4).
constexpr int64_t kRowBytes = 20;

// Checkpoint and recovery of a data directory holding `rows` rows: a
// checkpoint of what the log holds, then engines started on the directory
// (from its segments) and, for flush, on a copy taken before the checkpoint
// (what kill -9 leaves: everything in the log).
bool MeasureStorage(std::unique_ptr<server::Server> server, const server::ServerOptions& options, int64_t rows,
                    bool crash_copy) {
  namespace fs = std::filesystem;
  const std::string& dir = options.engine.storage.data_dir;
  const std::string copy = dir + "-crash";
  if (crash_copy) {
    // A change's turn holds off checkpoints (which delete logs) while copying.
    engine::Journal::Turn turn = server->engine().store()->Hold();
    fs::copy(dir, copy, fs::copy_options::recursive);
  }
  const double mb = rows * kRowBytes / 1e6;
  // A change, so that the checkpoint writes the table anew.
  if (auto table = server->engine().catalog().Find(kTable); table.ok()) {
    (*table)->UpdateMetadata({{"checkpointed", "by insert-bench"}}).IgnoreError();
  }
  const auto t0 = Clock::now();
  const absl::Status checkpointed = server->engine().store()->Checkpoint();
  const double checkpoint_s = Seconds(t0);
  const auto stats = server->engine().store()->stats();
  if (!checkpointed.ok()) {
    std::printf("  checkpoint failed: %s\n", std::string(checkpointed.message()).c_str());
    return false;
  }
  std::printf("  checkpoint: %.0f MB of rows in %.3f s (%.0f MB/s), %.0f MB of segments written\n", mb, checkpoint_s,
              mb / checkpoint_s, stats.last_checkpoint_bytes / 1e6);
  server->Shutdown();
  server.reset();  // its checkpoint at exit finds nothing new
  bool ok = true;
  auto recover = [&](const std::string& from, const char* what) {
    engine::EngineOptions engine_options = options.engine;
    engine_options.storage.data_dir = from;
    const auto t = Clock::now();
    auto engine = engine::Engine::Create(engine_options);
    const double s = Seconds(t);
    if (!engine.ok()) {
      std::printf("  recovery %s failed: %s\n", what, std::string(engine.status().message()).c_str());
      ok = false;
      return;
    }
    auto table = (*engine)->catalog().Find(kTable);
    const int64_t got = table.ok() ? (*table)->rows() : -1;
    std::printf("  recovery %s: %lld rows (%.0f MB) in %.3f s = %.2f GB/s%s\n", what, static_cast<long long>(got), mb,
                s, mb / 1e3 / s, got == rows ? "" : " (WRONG ROW COUNT)");
    ok = ok && got == rows;
  };
  recover(dir, "from the checkpoint (segments)");
  if (crash_copy) {
    fs::remove(copy + "/LOCK");
    recover(copy, "after kill -9 (log replay)");
    fs::remove_all(copy);
  }
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  std::vector<int64_t> sizes;
  for (absl::string_view s : absl::StrSplit(absl::GetFlag(FLAGS_rows), ',')) {
    double v = 0;
    if (!absl::SimpleAtod(s, &v) || v < 1) {
      std::fprintf(stderr, "insert-bench: --rows: '%s' is not a row count\n", std::string(s).c_str());
      return 2;
    }
    sizes.push_back(static_cast<int64_t>(v));
  }
  const int runs = std::max(1, absl::GetFlag(FLAGS_runs));
  std::vector<std::string> modes = absl::StrSplit(absl::GetFlag(FLAGS_storage), ',');
  for (const std::string& mode : modes) {
    if (mode != "memory" && !engine::storage::ParseSync(mode).ok()) {
      std::fprintf(stderr, "insert-bench: --storage: '%s' is not memory, none, background, flush or fsync\n",
                   mode.c_str());
      return 2;
    }
  }

  bool ok = true;
  std::vector<ModeResult> results;
  for (const std::string& mode : modes) {
    server::ServerOptions options;
    options.grpc_port = 0;
    options.http_port = 0;
    options.max_message_bytes = std::numeric_limits<int>::max();
    options.engine.devices.spec = absl::GetFlag(FLAGS_devices);
    std::string dir;
    if (mode != "memory") {
      std::string templ = (std::filesystem::temp_directory_path() / "insert-bench-XXXXXX").string();
      dir = ::mkdtemp(templ.data());
      options.engine.storage.data_dir = dir;
      options.engine.storage.sync = *engine::storage::ParseSync(mode);
    }
    auto started = server::Server::Start(options);
    if (!started.ok()) {
      std::fprintf(stderr, "insert-bench: %s\n", std::string(started.status().message()).c_str());
      return 2;
    }
    Bench bench(**started);
    ModeResult result{mode, {}};
    for (int64_t rows : sizes) {
      const Bodies bodies = MakeBodies(rows);
      const Bodies snappy{Snappy(bodies.avro), Snappy(bodies.protobuf)};
      std::vector<Way> ways;
      for (const char* name : {"http", "http-snappy", "grpc", "grpc-snappy"}) {
        if (Selected(name)) ways.push_back(Way{name, {}, {}, {}, {}});
      }
      std::printf("insert-bench [storage %s]: %lld rows of (id long, x double, y int); bodies: Avro %.1f MB (snappy "
                  "%.1f MB), protobuf %.1f MB (snappy %.1f MB); medians of %d runs, rows/s\n",
                  mode.c_str(), static_cast<long long>(rows), bodies.avro.size() / 1e6, snappy.avro.size() / 1e6,
                  bodies.protobuf.size() / 1e6, snappy.protobuf.size() / 1e6, runs);
      std::vector<Way> warmup = ways;
      if (!RunOnce(bench, bodies, snappy, rows, &warmup)) return 1;
      for (int r = 0; r < runs && ok; ++r) ok = RunOnce(bench, bodies, snappy, rows, &ways);
      if (!ok) break;
      std::printf("%-12s %12s %12s %16s %16s %10s\n", "way", "server", "end to end", "receive: server",
                  "receive: e2e", "e2e ratio");
      for (const Way& way : ways) {
        std::printf("%-12s %12s %12s %16s %16s %9.2fx\n", way.name.c_str(), Rate(rows, way.server_s).c_str(),
                    Rate(rows, way.e2e_s).c_str(), Rate(rows, way.receive_server_s).c_str(),
                    Rate(rows, way.receive_e2e_s).c_str(), Median(way.receive_e2e_s) / Median(way.e2e_s));
      }
      std::printf("(server: HTTP x-request-time-secs, gRPC CreateJob + queue_ms + execution_ms; receive: the same "
                  "body to an unknown endpoint, not decoded; e2e ratio: insert rate / receive rate)\n");
      std::fflush(stdout);
      result.sizes.push_back(std::move(ways));
    }
    if (ok && mode != "memory") {
      ok = MeasureStorage(*std::move(started), options, sizes.back(), mode == "flush");
    } else {
      (*started)->Shutdown();
      started->reset();
    }
    if (!dir.empty()) std::filesystem::remove_all(dir);
    results.push_back(std::move(result));
    if (!ok) break;
  }
  if (ok && results.size() > 1) {
    std::printf("\ninsert-bench: server rows/s by storage mode, and the ratio to %s (same run)\n",
                results[0].mode.c_str());
    std::printf("%-10s %-12s", "rows", "way");
    for (const ModeResult& m : results) std::printf(" %18s", m.mode.c_str());
    std::printf("\n");
    for (size_t i = 0; i < sizes.size(); ++i) {
      for (size_t w = 0; w < results[0].sizes[i].size(); ++w) {
        std::printf("%-10lld %-12s", static_cast<long long>(sizes[i]), results[0].sizes[i][w].name.c_str());
        const double base = Median(results[0].sizes[i][w].server_s);
        for (const ModeResult& m : results) {
          const double t = Median(m.sizes[i][w].server_s);
          std::printf(" %10s (%4.2fx)", Rate(sizes[i], m.sizes[i][w].server_s).c_str(), base / t);
        }
        std::printf("\n");
      }
    }
  }
  return ok ? 0 : 1;
}
