#pragma once

#include <cstdint>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/expr_program.h"

namespace kernels {

// The value of `value` for each row in [begin, end), as a new column of
// end - begin rows: an int result becomes kInt64, a float result kFloat64,
// a string result kVarChars (its fold applied). Nulls are kept when
// `nullable`; otherwise a null row holds 0 or an empty string.
// Computed columns, group keys and sort keys over expressions use this.
// A string result evaluates the program twice per row (lengths, then bytes).
// REQUIRES: every column of the program has at least `end` rows.
Column Materialize(const ProgramView& value, int64_t begin, int64_t end, bool nullable, const Exec& exec);

}  // namespace kernels
