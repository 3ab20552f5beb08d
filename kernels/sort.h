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
// strings compare bytewise (unsigned; a charN ends at its first zero byte).
// Ascending, a key orders null < numbers < NaN (all NaNs equal, -0.0 ==
// 0.0); descending reverses that: NaN first, nulls last. Returns a device
// int64[n]; no keys: `rows` (or 0..n-1) unchanged.
// Fixed-width keys use radix sort: the keys are cut into bit fields (a null
// flag, the value, charN in 8-byte chunks up to 32 bytes) that are packed
// into as few 32- or 64-bit words as they fit, and the words are sorted
// least significant first with a stable radix sort. Strings (and charN wider
// than 32 bytes) take a stable comparison sort in that sequence, of (8-byte
// prefix, row) pairs that read the strings only where prefixes tie; over
// 2^16 rows or more whose sample shows at most one distinct value per 16
// rows, they are replaced by their values' ranks (the rows grouped by the
// value's hash, the distinct values sorted), which the radix sort takes.
// Does not synchronize.
Buffer SortOrder(const std::vector<SortKey>& keys, const int64_t* rows, int64_t n, const Exec& exec);

// The first min(k, n) entries of SortOrder(keys, rows, n, exec), ties and
// all, as a device int64[min(k, n)] (empty for k == 0 or n <= 0); k must be
// >= 0. When k is small next to n (k <= max(2^16, n / 64), 4k <= n, and n
// past k + max(k, 4096)), the rows are not all sorted: a radix selection on the sort's key bits (11 bits
// a pass over the rows still in question, starting below the bits they all
// share) narrows them to the rows up to the k-th key, and only those are
// sorted. Strings select on their first 8 bytes, so rows that share them
// with the k-th row all stay candidates. Otherwise it is SortOrder, cut.
// Does not synchronize beyond reading the selection's small counts.
Buffer TopKOrder(const std::vector<SortKey>& keys, const int64_t* rows, int64_t n, int64_t k,
                 const Exec& exec);

}  // namespace kernels
