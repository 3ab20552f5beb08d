// The algorithms behind Ops, written once as templates over a Thrust execution
// policy. Included by exactly one translation unit per backend (host_ops.cc,
// cuda_ops.cu), which instantiates them with its policy.

#include <thrust/copy.h>
#include <thrust/count.h>
#include <thrust/fill.h>
#include <thrust/for_each.h>
#include <thrust/functional.h>
#include <thrust/gather.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/reduce.h>
#include <thrust/scan.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include "kernels/column.h"
#include "kernels/detail/ops.h"
#include "kernels/detail/scan_blocks.h"
#include "kernels/detail/expr_eval.h"
#include "kernels/groupby.h"
#include "kernels/hd.h"
#include "kernels/histogram.h"
#include "kernels/memory.h"
#include "kernels/random.h"
#include "kernels/sort.h"
#include "kernels/statistics.h"

namespace kernels::detail {

using RowIterator = thrust::counting_iterator<int64_t>;

struct PredicateToByte {
  ProgramView p;
  KERNELS_HD uint8_t operator()(int64_t row) const { return EvaluatePredicate(p, row) ? 1 : 0; }
};

struct PredicateTrue {
  ProgramView p;
  KERNELS_HD bool operator()(int64_t row) const { return EvaluatePredicate(p, row); }
};

struct NonZero {
  KERNELS_HD bool operator()(uint8_t v) const { return v != 0; }
};

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
struct PlanToByte {
  const ScanPlan* plan;
  KERNELS_HD uint8_t operator()(int64_t row) const { return PlanPredicateRow(*plan, row) ? 1 : 0; }
};

struct PlanTrue {
  const ScanPlan* plan;
  KERNELS_HD bool operator()(int64_t row) const { return PlanPredicateRow(*plan, row); }
};

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

// ... and by blocks of kScanBlock rows (host; scan_blocks.h). Block b covers
// rows [begin + b * kScanBlock, ...) up to end.
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

struct PlanMaskBlock {
  PlanBlocks blocks;
  uint8_t* mask;  // mask[0] is row `begin`
  void operator()(int64_t b) const {
    PredicateBlock(*blocks.plan, blocks.first(b), mask + b * kScanBlock, blocks.size(b));
  }
};

struct PlanCountBlock {
  PlanBlocks blocks;
  int64_t operator()(int64_t b) const {
    uint8_t m[kScanBlock];
    const int64_t n = blocks.size(b);
    PredicateBlock(*blocks.plan, blocks.first(b), m, n);
    return CountBlock(m, n);
  }
};

struct MaskBlockCount {
  const uint8_t* mask;
  int64_t n;
  int64_t operator()(int64_t b) const {
    const int64_t r = b * kScanBlock;
    return CountNonZeroBlock(mask + r, n - r < kScanBlock ? n - r : kScanBlock);
  }
};

struct CompactBlock {
  const uint8_t* mask;
  int64_t begin, n;
  const int64_t* offsets;  // of each block's first index in out
  int64_t* out;
  void operator()(int64_t b) const {
    const int64_t r = b * kScanBlock;
    CompactBlockInto(mask + r, begin + r, n - r < kScanBlock ? n - r : kScanBlock, out + offsets[b]);
  }
};

struct PlanMomentsBlock {
  PlanBlocks blocks;
  Moments operator()(int64_t b) const { return ValueMomentsBlock(*blocks.plan, blocks.first(b), blocks.size(b)); }
};

struct GatherBytes {
  const char* src;
  int32_t width;
  const int64_t* idx;
  char* dst;
  KERNELS_HD void operator()(int64_t i) const {
    const char* s = src + idx[i] * static_cast<int64_t>(width);
    char* d = dst + i * static_cast<int64_t>(width);
    for (int32_t k = 0; k < width; ++k) d[k] = s[k];
  }
};

struct StringLength {
  const int64_t* offsets;
  const int64_t* idx;
  KERNELS_HD int64_t operator()(int64_t i) const { return offsets[idx[i] + 1] - offsets[idx[i]]; }
};

struct CopyString {
  const int64_t* src_offsets;
  const char* src_chars;
  const int64_t* idx;
  const int64_t* dst_offsets;
  char* dst_chars;
  KERNELS_HD void operator()(int64_t i) const {
    const char* s = src_chars + src_offsets[idx[i]];
    const int64_t n = dst_offsets[i + 1] - dst_offsets[i];
    char* d = dst_chars + dst_offsets[i];
    for (int64_t k = 0; k < n; ++k) d[k] = s[k];
  }
};

struct AddDelta {
  int64_t delta;
  KERNELS_HD int64_t operator()(int64_t v) const { return v + delta; }
};

struct RandomValid {
  RandomSpec spec;
  KERNELS_HD uint8_t operator()(int64_t row) const {
    return RandomUnit(RandomBits(spec.seed, spec.stream, row, 0)) >= spec.null_fraction ? 1 : 0;
  }
};

// Integer bounds of [min, max] within [lo, hi], as a start and span.
struct IntRange {
  int64_t start;
  uint64_t span;  // values drawn are start + bits % span; 0 means the full 64-bit range
};

inline IntRange MakeIntRange(double min, double max, double lo, double hi) {
  double a = min < lo ? lo : (min > hi ? hi : min);
  double b = max < lo ? lo : (max > hi ? hi : max);
  if (b < a) b = a;
  const int64_t ia = static_cast<int64_t>(std::ceil(a));
  const int64_t ib = static_cast<int64_t>(std::floor(b));
  IntRange r;
  r.start = ia;
  r.span = ib >= ia ? static_cast<uint64_t>(ib) - static_cast<uint64_t>(ia) + 1 : 1;
  return r;
}

template <typename T>
struct RandomInt {
  RandomSpec spec;
  IntRange range;
  KERNELS_HD T operator()(int64_t row) const {
    const uint64_t bits = RandomBits(spec.seed, spec.stream, row, 1);
    const uint64_t off = range.span == 0 ? bits : bits % range.span;
    return static_cast<T>(static_cast<int64_t>(static_cast<uint64_t>(range.start) + off));
  }
};

template <typename T>
struct RandomReal {
  RandomSpec spec;
  KERNELS_HD T operator()(int64_t row) const {
    const double u = RandomUnit(RandomBits(spec.seed, spec.stream, row, 1));
#if defined(__CUDA_ARCH__)
    // Round the product and the sum separately, as the host does: nvcc would
    // fuse them into one fma and draw different values than the host.
    return static_cast<T>(__dadd_rn(spec.min, __dmul_rn(spec.max - spec.min, u)));
#else
    return static_cast<T>(spec.min + (spec.max - spec.min) * u);
#endif
  }
};

struct RandomLength {
  RandomSpec spec;
  IntRange range;
  KERNELS_HD int64_t operator()(int64_t row) const {
    return range.start + static_cast<int64_t>(RandomBits(spec.seed, spec.stream, row, 1) % range.span);
  }
};

// Letters and digits; one 64-bit draw yields ten characters.
struct RandomText {
  RandomSpec spec;
  const int64_t* offsets;  // null for fixed-width rows
  int32_t width;
  char* chars;
  KERNELS_HD void operator()(int64_t row) const {
    int64_t begin, n;
    if (offsets != nullptr) {
      begin = offsets[row];
      n = offsets[row + 1] - begin;
    } else {
      begin = row * static_cast<int64_t>(width);
      const IntRange r = {static_cast<int64_t>(spec.min), static_cast<uint64_t>(spec.max - spec.min) + 1};
      n = r.start + static_cast<int64_t>(RandomBits(spec.seed, spec.stream, row, 1) % r.span);
    }
    const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t bits = 0;
    for (int64_t k = 0; k < n; ++k) {
      if (k % 10 == 0) bits = RandomBits(spec.seed, spec.stream, row, 2 + k / 10);
      chars[begin + k] = alphabet[bits % 62];
      bits /= 62;
    }
    if (offsets == nullptr) {
      for (int64_t k = n; k < width; ++k) chars[begin + k] = 0;
    }
  }
};

// kBlocked: run scan plans by blocks of rows (the host), else row by row.
template <bool kBlocked, typename Policy>
void EvaluateMaskImpl(Policy&& policy, const ProgramView& p, int64_t begin, int64_t end,
                      uint8_t* mask) {
  if (p.plan_kind == PlanKind::kPredicate) {
    if constexpr (kBlocked) {
      thrust::for_each_n(policy, RowIterator(0), PlanBlocks::Count(begin, end),
                         PlanMaskBlock{{p.plan, begin, end}, mask});
    } else {
      thrust::transform(policy, RowIterator(begin), RowIterator(end), mask, PlanToByte{p.plan});
    }
    return;
  }
  thrust::transform(policy, RowIterator(begin), RowIterator(end), mask, PredicateToByte{p});
}

template <typename Policy>
int64_t CountNonZeroImpl(Policy&& policy, const uint8_t* mask, int64_t n) {
  return thrust::count_if(policy, mask, mask + n, NonZero{});
}

template <bool kBlocked, typename Policy>
void CompactIndicesImpl(Policy&& policy, const uint8_t* mask, int64_t begin, int64_t n, int64_t* out) {
  if constexpr (kBlocked) {
    // Count each block's set bytes, scan the counts, then each block writes
    // its rows from its offset on.
    const int64_t blocks = (n + kScanBlock - 1) / kScanBlock;
    std::vector<int64_t> offsets(static_cast<size_t>(blocks));
    thrust::transform(policy, RowIterator(0), RowIterator(blocks), offsets.data(), MaskBlockCount{mask, n});
    int64_t total = 0;
    for (int64_t& o : offsets) {
      const int64_t c = o;
      o = total;
      total += c;
    }
    thrust::for_each_n(policy, RowIterator(0), blocks, CompactBlock{mask, begin, n, offsets.data(), out});
  } else {
    thrust::copy_if(policy, RowIterator(begin), RowIterator(begin + n), mask, out, NonZero{});
  }
}

template <bool kBlocked, typename Policy>
int64_t CountTrueImpl(Policy&& policy, const ProgramView& p, int64_t begin, int64_t end) {
  if (p.plan_kind == PlanKind::kPredicate) {
    if constexpr (kBlocked) {
      return thrust::transform_reduce(policy, RowIterator(0), RowIterator(PlanBlocks::Count(begin, end)),
                                      PlanCountBlock{{p.plan, begin, end}}, int64_t{0},
                                      thrust::plus<int64_t>());
    } else {
      return thrust::count_if(policy, RowIterator(begin), RowIterator(end), PlanTrue{p.plan});
    }
  }
  return thrust::count_if(policy, RowIterator(begin), RowIterator(end), PredicateTrue{p});
}

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

template <typename Policy>
void GatherFixedImpl(Policy&& policy, const void* src, int32_t width, const int64_t* idx, int64_t n,
                     void* dst) {
  switch (width) {
    case 1:
      thrust::gather(policy, idx, idx + n, static_cast<const uint8_t*>(src), static_cast<uint8_t*>(dst));
      return;
    case 2:
      thrust::gather(policy, idx, idx + n, static_cast<const uint16_t*>(src), static_cast<uint16_t*>(dst));
      return;
    case 4:
      thrust::gather(policy, idx, idx + n, static_cast<const uint32_t*>(src), static_cast<uint32_t*>(dst));
      return;
    case 8:
      thrust::gather(policy, idx, idx + n, static_cast<const uint64_t*>(src), static_cast<uint64_t*>(dst));
      return;
    default:
      thrust::for_each_n(policy, RowIterator(0), n,
                         GatherBytes{static_cast<const char*>(src), width, idx, static_cast<char*>(dst)});
  }
}

template <typename Policy>
void GatherOffsetsImpl(Policy&& policy, const int64_t* src_offsets, const int64_t* idx, int64_t n,
                       int64_t* dst_offsets) {
  thrust::transform(policy, RowIterator(0), RowIterator(n), dst_offsets, StringLength{src_offsets, idx});
  // dst_offsets[n] is scanned too: set it to 0 so it becomes the total.
  thrust::fill_n(policy, dst_offsets + n, 1, int64_t{0});
  thrust::exclusive_scan(policy, dst_offsets, dst_offsets + n + 1, dst_offsets);
}

template <typename Policy>
void GatherCharsImpl(Policy&& policy, const int64_t* src_offsets, const char* src_chars,
                     const int64_t* idx, int64_t n, const int64_t* dst_offsets, char* dst_chars) {
  thrust::for_each_n(policy, RowIterator(0), n,
                     CopyString{src_offsets, src_chars, idx, dst_offsets, dst_chars});
}

template <typename Policy>
void AddToOffsetsImpl(Policy&& policy, int64_t* offsets, int64_t n, int64_t delta) {
  thrust::transform(policy, offsets, offsets + n, offsets, AddDelta{delta});
}

template <typename Policy>
void RandomValidityImpl(Policy&& policy, int64_t n, const RandomSpec& spec, uint8_t* validity) {
  thrust::transform(policy, RowIterator(0), RowIterator(n), validity, RandomValid{spec});
}

template <typename Policy>
void RandomFixedImpl(Policy&& policy, PhysType type, int32_t width, int64_t n, const RandomSpec& spec,
                     void* dst) {
  const RowIterator first(0), last(n);
  switch (type) {
    case PhysType::kInt8:
      thrust::transform(policy, first, last, static_cast<int8_t*>(dst),
                        RandomInt<int8_t>{spec, MakeIntRange(spec.min, spec.max, -128, 127)});
      return;
    case PhysType::kInt16:
      thrust::transform(policy, first, last, static_cast<int16_t*>(dst),
                        RandomInt<int16_t>{spec, MakeIntRange(spec.min, spec.max, -32768, 32767)});
      return;
    case PhysType::kInt32:
      thrust::transform(policy, first, last, static_cast<int32_t*>(dst),
                        RandomInt<int32_t>{spec, MakeIntRange(spec.min, spec.max, -2147483648.0, 2147483647.0)});
      return;
    case PhysType::kInt64:
      thrust::transform(policy, first, last, static_cast<int64_t*>(dst),
                        RandomInt<int64_t>{spec, MakeIntRange(spec.min, spec.max, -9.2e18, 9.2e18)});
      return;
    case PhysType::kFloat32:
      thrust::transform(policy, first, last, static_cast<float*>(dst), RandomReal<float>{spec});
      return;
    case PhysType::kFloat64:
      thrust::transform(policy, first, last, static_cast<double*>(dst), RandomReal<double>{spec});
      return;
    case PhysType::kFixedChars: {
      RandomSpec s = spec;
      const IntRange r = MakeIntRange(spec.min, spec.max, 0, width);
      s.min = static_cast<double>(r.start);
      s.max = static_cast<double>(r.start + static_cast<int64_t>(r.span) - 1);
      thrust::for_each_n(policy, first, n, RandomText{s, nullptr, width, static_cast<char*>(dst)});
      return;
    }
    case PhysType::kVarChars:
      return;  // RandomOffsets + RandomChars
  }
}

template <typename Policy>
void RandomOffsetsImpl(Policy&& policy, int64_t n, const RandomSpec& spec, int64_t* offsets) {
  thrust::transform(policy, RowIterator(0), RowIterator(n), offsets,
                    RandomLength{spec, MakeIntRange(spec.min, spec.max, 0, 1 << 20)});
  thrust::fill_n(policy, offsets + n, 1, int64_t{0});
  thrust::exclusive_scan(policy, offsets, offsets + n + 1, offsets);
}

template <typename Policy>
void RandomCharsImpl(Policy&& policy, int64_t n, const RandomSpec& spec, const int64_t* offsets,
                     char* chars) {
  thrust::for_each_n(policy, RowIterator(0), n, RandomText{spec, offsets, 0, chars});
}

// ===========================================================================
// The analytical kernels: materialize, sort, group-by, aggregates, histogram.
// Host-only planning (which bit fields go into which radix pass) is plain
// inline code; the per-row work is in the KERNELS_HD functors below, each
// dispatching on PhysType at run time so that one instantiation serves
// every type.

// --- Atomics on both backends ---------------------------------------------

using AtomicWord = unsigned long long;
static_assert(sizeof(AtomicWord) == 8, "64-bit atomics");

// Returns the previous value; the swap happened when it equals `expected`.
KERNELS_HD inline AtomicWord AtomicCas(AtomicWord* p, AtomicWord expected, AtomicWord desired) {
#ifdef __CUDA_ARCH__
  return atomicCAS(p, expected, desired);
#else
  __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
  return expected;
#endif
}

KERNELS_HD inline AtomicWord AtomicAdd(AtomicWord* p, AtomicWord v) {
#ifdef __CUDA_ARCH__
  return atomicAdd(p, v);
#else
  return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
#endif
}

KERNELS_HD inline AtomicWord AtomicRead(const AtomicWord* p) {
#ifdef __CUDA_ARCH__
  return *static_cast<const volatile AtomicWord*>(p);
#else
  return __atomic_load_n(p, __ATOMIC_RELAXED);
#endif
}

KERNELS_HD inline void AtomicWrite(AtomicWord* p, AtomicWord v) {
#ifdef __CUDA_ARCH__
  *static_cast<volatile AtomicWord*>(p) = v;
#else
  __atomic_store_n(p, v, __ATOMIC_RELAXED);
#endif
}

KERNELS_HD inline void AtomicAddDouble(double* p, double v) {
#ifdef __CUDA_ARCH__
  atomicAdd(p, v);
#else
  AtomicWord* w = reinterpret_cast<AtomicWord*>(p);
  AtomicWord old = __atomic_load_n(w, __ATOMIC_RELAXED);
  for (;;) {
    double d;
    std::memcpy(&d, &old, sizeof(d));
    d += v;
    AtomicWord desired;
    std::memcpy(&desired, &d, sizeof(d));
    if (__atomic_compare_exchange_n(w, &old, desired, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return;
  }
#endif
}

// --- Values of a row ------------------------------------------------------

KERNELS_HD inline bool IsStringType(PhysType t) {
  return t == PhysType::kFixedChars || t == PhysType::kVarChars;
}
KERNELS_HD inline bool IsFloatType(PhysType t) { return t == PhysType::kFloat32 || t == PhysType::kFloat64; }

// The bytes of a string row; a charN ends at its first zero byte.
KERNELS_HD inline void StringAt(const ColumnView& c, int64_t row, const char*& s, int64_t& len) {
  if (c.type == PhysType::kVarChars) {
    s = static_cast<const char*>(c.data) + c.offsets[row];
    len = c.offsets[row + 1] - c.offsets[row];
  } else {
    s = static_cast<const char*>(c.data) + row * static_cast<int64_t>(c.width);
    len = 0;
    while (len < c.width && s[len] != 0) ++len;
  }
}

KERNELS_HD inline double NumberAt(const ColumnView& c, int64_t row) {
  switch (c.type) {
    case PhysType::kInt8:
      return static_cast<const int8_t*>(c.data)[row];
    case PhysType::kInt16:
      return static_cast<const int16_t*>(c.data)[row];
    case PhysType::kInt32:
      return static_cast<const int32_t*>(c.data)[row];
    case PhysType::kInt64:
      return static_cast<double>(static_cast<const int64_t*>(c.data)[row]);
    case PhysType::kFloat32:
      return static_cast<const float*>(c.data)[row];
    case PhysType::kFloat64:
      return static_cast<const double*>(c.data)[row];
    default:
      return 0;
  }
}

KERNELS_HD inline int64_t IntegerAt(const ColumnView& c, int64_t row) {
  switch (c.type) {
    case PhysType::kInt8:
      return static_cast<const int8_t*>(c.data)[row];
    case PhysType::kInt16:
      return static_cast<const int16_t*>(c.data)[row];
    case PhysType::kInt32:
      return static_cast<const int32_t*>(c.data)[row];
    case PhysType::kInt64:
      return static_cast<const int64_t*>(c.data)[row];
    default:
      return 0;
  }
}

// Order-preserving unsigned images of floats: NaN (any payload) above +inf,
// -0.0 equal to 0.0.
KERNELS_HD inline uint64_t FloatOrderBits(float x) {
  if (x != x) return 0xFFC00000u;
  if (x == 0.0f) x = 0.0f;
  uint32_t b;
  memcpy(&b, &x, sizeof(b));
  return (b >> 31) != 0 ? static_cast<uint32_t>(~b) : (b | 0x80000000u);
}

KERNELS_HD inline uint64_t DoubleOrderBits(double x) {
  if (x != x) return 0xFFF8000000000000ull;
  if (x == 0.0) x = 0.0;
  uint64_t b;
  memcpy(&b, &x, sizeof(b));
  return (b >> 63) != 0 ? ~b : (b | 0x8000000000000000ull);
}

// The order-preserving unsigned image of a fixed-width value (bytewise for
// charN: bytes [offset, offset + bytes) big-endian, zero after the string's end).
KERNELS_HD inline uint64_t OrderBits(const ColumnView& c, int64_t row, int32_t offset, int32_t bytes) {
  switch (c.type) {
    case PhysType::kInt8:
      return static_cast<uint8_t>(static_cast<const int8_t*>(c.data)[row]) ^ 0x80u;
    case PhysType::kInt16:
      return static_cast<uint16_t>(static_cast<const int16_t*>(c.data)[row]) ^ 0x8000u;
    case PhysType::kInt32:
      return static_cast<uint32_t>(static_cast<const int32_t*>(c.data)[row]) ^ 0x80000000u;
    case PhysType::kInt64:
      return static_cast<uint64_t>(static_cast<const int64_t*>(c.data)[row]) ^ 0x8000000000000000ull;
    case PhysType::kFloat32:
      return FloatOrderBits(static_cast<const float*>(c.data)[row]);
    case PhysType::kFloat64:
      return DoubleOrderBits(static_cast<const double*>(c.data)[row]);
    case PhysType::kFixedChars: {
      const unsigned char* p =
          static_cast<const unsigned char*>(c.data) + row * static_cast<int64_t>(c.width);
      for (int32_t k = 0; k < offset; ++k) {
        if (p[k] == 0) return 0;
      }
      uint64_t v = 0;
      bool ended = false;
      for (int32_t k = 0; k < bytes; ++k) {
        const unsigned b = ended ? 0u : p[offset + k];
        ended = ended || b == 0;
        v = (v << 8) | b;
      }
      return v;
    }
    case PhysType::kVarChars:
      return 0;
  }
  return 0;
}

// Whether two rows hold equal keys: null == null, NaN == NaN, -0.0 == 0.0.
KERNELS_HD inline bool RowKeysEqual(const ColumnView& c, int64_t a, int64_t b) {
  const bool va = c.is_valid(a), vb = c.is_valid(b);
  if (va != vb) return false;
  if (!va) return true;
  if (IsStringType(c.type)) {
    const char *sa, *sb;
    int64_t na, nb;
    StringAt(c, a, sa, na);
    StringAt(c, b, sb, nb);
    return CompareBytes(sa, na, sb, nb) == 0;
  }
  return OrderBits(c, a, 0, 0) == OrderBits(c, b, 0, 0);
}

// --- Sort keys as packed bit fields ---------------------------------------

// A column's key is cut into bit fields, most significant first: a null flag
// (nullable columns), then the value (charN: 8-byte chunks). Fields of
// neighbouring keys share a 32- or 64-bit radix word when they fit.
enum class FieldKind : uint8_t {
  kValue,  // OrderBits of the value; 0 for a null row
  kNull,   // 1 for a valid row, 0 for a null one (nulls first)
  kPlain,  // a non-negative integer below 2^bits, as it is
};

struct KeyField {
  ColumnView col;
  const int64_t* index = nullptr;  // the row of sort position p: index ? index[p] : p
  int32_t byte_offset = 0;         // charN: the chunk's first byte
  FieldKind kind = FieldKind::kValue;
  uint8_t bits = 0;
  uint8_t shift = 0;  // position in the packed word
  bool descending = false;
};

constexpr int kMaxFields = 8;
constexpr int32_t kMaxRadixCharWidth = 32;  // wider charN sort by comparison

struct RadixWord {
  KeyField fields[kMaxFields];
  int32_t count = 0;
  int32_t bits = 0;
};

KERNELS_HD inline uint64_t FieldBits(const KeyField& f, int64_t p) {
  const int64_t row = f.index != nullptr ? f.index[p] : p;
  uint64_t v;
  switch (f.kind) {
    case FieldKind::kNull:
      v = f.col.is_valid(row) ? 1 : 0;
      break;
    case FieldKind::kPlain:
      v = static_cast<uint64_t>(IntegerAt(f.col, row));
      break;
    default:
      v = f.col.is_valid(row) ? OrderBits(f.col, row, f.byte_offset, f.bits / 8) : 0;
      break;
  }
  if (f.descending) v = ~v & (f.bits >= 64 ? ~uint64_t{0} : ((uint64_t{1} << f.bits) - 1));
  return v;
}

KERNELS_HD inline uint64_t PackWord(const RadixWord& w, int64_t p) {
  uint64_t key = 0;
  for (int32_t k = 0; k < w.count; ++k) key |= FieldBits(w.fields[k], p) << w.fields[k].shift;
  return key;
}

// The packed word of sort position perm[i] (or i when perm is null).
template <typename K>
struct PackKeys {
  RadixWord word;
  const int64_t* perm;
  KERNELS_HD K operator()(int64_t i) const {
    return static_cast<K>(PackWord(word, perm != nullptr ? perm[i] : i));
  }
};

// A sort position with the first 8 bytes of its string key (big-endian,
// zero-padded; 0 for null), so that a comparison sort mostly compares
// words it holds and reads the strings only when the prefixes tie.
struct PrefixedPosition {
  uint64_t prefix;
  int64_t pos;
};

KERNELS_HD inline uint64_t StringPrefix(const ColumnView& col, int64_t row) {
  if (!col.is_valid(row)) return 0;
  const char* s;
  int64_t len;
  StringAt(col, row, s, len);
  uint64_t v = 0;
  for (int k = 0; k < 8; ++k) v = (v << 8) | (k < len ? static_cast<unsigned char>(s[k]) : 0u);
  return v;
}

struct MakePrefixed {
  ColumnView col;
  const int64_t* index;
  const int64_t* perm;
  KERNELS_HD PrefixedPosition operator()(int64_t i) const {
    const int64_t p = perm[i];
    return PrefixedPosition{StringPrefix(col, index != nullptr ? index[p] : p), p};
  }
};

struct PositionOf {
  KERNELS_HD int64_t operator()(const PrefixedPosition& k) const { return k.pos; }
};

// Orders positions by a string key: null < strings (bytewise), or reversed.
struct StringKeyLess {
  ColumnView col;
  const int64_t* index;
  bool descending;
  KERNELS_HD bool operator()(const PrefixedPosition& a, const PrefixedPosition& b) const {
    if (a.prefix != b.prefix) return descending ? a.prefix > b.prefix : a.prefix < b.prefix;
    const int64_t ra = index != nullptr ? index[a.pos] : a.pos;
    const int64_t rb = index != nullptr ? index[b.pos] : b.pos;
    const bool va = col.is_valid(ra), vb = col.is_valid(rb);
    if (va != vb) return descending ? va : vb;
    if (!va) return false;
    const char *sa, *sb;
    int64_t na, nb;
    StringAt(col, ra, sa, na);
    StringAt(col, rb, sb, nb);
    const int c = CompareBytes(sa, na, sb, nb);
    return descending ? c > 0 : c < 0;
  }
};

// One key of an internal sort: `col` read at index[p] (or p) for sort
// position p. known_bits > 0: a non-negative integer column below
// 2^known_bits (group ids), sorted by its plain value.
struct SortColumn {
  ColumnView col;
  const int64_t* index = nullptr;
  bool descending = false;
  int32_t known_bits = 0;
};

// One stable sort of a plan: a radix word, or a comparison on a string key.
struct SortPass {
  bool radix = true;
  RadixWord word;
  SortColumn compare;
};

inline bool IsRadixKey(const ColumnView& c) {
  return c.type != PhysType::kVarChars && !(c.type == PhysType::kFixedChars && c.width > kMaxRadixCharWidth);
}

// The passes that sort by `cols` (the first most significant), least
// significant pass first, as LSD radix sort needs them.
inline std::vector<SortPass> PlanSort(const std::vector<SortColumn>& cols) {
  std::vector<SortPass> passes;
  SortPass cur;
  auto flush = [&] {
    if (cur.word.count > 0) passes.push_back(cur);
    cur = SortPass();
  };
  for (auto it = cols.rbegin(); it != cols.rend(); ++it) {
    const SortColumn& c = *it;
    if (c.known_bits == 0 && !IsRadixKey(c.col)) {
      flush();
      SortPass p;
      p.radix = false;
      p.compare = c;
      passes.push_back(p);
      continue;
    }
    std::vector<KeyField> fields;  // least significant first
    KeyField f;
    f.col = c.col;
    f.index = c.index;
    f.descending = c.descending;
    if (c.known_bits > 0) {
      f.kind = FieldKind::kPlain;
      f.bits = static_cast<uint8_t>(c.known_bits);
      fields.push_back(f);
    } else if (c.col.type == PhysType::kFixedChars) {
      for (int32_t off = (c.col.width - 1) / 8 * 8; off >= 0 && c.col.width > 0; off -= 8) {
        f.byte_offset = off;
        f.bits = static_cast<uint8_t>(8 * (c.col.width - off < 8 ? c.col.width - off : 8));
        fields.push_back(f);
      }
    } else {
      f.bits = static_cast<uint8_t>(8 * ValueWidth(c.col.type, c.col.width));
      fields.push_back(f);
    }
    if (c.known_bits == 0 && c.col.validity != nullptr) {
      f.kind = FieldKind::kNull;
      f.byte_offset = 0;
      f.bits = 1;
      fields.push_back(f);
    }
    for (KeyField& field : fields) {
      if (cur.word.bits + field.bits > 64 || cur.word.count == kMaxFields) flush();
      field.shift = static_cast<uint8_t>(cur.word.bits);
      cur.word.fields[cur.word.count++] = field;
      cur.word.bits += field.bits;
    }
  }
  flush();
  return passes;
}

inline size_t WordBytes(const SortPass& p) { return p.word.bits <= 32 ? 4 : 8; }

// A stable sort of (keys, values) pairs by key; radix sort on both backends.
template <typename D, typename K>
void StableSortPairs(const D& be, K* keys, int64_t* values, int64_t n, const Exec& exec) {
  if (n <= 1) return;
  auto scope = be.sort_scope(exec, static_cast<size_t>(n) * (sizeof(K) + sizeof(int64_t)));
  thrust::stable_sort_by_key(scope.policy(), keys, keys + n, values);
}

// Sorts the sort positions (or rows) in `perm` by `plan`, stably. Returns
// the buffer that holds the packed words of the last pass (when radix).
template <typename D>
Buffer RunSortPlan(const D& be, const std::vector<SortPass>& plan, int64_t* perm, int64_t n,
                   const Exec& exec) {
  size_t word_bytes = 0;
  for (const SortPass& p : plan) {
    if (p.radix && WordBytes(p) > word_bytes) word_bytes = WordBytes(p);
  }
  Buffer words(static_cast<size_t>(n) * word_bytes, exec);
  for (const SortPass& p : plan) {
    if (!p.radix) {
      Buffer keyed(static_cast<size_t>(n) * sizeof(PrefixedPosition), exec);
      PrefixedPosition* k = keyed.as<PrefixedPosition>();
      thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), k,
                        MakePrefixed{p.compare.col, p.compare.index, perm});
      {
        auto scope = be.sort_scope(exec, keyed.size());
        thrust::stable_sort(scope.policy(), k, k + n,
                            StringKeyLess{p.compare.col, p.compare.index, p.compare.descending});
      }
      thrust::transform(be.policy(exec), k, k + n, perm, PositionOf{});
    } else if (WordBytes(p) == 4) {
      uint32_t* k = words.as<uint32_t>();
      thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), k, PackKeys<uint32_t>{p.word, perm});
      StableSortPairs(be, k, perm, n, exec);
    } else {
      uint64_t* k = words.as<uint64_t>();
      thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), k, PackKeys<uint64_t>{p.word, perm});
      StableSortPairs(be, k, perm, n, exec);
    }
  }
  return words;
}

