#pragma once

// The gRPC service gpudb.v1.Gpudb (callback API: no server thread waits on a
// job). Each RPC answers with the response wrapper. A server that is busy
// (too many queued jobs) or shutting down answers CreateJob and Execute with
// the gRPC status RESOURCE_EXHAUSTED or UNAVAILABLE instead.

#include "absl/synchronization/mutex.h"
#include "engine/engine.h"
#include "proto/gpudb.grpc.pb.h"
#include "server/auth.h"
#include "server/codec.h"
#include "server/job_api.h"

namespace server {

// Fills `response` (cleared first) with the wrapper of a get_job_response,
// written straight into the protobuf message: the same message that
// GetJobResponseRecord and ProtobufCodec give, without the detour through
// engine::Json.
void WriteGetJobResponse(JobDescription description, gpudb::v1::GpudbResponse* response);

// Calls whose reactions may reach the engine after their answer (WatchJob's
// OnDone unwatches; Execute's OnCancel abandons its job). gRPC's
// Server::Shutdown returns only after every call's OnDone, but through its
// own locks, which ThreadSanitizer does not see (Debian's gRPC is not
// instrumented): this count states the order in code that it can check.
class LiveCalls {
 public:
  // A call's place in the count: a reactor's first member, so that it goes
  // last, when OnDone deletes the reactor.
  class Call {
   public:
    explicit Call(LiveCalls& calls) : calls_(calls) {
      absl::MutexLock lock(&calls_.mu_);
      ++calls_.live_;
    }
    ~Call() {
      absl::MutexLock lock(&calls_.mu_);
      --calls_.live_;
    }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

   private:
    LiveCalls& calls_;
  };

  // Returns once every call is done.
  void AwaitNone() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](int* live) { return *live == 0; }, &live_));
  }

 private:
  absl::Mutex mu_;
  int live_ ABSL_GUARDED_BY(mu_) = 0;
};

class GpudbService final : public gpudb::v1::Gpudb::CallbackService {
 public:
  // `max_message_bytes`: the largest request (JobApi's limits follow it).
  // `users`: who may call (auth.h; the `authorization` call metadata, as
  // HTTP's header); none: anyone.
  GpudbService(engine::Engine& engine, size_t max_message_bytes, Users users)
      : engine_(engine),
        codec_(RequestDecoder::MaxDecodedBytes(max_message_bytes)),
        api_(engine, codec_, max_message_bytes),
        auth_(std::move(users)) {}
  // Waits for every WatchJob and Execute call's OnDone (see LiveCalls);
  // destroy the grpc::Server (or shut it down) first, the engine after.
  ~GpudbService() override { live_.AwaitNone(); }

  // Answers at once with the job's id and tag (a CreateJobResponse in data).
  grpc::ServerUnaryReactor* CreateJob(grpc::CallbackServerContext* context,
                                      const gpudb::v1::CreateJobRequest* request,
                                      gpudb::v1::GpudbResponse* response) override;
  // The job's state, progress and, once done, its response (a GetJobResponse
  // in data); waits up to options.wait_timeout_ms for the job to finish.
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const gpudb::v1::GetJobRequest* request,
                                   gpudb::v1::GpudbResponse* response) override;
  // Streams the job's record at every change until it has finished.
  grpc::ServerWriteReactor<gpudb::v1::GpudbResponse>* WatchJob(grpc::CallbackServerContext* context,
                                                               const gpudb::v1::GetJobRequest* request) override;
  // Runs any endpoint and answers when it has finished, encoded per the
  // request's encoding (json → data_str, binary or snappy → data).
  grpc::ServerUnaryReactor* Execute(grpc::CallbackServerContext* context,
                                    const gpudb::v1::ExecuteRequest* request,
                                    gpudb::v1::GpudbResponse* response) override;

 private:
  // The caller of a call, or Unauthenticated (auth.h).
  absl::StatusOr<Caller> CallerOf(const grpc::CallbackServerContext* context) const;

  engine::Engine& engine_;
  const ProtobufCodec codec_;
  JobApi api_;
  const Authenticator auth_;
  LiveCalls live_;
};

}  // namespace server
