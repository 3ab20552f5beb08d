#include "kernels/histogram.h"

#include "kernels/detail/ops.h"

namespace kernels {

std::vector<double> Histogram(const ColumnView& value, const ColumnView* weights, const int64_t* rows,
                              int64_t n, double start, double end, double interval, int64_t bins,
                              const Exec& exec) {
  return Histogram(value, weights, rows, n, start, end, interval, bins, HistogramMethod::kAuto, exec);
}

std::vector<double> Histogram(const ColumnView& value, const ColumnView* weights, const int64_t* rows,
                              int64_t n, double start, double end, double interval, int64_t bins,
                              HistogramMethod method, const Exec& exec) {
  return detail::OpsFor(exec.backend)
      .Histogram(value, weights, rows, n, start, end, interval, bins, method, exec);
}

}  // namespace kernels
