#pragma once

// Devices and their streams. A device is a CUDA GPU or a host (CPU) device;
// it owns a memory pool with a byte limit and a fixed set of streams. A
// stream is an ordered queue of tasks served by one worker thread; on a GPU
// the worker launches the task's kernels on the stream's CUDA stream.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kernels/backend.h"
#include "kernels/memory.h"

namespace engine {

class Device;

class Stream {
 public:
  Stream(Device* device, int index);
  // Stops the worker (if Stop() has not) and releases the backend stream.
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Queues `task` behind the tasks already posted; it runs on the worker.
  void Post(std::function<void()> task);
  // When the stream is idle (nothing queued or running, not stopping), runs
  // `task` at once on the calling thread, holding the stream as its worker
  // would: tasks posted meanwhile wait for it. Returns false, having run
  // nothing, otherwise. For short tasks, which then skip the hand-off to the
  // worker thread (a wake-up and a switch: most of a trivial job's cost);
  // not for kernels, which would run with the caller's OpenMP settings.
  bool TryRunHere(const std::function<void()>& task);
  // Tasks queued or running.
  int pending() const;
  // Runs the tasks already posted, then ends the worker. Idempotent; the
  // backend stream stays valid until destruction (memory freed later may be
  // ordered on it).
  void Stop();

  Device& device() const { return *device_; }
  int index() const { return index_; }
  // The execution context kernels of this stream's tasks take.
  const kernels::Exec& exec() const { return exec_; }

 private:
  void Run();

  Device* const device_;
  const int index_;
  kernels::Exec exec_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  int running_ = 0;  // a task runs, on the worker or in TryRunHere
  bool stopping_ = false;
  std::thread worker_;
};

class Device {
 public:
  // `memory_limit` bytes (must be > 0); `streams` >= 1. `host_threads`: on
  // a host device, the OpenMP threads each of its streams' kernels use (0:
  // OpenMP's default).
  Device(int index, kernels::Backend backend, int ordinal, size_t memory_limit, int streams, int host_threads = 0);
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  int index() const { return index_; }
  // "host:0", "cuda:1".
  const std::string& name() const { return name_; }
  kernels::Backend backend() const { return backend_; }
  int ordinal() const { return ordinal_; }
  int host_threads() const { return host_threads_; }
  kernels::MemoryResource& memory() { return memory_; }
  const kernels::MemoryResource& memory() const { return memory_; }

  int stream_count() const { return static_cast<int>(streams_.size()); }
  Stream& stream(int i) { return *streams_[i]; }
  // The stream with the fewest pending tasks (lowest index on ties).
  Stream& LeastBusyStream();
  // Of the shard streams (as many as job streams; see RunOnDevices), the one
  // with the fewest pending tasks.
  Stream& LeastBusyShardStream();
  // Tasks pending on all job streams.
  int pending() const;

  // OK while the device runs work; after a sticky failure, Unavailable
  // naming the device and the error. Safe to call at any time.
  absl::Status failure() const;
  // Records that the device can no longer run work (the first failure
  // stays). Jobs that need it fail from then on; the others go on.
  void MarkFailed(absl::string_view why);
  // After a job or shard task on `exec` (one of this device's streams)
  // failed: whether the device itself has failed (kernels::DeviceFailure),
  // recorded with MarkFailed; its failure() then, else `status` unchanged.
  absl::Status CheckAfterError(absl::Status status, const kernels::Exec& exec);
  // Stops every stream's worker after its queued tasks (Stream::Stop), the
  // job streams', then the shard streams'. REQUIRES: no job of another
  // device still runs that may fan out to this one (the engine drains first).
  void StopStreams();

 private:
  const int index_;
  const kernels::Backend backend_;
  const int ordinal_;
  const int host_threads_;
  const std::string name_;
  kernels::MemoryResource memory_;
  std::vector<std::unique_ptr<Stream>> streams_;
  std::vector<std::unique_ptr<Stream>> shard_streams_;
  mutable std::mutex failure_mu_;
  absl::Status failure_;  // guarded by failure_mu_
};

// Runs fn(i, exec) for each devices[i] at once, each on a shard stream of
// its device (exec is that stream's), and waits for all of them. Shard
// streams serve only these tasks, which never wait for other work, so a job
// running on a job stream may fan out to every device without deadlock.
// REQUIRES: fn itself does not call RunOnDevices. Returns the first error in
// device order; an exception from kernels becomes a status as GuardKernels
// makes it, its message prefixed with the device's name ("host:1: out of
// memory ..."). A device that has failed (Device::failure) fails the call
// before anything runs; one that fails during it is marked failed. Every
// task has finished when this returns.
absl::Status RunOnDevices(const std::vector<Device*>& devices,
                          const std::function<absl::Status(size_t i, const kernels::Exec& exec)>& fn);

// Runs fn, turning exceptions from kernels into statuses: out of memory →
// ResourceExhausted, invalid arguments → InvalidArgument, anything else →
// Internal.
absl::Status GuardKernels(const std::function<absl::Status()>& fn);

struct DeviceOptions {
  // "auto" (every CUDA GPU, else one host device), "host", "host:N",
  // "cuda" (every GPU) or "cuda:0,1" (these ordinals).
  std::string spec = "auto";
  int streams_per_device = 4;
  // Bytes per device; 0 = the default: 90% of a GPU's memory, or half of the
  // host's physical memory shared among host devices.
  size_t memory_limit = 0;
  // Several host devices share the cores: each one's kernels use cores /
  // devices threads (at least 1), unless OMP_NUM_THREADS is set.
};

// Creates the devices `options` asks for. InvalidArgument names the flag
// value that is wrong (a malformed spec, a GPU that is not present).
absl::StatusOr<std::vector<std::unique_ptr<Device>>> CreateDevices(const DeviceOptions& options);

}  // namespace engine
