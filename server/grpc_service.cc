#include "server/grpc_service.h"

#include <exception>
#include <memory>
#include <mutex>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace server {
namespace {

void Fill(const Wrapper& w, gpudb::v1::GpudbResponse* response) {
  response->set_status(w.status);
  response->set_message(w.message);
  response->set_data_type(w.data_type);
  response->set_data(w.data);
  response->set_data_str(w.data_str);
}

grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(status.code() == absl::StatusCode::kResourceExhausted ? grpc::RESOURCE_EXHAUSTED
                      : status.code() == absl::StatusCode::kUnauthenticated ? grpc::UNAUTHENTICATED
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

// Finishes a unary call with an error: a transport-level error as its gRPC
// status, anything else as an ERROR wrapper.
void AnswerError(grpc::ServerUnaryReactor* reactor, gpudb::v1::GpudbResponse* response, const absl::Status& status) {
  if (IsTransportError(status)) return reactor->Finish(ToGrpc(status));
  Answer(reactor, response, ErrorWrapper(status));
}

// options[key] of a request's options map, or null.
const std::string* Option(const google::protobuf::Map<std::string, std::string>& options, const char* key) {
  auto it = options.find(key);
  return it == options.end() ? nullptr : &it->second;
}

using AnswerFn = std::function<void(absl::StatusOr<Wrapper>)>;

// Runs `fn`; an exception (a bug, never a client's doing) becomes an error
// wrapper instead of ending the process.
template <typename Fn>
void Guarded(Fn fn, const AnswerFn& answer) {
  try {
    fn();
  } catch (const std::exception& e) {
    answer(ErrorWrapper(absl::InternalError(absl::StrCat("internal error: ", e.what()))));
  }
}

// A unary call: runs fn(reactor, answer) guarded, where `answer` finishes
// the call with a wrapper (or the gRPC status of a transport-level error).
template <typename Fn>
grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context, gpudb::v1::GpudbResponse* response, Fn fn) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const AnswerFn answer = [reactor, response](absl::StatusOr<Wrapper> w) { Answer(reactor, response, w); };
  Guarded([&] { fn(reactor, answer); }, answer);
  return reactor;
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
  // Watches for `caller` (an unauthenticated caller's error is in `caller`).
  WatchReactor(engine::Engine& engine, JobApi& api, LiveCalls& live, const gpudb::v1::GetJobRequest& request,
               const absl::StatusOr<Caller>& caller)
      : live_(live), engine_(engine), api_(api), shared_(std::make_shared<Shared>()) {
    shared_->reactor = this;
    if (!caller.ok()) {
      final_sent_ = true;
      Finish(ToGrpc(caller.status()));
      return;
    }
    engine::JobRef ref;
    ref.id = request.job_id();
    if (const std::string* tag = Option(request.options(), "job_tag")) ref.tag = *tag;
    absl::StatusOr<engine::JobSnapshot> job = engine_.FindJob(ref, /*consume=*/false, caller->auth_id);
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
    absl::StatusOr<JobDescription> described = api_.Describe(latest_);
    if (described.ok()) {
      WriteGetJobResponse(*std::move(described), &message_);
    } else {
      Fill(ErrorWrapper(described.status()), &message_);
    }
    sent_version_ = latest_.version;
    writing_ = true;
    if (latest_.finished()) {
      final_sent_ = true;
      StartWriteAndFinish(&message_, grpc::WriteOptions(), grpc::Status::OK);
    } else {
      StartWrite(&message_);
    }
  }

