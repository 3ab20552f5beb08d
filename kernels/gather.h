#pragma once

#include <cstdint>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/filter.h"

namespace kernels {

// A new column holding src's rows at `indices` (device memory, `count`
// entries, each in [0, src.size)), in that order. Keeps a validity array when
// `nullable`. Works for every PhysType.
Column Gather(const ColumnView& src, const int64_t* indices, int64_t count, bool nullable,
              const Exec& exec);

// The rows of [0, n) that are not in `removed` (count distinct entries,
// each in [0, n)), ascending: device int64[n - count].
Buffer RowsNotIn(const int64_t* removed, int64_t count, int64_t n, const Exec& exec);

// The rows of [0, n) that are among `rows` (count entries, each in [0, n),
// duplicates allowed), each once, ascending.
Selection RowsIn(const int64_t* rows, int64_t count, int64_t n, const Exec& exec);

// A new column: `src`'s rows with row rows[i] replaced by row i of `values`
// (count rows, src's type and width), keeping a validity array when
// `nullable`. Fixed-width columns are copied and the new values scattered
// in; strings are gathered anew (ReplacementOrder). REQUIRES: rows holds
// count distinct entries in [0, src.size).
Column ReplaceRows(const ColumnView& src, const int64_t* rows, int64_t count, const ColumnView& values, bool nullable,
                   const Exec& exec);

// The gather order that replaces rows: entry r is n + i when r is
// updated[i], else r (device int64[n]); gathering it from a column's n rows
// followed by the `count` new rows puts each new row in its row's place.
// REQUIRES: updated holds count distinct entries in [0, n).
Buffer ReplacementOrder(const int64_t* updated, int64_t count, int64_t n, const Exec& exec);

}  // namespace kernels
