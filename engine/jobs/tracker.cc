#include "engine/jobs/tracker.h"

#include <algorithm>
#include <atomic>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace engine {
namespace {

// Tombstones kept, so that "gone" lookups stay bounded in memory.
constexpr size_t kMaxTombstones = size_t{1} << 20;

// Rough bytes a stored response holds.
size_t ApproxBytes(const Json& v) {
  switch (v.type()) {
    case Json::value_t::string: return 32 + v.get_ref<const std::string&>().size();
    case Json::value_t::binary: return 32 + v.get_binary().size();
    case Json::value_t::array:
    case Json::value_t::object: {
      size_t n = 32;
      for (auto it = v.begin(); it != v.end(); ++it) {
        n += ApproxBytes(*it);
        if (v.is_object()) n += 32 + it.key().size();
      }
      return n;
    }
    default: return 16;
  }
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

absl::Status JobControl::Check() const {
  if (cancel_.load(std::memory_order_relaxed)) return absl::CancelledError("cancelled while running");
  if (absl::Now() > deadline_) {
    return absl::DeadlineExceededError("deadline exceeded: the job ran past its timeout_ms and was stopped");
  }
  return absl::OkStatus();
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

namespace {

// Past every id handed out in this process.
std::atomic<int64_t> process_next_id{0};

// Notes that ids below `next` have been handed out.
void HandedOutBelow(int64_t next) {
  for (int64_t seen = process_next_id.load(); seen < next && !process_next_id.compare_exchange_weak(seen, next);) {
  }
}

}  // namespace

int64_t FirstJobId() { return std::max(absl::ToUnixMillis(absl::Now()) * 1024, process_next_id.load()); }

JobTracker::JobTracker(TrackerOptions options) : options_(options), next_id_(FirstJobId()) {
  std::random_device rd;
  std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
  rng_.seed(seq);
}

std::string JobTracker::GenerateTag() {
  for (;;) {
    // 128 random bits: unique across servers without coordination. As
    // StrFormat("%016x%016x", ...), written out by hand: this runs per job.
    std::string tag(32, '0');
    for (int half = 0; half < 2; ++half) {
      uint64_t bits = rng_();
      for (int i = 15; i >= 0; --i, bits >>= 4) tag[half * 16 + i] = "0123456789abcdef"[bits & 15];
    }
    if (tags_.find(tag) == tags_.end() && gone_tags_.find(tag) == gone_tags_.end()) return tag;
  }
}

absl::StatusOr<JobTracker::Created> JobTracker::Create(NewJob job) {
  if (!job.tag.empty()) {
    if (absl::Status s = ValidateJobTag(job.tag); !s.ok()) return s;
  }
  absl::MutexLock lock(&mu_);
  if (!job.request_id.empty()) {
    auto same = Reuse(job.request_id, job.fingerprint, job.endpoint);
    if (!same.ok()) return same.status();
    if (same->has_value()) return **same;
  }
  if (job.tag.empty()) {
    job.tag = GenerateTag();
  } else if (auto it = tags_.find(job.tag); it != tags_.end()) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.job_tag: '", job.tag, "' is already used by job ", it->second));
  }
  int64_t& unfinished = unfinished_[job.auth_id];
  if (const int64_t most = LimitsOf(job.auth_id).max_jobs; most > 0 && unfinished >= most) {
    if (unfinished == 0) unfinished_.erase(job.auth_id);
    return absl::ResourceExhaustedError(absl::StrCat(UserName(job.auth_id), " has ", unfinished,
                                                     " unfinished jobs, the most it may have at once "
                                                     "(its jobs limit; --user-max-jobs)"));
  }
  ++unfinished;
  Record record;
  record.job.id = next_id_++;
  HandedOutBelow(next_id_);
  record.job.tag = job.tag;
  record.job.endpoint = std::move(job.endpoint);
  record.job.request_encoding = std::move(job.request_encoding);
  record.job.received_us = absl::ToUnixMicros(absl::Now());
  record.job.time_received_ms = record.job.received_us / 1000;
  record.job.async = job.async;
  record.job.user_data = std::move(job.user_data);
  record.job.source_ip = std::move(job.source_ip);
  record.job.auth_id = std::move(job.auth_id);
  record.control = std::make_shared<JobControl>(job.deadline);
  record.remove_on_complete = job.remove_on_complete;
  record.job.remove_on_complete = job.remove_on_complete;
  record.cancellable = job.cancellable;
  const int64_t id = record.job.id;
  tags_.emplace(job.tag, id);
  gone_tags_.erase(job.tag);
  if (job.deadline != absl::InfiniteFuture()) deadlines_.emplace(job.deadline, id);
  if (!job.request_id.empty()) {
    request_ids_.emplace(job.request_id, RequestId{job.fingerprint, id, job.tag});
    request_id_order_.emplace_back(absl::Now(), job.request_id);
  }
  auto [it, inserted] = jobs_.emplace(id, std::move(record));
  return Created{it->second.job, it->second.control, false};
}

absl::StatusOr<std::optional<JobTracker::Created>> JobTracker::Reuse(absl::string_view request_id,
                                                                      uint64_t fingerprint,
                                                                      absl::string_view endpoint) {
  auto it = request_ids_.find(request_id);
  if (it == request_ids_.end()) return std::optional<Created>();
  if (it->second.fingerprint != fingerprint) {
    return absl::InvalidArgumentError(absl::StrCat("options.request_id: '", request_id,
                                                   "' was used for a different request (job ",
                                                   it->second.job_id, ")"));
  }
  Created same;
  same.reused = true;
  auto record = jobs_.find(it->second.job_id);
  if (record != jobs_.end()) {
    same.job = record->second.job;
    same.control = record->second.control;
  } else {
    same.job.id = it->second.job_id;
    same.job.tag = it->second.tag;
    same.job.endpoint = std::string(endpoint);
  }
  return std::optional<Created>(std::move(same));
}

absl::StatusOr<std::optional<JobSnapshot>> JobTracker::FindRequest(absl::string_view request_id,
                                                                   uint64_t fingerprint) {
  absl::MutexLock lock(&mu_);
  auto same = Reuse(request_id, fingerprint, "");
  if (!same.ok()) return same.status();
  if (!same->has_value()) return std::optional<JobSnapshot>();
  return std::optional<JobSnapshot>((*same)->job);
}

absl::Status JobTracker::Missing(int64_t id, absl::string_view how, absl::string_view caller) const {
  auto gone = gone_.find(id);
  if (gone == gone_.end() || !(SeesEveryJob(caller) || gone->second.user == caller)) {
    return absl::NotFoundError(absl::StrCat(how, " does not exist"));
  }
  switch (gone->second.why) {
    case Gone::kTaken:
      return absl::NotFoundError(
          absl::StrCat(how, " was removed when its result was returned (remove_job_on_complete)"));
    case Gone::kExpired:
      return absl::NotFoundError(absl::StrCat(how, " expired: finished jobs are kept for ",
                                              absl::FormatDuration(options_.ttl), " (--job-ttl)"));
    case Gone::kEvicted:
      return absl::NotFoundError(absl::StrCat(how, " was evicted: stored results are kept within ",
                                              options_.result_memory_limit, " bytes (--result-memory-limit)"));
    case Gone::kSynchronous:
      return absl::NotFoundError(absl::StrCat(how, " was a synchronous call; its result went to its caller"));
  }
  return absl::NotFoundError(absl::StrCat(how, " does not exist"));
}

absl::StatusOr<JobSnapshot> JobTracker::Lookup(Records::iterator it, bool consume, absl::string_view caller,
                                               absl::string_view how) {
  if (!MaySee(caller, it->second.job)) return absl::NotFoundError(absl::StrCat(how, " does not exist"));
  JobSnapshot snapshot = it->second.job;
  if (consume && snapshot.finished() && it->second.remove_on_complete) Erase(it, Gone::kTaken, absl::Now());
  return snapshot;
}

absl::StatusOr<JobSnapshot> JobTracker::Get(int64_t id, bool consume, absl::string_view caller) {
  absl::MutexLock lock(&mu_);
  const std::string how = absl::StrCat("job_id: job ", id);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return Missing(id, how, caller);
  return Lookup(it, consume, caller, how);
}

absl::StatusOr<JobSnapshot> JobTracker::GetByTag(absl::string_view tag, bool consume, absl::string_view caller) {
  absl::MutexLock lock(&mu_);
  const absl::Status none = absl::NotFoundError(absl::StrCat("options.job_tag: no job has tag '", tag, "'"));
  auto t = tags_.find(tag);
  if (t != tags_.end()) {
    auto it = jobs_.find(t->second);
    return MaySee(caller, it->second.job) ? Lookup(it, consume, caller, "") : none;
  }
  auto gone = gone_tags_.find(tag);
  if (gone != gone_tags_.end()) {
    auto stone = gone_.find(gone->second);
    if (stone == gone_.end() || !(SeesEveryJob(caller) || stone->second.user == caller)) return none;
    return Missing(gone->second, absl::StrCat("options.job_tag: job '", tag, "' (job ", gone->second, ")"), caller);
  }
  return none;
}

bool JobTracker::MarkRunning(int64_t id, const std::string& worker) {
  std::vector<Notice> notices;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.job.state != JobState::kQueued) return false;
    JobSnapshot& job = it->second.job;
    job.state = JobState::kRunning;
    job.worker = worker;
    job.started_us = absl::ToUnixMicros(absl::Now());
    const absl::Time deadline = it->second.control->deadline();
    for (auto d = deadlines_.lower_bound(deadline); d != deadlines_.end() && d->first == deadline; ++d) {
      if (d->second == id) {
        deadlines_.erase(d);
        break;
      }
    }
    notices.push_back(Changed(it));
  }
  Deliver(std::move(notices));
  return true;
}

