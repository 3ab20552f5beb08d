// Zone maps (kernels/zone_map.h): each zone's range of values, and the
// rows of chosen zones up to a rank; one thread (or OpenMP iteration) a
// zone, reading its rows in order (the bounds with the type resolved once
// per zone).

#pragma once

#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cmath>
#include <cstdint>

#include "kernels/column.h"
#include "kernels/detail/row_values.h"
#include "kernels/hd.h"
#include "kernels/zone_map.h"

namespace kernels::detail {

KERNELS_HD inline uint64_t ZoneBits(int8_t v) { return static_cast<uint8_t>(v) ^ 0x80u; }
KERNELS_HD inline uint64_t ZoneBits(int16_t v) { return static_cast<uint16_t>(v) ^ 0x8000u; }
KERNELS_HD inline uint64_t ZoneBits(int32_t v) { return static_cast<uint32_t>(v) ^ 0x80000000u; }
KERNELS_HD inline uint64_t ZoneBits(int64_t v) { return static_cast<uint64_t>(v) ^ 0x8000000000000000ull; }
KERNELS_HD inline uint64_t ZoneBits(float v) { return FloatOrderBits(v); }
KERNELS_HD inline uint64_t ZoneBits(double v) { return DoubleOrderBits(v); }

// The starting extremes of a zone's loop: lo above and hi below every value.
KERNELS_HD inline void ZoneStart(int8_t* lo, int8_t* hi) { *lo = 127, *hi = -128; }
KERNELS_HD inline void ZoneStart(int16_t* lo, int16_t* hi) { *lo = 32767, *hi = -32768; }
KERNELS_HD inline void ZoneStart(int32_t* lo, int32_t* hi) { *lo = 2147483647, *hi = -2147483647 - 1; }
KERNELS_HD inline void ZoneStart(int64_t* lo, int64_t* hi) {
  *lo = 9223372036854775807ll, *hi = -9223372036854775807ll - 1;
}
KERNELS_HD inline void ZoneStart(float* lo, float* hi) { *lo = INFINITY, *hi = -INFINITY; }
KERNELS_HD inline void ZoneStart(double* lo, double* hi) { *lo = INFINITY, *hi = -INFINITY; }

// NaN's order image in a float type (integers have none: 0, never read).
template <typename T>
KERNELS_HD uint64_t NanBits(T) {
  return 0;
}
KERNELS_HD inline uint64_t NanBits(float) { return FloatOrderBits(NAN); }
KERNELS_HD inline uint64_t NanBits(double) { return DoubleOrderBits(NAN); }

// Rows [begin, end) of values `data` (validity: null when none). The
// extremes are found in the values' own type (loops the compiler
// vectorizes; NaN fails both comparisons and is only noted), then turned
// into order images: NaN's above +inf.
template <typename T>
KERNELS_HD Zone ZoneOfRows(const T* data, const uint8_t* validity, int64_t begin, int64_t end) {
  T lo, hi;
  ZoneStart(&lo, &hi);
  int nan = 0;
  int64_t values = 0;
  if (validity == nullptr) {
    // Four running pairs, so that the comparisons of one row do not wait
    // for the last row's.
    T l[4], h[4];
    for (int k = 0; k < 4; ++k) ZoneStart(&l[k], &h[k]);
    int64_t r = begin;
    for (; r + 4 <= end; r += 4) {
      for (int k = 0; k < 4; ++k) {
        const T v = data[r + k];
        l[k] = v < l[k] ? v : l[k];
        h[k] = v > h[k] ? v : h[k];
        nan |= v != v;
      }
    }
    for (; r < end; ++r) {
      const T v = data[r];
      l[0] = v < l[0] ? v : l[0];
      h[0] = v > h[0] ? v : h[0];
      nan |= v != v;
    }
    for (int k = 0; k < 4; ++k) {
      lo = l[k] < lo ? l[k] : lo;
      hi = h[k] > hi ? h[k] : hi;
    }
    values = end - begin;
  } else {
    for (int64_t r = begin; r < end; ++r) {
      if (validity[r] == 0) continue;
      const T v = data[r];
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
      nan |= v != v;
      ++values;
    }
  }
  Zone z;
  z.values = values;
  z.nulls = end - begin - values;
  if (values == 0) return z;
  z.lo = lo > hi ? NanBits(lo) : ZoneBits(lo);  // lo > hi: every value NaN
  z.hi = nan != 0 ? NanBits(hi) : ZoneBits(hi);
  return z;
}

// out[z - first] = zone z of `column` (rows [0, column.size)).
struct ComputeZone {
  ColumnView column;
  int64_t first;
  Zone* out;
  KERNELS_HD void operator()(int64_t z) const {
    const int64_t begin = z * kZoneRows;
    const int64_t end = begin + kZoneRows < column.size ? begin + kZoneRows : column.size;
    const uint8_t* v = column.validity;
    Zone zone;
    switch (column.type) {
      case PhysType::kInt8: zone = ZoneOfRows(static_cast<const int8_t*>(column.data), v, begin, end); break;
      case PhysType::kInt16: zone = ZoneOfRows(static_cast<const int16_t*>(column.data), v, begin, end); break;
      case PhysType::kInt32: zone = ZoneOfRows(static_cast<const int32_t*>(column.data), v, begin, end); break;
      case PhysType::kInt64: zone = ZoneOfRows(static_cast<const int64_t*>(column.data), v, begin, end); break;
      case PhysType::kFloat32: zone = ZoneOfRows(static_cast<const float*>(column.data), v, begin, end); break;
      case PhysType::kFloat64: zone = ZoneOfRows(static_cast<const double*>(column.data), v, begin, end); break;
      default: break;
    }
    out[z - first] = zone;
  }
};

// Calls fn(row) for each row of zone z of `column` whose key ranks at or
// before `bound`, in order.
template <typename Fn>
KERNELS_HD void ForZoneRowsAtMost(const ColumnView& column, int64_t z, const RankBound& bound, Fn&& fn) {
  const int64_t begin = z * kZoneRows;
  const int64_t end = begin + kZoneRows < column.size ? begin + kZoneRows : column.size;
  for (int64_t r = begin; r < end; ++r) {
    const bool valid = column.is_valid(r);
    if (RankAtMost(bound, valid, valid ? OrderBits(column, r, 0, 0) : 0)) fn(r);
  }
}

struct CountZoneRowsAtMost {
  ColumnView column;
  const int64_t* zones;
  RankBound bound;
  int64_t* counts;
  KERNELS_HD void operator()(int64_t i) const {
    int64_t c = 0;
    ForZoneRowsAtMost(column, zones[i], bound, [&c](int64_t) { ++c; });
    counts[i] = c;
  }
};

struct WriteZoneRowsAtMost {
  ColumnView column;
  const int64_t* zones;
  RankBound bound;
  const int64_t* offsets;
  int64_t* out;
  KERNELS_HD void operator()(int64_t i) const {
    int64_t* o = out + offsets[i];
    ForZoneRowsAtMost(column, zones[i], bound, [&o](int64_t r) { *o++ = r; });
  }
};

template <typename Policy>
void CountZoneRowsAtMostImpl(Policy&& policy, const ColumnView& column, const int64_t* zones, int64_t n,
                             const RankBound& bound, int64_t* counts) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   CountZoneRowsAtMost{column, zones, bound, counts});
}

template <typename Policy>
void WriteZoneRowsAtMostImpl(Policy&& policy, const ColumnView& column, const int64_t* zones, int64_t n,
                             const RankBound& bound, const int64_t* offsets, int64_t* out) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   WriteZoneRowsAtMost{column, zones, bound, offsets, out});
}

template <typename Policy>
void ComputeZonesImpl(Policy&& policy, const ColumnView& column, int64_t first, int64_t count, Zone* out) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(first), thrust::counting_iterator<int64_t>(first + count),
                   ComputeZone{column, first, out});
}

}  // namespace kernels::detail
