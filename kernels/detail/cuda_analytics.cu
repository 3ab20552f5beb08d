// The CUDA backend's analytical kernels (AnalyticsOps: statistics,
// materialize, sort, top-k, group-by, aggregates, histogram): the same
// templates (analytics_algorithms.inl) as the host's, instantiated by nvcc
// for Thrust's CUDA system on the job's stream. Apart from cuda_ops.cu only
// to keep nvcc's time per file down (the two take similar time, so that a
// 2-core build runs them side by side); the Ops primitives they use come
// from CudaOps().

#include <cuda_runtime.h>
#include <thrust/system/cuda/execution_policy.h>

#include <cstddef>
#include <cstdint>

#include "kernels/detail/analytics_algorithms.inl"
#include "kernels/detail/ops.h"
#include "kernels/detail/temp_allocator.h"

namespace kernels::detail {
namespace {

auto CudaPolicy(const Exec& exec) {
  return thrust::cuda::par_nosync(TempAllocator{exec.mr, exec.stream})
      .on(static_cast<cudaStream_t>(exec.stream));
}

// Thrust's CUDA sorts allocate their temporaries before they launch, so the
// stream's ordinary policy serves them.
struct CudaSortScope {
  Exec exec;
  auto policy() const { return CudaPolicy(exec); }
};

class CudaAnalyticsImpl final : public AnalyticsAlgorithms<CudaAnalyticsImpl, AnalyticsOps> {
 public:
  auto policy(const Exec& exec) const { return CudaPolicy(exec); }
  // Scan plans run one row per thread.
  static constexpr bool kBlockedScans = false;
  // Thousands of threads: thrust::reduce_by_key and radix sorts over all rows.
  static constexpr bool kHasSerialGroups = false;
  CudaSortScope sort_scope(const Exec& exec, size_t) const { return CudaSortScope{exec}; }

  int64_t CountNonZero(const uint8_t* mask, int64_t n, const Exec& exec) const {
    return CudaOps().CountNonZero(mask, n, exec);
  }
  void CompactIndices(const uint8_t* mask, int64_t begin, int64_t n, int64_t* out, const Exec& exec) const {
    CudaOps().CompactIndices(mask, begin, n, out, exec);
  }
  void GatherFixed(const void* src, int32_t width, const int64_t* idx, int64_t n, void* dst,
                   const Exec& exec) const {
    CudaOps().GatherFixed(src, width, idx, n, dst, exec);
  }
  void GatherChars(const int64_t* src_offsets, const char* src_chars, const int64_t* idx, int64_t n,
                   const int64_t* dst_offsets, char* dst_chars, const Exec& exec) const {
    CudaOps().GatherChars(src_offsets, src_chars, idx, n, dst_offsets, dst_chars, exec);
  }
  void CopyOnDevice(void* dst, const void* src, size_t bytes, const Exec& exec) const {
    CudaOps().CopyOnDevice(dst, src, bytes, exec);
  }
  void CopyToHostSync(void* dst, const void* src, size_t bytes, const Exec& exec) const {
    CudaOps().CopyToHostSync(dst, src, bytes, exec);
  }
  void Fill(void* dst, uint8_t value, size_t bytes, const Exec& exec) const {
    CudaOps().Fill(dst, value, bytes, exec);
  }
};

}  // namespace

const AnalyticsOps& CudaAnalyticsOps() {
  static const CudaAnalyticsImpl ops;
  return ops;
}

}  // namespace kernels::detail
