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
  kernels::Buffer indices;  // int64_t[count] when !all
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

// Resolves offset/limit against `total` rows: the rows [begin, end) to return.
// limit -9999 asks for the server maximum; a larger limit is capped to it.
// InvalidArgument for a negative offset or another negative limit.
struct Page {
  int64_t begin = 0;
  int64_t end = 0;
};
absl::StatusOr<Page> ResolvePage(int64_t offset, int64_t limit, int64_t total, const EngineLimits& limits);

}  // namespace engine
