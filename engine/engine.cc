#include "engine/engine.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <exception>
#include <new>
#include <stdexcept>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "engine/api_schema.h"
#include "kernels/memory.h"

namespace engine {
namespace {

constexpr absl::string_view kAlterJobs = "/admin/alter/jobs";
constexpr absl::string_view kShowJobs = "/admin/show/jobs";
constexpr absl::string_view kSystemStatus = "/show/system/status";
constexpr absl::string_view kSystemProperties = "/show/system/properties";

// The version of Kinetica whose API this server speaks; clients read it from
// /show/system/properties.
constexpr absl::string_view kCoreVersion = "7.2.2.0";

// Peak resident memory of this process (VmHWM), or 0 when unknown.
int64_t PeakResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  int64_t kib = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::sscanf(line, "VmHWM: %" SCNd64 " kB", &kib) == 1) break;
  }
  std::fclose(f);
  return kib * 1024;
}

// Runs `fn`, turning exceptions from kernels into statuses: out of memory →
// ResourceExhausted, invalid arguments → InvalidArgument, anything else →
// Internal.
absl::StatusOr<Json> Guard(const std::function<absl::StatusOr<Json>()>& fn) {
  try {
    return fn();
  } catch (const kernels::OutOfMemory& e) {
    return absl::ResourceExhaustedError(e.what());
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of host memory");
  } catch (const std::invalid_argument& e) {
    return absl::InvalidArgumentError(e.what());
  } catch (const std::exception& e) {
    return absl::InternalError(absl::StrCat("internal error: ", e.what()));
  }
}

