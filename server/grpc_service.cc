#include "server/grpc_service.h"

#include <exception>
#include <memory>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/proto_json.h"

namespace server {
namespace {

using engine::Json;

void Fill(const Wrapper& w, gpudb::v1::GpudbResponse* response) {
  response->set_status(w.status);
  response->set_message(w.message);
  response->set_data_type(w.data_type);
  response->set_data(w.data);
  response->set_data_str(w.data_str);
}

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(status.code() == absl::StatusCode::kResourceExhausted ? grpc::RESOURCE_EXHAUSTED
                                                                            : grpc::UNAVAILABLE,
                      std::string(status.message()));
}

// Finishes a unary call with a wrapper, or with the gRPC status of a
// transport-level error.
void Answer(grpc::ServerUnaryReactor* reactor, gpudb::v1::GpudbResponse* response,
            const absl::StatusOr<Wrapper>& wrapper) {
  if (!wrapper.ok()) {
    reactor->Finish(ToGrpc(wrapper.status()));
    return;
  }
  Fill(*wrapper, response);
  reactor->Finish(grpc::Status::OK);
}

// A job-API record as a protobuf-encoded wrapper; transport errors pass through.
absl::StatusOr<Wrapper> WrapRecord(const JobApi& api, const char* record, const absl::StatusOr<Json>& value) {
  if (!value.ok()) {
    if (IsTransportError(value.status())) return value.status();
    return ErrorWrapper(value.status());
  }
  absl::StatusOr<Wrapper> wrapped = api.Wrap(*engine::FindRecord(record), *value, "binary");
  return wrapped.ok() ? wrapped : ErrorWrapper(wrapped.status());
}

// Runs `fn`; an exception (a bug, never a client's doing) becomes an error
// wrapper instead of ending the process.
template <typename Fn>
void Guarded(Fn fn, const std::function<void(absl::StatusOr<Wrapper>)>& answer) {
  try {
    fn();
  } catch (const std::exception& e) {
    answer(ErrorWrapper(absl::InternalError(absl::StrCat("internal error: ", e.what()))));
  }
}

// "ipv4:127.0.0.1:5000" → "127.0.0.1"; "ipv6:[::1]:5000" → "::1".
std::string SourceIp(const grpc::CallbackServerContext* context) {
  std::string peer = context->peer();
  for (const char* scheme : {"ipv4:", "ipv6:"}) {
    if (absl::StartsWith(peer, scheme)) peer = peer.substr(5);
  }
  const size_t colon = peer.rfind(':');
  if (colon != std::string::npos && peer.find('.') != std::string::npos) peer = peer.substr(0, colon);
  if (!peer.empty() && peer.front() == '[') peer = peer.substr(1, peer.find(']') - 1);
  return peer;
}

// Streams a job's record at every change. Writes go one at a time: a change
// that arrives during a write is sent after it, and only the newest record
// is kept. The watch callbacks hold `shared_` so that they never touch a
// finished reactor.
class WatchReactor final : public grpc::ServerWriteReactor<gpudb::v1::GpudbResponse> {
 public:
  WatchReactor(engine::Engine& engine, JobApi& api, const gpudb::v1::GetJobRequest& request)
      : engine_(engine), api_(api), shared_(std::make_shared<Shared>()) {
    shared_->reactor = this;
    auto normalized = engine::Normalize(*engine::FindRecord("get_job_request"), MessageToJson(request));
    absl::StatusOr<engine::JobSnapshot> job =
        normalized.ok() ? api_.FindJob(*normalized) : absl::StatusOr<engine::JobSnapshot>(normalized.status());
    if (!job.ok()) {
      Fill(ErrorWrapper(job.status()), &message_);
      std::lock_guard<std::mutex> lock(shared_->mu);
      final_sent_ = true;
      writing_ = true;
      StartWriteAndFinish(&message_, grpc::WriteOptions(), grpc::Status::OK);
      return;
    }
    job_id_ = job->id;
    std::shared_ptr<Shared> shared = shared_;
    token_ = engine_.WatchJob(job_id_, [shared](const engine::JobSnapshot& now) {
      std::lock_guard<std::mutex> lock(shared->mu);
      if (shared->reactor == nullptr) return false;
      shared->reactor->OnChangeLocked(now);
      return true;
    });
    if (token_ == 0) {  // gone between the lookup and the watch
      std::lock_guard<std::mutex> lock(shared_->mu);
      if (!writing_ && !final_sent_) Finish(grpc::Status::OK);
    }
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard<std::mutex> lock(shared_->mu);
    writing_ = false;
    if (!ok) {
      if (!final_sent_) Finish(grpc::Status(grpc::CANCELLED, "the client stopped reading"));
      final_sent_ = true;
      return;
    }
    if (final_sent_) return;
    if (latest_.version > sent_version_) WriteLatestLocked();
  }

