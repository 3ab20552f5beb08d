// 64-bit atomics for KERNELS_HD code on both backends: CUDA's atomic*
// functions on the device, GCC's __atomic builtins (relaxed) on the host.

#pragma once

#include <cstring>

#include "kernels/hd.h"

namespace kernels::detail {

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

// Stores `v`; returns the previous value.
KERNELS_HD inline AtomicWord AtomicExchange(AtomicWord* p, AtomicWord v) {
#ifdef __CUDA_ARCH__
  return atomicExch(p, v);
#else
  return __atomic_exchange_n(p, v, __ATOMIC_RELAXED);
#endif
}

KERNELS_HD inline AtomicWord AtomicAdd(AtomicWord* p, AtomicWord v) {
#ifdef __CUDA_ARCH__
  return atomicAdd(p, v);
#else
  return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
#endif
}

KERNELS_HD inline AtomicWord AtomicOr(AtomicWord* p, AtomicWord v) {
#ifdef __CUDA_ARCH__
  return atomicOr(p, v);
#else
  return __atomic_fetch_or(p, v, __ATOMIC_RELAXED);
#endif
}

// Lowers *p to `v` where `v` is less; returns the previous value.
KERNELS_HD inline AtomicWord AtomicMin(AtomicWord* p, AtomicWord v) {
#ifdef __CUDA_ARCH__
  return atomicMin(p, v);
#else
  AtomicWord old = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (v < old && !__atomic_compare_exchange_n(p, &old, v, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
  }
  return old;
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

}  // namespace kernels::detail
