#pragma once

// The job tracker: every job's record under its id and its tag, from
// creation until it is fetched, expires or is evicted. Thread-safe.
//
// - Ids are unique and increasing; tags are the caller's (validated) or
//   generated (random, unique, not derivable from the id).
// - States: kQueued → kRunning → one of kDone, kError, kCancelled. A job
//   reaches exactly one final state; later outcomes are ignored.
// - Retention: a finished job is kept for `ttl`, and stored results are kept
//   within `result_memory_limit` bytes, the oldest finished evicted first. A
//   job that is gone leaves a tombstone, so that a lookup says why (fetched,
//   expired, evicted) rather than "does not exist".
// - Idempotency: a job created with a request id is remembered for `ttl`; the
//   same id with the same fingerprint returns the original job.
// - Watchers see every change of state and progress.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/api/json.h"
#include "engine/jobs/limits.h"

namespace engine {

enum class JobState { kQueued, kRunning, kDone, kError, kCancelled };

// The spec's job_status: a queued job reports RUNNING (Kinetica has no
// queued state).
const char* JobStatusName(JobState state);

// What a running job consults at its chunk boundaries: whether it was asked
// to stop, and its deadline. Shared by the tracker and the job.
class JobControl {
 public:
  explicit JobControl(absl::Time deadline) : deadline_(deadline) {}

  void RequestCancel() { cancel_.store(true, std::memory_order_relaxed); }
  absl::Time deadline() const { return deadline_; }

  // OK to go on; Cancelled when a cancel was requested; DeadlineExceeded
  // past the deadline.
  absl::Status Check() const;

 private:
  std::atomic<bool> cancel_{false};
  const absl::Time deadline_;  // absl::InfiniteFuture(): none
};

// A consistent copy of a job's record.
struct JobSnapshot {
  int64_t id = 0;
  std::string tag;
  std::string endpoint;
  std::string request_encoding;  // binary, json or snappy
  JobState state = JobState::kQueued;
  int progress = 0;                      // 0..100; 100 when kDone
  std::shared_ptr<const Json> response;  // kDone only: the endpoint's response record
  std::string error;                     // kError and kCancelled: why
  int64_t time_received_ms = 0;          // epoch ms
  int64_t received_us = 0;               // epoch µs: received, started running, finished
  int64_t started_us = 0;                // 0 until it runs
  int64_t finished_us = 0;               // 0 until it finishes
  bool async = true;                     // false: a synchronous call (Execute)
  bool remove_on_complete = false;       // removed once fetched finished
  std::string user_data;                 // the request's options.job_user_data
  std::string source_ip;
  std::string auth_id;                   // the authenticated submitter; empty: none
  std::string worker;                    // where it ran: "host:0/2" (device/stream)
  int64_t version = 0;                   // rises with every change of the record

  bool finished() const {
    return state == JobState::kDone || state == JobState::kError || state == JobState::kCancelled;
  }
};

// Kinetica's administrator: with authentication, the one user who sees and
// cancels every user's jobs.
inline constexpr absl::string_view kAdminUser = "admin";

// Whether `caller` (the authenticated user asking; "" without
// authentication) may see and cancel `job`: its own jobs; every job for the
// administrator and when there is no authentication.
inline bool SeesEveryJob(absl::string_view caller) { return caller.empty() || caller == kAdminUser; }
inline bool MaySee(absl::string_view caller, const JobSnapshot& job) {
  return SeesEveryJob(caller) || job.auth_id == caller;
}

// Checks a caller's job tag: 1..256 letters, digits, '_' or '-'.
absl::Status ValidateJobTag(absl::string_view tag);

struct TrackerOptions {
  absl::Duration ttl = absl::Hours(1);
  size_t result_memory_limit = size_t{1} << 30;
  // Per user (a job's auth_id): unfinished jobs and result bytes.
  LimitsByUser limits;
};

// The first job id of a tracker starting now: 1024 times the milliseconds
// since the epoch, and past every id of the process's earlier trackers. Ids
// are then never given twice, across restarts too, unless a run averaged
// more than a million jobs a second or the clock went back; they stay below
// 2^53 (exact in JSON numbers) until the year 2248.
int64_t FirstJobId();

class JobTracker {
 public:
  explicit JobTracker(TrackerOptions options = {});