void JobTracker::SetProgress(int64_t id, int progress) {
  std::vector<Notice> notices;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.job.finished() || it->second.job.progress == progress) return;
    it->second.job.progress = progress;
    notices.push_back(Changed(it));
  }
  Deliver(std::move(notices));
}

JobTracker::Notice JobTracker::Changed(Records::iterator it) {
  JobSnapshot& job = it->second.job;
  ++job.version;
  // The record is copied only for watchers to see.
  Notice notice{it->second.watchers.empty() ? JobSnapshot() : job, job.id, {}};
  for (const auto& [token, fn] : it->second.watchers) notice.watchers.emplace_back(token, fn);
  return notice;
}

JobTracker::Notice JobTracker::Settle(Records::iterator it, JobState state, absl::StatusOr<Json> result) {
  Record& record = it->second;
  JobSnapshot& job = record.job;
  if (auto user = unfinished_.find(job.auth_id); user != unfinished_.end() && --user->second <= 0) {
    unfinished_.erase(user);
  }
  // A result's size, walked once: for the user's limit and the store's count.
  const int64_t most = LimitsOf(job.auth_id).max_result_bytes;
  const size_t bytes = state == JobState::kDone && (job.async || most > 0) ? ApproxBytes(*result) : 0;
  if (state == JobState::kDone) {
    if (most > 0) {
      if (bytes > static_cast<size_t>(most)) {
        state = JobState::kError;
        result = absl::ResourceExhaustedError(
            absl::StrCat("result: about ", bytes, " bytes, more than ", UserName(job.auth_id), " may receive at once (",
                         most, " bytes; its result limit, --user-max-result-size); ask for fewer rows or columns"));
      }
    }
  }
  job.state = state;
  job.finished_us = absl::ToUnixMicros(absl::Now());
  if (state == JobState::kDone) {
    job.progress = 100;
    // Only async results are stored; a synchronous call's goes to its caller.
    if (job.async) record.result_bytes = bytes;
    job.response = std::make_shared<const Json>(*std::move(result));
  } else {
    job.error = std::string(result.status().message());
  }
  ++job.version;
  Notice notice{record.watchers.empty() ? JobSnapshot() : job, job.id, {}};
  for (auto& [token, fn] : record.watchers) notice.watchers.emplace_back(token, std::move(fn));
  record.watchers.clear();
  if (job.async) {
    finished_.emplace_back(absl::Now(), job.id);
    if (record.result_bytes > 0) {
      results_.push_back(job.id);
      result_bytes_ += record.result_bytes;
      EvictOverBudget();
    }
  }
  return notice;
}