// `rows` copied, or 0..n-1.
template <typename D>
Buffer RowsOrIota(const D& be, const int64_t* rows, int64_t n, const Exec& exec) {
  Buffer perm(static_cast<size_t>(n) * sizeof(int64_t), exec);
  if (rows != nullptr) {
    be.CopyOnDevice(perm.data(), rows, static_cast<size_t>(n) * sizeof(int64_t), exec);
  } else {
    thrust::sequence(be.policy(exec), perm.as<int64_t>(), perm.as<int64_t>() + n);
  }
  return perm;
}

template <typename D>
Buffer SortOrderAlgo(const D& be, const std::vector<SortKey>& keys, const int64_t* rows, int64_t n,
                     const Exec& exec) {
  if (n <= 0) return Buffer();
  Buffer perm = RowsOrIota(be, rows, n, exec);
  std::vector<SortColumn> cols;
  for (const SortKey& k : keys) {
    SortColumn c;
    c.col = k.column;
    c.descending = k.descending;
    cols.push_back(c);
  }
  RunSortPlan(be, PlanSort(cols), perm.as<int64_t>(), n, exec);
  return perm;
}

// --- Group-by -------------------------------------------------------------

// flags[i] = 1 where sorted word i starts a new group.
template <typename K>
struct WordChanged {
  const K* words;
  KERNELS_HD uint8_t operator()(int64_t i) const { return i == 0 || words[i] != words[i - 1] ? 1 : 0; }
};

