#include "engine/tracker.h"

#include <chrono>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace engine {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

const char* JobStatusName(JobState state) {
  switch (state) {
    case JobState::kQueued:
    case JobState::kRunning: return "RUNNING";
    case JobState::kDone: return "DONE";
    case JobState::kError: return "ERROR";
    case JobState::kCancelled: return "CANCELLED";
  }
  return "ERROR";
}

absl::Status ValidateJobTag(absl::string_view tag) {
  if (tag.empty() || tag.size() > 256) {
    return absl::InvalidArgumentError("options.job_tag: must be 1 to 256 characters");
  }
  for (char c : tag) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "options.job_tag: '", tag, "' has characters other than letters, digits, '_' and '-'"));
    }
  }
  return absl::OkStatus();
}

JobTracker::JobTracker() {
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
  rng_.seed(seq);
}

std::string JobTracker::GenerateTag() {
  for (;;) {
    // 128 random bits: unique across servers without coordination.
    std::string tag = absl::StrFormat("%016x%016x", rng_(), rng_());
    if (tags_.find(tag) == tags_.end()) return tag;
  }
}

absl::StatusOr<JobSnapshot> JobTracker::Create(NewJob job) {
  if (!job.tag.empty()) {
    if (absl::Status s = ValidateJobTag(job.tag); !s.ok()) return s;
  }
  absl::MutexLock lock(&mu_);
  if (job.tag.empty()) {
    job.tag = GenerateTag();
  } else if (auto it = tags_.find(job.tag); it != tags_.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.job_tag: '", job.tag, "' is already used by job ", it->second));
  }
  Record record;
  record.job.id = next_id_++;
  record.job.tag = std::move(job.tag);
  record.job.endpoint = std::move(job.endpoint);
  record.job.request_encoding = std::move(job.request_encoding);
  record.job.time_received_ms = NowMs();
  record.remove_on_complete = job.remove_on_complete;
  const int64_t id = record.job.id;
  tags_.emplace(record.job.tag, id);
  auto [it, inserted] = jobs_.emplace(id, std::move(record));
  return it->second.job;
}

absl::StatusOr<JobSnapshot> JobTracker::Take(std::map<int64_t, Record>::iterator it) {
  JobSnapshot snapshot = it->second.job;
  if (snapshot.finished() && it->second.remove_on_complete) EraseLocked(it);
  return snapshot;
}

absl::StatusOr<JobSnapshot> JobTracker::Get(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return absl::NotFoundError(absl::StrCat("job_id: job ", id, " does not exist"));
  return Take(it);
}

absl::StatusOr<JobSnapshot> JobTracker::GetByTag(absl::string_view tag) {
  absl::MutexLock lock(&mu_);
  auto t = tags_.find(tag);
  if (t == tags_.end()) {
    return absl::NotFoundError(absl::StrCat("options.job_tag: no job has tag '", tag, "'"));
  }
  return Take(jobs_.find(t->second));
}

void JobTracker::MarkRunning(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(id);
  if (it != jobs_.end() && it->second.job.state == JobState::kQueued) it->second.job.state = JobState::kRunning;
}

void JobTracker::SetProgress(int64_t id, int progress) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(id);
  if (it != jobs_.end() && !it->second.job.finished()) it->second.job.progress = progress;
}

void JobTracker::Finish(int64_t id, absl::StatusOr<Json> result) {
  std::vector<std::function<void(const JobSnapshot&)>> waiters;
  JobSnapshot snapshot;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.job.finished()) return;
    JobSnapshot& job = it->second.job;
    if (result.ok()) {
      job.state = JobState::kDone;
      job.progress = 100;
      job.response = std::make_shared<const Json>(*std::move(result));
    } else {
      job.state = JobState::kError;
      job.error = std::string(result.status().message());
    }
    waiters.swap(it->second.waiters);
    snapshot = job;
  }
  for (auto& done : waiters) done(snapshot);
}

void JobTracker::WhenFinished(int64_t id, std::function<void(const JobSnapshot&)> done) {
  JobSnapshot snapshot;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    if (!it->second.job.finished()) {
      it->second.waiters.push_back(std::move(done));
      return;
    }
    snapshot = it->second.job;
  }
  done(snapshot);
}

void JobTracker::Remove(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(id);
  if (it != jobs_.end()) EraseLocked(it);
}

void JobTracker::EraseLocked(std::map<int64_t, Record>::iterator it) {
  tags_.erase(it->second.job.tag);
  jobs_.erase(it);
}

size_t JobTracker::size() const {
  absl::MutexLock lock(&mu_);
  return jobs_.size();
}

}  // namespace engine
