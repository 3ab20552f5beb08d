// Statistics of a value over rows (ComputeMoments in statistics.h), written
// once as a template over a Thrust execution policy: an expression program
// (expr_eval.h) or a kValue scan plan row by row (kBlocked false: CUDA), or
// the scan plan by blocks of kScanBlock rows (kBlocked true: the host,
// scan_blocks.h); partial Moments merge with MergeMoments. REQUIRES: end >
// begin (AnalyticsAlgorithms checks). Instantiated through
// AnalyticsAlgorithms (analytics_algorithms.inl) in host_ops.cc and
// cuda_analytics.cu.

#pragma once

#include <thrust/transform_reduce.h>

#include <cstdint>

#include "kernels/column.h"
#include "kernels/detail/expr_eval.h"
#include "kernels/detail/rows.h"
#include "kernels/detail/scan_blocks.h"
#include "kernels/expr_program.h"
#include "kernels/hd.h"
#include "kernels/scan_plan.h"
#include "kernels/statistics.h"

namespace kernels::detail {

struct RowMoments {
  ProgramView p;
  KERNELS_HD Moments operator()(int64_t row) const {
    Moments m;
    const Slot v = Evaluate(p, row);
    if (v.valid) {
      m.count = 1;
      m.sum = v.f;
      m.min = v.f;
      m.max = v.f;
      m.mean = v.f;
    }
    return m;
  }
};

struct MergeMomentsFn {
  KERNELS_HD Moments operator()(const Moments& a, const Moments& b) const { return MergeMoments(a, b); }
};

// Scan plans (scan_plan.h), row by row (CUDA) ...
struct PlanRowMoments {
  const ScanPlan* plan;
  KERNELS_HD Moments operator()(int64_t row) const {
    Moments m;
    const ColumnView& c = plan->term[0].column;
    if (c.is_valid(row)) {
      const double v = PlanDoubleAt(c, row);
      m.count = 1;
      m.sum = v;
      m.min = v;
      m.max = v;
      m.mean = v;
    }
    return m;
  }
};

// ... and by blocks of kScanBlock rows (host; PlanBlocks in scan_blocks.h).
struct PlanMomentsBlock {
  PlanBlocks blocks;
  Moments operator()(int64_t b) const { return ValueMomentsBlock(*blocks.plan, blocks.first(b), blocks.size(b)); }
};

template <bool kBlocked, typename Policy>
Moments ComputeMomentsImpl(Policy&& policy, const ProgramView& p, int64_t begin, int64_t end) {
  if (p.plan_kind == PlanKind::kValue) {
    if constexpr (kBlocked) {
      return thrust::transform_reduce(policy, RowIterator(0), RowIterator(PlanBlocks::Count(begin, end)),
                                      PlanMomentsBlock{{p.plan, begin, end}}, Moments{}, MergeMomentsFn{});
    } else {
      return thrust::transform_reduce(policy, RowIterator(begin), RowIterator(end), PlanRowMoments{p.plan},
                                      Moments{}, MergeMomentsFn{});
    }
  }
  return thrust::transform_reduce(policy, RowIterator(begin), RowIterator(end), RowMoments{p},
                                  Moments{}, MergeMomentsFn{});
}

}  // namespace kernels::detail
