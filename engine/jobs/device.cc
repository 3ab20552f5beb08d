#include "engine/jobs/device.h"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include <exception>
#include <new>
#include <stdexcept>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "kernels/host_threads.h"

namespace engine {
namespace {

// How long a stream's worker keeps its OpenMP threads with no work (see
// Stream::Run): longer than the gaps between the jobs of a burst, short
// beside a person's pause between two queries.
constexpr std::chrono::milliseconds kReleaseAfter(100);

}  // namespace

Stream::Stream(Device* device, int index) : device_(device), index_(index) {
  exec_.backend = device->backend();
  exec_.device = device->ordinal();
  exec_.mr = &device->memory();
  exec_.stream = kernels::CreateStream(exec_.backend, exec_.device);
  worker_ = std::thread([this] { Run(); });
}

Stream::~Stream() {
  Stop();
  kernels::DestroyStream(exec_.backend, exec_.device, exec_.stream);
}

void Stream::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Stream::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

bool Stream::TryRunHere(const std::function<void()>& task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || running_ != 0 || !tasks_.empty()) return false;
    running_ = 1;
  }
  kernels::BindThread(exec_);
  task();
  bool wake = false;  // the worker waits for this task
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = 0;
    wake = stopping_ || !tasks_.empty();
  }
  if (wake) cv_.notify_one();
  return true;
}

int Stream::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(tasks_.size()) + running_;
}

void Stream::Run() {
  kernels::BindThread(exec_);
  // OpenMP's thread count is the calling thread's: set it for this worker.
  if (device_->backend() == kernels::Backend::kHost && device_->host_threads() > 0) {
    omp_set_num_threads(device_->host_threads());
  }
  // The device's first stream takes the work whenever it is idle
  // (LeastBusy), so its OpenMP threads are the ones worth keeping; the
  // others give theirs back once they have had no work for kReleaseAfter
  // (kernels/host_threads.h): kept through a burst of jobs, whose threads
  // would otherwise start again for each (0.2 ms a small job).
  const bool release_when_idle = device_->backend() == kernels::Backend::kHost && index_ != 0;
  bool holds_threads = false;
  const auto ready = [this] { return running_ == 0 && (stopping_ || !tasks_.empty()); };
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    // Not while TryRunHere holds the stream.
    if (holds_threads && !cv_.wait_for(lock, kReleaseAfter, ready)) {
      lock.unlock();
      kernels::ReleaseHostThreads();
      lock.lock();
      holds_threads = false;
      continue;
    }
    cv_.wait(lock, ready);
    if (tasks_.empty()) return;  // stopping and drained
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    running_ = 1;
    lock.unlock();
    task();
    lock.lock();
    running_ = 0;
    holds_threads = release_when_idle;
  }
}

Device::Device(int index, kernels::Backend backend, int ordinal, size_t memory_limit, int streams, int host_threads)
    : index_(index),
      backend_(backend),
      ordinal_(ordinal),
      host_threads_(host_threads),
      name_(absl::StrCat(kernels::BackendName(backend), ":", ordinal)),
      memory_(backend, ordinal, name_, memory_limit) {
  for (int i = 0; i < streams; ++i) streams_.push_back(std::make_unique<Stream>(this, i));
  for (int i = 0; i < streams; ++i) shard_streams_.push_back(std::make_unique<Stream>(this, streams + i));
}

namespace {

Stream& LeastBusy(const std::vector<std::unique_ptr<Stream>>& streams) {
  Stream* best = streams[0].get();
  int best_pending = best->pending();
  for (size_t i = 1; i < streams.size() && best_pending > 0; ++i) {
    const int p = streams[i]->pending();
    if (p < best_pending) {
      best = streams[i].get();
      best_pending = p;
    }
  }
  return *best;
}

}  // namespace

Stream& Device::LeastBusyStream() { return LeastBusy(streams_); }

Stream& Device::LeastBusyShardStream() { return LeastBusy(shard_streams_); }

void Device::StopStreams() {
  for (auto& s : streams_) s->Stop();
  for (auto& s : shard_streams_) s->Stop();
}

absl::Status Device::failure() const {
  std::lock_guard<std::mutex> lock(failure_mu_);
  return failure_;
}

void Device::MarkFailed(absl::string_view why) {
  std::lock_guard<std::mutex> lock(failure_mu_);
  if (!failure_.ok()) return;
  failure_ =
      absl::UnavailableError(absl::StrCat("device ", name_, " has failed (", why,
                                          "); the tables and shards on it are unavailable until the server restarts"));
}

absl::Status Device::CheckAfterError(absl::Status status, const kernels::Exec& exec) {
  if (status.ok()) return status;
  const std::string why = kernels::DeviceFailure(exec);
  if (why.empty()) return status;
  MarkFailed(why);
  return failure();
}

