#include "server/job_api.h"

#include <grpcpp/alarm.h>
#include <snappy.h>

#include <atomic>
#include <chrono>
#include <memory>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"

namespace server {
namespace {

using engine::Json;

// Largest request a snappy block may expand to.
constexpr size_t kMaxUncompressedBytes = size_t{1} << 30;

absl::Status CheckCarriers(absl::string_view encoding, absl::string_view data, absl::string_view data_str) {
  if (encoding != "binary" && encoding != "json" && encoding != "snappy") {
    return absl::InvalidArgumentError(
        absl::StrCat("request_encoding: '", encoding, "' is not binary, json or snappy"));
  }
  if (!data.empty() && !data_str.empty()) {
    return absl::InvalidArgumentError("data, data_str: both are given; give exactly one");
  }
  if (encoding == "json") {
    if (!data.empty()) {
      return absl::InvalidArgumentError(
          "data: must be empty with request_encoding 'json'; put the JSON request in data_str");
    }
    if (data_str.empty()) {
      return absl::InvalidArgumentError("data_str: is empty; request_encoding 'json' needs the request here");
    }
  } else {
    if (!data_str.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("data_str: must be empty with request_encoding '", encoding,
                                                     "'; put the encoded request in data"));
    }
    if (data.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("data: is empty; request_encoding '", encoding, "' needs the encoded request here"));
    }
  }
  return absl::OkStatus();
}

const engine::TypeSchema& Record(absl::string_view name) { return *engine::FindRecord(name); }

absl::StatusOr<bool> BoolOption(const Json& options, const char* key) {
  auto it = options.find(key);
  if (it == options.end() || *it == "false") return false;
  if (*it == "true") return true;
  return absl::InvalidArgumentError(
      absl::StrCat("options.", key, ": expected 'true' or 'false', got '", it->get<std::string>(), "'"));
}

}  // namespace

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

absl::StatusOr<Json> JobApi::DecodeRequest(const engine::TypeSchema& record, absl::string_view encoding,
                                           absl::string_view data, absl::string_view data_str) const {
  if (absl::Status s = CheckCarriers(encoding, data, data_str); !s.ok()) return s;
  if (encoding == "json") {
    Json parsed = Json::parse(data_str.begin(), data_str.end(), nullptr, /*allow_exceptions=*/false);
    if (parsed.is_discarded()) {
      // Parse again for the position of the error.
      try {
        (void)Json::parse(data_str.begin(), data_str.end());
      } catch (const Json::parse_error& e) {
        return absl::InvalidArgumentError(absl::StrCat("data_str: malformed JSON at byte ", e.byte));
      }
      return absl::InvalidArgumentError("data_str: malformed JSON");
    }
    if (!parsed.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("data_str: expected a JSON object (", record.name, ")"));
    }
    return parsed;
  }
  std::string inflated;
  if (encoding == "snappy") {
    size_t length = 0;
    if (!snappy::GetUncompressedLength(data.data(), data.size(), &length) || length > kMaxUncompressedBytes ||
        !snappy::IsValidCompressedBuffer(data.data(), data.size()) ||
        !snappy::RawUncompress(data.data(), data.size(), &(inflated = std::string(length, '\0'))[0])) {
      return absl::InvalidArgumentError("data: malformed snappy block");
    }
    data = inflated;
  }
  auto decoded = codec_.Decode(record, data);
  if (!decoded.ok()) return absl::InvalidArgumentError(absl::StrCat("data: ", decoded.status().message()));
  return decoded;
}

absl::StatusOr<Wrapper> JobApi::Wrap(const engine::TypeSchema& record, const Json& value,
                                     absl::string_view encoding) const {
  Wrapper w;
  w.data_type = record.name;
  if (encoding == "json") {
    w.data_str = engine::DumpJson(value);
  } else {
    auto bytes = codec_.Encode(record, value);
    if (!bytes.ok()) return bytes.status();
    w.data = *std::move(bytes);
  }
  return w;
}

