#pragma once

// Watchers of jobs, for the engine's and the server's tests:
//   - AwaitFinished: a job's final record (Engine::WhenFinished), waited for;
//   - WatchLog: every record a watcher is given;
//   - ProgressPause: holds a running job's worker at its first progress
//     report until released, so that the job is known to be running,
//     between two chunks.
// Each watcher's state is shared with the callback, so a callback that comes
// after the test object is gone is harmless.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/jobs/tracker.h"
#include "tests/common/sync.h"

namespace gpudb_test {

// The job's final record once it has finished, or a default record after a
// reported failure (the job is not there, or it did not finish within
// kTimeout). `what` names the job in failures.
inline engine::JobSnapshot AwaitFinished(engine::Engine& engine, int64_t id, const std::string& what = "") {
  auto done = std::make_shared<std::promise<engine::JobSnapshot>>();
  std::future<engine::JobSnapshot> future = done->get_future();
  if (!engine.WhenFinished(id, [done](const engine::JobSnapshot& s) { done->set_value(s); })) {
    ADD_FAILURE() << what << (what.empty() ? "" : ": ") << "job " << id << " is not here";
    return engine::JobSnapshot();
  }
  if (future.wait_for(kTimeout) != std::future_status::ready) {
    ADD_FAILURE() << what << (what.empty() ? "" : ": ") << "job " << id << " did not finish";
    return engine::JobSnapshot();
  }
  return future.get();
}

// Records every call a watcher gets (JobTracker::Watch, Engine::WatchJob);
// thread-safe.
class WatchLog {
 public:
  engine::JobTracker::WatchFn Fn() {
    return [state = state_](const engine::JobSnapshot& job) {
      std::lock_guard<std::mutex> lock(state->mu);
      state->calls.push_back(job);
      return true;
    };
  }
  // The calls in the order they came.
  std::vector<engine::JobSnapshot> calls() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->calls;
  }
  // The calls in the order of the record's versions (calls may come from
  // several threads, out of order).
  std::vector<engine::JobSnapshot> in_version_order() const {
    std::vector<engine::JobSnapshot> out = calls();
    std::stable_sort(out.begin(), out.end(), [](const engine::JobSnapshot& a, const engine::JobSnapshot& b) {
      return a.version < b.version;
    });
    return out;
  }
  // Calls with a final state.
  int finals() const {
    const std::vector<engine::JobSnapshot> all = calls();
    return static_cast<int>(
        std::count_if(all.begin(), all.end(), [](const engine::JobSnapshot& j) { return j.finished(); }));
  }
  // Whether any call saw the job running.
  bool ever_ran() const {
    const std::vector<engine::JobSnapshot> all = calls();
    return std::any_of(all.begin(), all.end(),
                       [](const engine::JobSnapshot& j) { return j.state == engine::JobState::kRunning; });
  }
  // Progress values strictly between 0 and 100, in version order, each once.
  std::vector<int> intermediate() const {
    std::vector<int> out;
    for (const engine::JobSnapshot& c : in_version_order()) {
      if (c.progress > 0 && c.progress < 100 && (out.empty() || out.back() != c.progress)) out.push_back(c.progress);
    }
    return out;
  }
  // Every progress value, in the order the calls came.
  std::vector<int> progress() const {
    std::vector<int> out;
    for (const engine::JobSnapshot& c : calls()) out.push_back(c.progress);
    return out;
  }

 private:
  struct State {
    std::mutex mu;
    std::vector<engine::JobSnapshot> calls;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// Holds a running job's worker (the thread telling the watcher of the job's
// progress: the stream's worker, between two chunks) at the job's first
// progress report above 0, until released. Released when destroyed.
class ProgressPause {
 public:
  ProgressPause() = default;
  // Watches job `id` of `engine` with Fn().
  ProgressPause(engine::Engine& engine, int64_t id) {
    EXPECT_NE(engine.WatchJob(id, Fn()), 0) << "job " << id << " is not there to pause";
  }
  ProgressPause(const ProgressPause&) = delete;
  ProgressPause& operator=(const ProgressPause&) = delete;
  ~ProgressPause() { Release(); }

  engine::JobTracker::WatchFn Fn() {
    return [state = state_](const engine::JobSnapshot& job) {
      if (job.finished()) {  // it ended before any progress: nothing to hold
        state->reached.Notify();
        return false;
      }
      if (job.state != engine::JobState::kRunning || job.progress == 0) return true;
      state->progress = job.progress;
      state->held = true;
      state->reached.Notify();
      state->release.Wait();
      return false;
    };
  }
  // True once the job is held (within `timeout`); false when it is not (it
  // finished first, or the time ran out).
  bool WaitReached(std::chrono::milliseconds timeout = kTimeout) { return state_->reached.Wait(timeout) && state_->held; }
  void Release() { state_->release.Notify(); }
  // The progress it was held at.
  int progress() const { return state_->progress.load(); }

 private:
  struct State {
    Event reached;
    Event release;
    std::atomic<bool> held{false};  // set before `reached` is notified
    std::atomic<int> progress{0};
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace gpudb_test
