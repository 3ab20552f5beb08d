#pragma once

// The gRPC service gpudb.v1.Gpudb (callback API: no server thread waits on a
// job). Each RPC answers with the response wrapper.

#include "proto/gpudb.grpc.pb.h"
#include "server/codec.h"
#include "server/job_api.h"

namespace server {

class GpudbService final : public gpudb::v1::Gpudb::CallbackService {
 public:
  explicit GpudbService(engine::Engine& engine) : api_(engine, codec_) {}

  // Answers at once with the job's id and tag (a CreateJobResponse in data).
  grpc::ServerUnaryReactor* CreateJob(grpc::CallbackServerContext* context,
                                      const gpudb::v1::CreateJobRequest* request,
                                      gpudb::v1::GpudbResponse* response) override;
  // The job's state, progress and, once done, its response (a GetJobResponse in data).
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext* context,
                                   const gpudb::v1::GetJobRequest* request,
                                   gpudb::v1::GpudbResponse* response) override;
  // Runs any endpoint and answers when it has finished, encoded per the
  // request's encoding (json → data_str, binary or snappy → data).
  grpc::ServerUnaryReactor* Execute(grpc::CallbackServerContext* context,
                                    const gpudb::v1::ExecuteRequest* request,
                                    gpudb::v1::GpudbResponse* response) override;

 private:
  const ProtobufCodec codec_;
  JobApi api_;
};

}  // namespace server
