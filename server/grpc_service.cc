#include "server/grpc_service.h"

#include <exception>

#include "absl/strings/str_cat.h"
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

// Runs `fn`; an exception (a bug, never a client's doing) becomes an error
// wrapper instead of ending the process.
template <typename Fn>
Wrapper Guarded(Fn fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return ErrorWrapper(absl::InternalError(absl::StrCat("internal error: ", e.what())));
  }
}

// Answers a job-API call whose record goes in `data` as protobuf.
template <typename Call>
grpc::ServerUnaryReactor* Answer(grpc::CallbackServerContext* context, const JobApi& api,
                                 const google::protobuf::Message& request, const char* response_record,
                                 gpudb::v1::GpudbResponse* response, Call call) {
  Fill(Guarded([&] {
         absl::StatusOr<engine::Json> result = call(MessageToJson(request));
         if (!result.ok()) return ErrorWrapper(result.status());
         absl::StatusOr<Wrapper> wrapped = api.Wrap(*engine::FindRecord(response_record), *result, "binary");
         return wrapped.ok() ? *std::move(wrapped) : ErrorWrapper(wrapped.status());
       }),
       response);
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
  auto done = [reactor, response](Wrapper w) {
    Fill(w, response);
    reactor->Finish(grpc::Status::OK);
  };
  try {
    api_.Execute(request->endpoint(), encoding, request->data(), request->data_str(), done);
  } catch (const std::exception& e) {
    done(ErrorWrapper(absl::InternalError(absl::StrCat("internal error: ", e.what()))));
  }
  return reactor;
}

}  // namespace server
