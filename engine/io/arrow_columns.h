#pragma once

// Inside engine/io (C++20, Arrow): Arrow arrays to and from the engine's host
// columns, and the Kinetica type of the values an Arrow column holds.

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "arrow/api.h"
#include "engine/api/json.h"
#include "engine/io/cells.h"
#include "engine/table/host_column.h"
#include "engine/table/types.h"

namespace engine::io::detail {

// A row of a batch that cannot be stored, and why.
struct RowProblem {
  int64_t row;        // in the batch
  std::string error;  // "column 'x': ..."
};

// Appends the rows of `sources` to `columns` (both one per column of `type`;
// a null source feeds nulls). Rows that cannot be stored (a null in a
// non-nullable column, a value out of range or too long, text that does not
// parse) are not appended and are returned, by row, first problem only.
// InvalidArgument when a source's type cannot feed its column at all.
absl::StatusOr<std::vector<RowProblem>> AppendBatch(const std::vector<std::shared_ptr<arrow::Array>>& sources,
                                                    int64_t rows, const TableType& type, bool truncate_strings,
                                                    std::vector<HostColumn>* columns);

// The arrays of a batch that feed each table column: map[c] is the source
// column of table column c (-1: none, a null array pointer), index_of(source)
// its position in the batch; the first `rows` rows.
template <typename IndexOf>
std::vector<std::shared_ptr<arrow::Array>> BatchSources(const arrow::RecordBatch& batch, const std::vector<int>& map,
                                                        const IndexOf& index_of, int64_t rows) {
  std::vector<std::shared_ptr<arrow::Array>> sources;
  for (int source : map) sources.push_back(source < 0 ? nullptr : batch.column(index_of(source))->Slice(0, rows));
  return sources;
}

// Makes room in `columns` for `rows` more rows (and, for text columns with
// a known size, text_bytes[c] more bytes; -1: unknown), so that appending
// batches does not move what is there. rows <= 0: nothing.
void ReserveRows(int64_t rows, const std::vector<int64_t>& text_bytes, std::vector<HostColumn>* columns);
// The bytes of text in `column` (string or binary chunks), or -1.
int64_t TextBytes(const arrow::ChunkedArray& column);

// How many of a batch's `rows` a read still takes, having taken `taken`.
inline int64_t RowsToTake(int64_t rows, int64_t max_records, int64_t taken) {
  return max_records >= 0 ? std::min(rows, max_records - taken) : rows;
}

// The compact type entry ([name, type, properties...], as /create/type reads
// it) of the values of `column`. `size_strings`: text as charN sized to its
// longest value (delimited text); otherwise string. Integers: with
// `narrow_integers`, int when every value fits, else the Arrow width.
absl::StatusOr<Json> InferColumn(const std::string& name, const arrow::ChunkedArray& column, bool size_strings,
                                 bool narrow_integers);

// The Arrow type the rows of `def` are written as.
std::shared_ptr<arrow::DataType> ArrowTypeOf(const ColumnDef& def);
// Rows of `column` (of `def`) as an Arrow array of ArrowTypeOf(def).
absl::StatusOr<std::shared_ptr<arrow::Array>> ToArrow(const ColumnDef& def, const HostColumn& column);

// An absl status for an Arrow one (OK for OK; InvalidArgument for Invalid,
// TypeError, IndexError, KeyError, and for IOError and SerializationError,
// which reading bytes in memory gives only for corrupt data; else Internal),
// its message prefixed with `context`.
absl::Status FromArrow(const arrow::Status& status, absl::string_view context);

}  // namespace engine::io::detail
