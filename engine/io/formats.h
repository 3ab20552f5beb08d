#pragma once

// Inside engine/io: the reader of each format (reader.h's ReadRecords picks
// one), and what they share: which source column feeds which table column,
// and the type of a new table.

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/api/json.h"
#include "engine/io/reader.h"

namespace engine::io::detail {

absl::Status ReadDelimited(const Input& input, const ReadOptions& options, const Progress& progress, Records* out);
absl::Status ReadJson(const Input& input, const ReadOptions& options, const Progress& progress, Records* out);
absl::Status ReadParquet(const Input& input, const ReadOptions& options, const Progress& progress, Records* out);

// The columns of the data: their names (named: a header, JSON keys, a
// Parquet schema) or only their count (delimited text without a header).
struct SourceColumns {
  std::vector<std::string> names;
  bool named = true;
  size_t count() const { return names.size(); }
};

// Which source column feeds each column of `type` (-1: none; the column gets
// nulls), from options.columns_to_load / columns_to_skip, else by name (a
// name that differs only in case matches too), else by position. Errors
// name the option, or the table column that nothing feeds when that is not
// allowed (outside permissive mode, or a non-nullable column).
absl::StatusOr<std::vector<int>> MapColumns(const SourceColumns& source, const TableType& type,
                                            const ReadOptions& options);

// The source columns a new table is made of, in its column order.
absl::StatusOr<std::vector<int>> NewTableColumns(const SourceColumns& source, const ReadOptions& options);
// The name a new table gives source column i: its name, else "column_<i+1>".
std::string NewColumnName(const SourceColumns& source, int i);

// Sets out's type to the compact type definition `columns` ([[name, type,
// properties...], ...]) and gives it empty columns. Errors name
// options.source_name.
absl::Status SetType(const Json& columns, const ReadOptions& options, Records* out);

}  // namespace engine::io::detail
