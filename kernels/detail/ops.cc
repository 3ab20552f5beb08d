#include "kernels/detail/ops.h"

#include <stdexcept>

namespace kernels::detail {

const Ops& OpsFor(Backend backend) {
  if (backend == Backend::kHost) return HostOps();
#if KERNELS_WITH_CUDA
  return CudaOps();
#else
  throw std::runtime_error("this build has no CUDA backend");
#endif
}

}  // namespace kernels::detail

namespace kernels {

bool CudaCompiledIn() { return KERNELS_WITH_CUDA != 0; }

}  // namespace kernels
