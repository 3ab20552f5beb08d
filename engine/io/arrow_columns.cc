#include "engine/io/arrow_columns.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>

#include "absl/strings/str_cat.h"
#include "arrow/util/bit_util.h"
#include "arrow/util/parallel.h"
#include "engine/table/subtypes.h"

namespace engine::io::detail {
namespace {

using arrow::Type;

// Problems of one column: (row, message).
using Problems = std::vector<std::pair<int64_t, std::string>>;

// A value that stands in for a bad row until the row is removed.
void AppendPlaceholder(const ColumnDef& def, HostColumn* out) {
  if (def.nullable)
    out->AppendNull();
  else if (def.is_real())
    out->AppendFloat(0);
  else if (def.is_string())
    out->AppendString("");
  else
    out->AppendInt(0);
}

// Appends validity bytes for rows [0, n) of `a`; nulls into a non-nullable
// column are problems.
void AppendValidity(const arrow::Array& a, const ColumnDef& def, HostColumn* out, Problems* problems) {
  const int64_t n = a.length();
  if (def.nullable) {
    const size_t at = out->validity.size();
    out->validity.resize(at + n, 1);
    if (a.null_count() > 0) {
      for (int64_t i = 0; i < n; ++i) out->validity[at + i] = a.IsValid(i) ? 1 : 0;
    }
  } else if (a.null_count() > 0) {
    for (int64_t i = 0; i < n; ++i) {
      if (a.IsNull(i)) problems->emplace_back(i, "null in a non-nullable column");
    }
  }
}

// Values of fixed width that are stored as they are.
template <typename T>
void CopyValues(const arrow::Array& a, const ColumnDef& def, HostColumn* out, Problems* problems) {
  const int64_t n = a.length();
  const char* values = reinterpret_cast<const char*>(a.data()->GetValues<T>(1));
  out->data.insert(out->data.end(), values, values + n * sizeof(T));  // no zeroing first, as resize would
  AppendValidity(a, def, out, problems);
  out->size += n;
}

// Appends one cell, or a placeholder and a problem.
void AppendChecked(const ColumnDef& def, int64_t row, const absl::StatusOr<Cell>& cell, HostColumn* out,
                   Problems* problems) {
  if (cell.ok()) {
    AppendCell(def, *cell, out);
  } else {
    problems->emplace_back(row, std::string(cell.status().message()));
    AppendPlaceholder(def, out);
  }
}

// The value of row i of an integer array, widened.
template <typename T>
int64_t IntAt(const arrow::Array& a, int64_t i) {
  return static_cast<int64_t>(a.data()->GetValues<T>(1)[i]);
}

int64_t MillisOf(int64_t value, arrow::TimeUnit::type unit) {
  auto floor_div = [](int64_t v, int64_t d) { return v >= 0 ? v / d : -((-v + d - 1) / d); };
  switch (unit) {
    case arrow::TimeUnit::SECOND:
      return value * 1000;
    case arrow::TimeUnit::MILLI:
      return value;
    case arrow::TimeUnit::MICRO:
      return floor_div(value, 1000);
    case arrow::TimeUnit::NANO:
      return floor_div(value, 1000000);
  }
  return value;
}

// Text of row i of a string or binary array.
absl::string_view TextAt(const arrow::Array& a, int64_t i) {
  auto view = [](std::string_view v) { return absl::string_view(v.data(), v.size()); };
  switch (a.type_id()) {
    case Type::STRING:
    case Type::BINARY:
      return view(static_cast<const arrow::BinaryArray&>(a).GetView(i));
    case Type::LARGE_STRING:
    case Type::LARGE_BINARY:
      return view(static_cast<const arrow::LargeBinaryArray&>(a).GetView(i));
    case Type::STRING_VIEW:
    case Type::BINARY_VIEW:
      return view(static_cast<const arrow::BinaryViewArray&>(a).GetView(i));
    default:
      return {};
  }
}

bool IsText(Type::type id) {
  return id == Type::STRING || id == Type::BINARY || id == Type::LARGE_STRING || id == Type::LARGE_BINARY ||
         id == Type::STRING_VIEW || id == Type::BINARY_VIEW;
}

// Text into a string column, in bulk: the bytes, then the offsets.
template <typename Offset>
void CopyStrings(const arrow::Array& a, const ColumnDef& def, HostColumn* out, Problems* problems) {
  const int64_t n = a.length();
  const Offset* offsets = a.data()->GetValues<Offset>(1);
  const char* bytes = a.data()->buffers[2] ? reinterpret_cast<const char*>(a.data()->buffers[2]->data()) : nullptr;
  const int64_t first = offsets[0];
  const int64_t total = offsets[n] - first;
  const size_t at = out->data.size();
  if (total > 0) out->data.insert(out->data.end(), bytes + first, bytes + first + total);
  const size_t o = out->offsets.size();
  out->offsets.resize(o + n);
  const int64_t base = static_cast<int64_t>(at) - first;
  for (int64_t i = 0; i < n; ++i) out->offsets[o + i] = base + offsets[i + 1];
  AppendValidity(a, def, out, problems);
  out->size += n;
}

// Whether values of `id` are numbers (or booleans, or times) read as one.
bool IsNumber(Type::type id) {
  switch (id) {
    case Type::INT8:
    case Type::INT16:
    case Type::INT32:
    case Type::INT64:
    case Type::UINT8:
    case Type::UINT16:
    case Type::UINT32:
    case Type::UINT64:
    case Type::FLOAT:
    case Type::DOUBLE:
    case Type::BOOL:
    case Type::TIMESTAMP:
    case Type::DATE32:
    case Type::DATE64:
      return true;
    default:
      return false;
  }
}

// The cell of row i of a number array for `def` (ranges checked).
absl::StatusOr<Cell> NumberCell(const arrow::Array& a, int64_t i, const ColumnDef& def) {
  switch (a.type_id()) {
    case Type::INT8:
      return IntCell(def, IntAt<int8_t>(a, i));
    case Type::INT16:
      return IntCell(def, IntAt<int16_t>(a, i));
    case Type::INT32:
      return IntCell(def, IntAt<int32_t>(a, i));
    case Type::INT64:
      return IntCell(def, IntAt<int64_t>(a, i));
    case Type::UINT8:
      return IntCell(def, IntAt<uint8_t>(a, i));
    case Type::UINT16:
      return IntCell(def, IntAt<uint16_t>(a, i));
    case Type::UINT32:
      return IntCell(def, IntAt<uint32_t>(a, i));
    case Type::UINT64: {
      const uint64_t v = a.data()->GetValues<uint64_t>(1)[i];
      if (v > static_cast<uint64_t>(INT64_MAX)) return absl::InvalidArgumentError(absl::StrCat(v, " is out of range"));
      return IntCell(def, static_cast<int64_t>(v));
    }
    case Type::FLOAT:
      return RealCell(def, a.data()->GetValues<float>(1)[i]);
    case Type::DOUBLE:
      return RealCell(def, a.data()->GetValues<double>(1)[i]);
    case Type::BOOL:
      return IntCell(def, static_cast<const arrow::BooleanArray&>(a).Value(i) ? 1 : 0);
    case Type::TIMESTAMP:
      return IntCell(def, MillisOf(IntAt<int64_t>(a, i), static_cast<const arrow::TimestampType&>(*a.type()).unit()));
    case Type::DATE32:
      return IntCell(def, IntAt<int32_t>(a, i) * int64_t{86400000});
    case Type::DATE64:
      return IntCell(def, IntAt<int64_t>(a, i));
    default:
      return absl::InvalidArgumentError("not a number");
  }
}

// Stores a number cell as row `row` of a fixed-width column already sized
// for it.
void PutNumber(const Cell& cell, int64_t row, HostColumn* out) {
  char* p = out->data.data() + row * kernels::ValueWidth(out->type, out->width);
  auto put = [p](auto v) { std::memcpy(p, &v, sizeof(v)); };
  switch (out->type) {
    case kernels::PhysType::kInt8:
      put(static_cast<int8_t>(cell.i));
      break;
    case kernels::PhysType::kInt16:
      put(static_cast<int16_t>(cell.i));
      break;
    case kernels::PhysType::kInt32:
      put(static_cast<int32_t>(cell.i));
      break;
    case kernels::PhysType::kInt64:
      put(cell.i);
      break;
    case kernels::PhysType::kFloat32:
      put(static_cast<float>(cell.f));
      break;
    case kernels::PhysType::kFloat64:
      put(cell.f);
      break;
    default:
      break;
  }
}

// Values into a number column, converted one by one by cell(i) into
// storage sized once.
template <typename CellOf>
void ConvertNumbers(const arrow::Array& a, const ColumnDef& def, HostColumn* out, Problems* problems,
                    const CellOf& cell_of) {
  const int64_t n = a.length();
  const int64_t base = out->size;
  out->data.resize(static_cast<size_t>(base + n) * kernels::ValueWidth(out->type, out->width), 0);
  for (int64_t i = 0; i < n; ++i) {
    if (a.IsNull(i)) continue;
    absl::StatusOr<Cell> cell = cell_of(i);
    if (cell.ok())
      PutNumber(*cell, base + i, out);
    else
      problems->emplace_back(i, std::string(cell.status().message()));
  }
  AppendValidity(a, def, out, problems);
  out->size += n;
}

// Text into a charN column, in storage sized once.
void ConvertChars(const arrow::Array& a, const ColumnDef& def, bool truncate, HostColumn* out, Problems* problems) {
  const int64_t n = a.length();
  const size_t width = static_cast<size_t>(def.char_width);
  const size_t at = out->data.size();
  out->data.resize(at + n * width, '\0');
  for (int64_t i = 0; i < n; ++i) {
    if (a.IsNull(i)) continue;
    absl::string_view v = TextAt(a, i);
    if (v.size() > width) {
      absl::StatusOr<Cell> cell = ParseCell(def, v, truncate);  // the cut, or the error
      if (!cell.ok()) {
        problems->emplace_back(i, std::string(cell.status().message()));
        continue;
      }
      v = cell->text;
    }
    std::memcpy(out->data.data() + at + i * width, v.data(), v.size());
  }
  AppendValidity(a, def, out, problems);
  out->size += n;
}

void AppendColumn(const arrow::Array& a, const ColumnDef& def, bool truncate, HostColumn* out, Problems* problems) {
  const int64_t n = a.length();
  const Type::type id = a.type_id();
  const kernels::PhysType phys = def.phys();
  // Values stored as they are.
  if (id == Type::INT32 && phys == kernels::PhysType::kInt32 && def.kind != ColumnKind::kDate) {
    return CopyValues<int32_t>(a, def, out, problems);
  }
  // Days since 1970-01-01 both.
  if (id == Type::DATE32 && def.kind == ColumnKind::kDate) return CopyValues<int32_t>(a, def, out, problems);
  if (id == Type::INT64 && (def.kind == ColumnKind::kLong || def.kind == ColumnKind::kTimestamp)) {
    return CopyValues<int64_t>(a, def, out, problems);
  }
  if (id == Type::INT16 && phys == kernels::PhysType::kInt16) return CopyValues<int16_t>(a, def, out, problems);
  if (id == Type::INT8 && def.kind == ColumnKind::kInt8) return CopyValues<int8_t>(a, def, out, problems);
  if (id == Type::DOUBLE && phys == kernels::PhysType::kFloat64) return CopyValues<double>(a, def, out, problems);
  if (id == Type::FLOAT && phys == kernels::PhysType::kFloat32) return CopyValues<float>(a, def, out, problems);
  // Strings as they are, unless a subtype checks their form (below).
  const bool as_given = phys == kernels::PhysType::kVarChars && StringSubtype(def).empty();
  if (as_given && (id == Type::STRING || id == Type::BINARY)) return CopyStrings<int32_t>(a, def, out, problems);
  if (as_given && (id == Type::LARGE_STRING || id == Type::LARGE_BINARY)) {
    return CopyStrings<int64_t>(a, def, out, problems);
  }
  // Converted in bulk.
  if (IsNumber(id) && !def.is_string()) {
    return ConvertNumbers(a, def, out, problems, [&](int64_t i) { return NumberCell(a, i, def); });
  }
  if (IsText(id) && !def.is_string()) {
    return ConvertNumbers(a, def, out, problems, [&](int64_t i) { return ParseCell(def, TextAt(a, i), truncate); });
  }
  if (IsText(id) && phys == kernels::PhysType::kFixedChars) return ConvertChars(a, def, truncate, out, problems);

  // Value by value.
  if (id == Type::DICTIONARY) {
    const auto& dict = static_cast<const arrow::DictionaryArray&>(a);
    const arrow::Array& values = *dict.dictionary();
    if (IsText(values.type_id())) {
      for (int64_t i = 0; i < n; ++i) {
        if (a.IsNull(i)) {
          AppendChecked(def, i, NullCell(def), out, problems);
        } else {
          AppendChecked(def, i, ParseCell(def, TextAt(values, dict.GetValueIndex(i)), truncate), out, problems);
        }
      }
      return;
    }
  }
  // Text parsed for its column; anything else (numbers into text columns,
  // decimals, times) as the text Arrow writes for it.
  for (int64_t i = 0; i < n; ++i) {
    if (a.IsNull(i)) {
      AppendChecked(def, i, NullCell(def), out, problems);
      continue;
    }
    if (IsText(id)) {
      AppendChecked(def, i, ParseCell(def, TextAt(a, i), truncate), out, problems);
      continue;
    }
    std::string text;
    if (id == Type::BOOL) {
      text = static_cast<const arrow::BooleanArray&>(a).Value(i) ? "true" : "false";
    } else {
      auto scalar = a.GetScalar(i);
      if (scalar.ok()) text = (*scalar)->ToString();
    }
    AppendChecked(def, i, ParseCell(def, text, truncate), out, problems);  // stored while `text` lives
  }
}

// Smallest power of two >= n (n >= 1).
int PowerOfTwo(int64_t n) {
  int p = 1;
  while (p < n) p <<= 1;
  return p;
}

}  // namespace

absl::StatusOr<std::vector<RowProblem>> AppendBatch(const std::vector<std::shared_ptr<arrow::Array>>& sources,
                                                    int64_t rows, const TableType& type, bool truncate_strings,
                                                    std::vector<HostColumn>* columns) {
  const int64_t base = (*columns)[0].size;
  // Columns convert independently: on Arrow's CPU threads when the batch is
  // big enough to gain from it.
  std::vector<Problems> problems(type.size());
  auto convert = [&](int c) {
    const ColumnDef& def = type.column(c);
    HostColumn& out = (*columns)[c];
    if (sources[c] == nullptr) {
      for (int64_t i = 0; i < rows; ++i) AppendChecked(def, i, NullCell(def), &out, &problems[c]);
    } else {
      AppendColumn(*sources[c], def, truncate_strings, &out, &problems[c]);
    }
    return arrow::Status::OK();
  };
  constexpr int64_t kParallelRows = 16384;
  const arrow::Status converted = arrow::internal::OptionalParallelFor(rows >= kParallelRows && type.size() > 1,
                                                                       static_cast<int>(type.size()), convert);
  if (!converted.ok()) return FromArrow(converted, "");
  std::map<int64_t, std::string> first;  // row → its first problem
  for (size_t c = 0; c < type.size(); ++c) {
    for (auto& [row, message] : problems[c]) {
      first.emplace(row, absl::StrCat("column '", type.column(c).name, "': ", message));
    }
  }
  std::vector<RowProblem> result;
  if (first.empty()) return result;
  std::vector<bool> keep(rows, true);
  for (auto& [row, message] : first) {
    keep[row] = false;
    result.push_back(RowProblem{row, std::move(message)});
  }
  KeepRows(columns, base, keep);
  return result;
}

void ReserveRows(int64_t rows, const std::vector<int64_t>& text_bytes, std::vector<HostColumn>* columns) {
  if (rows <= 0) return;
  for (size_t c = 0; c < columns->size(); ++c) {
    HostColumn& col = (*columns)[c];
    const size_t total = static_cast<size_t>(col.size + rows);
    if (col.nullable) col.validity.reserve(total);
    if (col.type == kernels::PhysType::kVarChars) {
      col.offsets.reserve(total + 1);
      if (c < text_bytes.size() && text_bytes[c] >= 0) col.data.reserve(col.data.size() + text_bytes[c]);
    } else {
      col.data.reserve(total * kernels::ValueWidth(col.type, col.width));
    }
  }
}

int64_t TextBytes(const arrow::ChunkedArray& column) {
  int64_t bytes = 0;
  for (const auto& chunk : column.chunks()) {
    switch (chunk->type_id()) {
      case Type::STRING:
      case Type::BINARY:
        bytes += static_cast<const arrow::BinaryArray&>(*chunk).total_values_length();
        break;
      case Type::LARGE_STRING:
      case Type::LARGE_BINARY:
        bytes += static_cast<const arrow::LargeBinaryArray&>(*chunk).total_values_length();
        break;
      default:
        return -1;
    }
  }
  return bytes;
}

absl::StatusOr<Json> InferColumn(const std::string& name, const arrow::ChunkedArray& column, bool size_strings,
                                 bool narrow_integers) {
  std::shared_ptr<arrow::DataType> type = column.type();
  if (type->id() == Type::DICTIONARY) type = static_cast<const arrow::DictionaryType&>(*type).value_type();
  std::string kind;
  switch (type->id()) {
    case Type::NA:
      kind = size_strings ? "char1" : "string";
      break;
    case Type::BOOL:
      kind = "boolean";
      break;
    case Type::INT8:
      kind = narrow_integers ? "int" : "int8";
      break;
    case Type::INT16:
      kind = narrow_integers ? "int" : "int16";
      break;
    case Type::UINT8:
      kind = narrow_integers ? "int" : "int16";
      break;
    case Type::INT32:
    case Type::UINT16:
      kind = "int";
      break;
    case Type::UINT32:
    case Type::UINT64:
      kind = "long";
      break;
    case Type::INT64: {
      kind = "long";
      if (!narrow_integers) break;
      bool fits = true;
      for (const auto& chunk : column.chunks()) {
        const auto& a = static_cast<const arrow::Int64Array&>(*chunk);
        for (int64_t i = 0; i < a.length() && fits; ++i) {
          if (a.IsValid(i) && (a.Value(i) < INT32_MIN || a.Value(i) > INT32_MAX)) fits = false;
        }
      }
      if (fits) kind = "int";
      break;
    }
    case Type::HALF_FLOAT:
    case Type::FLOAT:
      kind = "float";
      break;
    case Type::DOUBLE:
      kind = "double";
      break;
    case Type::STRING:
    case Type::LARGE_STRING:
    case Type::STRING_VIEW: {
      kind = "string";
      if (!size_strings || column.type()->id() == Type::DICTIONARY) break;
      int64_t longest = 0;
      for (const auto& chunk : column.chunks()) {
        for (int64_t i = 0; i < chunk->length(); ++i) {
          if (chunk->IsValid(i)) longest = std::max<int64_t>(longest, TextAt(*chunk, i).size());
        }
      }
      if (longest <= 256) kind = absl::StrCat("char", PowerOfTwo(std::max<int64_t>(longest, 1)));
      break;
    }
    case Type::BINARY:
    case Type::LARGE_BINARY:
    case Type::BINARY_VIEW:
      kind = "bytes";
      break;
    case Type::TIMESTAMP:
    case Type::DATE64:
      kind = "timestamp";
      break;
    case Type::DATE32:
      kind = "date";
      break;
    case Type::TIME32:
    case Type::TIME64:
      kind = "time";
      break;
    case Type::DECIMAL128:
    case Type::DECIMAL256:
      kind = "decimal";
      break;
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("column '", name, "': values of type ", type->ToString(), " cannot be loaded"));
  }
  Json entry = Json::array({name, kind});
  if (column.null_count() > 0 || type->id() == Type::NA) entry.push_back("nullable");
  return entry;
}