  struct NewJob {
    std::string endpoint;
    std::string request_encoding;
    std::string tag;  // empty: generate one
    bool remove_on_complete = false;
    bool async = true;
    bool cancellable = true;
    std::string user_data;
    std::string source_ip;
    std::string auth_id;
    absl::Time deadline = absl::InfiniteFuture();
    std::string request_id;   // empty: none
    uint64_t fingerprint = 0; // of the request, for request_id
  };
  struct Created {
    JobSnapshot job;
    std::shared_ptr<JobControl> control;
    bool reused = false;  // an earlier job with the same request id
  };
  // Registers a queued job. InvalidArgument for a malformed tag, a tag that
  // another job holds, or a request id used for a different request;
  // ResourceExhausted when the user (auth_id) has as many unfinished jobs as
  // its limits allow (TrackerOptions::limits). For a
  // repeated request id whose job is no longer here, only the id, tag and
  // endpoint of the returned record are set.
  absl::StatusOr<Created> Create(NewJob job);

  // The job created earlier with `request_id`, if any (as Create would reuse
  // it); InvalidArgument when that job was for a different fingerprint.
  absl::StatusOr<std::optional<JobSnapshot>> FindRequest(absl::string_view request_id, uint64_t fingerprint);

  // The job's record, for `caller` (MaySee; "": every job). NotFound when
  // the job is not here, saying why when it was here (fetched with
  // remove_job_on_complete, expired, evicted, a synchronous call); another
  // user's job, here or gone, is NotFound as one that never existed (and is
  // not consumed). With `consume`, a finished job created with
  // remove_on_complete is removed by this call.
  absl::StatusOr<JobSnapshot> Get(int64_t id, bool consume = true, absl::string_view caller = "");
  absl::StatusOr<JobSnapshot> GetByTag(absl::string_view tag, bool consume = true, absl::string_view caller = "");

  // Marks a queued job running on `worker`; false when it has already
  // finished (cancelled or past its deadline while it waited): do not run it.
  bool MarkRunning(int64_t id, const std::string& worker);
  // REQUIRES: 0 <= progress <= 100. Ignored once the job has finished.
  void SetProgress(int64_t id, int progress);
  // Records the outcome: kDone with the response; kCancelled for a
  // Cancelled status; kError otherwise, with the status's message, or when
  // the response is larger than its user's limits allow.
  void Finish(int64_t id, absl::StatusOr<Json> result);

  // Cancels a job: a queued one at once; a running one is asked to stop at
  // its next chunk boundary. Returns the outcome as the status text of
  // /admin/alter/jobs, e.g. "CANCELLED", "CANCEL_REQUESTED",
  // "NOT_CANCELLED: already finished (DONE)", "NOT_CANCELLABLE: /insert/records
  // changes data", "NOT_FOUND: job 12 does not exist" (also for another
  // user's job, as Get).
  std::string Cancel(int64_t id, absl::string_view caller = "");

  // Calls `watch` with the job's record now and after every change of state
  // or progress, until it returns false or the job has finished; the final
  // state is delivered exactly once. Calls may come from several threads and
  // out of order (a watcher keeps the highest `version` it has seen), and a
  // call already under way may still arrive after one returned false. Returns
  // a token for Unwatch, or 0 (and makes no call) when the job is not here.
  using WatchFn = std::function<bool(const JobSnapshot&)>;
  int64_t Watch(int64_t id, WatchFn watch);
  void Unwatch(int64_t id, int64_t token);

  // Records of the jobs here, by id.
  std::vector<JobSnapshot> List() const;

  // Brings back finished jobs (from a data directory at start): their ids,
  // tags and outcomes as recorded; finished_us counts for the TTL. New jobs
  // get ids above theirs. REQUIRES: each job finished; called before any
  // Create.
  void Restore(std::vector<JobSnapshot> jobs);

  // Forgets a job; later lookups say it was a synchronous call.
  void RemoveSynchronous(int64_t id);

  // The ids of the asynchronous jobs dropped (fetched with
  // remove_on_complete, expired, evicted) since the last call, so that a
  // data directory drops them too.
  std::vector<int64_t> TakeForgotten();

