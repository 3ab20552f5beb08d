#include "engine/api/schema.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "engine/api/field_path.h"

namespace engine {

// The text of endpoints.json, embedded at build time (endpoints_json.cc.in).
extern const char kEndpointsJson[];

namespace {

using Kind = TypeSchema::Kind;

// ---------------------------------------------------------------------------
// Normalize.

absl::Status FieldError(const std::string& path, absl::string_view problem) {
  if (path.empty()) return absl::InvalidArgumentError(problem);
  return absl::InvalidArgumentError(absl::StrCat("field '", path, "': ", problem));
}

absl::Status Mismatch(const std::string& path, Kind expected, const Json& got) {
  return FieldError(path, absl::StrCat("expected ", KindName(expected), ", got ",
                                       JsonTypeName(got)));
}

absl::Status NormalizeInteger(Kind kind, Json* value, const std::string& path) {
  constexpr double kTwo63 = 9223372036854775808.0;
  int64_t i = 0;
  switch (value->type()) {
    case Json::value_t::number_integer:
      i = value->get<int64_t>();
      break;
    case Json::value_t::number_unsigned: {
      const uint64_t u = value->get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return FieldError(path, absl::StrCat(value->dump(), " is out of range for ",
                                             KindName(kind)));
      }
      i = static_cast<int64_t>(u);
      break;
    }
    case Json::value_t::number_float: {
      const double d = value->get<double>();
      if (!std::isfinite(d) || d != std::trunc(d)) {
        return FieldError(path, absl::StrCat("expected ", KindName(kind), ", got ",
                                             value->dump()));
      }
      if (d < -kTwo63 || d >= kTwo63) {
        return FieldError(path, absl::StrCat(value->dump(), " is out of range for ",
                                             KindName(kind)));
      }
      i = static_cast<int64_t>(d);
      break;
    }
    default:
      return Mismatch(path, kind, *value);
  }
  if (kind == Kind::kInt &&
      (i < std::numeric_limits<int32_t>::min() || i > std::numeric_limits<int32_t>::max())) {
    return FieldError(path, absl::StrCat(value->dump(), " is out of range for int"));
  }
  *value = i;
  return absl::OkStatus();
}

absl::Status NormalizeAt(const TypeSchema& type, Json* value, std::string* path);

absl::Status NormalizeRecord(const TypeSchema& type, Json* value, std::string* path) {
  if (!value->is_object()) return Mismatch(*path, type.kind, *value);
  for (auto it = value->begin(); it != value->end(); ++it) {
    bool known = false;
    for (const FieldSchema& field : type.fields) known = known || field.name == it.key();
    if (!known) {
      PathScope scope(path, it.key());
      return absl::InvalidArgumentError(absl::StrCat("unknown field '", *path, "'"));
    }
  }
  Json out = Json::object();
  // Room for every field first: growing the fields' vector would copy the
  // values moved in so far (its pairs have const keys, so they are copied,
  // not moved), a whole list of records among them.
  out.get_ref<Json::object_t&>().reserve(type.fields.size());
  for (const FieldSchema& field : type.fields) {
    PathScope scope(path, field.name);
    auto it = value->find(field.name);
    if (it == value->end()) {
      if (!field.default_value) {
        return absl::InvalidArgumentError(absl::StrCat("missing field '", *path, "'"));
      }
      AppendMember(out, field.name, *field.default_value);
      continue;
    }
    Json& slot = AppendMember(out, field.name, std::move(*it));
    if (absl::Status s = NormalizeAt(*field.type, &slot, path); !s.ok()) return s;
  }
  *value = std::move(out);
  return absl::OkStatus();
}

absl::Status NormalizeAt(const TypeSchema& type, Json* value, std::string* path) {
  switch (type.kind) {
    case Kind::kString:
      if (!value->is_string()) return Mismatch(*path, type.kind, *value);
      return absl::OkStatus();
    case Kind::kBytes: {
      if (value->is_binary()) return absl::OkStatus();
      if (!value->is_string()) return Mismatch(*path, type.kind, *value);
      std::string bytes;
      if (!FromCodePoints(value->get_ref<const std::string&>(), &bytes)) {
        return FieldError(*path, "expected bytes, got a string with a code point above 255");
      }
      *value = Json::binary(Json::binary_t::container_type(bytes.begin(), bytes.end()));
      return absl::OkStatus();
    }
    case Kind::kInt:
    case Kind::kLong:
      return NormalizeInteger(type.kind, value, *path);
    case Kind::kFloat:
    case Kind::kDouble: {
      if (!value->is_number()) return Mismatch(*path, type.kind, *value);
      const double d = value->get<double>();
      if (type.kind == Kind::kFloat && std::isfinite(d) &&
          std::fabs(d) > std::numeric_limits<float>::max()) {
        return FieldError(*path, absl::StrCat(value->dump(), " is out of range for float"));
      }
      *value = d;
      return absl::OkStatus();
    }
    case Kind::kBoolean:
      if (!value->is_boolean()) return Mismatch(*path, type.kind, *value);
      return absl::OkStatus();
    case Kind::kArray: {
      if (type.item->kind == Kind::kBytes && IsPackedBytes(*value)) return absl::OkStatus();
      if (!value->is_array()) return Mismatch(*path, type.kind, *value);
      // Items of a scalar kind are left as they were when they fail (their
      // normalization changes them only when it succeeds), so the path names
      // the item only then: formatting it costs more than checking the item.
      const bool scalar = IsScalarKind(type.item->kind);
      for (size_t i = 0; i < value->size(); ++i) {
        if (scalar && NormalizeAt(*type.item, &(*value)[i], path).ok()) continue;
        PathScope scope(path, i);
        if (absl::Status s = NormalizeAt(*type.item, &(*value)[i], path); !s.ok()) return s;
      }
      return absl::OkStatus();
    }
    case Kind::kMap: {
      if (!value->is_object()) return Mismatch(*path, type.kind, *value);
      for (auto it = value->begin(); it != value->end(); ++it) {
        PathScope scope(path, it.key());
        if (absl::Status s = NormalizeAt(*type.item, &it.value(), path); !s.ok()) return s;
      }
      return absl::OkStatus();
    }
    case Kind::kRecord:
      return NormalizeRecord(type, value, path);
    case Kind::kNullable:
      if (value->is_null()) return absl::OkStatus();
      return NormalizeAt(*type.item, value, path);
  }
  return absl::InternalError("unhandled schema kind");
}

// ---------------------------------------------------------------------------
// The registry: the schemas above, parsed once.

[[noreturn]] void Fatal(const std::string& message) {
  std::fprintf(stderr, "engine/api/schema: %s\n", message.c_str());
  std::abort();
}

class Registry {
 public:
  Registry() {
    const Json api = Json::parse(kEndpointsJson, nullptr, /*allow_exceptions=*/false);
    if (!api.is_object() || !api.contains("wrapper") || !api.contains("endpoints")) {
      Fatal("endpoints.json: not an object with \"wrapper\" and \"endpoints\"");
    }
    records_.push_back(ParseRecord(api["wrapper"]));
    for (const Json& e : api["endpoints"]) {
      const TypeSchema* request = ParseRecord(e.at("request"));
      const TypeSchema* response = ParseRecord(e.at("response"));
      records_.push_back(request);
      records_.push_back(response);
      endpoints_.push_back(
          EndpointSchema{e.at("endpoint").get<std::string>(), e.at("section").get<std::string>(), request, response});
    }
  }

