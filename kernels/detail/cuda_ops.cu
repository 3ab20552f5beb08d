// The CUDA backend: Thrust's CUDA system on the job's stream, compiled by nvcc.
// Kernels run with par_nosync; a value returned to the host synchronizes.
// This file instantiates the Ops primitives (AlgorithmOps: scans, gathers,
// random columns). The analytical kernels (AnalyticsOps) are compiled apart,
// in cuda_analytics.cu (nvcc takes minutes per file); this file forwards them.

#include <cuda_runtime.h>
#include <thrust/system/cuda/execution_policy.h>

#include <stdexcept>
#include <string>

#include "kernels/detail/algorithm_ops.inl"
#include "kernels/detail/ops.h"
#include "kernels/detail/temp_allocator.h"

namespace kernels::detail {
namespace {

void Check(cudaError_t err, const char* what) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA error in ") + what + ": " + cudaGetErrorString(err));
  }
}

cudaStream_t AsStream(void* s) { return static_cast<cudaStream_t>(s); }

class CudaOpsImpl final : public AlgorithmOps<CudaOpsImpl> {
 public:
  // Scan plans run one row per thread.
  static constexpr bool kBlockedScans = false;
  auto policy(const Exec& exec) const {
    return thrust::cuda::par_nosync(TempAllocator{exec.mr, exec.stream}).on(AsStream(exec.stream));
  }