  const LiveCalls::Call live_;
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

void WriteGetJobResponse(JobDescription d, gpudb::v1::GpudbResponse* response) {
  gpudb::v1::GetJobResponse out;
  out.set_endpoint(std::move(d.endpoint));
  out.set_job_status(d.job_status);
  out.set_running(d.running);
  out.set_progress(d.progress);
  out.set_successful(d.successful);
  out.set_response_encoding(d.response_encoding);
  out.set_job_response(std::move(d.job_response));
  out.set_job_response_str(std::move(d.job_response_str));
  for (auto& [key, value] : d.status_map) (*out.mutable_status_map())[key] = std::move(value);
  for (auto& [key, value] : d.info) (*out.mutable_info())[key] = std::move(value);
  response->Clear();
  response->set_status("OK");
  response->set_data_type("get_job_response");
  out.SerializeToString(response->mutable_data());
}

absl::StatusOr<Caller> GpudbService::CallerOf(const grpc::CallbackServerContext* context) const {
  const auto& metadata = context->client_metadata();
  auto it = metadata.find("authorization");
  const absl::string_view value =
      it == metadata.end() ? absl::string_view() : absl::string_view(it->second.data(), it->second.size());
  absl::StatusOr<std::string> user = auth_.UserOf(value);
  if (!user.ok()) return user.status();
  return Caller{SourceIp(context), *std::move(user)};
}

grpc::ServerUnaryReactor* GpudbService::CreateJob(grpc::CallbackServerContext* context,
                                                  const gpudb::v1::CreateJobRequest* request,
                                                  gpudb::v1::GpudbResponse* response) {
  return Unary(context, response, [&](grpc::ServerUnaryReactor* reactor, const AnswerFn&) {
    const absl::StatusOr<Caller> caller = CallerOf(context);
    if (!caller.ok()) return reactor->Finish(ToGrpc(caller.status()));
    // Read straight from the message: a protobuf request is already of
    // the record's types, so it needs no conversion or normalization.
    CreateJobArgs args;
    args.endpoint = request->endpoint();
    if (request->has_request_encoding()) args.request_encoding = request->request_encoding();
    args.data = request->data();
    args.data_str = request->data_str();
    args.job_tag = Option(request->options(), "job_tag");
    args.remove_job_on_complete = Option(request->options(), "remove_job_on_complete");
    args.request_id = Option(request->options(), "request_id");
    args.timeout_ms = Option(request->options(), "timeout_ms");
    if (absl::Status s = api_.CheckRequestSize(*caller, args.data.size() + args.data_str.size()); !s.ok()) {
      return reactor->Finish(ToGrpc(s));
    }
    absl::StatusOr<engine::JobSnapshot> job = api_.Submit(args, *caller);
    if (!job.ok()) return AnswerError(reactor, response, job.status());
    gpudb::v1::CreateJobResponse out;
    out.set_job_id(job->id);
    (*out.mutable_info())["job_tag"] = job->tag;
    response->set_status("OK");
    response->set_data_type("create_job_response");
    out.SerializeToString(response->mutable_data());
    reactor->Finish(grpc::Status::OK);
  });
}

grpc::ServerUnaryReactor* GpudbService::GetJob(grpc::CallbackServerContext* context,
                                               const gpudb::v1::GetJobRequest* request,
                                               gpudb::v1::GpudbResponse* response) {
  return Unary(context, response, [&](grpc::ServerUnaryReactor* reactor, const AnswerFn& answer) {
    const absl::StatusOr<Caller> caller = CallerOf(context);
    if (!caller.ok()) return reactor->Finish(ToGrpc(caller.status()));
    GetJobArgs args;
    args.caller = caller->auth_id;
    args.job_id = request->job_id();
    args.job_tag = Option(request->options(), "job_tag");
    args.wait_timeout_ms = Option(request->options(), "wait_timeout_ms");
    // `done` may run on a stream worker, where an exception must not escape.
    api_.Get(args, [this, reactor, response, answer](absl::StatusOr<engine::JobSnapshot> job) {
      Guarded(
          [&] {
            if (!job.ok()) return AnswerError(reactor, response, job.status());
            absl::StatusOr<JobDescription> described = api_.Describe(*job);
            if (!described.ok()) return AnswerError(reactor, response, described.status());
            WriteGetJobResponse(*std::move(described), response);
            reactor->Finish(grpc::Status::OK);
          },
          answer);
    });
  });
}

grpc::ServerWriteReactor<gpudb::v1::GpudbResponse>* GpudbService::WatchJob(grpc::CallbackServerContext* context,
                                                                           const gpudb::v1::GetJobRequest* request) {
  return new WatchReactor(engine_, api_, live_, *request, CallerOf(context));
}

namespace {

// An Execute call, whose caller may go away before its answer: when the call
// is cancelled (the client cancelled or vanished, or its deadline passed),
// the job running it is abandoned (JobApi::Abandon) rather than left to take
// a stream for nobody. Deletes itself when the call is done.
class ExecuteReactor final : public grpc::ServerUnaryReactor {
 public:
  // What the call and the code that started its job share: the reactor may
  // be gone (its call answered and done) when the job's id is known.
  struct Shared {
    absl::Mutex mu;
    int64_t job ABSL_GUARDED_BY(mu) = 0;
    bool cancelled ABSL_GUARDED_BY(mu) = false;
  };

