#pragma once

// The server process: the engine plus its gRPC endpoint.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "engine/engine.h"

namespace grpc {
class Server;
}

namespace server {

class GpudbService;

struct ServerOptions {
  std::string host = "127.0.0.1";
  int grpc_port = 9190;  // 0 picks a free port
  int max_message_bytes = 256 << 20;
  engine::EngineOptions engine;
};

class Server {
 public:
  // Creates the engine and starts listening. Errors: bad device options, a
  // port that cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options);
  // Shuts down (if not yet) and frees the engine.
  ~Server();

  // The bound gRPC port (useful with grpc_port = 0).
  int grpc_port() const { return grpc_port_; }
  engine::Engine& engine() { return *engine_; }

  // Blocks until Shutdown() is called from another thread.
  void Wait();
  // Stops accepting calls, finishes the ones in flight, then returns.
  void Shutdown();

 private:
  Server() = default;

  std::unique_ptr<engine::Engine> engine_;
  std::unique_ptr<GpudbService> service_;
  std::unique_ptr<grpc::Server> grpc_;
  int grpc_port_ = 0;
};

}  // namespace server
