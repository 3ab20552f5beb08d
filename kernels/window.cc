#include "kernels/window.h"

#include "kernels/detail/ops.h"

namespace kernels {

Column Window(const WindowSpec& spec, int64_t n, const Exec& exec) {
  return detail::OpsFor(exec.backend).Window(spec, n, exec);
}

}  // namespace kernels
