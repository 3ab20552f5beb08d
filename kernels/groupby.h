#pragma once

// Grouping rows by equal key tuples, and per-group aggregates.

#include <cstdint>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/memory.h"

namespace kernels {

// Rows grouped by their key tuple: order[starts[g] .. starts[g+1]) are the
// rows of group g. Groups are in ascending key order (nulls first; two
// nulls are equal); rows within a group keep their input order.
struct Groups {
  Buffer order;   // device int64[rows]
  Buffer starts;  // device int64[count + 1]
  int64_t rows = 0;
  int64_t count = 0;
};

// Groups `rows` (device int64[n]), or all rows 0..n-1 when null, by the
// values of `keys` (each with at least as many rows as the largest row index).
// Chooses the algorithm: hashing where it pays, sorting otherwise.
Groups GroupRows(const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n, const Exec& exec);

// The first row (in `order`) of each group: device int64[count].
Buffer GroupFirstRows(const Groups& groups, const Exec& exec);

enum class AggKind {
  kCount,          // non-null values (count(*) is the group size: give no value)
  kSum,
  kMin,
  kMax,
  kMean,
  kVarPop,
  kVarSamp,
  kStdPop,
  kStdSamp,
  kArgMin,         // `target` at the row where `value` is least
  kArgMax,         // `target` at the row where `value` is greatest
  kCountDistinct,  // distinct non-null values
};

// One value per group of an aggregate over `value` (a column indexed by row,
// like the keys; any PhysType), skipping nulls. Result layouts:
//   kCount, kCountDistinct: kInt64, never null (value == nullptr: group sizes).
//   kSum: kInt64 for integer values (wrapping), kFloat64 otherwise.
//   kMin, kMax: the value's own layout (strings compare bytewise).
//   kMean, kVar*, kStd*: kFloat64 (sample variants need two values).
//   kArgMin, kArgMax: `target`'s layout, at the first row with the extreme.
// A group with no non-null value gives null (except the counts), so the
// result is nullable except for counts.
// REQUIRES: value numeric for kSum, kMean, kVar*, kStd*; target for kArg*.
Column Aggregate(const Groups& groups, AggKind kind, const ColumnView* value, const ColumnView* target,
                 const Exec& exec);

}  // namespace kernels
