#include "engine/engine.h"

#include <exception>
#include <new>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "engine/api_schema.h"
#include "kernels/memory.h"

namespace engine {
namespace {

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

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Create(const EngineOptions& options) {
  auto devices = CreateDevices(options.devices);
  if (!devices.ok()) return devices.status();
  return std::unique_ptr<Engine>(new Engine(options, *std::move(devices)));
}

Engine::Engine(const EngineOptions& options, std::vector<std::unique_ptr<Device>> devices)
    : limits_(options.limits), devices_(std::move(devices)) {}

Engine::~Engine() {
  for (auto& d : devices_) d->StopStreams();
}

absl::StatusOr<JobSnapshot> Engine::Submit(JobRequest job) {
  const EndpointSchema* schema = FindEndpoint(job.endpoint);
  const Handler* handler = FindHandler(job.endpoint);
  if (schema == nullptr || handler == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("endpoint: '", job.endpoint, "' is not an endpoint this server runs as a job"));
  }
  auto request = Normalize(*schema->request, std::move(job.request));
  if (!request.ok()) return request.status();
  auto accesses = handler->access(*request);
  if (!accesses.ok()) return accesses.status();

  JobTracker::NewJob record;
  record.endpoint = job.endpoint;
  record.request_encoding = job.request_encoding;
  record.tag = std::move(job.job_tag);
  record.remove_on_complete = job.remove_job_on_complete;
  auto snapshot = tracker_.Create(std::move(record));
  if (!snapshot.ok()) return snapshot.status();

  const int64_t id = snapshot->id;
  auto shared_request = std::make_shared<const Json>(*std::move(request));
  std::vector<Access> names = *accesses;
  scheduler_.Submit(
      *std::move(accesses), [this, names] () -> Device& { return Place(names); },
      [this, id, handler, shared_request](Stream& stream) { Run(id, handler, *shared_request, stream); });
  return snapshot;
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

void Engine::Run(int64_t job_id, const Handler* handler, const Json& request, Stream& stream) {
  tracker_.MarkRunning(job_id);
  JobContext ctx{catalog_, stream.device(), stream.exec(), limits_,
                 [this, job_id](int progress) { tracker_.SetProgress(job_id, progress); }};
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

}  // namespace engine
