#pragma once

// Grouping rows by equal key tuples, and per-group aggregates.

#include <cstdint>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/expr_program.h"
#include "kernels/memory.h"

namespace kernels {

// How GroupRows assigns rows to groups.
//   kSort: a stable LSD radix sort of the keys (a comparison sort for string
//     keys), then group boundaries where the key tuple changes.
//   kHash: keys that pack into one 64-bit word (fixed-width keys of 64 bits
//     or less in all, null flags included; or one nullable 64-bit key, its
//     nulls kept apart) go into an open-addressing table (linear probing, CAS
//     on 64-bit slots) that assigns group ids; the few distinct keys are
//     sorted, so ids follow key order; then the rows are ordered by group id
//     (a radix sort of 32-bit ids on CUDA, a counting sort on the host). On
//     the host, rows that need no order (GroupOptions::ordered false) are
//     counted per slot as they are inserted, in one pass, and keep their
//     slots (Groups::slot_groups), where the table has at most 2^16 slots.
//     Falls back to kSort when the keys do not pack or the table fills up.
//   kAuto: kHash when the keys pack, there are at least 2^16 rows, and a
//     sample of 2^14 rows spread over the input shows at most
//     hash_max_groups distinct keys and at most one per 100 rows (the table
//     then has four slots per key the sample saw, 8,192 at least, and grows
//     to the full size if more keys come); kSort otherwise.
enum class GroupMethod : uint8_t { kAuto, kHash, kSort };

// Bounds on an integer key's non-null values; lo > hi: none known.
struct KeyBounds {
  int64_t lo = 1;
  int64_t hi = 0;
  bool known() const { return lo <= hi; }
};

struct GroupOptions {
  GroupMethod method = GroupMethod::kAuto;
  // Most groups the hash table takes before falling back to sorting; the
  // table has twice as many slots, rounded up to a power of two. 0: the
  // default (kDefaultHashGroups).
  int64_t hash_max_groups = 0;
  // false: the caller reads the groups only through GroupFirstRows and
  // Aggregate, so GroupRows may leave Groups::order and Groups::ids empty
  // where the aggregates do without them: the host's hash path (its
  // aggregates read the rows in input order) then skips ordering the rows.
  bool ordered = true;
  // false: the caller takes the groups in any order (Groups::key_ordered
  // says which it got). A string key, or several keys, that are no one
  // radix word (several sort passes, or a comparison sort) are then grouped
  // by a 64-bit hash of each row's key
  // tuple (itself grouped as one key, as below) when the
  // columns have at most 4n rows, and every row's keys are then checked
  // against its group's first row's; two tuples of one hash send the rows
  // to the sort path instead. On the host, with `ordered` false too, keys
  // of one word that kAuto finds too many for its table (more than one per
  // 100 rows) are grouped by partitions: the rows radix-partitioned by
  // their word's hash, each partition's keys numbered by a table of its own
  // that stays in cache (groups in partition order), instead of sorted;
  // but for keys that already ascend (sampled neighbours), or of fewer
  // than two rows a group (a sample's estimate), which sort faster.
  bool key_order = true;
  // Per key (a missing entry: none known), bounds that every non-null value
  // of an integer key lies within: from a zone map, or a dictionary's codes
  // (kernels/dictionary.h).
  //   One key: where they span fewer values than hash_max_groups, the
  //   host's path for rows that need no order (see kHash) maps each int32
  //   or int64 key to its slot directly (key - lo: no hashing, and the
  //   slots are in key order). A key beyond them costs a second pass, by
  //   hashing.
  //   Several keys: each bounded key packs as its offset from lo, in the
  //   bits its span needs (with a null flag when nullable), so that keys of
  //   few values share one 64-bit word (then grouped as one key: hashed,
  //   or on that host path, when the word spans fewer values than
  //   hash_max_groups, the word is its slot). REQUIRES: the values lie
  //   within their bounds (one beyond them would join another tuple's group).
  std::vector<KeyBounds> key_bounds;
};

// The default of GroupOptions::hash_max_groups (chosen by kernels_bench:
// 1e4 groups of 1e7 rows hash in 45 ms, and sort in 240). kAuto sizes its
// table from its sample's keys, so that few groups keep a small one.
constexpr int64_t kDefaultHashGroups = 32768;

// Rows grouped by their key tuple: order[starts[g] .. starts[g+1]) are the
// rows of group g. Groups are in ascending key order, unless the caller
// allowed any (GroupOptions::key_order) and key_ordered is false (nulls first; two
// nulls are equal; NaN after every number, all NaNs equal, -0.0 == 0.0;
// strings bytewise); rows within a group keep their input order.
struct Groups {
  Buffer order;   // device int64[rows]; empty when unordered (GroupOptions::ordered)
  Buffer starts;  // device int64[count + 1]
  Buffer ids;     // device int32[rows]: ids[i] is the group of order[i] (non-decreasing); empty with order
  // Kept by the hash path on the host backend, where Aggregate reads the
  // rows in input order (sequentially) rather than through `order`; empty
  // otherwise: the group of the i-th input row, a copy of `rows` (empty
  // when GroupRows had all rows), and the first row of each group.
  // When the groups came without their order (GroupOptions::ordered),
  // row_groups may hold each row's hash table slot instead, and slot_groups
  // the group of each slot.
  // Slots are stored in the fewest bytes that hold them all (slot_bytes: 1,
  // 2 or 4): few groups write and read back a byte a row.
  Buffer row_groups;   // device int32[rows], or slots of slot_bytes each
  Buffer slot_groups;  // device uint32[slots]; empty: row_groups holds group ids
  int32_t slot_bytes = 4;
  Buffer input_rows;   // device int64[rows]
  Buffer first_rows;   // device int64[count]
  int64_t rows = 0;
  int64_t count = 0;
  GroupMethod method = GroupMethod::kSort;  // the method that produced the groups
  bool key_ordered = true;                  // groups in ascending key order (else by their tuple's hash)
};

// Groups `rows` (device int64[n]), or all rows 0..n-1 when null, by the
// values of `keys` (each with at least as many rows as the largest row index).
// Chooses the algorithm: hashing where it pays, sorting otherwise. No keys:
// one group of all rows (none when n == 0).
// REQUIRES: n < 2^31 (throws std::invalid_argument). Synchronizes to learn
// the group count (the hash path also to read its table's state: 2 or 3 times;
// the sort path of keys packing into one 64-bit word also to learn the words'
// range, which lets it sort them as 32 bits when they span less than 2^32).
Groups GroupRows(const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n, const Exec& exec);
Groups GroupRows(const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n,
                 const GroupOptions& options, const Exec& exec);

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
//   kArgMin, kArgMax: `target`'s layout, at the first row with the extreme;
//     null where the target is null at that row.
// Values order as GroupRows orders keys: NaN is greater than every number
// (so max of {1, NaN} is NaN), -0.0 == 0.0; count_distinct counts all NaNs
// as one value. Sums, means and variances follow IEEE arithmetic (a NaN
// makes them NaN).
// A group with no non-null value gives null (except the counts), so the
// result is nullable except for counts.
// REQUIRES: value numeric for kSum, kMean, kVar*, kStd*; target for kArg*;
// value (and target) hold every row of the groups. Throws
// std::invalid_argument otherwise.
// Synchronizes on CUDA (thrust::reduce_by_key returns where its output
// ends), and to size the bytes of a string result. Groups without their
// order (GroupOptions::ordered) are ordered here first where the aggregate
// needs it (kCountDistinct, or the CUDA backend's paths).
Column Aggregate(const Groups& groups, AggKind kind, const ColumnView* value, const ColumnView* target,
                 const Exec& exec);

// One aggregate of Aggregates: what Aggregate takes.
struct AggregateCall {
  AggKind kind = AggKind::kCount;
  const ColumnView* value = nullptr;
  const ColumnView* target = nullptr;
  // For kSum and kMean, instead of `value`: an expression's program whose
  // values are those Materialize(*program, 0, program_rows, true) gives
  // (rows of the groups index them). On the host, groups that keep their
  // rows' groups sum numeric programs as they evaluate them, a block of
  // rows at a time (gathered at the groups' rows when GroupRows had some
  // rows only), so the values are never stored; elsewhere the program is
  // materialized first. The same sums either way, bit for bit.
  const ProgramView* program = nullptr;
  int64_t program_rows = 0;
};

// Aggregate of each call, the same values as one Aggregate call each gives
// (sums added in the same order; a program's as Aggregate of its
// materialized values). On the host, the sums and the means of
// floats of groups that keep their rows' groups (GroupOptions::ordered
// false, few groups) read those groups once for all of them: one pass over
// the rows, blocks of rows at a time, each block's groups looked up once.
std::vector<Column> Aggregates(const Groups& groups, const std::vector<AggregateCall>& calls, const Exec& exec);

}  // namespace kernels
