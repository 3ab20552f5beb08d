#include "engine/tracker.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace engine {
namespace {

JobTracker::NewJob Job(std::string tag = "", bool remove_on_complete = false,
                       std::string endpoint = "/filter") {
  JobTracker::NewJob job;
  job.endpoint = std::move(endpoint);
  job.request_encoding = "binary";
  job.tag = std::move(tag);
  job.remove_on_complete = remove_on_complete;
  return job;
}

int64_t MustCreate(JobTracker& tracker, JobTracker::NewJob job) {
  absl::StatusOr<JobSnapshot> created = tracker.Create(std::move(job));
  EXPECT_TRUE(created.ok()) << created.status();
  return created.ok() ? created->id : -1;
}

bool IsGeneratedTagShape(const std::string& tag) {
  if (tag.size() != 32) return false;
  for (char c : tag) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(JobTrackerTest, CreateReturnsAQueuedRecord) {
  JobTracker tracker;
  const int64_t before = NowMs();
  absl::StatusOr<JobSnapshot> job = tracker.Create(Job("my-tag_1", false, "/aggregate/groupby"));
  const int64_t after = NowMs();
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_GE(job->id, 1);
  EXPECT_EQ(job->tag, "my-tag_1");
  EXPECT_EQ(job->endpoint, "/aggregate/groupby");
  EXPECT_EQ(job->request_encoding, "binary");
  EXPECT_EQ(job->state, JobState::kQueued);
  EXPECT_EQ(job->progress, 0);
  EXPECT_EQ(job->response, nullptr);
  EXPECT_TRUE(job->error.empty());
  EXPECT_FALSE(job->finished());
  EXPECT_GE(job->time_received_ms, before);
  EXPECT_LE(job->time_received_ms, after);
  EXPECT_EQ(tracker.size(), 1u);

  absl::StatusOr<JobSnapshot> got = tracker.Get(job->id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->tag, "my-tag_1");
  EXPECT_EQ(got->state, JobState::kQueued);
  absl::StatusOr<JobSnapshot> by_tag = tracker.GetByTag("my-tag_1");
  ASSERT_TRUE(by_tag.ok());
  EXPECT_EQ(by_tag->id, job->id);
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
  tracker.Remove(last);
  tracker.Remove(last - 1);
  EXPECT_GT(MustCreate(tracker, Job()), last);
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
        absl::StatusOr<JobSnapshot> job = tracker.Create(Job());
        if (!job.ok()) return;
        ids[t].push_back(job->id);
        tags[t].push_back(job->tag);
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
  // Increasing without gaps: exactly 1..N were handed out.
  EXPECT_EQ(*all_ids.begin(), 1);
  EXPECT_EQ(*all_ids.rbegin(), kThreads * kPerThread);
  EXPECT_EQ(tracker.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(JobTrackerTest, GeneratedTagsAreUniqueHexAndNotTheId) {
  JobTracker tracker;
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    absl::StatusOr<JobSnapshot> job = tracker.Create(Job());
    ASSERT_TRUE(job.ok());
    EXPECT_TRUE(IsGeneratedTagShape(job->tag)) << job->tag;
    EXPECT_NE(job->tag, absl::StrCat(job->id));
    EXPECT_TRUE(seen.insert(job->tag).second) << job->tag;
    // A generated tag is a valid caller tag, so it can be looked up.
    EXPECT_TRUE(ValidateJobTag(job->tag).ok());
    absl::StatusOr<JobSnapshot> by_tag = tracker.GetByTag(job->tag);
    ASSERT_TRUE(by_tag.ok());
    EXPECT_EQ(by_tag->id, job->id);
  }
  // Two trackers (two servers) do not hand out the same sequence of tags.
  JobTracker other;
  absl::StatusOr<JobSnapshot> first = other.Create(Job());
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(seen.count(first->tag), 0u);
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
    absl::StatusOr<JobSnapshot> job = tracker.Create(Job(bad));
    ASSERT_FALSE(job.ok());
    EXPECT_EQ(job.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(job.status().message(), message);
  }
  absl::StatusOr<JobSnapshot> job = tracker.Create(Job(std::string(257, 'x')));
  ASSERT_FALSE(job.ok());
  EXPECT_EQ(job.status().message(), length_error);
  EXPECT_EQ(tracker.size(), 0u);  // refused jobs are not registered
}

TEST(JobTrackerTest, CallerTagIsUniqueWhileTheJobExists) {
  JobTracker tracker;
  const int64_t first = MustCreate(tracker, Job("dup"));
  absl::StatusOr<JobSnapshot> second = tracker.Create(Job("dup"));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(second.status().message(), absl::StrCat("options.job_tag: 'dup' is already used by job ", first));
  EXPECT_EQ(tracker.size(), 1u);

  // Still taken after the job finished, free once it is removed.
  tracker.Finish(first, Json::object());
  EXPECT_FALSE(tracker.Create(Job("dup")).ok());
  tracker.Remove(first);
  absl::StatusOr<JobSnapshot> third = tracker.Create(Job("dup"));
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_GT(third->id, first);
  absl::StatusOr<JobSnapshot> by_tag = tracker.GetByTag("dup");
  ASSERT_TRUE(by_tag.ok());
  EXPECT_EQ(by_tag->id, third->id);
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

  const int64_t id = MustCreate(tracker, Job("gone"));
  tracker.Remove(id);
  EXPECT_EQ(tracker.Get(id).status().message(), absl::StrCat("job_id: job ", id, " does not exist"));
  EXPECT_EQ(tracker.GetByTag("gone").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tracker.size(), 0u);
  tracker.Remove(id);  // removing twice is harmless
}

TEST(JobTrackerTest, StatusNamesFollowTheSpec) {
  EXPECT_STREQ(JobStatusName(JobState::kQueued), "RUNNING");
  EXPECT_STREQ(JobStatusName(JobState::kRunning), "RUNNING");
  EXPECT_STREQ(JobStatusName(JobState::kDone), "DONE");
  EXPECT_STREQ(JobStatusName(JobState::kError), "ERROR");
  EXPECT_STREQ(JobStatusName(JobState::kCancelled), "CANCELLED");
}

TEST(JobTrackerTest, QueuedRunningDoneWithProgress) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job());
  EXPECT_EQ(tracker.Get(id)->state, JobState::kQueued);
  tracker.SetProgress(id, 10);  // progress while queued is kept
  EXPECT_EQ(tracker.Get(id)->progress, 10);

  tracker.MarkRunning(id);
  absl::StatusOr<JobSnapshot> job = tracker.Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kRunning);
  EXPECT_FALSE(job->finished());
  tracker.SetProgress(id, 55);
  EXPECT_EQ(tracker.Get(id)->progress, 55);

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

