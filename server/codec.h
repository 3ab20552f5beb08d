#pragma once

// How a transport carries records in binary form. gRPC uses the protobuf
// encoding of the gpudb.v1 messages (ProtobufCodec); Kinetica's HTTP wire
// format uses Avro. The job API (job_api.h) is written against this
// interface, so /create/job and /get/job behave alike on every transport.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/api/schema.h"
#include "engine/api/json.h"

namespace server {

class BinaryCodec {
 public:
  // `max_decoded_bytes`: the most host memory a decoded request may take
  // (engine/api/json.h's count); a request past it is InvalidArgument,
  // refused before the memory is allocated.
  explicit BinaryCodec(size_t max_decoded_bytes = SIZE_MAX) : max_decoded_bytes_(max_decoded_bytes) {}
  virtual ~BinaryCodec() = default;

  size_t max_decoded_bytes() const { return max_decoded_bytes_; }

  // Decodes one `record` from `bytes`; InvalidArgument says what is malformed.
  virtual absl::StatusOr<engine::Json> Decode(const engine::TypeSchema& record,
                                              absl::string_view bytes) const = 0;
  // As Decode, with the record's array<bytes> fields as packed byte lists
  // (engine/api/json.h), checked item by item and with the same errors: how
  // requests are decoded (JobApi::DecodeRequest), so that a list of a
  // million records becomes one value, not a million.
  virtual absl::StatusOr<engine::Json> DecodePacked(const engine::TypeSchema& record,
                                                    absl::string_view bytes) const = 0;
  // As DecodePacked, for bytes the caller gives up (an HTTP request's body):
  // a codec may keep their buffer rather than copy a large bytes field out of
  // it. By default DecodePacked.
  virtual absl::StatusOr<engine::Json> DecodeOwned(const engine::TypeSchema& record,
                                                   std::vector<uint8_t> bytes) const {
    return DecodePacked(record, absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  }
  // Encodes a normalized `record` value.
  virtual absl::StatusOr<std::string> Encode(const engine::TypeSchema& record,
                                             const engine::Json& value) const = 0;

 private:
  size_t max_decoded_bytes_;
};

// Records as the protobuf messages of gpudb.v1 (proto_json.h conventions).
class ProtobufCodec final : public BinaryCodec {
 public:
  using BinaryCodec::BinaryCodec;
  absl::StatusOr<engine::Json> Decode(const engine::TypeSchema& record,
                                      absl::string_view bytes) const override;
  absl::StatusOr<engine::Json> DecodePacked(const engine::TypeSchema& record,
                                            absl::string_view bytes) const override;
  absl::StatusOr<std::string> Encode(const engine::TypeSchema& record,
                                     const engine::Json& value) const override;
};

}  // namespace server
