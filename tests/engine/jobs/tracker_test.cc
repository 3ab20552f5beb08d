#include "engine/jobs/tracker.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "tests/common/job_watch.h"
#include "tests/common/sync.h"

namespace engine {
namespace {

using gpudb_test::NowMs;
using gpudb_test::Latch;
using gpudb_test::WatchLog;

JobTracker::NewJob Job(std::string tag = "", bool remove_on_complete = false,
                       std::string endpoint = "/filter") {
  JobTracker::NewJob job;
  job.endpoint = std::move(endpoint);
  job.request_encoding = "binary";
  job.tag = std::move(tag);
  job.remove_on_complete = remove_on_complete;
  return job;
}

JobTracker::NewJob SyncJob() {
  JobTracker::NewJob job = Job();
  job.async = false;
  return job;
}

JobTracker::NewJob RequestJob(std::string request_id, uint64_t fingerprint, bool remove_on_complete = false) {
  JobTracker::NewJob job = Job("", remove_on_complete);
  job.request_id = std::move(request_id);
  job.fingerprint = fingerprint;
  return job;
}

int64_t MustCreate(JobTracker& tracker, JobTracker::NewJob job) {
  absl::StatusOr<JobTracker::Created> created = tracker.Create(std::move(job));
  EXPECT_TRUE(created.ok()) << created.status();
  if (!created.ok()) return -1;
  EXPECT_FALSE(created->reused);
  return created->job.id;
}

// What Engine::WhenFinished does: a watcher that waits for the final state.
bool WhenFinished(JobTracker& tracker, int64_t id, std::function<void(const JobSnapshot&)> done) {
  return tracker.Watch(id, [done = std::move(done)](const JobSnapshot& job) {
           if (!job.finished()) return true;
           done(job);
           return false;
         }) != 0;
}

bool IsGeneratedTagShape(const std::string& tag) {
  if (tag.size() != 32) return false;
  for (char c : tag) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A response of a fixed size, for the result-memory accounting.
Json BigResponse(int i) { return Json{{"i", i}, {"data", std::string(1000, 'x')}}; }

std::string Expired(const std::string& how, absl::Duration ttl) {
  return absl::StrCat(how, " expired: finished jobs are kept for ", absl::FormatDuration(ttl), " (--job-ttl)");
}

// ---------------------------------------------------------------------------
// Creation, ids and tags.

TEST(JobTrackerTest, CreateReturnsAQueuedRecord) {
  JobTracker tracker;
  const int64_t before = NowMs();
  JobTracker::NewJob request = Job("my-tag_1", false, "/aggregate/groupby");
  request.user_data = "mine";
  request.source_ip = "10.0.0.7";
  absl::StatusOr<JobTracker::Created> created = tracker.Create(request);
  const int64_t after = NowMs();
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->reused);
  ASSERT_NE(created->control, nullptr);
  EXPECT_EQ(created->control->deadline(), absl::InfiniteFuture());
  EXPECT_TRUE(created->control->Check().ok());
  const JobSnapshot& job = created->job;
  EXPECT_GE(job.id, 1);
  EXPECT_EQ(job.tag, "my-tag_1");
  EXPECT_EQ(job.endpoint, "/aggregate/groupby");
  EXPECT_EQ(job.request_encoding, "binary");
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_EQ(job.progress, 0);
  EXPECT_EQ(job.response, nullptr);
  EXPECT_TRUE(job.error.empty());
  EXPECT_FALSE(job.finished());
  EXPECT_TRUE(job.async);
  EXPECT_EQ(job.user_data, "mine");
  EXPECT_EQ(job.source_ip, "10.0.0.7");
  EXPECT_TRUE(job.worker.empty());
  EXPECT_GE(job.time_received_ms, before);
  EXPECT_LE(job.time_received_ms, after);
  EXPECT_EQ(tracker.size(), 1u);

  absl::StatusOr<JobSnapshot> got = tracker.Get(job.id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tag, "my-tag_1");
  EXPECT_EQ(got->state, JobState::kQueued);
  EXPECT_EQ(got->user_data, "mine");
  absl::StatusOr<JobSnapshot> by_tag = tracker.GetByTag("my-tag_1");
  ASSERT_TRUE(by_tag.ok());
  EXPECT_EQ(by_tag->id, job.id);
}

TEST(JobTrackerTest, IdsAreUniqueAndIncreasing) {
  JobTracker tracker;
  int64_t last = 0;
  for (int i = 0; i < 100; ++i) {
    const int64_t id = MustCreate(tracker, Job());
    EXPECT_GT(id, last);
    last = id;
  }
  // Removing jobs does not make ids come back.
  tracker.RemoveSynchronous(last);
  tracker.RemoveSynchronous(last - 1);
  EXPECT_GT(MustCreate(tracker, Job()), last);
}

TEST(JobTrackerTest, IdsOfANewTrackerFollowEveryEarlierTrackersIds) {
  // A restart (memory only, or every kept job expired) started again at 1:
  // an old id then named a different job.
  int64_t last = 0;
  for (int restart = 0; restart < 3; ++restart) {
    JobTracker tracker;
    for (int i = 0; i < 1000; ++i) {
      const int64_t id = MustCreate(tracker, Job());
      EXPECT_GT(id, last) << "restart " << restart;
      last = id;
    }
  }
  EXPECT_LT(last, int64_t{1} << 53);  // exact as a JSON number
}

TEST(JobTrackerTest, IdsAndTagsAreUniqueFromSixteenThreads) {
  JobTracker tracker;
  constexpr int kThreads = 16;
  constexpr int kPerThread = 400;
  std::vector<std::vector<int64_t>> ids(kThreads);
  std::vector<std::vector<std::string>> tags(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        absl::StatusOr<JobTracker::Created> job = tracker.Create(Job());
        if (!job.ok()) return;
        ids[t].push_back(job->job.id);
        tags[t].push_back(job->job.tag);
      }
    });
  }
  for (std::thread& t : threads) t.join();

  std::set<int64_t> all_ids;
  std::set<std::string> all_tags;
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(ids[t].size(), static_cast<size_t>(kPerThread)) << "thread " << t;
    EXPECT_TRUE(std::is_sorted(ids[t].begin(), ids[t].end())) << "thread " << t;
    all_ids.insert(ids[t].begin(), ids[t].end());
    all_tags.insert(tags[t].begin(), tags[t].end());
  }
  EXPECT_EQ(all_ids.size(), static_cast<size_t>(kThreads * kPerThread));
  EXPECT_EQ(all_tags.size(), static_cast<size_t>(kThreads * kPerThread));
  // Increasing without gaps: N consecutive ids were handed out.
  EXPECT_EQ(*all_ids.rbegin() - *all_ids.begin(), kThreads * kPerThread - 1);
  EXPECT_EQ(tracker.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(JobTrackerTest, GeneratedTagsAreUniqueHexAndNotTheId) {
  JobTracker tracker;
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    absl::StatusOr<JobTracker::Created> created = tracker.Create(Job());
    ASSERT_TRUE(created.ok());
    const JobSnapshot& job = created->job;
    EXPECT_TRUE(IsGeneratedTagShape(job.tag)) << job.tag;
    EXPECT_NE(job.tag, absl::StrCat(job.id));
    EXPECT_TRUE(seen.insert(job.tag).second) << job.tag;
    // A generated tag is a valid caller tag, so it can be looked up.
    EXPECT_TRUE(ValidateJobTag(job.tag).ok());
    absl::StatusOr<JobSnapshot> by_tag = tracker.GetByTag(job.tag);
    ASSERT_TRUE(by_tag.ok());
    EXPECT_EQ(by_tag->id, job.id);
  }
  // Two trackers (two servers) do not hand out the same sequence of tags.
  JobTracker other;
  absl::StatusOr<JobTracker::Created> first = other.Create(Job());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(seen.count(first->job.tag), 0u);
}

TEST(JobTrackerTest, CallerTagsAreValidated) {
  EXPECT_TRUE(ValidateJobTag("a").ok());
  EXPECT_TRUE(ValidateJobTag("Az09_-").ok());
  EXPECT_TRUE(ValidateJobTag(std::string(256, 'x')).ok());

  const std::string length_error = "options.job_tag: must be 1 to 256 characters";
  EXPECT_EQ(ValidateJobTag("").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateJobTag("").message(), length_error);
  EXPECT_EQ(ValidateJobTag(std::string(257, 'x')).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateJobTag(std::string(257, 'x')).message(), length_error);

  JobTracker tracker;
  for (const char* bad : {"a b", "a.b", "tag/1", "x:y", "\xC3\xA9", "new\nline", "semi;colon"}) {
    SCOPED_TRACE(bad);
    const std::string message =
        absl::StrCat("options.job_tag: '", bad, "' has characters other than letters, digits, '_' and '-'");
    absl::Status s = ValidateJobTag(bad);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(s.message(), message);
    absl::StatusOr<JobTracker::Created> job = tracker.Create(Job(bad));
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(job.status().message(), message);
  }
  absl::StatusOr<JobTracker::Created> job = tracker.Create(Job(std::string(257, 'x')));
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().message(), length_error);
  EXPECT_EQ(tracker.size(), 0u);  // refused jobs are not registered
}

