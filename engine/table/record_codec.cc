#include "engine/table/record_codec.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "engine/api/schema.h"
#include "engine/api/avro.h"

namespace engine {
namespace {

struct IntRange {
  int64_t min;
  int64_t max;
};

IntRange RangeOf(ColumnKind kind) {
  switch (kind) {
    case ColumnKind::kInt8: return {-128, 127};
    case ColumnKind::kInt16: return {-32768, 32767};
    case ColumnKind::kBoolean: return {0, 1};
    case ColumnKind::kInt: return {INT32_MIN, INT32_MAX};
    default: return {INT64_MIN, INT64_MAX};
  }
}

absl::Status CheckInt(const ColumnDef& def, int64_t v) {
  const IntRange r = RangeOf(def.kind);
  if (v < r.min || v > r.max) {
    return absl::InvalidArgumentError(
        absl::StrCat("value ", v, " is out of range for ", def.type_name(), " [", r.min, ", ", r.max, "]"));
  }
  return absl::OkStatus();
}

// Appends a string value, applying the charN width.
absl::Status AppendText(const ColumnDef& def, absl::string_view v, const DecodeOptions& options,
                        HostColumn* column) {
  if (def.kind == ColumnKind::kCharN && v.size() > static_cast<size_t>(def.char_width)) {
    if (!options.truncate_strings) {
      return absl::InvalidArgumentError(absl::StrCat("string of ", v.size(), " bytes is longer than ",
                                                     def.type_name(), " allows"));
    }
    size_t cut = def.char_width;
    // Cut at a character boundary: never inside a UTF-8 sequence.
    while (cut > 0 && (static_cast<unsigned char>(v[cut]) & 0xC0) == 0x80) --cut;
    v = v.substr(0, cut);
  }
  column->AppendString(v);
  return absl::OkStatus();
}

absl::Status DecodeAvroValue(const ColumnDef& def, const DecodeOptions& options, AvroReader& in,
                             HostColumn* column) {
  if (def.nullable) {
    int64_t branch = 0;
    if (absl::Status s = in.UnionIndex(2, &branch); !s.ok()) return s;
    if (branch == 1) {
      column->AppendNull();
      return absl::OkStatus();
    }
  }
  switch (def.kind) {
    case ColumnKind::kInt:
    case ColumnKind::kInt8:
    case ColumnKind::kInt16:
    case ColumnKind::kBoolean: {
      int32_t v = 0;
      if (absl::Status s = in.Int(&v); !s.ok()) return s;
      if (absl::Status s = CheckInt(def, v); !s.ok()) return s;
      column->AppendInt(v);
      return absl::OkStatus();
    }
    case ColumnKind::kLong:
    case ColumnKind::kTimestamp: {
      int64_t v = 0;
      if (absl::Status s = in.Long(&v); !s.ok()) return s;
      column->AppendInt(v);
      return absl::OkStatus();
    }
    case ColumnKind::kFloat: {
      float v = 0;
      if (absl::Status s = in.Float(&v); !s.ok()) return s;
      column->AppendFloat(v);
      return absl::OkStatus();
    }
    case ColumnKind::kDouble: {
      double v = 0;
      if (absl::Status s = in.Double(&v); !s.ok()) return s;
      column->AppendFloat(v);
      return absl::OkStatus();
    }
    case ColumnKind::kString:
    case ColumnKind::kBytes:
    case ColumnKind::kCharN: {
      absl::string_view v;
      if (absl::Status s = in.Bytes(&v); !s.ok()) return s;
      return AppendText(def, v, options, column);
    }
  }
  return absl::InternalError("unknown column kind");
}

absl::Status DecodeJsonValue(const ColumnDef& def, const DecodeOptions& options, const Json& v,
                             HostColumn* column) {
  if (v.is_null()) {
    if (!def.nullable) return absl::InvalidArgumentError("null in a column that is not nullable");
    column->AppendNull();
    return absl::OkStatus();
  }
  auto mismatch = [&](const char* expected) {
    return absl::InvalidArgumentError(absl::StrCat("expected ", expected, ", got ", JsonTypeName(v)));
  };
  if (def.is_integer()) {
    int64_t x = 0;
    if (v.is_boolean() && def.kind == ColumnKind::kBoolean) {
      x = v.get<bool>() ? 1 : 0;
    } else if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      // Checked first: is_number_integer() is also true for unsigned values,
      // and get<int64_t>() would wrap them.
      return absl::InvalidArgumentError(absl::StrCat("value ", v.dump(), " is out of range for ", def.type_name()));
    } else if (v.is_number_integer()) {
      x = v.get<int64_t>();
    } else if (v.is_number_float() && std::nearbyint(v.get<double>()) == v.get<double>() &&
               std::fabs(v.get<double>()) < 9.2e18) {
      x = static_cast<int64_t>(v.get<double>());
    } else {
      return mismatch(def.kind == ColumnKind::kBoolean ? "boolean" : "integer");
    }
    if (absl::Status s = CheckInt(def, x); !s.ok()) return s;
    column->AppendInt(x);
    return absl::OkStatus();
  }
  if (def.is_real()) {
    if (!v.is_number()) return mismatch("number");
    column->AppendFloat(v.get<double>());
    return absl::OkStatus();
  }
  if (v.is_binary() && def.kind == ColumnKind::kBytes) {
    const auto& b = v.get_binary();
    column->AppendString(absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
    return absl::OkStatus();
  }
  if (!v.is_string()) return mismatch("string");
  const std::string& s = v.get_ref<const std::string&>();
  if (def.kind == ColumnKind::kBytes) {
    std::string bytes;
    if (!FromCodePoints(s, &bytes)) return absl::InvalidArgumentError("bytes must be code points 0-255");
    column->AppendString(bytes);
    return absl::OkStatus();
  }
  return AppendText(def, s, options, column);
}

// A float as its shortest decimal form, so 0.1f prints as 0.1.
double ShortestFloat(float f) {
  if (!std::isfinite(f)) return f;
  char buf[32];
  auto result = std::to_chars(buf, buf + sizeof(buf), f);
  *result.ptr = '\0';
  return std::strtod(buf, nullptr);
}

}  // namespace

std::vector<HostColumn> MakeHostColumns(const TableType& type) {
  std::vector<HostColumn> columns;
  columns.reserve(type.size());
  for (const ColumnDef& c : type.columns()) columns.emplace_back(c.phys(), c.char_width, c.nullable);
  return columns;
}

absl::Status DecodeAvroRecords(const TableType& type, const Json& records,
                               const DecodeOptions& options, std::vector<HostColumn>* columns,
                               size_t begin, size_t end) {
  for (size_t i = begin; i < std::min(end, records.size()); ++i) {
    const Json& record = records[i];
    if (!record.is_binary()) {
      return absl::InvalidArgumentError(absl::StrCat("list[", i, "]: expected bytes"));
    }
    const auto& bytes = record.get_binary();
    AvroReader in(absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    for (size_t c = 0; c < type.size(); ++c) {
      if (absl::Status s = DecodeAvroValue(type.column(c), options, in, &(*columns)[c]); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("list[", i, "]: column '", type.column(c).name, "': ", s.message()));
      }
    }
    if (!in.at_end()) {
      return absl::InvalidArgumentError(absl::StrCat("list[", i, "]: ", in.remaining(),
                                                     " bytes left after the last column"));
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeJsonRecords(const TableType& type, const Json& records,
                               const DecodeOptions& options, std::vector<HostColumn>* columns,
                               size_t begin, size_t end) {
  static const Json kNull;
  for (size_t i = begin; i < std::min(end, records.size()); ++i) {
    if (!records[i].is_string()) {
      return absl::InvalidArgumentError(absl::StrCat("list_str[", i, "]: expected a JSON string"));
    }
    const std::string& text = records[i].get_ref<const std::string&>();
    const Json record = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (!record.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("list_str[", i, "]: not a JSON object"));
    }
    size_t matched = 0;
    for (size_t c = 0; c < type.size(); ++c) {
      const ColumnDef& def = type.column(c);
      auto it = record.find(def.name);
      const Json& value = it == record.end() ? kNull : *it;
      if (it != record.end()) ++matched;
      if (it == record.end() && !def.nullable) {
        return absl::InvalidArgumentError(
            absl::StrCat("list_str[", i, "]: column '", def.name, "' is missing"));
      }
      if (absl::Status s = DecodeJsonValue(def, options, value, &(*columns)[c]); !s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("list_str[", i, "]: column '", def.name, "': ", s.message()));
      }
    }
    if (matched != record.size()) {
      for (auto it = record.begin(); it != record.end(); ++it) {
        if (type.Find(it.key()) < 0) {
          return absl::InvalidArgumentError(
              absl::StrCat("list_str[", i, "]: unknown column '", it.key(), "'"));
        }
      }
    }
  }
  return absl::OkStatus();
}

std::string EncodeAvroRecord(const TableType& type, const std::vector<HostColumn>& columns, int64_t row) {
  std::string out;
  AvroWriter w(&out);
  for (size_t c = 0; c < type.size(); ++c) {
    const ColumnDef& def = type.column(c);
    const HostColumn& col = columns[c];
    if (def.nullable) {
      const bool valid = col.IsValid(row);
      w.UnionIndex(valid ? 0 : 1);
      if (!valid) continue;
    }
    switch (def.kind) {
      case ColumnKind::kInt:
      case ColumnKind::kInt8:
      case ColumnKind::kInt16:
      case ColumnKind::kBoolean: w.Int(static_cast<int32_t>(col.IntAt(row))); break;
      case ColumnKind::kLong:
      case ColumnKind::kTimestamp: w.Long(col.IntAt(row)); break;
      case ColumnKind::kFloat: w.Float(static_cast<float>(col.FloatAt(row))); break;
      case ColumnKind::kDouble: w.Double(col.FloatAt(row)); break;
      case ColumnKind::kString:
      case ColumnKind::kBytes:
      case ColumnKind::kCharN: w.Bytes(col.StringAt(row)); break;
    }
  }
  return out;
}

Json ValueToJson(const ColumnDef& def, const HostColumn& column, int64_t row) {
  if (!column.IsValid(row)) return nullptr;
  if (def.is_integer()) return column.IntAt(row);
  if (def.kind == ColumnKind::kFloat) return ShortestFloat(static_cast<float>(column.FloatAt(row)));
  if (def.kind == ColumnKind::kDouble) return column.FloatAt(row);
  const absl::string_view s = column.StringAt(row);
  if (def.kind == ColumnKind::kBytes) return Json::binary(std::vector<uint8_t>(s.begin(), s.end()));
  return std::string(s);
}

Json RecordToJson(const TableType& type, const std::vector<HostColumn>& columns, int64_t row) {
  Json out = Json::object();
  for (size_t c = 0; c < type.size(); ++c) out[type.column(c).name] = ValueToJson(type.column(c), columns[c], row);
  return out;
}

}  // namespace engine
