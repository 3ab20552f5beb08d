#pragma once

// Placing rows on the shards of a table: the shard of each row by a hash of
// its key columns, and the rows grouped by shard.

#include <cstdint>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/memory.h"

namespace kernels {

// The shard of each of rows 0..n-1: device int32[n], hash(key tuple) % shards.
// Rows with equal key tuples (null == null, NaN == NaN, -0.0 == 0.0, strings
// bytewise, a charN like a string of the same bytes) get the same shard, in
// any batch and on either backend.
// REQUIRES: keys non-empty, each with at least n rows; shards >= 1.
Buffer ShardOfRows(const std::vector<ColumnView>& keys, int64_t n, int shards, const Exec& exec);

// first, first + 1, ..., first + n - 1: device int64[n] (the positions of
// appended rows in their table).
Buffer RowPositions(int64_t first, int64_t n, const Exec& exec);

// Rows 0..n-1 grouped by their shard (`shard_of`, device int32[n], each in
// [0, shards)): order[starts[s] .. starts[s+1]) are the rows of shard s, in
// input order. `order` is on the device; `starts` (shards + 1 entries) on
// the host.
struct ShardPartition {
  Buffer order;
  std::vector<int64_t> starts;
};
ShardPartition PartitionRows(const int32_t* shard_of, int64_t n, int shards, const Exec& exec);

}  // namespace kernels
