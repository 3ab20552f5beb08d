#include "server/server.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "server/grpc_service.h"

namespace server {

absl::StatusOr<std::unique_ptr<Server>> Server::Start(const ServerOptions& options) {
  auto engine = engine::Engine::Create(options.engine);
  if (!engine.ok()) return engine.status();
  std::unique_ptr<Server> server(new Server());
  server->engine_ = *std::move(engine);
  server->service_ = std::make_unique<GpudbService>(*server->engine_);

  grpc::ServerBuilder builder;
  builder.AddListeningPort(absl::StrCat(options.host, ":", options.grpc_port), grpc::InsecureServerCredentials(),
                           &server->grpc_port_);
  // gRPC sets SO_REUSEPORT by default, which lets a second server bind a
  // port already in use and share its calls; refuse a taken port instead.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.SetMaxSendMessageSize(options.max_message_bytes);
  builder.RegisterService(server->service_.get());
  server->grpc_ = builder.BuildAndStart();
  if (server->grpc_ == nullptr || server->grpc_port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options.host, ":", options.grpc_port, " (address in use?)"));
  }
  return server;
}

Server::~Server() {
  Shutdown();
  engine_.reset();  // finishes queued jobs before the service goes away
}

void Server::Wait() {
  if (grpc_ != nullptr) grpc_->Wait();
}

void Server::Shutdown() {
  if (grpc_ != nullptr) grpc_->Shutdown();
}

}  // namespace server
