#pragma once

// Records in Avro binary, the encoding of Kinetica's HTTP transport (spec §7):
// no header, no schema id, fields in record order; int/long zig-zag varints,
// float/double little-endian, boolean one byte, string/bytes a long length
// then the bytes, arrays and maps as blocks of (long count, items) ended by a
// 0 count (a negative count is followed by the block's byte size), a nullable
// value as the union [T, "null"] (branch 0 = value, 1 = null).
//
// The codec is driven by the engine's parsed schemas (engine/api/schema.h), so
// every endpoint's request and response, the response wrapper
// "gpudb_response" and the job API's records are covered by the same code.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/api/schema.h"
#include "engine/api/json.h"
#include "server/codec.h"

namespace server {

class AvroCodec final : public BinaryCodec {
 public:
  using BinaryCodec::BinaryCodec;
  // Decodes one `record` from all of `bytes` into the engine's record form
  // (bytes fields as binary values, maps as objects, null for a null union).
  // InvalidArgument names the field and the problem, e.g.
  //   "field 'options.job_tag': data ends inside a number at byte 12",
  //   "field 'list': block of 1000000000 items exceeds the 3 bytes left",
  //   "field 'table_name': string is not valid UTF-8",
  //   "4 bytes left after the end of the record".
  // Lengths and counts are checked against the bytes left before anything
  // is allocated, so a giant length in a short body is refused at once.
  absl::StatusOr<engine::Json> Decode(const engine::TypeSchema& record,
                                      absl::string_view bytes) const override;
  // As Decode, with every array<bytes> value a packed byte list: each block
  // of items is checked (every length within the data) and copied at once.
  absl::StatusOr<engine::Json> DecodePacked(const engine::TypeSchema& record,
                                            absl::string_view bytes) const override;
  // As DecodePacked; the record's largest bytes field of 1 MiB or more (a
  // payload of records) takes the buffer of `bytes`, its contents moved to
  // the front, instead of a copy.
  absl::StatusOr<engine::Json> DecodeOwned(const engine::TypeSchema& record,
                                           std::vector<uint8_t> bytes) const override;

  // Encodes a normalized `record` value (engine::Normalize's form; a string
  // where bytes are expected is taken as code points 0-255; a packed byte
  // list as its items). Internal errors name the field whose value does not
  // fit its type.
  absl::StatusOr<std::string> Encode(const engine::TypeSchema& record,
                                     const engine::Json& value) const override;
};

}  // namespace server
