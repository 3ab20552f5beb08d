#pragma once

// A reference model for the analytics tests (tests/engine/analytics_test.cc,
// tests/server/analytics_e2e_test.cc), written from the spec and the README
// and independent of the engine's code:
//   - a tiny in-memory row model (Value, ColumnSpec, Table) and the two
//     record encodings a client writes (Avro binary, JSON with bytes as code
//     points);
//   - decoders a client needs: single Avro records by their type_schema, and
//     the dynamic-schema response (spec §5) from binary_encoded_response with
//     response_schema_str, or from json_encoded_response;
//   - straightforward reference versions of stable sorting, grouping, every
//     group-by aggregate, histograms and /aggregate/statistics;
//   - the tests' random table of every column type (AllTypes) and the
//     expressions they send, each with its meaning computed here (Eval), and
//     the reference result of a group-by (ReferenceGroupBy).
// Ordering follows the contract: nulls first, then numbers, then NaN (all
// NaNs equal, -0.0 == 0.0); strings bytewise (unsigned).

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "tests/common/avro.h"

namespace analytics_ref {

using OJson = nlohmann::ordered_json;

// ---------------------------------------------------------------------------
// Values.

struct Value {
  enum class Kind : uint8_t { kNull, kInt, kFloat, kString };
  Kind kind = Kind::kNull;
  int64_t i = 0;
  double f = 0;
  std::string s;

  static Value Null() { return Value(); }
  static Value Int(int64_t v) {
    Value x;
    x.kind = Kind::kInt;
    x.i = v;
    return x;
  }
  static Value Float(double v) {
    Value x;
    x.kind = Kind::kFloat;
    x.f = v;
    return x;
  }
  static Value Str(std::string v) {
    Value x;
    x.kind = Kind::kString;
    x.s = std::move(v);
    return x;
  }
  bool null() const { return kind == Kind::kNull; }
  bool is_nan() const { return kind == Kind::kFloat && std::isnan(f); }
  double num() const { return kind == Kind::kInt ? static_cast<double>(i) : f; }
};

// Total order of the contract: null < numbers < NaN; strings bytewise.
inline int Compare(const Value& a, const Value& b) {
  if (a.null() || b.null()) return static_cast<int>(!a.null()) - static_cast<int>(!b.null());
  if (a.kind == Value::Kind::kString || b.kind == Value::Kind::kString) {
    const int c = a.s.compare(b.s);  // char_traits<char> compares as unsigned char
    return c < 0 ? -1 : c > 0 ? 1 : 0;
  }
  if (a.kind == Value::Kind::kInt && b.kind == Value::Kind::kInt) return a.i < b.i ? -1 : a.i > b.i ? 1 : 0;
  const double x = a.num(), y = b.num();
  const bool nx = std::isnan(x), ny = std::isnan(y);
  if (nx || ny) return static_cast<int>(nx) - static_cast<int>(ny);
  return x < y ? -1 : x > y ? 1 : 0;
}

inline bool operator==(const Value& a, const Value& b) { return Compare(a, b) == 0; }

inline std::string Printable(const std::string& s) {
  std::string out = "'";
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    }
  }
  return out + "'";
}

