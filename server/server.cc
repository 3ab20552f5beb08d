#include "server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "server/grpc_service.h"
#include "server/http_server.h"

namespace server {

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  std::vector<std::string> notes;
  auto engine = engine::Engine::Create(options.engine, &notes);
  if (!engine.ok()) return engine.status();
  std::unique_ptr<Server> server(new Server());
  server->storage_notes_ = std::move(notes);
  server->engine_ = *std::move(engine);
  server->service_ = std::make_unique<GpudbService>(*server->engine_, options.max_message_bytes, options.users);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (options.tls.enabled()) {
    grpc::SslServerCredentialsOptions ssl(options.tls.client_ca_pem.empty()
                                              ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                              : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_root_certs = options.tls.client_ca_pem;
    ssl.pem_key_cert_pairs.push_back({options.tls.key_pem, options.tls.cert_pem});
    credentials = grpc::SslServerCredentials(ssl);
  }
  builder.AddListeningPort(absl::StrCat(options.host, ":", options.grpc_port), credentials, &server->grpc_port_);
  // gRPC sets SO_REUSEPORT by default, which lets a second server bind a
  // port already in use and share its calls; refuse a taken port instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONCURRENT_STREAMS, options.max_concurrent_streams);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(server->service_.get());
  server->grpc_ = builder.BuildAndStart();
  if (server->grpc_ == nullptr || server->grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.host, ":", options.grpc_port, " (address in use?)"));
  }
  // The default health service knows only "" until a service is named; name
  // ours, so that a check of "gpudb.v1.Gpudb" is answered (and follows the
  // overall status, which Shutdown sets to NOT_SERVING).
  server->grpc_->GetHealthCheckService()->SetServingStatus(gpudb::v1::Gpudb::service_full_name(), true);
  server->grpc_->GetHealthCheckService()->SetServingStatus(true);
  if (options.http_port >= 0) {
    HttpOptions http;
    http.host = options.host;
    http.port = options.http_port;
    http.users = options.users;
    http.tls = options.tls;
    http.threads = options.http_threads;
    http.max_connections = options.http_max_connections;
    http.idle_timeout_s = options.http_idle_timeout_s;
    http.request_timeout_s = options.http_request_timeout_s;
    http.max_body_bytes = static_cast<size_t>(options.max_message_bytes);
    auto listener = HttpServer::Start(http, *server->engine_);
    if (!listener.ok()) return listener.status();
    server->http_ = *std::move(listener);
    server->http_port_ = server->http_->port();
  }
  return server;
}

Server::~Server() {
  Shutdown();
  // What serves calls goes before the engine those calls reach.
  http_.reset();
  grpc_.reset();
  service_.reset();
  engine_.reset();
}

void Server::Wait() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&shut_down_));
}

void Server::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (shutting_down_) {
      mu_.Await(absl::Condition(&shut_down_));
      return;
    }
    shutting_down_ = true;
  }
  if (grpc_ != nullptr) {
    grpc_->GetHealthCheckService()->SetServingStatus(false);
    // Every job finishes or is cancelled; their waiting clients are answered.
    engine_->Drain(grace);
    // HTTP requests in flight have their answers; stop accepting new ones.
    if (http_ != nullptr) http_->Stop();
    // Give in-flight answers a moment to be sent, then close.
    grpc_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }
  absl::MutexLock lock(&mu_);
  shut_down_ = true;
}

}  // namespace server