absl::StatusOr<Json> JobApi::CreateJob(Json request, const std::string& source_ip) {
  auto normalized = engine::Normalize(Record("create_job_request"), std::move(request));
  if (!normalized.ok()) return normalized.status();
  const Json& r = *normalized;
  const std::string endpoint = r["endpoint"].get<std::string>();
  const std::string encoding = r["request_encoding"].get<std::string>();
  const engine::EndpointSchema* schema = engine::FindEndpoint(endpoint);
  if (schema == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("endpoint: '", endpoint, "' is not a known endpoint"));
  }
  const auto& data = r["data"].get_binary();
  auto payload = DecodeRequest(*schema->request, encoding,
                               absl::string_view(reinterpret_cast<const char*>(data.data()), data.size()),
                               r["data_str"].get<std::string>());
  if (!payload.ok()) return payload.status();
  const Json& options = r["options"];
  auto remove = BoolOption(options, "remove_job_on_complete");
  if (!remove.ok()) return remove.status();

  engine::JobRequest job;
  job.endpoint = endpoint;
  job.request_encoding = encoding;
  job.request = *std::move(payload);
  job.job_tag = options.value("job_tag", "");
  job.remove_job_on_complete = *remove;
  job.request_id = options.value("request_id", "");
  job.source_ip = source_ip;
  if (options.contains("job_tag") && job.job_tag.empty()) {
    return absl::InvalidArgumentError("options.job_tag: is empty; give a tag or leave the option out");
  }
  if (options.contains("request_id") && job.request_id.empty()) {
    return absl::InvalidArgumentError("options.request_id: is empty; give an id or leave the option out");
  }
  if (options.contains("timeout_ms")) {
    int64_t ms = 0;
    if (!absl::SimpleAtoi(options["timeout_ms"].get<std::string>(), &ms) || ms <= 0) {
      return absl::InvalidArgumentError(absl::StrCat("options.timeout_ms: expected a positive number of milliseconds, got '",
                                                     options["timeout_ms"].get<std::string>(), "'"));
    }
    job.timeout = absl::Milliseconds(ms);
  }
  auto snapshot = engine_.Submit(std::move(job));
  if (!snapshot.ok()) return snapshot.status();
  return Json{{"job_id", snapshot->id}, {"info", Json{{"job_tag", snapshot->tag}}}};
}

absl::StatusOr<engine::JobSnapshot> JobApi::FindJob(const Json& request) {
  const Json& options = request["options"];
  auto tag = options.find("job_tag");
  return tag != options.end() ? engine_.GetJobByTag(tag->get<std::string>(), /*consume=*/false)
                              : engine_.GetJob(request["job_id"].get<int64_t>(), /*consume=*/false);
}

absl::StatusOr<Json> JobApi::DescribeJob(const engine::JobSnapshot& job) const {
  const bool json = job.request_encoding == "json";
  Json response = Json{{"endpoint", job.endpoint},
                       {"job_status", engine::JobStatusName(job.state)},
                       {"running", !job.finished()},
                       {"progress", job.progress},
                       {"successful", job.state == engine::JobState::kDone},
                       {"response_encoding", json ? "json" : "binary"},
                       {"job_response", Json::binary({})},
                       {"job_response_str", ""},
                       {"status_map", Json::object()},
                       {"info", Json{{"job_tag", job.tag}}}};
  if (job.state == engine::JobState::kDone) {
    if (json) {
      response["job_response_str"] = engine::DumpJson(*job.response);
    } else {
      const engine::EndpointSchema* schema = engine::FindEndpoint(job.endpoint);
      auto bytes = codec_.Encode(*schema->response, *job.response);
      if (!bytes.ok()) return bytes.status();
      response["job_response"] = Json::binary(std::vector<uint8_t>(bytes->begin(), bytes->end()));
    }
  } else if (job.state == engine::JobState::kError) {
    response["status_map"]["error_message"] = job.error;
  } else if (job.state == engine::JobState::kCancelled) {
    response["info"]["cancel_reason"] = job.error;
  }
  // Where the time went, in ms: waiting for a stream, and running on it.
  const auto ms = [](int64_t us) { return absl::StrFormat("%.3f", us / 1000.0); };
  if (job.started_us > 0) {
    response["info"]["queue_ms"] = ms(job.started_us - job.received_us);
    if (job.finished_us > 0) response["info"]["execution_ms"] = ms(job.finished_us - job.started_us);
  }
  return response;
}

