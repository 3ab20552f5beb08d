// Zone maps (kernels/zone_map.h): each zone's range of values, and the
// rows of chosen zones up to a rank; one thread (or OpenMP iteration) a
// zone, reading its rows in order (the bounds with the type resolved once
// per zone).

#pragma once

#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

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

// Rows [begin, end) of values `data` (validity: null when none).
template <typename T>
KERNELS_HD Zone ZoneOfRows(const T* data, const uint8_t* validity, int64_t begin, int64_t end) {
  Zone z;
  if (validity == nullptr) {
    uint64_t lo = ~uint64_t{0}, hi = 0;
    for (int64_t r = begin; r < end; ++r) {
      const uint64_t b = ZoneBits(data[r]);
      lo = b < lo ? b : lo;
      hi = b > hi ? b : hi;
    }
    z.lo = lo;
    z.hi = hi;
    z.values = end - begin;
    return z;
  }
  for (int64_t r = begin; r < end; ++r) {
    if (validity[r] == 0) {
      ++z.nulls;
      continue;
    }
    const uint64_t b = ZoneBits(data[r]);
    z.lo = b < z.lo ? b : z.lo;
    z.hi = b > z.hi ? b : z.hi;
    ++z.values;
  }
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
