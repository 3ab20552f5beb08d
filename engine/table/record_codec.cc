#include "engine/table/record_codec.h"

#include "engine/table/dates.h"
#include "engine/table/subtypes.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "engine/api/avro.h"
#include "engine/api/schema.h"

namespace engine {
namespace {

using kernels::PhysType;

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

// Appends a string value, applying the charN width (a date: its day), once
// it has its subtype's form (subtypes.h).
absl::Status AppendText(const ColumnDef& def, absl::string_view v, const DecodeOptions& options,
                        HostColumn* column) {
  if (absl::Status s = CheckSubtype(StringSubtype(def), v); !s.ok()) return s;
  if (def.kind == ColumnKind::kDate) {
    const std::optional<int32_t> day = ParseDate(v);
    if (!day) return absl::InvalidArgumentError(absl::StrCat("'", v, "' is not a date (YYYY-MM-DD)"));
    column->AppendInt(*day);
    return absl::OkStatus();
  }
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
    case ColumnKind::kCharN:
    case ColumnKind::kDate: {
      absl::string_view v;
      if (absl::Status s = in.Bytes(&v); !s.ok()) return s;
      return AppendText(def, v, options, column);
    }
  }
  return absl::InternalError("unknown column kind");
}

// A float as its shortest decimal form, so 0.1f prints as 0.1.
double ShortestFloat(float f) {
  if (!std::isfinite(f)) return f;
  char buf[32];
  auto result = std::to_chars(buf, buf + sizeof(buf), f);
  *result.ptr = '\0';
  return std::strtod(buf, nullptr);
}

// A varint-encoded Avro long at *p, advanced past it, with AvroReader::Long's
// rules: at most 10 bytes, the tenth 0 or 1 (bit 63). False when malformed
// or cut short. Inline, so that the decoding loop keeps *p in a register.
inline bool ReadLong(const uint8_t** p, const uint8_t* end, int64_t* v) {
  const uint8_t* q = *p;
  uint64_t z = 0;
  for (int shift = 0; shift < 63; shift += 7) {
    if (q == end) return false;
    const uint8_t b = *q++;
    z |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (b < 0x80) {
      *v = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
      *p = q;
      return true;
    }
  }
  if (q == end || *q > 1) return false;
  z |= static_cast<uint64_t>(*q++) << 63;
  *v = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
  *p = q;
  return true;
}

// One column of a chunk being decoded: its storage grown for the chunk's
// rows up front, written row by row in place, trimmed by Close. Reads
// accept exactly what DecodeAvroValue accepts.
class ColumnSink {
 public:
  // Sizes `column` for `rows` more rows whose strings take at most `bytes`.
  static ColumnSink Open(const ColumnDef& def, size_t rows, size_t bytes, HostColumn* column) {
    ColumnSink sink;
    sink.nullable_ = def.nullable;
    sink.width_ = static_cast<size_t>(def.char_width);
    const IntRange range = RangeOf(def.kind);
    sink.min_ = range.min;
    sink.max_ = range.max;
    sink.type_ = def.phys();
    sink.date_ = def.kind == ColumnKind::kDate;
    sink.subtype_ = StringSubtype(def);
    if (sink.nullable_) {
      column->validity.resize(column->validity.size() + rows, 1);
      sink.validity_ = column->validity.data() + column->validity.size() - rows;
    }
    if (sink.type_ == PhysType::kVarChars) {
      sink.chars_ = column->data.size();
      column->data.resize(sink.chars_ + bytes);
      column->offsets.resize(column->offsets.size() + rows);
      sink.offsets_ = column->offsets.data() + column->offsets.size() - rows;  // row r ends at offsets_[r]
    } else {
      const size_t w = static_cast<size_t>(kernels::ValueWidth(def.phys(), def.char_width));
      column->data.resize(column->data.size() + rows * w, '\0');
      sink.values_ = column->data.data() + column->data.size() - rows * w;
    }
    sink.data_ = column->data.data();
    sink.rows_ = rows;
    return sink;
  }

