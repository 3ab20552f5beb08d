#pragma once

// Kinetica's HTTP transport (spec §7) over cpp-httplib: every endpoint is
// `POST /<endpoint>` (a path prefix may stand before it: `/gpudb-0/filter`),
// with the request record in the body as
//   application/octet-stream  Avro binary (avro_codec.h),
//   application/x-snappy      a raw snappy block of that,
//   application/json          a JSON object,
// answered with the response wrapper gpudb_response in the request's family:
// Avro binary (application/octet-stream; also for snappy requests) or a JSON
// object whose data_str holds the response as JSON text. HTTP status: 200 for
// status OK, 400 for status ERROR (bad body, bad request, failed endpoint),
// 404 for an unknown endpoint, 401 for missing or wrong credentials, 429 when
// the server is busy (too many queued jobs), 503 while it shuts down; every
// error answer carries the ERROR wrapper with a message naming the problem.
// `GET /` answers "Kinetica is running!" (a liveness probe; no credentials
// needed).
//
// /create/job and /get/job use the job API (job_api.h) with the Avro codec:
// a job's embedded request and its job_response are Avro when its
// request_encoding is binary or snappy. Jobs live in the engine, so a job
// created here can be read over gRPC by its id or tag and the other way
// round.
//
// Each request is served on one of `threads` worker threads, which waits for
// the job's answer (a /get/job with options.wait_timeout_ms waits up to that
// long); connections beyond the workers queue.

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "server/avro_codec.h"
#include "server/job_api.h"

namespace httplib {
class Server;
struct Request;
}

namespace server {

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 9191;  // 0 picks a free port
  // Basic authentication: user → password. Empty: no authentication.
  std::map<std::string, std::string> users;
  int threads = 64;                      // worker threads
  size_t max_body_bytes = size_t{256} << 20;  // larger bodies get 413
};

// Reads an auth file: one `user:password` per line (the password is
// everything after the first ':'); blank lines and lines starting with '#'
// are skipped. Errors name the file and line.
absl::StatusOr<std::map<std::string, std::string>> ReadAuthFile(const std::string& path);

class HttpServer {
 public:
  // Binds and starts serving on its own threads. Error: the address cannot
  // be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(const HttpOptions& options, engine::Engine& engine);
  // Stops (if not yet).
  ~HttpServer();

  // The bound port (useful with port 0).
  int port() const { return port_; }

  // Stops accepting connections, lets the requests being served finish (the
  // engine answers every waiting one when it drains), and joins the threads.
  // Idempotent.
  void Stop();

 private:
  HttpServer(engine::Engine& engine, const HttpOptions& options);
  void Route();
  // Runs an endpoint through the job API and waits for its wrapper.
  absl::StatusOr<Wrapper> Call(const engine::Endpoint& endpoint, const std::string& encoding, engine::Json request,
                               const Caller& caller);
  // /show/system/properties plus what the HTTP clients read about the
  // cluster: one host (by the name the client used), no HA, no HTTPS.
  absl::StatusOr<Wrapper> SystemProperties(const engine::Endpoint& endpoint, engine::Json request,
                                           const std::string& encoding, const httplib::Request& req,
                                           const Caller& caller);

  engine::Engine& engine_;
  HttpOptions options_;
  const AvroCodec codec_;
  JobApi api_;
  std::unique_ptr<httplib::Server> http_;
  std::thread listener_;
  int port_ = 0;
};

}  // namespace server
