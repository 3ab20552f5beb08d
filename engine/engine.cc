#include "engine/engine.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <new>
#include <stdexcept>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "absl/strings/str_cat.h"
#include "engine/api/options.h"
#include "engine/api/schema.h"
#include "engine/handlers/shards.h"
#include "engine/table/host_column.h"
#include "kernels/host_threads.h"
#include "kernels/memory.h"

namespace engine {
namespace {

// Tracker records (jobs and tombstones) that must have gone since memory was
// last given back before the reaper gives it back again: this many, or half
// of those held then when at least kTrimAtLeastRecords have gone (the end of
// a smaller burst).
constexpr size_t kTrimAfterRecords = 10000;
constexpr size_t kTrimAtLeastRecords = 1000;

// Runs `fn` under GuardKernels (jobs/device.h).
absl::StatusOr<Json> Guard(const std::function<absl::StatusOr<Json>()>& fn) {
  absl::StatusOr<Json> out;
  absl::Status s = GuardKernels([&] {
    out = fn();
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options, std::vector<std::string>* notes) {
  if (options.max_queued_jobs < 1) return absl::InvalidArgumentError("--max-queued-jobs: must be at least 1");
  auto devices = CreateDevices(options.devices);
  if (!devices.ok()) return devices.status();
  std::unique_ptr<Engine> engine(new Engine(options, *std::move(devices)));
  if (options.storage.data_dir.empty()) return engine;
  storage::StorageOptions storage = options.storage;
  storage.job_ttl = options.jobs.ttl;
  storage::Recovered recovered;
  auto store = storage::Store::Open(storage, &recovered);
  if (!store.ok()) return store.status();
  if (notes != nullptr) *notes = recovered.notes;
  {
    absl::MutexLock lock(&engine->reaper_mu_);  // the reaper reads it
    engine->store_ = *std::move(store);
  }
  if (absl::Status s = engine->Restore(std::move(recovered)); !s.ok()) return s;
  return engine;
}

absl::Status Engine::Restore(storage::Recovered recovered) {
  for (const std::string& schema : recovered.schemas) {
    if (absl::Status s = catalog_.AddSchema(schema); !s.ok() && !absl::IsAlreadyExists(s)) return s;
  }
  for (const TableType& type : recovered.types) {
    if (auto id = catalog_.AddType(type); !id.ok()) return id.status();
  }
  for (storage::RecoveredTable& t : recovered.tables) {
    Device& device = Place({});
    const kernels::Exec& exec = device.stream(0).exec();
    auto table = Table::Create(t.name, t.type, ChooseLayout(t.type, t.replicated, limits_.spread_chunk_rows),
                               TableDevices(devices_, &device), Table::Kind::kTable);
    absl::StatusOr<Json> moved = Guard([&]() -> absl::StatusOr<Json> {
      std::vector<kernels::Column> columns;
      for (HostColumn& c : t.columns) columns.push_back(ToDevice(std::move(c), exec));
      kernels::Synchronize(exec);
      if (absl::Status s = table->Replace(std::move(columns), exec); !s.ok()) return s;
      return Json();
    });
    if (!moved.ok()) {
      return absl::Status(moved.status().code(),
                          absl::StrCat("data directory: table '", t.name, "': ", moved.status().message()));
    }
    if (absl::Status s = table->UpdateMetadata(t.metadata); !s.ok()) return s;
    if (absl::Status s = table->SetSyncPolicy(t.sync_policy); !s.ok()) return s;
    if (absl::Status s = catalog_.Add(std::move(table)); !s.ok()) return s;
  }
  kernels::ReleaseHostThreads();  // this thread runs no more kernels
  for (auto& [name, why] : recovered.unavailable) catalog_.AddUnavailable(name, why);
  tracker_.Restore(std::move(recovered.jobs));
  // From here on every change is recorded.
  catalog_.set_journal(store_.get());
  store_->Start(&catalog_);
  return absl::OkStatus();
}

void Engine::Finish(int64_t job_id, absl::StatusOr<Json> result) {
  if (store_ != nullptr) {
    auto job = tracker_.Get(job_id, /*consume=*/false);
    if (job.ok() && job->async && !job->finished()) {
      job->finished_us = absl::ToUnixMicros(absl::Now());
      if (result.ok()) {
        job->state = JobState::kDone;
        job->progress = 100;
        job->response = std::make_shared<const Json>(*result);
      } else {
        job->state = result.status().code() == absl::StatusCode::kCancelled ? JobState::kCancelled : JobState::kError;
        job->error = std::string(result.status().message());
      }
      // Best effort: a full disk fails changes, not the jobs reading data.
      store_->LogJob(*job).IgnoreError();
    }
  }
  tracker_.Finish(job_id, std::move(result));
}

Engine::Engine(const EngineOptions& options, std::vector<std::unique_ptr<Device>> devices)
    : limits_(options.limits),
      max_queued_jobs_(options.max_queued_jobs),
      reap_interval_(std::min(absl::Seconds(1), options.jobs.ttl / 4)),
      devices_(std::move(devices)),
      queued_(new std::atomic<int>[devices_.size()]()),
      tracker_(options.jobs) {
  reaper_ = std::thread([this] { Reap(); });
}

Engine::~Engine() {
  Drain(absl::ZeroDuration());
  if (store_ != nullptr) {
    store_->ForgetJobs(tracker_.TakeForgotten());
    if (absl::Status s = store_->Checkpoint(); !s.ok()) {
      std::fprintf(stderr, "gpudb-engine: the checkpoint at shutdown failed (the log keeps every change): %s\n",
                   std::string(s.message()).c_str());
    }
  }
  {
    absl::MutexLock lock(&reaper_mu_);
    stopping_ = true;
    reaper_cv_.Signal();
  }
  reaper_.join();
  for (auto& d : devices_) d->StopStreams();
}

void Engine::Reap() {
  // Tracker records held at most since the allocator last gave memory back.
  size_t records_high = 0;
  absl::MutexLock lock(&reaper_mu_);
  while (!stopping_) {
    wake_ = false;
    storage::Store* store = store_.get();
    reaper_mu_.Unlock();
    const absl::Time next = tracker_.Sweep(absl::Now());
    // Jobs the tracker dropped leave the data directory too.
    const std::vector<int64_t> forgotten = tracker_.TakeForgotten();
    if (store != nullptr && !forgotten.empty()) store->ForgetJobs(forgotten);
    // Once many records have gone (a burst of jobs expired), memory goes
    // back to the OS rather than wait for the next burst: the cached blocks
    // of the devices with no work (host memory on host devices; CUDA's pool
    // is the driver's), then the allocator's free pages.
    const size_t records = tracker_.records();
    records_high = std::max(records_high, records);
    const size_t gone = records_high - records;
    if (gone >= kTrimAfterRecords || (gone >= kTrimAtLeastRecords && 2 * gone >= records_high)) {
      for (auto& d : devices_) {
        if (d->pending() == 0) d->memory().Trim();
      }
#ifdef __GLIBC__
      malloc_trim(0);
#endif
      records_high = records;
    }
    reaper_mu_.Lock();
    const absl::Time until = std::min(next, absl::Now() + reap_interval_);
    while (!stopping_ && !wake_ && !reaper_cv_.WaitWithDeadline(&reaper_mu_, until)) {
    }
  }
}

absl::StatusOr<JobSnapshot> Engine::Submit(JobRequest job) {
  if (draining_.load()) return absl::UnavailableError("the server is shutting down and accepts no new jobs");
  if (job.endpoint == nullptr) return absl::InvalidArgumentError("endpoint: not given");
  const Endpoint& endpoint = *job.endpoint;
  if (endpoint.handler == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint: '", endpoint.name, "' is not an endpoint this server runs as a job"));
  }
  const Handler& handler = *endpoint.handler;
  const bool admin = handler.run_admin != nullptr;
  auto request = Normalize(*endpoint.request, std::move(job.request));
  if (!request.ok()) return request.status();

  // Options any endpoint may carry.
  const Json& options = (*request)["options"];
  absl::Time deadline = absl::InfiniteFuture();
  if (job.timeout > absl::ZeroDuration()) {
    deadline = absl::Now() + job.timeout;
  } else if (const std::string* ms = FindOption(options, "timeout_ms")) {
    auto timeout = ParseTimeoutOption(*ms);
    if (!timeout.ok()) return timeout.status();
    deadline = absl::Now() + *timeout;
  }
  const std::string* user_data = FindOption(options, "job_user_data");

  // A repeated request id gets its original job, even when the queue is full.
  // The fingerprint (the whole request as text) is made only when there is an
  // id to compare it under: it costs a serialization of the request.
  const uint64_t fingerprint =
      job.request_id.empty()
          ? 0
          : std::hash<std::string>{}(absl::StrCat(endpoint.name, "\n", job.request_encoding, "\n", job.job_tag, "\n",
                                                  job.remove_job_on_complete, job.async, "\n", DumpJson(*request)));
  if (!job.request_id.empty()) {
    auto prior = tracker_.FindRequest(job.request_id, fingerprint);
    if (!prior.ok() || prior->has_value()) {
      if (!prior.ok()) return prior.status();
      return **prior;
    }
  }

  std::vector<Access> accesses;
  int device = -1;
  if (!admin) {
    auto a = handler.access(*request);
    if (!a.ok()) return a.status();
    accesses = SchedulerAccesses(*a);
    // Backpressure on the device the job will most likely run on.
    device = Place(accesses).index();
    if (queued_[device].fetch_add(1) >= max_queued_jobs_) {
      queued_[device].fetch_sub(1);
      return absl::ResourceExhaustedError(absl::StrCat(
          "server busy: ", max_queued_jobs_, " jobs are waiting for device ", devices_[device]->name(),
          " (--max-queued-jobs); retry later"));
    }
  }

  JobTracker::NewJob record;
  record.endpoint = endpoint.name;
  record.request_encoding = job.request_encoding;
  record.tag = job.job_tag;
  record.remove_on_complete = job.remove_job_on_complete;
  record.async = job.async;
  record.cancellable =
      handler.cancellable_request != nullptr ? handler.cancellable_request(*request) : handler.cancellable;
  record.user_data = user_data != nullptr ? *user_data : "";
  record.source_ip = job.source_ip;
  record.auth_id = job.auth_id;
  record.deadline = deadline;
  record.request_id = job.request_id;
  record.fingerprint = fingerprint;
  auto created = tracker_.Create(std::move(record));
  if (!created.ok() || created->reused) {
    if (device >= 0) queued_[device].fetch_sub(1);
    if (!created.ok()) return created.status();
    return created->job;
  }
  const int64_t id = created->job.id;
  // Recorded, so that after a crash it reads "interrupted", never vanishes.
  if (store_ != nullptr && !admin) store_->LogJob(created->job).IgnoreError();
  if (deadline != absl::InfiniteFuture()) {
    absl::MutexLock lock(&reaper_mu_);
    wake_ = true;
    reaper_cv_.Signal();
  }

  if (admin) {
    tracker_.MarkRunning(id, "engine");
    AdminContext ctx{tracker_, catalog_, devices_, limits_, draining_.load(), created->job.auth_id};
    tracker_.Finish(id, Guard([&] { return handler.run_admin(ctx, *request); }));
    return created->job;
  }
  auto shared_request = std::make_shared<const Json>(*std::move(request));
  std::shared_ptr<JobControl> control = created->control;
  std::vector<Access> names = accesses;
  scheduler_.Submit(
      std::move(accesses), [this, names]() -> Device& { return Place(names); },
      [this, id, device, &handler, shared_request, control](Stream& stream) {
        queued_[device].fetch_sub(1);
        Run(id, handler, *shared_request, control, stream);
      },
      handler.quick);
  return created->job;
}

absl::StatusOr<JobSnapshot> Engine::FindJob(const JobRef& job, bool consume, absl::string_view caller) {
  return job.tag.has_value() ? tracker_.GetByTag(*job.tag, consume, caller) : tracker_.Get(job.id, consume, caller);
}

std::string Engine::CancelJob(int64_t id, absl::string_view caller) { return tracker_.Cancel(id, caller); }

Device& Engine::Place(const std::vector<Access>& accesses) {
  for (const Access& a : accesses) {
    auto table = catalog_.Find(a.name);
    if (!table.ok()) continue;
    if (!(*table)->distributed()) return *(*table)->device();
    // A distributed table's job is led from the least busy device holding
    // some of its rows (its home when none does).
    Device* best = nullptr;
    for (const auto& shard : (*table)->shards()) {
      if (shard->rows() == 0) continue;
      if (best == nullptr || shard->device()->pending() < best->pending()) best = shard->device();
    }
    return best != nullptr ? *best : *(*table)->device();
  }
  // A new table goes to the device holding the fewest tables; among those,
  // the one with the most free memory.
  std::vector<int> tables(devices_.size(), 0);
  for (const auto& t : catalog_.List()) ++tables[t->device()->index()];
  const auto free_bytes = [](const Device& d) { return d.memory().limit() - d.memory().in_use(); };
  Device* best = nullptr;
  for (const auto& d : devices_) {
    if (!d->failure().ok()) continue;  // a failed device takes no new table
    if (best == nullptr) {
      best = d.get();
      continue;
    }
    const int n = tables[d->index()], best_n = tables[best->index()];
    if (n < best_n || (n == best_n && free_bytes(*d) > free_bytes(*best))) best = d.get();
  }
  return best != nullptr ? *best : *devices_[0];
}

void Engine::Run(int64_t job_id, const Handler& handler, const Json& request, std::shared_ptr<JobControl> control,
                 Stream& stream) {
  // A job cancelled or failed by its deadline while it waited never starts.
  if (!tracker_.MarkRunning(job_id, absl::StrCat(stream.device().name(), "/", stream.index()))) return;
  if (absl::Now() > control->deadline()) {
    Finish(job_id, absl::DeadlineExceededError("deadline exceeded: the job waited past its timeout_ms and never started"));
    return;
  }
  if (absl::Status failed = stream.device().failure(); !failed.ok()) {
    Finish(job_id, failed);
    return;
  }
  JobContext ctx{catalog_,
                 stream.device(),
                 stream.exec(),
                 limits_,
                 devices_,
                 [this, job_id, control](int64_t done, int64_t total) {
                   const int64_t percent = total > 0 ? done * 100 / total : 0;
                   tracker_.SetProgress(job_id, static_cast<int>(std::clamp<int64_t>(percent, 0, 99)));
                   return control->Check();
                 }};
  absl::StatusOr<Json> result = Guard([&] { return handler.run(ctx, request); });
  // Work the job queued on the stream is part of it: finish it before the job
  // counts as done, also when the job failed.
  absl::StatusOr<Json> synced = Guard([&]() -> absl::StatusOr<Json> {
    kernels::Synchronize(stream.exec());
    return Json();
  });
  if (result.ok() && !synced.ok()) result = synced.status();
  if (!result.ok()) result = stream.device().CheckAfterError(result.status(), stream.exec());
  Finish(job_id, std::move(result));
}

bool Engine::WhenFinished(int64_t id, std::function<void(const JobSnapshot&)> done) {
  return tracker_.Watch(id, [done = std::move(done)](const JobSnapshot& job) {
           if (!job.finished()) return true;
           done(job);
           return false;
         }) != 0;
}

void Engine::Drain(absl::Duration grace) {
  draining_.store(true);
  if (scheduler_.WaitIdle(absl::Now() + grace)) return;
  for (const JobSnapshot& job : tracker_.List()) {
    if (!job.finished()) tracker_.Cancel(job.id);
  }
  scheduler_.WaitIdle(absl::InfiniteFuture());
}

}  // namespace engine
