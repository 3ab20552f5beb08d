#include "server/codec.h"

#include <google/protobuf/message.h>
#include <google/protobuf/stubs/logging.h>  // SetLogHandler: protobuf 3.21 declares it here
#include <snappy.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/proto_json.h"

namespace server {
namespace {

using engine::Json;

absl::Status CheckCarriers(absl::string_view encoding, absl::string_view data, absl::string_view data_str) {
  if (encoding != "binary" && encoding != "json" && encoding != "snappy") {
    return absl::InvalidArgumentError(absl::StrCat("request_encoding: '", encoding, "' is not binary, json or snappy"));
  }
  if (!data.empty() && !data_str.empty()) {
    return absl::InvalidArgumentError("data, data_str: both are given; give exactly one");
  }
  if (encoding == "json") {
    if (!data.empty()) {
      return absl::InvalidArgumentError(
          "data: must be empty with request_encoding 'json'; put the JSON request in data_str");
    }
    if (data_str.empty()) {
      return absl::InvalidArgumentError("data_str: is empty; request_encoding 'json' needs the request here");
    }
  } else {
    if (!data_str.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("data_str: must be empty with request_encoding '", encoding,
                                                     "'; put the encoded request in data"));
    }
    if (data.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("data: is empty; request_encoding '", encoding, "' needs the encoded request here"));
    }
  }
  return absl::OkStatus();
}

// A codec's decoding error, as the carrier's: "data: ...".
absl::StatusOr<Json> NameData(absl::StatusOr<Json> decoded) {
  if (!decoded.ok()) return absl::InvalidArgumentError(absl::StrCat("data: ", decoded.status().message()));
  return decoded;
}

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

// protobuf's log: its checks of the data it parses (wire_format_lite.cc,
// which names the field that is not UTF-8) dropped, the rest printed as
// protobuf's default handler prints them.
void LogProtobuf(google::protobuf::LogLevel level, const char* filename, int line, const std::string& message) {
  if (level < google::protobuf::LOGLEVEL_FATAL && absl::StrContains(filename, "wire_format_lite")) return;
  static const char* const kLevels[] = {"INFO", "WARNING", "ERROR", "FATAL"};
  std::fprintf(stderr, "[libprotobuf %s %s:%d] %s\n", kLevels[level], filename, line, message.c_str());
  std::fflush(stderr);
}

}  // namespace

ProtobufCodec::ProtobufCodec(size_t max_decoded_bytes) : BinaryCodec(max_decoded_bytes) {
  static const bool kQuiet = (google::protobuf::SetLogHandler(&LogProtobuf), true);
  (void)kQuiet;
}

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

absl::StatusOr<Json> RequestDecoder::Decode(const engine::TypeSchema& record, absl::string_view encoding,
                                            absl::string_view data, absl::string_view data_str) const {
  if (absl::Status s = CheckCarriers(encoding, data, data_str); !s.ok()) return s;
  if (encoding == "json") {
    absl::StatusOr<Json> parsed = engine::ParseJson(data_str, MaxDecodedBytes(max_message_bytes_));
    if (!parsed.ok()) return absl::InvalidArgumentError(absl::StrCat("data_str: ", parsed.status().message()));
    if (!parsed->is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("data_str: expected a JSON object (", record.name, ")"));
    }
    return parsed;
  }
  if (encoding == "snappy") {
    size_t length = 0;
    if (!snappy::GetUncompressedLength(data.data(), data.size(), &length) ||
        !snappy::IsValidCompressedBuffer(data.data(), data.size())) {
      return absl::InvalidArgumentError("data: malformed snappy block");
    }
    if (length > max_message_bytes_) {
      return absl::InvalidArgumentError(absl::StrCat("data: the snappy block expands to ", length,
                                                     " bytes, more than the largest message (", max_message_bytes_,
                                                     " bytes)"));
    }
    std::vector<uint8_t> inflated(length);
    if (!snappy::RawUncompress(data.data(), data.size(), reinterpret_cast<char*>(inflated.data()))) {
      return absl::InvalidArgumentError("data: malformed snappy block");
    }
    return NameData(codec_.DecodeOwned(record, std::move(inflated)));
  }
  return NameData(codec_.DecodePacked(record, data));
}

absl::StatusOr<Json> RequestDecoder::DecodeBody(const engine::TypeSchema& record, absl::string_view encoding,
                                                std::vector<uint8_t> body) const {
  const absl::string_view bytes(reinterpret_cast<const char*>(body.data()), body.size());
  if (encoding != "binary") {
    return encoding == "json" ? Decode(record, encoding, "", bytes) : Decode(record, encoding, bytes, "");
  }
  if (absl::Status s = CheckCarriers(encoding, bytes, ""); !s.ok()) return s;
  return NameData(codec_.DecodeOwned(record, std::move(body)));
}

}  // namespace server
