#pragma once

// Scan plans (kernels/scan_plan.h) over blocks of rows, for the host: each
// term is one typed loop over a block's column slice that the compiler
// vectorizes (`omp simd`), ANDed into a byte mask of the block. Statistics
// take two passes over each block while it is in cache (count, sums, min and
// max; then the central moments about the block's mean), and blocks merge
// with MergeMoments (Chan's and Pebay's pairwise formulas). Host code only; the CUDA backend evaluates plans row by
// row (PlanPredicateRow).

#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "kernels/column.h"
#include "kernels/scan_plan.h"
#include "kernels/statistics.h"

#define KERNELS_PRAGMA(x) _Pragma(#x)
#if defined(_OPENMP) && !defined(__CUDA_ARCH__)
#define KERNELS_SIMD KERNELS_PRAGMA(omp simd)
#define KERNELS_SIMD_REDUCE(clauses) KERNELS_PRAGMA(omp simd clauses)
#else
#define KERNELS_SIMD
#define KERNELS_SIMD_REDUCE(clauses)
#endif

// The host's block loops are compiled twice, for AVX2 and for x86-64's baseline, and the CPU's is picked when the
// program loads (GCC's target_clones): with SSE2 alone GCC 12 leaves a comparison of doubles into a byte mask scalar
// (x > 0.5 over 1e7 doubles: 14 ms, 3x a vectorized loop). On the functors whose loops inline these functions. Not
// under a sanitizer: the clones' resolvers run while the program is relocated, before the sanitizer's runtime is set
// up (an instrumented resolver crashes under TSan).
#if defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
#define KERNELS_HOST_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KERNELS_HOST_CLONES
#endif

// The block functions on the path of a plan's terms, inlined into the
// cloned functors whatever GCC's unit-growth limits decide, so that they
// are compiled for the clone's target: left out of line (as TermBlock was
// once host_ops.cc grew), they run the baseline's scalar loops (a
// three-term count of 1e7 rows: 15 ms inlined, 30 out of line).
#if defined(__GNUC__) && !defined(__CUDA_ARCH__)
#define KERNELS_BLOCK_INLINE __attribute__((always_inline)) inline
#else
#define KERNELS_BLOCK_INLINE inline
#endif

