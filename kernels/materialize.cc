#include "kernels/materialize.h"

#include "kernels/detail/ops.h"

namespace kernels {

Column Materialize(const ProgramView& value, int64_t begin, int64_t end, bool nullable, const Exec& exec) {
  return detail::OpsFor(exec.backend).Materialize(value, begin, end, nullable, exec);
}

}  // namespace kernels