void JobTracker::Restore(std::vector<JobSnapshot> jobs) {
  std::sort(jobs.begin(), jobs.end(),
            [](const JobSnapshot& a, const JobSnapshot& b) { return a.finished_us < b.finished_us; });
  absl::MutexLock lock(&mu_);
  for (JobSnapshot& job : jobs) {
    Record record;
    record.job = std::move(job);
    record.job.version = 1;
    record.remove_on_complete = record.job.remove_on_complete;
    record.cancellable = false;
    record.control = std::make_shared<JobControl>(absl::InfiniteFuture());
    const int64_t id = record.job.id;
    next_id_ = std::max(next_id_, id + 1);
    HandedOutBelow(next_id_);
    if (record.job.response != nullptr) record.result_bytes = ApproxBytes(*record.job.response);
    tags_[record.job.tag] = id;
    // Its place in the TTL: when it finished (the deque stays in that order).
    finished_.emplace_back(absl::FromUnixMicros(record.job.finished_us), id);
    if (record.result_bytes > 0) {
      results_.push_back(id);
      result_bytes_ += record.result_bytes;
    }
    jobs_.insert_or_assign(id, std::move(record));
  }
  EvictOverBudget();
}

void JobTracker::Finish(int64_t id, absl::StatusOr<Json> result) {
  std::vector<Notice> notices;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end() || it->second.job.finished()) return;
    const JobState state = result.ok() ? JobState::kDone
                           : result.status().code() == absl::StatusCode::kCancelled ? JobState::kCancelled
                                                                                    : JobState::kError;
    notices.push_back(Settle(it, state, std::move(result)));
  }
  Deliver(std::move(notices));
}