std::shared_ptr<arrow::DataType> ArrowTypeOf(const ColumnDef& def) {
  switch (def.kind) {
    case ColumnKind::kInt:
      return arrow::int32();
    case ColumnKind::kLong:
      return arrow::int64();
    case ColumnKind::kInt8:
      return arrow::int8();
    case ColumnKind::kInt16:
      return arrow::int16();
    case ColumnKind::kBoolean:
      return arrow::boolean();
    case ColumnKind::kTimestamp:
      return arrow::timestamp(arrow::TimeUnit::MILLI);
    case ColumnKind::kFloat:
      return arrow::float32();
    case ColumnKind::kDouble:
      return arrow::float64();
    case ColumnKind::kBytes:
      return arrow::binary();
    case ColumnKind::kString:
    case ColumnKind::kCharN:
      return arrow::utf8();
    case ColumnKind::kDate:
      return arrow::date32();
  }
  return arrow::utf8();
}

absl::StatusOr<std::shared_ptr<arrow::Array>> ToArrow(const ColumnDef& def, const HostColumn& column) {
  const int64_t n = column.size;
  arrow::MemoryPool* pool = arrow::default_memory_pool();
  std::shared_ptr<arrow::Buffer> bitmap;
  int64_t nulls = 0;
  if (def.nullable) {
    auto bits = arrow::AllocateEmptyBitmap(n, pool);
    if (!bits.ok()) return FromArrow(bits.status(), "export");
    for (int64_t i = 0; i < n; ++i) {
      if (column.validity[i] != 0)
        arrow::bit_util::SetBit((*bits)->mutable_data(), i);
      else
        ++nulls;
    }
    if (nulls > 0) bitmap = *std::move(bits);
  }
  auto copy = [&](const void* data, size_t bytes) -> std::shared_ptr<arrow::Buffer> {
    auto buffer = arrow::AllocateBuffer(bytes, pool);
    if (!buffer.ok()) return nullptr;
    if (bytes > 0) std::memcpy((*buffer)->mutable_data(), data, bytes);
    return std::shared_ptr<arrow::Buffer>(*std::move(buffer));
  };
  std::shared_ptr<arrow::DataType> type = ArrowTypeOf(def);
  std::vector<std::shared_ptr<arrow::Buffer>> buffers{bitmap};
  if (def.kind == ColumnKind::kBoolean) {
    auto bits = arrow::AllocateEmptyBitmap(n, pool);
    if (!bits.ok()) return FromArrow(bits.status(), "export");
    for (int64_t i = 0; i < n; ++i) {
      if (column.data[i] != 0) arrow::bit_util::SetBit((*bits)->mutable_data(), i);
    }
    buffers.push_back(*std::move(bits));
  } else if (column.type == kernels::PhysType::kVarChars || column.type == kernels::PhysType::kFixedChars) {
    std::vector<int32_t> offsets(n + 1, 0);
    std::string bytes;
    if (column.type == kernels::PhysType::kVarChars) {
      if (column.offsets[n] > INT32_MAX) {
        return absl::ResourceExhaustedError("export: more than 2 GiB of text in one batch; lower options.batch_size");
      }
      for (int64_t i = 0; i <= n; ++i) offsets[i] = static_cast<int32_t>(column.offsets[i]);
      buffers.push_back(copy(offsets.data(), offsets.size() * 4));
      buffers.push_back(copy(column.data.data(), column.offsets[n]));
    } else {
      for (int64_t i = 0; i < n; ++i) {
        const absl::string_view s = column.StringAt(i);
        bytes.append(s.data(), s.size());
        offsets[i + 1] = static_cast<int32_t>(bytes.size());
      }
      buffers.push_back(copy(offsets.data(), offsets.size() * 4));
      buffers.push_back(copy(bytes.data(), bytes.size()));
    }
  } else {
    buffers.push_back(copy(column.data.data(), column.data.size()));
  }
  for (size_t b = 1; b < buffers.size(); ++b) {
    if (buffers[b] == nullptr) return absl::ResourceExhaustedError("export: out of host memory");
  }
  return arrow::MakeArray(arrow::ArrayData::Make(type, n, std::move(buffers), nulls));
}

absl::Status FromArrow(const arrow::Status& status, absl::string_view context) {
  if (status.ok()) return absl::OkStatus();
  const std::string message = absl::StrCat(context, context.empty() ? "" : ": ", status.message());
  // Inputs are bytes in memory (a payload, a mapped file): Arrow's IOError
  // and SerializationError say they are corrupt ("Corrupt snappy compressed
  // data", a page past the file's end).
  if (status.IsInvalid() || status.IsTypeError() || status.IsIndexError() || status.IsKeyError() ||
      status.IsIOError() || status.IsSerializationError()) {
    return absl::InvalidArgumentError(message);
  }
  if (status.IsOutOfMemory()) return absl::ResourceExhaustedError(message);
  if (status.IsCancelled()) return absl::CancelledError(message);
  return absl::InternalError(message);
}

}  // namespace engine::io::detail
