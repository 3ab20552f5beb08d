#pragma once

#include <cstdint>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/memory.h"

namespace kernels {

struct SortKey {
  ColumnView column;
  bool descending = false;
};

// Row indices in sorted order: `rows` (device int64[n]), or all rows
// 0..n-1 when `rows` is null, ordered by the keys (the first key first),
// stably, so equal tuples keep their input order. Every PhysType is a key;
// strings compare bytewise; nulls come first ascending and last descending;
// NaN sorts after every number. Returns a device int64[n].
// Fixed-width keys use radix sort; string keys a comparison sort.
Buffer SortOrder(const std::vector<SortKey>& keys, const int64_t* rows, int64_t n, const Exec& exec);

}  // namespace kernels
