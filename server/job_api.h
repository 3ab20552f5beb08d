#pragma once

// The job API shared by every transport: /create/job, /get/job, and running
// any endpoint synchronously (gRPC Execute, a plain HTTP POST). Transports
// differ only in how they carry binary records (BinaryCodec).

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
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

  // /create/job: `request` is a create_job_request record. Returns the
  // create_job_response record (job_id, info.job_tag).
  absl::StatusOr<engine::Json> CreateJob(engine::Json request);

  // /get/job: `request` is a get_job_request record. Returns the
  // get_job_response record; a finished job's response is encoded per its
  // request encoding (json → job_response_str, else job_response).
  absl::StatusOr<engine::Json> GetJob(engine::Json request);

  // Runs `endpoint` synchronously and calls `done` with the wrapper, encoded
  // per `encoding`; /create/job and /get/job are answered directly. `done`
  // runs on this thread or on the job's stream worker; it must not block.
  void Execute(const std::string& endpoint, const std::string& encoding, absl::string_view data,
               absl::string_view data_str, std::function<void(Wrapper)> done);

 private:
  engine::Engine& engine_;
  const BinaryCodec& codec_;
};

}  // namespace server
