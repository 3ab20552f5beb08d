// Histograms (Histogram in histogram.h): counts or summed weights of values
// in equal bins, by atomics (wide backends), per-run bins (few threads) or a
// sort by bin and one segmented reduction (kSort). Templates over a backend
// D (see AnalyticsAlgorithms in analytics_algorithms.inl for what D supplies).

#pragma once

#include <thrust/for_each.h>
#include <thrust/transform.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "kernels/detail/atomics.h"
#include "kernels/detail/group_reduce.inl"
#include "kernels/detail/row_values.h"
#include "kernels/detail/rows.h"
#include "kernels/detail/sort.inl"
#include "kernels/histogram.h"
#include "kernels/hd.h"
#include "kernels/memory.h"

namespace kernels::detail {

struct BinOf {
  ColumnView value;
  const int64_t* rows;
  double start, end, interval;
  int64_t bins;
  // The bin of selected row i, or -1 when skipped.
  KERNELS_HD int64_t operator()(int64_t i) const {
    const int64_t row = rows != nullptr ? rows[i] : i;
    if (!value.is_valid(row)) return -1;
    const double v = NumberAt(value, row);
    if (!(v >= start && v <= end)) return -1;
    const double q = floor((v - start) / interval);
    return q >= static_cast<double>(bins - 1) ? bins - 1 : static_cast<int64_t>(q);
  }
};

struct HistogramAdd {
  BinOf bin_of;
  ColumnView weights;
  bool weighted;
  AtomicWord* counts;
  double* sums;
  KERNELS_HD void operator()(int64_t i) const {
    const int64_t b = bin_of(i);
    if (b < 0) return;
    if (!weighted) {
      AtomicAdd(&counts[b], 1);
      return;
    }
    const int64_t row = bin_of.rows != nullptr ? bin_of.rows[i] : i;
    if (weights.is_valid(row)) AtomicAddDouble(&sums[b], NumberAt(weights, row));
  }
};

// Backends with few threads: each run of rows adds into its own bins
// (counts in `counts`, or weights in `sums`, run-major), summed afterwards:
// no atomics, and no cache lines shared by threads when there are few bins.
struct HistogramRun {
  BinOf bin_of;
  ColumnView weights;
  bool weighted;
  int64_t n, chunk;
  int64_t* counts;
  double* sums;
  KERNELS_HD void operator()(int64_t c) const {
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    int64_t* cr = counts + c * bin_of.bins;
    double* sr = sums + c * bin_of.bins;
    for (int64_t i = c * chunk; i < end; ++i) {
      const int64_t b = bin_of(i);
      if (b < 0) continue;
      if (!weighted) {
        ++cr[b];
        continue;
      }
      const int64_t row = bin_of.rows != nullptr ? bin_of.rows[i] : i;
      if (weights.is_valid(row)) sr[b] += NumberAt(weights, row);
    }
  }
};

struct SumRuns {
  const int64_t* counts;
  const double* sums;
  bool weighted;
  int64_t runs, bins;
  KERNELS_HD double operator()(int64_t b) const {
    double total = 0;
    for (int64_t c = 0; c < runs; ++c) {
      total += weighted ? sums[c * bins + b] : static_cast<double>(counts[c * bins + b]);
    }
    return total;
  }
};

// The bin as a sort key; skipped rows get `bins` (sorted last, dropped).
struct BinKey {
  BinOf bin_of;
  KERNELS_HD uint32_t operator()(int64_t i) const {
    const int64_t b = bin_of(i);
    return static_cast<uint32_t>(b < 0 ? bin_of.bins : b);
  }
};

struct ScatterBins {
  const int32_t* keys;
  const SumAcc* sums;
  int64_t bins;
  bool weighted;
  double* out;
  KERNELS_HD void operator()(int64_t j) const {
    if (keys[j] < bins) out[keys[j]] = weighted ? sums[j].f : static_cast<double>(sums[j].n);
  }
};

struct WordToDouble {
  KERNELS_HD double operator()(AtomicWord v) const { return static_cast<double>(v); }
};

template <typename D>
std::vector<double> HistogramAlgo(const D& be, const ColumnView& value, const ColumnView* weights,
                                  const int64_t* rows, int64_t n, double start, double end, double interval,
                                  int64_t bins, HistogramMethod method, const Exec& exec) {
  if (bins < 1) throw std::invalid_argument("Histogram: bins must be at least 1");
  if (!(interval > 0)) throw std::invalid_argument("Histogram: interval must be positive");
  if (!(start <= end)) throw std::invalid_argument("Histogram: start must not be after end");
  if (!IsNumericType(value.type) || (weights != nullptr && !IsNumericType(weights->type))) {
    throw std::invalid_argument("Histogram: value and weights must be numeric");
  }
  std::vector<double> out(static_cast<size_t>(bins), 0.0);
  if (n <= 0) return out;
  const BinOf bin_of{value, rows, start, end, interval, bins};
  const bool weighted = weights != nullptr;
  Buffer result(static_cast<size_t>(bins) * sizeof(double), exec);
  if (method == HistogramMethod::kSort && bins < (int64_t{1} << 31) - 1) {
    // Sort positions by bin, then sum each bin's run.
    Buffer keys(static_cast<size_t>(n) * sizeof(uint32_t), exec);
    Buffer perm = RowsOrIota(be, rows, n, exec);
    uint32_t* k = keys.as<uint32_t>();
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), k, BinKey{bin_of});
    StableSortPairs(be, k, perm.as<int64_t>(), n, exec);
    const int64_t most = n < bins + 1 ? n : bins + 1;
    Buffer keys_out(static_cast<size_t>(most) * sizeof(int32_t), exec);
    Buffer sums(static_cast<size_t>(most) * sizeof(SumAcc), exec);
    // Unweighted: SumAcc::n counts the (valid) values; weighted: SumAcc::f sums the weights.
    const int64_t runs = ReduceGroups(be.policy(exec), reinterpret_cast<const int32_t*>(k), n,
                                      SumAt{weighted ? *weights : value, perm.as<int64_t>()}, AddSums{},
                                      keys_out.as<int32_t>(), sums.as<SumAcc>());
    be.Fill(result.data(), 0, result.size(), exec);
    thrust::for_each_n(
        be.policy(exec), RowIterator(0), runs,
        ScatterBins{keys_out.as<int32_t>(), sums.as<SumAcc>(), bins, weighted, result.as<double>()});
  } else if (SerialGroups(be) && bins <= (int64_t{1} << 20)) {
    const int64_t runs = RunsFor(n, bins);
    Buffer counts(weighted ? 0 : static_cast<size_t>(runs * bins) * sizeof(int64_t), exec);
    Buffer sums(weighted ? static_cast<size_t>(runs * bins) * sizeof(double) : 0, exec);
    be.Fill(counts.data(), 0, counts.size(), exec);
    be.Fill(sums.data(), 0, sums.size(), exec);
    thrust::for_each_n(be.policy(exec), RowIterator(0), runs,
                       HistogramRun{bin_of, weighted ? *weights : value, weighted, n, (n + runs - 1) / runs,
                                    counts.as<int64_t>(), sums.as<double>()});
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(bins), result.as<double>(),
                      SumRuns{counts.as<int64_t>(), sums.as<double>(), weighted, runs, bins});
  } else {
    be.Fill(result.data(), 0, result.size(), exec);
    HistogramAdd add{bin_of, weighted ? *weights : value, weighted, result.as<AtomicWord>(),
                     result.as<double>()};
    thrust::for_each_n(be.policy(exec), RowIterator(0), n, add);
    if (!weighted) {
      thrust::transform(be.policy(exec), result.as<AtomicWord>(), result.as<AtomicWord>() + bins,
                        result.as<double>(), WordToDouble{});
    }
  }
  be.CopyToHostSync(out.data(), result.data(), result.size(), exec);
  return out;
}

}  // namespace kernels::detail
