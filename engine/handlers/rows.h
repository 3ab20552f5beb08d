#pragma once

// The rows a handler works on: rows chosen by a filter, in chunks with
// checkpoints between them, ordered by sort keys, fetched to the host; and
// the values of a column or expression for every row.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/expr/text.h"
#include "engine/handlers/handler.h"
#include "engine/table/host_column.h"
#include "engine/table/table.h"
#include "engine/table/types.h"
#include "kernels/column.h"
#include "kernels/filter.h"
#include "kernels/memory.h"

namespace engine {

// Rows of a table chosen by a filter expression: all rows, or a list of
// indices on the table's device.
struct RowSet {
  bool all = true;
  int64_t count = 0;
  kernels::Buffer indices;  // int64_t[count] when !all (fewer after OrderRows with `needed`)

  // The index list kernels take: null for all rows.
  const int64_t* data() const { return all ? nullptr : indices.as<int64_t>(); }
};

// Calls fn(begin, end) for consecutive chunks of [0, rows) of at most
// ctx.limits.chunk_rows rows, with ctx.checkpoint after each (progress counted
// in rows). Stops at the first error from fn or the checkpoint.
absl::Status ForEachChunk(JobContext& ctx, int64_t rows, const std::function<void(int64_t, int64_t)>& fn);

// Evaluates `expression` over `table` (all rows when it is blank). Errors
// name `field`, e.g. "options.expression: unknown column 'x' at position 1".
absl::StatusOr<RowSet> SelectRows(JobContext& ctx, const Table& table, const std::string& expression,
                                  absl::string_view field);

// The rows [0, n) of columns `views` (of `type`) where `expression` holds,
// ascending. A conjunction of which only some parts have a scan plan
// (kernels/scan_plan.h) runs those parts first, and the others only over the
// rows they leave (the columns those read gathered for them). When `views`
// are `table`'s own columns, a scan plan reads only the zones whose bounds
// (Table::zone_map) leave its answer open, and takes zones it holds for
// every row whole. Errors name `field`. Scans in chunks (ForEachChunk).
absl::StatusOr<kernels::Selection> SelectWhere(JobContext& ctx, const TableType& type,
                                               const std::vector<kernels::ColumnView>& views, int64_t n,
                                               const std::string& expression, absl::string_view field,
                                               const Table* table = nullptr);

// Number of rows of `table` where `expression` holds (one predicate pass,
// no index list; zones as SelectWhere reads them). Errors as SelectRows.
// Both scan in chunks (ForEachChunk); a Cancelled or DeadlineExceeded status
// from the checkpoint stops the scan.
absl::StatusOr<int64_t> CountRows(JobContext& ctx, const Table& table, const std::string& expression,
                                  absl::string_view field);

// Rows [begin, end) of `rows` (positions within the row set), copied to the host.
std::vector<HostColumn> FetchRows(JobContext& ctx, const Table& table, const RowSet& rows, int64_t begin, int64_t end);
// The table's row numbers of those rows, on the host.
std::vector<int64_t> RowIndices(JobContext& ctx, const RowSet& rows, int64_t begin, int64_t end);

// The values of a column or expression for every row of a table, indexed by
// row: a column's own view when `text` names a column (or an alias.column
// the table holds as column), kRowPosition a
// shard's positions (Table::positions), else the expression evaluated on
// the device (int → long, float → double, string).
inline constexpr char kRowPosition[] = "__position";

// A table of `columns` (of `defs`, on ctx's device) for the row helpers
// here; not in the catalog.
std::shared_ptr<Table> ScratchTable(JobContext& ctx, std::vector<ColumnDef> defs, std::vector<kernels::Column> columns);

struct RowValues {
  kernels::ColumnView view;
  ColumnDef def;
  kernels::Column owned;  // the evaluated expression, when there is one
  // With `as_program`: the expression's program instead of `owned` (and an
  // empty `view`), for a kernel that evaluates it as it goes
  // (kernels::AggregateCall::program).
  std::optional<kernels::DeviceProgram> program;
};
absl::StatusOr<RowValues> EvaluateRows(JobContext& ctx, const Table& table, const std::string& text,
                                       absl::string_view field, bool as_program = false);

// The values of `text` (as EvaluateRows) for every row of `table` as a
// column of `def`'s layout: as they are when alike, else (or to check a
// string subtype's form) each converted as the JSON value would be. Errors
// name `field` (and the row that does not convert).
absl::StatusOr<kernels::Column> EvaluateAs(JobContext& ctx, const Table& table, const std::string& text,
                                           const ColumnDef& def, absl::string_view field);

// Reorders `rows` by `keys` (stable; nulls first ascending). Afterwards
// rows.all is false and rows.indices holds the sorted row indices. With
// `needed` >= 0 only the first `needed` rows of the order are computed
// (kernels::TopKOrder: no full sort when that is few of the rows; over all
// rows by a column, or "(c is null)" then c, only the zones of the column's
// zone map that can hold them, Table::zone_map):
// rows.indices then holds min(needed, count) of them, and rows.count still
// counts every selected row. `tiebreak` (a column of `table`'s rows), when
// given, orders rows with equal keys, ascending.
absl::Status OrderRows(JobContext& ctx, const Table& table, const std::vector<OrderKey>& keys, RowSet* rows,
                       absl::string_view field, int64_t needed = -1, const kernels::ColumnView* tiebreak = nullptr);

}  // namespace engine
