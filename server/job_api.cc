#include "server/job_api.h"

#include <grpcpp/alarm.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "engine/api/options.h"
#include "kernels/memory.h"

namespace server {
namespace {

using engine::Json;

const engine::TypeSchema& Record(absl::string_view name) { return *engine::FindRecord(name); }

// `us` microseconds as milliseconds with three decimals: what
// absl::StrFormat("%.3f", us / 1000.0) gives, without the formatter.
std::string Milliseconds(int64_t us) {
  const uint64_t magnitude = us < 0 ? 0 - static_cast<uint64_t>(us) : static_cast<uint64_t>(us);
  const uint64_t fraction = magnitude % 1000;
  std::string out = absl::StrCat(us < 0 ? "-" : "", magnitude / 1000, ".");
  out.push_back(static_cast<char>('0' + fraction / 100));
  out.push_back(static_cast<char>('0' + fraction / 10 % 10));
  out.push_back(static_cast<char>('0' + fraction % 10));
  return out;
}

}  // namespace

absl::StatusOr<const engine::Endpoint*> KnownEndpoint(absl::string_view name) {
  const engine::Endpoint* endpoint = engine::FindEndpoint(name);
  if (endpoint == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("endpoint: '", name, "' is not a known endpoint"));
  }
  return endpoint;
}

bool IsTransportError(const absl::Status& status) {
  return status.code() == absl::StatusCode::kResourceExhausted || status.code() == absl::StatusCode::kUnavailable;
}

Wrapper ErrorWrapper(const absl::Status& status) {
  Wrapper w;
  w.status = "ERROR";
  w.message = std::string(status.message());
  w.data_type = "none";
  return w;
}

Json GetJobResponseRecord(JobDescription d) {
  // Built field by field, in the record's order (an initializer list would
  // copy every value once more).
  Json response = Json::object();
  response["endpoint"] = std::move(d.endpoint);
  response["job_status"] = d.job_status;
  response["running"] = d.running;
  response["progress"] = d.progress;
  response["successful"] = d.successful;
  response["response_encoding"] = d.response_encoding;
  response["job_response"] = Json::binary(std::vector<uint8_t>(d.job_response.begin(), d.job_response.end()));
  response["job_response_str"] = std::move(d.job_response_str);
  Json& status_map = response["status_map"] = Json::object();
  for (auto& [key, value] : d.status_map) status_map[key] = std::move(value);
  Json& info = response["info"] = Json::object();
  for (auto& [key, value] : d.info) info[key] = std::move(value);
  return response;
}

absl::StatusOr<Wrapper> JobApi::Wrap(const engine::TypeSchema& record, const Json& value,
                                     absl::string_view encoding) const {
  Wrapper w;
  w.data_type = record.name;
  if (encoding == "json") {
    w.data_str = engine::DumpJson(value);
  } else {
    auto bytes = decoder_.codec().Encode(record, value);
    if (!bytes.ok()) return bytes.status();
    w.data = *std::move(bytes);
  }
  return w;
}

absl::Status JobApi::CheckRequestSize(const Caller& caller, size_t bytes) const {
  const int64_t most = engine_.tracker().LimitsOf(caller.auth_id).max_request_bytes;
  if (most <= 0 || bytes <= static_cast<size_t>(most)) return absl::OkStatus();
  return absl::ResourceExhaustedError(absl::StrCat("request: ", bytes, " bytes, more than ",
                                                   engine::UserName(caller.auth_id), " may send at once (", most,
                                                   " bytes; its request limit, --user-max-request-size)"));
}

absl::StatusOr<engine::JobSnapshot> JobApi::Submit(const CreateJobArgs& args, const Caller& caller) {
  auto endpoint = KnownEndpoint(args.endpoint);
  if (!endpoint.ok()) return endpoint.status();
  auto payload = decoder_.Decode(*(*endpoint)->request, args.request_encoding, args.data, args.data_str);
  if (!payload.ok()) return payload.status();
  auto remove = engine::ParseBoolOption("remove_job_on_complete", args.remove_job_on_complete, false);
  if (!remove.ok()) return remove.status();

  engine::JobRequest job;
  job.endpoint = *endpoint;
  job.request_encoding = std::string(args.request_encoding);
  job.request = *std::move(payload);
  if (args.job_tag != nullptr) job.job_tag = *args.job_tag;
  job.remove_job_on_complete = *remove;
  if (args.request_id != nullptr) job.request_id = *args.request_id;
  job.source_ip = caller.source_ip;
  job.auth_id = caller.auth_id;
  if (args.job_tag != nullptr && job.job_tag.empty()) {
    return absl::InvalidArgumentError("options.job_tag: is empty; give a tag or leave the option out");
  }
  if (args.request_id != nullptr && job.request_id.empty()) {
    return absl::InvalidArgumentError("options.request_id: is empty; give an id or leave the option out");
  }
  if (args.timeout_ms != nullptr) {
    auto timeout = engine::ParseTimeoutOption(*args.timeout_ms);
    if (!timeout.ok()) return timeout.status();
    job.timeout = *timeout;
  }
  return engine_.Submit(std::move(job));
}

