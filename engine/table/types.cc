#include "engine/table/types.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/api/json.h"

namespace engine {
namespace {

absl::Status Bad(absl::string_view column, absl::string_view problem) {
  return absl::InvalidArgumentError(absl::StrCat("type_definition: column '", column, "': ", problem));
}

bool IsStringSubtype(absl::string_view p) {
  static const std::set<absl::string_view> kSubtypes = {"time", "datetime", "decimal", "ulong", "uuid", "ipv4"};
  return kSubtypes.count(p) > 0;
}

// charN with N a power of two in 1..256; returns N or 0.
int CharWidth(absl::string_view p) {
  if (p.size() < 5 || p.substr(0, 4) != "char") return 0;
  // Digits only, no leading zero: SimpleAtoi alone would also take "char04",
  // "char+4" and "char 4".
  const absl::string_view digits = p.substr(4);
  if (digits[0] == '0') return 0;
  for (char ch : digits) {
    if (ch < '0' || ch > '9') return 0;
  }
  int n = 0;
  if (!absl::SimpleAtoi(digits, &n)) return 0;
  if (n < 1 || n > 256 || (n & (n - 1)) != 0) return 0;
  return n;
}

bool IsKeyProperty(absl::string_view p) {
  static const std::set<absl::string_view> kKeys = {
      "data", "primary_key", "shard_key", "dict", "text_search", "store_only", "disk_optimized",
      "init_with_now", "init_with_uuid", "soft_primary_key", "compress"};
  return kKeys.count(p) > 0;
}

bool ValidName(absl::string_view name) {
  if (name.empty() || name.size() > 200) return false;
  if (name[0] >= '0' && name[0] <= '9') return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) {
      return false;
    }
  }
  return true;
}

// Builds a column from its Avro base type and its properties.
absl::StatusOr<ColumnDef> MakeColumn(std::string name, absl::string_view base, bool nullable,
                                     std::vector<std::string> properties) {
  if (!ValidName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "type_definition: column name '", name,
        "' is not valid (letters, digits and '_', not starting with a digit)"));
  }
  ColumnDef c;
  c.name = std::move(name);
  if (base == "int") c.kind = ColumnKind::kInt;
  else if (base == "long") c.kind = ColumnKind::kLong;
  else if (base == "float") c.kind = ColumnKind::kFloat;
  else if (base == "double") c.kind = ColumnKind::kDouble;
  else if (base == "string") c.kind = ColumnKind::kString;
  else if (base == "bytes") c.kind = ColumnKind::kBytes;
  else return Bad(c.name, absl::StrCat("unknown type '", base, "'"));

  bool storage_set = false;
  for (const std::string& p : properties) {
    const char* needs = nullptr;
    ColumnKind kind = c.kind;
    if (p == "nullable") {
      nullable = true;
      continue;
    } else if (p == "int8" || p == "int16" || p == "boolean") {
      needs = "int";
      kind = p == "int8" ? ColumnKind::kInt8 : p == "int16" ? ColumnKind::kInt16 : ColumnKind::kBoolean;
    } else if (p == "timestamp") {
      needs = "long";
      kind = ColumnKind::kTimestamp;
    } else if (int w = CharWidth(p); w > 0) {
      needs = "string";
      kind = ColumnKind::kCharN;
      c.char_width = w;
    } else if (p == "date") {
      needs = "string";
      kind = ColumnKind::kDate;
    } else if (IsStringSubtype(p)) {
      needs = "string";
    } else if (!IsKeyProperty(p)) {
      return Bad(c.name, absl::StrCat("unknown property '", p, "'"));
    }
    if (needs != nullptr) {
      if (base != needs) {
        return Bad(c.name, absl::StrCat("property '", p, "' applies to ", needs, " columns, not ", base));
      }
      if (storage_set) return Bad(c.name, absl::StrCat("more than one storage property ('", p, "')"));
      storage_set = true;
      c.kind = kind;
    }
  }
  c.nullable = nullable;
  if (nullable && std::find(properties.begin(), properties.end(), "nullable") == properties.end()) {
    properties.push_back("nullable");
  }
  c.properties = std::move(properties);
  return c;
}

