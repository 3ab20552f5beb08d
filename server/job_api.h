#pragma once

// The job API shared by every transport: submit a job (/create/job), find it
// by id or tag and describe it (/get/job, waiting if asked), and run any
// endpoint synchronously (gRPC Execute, a plain HTTP POST). Transports differ
// only in how they carry records: they read a request's fields from their own
// message into CreateJobArgs / GetJobArgs, and write a JobDescription into
// their own get_job_response; binary records go through their BinaryCodec.
//
// Errors come in two kinds. Transport-level conditions that a client should
// meet with a retry — the server is busy (ResourceExhausted) or shutting
// down (Unavailable) — are returned as statuses, for the transport to map to
// its own codes (IsTransportError). Everything else is an answer: the
// wrapper with status ERROR and a message naming the field and the problem.

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/api/json.h"
#include "engine/api/schema.h"
#include "engine/engine.h"
#include "server/codec.h"

namespace server {

// The response wrapper (spec §1).
struct Wrapper {
  std::string status = "OK";
  std::string message;
  std::string data_type;
  std::string data;      // binary (and snappy) requests
  std::string data_str;  // json requests
};

// The wrapper of a failed call: status ERROR, data_type "none".
Wrapper ErrorWrapper(const absl::Status& status);

// Who sent a request, as its transport knows it; recorded with the jobs it
// submits (/admin/show/jobs source_ip and auth_id).
struct Caller {
  std::string source_ip;
  std::string auth_id;  // the authenticated user name; empty without authentication (gRPC)
};

// The endpoint named `name`; InvalidArgument "endpoint: '/x' is not a known
// endpoint" when the API has none.
absl::StatusOr<const engine::Endpoint*> KnownEndpoint(absl::string_view name);

// True for the statuses a transport reports as its own error (busy, shutting
// down) rather than as an ERROR wrapper.
bool IsTransportError(const absl::Status& status);

// Longest GetJob wait a client may ask for (options.wait_timeout_ms).
constexpr absl::Duration kMaxWait = absl::Hours(1);

// A create_job_request's fields, read by a transport straight from its own
// message (a view: the strings belong to the caller). An option is null when
// the request leaves it out; options other than these are ignored.
struct CreateJobArgs {
  absl::string_view endpoint;
  absl::string_view request_encoding = "binary";
  absl::string_view data;
  absl::string_view data_str;
  const std::string* job_tag = nullptr;
  const std::string* remove_job_on_complete = nullptr;
  const std::string* request_id = nullptr;
  const std::string* timeout_ms = nullptr;
};

// A get_job_request's fields, as CreateJobArgs.
struct GetJobArgs {
  int64_t job_id = 0;
  const std::string* job_tag = nullptr;  // set: look the job up by tag
  const std::string* wait_timeout_ms = nullptr;
  std::string caller;  // the user asking: another user's job is not found
};

// A job's get_job_response record, field by field in the record's order.
struct JobDescription {
  std::string endpoint;
  const char* job_status = "";
  bool running = false;
  int progress = 0;
  bool successful = false;
  const char* response_encoding = "binary";  // "json" when the job's request was JSON
  // A finished job's response: encoded with the transport's codec in
  // job_response, or JSON text in job_response_str (response_encoding json).
  std::string job_response;
  std::string job_response_str;
  std::vector<std::pair<const char*, std::string>> status_map;  // error_message of a failed job
  std::vector<std::pair<const char*, std::string>> info;        // job_tag, cancel_reason, queue_ms, execution_ms
};

// The get_job_response record of a description (what /get/job answers in
// the engine's record form, for a codec or JSON).
engine::Json GetJobResponseRecord(JobDescription description);

class JobApi {
 public:
  // `codec` and `max_message_bytes`: how the transport's requests are
  // decoded (RequestDecoder); `codec` must outlive the API.
  JobApi(engine::Engine& engine, const BinaryCodec& codec, size_t max_message_bytes)
      : engine_(engine), decoder_(codec, max_message_bytes) {}

  const RequestDecoder& decoder() const { return decoder_; }

  // Wraps a response record: json → data_str holds its JSON text; binary or
  // snappy → data holds the codec's encoding.
  absl::StatusOr<Wrapper> Wrap(const engine::TypeSchema& record, const engine::Json& value,
                               absl::string_view encoding) const;

  // OK when `caller` may send a request of `bytes` bytes (as it arrived: an
  // HTTP body, a gRPC request's data and data_str); else ResourceExhausted
  // naming the user and its limit (engine::UserLimits::max_request_bytes).
  absl::Status CheckRequestSize(const Caller& caller, size_t bytes) const;

  // /create/job: decodes the embedded request and queues the job. Returns
  // its record (id, tag), or the original job's for a repeated request id.
  absl::StatusOr<engine::JobSnapshot> Submit(const CreateJobArgs& args, const Caller& caller);

  // /get/job: the job by id or tag. With wait_timeout_ms = N, `done` is
  // called when the job finishes or after N ms, whichever is first; else at
  // once. A finished job is consumed by the call that returns it
  // (remove_job_on_complete). `done` runs on this thread, a job's stream
  // worker or a timer thread; it must not block. Nothing here touches the
  // engine after `done`: once every call is answered, the engine may go.
  void Get(const GetJobArgs& args, std::function<void(absl::StatusOr<engine::JobSnapshot>)> done);

  // The get_job_response of a job. An error: its response cannot be encoded.
  absl::StatusOr<JobDescription> Describe(const engine::JobSnapshot& job) const;

  // Runs `endpoint` synchronously with its decoded request record and calls
  // `done` with the wrapper, encoded per `encoding`; /create/job and /get/job
  // are answered by Submit and Get. A transport-level error comes as a
  // status. `done` runs on this thread or a worker; it must not block.
  // Returns the id of the job that runs it (0: none, `done` was called), for
  // Abandon.
  int64_t Execute(const engine::Endpoint& endpoint, const std::string& encoding, engine::Json request,
                  const Caller& caller, std::function<void(absl::StatusOr<Wrapper>)> done);
  // The caller of Execute's job `id` has gone (its connection closed, its
  // deadline passed): the job is cancelled if it still runs and can be (a
  // change of data runs to its end), and `done` is called as for any cancel.
  void Abandon(int64_t id) { engine_.CancelJob(id); }

 private:
  // Execute's /create/job and /get/job: the records read into args, the
  // answers written as records.
  absl::StatusOr<engine::Json> CreateJobRecord(engine::Json request, const Caller& caller);
  void GetJobRecord(engine::Json request, const Caller& caller, std::function<void(absl::StatusOr<engine::Json>)> done);

  engine::Engine& engine_;
  const RequestDecoder decoder_;
};

}  // namespace server
