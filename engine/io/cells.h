#pragma once

// Inside engine/io: one field's value for a column, and rows of host columns
// built one record at a time (a record is stored whole or not at all).
// Text is read as the loaders read it: numbers and timestamps by Arrow's own
// value parsers (the ones its CSV reader uses), so that a value reads the same
// on every path.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/reader.h"
#include "engine/table/host_column.h"
#include "engine/table/types.h"

namespace engine::io::detail {

// A value ready to store in a column: null, an integer (int kinds, boolean,
// timestamp ms), a real, or bytes (string kinds).
struct Cell {
  enum class Kind : uint8_t { kNull, kInt, kReal, kText } kind = Kind::kNull;
  int64_t i = 0;
  double f = 0;
  absl::string_view text;  // points into the field (or a cut of it)
};

// The value `text` means in column `def`, or what is wrong with it
// ("'abc' is not a valid int"). `text` is not null here: callers decide
// nulls. With `truncate`, text longer than a charN column is cut (at a UTF-8
// character boundary) instead of refused.
absl::StatusOr<Cell> ParseCell(const ColumnDef& def, absl::string_view text, bool truncate);
// The value of an integer or a real in column `def` (ranges checked; a real
// into an integer column must be whole).
absl::StatusOr<Cell> IntCell(const ColumnDef& def, int64_t value);
absl::StatusOr<Cell> RealCell(const ColumnDef& def, double value);
// A null for `def`; an error for a non-nullable column.
absl::StatusOr<Cell> NullCell(const ColumnDef& def);

// Appends one cell. REQUIRES: a cell made for `def`.
void AppendCell(const ColumnDef& def, const Cell& cell, HostColumn* column);

// The longest prefix of `s` of at most `bytes` bytes that ends on a UTF-8
// character boundary.
absl::string_view Utf8Prefix(absl::string_view s, size_t bytes);

// Milliseconds since the epoch of an ISO 8601 date or date-time
// ("2024-05-01", "2024-05-01 10:00:00.250", "...T...Z"); false when `text`
// is not one.
bool ParseTimestampMs(absl::string_view text, int64_t* ms);

// Keeps the rows of columns[*] from `base` on for which keep[row - base] is
// true, in order (the others are removed).
void KeepRows(std::vector<HostColumn>* columns, int64_t base, const std::vector<bool>& keep);
// Drops the rows of every column from `rows` on.
void TruncateRows(std::vector<HostColumn>* columns, int64_t rows);

// Bad records: counts them and keeps the first Records::max_bad; in kAbort
// mode the first one is the read's error.
class Rejects {
 public:
  Rejects(const ReadOptions& options, Records* out) : options_(options), out_(out) {}
  // `where`: "line" or "record". Returns the error in kAbort mode, else OK.
  absl::Status Reject(const char* where, int64_t number, std::string text, std::string error);

 private:
  const ReadOptions& options_;
  Records* out_;
};

}  // namespace engine::io::detail
