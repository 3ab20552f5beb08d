#include "server/proto_json.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/api/schema.h"
#include "proto/gpudb.pb.h"

namespace server {
namespace {

using engine::Json;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// The single field of a container wrapper (named `values`), or null.
const FieldDescriptor* ContainerWrapperField(const Descriptor* descriptor) {
  if (descriptor->field_count() != 1 || descriptor->field(0)->name() != "values") return nullptr;
  return descriptor->field(0);
}

// The single field of a nullable wrapper (an `optional` named `value`), or null.
const FieldDescriptor* NullableWrapperField(const Descriptor* descriptor) {
  if (descriptor->field_count() != 1 || descriptor->field(0)->name() != "value" ||
      !descriptor->field(0)->has_optional_keyword()) {
    return nullptr;
  }
  return descriptor->field(0);
}

std::vector<const FieldDescriptor*> FieldsByNumber(const Descriptor* descriptor) {
  std::vector<const FieldDescriptor*> fields;
  for (int i = 0; i < descriptor->field_count(); ++i) fields.push_back(descriptor->field(i));
  std::sort(fields.begin(), fields.end(),
            [](const FieldDescriptor* a, const FieldDescriptor* b) { return a->number() < b->number(); });
  return fields;
}

// ---------------------------------------------------------------------------
// Message -> Json.

// Element `index` of a repeated field, or the singular field when index < 0.
Json ValueToJson(const Message& message, const FieldDescriptor* field, int index) {
  const Reflection* r = message.GetReflection();
  const bool repeated = index >= 0;
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      return repeated ? r->GetRepeatedInt32(message, field, index) : r->GetInt32(message, field);
    case FieldDescriptor::CPPTYPE_INT64:
      return repeated ? r->GetRepeatedInt64(message, field, index) : r->GetInt64(message, field);
    case FieldDescriptor::CPPTYPE_UINT32:
      return repeated ? r->GetRepeatedUInt32(message, field, index) : r->GetUInt32(message, field);
    case FieldDescriptor::CPPTYPE_UINT64:
      return repeated ? r->GetRepeatedUInt64(message, field, index) : r->GetUInt64(message, field);
    case FieldDescriptor::CPPTYPE_DOUBLE:
      return repeated ? r->GetRepeatedDouble(message, field, index) : r->GetDouble(message, field);
    case FieldDescriptor::CPPTYPE_FLOAT:
      return static_cast<double>(repeated ? r->GetRepeatedFloat(message, field, index)
                                          : r->GetFloat(message, field));
    case FieldDescriptor::CPPTYPE_BOOL:
      return repeated ? r->GetRepeatedBool(message, field, index) : r->GetBool(message, field);
    case FieldDescriptor::CPPTYPE_ENUM:
      return (repeated ? r->GetRepeatedEnum(message, field, index) : r->GetEnum(message, field))
          ->name();
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = repeated
                                 ? r->GetRepeatedStringReference(message, field, index, &scratch)
                                 : r->GetStringReference(message, field, &scratch);
      if (field->type() == FieldDescriptor::TYPE_BYTES) {
        return Json::binary(Json::binary_t::container_type(s.begin(), s.end()));
      }
      return s;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return MessageToJson(repeated ? r->GetRepeatedMessage(message, field, index)
                                    : r->GetMessage(message, field));
  }
  return nullptr;
}

Json FieldToJson(const Message& message, const FieldDescriptor* field) {
  const Reflection* r = message.GetReflection();
  const int size = field->is_repeated() ? r->FieldSize(message, field) : 0;
  if (field->is_map()) {
    const FieldDescriptor* key = field->message_type()->map_key();
    const FieldDescriptor* value = field->message_type()->map_value();
    std::vector<std::pair<std::string, const Message*>> entries;
    entries.reserve(size);
    for (int i = 0; i < size; ++i) {
      const Message& entry = r->GetRepeatedMessage(message, field, i);
      entries.emplace_back(entry.GetReflection()->GetString(entry, key), &entry);
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    Json out = Json::object();
    out.get_ref<Json::object_t&>().reserve(entries.size());
    for (auto& [name, entry] : entries) engine::AppendMember(out, std::move(name), ValueToJson(*entry, value, -1));
    return out;
  }
  if (field->is_repeated()) {
    Json out = Json::array();
    out.get_ref<Json::array_t&>().reserve(size);
    for (int i = 0; i < size; ++i) out.push_back(ValueToJson(message, field, i));
    return out;
  }
  return ValueToJson(message, field, -1);
}

// ---------------------------------------------------------------------------
// Json -> Message.

// Where a value sits in the input, rendered only for error messages.
struct Path {
  const Path* parent;
  absl::string_view name;  // a field or map key
  size_t index;            // an array element's index
  bool element = false;    // true: an array element
};

std::string Render(const Path* path) {
  if (path == nullptr) return "";
  std::string out = Render(path->parent);
  if (path->element) {
    absl::StrAppend(&out, "[", path->index, "]");
  } else {
    if (!out.empty()) out.push_back('.');
    absl::StrAppend(&out, path->name);
  }
  return out;
}

absl::Status FieldError(const Path* path, absl::string_view problem) {
  const std::string where = Render(path);
  if (where.empty()) return absl::InvalidArgumentError(problem);
  return absl::InvalidArgumentError(absl::StrCat("field '", where, "': ", problem));
}

absl::Status Mismatch(const Path* path, absl::string_view expected, const Json& got) {
  return FieldError(path, absl::StrCat("expected ", expected, ", got ", engine::JsonTypeName(got)));
}

// An integral JSON number (5 or 5.0) that fits `expected` ("int" or "long").
absl::Status ToInteger(const Json& json, absl::string_view expected, const Path* path,
                       int64_t* out) {
  constexpr double kTwo63 = 9223372036854775808.0;
  switch (json.type()) {
    case Json::value_t::number_integer:
      *out = json.get<int64_t>();
      break;
    case Json::value_t::number_unsigned:
      if (json.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return FieldError(path, absl::StrCat(json.dump(), " is out of range for ", expected));
      }
      *out = json.get<int64_t>();
      break;
    case Json::value_t::number_float: {
      const double d = json.get<double>();
      if (!std::isfinite(d) || d != std::trunc(d)) {
        return FieldError(path, absl::StrCat("expected ", expected, ", got ", json.dump()));
      }
      if (d < -kTwo63 || d >= kTwo63) {
        return FieldError(path, absl::StrCat(json.dump(), " is out of range for ", expected));
      }
      *out = static_cast<int64_t>(d);
      break;
    }
    default:
      return Mismatch(path, expected, json);
  }
  if (expected == "int" && (*out < std::numeric_limits<int32_t>::min() ||
                            *out > std::numeric_limits<int32_t>::max())) {
    return FieldError(path, absl::StrCat(json.dump(), " is out of range for int"));
  }
  return absl::OkStatus();
}

absl::Status FromJson(const Json& json, Message* message, const Path* path);

// Sets the singular `field`, or appends to the repeated `field`.
absl::Status SetValue(const Json& json, Message* message, const FieldDescriptor* field,
                      const Path* path) {
  const Reflection* r = message->GetReflection();
  const bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64: {
      const bool is_int = field->cpp_type() == FieldDescriptor::CPPTYPE_INT32;
      int64_t i = 0;
      if (absl::Status s = ToInteger(json, is_int ? "int" : "long", path, &i); !s.ok()) return s;
      if (is_int && repeated) r->AddInt32(message, field, static_cast<int32_t>(i));
      if (is_int && !repeated) r->SetInt32(message, field, static_cast<int32_t>(i));
      if (!is_int && repeated) r->AddInt64(message, field, i);
      if (!is_int && !repeated) r->SetInt64(message, field, i);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      const bool is_float = field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT;
      if (!json.is_number()) return Mismatch(path, is_float ? "float" : "double", json);
      const double d = json.get<double>();
      if (is_float && std::isfinite(d) && std::fabs(d) > std::numeric_limits<float>::max()) {
        return FieldError(path, absl::StrCat(json.dump(), " is out of range for float"));
      }
      if (is_float && repeated) r->AddFloat(message, field, static_cast<float>(d));
      if (is_float && !repeated) r->SetFloat(message, field, static_cast<float>(d));
      if (!is_float && repeated) r->AddDouble(message, field, d);
      if (!is_float && !repeated) r->SetDouble(message, field, d);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL:
      if (!json.is_boolean()) return Mismatch(path, "boolean", json);
      if (repeated) {
        r->AddBool(message, field, json.get<bool>());
      } else {
        r->SetBool(message, field, json.get<bool>());
      }
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string value;
      if (field->type() != FieldDescriptor::TYPE_BYTES) {
        if (!json.is_string()) return Mismatch(path, "string", json);
        value = json.get<std::string>();
      } else if (json.is_binary()) {
        value.assign(json.get_binary().begin(), json.get_binary().end());
      } else if (!json.is_string()) {
        return Mismatch(path, "bytes", json);
      } else if (!engine::FromCodePoints(json.get_ref<const std::string&>(), &value)) {
        return FieldError(path, "expected bytes, got a string with a code point above 255");
      }
      if (repeated) {
        r->AddString(message, field, std::move(value));
      } else {
        r->SetString(message, field, std::move(value));
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      return FromJson(json, repeated ? r->AddMessage(message, field) : r->MutableMessage(message, field),
                      path);
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64:
    case FieldDescriptor::CPPTYPE_ENUM:
      break;
  }
  return absl::InternalError(absl::StrCat("field type of ", field->full_name(), " not supported"));
}

absl::Status FieldFromJson(const Json& json, Message* message, const FieldDescriptor* field,
                           const Path* path) {
  const Reflection* r = message->GetReflection();
  if (field->is_map()) {
    if (!json.is_object()) return Mismatch(path, "map", json);
    const FieldDescriptor* key = field->message_type()->map_key();
    const FieldDescriptor* value = field->message_type()->map_value();
    for (auto it = json.begin(); it != json.end(); ++it) {
      const Path entry_path{path, it.key(), 0};
      Message* entry = r->AddMessage(message, field);
      entry->GetReflection()->SetString(entry, key, it.key());
      if (absl::Status s = SetValue(it.value(), entry, value, &entry_path); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  if (field->is_repeated()) {
    if (field->type() == FieldDescriptor::TYPE_BYTES && engine::IsPackedBytes(json)) {
      engine::BytesListReader items(json);
      while (!items.done()) {
        absl::string_view item;
        if (absl::Status s = items.Next(&item); !s.ok()) {
          const Path element_path{path, {}, items.index() - 1, true};
          return FieldError(&element_path, s.message());
        }
        r->AddString(message, field, std::string(item));
      }
      return absl::OkStatus();
    }
    if (!json.is_array()) return Mismatch(path, "array", json);
    for (size_t i = 0; i < json.size(); ++i) {
      const Path element_path{path, {}, i, true};
      if (absl::Status s = SetValue(json[i], message, field, &element_path); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  return SetValue(json, message, field, path);
}

absl::Status FromJson(const Json& json, Message* message, const Path* path) {
  const Descriptor* descriptor = message->GetDescriptor();
  if (const FieldDescriptor* field = ContainerWrapperField(descriptor)) {
    return FieldFromJson(json, message, field, path);
  }
  if (const FieldDescriptor* field = NullableWrapperField(descriptor)) {
    if (json.is_null()) return absl::OkStatus();
    return SetValue(json, message, field, path);
  }
  if (!json.is_object()) return Mismatch(path, "record", json);
  for (auto it = json.begin(); it != json.end(); ++it) {
    const Path field_path{path, it.key(), 0};
    const FieldDescriptor* field = descriptor->FindFieldByName(it.key());
    if (field == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("unknown field '", Render(&field_path), "'"));
    }
    if (absl::Status s = FieldFromJson(it.value(), message, field, &field_path); !s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

const Descriptor* FindRecordMessage(absl::string_view record_name) {
  return gpudb::v1::GpudbResponse::descriptor()->file()->FindMessageTypeByName(engine::MessageName(record_name));
}

Json MessageToJson(const Message& message) {
  const Descriptor* descriptor = message.GetDescriptor();
  if (const FieldDescriptor* field = ContainerWrapperField(descriptor)) {
    return FieldToJson(message, field);
  }
  const Reflection* r = message.GetReflection();
  if (const FieldDescriptor* field = NullableWrapperField(descriptor)) {
    return r->HasField(message, field) ? ValueToJson(message, field, -1) : Json(nullptr);
  }
  Json out = Json::object();
  // Room for every field first: growing would copy (not move) the fields
  // converted so far.
  out.get_ref<Json::object_t&>().reserve(descriptor->field_count());
  const auto emit = [&](const FieldDescriptor* field) {
    if (field->has_optional_keyword() && !r->HasField(message, field)) return;
    engine::AppendMember(out, field->name(), FieldToJson(message, field));
  };
  // Fields are almost always declared in number order; sort only when not.
  bool ordered = true;
  for (int i = 1; i < descriptor->field_count() && ordered; ++i) {
    ordered = descriptor->field(i - 1)->number() < descriptor->field(i)->number();
  }
  if (ordered) {
    for (int i = 0; i < descriptor->field_count(); ++i) emit(descriptor->field(i));
  } else {
    for (const FieldDescriptor* field : FieldsByNumber(descriptor)) emit(field);
  }
  return out;
}

absl::Status JsonToMessage(const Json& json, Message* message) {
  message->Clear();
  return FromJson(json, message, nullptr);
}

}  // namespace server