TEST(JobTrackerTest, CallerTagIsUniqueWhileTheJobExists) {
  JobTracker tracker;
  const int64_t first = MustCreate(tracker, Job("dup"));
  absl::StatusOr<JobTracker::Created> second = tracker.Create(Job("dup"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(second.status().message(), absl::StrCat("options.job_tag: 'dup' is already used by job ", first));
  EXPECT_EQ(tracker.size(), 1u);

  // Still taken after the job finished, free once it is removed.
  tracker.Finish(first, Json::object());
  EXPECT_FALSE(tracker.Create(Job("dup")).ok());
  tracker.RemoveSynchronous(first);
  absl::StatusOr<JobTracker::Created> third = tracker.Create(Job("dup"));
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_GT(third->job.id, first);
  absl::StatusOr<JobSnapshot> by_tag = tracker.GetByTag("dup");
  ASSERT_TRUE(by_tag.ok());
  EXPECT_EQ(by_tag->id, third->job.id);
}

TEST(JobTrackerTest, GetOfUnknownJobIsNotFound) {
  JobTracker tracker;
  absl::StatusOr<JobSnapshot> job = tracker.Get(12345);
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(job.status().message(), "job_id: job 12345 does not exist");

  job = tracker.GetByTag("nope");
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(job.status().message(), "options.job_tag: no job has tag 'nope'");
}

TEST(JobTrackerTest, RemovedSynchronousJobSaysWhyItIsGone) {
  JobTracker tracker;
  JobTracker::NewJob sync = SyncJob();
  sync.tag = "gone";
  const int64_t id = MustCreate(tracker, sync);
  tracker.MarkRunning(id, "host:0/0");
  tracker.Finish(id, Json{{"count", 1}});
  ASSERT_TRUE(tracker.Get(id).ok());  // there until its caller has its answer
  tracker.RemoveSynchronous(id);
  const std::string why = " was a synchronous call; its result went to its caller";
  EXPECT_EQ(tracker.Get(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tracker.Get(id).status().message(), absl::StrCat("job_id: job ", id, why));
  EXPECT_EQ(tracker.GetByTag("gone").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tracker.GetByTag("gone").status().message(),
            absl::StrCat("options.job_tag: job 'gone' (job ", id, ")", why));
  EXPECT_EQ(tracker.size(), 0u);
  EXPECT_EQ(tracker.result_bytes(), 0u);
  tracker.RemoveSynchronous(id);  // removing twice is harmless
  tracker.RemoveSynchronous(987654);
  EXPECT_EQ(tracker.Get(id).status().message(), absl::StrCat("job_id: job ", id, why));
  EXPECT_TRUE(tracker.List().empty());
}

TEST(JobTrackerTest, StatusNamesFollowTheSpec) {
  EXPECT_STREQ(JobStatusName(JobState::kQueued), "RUNNING");
  EXPECT_STREQ(JobStatusName(JobState::kRunning), "RUNNING");
  EXPECT_STREQ(JobStatusName(JobState::kDone), "DONE");
  EXPECT_STREQ(JobStatusName(JobState::kError), "ERROR");
  EXPECT_STREQ(JobStatusName(JobState::kCancelled), "CANCELLED");
}

TEST(JobTrackerTest, ListReturnsEveryJobById) {
  JobTracker tracker;
  EXPECT_TRUE(tracker.List().empty());
  const int64_t a = MustCreate(tracker, Job("a"));
  const int64_t b = MustCreate(tracker, SyncJob());
  const int64_t c = MustCreate(tracker, Job("c"));
  tracker.MarkRunning(b, "host:0/1");
  tracker.Finish(c, Json::object());
  std::vector<JobSnapshot> jobs = tracker.List();
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].id, a);
  EXPECT_EQ(jobs[0].state, JobState::kQueued);
  EXPECT_EQ(jobs[1].id, b);
  EXPECT_EQ(jobs[1].state, JobState::kRunning);
  EXPECT_EQ(jobs[1].worker, "host:0/1");
  EXPECT_FALSE(jobs[1].async);
  EXPECT_EQ(jobs[2].id, c);
  EXPECT_EQ(jobs[2].state, JobState::kDone);
}

// ---------------------------------------------------------------------------
// States and progress.

TEST(JobTrackerTest, QueuedRunningDoneWithProgress) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job());
  EXPECT_EQ(tracker.Get(id)->state, JobState::kQueued);
  tracker.SetProgress(id, 10);  // progress while queued is kept
  EXPECT_EQ(tracker.Get(id)->progress, 10);

  EXPECT_TRUE(tracker.MarkRunning(id, "host:0/3"));
  absl::StatusOr<JobSnapshot> job = tracker.Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kRunning);
  EXPECT_EQ(job->worker, "host:0/3");
  EXPECT_FALSE(job->finished());
  tracker.SetProgress(id, 55);
  EXPECT_EQ(tracker.Get(id)->progress, 55);
  // Running is not a state a job enters twice.
  EXPECT_FALSE(tracker.MarkRunning(id, "host:0/1"));
  EXPECT_EQ(tracker.Get(id)->worker, "host:0/3");

  Json response = {{"count", 3}};
  tracker.Finish(id, response);
  job = tracker.Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kDone);
  EXPECT_TRUE(job->finished());
  EXPECT_EQ(job->progress, 100);
  ASSERT_NE(job->response, nullptr);
  EXPECT_EQ(*job->response, response);
  EXPECT_TRUE(job->error.empty());
  EXPECT_EQ(job->worker, "host:0/3");

  // Nothing changes a finished job.
  const int64_t version = job->version;
  tracker.SetProgress(id, 20);
  EXPECT_FALSE(tracker.MarkRunning(id, "host:0/0"));
  tracker.Finish(id, absl::InternalError("late"));
  job = tracker.Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kDone);
  EXPECT_EQ(job->progress, 100);
  EXPECT_TRUE(job->error.empty());
  EXPECT_EQ(*job->response, response);
  EXPECT_EQ(job->version, version);
  // Without remove_on_complete the record stays.
  EXPECT_TRUE(tracker.Get(id).ok());
}

TEST(JobTrackerTest, MarkRunningOfUnknownJobIsFalse) {
  JobTracker tracker;
  EXPECT_FALSE(tracker.MarkRunning(42, "host:0/0"));
  tracker.SetProgress(42, 50);  // harmless
  tracker.Finish(42, Json::object());
  EXPECT_EQ(tracker.size(), 0u);
}

TEST(JobTrackerTest, VersionRisesWithEveryChange) {
  JobTracker tracker;
  absl::StatusOr<JobTracker::Created> created = tracker.Create(Job());
  ASSERT_TRUE(created.ok());
  const int64_t id = created->job.id;
  int64_t last = created->job.version;
  auto rose = [&] {
    const int64_t v = tracker.Get(id)->version;
    const bool up = v > last;
    last = v;
    return up;
  };
  tracker.MarkRunning(id, "w");
  EXPECT_TRUE(rose());
  tracker.SetProgress(id, 5);
  EXPECT_TRUE(rose());
  tracker.SetProgress(id, 5);  // no change
  EXPECT_FALSE(rose());
  tracker.SetProgress(id, 6);
  EXPECT_TRUE(rose());
  tracker.Finish(id, Json::object());
  EXPECT_TRUE(rose());
}

TEST(JobTrackerTest, FinishWithAnErrorKeepsTheMessage) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job());
  tracker.MarkRunning(id, "host:0/0");
  tracker.SetProgress(id, 30);
  tracker.Finish(id, absl::InvalidArgumentError("expression: unknown column 'zz'"));
  absl::StatusOr<JobSnapshot> job = tracker.Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kError);
  EXPECT_STREQ(JobStatusName(job->state), "ERROR");
  EXPECT_TRUE(job->finished());
  EXPECT_EQ(job->error, "expression: unknown column 'zz'");
  EXPECT_EQ(job->response, nullptr);
  EXPECT_EQ(job->progress, 30);
  tracker.SetProgress(id, 90);
  EXPECT_EQ(tracker.Get(id)->progress, 30);
  // A later success does not overwrite the error.
  tracker.Finish(id, Json::object());
  EXPECT_EQ(tracker.Get(id)->state, JobState::kError);
  EXPECT_EQ(tracker.Get(id)->error, "expression: unknown column 'zz'");
}

