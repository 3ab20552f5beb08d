#pragma once

// What an endpoint's handler is: which names its request touches (so the
// scheduler can order it) and how it runs. Requests arrive normalized against
// the endpoint's schema (api/schema.h): every field present with its type.
// Handlers of data endpoints run on a stream of a device (JobContext); the
// administration endpoints run at submission, so that a cancel or a status
// never waits behind other work (AdminContext).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/api/json.h"
#include "engine/jobs/access.h"
#include "engine/jobs/device.h"
#include "engine/jobs/tracker.h"
#include "engine/table/catalog.h"

namespace engine {

struct EngineLimits {
  // Most rows a read endpoint returns; limit = -9999 asks for this many.
  int64_t max_get_records_size = 20000;
  // Rows a scan processes between checkpoints (progress, cancel, deadline).
  int64_t chunk_rows = int64_t{1} << 22;
  // Rows a spread table puts on a device before it uses the next one
  // (--spread-chunk-rows): smaller tables stay on one device.
  int64_t spread_chunk_rows = int64_t{1} << 20;
  // The directory whose files /insert/records/fromfiles reads and
  // /export/records/tofiles writes (--files-dir); empty: none, and those
  // endpoints refuse.
  std::string files_dir;
};

// What a job running on a stream may use.
struct JobContext {
  Catalog& catalog;
  Device& device;
  const kernels::Exec& exec;
  const EngineLimits& limits;
  // Every device of the engine (where distributed tables go).
  const std::vector<std::unique_ptr<Device>>& devices;
  // Called at chunk boundaries with the work done so far (done of total
  // units, any unit). Records progress and says whether to go on: OK, or
  // Cancelled / DeadlineExceeded, which the handler returns at once.
  std::function<absl::Status(int64_t done, int64_t total)> checkpoint;
};

// What an administration endpoint reads and changes.
struct AdminContext {
  JobTracker& jobs;
  const Catalog& catalog;
  const std::vector<std::unique_ptr<Device>>& devices;
  const EngineLimits& limits;
  bool draining;  // the engine is shutting down
  // The user asking (engine.h's MaySee says which jobs it sees and cancels).
  std::string caller;
};

struct Handler {
  // Whether a running job may be cancelled: reads can; jobs that change
  // tables or types cannot.
  bool cancellable = false;
  // The names the request reads and writes: tables as the request spells
  // them, or a schema's SchemaAccessName (the engine orders jobs by
  // SchedulerAccesses of these, table/names.h). Errors here (a malformed
  // name) reject the job at submission.
  absl::StatusOr<std::vector<Access>> (*access)(const Json& request) = nullptr;
  // Exactly one of these is set. `run` runs the job on a stream; `run_admin`
  // runs it at submission. Either returns the endpoint's response record;
  // errors are the job's error, their messages naming the field and the
  // problem.
  absl::StatusOr<Json> (*run)(JobContext& ctx, const Json& request) = nullptr;
  absl::StatusOr<Json> (*run_admin)(AdminContext& ctx, const Json& request) = nullptr;
  // When set, decides `cancellable` per request (an endpoint whose requests
  // read or change, as /execute/sql's statements do).
  bool (*cancellable_request)(const Json& request) = nullptr;
  // The job reads metadata only (names, types, sizes) and takes
  // microseconds whatever the tables hold: when its stream is idle it runs on
  // the submitting thread (Scheduler::Submit), so that a trivial job's
  // create-and-wait costs two round trips and no thread hand-off.
  bool quick = false;
};

// `handler`, marked quick.
inline Handler Quick(Handler handler) {
  handler.quick = true;
  return handler;
}

}  // namespace engine
