#pragma once

#include <cstdint>

#include "kernels/backend.h"
#include "kernels/expr_vm.h"
#include "kernels/memory.h"

namespace kernels {

// Row indices selected by a predicate, in ascending order, on the device.
struct Selection {
  Buffer indices;  // int64_t[count]
  int64_t count = 0;
};

// Evaluates `predicate` once for each row in [begin, end) and returns the rows
// where it is true (non-null and non-zero). One pass of the predicate.
// REQUIRES: every column of the predicate has at least `end` rows.
Selection Select(const ProgramView& predicate, int64_t begin, int64_t end, const Exec& exec);

// Number of rows in [begin, end) where `predicate` is true.
int64_t Count(const ProgramView& predicate, int64_t begin, int64_t end, const Exec& exec);

}  // namespace kernels