TEST(JobTrackerTest, FinishWithCancelledIsCancelledAndDeadlineIsError) {
  JobTracker tracker;
  const int64_t cancelled = MustCreate(tracker, Job());
  const int64_t late = MustCreate(tracker, Job());
  tracker.MarkRunning(cancelled, "w");
  tracker.MarkRunning(late, "w");
  tracker.Finish(cancelled, absl::CancelledError("cancelled while running"));
  tracker.Finish(late, absl::DeadlineExceededError("deadline exceeded: too slow"));
  EXPECT_EQ(tracker.Get(cancelled)->state, JobState::kCancelled);
  EXPECT_EQ(tracker.Get(cancelled)->error, "cancelled while running");
  EXPECT_EQ(tracker.Get(late)->state, JobState::kError);
  EXPECT_EQ(tracker.Get(late)->error, "deadline exceeded: too slow");
}

TEST(JobTrackerTest, FinishingAQueuedJobIsAllowed) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job());
  tracker.Finish(id, absl::ResourceExhaustedError("out of device memory on host:0"));
  absl::StatusOr<JobSnapshot> job = tracker.Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kError);
  EXPECT_EQ(job->error, "out of device memory on host:0");
  EXPECT_FALSE(tracker.MarkRunning(id, "w"));
}

// ---------------------------------------------------------------------------
// remove_job_on_complete.

TEST(JobTrackerTest, RemoveOnCompleteRemovesOnTheFirstGetThatSeesItFinished) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job("roc", /*remove_on_complete=*/true));
  // Not before it finished: any number of Gets.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(tracker.Get(id).ok());
    ASSERT_TRUE(tracker.GetByTag("roc").ok());
  }
  tracker.MarkRunning(id, "w");
  ASSERT_TRUE(tracker.Get(id).ok());
  tracker.Finish(id, Json{{"x", 1}});
  // Finishing alone does not remove it, nor does a Get without consume.
  EXPECT_EQ(tracker.size(), 1u);
  ASSERT_TRUE(tracker.Get(id, /*consume=*/false).ok());
  ASSERT_TRUE(tracker.GetByTag("roc", /*consume=*/false).ok());
  EXPECT_EQ(tracker.size(), 1u);
  EXPECT_GT(tracker.result_bytes(), 0u);

  absl::StatusOr<JobSnapshot> job = tracker.Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kDone);
  ASSERT_NE(job->response, nullptr);
  EXPECT_EQ((*job->response)["x"], 1);

  EXPECT_EQ(tracker.size(), 0u);
  EXPECT_EQ(tracker.result_bytes(), 0u);
  const std::string why = " was removed when its result was returned (remove_job_on_complete)";
  EXPECT_EQ(tracker.Get(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tracker.Get(id).status().message(), absl::StrCat("job_id: job ", id, why));
  EXPECT_EQ(tracker.GetByTag("roc").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tracker.GetByTag("roc").status().message(),
            absl::StrCat("options.job_tag: job 'roc' (job ", id, ")", why));
  EXPECT_EQ(tracker.Cancel(id), absl::StrCat("NOT_FOUND: job ", id, why));
  // Its tag is free again, and then names the new job.
  const int64_t again = MustCreate(tracker, Job("roc"));
  EXPECT_EQ(tracker.GetByTag("roc")->id, again);
}

TEST(JobTrackerTest, RemoveOnCompleteByTagAndOnError) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job("roc2", /*remove_on_complete=*/true));
  const int64_t keep = MustCreate(tracker, Job("keep"));
  tracker.Finish(id, absl::InvalidArgumentError("bad"));
  tracker.Finish(keep, absl::InvalidArgumentError("bad"));
  absl::StatusOr<JobSnapshot> job = tracker.GetByTag("roc2");
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kError);
  EXPECT_EQ(job->error, "bad");
  EXPECT_EQ(tracker.Get(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(tracker.Get(id).status().message().find("remove_job_on_complete"), absl::string_view::npos);
  // The other job is untouched.
  EXPECT_TRUE(tracker.Get(keep).ok());
  EXPECT_TRUE(tracker.Get(keep).ok());
  EXPECT_EQ(tracker.size(), 1u);
}

// ---------------------------------------------------------------------------
// Cancel.

TEST(JobTrackerTest, CancelOfAQueuedJobCancelsItAtOnce) {
  JobTracker tracker;
  absl::StatusOr<JobTracker::Created> created = tracker.Create(Job("q"));
  ASSERT_TRUE(created.ok());
  const int64_t id = created->job.id;
  WatchLog recorder;
  ASSERT_NE(tracker.Watch(id, recorder.Fn()), 0);
  int done_calls = 0;
  ASSERT_TRUE(WhenFinished(tracker, id, [&](const JobSnapshot&) { ++done_calls; }));

  EXPECT_EQ(tracker.Cancel(id), "CANCELLED");
  absl::StatusOr<JobSnapshot> job = tracker.Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_STREQ(JobStatusName(job->state), "CANCELLED");
  EXPECT_TRUE(job->finished());
  EXPECT_FALSE(job->error.empty());
  EXPECT_EQ(job->response, nullptr);
  EXPECT_EQ(done_calls, 1);
  ASSERT_EQ(recorder.calls().size(), 2u);  // the initial call and the final state
  EXPECT_EQ(recorder.finals(), 1);
  EXPECT_EQ(recorder.calls().back().state, JobState::kCancelled);

  // It must not run now.
  EXPECT_FALSE(tracker.MarkRunning(id, "host:0/0"));
  tracker.SetProgress(id, 50);
  tracker.Finish(id, Json::object());
  EXPECT_EQ(tracker.Get(id)->state, JobState::kCancelled);
  EXPECT_EQ(tracker.Cancel(id), "NOT_CANCELLED: already finished (CANCELLED)");
  EXPECT_EQ(done_calls, 1);
  EXPECT_EQ(recorder.calls().size(), 2u);
  // Its control was not asked: nothing runs it to look.
  EXPECT_TRUE(created->control->Check().ok());
}

TEST(JobTrackerTest, CancelOfARunningJobAsksItToStop) {
  JobTracker tracker;
  absl::StatusOr<JobTracker::Created> created = tracker.Create(Job());
  ASSERT_TRUE(created.ok());
  const int64_t id = created->job.id;
  std::shared_ptr<JobControl> control = created->control;
  ASSERT_TRUE(tracker.MarkRunning(id, "host:0/0"));
  tracker.SetProgress(id, 40);
  EXPECT_TRUE(control->Check().ok());

  EXPECT_EQ(tracker.Cancel(id), "CANCEL_REQUESTED");
  // Still running until the job looks at its control.
  EXPECT_EQ(tracker.Get(id)->state, JobState::kRunning);
  const absl::Status check = control->Check();
  EXPECT_EQ(check.code(), absl::StatusCode::kCancelled);
  // Asking twice is harmless.
  EXPECT_EQ(tracker.Cancel(id), "CANCEL_REQUESTED");

  // The job stops with the control's status.
  tracker.Finish(id, check);
  absl::StatusOr<JobSnapshot> job = tracker.Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_EQ(job->error, std::string(check.message()));
  EXPECT_EQ(job->progress, 40);
}

TEST(JobTrackerTest, CancelOfAFinishedJobIsNotCancelled) {
  JobTracker tracker;
  const int64_t done = MustCreate(tracker, Job());
  const int64_t failed = MustCreate(tracker, Job());
  tracker.Finish(done, Json{{"n", 1}});
  tracker.Finish(failed, absl::InternalError("boom"));
  EXPECT_EQ(tracker.Cancel(done), "NOT_CANCELLED: already finished (DONE)");
  EXPECT_EQ(tracker.Cancel(failed), "NOT_CANCELLED: already finished (ERROR)");
  EXPECT_EQ(tracker.Get(done)->state, JobState::kDone);
  EXPECT_EQ(tracker.Get(failed)->state, JobState::kError);
  EXPECT_EQ(tracker.Get(failed)->error, "boom");
}

TEST(JobTrackerTest, CancelOfANonCancellableJobIsRefused) {
  JobTracker tracker;
  JobTracker::NewJob insert = Job("", false, "/insert/records");
  insert.cancellable = false;
  absl::StatusOr<JobTracker::Created> queued = tracker.Create(insert);
  absl::StatusOr<JobTracker::Created> running = tracker.Create(insert);
  ASSERT_TRUE(queued.ok());
  ASSERT_TRUE(running.ok());
  tracker.MarkRunning(running->job.id, "w");
  const std::string refused = "NOT_CANCELLABLE: /insert/records changes data";
  EXPECT_EQ(tracker.Cancel(queued->job.id), refused);
  EXPECT_EQ(tracker.Cancel(running->job.id), refused);
  EXPECT_EQ(tracker.Get(queued->job.id)->state, JobState::kQueued);
  EXPECT_EQ(tracker.Get(running->job.id)->state, JobState::kRunning);
  EXPECT_TRUE(queued->control->Check().ok());
  EXPECT_TRUE(running->control->Check().ok());
  // It runs and completes.
  EXPECT_TRUE(tracker.MarkRunning(queued->job.id, "w"));
  tracker.Finish(queued->job.id, Json::object());
  tracker.Finish(running->job.id, Json::object());
  EXPECT_EQ(tracker.Get(queued->job.id)->state, JobState::kDone);
  EXPECT_EQ(tracker.Get(running->job.id)->state, JobState::kDone);
  // Once finished, "already finished" wins over "not cancellable".
  EXPECT_EQ(tracker.Cancel(queued->job.id), "NOT_CANCELLED: already finished (DONE)");
}

TEST(JobTrackerTest, CancelOfAnUnknownOrRemovedJobIsNotFound) {
  JobTracker tracker;
  EXPECT_EQ(tracker.Cancel(777), "NOT_FOUND: job 777 does not exist");
  const int64_t sync = MustCreate(tracker, SyncJob());
  tracker.Finish(sync, Json::object());
  tracker.RemoveSynchronous(sync);
  EXPECT_EQ(tracker.Cancel(sync),
            absl::StrCat("NOT_FOUND: job ", sync, " was a synchronous call; its result went to its caller"));
}

TEST(JobTrackerTest, CancelRacingFinishReachesExactlyOneFinalState) {
  JobTracker tracker;
  constexpr int kRounds = 300;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(round);
    const bool running = round % 2 == 1;
    const int64_t id = MustCreate(tracker, Job());
    if (running) ASSERT_TRUE(tracker.MarkRunning(id, "w"));
    WatchLog recorder;
    ASSERT_NE(tracker.Watch(id, recorder.Fn()), 0);
    std::atomic<int> done_calls{0};
    ASSERT_TRUE(WhenFinished(tracker, id, [&](const JobSnapshot&) { ++done_calls; }));

    Latch start(2);
    std::string outcome;
    std::thread canceller([&] {
      EXPECT_TRUE(start.ArriveAndWait());
      outcome = tracker.Cancel(id);
    });
    std::thread finisher([&] {
      EXPECT_TRUE(start.ArriveAndWait());
      tracker.Finish(id, Json{{"round", round}});
    });
    canceller.join();
    finisher.join();

    absl::StatusOr<JobSnapshot> job = tracker.Get(id);
    ASSERT_TRUE(job.ok());
    ASSERT_TRUE(job->finished());
    EXPECT_EQ(done_calls.load(), 1);
    EXPECT_EQ(recorder.finals(), 1);
    // The final call carries the record's final state and its latest version.
    std::vector<JobSnapshot> calls = recorder.calls();
    JobSnapshot final_call;
    int64_t max_version = 0;
    for (const JobSnapshot& c : calls) {
      if (c.finished()) final_call = c;
      max_version = std::max(max_version, c.version);
    }
    EXPECT_EQ(final_call.state, job->state);
    EXPECT_EQ(final_call.version, job->version);
    EXPECT_EQ(max_version, job->version);
    if (running) {
      // A running job stops only when it looks: Finish wins.
      EXPECT_EQ(job->state, JobState::kDone);
      EXPECT_TRUE(outcome == "CANCEL_REQUESTED" || outcome == "NOT_CANCELLED: already finished (DONE)")
          << outcome;
    } else if (outcome == "CANCELLED") {
      EXPECT_EQ(job->state, JobState::kCancelled);
    } else {
      EXPECT_EQ(outcome, "NOT_CANCELLED: already finished (DONE)");
      EXPECT_EQ(job->state, JobState::kDone);
      ASSERT_NE(job->response, nullptr);
      EXPECT_EQ((*job->response)["round"], round);
    }
    if (HasFatalFailure() || HasNonfatalFailure()) return;
  }
}

