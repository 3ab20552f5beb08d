#pragma once

// Equi-joins of two sides' rows on one device: a hash join whose build side
// is the smaller one. The build rows' key-tuple hashes go into an
// open-addressing table of their distinct values (a CAS claims a slot),
// each slot heading a chain of the rows of its hash (one atomic exchange a
// row, duplicates included); the probe rows, by blocks (a row per GPU
// thread, 4096 per CPU thread), count, then write, the build rows of their
// hashes (rows whose bit in the table's filter is clear skip the table;
// when the build hashes are all distinct a probe reads one slot and no
// chain; a CPU block keeps its first 4096 pairs as it counts and copies
// them rather than probe again; a probe of one key hashes its rows as it
// goes, an int or long key by a loop of its own), and the candidate pairs
// are kept when every key is equal. Memory: the table (at most half full,
// 16 bytes a slot), chains and hashes take 40 to 72 bytes per build row,
// the probe's hashes and counts 24 per probe row at most; when that passes
// half of what exec's memory limit leaves, both sides are split by hash
// into partitions joined one after another, so that only one partition's
// table is held at a time (the pairs, 16 bytes each, are the answer and
// are all held).
// Rows with a null key match nothing (SQL).

#include <cstdint>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/memory.h"

namespace kernels {

// Which unmatched rows a join keeps besides its matched pairs.
enum class JoinKind { kInner, kLeft, kRight, kFull };

// The rows of a join, as indices into each side's columns.
struct JoinResult {
  Buffer left, right;  // int64_t[pairs]: matched pairs, grouped by the probe (larger) side's row
  int64_t pairs = 0;
  Buffer left_only;  // int64_t[left_only_count]: left rows with no match (kLeft, kFull), ascending
  int64_t left_only_count = 0;
  Buffer right_only;  // int64_t[right_only_count]: right rows with no match (kRight, kFull), ascending
  int64_t right_only_count = 0;
  int64_t partitions = 1;  // how many passes the build side took
};

// Joins rows `left_rows` (nl entries; null: every row, nl being the
// columns' size) of `left_keys` with rows `right_rows` (nr; likewise) of
// `right_keys` where every key
// column equals its counterpart. Keys compare as group-by keys do (NaN ==
// NaN, -0.0 == 0.0, a charN equal to the same varchar), nulls never.
// REQUIRES: left_keys and right_keys of equal count, key k of one PhysType on
// both sides (strings: charN or varchar), all on exec's device.
JoinResult HashJoin(const std::vector<ColumnView>& left_keys, const int64_t* left_rows, int64_t nl,
                    const std::vector<ColumnView>& right_keys, const int64_t* right_rows, int64_t nr, JoinKind kind,
                    const Exec& exec);

}  // namespace kernels