  int DeviceCount() const override {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();  // no driver or no device: clear the sticky error
      return 0;
    }
    return n;
  }
  CudaDeviceInfo DeviceInfo(int device) const override {
    cudaDeviceProp prop{};
    Check(cudaGetDeviceProperties(&prop, device), "cudaGetDeviceProperties");
    CudaDeviceInfo info;
    info.name = prop.name;
    info.total_memory = prop.totalGlobalMem;
    int previous = 0;
    Check(cudaGetDevice(&previous), "cudaGetDevice");
    Check(cudaSetDevice(device), "cudaSetDevice");
    size_t free_bytes = 0, total = 0;
    Check(cudaMemGetInfo(&free_bytes, &total), "cudaMemGetInfo");
    Check(cudaSetDevice(previous), "cudaSetDevice");
    info.free_memory = free_bytes;
    return info;
  }
  void* Allocate(size_t bytes, int device, void* stream) const override {
    void* p = nullptr;
    Check(cudaSetDevice(device), "cudaSetDevice");
    if (cudaMallocAsync(&p, bytes, AsStream(stream)) != cudaSuccess) {
      cudaGetLastError();
      return nullptr;
    }
    return p;
  }
  void Deallocate(void* p, int, void* stream) const noexcept override {
    cudaFreeAsync(p, AsStream(stream));
  }
  void* CreateStream(int device) const override {
    Check(cudaSetDevice(device), "cudaSetDevice");
    cudaStream_t s = nullptr;
    Check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
    // Keep freed pool memory cached instead of returning it at every sync.
    cudaMemPool_t pool = nullptr;
    if (cudaDeviceGetDefaultMemPool(&pool, device) == cudaSuccess) {
      uint64_t threshold = UINT64_MAX;
      cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold);
    }
    return s;
  }
  void DestroyStream(int device, void* stream) const override {
    cudaSetDevice(device);
    cudaStreamDestroy(AsStream(stream));
  }
  void BindThread(int device) const override { Check(cudaSetDevice(device), "cudaSetDevice"); }
  void Synchronize(const Exec& exec) const override {
    Check(cudaStreamSynchronize(AsStream(exec.stream)), "cudaStreamSynchronize");
  }
  std::string DeviceFailure(const Exec& exec) const override {
    // A sticky error is returned by every call that follows it.
    const cudaError_t err = cudaStreamQuery(AsStream(exec.stream));
    switch (err) {
      case cudaErrorIllegalAddress:
      case cudaErrorLaunchFailure:
      case cudaErrorHardwareStackError:
      case cudaErrorIllegalInstruction:
      case cudaErrorMisalignedAddress:
      case cudaErrorInvalidAddressSpace:
      case cudaErrorInvalidPc:
      case cudaErrorECCUncorrectable:
      case cudaErrorLaunchTimeout:
      case cudaErrorDevicesUnavailable:
        return cudaGetErrorString(err);
      default:
        return "";
    }
  }
  void CopyToDevice(void* dst, const void* src, size_t bytes, const Exec& exec) const override {
    if (bytes == 0) return;
    // The source is pageable host memory that the caller may free on return.
    Check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, AsStream(exec.stream)),
          "cudaMemcpyAsync");
    Check(cudaStreamSynchronize(AsStream(exec.stream)), "cudaStreamSynchronize");
  }
  // Device sources may be on another GPU (a shard's rows brought to the job's
  // device): cudaMemcpyDefault lets unified addressing find where each side is.
  void CopyToHostSync(void* dst, const void* src, size_t bytes, const Exec& exec) const override {
    if (bytes == 0) return;
    Check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, AsStream(exec.stream)),
          "cudaMemcpyAsync");
    Check(cudaStreamSynchronize(AsStream(exec.stream)), "cudaStreamSynchronize");
  }
  void CopyOnDevice(void* dst, const void* src, size_t bytes, const Exec& exec) const override {
    if (bytes == 0) return;
    Check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, AsStream(exec.stream)),
          "cudaMemcpyAsync");
  }
  void Fill(void* dst, uint8_t value, size_t bytes, const Exec& exec) const override {
    if (bytes == 0) return;
    Check(cudaMemsetAsync(dst, value, bytes, AsStream(exec.stream)), "cudaMemsetAsync");
  }

  Moments ComputeMoments(const ProgramView& p, int64_t begin, int64_t end,
                         const Exec& exec) const override {
    return CudaAnalyticsOps().ComputeMoments(p, begin, end, exec);
  }
  Column Materialize(const ProgramView& p, int64_t begin, int64_t end, bool nullable,
                     const Exec& exec) const override {
    return CudaAnalyticsOps().Materialize(p, begin, end, nullable, exec);
  }
  Buffer SortOrder(const std::vector<SortKey>& keys, const int64_t* rows, int64_t n,
                   const Exec& exec) const override {
    return CudaAnalyticsOps().SortOrder(keys, rows, n, exec);
  }
  Buffer TopKOrder(const std::vector<SortKey>& keys, const int64_t* rows, int64_t n, int64_t k,
                   const Exec& exec) const override {
    return CudaAnalyticsOps().TopKOrder(keys, rows, n, k, exec);
  }
  Groups GroupRows(const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n,
                   const GroupOptions& options, const Exec& exec) const override {
    return CudaAnalyticsOps().GroupRows(keys, rows, n, options, exec);
  }
  Buffer GroupFirstRows(const Groups& groups, const Exec& exec) const override {
    return CudaAnalyticsOps().GroupFirstRows(groups, exec);
  }
  int64_t EncodeValues(const ColumnView& column, int64_t max_values, Buffer* codes, Buffer* value_rows,
                       const Exec& exec) const override {
    return CudaAnalyticsOps().EncodeValues(column, max_values, codes, value_rows, exec);
  }
  std::vector<Column> Aggregates(const Groups& groups, const std::vector<AggregateCall>& calls,
                                 const Exec& exec) const override {
    return CudaAnalyticsOps().Aggregates(groups, calls, exec);
  }
  std::vector<double> Histogram(const ColumnView& value, const ColumnView* weights, const int64_t* rows,
                                int64_t n, double start, double end, double interval, int64_t bins,
                                HistogramMethod method, const Exec& exec) const override {
    return CudaAnalyticsOps().Histogram(value, weights, rows, n, start, end, interval, bins, method, exec);
  }
  Column Window(const WindowSpec& spec, int64_t n, const Exec& exec) const override {
    return CudaAnalyticsOps().Window(spec, n, exec);
  }
};

}  // namespace

const Ops& CudaOps() {
  static const CudaOpsImpl ops;
  return ops;
}

}  // namespace kernels::detail