// ---------------------------------------------------------------------------
// Watch.

TEST(JobTrackerTest, WatchSeesTheRecordNowAndEveryChange) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job("w"));
  WatchLog recorder;
  const int64_t token = tracker.Watch(id, recorder.Fn());
  EXPECT_NE(token, 0);
  ASSERT_EQ(recorder.calls().size(), 1u);  // at once, with the record now
  EXPECT_EQ(recorder.calls()[0].id, id);
  EXPECT_EQ(recorder.calls()[0].tag, "w");
  EXPECT_EQ(recorder.calls()[0].state, JobState::kQueued);

  tracker.MarkRunning(id, "host:0/2");
  for (int p : {10, 20, 20, 30, 99}) tracker.SetProgress(id, p);  // the repeated 20 is no change
  tracker.Finish(id, Json{{"ok", true}});
  // Nothing after the final state.
  tracker.SetProgress(id, 5);
  tracker.Finish(id, absl::InternalError("late"));

  std::vector<JobSnapshot> calls = recorder.calls();
  ASSERT_EQ(calls.size(), 7u);
  std::vector<int> progress;
  for (const JobSnapshot& c : calls) progress.push_back(c.progress);
  EXPECT_EQ(progress, (std::vector<int>{0, 0, 10, 20, 30, 99, 100}));
  EXPECT_EQ(calls[1].state, JobState::kRunning);
  EXPECT_EQ(calls[1].worker, "host:0/2");
  for (size_t i = 1; i < calls.size(); ++i) EXPECT_GT(calls[i].version, calls[i - 1].version) << i;
  EXPECT_EQ(calls.back().state, JobState::kDone);
  ASSERT_NE(calls.back().response, nullptr);
  EXPECT_EQ((*calls.back().response)["ok"], true);
  EXPECT_EQ(recorder.finals(), 1);
  // Unwatch after the end is harmless.
  tracker.Unwatch(id, token);
}

TEST(JobTrackerTest, WatchOfAFinishedJobIsCalledOnceAtOnce) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job("", /*remove_on_complete=*/true));
  tracker.Finish(id, absl::CancelledError("stop"));
  int calls = 0;
  std::thread::id caller;
  JobSnapshot seen;
  EXPECT_TRUE(WhenFinished(tracker, id, [&](const JobSnapshot& s) {
    ++calls;
    seen = s;
    caller = std::this_thread::get_id();
  }));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(caller, std::this_thread::get_id());
  EXPECT_EQ(seen.state, JobState::kCancelled);
  EXPECT_EQ(seen.error, "stop");
  WatchLog recorder;
  EXPECT_NE(tracker.Watch(id, recorder.Fn()), 0);
  EXPECT_EQ(recorder.calls().size(), 1u);
  EXPECT_EQ(recorder.finals(), 1);
  // Watching is not a Get: the job is still there for its client.
  EXPECT_TRUE(tracker.Get(id).ok());
}

TEST(JobTrackerTest, WhenFinishedIsCalledOnceFromTheFinishingThread) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job());
  int calls = 0;
  JobSnapshot seen;
  std::thread::id caller;
  ASSERT_TRUE(WhenFinished(tracker, id, [&](const JobSnapshot& s) {
    ++calls;
    seen = s;
    caller = std::this_thread::get_id();
  }));
  int second_calls = 0;
  ASSERT_TRUE(WhenFinished(tracker, id, [&](const JobSnapshot&) { ++second_calls; }));
  tracker.MarkRunning(id, "w");
  tracker.SetProgress(id, 50);
  EXPECT_EQ(calls, 0);

  std::thread finisher([&] { tracker.Finish(id, Json{{"ok", true}}); });
  const std::thread::id finisher_id = finisher.get_id();
  finisher.join();
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(second_calls, 1);
  EXPECT_EQ(caller, finisher_id);
  EXPECT_EQ(seen.id, id);
  EXPECT_EQ(seen.state, JobState::kDone);
  EXPECT_EQ(seen.progress, 100);
  ASSERT_NE(seen.response, nullptr);
  EXPECT_EQ((*seen.response)["ok"], true);

  tracker.Finish(id, absl::InternalError("again"));
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(second_calls, 1);
}

