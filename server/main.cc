// gpudb-engine: serves Kinetica's job API over gRPC and Kinetica's HTTP
// transport on the engine's devices.

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <tuple>

#include "absl/flags/flag.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kernels/memory.h"
#include "server/allocator.h"
#include "server/command_line.h"
#include "server/http_server.h"
#include "server/server.h"

ABSL_FLAG(std::string, host, "127.0.0.1", "Address to listen on.");
ABSL_FLAG(int, grpc_port, 9190, "gRPC port; 0 picks a free one (printed at start).");
ABSL_FLAG(int, http_port, 9191, "HTTP port of Kinetica's REST transport; 0 turns HTTP off.");
ABSL_FLAG(std::string, auth_file, "",
          "Who may call, over HTTP and gRPC: a file of user:password lines (Basic) and Bearer <token> <user> "
          "lines; empty = no authentication.");
ABSL_FLAG(std::string, tls_cert, "",
          "TLS on gRPC and HTTP: the server's certificate chain (PEM); with --tls-key. Empty = plain.");
ABSL_FLAG(std::string, tls_key, "", "The private key (PEM) of --tls-cert.");
ABSL_FLAG(std::string, tls_client_ca, "",
          "With TLS: clients must present a certificate signed by this CA (PEM). Empty = no client certificate.");
ABSL_FLAG(std::string, devices, "auto",
          "Devices to run on: auto (every CUDA GPU, else one host device), host, host:N, cuda, cuda:0,1.");
ABSL_FLAG(int, streams_per_device, 4, "Streams (concurrent job queues) per device.");
ABSL_FLAG(std::string, device_memory_limit, "0",
          "Byte limit of each device's memory pool, e.g. 512M or 8G; 0 = 90% of a GPU, half of host RAM.");
ABSL_FLAG(int64_t, max_get_records_size, 20000, "Most rows one read returns (limit -9999 asks for this).");
ABSL_FLAG(std::string, max_message_size, "256M", "Largest gRPC message accepted or sent.");
ABSL_FLAG(int, max_concurrent_streams, 1000, "Most concurrent calls per client connection.");
ABSL_FLAG(int, max_queued_jobs, 10000,
          "Jobs waiting per device beyond which new jobs are refused with RESOURCE_EXHAUSTED.");
ABSL_FLAG(absl::Duration, job_ttl, absl::Hours(1), "How long a finished job and its result are kept, e.g. 30m.");
ABSL_FLAG(std::string, result_memory_limit, "1G", "Bytes of stored job results; the oldest are evicted past it.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(30),
          "On SIGTERM/SIGINT, how long running jobs may finish before they are cancelled.");
ABSL_FLAG(int64_t, chunk_rows, int64_t{1} << 22,
          "Rows a scan processes between progress reports and cancel/deadline checks.");
ABSL_FLAG(int64_t, spread_chunk_rows, int64_t{1} << 20,
          "With several devices, rows a table without a shard key puts on one device before it spreads to the next "
          "(smaller tables stay on one device).");
ABSL_FLAG(std::string, files_dir, "",
          "Directory whose files /insert/records/fromfiles reads and /export/records/tofiles writes; "
          "empty: none (those endpoints refuse).");
ABSL_FLAG(std::string, data_dir, "gpudb-data",
          "Directory where tables and finished jobs are kept across restarts (created if missing); "
          "empty: memory only, everything is lost at exit.");
ABSL_FLAG(std::string, sync, "flush",
          "When a change is acknowledged: none (no promise), background (written within 20 ms), flush (written "
          "to the OS: survives kill -9), fsync (synced to disk: survives power loss).");
ABSL_FLAG(int64_t, user_max_jobs, 0,
          "Most unfinished jobs (queued or running) of one user at once; more are refused with "
          "RESOURCE_EXHAUSTED. 0 = no limit. Without --auth-file every caller is one user.");
ABSL_FLAG(std::string, user_max_request_size, "0",
          "Largest request (HTTP body, gRPC data) one user may send, e.g. 16M; 0 = --max-message-size.");
ABSL_FLAG(std::string, user_max_result_size, "0",
          "Largest job result one user may receive, e.g. 64M (a larger one ends its job in ERROR); 0 = no limit.");
ABSL_FLAG(std::string, checkpoint_log_size, "512M", "Log size past which a checkpoint starts.");

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "gpudb-engine: %s\n", message.c_str());
  return 2;
}

// How long OpenMP's threads (a host device's kernels) spin for the next
// parallel region before they sleep, when the environment does not say
// (OMP_WAIT_POLICY, GOMP_SPINCOUNT). libgomp's default (300,000 rounds)
// leaves the idle teams of other job threads spinning on the cores a job
// needs; passive (no spin) makes every kernel of a job wait for its threads
// to be woken (tens of microseconds on a VM, hundreds of kernels a query).
// 10,000 rounds bridge the gaps between one job's kernels and then sleep:
// TPC-H q5 at scale factor 1 took 44 ms, against 65 passive and 62 by
// default (benchmarks/RESULTS.md).
constexpr char kSpinCount[] = "10000";