namespace kernels::detail {

// Rows per block: a block's mask and the column slices it reads stay in L1/L2.
constexpr int64_t kScanBlock = 8192;

// Which bounds a range test needs: a one-sided comparison (x > k) tests one.
enum Sides { kLowerOnly = 1, kUpperOnly = 2, kBothSides = 3 };

template <int kSides, typename V>
KERNELS_BLOCK_INLINE uint8_t InRange(V v, V lo, V hi) {
  if constexpr (kSides == kLowerOnly) {
    return static_cast<uint8_t>(v >= lo);
  } else if constexpr (kSides == kUpperOnly) {
    return static_cast<uint8_t>(v <= hi);
  } else {
    return static_cast<uint8_t>((v >= lo) & (v <= hi));
  }
}

// A block of valid flags, which RangeBlock reads for a column of doubles
// without validity: GCC (12, SSE2) vectorizes a comparison of doubles
// narrowed to bytes only beside another byte stream. Measured over 6e6 rows
// by blocks, one thread: doubles 5.7 ms without the flags, 1.9 ms with
// them; int64 2.5 against 3.8, int32 1.1 against 1.2, floats alike (so
// those keep the loop without).
struct ValidBlock {
  uint8_t flags[kScanBlock];
  constexpr ValidBlock() : flags() {
    for (uint8_t& f : flags) f = 1;
  }
};
inline constexpr ValidBlock kAllValid{};

// m[i] (= or &=) ((lo <= x[i] <= hi) != negate) && valid[i], for i < n
// (valid null: every row valid). REQUIRES: n <= kScanBlock.
template <int kSides, typename V, typename T>
KERNELS_BLOCK_INLINE void RangeBlock(const T* __restrict__ x, const uint8_t* __restrict__ valid, V lo, V hi,
                                     bool negate, bool first, uint8_t* __restrict__ m, int64_t n) {
  const uint8_t neg = negate ? 1 : 0;
  if constexpr (std::is_same_v<T, double>) {
    if (valid == nullptr) valid = kAllValid.flags;
  }
  if (valid == nullptr) {
    if (first) {
      KERNELS_SIMD
      for (int64_t i = 0; i < n; ++i) m[i] = InRange<kSides>(static_cast<V>(x[i]), lo, hi) ^ neg;
    } else {
      KERNELS_SIMD
      for (int64_t i = 0; i < n; ++i) m[i] &= InRange<kSides>(static_cast<V>(x[i]), lo, hi) ^ neg;
    }
    return;
  }
  if (first) {
    KERNELS_SIMD
    for (int64_t i = 0; i < n; ++i) {
      m[i] = (InRange<kSides>(static_cast<V>(x[i]), lo, hi) ^ neg) & static_cast<uint8_t>(valid[i] != 0);
    }
  } else {
    KERNELS_SIMD
    for (int64_t i = 0; i < n; ++i) {
      m[i] &= (InRange<kSides>(static_cast<V>(x[i]), lo, hi) ^ neg) & static_cast<uint8_t>(valid[i] != 0);
    }
  }
}

// RangeBlock testing only the bounds that can fail: a lower bound at V's
// lowest value (-inf for doubles) passes every value but NaN, which the
// other bound fails too; likewise an upper bound at V's highest.
template <typename V, typename T>
KERNELS_BLOCK_INLINE void RangeBlockSides(const T* x, const uint8_t* valid, V lo, V hi, bool negate, bool first,
                                          uint8_t* m, int64_t n) {
  const V lowest = std::numeric_limits<V>::has_infinity ? -std::numeric_limits<V>::infinity()
                                                         : std::numeric_limits<V>::lowest();
  const V highest = std::numeric_limits<V>::has_infinity ? std::numeric_limits<V>::infinity()
                                                          : std::numeric_limits<V>::max();
  const bool need_lo = !(lo == lowest), need_hi = !(hi == highest);
  if (need_lo && !need_hi) {
    RangeBlock<kLowerOnly>(x, valid, lo, hi, negate, first, m, n);
  } else if (need_hi && !need_lo) {
    RangeBlock<kUpperOnly>(x, valid, lo, hi, negate, first, m, n);
  } else {
    RangeBlock<kBothSides>(x, valid, lo, hi, negate, first, m, n);
  }
}

// m[i] (= or &=) value && valid[i] (valid null: every row valid); value is 0 or 1.
KERNELS_BLOCK_INLINE void ConstantBlock(uint8_t value, const uint8_t* __restrict__ valid, bool first,
                                        uint8_t* __restrict__ m, int64_t n) {
  if (valid == nullptr) {
    if (first) {
      for (int64_t i = 0; i < n; ++i) m[i] = value;
    } else if (value == 0) {
      for (int64_t i = 0; i < n; ++i) m[i] = 0;
    }
    return;
  }
  if (first) {
    KERNELS_SIMD
    for (int64_t i = 0; i < n; ++i) m[i] = value & static_cast<uint8_t>(valid[i] != 0);
  } else {
    KERNELS_SIMD
    for (int64_t i = 0; i < n; ++i) m[i] &= value & static_cast<uint8_t>(valid[i] != 0);
  }
}

// An integer term over a column of T, compared in T: the int64 bounds are
// clipped to T's range (an empty range makes the test constant).
template <typename T>
KERNELS_BLOCK_INLINE void IntTermBlock(const PlanTerm& t, int64_t row, bool first, uint8_t* m, int64_t n) {
  const T* x = static_cast<const T*>(t.column.data) + row;
  const uint8_t* valid = t.column.validity == nullptr ? nullptr : t.column.validity + row;
  const int64_t tmin = std::numeric_limits<T>::min();
  const int64_t tmax = std::numeric_limits<T>::max();
  const int64_t lo = t.ilo < tmin ? tmin : t.ilo;
  const int64_t hi = t.ihi > tmax ? tmax : t.ihi;
  if (lo > hi) {
    ConstantBlock(t.negate ? 1 : 0, valid, first, m, n);
    return;
  }
  RangeBlockSides<T>(x, valid, static_cast<T>(lo), static_cast<T>(hi), t.negate, first, m, n);
}

template <typename T>
KERNELS_BLOCK_INLINE void FloatTermBlock(const PlanTerm& t, int64_t row, bool first, uint8_t* m, int64_t n) {
  const T* x = static_cast<const T*>(t.column.data) + row;
  const uint8_t* valid = t.column.validity == nullptr ? nullptr : t.column.validity + row;
  RangeBlockSides<double>(x, valid, t.flo, t.fhi, t.negate, first, m, n);
}

// A kChars term over rows [row, row + n) into m[0, n): the row's width
// bytes against each constant's. Width W known at compile time (charN
// widths are powers of two) lets the compiler compare words, not call
// memcmp; W == 0: the column's width, at run time.
template <size_t W>
inline void CharsTermBlockOf(const PlanTerm& t, int64_t row, bool first, uint8_t* m, int64_t n) {
  const size_t width = W != 0 ? W : static_cast<size_t>(t.column.width);
  const char* x = static_cast<const char*>(t.column.data) + row * static_cast<int64_t>(width);
  const uint8_t* valid = t.column.validity == nullptr ? nullptr : t.column.validity + row;
  const uint8_t neg = t.negate ? 1 : 0;
  for (int64_t i = 0; i < n; ++i) {
    uint8_t found = 0;
    for (int32_t k = 0; k < t.nchars; ++k) found |= std::memcmp(x + i * width, t.chars[k], W != 0 ? W : width) == 0;
    const uint8_t v = static_cast<uint8_t>((found ^ neg) & (valid == nullptr || valid[i] != 0));
    m[i] = first ? v : static_cast<uint8_t>(m[i] & v);
  }
}

inline void CharsTermBlock(const PlanTerm& t, int64_t row, bool first, uint8_t* m, int64_t n) {
  switch (t.column.width) {
    case 1:
      CharsTermBlockOf<1>(t, row, first, m, n);
      return;
    case 2:
      CharsTermBlockOf<2>(t, row, first, m, n);
      return;
    case 4:
      CharsTermBlockOf<4>(t, row, first, m, n);
      return;
    case 8:
      CharsTermBlockOf<8>(t, row, first, m, n);
      return;
    case 16:
      CharsTermBlockOf<16>(t, row, first, m, n);
      return;
    case 32:
      CharsTermBlockOf<32>(t, row, first, m, n);
      return;
    default:
      CharsTermBlockOf<0>(t, row, first, m, n);
      return;
  }
}

// A kColumns term over rows [row, row + n) into m[0, n), in type T.
template <typename T>
inline void ColumnsTermBlockOf(const PlanTerm& t, int64_t row, bool first, uint8_t* m, int64_t n) {
  const T* x = static_cast<const T*>(t.column.data) + row;
  const T* y = static_cast<const T*>(t.other.data) + row;
  const uint8_t* vx = t.column.validity == nullptr ? nullptr : t.column.validity + row;
  const uint8_t* vy = t.other.validity == nullptr ? nullptr : t.other.validity + row;
  const uint8_t neg = t.negate ? 1 : 0;
  const auto loop = [&](auto holds) {
    KERNELS_SIMD
    for (int64_t i = 0; i < n; ++i) {
      const uint8_t valid = static_cast<uint8_t>((vx == nullptr || vx[i] != 0) & (vy == nullptr || vy[i] != 0));
      const uint8_t v = static_cast<uint8_t>((static_cast<uint8_t>(holds(x[i], y[i])) ^ neg) & valid);
      m[i] = first ? v : static_cast<uint8_t>(m[i] & v);
    }
  };
  switch (t.cmp) {
    case PlanCmp::kEq:
      loop([](T a, T b) { return a == b; });
      return;
    case PlanCmp::kNe:
      loop([](T a, T b) { return a != b; });
      return;
    case PlanCmp::kLt:
      loop([](T a, T b) { return a < b; });
      return;
    default:
      loop([](T a, T b) { return a <= b; });
      return;
  }
}

inline void ColumnsTermBlock(const PlanTerm& t, int64_t row, bool first, uint8_t* m, int64_t n) {
  switch (t.column.type) {
    case PhysType::kInt8:
      ColumnsTermBlockOf<int8_t>(t, row, first, m, n);
      return;
    case PhysType::kInt16:
      ColumnsTermBlockOf<int16_t>(t, row, first, m, n);
      return;
    case PhysType::kInt32:
      ColumnsTermBlockOf<int32_t>(t, row, first, m, n);
      return;
    case PhysType::kInt64:
      ColumnsTermBlockOf<int64_t>(t, row, first, m, n);
      return;
    case PhysType::kFloat32:
      ColumnsTermBlockOf<float>(t, row, first, m, n);
      return;
    case PhysType::kFloat64:
      ColumnsTermBlockOf<double>(t, row, first, m, n);
      return;
    default:
      return;
  }
}

// Term `t` over rows [row, row + n) into m[0, n).
KERNELS_BLOCK_INLINE void TermBlock(const PlanTerm& t, int64_t row, bool first, uint8_t* m, int64_t n) {
  if (t.kind == TermKind::kColumns) {
    ColumnsTermBlock(t, row, first, m, n);
    return;
  }
  if (t.kind == TermKind::kChars) {
    CharsTermBlock(t, row, first, m, n);
    return;
  }
  if (t.kind == TermKind::kIsNull) {
    const uint8_t neg = t.negate ? 1 : 0;
    const uint8_t* valid = t.column.validity;
    if (valid == nullptr) {
      ConstantBlock(neg, nullptr, first, m, n);  // never null
      return;
    }
    valid += row;
    if (first) {
      KERNELS_SIMD
      for (int64_t i = 0; i < n; ++i) m[i] = static_cast<uint8_t>(valid[i] == 0) ^ neg;
    } else {
      KERNELS_SIMD
      for (int64_t i = 0; i < n; ++i) m[i] &= static_cast<uint8_t>(valid[i] == 0) ^ neg;
    }
    return;
  }
  if (t.as_float) {
    switch (t.column.type) {
      case PhysType::kInt8: FloatTermBlock<int8_t>(t, row, first, m, n); return;
      case PhysType::kInt16: FloatTermBlock<int16_t>(t, row, first, m, n); return;
      case PhysType::kInt32: FloatTermBlock<int32_t>(t, row, first, m, n); return;
      case PhysType::kInt64: FloatTermBlock<int64_t>(t, row, first, m, n); return;
      case PhysType::kFloat32: FloatTermBlock<float>(t, row, first, m, n); return;
      case PhysType::kFloat64: FloatTermBlock<double>(t, row, first, m, n); return;
      default: return;
    }
  }
  switch (t.column.type) {
    case PhysType::kInt8: IntTermBlock<int8_t>(t, row, first, m, n); return;
    case PhysType::kInt16: IntTermBlock<int16_t>(t, row, first, m, n); return;
    case PhysType::kInt32: IntTermBlock<int32_t>(t, row, first, m, n); return;
    case PhysType::kInt64: IntTermBlock<int64_t>(t, row, first, m, n); return;
    default: return;
  }
}

// m[i] = 1 where a kPredicate plan is true for row + i, else 0; n <= kScanBlock.
KERNELS_BLOCK_INLINE void PredicateBlock(const ScanPlan& plan, int64_t row, uint8_t* m, int64_t n) {
  for (int32_t k = 0; k < plan.terms; ++k) TermBlock(plan.term[k], row, k == 0, m, n);
}

KERNELS_BLOCK_INLINE int64_t CountBlock(const uint8_t* __restrict__ m, int64_t n) {
  int32_t count = 0;
  KERNELS_SIMD_REDUCE(reduction(+ : count))
  for (int64_t i = 0; i < n; ++i) count += m[i];
  return count;
}

// Set bytes of m[0, n), any n.
inline int64_t CountNonZeroBlock(const uint8_t* __restrict__ m, int64_t n) {
  int32_t count = 0;
  KERNELS_SIMD_REDUCE(reduction(+ : count))
  for (int64_t i = 0; i < n; ++i) count += m[i] != 0 ? 1 : 0;
  return count;
}

// Writes first + i for each i < n (<= kScanBlock) with m[i] != 0, in order,
// to out: branch-free into a local buffer, then copied.
inline void CompactBlockInto(const uint8_t* __restrict__ m, int64_t first, int64_t n, int64_t* __restrict__ out) {
  int64_t local[kScanBlock];
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) {
    local[k] = first + i;
    k += m[i] != 0 ? 1 : 0;
  }
  if (k > 0) std::memcpy(out, local, static_cast<size_t>(k) * sizeof(int64_t));  // `out` may be null for none
}

