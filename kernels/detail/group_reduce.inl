// Reductions over segments of equal group ids (ReduceGroups: one
// thrust::reduce_by_key) and the sum accumulator (SumAcc, SumAt, AddSums)
// that aggregates (aggregate.inl) and histograms (histogram.inl) share.

#pragma once

#include <thrust/functional.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/reduce.h>

#include <cstdint>

#include "kernels/column.h"
#include "kernels/detail/row_values.h"
#include "kernels/detail/rows.h"
#include "kernels/hd.h"

namespace kernels::detail {

// The row at a position of the rows' order (null: the position itself).
KERNELS_HD inline int64_t RowAt(const int64_t* order, int64_t pos) {
  return order != nullptr ? order[pos] : pos;
}

struct SumAcc {
  int64_t i;  // integer sum, wrapping
  double f;   // the sum in double
  int64_t n;  // non-null values
};

struct SumAt {
  ColumnView col;
  const int64_t* order;
  KERNELS_HD SumAcc operator()(int64_t pos) const {
    const int64_t row = RowAt(order, pos);
    SumAcc a{0, 0.0, 0};
    if (col.is_valid(row)) {
      a.i = IntegerAt(col, row);
      a.f = NumberAt(col, row);
      a.n = 1;
    }
    return a;
  }
};

struct AddSums {
  KERNELS_HD SumAcc operator()(const SumAcc& a, const SumAcc& b) const {
    return SumAcc{static_cast<int64_t>(static_cast<uint64_t>(a.i) + static_cast<uint64_t>(b.i)), a.f + b.f,
                  a.n + b.n};
  }
};

// Segmented reduction over the group order: out[g] = the merge of load(i)
// over the positions i of group g. Returns the number of segments.
template <typename Policy, typename Load, typename Merge, typename Acc>
int64_t ReduceGroups(Policy&& policy, const int32_t* ids, int64_t n, Load load, Merge merge,
                     int32_t* keys_out, Acc* out) {
  auto values = thrust::make_transform_iterator(RowIterator(0), load);
  auto ends =
      thrust::reduce_by_key(policy, ids, ids + n, values, keys_out, out, thrust::equal_to<int32_t>(), merge);
  return static_cast<int64_t>(ends.first - keys_out);
}

}  // namespace kernels::detail
