#pragma once

// The server process: the engine plus its gRPC endpoint, the standard gRPC
// health service and server reflection, and optionally Kinetica's HTTP
// transport (http_server.h).

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/engine.h"
#include "server/auth.h"
#include "server/tls.h"

namespace grpc {
class Server;
}

namespace server {

class GpudbService;
class HttpServer;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int grpc_port = 9190;  // 0 picks a free port
  int http_port = -1;    // -1: no HTTP listener; 0 picks a free port
  // Who may call, over HTTP and gRPC (auth.h); none: no authentication.
  Users users;
  // TLS on both transports (tls.h); none: plain.
  TlsOptions tls;
  // HTTP connections (HttpOptions): threads kept ready, most served at once,
  // seconds an idle one stays open.
  int http_threads = 64;
  int http_max_connections = 1024;
  int http_idle_timeout_s = 60;
  int http_request_timeout_s = 20;  // HttpOptions::request_timeout_s
  int max_message_bytes = 256 << 20;
  int max_concurrent_streams = 1000;  // per client connection
  engine::EngineOptions engine;
};

class Server {
 public:
  // Creates the engine and starts listening. Errors: bad device options, a
  // port that cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  // Shuts down (if not yet, with no grace) and frees the engine.
  ~Server();

  // The bound gRPC port (useful with grpc_port = 0).
  int grpc_port() const { return grpc_port_; }
  // The bound HTTP port (useful with http_port = 0); 0 without HTTP.
  int http_port() const { return http_port_; }
  engine::Engine& engine() { return *engine_; }
  // What recovery from the data directory did, a line each (none in
  // memory-only mode).
  const std::vector<std::string>& storage_notes() const { return storage_notes_; }

  // Blocks until Shutdown() has finished.
  void Wait();
  // Graceful shutdown: the health service reports NOT_SERVING, new jobs are
  // refused (UNAVAILABLE), unfinished jobs get `grace` to finish, then those
  // that can be cancelled are; every waiting client (GetJob with a wait,
  // WatchJob, Execute, HTTP requests) gets its answer; then the listeners
  // close.
  // Idempotent; concurrent callers wait for the first.
  void Shutdown(absl::Duration grace = absl::ZeroDuration());

 private:
  Server() = default;

  std::unique_ptr<engine::Engine> engine_;
  std::vector<std::string> storage_notes_;
  std::unique_ptr<GpudbService> service_;
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<HttpServer> http_;
  int grpc_port_ = 0;
  int http_port_ = 0;

  absl::Mutex mu_;
  bool shutting_down_ ABSL_GUARDED_BY(mu_) = false;
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace server
