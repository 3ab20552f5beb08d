#pragma once

// Kinetica's HTTP transport (spec §7) over cpp-httplib: `POST /<endpoint>`
// (after any path prefix) with the request record in the body as Avro
// (application/octet-stream), snappy-compressed Avro (application/x-snappy)
// or JSON (application/json), answered with the gpudb_response wrapper in
// Avro or JSON through the job API (job_api.h). HTTP status: 200 OK, 400 a
// request or endpoint error, 401 credentials, 404 an unknown endpoint, 413 a
// body over the limit, 429 busy, 503 shutting down; every error carries the
// ERROR wrapper. `GET /` is a liveness probe. The README's "Kinetica's HTTP
// transport" has the details clients see.
//
// Connections: HTTP/1.1 keep-alive with no limit on the requests per
// connection; one closes when the client closes it, asks to
// (`Connection: close`, or HTTP/1.0 without `Connection: Keep-Alive`), stays
// idle for `idle_timeout_s` (announced as `Keep-Alive: timeout=N`), or the
// server stops. Each answer leaves in one write (one TCP segment when it fits
// one) on a socket with TCP_NODELAY, so no answer waits for the client's
// delayed ACK; answers are never compressed (Accept-Encoding is ignored).
// Every answer carries `x-request-time-secs` (the seconds the server spent on
// it), which Kinetica's clients read into status_info.response_time.

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "engine/engine.h"
#include "server/auth.h"
#include "server/avro_codec.h"
#include "server/job_api.h"
#include "server/tls.h"

namespace httplib {
struct Request;
}

namespace server {

class HttpListener;  // httplib's server with this transport's connection handling

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 9191;  // 0 picks a free port
  // Who may call (auth.h); none: no authentication.
  Users users;
  // TLS on every connection (tls.h); none: plain HTTP.
  TlsOptions tls;
  // A connection is served by one thread from accept to close (also while
  // idle between requests). `threads` are kept ready; more start as
  // connections arrive, up to `max_connections`. Past that a new connection
  // waits for a thread, and open ones make room: an idle one closes, a busy
  // one closes after its current answer (`Connection: close`).
  int threads = 64;
  int max_connections = 1024;
  int idle_timeout_s = 60;  // >= 1
  // A request's line and headers must arrive within `request_timeout_s` of
  // its first byte, and its body within as long again plus a second per MiB:
  // a client slower than that (one byte at a time keeps a plain read timeout
  // from ever ending) is cut off and cannot hold a thread. >= 1.
  int request_timeout_s = 20;
  size_t max_body_bytes = size_t{256} << 20;  // larger bodies get 413
};

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
  HttpServer(engine::Engine& engine, const HttpOptions& options, std::unique_ptr<TlsContext> tls);
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
  const Authenticator auth_;
  std::unique_ptr<HttpListener> http_;
  std::thread listener_;
  int port_ = 0;
};

}  // namespace server