// flags[i] |= 1 where the key of row perm[i] differs from that of perm[i - 1].
struct MarkKeyChange {
  ColumnView col;
  const int64_t* perm;
  uint8_t* flags;
  KERNELS_HD void operator()(int64_t i) const {
    if (i == 0) {
      flags[0] = 1;
    } else if (!RowKeysEqual(col, perm[i - 1], perm[i])) {
      flags[i] = 1;
    }
  }
};

// The group-start flag of position i, except position 0: scanned into ids.
struct LaterStart {
  const uint8_t* flags;
  KERNELS_HD int32_t operator()(int64_t i) const { return i > 0 && flags[i] != 0 ? 1 : 0; }
};

constexpr AtomicWord kEmptySlot = ~AtomicWord{0};

KERNELS_HD inline uint64_t HashWord(uint64_t k) {
  k ^= k >> 33;
  k *= 0xFF51AFD7ED558CCDull;
  k ^= k >> 33;
  k *= 0xC4CEB9FE1A85EC53ull;
  k ^= k >> 33;
  return k;
}

// Indices into HashInsert::status.
constexpr int kHashDistinct = 0;
constexpr int kHashOverflow = 1;
constexpr int kHashSentinel = 2;
constexpr int kHashNull = 3;

// Inserts the packed key of row rows[i * stride] (or i * stride) into an
// open-addressing table of mask + 1 slots (linear probing, CAS on 64-bit
// slots); writes the slot to slot_of[i * stride] when slot_of is given. Two
// keys live outside the table: the one equal to the empty-slot marker
// (possible only for a 64-bit word) gets slot mask + 1, and a row that is
// null in `nulls` (a nullable key whose null flag did not fit in the word)
// gets slot mask + 2. Counts distinct keys; past `limit` of them, or when
// probing finds no slot, raises the overflow flag, and every row stops early.
struct HashInsert {
  RadixWord word;
  // 8 or 4: the word is one non-null, ascending int64 or int32 field at
  // shift 0, read directly rather than through PackWord; 0: PackWord.
  int32_t direct;
  const uint8_t* nulls;
  const int64_t* rows;
  int64_t stride;
  AtomicWord* table;
  uint64_t mask;
  uint32_t* slot_of;
  AtomicWord* status;
  AtomicWord limit;
  KERNELS_HD void operator()(int64_t i) const {
    const int64_t pos = i * stride;
    const int64_t row = rows != nullptr ? rows[pos] : pos;
    if (nulls != nullptr && nulls[row] == 0) {
      AtomicWrite(&status[kHashNull], 1);
      if (slot_of != nullptr) slot_of[pos] = static_cast<uint32_t>(mask + 2);
      return;
    }
    const ColumnView& c = word.fields[0].col;
    const AtomicWord key =
        direct == 8   ? static_cast<uint64_t>(static_cast<const int64_t*>(c.data)[row]) ^ 0x8000000000000000ull
        : direct == 4 ? static_cast<uint64_t>(static_cast<uint32_t>(static_cast<const int32_t*>(c.data)[row]) ^
                                              0x80000000u)
                      : PackWord(word, row);
    if (key == kEmptySlot) {
      AtomicWrite(&status[kHashSentinel], 1);
      if (slot_of != nullptr) slot_of[pos] = static_cast<uint32_t>(mask + 1);
      return;
    }
    if (AtomicRead(&status[kHashOverflow]) != 0) return;
    uint64_t h = HashWord(key) & mask;
    for (uint64_t probe = 0; probe <= mask; ++probe) {
      AtomicWord cur = table[h];
      if (cur == kEmptySlot) {
        cur = AtomicCas(&table[h], kEmptySlot, key);
        if (cur == kEmptySlot) {
          if (AtomicAdd(&status[kHashDistinct], 1) + 1 > limit) AtomicWrite(&status[kHashOverflow], 1);
          cur = key;
        }
      }
      if (cur == key) {
        if (slot_of != nullptr) slot_of[pos] = static_cast<uint32_t>(h);
        return;
      }
      h = (h + 1) & mask;
    }
    AtomicWrite(&status[kHashOverflow], 1);
  }
};

