// libFuzzer target: server::RequestDecoder, how every request a client sends
// is decoded before a job exists, per transport and encoding: gRPC's
// protobuf, snappy-compressed protobuf and JSON (CreateJob, Execute), and
// HTTP's Avro, snappy-compressed Avro and JSON bodies. The first byte picks
// the carrier (transport and encoding), the second the endpoint whose request
// record is decoded from the rest. Any input: a record or an error naming its
// carrier ("data: ...", "data_str: ..."), never a crash, a leak or more memory
// than the budget; a decoded binary record encodes again.
//
// Seeds (tests/fuzz/corpus/request): the requests of the avro corpus in every
// carrier.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/api/schema.h"
#include "server/avro_codec.h"
#include "server/codec.h"

namespace {

constexpr size_t kMaxMessageBytes = size_t{16} << 20;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  static const server::ProtobufCodec protobuf(server::RequestDecoder::MaxDecodedBytes(kMaxMessageBytes));
  static const server::AvroCodec avro(server::RequestDecoder::MaxDecodedBytes(kMaxMessageBytes));
  static const server::RequestDecoder grpc(protobuf, kMaxMessageBytes);
  static const server::RequestDecoder http(avro, kMaxMessageBytes);
  static const char* const kEncodings[] = {"binary", "snappy", "json"};

  const bool over_http = data[0] & 1;
  const char* encoding = kEncodings[(data[0] >> 1) % 3];
  const auto& endpoints = engine::AllEndpointSchemas();
  const engine::TypeSchema& record = *endpoints[data[1] % endpoints.size()].request;
  const absl::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);

  const server::RequestDecoder& decoder = over_http ? http : grpc;
  absl::StatusOr<engine::Json> decoded =
      over_http            ? decoder.DecodeBody(record, encoding, std::vector<uint8_t>(data + 2, data + size))
      : encoding[0] == 'j' ? decoder.Decode(record, encoding, "", bytes)
                           : decoder.Decode(record, encoding, bytes, "");
  if (!decoded.ok()) {
    const absl::string_view message = decoded.status().message();
    if (message.rfind("data: ", 0) != 0 && message.rfind("data_str: ", 0) != 0 &&
        message.rfind("data, data_str: ", 0) != 0) {
      __builtin_trap();  // every error names its carrier
    }
    return 0;
  }
  if (encoding[0] != 'j' && !decoder.codec().Encode(record, *decoded).ok()) __builtin_trap();
  return 0;
}
