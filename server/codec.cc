#include "server/codec.h"

#include <google/protobuf/message.h>

#include <algorithm>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

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

absl::Status Malformed(absl::string_view bytes, const google::protobuf::Message& message) {
  return absl::InvalidArgumentError(
      absl::StrCat("malformed protobuf: ", bytes.size(), " bytes are not a ", message.GetTypeName()));
}

// A protobuf varint at *p (advanced past it); false when cut short or over
// 10 bytes.
bool ReadVarint(const char** p, const char* end, uint64_t* v) {
  uint64_t value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (*p == end) return false;
    const uint8_t b = static_cast<uint8_t>(*(*p)++);
    value |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *v = value;
      return true;
    }
  }
  return false;
}

// The wire encoding of a message split in two: the entries of the fields in
// `fields` (repeated bytes) as packed byte lists, one per field, and the
// other entries as they were, in order, in `rest`. False when the encoding
// is malformed (the caller then parses it whole, for protobuf's verdict).
bool SplitPackedFields(absl::string_view bytes, const std::vector<const google::protobuf::FieldDescriptor*>& fields,
                       std::vector<engine::PackedBytesBuilder>* packed, std::string* rest) {
  const char* p = bytes.data();
  const char* const end = p + bytes.size();
  const char* kept = p;  // the start of the entries not yet copied to rest
  while (p != end) {
    const char* const entry = p;
    uint64_t key = 0, n = 0;
    if (!ReadVarint(&p, end, &key)) return false;
    switch (key & 7) {
      case 0:  // varint
        if (!ReadVarint(&p, end, &n)) return false;
        continue;
      case 1:  // 64-bit
        if (end - p < 8) return false;
        p += 8;
        continue;
      case 5:  // 32-bit
        if (end - p < 4) return false;
        p += 4;
        continue;
      case 2:  // length-delimited
        if (!ReadVarint(&p, end, &n) || n > static_cast<uint64_t>(end - p)) return false;
        break;
      default:  // groups: none in gpudb.proto
        return false;
    }
    const char* const value = p;
    p += n;
    for (size_t f = 0; f < fields.size(); ++f) {
      if (static_cast<uint64_t>(fields[f]->number()) != key >> 3) continue;
      if (kept != entry) rest->append(kept, entry);
      kept = p;
      (*packed)[f].Add(absl::string_view(value, n));
    }
  }
  rest->append(kept, end);
  return true;
}

// Counts, from the wire encoding of a `descriptor` message, the memory its
// decoding takes (its protobuf form and then its record, each field's value
// as engine/api/json.h counts it, twice), before either is built: false past
// `max_bytes`. The entries of `packed` (fields of the message itself) are
// copied into packed byte lists: their bytes count once. A malformed
// encoding counts as far as it reads (the parser then refuses it).
bool WithinBudget(absl::string_view bytes, const google::protobuf::Descriptor* descriptor,
                  const std::vector<const google::protobuf::FieldDescriptor*>& packed, size_t max_bytes) {
  using google::protobuf::FieldDescriptor;
  struct Open {
    const google::protobuf::Descriptor* message;
    const char* end;
  };
  std::vector<Open> open = {{descriptor, bytes.data() + bytes.size()}};
  const char* p = bytes.data();
  size_t used = 0;
  while (!open.empty()) {
    const Open innermost = open.back();
    if (p >= innermost.end) {
      open.pop_back();
      continue;
    }
    uint64_t key = 0, n = 0;
    if (!ReadVarint(&p, innermost.end, &key)) return true;
    const FieldDescriptor* field =
        innermost.message == nullptr ? nullptr : innermost.message->FindFieldByNumber(static_cast<int>(key >> 3));
    used += 2 * engine::kValueBytes;
    switch (key & 7) {
      case 0:
        if (!ReadVarint(&p, innermost.end, &n)) return true;
        break;
      case 1:
        p += 8;
        break;
      case 5:
        p += 4;
        break;
      case 2:
        if (!ReadVarint(&p, innermost.end, &n) || n > static_cast<uint64_t>(innermost.end - p)) return true;
        if (open.size() == 1 && std::find(packed.begin(), packed.end(), field) != packed.end()) {
          used += n - 2 * engine::kValueBytes;
          p += n;
        } else if (field != nullptr && field->type() == FieldDescriptor::TYPE_MESSAGE) {
          used += 2 * engine::kContainerBytes;
          open.push_back({field->message_type(), p + n});  // read inside it
        } else if (field != nullptr && field->is_packed()) {
          used += 2 * n * engine::kValueBytes;  // each number takes a byte or more
          p += n;
        } else {
          used += 2 * (engine::kContainerBytes + n);
          p += n;
        }
        break;
      default:
        return true;
    }
    if (used > max_bytes) return false;
  }
  return true;
}

// The error of a request past the codec's budget.
absl::Status OverBudget(size_t max_bytes) {
  return absl::InvalidArgumentError(absl::StrCat("data: the request decodes to more than ", max_bytes,
                                                 " bytes of memory (the limit is 4 times the largest message)"));
}

}  // namespace

absl::StatusOr<engine::Json> ProtobufCodec::DecodePacked(const engine::TypeSchema& record,
                                                         absl::string_view bytes) const {
  auto message = NewMessage(record);
  if (!message.ok()) return message.status();
  // The record's array<bytes> fields, as the message's repeated bytes fields.
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  for (const engine::FieldSchema& field : record.fields) {
    if (field.type->kind != engine::TypeSchema::Kind::kArray ||
        field.type->item->kind != engine::TypeSchema::Kind::kBytes) {
      continue;
    }
    const google::protobuf::FieldDescriptor* f = (*message)->GetDescriptor()->FindFieldByName(field.name);
    if (f != nullptr && f->is_repeated() && f->type() == google::protobuf::FieldDescriptor::TYPE_BYTES) {
      fields.push_back(f);
    }
  }
  if (!WithinBudget(bytes, (*message)->GetDescriptor(), fields, max_decoded_bytes())) {
    return OverBudget(max_decoded_bytes());
  }
  std::vector<engine::PackedBytesBuilder> packed(fields.size());
  for (engine::PackedBytesBuilder& b : packed) b.Reserve(bytes.size());
  std::string rest;
  if (fields.empty() || !SplitPackedFields(bytes, fields, &packed, &rest)) return Decode(record, bytes);
  // Without the packed fields' entries the message parses as it would whole.
  if (!(*message)->ParseFromArray(rest.data(), static_cast<int>(rest.size()))) return Malformed(bytes, **message);
  engine::Json out = MessageToJson(**message);
  for (size_t f = 0; f < fields.size(); ++f) out[fields[f]->name()] = packed[f].Finish();
  return out;
}

absl::StatusOr<engine::Json> ProtobufCodec::Decode(const engine::TypeSchema& record,
                                                   absl::string_view bytes) const {
  auto message = NewMessage(record);
  if (!message.ok()) return message.status();
  if (!WithinBudget(bytes, (*message)->GetDescriptor(), {}, max_decoded_bytes())) {
    return OverBudget(max_decoded_bytes());
  }
  if (!(*message)->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return Malformed(bytes, **message);
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