struct SlotUsed {
  const AtomicWord* table;
  KERNELS_HD uint8_t operator()(int64_t s) const { return table[s] != kEmptySlot ? 1 : 0; }
};

struct RankSlots {
  const int64_t* sorted_slots;
  uint32_t first;  // the id of the least key
  uint32_t* group_of_slot;
  KERNELS_HD void operator()(int64_t j) const {
    group_of_slot[sorted_slots[j]] = first + static_cast<uint32_t>(j);
  }
};

struct SlotToGroup {
  const uint32_t* group_of_slot;
  KERNELS_HD uint32_t operator()(uint32_t slot) const { return group_of_slot[slot]; }
};

// Runs for a few CPU threads, with count x runs cells at most 2^22.
inline int64_t RunsFor(int64_t n, int64_t count) {
  int64_t runs = (int64_t{1} << 22) / (count > 0 ? count : 1);
  if (runs > 64) runs = 64;
  if (runs > n / 4096 + 1) runs = n / 4096 + 1;
  return runs < 1 ? 1 : runs;
}

// Whether the backend takes its paths for few, fat threads: the host (see
// host_ops.cc: kHasSerialGroups, serial_groups()). Only such backends
// instantiate those paths.
template <typename D>
bool SerialGroups(const D& be) {
  if constexpr (D::kHasSerialGroups) {
    return be.serial_groups();
  } else {
    return false;
  }
}

// A stable counting sort of rows by small group ids, for backends with few
// threads (SerialGroups): the rows are cut into `chunks` runs; each run
// counts its ids into its column of a count x chunks matrix; an exclusive
// scan in (id, run) order gives each run its first slot per id; then each
// run places its rows, in order.
// `first` (when given, count x chunks like the matrix): the first input
// position of each id in each run, where the run has the id.
// `map` (when given): gid holds hash slots, mapped here in place to their
// ids (map[slot]) as they are counted, saving a pass over the rows.
struct ChunkCount {
  uint32_t* gid;
  int64_t n, chunk, chunks;
  int64_t* matrix;
  int64_t* first;
  const uint32_t* map;
  KERNELS_HD void operator()(int64_t c) const {
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    if (map != nullptr) {
      for (int64_t i = c * chunk; i < end; ++i) {
        const uint32_t g = map[gid[i]];
        gid[i] = g;
        const int64_t cell = static_cast<int64_t>(g) * chunks + c;
        if (first != nullptr && matrix[cell] == 0) first[cell] = i;
        ++matrix[cell];
      }
      return;
    }
    if (first == nullptr) {
      for (int64_t i = c * chunk; i < end; ++i) ++matrix[gid[i] * chunks + c];
      return;
    }
    for (int64_t i = c * chunk; i < end; ++i) {
      const int64_t cell = static_cast<int64_t>(gid[i]) * chunks + c;
      if (matrix[cell]++ == 0) first[cell] = i;
    }
  }
};

// The first row of group g: its first position in the first run that has
// it (every group has a row), mapped through `rows`.
struct FirstRowOfGroup {
  const int64_t* matrix;  // counts, before the scan
  const int64_t* first;
  const int64_t* rows;
  int64_t chunks;
  KERNELS_HD int64_t operator()(int64_t g) const {
    int64_t c = 0;
    while (c + 1 < chunks && matrix[g * chunks + c] == 0) ++c;
    const int64_t pos = first[g * chunks + c];
    return rows != nullptr ? rows[pos] : pos;
  }
};

struct ChunkPlace {
  const uint32_t* gid;
  const int64_t* rows;
  int64_t n, chunk, chunks;
  int64_t* matrix;
  int64_t* order;
  int32_t* ids;
  KERNELS_HD void operator()(int64_t c) const {
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    for (int64_t i = c * chunk; i < end; ++i) {
      const uint32_t g = gid[i];
      const int64_t slot = matrix[g * chunks + c]++;
      order[slot] = rows != nullptr ? rows[i] : i;
      ids[slot] = static_cast<int32_t>(g);
    }
  }
};

struct FirstOfRun {
  const int64_t* matrix;
  int64_t chunks;
  KERNELS_HD int64_t operator()(int64_t g) const { return matrix[g * chunks]; }
};

// Fills g->starts from the ids of the input rows (`gid`, each below
// g->count), and either g->order and g->ids (`ordered`) or g->first_rows.
// `map` (when given): gid holds hash slots, replaced here by map[slot].
template <typename D>
void PlaceRows(const D& be, uint32_t* gid, const int64_t* rows, bool ordered, Groups* g, const Exec& exec,
               const uint32_t* map = nullptr) {
  const int64_t n = g->rows, count = g->count;
  const int64_t chunks = RunsFor(n, count);
  const int64_t chunk = (n + chunks - 1) / chunks;
  const int64_t cells = count * chunks;
  Buffer matrix(static_cast<size_t>(cells) * sizeof(int64_t), exec);
  Buffer first(ordered ? 0 : static_cast<size_t>(cells) * sizeof(int64_t), exec);
  int64_t* m = matrix.as<int64_t>();
  be.Fill(m, 0, matrix.size(), exec);
  thrust::for_each_n(be.policy(exec), RowIterator(0), chunks,
                     ChunkCount{gid, n, chunk, chunks, m, first.as<int64_t>(), map});
  if (!ordered) {
    g->first_rows = Buffer(static_cast<size_t>(count) * sizeof(int64_t), exec);
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(count), g->first_rows.as<int64_t>(),
                      FirstRowOfGroup{m, first.as<int64_t>(), rows, chunks});
    first.Reset();
  }
  thrust::exclusive_scan(be.policy(exec), m, m + cells, m);
  g->starts = Buffer(static_cast<size_t>(count + 1) * sizeof(int64_t), exec);
  int64_t* starts = g->starts.as<int64_t>();
  thrust::transform(be.policy(exec), RowIterator(0), RowIterator(count), starts, FirstOfRun{m, chunks});
  thrust::fill_n(be.policy(exec), starts + count, 1, n);
  if (!ordered) return;
  g->order = Buffer(static_cast<size_t>(n) * sizeof(int64_t), exec);
  g->ids = Buffer(static_cast<size_t>(n) * sizeof(int32_t), exec);
  thrust::for_each_n(
      be.policy(exec), RowIterator(0), chunks,
      ChunkPlace{gid, rows, n, chunk, chunks, m, g->order.as<int64_t>(), g->ids.as<int32_t>()});
}

// Keeps the ids per input row (and a copy of `rows`) in the groups, for
// aggregates that read the rows in input order; orders the rows when
// `ordered`, else keeps each group's first row instead. `map`: as PlaceRows.
template <typename D>
Groups CountingSortGroups(const D& be, Buffer row_groups, const int64_t* rows, int64_t n, int64_t count,
                          bool ordered, const Exec& exec, const uint32_t* map = nullptr) {
  Groups g;
  g.rows = n;
  g.count = count;
  g.method = GroupMethod::kHash;
  PlaceRows(be, row_groups.as<uint32_t>(), rows, ordered, &g, exec, map);
  if (rows != nullptr) g.input_rows = RowsOrIota(be, rows, n, exec);
  g.row_groups = std::move(row_groups);
  return g;
}

// `groups` (from CountingSortGroups) with the rows in group order: for an
// aggregate that needs the order of groups made without it.
template <typename D>
Groups OrderedGroups(const D& be, const Groups& groups, const Exec& exec) {
  Groups g;
  g.rows = groups.rows;
  g.count = groups.count;
  g.method = groups.method;
  PlaceRows(be, const_cast<uint32_t*>(groups.row_groups.as<uint32_t>()),
            groups.input_rows.size() > 0 ? groups.input_rows.as<int64_t>() : nullptr, true, &g, exec);
  return g;
}

