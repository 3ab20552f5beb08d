#pragma once

// KERNELS_HD marks functions and functors that run on both backends: compiled
// for the host by g++ and for the device by nvcc. Kernels are written once
// against it; no device lambdas, since g++ must compile the same code.
#if defined(__CUDACC__)
#define KERNELS_HD __host__ __device__
#else
#define KERNELS_HD
#endif