std::string JobTracker::Cancel(int64_t id, absl::string_view caller) {
  std::vector<Notice> notices;
  std::string outcome;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return absl::StrCat("NOT_FOUND: ", Missing(id, absl::StrCat("job ", id), caller).message());
    if (!MaySee(caller, it->second.job)) return absl::StrCat("NOT_FOUND: job ", id, " does not exist");
    Record& record = it->second;
    if (record.job.finished()) {
      return absl::StrCat("NOT_CANCELLED: already finished (", JobStatusName(record.job.state), ")");
    }
    if (!record.cancellable) return absl::StrCat("NOT_CANCELLABLE: ", record.job.endpoint, " changes data");
    if (record.job.state == JobState::kQueued) {
      notices.push_back(Settle(it, JobState::kCancelled, absl::CancelledError("cancelled before it started")));
      outcome = "CANCELLED";
    } else {
      record.control->RequestCancel();
      outcome = "CANCEL_REQUESTED";
    }
  }
  Deliver(std::move(notices));
  return outcome;
}

int64_t JobTracker::Watch(int64_t id, WatchFn watch) {
  JobSnapshot now;
  int64_t token = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return 0;
    now = it->second.job;
    token = next_token_++;
    if (!now.finished()) it->second.watchers.emplace(token, watch);
  }
  if (!watch(now) && !now.finished()) Unwatch(id, token);
  return token;
}

void JobTracker::Unwatch(int64_t id, int64_t token) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(id);
  if (it != jobs_.end()) it->second.watchers.erase(token);
}

void JobTracker::Deliver(std::vector<Notice> notices) {
  for (Notice& notice : notices) {
    for (auto& [token, fn] : notice.watchers) {
      if (!fn(notice.job) && !notice.job.finished()) Unwatch(notice.id, token);
    }
  }
}

std::vector<JobSnapshot> JobTracker::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<JobSnapshot> out;
  out.reserve(jobs_.size());
  for (const auto& [id, record] : jobs_) out.push_back(record.job);
  return out;
}