absl::Status GuardKernels(const std::function<absl::Status()>& fn) {
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

absl::Status RunOnDevices(const std::vector<Device*>& devices,
                          const std::function<absl::Status(size_t i, const kernels::Exec& exec)>& fn) {
  for (Device* d : devices) {
    if (absl::Status s = d->failure(); !s.ok()) return s;
  }
  std::vector<absl::Status> results(devices.size());
  absl::Mutex mu;
  size_t left = devices.size();
  for (size_t i = 0; i < devices.size(); ++i) {
    Stream& stream = devices[i]->LeastBusyShardStream();
    stream.Post([&, i, exec = &stream.exec()] {
      absl::Status s = GuardKernels([&]() -> absl::Status {
        absl::Status r = fn(i, *exec);
        kernels::Synchronize(*exec);
        return r;
      });
      s = devices[i]->CheckAfterError(std::move(s), *exec);
      const bool device_error = absl::IsResourceExhausted(s) || absl::IsInternal(s) || absl::IsUnavailable(s);
      if (device_error && !absl::StartsWith(s.message(), devices[i]->name())) {
        s = absl::Status(s.code(), absl::StrCat(devices[i]->name(), ": ", s.message()));
      }
      absl::MutexLock lock(&mu);
      results[i] = std::move(s);
      --left;
    });
  }
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(
      +[](size_t* n) { return *n == 0; }, &left));
  for (absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

int Device::pending() const {
  int n = 0;
  for (const auto& s : streams_) n += s->pending();
  return n;
}

namespace {

size_t HostMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : (size_t{8} << 30);
}

absl::Status BadSpec(const std::string& spec, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("--devices=", spec, ": ", why));
}

}  // namespace

absl::StatusOr<std::vector<std::unique_ptr<Device>>> CreateDevices(const DeviceOptions& options) {
  if (options.streams_per_device < 1 || options.streams_per_device > 64) {
    return absl::InvalidArgumentError("--streams-per-device must be between 1 and 64");
  }
  const std::string& spec = options.spec;
  const int gpus = kernels::CudaDeviceCount();
  std::vector<int> cuda;
  int hosts = 0;

  const std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits(':', 1));
  const std::string& kind = parts[0];
  if (kind == "auto" && parts.size() == 1) {
    if (gpus > 0) {
      for (int i = 0; i < gpus; ++i) cuda.push_back(i);
    } else {
      hosts = 1;
    }
  } else if (kind == "host") {
    hosts = 1;
    if (parts.size() == 2 && (!absl::SimpleAtoi(parts[1], &hosts) || hosts < 1 || hosts > 64)) {
      return BadSpec(spec, "host:N needs N between 1 and 64");
    }
  } else if (kind == "cuda") {
    if (!kernels::CudaCompiledIn()) return BadSpec(spec, "this build has no CUDA backend");
    if (parts.size() == 1) {
      for (int i = 0; i < gpus; ++i) cuda.push_back(i);
    } else {
      for (absl::string_view id : absl::StrSplit(parts[1], ',')) {
        int ordinal = -1;
        if (!absl::SimpleAtoi(id, &ordinal) || ordinal < 0) {
          return BadSpec(spec, absl::StrCat("'", id, "' is not a GPU ordinal"));
        }
        if (ordinal >= gpus) {
          return BadSpec(spec, absl::StrCat("GPU ", ordinal, " is not present (", gpus, " GPUs visible)"));
        }
        for (int seen : cuda) {
          if (seen == ordinal) return BadSpec(spec, absl::StrCat("GPU ", ordinal, " is listed twice"));
        }
        cuda.push_back(ordinal);
      }
    }
    if (cuda.empty()) return BadSpec(spec, "no CUDA GPU is visible");
  } else {
    return BadSpec(spec, "expected auto, host, host:N, cuda or cuda:0,1,...");
  }

  std::vector<std::unique_ptr<Device>> devices;
  for (int ordinal : cuda) {
    size_t limit = options.memory_limit;
    if (limit == 0) limit = kernels::GetCudaDeviceInfo(ordinal).total_memory / 10 * 9;
    devices.push_back(std::make_unique<Device>(static_cast<int>(devices.size()), kernels::Backend::kCuda,
                                               ordinal, limit, options.streams_per_device));
  }
  const char* omp_threads = std::getenv("OMP_NUM_THREADS");
  const int host_threads =
      hosts > 1 && (omp_threads == nullptr || *omp_threads == '\0') ? std::max(1, omp_get_num_procs() / hosts) : 0;
  for (int i = 0; i < hosts; ++i) {
    size_t limit = options.memory_limit;
    if (limit == 0) limit = HostMemoryBytes() / 2 / static_cast<size_t>(hosts);
    devices.push_back(std::make_unique<Device>(static_cast<int>(devices.size()), kernels::Backend::kHost, i, limit,
                                               options.streams_per_device, host_threads));
  }
  return devices;
}

}  // namespace engine
