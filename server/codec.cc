#include "server/codec.h"

#include <google/protobuf/message.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "server/proto_json.h"

namespace server {
namespace {

absl::StatusOr<std::unique_ptr<google::protobuf::Message>> NewMessage(const engine::TypeSchema& record) {
  const google::protobuf::Descriptor* descriptor = FindRecordMessage(record.name);
  if (descriptor == nullptr) {
    return absl::InternalError(absl::StrCat("no protobuf message for record '", record.name, "'"));
  }
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor);
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
