#pragma once

// KERNELS_HD marks functions and functors that run on both backends: compiled
// for the host by g++ and for the device by nvcc. Kernels are written once
// against it; no device lambdas, since g++ must compile the same code.
#if defined(__CUDACC__)
#define KERNELS_HD __host__ __device__
#else
#define KERNELS_HD
#endif

// KERNELS_INLINE asks that a function be inlined wherever it is called: for
// one taking a constant that selects what it does (Step's op), so that the
// caller gets only that part.
#if defined(__CUDACC__)
#define KERNELS_INLINE __forceinline__
#else
#define KERNELS_INLINE inline __attribute__((always_inline))
#endif
