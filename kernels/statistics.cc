#include "kernels/statistics.h"

#include <algorithm>
#include <vector>

#include "kernels/detail/ops.h"
#include "kernels/groupby.h"
#include "kernels/memory.h"

namespace kernels {

Moments ComputeMoments(const ProgramView& value, int64_t begin, int64_t end, const Exec& exec) {
  return detail::OpsFor(exec.backend).ComputeMoments(value, begin, end, exec);
}

int64_t EstimateDistinct(const ColumnView& column, const int64_t* rows, int64_t n, const Exec& exec) {
  if (n <= 0) return 0;
  const int64_t sample = std::min(n, kDistinctSample);
  // The sample's rows: positions spread over the n, through `rows`.
  Buffer picked;
  if (sample < n) {
    std::vector<int64_t> spread(static_cast<size_t>(sample));
    for (int64_t i = 0; i < sample; ++i) spread[i] = i * n / sample;
    picked = Buffer(spread.size() * sizeof(int64_t), exec);
    CopyToDevice(picked.data(), spread.data(), spread.size() * sizeof(int64_t), exec);
    if (rows != nullptr) {
      Buffer mapped(spread.size() * sizeof(int64_t), exec);
      detail::OpsFor(exec.backend)
          .GatherFixed(rows, sizeof(int64_t), picked.as<int64_t>(), sample, mapped.data(), exec);
      picked = std::move(mapped);
    }
  }
  GroupOptions options;
  options.ordered = false;
  options.key_order = false;  // only the groups' sizes are read
  const int64_t* sampled = sample < n ? picked.as<int64_t>() : rows;
  const Groups groups = GroupRows({column}, sampled, sample, options, exec);
  if (sample == n) return groups.count;
  std::vector<int64_t> starts(static_cast<size_t>(groups.count + 1));
  CopyToHostSync(starts.data(), groups.starts.data(), starts.size() * sizeof(int64_t), exec);
  double f1 = 0, f2 = 0;
  for (int64_t g = 0; g < groups.count; ++g) {
    const int64_t size = starts[g + 1] - starts[g];
    f1 += size == 1;
    f2 += size == 2;
  }
  const double d = static_cast<double>(groups.count);
  const double estimate = d + f1 * (f1 - 1) / (2 * (f2 + 1));
  return static_cast<int64_t>(std::min(static_cast<double>(n), std::max(d, estimate)));
}

}  // namespace kernels
