#include "kernels/groupby.h"

#include <utility>

#include "kernels/detail/ops.h"

namespace kernels {

Groups GroupRows(const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n, const Exec& exec) {
  return GroupRows(keys, rows, n, GroupOptions(), exec);
}

Groups GroupRows(const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n,
                 const GroupOptions& options, const Exec& exec) {
  return detail::OpsFor(exec.backend).GroupRows(keys, rows, n, options, exec);
}

Buffer GroupFirstRows(const Groups& groups, const Exec& exec) {
  return detail::OpsFor(exec.backend).GroupFirstRows(groups, exec);
}

Column Aggregate(const Groups& groups, AggKind kind, const ColumnView* value, const ColumnView* target,
                 const Exec& exec) {
  return std::move(Aggregates(groups, {AggregateCall{kind, value, target}}, exec)[0]);
}

std::vector<Column> Aggregates(const Groups& groups, const std::vector<AggregateCall>& calls, const Exec& exec) {
  return detail::OpsFor(exec.backend).Aggregates(groups, calls, exec);
}

}  // namespace kernels
