#include "engine/jobs/scheduler.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/jobs/device.h"
#include "tests/common/openmp.h"
#include "tests/common/sync.h"

namespace engine {
namespace {

using gpudb_test::Event;
using gpudb_test::Latch;

Access Read(std::string name) { return Access{std::move(name), false}; }
Access Write(std::string name) { return Access{std::move(name), true}; }

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DeviceOptions options;
    options.spec = "host:2";
    options.streams_per_device = 4;
    options.memory_limit = size_t{64} << 20;
    absl::StatusOr<std::vector<std::unique_ptr<Device>>> devices = CreateDevices(options);
    ASSERT_TRUE(devices.ok()) << devices.status();
    devices_ = std::move(*devices);
    ASSERT_EQ(devices_.size(), 2u);
  }

  // Runs what is queued, joins the workers: afterwards no scheduler code runs.
  void StopAll() {
    for (auto& d : devices_) d->StopStreams();
  }

  void TearDown() override {
    StopAll();
    EXPECT_EQ(scheduler_.outstanding(), 0u);
  }

  Scheduler::PlaceFn On(int device, std::atomic<int>* calls = nullptr) {
    return [this, device, calls]() -> Device& {
      if (calls != nullptr) ++*calls;
      return *devices_[device];
    };
  }

  // Posts a marker behind everything already queued on `stream` (the
  // stream's worker runs its tasks in order, each task being a job's run
  // and the scheduler's bookkeeping after it).
  static std::shared_ptr<Event> MarkerAfter(Stream& stream) {
    auto marker = std::make_shared<Event>();
    stream.Post([marker] { marker->Notify(); });
    return marker;
  }

  // Stops the streams when it goes out of scope. Declared in a test after
  // the locals that its jobs use, so that an early return from a failed
  // ASSERT cannot leave a job running against destroyed locals.
  struct StopGuard {
    SchedulerTest* test;
    ~StopGuard() { test->StopAll(); }
  };
  StopGuard Guard() { return StopGuard{this}; }

  // Declared before the devices, so destroyed after them.
  Scheduler scheduler_;
  std::vector<std::unique_ptr<Device>> devices_;
};

TEST_F(SchedulerTest, RunnableJobIsPlacedAtOnceAndRunsOnTheChosenDevice) {
  std::atomic<int> placed{0};
  Event ran;
  Device* ran_on = nullptr;
  StopGuard guard = Guard();
  scheduler_.Submit({Write("t")}, On(1, &placed), [&](Stream& s) {
    ran_on = &s.device();
    ran.Notify();
  });
  EXPECT_EQ(placed.load(), 1);  // the table is idle: placed during Submit
  ASSERT_TRUE(ran.Wait());
  EXPECT_EQ(ran_on, devices_[1].get());
}

TEST_F(SchedulerTest, JobWithoutAccessesRunsEvenWhileTablesAreBusy) {
  Event release, in_writer, free_ran;
  StopGuard guard = Guard();
  scheduler_.Submit({Write("t")}, On(0), [&](Stream&) {
    in_writer.Notify();
    release.Wait();
  });
  ASSERT_TRUE(in_writer.Wait());
  scheduler_.Submit({}, On(0), [&](Stream&) { free_ran.Notify(); });
  EXPECT_TRUE(free_ran.Wait());
  release.Notify();
}

TEST_F(SchedulerTest, ReadersOfOneTableRunConcurrently) {
  Event in1, in2, done1, done2;
  bool saw2 = false, saw1 = false;
  Stream* s1 = nullptr;
  Stream* s2 = nullptr;
  StopGuard guard = Guard();
  // Each reader waits, inside its run, for the other to be inside its run:
  // both finish only if they overlap.
  scheduler_.Submit({Read("t")}, On(0), [&](Stream& s) {
    s1 = &s;
    in1.Notify();
    saw2 = in2.Wait();
    done1.Notify();
  });
  scheduler_.Submit({Read("t")}, On(0), [&](Stream& s) {
    s2 = &s;
    in2.Notify();
    saw1 = in1.Wait();
    done2.Notify();
  });
  ASSERT_TRUE(done1.Wait());
  ASSERT_TRUE(done2.Wait());
  EXPECT_TRUE(saw2);
  EXPECT_TRUE(saw1);
  EXPECT_NE(s1, s2);
}

