// The host backend: Thrust's OpenMP system, compiled by the host compiler.

#include <thrust/system/omp/execution_policy.h>

#include <cstdlib>
#include <cstring>

#include "kernels/detail/algorithms.inl"
#include "kernels/detail/ops.h"
#include "kernels/detail/temp_allocator.h"

namespace kernels::detail {
namespace {

class HostOpsImpl final : public AlgorithmOps<HostOpsImpl> {
 public:
  auto policy(const Exec& exec) const { return thrust::omp::par(TempAllocator{exec.mr, nullptr}); }

  int DeviceCount() const override { return 0; }
  CudaDeviceInfo DeviceInfo(int) const override { return {}; }
  void* Allocate(size_t bytes, int, void*) const override {
    constexpr size_t kAlign = 256;
    return std::aligned_alloc(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
  }
  void Deallocate(void* p, int, void*) const noexcept override { std::free(p); }
  void* CreateStream(int) const override { return nullptr; }
  void DestroyStream(int, void*) const override {}
  void BindThread(int) const override {}
  void Synchronize(const Exec&) const override {}
  void CopyToDevice(void* dst, const void* src, size_t bytes, const Exec&) const override {
    if (bytes > 0) std::memcpy(dst, src, bytes);
  }
  void CopyToHostSync(void* dst, const void* src, size_t bytes, const Exec&) const override {
    if (bytes > 0) std::memcpy(dst, src, bytes);
  }
  void CopyOnDevice(void* dst, const void* src, size_t bytes, const Exec&) const override {
    if (bytes > 0) std::memcpy(dst, src, bytes);
  }
  void Fill(void* dst, uint8_t value, size_t bytes, const Exec&) const override {
    if (bytes > 0) std::memset(dst, value, bytes);
  }
};

}  // namespace

const Ops& HostOps() {
  static const HostOpsImpl ops;
  return ops;
}

}  // namespace kernels::detail
