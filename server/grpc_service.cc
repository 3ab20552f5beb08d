#include "server/grpc_service.h"

#include "server/proto_json.h"

namespace server {
namespace {

void Fill(const Wrapper& w, gpudb::v1::GpudbResponse* response) {
  response->set_status(w.status);
  response->set_message(w.message);
  response->set_data_type(w.data_type);
  response->set_data(w.data);
  response->set_data_str(w.data_str);
}

// Answers a job-API call whose record goes in `data` as protobuf.
template <typename Call>
grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, const JobApi& api,
                                 const google::protobuf::Message& request, const char* response_record,
                                 gpudb::v1::GpudbResponse* response, Call call) {
  absl::StatusOr<engine::Json> result = call(MessageToJson(request));
  absl::StatusOr<Wrapper> wrapped =
      result.ok() ? api.Wrap(*engine::FindRecord(response_record), *result, "binary")
                  : absl::StatusOr<Wrapper>(result.status());
  Fill(wrapped.ok() ? *wrapped : ErrorWrapper(wrapped.status()), response);
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace

grpc::ServerUnaryReactor* GpudbService::CreateJob(grpc::CallbackServerContext* context,
                                                  const gpudb::v1::CreateJobRequest* request,
                                                  gpudb::v1::GpudbResponse* response) {
  return Answer(context, api_, *request, "create_job_response", response,
                [this](engine::Json r) { return api_.CreateJob(std::move(r)); });
}

grpc::ServerUnaryReactor* GpudbService::GetJob(grpc::CallbackServerContext* context,
                                               const gpudb::v1::GetJobRequest* request,
                                               gpudb::v1::GpudbResponse* response) {
  return Answer(context, api_, *request, "get_job_response", response,
                [this](engine::Json r) { return api_.GetJob(std::move(r)); });
}

grpc::ServerUnaryReactor* GpudbService::Execute(grpc::CallbackServerContext* context,
                                                const gpudb::v1::ExecuteRequest* request,
                                                gpudb::v1::GpudbResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string encoding = request->has_request_encoding() ? request->request_encoding() : "binary";
  api_.Execute(request->endpoint(), encoding, request->data(), request->data_str(),
               [reactor, response](Wrapper w) {
                 Fill(w, response);
                 reactor->Finish(grpc::Status::OK);
               });
  return reactor;
}

}  // namespace server
