#pragma once

// Reading a request record in a handler: its fields and options, the tables
// it names, and the page and order it asks for. Requests arrive normalized
// (api/schema.h), so every field is present with its type.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/api/json.h"
#include "engine/expr/text.h"
#include "engine/handlers/handler.h"
#include "engine/jobs/access.h"
#include "engine/table/table.h"

namespace engine {

// request[field] as a string.
const std::string& StringField(const Json& request, absl::string_view field);

// request.options[key], or `fallback` when absent.
std::string Option(const Json& request, absl::string_view key, absl::string_view fallback = "");
// A comma-separated list option (entries trimmed; empty entries kept inside);
// empty when absent or blank.
std::vector<std::string> ListOption(const Json& request, absl::string_view key);
// A "true"/"false" option; InvalidArgument names options.<key> otherwise.
absl::StatusOr<bool> BoolOption(const Json& request, absl::string_view key, bool fallback);
// options.sort_order: false for "ascending" (the default), true for
// "descending"; InvalidArgument otherwise.
absl::StatusOr<bool> DescendingOption(const Json& request);

// The access list of a request that reads its `table_name`.
absl::StatusOr<std::vector<Access>> ReadTableAccess(const Json& request);
// The access list of a request that writes its `table_name`.
absl::StatusOr<std::vector<Access>> WriteTableAccess(const Json& request);

// The access list of a request that reads, or with `write` writes, every
// table of its list request[field] ("table_names"); errors name field[i].
absl::StatusOr<std::vector<Access>> TableListAccess(const Json& request, absl::string_view field, bool write);

// The table named request[field]; NotFound reads "<field>: table 'x' does not exist".
absl::StatusOr<std::shared_ptr<Table>> FindTable(const JobContext& ctx, const Json& request, absl::string_view field);

// Lets go of a table just removed from the catalog: a big one's memory goes
// back to the OS rather than to its device's block cache (unless a running
// job still holds the table).
void ReleaseRemovedTable(std::shared_ptr<Table> table);

// request.encoding of a dynamic-schema read: "binary" or "json"; InvalidArgument otherwise.
absl::Status CheckEncoding(const Json& request);

// Resolves offset/limit against `total` rows: the rows [begin, end) to return.
// limit -9999 asks for the server maximum; a larger limit is capped to it.
// InvalidArgument for a negative offset or another negative limit.
struct Page {
  int64_t begin = 0;
  int64_t end = 0;
};
absl::StatusOr<Page> ResolvePage(int64_t offset, int64_t limit, int64_t total, const EngineLimits& limits);

// The sort keys a read request asks for: options.order_by, else
// options.sort_by with options.sort_order (ascending, descending); empty when
// neither is set. Errors name the option.
absl::StatusOr<std::vector<OrderKey>> RequestedOrder(const Json& request);

// The number of bins that request.start, request.end and request.interval
// make: ceil((end - start) / interval), bin i being [start + i*interval,
// start + (i+1)*interval) and the last one closed at end (the bins of
// /aggregate/histogram and /aggregate/statistics/byrange). InvalidArgument
// names interval (not a positive number; more than 10^7 bins) or end (not
// greater than start, or a bound not finite).
absl::StatusOr<int64_t> RequestedBins(const Json& request);

}  // namespace engine
