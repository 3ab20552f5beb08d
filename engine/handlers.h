#pragma once

// Endpoint handlers: for each data endpoint, which tables its request touches
// (so the scheduler can order it) and how it runs on a device stream.
// Requests arrive normalized against the endpoint's schema (api_schema.h):
// every field present with the right type.

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/catalog.h"
#include "engine/device.h"
#include "engine/json.h"
#include "engine/scheduler.h"

namespace engine {

struct EngineLimits {
  // Most rows a read endpoint returns; limit = -9999 asks for this many.
  int64_t max_get_records_size = 20000;
  // Rows a scan processes between checkpoints (progress, cancel, deadline).
  int64_t chunk_rows = int64_t{1} << 22;
};

// What a running job may use.
struct JobContext {
  Catalog& catalog;
  Device& device;
  const kernels::Exec& exec;
  const EngineLimits& limits;
  // Called at chunk boundaries with the work done so far (done of total
  // units, any unit). Records progress and says whether to go on: OK, or
  // Cancelled / DeadlineExceeded, which the handler returns at once.
  std::function<absl::Status(int64_t done, int64_t total)> checkpoint;
};

struct Handler {
  // Whether a running job may be cancelled: reads can; jobs that change
  // tables or types cannot.
  bool cancellable;
  // The names the request reads and writes. Errors here (a malformed name)
  // reject the job at submission.
  absl::StatusOr<std::vector<Access>> (*access)(const Json& request);
  // Runs the request and returns the endpoint's response record. Errors are
  // the job's error; messages name the field and the problem.
  absl::StatusOr<Json> (*run)(JobContext& ctx, const Json& request);
};

// The handler of `endpoint` ("/filter"), or null when the engine does not
// serve it.
const Handler* FindHandler(absl::string_view endpoint);
// Every endpoint with a handler.
std::vector<std::string> ServedEndpoints();

// Handler tables of each group of endpoints (handlers_*.cc).
void AddTableHandlers(std::map<std::string, Handler, std::less<>>* handlers);
void AddRecordHandlers(std::map<std::string, Handler, std::less<>>* handlers);
void AddQueryHandlers(std::map<std::string, Handler, std::less<>>* handlers);
void AddAggregateHandlers(std::map<std::string, Handler, std::less<>>* handlers);

}  // namespace engine
