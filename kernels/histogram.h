#pragma once

#include <cstdint>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"

namespace kernels {

// Counts of the numeric `value` in `bins` bins [start + i*interval,
// start + (i+1)*interval), the last one closed at `end`; values outside
// [start, end] (NaN included) and nulls are skipped. A value v in range goes
// to bin min(floor((v - start) / interval), bins - 1), computed in double.
// With `weights`, sums the weight (a numeric column, nulls skipped) instead
// of counting. `rows` (device int64[n]) selects rows; null means rows
// 0..n-1. Returns host values (bins of them).
// REQUIRES: bins >= 1, interval > 0, start <= end; value numeric; both
// columns hold every selected row. Throws std::invalid_argument otherwise.
std::vector<double> Histogram(const ColumnView& value, const ColumnView* weights, const int64_t* rows,
                              int64_t n, double start, double end, double interval, int64_t bins,
                              const Exec& exec);

// How Histogram counts (the plain overload uses kAuto; see kernels_bench).
//   kAtomic: one pass, each row adds to its bin: an atomic add on CUDA (int64
//     counts; double sums with weights); on the host each thread's run of
//     rows into bins of its own, summed after (no atomics needed).
//   kSort: the bin of each row as a 32-bit key, a radix sort, then
//     segmented sums (thrust::reduce_by_key).
//   kAuto: kAtomic.
enum class HistogramMethod : uint8_t { kAuto, kAtomic, kSort };
std::vector<double> Histogram(const ColumnView& value, const ColumnView* weights, const int64_t* rows,
                              int64_t n, double start, double end, double interval, int64_t bins,
                              HistogramMethod method, const Exec& exec);

}  // namespace kernels