// libgomp reads its settings when it is loaded, before main: the server
// runs itself again with GOMP_SPINCOUNT set. Returns only if it cannot.
void SetOpenMpSpin(char** argv) {
  for (const char* name : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"}) {
    const char* value = std::getenv(name);
    if (value != nullptr && *value != '\0') return;
  }
  // The binary's own path, so that the process keeps its name.
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) return;
  self[n] = '\0';
  if (setenv("GOMP_SPINCOUNT", kSpinCount, 1) != 0) return;
  execv(self, argv);
  unsetenv("GOMP_SPINCOUNT");  // could not: run with OpenMP's defaults
}

}  // namespace

int main(int argc, char** argv) {
  SetOpenMpSpin(argv);
  server::TuneAllocator();
  server::ParseCommandLine(
      argc, argv, "server/main.cc",
      "a GPU job engine serving Kinetica's job API over gRPC and HTTP.\n"
      "Usage: gpudb-engine [--grpc-port=9190] [--http-port=9191] [--devices=auto] [--device-memory-limit=0] ...\n"
      "Flags may be written --grpc-port or --grpc_port.");

  // Block SIGINT/SIGTERM in every thread; one thread waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  server::ServerOptions options;
  options.host = absl::GetFlag(FLAGS_host);
  options.grpc_port = absl::GetFlag(FLAGS_grpc_port);
  const int http_port = absl::GetFlag(FLAGS_http_port);
  if (http_port < 0 || http_port > 65535) return Fail("--http-port: expected 1 to 65535, or 0 to turn HTTP off");
  options.http_port = http_port == 0 ? -1 : http_port;
  if (!absl::GetFlag(FLAGS_auth_file).empty()) {
    auto users = server::ReadUsersFile(absl::GetFlag(FLAGS_auth_file));
    if (!users.ok()) return Fail(std::string(users.status().message()));
    options.users = *std::move(users);
  }
  engine::UserLimits user_limits;
  user_limits.max_jobs = absl::GetFlag(FLAGS_user_max_jobs);
  if (user_limits.max_jobs < 0) return Fail("--user-max-jobs: must be >= 0 (0: no limit)");
  for (auto [flag, name, field] :
       {std::tuple{&FLAGS_user_max_request_size, "--user-max-request-size", &user_limits.max_request_bytes},
        std::tuple{&FLAGS_user_max_result_size, "--user-max-result-size", &user_limits.max_result_bytes}}) {
    size_t bytes = 0;
    if (!server::ParseBytes(absl::GetFlag(*flag), &bytes)) {
      return Fail(absl::StrCat(name, ": expected bytes such as 16M or 1G (0: no limit)"));
    }
    *field = static_cast<int64_t>(bytes);
  }
  options.engine.jobs.limits = server::LimitsOf(options.users, user_limits);
  auto tls = server::ReadTlsFiles(absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                                  absl::GetFlag(FLAGS_tls_client_ca));
  if (!tls.ok()) return Fail(std::string(tls.status().message()));
  options.tls = *std::move(tls);
  options.engine.devices.spec = absl::GetFlag(FLAGS_devices);
  options.engine.devices.streams_per_device = absl::GetFlag(FLAGS_streams_per_device);
  options.engine.limits.max_get_records_size = absl::GetFlag(FLAGS_max_get_records_size);
  if (!server::ParseBytes(absl::GetFlag(FLAGS_device_memory_limit), &options.engine.devices.memory_limit)) {
    return Fail("--device-memory-limit: expected bytes such as 1048576, 512M or 8G");
  }
  size_t max_message = 0;
  if (!server::ParseBytes(absl::GetFlag(FLAGS_max_message_size), &max_message) || max_message == 0 ||
      max_message > (size_t{2} << 30) - 1) {
    return Fail("--max-message-size: expected a size from 1 byte to 2G, such as 256M");
  }
  options.max_message_bytes = static_cast<int>(max_message);
  if (options.engine.limits.max_get_records_size < 1) return Fail("--max-get-records-size: must be >= 1");
  options.max_concurrent_streams = absl::GetFlag(FLAGS_max_concurrent_streams);
  if (options.max_concurrent_streams < 1) return Fail("--max-concurrent-streams: must be >= 1");
  options.engine.max_queued_jobs = absl::GetFlag(FLAGS_max_queued_jobs);
  if (options.engine.max_queued_jobs < 1) return Fail("--max-queued-jobs: must be >= 1");
  options.engine.jobs.ttl = absl::GetFlag(FLAGS_job_ttl);
  if (options.engine.jobs.ttl <= absl::ZeroDuration()) return Fail("--job-ttl: must be positive, e.g. 1h");
  if (!server::ParseBytes(absl::GetFlag(FLAGS_result_memory_limit), &options.engine.jobs.result_memory_limit)) {
    return Fail("--result-memory-limit: expected bytes such as 512M or 4G");
  }
  options.engine.limits.chunk_rows = absl::GetFlag(FLAGS_chunk_rows);
  if (options.engine.limits.chunk_rows < 1) return Fail("--chunk-rows: must be >= 1");
  options.engine.limits.spread_chunk_rows = absl::GetFlag(FLAGS_spread_chunk_rows);
  if (options.engine.limits.spread_chunk_rows < 1) return Fail("--spread-chunk-rows: must be >= 1");
  options.engine.limits.files_dir = absl::GetFlag(FLAGS_files_dir);
  if (struct stat st; !options.engine.limits.files_dir.empty() &&
                      (::stat(options.engine.limits.files_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))) {
    return Fail(absl::StrCat("--files-dir: '", options.engine.limits.files_dir, "' is not a directory"));
  }
  options.engine.storage.data_dir = absl::GetFlag(FLAGS_data_dir);
  auto sync = engine::storage::ParseSync(absl::GetFlag(FLAGS_sync));
  if (!sync.ok()) return Fail(absl::StrCat("--", sync.status().message()));
  options.engine.storage.sync = *sync;
  size_t checkpoint_bytes = 0;
  if (!server::ParseBytes(absl::GetFlag(FLAGS_checkpoint_log_size), &checkpoint_bytes) || checkpoint_bytes == 0) {
    return Fail("--checkpoint-log-size: expected bytes such as 64M or 1G");
  }
  options.engine.storage.checkpoint_log_bytes = checkpoint_bytes;
  const absl::Duration grace = absl::GetFlag(FLAGS_shutdown_grace);
  if (grace < absl::ZeroDuration()) return Fail("--shutdown-grace: must not be negative");

  // Tests only: allocations fail at random (kernels::InjectAllocationFailures).
  if (const char* p = std::getenv("GPUDB_INJECT_ALLOCATION_FAILURES"); p != nullptr && *p != '\0') {
    double rate = 0;
    if (!absl::SimpleAtod(p, &rate) || rate < 0 || rate > 1) {
      return Fail(absl::StrCat("GPUDB_INJECT_ALLOCATION_FAILURES: expected a probability from 0 to 1, got '", p, "'"));
    }
    kernels::InjectAllocationFailures(rate);
    std::fprintf(stderr, "gpudb-engine: failing allocations at random with probability %g (tests only)\n", rate);
  }
  // A write past a file size limit fails with EFBIG rather than killing us.
  signal(SIGXFSZ, SIG_IGN);
  auto server = server::Server::Start(options);
  if (!server.ok()) return Fail(std::string(server.status().message()));

  std::string devices;
  for (const auto& d : (*server)->engine().devices()) {
    absl::StrAppend(&devices, devices.empty() ? "" : ", ", d->name(), " (", d->memory().limit() >> 20,
                    " MiB, ", d->stream_count(), " streams)");
  }
  const std::string security = absl::StrCat(options.tls.enabled() ? ", TLS" : "",
                                            options.tls.client_ca_pem.empty() ? "" : ", client certificates",
                                            options.users.empty() ? "" : ", authenticated");
  std::string http;
  if ((*server)->http_port() > 0) {
    http = absl::StrCat(", ", options.host, ":", (*server)->http_port(), " (HTTP", security, ")");
  }
  std::string data = " (memory only)";
  if (!options.engine.storage.data_dir.empty()) {
    data = absl::StrCat(" ", options.engine.storage.data_dir, " (sync ", engine::storage::SyncName(*sync), ")");
  }
  std::printf("gpudb-engine listening on %s:%d (gRPC%s)%s; devices: %s; data:%s\n", options.host.c_str(),
              (*server)->grpc_port(), security.c_str(), http.c_str(), devices.c_str(), data.c_str());
  std::fflush(stdout);
  // After the listening line, which scripts wait for first.
  for (const std::string& note : (*server)->storage_notes()) {
    std::fprintf(stderr, "gpudb-engine: data directory: %s\n", note.c_str());
  }

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    std::printf("gpudb-engine: signal %d, shutting down (grace %s)\n", sig, absl::FormatDuration(grace).c_str());
    std::fflush(stdout);
    (*server)->Shutdown(grace);
    std::printf("gpudb-engine: stopped\n");
    std::fflush(stdout);
  });
  (*server)->Wait();
  waiter.join();
  server->reset();
  return 0;
}