  // Expires finished jobs, request ids and tombstones past the TTL, and
  // fails queued jobs past their deadline. Returns when it next has work.
  absl::Time Sweep(absl::Time now);

  // The limits of `user` (TrackerOptions::limits).
  const UserLimits& LimitsOf(absl::string_view user) const { return options_.limits.For(user); }

  // Jobs here, and bytes of results stored.
  size_t size() const;
  // Records held: jobs here and tombstones of jobs gone.
  size_t records() const;
  size_t result_bytes() const;
  // How many watchers the job has now (waiting GetJob calls, WatchJob
  // streams, synchronous callers); 0 when it is not here. Read-only, for
  // tests that wait until a caller is waiting on a job.
  size_t watchers(int64_t id) const;

 private:
  enum class Gone { kTaken, kExpired, kEvicted, kSynchronous };
  // What is left of a job that is gone.
  struct Tombstone {
    Gone why;
    std::string tag;
    std::string user;  // its auth_id
  };
  struct Record {
    JobSnapshot job;
    std::shared_ptr<JobControl> control;
    bool remove_on_complete = false;
    bool cancellable = true;
    size_t result_bytes = 0;
    std::map<int64_t, WatchFn> watchers;
  };
  struct RequestId {
    uint64_t fingerprint;
    int64_t job_id;
    std::string tag;
  };
  // Watchers to call, with the record they see, once the lock is released.
  struct Notice {
    JobSnapshot job;
    int64_t id;
    std::vector<std::pair<int64_t, WatchFn>> watchers;
  };
  using Records = std::map<int64_t, Record>;

  // `how` names the job in a NotFound ("job_id: job 7").
  absl::StatusOr<JobSnapshot> Lookup(Records::iterator it, bool consume, absl::string_view caller,
                                     absl::string_view how) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The earlier job of a request id, as Create and FindRequest return it.
  absl::StatusOr<std::optional<Created>> Reuse(absl::string_view request_id, uint64_t fingerprint, absl::string_view endpoint)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status Missing(int64_t id, absl::string_view how, absl::string_view caller) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string GenerateTag() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops a record, leaving a tombstone dated `now`.
  void Erase(Records::iterator it, Gone why, absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Drops the tombstone of job `id`, if it has one.
  void DropTombstone(int64_t id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Moves a record to a final state and collects its watchers.
  Notice Settle(Records::iterator it, JobState state, absl::StatusOr<Json> result)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Notice Changed(Records::iterator it) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void EvictOverBudget() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Calls the watchers outside the lock; drops those that are done.
  void Deliver(std::vector<Notice> notices);

  const TrackerOptions options_;
  mutable absl::Mutex mu_;
  // Job ids count up, one per job, from FirstJobId() (and past every
  // restored job's).
  int64_t next_id_ ABSL_GUARDED_BY(mu_);
  int64_t next_token_ ABSL_GUARDED_BY(mu_) = 1;
  Records jobs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int64_t> tags_ ABSL_GUARDED_BY(mu_);
  // Finished async jobs in the order they finished (for the TTL), and those
  // of them holding results (for eviction).
  std::deque<std::pair<absl::Time, int64_t>> finished_ ABSL_GUARDED_BY(mu_);
  std::deque<int64_t> results_ ABSL_GUARDED_BY(mu_);
  // Unfinished jobs per user (auth_id), for UserLimits::max_jobs.
  std::map<std::string, int64_t, std::less<>> unfinished_ ABSL_GUARDED_BY(mu_);
  size_t result_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  // Queued jobs by deadline.
  std::multimap<absl::Time, int64_t> deadlines_ ABSL_GUARDED_BY(mu_);
  // Why jobs that were here are gone, and their tags: kept for the TTL (in
  // the order they went), and at most kMaxTombstones.
  absl::flat_hash_map<int64_t, Tombstone> gone_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int64_t> gone_tags_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<absl::Time, int64_t>> gone_order_ ABSL_GUARDED_BY(mu_);
  std::vector<int64_t> forgotten_ ABSL_GUARDED_BY(mu_);  // TakeForgotten's
  std::map<std::string, RequestId, std::less<>> request_ids_ ABSL_GUARDED_BY(mu_);
  std::deque<std::pair<absl::Time, std::string>> request_id_order_ ABSL_GUARDED_BY(mu_);
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace engine