TEST_F(SchedulerTest, WriterWaitsForEarlierReadersAndLaterReadersWaitForTheWriter) {
  Event release_readers, r1_in, r2_in;
  std::atomic<int> readers_done{0};
  std::atomic<int> writer_placed{0}, reader_placed{0};
  Event w_in, release_writer, r3_done;
  int readers_done_at_writer = -1;
  std::atomic<bool> writer_done{false};
  bool writer_done_at_r3 = false;
  StopGuard guard = Guard();
  for (Event* in : {&r1_in, &r2_in}) {
    scheduler_.Submit({Read("t")}, On(0), [&, in](Stream&) {
      in->Notify();
      release_readers.Wait();
      ++readers_done;
    });
  }
  ASSERT_TRUE(r1_in.Wait());
  ASSERT_TRUE(r2_in.Wait());

  scheduler_.Submit({Write("t")}, On(1, &writer_placed), [&](Stream&) {
    readers_done_at_writer = readers_done.load();
    w_in.Notify();
    release_writer.Wait();
    writer_done = true;
  });
  scheduler_.Submit({Read("t")}, On(0, &reader_placed), [&](Stream&) {
    writer_done_at_r3 = writer_done.load();
    r3_done.Notify();
  });
  EXPECT_EQ(writer_placed.load(), 0);  // not runnable while the readers run
  EXPECT_EQ(reader_placed.load(), 0);

  release_readers.Notify();
  ASSERT_TRUE(w_in.Wait());
  EXPECT_EQ(readers_done_at_writer, 2);
  EXPECT_EQ(writer_placed.load(), 1);
  EXPECT_EQ(reader_placed.load(), 0);  // the writer is still inside its run

  release_writer.Notify();
  ASSERT_TRUE(r3_done.Wait());
  EXPECT_TRUE(writer_done_at_r3);
  EXPECT_EQ(reader_placed.load(), 1);
}

TEST_F(SchedulerTest, WritersOnOneTableRunAloneInSubmissionOrder) {
  constexpr int kWriters = 12;
  Event release, first_in;
  std::mutex mu;
  std::vector<int> order;
  int active = 0, max_active = 0;
  Latch all_done(kWriters);
  std::vector<std::atomic<int>> placed(kWriters);
  StopGuard guard = Guard();
  for (int i = 0; i < kWriters; ++i) {
    scheduler_.Submit({Write("t")}, On(i % 2, &placed[i]), [&, i](Stream&) {
      {
        std::lock_guard<std::mutex> lock(mu);
        order.push_back(i);
        max_active = std::max(max_active, ++active);
      }
      if (i == 0) {
        first_in.Notify();
        release.Wait();
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        --active;
      }
      all_done.CountDown();
    });
  }
  ASSERT_TRUE(first_in.Wait());
  for (int i = 1; i < kWriters; ++i) EXPECT_EQ(placed[i].load(), 0) << i;
  release.Notify();
  ASSERT_TRUE(all_done.Wait());
  std::vector<int> expected;
  for (int i = 0; i < kWriters; ++i) expected.push_back(i);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(order, expected);
  EXPECT_EQ(max_active, 1);
}

TEST_F(SchedulerTest, JobsOnDifferentTablesDoNotWaitForEachOther) {
  Event release_a, a_in, b_write_done, b_read_done;
  std::atomic<bool> a_done{false};
  bool a_done_at_b = true;
  StopGuard guard = Guard();
  scheduler_.Submit({Write("a")}, On(0), [&](Stream&) {
    a_in.Notify();
    release_a.Wait();
    a_done = true;
  });
  ASSERT_TRUE(a_in.Wait());
  scheduler_.Submit({Write("b")}, On(0), [&](Stream&) {
    a_done_at_b = a_done.load();
    b_write_done.Notify();
  });
  scheduler_.Submit({Read("b")}, On(1), [&](Stream&) { b_read_done.Notify(); });
  EXPECT_TRUE(b_write_done.Wait());
  EXPECT_TRUE(b_read_done.Wait());
  EXPECT_FALSE(a_done_at_b);
  release_a.Notify();
}

