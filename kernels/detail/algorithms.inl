// The algorithms behind Ops, written once as templates over a Thrust execution
// policy. Included by exactly one translation unit per backend (host_ops.cc,
// cuda_ops.cu), which instantiates them with its policy.

#include <thrust/copy.h>
#include <thrust/count.h>
#include <thrust/fill.h>
#include <thrust/for_each.h>
#include <thrust/gather.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/scan.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>

#include <cmath>
#include <cstdint>

#include "kernels/detail/ops.h"
#include "kernels/expr_vm.h"
#include "kernels/hd.h"
#include "kernels/random.h"
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

template <typename Policy>
void EvaluateMaskImpl(Policy&& policy, const ProgramView& p, int64_t begin, int64_t end,
                      uint8_t* mask) {
  thrust::transform(policy, RowIterator(begin), RowIterator(end), mask, PredicateToByte{p});
}

template <typename Policy>
int64_t CountNonZeroImpl(Policy&& policy, const uint8_t* mask, int64_t n) {
  return thrust::count_if(policy, mask, mask + n, NonZero{});
}

template <typename Policy>
void CompactIndicesImpl(Policy&& policy, const uint8_t* mask, int64_t begin, int64_t n, int64_t* out) {
  thrust::copy_if(policy, RowIterator(begin), RowIterator(begin + n), mask, out, NonZero{});
}

template <typename Policy>
int64_t CountTrueImpl(Policy&& policy, const ProgramView& p, int64_t begin, int64_t end) {
  return thrust::count_if(policy, RowIterator(begin), RowIterator(end), PredicateTrue{p});
}

template <typename Policy>
Moments ComputeMomentsImpl(Policy&& policy, const ProgramView& p, int64_t begin, int64_t end) {
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

// Implements the algorithm half of Ops for one policy factory. `Derived`
// supplies `policy(exec)`.
template <typename Derived>
class AlgorithmOps : public Ops {
 public:
  void EvaluateMask(const ProgramView& p, int64_t begin, int64_t end, uint8_t* mask,
                    const Exec& exec) const override {
    if (end > begin) EvaluateMaskImpl(self().policy(exec), p, begin, end, mask);
  }
  int64_t CountNonZero(const uint8_t* mask, int64_t n, const Exec& exec) const override {
    return n > 0 ? CountNonZeroImpl(self().policy(exec), mask, n) : 0;
  }
  void CompactIndices(const uint8_t* mask, int64_t begin, int64_t n, int64_t* out,
                      const Exec& exec) const override {
    if (n > 0) CompactIndicesImpl(self().policy(exec), mask, begin, n, out);
  }
  int64_t CountTrue(const ProgramView& p, int64_t begin, int64_t end, const Exec& exec) const override {
    return end > begin ? CountTrueImpl(self().policy(exec), p, begin, end) : 0;
  }
  Moments ComputeMoments(const ProgramView& p, int64_t begin, int64_t end,
                         const Exec& exec) const override {
    return end > begin ? ComputeMomentsImpl(self().policy(exec), p, begin, end) : Moments{};
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

}  // namespace kernels::detail