  const std::vector<EndpointSchema>& endpoints() const { return endpoints_; }
  const std::vector<const TypeSchema*>& records() const { return records_; }

 private:
  const TypeSchema* ParseRecord(const Json& avro) {
    const TypeSchema* record = Parse(avro);
    if (record->kind != Kind::kRecord) Fatal(absl::StrCat("not a record: ", avro.dump()));
    if (FindRecordIn(record->name) != nullptr) Fatal(absl::StrCat("record ", record->name, " is defined twice"));
    return record;
  }

  const TypeSchema* FindRecordIn(const std::string& name) const {
    for (const TypeSchema* r : records_) {
      if (r->name == name) return r;
    }
    return nullptr;
  }

  const TypeSchema* Node(Kind kind, const TypeSchema* item = nullptr) {
    TypeSchema& node = nodes_.emplace_back();
    node.kind = kind;
    node.item = item;
    return &node;
  }

  const TypeSchema* Parse(const Json& avro) {
    if (avro.is_string()) {
      const std::string& name = avro.get_ref<const std::string&>();
      for (Kind kind : {Kind::kString, Kind::kBytes, Kind::kInt, Kind::kLong, Kind::kFloat,
                        Kind::kDouble, Kind::kBoolean}) {
        if (name == KindName(kind)) return Node(kind);
      }
      Fatal("unknown Avro type " + avro.dump());
    }
    if (avro.is_array()) {  // Only [T, "null"] is used.
      if (avro.size() != 2 || avro[1] != "null") Fatal("unsupported union " + avro.dump());
      return Node(Kind::kNullable, Parse(avro[0]));
    }
    const std::string type = avro.value("type", "");
    if (type == "array") return Node(Kind::kArray, Parse(avro.at("items")));
    if (type == "map") return Node(Kind::kMap, Parse(avro.at("values")));
    if (type != "record") Fatal("unsupported Avro type " + avro.dump());
    TypeSchema& record = nodes_.emplace_back();
    record.kind = Kind::kRecord;
    record.name = avro.at("name").get<std::string>();
    for (const Json& field : avro.at("fields")) {
      FieldSchema& out = record.fields.emplace_back();
      out.name = field.at("name").get<std::string>();
      out.type = Parse(field.at("type"));
      if (field.contains("default")) {
        absl::StatusOr<Json> value = Normalize(*out.type, field["default"]);
        if (!value.ok()) {
          Fatal(absl::StrCat(record.name, ".", out.name, ": bad default: ",
                             value.status().message()));
        }
        out.default_value = *std::move(value);
      }
    }
    return &record;
  }

