#pragma once

#include <cstdint>

#include "kernels/backend.h"
#include "kernels/column.h"

namespace kernels {

// A new column holding src's rows at `indices` (device memory, `count`
// entries, each in [0, src.size)), in that order. Keeps a validity array when
// `nullable`. Works for every PhysType.
Column Gather(const ColumnView& src, const int64_t* indices, int64_t count, bool nullable,
              const Exec& exec);

}  // namespace kernels
