#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/expr_program.h"
#include "kernels/hd.h"

namespace kernels {

// Count, sum, extremes and the central moments of the non-null values of an
// expression, kept as sums of powers of deviations from the mean so that
// partial results merge (Chan et al. and Pebay's pairwise updates).
struct Moments {
  int64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  double mean = 0;
  double m2 = 0;  // sum of (x - mean)^2
  double m3 = 0;  // sum of (x - mean)^3
  double m4 = 0;  // sum of (x - mean)^4
};

KERNELS_HD inline Moments MergeMoments(const Moments& a, const Moments& b) {
  if (a.count == 0) return b;
  if (b.count == 0) return a;
  Moments r;
  r.count = a.count + b.count;
  r.sum = a.sum + b.sum;
  r.min = a.min < b.min ? a.min : b.min;
  r.max = a.max > b.max ? a.max : b.max;
  const double na = static_cast<double>(a.count);
  const double nb = static_cast<double>(b.count);
  const double n = na + nb;
  const double delta = b.mean - a.mean;
  const double d_n = delta / n;
  const double d_n2 = d_n * d_n;
  r.mean = a.mean + delta * (nb / n);
  r.m2 = a.m2 + b.m2 + delta * d_n * na * nb;
  r.m3 = a.m3 + b.m3 + d_n2 * delta * na * nb * (na - nb) + 3.0 * d_n * (na * b.m2 - nb * a.m2);
  r.m4 = a.m4 + b.m4 + delta * d_n2 * d_n * na * nb * (na * na - na * nb + nb * nb) +
         6.0 * d_n2 * (na * na * b.m2 + nb * nb * a.m2) + 4.0 * d_n * (na * b.m3 - nb * a.m3);
  return r;
}

// An estimate of the distinct values (nulls count as one) among rows
// `rows` (device int64[n]; null: 0..n-1) of `column`, for a planner's
// guesses of join sizes: exact when
// n <= kDistinctSample; otherwise from kDistinctSample rows spread evenly
// over the column, as Chao's bias-corrected estimator d + f1(f1-1)/(2(f2+1))
// (d distinct in the sample, f1 of them seen once, f2 twice), kept within
// [d, n]. Synchronizes.
constexpr int64_t kDistinctSample = 1 << 14;
int64_t EstimateDistinct(const ColumnView& column, const int64_t* rows, int64_t n, const Exec& exec);

// Moments of `value` (a program whose result is kFloat) over rows [begin, end).
// Each value is a Moments of count 1, merged pairwise, so m3 and m4 are filled.
Moments ComputeMoments(const ProgramView& value, int64_t begin, int64_t end, const Exec& exec);

// Population skewness m3/n / (m2/n)^1.5 and excess kurtosis m4/n / (m2/n)^2 - 3;
// NaN when the count is 0 or every value is equal (m2 == 0).
inline double Skewness(const Moments& m) {
  if (m.count == 0 || m.m2 == 0) return NAN;
  const double n = static_cast<double>(m.count);
  const double var = m.m2 / n;
  return (m.m3 / n) / (var * std::sqrt(var));
}
inline double ExcessKurtosis(const Moments& m) {
  if (m.count == 0 || m.m2 == 0) return NAN;
  const double n = static_cast<double>(m.count);
  const double var = m.m2 / n;
  return (m.m4 / n) / (var * var) - 3.0;
}

}  // namespace kernels