  // Nothing changes a finished job.
  tracker.SetProgress(id, 20);
  tracker.MarkRunning(id);
  tracker.Finish(id, absl::InternalError("late"));
  job = tracker.Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kDone);
  EXPECT_EQ(job->progress, 100);
  EXPECT_TRUE(job->error.empty());
  EXPECT_EQ(*job->response, response);
  // Without remove_on_complete the record stays.
  EXPECT_TRUE(tracker.Get(id).ok());
}

TEST(JobTrackerTest, FinishWithAnErrorKeepsTheMessage) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job());
  tracker.MarkRunning(id);
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

TEST(JobTrackerTest, FinishingAQueuedJobIsAllowed) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job());
  tracker.Finish(id, absl::ResourceExhaustedError("out of device memory on host:0"));
  absl::StatusOr<JobSnapshot> job = tracker.Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kError);
  EXPECT_EQ(job->error, "out of device memory on host:0");
}

TEST(JobTrackerTest, RemoveOnCompleteRemovesOnTheFirstGetThatSeesItFinished) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job("roc", /*remove_on_complete=*/true));
  // Not before it finished: any number of Gets.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(tracker.Get(id).ok());
    ASSERT_TRUE(tracker.GetByTag("roc").ok());
  }
  tracker.MarkRunning(id);
  ASSERT_TRUE(tracker.Get(id).ok());
  tracker.Finish(id, Json{{"x", 1}});
  // Finishing alone does not remove it.
  EXPECT_EQ(tracker.size(), 1u);

  absl::StatusOr<JobSnapshot> job = tracker.Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kDone);
  ASSERT_NE(job->response, nullptr);
  EXPECT_EQ((*job->response)["x"], 1);

  EXPECT_EQ(tracker.size(), 0u);
  EXPECT_EQ(tracker.Get(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(tracker.GetByTag("roc").status().code(), absl::StatusCode::kNotFound);
  // Its tag is free again.
  EXPECT_TRUE(tracker.Create(Job("roc")).ok());
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
  // The other job is untouched.
  EXPECT_TRUE(tracker.Get(keep).ok());
  EXPECT_TRUE(tracker.Get(keep).ok());
  EXPECT_EQ(tracker.size(), 1u);
}

TEST(JobTrackerTest, WhenFinishedIsCalledOnceFromFinish) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job());
  int calls = 0;
  JobSnapshot seen;
  std::thread::id caller;
  tracker.WhenFinished(id, [&](const JobSnapshot& s) {
    ++calls;
    seen = s;
    caller = std::this_thread::get_id();
  });
  int second_calls = 0;
  tracker.WhenFinished(id, [&](const JobSnapshot&) { ++second_calls; });
  tracker.MarkRunning(id);
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

