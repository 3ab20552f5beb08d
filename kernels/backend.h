#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace kernels {

class MemoryResource;

// Where a kernel runs. Every algorithm exists once in source and is
// instantiated for both backends (see detail/ops.h).
enum class Backend { kHost, kCuda };

const char* BackendName(Backend backend);

// The execution context every kernel takes as its last argument: the backend,
// the device ordinal (CUDA only), the stream (a cudaStream_t on CUDA, null on
// the host, where the caller's thread is the stream) and the memory resource
// that outputs and temporaries come from.
struct Exec {
  Backend backend = Backend::kHost;
  int device = 0;
  void* stream = nullptr;
  MemoryResource* mr = nullptr;
};

// True when this binary was built with the CUDA backend.
bool CudaCompiledIn();

// Number of CUDA devices usable by this process; 0 when the CUDA backend is not
// compiled in, or no driver or GPU is present.
int CudaDeviceCount();

struct CudaDeviceInfo {
  std::string name;
  size_t total_memory = 0;
  size_t free_memory = 0;
};

// REQUIRES: 0 <= ordinal < CudaDeviceCount().
CudaDeviceInfo GetCudaDeviceInfo(int ordinal);

// Creates a non-blocking CUDA stream on `device`; returns null for the host.
void* CreateStream(Backend backend, int device);
void DestroyStream(Backend backend, int device, void* stream);

// Makes the calling thread launch work on exec.device (cudaSetDevice); a no-op
// on the host. Stream workers call it once when they start.
void BindThread(const Exec& exec);

// Blocks until all work queued on exec.stream has finished.
void Synchronize(const Exec& exec);

// Rows of work below which a host kernel is not worth an OpenMP team.
constexpr int64_t kOneThreadRows = int64_t{1} << 16;

// While it lives, when `small` holds and exec is the host, the calling
// thread's kernels run on that thread alone instead of an OpenMP team: work
// that small gains nothing from the team, whose other threads may wait a
// scheduler tick to run on a busy machine (compare_duckdb's `latest` over
// a few zones of 1e7 rows, 2 cores: 10 runs in 40 took 6-8 ms, the others
// 0.4). Restores the thread's OpenMP thread count when it ends.
class OneThreadScope {
 public:
  OneThreadScope(const Exec& exec, bool small);
  ~OneThreadScope();
  OneThreadScope(const OneThreadScope&) = delete;
  OneThreadScope& operator=(const OneThreadScope&) = delete;

 private:
  int saved_ = 0;  // the count to restore; 0: none changed
};

// Empty while exec's device can run work; after a sticky error (an illegal
// address, a failed launch, an uncorrectable ECC error: every later call on
// that device fails too) the error, as the runtime words it. Always empty on
// the host.
std::string DeviceFailure(const Exec& exec);

// Copies between host memory and memory of exec's device, ordered on
// exec.stream. The *Sync variants return after the copy has completed.
void CopyToDevice(void* dst, const void* src, size_t bytes, const Exec& exec);
void CopyToHostSync(void* dst, const void* src, size_t bytes, const Exec& exec);
void CopyOnDevice(void* dst, const void* src, size_t bytes, const Exec& exec);
void Fill(void* dst, uint8_t value, size_t bytes, const Exec& exec);

}  // namespace kernels