// Groups from the rows in group order (`order`) and the start flags
// (flags[0] == 1); computes ids from the flags unless given.
template <typename D>
Groups FinishGroups(const D& be, Buffer order, Buffer flags, Buffer ids, int64_t n, int64_t count,
                    GroupMethod method, const Exec& exec) {
  const uint8_t* f = flags.as<uint8_t>();
  if (count < 0) count = be.CountNonZero(f, n, exec);
  Groups g;
  g.rows = n;
  g.count = count;
  g.method = method;
  g.starts = Buffer(static_cast<size_t>(count + 1) * sizeof(int64_t), exec);
  int64_t* starts = g.starts.as<int64_t>();
  be.CompactIndices(f, 0, n, starts, exec);
  thrust::fill_n(be.policy(exec), starts + count, 1, n);
  if (ids.size() == 0) {
    ids = Buffer(static_cast<size_t>(n) * sizeof(int32_t), exec);
    auto first = thrust::make_transform_iterator(RowIterator(0), LaterStart{f});
    thrust::inclusive_scan(be.policy(exec), first, first + n, ids.as<int32_t>());
  }
  g.order = std::move(order);
  g.ids = std::move(ids);
  return g;
}

inline int64_t NextPow2(int64_t v) {
  int64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

// Rows below which kAuto sorts without trying the table (kernels_bench).
constexpr int64_t kHashMinRows = int64_t{1} << 16;
// Rows kAuto inserts first, spread over the input, to estimate the groups.
constexpr int64_t kHashSampleRows = int64_t{1} << 14;
// kAuto hashes only when the sample's distinct keys are at most one per
// this many rows: on the host, counting sort and per-run partials cost per
// group, and lose to sorting below ~100 rows per group (kernels_bench).
constexpr int64_t kHashRowsPerGroup = 100;

// The hash path of GroupRows; returns false (having allocated nothing that
// outlives it) when the table fills up.
// `nulls`: the validity of a key whose null flag is not in `word` (rows
// null there are one group, the first), or null.
template <typename D>
bool HashGroups(const D& be, const RadixWord& word, const uint8_t* nulls, const int64_t* rows, int64_t n,
                const GroupOptions& options, Groups* out, const Exec& exec) {
  const int64_t limit = options.hash_max_groups > 0 ? options.hash_max_groups : kDefaultHashGroups;
  if (limit >= (int64_t{1} << 30)) return false;
  const int64_t slots = NextPow2(limit * 2 < 64 ? 64 : limit * 2);
  Buffer table(static_cast<size_t>(slots) * sizeof(AtomicWord), exec);
  be.Fill(table.data(), 0xFF, table.size(), exec);
  Buffer status(4 * sizeof(AtomicWord), exec);
  be.Fill(status.data(), 0, status.size(), exec);
  AtomicWord* t = table.as<AtomicWord>();
  AtomicWord* st = status.as<AtomicWord>();
  AtomicWord host_status[4];
  const KeyField& f0 = word.fields[0];
  const bool plain = word.count == 1 && f0.kind == FieldKind::kValue && f0.shift == 0 && f0.index == nullptr &&
                     !f0.descending && f0.col.validity == nullptr;
  const int32_t direct = !plain                                   ? 0
                         : f0.col.type == PhysType::kInt64 ? 8
                         : f0.col.type == PhysType::kInt32 ? 4
                                                           : 0;
  HashInsert insert{word, direct, nulls, rows, 1, t, static_cast<uint64_t>(slots - 1),
                    nullptr, st, static_cast<AtomicWord>(limit)};
  if (options.method == GroupMethod::kAuto && n >= 4 * kHashSampleRows) {
    insert.stride = n / kHashSampleRows;
    thrust::for_each_n(be.policy(exec), RowIterator(0), kHashSampleRows, insert);
    be.CopyToHostSync(host_status, st, sizeof(host_status), exec);
    const int64_t seen = static_cast<int64_t>(host_status[kHashDistinct]);
    if (host_status[kHashOverflow] != 0 || seen * kHashRowsPerGroup > n) return false;
    insert.stride = 1;
  }
  Buffer slot_of(static_cast<size_t>(n) * sizeof(uint32_t), exec);
  insert.slot_of = slot_of.as<uint32_t>();
  thrust::for_each_n(be.policy(exec), RowIterator(0), n, insert);
  be.CopyToHostSync(host_status, st, sizeof(host_status), exec);
  if (host_status[kHashOverflow] != 0) return false;
  const int64_t distinct = static_cast<int64_t>(host_status[kHashDistinct]);
  const bool sentinel = host_status[kHashSentinel] != 0;
  const bool null_group = host_status[kHashNull] != 0;
  const uint32_t first = null_group ? 1 : 0;
  if (distinct + (sentinel ? 1 : 0) + first > limit)
    return false;  // the two keys outside the table count too

  // Number the distinct keys in ascending order: sort the (few) used slots by key.
  Buffer used(static_cast<size_t>(slots), exec);
  thrust::transform(be.policy(exec), RowIterator(0), RowIterator(slots), used.as<uint8_t>(), SlotUsed{t});
  Buffer sorted_slots(static_cast<size_t>(distinct) * sizeof(int64_t), exec);
  be.CompactIndices(used.as<uint8_t>(), 0, slots, sorted_slots.as<int64_t>(), exec);
  Buffer keys(static_cast<size_t>(distinct) * sizeof(uint64_t), exec);
  be.GatherFixed(t, 8, sorted_slots.as<int64_t>(), distinct, keys.data(), exec);
  StableSortPairs(be, keys.as<uint64_t>(), sorted_slots.as<int64_t>(), distinct, exec);
  Buffer group_of_slot(static_cast<size_t>(slots + 2) * sizeof(uint32_t), exec);
  uint32_t* group_of = group_of_slot.as<uint32_t>();
  thrust::for_each_n(be.policy(exec), RowIterator(0), distinct,
                     RankSlots{sorted_slots.as<int64_t>(), first, group_of});
  // The key equal to the marker is the largest word: the last group. Nulls
  // of a key whose flag is outside the word come first.
  if (sentinel) thrust::fill_n(be.policy(exec), group_of + slots, 1, first + static_cast<uint32_t>(distinct));
  if (null_group) thrust::fill_n(be.policy(exec), group_of + slots + 1, 1, uint32_t{0});
  table.Reset();
  used.Reset();
  keys.Reset();
  sorted_slots.Reset();

  // Rows in group order: a stable sort by the group id, counting on a
  // backend with few threads (which maps the slots to ids as it counts),
  // else radix.
  const int64_t count = distinct + (sentinel ? 1 : 0) + first;
  if (SerialGroups(be)) {
    *out = CountingSortGroups(be, std::move(slot_of), rows, n, count, options.ordered, exec, group_of);
    return true;
  }
  uint32_t* gid = slot_of.as<uint32_t>();
  thrust::transform(be.policy(exec), gid, gid + n, gid, SlotToGroup{group_of});
  group_of_slot.Reset();
  Buffer order = RowsOrIota(be, rows, n, exec);
  StableSortPairs(be, gid, order.as<int64_t>(), n, exec);
  Buffer flags(static_cast<size_t>(n), exec);
  thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), flags.as<uint8_t>(),
                    WordChanged<uint32_t>{gid});
  *out = FinishGroups(be, std::move(order), std::move(flags), std::move(slot_of), n, count,
                      GroupMethod::kHash, exec);
  return true;
}

struct GroupWordRange {
  uint64_t lo, hi;
};

struct GroupWordToRange {
  const uint64_t* words;
  KERNELS_HD GroupWordRange operator()(int64_t i) const { return GroupWordRange{words[i], words[i]}; }
};

struct MergeGroupWordRanges {
  KERNELS_HD GroupWordRange operator()(const GroupWordRange& a, const GroupWordRange& b) const {
    return GroupWordRange{a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi};
  }
};

struct NarrowGroupWord {
  uint64_t lo;
  KERNELS_HD uint32_t operator()(uint64_t w) const { return static_cast<uint32_t>(w - lo); }
};

// Sorts `perm` stably by the 64-bit packed `word` of its rows; returns the
// sorted words: uint32 (each less the least word) where they span less
// than 2^32, which orders them alike; uint64 otherwise.
template <typename D>
Buffer NarrowGroupWords(const D& be, const RadixWord& word, int64_t* perm, int64_t n, const Exec& exec) {
  Buffer wide(static_cast<size_t>(n) * sizeof(uint64_t), exec);
  uint64_t* w = wide.as<uint64_t>();
  thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), w, PackKeys<uint64_t>{word, perm});
  const GroupWordRange range =
      thrust::transform_reduce(be.policy(exec), RowIterator(0), RowIterator(n), GroupWordToRange{w},
                               GroupWordRange{~uint64_t{0}, 0}, MergeGroupWordRanges{});
  if (range.hi - range.lo > 0xFFFFFFFFull) {
    StableSortPairs(be, w, perm, n, exec);
    return wide;
  }
  Buffer narrow(static_cast<size_t>(n) * sizeof(uint32_t), exec);
  uint32_t* k = narrow.as<uint32_t>();
  thrust::transform(be.policy(exec), w, w + n, k, NarrowGroupWord{range.lo});
  wide.Reset();
  StableSortPairs(be, k, perm, n, exec);
  return narrow;
}

template <typename D>
Groups GroupRowsAlgo(const D& be, const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n,
                     const GroupOptions& options, const Exec& exec) {
  if (n >= (int64_t{1} << 31)) throw std::invalid_argument("GroupRows: 2^31 rows or more");
  if (n <= 0) {
    Groups g;
    g.starts = Buffer(sizeof(int64_t), exec);
    be.Fill(g.starts.data(), 0, sizeof(int64_t), exec);
    return g;
  }
  std::vector<SortColumn> cols;
  for (const ColumnView& k : keys) {
    SortColumn c;
    c.col = k;
    cols.push_back(c);
  }
  const std::vector<SortPass> plan = PlanSort(cols);
  if (plan.empty()) {  // no key bits at all: one group
    Buffer flags(static_cast<size_t>(n), exec);
    be.Fill(flags.data(), 0, static_cast<size_t>(n), exec);
    be.Fill(flags.data(), 1, 1, exec);
    Buffer ids(static_cast<size_t>(n) * sizeof(int32_t), exec);
    be.Fill(ids.data(), 0, ids.size(), exec);
    return FinishGroups(be, RowsOrIota(be, rows, n, exec), std::move(flags), std::move(ids), n, 1,
                        GroupMethod::kSort, exec);
  }
  const bool one_word = plan.size() == 1 && plan[0].radix;
  if (options.method != GroupMethod::kSort && (options.method == GroupMethod::kHash || n >= kHashMinRows)) {
    // One word of key bits; or one nullable key whose value alone fills a
    // word (int64, double, char8), its nulls kept out of the table.
    const uint8_t* nulls = nullptr;
    std::vector<SortPass> hash_plan;
    if (one_word) {
      hash_plan = plan;
    } else if (keys.size() == 1 && keys[0].validity != nullptr) {
      cols[0].col.validity = nullptr;
      hash_plan = PlanSort(cols);
      nulls = keys[0].validity;
    }
    Groups g;
    if (hash_plan.size() == 1 && hash_plan[0].radix &&
        HashGroups(be, hash_plan[0].word, nulls, rows, n, options, &g, exec)) {
      return g;
    }
  }
  Buffer order = RowsOrIota(be, rows, n, exec);
  int64_t* perm = order.as<int64_t>();
  Buffer flags(static_cast<size_t>(n), exec);
  uint8_t* f = flags.as<uint8_t>();
  // One 64-bit word: sorted as 32 bits less its least value where the
  // words span less than 2^32 (half the radix passes and key bytes).
  Buffer words = one_word && WordBytes(plan[0]) == 8 ? NarrowGroupWords(be, plan[0].word, perm, n, exec)
                                                     : RunSortPlan(be, plan, perm, n, exec);
  if (one_word && words.size() == static_cast<size_t>(n) * sizeof(uint32_t)) {
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), f,
                      WordChanged<uint32_t>{words.as<uint32_t>()});
  } else if (one_word) {
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), f,
                      WordChanged<uint64_t>{words.as<uint64_t>()});
  } else {
    words.Reset();
    be.Fill(f, 0, static_cast<size_t>(n), exec);
    for (const ColumnView& k : keys)
      thrust::for_each_n(be.policy(exec), RowIterator(0), n, MarkKeyChange{k, perm, f});
  }
  words.Reset();
  return FinishGroups(be, std::move(order), std::move(flags), Buffer(), n, -1, GroupMethod::kSort, exec);
}