TEST(JobTrackerTest, WhenFinishedOnAFinishedJobIsCalledAtOnce) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job("", /*remove_on_complete=*/true));
  tracker.Finish(id, absl::CancelledError("stop"));
  int calls = 0;
  std::thread::id caller;
  JobSnapshot seen;
  tracker.WhenFinished(id, [&](const JobSnapshot& s) {
    ++calls;
    seen = s;
    caller = std::this_thread::get_id();
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(caller, std::this_thread::get_id());
  EXPECT_EQ(seen.state, JobState::kError);
  EXPECT_EQ(seen.error, "stop");
  // WhenFinished is not a Get: the job is still there for its client.
  EXPECT_TRUE(tracker.Get(id).ok());
}

TEST(JobTrackerTest, WhenFinishedOfUnknownOrRemovedJobIsNotCalled) {
  JobTracker tracker;
  int calls = 0;
  tracker.WhenFinished(999, [&](const JobSnapshot&) { ++calls; });
  const int64_t id = MustCreate(tracker, Job());
  tracker.WhenFinished(id, [&](const JobSnapshot&) { ++calls; });
  tracker.Remove(id);
  tracker.Finish(id, Json::object());
  EXPECT_EQ(calls, 0);
  EXPECT_EQ(tracker.Get(id).status().code(), absl::StatusCode::kNotFound);
}

TEST(JobTrackerTest, WaiterMayCallBackIntoTheTracker) {
  JobTracker tracker;
  const int64_t id = MustCreate(tracker, Job("", /*remove_on_complete=*/true));
  absl::StatusCode code = absl::StatusCode::kUnknown;
  JobState state = JobState::kQueued;
  tracker.WhenFinished(id, [&](const JobSnapshot& s) {
    absl::StatusOr<JobSnapshot> got = tracker.Get(s.id);  // must not deadlock
    code = got.status().code();
    if (got.ok()) state = got->state;
  });
  tracker.Finish(id, Json::object());
  EXPECT_EQ(code, absl::StatusCode::kOk);
  EXPECT_EQ(state, JobState::kDone);
  EXPECT_EQ(tracker.size(), 0u);
}

}  // namespace
}  // namespace engine