  // Reads row `r`'s value at *p (advanced past it). False when the value is
  // malformed or refused.
  bool Read(size_t r, const uint8_t** p, const uint8_t* end, const DecodeOptions& options) {
    if (nullable_) {
      int64_t branch = 0;
      if (!ReadLong(p, end, &branch) || branch < 0 || branch > 1) return false;
      if (branch == 1) {  // null: a zero value, or an empty string
        validity_[r] = 0;
        if (type_ == PhysType::kVarChars) offsets_[r] = static_cast<int64_t>(chars_);
        return true;
      }
    }
    int64_t v = 0;
    if (date_) {  // a string on the wire (YYYY-MM-DD), its day in the column
      if (!ReadLong(p, end, &v) || v < 0 || v > end - *p) return false;
      const std::optional<int32_t> day =
          ParseDate(absl::string_view(reinterpret_cast<const char*>(*p), static_cast<size_t>(v)));
      if (!day) return false;
      *p += v;
      std::memcpy(values_ + r * 4, &*day, 4);
      return true;
    }
    switch (type_) {
      case PhysType::kInt8:
      case PhysType::kInt16:
      case PhysType::kInt32:
        // Avro int: 32 bits, then the column's own range.
        if (!ReadLong(p, end, &v) || v < INT32_MIN || v > INT32_MAX || v < min_ || v > max_) return false;
        if (type_ == PhysType::kInt8) {
          values_[r] = static_cast<char>(v);
        } else if (type_ == PhysType::kInt16) {
          const int16_t x = static_cast<int16_t>(v);
          std::memcpy(values_ + r * 2, &x, 2);
        } else {
          const int32_t x = static_cast<int32_t>(v);
          std::memcpy(values_ + r * 4, &x, 4);
        }
        return true;
      case PhysType::kInt64:
        if (!ReadLong(p, end, &v)) return false;
        std::memcpy(values_ + r * 8, &v, 8);
        return true;
      case PhysType::kFloat32: {
        if (end - *p < 4) return false;
        uint32_t bits;
        std::memcpy(&bits, *p, 4);
        // A signalling NaN comes out quiet, as through AppendFloat's double.
        if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu) != 0) bits |= 0x00400000u;
        std::memcpy(values_ + r * 4, &bits, 4);
        *p += 4;
        return true;
      }
      case PhysType::kFloat64:
        if (end - *p < 8) return false;
        std::memcpy(values_ + r * 8, *p, 8);
        *p += 8;
        return true;
      case PhysType::kFixedChars:
      case PhysType::kVarChars: {
        if (!ReadLong(p, end, &v) || v < 0 || v > end - *p) return false;
        const char* text = reinterpret_cast<const char*>(*p);
        size_t n = static_cast<size_t>(v);
        *p += n;
        if (type_ == PhysType::kVarChars) {
          if (!subtype_.empty() && !CheckSubtype(subtype_, absl::string_view(text, n)).ok()) return false;
          std::memcpy(data_ + chars_, text, n);
          chars_ += n;
          offsets_[r] = static_cast<int64_t>(chars_);
          return true;
        }
        if (n > width_) {  // as AppendText: refuse, or cut at a character boundary
          if (!options.truncate_strings) return false;
          n = width_;
          while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
        }
        std::memcpy(values_ + r * width_, text, n);
        return true;
      }
    }
    return false;
  }

  // Trims the column to the rows written.
  void Close(HostColumn* column) const {
    if (type_ == PhysType::kVarChars) column->data.resize(chars_);
    column->size += static_cast<int64_t>(rows_);
  }

 private:
  PhysType type_ = PhysType::kInt64;
  bool nullable_ = false;
  bool date_ = false;  // ColumnKind::kDate: int32 days, read from a string
  absl::string_view subtype_;  // StringSubtype: values checked
  size_t width_ = 0;  // kFixedChars
  int64_t min_ = 0, max_ = 0;
  char* values_ = nullptr;       // fixed widths: the chunk's first value
  char* data_ = nullptr;         // kVarChars: the characters
  size_t chars_ = 0;             // kVarChars: characters used
  int64_t* offsets_ = nullptr;   // kVarChars: the end of the chunk's row r
  uint8_t* validity_ = nullptr;  // nullable: the chunk's first row's
  size_t rows_ = 0;
};

}  // namespace

absl::Status DecodeJsonValue(const ColumnDef& def, const DecodeOptions& options, const Json& v, HostColumn* column) {
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
    } else if (v.is_string() && def.kind == ColumnKind::kTimestamp) {
      const std::optional<int64_t> ms = ParseTimestamp(v.get_ref<const std::string&>());
      if (!ms) {
        return absl::InvalidArgumentError(absl::StrCat("'",
                                                       absl::string_view(v.get_ref<const std::string&>()).substr(0, 64),
                                                       "' is not a timestamp (YYYY-MM-DD HH:MM:SS.mmm, or ms)"));
      }
      x = *ms;
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

std::vector<HostColumn> MakeHostColumns(const TableType& type) {
  std::vector<HostColumn> columns;
  columns.reserve(type.size());
  for (const ColumnDef& c : type.columns()) columns.emplace_back(c.phys(), c.char_width, c.nullable);
  return columns;
}

absl::Status DecodeAvroRecord(const TableType& type, const DecodeOptions& options, size_t index,
                              absl::string_view bytes, std::vector<HostColumn>* columns) {
  AvroReader in(bytes);
  for (size_t c = 0; c < type.size(); ++c) {
    if (absl::Status s = DecodeAvroValue(type.column(c), options, in, &(*columns)[c]); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("list[", index, "]: column '", type.column(c).name, "': ", s.message()));
    }
  }
  if (!in.at_end()) {
    return absl::InvalidArgumentError(absl::StrCat("list[", index, "]: ", in.remaining(),
                                                   " bytes left after the last column"));
  }
  return absl::OkStatus();
}

