#pragma once

// The job tracker: every job's record under its id and its tag, from
// creation to the moment a client takes its result. Thread-safe. Ids are
// unique and increasing; tags are the caller's (validated) or generated
// (random, unique, not derivable from the id).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "engine/json.h"

namespace engine {

// A job's life: kQueued → kRunning → one of kDone, kError, kCancelled.
enum class JobState { kQueued, kRunning, kDone, kError, kCancelled };

// The spec's job_status: a queued job reports RUNNING (Kinetica has no
// queued state).
const char* JobStatusName(JobState state);

// A consistent copy of a job's record.
struct JobSnapshot {
  int64_t id = 0;
  std::string tag;
  std::string endpoint;
  std::string request_encoding;  // binary, json or snappy
  JobState state = JobState::kQueued;
  int progress = 0;                     // 0..100; 100 when kDone
  std::shared_ptr<const Json> response; // kDone only: the endpoint's response record
  std::string error;                    // kError/kCancelled: why
  int64_t time_received_ms = 0;         // epoch ms

  bool finished() const {
    return state == JobState::kDone || state == JobState::kError || state == JobState::kCancelled;
  }
};

// Checks a caller's job tag: 1..256 letters, digits, '_' or '-'.
absl::Status ValidateJobTag(absl::string_view tag);

class JobTracker {
 public:
  JobTracker();

  struct NewJob {
    std::string endpoint;
    std::string request_encoding;
    std::string tag;  // empty: generate one
    bool remove_on_complete = false;
  };
  // Registers a queued job. InvalidArgument for a malformed tag or one that
  // another job holds.
  absl::StatusOr<JobSnapshot> Create(NewJob job);

  // The job's record. NotFound when no such job exists (any more). A
  // finished job created with remove_on_complete is removed by this call.
  absl::StatusOr<JobSnapshot> Get(int64_t id);
  absl::StatusOr<JobSnapshot> GetByTag(absl::string_view tag);

  void MarkRunning(int64_t id);
  // REQUIRES: 0 <= progress <= 100. Ignored once the job has finished.
  void SetProgress(int64_t id, int progress);
  // Records the outcome (kDone with the response, or kError with the
  // status's message) and calls the job's waiters.
  void Finish(int64_t id, absl::StatusOr<Json> result);

  // Calls `done` once, with the final record, when the job finishes; at once
  // (on this thread) if it already has. Waiters of a removed job are not called.
  void WhenFinished(int64_t id, std::function<void(const JobSnapshot&)> done);

  // Forgets a job.
  void Remove(int64_t id);

  // Jobs currently known.
  size_t size() const;

 private:
  struct Record {
    JobSnapshot job;
    bool remove_on_complete = false;
    std::vector<std::function<void(const JobSnapshot&)>> waiters;
  };

  absl::StatusOr<JobSnapshot> Take(std::map<int64_t, Record>::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string GenerateTag() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EraseLocked(std::map<int64_t, Record>::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  int64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<int64_t, Record> jobs_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t, std::less<>> tags_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace engine
