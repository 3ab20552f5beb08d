// How the algorithms of this folder walk rows: RowIterator, the index
// sequence every Thrust call runs over; and, for backends with few, fat
// threads (the host), whether to take their own paths (SerialGroups) and how
// many runs to cut the rows into (RunsFor).

#pragma once

#include <thrust/iterator/counting_iterator.h>

#include <cstdint>

namespace kernels::detail {

using RowIterator = thrust::counting_iterator<int64_t>;

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

}  // namespace kernels::detail
