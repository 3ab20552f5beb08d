#include "engine/io/cells.h"

#include "engine/table/dates.h"
#include "engine/table/subtypes.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "arrow/type.h"
#include "arrow/util/value_parsing.h"

namespace engine::io::detail {
namespace {

using arrow::internal::ParseValue;

// What a value is shown as in an error: quoted, cut when long.
std::string Quote(absl::string_view text) {
  constexpr size_t kMax = 40;
  if (text.size() <= kMax) return absl::StrCat("'", text, "'");
  return absl::StrCat("'", text.substr(0, kMax), "...'");
}

absl::Status NotA(absl::string_view text, const ColumnDef& def) {
  return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not a valid ", def.type_name()));
}

// The range of an integer kind.
void IntRange(const ColumnDef& def, int64_t* lo, int64_t* hi) {
  switch (def.kind) {
    case ColumnKind::kInt8:
      *lo = INT8_MIN;
      *hi = INT8_MAX;
      return;
    case ColumnKind::kInt16:
      *lo = INT16_MIN;
      *hi = INT16_MAX;
      return;
    case ColumnKind::kInt:
      *lo = INT32_MIN;
      *hi = INT32_MAX;
      return;
    case ColumnKind::kBoolean:
      *lo = 0;
      *hi = 1;
      return;
    default:
      *lo = INT64_MIN;
      *hi = INT64_MAX;
      return;
  }
}

bool ParseBool(absl::string_view text, int64_t* out) {
  if (text == "1" || text == "true" || text == "True" || text == "TRUE") {
    *out = 1;
    return true;
  }
  if (text == "0" || text == "false" || text == "False" || text == "FALSE") {
    *out = 0;
    return true;
  }
  return false;
}

// An integer of ArrowType's width, read by Arrow's parser.
template <typename ArrowType>
bool ParseInt(absl::string_view text, Cell* cell) {
  typename ArrowType::c_type v;
  if (!ParseValue<ArrowType>(text.data(), text.size(), &v)) return false;
  cell->kind = Cell::Kind::kInt;
  cell->i = v;
  return true;
}

bool AllDigits(absl::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

absl::string_view Utf8Prefix(absl::string_view s, size_t bytes) {
  if (s.size() <= bytes) return s;
  size_t n = bytes;
  // Back up over continuation bytes (10xxxxxx) to the start of a character.
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

bool ParseTimestampMs(absl::string_view text, int64_t* ms) {
  static const arrow::TimestampType kMilli(arrow::TimeUnit::MILLI);
  if (ParseValue<arrow::TimestampType>(kMilli, text.data(), text.size(), ms)) return true;
  // Sub-millisecond digits: read at the precision they have, then round down.
  static const arrow::TimestampType kNano(arrow::TimeUnit::NANO);
  int64_t ns = 0;
  if (ParseValue<arrow::TimestampType>(kNano, text.data(), text.size(), &ns)) {
    *ms = ns >= 0 ? ns / 1000000 : -((-ns + 999999) / 1000000);
    return true;
  }
  return false;
}

absl::StatusOr<Cell> NullCell(const ColumnDef& def) {
  if (!def.nullable) return absl::InvalidArgumentError("null in a non-nullable column");
  return Cell{};
}

absl::StatusOr<Cell> IntCell(const ColumnDef& def, int64_t value) {
  Cell cell;
  if (def.is_real()) {
    cell.kind = Cell::Kind::kReal;
    cell.f = static_cast<double>(value);
    return cell;
  }
  if (!def.is_integer()) return absl::InvalidArgumentError(absl::StrCat("a number is not a valid ", def.type_name()));
  int64_t lo, hi;
  IntRange(def, &lo, &hi);
  if (value < lo || value > hi) {
    return absl::InvalidArgumentError(absl::StrCat(value, " is out of range for ", def.type_name()));
  }
  cell.kind = Cell::Kind::kInt;
  cell.i = value;
  return cell;
}

absl::StatusOr<Cell> RealCell(const ColumnDef& def, double value) {
  if (def.is_real()) {
    Cell cell;
    cell.kind = Cell::Kind::kReal;
    cell.f = value;
    return cell;
  }
  if (def.is_integer() && std::isfinite(value) && value == std::floor(value) && std::fabs(value) < 9.2e18) {
    return IntCell(def, static_cast<int64_t>(value));
  }
  return absl::InvalidArgumentError(absl::StrCat(value, " is not a valid ", def.type_name()));
}

absl::StatusOr<Cell> ParseCell(const ColumnDef& def, absl::string_view text, bool truncate) {
  Cell cell;
  switch (def.kind) {
    case ColumnKind::kInt8:
      if (!ParseInt<arrow::Int8Type>(text, &cell)) break;
      return cell;
    case ColumnKind::kInt16:
      if (!ParseInt<arrow::Int16Type>(text, &cell)) break;
      return cell;
    case ColumnKind::kInt:
      if (!ParseInt<arrow::Int32Type>(text, &cell)) break;
      return cell;
    case ColumnKind::kLong:
      if (!ParseInt<arrow::Int64Type>(text, &cell)) break;
      return cell;
    case ColumnKind::kBoolean:
      if (!ParseBool(text, &cell.i)) break;
      cell.kind = Cell::Kind::kInt;
      return cell;
    case ColumnKind::kTimestamp: {
      // Milliseconds since the epoch, or an ISO 8601 date or date-time.
      if (AllDigits(text)) {
        if (!ParseValue<arrow::Int64Type>(text.data(), text.size(), &cell.i)) break;
      } else if (!ParseTimestampMs(text, &cell.i)) {
        break;
      }
      cell.kind = Cell::Kind::kInt;
      return cell;
    }
    case ColumnKind::kFloat: {
      float v;
      if (!ParseValue<arrow::FloatType>(text.data(), text.size(), &v)) break;
      cell.kind = Cell::Kind::kReal;
      cell.f = v;
      return cell;
    }
    case ColumnKind::kDouble:
      if (!ParseValue<arrow::DoubleType>(text.data(), text.size(), &cell.f)) break;
      cell.kind = Cell::Kind::kReal;
      return cell;
    case ColumnKind::kCharN:
      if (text.size() > static_cast<size_t>(def.char_width)) {
        if (!truncate) {
          return absl::InvalidArgumentError(
              absl::StrCat(Quote(text), " is longer than ", def.type_name(), " (", text.size(), " bytes)"));
        }
        text = Utf8Prefix(text, def.char_width);
      }
      cell.kind = Cell::Kind::kText;
      cell.text = text;
      return cell;
    case ColumnKind::kString:
      if (absl::Status s = CheckSubtype(StringSubtype(def), text); !s.ok()) return s;
      cell.kind = Cell::Kind::kText;
      cell.text = text;
      return cell;
    case ColumnKind::kBytes:
      cell.kind = Cell::Kind::kText;
      cell.text = text;
      return cell;
    case ColumnKind::kDate: {
      const std::optional<int32_t> day = ParseDate(text);
      if (!day) break;
      cell.kind = Cell::Kind::kInt;
      cell.i = *day;
      return cell;
    }
  }
  return NotA(text, def);
}

void AppendCell(const ColumnDef& def, const Cell& cell, HostColumn* column) {
  switch (cell.kind) {
    case Cell::Kind::kNull:
      column->AppendNull();
      return;
    case Cell::Kind::kInt:
      column->AppendInt(cell.i);
      return;
    case Cell::Kind::kReal:
      column->AppendFloat(cell.f);
      return;
    case Cell::Kind::kText:
      column->AppendString(absl::string_view(cell.text.data(), cell.text.size()));
      return;
  }
  (void)def;
}

void TruncateRows(std::vector<HostColumn>* columns, int64_t rows) {
  for (HostColumn& c : *columns) {
    if (c.size <= rows) continue;
    if (c.type == kernels::PhysType::kVarChars) {
      c.offsets.resize(rows + 1);
      c.data.resize(c.offsets[rows]);
    } else {
      c.data.resize(static_cast<size_t>(rows) * kernels::ValueWidth(c.type, c.width));
    }
    if (c.nullable) c.validity.resize(rows);
    c.size = rows;
  }
}

void KeepRows(std::vector<HostColumn>* columns, int64_t base, const std::vector<bool>& keep) {
  for (HostColumn& c : *columns) {
    int64_t out = base;
    if (c.type == kernels::PhysType::kVarChars) {
      int64_t at = c.offsets[base];
      for (int64_t r = base; r < c.size; ++r) {
        if (!keep[r - base]) continue;
        const int64_t begin = c.offsets[r], end = c.offsets[r + 1];
        std::memmove(c.data.data() + at, c.data.data() + begin, end - begin);
        at += end - begin;
        c.offsets[out + 1] = at;
        if (c.nullable) c.validity[out] = c.validity[r];
        ++out;
      }
      c.offsets.resize(out + 1);
      c.data.resize(at);
    } else {
      const int w = kernels::ValueWidth(c.type, c.width);
      for (int64_t r = base; r < c.size; ++r) {
        if (!keep[r - base]) continue;
        if (out != r) std::memcpy(c.data.data() + out * w, c.data.data() + r * w, w);
        if (c.nullable) c.validity[out] = c.validity[r];
        ++out;
      }
      c.data.resize(static_cast<size_t>(out) * w);
    }
    if (c.nullable) c.validity.resize(out);
    c.size = out;
  }
}

absl::Status Rejects::Reject(const char* where, int64_t number, std::string text, std::string error) {
  if (options_.on_error == OnError::kAbort) {
    return absl::InvalidArgumentError(absl::StrCat(options_.source_name, ": ", where, " ", number, ": ", error));
  }
  ++out_->skipped;
  if (static_cast<int64_t>(out_->bad.size()) < out_->max_bad) {
    out_->bad.push_back(BadRecord{number, std::move(text), std::move(error)});
  }
  return absl::OkStatus();
}

}  // namespace engine::io::detail
