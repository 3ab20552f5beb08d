#include "kernels/backend.h"

#include <omp.h>

#include "kernels/detail/ops.h"
#include "kernels/host_threads.h"

namespace kernels {

using detail::OpsFor;

const char* BackendName(Backend backend) { return backend == Backend::kHost ? "host" : "cuda"; }

int CudaDeviceCount() { return CudaCompiledIn() ? OpsFor(Backend::kCuda).DeviceCount() : 0; }

CudaDeviceInfo GetCudaDeviceInfo(int ordinal) { return OpsFor(Backend::kCuda).DeviceInfo(ordinal); }

void* CreateStream(Backend backend, int device) { return OpsFor(backend).CreateStream(device); }

void DestroyStream(Backend backend, int device, void* stream) {
  OpsFor(backend).DestroyStream(device, stream);
}

void BindThread(const Exec& exec) { OpsFor(exec.backend).BindThread(exec.device); }

void Synchronize(const Exec& exec) { OpsFor(exec.backend).Synchronize(exec); }

OneThreadScope::OneThreadScope(const Exec& exec, bool small) {
  if (!small || exec.backend != Backend::kHost) return;
  saved_ = omp_get_max_threads();
  omp_set_num_threads(1);
}

OneThreadScope::~OneThreadScope() {
  if (saved_ > 0) omp_set_num_threads(saved_);
}

void ReleaseHostThreads() { omp_pause_resource(omp_pause_soft, omp_get_initial_device()); }

std::string DeviceFailure(const Exec& exec) { return OpsFor(exec.backend).DeviceFailure(exec); }

void CopyToDevice(void* dst, const void* src, size_t bytes, const Exec& exec) {
  OpsFor(exec.backend).CopyToDevice(dst, src, bytes, exec);
}

void CopyToHostSync(void* dst, const void* src, size_t bytes, const Exec& exec) {
  OpsFor(exec.backend).CopyToHostSync(dst, src, bytes, exec);
}

void CopyOnDevice(void* dst, const void* src, size_t bytes, const Exec& exec) {
  OpsFor(exec.backend).CopyOnDevice(dst, src, bytes, exec);
}

void Fill(void* dst, uint8_t value, size_t bytes, const Exec& exec) {
  OpsFor(exec.backend).Fill(dst, value, bytes, exec);
}

}  // namespace kernels