void JobApi::GetJob(Json request, std::function<void(absl::StatusOr<Json>)> done) {
  auto normalized = engine::Normalize(Record("get_job_request"), std::move(request));
  if (!normalized.ok()) return done(normalized.status());
  absl::Duration wait = absl::ZeroDuration();
  const Json& options = (*normalized)["options"];
  if (auto w = options.find("wait_timeout_ms"); w != options.end()) {
    int64_t ms = -1;
    if (!absl::SimpleAtoi(w->get<std::string>(), &ms) || ms < 0 || absl::Milliseconds(ms) > kMaxWait) {
      return done(absl::InvalidArgumentError(absl::StrCat("options.wait_timeout_ms: expected 0 to ",
                                                          absl::ToInt64Milliseconds(kMaxWait),
                                                          " milliseconds, got '", w->get<std::string>(), "'")));
    }
    wait = absl::Milliseconds(ms);
  }
  auto job = FindJob(*normalized);
  if (!job.ok()) return done(job.status());

  // The answer reads the job again, so that remove_job_on_complete applies
  // to the call that returns the finished job.
  auto request_record = std::make_shared<const Json>(*std::move(normalized));
  auto answer = [this, request_record, id = job->id]() -> absl::StatusOr<Json> {
    const Json& options = (*request_record)["options"];
    auto tag = options.find("job_tag");
    auto now = tag != options.end() ? engine_.GetJobByTag(tag->get<std::string>()) : engine_.GetJob(id);
    if (!now.ok()) return now.status();
    return DescribeJob(*now);
  };
  if (wait == absl::ZeroDuration() || job->finished()) return done(answer());

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
                     fire();
                     engine_.UnwatchJob(id, state->token);
                   });
}

void JobApi::Execute(const std::string& endpoint, const std::string& encoding, absl::string_view data,
                     absl::string_view data_str, const std::string& source_ip,
                     std::function<void(absl::StatusOr<Wrapper>)> done) {
  const engine::EndpointSchema* schema = engine::FindEndpoint(endpoint);
  if (schema == nullptr) {
    done(ErrorWrapper(absl::InvalidArgumentError(absl::StrCat("endpoint: '", endpoint, "' is not a known endpoint"))));
    return;
  }
  auto request = DecodeRequest(*schema->request, encoding, data, data_str);
  if (!request.ok()) {
    done(ErrorWrapper(request.status()));
    return;
  }
  ExecuteRecord(endpoint, encoding, *std::move(request), source_ip, std::move(done));
}

void JobApi::ExecuteRecord(const std::string& endpoint, const std::string& encoding, Json record,
                           const std::string& source_ip, std::function<void(absl::StatusOr<Wrapper>)> done) {
  const engine::EndpointSchema* schema = engine::FindEndpoint(endpoint);
  if (schema == nullptr) {
    done(ErrorWrapper(absl::InvalidArgumentError(absl::StrCat("endpoint: '", endpoint, "' is not a known endpoint"))));
    return;
  }
  absl::StatusOr<Json> request = std::move(record);
  // Also runs on a stream worker, where an exception must not escape.
  auto answer = [this, schema, encoding](const absl::StatusOr<Json>& response) -> absl::StatusOr<Wrapper> {
    if (!response.ok()) {
      if (IsTransportError(response.status())) return response.status();
      return ErrorWrapper(response.status());
    }
    try {
      auto wrapped = Wrap(*schema->response, *response, encoding);
      return wrapped.ok() ? *std::move(wrapped) : ErrorWrapper(wrapped.status());
    } catch (const std::exception& e) {
      return ErrorWrapper(absl::InternalError(absl::StrCat("internal error: ", e.what())));
    }
  };
  if (endpoint == "/create/job") {
    done(answer(CreateJob(*std::move(request), source_ip)));
    return;
  }
  if (endpoint == "/get/job") {
    GetJob(*std::move(request), [answer, done](absl::StatusOr<Json> response) { done(answer(response)); });
    return;
  }
  engine::JobRequest job;
  job.endpoint = endpoint;
  job.request_encoding = encoding;
  job.request = *std::move(request);
  job.async = false;
  job.source_ip = source_ip;
  auto snapshot = engine_.Submit(std::move(job));
  if (!snapshot.ok()) {
    done(answer(snapshot.status()));
    return;
  }
  const int64_t id = snapshot->id;
  const bool watching = engine_.WhenFinished(id, [this, id, answer, done](const engine::JobSnapshot& job) {
    if (job.state == engine::JobState::kDone) {
      done(answer(*job.response));
    } else {
      done(ErrorWrapper(absl::UnknownError(job.error)));
    }
    engine_.ForgetJob(id);
  });
  if (!watching) done(ErrorWrapper(absl::InternalError(absl::StrCat("job ", id, " vanished before it finished"))));
}

}  // namespace server
