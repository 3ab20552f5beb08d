#include "kernels/statistics.h"

#include "kernels/detail/ops.h"

namespace kernels {

Moments ComputeMoments(const ProgramView& value, int64_t begin, int64_t end, const Exec& exec) {
  return detail::OpsFor(exec.backend).ComputeMoments(value, begin, end, exec);
}

}  // namespace kernels