TEST(JobTrackerTest, WatchOfAnUnknownOrRemovedJobIsZeroAndNeverCalled) {
  JobTracker tracker;
  int calls = 0;
  EXPECT_EQ(tracker.Watch(999, [&](const JobSnapshot&) { return ++calls, true; }), 0);
  EXPECT_FALSE(WhenFinished(tracker, 999, [&](const JobSnapshot&) { ++calls; }));
  const int64_t id = MustCreate(tracker, Job());
  ASSERT_TRUE(WhenFinished(tracker, id, [&](const JobSnapshot&) { ++calls; }));
  tracker.RemoveSynchronous(id);
  tracker.Finish(id, Json::object());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(tracker.Get(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tracker.Watch(id, [&](const JobSnapshot&) { return ++calls, true; }), 0);
  EXPECT_EQ(calls, 0);
  tracker.Unwatch(999, 1);  // harmless
}

TEST(JobTrackerTest, WatchersCountsTheWatchersOfAnUnfinishedJob) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job());
  EXPECT_EQ(tracker.watchers(id), 0u);
  WatchLog a, b;
  const int64_t token = tracker.Watch(id, a.Fn());
  ASSERT_NE(token, 0);
  ASSERT_NE(tracker.Watch(id, b.Fn()), 0);
  EXPECT_EQ(tracker.watchers(id), 2u);
  tracker.Unwatch(id, token);
  EXPECT_EQ(tracker.watchers(id), 1u);
  // One that is done at its first call is not kept.
  ASSERT_NE(tracker.Watch(id, [](const JobSnapshot&) { return false; }), 0);
  EXPECT_EQ(tracker.watchers(id), 1u);
  // The final state is the last call: none is left.
  tracker.Finish(id, Json::object());
  EXPECT_EQ(b.finals(), 1);
  EXPECT_EQ(tracker.watchers(id), 0u);
  EXPECT_EQ(tracker.watchers(id + 1000), 0u);  // not here
}

TEST(JobTrackerTest, WatcherReturningFalseIsNotCalledAgain) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job());
  std::vector<int> seen;
  ASSERT_NE(tracker.Watch(id,
                          [&](const JobSnapshot& s) {
                            seen.push_back(s.progress);
                            return s.progress < 20;
                          }),
            0);
  int initial_only = 0;
  ASSERT_NE(tracker.Watch(id, [&](const JobSnapshot&) { return ++initial_only, false; }), 0);
  WatchLog all;
  tracker.Watch(id, all.Fn());
  tracker.MarkRunning(id, "w");
  for (int p : {10, 20, 30, 40}) tracker.SetProgress(id, p);
  tracker.Finish(id, Json::object());
  EXPECT_EQ(seen, (std::vector<int>{0, 0, 10, 20}));
  EXPECT_EQ(initial_only, 1);
  EXPECT_EQ(all.calls().size(), 7u);  // the others still see everything
  EXPECT_EQ(all.finals(), 1);
}

TEST(JobTrackerTest, UnwatchStopsCalls) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job());
  WatchLog dropped, kept;
  const int64_t a = tracker.Watch(id, dropped.Fn());
  const int64_t b = tracker.Watch(id, kept.Fn());
  EXPECT_NE(a, 0);
  EXPECT_NE(b, 0);
  EXPECT_NE(a, b);
  tracker.SetProgress(id, 10);
  tracker.Unwatch(id, a);
  tracker.Unwatch(id, 12345);  // an unknown token is harmless
  tracker.SetProgress(id, 20);
  tracker.Finish(id, Json::object());
  EXPECT_EQ(dropped.calls().size(), 2u);
  EXPECT_EQ(dropped.finals(), 0);
  EXPECT_EQ(kept.calls().size(), 4u);
  EXPECT_EQ(kept.finals(), 1);
}

TEST(JobTrackerTest, FinalStateIsDeliveredOnceDespiteConcurrentProgress) {
  JobTracker tracker;
  constexpr int kRounds = 40;
  constexpr int kWatchers = 4;
  constexpr int kUpdaters = 3;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(round);
    const int64_t id = MustCreate(tracker, Job());
    ASSERT_TRUE(tracker.MarkRunning(id, "w"));
    struct Seen {
      std::mutex mu;
      int finals = 0;
      int calls = 0;
      int64_t max_version = 0;
      int64_t final_version = -1;
    };
    std::vector<std::unique_ptr<Seen>> seen;
    for (int w = 0; w < kWatchers; ++w) {
      seen.push_back(std::make_unique<Seen>());
      Seen* s = seen.back().get();
      ASSERT_NE(tracker.Watch(id,
                              [s](const JobSnapshot& job) {
                                std::lock_guard<std::mutex> lock(s->mu);
                                ++s->calls;
                                s->max_version = std::max(s->max_version, job.version);
                                if (job.finished()) {
                                  ++s->finals;
                                  s->final_version = job.version;
                                }
                                return true;
                              }),
                0);
    }
    Latch start(kUpdaters + 1);
    std::vector<std::thread> threads;
    for (int u = 0; u < kUpdaters; ++u) {
      threads.emplace_back([&, u] {
        EXPECT_TRUE(start.ArriveAndWait());
        for (int p = 1; p < 100; ++p) tracker.SetProgress(id, (p + u * 7) % 100);
      });
    }
    threads.emplace_back([&] {
      EXPECT_TRUE(start.ArriveAndWait());
      for (int i = 0; i < 50; ++i) std::this_thread::yield();
      tracker.Finish(id, Json::object());
    });
    for (std::thread& t : threads) t.join();
    absl::StatusOr<JobSnapshot> job = tracker.Get(id);
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(job->state, JobState::kDone);
    for (int w = 0; w < kWatchers; ++w) {
      std::lock_guard<std::mutex> lock(seen[w]->mu);
      EXPECT_EQ(seen[w]->finals, 1) << "watcher " << w;
      // No change after the final state: it is the highest version seen.
      EXPECT_EQ(seen[w]->final_version, job->version) << "watcher " << w;
      EXPECT_EQ(seen[w]->max_version, job->version) << "watcher " << w;
    }
    if (HasFatalFailure() || HasNonfatalFailure()) return;
  }
}

TEST(JobTrackerTest, WatcherMayCallBackIntoTheTracker) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job("", /*remove_on_complete=*/true));
  const int64_t other = MustCreate(tracker, Job());
  absl::StatusCode code = absl::StatusCode::kUnknown;
  JobState state = JobState::kQueued;
  std::string cancel_outcome;
  int64_t token = 0;
  // Calls back on progress (Unwatch itself, Cancel another job) and on the
  // final state (a consuming Get): none of it may deadlock.
  token = tracker.Watch(id, [&](const JobSnapshot& s) {
    if (s.progress == 50) {
      cancel_outcome = tracker.Cancel(other);
      tracker.SetProgress(s.id, 60);  // a nested change: delivered too
    }
    if (!s.finished()) return true;
    absl::StatusOr<JobSnapshot> got = tracker.Get(s.id);
    code = got.status().code();
    if (got.ok()) state = got->state;
    tracker.Unwatch(s.id, token);
    return false;
  });
  ASSERT_NE(token, 0);
  tracker.MarkRunning(id, "w");
  tracker.SetProgress(id, 50);
  EXPECT_EQ(tracker.Get(id)->progress, 60);
  EXPECT_EQ(cancel_outcome, "CANCELLED");
  tracker.Finish(id, Json::object());
  EXPECT_EQ(code, absl::StatusCode::kOk);
  EXPECT_EQ(state, JobState::kDone);
  EXPECT_EQ(tracker.Get(id).status().code(), absl::StatusCode::kNotFound);  // consumed by the watcher
  EXPECT_EQ(tracker.size(), 1u);
}

// ---------------------------------------------------------------------------
// Retention: TTL, synchronous jobs, result memory.

TEST(JobTrackerTest, FinishedAsyncJobsExpireAfterTheTtl) {
  const absl::Duration ttl = absl::Minutes(5);
  JobTracker tracker(TrackerOptions{ttl, size_t{1} << 30});
  const int64_t done = MustCreate(tracker, Job("done-tag"));
  const int64_t failed = MustCreate(tracker, Job("failed-tag"));
  const int64_t cancelled = MustCreate(tracker, Job());
  const int64_t queued = MustCreate(tracker, Job("queued-tag"));
  const int64_t running = MustCreate(tracker, Job());
  tracker.Finish(done, BigResponse(1));
  tracker.Finish(failed, absl::InternalError("boom"));
  EXPECT_EQ(tracker.Cancel(cancelled), "CANCELLED");
  tracker.MarkRunning(running, "w");
  EXPECT_GT(tracker.result_bytes(), 0u);

  // Before the TTL nothing goes.
  tracker.Sweep(absl::Now());
  EXPECT_EQ(tracker.size(), 5u);
  tracker.Sweep(absl::Now() + ttl - absl::Seconds(30));
  EXPECT_EQ(tracker.size(), 5u);

  tracker.Sweep(absl::Now() + ttl + absl::Seconds(1));
  EXPECT_EQ(tracker.size(), 2u);
  EXPECT_EQ(tracker.result_bytes(), 0u);
  for (int64_t id : {done, failed, cancelled}) {
    absl::StatusOr<JobSnapshot> job = tracker.Get(id);
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(job.status().message(), Expired(absl::StrCat("job_id: job ", id), ttl));
  }
  EXPECT_EQ(tracker.GetByTag("done-tag").status().message(),
            Expired(absl::StrCat("options.job_tag: job 'done-tag' (job ", done, ")"), ttl));
  EXPECT_EQ(tracker.Cancel(done), Expired(absl::StrCat("NOT_FOUND: job ", done), ttl));
  EXPECT_EQ(tracker.Watch(done, [](const JobSnapshot&) { return true; }), 0);

  // Unfinished jobs never expire, however late.
  tracker.Sweep(absl::Now() + absl::Hours(24 * 365));
  EXPECT_EQ(tracker.Get(queued)->state, JobState::kQueued);
  EXPECT_EQ(tracker.GetByTag("queued-tag")->id, queued);
  EXPECT_EQ(tracker.Get(running)->state, JobState::kRunning);

  // A job expires TTL after it finished, not after it was created.
  tracker.Finish(running, Json::object());
  tracker.Sweep(absl::Now() + ttl / 2);
  EXPECT_TRUE(tracker.Get(running).ok());
  tracker.Sweep(absl::Now() + ttl + absl::Seconds(1));
  EXPECT_EQ(tracker.Get(running).status().message(), Expired(absl::StrCat("job_id: job ", running), ttl));
  EXPECT_TRUE(tracker.Get(queued).ok());
  // An expired job's tag is free for a new job.
  EXPECT_NE(MustCreate(tracker, Job("done-tag")), -1);
}

