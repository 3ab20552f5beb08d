#pragma once

// Window functions (SQL's OVER (PARTITION BY ... ORDER BY ...)): a value
// for every row computed over the rows of its partition in the window's
// order.

#include <cstdint>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/sort.h"

namespace kernels {

enum class WindowKind {
  kRowNumber,  // 1, 2, ... in the window's order
  kRank,       // 1 + the rows before the row's first peer (ties share a rank, then a gap)
  kDenseRank,  // the row's peer group, counted from 1 (no gaps)
  kLag,        // `value` `offset` rows earlier in the partition, else null
  kLead,       // `value` `offset` rows later in the partition, else null
  kCount,      // non-null values (no value: rows) in the frame
  kSum,
  kMin,
  kMax,
  kMean,
};

struct WindowSpec {
  WindowKind kind = WindowKind::kRowNumber;
  std::vector<ColumnView> partition;  // PARTITION BY keys; none: one partition of every row
  std::vector<SortKey> order;         // ORDER BY keys; none: every row of a partition is a peer
  const ColumnView* value = nullptr;  // the argument (kLag, kLead, the aggregates; kCount: none counts rows)
  int64_t offset = 1;                 // kLag, kLead: rows away, >= 0
};

// The window function for each of the rows 0..n-1 (the result's row r is
// row r's value). Rows are ordered by the partition keys, then the order
// keys (as SortOrder orders: ascending nulls first, descending reverses),
// stably; peers are rows of a partition with equal order keys (keys
// compare as group-by keys do). The aggregates' frame is the whole
// partition without order keys, else the partition's rows up to the row's
// last peer (SQL's default RANGE UNBOUNDED PRECEDING AND CURRENT ROW).
// Result layouts: kRowNumber, kRank, kDenseRank, kCount: kInt64, never
// null; kLag, kLead: the value's own numeric layout, nullable; kSum, kMin,
// kMax: kInt64 for integer values, else kFloat64; kMean: kFloat64;
// aggregates over a frame of no non-null value are null.
// REQUIRES: at most 8 partition keys and 8 order keys, each holding n rows;
// `value` numeric with n rows where the kind takes one (kCount: any type, only
// its nulls are read). Throws std::invalid_argument otherwise.
Column Window(const WindowSpec& spec, int64_t n, const Exec& exec);

}  // namespace kernels
