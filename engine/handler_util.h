#pragma once

// Helpers shared by the endpoint handlers (handlers_*.cc).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/handlers.h"
#include "engine/host_column.h"
#include "engine/json.h"
#include "engine/table.h"
#include "engine/types.h"
#include "kernels/memory.h"

namespace engine {

// request.options[key], or `fallback` when absent.
std::string Option(const Json& request, absl::string_view key, absl::string_view fallback = "");
// A "true"/"false" option; InvalidArgument names options.<key> otherwise.
absl::StatusOr<bool> BoolOption(const Json& request, absl::string_view key, bool fallback);

// request[field] as a string.
const std::string& StringField(const Json& request, absl::string_view field);

// The access list of a request that reads its `table_name`.
absl::StatusOr<std::vector<Access>> ReadTableAccess(const Json& request);
// The access list of a request that writes its `table_name`.
absl::StatusOr<std::vector<Access>> WriteTableAccess(const Json& request);

// The table named request[field]; NotFound reads "<field>: table 'x' does not exist".
absl::StatusOr<std::shared_ptr<Table>> FindTable(const JobContext& ctx, const Json& request,
                                                 absl::string_view field);

// Rows of a table chosen by a filter expression: all rows, or a list of
// indices on the table's device.
struct RowSet {
  bool all = true;
  int64_t count = 0;
  kernels::Buffer indices;  // int64_t[count] when !all (fewer after OrderRows with `needed`)

  // The index list kernels take: null for all rows.
  const int64_t* data() const { return all ? nullptr : indices.as<int64_t>(); }
};

// Evaluates `expression` over `table` (all rows when it is blank). Errors
// name `field`, e.g. "options.expression: unknown column 'x' at position 1".
absl::StatusOr<RowSet> SelectRows(JobContext& ctx, const Table& table, const std::string& expression,
                                  absl::string_view field);

// Number of rows of `table` where `expression` holds (one predicate pass,
// no index list). Errors as SelectRows.
// Both scan in chunks of ctx.limits.chunk_rows, passing ctx.checkpoint
// between chunks; a Cancelled or DeadlineExceeded status stops the scan.
absl::StatusOr<int64_t> CountRows(JobContext& ctx, const Table& table, const std::string& expression,
                                  absl::string_view field);

// Calls fn(begin, end) for consecutive chunks of [0, rows) of at most
// ctx.limits.chunk_rows rows, with ctx.checkpoint after each (progress counted
// in rows). Stops at the first error from fn or the checkpoint.
absl::Status ForEachChunk(JobContext& ctx, int64_t rows, const std::function<void(int64_t, int64_t)>& fn);

// Rows [begin, end) of `rows` (positions within the row set), copied to the host.
std::vector<HostColumn> FetchRows(JobContext& ctx, const Table& table, const RowSet& rows, int64_t begin,
                                  int64_t end);

// Splits `text` at top-level occurrences of `sep` (outside quotes and
// parentheses), trimming each piece; empty pieces are kept.
std::vector<std::string> SplitTopLevel(absl::string_view text, char sep);

// "expr as alias" → {expr, alias}; {text, ""} without an alias. The alias is
// the last top-level " as " (any case). InvalidArgument names `field` when
// the alias is not a name.
struct Aliased {
  std::string expr;
  std::string alias;
};
absl::StatusOr<Aliased> SplitAlias(absl::string_view text, absl::string_view field);

// The values of a column or expression for every row of a table, indexed by
// row: a column's own view when `text` names a column, else the expression
// evaluated on the device (int → long, float → double, string).
struct RowValues {
  kernels::ColumnView view;
  ColumnDef def;
  kernels::Column owned;  // the evaluated expression, when there is one
};
absl::StatusOr<RowValues> EvaluateRows(JobContext& ctx, const Table& table, const std::string& text,
                                       absl::string_view field);

// One key of a sort: an expression over the table's columns.
struct OrderKey {
  std::string expr;
  bool descending = false;
};

// Parses "a asc, b desc, c" (asc is the default). InvalidArgument names
// `field` for an empty key.
absl::StatusOr<std::vector<OrderKey>> ParseOrderBy(absl::string_view text, absl::string_view field);

// The sort keys a read request asks for: options.order_by, else
// options.sort_by with options.sort_order (ascending, descending); empty when
// neither is set. Errors name the option.
absl::StatusOr<std::vector<OrderKey>> RequestedOrder(const Json& request);

// Reorders `rows` by `keys` (stable; nulls first ascending). Afterwards
// rows.all is false and rows.indices holds the sorted row indices. With
// `needed` >= 0 only the first `needed` rows of the order are computed
// (kernels::TopKOrder: no full sort when that is few of the rows):
// rows.indices then holds min(needed, count) of them, and rows.count still
// counts every selected row.
absl::Status OrderRows(JobContext& ctx, const Table& table, const std::vector<OrderKey>& keys, RowSet* rows,
                       absl::string_view field, int64_t needed = -1);

// Resolves offset/limit against `total` rows: the rows [begin, end) to return.
// limit -9999 asks for the server maximum; a larger limit is capped to it.
// InvalidArgument for a negative offset or another negative limit.
struct Page {
  int64_t begin = 0;
  int64_t end = 0;
};
absl::StatusOr<Page> ResolvePage(int64_t offset, int64_t limit, int64_t total, const EngineLimits& limits);

}  // namespace engine
