#pragma once

#include <cstdint>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"

namespace kernels {

// Counts of the numeric `value` in `bins` bins [start + i*interval,
// start + (i+1)*interval), the last one closed at `end`; values outside
// [start, end] and nulls are skipped. With `weights`, sums the weight (a
// numeric column, nulls skipped) instead of counting. `rows` (device
// int64[n]) selects rows; null means rows 0..n-1. Returns host values.
std::vector<double> Histogram(const ColumnView& value, const ColumnView* weights, const int64_t* rows,
                              int64_t n, double start, double end, double interval, int64_t bins,
                              const Exec& exec);

}  // namespace kernels
