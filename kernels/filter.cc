#include "kernels/filter.h"

#include "kernels/detail/ops.h"

namespace kernels {

void EvaluateMask(const ProgramView& predicate, int64_t begin, int64_t end, uint8_t* mask, const Exec& exec) {
  detail::OpsFor(exec.backend).EvaluateMask(predicate, begin, end, mask, exec);
}

Selection Compact(const uint8_t* mask, int64_t first, int64_t n, const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  Selection out;
  if (n <= 0) return out;
  out.count = ops.CountNonZero(mask, n, exec);
  out.indices = Buffer(static_cast<size_t>(out.count) * sizeof(int64_t), exec);
  ops.CompactIndices(mask, first, n, out.indices.as<int64_t>(), exec);
  return out;
}

Selection Select(const ProgramView& predicate, int64_t begin, int64_t end, const Exec& exec) {
  const int64_t n = end - begin;
  if (n <= 0) return Selection{};
  Buffer mask(static_cast<size_t>(n), exec);
  EvaluateMask(predicate, begin, end, mask.as<uint8_t>(), exec);
  return Compact(mask.as<uint8_t>(), begin, n, exec);
}

int64_t Count(const ProgramView& predicate, int64_t begin, int64_t end, const Exec& exec) {
  return detail::OpsFor(exec.backend).CountTrue(predicate, begin, end, exec);
}

}  // namespace kernels