TEST_F(SchedulerTest, JobOnTwoTablesWaitsForBoth) {
  Event release_a, release_b, a_in, b_in, j_done;
  Stream* a_stream = nullptr;
  std::atomic<bool> a_done{false}, b_done{false};
  std::atomic<int> j_placed{0};
  bool a_done_at_place = false, b_done_at_place = false;
  bool a_done_at_run = false, b_done_at_run = false;
  StopGuard guard = Guard();
  scheduler_.Submit({Write("a")}, On(0), [&](Stream& s) {
    a_stream = &s;
    a_in.Notify();
    release_a.Wait();
    a_done = true;
  });
  scheduler_.Submit({Write("b")}, On(1), [&](Stream&) {
    b_in.Notify();
    release_b.Wait();
    b_done = true;
  });
  ASSERT_TRUE(a_in.Wait());
  ASSERT_TRUE(b_in.Wait());

  scheduler_.Submit(
      {Read("a"), Write("b")},
      [&]() -> Device& {
        ++j_placed;
        a_done_at_place = a_done.load();
        b_done_at_place = b_done.load();
        return *devices_[0];
      },
      [&](Stream&) {
        a_done_at_run = a_done.load();
        b_done_at_run = b_done.load();
        j_done.Notify();
      });
  EXPECT_EQ(j_placed.load(), 0);

  // Let the writer of `a` finish, and wait until the scheduler has done its
  // bookkeeping for it: the job still waits for `b`.
  std::shared_ptr<Event> a_finished = MarkerAfter(*a_stream);
  release_a.Notify();
  ASSERT_TRUE(a_finished->Wait());
  EXPECT_TRUE(a_done.load());
  EXPECT_EQ(j_placed.load(), 0);

  release_b.Notify();
  ASSERT_TRUE(j_done.Wait());
  EXPECT_EQ(j_placed.load(), 1);
  EXPECT_TRUE(a_done_at_place);
  EXPECT_TRUE(b_done_at_place);
  EXPECT_TRUE(a_done_at_run);
  EXPECT_TRUE(b_done_at_run);
}

TEST_F(SchedulerTest, ReadAndWriteOfOneNameInOneJobCountsAsWrite) {
  Event release, r_in, j_done;
  std::atomic<bool> reader_done{false};
  bool reader_done_at_j = false;
  std::atomic<int> placed{0};
  StopGuard guard = Guard();
  scheduler_.Submit({Read("t")}, On(0), [&](Stream&) {
    r_in.Notify();
    release.Wait();
    reader_done = true;
  });
  ASSERT_TRUE(r_in.Wait());
  scheduler_.Submit({Read("t"), Write("t"), Read("t")}, On(0, &placed), [&](Stream&) {
    reader_done_at_j = reader_done.load();
    j_done.Notify();
  });
  EXPECT_EQ(placed.load(), 0);  // a writer: waits for the reader
  release.Notify();
  ASSERT_TRUE(j_done.Wait());
  EXPECT_TRUE(reader_done_at_j);
}

TEST_F(SchedulerTest, ReadersAfterAQueuedWriterDoNotOvertakeIt) {
  // R1 runs; W queues behind it; R2 arrives after W and must wait for W even
  // though only a reader runs now.
  Event release_r1, r1_in, release_w, w_in, r2_done;
  std::atomic<bool> w_done{false};
  bool w_done_at_r2 = false;
  std::atomic<int> r2_placed{0};
  StopGuard guard = Guard();
  scheduler_.Submit({Read("t")}, On(0), [&](Stream&) {
    r1_in.Notify();
    release_r1.Wait();
  });
  ASSERT_TRUE(r1_in.Wait());
  scheduler_.Submit({Write("t")}, On(0), [&](Stream&) {
    w_in.Notify();
    release_w.Wait();
    w_done = true;
  });
  scheduler_.Submit({Read("t")}, On(1, &r2_placed), [&](Stream&) {
    w_done_at_r2 = w_done.load();
    r2_done.Notify();
  });
  EXPECT_EQ(r2_placed.load(), 0);
  release_r1.Notify();
  ASSERT_TRUE(w_in.Wait());
  EXPECT_EQ(r2_placed.load(), 0);
  release_w.Notify();
  ASSERT_TRUE(r2_done.Wait());
  EXPECT_TRUE(w_done_at_r2);
}