absl::StatusOr<std::vector<std::string>> PropertyList(const Json& list, absl::string_view column) {
  std::vector<std::string> out;
  for (const Json& p : list) {
    if (!p.is_string()) return Bad(column, "properties must be strings");
    out.push_back(p.get<std::string>());
  }
  return out;
}

absl::StatusOr<std::vector<ColumnDef>> ParseCompact(
    const Json& list, const std::map<std::string, std::vector<std::string>>& properties) {
  std::vector<ColumnDef> columns;
  for (size_t i = 0; i < list.size(); ++i) {
    const Json& entry = list[i];
    if (!entry.is_array() || entry.size() < 2 || !entry[0].is_string() || !entry[1].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "type_definition: column ", i, " must be [name, type, properties...] with string entries"));
    }
    std::string name = entry[0].get<std::string>();
    std::string type = entry[1].get<std::string>();
    std::vector<std::string> props;
    std::string base = type;
    if (type == "int8" || type == "int16" || type == "boolean") {
      base = "int";
      props.push_back(type);
    } else if (type == "timestamp") {
      base = "long";
      props.push_back(type);
    } else if (CharWidth(type) > 0 || IsStringSubtype(type) || type == "date") {
      base = "string";
      props.push_back(type);
    }
    for (size_t k = 2; k < entry.size(); ++k) {
      if (!entry[k].is_string()) return Bad(name, "properties must be strings");
      props.push_back(entry[k].get<std::string>());
    }
    if (auto it = properties.find(name); it != properties.end()) {
      props.insert(props.end(), it->second.begin(), it->second.end());
    }
    auto column = MakeColumn(std::move(name), base, false, std::move(props));
    if (!column.ok()) return column.status();
    columns.push_back(*std::move(column));
  }
  return columns;
}

absl::StatusOr<std::vector<ColumnDef>> ParseAvro(
    const Json& schema, const std::map<std::string, std::vector<std::string>>& properties) {
  if (!schema.is_object() || schema.value("type", Json()) != "record" || !schema.contains("fields") ||
      !schema["fields"].is_array()) {
    return absl::InvalidArgumentError(
        "type_definition: an Avro schema must be a record with a 'fields' array");
  }
  std::vector<ColumnDef> columns;
  for (const Json& field : schema["fields"]) {
    if (!field.is_object() || !field.contains("name") || !field["name"].is_string() ||
        !field.contains("type")) {
      return absl::InvalidArgumentError(
          "type_definition: every field needs a string 'name' and a 'type'");
    }
    std::string name = field["name"].get<std::string>();
    Json type = field["type"];
    bool nullable = false;
    if (type.is_array()) {
      // A union of the value type and null, in either order.
      Json value_type;
      int nulls = 0;
      for (const Json& branch : type) {
        if (branch == "null") ++nulls;
        else value_type = branch;
      }
      if (type.size() != 2 || nulls != 1) {
        return Bad(name, "a union must be [type, \"null\"]");
      }
      nullable = true;
      type = value_type;
    }
    if (type.is_object() && type.contains("type")) type = type["type"];
    if (!type.is_string()) return Bad(name, "type must be a primitive Avro type");
    std::vector<std::string> props;
    if (auto it = properties.find(name); it != properties.end()) props = it->second;
    auto column = MakeColumn(name, type.get<std::string>(), nullable, std::move(props));
    if (!column.ok()) return column.status();
    columns.push_back(*std::move(column));
  }
  return columns;
}

}  // namespace

kernels::PhysType ColumnDef::phys() const {
  switch (kind) {
    case ColumnKind::kInt: return kernels::PhysType::kInt32;
    case ColumnKind::kLong: return kernels::PhysType::kInt64;
    case ColumnKind::kFloat: return kernels::PhysType::kFloat32;
    case ColumnKind::kDouble: return kernels::PhysType::kFloat64;
    case ColumnKind::kString: return kernels::PhysType::kVarChars;
    case ColumnKind::kBytes: return kernels::PhysType::kVarChars;
    case ColumnKind::kInt8: return kernels::PhysType::kInt8;
    case ColumnKind::kInt16: return kernels::PhysType::kInt16;
    case ColumnKind::kBoolean: return kernels::PhysType::kInt8;
    case ColumnKind::kTimestamp: return kernels::PhysType::kInt64;
    case ColumnKind::kCharN: return kernels::PhysType::kFixedChars;
    case ColumnKind::kDate:
      return kernels::PhysType::kInt32;
  }
  return kernels::PhysType::kInt32;
}