void JobApi::Get(const GetJobArgs& args, std::function<void(absl::StatusOr<engine::JobSnapshot>)> done) {
  absl::Duration wait = absl::ZeroDuration();
  if (args.wait_timeout_ms != nullptr) {
    int64_t ms = -1;
    if (!absl::SimpleAtoi(*args.wait_timeout_ms, &ms) || ms < 0 || absl::Milliseconds(ms) > kMaxWait) {
      return done(absl::InvalidArgumentError(absl::StrCat("options.wait_timeout_ms: expected 0 to ",
                                                          absl::ToInt64Milliseconds(kMaxWait),
                                                          " milliseconds, got '", *args.wait_timeout_ms, "'")));
    }
    wait = absl::Milliseconds(ms);
  }
  engine::JobRef ref;
  ref.id = args.job_id;
  if (args.job_tag != nullptr) ref.tag = *args.job_tag;
  // Consuming: a finished job is answered with this very record, so that
  // remove_job_on_complete applies to the call that returns it (an
  // unfinished job is never consumed).
  auto job = engine_.FindJob(ref, /*consume=*/true, args.caller);
  if (!job.ok() || wait == absl::ZeroDuration() || job->finished()) return done(std::move(job));

  // The answer after a wait reads the job again (by the same id or tag),
  // consuming it as above.
  auto answer = [this, ref, caller = args.caller]() { return engine_.FindJob(ref, /*consume=*/true, caller); };

  // Answer once: when the job finishes or when the wait is up. The watch
  // owns the state; the timer holds it weakly. The timer is set and
  // cancelled under `mu`, since the watch may fire on another thread before
  // the timer is set.
  struct Wait {
    std::atomic<bool> answered{false};
    int64_t token = 0;
    absl::Mutex mu;
    bool finished ABSL_GUARDED_BY(mu) = false;
    bool timer_set ABSL_GUARDED_BY(mu) = false;
    grpc::Alarm alarm;
  };
  auto state = std::make_shared<Wait>();
  auto fire = [state_weak = std::weak_ptr<Wait>(state), answer, done]() {
    auto state = state_weak.lock();
    if (state == nullptr || state->answered.exchange(true)) return;
    done(answer());
  };
  const int64_t id = job->id;
  state->token = engine_.WatchJob(id, [state, fire](const engine::JobSnapshot& now) {
    if (!now.finished()) return true;
    fire();
    absl::MutexLock lock(&state->mu);
    state->finished = true;
    if (state->timer_set) state->alarm.Cancel();
    return false;
  });
  if (state->token == 0) return done(answer());  // gone meanwhile
  absl::MutexLock lock(&state->mu);
  if (state->finished) return;
  state->timer_set = true;
  state->alarm.Set(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(wait),
                   [this, state_weak = std::weak_ptr<Wait>(state), fire, id](bool) {
                     auto state = state_weak.lock();
                     if (state == nullptr) return;
                     // Unwatch first: once answered, the call may end and
                     // the server with it (no engine after `done`).
                     engine_.UnwatchJob(id, state->token);
                     fire();
                   });
}

absl::StatusOr<JobDescription> JobApi::Describe(const engine::JobSnapshot& job) const {
  const bool json = job.request_encoding == "json";
  JobDescription out;
  out.endpoint = job.endpoint;
  out.job_status = engine::JobStatusName(job.state);
  out.running = !job.finished();
  out.progress = job.progress;
  out.successful = job.state == engine::JobState::kDone;
  out.response_encoding = json ? "json" : "binary";
  out.info.emplace_back("job_tag", job.tag);
  if (job.state == engine::JobState::kDone) {
    if (json) {
      out.job_response_str = engine::DumpJson(*job.response);
    } else {
      const engine::Endpoint* endpoint = engine::FindEndpoint(job.endpoint);
      if (endpoint == nullptr) {
        return absl::InternalError(absl::StrCat("job ", job.id, ": unknown endpoint ", job.endpoint));
      }
      auto encoded = decoder_.codec().Encode(*endpoint->response, *job.response);
      if (!encoded.ok()) return encoded.status();
      out.job_response = *std::move(encoded);
    }
  } else if (job.state == engine::JobState::kError) {
    out.status_map.emplace_back("error_message", job.error);
  } else if (job.state == engine::JobState::kCancelled) {
    out.info.emplace_back("cancel_reason", job.error);
  }
  // Where the time went, in ms: waiting for a stream, and running on it.
  if (job.started_us > 0) out.info.emplace_back("queue_ms", Milliseconds(job.started_us - job.received_us));
  if (job.started_us > 0 && job.finished_us > 0) {
    out.info.emplace_back("execution_ms", Milliseconds(job.finished_us - job.started_us));
  }
  return out;
}

