#include "server/codec.h"

#include <google/protobuf/message.h>

#include <memory>
#include <unordered_map>

#include "absl/strings/str_cat.h"
#include "server/proto_json.h"

namespace server {
namespace {

// The generated message's prototype for a record, or null.
const google::protobuf::Message* FindPrototype(const engine::TypeSchema& record) {
  const google::protobuf::Descriptor* descriptor = FindRecordMessage(record.name);
  if (descriptor == nullptr) return nullptr;
  return google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
}

absl::StatusOr<std::unique_ptr<google::protobuf::Message>> NewMessage(const engine::TypeSchema& record) {
  // Records are immutable and live for the whole program, so their
  // prototypes are looked up once: every endpoint's request and response.
  static const auto* const kPrototypes = [] {
    auto* prototypes = new std::unordered_map<const engine::TypeSchema*, const google::protobuf::Message*>();
    for (const engine::EndpointSchema& endpoint : engine::AllEndpointSchemas()) {
      for (const engine::TypeSchema* r : {endpoint.request, endpoint.response}) {
        if (const google::protobuf::Message* prototype = FindPrototype(*r)) prototypes->emplace(r, prototype);
      }
    }
    return prototypes;
  }();
  auto it = kPrototypes->find(&record);
  const google::protobuf::Message* prototype = it != kPrototypes->end() ? it->second : FindPrototype(record);
  if (prototype == nullptr) {
    return absl::InternalError(absl::StrCat("no protobuf message for record '", record.name, "'"));
  }
  return std::unique_ptr<google::protobuf::Message>(prototype->New());
}

}  // namespace

absl::StatusOr<engine::Json> ProtobufCodec::Decode(const engine::TypeSchema& record,
                                                   absl::string_view bytes) const {
  auto message = NewMessage(record);
  if (!message.ok()) return message.status();
  if (!(*message)->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("malformed protobuf: ", bytes.size(), " bytes are not a ", (*message)->GetTypeName()));
  }
  return MessageToJson(**message);
}

absl::StatusOr<std::string> ProtobufCodec::Encode(const engine::TypeSchema& record,
                                                  const engine::Json& value) const {
  auto message = NewMessage(record);
  if (!message.ok()) return message.status();
  if (absl::Status s = JsonToMessage(value, message->get()); !s.ok()) return s;
  return (*message)->SerializeAsString();
}

}  // namespace server