const char* ColumnDef::avro_type() const {
  switch (kind) {
    case ColumnKind::kInt:
    case ColumnKind::kInt8:
    case ColumnKind::kInt16:
    case ColumnKind::kBoolean: return "int";
    case ColumnKind::kLong:
    case ColumnKind::kTimestamp: return "long";
    case ColumnKind::kFloat: return "float";
    case ColumnKind::kDouble: return "double";
    case ColumnKind::kString:
    case ColumnKind::kCharN:
    case ColumnKind::kDate:
      return "string";
    case ColumnKind::kBytes: return "bytes";
  }
  return "int";
}

std::string ColumnDef::type_name() const {
  switch (kind) {
    case ColumnKind::kInt8: return "int8";
    case ColumnKind::kInt16: return "int16";
    case ColumnKind::kBoolean: return "boolean";
    case ColumnKind::kTimestamp: return "timestamp";
    case ColumnKind::kCharN: return absl::StrCat("char", char_width);
    case ColumnKind::kDate:
      return "date";
    default: return avro_type();
  }
}

bool ColumnDef::is_integer() const {
  switch (kind) {
    case ColumnKind::kInt:
    case ColumnKind::kLong:
    case ColumnKind::kInt8:
    case ColumnKind::kInt16:
    case ColumnKind::kBoolean:
    case ColumnKind::kTimestamp: return true;
    default: return false;
  }
}

bool ColumnDef::is_real() const { return kind == ColumnKind::kFloat || kind == ColumnKind::kDouble; }

bool ColumnDef::is_string() const {
  return kind == ColumnKind::kString || kind == ColumnKind::kBytes || kind == ColumnKind::kCharN;
}

int TableType::Find(absl::string_view name) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

std::string TableType::AvroSchema(absl::string_view record_name) const {
  Json fields = Json::array();
  for (const ColumnDef& c : columns_) {
    Json type = c.nullable ? Json::array({c.avro_type(), "null"}) : Json(c.avro_type());
    fields.push_back(Json{{"name", c.name}, {"type", type}});
  }
  return Json{{"type", "record"}, {"name", record_name}, {"fields", fields}}.dump();
}

std::string TableType::RecordSchema() const { return AvroSchema(label_.empty() ? "type" : label_); }

std::map<std::string, std::vector<std::string>> TableType::PropertyMap() const {
  std::map<std::string, std::vector<std::string>> out;
  for (const ColumnDef& c : columns_) {
    if (!c.properties.empty()) out[c.name] = c.properties;
  }
  return out;
}

std::string TableType::TypeId() const {
  std::string canonical = label_;
  for (const ColumnDef& c : columns_) {
    absl::StrAppend(&canonical, "|", c.name, ":", c.type_name(), c.nullable ? "?" : "", ":",
                    absl::StrJoin(c.properties, ","));
  }
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char ch : canonical) {
    h ^= ch;
    h *= 1099511628211ull;
  }
  return absl::StrCat(h);
}

absl::StatusOr<TableType> ParseTypeDefinition(
    absl::string_view definition, const std::map<std::string, std::vector<std::string>>& properties,
    std::string label) {
  absl::StatusOr<Json> json = ParseJson(definition);
  if (!json.ok()) return absl::InvalidArgumentError(absl::StrCat("type_definition: ", json.status().message()));
  const Json& parsed = *json;
  absl::StatusOr<std::vector<ColumnDef>> columns =
      parsed.is_array() ? ParseCompact(parsed, properties) : ParseAvro(parsed, properties);
  if (!columns.ok()) return columns.status();
  if (columns->empty()) return absl::InvalidArgumentError("type_definition: a type needs at least one column");
  for (const auto& entry : properties) {
    bool found = false;
    for (const ColumnDef& c : *columns) found = found || c.name == entry.first;
    if (!found) {
      return absl::InvalidArgumentError(
          absl::StrCat("properties: no column named '", entry.first, "' in the type definition"));
    }
  }
  std::set<std::string> seen;
  for (const ColumnDef& c : *columns) {
    if (!seen.insert(c.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("type_definition: column '", c.name, "' appears twice"));
    }
  }
  return TableType(*std::move(columns), std::move(label));
}

}  // namespace engine