  std::deque<TypeSchema> nodes_;  // Stable addresses.
  std::vector<EndpointSchema> endpoints_;
  std::vector<const TypeSchema*> records_;
};

const Registry& GetRegistry() {
  static const Registry* registry = new Registry();
  return *registry;
}

}  // namespace

std::string MessageName(absl::string_view record_name) {
  std::string name;
  bool word_start = true;
  for (char c : record_name) {
    if (c == '_') {
      word_start = true;
      continue;
    }
    name.push_back(word_start ? absl::ascii_toupper(static_cast<unsigned char>(c)) : c);
    word_start = false;
  }
  return name;
}

const char* KindName(TypeSchema::Kind kind) {
  switch (kind) {
    case Kind::kString:
      return "string";
    case Kind::kBytes:
      return "bytes";
    case Kind::kInt:
      return "int";
    case Kind::kLong:
      return "long";
    case Kind::kFloat:
      return "float";
    case Kind::kDouble:
      return "double";
    case Kind::kBoolean:
      return "boolean";
    case Kind::kArray:
      return "array";
    case Kind::kMap:
      return "map";
    case Kind::kRecord:
      return "record";
    case Kind::kNullable:
      return "nullable";
  }
  return "unknown";
}

bool IsScalarKind(TypeSchema::Kind kind) {
  return kind != Kind::kArray && kind != Kind::kMap && kind != Kind::kRecord && kind != Kind::kNullable;
}

const char* JsonTypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    case Json::value_t::binary:
      return "bytes";
    case Json::value_t::discarded:
      break;
  }
  return "nothing";
}

const EndpointSchema* FindEndpointSchema(absl::string_view endpoint) {
  for (const EndpointSchema& schema : GetRegistry().endpoints()) {
    if (schema.endpoint == endpoint) return &schema;
  }
  return nullptr;
}

const std::vector<EndpointSchema>& AllEndpointSchemas() { return GetRegistry().endpoints(); }

const TypeSchema* FindRecord(absl::string_view record_name) {
  for (const TypeSchema* record : GetRegistry().records()) {
    if (record->name == record_name) return record;
  }
  return nullptr;
}

absl::StatusOr<Json> Normalize(const TypeSchema& type, Json value) {
  std::string path;
  if (absl::Status s = NormalizeAt(type, &value, &path); !s.ok()) return s;
  return value;
}

}  // namespace engine