  ExecuteReactor(JobApi& api, LiveCalls& live) : live_(live), api_(api), shared_(std::make_shared<Shared>()) {}
  const std::shared_ptr<Shared>& shared() const { return shared_; }

  // The job running the call is `id` (0: none); abandoned if the call was
  // cancelled already.
  static void Started(JobApi& api, Shared& shared, int64_t id) {
    {
      absl::MutexLock lock(&shared.mu);
      shared.job = id;
      if (!shared.cancelled || id == 0) return;
    }
    api.Abandon(id);
  }

  void OnCancel() override {
    int64_t job = 0;
    {
      absl::MutexLock lock(&shared_->mu);
      shared_->cancelled = true;
      job = shared_->job;
    }
    if (job != 0) api_.Abandon(job);
  }
  void OnDone() override { delete this; }
  // Both reactions are short and never block (Abandon marks the job
  // cancelled and tells its watchers), so gRPC may run them on the thread
  // that finished the call instead of handing them to its executor: one
  // thread wake-up less per call.
  bool InternalInlineable() override { return true; }

 private:
  const LiveCalls::Call live_;
  JobApi& api_;
  const std::shared_ptr<Shared> shared_;
};

}  // namespace

grpc::ServerUnaryReactor* GpudbService::Execute(grpc::CallbackServerContext* context,
                                                const gpudb::v1::ExecuteRequest* request,
                                                gpudb::v1::GpudbResponse* response) {
  auto* reactor = new ExecuteReactor(api_, live_);
  const std::shared_ptr<ExecuteReactor::Shared> shared = reactor->shared();
  const AnswerFn answer = [reactor, response](absl::StatusOr<Wrapper> w) { Answer(reactor, response, w); };
  Guarded(
      [&] {
        const absl::StatusOr<Caller> caller = CallerOf(context);
        if (!caller.ok()) return reactor->Finish(ToGrpc(caller.status()));
        if (absl::Status s = api_.CheckRequestSize(*caller, request->data().size() + request->data_str().size());
            !s.ok()) {
          return reactor->Finish(ToGrpc(s));
        }
        const std::string encoding = request->has_request_encoding() ? request->request_encoding() : "binary";
        absl::StatusOr<const engine::Endpoint*> endpoint = KnownEndpoint(request->endpoint());
        if (!endpoint.ok()) return answer(ErrorWrapper(endpoint.status()));
        auto decoded = api_.decoder().Decode(*(*endpoint)->request, encoding, request->data(), request->data_str());
        if (!decoded.ok()) return answer(ErrorWrapper(decoded.status()));
        const int64_t job = api_.Execute(**endpoint, encoding, *std::move(decoded), *caller, answer);
        ExecuteReactor::Started(api_, *shared, job);
      },
      answer);
  return reactor;
}

}  // namespace server