// request.options[key] when the request has string options and sets it.
const std::string* StringOption(const Json& request, const char* key) {
  auto options = request.find("options");
  if (options == request.end() || !options->is_object()) return nullptr;
  auto it = options->find(key);
  return it != options->end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

absl::StatusOr<bool> BoolOption(const Json& request, const char* key) {
  const std::string* v = StringOption(request, key);
  if (v == nullptr || *v == "false") return false;
  if (*v == "true") return true;
  return absl::InvalidArgumentError(absl::StrCat("options.", key, ": expected 'true' or 'false', got '", *v, "'"));
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  if (options.max_queued_jobs < 1) return absl::InvalidArgumentError("--max-queued-jobs: must be at least 1");
  auto devices = CreateDevices(options.devices);
  if (!devices.ok()) return devices.status();
  return std::unique_ptr<Engine>(new Engine(options, *std::move(devices)));
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
  {
    absl::MutexLock lock(&reaper_mu_);
    stopping_ = true;
    reaper_cv_.Signal();
  }
  reaper_.join();
  for (auto& d : devices_) d->StopStreams();
}

void Engine::Reap() {
  absl::MutexLock lock(&reaper_mu_);
  while (!stopping_) {
    wake_ = false;
    reaper_mu_.Unlock();
    const absl::Time next = tracker_.Sweep(absl::Now());
    reaper_mu_.Lock();
    const absl::Time until = std::min(next, absl::Now() + reap_interval_);
    while (!stopping_ && !wake_ && !reaper_cv_.WaitWithDeadline(&reaper_mu_, until)) {
    }
  }
}

absl::StatusOr<JobSnapshot> Engine::Submit(JobRequest job) {
  if (draining_.load()) return absl::UnavailableError("the server is shutting down and accepts no new jobs");
  const EndpointSchema* schema = FindEndpoint(job.endpoint);
  const bool admin = job.endpoint == kAlterJobs || job.endpoint == kShowJobs || job.endpoint == kSystemStatus ||
                     job.endpoint == kSystemProperties;
  const Handler* handler = admin ? nullptr : FindHandler(job.endpoint);
  if (schema == nullptr || (!admin && handler == nullptr)) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint: '", job.endpoint, "' is not an endpoint this server runs as a job"));
  }
  auto request = Normalize(*schema->request, std::move(job.request));
  if (!request.ok()) return request.status();

  // Options any endpoint may carry.
  absl::Time deadline = absl::InfiniteFuture();
  if (job.timeout > absl::ZeroDuration()) {
    deadline = absl::Now() + job.timeout;
  } else if (const std::string* ms = StringOption(*request, "timeout_ms")) {
    int64_t v = 0;
    if (!absl::SimpleAtoi(*ms, &v) || v <= 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("options.timeout_ms: expected a positive number of milliseconds, got '", *ms, "'"));
    }
    deadline = absl::Now() + absl::Milliseconds(v);
  }
  const std::string* user_data = StringOption(*request, "job_user_data");

  // A repeated request id gets its original job, even when the queue is full.
  // The fingerprint (the whole request as text) is made only when there is an
  // id to compare it under: it costs a serialization of the request.
  const uint64_t fingerprint =
      job.request_id.empty()
          ? 0
          : std::hash<std::string>{}(absl::StrCat(job.endpoint, "\n", job.request_encoding, "\n", job.job_tag, "\n",
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
    auto a = handler->access(*request);
    if (!a.ok()) return a.status();
    accesses = *std::move(a);
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
  record.endpoint = job.endpoint;
  record.request_encoding = job.request_encoding;
  record.tag = job.job_tag;
  record.remove_on_complete = job.remove_job_on_complete;
  record.async = job.async;
  record.cancellable = !admin && handler->cancellable;
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
  if (deadline != absl::InfiniteFuture()) {
    absl::MutexLock lock(&reaper_mu_);
    wake_ = true;
    reaper_cv_.Signal();
  }

  if (admin) {
    tracker_.MarkRunning(id, "engine");
    tracker_.Finish(id, Guard([&]() -> absl::StatusOr<Json> {
      if (job.endpoint == kAlterJobs) return AlterJobs(*request);
      if (job.endpoint == kShowJobs) return ShowJobs(*request);
      if (job.endpoint == kSystemStatus) return SystemStatus();
      return SystemProperties();
    }));
    return created->job;
  }
  auto shared_request = std::make_shared<const Json>(*std::move(request));
  std::shared_ptr<JobControl> control = created->control;
  std::vector<Access> names = accesses;
  scheduler_.Submit(
      std::move(accesses), [this, names]() -> Device& { return Place(names); },
      [this, id, device, handler, shared_request, control](Stream& stream) {
        queued_[device].fetch_sub(1);
        Run(id, handler, *shared_request, control, stream);
      });
  return created->job;
}

Device& Engine::Place(const std::vector<Access>& accesses) {
  for (const Access& a : accesses) {
    auto table = catalog_.Find(a.name);
    if (table.ok()) return *(*table)->device();
  }
  // A new table goes to the device holding the fewest tables; among those,
  // the one with the most free memory.
  std::vector<int> tables(devices_.size(), 0);
  for (const auto& t : catalog_.List()) ++tables[t->device()->index()];
  const auto free_bytes = [](const Device& d) { return d.memory().limit() - d.memory().in_use(); };
  Device* best = devices_[0].get();
  for (const auto& d : devices_) {
    const int n = tables[d->index()], best_n = tables[best->index()];
    if (n < best_n || (n == best_n && free_bytes(*d) > free_bytes(*best))) best = d.get();
  }
  return *best;
}

void Engine::Run(int64_t job_id, const Handler* handler, const Json& request, std::shared_ptr<JobControl> control,
                 Stream& stream) {
  // A job cancelled or failed by its deadline while it waited never starts.
  if (!tracker_.MarkRunning(job_id, absl::StrCat(stream.device().name(), "/", stream.index()))) return;
  if (absl::Now() > control->deadline()) {
    tracker_.Finish(job_id, absl::DeadlineExceededError(
                                "deadline exceeded: the job waited past its timeout_ms and never started"));
    return;
  }
  JobContext ctx{catalog_, stream.device(), stream.exec(), limits_,
                 [this, job_id, control](int64_t done, int64_t total) {
                   const int64_t percent = total > 0 ? done * 100 / total : 0;
                   tracker_.SetProgress(job_id, static_cast<int>(std::clamp<int64_t>(percent, 0, 99)));
                   return control->Check();
                 }};
  absl::StatusOr<Json> result = Guard([&] { return handler->run(ctx, request); });
  // Work the job queued on the stream is part of it: finish it before the job
  // counts as done, also when the job failed.
  absl::StatusOr<Json> synced = Guard([&]() -> absl::StatusOr<Json> {
    kernels::Synchronize(stream.exec());
    return Json();
  });
  if (result.ok() && !synced.ok()) result = synced.status();
  tracker_.Finish(job_id, std::move(result));
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

absl::StatusOr<Json> Engine::AlterJobs(const Json& request) {
  const std::string& action = request["action"].get_ref<const std::string&>();
  if (action != "cancel") {
    return absl::InvalidArgumentError(absl::StrCat("action: '", action, "' is not supported; the action is 'cancel'"));
  }
  std::vector<int64_t> ids = request["job_ids"].get<std::vector<int64_t>>();
  if (const std::string* tag = StringOption(request, "job_tag")) {
    auto job = tracker_.GetByTag(*tag, /*consume=*/false);
    if (!job.ok()) return job.status();
    ids.push_back(job->id);
  }
  if (ids.empty()) return absl::InvalidArgumentError("job_ids: no job given; give job_ids or options.job_tag");
  Json status = Json::array();
  for (int64_t id : ids) status.push_back(tracker_.Cancel(id));
  return Json{{"job_ids", ids}, {"action", action}, {"status", status}, {"info", Json::object()}};
}

absl::StatusOr<Json> Engine::ShowJobs(const Json& request) {
  auto show_async = BoolOption(request, "show_async_jobs");
  if (!show_async.ok()) return show_async.status();
  auto show_worker = BoolOption(request, "show_worker_info");
  if (!show_worker.ok()) return show_worker.status();
  Json ids = Json::array(), status = Json::array(), endpoints = Json::array(), received = Json::array(),
       auth = Json::array(), source = Json::array(), query = Json::array(), user_data = Json::array(),
       flags = Json::array(), tags = Json::array(), workers = Json::array();
  for (const JobSnapshot& job : tracker_.List()) {
    // Finished async jobs only when asked; finished synchronous ones are gone.
    if (job.finished() && !*show_async) continue;
    ids.push_back(job.id);
    status.push_back(JobStatusName(job.state));
    endpoints.push_back(job.endpoint);
    received.push_back(job.time_received_ms);
    auth.push_back(job.auth_id);
    source.push_back(job.source_ip);
    query.push_back("");
    user_data.push_back(job.user_data);
    flags.push_back(job.async ? "async" : "sync");
    tags.push_back(job.tag);
    workers.push_back(Json{{"job_id", job.id}, {"worker", job.worker}, {"progress", job.progress}});
  }
  // info is one map for all jobs: per-job values go in JSON arrays parallel
  // to job_id.
  Json info = Json{{"job_tag", tags.dump()}};
  if (*show_worker) info["worker_info"] = workers.dump();
  return Json{{"job_id", ids},           {"status", status}, {"endpoint_name", endpoints},
              {"time_received", received}, {"auth_id", auth},  {"source_ip", source},
              {"query_text", query},       {"user_data", user_data}, {"flags", flags},
              {"info", info}};
}

absl::StatusOr<Json> Engine::SystemStatus() {
  Json devices = Json::array();
  for (const auto& d : devices_) {
    devices.push_back(Json{{"name", d->name()},
                           {"memory_limit", d->memory().limit()},
                           {"memory_in_use", d->memory().in_use()},
                           {"memory_peak", d->memory().peak()},
                           {"memory_cached", d->memory().cached()},
                           {"streams", d->stream_count()},
                           {"pending", d->pending()}});
  }
  const Json system = Json{{"status", draining_.load() ? "draining" : "running"},
                           {"devices", devices},
                           {"jobs", tracker_.size()},
                           {"result_bytes", tracker_.result_bytes()},
                           {"tables", catalog_.List().size()},
                           {"host_peak_resident_bytes", PeakResidentBytes()}};
  return Json{{"status_map", Json{{"system", system.dump()}}}, {"info", Json::object()}};
}

absl::StatusOr<Json> Engine::SystemProperties() {
  std::string names;
  for (const auto& d : devices_) absl::StrAppend(&names, names.empty() ? "" : ",", d->name());
  return Json{{"property_map", Json{{"version.gpudb_core_version", kCoreVersion},
                                    {"conf.devices", names},
                                    {"conf.max_get_records_size", absl::StrCat(limits_.max_get_records_size)}}},
              {"info", Json::object()}};
}

}  // namespace engine
