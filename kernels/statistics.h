#pragma once

#include <cstdint>

#include "kernels/backend.h"
#include "kernels/expr_vm.h"
#include "kernels/hd.h"

namespace kernels {

// Count, sum, extremes and the running second moment of the non-null values
// of an expression (Chan et al.'s pairwise update, so partial results merge).
struct Moments {
  int64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  double mean = 0;
  double m2 = 0;  // sum of squared deviations from the mean
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
  const double delta = b.mean - a.mean;
  r.mean = a.mean + delta * (nb / (na + nb));
  r.m2 = a.m2 + b.m2 + delta * delta * (na * nb / (na + nb));
  return r;
}

// Moments of `value` (a program whose result is kFloat) over rows [begin, end).
Moments ComputeMoments(const ProgramView& value, int64_t begin, int64_t end, const Exec& exec);

}  // namespace kernels