void JobTracker::RemoveSynchronous(int64_t id) {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(id);
  if (it != jobs_.end()) Erase(it, Gone::kSynchronous, absl::Now());
}

void JobTracker::Erase(Records::iterator it, Gone why, absl::Time now) {
  const int64_t id = it->first;
  result_bytes_ -= it->second.result_bytes;
  if (it->second.job.async) forgotten_.push_back(id);
  tags_.erase(it->second.job.tag);
  gone_tags_[it->second.job.tag] = id;
  gone_.emplace(id, Tombstone{why, it->second.job.tag, it->second.job.auth_id});
  gone_order_.emplace_back(now, id);
  while (gone_.size() > kMaxTombstones) {  // the oldest go first
    DropTombstone(gone_order_.front().second);
    gone_order_.pop_front();
  }
  jobs_.erase(it);
}

void JobTracker::DropTombstone(int64_t id) {
  auto it = gone_.find(id);
  if (it == gone_.end()) return;
  if (auto tag = gone_tags_.find(it->second.tag); tag != gone_tags_.end() && tag->second == id) {
    gone_tags_.erase(tag);
  }
  gone_.erase(it);
}

std::vector<int64_t> JobTracker::TakeForgotten() {
  absl::MutexLock lock(&mu_);
  std::vector<int64_t> out;
  out.swap(forgotten_);
  return out;
}

void JobTracker::EvictOverBudget() {
  while (result_bytes_ > options_.result_memory_limit && !results_.empty()) {
    auto it = jobs_.find(results_.front());
    results_.pop_front();
    if (it != jobs_.end()) Erase(it, Gone::kEvicted, absl::Now());
  }
}

absl::Time JobTracker::Sweep(absl::Time now) {
  std::vector<Notice> notices;
  absl::Time next = absl::InfiniteFuture();
  {
    absl::MutexLock lock(&mu_);
    while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
      auto it = jobs_.find(deadlines_.begin()->second);
      deadlines_.erase(deadlines_.begin());
      if (it != jobs_.end() && it->second.job.state == JobState::kQueued) {
        notices.push_back(Settle(it, JobState::kError,
                                 absl::DeadlineExceededError(
                                     "deadline exceeded: the job waited past its timeout_ms and never started")));
      }
    }
    while (!finished_.empty() && finished_.front().first + options_.ttl <= now) {
      auto it = jobs_.find(finished_.front().second);
      finished_.pop_front();
      if (it != jobs_.end()) Erase(it, Gone::kExpired, now);
    }
    while (!results_.empty() && jobs_.find(results_.front()) == jobs_.end()) results_.pop_front();
    while (!gone_order_.empty() && gone_order_.front().first + options_.ttl <= now) {
      DropTombstone(gone_order_.front().second);
      gone_order_.pop_front();
    }
    while (!request_id_order_.empty() && request_id_order_.front().first + options_.ttl <= now) {
      request_ids_.erase(request_id_order_.front().second);
      request_id_order_.pop_front();
    }
    if (!deadlines_.empty()) next = std::min(next, deadlines_.begin()->first);
    if (!finished_.empty()) next = std::min(next, finished_.front().first + options_.ttl);
    if (!gone_order_.empty()) next = std::min(next, gone_order_.front().first + options_.ttl);
    if (!request_id_order_.empty()) next = std::min(next, request_id_order_.front().first + options_.ttl);
  }
  Deliver(std::move(notices));
  return next;
}

size_t JobTracker::size() const {
  absl::MutexLock lock(&mu_);
  return jobs_.size();
}

size_t JobTracker::records() const {
  absl::MutexLock lock(&mu_);
  return jobs_.size() + gone_.size();
}

size_t JobTracker::result_bytes() const {
  absl::MutexLock lock(&mu_);
  return result_bytes_;
}

size_t JobTracker::watchers(int64_t id) const {
  absl::MutexLock lock(&mu_);
  auto it = jobs_.find(id);
  return it == jobs_.end() ? 0 : it->second.watchers.size();
}

}  // namespace engine