// --- Aggregates -----------------------------------------------------------

// The row at a position of the rows' order (null: the position itself).
KERNELS_HD inline int64_t RowAt(const int64_t* order, int64_t pos) {
  return order != nullptr ? order[pos] : pos;
}

// Per-row accumulators, reduced per group with thrust::reduce_by_key.

// kCount: 1 for a non-null value. kCountDistinct (distinct == true): 1 where
// position i of `perm` (positions sorted by group, then value) starts a new
// non-null value.
struct CountAt {
  ColumnView col;
  const int64_t* order;
  bool distinct;
  const int64_t* perm;
  const int32_t* ids;
  KERNELS_HD int64_t operator()(int64_t i) const {
    if (!distinct) return col.is_valid(RowAt(order, i)) ? 1 : 0;
    const int64_t p = perm[i];
    const int64_t row = order[p];
    if (!col.is_valid(row)) return 0;
    if (i == 0) return 1;
    const int64_t q = perm[i - 1];
    if (ids[q] != ids[p]) return 1;
    return RowKeysEqual(col, order[q], row) ? 0 : 1;
  }
};

struct AddCounts {
  KERNELS_HD int64_t operator()(int64_t a, int64_t b) const { return a + b; }
};

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

// Count, mean and sum of squared deviations (Welford; merged as Chan et al.).
struct VarAcc {
  double n;
  double mean;
  double m2;
};

struct VarAt {
  ColumnView col;
  const int64_t* order;
  KERNELS_HD VarAcc operator()(int64_t pos) const {
    const int64_t row = RowAt(order, pos);
    if (!col.is_valid(row)) return VarAcc{0, 0, 0};
    return VarAcc{1, NumberAt(col, row), 0};
  }
};

struct MergeVars {
  KERNELS_HD VarAcc operator()(const VarAcc& a, const VarAcc& b) const {
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    const double n = a.n + b.n;
    const double delta = b.mean - a.mean;
    return VarAcc{n, a.mean + delta * (b.n / n), a.m2 + b.m2 + delta * delta * (a.n * b.n / n)};
  }
};

// The extreme value seen so far: its order bits (fixed width) or its bytes
// (strings), and its position in the group order; pos < 0: none yet.
struct ExtremeAcc {
  uint64_t key;  // order bits, or the string's address
  int64_t len;
  int64_t pos;
};

struct ExtremeAt {
  ColumnView col;
  const int64_t* order;
  KERNELS_HD ExtremeAcc operator()(int64_t pos) const {
    const int64_t row = RowAt(order, pos);
    ExtremeAcc a{0, 0, -1};
    if (!col.is_valid(row)) return a;
    a.pos = pos;
    if (IsStringType(col.type)) {
      const char* s;
      StringAt(col, row, s, a.len);
      a.key = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(s));
    } else {
      a.key = OrderBits(col, row, 0, col.width < 8 ? col.width : 8);
    }
    return a;
  }
};

