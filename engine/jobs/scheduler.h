#pragma once

// The scheduler: keeps jobs on one table in order and hands runnable jobs to
// a stream of the device that holds their table.
//
// Each job declares, when it is submitted, the names it reads and writes.
// Per name, jobs are admitted in submission order: consecutive readers run
// together; a writer waits until every job before it on that name has
// finished, and every later job waits for the writer. A job with several
// names runs when it is admitted on all of them; since every name's queue
// follows the one global submission order, this cannot deadlock.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/jobs/access.h"
#include "engine/jobs/device.h"

namespace engine {

class Scheduler {
 public:
  // Picks the device for a job when it becomes runnable (when the tables it
  // names are settled).
  using PlaceFn = std::function<Device&()>;
  // Runs the job on the stream's worker.
  using RunFn = std::function<void(Stream&)>;

  Scheduler() = default;
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a job behind the jobs already submitted on the same names. A
  // `quick` job (one that runs in microseconds) admitted at once runs here,
  // on the caller's thread, when its stream is idle (Stream::TryRunHere).
  void Submit(std::vector<Access> accesses, PlaceFn place, RunFn run, bool quick = false);

  // Jobs submitted and not yet finished.
  size_t outstanding() const;
  // Waits until no job is outstanding, or `deadline`; true when idle.
  bool WaitIdle(absl::Time deadline) const;

 private:
  struct Task {
    std::vector<Access> accesses;
    PlaceFn place;
    RunFn run;
    bool started = false;
  };
  struct Entry {
    Task* task;
    bool write;
  };

  bool Admitted(const Task& task) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts every not-yet-started task at the head of `names`' queues that is
  // now admitted; collects them in `ready`.
  void CollectReady(const std::vector<std::string>& names, std::vector<Task*>* ready)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Posts the task to the least busy stream of its device, or, with `here`,
  // runs it on this thread when that stream is idle.
  void Dispatch(Task* task, bool here = false);
  void Finish(Task* task);

  mutable absl::Mutex mu_;
  mutable absl::CondVar idle_;
  std::map<std::string, std::deque<Entry>> queues_ ABSL_GUARDED_BY(mu_);
  std::map<Task*, std::unique_ptr<Task>> tasks_ ABSL_GUARDED_BY(mu_);
};

}  // namespace engine
