// Random columns (Ops: RandomValidity, RandomFixed, RandomOffsets,
// RandomChars), written once as templates over a Thrust execution policy.
// Each value is a function of (seed, stream, row, draw) alone (RandomBits in
// random.h), so both backends draw the same values. Instantiated through
// AlgorithmOps (algorithm_ops.inl) in host_ops.cc and cuda_ops.cu.

#pragma once

#include <thrust/fill.h>
#include <thrust/for_each.h>
#include <thrust/scan.h>
#include <thrust/transform.h>

#include <cmath>
#include <cstdint>

#include "kernels/column.h"
#include "kernels/detail/rows.h"
#include "kernels/hd.h"
#include "kernels/random.h"

namespace kernels::detail {

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

}  // namespace kernels::detail
