// libFuzzer target: server::AvroCodec, the decoder of every HTTP request body
// (Avro) and of jobs' binary requests. The first byte picks the endpoint
// whose request record is decoded from the rest, both plain and packed.
// Any input: a record or an error naming the field, never a crash, a leak
// or more memory than the budget.

#include <cstddef>
#include <cstdint>

#include "engine/api/schema.h"
#include "server/avro_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const server::AvroCodec codec(size_t{64} << 20);
  const auto& endpoints = engine::AllEndpointSchemas();
  const engine::TypeSchema& record = *endpoints[data[0] % endpoints.size()].request;
  const absl::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<engine::Json> plain = codec.Decode(record, bytes);
  absl::StatusOr<engine::Json> packed = codec.DecodePacked(record, bytes);
  if (plain.ok() != packed.ok()) __builtin_trap();
  if (plain.ok()) {
    // What decodes encodes again.
    if (!codec.Encode(record, *plain).ok()) __builtin_trap();
  }
  return 0;
}