// Moments of x[0, n) where valid (valid null: all). Finite values: two passes
// over values shifted by the block's first value c (so that the sums lose
// nothing to a large common offset): sums of x and of x - c, count, min and
// max; then the central moments from (x - c) - mean(x - c). A block holding
// an infinity or NaN (a sum is not finite) merges value by value instead, as
// the row-at-a-time path does.
template <typename T>
inline Moments MomentsBlockOf(const T* __restrict__ x, const uint8_t* __restrict__ valid, int64_t n) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  int64_t at = 0;  // the first valid row
  if (valid != nullptr) {
    while (at < n && valid[at] == 0) ++at;
  }
  Moments out;
  if (at == n) return out;
  const double c = static_cast<double>(x[at]);
  int32_t count = 0;
  double sum = 0, shifted = 0, mn = kInf, mx = -kInf;
  if (valid == nullptr) {
    KERNELS_SIMD_REDUCE(reduction(+ : sum, shifted) reduction(min : mn) reduction(max : mx))
    for (int64_t i = 0; i < n; ++i) {
      const double v = static_cast<double>(x[i]);
      sum += v;
      shifted += v - c;
      mn = v < mn ? v : mn;
      mx = v > mx ? v : mx;
    }
    count = static_cast<int32_t>(n);
  } else {
    KERNELS_SIMD_REDUCE(reduction(+ : sum, shifted, count) reduction(min : mn) reduction(max : mx))
    for (int64_t i = 0; i < n; ++i) {
      const bool ok = valid[i] != 0;
      const double v = static_cast<double>(x[i]);
      sum += ok ? v : 0.0;
      shifted += ok ? v - c : 0.0;
      count += ok ? 1 : 0;
      mn = ok && v < mn ? v : mn;
      mx = ok && v > mx ? v : mx;
    }
  }
  if (!(sum - sum == 0.0) || !(shifted - shifted == 0.0)) {
    for (int64_t i = 0; i < n; ++i) {
      if (valid != nullptr && valid[i] == 0) continue;
      Moments one;
      const double v = static_cast<double>(x[i]);
      one.count = 1;
      one.sum = one.min = one.max = one.mean = v;
      out = MergeMoments(out, one);
    }
    return out;
  }
  const double shifted_mean = shifted / count;
  double m2 = 0, m3 = 0, m4 = 0;
  if (valid == nullptr) {
    KERNELS_SIMD_REDUCE(reduction(+ : m2, m3, m4))
    for (int64_t i = 0; i < n; ++i) {
      const double d = (static_cast<double>(x[i]) - c) - shifted_mean;
      const double d2 = d * d;
      m2 += d2;
      m3 += d2 * d;
      m4 += d2 * d2;
    }
  } else {
    KERNELS_SIMD_REDUCE(reduction(+ : m2, m3, m4))
    for (int64_t i = 0; i < n; ++i) {
      const double d = valid[i] != 0 ? (static_cast<double>(x[i]) - c) - shifted_mean : 0.0;
      const double d2 = d * d;
      m2 += d2;
      m3 += d2 * d;
      m4 += d2 * d2;
    }
  }
  out.count = count;
  out.sum = sum;
  out.min = mn;
  out.max = mx;
  out.mean = c + shifted_mean;
  out.m2 = m2;
  out.m3 = m3;
  out.m4 = m4;
  return out;
}

