#pragma once

#include <cstdint>

#include "kernels/backend.h"
#include "kernels/expr_program.h"
#include "kernels/memory.h"

namespace kernels {

// Row indices selected by a predicate, in ascending order, on the device.
struct Selection {
  Buffer indices;  // int64_t[count]
  int64_t count = 0;
};

// Writes mask[row - begin] = 1 where `predicate` is true (non-null and
// non-zero) for row in [begin, end), else 0. One pass of the predicate; a
// caller can fill one mask chunk by chunk.
// REQUIRES: every column of the predicate has at least `end` rows; `mask`
// holds end - begin bytes on exec's device.
void EvaluateMask(const ProgramView& predicate, int64_t begin, int64_t end, uint8_t* mask, const Exec& exec);

// The rows first + i where mask[i] != 0, for i in [0, n), in ascending order.
Selection Compact(const uint8_t* mask, int64_t first, int64_t n, const Exec& exec);

// EvaluateMask over [begin, end), then Compact.
Selection Select(const ProgramView& predicate, int64_t begin, int64_t end, const Exec& exec);

// Number of rows in [begin, end) where `predicate` is true.
int64_t Count(const ProgramView& predicate, int64_t begin, int64_t end, const Exec& exec);

}  // namespace kernels
