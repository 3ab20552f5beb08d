#pragma once

// The job API shared by every transport: /create/job, /get/job, and running
// any endpoint synchronously (gRPC Execute, a plain HTTP POST). Transports
// differ only in how they carry binary records (BinaryCodec).
//
// Errors come in two kinds. Transport-level conditions that a client should
// meet with a retry — the server is busy (ResourceExhausted) or shutting
// down (Unavailable) — are returned as statuses, for the transport to map to
// its own codes (IsTransportError). Everything else is an answer: the
// wrapper with status ERROR and a message naming the field and the problem.

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/api_schema.h"
#include "engine/engine.h"
#include "engine/json.h"
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
  const std::string* job_tag = nullptr;          // set: look the job up by tag
  const std::string* wait_timeout_ms = nullptr;
};

class JobApi {
 public:
  JobApi(engine::Engine& engine, const BinaryCodec& codec) : engine_(engine), codec_(codec) {}

  // Decodes a request record carried as (request_encoding, data, data_str):
  // json → data_str holds JSON text; binary → data holds the codec's
  // encoding; snappy → data holds a raw snappy block of that. Errors name the
  // field: an unknown encoding, data with json or data_str with binary or
  // snappy, both or neither given, malformed JSON, binary or snappy.
  absl::StatusOr<engine::Json> DecodeRequest(const engine::TypeSchema& record, absl::string_view encoding,
                                             absl::string_view data, absl::string_view data_str) const;

  // Wraps a response record: json → data_str holds its JSON text; binary or
  // snappy → data holds the codec's encoding.
  absl::StatusOr<Wrapper> Wrap(const engine::TypeSchema& record, const engine::Json& value,
                               absl::string_view encoding) const;

  // /create/job: `request` is a create_job_request record; options job_tag,
  // remove_job_on_complete, request_id, timeout_ms. Returns the
  // create_job_response record (job_id, info.job_tag).
  absl::StatusOr<engine::Json> CreateJob(engine::Json request, const Caller& caller);
  // CreateJob for a request already read into its fields; returns the job's
  // record (id, tag). The same checks and errors as CreateJob.
  absl::StatusOr<engine::JobSnapshot> SubmitJob(const CreateJobArgs& args, const Caller& caller);

  // /get/job: `request` is a get_job_request record; the job by job_id or
  // options.job_tag. With options.wait_timeout_ms = N, `done` is called when
  // the job finishes or after N ms, whichever is first; else at once. `done`
  // gets the get_job_response record; a finished job's response is encoded
  // per its request encoding (json → job_response_str, else job_response).
  // `done` runs on this thread, a job's stream worker or a timer thread; it
  // must not block.
  void GetJob(engine::Json request, std::function<void(absl::StatusOr<engine::Json>)> done);
  // GetJob for a request already read into its fields (`args` need live only
  // for this call): `done` gets the job's snapshot, for the transport to
  // describe (DescribeJob, or its own message built from the same parts).
  void GetJobSnapshot(const GetJobArgs& args, std::function<void(absl::StatusOr<engine::JobSnapshot>)> done);

  // The job named by a get_job_request record (by tag when options.job_tag
  // is set), not consuming it.
  absl::StatusOr<engine::JobSnapshot> FindJob(const engine::Json& request);

  // The get_job_response record of a job's snapshot.
  absl::StatusOr<engine::Json> DescribeJob(const engine::JobSnapshot& job) const;
  // Parts of the get_job_response record, for a transport that builds it
  // itself. ResponseIsJson: response_encoding is "json". EncodeResponse: a
  // finished (kDone) job's response: JSON text when ResponseIsJson (for
  // job_response_str), else the codec's encoding (for job_response).
  // QueueMs/ExecutionMs: info.queue_ms and info.execution_ms, or "" when the
  // record leaves them out.
  static bool ResponseIsJson(const engine::JobSnapshot& job) { return job.request_encoding == "json"; }
  absl::StatusOr<std::string> EncodeResponse(const engine::JobSnapshot& job) const;
  static std::string QueueMs(const engine::JobSnapshot& job);
  static std::string ExecutionMs(const engine::JobSnapshot& job);

  // Runs `endpoint` synchronously and calls `done` with the wrapper, encoded
  // per `encoding`; /create/job and /get/job are answered by the job API.
  // A transport-level error comes as a status. `done` runs on this thread or
  // a worker; it must not block.
  void Execute(const std::string& endpoint, const std::string& encoding, absl::string_view data,
               absl::string_view data_str, const Caller& caller, std::function<void(absl::StatusOr<Wrapper>)> done);

  // Execute for a request already decoded into its record (a transport that
  // decodes its body itself): `request` is the endpoint's request record,
  // `encoding` picks the response's encoding as in Execute.
  void ExecuteRecord(const std::string& endpoint, const std::string& encoding, engine::Json request,
                     const Caller& caller, std::function<void(absl::StatusOr<Wrapper>)> done);

 private:
  engine::Engine& engine_;
  const BinaryCodec& codec_;
};

}  // namespace server