absl::Status DecodeAvroRecords(const TableType& type, const Json& records,
                               const DecodeOptions& options, std::vector<HostColumn>* columns,
                               size_t begin, size_t end) {
  AvroRecordsDecoder decoder(type, records, options);
  if (absl::Status s = decoder.Skip(begin); !s.ok()) return s;
  return decoder.Next(end - std::min(end, begin), columns);
}

AvroRecordsDecoder::AvroRecordsDecoder(const TableType& type, const Json& records, const DecodeOptions& options)
    : type_(type), options_(options), records_(records) {}

absl::Status AvroRecordsDecoder::Skip(size_t n) {
  if (absl::Status s = records_.Skip(n); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("list[", records_.index(), "]: ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status AvroRecordsDecoder::Failed(size_t index, absl::string_view record) const {
  std::vector<HostColumn> scratch = MakeHostColumns(type_);
  if (absl::Status s = DecodeAvroRecord(type_, options_, index, record, &scratch); !s.ok()) return s;
  return absl::InternalError(absl::StrCat("list[", index, "]: refused by the decoding loop but not by the reference"));
}

absl::Status AvroRecordsDecoder::Next(size_t n, std::vector<HostColumn>* columns) {
  // The chunk's records, and the most bytes their strings can take.
  n = std::min(n, records_.size() - records_.index());
  const size_t first = records_.index();
  chunk_.resize(n);
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i) {
    if (absl::Status s = records_.Next(&chunk_[i]); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("list[", first + i, "]: ", s.message()));
    }
    bytes += chunk_[i].size();
  }
  // Every column sized for the chunk at once; the loop writes in place.
  std::vector<ColumnSink> sinks;
  sinks.reserve(type_.size());
  for (size_t c = 0; c < type_.size(); ++c) sinks.push_back(ColumnSink::Open(type_.column(c), n, bytes, &(*columns)[c]));
  for (size_t r = 0; r < n; ++r) {
    const uint8_t* p = reinterpret_cast<const uint8_t*>(chunk_[r].data());
    const uint8_t* const end = p + chunk_[r].size();
    bool ok = true;
    for (size_t c = 0; c < sinks.size() && ok; ++c) ok = sinks[c].Read(r, &p, end, options_);
    if (!ok || p != end) return Failed(first + r, chunk_[r]);
  }
  for (size_t c = 0; c < type_.size(); ++c) sinks[c].Close(&(*columns)[c]);
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
    absl::StatusOr<Json> parsed = ParseJson(text);
    if (!parsed.ok()) return absl::InvalidArgumentError(absl::StrCat("list_str[", i, "]: ", parsed.status().message()));
    const Json& record = *parsed;
    if (!record.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat("list_str[", i, "]: not a JSON object"));
    }
    // Each column's member: the next one when the record lists the columns
    // in the type's order (as clients write them), else looked up: through
    // an index for a record of many members (ordered_json's find compares
    // every key).
    size_t matched = 0;
    auto next = record.begin();
    absl::flat_hash_map<absl::string_view, const Json*> index;
    for (size_t c = 0; c < type.size(); ++c) {
      const ColumnDef& def = type.column(c);
      const Json* found = nullptr;
      if (next != record.end() && next.key() == def.name) {
        found = &*next;
        ++next;
      } else if (record.size() <= 16) {
        auto it = record.find(def.name);
        if (it != record.end()) found = &*it;
      } else {
        if (index.empty()) {
          index.reserve(record.size());
          for (auto it = record.begin(); it != record.end(); ++it) index.emplace(it.key(), &*it);
        }
        auto it = index.find(def.name);
        if (it != index.end()) found = it->second;
      }
      const Json& value = found == nullptr ? kNull : *found;
      if (found != nullptr) ++matched;
      if (found == nullptr && !def.nullable) {
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
      case ColumnKind::kDate:
        w.Bytes(FormatDate(col.IntAt(row)));
        break;
    }
  }
  return out;
}

Json ValueToJson(const ColumnDef& def, const HostColumn& column, int64_t row) {
  if (!column.IsValid(row)) return nullptr;
  if (def.is_integer()) return column.IntAt(row);
  if (def.kind == ColumnKind::kDate) return FormatDate(column.IntAt(row));
  if (def.kind == ColumnKind::kFloat) return ShortestFloat(static_cast<float>(column.FloatAt(row)));
  if (def.kind == ColumnKind::kDouble) return column.FloatAt(row);
  const absl::string_view s = column.StringAt(row);
  if (def.kind == ColumnKind::kBytes) return Json::binary(std::vector<uint8_t>(s.begin(), s.end()));
  return std::string(s);
}

Json RecordToJson(const TableType& type, const std::vector<HostColumn>& columns, int64_t row) {
  Json out = Json::object();
  out.get_ref<Json::object_t&>().reserve(type.size());
  for (size_t c = 0; c < type.size(); ++c)
    AppendMember(out, type.column(c).name, ValueToJson(type.column(c), columns[c], row));
  return out;
}

}  // namespace engine