absl::StatusOr<Json> JobApi::CreateJobRecord(Json request, const Caller& caller) {
  auto normalized = engine::Normalize(Record("create_job_request"), std::move(request));
  if (!normalized.ok()) return normalized.status();
  const Json& r = *normalized;
  const auto& data = r["data"].get_binary();
  const Json& options = r["options"];
  CreateJobArgs args;
  args.endpoint = r["endpoint"].get_ref<const std::string&>();
  args.request_encoding = r["request_encoding"].get_ref<const std::string&>();
  args.data = absl::string_view(reinterpret_cast<const char*>(data.data()), data.size());
  args.data_str = r["data_str"].get_ref<const std::string&>();
  args.job_tag = engine::FindOption(options, "job_tag");
  args.remove_job_on_complete = engine::FindOption(options, "remove_job_on_complete");
  args.request_id = engine::FindOption(options, "request_id");
  args.timeout_ms = engine::FindOption(options, "timeout_ms");
  auto job = Submit(args, caller);
  if (!job.ok()) return job.status();
  Json response = Json::object();
  response["job_id"] = job->id;
  response["info"] = Json{{"job_tag", std::move(job->tag)}};
  return response;
}

void JobApi::GetJobRecord(Json request, const Caller& caller, std::function<void(absl::StatusOr<Json>)> done) {
  auto normalized = engine::Normalize(Record("get_job_request"), std::move(request));
  if (!normalized.ok()) return done(normalized.status());
  const Json& options = (*normalized)["options"];
  GetJobArgs args;
  args.job_id = (*normalized)["job_id"].get<int64_t>();
  args.job_tag = engine::FindOption(options, "job_tag");
  args.wait_timeout_ms = engine::FindOption(options, "wait_timeout_ms");
  args.caller = caller.auth_id;
  Get(args, [this, done = std::move(done)](absl::StatusOr<engine::JobSnapshot> job) {
    if (!job.ok()) return done(job.status());
    auto described = Describe(*job);
    if (!described.ok()) return done(described.status());
    done(GetJobResponseRecord(*std::move(described)));
  });
}

int64_t JobApi::Execute(const engine::Endpoint& endpoint, const std::string& encoding, Json request,
                        const Caller& caller, std::function<void(absl::StatusOr<Wrapper>)> done) {
  // Also runs on a stream worker, where an exception must not escape.
  auto answer = [this, &endpoint, encoding](const absl::StatusOr<Json>& response) -> absl::StatusOr<Wrapper> {
    if (!response.ok()) {
      if (IsTransportError(response.status())) return response.status();
      return ErrorWrapper(response.status());
    }
    try {
      auto wrapped = Wrap(*endpoint.response, *response, encoding);
      return wrapped.ok() ? *std::move(wrapped) : ErrorWrapper(wrapped.status());
    } catch (const std::exception& e) {
      return ErrorWrapper(absl::InternalError(absl::StrCat("internal error: ", e.what())));
    }
  };
  if (endpoint.name == "/create/job") {
    done(answer(CreateJobRecord(std::move(request), caller)));
    return 0;
  }
  if (endpoint.name == "/get/job") {
    GetJobRecord(std::move(request), caller, [answer, done](absl::StatusOr<Json> response) { done(answer(response)); });
    return 0;
  }
  engine::JobRequest job;
  job.endpoint = &endpoint;
  job.request_encoding = encoding;
  job.request = std::move(request);
  job.async = false;
  job.source_ip = caller.source_ip;
  job.auth_id = caller.auth_id;
  auto submitted = engine_.Submit(std::move(job));
  if (!submitted.ok()) {
    done(answer(submitted.status()));
    return 0;
  }
  const int64_t id = submitted->id;
  const bool watching = engine_.WhenFinished(id, [this, id, answer, done](const engine::JobSnapshot& job) {
    // Forgotten before the caller has its answer, so that nothing it does
    // next (/admin/show/jobs) still sees the synchronous job.
    engine_.ForgetJob(id);
    if (job.state == engine::JobState::kDone) {
      done(answer(*job.response));
    } else {
      done(ErrorWrapper(absl::UnknownError(job.error)));
    }
  });
  if (!watching) {
    done(ErrorWrapper(absl::InternalError(absl::StrCat("job ", id, " vanished before it finished"))));
    return 0;
  }
  return id;
}

}  // namespace server
