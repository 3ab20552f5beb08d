// The analytical kernels of one backend, written once: AnalyticsAlgorithms
// implements AnalyticsOps (statistics, materialize, sort, top-k, group-by,
// aggregates, histogram) for a policy factory. Included by host_ops.cc and
// cuda_analytics.cu only; each instantiates it once, with its own policy.
// Host-only planning (which bit fields go into which radix pass) is plain
// inline code; the per-row work is in KERNELS_HD functors, each dispatching
// on PhysType at run time so that one instantiation serves every type.

#pragma once

#include <cstdint>
#include <vector>

#include "kernels/detail/aggregate.inl"
#include "kernels/detail/groupby.inl"
#include "kernels/detail/histogram.inl"
#include "kernels/detail/materialize.inl"
#include "kernels/detail/moments.inl"
#include "kernels/detail/ops.h"
#include "kernels/detail/sort.inl"
#include "kernels/detail/topk.inl"
#include "kernels/detail/window.inl"

namespace kernels::detail {

// Implements AnalyticsOps on top of `Base` (AnalyticsOps itself, or an Ops
// implementation). `Derived` supplies `policy(exec)`; `kBlockedScans` (as
// for AlgorithmOps); `sort_scope(exec, bytes)`, whose `policy()` serves the
// temporaries of one sort of `bytes` bytes of keys and values;
// `kHasSerialGroups` and, when true, `serial_groups()` (few fat threads:
// loop over groups and runs of rows, rather than spread every row over
// threads) and `threads()` (how many run at once); and the Ops primitives
// the algorithms use (CountNonZero, CompactIndices, GatherFixed,
// GatherChars, CopyOnDevice, CopyToHostSync, Fill).
template <typename Derived, typename Base>
class AnalyticsAlgorithms : public Base {
 public:
  Moments ComputeMoments(const ProgramView& p, int64_t begin, int64_t end,
                         const Exec& exec) const override {
    return end > begin ? ComputeMomentsImpl<Derived::kBlockedScans>(self().policy(exec), p, begin, end)
                       : Moments{};
  }
  Column Materialize(const ProgramView& p, int64_t begin, int64_t end, bool nullable,
                     const Exec& exec) const override {
    return MaterializeAlgo(self(), p, begin, end, nullable, exec);
  }
  Buffer SortOrder(const std::vector<SortKey>& keys, const int64_t* rows, int64_t n,
                   const Exec& exec) const override {
    return SortOrderAlgo(self(), keys, rows, n, exec);
  }
  Buffer TopKOrder(const std::vector<SortKey>& keys, const int64_t* rows, int64_t n, int64_t k,
                   const Exec& exec) const override {
    return TopKOrderAlgo(self(), keys, rows, n, k, exec);
  }
  Groups GroupRows(const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n,
                   const GroupOptions& options, const Exec& exec) const override {
    return GroupRowsAlgo(self(), keys, rows, n, options, exec);
  }
  Buffer GroupFirstRows(const Groups& groups, const Exec& exec) const override {
    return GroupFirstRowsAlgo(self(), groups, exec);
  }
  int64_t EncodeValues(const ColumnView& column, int64_t max_values, Buffer* codes, Buffer* value_rows,
                       const Exec& exec) const override {
    return EncodeValuesAlgo(self(), column, max_values, codes, value_rows, exec);
  }
  std::vector<Column> Aggregates(const Groups& groups, const std::vector<AggregateCall>& calls,
                                 const Exec& exec) const override {
    return AggregatesAlgo(self(), groups, calls, exec);
  }
  std::vector<double> Histogram(const ColumnView& value, const ColumnView* weights, const int64_t* rows,
                                int64_t n, double start, double end, double interval, int64_t bins,
                                HistogramMethod method, const Exec& exec) const override {
    return HistogramAlgo(self(), value, weights, rows, n, start, end, interval, bins, method, exec);
  }
  Column Window(const WindowSpec& spec, int64_t n, const Exec& exec) const override {
    return WindowAlgo(self(), spec, n, exec);
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace kernels::detail
