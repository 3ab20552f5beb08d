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

// True for the statuses a transport reports as its own error (busy, shutting
// down) rather than as an ERROR wrapper.
bool IsTransportError(const absl::Status& status);

// Longest GetJob wait a client may ask for (options.wait_timeout_ms).
constexpr absl::Duration kMaxWait = absl::Hours(1);

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
  absl::StatusOr<engine::Json> CreateJob(engine::Json request, const std::string& source_ip);

  // /get/job: `request` is a get_job_request record; the job by job_id or
  // options.job_tag. With options.wait_timeout_ms = N, `done` is called when
  // the job finishes or after N ms, whichever is first; else at once. `done`
  // gets the get_job_response record; a finished job's response is encoded
  // per its request encoding (json → job_response_str, else job_response).
  // `done` runs on this thread, a job's stream worker or a timer thread; it
  // must not block.
  void GetJob(engine::Json request, std::function<void(absl::StatusOr<engine::Json>)> done);

  // The job named by a get_job_request record (by tag when options.job_tag
  // is set), not consuming it.
  absl::StatusOr<engine::JobSnapshot> FindJob(const engine::Json& request);

  // The get_job_response record of a job's snapshot.
  absl::StatusOr<engine::Json> DescribeJob(const engine::JobSnapshot& job) const;

  // Runs `endpoint` synchronously and calls `done` with the wrapper, encoded
  // per `encoding`; /create/job and /get/job are answered by the job API.
  // A transport-level error comes as a status. `done` runs on this thread or
  // a worker; it must not block.
  void Execute(const std::string& endpoint, const std::string& encoding, absl::string_view data,
               absl::string_view data_str, const std::string& source_ip,
               std::function<void(absl::StatusOr<Wrapper>)> done);

  // Execute for a request already decoded into its record (a transport that
  // decodes its body itself): `request` is the endpoint's request record,
  // `encoding` picks the response's encoding as in Execute.
  void ExecuteRecord(const std::string& endpoint, const std::string& encoding, engine::Json request,
                     const std::string& source_ip, std::function<void(absl::StatusOr<Wrapper>)> done);

 private:
  engine::Engine& engine_;
  const BinaryCodec& codec_;
};

}  // namespace server
