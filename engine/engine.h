#pragma once

// The engine: the one way to run an endpoint. A job is submitted with its
// endpoint and request record; the engine checks the request against the
// endpoint's schema, registers the job with the tracker (id and tag), lets
// the scheduler order it against other jobs on the same tables, and runs it
// on a stream of the device that holds its table. The outcome is recorded
// under the job's id and tag.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/catalog.h"
#include "engine/device.h"
#include "engine/handlers.h"
#include "engine/json.h"
#include "engine/scheduler.h"
#include "engine/tracker.h"

namespace engine {

struct EngineOptions {
  DeviceOptions devices;
  EngineLimits limits;
};

struct JobRequest {
  std::string endpoint;                     // e.g. "/filter"
  std::string request_encoding = "binary";  // binary, json or snappy: recorded for the response
  Json request;                             // the endpoint's request record
  std::string job_tag;                      // empty: generate one
  bool remove_job_on_complete = false;
};

class Engine {
 public:
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const EngineOptions& options);
  // Finishes the jobs already on streams, then frees every table.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Validates and queues a job; returns its record (id, tag). Errors
  // (InvalidArgument) name the field: an unknown endpoint, a request that
  // does not match the endpoint's schema, a bad tag or table name.
  absl::StatusOr<JobSnapshot> Submit(JobRequest job);

  // As JobTracker::Get / GetByTag.
  absl::StatusOr<JobSnapshot> GetJob(int64_t id) { return tracker_.Get(id); }
  absl::StatusOr<JobSnapshot> GetJobByTag(absl::string_view tag) { return tracker_.GetByTag(tag); }
  // Calls `done` when the job finishes (at once if it has).
  void WhenFinished(int64_t id, std::function<void(const JobSnapshot&)> done) {
    tracker_.WhenFinished(id, std::move(done));
  }
  void ForgetJob(int64_t id) { tracker_.Remove(id); }

  const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }
  Catalog& catalog() { return catalog_; }

 private:
  explicit Engine(const EngineOptions& options, std::vector<std::unique_ptr<Device>> devices);
  // The device for a job when it becomes runnable: the device of the first
  // table it names that exists, else the device with the fewest tables (then
  // the most free memory).
  Device& Place(const std::vector<Access>& accesses);
  void Run(int64_t job_id, const Handler* handler, const Json& request, Stream& stream);

  const EngineLimits limits_;
  // Declared first so that they are destroyed last: tables free into them.
  std::vector<std::unique_ptr<Device>> devices_;
  Catalog catalog_;
  JobTracker tracker_;
  Scheduler scheduler_;
};

}  // namespace engine
