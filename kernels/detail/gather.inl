// Gathers of rows by index (Ops: GatherFixed, GatherOffsets, GatherChars,
// AddToOffsets), written once as templates over a Thrust execution policy:
// fixed-width rows, and strings as offsets (an exclusive scan of the
// lengths) then bytes. Instantiated through AlgorithmOps (algorithm_ops.inl)
// in host_ops.cc and cuda_ops.cu.

#pragma once

#include <thrust/fill.h>
#include <thrust/for_each.h>
#include <thrust/gather.h>
#include <thrust/scatter.h>
#include <thrust/scan.h>
#include <thrust/transform.h>

#include <cstdint>

#include "kernels/detail/rows.h"
#include "kernels/hd.h"

namespace kernels::detail {

struct GatherBytes {
  const char* src;
  int32_t width;
  const int64_t* idx;
  char* dst;
  KERNELS_HD void operator()(int64_t i) const {
    const char* s = src + idx[i] * static_cast<int64_t>(width);
    char* d = dst + i * static_cast<int64_t>(width);
    if (width % 8 == 0) {  // charN of 8 bytes or more: rows of whole, aligned words
      const uint64_t* s8 = reinterpret_cast<const uint64_t*>(s);
      uint64_t* d8 = reinterpret_cast<uint64_t*>(d);
      for (int32_t k = 0; k < width / 8; ++k) d8[k] = s8[k];
      return;
    }
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

struct CodeOf {
  const int32_t* map;
  KERNELS_HD int32_t operator()(int32_t code) const { return map[code]; }
};

// out[i] = map[codes[i]]; out may be codes.
template <typename Policy>
void MapCodesImpl(Policy&& policy, const int32_t* codes, int64_t n, const int32_t* map, int32_t* out) {
  thrust::transform(policy, codes, codes + n, out, CodeOf{map});
}

struct ScatterBytes {
  const char* src;
  int32_t width;
  const int64_t* idx;
  char* dst;

  KERNELS_HD void operator()(int64_t i) const {
    for (int32_t b = 0; b < width; ++b) dst[idx[i] * width + b] = src[i * width + b];
  }
};

// dst[idx[i]] = src[i] for rows of `width` bytes.
template <typename Policy>
void ScatterFixedImpl(Policy&& policy, const void* src, int32_t width, const int64_t* idx, int64_t n, void* dst) {
  switch (width) {
    case 1:
      thrust::scatter(policy, static_cast<const uint8_t*>(src), static_cast<const uint8_t*>(src) + n, idx,
                      static_cast<uint8_t*>(dst));
      return;
    case 2:
      thrust::scatter(policy, static_cast<const uint16_t*>(src), static_cast<const uint16_t*>(src) + n, idx,
                      static_cast<uint16_t*>(dst));
      return;
    case 4:
      thrust::scatter(policy, static_cast<const uint32_t*>(src), static_cast<const uint32_t*>(src) + n, idx,
                      static_cast<uint32_t*>(dst));
      return;
    case 8:
      thrust::scatter(policy, static_cast<const uint64_t*>(src), static_cast<const uint64_t*>(src) + n, idx,
                      static_cast<uint64_t*>(dst));
      return;
    default:
      thrust::for_each_n(policy, RowIterator(0), n,
                         ScatterBytes{static_cast<const char*>(src), width, idx, static_cast<char*>(dst)});
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

}  // namespace kernels::detail
