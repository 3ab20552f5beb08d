#pragma once

// Synchronization for tests: waits that end when what they wait for
// happens, each bounded by a generous timeout that only turns a hang into a
// failure (design.md: no sleeps as synchronization).
//   - Event: a one-shot event;
//   - Latch: counts down to zero (also a start line for threads);
//   - PollUntil: for a condition with no event to wait on (a state the
//     server holds, one that time brings about), polled with a deadline;
//   - WaitUntilPast: for when time passing is itself the condition (a
//     job's deadline, a TTL).

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace gpudb_test {

// How long a test waits for something that must happen before calling it a
// failure. Never used to let time pass: every wait ends when the event does.
// Generous: CI shares two cores between test processes.
inline constexpr std::chrono::seconds kTimeout(120);

// Epoch milliseconds now.
inline int64_t NowMs() { return absl::ToUnixMillis(absl::Now()); }

// A one-shot event. A waiter may destroy it as soon as Wait returns, so
// Notify wakes the waiters before it lets go of the lock (ThreadSanitizer
// caught a notify_all after the unlock racing the event's destructor).
class Event {
 public:
  void Notify() {
    std::lock_guard<std::mutex> lock(mu_);
    set_ = true;
    cv_.notify_all();
  }
  // True when the event happened within `timeout`.
  bool Wait(std::chrono::milliseconds timeout = kTimeout) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [this] { return set_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool set_ = false;
};

// Counts down to zero.
class Latch {
 public:
  explicit Latch(int count) : count_(count) {}
  void CountDown() {
    std::lock_guard<std::mutex> lock(mu_);
    if (--count_ == 0) cv_.notify_all();
  }
  // True when the count reached zero within kTimeout.
  bool Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kTimeout, [this] { return count_ <= 0; });
  }
  // A start line: counts down, then waits for the others.
  bool ArriveAndWait() {
    CountDown();
    return Wait();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_;
};

// Calls `condition` until it returns true (true), or until `timeout` has
// passed (false). The pause between calls doubles from 50 µs up to
// `max_pause`. For conditions that have no event to wait on.
template <typename Condition>
bool PollUntil(Condition&& condition, std::chrono::milliseconds timeout = kTimeout,
               std::chrono::microseconds max_pause = std::chrono::milliseconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(50);
  for (;;) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, max_pause);
  }
}

// Returns once the clock has passed `t`. For tests of what time brings about
// (a job's deadline, a TTL): the passing of time is the condition, and
// nothing else is waited for.
inline void WaitUntilPast(absl::Time t) {
  for (absl::Time now = absl::Now(); now <= t; now = absl::Now()) absl::SleepFor(t - now + absl::Microseconds(100));
}
inline void WaitUntilPast(std::chrono::steady_clock::time_point t) {
  while (std::chrono::steady_clock::now() <= t) std::this_thread::sleep_until(t + std::chrono::microseconds(100));
}

}  // namespace gpudb_test
