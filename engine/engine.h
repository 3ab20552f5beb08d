#pragma once

// The engine: the one way to run an endpoint. A job is submitted with its
// endpoint (handlers/registry.h) and request record; the engine checks the
// request against the endpoint's schema (api/), registers the job with the
// tracker (jobs/tracker.h: id and tag), lets the scheduler order it against
// other jobs on the same tables (jobs/scheduler.h), and runs its handler
// (handlers/) on a stream of the device that holds its table. The outcome is
// recorded under the job's id and tag.
//
// The administration endpoints (handlers/admin.cc) are jobs too, but run at
// submission, so that a cancel or a status never waits behind other work.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/api/json.h"
#include "engine/handlers/handler.h"
#include "engine/handlers/registry.h"
#include "engine/jobs/device.h"
#include "engine/jobs/scheduler.h"
#include "engine/jobs/tracker.h"
#include "engine/storage/store.h"
#include "engine/table/catalog.h"

namespace engine {

struct EngineOptions {
  DeviceOptions devices;
  EngineLimits limits;
  TrackerOptions jobs;
  // Jobs waiting for a device (submitted, not started) beyond which new
  // submissions are refused with ResourceExhausted.
  int max_queued_jobs = 10000;
  // Where tables and finished jobs are kept (storage/store.h); an empty
  // data_dir keeps everything in memory only.
  storage::StorageOptions storage;
};

struct JobRequest {
  const Endpoint* endpoint = nullptr;       // FindEndpoint("/filter")
  std::string request_encoding = "binary";  // binary, json or snappy: recorded for the response
  Json request;                             // the endpoint's request record
  std::string job_tag;                      // empty: generate one
  bool remove_job_on_complete = false;
  bool async = true;                        // false: a synchronous call, forgotten once answered
  std::string request_id;                   // empty: none (see JobTracker)
  // Stop the job (ERROR) this long after submission; zero: the request's
  // options.timeout_ms, if any, else no deadline.
  absl::Duration timeout = absl::ZeroDuration();
  std::string source_ip;
  std::string auth_id;  // the authenticated user who submitted it; empty: none
};

// A job named by its id or, when `tag` is set, by its tag.
struct JobRef {
  int64_t id = 0;
  std::optional<std::string> tag;
};

class Engine {
 public:
  // With a data directory, first brings back what it holds: tables onto
  // their devices, finished jobs into the tracker (lines saying what was
  // done go to `notes`, when given). Errors: the devices', the data
  // directory's (storage::Store::Open).
  static absl::StatusOr<std::unique_ptr<Engine>> Create(const EngineOptions& options,
                                                        std::vector<std::string>* notes = nullptr);
  // Drains (Drain(0)): cancels what can be cancelled, finishes the rest,
  // writes a checkpoint when there is a data directory, then frees every
  // table.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Validates and queues a job; returns its record (id, tag), or the
  // original job's record for a repeated request id. Errors:
  // InvalidArgument naming the field (an endpoint not run as a job, a
  // request that does not match the endpoint's schema, a bad tag, table
  // name, request id or timeout); ResourceExhausted when too many jobs wait
  // for the device; Unavailable once draining.
  absl::StatusOr<JobSnapshot> Submit(JobRequest job);

  // The job's record, as JobTracker::Get (by id) or GetByTag (by tag), for
  // `caller` (see MaySee): another user's job is NotFound, as a job that
  // does not exist (and is not consumed).
  absl::StatusOr<JobSnapshot> FindJob(const JobRef& job, bool consume = true, absl::string_view caller = "");
  // Cancels a job for `caller`, as JobTracker::Cancel; another user's job is
  // NOT_FOUND.
  std::string CancelJob(int64_t id, absl::string_view caller = "");
  // As JobTracker::Watch / Unwatch.
  int64_t WatchJob(int64_t id, JobTracker::WatchFn watch) { return tracker_.Watch(id, std::move(watch)); }
  void UnwatchJob(int64_t id, int64_t token) { tracker_.Unwatch(id, token); }
  // Calls `done` once with the final record when the job finishes (at once
  // if it has). Returns false, without calling, when the job is not here.
  bool WhenFinished(int64_t id, std::function<void(const JobSnapshot&)> done);
  // Forgets a synchronous job once its caller has its answer.
  void ForgetJob(int64_t id) { tracker_.RemoveSynchronous(id); }

  // Stops accepting jobs, lets the unfinished ones run for `grace`, then
  // cancels those that can be cancelled and waits for the rest. Idempotent.
  void Drain(absl::Duration grace);
  bool draining() const { return draining_.load(); }

  const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }
  Catalog& catalog() { return catalog_; }
  const JobTracker& tracker() const { return tracker_; }
  // The data directory, or null in memory-only mode.
  storage::Store* store() { return store_.get(); }

 private:
  Engine(const EngineOptions& options, std::vector<std::unique_ptr<Device>> devices);
  // The device for a job when it becomes runnable: the device of the first
  // table it names that exists, else the device with the fewest tables (then
  // the most free memory).
  Device& Place(const std::vector<Access>& accesses);
  void Run(int64_t job_id, const Handler& handler, const Json& request, std::shared_ptr<JobControl> control,
           Stream& stream);
  // Puts what a data directory held into the catalog and the tracker.
  absl::Status Restore(storage::Recovered recovered);
  // Records the job's outcome in the data directory, then in the tracker.
  void Finish(int64_t job_id, absl::StatusOr<Json> result);
  void Reap();

  const EngineLimits limits_;
  const int max_queued_jobs_;
  // Longest the reaper sleeps: a second, or a quarter of a short TTL.
  const absl::Duration reap_interval_;
  // Declared first so that they are destroyed last: tables free into them.
  std::vector<std::unique_ptr<Device>> devices_;
  std::unique_ptr<std::atomic<int>[]> queued_;  // per device: submitted, not started
  Catalog catalog_;
  JobTracker tracker_;
  Scheduler scheduler_;
  std::unique_ptr<storage::Store> store_;  // after the catalog: stopped first
  std::atomic<bool> draining_{false};

  // The reaper: expires jobs and enforces deadlines of waiting jobs.
  absl::Mutex reaper_mu_;
  absl::CondVar reaper_cv_;
  bool stopping_ ABSL_GUARDED_BY(reaper_mu_) = false;
  bool wake_ ABSL_GUARDED_BY(reaper_mu_) = false;  // a new deadline: sweep again now
  std::thread reaper_;
};

}  // namespace engine