// Keeps the least (or greatest) value; ties go to the earlier position, so
// the merge is commutative and the first row with the extreme wins.
struct MergeExtremes {
  bool strings;
  bool greatest;
  KERNELS_HD ExtremeAcc operator()(const ExtremeAcc& a, const ExtremeAcc& b) const {
    if (a.pos < 0) return b;
    if (b.pos < 0) return a;
    int c;
    if (strings) {
      c = CompareBytes(reinterpret_cast<const char*>(static_cast<uintptr_t>(a.key)), a.len,
                       reinterpret_cast<const char*>(static_cast<uintptr_t>(b.key)), b.len);
    } else {
      c = a.key < b.key ? -1 : (a.key > b.key ? 1 : 0);
    }
    if (c == 0) return a.pos < b.pos ? a : b;
    return (greatest ? c > 0 : c < 0) ? a : b;
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

// One loop per group: out[g] = the merge of load(i) over the group's
// positions, in order.
template <typename Load, typename Merge, typename Acc>
struct LoopGroup {
  const int64_t* starts;
  Load load;
  Merge merge;
  Acc* out;
  KERNELS_HD void operator()(int64_t g) const {
    const int64_t end = starts[g + 1];
    Acc acc = load(starts[g]);
    for (int64_t i = starts[g] + 1; i < end; ++i) acc = merge(acc, load(i));
    out[g] = acc;
  }
};

// Runs of input rows, each folded into its own row of partial
// accumulators (partial[c * count + g]), then merged per group in run order.
template <typename Load, typename Merge, typename Acc>
struct AccumulateRun {
  const int32_t* row_group;
  int64_t n, chunk, count;
  Load load;
  Merge merge;
  Acc* partial;
  uint8_t* seen;
  KERNELS_HD void operator()(int64_t c) const {
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    Acc* p = partial + c * count;
    uint8_t* s = seen + c * count;
    for (int64_t i = c * chunk; i < end; ++i) {
      const int32_t g = row_group[i];
      const Acc a = load(i);
      p[g] = s[g] != 0 ? merge(p[g], a) : a;
      s[g] = 1;
    }
  }
};

template <typename Merge, typename Acc>
struct MergeRuns {
  int64_t chunks, count;
  Merge merge;
  const Acc* partial;
  const uint8_t* seen;
  Acc* out;
  KERNELS_HD void operator()(int64_t g) const {
    bool any = false;
    Acc acc = partial[g];
    for (int64_t c = 0; c < chunks; ++c) {
      if (seen[c * count + g] == 0) continue;
      acc = any ? merge(acc, partial[c * count + g]) : partial[c * count + g];
      any = true;
    }
    out[g] = acc;
  }
};

// Per-group reductions of a per-position accumulator. A backend with few,
// fat threads (SerialGroups: the host) reads the rows in input order
// into per-run partials when the groups came from the hash table (which
// keeps each input row's group), and otherwise loops over each group's rows
// in `order`; a wide one (CUDA) runs thrust::reduce_by_key over all rows,
// which keeps every thread busy however the rows fall into groups.
// `input_order` (serial only): `load` reads input positions
// (Groups::input_rows), not positions of `order`.
template <typename D, typename Load, typename Merge, typename Acc>
void ReduceEachGroup(const D& be, const Groups& groups, bool input_order, Load load, Merge merge, Acc* out,
                     const Exec& exec) {
  if (SerialGroups(be)) {
    if (input_order) {
      const int64_t n = groups.rows, count = groups.count;
      const int64_t runs = RunsFor(n, count);
      Buffer partial(static_cast<size_t>(runs * count) * sizeof(Acc), exec);
      Buffer seen(static_cast<size_t>(runs * count), exec);
      be.Fill(seen.data(), 0, seen.size(), exec);
      thrust::for_each_n(
          be.policy(exec), RowIterator(0), runs,
          AccumulateRun<Load, Merge, Acc>{groups.row_groups.as<int32_t>(), n, (n + runs - 1) / runs, count,
                                          load, merge, partial.as<Acc>(), seen.as<uint8_t>()});
      thrust::for_each_n(
          be.policy(exec), RowIterator(0), count,
          MergeRuns<Merge, Acc>{runs, count, merge, partial.as<Acc>(), seen.as<uint8_t>(), out});
      return;
    }
    thrust::for_each_n(be.policy(exec), RowIterator(0), groups.count,
                       LoopGroup<Load, Merge, Acc>{groups.starts.as<int64_t>(), load, merge, out});
    return;
  }
  Buffer keys_out(static_cast<size_t>(groups.count) * sizeof(int32_t), exec);
  ReduceGroups(be.policy(exec), groups.ids.as<int32_t>(), groups.rows, load, merge, keys_out.as<int32_t>(),
               out);
}

// Typed sums for a backend with few, fat threads (SerialGroups): the same
// per-run partials (input order) or per-group loops (group order) as
// ReduceEachGroup with SumAt and AddSums, without the per-row type switch
// and `seen` flags. Accumulators start at {0, -0.0, 0}, the identity of
// AddSums (-0.0 + x == x for every x, -0.0 and NaN included), so every
// group's sum is the same additions in the same order as the generic path:
// a null row adds 0.0 to the double sum as SumAt's empty accumulator does.
// Only the field the result reads is kept (integer or double sum).
template <typename T, bool kFloat>
KERNELS_HD inline void AddSumValue(SumAcc& a, const ColumnView& col, int64_t row) {
  if (col.is_valid(row)) {
    const T v = static_cast<const T*>(col.data)[row];
    if constexpr (kFloat) {
      a.f += static_cast<double>(v);
    } else {
      a.i = static_cast<int64_t>(static_cast<uint64_t>(a.i) + static_cast<uint64_t>(static_cast<int64_t>(v)));
    }
    ++a.n;
  } else if constexpr (kFloat) {
    a.f += 0.0;
  }
}

template <typename T, bool kFloat>
struct TypedSumRun {
  const int32_t* row_group;
  const int64_t* rows;  // input position → row; null: the position itself
  ColumnView col;
  int64_t n, chunk, count;
  SumAcc* partial;
  KERNELS_HD void operator()(int64_t c) const {
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    SumAcc* p = partial + c * count;
    for (int64_t g = 0; g < count; ++g) p[g] = SumAcc{0, -0.0, 0};
    if (rows == nullptr && col.validity == nullptr) {
      const T* v = static_cast<const T*>(col.data);
      for (int64_t i = c * chunk; i < end; ++i) {
        SumAcc& a = p[row_group[i]];
        if constexpr (kFloat) {
          a.f += static_cast<double>(v[i]);
        } else {
          a.i = static_cast<int64_t>(static_cast<uint64_t>(a.i) + static_cast<uint64_t>(static_cast<int64_t>(v[i])));
        }
        ++a.n;
      }
      return;
    }
    for (int64_t i = c * chunk; i < end; ++i)
      AddSumValue<T, kFloat>(p[row_group[i]], col, rows != nullptr ? rows[i] : i);
  }
};

struct MergeSumRuns {
  int64_t runs, count;
  const SumAcc* partial;
  SumAcc* out;
  KERNELS_HD void operator()(int64_t g) const {
    SumAcc acc{0, -0.0, 0};
    for (int64_t c = 0; c < runs; ++c) acc = AddSums{}(acc, partial[c * count + g]);
    out[g] = acc;
  }
};

template <typename T, bool kFloat>
struct TypedSumGroup {
  const int64_t* starts;
  const int64_t* order;
  ColumnView col;
  SumAcc* out;
  KERNELS_HD void operator()(int64_t g) const {
    SumAcc acc{0, -0.0, 0};
    for (int64_t i = starts[g]; i < starts[g + 1]; ++i) AddSumValue<T, kFloat>(acc, col, RowAt(order, i));
    out[g] = acc;
  }
};

template <typename D, typename T, bool kFloat>
void TypedSums(const D& be, const Groups& groups, bool input_order, const ColumnView& col,
               const int64_t* load_order, SumAcc* out, const Exec& exec) {
  const int64_t n = groups.rows, count = groups.count;
  if (!input_order) {
    thrust::for_each_n(be.policy(exec), RowIterator(0), count,
                       TypedSumGroup<T, kFloat>{groups.starts.as<int64_t>(), load_order, col, out});
    return;
  }
  const int64_t runs = RunsFor(n, count);
  Buffer partial(static_cast<size_t>(runs * count) * sizeof(SumAcc), exec);
  thrust::for_each_n(be.policy(exec), RowIterator(0), runs,
                     TypedSumRun<T, kFloat>{groups.row_groups.as<int32_t>(), load_order, col, n,
                                            (n + runs - 1) / runs, count, partial.as<SumAcc>()});
  thrust::for_each_n(be.policy(exec), RowIterator(0), count,
                     MergeSumRuns{runs, count, partial.as<SumAcc>(), out});
}

// Per-group sums of a numeric `col` into `out`: typed loops on a backend
// with few, fat threads, else ReduceEachGroup.
template <typename D>
void SumEachGroup(const D& be, const Groups& groups, bool input_order, const ColumnView& col,
                  const int64_t* load_order, SumAcc* out, const Exec& exec) {
  if constexpr (D::kHasSerialGroups) {
    if (SerialGroups(be)) {
      switch (col.type) {
        case PhysType::kInt8:
          return TypedSums<D, int8_t, false>(be, groups, input_order, col, load_order, out, exec);
        case PhysType::kInt16:
          return TypedSums<D, int16_t, false>(be, groups, input_order, col, load_order, out, exec);
        case PhysType::kInt32:
          return TypedSums<D, int32_t, false>(be, groups, input_order, col, load_order, out, exec);
        case PhysType::kInt64:
          return TypedSums<D, int64_t, false>(be, groups, input_order, col, load_order, out, exec);
        case PhysType::kFloat32:
          return TypedSums<D, float, true>(be, groups, input_order, col, load_order, out, exec);
        case PhysType::kFloat64:
          return TypedSums<D, double, true>(be, groups, input_order, col, load_order, out, exec);
        default:
          break;
      }
    }
  }
  ReduceEachGroup(be, groups, input_order, SumAt{col, load_order}, AddSums{}, out, exec);
}

struct GroupSizes {
  const int64_t* starts;
  KERNELS_HD int64_t operator()(int64_t g) const { return starts[g + 1] - starts[g]; }
};

struct FinishSums {
  const SumAcc* acc;
  bool is_float;
  void* data;
  uint8_t* validity;
  KERNELS_HD void operator()(int64_t g) const {
    const SumAcc a = acc[g];
    validity[g] = a.n > 0 ? 1 : 0;
    if (is_float) {
      static_cast<double*>(data)[g] = a.n > 0 ? a.f : 0.0;
    } else {
      static_cast<int64_t*>(data)[g] = a.n > 0 ? a.i : 0;
    }
  }
};

struct FinishVars {
  const VarAcc* acc;
  AggKind kind;
  double* data;
  uint8_t* validity;
  KERNELS_HD void operator()(int64_t g) const {
    const VarAcc a = acc[g];
    double v = 0;
    bool valid = a.n > 0;
    switch (kind) {
      case AggKind::kMean:
        v = a.mean;
        break;
      case AggKind::kVarPop:
        v = a.m2 / a.n;
        break;
      case AggKind::kStdPop:
        v = sqrt(a.m2 / a.n);
        break;
      case AggKind::kVarSamp:
        valid = a.n > 1;
        v = a.m2 / (a.n - 1);
        break;
      default:  // kStdSamp
        valid = a.n > 1;
        v = sqrt(a.m2 / (a.n - 1));
        break;
    }
    data[g] = valid ? v : 0.0;
    validity[g] = valid ? 1 : 0;
  }
};

// The row holding each group's extreme (0 where none), and whether there is one.
struct ExtremeRows {
  const ExtremeAcc* acc;
  const int64_t* order;
  int64_t* rows;
  uint8_t* has;
  KERNELS_HD void operator()(int64_t g) const {
    const int64_t pos = acc[g].pos;
    rows[g] = pos >= 0 ? RowAt(order, pos) : 0;
    has[g] = pos >= 0 ? 1 : 0;
  }
};

// Masked gathers: row g takes src[rows[g]] where has[g] and the source row
// is valid; otherwise null, holding zero bytes or an empty string.
struct MaskedValid {
  ColumnView src;
  const int64_t* rows;
  const uint8_t* has;
  KERNELS_HD uint8_t operator()(int64_t g) const { return has[g] != 0 && src.is_valid(rows[g]) ? 1 : 0; }
};

struct MaskedBytes {
  const char* src;
  int32_t width;
  const int64_t* rows;
  const uint8_t* valid;
  char* dst;
  KERNELS_HD void operator()(int64_t g) const {
    const char* s = src + rows[g] * static_cast<int64_t>(width);
    char* d = dst + g * static_cast<int64_t>(width);
    const bool v = valid[g] != 0;
    for (int32_t k = 0; k < width; ++k) d[k] = v ? s[k] : 0;
  }
};

struct MaskedLength {
  const int64_t* offsets;
  const int64_t* rows;
  const uint8_t* valid;
  KERNELS_HD int64_t operator()(int64_t g) const {
    return valid[g] != 0 ? offsets[rows[g] + 1] - offsets[rows[g]] : 0;
  }
};

template <typename D>
Column MaskedGather(const D& be, const ColumnView& src, const int64_t* rows, const uint8_t* has,
                    int64_t count, const Exec& exec) {
  Buffer data, offsets;
  Buffer validity(static_cast<size_t>(count), exec);
  uint8_t* valid = validity.as<uint8_t>();
  thrust::transform(be.policy(exec), RowIterator(0), RowIterator(count), valid, MaskedValid{src, rows, has});
  if (src.type == PhysType::kVarChars) {
    offsets = Buffer(static_cast<size_t>(count + 1) * sizeof(int64_t), exec);
    int64_t* off = offsets.as<int64_t>();
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(count), off,
                      MaskedLength{src.offsets, rows, valid});
    thrust::fill_n(be.policy(exec), off + count, 1, int64_t{0});
    thrust::exclusive_scan(be.policy(exec), off, off + count + 1, off);
    int64_t chars = 0;
    be.CopyToHostSync(&chars, off + count, sizeof(chars), exec);
    data = Buffer(static_cast<size_t>(chars), exec);
    // Null rows have length 0, so copying them copies nothing.
    be.GatherChars(src.offsets, static_cast<const char*>(src.data), rows, count, off, data.as<char>(), exec);
  } else {
    const int32_t width = ValueWidth(src.type, src.width);
    data = Buffer(static_cast<size_t>(count) * width, exec);
    thrust::for_each_n(be.policy(exec), RowIterator(0), count,
                       MaskedBytes{static_cast<const char*>(src.data), width, rows, valid, data.as<char>()});
  }
  return Column::Adopt(src.type, src.width, true, count, std::move(data), std::move(offsets),
                       std::move(validity));
}

inline bool IsNumericType(PhysType t) { return !IsStringType(t); }

template <typename D>
Column AggregateAlgo(const D& be, const Groups& groups, AggKind kind, const ColumnView* value,
                     const ColumnView* target, const Exec& exec) {
  const int64_t count = groups.count;
  const int64_t n = groups.rows;
  if (kind == AggKind::kCount && value == nullptr) {
    Buffer data(static_cast<size_t>(count) * sizeof(int64_t), exec);
    if (count > 0) {
      thrust::transform(be.policy(exec), RowIterator(0), RowIterator(count), data.as<int64_t>(),
                        GroupSizes{groups.starts.as<int64_t>()});
    }
    return Column::Adopt(PhysType::kInt64, 0, false, count, std::move(data), Buffer(), Buffer());
  }
  if (value == nullptr) throw std::invalid_argument("Aggregate: this aggregate needs a value column");
  const bool needs_number = kind == AggKind::kSum || kind == AggKind::kMean || kind == AggKind::kVarPop ||
                            kind == AggKind::kVarSamp || kind == AggKind::kStdPop ||
                            kind == AggKind::kStdSamp;
  if (needs_number && !IsNumericType(value->type)) {
    throw std::invalid_argument("Aggregate: sum, mean, variance and deviation need a numeric value");
  }
  const bool arg = kind == AggKind::kArgMin || kind == AggKind::kArgMax;
  if (arg && target == nullptr)
    throw std::invalid_argument("Aggregate: arg_min and arg_max need a target column");

  // The result's layout.
  PhysType type = PhysType::kFloat64;
  int32_t width = 0;
  bool nullable = true;
  switch (kind) {
    case AggKind::kCount:
    case AggKind::kCountDistinct:
      type = PhysType::kInt64;
      nullable = false;
      break;
    case AggKind::kSum:
      type = IsFloatType(value->type) ? PhysType::kFloat64 : PhysType::kInt64;
      break;
    case AggKind::kMin:
    case AggKind::kMax:
      type = value->type;
      width = value->width;
      break;
    case AggKind::kArgMin:
    case AggKind::kArgMax:
      type = target->type;
      width = target->width;
      break;
    default:
      break;
  }
  if (count == 0) return Column(type, width, nullable);

  // Groups made without their order (GroupOptions::ordered) read in input
  // order; what needs the order (count_distinct, or a backend that does not
  // read in input order) gets it made here.
  if (groups.order.size() == 0 && (kind == AggKind::kCountDistinct || !SerialGroups(be))) {
    const Groups ordered = OrderedGroups(be, groups, exec);  // no row_groups: read through the order
    return AggregateAlgo(be, ordered, kind, value, target, exec);
  }

  const int64_t* order = groups.order.as<int64_t>();
  const int32_t* ids = groups.ids.as<int32_t>();
  // Groups that keep each input row's group are read in input order.
  const bool input_order = groups.row_groups.size() > 0 && SerialGroups(be);
  const int64_t* load_order = input_order ? groups.input_rows.as<int64_t>() : order;
  switch (kind) {
    case AggKind::kCount: {
      Buffer data(static_cast<size_t>(count) * sizeof(int64_t), exec);
      ReduceEachGroup(be, groups, input_order, CountAt{*value, load_order, false, nullptr, nullptr},
                      AddCounts{}, data.as<int64_t>(), exec);
      return Column::Adopt(type, 0, false, count, std::move(data), Buffer(), Buffer());
    }
    case AggKind::kCountDistinct: {
      // Positions sorted by (group, value), then count where the value changes.
      Buffer perm(static_cast<size_t>(n) * sizeof(int64_t), exec);
      thrust::sequence(be.policy(exec), perm.as<int64_t>(), perm.as<int64_t>() + n);
      ColumnView id_col;
      id_col.type = PhysType::kInt32;
      id_col.size = n;
      id_col.data = ids;
      int32_t bits = 1;
      while (bits < 31 && (int64_t{1} << bits) < count) ++bits;
      std::vector<SortColumn> cols(2);
      cols[0].col = id_col;
      cols[0].known_bits = bits;
      cols[1].col = *value;
      cols[1].index = order;
      RunSortPlan(be, PlanSort(cols), perm.as<int64_t>(), n, exec);
      Buffer data(static_cast<size_t>(count) * sizeof(int64_t), exec);
      ReduceEachGroup(be, groups, false, CountAt{*value, order, true, perm.as<int64_t>(), ids}, AddCounts{},
                      data.as<int64_t>(), exec);
      return Column::Adopt(type, 0, false, count, std::move(data), Buffer(), Buffer());
    }
    case AggKind::kSum: {
      Buffer acc(static_cast<size_t>(count) * sizeof(SumAcc), exec);
      SumEachGroup(be, groups, input_order, *value, load_order, acc.as<SumAcc>(), exec);
      Buffer data(static_cast<size_t>(count) * 8, exec);
      Buffer validity(static_cast<size_t>(count), exec);
      thrust::for_each_n(
          be.policy(exec), RowIterator(0), count,
          FinishSums{acc.as<SumAcc>(), type == PhysType::kFloat64, data.data(), validity.as<uint8_t>()});
      return Column::Adopt(type, 0, true, count, std::move(data), Buffer(), std::move(validity));
    }
    case AggKind::kMean:
    case AggKind::kVarPop:
    case AggKind::kVarSamp:
    case AggKind::kStdPop:
    case AggKind::kStdSamp: {
      Buffer acc(static_cast<size_t>(count) * sizeof(VarAcc), exec);
      ReduceEachGroup(be, groups, input_order, VarAt{*value, load_order}, MergeVars{}, acc.as<VarAcc>(),
                      exec);
      Buffer data(static_cast<size_t>(count) * 8, exec);
      Buffer validity(static_cast<size_t>(count), exec);
      thrust::for_each_n(be.policy(exec), RowIterator(0), count,
                         FinishVars{acc.as<VarAcc>(), kind, data.as<double>(), validity.as<uint8_t>()});
      return Column::Adopt(type, 0, true, count, std::move(data), Buffer(), std::move(validity));
    }
    default: {  // kMin, kMax, kArgMin, kArgMax
      const bool greatest = kind == AggKind::kMax || kind == AggKind::kArgMax;
      Buffer acc(static_cast<size_t>(count) * sizeof(ExtremeAcc), exec);
      ReduceEachGroup(be, groups, input_order, ExtremeAt{*value, load_order},
                      MergeExtremes{IsStringType(value->type), greatest}, acc.as<ExtremeAcc>(), exec);
      Buffer rows(static_cast<size_t>(count) * sizeof(int64_t), exec);
      Buffer has(static_cast<size_t>(count), exec);
      thrust::for_each_n(
          be.policy(exec), RowIterator(0), count,
          ExtremeRows{acc.as<ExtremeAcc>(), load_order, rows.as<int64_t>(), has.as<uint8_t>()});
      acc.Reset();
      return MaskedGather(be, arg ? *target : *value, rows.as<int64_t>(), has.as<uint8_t>(), count, exec);
    }
  }
}

template <typename D>
Buffer GroupFirstRowsAlgo(const D& be, const Groups& groups, const Exec& exec) {
  Buffer out(static_cast<size_t>(groups.count) * sizeof(int64_t), exec);
  if (groups.first_rows.size() > 0) {
    be.CopyOnDevice(out.data(), groups.first_rows.data(), out.size(), exec);
    return out;
  }
  be.GatherFixed(groups.order.data(), 8, groups.starts.as<int64_t>(), groups.count, out.data(), exec);
  return out;
}

// --- Histogram ------------------------------------------------------------

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

// --- Materialize ----------------------------------------------------------

// One functor for the three passes, so that nvcc compiles the expression VM
// into one kernel body rather than three.
enum class MaterializePass : uint8_t {
  kNumber,  // data (int64 or double) and validity
  kLength,  // string lengths (into the offsets) and validity
  kChars,   // string bytes, with the fold applied
};

struct MaterializeRow {
  ProgramView p;
  int64_t begin;
  MaterializePass pass;
  bool is_float;
  void* data;         // kNumber: the values; kChars: the bytes
  int64_t* offsets;   // kLength: written; kChars: read
  uint8_t* validity;  // null: not nullable (or kChars)
  KERNELS_HD void operator()(int64_t i) const {
    const Slot v = Evaluate(p, begin + i);
    switch (pass) {
      case MaterializePass::kNumber:
        if (is_float) {
          static_cast<double*>(data)[i] = v.valid ? v.f : 0.0;
        } else {
          static_cast<int64_t*>(data)[i] = v.valid ? v.i : 0;
        }
        break;
      case MaterializePass::kLength:
        offsets[i] = v.valid ? v.len : 0;
        break;
      case MaterializePass::kChars:
        if (v.valid) {
          char* d = static_cast<char*>(data) + offsets[i];
          for (int64_t k = 0; k < v.len; ++k) d[k] = FoldChar(v.s[k], v.fold);
        }
        return;
    }
    if (validity != nullptr) validity[i] = v.valid ? 1 : 0;
  }
};

template <typename D>
Column MaterializeAlgo(const D& be, const ProgramView& p, int64_t begin, int64_t end, bool nullable,
                       const Exec& exec) {
  const int64_t n = end > begin ? end - begin : 0;
  Buffer data, offsets, validity;
  if (nullable) validity = Buffer(static_cast<size_t>(n), exec);
  uint8_t* valid = nullable ? validity.as<uint8_t>() : nullptr;
  if (p.result == ValueKind::kString) {
    offsets = Buffer(static_cast<size_t>(n + 1) * sizeof(int64_t), exec);
    int64_t* off = offsets.as<int64_t>();
    if (n > 0) {
      thrust::for_each_n(be.policy(exec), RowIterator(0), n,
                         MaterializeRow{p, begin, MaterializePass::kLength, false, nullptr, off, valid});
    }
    thrust::fill_n(be.policy(exec), off + n, 1, int64_t{0});
    thrust::exclusive_scan(be.policy(exec), off, off + n + 1, off);
    int64_t chars = 0;
    be.CopyToHostSync(&chars, off + n, sizeof(chars), exec);
    data = Buffer(static_cast<size_t>(chars), exec);
    if (chars > 0) {
      thrust::for_each_n(be.policy(exec), RowIterator(0), n,
                         MaterializeRow{p, begin, MaterializePass::kChars, false, data.data(), off, nullptr});
    }
    return Column::Adopt(PhysType::kVarChars, 0, nullable, n, std::move(data), std::move(offsets),
                         std::move(validity));
  }
  const bool is_float = p.result == ValueKind::kFloat;
  data = Buffer(static_cast<size_t>(n) * 8, exec);
  if (n > 0) {
    thrust::for_each_n(
        be.policy(exec), RowIterator(0), n,
        MaterializeRow{p, begin, MaterializePass::kNumber, is_float, data.data(), nullptr, valid});
  }
  return Column::Adopt(is_float ? PhysType::kFloat64 : PhysType::kInt64, 0, nullable, n, std::move(data),
                       Buffer(), std::move(validity));
}

// Implements the algorithm half of Ops for one policy factory, except the
// AnalyticsOps part. `Derived` supplies `policy(exec)` and `kBlockedScans`
// (run scan plans by blocks of rows, as the host does, or row by row).
template <typename Derived>
class AlgorithmOps : public Ops {
 public:
  void EvaluateMask(const ProgramView& p, int64_t begin, int64_t end, uint8_t* mask,
                    const Exec& exec) const override {
    if (end > begin) EvaluateMaskImpl<Derived::kBlockedScans>(self().policy(exec), p, begin, end, mask);
  }
  int64_t CountNonZero(const uint8_t* mask, int64_t n, const Exec& exec) const override {
    return n > 0 ? CountNonZeroImpl(self().policy(exec), mask, n) : 0;
  }
  void CompactIndices(const uint8_t* mask, int64_t begin, int64_t n, int64_t* out,
                      const Exec& exec) const override {
    if (n > 0) CompactIndicesImpl<Derived::kBlockedScans>(self().policy(exec), mask, begin, n, out);
  }
  int64_t CountTrue(const ProgramView& p, int64_t begin, int64_t end, const Exec& exec) const override {
    return end > begin ? CountTrueImpl<Derived::kBlockedScans>(self().policy(exec), p, begin, end) : 0;
  }
  Moments ComputeMoments(const ProgramView& p, int64_t begin, int64_t end,
                         const Exec& exec) const override {
    return end > begin ? ComputeMomentsImpl<Derived::kBlockedScans>(self().policy(exec), p, begin, end)
                       : Moments{};
  }
  void GatherFixed(const void* src, int32_t width, const int64_t* idx, int64_t n, void* dst,
                   const Exec& exec) const override {
    if (n > 0) GatherFixedImpl(self().policy(exec), src, width, idx, n, dst);
  }
  void GatherOffsets(const int64_t* src_offsets, const int64_t* idx, int64_t n, int64_t* dst_offsets,
                     const Exec& exec) const override {
    GatherOffsetsImpl(self().policy(exec), src_offsets, idx, n, dst_offsets);
  }
  void GatherChars(const int64_t* src_offsets, const char* src_chars, const int64_t* idx, int64_t n,
                   const int64_t* dst_offsets, char* dst_chars, const Exec& exec) const override {
    if (n > 0) GatherCharsImpl(self().policy(exec), src_offsets, src_chars, idx, n, dst_offsets, dst_chars);
  }
  void AddToOffsets(int64_t* offsets, int64_t n, int64_t delta, const Exec& exec) const override {
    if (n > 0) AddToOffsetsImpl(self().policy(exec), offsets, n, delta);
  }
  void RandomValidity(int64_t n, const RandomSpec& spec, uint8_t* validity,
                      const Exec& exec) const override {
    if (n > 0) RandomValidityImpl(self().policy(exec), n, spec, validity);
  }
  void RandomFixed(PhysType type, int32_t width, int64_t n, const RandomSpec& spec, void* dst,
                   const Exec& exec) const override {
    if (n > 0) RandomFixedImpl(self().policy(exec), type, width, n, spec, dst);
  }
  void RandomOffsets(int64_t n, const RandomSpec& spec, int64_t* offsets,
                     const Exec& exec) const override {
    RandomOffsetsImpl(self().policy(exec), n, spec, offsets);
  }
  void RandomChars(int64_t n, const RandomSpec& spec, const int64_t* offsets, char* chars,
                   const Exec& exec) const override {
    if (n > 0) RandomCharsImpl(self().policy(exec), n, spec, offsets, chars);
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

// In topk.inl (included at the end of this file).
template <typename D>
Buffer TopKOrderAlgo(const D& be, const std::vector<SortKey>& keys, const int64_t* rows, int64_t n, int64_t k,
                     const Exec& exec);

// Implements AnalyticsOps on top of `Base` (AnalyticsOps itself, or an Ops
// implementation). `Derived` supplies `policy(exec)`; `sort_scope(exec,
// bytes)`, whose `policy()` serves the temporaries of one sort of `bytes`
// bytes of keys and values; `kHasSerialGroups` and, when true,
// `serial_groups()` (few fat threads: loop over groups and runs of rows,
// rather than spread every row over threads); and
// the Ops primitives the algorithms use (CountNonZero, CompactIndices,
// GatherFixed, GatherChars, CopyOnDevice, CopyToHostSync, Fill).
template <typename Derived, typename Base>
class AnalyticsAlgorithms : public Base {
 public:
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
  Column Aggregate(const Groups& groups, AggKind kind, const ColumnView* value, const ColumnView* target,
                   const Exec& exec) const override {
    return AggregateAlgo(self(), groups, kind, value, target, exec);
  }
  std::vector<double> Histogram(const ColumnView& value, const ColumnView* weights, const int64_t* rows,
                                int64_t n, double start, double end, double interval, int64_t bins,
                                HistogramMethod method, const Exec& exec) const override {
    return HistogramAlgo(self(), value, weights, rows, n, start, end, interval, bins, method, exec);
  }

 private:
  const Derived& self() const { return static_cast<const Derived&>(*this); }
};

}  // namespace kernels::detail

#include "kernels/detail/topk.inl"
