#include "kernels/sort.h"

#include "kernels/detail/ops.h"

namespace kernels {

Buffer SortOrder(const std::vector<SortKey>& keys, const int64_t* rows, int64_t n, const Exec& exec) {
  return detail::OpsFor(exec.backend).SortOrder(keys, rows, n, exec);
}

Buffer TopKOrder(const std::vector<SortKey>& keys, const int64_t* rows, int64_t n, int64_t k,
                 const Exec& exec) {
  return detail::OpsFor(exec.backend).TopKOrder(keys, rows, n, k, exec);
}

}  // namespace kernels