TEST(JobTrackerTest, TombstonesLastATtlAfterTheirJobWent) {
  // So that memory returns to its baseline after a burst of jobs.
  const absl::Duration ttl = absl::Minutes(5);
  JobTracker tracker(TrackerOptions{ttl, size_t{1} << 30});
  const int64_t id = MustCreate(tracker, Job("t"));
  tracker.Finish(id, Json::object());
  const absl::Time went = absl::Now() + ttl + absl::Seconds(1);
  tracker.Sweep(went);
  EXPECT_EQ(tracker.Get(id).status().message(), Expired(absl::StrCat("job_id: job ", id), ttl));
  tracker.Sweep(went + ttl - absl::Seconds(1));
  EXPECT_EQ(tracker.Get(id).status().message(), Expired(absl::StrCat("job_id: job ", id), ttl));
  EXPECT_EQ(tracker.Sweep(went + ttl), absl::InfiniteFuture());
  EXPECT_EQ(tracker.Get(id).status().message(), absl::StrCat("job_id: job ", id, " does not exist"));
  EXPECT_EQ(tracker.GetByTag("t").status().message(), "options.job_tag: no job has tag 't'");
}

TEST(JobTrackerTest, SynchronousJobsAreNotRetained) {
  const absl::Duration ttl = absl::Minutes(1);
  JobTracker tracker(TrackerOptions{ttl, size_t{1} << 30});
  const int64_t sync = MustCreate(tracker, SyncJob());
  EXPECT_FALSE(tracker.Get(sync)->async);
  tracker.MarkRunning(sync, "w");
  tracker.Finish(sync, BigResponse(1));
  // Its result goes to its caller: not counted as stored.
  EXPECT_EQ(tracker.result_bytes(), 0u);
  absl::StatusOr<JobSnapshot> job = tracker.Get(sync);
  ASSERT_TRUE(job.ok());
  ASSERT_NE(job->response, nullptr);
  EXPECT_EQ((*job->response)["i"], 1);
  // Nothing for the sweeper to do with it: it waits for its caller.
  EXPECT_EQ(tracker.Sweep(absl::Now()), absl::InfiniteFuture());
  tracker.RemoveSynchronous(sync);
  EXPECT_EQ(tracker.size(), 0u);
  EXPECT_EQ(tracker.Get(sync).status().message(),
            absl::StrCat("job_id: job ", sync, " was a synchronous call; its result went to its caller"));
  tracker.Sweep(absl::Now() + ttl / 2);
  EXPECT_EQ(tracker.Get(sync).status().message(),
            absl::StrCat("job_id: job ", sync, " was a synchronous call; its result went to its caller"));
  // Tombstones last a TTL too.
  tracker.Sweep(absl::Now() + ttl + absl::Seconds(1));
  EXPECT_EQ(tracker.Get(sync).status().message(), absl::StrCat("job_id: job ", sync, " does not exist"));
}

TEST(JobTrackerTest, SweepReturnsWhenItNextHasWork) {
  const absl::Duration ttl = absl::Minutes(10);
  JobTracker tracker(TrackerOptions{ttl, size_t{1} << 30});
  EXPECT_EQ(tracker.Sweep(absl::Now()), absl::InfiniteFuture());
  const int64_t queued = MustCreate(tracker, Job());
  EXPECT_EQ(tracker.Sweep(absl::Now()), absl::InfiniteFuture());  // unfinished, no deadline: no work

  const int64_t done = MustCreate(tracker, Job());
  const absl::Time before = absl::Now();
  tracker.Finish(done, Json::object());
  const absl::Time after = absl::Now();
  absl::Time next = tracker.Sweep(after);
  EXPECT_GE(next, before + ttl);
  EXPECT_LE(next, after + ttl);

  // A deadline sooner than that comes first.
  JobTracker::NewJob soon = Job();
  soon.deadline = absl::Now() + absl::Minutes(2);
  MustCreate(tracker, soon);
  EXPECT_EQ(tracker.Sweep(absl::Now()), soon.deadline);
  // Once past it, the expiry is next again.
  next = tracker.Sweep(soon.deadline + absl::Seconds(1));
  EXPECT_GE(next, before + ttl);
  EXPECT_LE(next, after + ttl);

  next = tracker.Sweep(after + ttl + absl::Seconds(1));
  EXPECT_FALSE(tracker.Get(done).ok());
  EXPECT_TRUE(tracker.Get(queued).ok());
  // Then its tombstone's end.
  EXPECT_EQ(next, after + 2 * ttl + absl::Seconds(1));
  EXPECT_EQ(tracker.Sweep(next), absl::InfiniteFuture());
}

TEST(JobTrackerTest, SweepReturnsWhenARequestIdExpires) {
  const absl::Duration ttl = absl::Minutes(10);
  JobTracker tracker(TrackerOptions{ttl, size_t{1} << 30});
  const absl::Time before = absl::Now();
  MustCreate(tracker, RequestJob("next-rid", 1));
  const absl::Time after = absl::Now();
  // The job is unfinished: the request id is the only work.
  const absl::Time next = tracker.Sweep(after);
  EXPECT_GE(next, before + ttl);
  EXPECT_LE(next, after + ttl);
  EXPECT_EQ(tracker.Sweep(after + ttl + absl::Seconds(1)), absl::InfiniteFuture());
}

TEST(JobTrackerTest, ResultMemoryLimitEvictsTheOldestFinishedResults) {
  // The bytes one BigResponse counts for.
  size_t one = 0;
  {
    JobTracker probe;
    const int64_t id = MustCreate(probe, Job());
    probe.Finish(id, BigResponse(0));
    one = probe.result_bytes();
  }
  ASSERT_GT(one, 1000u);
  // Room for three results.
  const size_t limit = 3 * one + one / 2;
  const absl::Duration ttl = absl::Minutes(1);
  JobTracker tracker(TrackerOptions{ttl, limit});
  const std::string evicted = " was evicted: stored results are kept within ";

  std::vector<int64_t> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(MustCreate(tracker, Job(absl::StrCat("r", i))));
  // Synchronous jobs and errors store nothing and are never evicted.
  const int64_t sync = MustCreate(tracker, SyncJob());
  const int64_t failed = MustCreate(tracker, Job());
  tracker.Finish(sync, BigResponse(100));
  tracker.Finish(failed, absl::InternalError("no result"));
  EXPECT_EQ(tracker.result_bytes(), 0u);

  // Finish in an order other than creation: 2, 0, 1 fill the budget.
  for (int i : {2, 0, 1}) tracker.Finish(ids[i], BigResponse(i));
  EXPECT_EQ(tracker.result_bytes(), 3 * one);
  for (int i : {0, 1, 2}) EXPECT_TRUE(tracker.Get(ids[i]).ok()) << i;

  // One more: the oldest finished (2) goes.
  tracker.Finish(ids[3], BigResponse(3));
  EXPECT_EQ(tracker.result_bytes(), 3 * one);
  absl::StatusOr<JobSnapshot> gone = tracker.Get(ids[2]);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(gone.status().message().rfind(absl::StrCat("job_id: job ", ids[2], evicted), 0), 0u)
      << gone.status().message();
  EXPECT_NE(gone.status().message().find("(--result-memory-limit)"), absl::string_view::npos);
  EXPECT_EQ(tracker.GetByTag("r2").status().message().rfind(
                absl::StrCat("options.job_tag: job 'r2' (job ", ids[2], ")", evicted), 0),
            0u);
  EXPECT_EQ(tracker.Cancel(ids[2]).rfind(absl::StrCat("NOT_FOUND: job ", ids[2], evicted), 0), 0u);

  // Then 0, then 1.
  tracker.Finish(ids[4], BigResponse(4));
  EXPECT_FALSE(tracker.Get(ids[0]).ok());
  EXPECT_TRUE(tracker.Get(ids[1]).ok());
  tracker.Finish(ids[5], BigResponse(5));
  EXPECT_FALSE(tracker.Get(ids[1]).ok());
  for (int i : {3, 4, 5}) EXPECT_TRUE(tracker.Get(ids[i]).ok()) << i;
  EXPECT_EQ(tracker.result_bytes(), 3 * one);
  // The others are untouched.
  EXPECT_TRUE(tracker.Get(sync).ok());
  EXPECT_EQ(tracker.Get(failed)->state, JobState::kError);

  // Removing and expiring give the bytes back, down to zero (never below).
  tracker.RemoveSynchronous(sync);
  EXPECT_EQ(tracker.result_bytes(), 3 * one);
  tracker.RemoveSynchronous(ids[3]);
  EXPECT_EQ(tracker.result_bytes(), 2 * one);
  tracker.RemoveSynchronous(ids[3]);
  EXPECT_EQ(tracker.result_bytes(), 2 * one);
  tracker.Sweep(absl::Now() + ttl + absl::Seconds(1));
  EXPECT_EQ(tracker.result_bytes(), 0u);
  EXPECT_EQ(tracker.size(), 0u);
  // A result larger than the whole budget is not kept either.
  const int64_t huge = MustCreate(tracker, Job());
  tracker.Finish(huge, Json{{"data", std::string(limit, 'y')}});
  EXPECT_EQ(tracker.result_bytes(), 0u);
  EXPECT_NE(tracker.Get(huge).status().message().find(evicted), absl::string_view::npos);
}

