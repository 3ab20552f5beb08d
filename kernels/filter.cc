#include "kernels/filter.h"

#include "kernels/detail/ops.h"

namespace kernels {

Selection Select(const ProgramView& predicate, int64_t begin, int64_t end, const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  Selection out;
  const int64_t n = end - begin;
  if (n <= 0) return out;
  Buffer mask(static_cast<size_t>(n), exec);
  ops.EvaluateMask(predicate, begin, end, mask.as<uint8_t>(), exec);
  out.count = ops.CountNonZero(mask.as<uint8_t>(), n, exec);
  out.indices = Buffer(static_cast<size_t>(out.count) * sizeof(int64_t), exec);
  ops.CompactIndices(mask.as<uint8_t>(), begin, n, out.indices.as<int64_t>(), exec);
  return out;
}

int64_t Count(const ProgramView& predicate, int64_t begin, int64_t end, const Exec& exec) {
  return detail::OpsFor(exec.backend).CountTrue(predicate, begin, end, exec);
}

}  // namespace kernels