inline std::string ToString(const Value& v) {
  switch (v.kind) {
    case Value::Kind::kNull: return "null";
    case Value::Kind::kInt: return std::to_string(v.i);
    case Value::Kind::kFloat: {
      std::ostringstream os;
      os.precision(17);
      os << v.f;
      return os.str();
    }
    case Value::Kind::kString: return Printable(v.s);
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, const Value& v) { return os << ToString(v); }

// Whether `s` is valid UTF-8 (JSON text carries only that).
inline bool ValidUtf8(const std::string& s) {
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// Relative closeness for floating-point results (reduced in another order).
inline bool Near(double a, double b, double rel = 1e-9) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true;
  return std::fabs(a - b) <= rel * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
}

// ---------------------------------------------------------------------------
// Column types (spec §3).

inline bool IsIntegerType(const std::string& t) {
  return t == "int" || t == "long" || t == "int8" || t == "int16" || t == "boolean" || t == "timestamp";
}
inline bool IsRealType(const std::string& t) { return t == "float" || t == "double"; }
inline bool IsStringType(const std::string& t) { return t == "string" || t == "bytes" || t.rfind("char", 0) == 0; }
// The Avro base type of a column type.
inline std::string AvroType(const std::string& t) {
  if (t == "int" || t == "int8" || t == "int16" || t == "boolean") return "int";
  if (t == "long" || t == "timestamp") return "long";
  if (t == "float" || t == "double" || t == "bytes") return t;
  return "string";
}

struct ColumnSpec {
  std::string name;
  std::string type;  // int, long, float, double, string, bytes, int8, int16, boolean, timestamp, charN
  bool nullable = false;
};

// Rows of known values.
struct Table {
  std::vector<ColumnSpec> columns;
  std::vector<std::vector<Value>> rows;

  int Find(const std::string& name) const {
    for (size_t c = 0; c < columns.size(); ++c) {
      if (columns[c].name == name) return static_cast<int>(c);
    }
    return -1;
  }
  size_t size() const { return rows.size(); }
  // The compact type list of /create/table.
  std::string CompactType() const {
    OJson list = OJson::array();
    for (const ColumnSpec& c : columns) {
      OJson col = OJson::array({c.name});
      if (c.type == "int8" || c.type == "int16" || c.type == "boolean") {
        col.push_back("int");
        col.push_back(c.type);
      } else if (c.type == "timestamp") {
        col.push_back("long");
        col.push_back("timestamp");
      } else if (c.type.rfind("char", 0) == 0) {
        col.push_back("string");
        col.push_back(c.type);
      } else {
        col.push_back(c.type);
      }
      if (c.nullable) col.push_back("nullable");
      list.push_back(col);
    }
    return list.dump();
  }
};

// ---------------------------------------------------------------------------
// Bytes as code points 0-255 (Kinetica's JSON mode), written here.

inline std::string ToCodePoints(const std::string& bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

inline bool FromCodePoints(const std::string& text, std::string* bytes) {
  bytes->clear();
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      bytes->push_back(static_cast<char>(c));
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < text.size()) {
      const unsigned char d = static_cast<unsigned char>(text[++i]);
      if ((d & 0xC0) != 0x80) return false;
      bytes->push_back(static_cast<char>(((c & 0x03) << 6) | (d & 0x3F)));
    } else {
      return false;
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// Avro binary, written here from the spec (tests/common/avro.h).

using gpudb_test::AvroIn;
using gpudb_test::PutBytes;
using gpudb_test::PutDouble;
using gpudb_test::PutFloat;
using gpudb_test::PutLong;

// One row as an Avro record of the table's type (nullable: union [value, null]).
inline std::string EncodeRecord(const std::vector<ColumnSpec>& columns, const std::vector<Value>& row) {
  std::string out;
  for (size_t c = 0; c < columns.size(); ++c) {
    const Value& v = row[c];
    if (columns[c].nullable) {
      PutLong(&out, v.null() ? 1 : 0);
      if (v.null()) continue;
    }
    const std::string avro = AvroType(columns[c].type);
    if (avro == "int" || avro == "long") {
      PutLong(&out, v.i);
    } else if (avro == "float") {
      PutFloat(&out, static_cast<float>(v.f));
    } else if (avro == "double") {
      PutDouble(&out, v.f);
    } else {
      PutBytes(&out, v.s);
    }
  }
  return out;
}

// One row as the JSON object of /insert/records (json). NaN is not JSON.
inline OJson RecordJson(const std::vector<ColumnSpec>& columns, const std::vector<Value>& row) {
  OJson out = OJson::object();
  for (size_t c = 0; c < columns.size(); ++c) {
    const Value& v = row[c];
    const std::string& t = columns[c].type;
    if (v.null()) {
      out[columns[c].name] = nullptr;
    } else if (IsIntegerType(t)) {
      out[columns[c].name] = v.i;
    } else if (IsRealType(t)) {
      out[columns[c].name] = v.f;
    } else if (t == "bytes") {
      out[columns[c].name] = ToCodePoints(v.s);
    } else {
      out[columns[c].name] = v.s;
    }
  }
  return out;
}

// An Avro field type of the schemas the engine writes: "long", or
// ["long", "null"] (a nullable value).
struct AvroField {
  std::string base;
  bool nullable = false;
};

inline bool ParseAvroField(const OJson& type, AvroField* out) {
  if (type.is_string()) {
    out->base = type.get<std::string>();
    out->nullable = false;
    return true;
  }
  if (type.is_array() && type.size() == 2 && type[0].is_string() && type[1] == "null") {
    out->base = type[0].get<std::string>();
    out->nullable = true;
    return true;
  }
  return false;
}

inline bool ReadAvroValue(AvroIn& in, const AvroField& f, Value* v) {
  if (f.nullable) {
    int64_t branch = 0;
    if (!in.Long(&branch) || branch < 0 || branch > 1) return false;
    if (branch == 1) {
      *v = Value::Null();
      return true;
    }
  }
  if (f.base == "int" || f.base == "long") {
    int64_t x = 0;
    if (!in.Long(&x)) return false;
    if (f.base == "int" && (x < INT32_MIN || x > INT32_MAX)) return false;
    *v = Value::Int(x);
  } else if (f.base == "float") {
    float x = 0;
    if (!in.Float(&x)) return false;
    *v = Value::Float(x);
  } else if (f.base == "double") {
    double x = 0;
    if (!in.Double(&x)) return false;
    *v = Value::Float(x);
  } else if (f.base == "string" || f.base == "bytes") {
    std::string s;
    if (!in.Bytes(&s)) return false;
    *v = Value::Str(std::move(s));
  } else {
    return false;
  }
  return true;
}

// A JSON value of a column whose Avro base type is `base` (bytes as code
// points); `column_type` tells bytes from strings when the Avro type does not.
inline bool JsonValue(const OJson& j, const std::string& base, const std::string& column_type, Value* v) {
  if (j.is_null()) {
    *v = Value::Null();
    return true;
  }
  if (base == "int" || base == "long") {
    if (j.is_boolean()) {
      *v = Value::Int(j.get<bool>() ? 1 : 0);
      return true;
    }
    if (!j.is_number_integer()) return false;
    *v = Value::Int(j.get<int64_t>());
    return true;
  }
  if (base == "float" || base == "double") {
    if (!j.is_number()) return false;
    *v = Value::Float(base == "float" ? static_cast<double>(static_cast<float>(j.get<double>())) : j.get<double>());
    return true;
  }
  if (!j.is_string()) return false;
  if (base == "bytes" || column_type == "bytes") {
    std::string bytes;
    if (!FromCodePoints(j.get<std::string>(), &bytes)) return false;
    *v = Value::Str(std::move(bytes));
    return true;
  }
  *v = Value::Str(j.get<std::string>());
  return true;
}

// The fields of a record schema (type_schema of /get/records).
inline bool RecordFields(const std::string& schema_text, std::vector<std::pair<std::string, AvroField>>* fields,
                         std::string* error) {
  const OJson schema = OJson::parse(schema_text, nullptr, false);
  if (schema.is_discarded() || !schema.is_object() || schema.value("type", "") != "record" ||
      !schema.contains("fields") || !schema["fields"].is_array()) {
    *error = "not a record schema: " + schema_text;
    return false;
  }
  fields->clear();
  for (const OJson& f : schema["fields"]) {
    AvroField field;
    if (!f.contains("name") || !f.contains("type") || !ParseAvroField(f["type"], &field)) {
      *error = "unexpected field " + f.dump();
      return false;
    }
    fields->emplace_back(f["name"].get<std::string>(), field);
  }
  return true;
}

// One Avro record of `fields`.
inline bool DecodeRecord(const std::vector<std::pair<std::string, AvroField>>& fields, const std::string& bytes,
                         std::vector<Value>* row) {
  AvroIn in(bytes);
  row->assign(fields.size(), Value());
  for (size_t c = 0; c < fields.size(); ++c) {
    if (!ReadAvroValue(in, fields[c].second, &(*row)[c])) return false;
  }
  return in.AtEnd();
}

// One JSON record of `fields` (by name); `types` are the column types (to
// tell bytes).
inline bool DecodeJsonRecord(const std::vector<std::pair<std::string, AvroField>>& fields,
                             const std::vector<std::string>& types, const std::string& text,
                             std::vector<Value>* row) {
  const OJson j = OJson::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.size() != fields.size()) return false;
  row->assign(fields.size(), Value());
  for (size_t c = 0; c < fields.size(); ++c) {
    auto it = j.find(fields[c].first);
    if (it == j.end()) return false;
    if (!JsonValue(*it, fields[c].second.base, c < types.size() ? types[c] : "", &(*row)[c])) return false;
    if ((*row)[c].null() && !fields[c].second.nullable) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Dynamic-schema responses (spec §5).

// A column of values, stored compactly (a million-row response stays small).
struct TypedColumn {
  Value::Kind kind = Value::Kind::kInt;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
  std::vector<uint8_t> valid;

  size_t size() const { return valid.size(); }
  void Push(const Value& v) {
    valid.push_back(v.null() ? 0 : 1);
    switch (kind) {
      case Value::Kind::kInt: ints.push_back(v.i); break;
      case Value::Kind::kFloat: floats.push_back(v.f); break;
      default: strings.push_back(v.s); break;
    }
  }
  Value Get(size_t r) const {
    if (!valid[r]) return Value::Null();
    switch (kind) {
      case Value::Kind::kInt: return Value::Int(ints[r]);
      case Value::Kind::kFloat: return Value::Float(floats[r]);
      default: return Value::Str(strings[r]);
    }
  }
};

inline Value::Kind KindOfAvro(const std::string& base) {
  if (base == "int" || base == "long") return Value::Kind::kInt;
  if (base == "float" || base == "double") return Value::Kind::kFloat;
  return Value::Kind::kString;
}

struct Dynamic {
  std::vector<AvroField> fields;  // column_i's item type
  std::vector<TypedColumn> columns;
  std::vector<std::string> headers;
  std::vector<std::string> datatypes;
  size_t rows() const { return columns.empty() ? 0 : columns[0].size(); }
};

// Reads response_schema_str: generic_response with column_1..column_N (each an
// array of a type or of [type, "null"]), then column_headers and
// column_datatypes (arrays of strings).
inline bool ParseDynamicSchema(const std::string& schema_text, Dynamic* out, std::string* error) {
  const OJson schema = OJson::parse(schema_text, nullptr, false);
  if (schema.is_discarded() || !schema.is_object()) {
    *error = "response_schema_str is not JSON: " + schema_text;
    return false;
  }
  if (schema.value("type", "") != "record" || schema.value("name", "") != "generic_response" ||
      !schema.contains("fields") || !schema["fields"].is_array() || schema["fields"].size() < 2) {
    *error = "response_schema_str is not a generic_response record: " + schema_text;
    return false;
  }
  const OJson& fields = schema["fields"];
  const size_t n = fields.size() - 2;
  out->fields.clear();
  out->columns.clear();
  for (size_t k = 0; k < fields.size(); ++k) {
    const OJson& f = fields[k];
    const std::string want_name =
        k < n ? "column_" + std::to_string(k + 1) : k == n ? "column_headers" : "column_datatypes";
    if (f.value("name", "") != want_name || !f.contains("type") || !f["type"].is_object() ||
        f["type"].value("type", "") != "array" || !f["type"].contains("items")) {
      *error = "response_schema_str field " + std::to_string(k) + " is not an array named " + want_name + ": " +
               f.dump();
      return false;
    }
    AvroField item;
    if (!ParseAvroField(f["type"]["items"], &item)) {
      *error = "unexpected item type " + f["type"]["items"].dump();
      return false;
    }
    if (k >= n) {
      if (item.base != "string" || item.nullable) {
        *error = want_name + " must be an array of strings";
        return false;
      }
      continue;
    }
    out->fields.push_back(item);
    TypedColumn column;
    column.kind = KindOfAvro(item.base);
    out->columns.push_back(std::move(column));
  }
  return true;
}

// Decodes binary_encoded_response with response_schema_str. Returns "" or
// what is wrong.
inline std::string DecodeDynamicBinary(const std::string& schema_text, const std::string& bytes, Dynamic* out) {
  std::string error;
  if (!ParseDynamicSchema(schema_text, out, &error)) return error;
  AvroIn in(bytes);
  auto read_blocks = [&](const std::function<bool()>& item) -> bool {
    for (;;) {
      int64_t count = 0;
      if (!in.Long(&count)) return false;
      if (count == 0) return true;
      if (count < 0) {  // a block with its byte size
        count = -count;
        int64_t size = 0;
        if (!in.Long(&size)) return false;
      }
      for (int64_t i = 0; i < count; ++i) {
        if (!item()) return false;
      }
    }
  };
  for (size_t k = 0; k < out->columns.size(); ++k) {
    const AvroField field = out->fields[k];
    TypedColumn& column = out->columns[k];
    if (!read_blocks([&] {
          Value v;
          if (!ReadAvroValue(in, field, &v)) return false;
          column.Push(v);
          return true;
        })) {
      return "binary_encoded_response: column_" + std::to_string(k + 1) + " is malformed";
    }
  }
  for (std::vector<std::string>* strings : {&out->headers, &out->datatypes}) {
    strings->clear();
    if (!read_blocks([&] {
          std::string s;
          if (!in.Bytes(&s)) return false;
          strings->push_back(s);
          return true;
        })) {
      return "binary_encoded_response: column_headers/column_datatypes are malformed";
    }
  }
  if (!in.AtEnd()) return "binary_encoded_response: bytes left after the record";
  for (size_t k = 1; k < out->columns.size(); ++k) {
    if (out->columns[k].size() != out->columns[0].size()) return "binary_encoded_response: columns differ in length";
  }
  if (out->headers.size() != out->columns.size() || out->datatypes.size() != out->columns.size()) {
    return "binary_encoded_response: headers or datatypes do not match the columns";
  }
  return "";
}

// Decodes json_encoded_response with response_schema_str.
inline std::string DecodeDynamicJson(const std::string& schema_text, const std::string& text, Dynamic* out) {
  std::string error;
  if (!ParseDynamicSchema(schema_text, out, &error)) return error;
  const OJson j = OJson::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return "json_encoded_response is not a JSON object: " + text;
  if (j.size() != out->columns.size() + 2) return "json_encoded_response has other fields than the schema: " + text;
  if (!j.contains("column_headers") || !j.contains("column_datatypes")) return "json_encoded_response lacks headers";
  out->headers = j["column_headers"].get<std::vector<std::string>>();
  out->datatypes = j["column_datatypes"].get<std::vector<std::string>>();
  if (out->headers.size() != out->columns.size() || out->datatypes.size() != out->columns.size()) {
    return "json_encoded_response: headers or datatypes do not match the columns";
  }
  for (size_t k = 0; k < out->columns.size(); ++k) {
    const std::string name = "column_" + std::to_string(k + 1);
    if (!j.contains(name) || !j[name].is_array()) return "json_encoded_response lacks " + name;
    for (const OJson& item : j[name]) {
      Value v;
      if (!JsonValue(item, out->fields[k].base, out->datatypes[k], &v)) {
        return "json_encoded_response: " + name + " has " + item.dump();
      }
      if (v.null() && !out->fields[k].nullable && !(out->fields[k].base == "double" || out->fields[k].base == "float")) {
        return "json_encoded_response: " + name + " has a null but is not nullable";
      }
      out->columns[k].Push(v);
    }
    if (out->columns[k].size() != out->columns[0].size()) return "json_encoded_response: columns differ in length";
  }
  return "";
}

// ---------------------------------------------------------------------------
// What a dynamic-schema response should hold.

struct ExpectedColumn {
  std::string header;
  std::string datatype;  // column_datatypes entry
  bool nullable = true;
  bool approx = false;   // compare with Near (computed doubles)
  std::vector<Value> values;
};

// Compares `got` with rows [begin, end) of `want`. In JSON NaN and the
// infinities have no spelling: they read back as null (`json`).
inline ::testing::AssertionResult SameDynamic(const Dynamic& got, const std::vector<ExpectedColumn>& want,
                                              size_t begin, size_t end, bool json) {
  if (got.columns.size() != want.size()) {
    return ::testing::AssertionFailure() << got.columns.size() << " columns, expected " << want.size();
  }
  for (size_t k = 0; k < want.size(); ++k) {
    const ExpectedColumn& w = want[k];
    if (got.headers[k] != w.header) {
      return ::testing::AssertionFailure() << "column " << k + 1 << ": header '" << got.headers[k] << "', expected '"
                                           << w.header << "'";
    }
    if (got.datatypes[k] != w.datatype) {
      return ::testing::AssertionFailure() << "column '" << w.header << "': datatype '" << got.datatypes[k]
                                           << "', expected '" << w.datatype << "'";
    }
    if (got.fields[k].base != AvroType(w.datatype) || got.fields[k].nullable != w.nullable) {
      return ::testing::AssertionFailure() << "column '" << w.header << "': Avro type " << got.fields[k].base
                                           << (got.fields[k].nullable ? " (nullable)" : "") << ", expected "
                                           << AvroType(w.datatype) << (w.nullable ? " (nullable)" : "");
    }
    if (got.columns[k].size() != end - begin) {
      return ::testing::AssertionFailure() << "column '" << w.header << "': " << got.columns[k].size()
                                           << " rows, expected " << end - begin;
    }
    for (size_t r = begin; r < end; ++r) {
      const Value g = got.columns[k].Get(r - begin);
      const Value& e = w.values[r];
      bool same = false;
      if (json && e.kind == Value::Kind::kFloat && !std::isfinite(e.f)) {
        same = g.null();  // JSON has no NaN or infinity: they read back as null
      } else if (json && e.kind == Value::Kind::kString && w.datatype != "bytes" && !ValidUtf8(e.s)) {
        // A string cut inside a UTF-8 sequence (substr counts bytes) has no
        // JSON spelling either: the invalid bytes read back as U+FFFD.
        same = g.kind == Value::Kind::kString && g.s.find("\xef\xbf\xbd") != std::string::npos;
      } else if (w.datatype == "float" && !e.null() && !g.null()) {
        same = (std::isnan(e.f) && std::isnan(g.f)) || static_cast<float>(e.f) == static_cast<float>(g.f);
      } else if (w.approx && !e.null() && !g.null() && e.kind == Value::Kind::kFloat) {
        same = g.kind == Value::Kind::kFloat && Near(g.f, e.f);
      } else {
        // -0.0 and 0.0 are the same value here (equal keys).
        same = g.kind == e.kind && Compare(g, e) == 0;
      }
      if (!same) {
        return ::testing::AssertionFailure() << "column '" << w.header << "' row " << r << ": got " << g
                                             << ", expected " << e;
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------
// Reference algorithms.

using Expr = std::function<Value(size_t row)>;

struct SortKey {
  Expr expr;
  bool descending = false;
};

// `rows` ordered by `keys`, stably (equal keys keep their order in `rows`);
// ascending: null < numbers < NaN; descending reverses that.
inline std::vector<size_t> StableSort(const std::vector<size_t>& rows, const std::vector<SortKey>& keys) {
  std::vector<std::vector<Value>> values(keys.size());
  for (size_t k = 0; k < keys.size(); ++k) {
    values[k].reserve(rows.size());
    for (size_t r : rows) values[k].push_back(keys[k].expr(r));
  }
  std::vector<size_t> pos(rows.size());
  std::iota(pos.begin(), pos.end(), 0);
  std::stable_sort(pos.begin(), pos.end(), [&](size_t a, size_t b) {
    for (size_t k = 0; k < keys.size(); ++k) {
      const int c = Compare(values[k][a], values[k][b]);
      if (c != 0) return keys[k].descending ? c > 0 : c < 0;
    }
    return false;
  });
  std::vector<size_t> out;
  out.reserve(rows.size());
  for (size_t p : pos) out.push_back(rows[p]);
  return out;
}

struct Group {
  std::vector<Value> key;     // the key values of the group's first row
  std::vector<size_t> rows;   // in input order
};

// Groups `rows` by the key tuple, in ascending key order. No keys: one
// group of every row (none when there are no rows).
inline std::vector<Group> GroupRows(const std::vector<size_t>& rows, const std::vector<Expr>& keys) {
  std::vector<Group> groups;
  if (rows.empty()) return groups;
  if (keys.empty()) {
    groups.push_back(Group{{}, rows});
    return groups;
  }
  std::vector<SortKey> sort_keys;
  for (const Expr& e : keys) sort_keys.push_back({e, false});
  const std::vector<size_t> sorted = StableSort(rows, sort_keys);
  std::vector<Value> previous;
  for (size_t r : sorted) {
    std::vector<Value> key;
    for (const Expr& e : keys) key.push_back(e(r));
    bool same = !groups.empty();
    for (size_t k = 0; same && k < key.size(); ++k) same = Compare(key[k], previous[k]) == 0;
    if (!same) groups.push_back(Group{key, {}});
    groups.back().rows.push_back(r);
    previous = std::move(key);
  }
  return groups;
}

enum class Agg {
  kCountStar,
  kCount,
  kSum,
  kMin,
  kMax,
  kMean,
  kVarPop,
  kVarSamp,
  kStdPop,
  kStdSamp,
  kCountDistinct,
  kArgMin,
  kArgMax
};

// One aggregate over a group's rows (nulls skipped). `integer` says whether
// the value is an integer (sum in long, wrapping).
inline Value Aggregate(Agg kind, const std::vector<size_t>& rows, const Expr& value, const Expr& target,
                       bool integer) {
  if (kind == Agg::kCountStar) return Value::Int(static_cast<int64_t>(rows.size()));
  std::vector<std::pair<size_t, Value>> present;
  for (size_t r : rows) {
    Value v = value(r);
    if (!v.null()) present.emplace_back(r, std::move(v));
  }
  switch (kind) {
    case Agg::kCount: return Value::Int(static_cast<int64_t>(present.size()));
    case Agg::kCountDistinct: {
      std::vector<Value> values;
      for (auto& p : present) values.push_back(p.second);
      std::sort(values.begin(), values.end(), [](const Value& a, const Value& b) { return Compare(a, b) < 0; });
      int64_t distinct = 0;
      for (size_t i = 0; i < values.size(); ++i) distinct += i == 0 || Compare(values[i - 1], values[i]) != 0;
      return Value::Int(distinct);
    }
    default: break;
  }
  if (present.empty()) return Value::Null();
  switch (kind) {
    case Agg::kSum: {
      if (integer) {
        uint64_t s = 0;
        for (auto& p : present) s += static_cast<uint64_t>(p.second.i);
        return Value::Int(static_cast<int64_t>(s));
      }
      long double s = 0;
      for (auto& p : present) s += p.second.num();
      return Value::Float(static_cast<double>(s));
    }
    case Agg::kMin:
    case Agg::kMax:
    case Agg::kArgMin:
    case Agg::kArgMax: {
      const bool greatest = kind == Agg::kMax || kind == Agg::kArgMax;
      size_t best = 0;
      for (size_t i = 1; i < present.size(); ++i) {
        const int c = Compare(present[i].second, present[best].second);
        if (greatest ? c > 0 : c < 0) best = i;  // ties: the first row wins
      }
      if (kind == Agg::kMin || kind == Agg::kMax) return present[best].second;
      return target(present[best].first);
    }
    default: {
      const double n = static_cast<double>(present.size());
      long double sum = 0;
      for (auto& p : present) sum += p.second.num();
      const long double mean = sum / n;
      long double m2 = 0;
      for (auto& p : present) m2 += (p.second.num() - mean) * (p.second.num() - mean);
      switch (kind) {
        case Agg::kMean: return Value::Float(static_cast<double>(mean));
        case Agg::kVarPop: return Value::Float(static_cast<double>(m2 / n));
        case Agg::kStdPop: return Value::Float(std::sqrt(static_cast<double>(m2 / n)));
        case Agg::kVarSamp:
          return present.size() > 1 ? Value::Float(static_cast<double>(m2 / (n - 1))) : Value::Null();
        default:
          return present.size() > 1 ? Value::Float(std::sqrt(static_cast<double>(m2 / (n - 1)))) : Value::Null();
      }
    }
  }
}

// Bins [start + i*interval, start + (i+1)*interval), ceil((end - start) /
// interval) of them, the last closed at `end`; values outside [start, end],
// NaN and nulls skipped; with weights, their sum (null weights skipped).
inline std::vector<double> Histogram(const std::vector<Value>& values, const std::vector<Value>* weights,
                                     double start, double end, double interval) {
  const int64_t bins = static_cast<int64_t>(std::ceil((end - start) / interval));
  std::vector<double> out(static_cast<size_t>(bins), 0.0);
  for (size_t r = 0; r < values.size(); ++r) {
    if (values[r].null()) continue;
    const double v = values[r].num();
    if (!(v >= start && v <= end)) continue;
    const double q = std::floor((v - start) / interval);
    const int64_t b = q >= static_cast<double>(bins - 1) ? bins - 1 : static_cast<int64_t>(q);
    if (weights == nullptr) {
      out[b] += 1;
    } else if (!(*weights)[r].null()) {
      out[b] += (*weights)[r].num();
    }
  }
  return out;
}

// /aggregate/statistics over the non-null values of `values` (weights for
// weighted_average: rows where either is null do not count). `stat` is the
// name ("mean") and `arg` the argument of percentile(p) / percentile_rank(v).
inline double Statistic(const std::string& stat, double arg, const std::vector<Value>& values,
                        const std::vector<Value>* weights) {
  std::vector<double> x;
  for (const Value& v : values) {
    if (!v.null()) x.push_back(v.num());
  }
  const double n = static_cast<double>(x.size());
  long double sum = 0;
  for (double v : x) sum += v;
  const long double mean = x.empty() ? 0 : sum / n;
  long double m2 = 0, m3 = 0, m4 = 0;
  for (double v : x) {
    const long double d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  const double variance = x.size() > 1 ? static_cast<double>(m2 / (n - 1)) : 0.0;
  const double pop = x.empty() ? 0.0 : static_cast<double>(m2 / n);
  if (stat == "count") return n;
  if (stat == "sum") return static_cast<double>(sum);
  if (stat == "mean") return static_cast<double>(mean);
  if (stat == "variance") return variance;
  if (stat == "stdv") return std::sqrt(variance);
  if (stat == "skew") return pop > 0 ? static_cast<double>(m3 / n) / std::pow(pop, 1.5) : 0.0;
  if (stat == "kurtosis") return pop > 0 ? static_cast<double>(m4 / n) / (pop * pop) : 0.0;
  if (stat == "min") return x.empty() ? 0.0 : *std::min_element(x.begin(), x.end());
  if (stat == "max") return x.empty() ? 0.0 : *std::max_element(x.begin(), x.end());
  if (stat == "cardinality" || stat == "estimated_cardinality") {
    std::vector<Value> present;
    for (const Value& v : values) {
      if (!v.null()) present.push_back(v);
    }
    return static_cast<double>(Aggregate(Agg::kCountDistinct, [&] {
                                 std::vector<size_t> r(present.size());
                                 std::iota(r.begin(), r.end(), 0);
                                 return r;
                               }(),
                                         [&](size_t r) { return present[r]; }, nullptr, false)
                                   .i);
  }
  if (stat == "percentile") {
    if (x.empty()) return 0.0;
    std::vector<double> sorted = x;
    std::sort(sorted.begin(), sorted.end());
    const double rank = arg / 100.0 * (n - 1);
    const size_t lo = static_cast<size_t>(std::floor(rank));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - static_cast<double>(lo));
  }
  if (stat == "percentile_rank") {
    if (x.empty()) return 0.0;
    double below = 0;
    for (double v : x) below += v < arg;
    return 100.0 * below / n;
  }
  if (stat == "weighted_average") {
    long double wx = 0, w = 0;
    for (size_t r = 0; r < values.size(); ++r) {
      if (values[r].null() || (*weights)[r].null()) continue;
      wx += values[r].num() * (*weights)[r].num();
      w += (*weights)[r].num();
    }
    return w != 0 ? static_cast<double>(wx / w) : 0.0;
  }
  ADD_FAILURE() << "no reference for statistic " << stat;
  return 0;
}

// ---------------------------------------------------------------------------
// Date parts of ms since the epoch (UTC), through the C library.

inline int64_t DatePart(int64_t ms, const std::string& part) {
  const int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);  // floor
  const time_t t = static_cast<time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (part == "year") return tm.tm_year + 1900;
  if (part == "month") return tm.tm_mon + 1;
  if (part == "day") return tm.tm_mday;
  if (part == "hour") return tm.tm_hour;
  if (part == "minute") return tm.tm_min;
  return tm.tm_sec;
}

// ===========================================================================
// The test tables and the expressions the tests send.

// Every column type; nullable ones hold ~15% nulls.
inline const std::vector<ColumnSpec> kAllTypes = {
    {"id", "long", false},   {"g", "int", false},      {"i", "int", true},      {"l", "long", false},
    {"f", "float", true},    {"d", "double", true},    {"s", "string", true},   {"b", "bytes", true},
    {"i8", "int8", false},   {"i16", "int16", true},   {"bo", "boolean", false}, {"ts", "timestamp", true},
    {"c", "char16", false}};

// Strings with shared prefixes, empty strings and bytes above 0x7f.
inline const std::vector<std::string> kStrings = {"", "a", "ab", "abc", "abd", "abcd", "b",   "ba",
                                                  "é", "éa", "zz", "A", "a b", "it's", "ab%", "_"};
inline const std::vector<std::string> kChars = {"",  "x", "xy", "xyz", "xya", "y", "abcdefghijklmnop", "abcdefghijklmno",
                                                "Xy", "XY"};
inline const std::vector<std::string> kBytes = {std::string(),  std::string("\0", 1), std::string("\0\x01", 2),
                                                "a",            "\x7f",               "\x80",
                                                "\xff",         std::string("\xff\0", 2), "a\x80\xff"};

inline Table AllTypes(uint64_t seed, size_t n, int groups = 5) {
  std::mt19937_64 rng(seed);
  auto uniform = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  auto null = [&] { return uniform(0, 99) < 15; };
  Table t;
  t.columns = kAllTypes;
  for (size_t r = 0; r < n; ++r) {
    std::vector<Value> row;
    row.push_back(Value::Int(static_cast<int64_t>(r)));
    row.push_back(Value::Int(uniform(0, groups - 1)));
    row.push_back(null() ? Value() : Value::Int(uniform(-50, 50)));
    row.push_back(Value::Int(uniform(-1'000'000'000'000, 1'000'000'000'000)));
    row.push_back(null() ? Value() : Value::Float(static_cast<float>(uniform(-40, 40)) * 0.25f));
    if (null()) {
      row.push_back(Value());
    } else {
      const int64_t k = uniform(0, 99);
      row.push_back(Value::Float(k < 3 ? -0.0 : k < 6 ? 0.0 : std::uniform_real_distribution<double>(-1000, 1000)(rng)));
    }
    if (null()) {
      row.push_back(Value());
    } else {
      std::string s = kStrings[uniform(0, kStrings.size() - 1)];
      if (uniform(0, 3) == 0) s += static_cast<char>('a' + uniform(0, 2));
      row.push_back(Value::Str(s));
    }
    row.push_back(null() ? Value() : Value::Str(kBytes[uniform(0, kBytes.size() - 1)]));
    row.push_back(Value::Int(uniform(-128, 127)));
    row.push_back(null() ? Value() : Value::Int(uniform(-300, 300)));
    row.push_back(Value::Int(uniform(0, 1)));
    row.push_back(null() ? Value() : Value::Int(uniform(-2'000'000'000'000, 3'000'000'000'000)));
    row.push_back(Value::Str(kChars[uniform(0, kChars.size() - 1)]));
    t.rows.push_back(std::move(row));
  }
  return t;
}

inline std::vector<size_t> AllRows(const Table& t) {
  std::vector<size_t> rows(t.size());
  for (size_t r = 0; r < rows.size(); ++r) rows[r] = r;
  return rows;
}

// ---------------------------------------------------------------------------
// Expressions the tests send, with their meaning computed here.

struct Computed {
  Expr expr;
  std::string datatype;  // column_datatypes of the value
  bool nullable = true;
};

inline std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}
inline std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
// substr(s, start, len), 1-based, clipped.
inline std::string Substr(const std::string& s, int64_t start, int64_t len) {
  int64_t begin = start - 1, end = start - 1 + len;
  begin = std::max<int64_t>(0, begin);
  end = std::min<int64_t>(static_cast<int64_t>(s.size()), end);
  return begin >= end ? std::string() : s.substr(begin, end - begin);
}
// SQL like with % and _.
inline bool Like(const std::string& s, const std::string& p) {
  std::function<bool(size_t, size_t)> match = [&](size_t i, size_t j) -> bool {
    if (j == p.size()) return i == s.size();
    if (p[j] == '%') {
      for (size_t k = i; k <= s.size(); ++k) {
        if (match(k, j + 1)) return true;
      }
      return false;
    }
    if (i < s.size() && (p[j] == '_' || p[j] == s[i])) return match(i + 1, j + 1);
    return false;
  };
  return match(0, 0);
}

// The value of `text` (a column or one of the expressions below) per row of t.
inline Computed Eval(const Table& t, const std::string& text) {
  if (const int c = t.Find(text); c >= 0) {
    return Computed{[&t, c](size_t r) { return t.rows[r][c]; }, t.columns[c].type, t.columns[c].nullable};
  }
  auto col = [&t](const std::string& name) {
    const int c = t.Find(name);
    EXPECT_GE(c, 0) << name;
    return [&t, c](size_t r) -> const Value& { return t.rows[r][c]; };
  };
  const auto i = col("i"), g = col("g"), s = col("s"), c = col("c"), ts = col("ts"), f = col("f"), d = col("d"),
             l = col("l"), i8 = col("i8"), i16 = col("i16"), bo = col("bo");
  auto L = [](int64_t v) { return Value::Int(v); };
  auto D = [](double v) { return Value::Float(v); };
  auto S = [](std::string v) { return Value::Str(std::move(v)); };
  static const std::map<std::string, std::string> kDateParts = {
      {"year(ts)", "year"}, {"month(ts)", "month"},   {"day(ts)", "day"},
      {"hour(ts)", "hour"}, {"minute(ts)", "minute"}, {"sec(ts)", "sec"}};
  if (auto it = kDateParts.find(text); it != kDateParts.end()) {
    const std::string part = it->second;
    return {[=](size_t r) { return ts(r).null() ? Value() : L(DatePart(ts(r).i, part)); }, "long"};
  }
  if (text == "i % 7") return {[=](size_t r) { return i(r).null() ? Value() : L(i(r).i % 7); }, "long"};
  if (text == "g * 2 + 1") return {[=](size_t r) { return L(g(r).i * 2 + 1); }, "long"};
  if (text == "i * 2 + 1") return {[=](size_t r) { return i(r).null() ? Value() : L(i(r).i * 2 + 1); }, "long"};
  if (text == "substr(s, 1, 1)") return {[=](size_t r) { return s(r).null() ? Value() : S(Substr(s(r).s, 1, 1)); }, "string"};
  if (text == "substr(s, 1, 2)") return {[=](size_t r) { return s(r).null() ? Value() : S(Substr(s(r).s, 1, 2)); }, "string"};
  if (text == "substr(c, 2, 3)") return {[=](size_t r) { return S(Substr(c(r).s, 2, 3)); }, "string"};
  if (text == "lower(c)") return {[=](size_t r) { return S(Lower(c(r).s)); }, "string"};
  if (text == "upper(s)") return {[=](size_t r) { return s(r).null() ? Value() : S(Upper(s(r).s)); }, "string"};
  if (text == "length(s)") return {[=](size_t r) { return s(r).null() ? Value() : L(s(r).s.size()); }, "long"};
  if (text == "f * 2") return {[=](size_t r) { return f(r).null() ? Value() : D(f(r).f * 2); }, "double"};
  if (text == "d / 2") return {[=](size_t r) { return d(r).null() ? Value() : D(d(r).f / 2); }, "double"};
  if (text == "i + 0.5") return {[=](size_t r) { return i(r).null() ? Value() : D(i(r).i + 0.5); }, "double"};
  if (text == "if(i > 0, 'pos', 'neg')") {
    return {[=](size_t r) { return S(!i(r).null() && i(r).i > 0 ? "pos" : "neg"); }, "string"};
  }
  if (text == "ifnull(i, -1)") return {[=](size_t r) { return L(i(r).null() ? -1 : i(r).i); }, "long"};
  if (text == "coalesce(s, c)") return {[=](size_t r) { return S(s(r).null() ? c(r).s : s(r).s); }, "string"};
  if (text == "is_null(d)") return {[=](size_t r) { return L(d(r).null() ? 1 : 0); }, "long"};
  if (text == "abs(i)") return {[=](size_t r) { return i(r).null() ? Value() : L(std::llabs(i(r).i)); }, "long"};
  if (text == "floor(f)") return {[=](size_t r) { return f(r).null() ? Value() : D(std::floor(f(r).f)); }, "double"};
  if (text == "round(d)") return {[=](size_t r) { return d(r).null() ? Value() : D(std::round(d(r).f)); }, "double"};
  if (text == "sqrt(abs(d))") return {[=](size_t r) { return d(r).null() ? Value() : D(std::sqrt(std::fabs(d(r).f))); }, "double"};
  if (text == "greatest(i, i16)" || text == "least(i, i16)") {
    const bool greatest = text[0] == 'g';
    return {[=](size_t r) {
              if (i(r).null() && i16(r).null()) return Value();
              if (i(r).null()) return L(i16(r).i);
              if (i16(r).null()) return L(i(r).i);
              return L(greatest ? std::max(i(r).i, i16(r).i) : std::min(i(r).i, i16(r).i));
            },
            "long"};
  }
  if (text == "s like 'ab%'") return {[=](size_t r) { return s(r).null() ? Value() : L(Like(s(r).s, "ab%")); }, "long"};
  if (text == "g in (1, 3)") return {[=](size_t r) { return L(g(r).i == 1 || g(r).i == 3); }, "long"};
  if (text == "i between -10 and 10") {
    return {[=](size_t r) { return i(r).null() ? Value() : L(i(r).i >= -10 && i(r).i <= 10); }, "long"};
  }
  if (text == "i / 0") return {[](size_t) { return Value(); }, "long"};
  if (text == "l / 1000") return {[=](size_t r) { return L(l(r).i / 1000); }, "long"};
  if (text == "nullif(g, 2)") return {[=](size_t r) { return g(r).i == 2 ? Value() : L(g(r).i); }, "long"};
  if (text == "d * 2 + i") {
    return {[=](size_t r) { return d(r).null() || i(r).null() ? Value() : D(d(r).f * 2 + i(r).i); }, "double"};
  }
  if (text == "mod(i8, 5)") return {[=](size_t r) { return L(i8(r).i % 5); }, "long"};
  if (text == "pow(g, 2)") return {[=](size_t r) { return D(std::pow(g(r).i, 2)); }, "double"};
  if (text == "bo * 10 + g") return {[=](size_t r) { return L(bo(r).i * 10 + g(r).i); }, "long"};
  ADD_FAILURE() << "no reference for expression '" << text << "'";
  return {[](size_t) { return Value(); }, "long"};
}

// "expr as alias" → {expr, alias}.
inline std::pair<std::string, std::string> SplitAs(const std::string& text) {
  const size_t at = text.rfind(" as ");
  if (at == std::string::npos) return {text, ""};
  return {text.substr(0, at), text.substr(at + 4)};
}

// The columns /get/records/bycolumn answers for `names` (columns or
// expressions, "expr as alias") over `rows` of `t`, in that order: computed
// columns are nullable, and computed doubles compare approximately.
inline std::vector<ExpectedColumn> ReferenceByColumn(const Table& t, const std::vector<std::string>& names,
                                                     const std::vector<size_t>& rows) {
  std::vector<ExpectedColumn> want;
  for (const std::string& name : names) {
    const auto [expr, alias] = SplitAs(name);
    const Computed v = Eval(t, expr);
    ExpectedColumn col;
    col.header = alias.empty() ? expr : alias;
    col.datatype = v.datatype;
    col.nullable = t.Find(expr) >= 0 ? v.nullable : true;
    col.approx = col.datatype == "double" && t.Find(expr) < 0;
    for (size_t r : rows) col.values.push_back(v.expr(r));
    want.push_back(std::move(col));
  }
  return want;
}

// A group-by entry: an aggregate call, or nothing.
inline bool ParseCall(const std::string& expr, Agg* kind, std::vector<std::string>* args) {
  static const std::map<std::string, Agg> kAggs = {
      {"count", Agg::kCount},          {"sum", Agg::kSum},          {"min", Agg::kMin},
      {"max", Agg::kMax},              {"avg", Agg::kMean},         {"mean", Agg::kMean},
      {"stddev", Agg::kStdPop},        {"stddev_pop", Agg::kStdPop}, {"stddev_samp", Agg::kStdSamp},
      {"var", Agg::kVarPop},           {"var_pop", Agg::kVarPop},   {"var_samp", Agg::kVarSamp},
      {"count_distinct", Agg::kCountDistinct}, {"arg_min", Agg::kArgMin}, {"arg_max", Agg::kArgMax}};
  const size_t open = expr.find('(');
  if (open == std::string::npos || expr.back() != ')') return false;
  auto it = kAggs.find(expr.substr(0, open));
  if (it == kAggs.end()) return false;
  *kind = it->second;
  const std::string inner = expr.substr(open + 1, expr.size() - open - 2);
  args->clear();
  if (*kind == Agg::kArgMin || *kind == Agg::kArgMax) {
    const size_t comma = inner.find(", ");
    args->push_back(inner.substr(0, comma));
    args->push_back(inner.substr(comma + 2));
  } else {
    args->push_back(inner);
  }
  if (*kind == Agg::kCount && inner == "*") *kind = Agg::kCountStar;
  return true;
}

// The reference result of a group-by of `rows` (already filtered) by
// `names` (keys and aggregates, in order), in ascending key order.
inline std::vector<ExpectedColumn> ReferenceGroupBy(const Table& t, const std::vector<std::string>& names,
                                                  const std::vector<size_t>& rows) {
  std::vector<Expr> keys;
  for (const std::string& name : names) {
    Agg kind;
    std::vector<std::string> args;
    if (!ParseCall(SplitAs(name).first, &kind, &args)) keys.push_back(Eval(t, SplitAs(name).first).expr);
  }
  std::vector<Group> groups = GroupRows(rows, keys);
  if (keys.empty() && groups.empty()) groups.push_back(Group{{}, {}});  // aggregates over no rows: one row
  std::vector<ExpectedColumn> out;
  size_t key = 0;
  for (const std::string& name : names) {
    const auto [expr, alias] = SplitAs(name);
    ExpectedColumn col;
    col.header = alias.empty() ? expr : alias;
    Agg kind;
    std::vector<std::string> args;
    if (!ParseCall(expr, &kind, &args)) {
      const Computed k = Eval(t, expr);
      col.datatype = k.datatype;
      col.nullable = k.nullable;
      for (const Group& grp : groups) col.values.push_back(grp.key[key]);
      ++key;
      out.push_back(std::move(col));
      continue;
    }
    Computed value{[](size_t) { return Value(); }, "long", false};
    if (kind != Agg::kCountStar) value = Eval(t, args[0]);
    Computed target = value;
    if (args.size() > 1) target = Eval(t, args[1]);
    switch (kind) {
      case Agg::kCountStar:
      case Agg::kCount:
      case Agg::kCountDistinct:
        col.datatype = "long";
        col.nullable = false;
        break;
      case Agg::kSum:
        col.datatype = IsIntegerType(value.datatype) ? "long" : "double";
        col.approx = col.datatype == "double";
        break;
      case Agg::kMin:
      case Agg::kMax: col.datatype = value.datatype; break;
      case Agg::kArgMin:
      case Agg::kArgMax: col.datatype = target.datatype; break;
      default:
        col.datatype = "double";
        col.approx = true;
    }
    const bool integer = IsIntegerType(value.datatype);
    for (const Group& grp : groups) {
      col.values.push_back(Aggregate(kind, grp.rows, value.expr, target.expr, integer));
    }
    out.push_back(std::move(col));
  }
  return out;
}

// Keeps the rows `keep` of every column, in that order.
inline void KeepRows(std::vector<ExpectedColumn>* cols, const std::vector<size_t>& keep) {
  for (ExpectedColumn& c : *cols) {
    std::vector<Value> values;
    for (size_t r : keep) values.push_back(c.values[r]);
    c.values = std::move(values);
  }
}

inline size_t Rows(const std::vector<ExpectedColumn>& cols) { return cols.empty() ? 0 : cols[0].values.size(); }

inline std::vector<size_t> Iota(size_t n) {
  std::vector<size_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

// Orders result rows by (column index, descending) keys, stably.
inline void OrderResult(std::vector<ExpectedColumn>* cols, const std::vector<std::pair<Expr, bool>>& keys) {
  std::vector<SortKey> sort_keys;
  for (const auto& [expr, desc] : keys) sort_keys.push_back({expr, desc});
  KeepRows(cols, StableSort(Iota(Rows(*cols)), sort_keys));
}

inline Expr ResultColumn(const std::vector<ExpectedColumn>* cols, size_t k) {
  return [cols, k](size_t r) { return (*cols)[k].values[r]; };
}

// Rows where `pred` holds.
inline std::vector<size_t> Where(const Table& t, const std::function<bool(const std::vector<Value>&)>& pred) {
  std::vector<size_t> rows;
  for (size_t r = 0; r < t.size(); ++r) {
    if (pred(t.rows[r])) rows.push_back(r);
  }
  return rows;
}

inline std::string Describe(const std::vector<std::string>& names, const OJson& options) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return "[" + out + "] " + options.dump();
}


}  // namespace analytics_ref