TEST(JobTrackerTest, ResultBytesStayConsistentUnderMixedRemovals) {
  size_t one = 0;
  {
    JobTracker probe;
    const int64_t id = MustCreate(probe, Job());
    probe.Finish(id, BigResponse(0));
    one = probe.result_bytes();
  }
  const size_t limit = 5 * one;
  const absl::Duration ttl = absl::Minutes(1);
  JobTracker tracker(TrackerOptions{ttl, limit});
  // Async (some remove_on_complete), synchronous, errors; finished, consumed,
  // removed, evicted, in a fixed but mixed order. result_bytes() never
  // exceeds the limit and never wraps.
  std::vector<int64_t> live;
  for (int i = 0; i < 60; ++i) {
    const int kind = i % 4;
    JobTracker::NewJob job = kind == 1 ? SyncJob() : Job("", /*remove_on_complete=*/kind == 2);
    const int64_t id = MustCreate(tracker, job);
    if (kind == 3 && i % 8 == 3) {
      tracker.Finish(id, absl::InternalError("x"));
    } else {
      tracker.Finish(id, BigResponse(i));
    }
    if (kind == 1) tracker.RemoveSynchronous(id);
    if (kind == 2 && i % 3 == 0) (void)tracker.Get(id);  // consumed
    if (i % 7 == 0) tracker.RemoveSynchronous(id - 1);
    const size_t bytes = tracker.result_bytes();
    ASSERT_LE(bytes, limit) << i;
    ASSERT_EQ(bytes % one, 0u) << i;
  }
  tracker.Sweep(absl::Now() + ttl + absl::Seconds(1));
  EXPECT_EQ(tracker.result_bytes(), 0u);
  EXPECT_EQ(tracker.size(), 0u);
}

// ---------------------------------------------------------------------------
// Request ids.

// ---------------------------------------------------------------------------
// Per-user limits.

JobTracker::NewJob UserJob(std::string user, bool async = true) {
  JobTracker::NewJob job = Job();
  job.auth_id = std::move(user);
  job.async = async;
  return job;
}

TEST(JobTrackerTest, UserMayHaveAtMostItsLimitOfUnfinishedJobs) {
  TrackerOptions options;
  options.limits.defaults.max_jobs = 3;
  options.limits.users["bob"].max_jobs = 2;
  JobTracker tracker(options);
  // bob: two, asynchronous or not; the third is refused naming him.
  const int64_t a = MustCreate(tracker, UserJob("bob"));
  const int64_t b = MustCreate(tracker, UserJob("bob", /*async=*/false));
  absl::StatusOr<JobTracker::Created> third = tracker.Create(UserJob("bob"));
  ASSERT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(third.status().message(),
            "user 'bob' has 2 unfinished jobs, the most it may have at once (its jobs limit; --user-max-jobs)");
  // Others have their own count (the defaults: 3 each).
  for (int i = 0; i < 3; ++i) MustCreate(tracker, UserJob("alice"));
  EXPECT_EQ(tracker.Create(UserJob("alice")).status().code(), absl::StatusCode::kResourceExhausted);
  for (int i = 0; i < 3; ++i) MustCreate(tracker, UserJob(""));
  EXPECT_EQ(tracker.Create(UserJob("")).status().message(),
            "the anonymous user has 3 unfinished jobs, the most it may have at once (its jobs limit; --user-max-jobs)");
  // Every way of finishing frees a place: done, error, cancelled while queued.
  tracker.Finish(a, Json{{"ok", true}});
  const int64_t c = MustCreate(tracker, UserJob("bob"));
  tracker.Finish(b, absl::InternalError("failed"));
  const int64_t d = MustCreate(tracker, UserJob("bob"));
  EXPECT_EQ(tracker.Cancel(c), "CANCELLED");
  MustCreate(tracker, UserJob("bob"));
  EXPECT_EQ(tracker.Create(UserJob("bob")).status().code(), absl::StatusCode::kResourceExhausted);
  // Reading a job, finished or not, does not count.
  ASSERT_TRUE(tracker.Get(d).ok());
  EXPECT_EQ(tracker.Create(UserJob("bob")).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(JobTrackerTest, AUserFindsAndCancelsItsOwnJobsOnly) {
  const absl::Duration ttl = absl::Minutes(5);
  JobTracker tracker(TrackerOptions{ttl, size_t{1} << 30});
  JobTracker::NewJob bobs = UserJob("bob");
  bobs.tag = "bobs";
  bobs.remove_on_complete = true;
  const int64_t id = MustCreate(tracker, bobs);
  tracker.Finish(id, Json{{"count", 1}});
  // Another user: as if it never existed, and not consumed by the look.
  const std::string none = absl::StrCat("job_id: job ", id, " does not exist");
  EXPECT_EQ(tracker.Get(id, true, "alice").status().message(), none);
  EXPECT_EQ(tracker.GetByTag("bobs", true, "alice").status().message(), "options.job_tag: no job has tag 'bobs'");
  EXPECT_EQ(tracker.Cancel(id, "alice"), absl::StrCat("NOT_FOUND: job ", id, " does not exist"));
  // Bob, and the administrator, see it; bob's read consumes it.
  EXPECT_TRUE(tracker.Get(id, false, std::string(kAdminUser)).ok());
  EXPECT_TRUE(tracker.GetByTag("bobs", true, "bob").ok());
  // Its tombstone says why it went to bob only.
  EXPECT_NE(tracker.Get(id, true, "bob").status().message().find("was removed when its result was returned"),
            std::string::npos);
  EXPECT_EQ(tracker.Get(id, true, "alice").status().message(), none);
  EXPECT_EQ(tracker.GetByTag("bobs", true, "alice").status().message(), "options.job_tag: no job has tag 'bobs'");
  EXPECT_EQ(tracker.Cancel(id, "alice"), absl::StrCat("NOT_FOUND: job ", id, " does not exist"));
}

TEST(JobTrackerTest, WithoutLimitsAUserMayHaveAnyNumberOfJobs) {
  JobTracker tracker;
  for (int i = 0; i < 1000; ++i) MustCreate(tracker, UserJob("bob"));
}

TEST(JobTrackerTest, ResultOverTheUsersLimitEndsTheJobInError) {
  TrackerOptions options;
  options.limits.users["bob"].max_result_bytes = 500;
  JobTracker tracker(options);
  const int64_t big = MustCreate(tracker, UserJob("bob"));
  const int64_t big_sync = MustCreate(tracker, UserJob("bob", /*async=*/false));
  const int64_t small = MustCreate(tracker, UserJob("bob"));
  const int64_t other = MustCreate(tracker, UserJob("alice"));
  tracker.Finish(big, BigResponse(1));
  tracker.Finish(big_sync, BigResponse(2));
  tracker.Finish(small, Json{{"count", 3}});
  tracker.Finish(other, BigResponse(4));
  for (int64_t id : {big, big_sync}) {
    absl::StatusOr<JobSnapshot> job = tracker.Get(id);
    ASSERT_TRUE(job.ok()) << job.status();
    EXPECT_EQ(job->state, JobState::kError);
    EXPECT_EQ(job->response, nullptr);
    EXPECT_NE(job->error.find("more than user 'bob' may receive at once (500 bytes; its result limit, "
                              "--user-max-result-size)"),
              std::string::npos)
        << job->error;
  }
  EXPECT_EQ(tracker.Get(small)->state, JobState::kDone);
  EXPECT_EQ(tracker.Get(other)->state, JobState::kDone);
  EXPECT_EQ((*tracker.Get(other)->response)["i"], 4);
}

TEST(JobTrackerTest, SameRequestIdAndFingerprintReturnTheSameJob) {
  const absl::Duration ttl = absl::Minutes(1);
  JobTracker tracker(TrackerOptions{ttl, size_t{1} << 30});
  absl::StatusOr<JobTracker::Created> first = tracker.Create(RequestJob("rid-1", 42, /*remove_on_complete=*/true));
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->reused);

  absl::StatusOr<JobTracker::Created> again = tracker.Create(RequestJob("rid-1", 42, true));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->job.id, first->job.id);
  EXPECT_EQ(again->job.tag, first->job.tag);
  EXPECT_EQ(again->control, first->control);
  EXPECT_EQ(tracker.size(), 1u);

  // Another request under the same id is refused, naming the job.
  absl::StatusOr<JobTracker::Created> other = tracker.Create(RequestJob("rid-1", 43, true));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(other.status().message(), absl::StrCat("options.request_id: 'rid-1' was used for a different request (job ",
                                                   first->job.id, ")"));
  // Other ids are independent.
  absl::StatusOr<JobTracker::Created> second = tracker.Create(RequestJob("rid-2", 42, true));
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->reused);
  EXPECT_NE(second->job.id, first->job.id);

  // Still the same job once it finished and was consumed.
  tracker.Finish(first->job.id, Json::object());
  ASSERT_TRUE(tracker.Get(first->job.id).ok());
  ASSERT_FALSE(tracker.Get(first->job.id).ok());
  again = tracker.Create(RequestJob("rid-1", 42, true));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->job.id, first->job.id);
  EXPECT_EQ(again->job.tag, first->job.tag);
  EXPECT_EQ(tracker.size(), 1u);  // nothing new registered
  EXPECT_FALSE(tracker.Create(RequestJob("rid-1", 43, true)).ok());

  // Before the TTL the id is held; after it, it is free for a new job.
  tracker.Sweep(absl::Now() + ttl / 2);
  EXPECT_TRUE(tracker.Create(RequestJob("rid-1", 42, true))->reused);
  tracker.Sweep(absl::Now() + ttl + absl::Seconds(1));
  absl::StatusOr<JobTracker::Created> fresh = tracker.Create(RequestJob("rid-1", 43, true));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_FALSE(fresh->reused);
  EXPECT_GT(fresh->job.id, second->job.id);
  // And the new job is what the id names now.
  absl::StatusOr<JobTracker::Created> repeat = tracker.Create(RequestJob("rid-1", 43, true));
  ASSERT_TRUE(repeat.ok());
  EXPECT_TRUE(repeat->reused);
  EXPECT_EQ(repeat->job.id, fresh->job.id);
}