// Many random jobs from several threads: per table, a writer never overlaps
// any other job on that table, and jobs that conflict on a table (one of them
// writes it) run in submission order.
TEST_F(SchedulerTest, RandomJobsFromSeveralThreadsKeepThePerTableOrder) {
  constexpr int kTables = 4;
  constexpr int kThreads = 6;
  constexpr int kJobsPerThread = 120;
  constexpr int kJobs = kThreads * kJobsPerThread;

  struct JobInfo {
    std::map<int, bool> tables;  // table → writes
    int64_t start = -1;
    int64_t finish = -1;
  };
  std::vector<JobInfo> jobs(kJobs);

  std::mutex submit_mu;  // assigns the submission order
  int next_seq = 0;

  std::mutex log_mu;  // guards what follows
  int64_t clock = 0;
  std::vector<int> readers(kTables, 0), writers(kTables, 0);
  std::vector<std::string> violations;
  int max_readers = 0;

  Latch all_done(kJobs);

  auto run = [&](int seq) {
    {
      std::lock_guard<std::mutex> lock(log_mu);
      JobInfo& job = jobs[seq];
      job.start = ++clock;
      for (const auto& [t, write] : job.tables) {
        if (writers[t] != 0 || (write && readers[t] != 0)) {
          violations.push_back("job " + std::to_string(seq) + " started on table " + std::to_string(t) +
                               " while " + std::to_string(writers[t]) + " writers and " +
                               std::to_string(readers[t]) + " readers ran");
        }
        ++(write ? writers[t] : readers[t]);
        max_readers = std::max(max_readers, readers[t]);
      }
    }
    for (int i = 0; i < 50; ++i) std::this_thread::yield();  // give others a chance to overlap
    {
      std::lock_guard<std::mutex> lock(log_mu);
      JobInfo& job = jobs[seq];
      for (const auto& [t, write] : job.tables) --(write ? writers[t] : readers[t]);
      job.finish = ++clock;
    }
    all_done.CountDown();
  };
  StopGuard guard = Guard();

  std::vector<std::thread> submitters;
  for (int th = 0; th < kThreads; ++th) {
    submitters.emplace_back([&, th] {
      std::mt19937 rng(1234 + th);
      for (int k = 0; k < kJobsPerThread; ++k) {
        // 1-3 accesses, names may repeat; 30% are writes.
        std::vector<Access> accesses;
        std::map<int, bool> tables;
        const int n = std::uniform_int_distribution<int>(1, 3)(rng);
        for (int a = 0; a < n; ++a) {
          const int t = std::uniform_int_distribution<int>(0, kTables - 1)(rng);
          const bool write = std::uniform_int_distribution<int>(0, 9)(rng) < 3;
          accesses.push_back(Access{"table" + std::to_string(t), write});
          tables[t] = tables[t] || write;
        }
        const int device = std::uniform_int_distribution<int>(0, 1)(rng);
        std::lock_guard<std::mutex> lock(submit_mu);
        const int seq = next_seq++;
        {
          std::lock_guard<std::mutex> log_lock(log_mu);
          jobs[seq].tables = tables;
        }
        scheduler_.Submit(std::move(accesses), On(device), [&run, seq](Stream&) { run(seq); });
      }
    });
  }
  for (std::thread& t : submitters) t.join();
  ASSERT_TRUE(all_done.Wait());
  StopAll();
  EXPECT_EQ(scheduler_.outstanding(), 0u);

  std::lock_guard<std::mutex> lock(log_mu);
  EXPECT_TRUE(violations.empty()) << violations.size() << " violations, first: " << violations.front();
  int conflicts = 0;
  for (int t = 0; t < kTables; ++t) {
    std::vector<int> on_table;
    for (int s = 0; s < kJobs; ++s) {
      if (jobs[s].tables.count(t)) on_table.push_back(s);
    }
    for (size_t i = 0; i < on_table.size(); ++i) {
      const JobInfo& a = jobs[on_table[i]];
      ASSERT_GT(a.finish, a.start);
      for (size_t j = i + 1; j < on_table.size(); ++j) {
        const JobInfo& b = jobs[on_table[j]];
        if (!a.tables.at(t) && !b.tables.at(t)) continue;  // two readers may overlap
        ++conflicts;
        ASSERT_LT(a.finish, b.start) << "table " << t << ": job " << on_table[i] << " conflicts with later job "
                                     << on_table[j] << " but did not finish before it started";
      }
    }
  }
  EXPECT_GT(conflicts, 0);
  RecordProperty("max_concurrent_readers", max_readers);
}

