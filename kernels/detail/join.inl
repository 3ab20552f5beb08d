// Equi-joins (kernels/join.h) and the index maps of row changes
// (kernels/gather.h): hash-sorted build rows, probe ranges, pair expansion,
// key checks, scatters.

#pragma once

#include <thrust/binary_search.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/reduce.h>
#include <thrust/scan.h>
#include <thrust/sort.h>

#include <cstdint>

#include "kernels/column.h"
#include "kernels/detail/row_values.h"
#include "kernels/hd.h"

namespace kernels::detail {

// Whether row a of `x` and row b of `y` hold equal join keys: both valid and
// equal as RowKeysEqual has it. REQUIRES: x and y of one type (a charN and a
// varchar compare as strings).
KERNELS_HD inline bool JoinKeysEqual(const ColumnView& x, int64_t a, const ColumnView& y, int64_t b) {
  if (!x.is_valid(a) || !y.is_valid(b)) return false;
  if (IsStringType(x.type)) {
    const char *sa, *sb;
    int64_t na, nb;
    StringAt(x, a, sa, na);
    StringAt(y, b, sb, nb);
    return CompareBytes(sa, na, sb, nb) == 0;
  }
  return OrderBits(x, a, 0, 0) == OrderBits(y, b, 0, 0);
}

struct PairKeysEqual {
  ColumnView x, y;
  const int64_t* rows_x;
  const int64_t* rows_y;
  bool first;
  uint8_t* mask;

  KERNELS_HD void operator()(int64_t i) const {
    const bool eq = JoinKeysEqual(x, rows_x[i], y, rows_y[i]);
    mask[i] = static_cast<uint8_t>((first || mask[i] != 0) && eq);
  }
};

struct RowsValid {
  ColumnView column;
  const int64_t* rows;  // null: row i itself
  bool first;
  uint8_t* mask;

  KERNELS_HD void operator()(int64_t i) const {
    const bool valid = column.is_valid(rows != nullptr ? rows[i] : i);
    mask[i] = static_cast<uint8_t>((first || mask[i] != 0) && valid);
  }
};

struct RangeCount {
  const int64_t* lo;
  const int64_t* hi;
  int64_t* counts;

  KERNELS_HD void operator()(int64_t i) const { counts[i] = hi[i] - lo[i]; }
};

// Writes probe row i's pairs: (i, build_rows[lo[i] + k]) at offsets[i] + k.
struct ExpandPairs {
  const int64_t* lo;
  const int64_t* counts;
  const int64_t* offsets;
  const int64_t* build_rows;
  int64_t* out_probe;
  int64_t* out_build;

  KERNELS_HD void operator()(int64_t i) const {
    const int64_t at = offsets[i];
    for (int64_t k = 0; k < counts[i]; ++k) {
      out_probe[at + k] = i;
      out_build[at + k] = build_rows[lo[i] + k];
    }
  }
};

struct ScatterByte {
  const int64_t* idx;
  uint8_t value;
  uint8_t* out;

  KERNELS_HD void operator()(int64_t i) const { out[idx[i]] = value; }
};

struct ScatterPosition {
  const int64_t* idx;
  int64_t first;
  int64_t* out;

  KERNELS_HD void operator()(int64_t i) const { out[idx[i]] = first + i; }
};

template <typename Policy>
void SortByHashImpl(Policy&& policy, uint64_t* hashes, int64_t* rows, int64_t n) {
  thrust::stable_sort_by_key(policy, hashes, hashes + n, rows);
}

template <typename Policy>
int64_t ProbeRangesImpl(Policy&& policy, const uint64_t* sorted, int64_t nb, const uint64_t* probe, int64_t np,
                        int64_t* lo, int64_t* counts, int64_t* offsets) {
  thrust::lower_bound(policy, sorted, sorted + nb, probe, probe + np, lo);
  // counts first holds the upper bounds.
  thrust::upper_bound(policy, sorted, sorted + nb, probe, probe + np, counts);
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(np),
                   RangeCount{lo, counts, counts});
  thrust::exclusive_scan(policy, counts, counts + np, offsets);
  return thrust::reduce(policy, counts, counts + np, int64_t{0});
}

template <typename Policy>
void ExpandPairsImpl(Policy&& policy, const int64_t* lo, const int64_t* counts, const int64_t* offsets, int64_t np,
                     const int64_t* build_rows, int64_t* out_probe, int64_t* out_build) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(np),
                   ExpandPairs{lo, counts, offsets, build_rows, out_probe, out_build});
}

template <typename Policy>
void PairKeysEqualImpl(Policy&& policy, const ColumnView& x, const int64_t* rows_x, const ColumnView& y,
                       const int64_t* rows_y, int64_t n, bool first, uint8_t* mask) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   PairKeysEqual{x, y, rows_x, rows_y, first, mask});
}

template <typename Policy>
void RowsValidImpl(Policy&& policy, const ColumnView& column, const int64_t* rows, int64_t n, bool first,
                   uint8_t* mask) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   RowsValid{column, rows, first, mask});
}

template <typename Policy>
void ScatterByteImpl(Policy&& policy, const int64_t* idx, int64_t n, uint8_t value, uint8_t* out) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   ScatterByte{idx, value, out});
}

template <typename Policy>
void ScatterPositionsImpl(Policy&& policy, const int64_t* idx, int64_t n, int64_t first, int64_t* out) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   ScatterPosition{idx, first, out});
}

}  // namespace kernels::detail