  void OnCancel() override {
    std::lock_guard<std::mutex> lock(shared_->mu);
    if (!final_sent_ && !writing_) Finish(grpc::Status(grpc::CANCELLED, "cancelled by the client"));
    final_sent_ = true;
  }

  void OnDone() override {
    {
      std::lock_guard<std::mutex> lock(shared_->mu);
      shared_->reactor = nullptr;
    }
    if (token_ != 0) engine_.UnwatchJob(job_id_, token_);
    delete this;
  }

 private:
  struct Shared {
    std::mutex mu;
    WatchReactor* reactor = nullptr;  // null once the call is done
  };

  void OnChangeLocked(const engine::JobSnapshot& now) {
    if (now.version <= latest_.version && latest_.id != 0) return;  // stale
    latest_ = now;
    if (!writing_ && !final_sent_) WriteLatestLocked();
  }

  void WriteLatestLocked() {
    absl::StatusOr<Wrapper> wrapped =
        WrapRecord(api_, "get_job_response", api_.DescribeJob(latest_));
    Fill(wrapped.ok() ? *wrapped : ErrorWrapper(wrapped.status()), &message_);
    sent_version_ = latest_.version;
    writing_ = true;
    if (latest_.finished()) {
      final_sent_ = true;
      StartWriteAndFinish(&message_, grpc::WriteOptions(), grpc::Status::OK);
    } else {
      StartWrite(&message_);
    }
  }

  engine::Engine& engine_;
  JobApi& api_;
  std::shared_ptr<Shared> shared_;
  int64_t job_id_ = 0;
  int64_t token_ = 0;
  // Guarded by shared_->mu.
  engine::JobSnapshot latest_;
  int64_t sent_version_ = -1;
  bool writing_ = false;
  bool final_sent_ = false;
  gpudb::v1::GpudbResponse message_;
};

}  // namespace

grpc::ServerUnaryReactor* GpudbService::CreateJob(grpc::CallbackServerContext* context,
                                                  const gpudb::v1::CreateJobRequest* request,
                                                  gpudb::v1::GpudbResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto answer = [reactor, response](absl::StatusOr<Wrapper> w) { Answer(reactor, response, w); };
  Guarded(
      [&] { answer(WrapRecord(api_, "create_job_response", api_.CreateJob(MessageToJson(*request), SourceIp(context)))); },
      answer);
  return reactor;
}

grpc::ServerUnaryReactor* GpudbService::GetJob(grpc::CallbackServerContext* context,
                                               const gpudb::v1::GetJobRequest* request,
                                               gpudb::v1::GpudbResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto answer = [reactor, response](absl::StatusOr<Wrapper> w) { Answer(reactor, response, w); };
  Guarded(
      [&] {
        api_.GetJob(MessageToJson(*request), [this, answer](absl::StatusOr<Json> job) {
          answer(WrapRecord(api_, "get_job_response", job));
        });
      },
      answer);
  return reactor;
}

grpc::ServerWriteReactor<gpudb::v1::GpudbResponse>* GpudbService::WatchJob(
    grpc::CallbackServerContext* context, const gpudb::v1::GetJobRequest* request) {
  return new WatchReactor(engine_, api_, *request);
}

grpc::ServerUnaryReactor* GpudbService::Execute(grpc::CallbackServerContext* context,
                                                const gpudb::v1::ExecuteRequest* request,
                                                gpudb::v1::GpudbResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  auto answer = [reactor, response](absl::StatusOr<Wrapper> w) { Answer(reactor, response, w); };
  const std::string encoding = request->has_request_encoding() ? request->request_encoding() : "binary";
  Guarded(
      [&] {
        api_.Execute(request->endpoint(), encoding, request->data(), request->data_str(), SourceIp(context),
                     answer);
      },
      answer);
  return reactor;
}

}  // namespace server