// Moments of a kValue plan's column over rows [row, row + n).
inline Moments ValueMomentsBlock(const ScanPlan& plan, int64_t row, int64_t n) {
  const ColumnView& c = plan.term[0].column;
  const uint8_t* valid = c.validity == nullptr ? nullptr : c.validity + row;
  switch (c.type) {
    case PhysType::kInt8: return MomentsBlockOf(static_cast<const int8_t*>(c.data) + row, valid, n);
    case PhysType::kInt16: return MomentsBlockOf(static_cast<const int16_t*>(c.data) + row, valid, n);
    case PhysType::kInt32: return MomentsBlockOf(static_cast<const int32_t*>(c.data) + row, valid, n);
    case PhysType::kInt64: return MomentsBlockOf(static_cast<const int64_t*>(c.data) + row, valid, n);
    case PhysType::kFloat32: return MomentsBlockOf(static_cast<const float*>(c.data) + row, valid, n);
    case PhysType::kFloat64: return MomentsBlockOf(static_cast<const double*>(c.data) + row, valid, n);
    default: return Moments{};
  }
}

// Rows [begin, end) of a plan cut into blocks of kScanBlock rows: block b
// covers rows [begin + b * kScanBlock, ...) up to end.
struct PlanBlocks {
  const ScanPlan* plan;
  int64_t begin, end;
  int64_t first(int64_t b) const { return begin + b * kScanBlock; }
  int64_t size(int64_t b) const {
    const int64_t r = first(b);
    return end - r < kScanBlock ? end - r : kScanBlock;
  }
  static int64_t Count(int64_t begin, int64_t end) { return (end - begin + kScanBlock - 1) / kScanBlock; }
};

}  // namespace kernels::detail
