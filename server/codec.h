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
  // requests are decoded (RequestDecoder), so that a list of a
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
  // The first codec also quiets protobuf's log line for each string field
  // that is not UTF-8 (the codec returns that error to the client, which
  // could otherwise write a line to the server's log per request); protobuf's
  // other messages go to stderr as before.
  explicit ProtobufCodec(size_t max_decoded_bytes = SIZE_MAX);
  absl::StatusOr<engine::Json> Decode(const engine::TypeSchema& record,
                                      absl::string_view bytes) const override;
  absl::StatusOr<engine::Json> DecodePacked(const engine::TypeSchema& record,
                                            absl::string_view bytes) const override;
  absl::StatusOr<std::string> Encode(const engine::TypeSchema& record,
                                     const engine::Json& value) const override;
};

// How a transport's requests are decoded, whatever their encoding: JSON text,
// the transport's binary codec, or a snappy block of that.
class RequestDecoder {
 public:
  // `max_message_bytes`: the largest request the transport takes; a snappy
  // block may expand to at most that, and a request may decode to at most
  // MaxDecodedBytes of it (JSON here; binary in `codec`, which the caller
  // builds with that limit). `codec` must outlive the decoder.
  RequestDecoder(const BinaryCodec& codec, size_t max_message_bytes)
      : codec_(codec), max_message_bytes_(max_message_bytes) {}

  // The most host memory a request of at most `max_message_bytes` may take
  // once decoded: 4 times as much (a list of short strings takes about that).
  static size_t MaxDecodedBytes(size_t max_message_bytes) { return 4 * max_message_bytes; }

  const BinaryCodec& codec() const { return codec_; }

  // Decodes a request record carried as (request_encoding, data, data_str):
  // json → data_str holds JSON text; binary → data holds the codec's
  // encoding; snappy → data holds a raw snappy block of that. Errors name the
  // field: an unknown encoding, data with json or data_str with binary or
  // snappy, both or neither given, malformed JSON, binary or snappy.
  absl::StatusOr<engine::Json> Decode(const engine::TypeSchema& record, absl::string_view encoding,
                                      absl::string_view data, absl::string_view data_str) const;
  // As Decode for a request carried alone in `body` (an HTTP request's):
  // data_str with json, else data. The buffer is given up, so that a binary
  // request's large bytes field can keep it rather than a copy
  // (BinaryCodec::DecodeOwned).
  absl::StatusOr<engine::Json> DecodeBody(const engine::TypeSchema& record, absl::string_view encoding,
                                          std::vector<uint8_t> body) const;

 private:
  const BinaryCodec& codec_;
  const size_t max_message_bytes_;
};

}  // namespace server