TEST(JobTrackerTest, RefusedCreateDoesNotHoldTheRequestId) {
  JobTracker tracker;
  MustCreate(tracker, Job("taken"));
  JobTracker::NewJob job = RequestJob("rid", 7);
  job.tag = "taken";
  EXPECT_FALSE(tracker.Create(job).ok());
  job.tag = "free";
  absl::StatusOr<JobTracker::Created> created = tracker.Create(job);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_FALSE(created->reused);
}

TEST(JobTrackerTest, SixteenThreadsWithOneRequestIdGetOneJob) {
  constexpr int kThreads = 16;
  for (int round = 0; round < 20; ++round) {
    JobTracker tracker;
    Latch start(kThreads);
    std::vector<int64_t> ids(kThreads, -1);
    std::vector<int> reused(kThreads, -1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        EXPECT_TRUE(start.ArriveAndWait());
        absl::StatusOr<JobTracker::Created> created = tracker.Create(RequestJob("same", 99));
        if (!created.ok()) return;
        ids[t] = created->job.id;
        reused[t] = created->reused ? 1 : 0;
      });
    }
    for (std::thread& t : threads) t.join();
    EXPECT_EQ(std::set<int64_t>(ids.begin(), ids.end()).size(), 1u);
    EXPECT_NE(ids[0], -1);
    EXPECT_EQ(std::count(reused.begin(), reused.end(), 0), 1);
    EXPECT_EQ(std::count(reused.begin(), reused.end(), 1), kThreads - 1);
    EXPECT_EQ(tracker.size(), 1u);
  }
}

// ---------------------------------------------------------------------------
// Deadlines.

TEST(JobTrackerTest, SweepFailsAQueuedJobPastItsDeadline) {
  JobTracker tracker;
  JobTracker::NewJob job = Job("late");
  job.deadline = absl::Now() + absl::Minutes(1);
  absl::StatusOr<JobTracker::Created> created = tracker.Create(job);
  ASSERT_TRUE(created.ok());
  const int64_t id = created->job.id;
  EXPECT_EQ(created->control->deadline(), job.deadline);
  WatchLog recorder;
  tracker.Watch(id, recorder.Fn());

  tracker.Sweep(job.deadline - absl::Seconds(1));
  EXPECT_EQ(tracker.Get(id)->state, JobState::kQueued);
  tracker.Sweep(job.deadline + absl::Milliseconds(1));
  absl::StatusOr<JobSnapshot> got = tracker.Get(id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state, JobState::kError);
  EXPECT_EQ(got->error.rfind("deadline exceeded", 0), 0u) << got->error;
  EXPECT_NE(got->error.find("never started"), std::string::npos) << got->error;
  EXPECT_EQ(recorder.finals(), 1);
  EXPECT_EQ(recorder.calls().back().state, JobState::kError);
  // It must not run now.
  EXPECT_FALSE(tracker.MarkRunning(id, "w"));
  tracker.Sweep(job.deadline + absl::Minutes(1));
  EXPECT_EQ(recorder.finals(), 1);
}

TEST(JobTrackerTest, SweepLeavesARunningJobToItsControl) {
  JobTracker tracker;
  JobTracker::NewJob job = Job();
  job.deadline = absl::Now() - absl::Milliseconds(1);  // already past
  absl::StatusOr<JobTracker::Created> created = tracker.Create(job);
  ASSERT_TRUE(created.ok());
  const int64_t id = created->job.id;
  ASSERT_TRUE(tracker.MarkRunning(id, "w"));
  tracker.Sweep(absl::Now() + absl::Hours(1));
  EXPECT_EQ(tracker.Get(id)->state, JobState::kRunning);
  const absl::Status check = created->control->Check();
  EXPECT_EQ(check.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(check.message().rfind("deadline exceeded", 0), 0u) << check.message();
  // The job stops with it: an error.
  tracker.Finish(id, check);
  EXPECT_EQ(tracker.Get(id)->state, JobState::kError);
  EXPECT_EQ(tracker.Get(id)->error, std::string(check.message()));
}

TEST(JobTrackerTest, DeadlineOfAJobCancelledOrFinishedFirstChangesNothing) {
  JobTracker tracker;
  JobTracker::NewJob job = Job();
  job.deadline = absl::Now() + absl::Minutes(1);
  const int64_t cancelled = MustCreate(tracker, job);
  const int64_t done = MustCreate(tracker, job);
  EXPECT_EQ(tracker.Cancel(cancelled), "CANCELLED");
  tracker.Finish(done, Json::object());
  tracker.Sweep(job.deadline + absl::Seconds(1));
  EXPECT_EQ(tracker.Get(cancelled)->state, JobState::kCancelled);
  EXPECT_EQ(tracker.Get(done)->state, JobState::kDone);
}

TEST(JobControlTest, ChecksCancelBeforeDeadline) {
  JobControl none(absl::InfiniteFuture());
  EXPECT_TRUE(none.Check().ok());
  none.RequestCancel();
  EXPECT_EQ(none.Check().code(), absl::StatusCode::kCancelled);

  JobControl past(absl::Now() - absl::Seconds(1));
  EXPECT_EQ(past.Check().code(), absl::StatusCode::kDeadlineExceeded);
  past.RequestCancel();
  EXPECT_EQ(past.Check().code(), absl::StatusCode::kCancelled);

  JobControl future(absl::Now() + absl::Hours(1));
  EXPECT_TRUE(future.Check().ok());
}

}  // namespace
}  // namespace engine