TEST_F(SchedulerTest, QuickJobOnAnIdleStreamRunsOnTheSubmittingThread) {
  StopGuard guard = Guard();
  std::thread::id ran_on;
  Stream* stream = nullptr;
  scheduler_.Submit(
      {Read("t")}, On(1),
      [&](Stream& s) {
        ran_on = std::this_thread::get_id();
        stream = &s;
      },
      /*quick=*/true);
  // Ran and finished within Submit.
  EXPECT_EQ(ran_on, std::this_thread::get_id());
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(&stream->device(), devices_[1].get());
  EXPECT_EQ(scheduler_.outstanding(), 0u);
}

TEST_F(SchedulerTest, QuickJobBehindAWriterWaitsAndRunsOnAWorker) {
  Event in_writer, release, quick_ran;
  std::atomic<bool> writer_done{false}, saw_writer_done{false};
  std::thread::id ran_on;
  StopGuard guard = Guard();
  scheduler_.Submit({Write("t")}, On(0), [&](Stream&) {
    in_writer.Notify();
    release.Wait();
    writer_done = true;
  });
  ASSERT_TRUE(in_writer.Wait());
  scheduler_.Submit(
      {Read("t")}, On(0),
      [&](Stream&) {
        ran_on = std::this_thread::get_id();
        saw_writer_done = writer_done.load();
        quick_ran.Notify();
      },
      /*quick=*/true);
  EXPECT_EQ(scheduler_.outstanding(), 2u);  // still queued: the table is held
  release.Notify();
  ASSERT_TRUE(quick_ran.Wait());
  EXPECT_TRUE(saw_writer_done.load());
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

TEST_F(SchedulerTest, StreamRunsATaskHereOnlyWhenIdleAndHoldsPostedTasksMeanwhile) {
  StopGuard guard = Guard();
  Stream& stream = devices_[0]->stream(0);
  Event in_task, release;
  stream.Post([&] {
    in_task.Notify();
    release.Wait();
  });
  ASSERT_TRUE(in_task.Wait());
  bool ran_here = false;
  EXPECT_FALSE(stream.TryRunHere([&] { ran_here = true; }));  // busy
  EXPECT_FALSE(ran_here);
  release.Notify();
  // Idle once the worker has ended the task (after it returned).
  ASSERT_TRUE(gpudb_test::PollUntil([&] { return stream.pending() == 0; }));

  // While a task runs here, what is posted waits for it (the worker takes
  // nothing), then runs.
  Event posted_ran;
  bool posted_ran_during = true;
  EXPECT_TRUE(stream.TryRunHere([&] {
    stream.Post([&] { posted_ran.Notify(); });
    EXPECT_EQ(stream.pending(), 2);
    posted_ran_during = posted_ran.Wait(std::chrono::milliseconds(50));
  }));
  EXPECT_FALSE(posted_ran_during);
  EXPECT_TRUE(posted_ran.Wait());
}

// A host device's first stream, which takes the work whenever it is idle,
// keeps its OpenMP threads between tasks; the others end theirs once they
// run out of work (libgomp spins far less whenever the threads it keeps
// outnumber the cores: kernels::ReleaseHostThreads).
TEST(StreamTest, OnlyTheFirstStreamOfAHostDeviceKeepsItsOpenMpThreadsWhenIdle) {
  if (gpudb_test::kUnderThreadSanitizer) GTEST_SKIP() << "OpenMP teams are not seen by ThreadSanitizer";
  Device device(0, kernels::Backend::kHost, 0, size_t{64} << 20, 2, 3);
  const auto team_of = [&](int stream) {
    std::set<pid_t> team;
    Event done;
    device.stream(stream).Post([&] {
      team = gpudb_test::OpenMpTeamThreads();
      done.Notify();
    });
    EXPECT_TRUE(done.Wait());
    return team;
  };
  const std::set<pid_t> second = team_of(1);
  ASSERT_EQ(second.size(), 2u);  // three threads a kernel, the worker one
  for (pid_t id : second) EXPECT_TRUE(gpudb_test::ThreadEnds(id)) << "thread " << id;
  const std::set<pid_t> first = team_of(0);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_TRUE(gpudb_test::PollUntil([&] { return device.stream(0).pending() == 0; }));
  EXPECT_EQ(team_of(0), first);
  device.StopStreams();
}

TEST_F(SchedulerTest, WaitIdleOnAnIdleSchedulerReturnsAtOnce) {
  EXPECT_EQ(scheduler_.outstanding(), 0u);
  EXPECT_TRUE(scheduler_.WaitIdle(absl::InfinitePast()));
  EXPECT_TRUE(scheduler_.WaitIdle(absl::Now()));
  EXPECT_TRUE(scheduler_.WaitIdle(absl::InfiniteFuture()));
}

TEST_F(SchedulerTest, WaitIdleGivesUpAtItsDeadline) {
  Event release, in;
  StopGuard guard = Guard();
  scheduler_.Submit({Write("t")}, On(0), [&](Stream&) {
    in.Notify();
    release.Wait();
  });
  ASSERT_TRUE(in.Wait());
  EXPECT_EQ(scheduler_.outstanding(), 1u);
  EXPECT_FALSE(scheduler_.WaitIdle(absl::InfinitePast()));
  const absl::Time deadline = absl::Now() + absl::Milliseconds(30);
  EXPECT_FALSE(scheduler_.WaitIdle(deadline));
  EXPECT_EQ(scheduler_.outstanding(), 1u);
  release.Notify();
  EXPECT_TRUE(scheduler_.WaitIdle(absl::Now() + absl::Seconds(20)));
  EXPECT_EQ(scheduler_.outstanding(), 0u);
}

TEST_F(SchedulerTest, WaitIdleWaitsForRunningAndQueuedJobs) {
  // One writer runs and blocks; three more wait behind it on the same table,
  // and a reader of another table runs beside it. Every waiter returns only
  // after all five have run.
  constexpr int kWaiters = 3;
  Event release, in;
  std::atomic<int> done{0};
  StopGuard guard = Guard();
  scheduler_.Submit({Write("t")}, On(0), [&](Stream&) {
    in.Notify();
    release.Wait();
    ++done;
  });
  ASSERT_TRUE(in.Wait());
  for (int i = 0; i < 3; ++i) scheduler_.Submit({Write("t")}, On(i % 2), [&](Stream&) { ++done; });
  Event other_ran;
  Stream* other_stream = nullptr;
  scheduler_.Submit({Read("u")}, On(1), [&](Stream& s) {
    other_stream = &s;
    ++done;
    other_ran.Notify();
  });
  ASSERT_TRUE(other_ran.Wait());
  ASSERT_TRUE(MarkerAfter(*other_stream)->Wait());  // its bookkeeping is done too
  EXPECT_EQ(scheduler_.outstanding(), 4u);

  std::atomic<int> returned{0};
  std::vector<int> done_at_return(kWaiters, -1);
  std::vector<size_t> outstanding_at_return(kWaiters, 99);
  std::vector<int> idle(kWaiters, 0);
  std::vector<std::thread> waiters;
  for (int w = 0; w < kWaiters; ++w) {
    waiters.emplace_back([&, w] {
      idle[w] = scheduler_.WaitIdle(absl::InfiniteFuture()) ? 1 : 0;
      done_at_return[w] = done.load();
      outstanding_at_return[w] = scheduler_.outstanding();
      ++returned;
    });
  }
  // The waiters cannot return while the first writer is blocked.
  EXPECT_EQ(returned.load(), 0);
  release.Notify();
  for (std::thread& t : waiters) t.join();
  for (int w = 0; w < kWaiters; ++w) {
    EXPECT_EQ(idle[w], 1) << w;
    EXPECT_EQ(done_at_return[w], 5) << w;
    EXPECT_EQ(outstanding_at_return[w], 0u) << w;
  }
}

TEST_F(SchedulerTest, WaitIdleSeesJobsSubmittedByRunningJobs) {
  // A job that submits another before it ends: the scheduler is not idle in
  // between, so WaitIdle returns after both.
  Event release, in;
  std::atomic<bool> second_ran{false};
  StopGuard guard = Guard();
  scheduler_.Submit({Write("t")}, On(0), [&](Stream&) {
    in.Notify();
    release.Wait();
    scheduler_.Submit({Write("t")}, On(1), [&](Stream&) { second_ran = true; });
  });
  ASSERT_TRUE(in.Wait());
  bool idle = false;
  bool second_ran_at_return = false;
  std::thread waiter([&] {
    idle = scheduler_.WaitIdle(absl::Now() + absl::Seconds(20));
    second_ran_at_return = second_ran.load();
  });
  release.Notify();
  waiter.join();
  EXPECT_TRUE(idle);
  EXPECT_TRUE(second_ran_at_return);
}

}  // namespace
}  // namespace engine
