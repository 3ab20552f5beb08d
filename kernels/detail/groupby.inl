// Group-by (GroupRows and GroupFirstRows in groupby.h): keys packed into one
// radix word go through an open-addressing hash table when it pays (kAuto
// samples first) and the groups fit; otherwise the rows are sorted by the
// sort plan (sort.inl) and groups start where the key changes. Hashed rows
// are put in group order by a counting sort on a backend with few threads,
// by radix sort otherwise. Templates over a backend D (see
// AnalyticsAlgorithms in analytics_algorithms.inl for what D supplies).

#pragma once

#include <thrust/fill.h>
#include <thrust/functional.h>
#include <thrust/for_each.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/scan.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <vector>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/detail/atomics.h"
#include "kernels/detail/row_values.h"
#include "kernels/detail/rows.h"
#include "kernels/detail/sort.inl"
#include "kernels/groupby.h"
#include "kernels/hd.h"
#include "kernels/memory.h"
#include "kernels/statistics.h"

namespace kernels::detail {

// flags[i] = 1 where sorted word i starts a new group.
template <typename K>
struct WordChanged {
  const K* words;
  KERNELS_HD uint8_t operator()(int64_t i) const { return i == 0 || words[i] != words[i - 1] ? 1 : 0; }
};

// flags[i] |= 1 where the key of row perm[i] differs from that of perm[i - 1].
struct MarkKeyChange {
  ColumnView col;
  const int64_t* perm;
  uint8_t* flags;
  KERNELS_HD void operator()(int64_t i) const {
    if (i == 0) {
      flags[0] = 1;
    } else if (!RowKeysEqual(col, perm[i - 1], perm[i])) {
      flags[i] = 1;
    }
  }
};

// The group-start flag of position i, except position 0: scanned into ids.
struct LaterStart {
  const uint8_t* flags;
  KERNELS_HD int32_t operator()(int64_t i) const { return i > 0 && flags[i] != 0 ? 1 : 0; }
};

constexpr AtomicWord kEmptySlot = ~AtomicWord{0};

KERNELS_HD inline uint64_t HashWord(uint64_t k) {
  k ^= k >> 33;
  k *= 0xFF51AFD7ED558CCDull;
  k ^= k >> 33;
  k *= 0xC4CEB9FE1A85EC53ull;
  k ^= k >> 33;
  return k;
}

// Indices into HashInsert::status.
constexpr int kHashDistinct = 0;
constexpr int kHashOverflow = 1;
constexpr int kHashSentinel = 2;
constexpr int kHashNull = 3;

// HashInsert::SlotOf's answer once the table has overflowed.
constexpr uint32_t kNoSlot = ~uint32_t{0};

// Inserts the packed key of row rows[i * stride] (or i * stride) into an
// open-addressing table of mask + 1 slots (linear probing, CAS on 64-bit
// slots); writes the slot to slot_of[i * stride] when slot_of is given. Two
// keys live outside the table: the one equal to the empty-slot marker
// (possible only for a 64-bit word) gets slot mask + 1, and a row that is
// null in `nulls` (a nullable key whose null flag did not fit in the word)
// gets slot mask + 2. Counts distinct keys; past `limit` of them, or when
// probing finds no slot, raises the overflow flag, and every row stops early.
struct HashInsert {
  RadixWord word;
  // 8 or 4: the word is one non-null, ascending int64 or int32 field at
  // shift 0, read directly rather than through PackWord; 0: PackWord.
  int32_t direct;
  const uint8_t* nulls;
  const int64_t* rows;
  int64_t stride;
  AtomicWord* table;
  uint64_t mask;
  uint32_t* slot_of;
  AtomicWord* status;
  AtomicWord limit;
  // True: the table is not used, and a key's slot is key - index_lo (with
  // `direct`) or its packed word; a key beyond slot `mask` raises the
  // overflow flag.
  bool indexed;
  int64_t index_lo;
  // The slot of input position `pos`, its key inserted; kNoSlot once the
  // table has overflowed.
  KERNELS_HD uint32_t SlotOf(int64_t pos) const {
    const int64_t row = rows != nullptr ? rows[pos] : pos;
    if (nulls != nullptr && nulls[row] == 0) {
      AtomicWrite(&status[kHashNull], 1);
      return static_cast<uint32_t>(mask + 2);
    }
    const ColumnView& c = word.fields[0].col;
    if (indexed) {
      const uint64_t slot =
          direct == 0 ? PackWord(word, row)
                      : static_cast<uint64_t>(direct == 8 ? static_cast<const int64_t*>(c.data)[row]
                                                          : static_cast<const int32_t*>(c.data)[row]) -
                            static_cast<uint64_t>(index_lo);
      if (slot <= mask) return static_cast<uint32_t>(slot);
      AtomicWrite(&status[kHashOverflow], 1);
      return kNoSlot;
    }
    const AtomicWord key =
        direct == 8   ? static_cast<uint64_t>(static_cast<const int64_t*>(c.data)[row]) ^ 0x8000000000000000ull
        : direct == 4 ? static_cast<uint64_t>(static_cast<uint32_t>(static_cast<const int32_t*>(c.data)[row]) ^
                                              0x80000000u)
                      : PackWord(word, row);
    if (key == kEmptySlot) {
      AtomicWrite(&status[kHashSentinel], 1);
      return static_cast<uint32_t>(mask + 1);
    }
    if (AtomicRead(&status[kHashOverflow]) != 0) return kNoSlot;
    uint64_t h = HashWord(key) & mask;
    for (uint64_t probe = 0; probe <= mask; ++probe) {
      AtomicWord cur = table[h];
      if (cur == kEmptySlot) {
        cur = AtomicCas(&table[h], kEmptySlot, key);
        if (cur == kEmptySlot) {
          if (AtomicAdd(&status[kHashDistinct], 1) + 1 > limit) AtomicWrite(&status[kHashOverflow], 1);
          cur = key;
        }
      }
      if (cur == key) return static_cast<uint32_t>(h);
      h = (h + 1) & mask;
    }
    AtomicWrite(&status[kHashOverflow], 1);
    return kNoSlot;
  }
  KERNELS_HD void operator()(int64_t i) const {
    const int64_t pos = i * stride;
    const uint32_t slot = SlotOf(pos);
    if (slot_of != nullptr && slot != kNoSlot) slot_of[pos] = slot;
  }
};

// The most table slots CountedInsertRun counts into (kernels_bench: past
// them, zeroing per-run counters costs more than the counting sort), but
// for the dense path's (kDenseSlots).
constexpr int64_t kCountedSlots = int64_t{1} << 16;

// Counters per slot that CountedInsertRun keeps in each run, where the
// slots are few: consecutive rows count into different ones, so that rows
// of one key close together (few keys) do not wait on each other's
// increments. Many slots (the dense path) count into one: their rows seldom
// meet, and every lane costs zeroing and reading back per run.
constexpr int64_t kCountLanes = 4;
// The lanes of a run of `slots` slots: kCountLanes up to kCountedSlots, 1 past.
inline int64_t CountLanesFor(int64_t slots) { return slots <= kCountedSlots + 2 ? kCountLanes : 1; }

// The host's insert pass when the rows need no order (GroupOptions::ordered
// false; SerialGroups): runs of rows, each inserting its rows (HashInsert,
// stride 1), counting them per slot and noting each slot's
// first position in its own part of `local` (runs x (lanes + 1) x slots
// uint32 words: the lanes' counts and the run's first position of each
// slot; slots = mask + 3: the table's and the two keys outside it); then
// adding its counts to `sizes` and lowering `firsts` (the least input
// position of each slot; ~0 for none) where it saw the slot.
//
// Each row's slot goes to `slot_out` as an S: the narrowest of uint8_t,
// uint16_t and uint32_t that holds `slots` (Groups::slot_bytes), so that few
// groups write and read back a byte a row, not four.
template <typename S>
struct CountedInsertRun {
  HashInsert insert;
  S* slot_out;
  int64_t n, chunk, slots;
  int64_t lanes;  // 1 or kCountLanes (CountLanesFor)
  uint32_t* local;
  AtomicWord* sizes;
  AtomicWord* firsts;
  KERNELS_HD void operator()(int64_t c) const {
    const int64_t begin = c * chunk, end = begin + chunk < n ? begin + chunk : n;
    // Per slot s: its lanes' counts at cells[s * (lanes + 1) + lane], then
    // its first position (less `begin`): one cache line a row.
    uint32_t* cells = local + c * (lanes + 1) * slots;
    for (int64_t s = 0; s < slots; ++s) {
      for (int64_t l = 0; l < lanes; ++l) cells[s * (lanes + 1) + l] = 0;
      cells[s * (lanes + 1) + lanes] = kNoSlot;
    }
    const HashInsert in = insert;  // a copy the stores below cannot alias
    const void* keys = in.word.fields[0].col.data;
    if (in.indexed && in.direct == 8 && in.rows == nullptr) {
      if (!Direct(static_cast<const int64_t*>(keys), begin, end, cells)) return;
    } else if (in.indexed && in.direct == 4 && in.rows == nullptr) {
      if (!Direct(static_cast<const int32_t*>(keys), begin, end, cells)) return;
    } else {
      for (int64_t i = begin; i < end; ++i) {
        const uint32_t s = in.SlotOf(i);
        if (s == kNoSlot) return;  // overflowed: the caller falls back to sorting
        slot_out[i] = static_cast<S>(s);
        Count(cells, s, i - begin);
      }
    }
    for (int64_t s = 0; s < slots; ++s) {
      const uint32_t* cell = cells + s * (lanes + 1);
      if (cell[lanes] == kNoSlot) continue;
      AtomicWord total = 0;
      for (int64_t l = 0; l < lanes; ++l) total += cell[l];
      AtomicAdd(&sizes[s], total);
      AtomicMin(&firsts[s], static_cast<AtomicWord>(begin + cell[lanes]));
    }
  }
  // Counts the row at `offset` (from the run's start) in slot s.
  KERNELS_HD void Count(uint32_t* cells, uint64_t s, int64_t offset) const {
    uint32_t* cell = cells + s * static_cast<uint64_t>(lanes + 1);
    ++cell[static_cast<uint64_t>(offset) & static_cast<uint64_t>(lanes - 1)];
    if (cell[lanes] == kNoSlot) cell[lanes] = static_cast<uint32_t>(offset);
  }
  // SlotOf's loop for one integer key of all rows mapped to its slot
  // directly (the usual bounded key), without SlotOf's branches; false
  // (the overflow flag raised) at a key beyond the slots. Null rows (a
  // nullable key's `nulls`) go to slot mask + 2, as SlotOf sends them.
  template <typename K>
  KERNELS_HD bool Direct(const K* keys, int64_t begin, int64_t end, uint32_t* cells) const {
    const uint64_t lo = static_cast<uint64_t>(insert.index_lo);
    const uint8_t* nulls = insert.nulls;
    bool saw_null = false;
    for (int64_t i = begin; i < end; ++i) {
      uint64_t s = static_cast<uint64_t>(static_cast<int64_t>(keys[i])) - lo;
      if (nulls != nullptr && nulls[i] == 0) {
        s = insert.mask + 2;
        saw_null = true;
      } else if (s > insert.mask) {
        AtomicWrite(&insert.status[kHashOverflow], 1);
        return false;
      }
      slot_out[i] = static_cast<S>(s);
      Count(cells, s, i - begin);
    }
    if (saw_null) AtomicWrite(&insert.status[kHashNull], 1);
    return true;
  }
};

// 1 where CountedInsertRun counted rows in the slot.
struct SlotCounted {
  const AtomicWord* sizes;
  KERNELS_HD uint32_t operator()(int64_t s) const { return sizes[s] != 0 ? 1 : 0; }
};

// Per group, from CountedInsertRun's per-slot sizes and first positions:
// its size and its first row (through `rows`, when given).
struct SlotGroupSizes {
  const AtomicWord* sizes;
  const AtomicWord* firsts;
  const uint32_t* group_of_slot;
  const int64_t* rows;
  int64_t* group_sizes;
  int64_t* first_rows;
  KERNELS_HD void operator()(int64_t s) const {
    if (sizes[s] == 0) return;
    const uint32_t g = group_of_slot[s];
    group_sizes[g] = static_cast<int64_t>(sizes[s]);
    const int64_t pos = static_cast<int64_t>(firsts[s]);
    first_rows[g] = rows != nullptr ? rows[pos] : pos;
  }
};

// The hash table slot at input position i of Groups::row_groups holding
// slots of `bytes` bytes each (Groups::slot_bytes). Narrower slots come
// only from the host's counted insert pass (CountedInsertRun): device code
// reads 4 bytes (three widths there cost cicc minutes per translation unit).
KERNELS_HD inline uint32_t SlotAt(const void* slots, int32_t bytes, int64_t i) {
#ifdef __CUDA_ARCH__
  (void)bytes;
  return static_cast<const uint32_t*>(slots)[i];
#else
  return bytes == 1   ? static_cast<const uint8_t*>(slots)[i]
         : bytes == 2 ? static_cast<const uint16_t*>(slots)[i]
                      : static_cast<const uint32_t*>(slots)[i];
#endif
}

// The group of input position i from Groups::row_groups (and slot_groups,
// where row_groups holds hash table slots).
struct RowGroupOf {
  const void* row_groups;       // int32 ids, or slots of slot_bytes each
  const uint32_t* slot_groups;  // null: row_groups holds the ids
  int32_t slot_bytes = 4;
  KERNELS_HD int32_t operator()(int64_t i) const {
    return slot_groups != nullptr ? static_cast<int32_t>(slot_groups[SlotAt(row_groups, slot_bytes, i)])
                                  : static_cast<const int32_t*>(row_groups)[i];
  }
};

inline RowGroupOf RowGroupsOf(const Groups& g) {
  return RowGroupOf{g.row_groups.data(), g.slot_groups.size() > 0 ? g.slot_groups.as<uint32_t>() : nullptr,
                    g.slot_bytes};
}

// Groups::row_groups's slots widened to uint32.
struct WidenSlot {
  const void* slots;
  int32_t bytes;
  KERNELS_HD uint32_t operator()(int64_t i) const { return SlotAt(slots, bytes, i); }
};

struct SlotUsed {
  const AtomicWord* table;
  KERNELS_HD uint8_t operator()(int64_t s) const { return table[s] != kEmptySlot ? 1 : 0; }
};

struct RankSlots {
  const int64_t* sorted_slots;
  uint32_t first;  // the id of the least key
  uint32_t* group_of_slot;
  KERNELS_HD void operator()(int64_t j) const {
    group_of_slot[sorted_slots[j]] = first + static_cast<uint32_t>(j);
  }
};

struct SlotToGroup {
  const uint32_t* group_of_slot;
  KERNELS_HD uint32_t operator()(uint32_t slot) const { return group_of_slot[slot]; }
};

// A stable counting sort of rows by small group ids, for backends with few
// threads (SerialGroups): the rows are cut into `chunks` runs; each run
// counts its ids into its column of a count x chunks matrix; an exclusive
// scan in (id, run) order gives each run its first slot per id; then each
// run places its rows, in order.
// `first` (when given, count x chunks like the matrix): the first input
// position of each id in each run, where the run has the id.
// `map` (when given): gid holds hash slots, mapped here in place to their
// ids (map[slot]) as they are counted, saving a pass over the rows.
struct ChunkCount {
  uint32_t* gid;
  int64_t n, chunk, chunks;
  int64_t* matrix;
  int64_t* first;
  const uint32_t* map;
  KERNELS_HD void operator()(int64_t c) const {
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    if (map != nullptr) {
      for (int64_t i = c * chunk; i < end; ++i) {
        const uint32_t g = map[gid[i]];
        gid[i] = g;
        const int64_t cell = static_cast<int64_t>(g) * chunks + c;
        if (first != nullptr && matrix[cell] == 0) first[cell] = i;
        ++matrix[cell];
      }
      return;
    }
    if (first == nullptr) {
      for (int64_t i = c * chunk; i < end; ++i) ++matrix[gid[i] * chunks + c];
      return;
    }
    for (int64_t i = c * chunk; i < end; ++i) {
      const int64_t cell = static_cast<int64_t>(gid[i]) * chunks + c;
      if (matrix[cell]++ == 0) first[cell] = i;
    }
  }
};

// The first row of group g: its first position in the first run that has
// it (every group has a row), mapped through `rows`.
struct FirstRowOfGroup {
  const int64_t* matrix;  // counts, before the scan
  const int64_t* first;
  const int64_t* rows;
  int64_t chunks;
  KERNELS_HD int64_t operator()(int64_t g) const {
    int64_t c = 0;
    while (c + 1 < chunks && matrix[g * chunks + c] == 0) ++c;
    const int64_t pos = first[g * chunks + c];
    return rows != nullptr ? rows[pos] : pos;
  }
};

struct ChunkPlace {
  const uint32_t* gid;
  const int64_t* rows;
  int64_t n, chunk, chunks;
  int64_t* matrix;
  int64_t* order;
  int32_t* ids;
  KERNELS_HD void operator()(int64_t c) const {
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    for (int64_t i = c * chunk; i < end; ++i) {
      const uint32_t g = gid[i];
      const int64_t slot = matrix[g * chunks + c]++;
      order[slot] = rows != nullptr ? rows[i] : i;
      ids[slot] = static_cast<int32_t>(g);
    }
  }
};

struct FirstOfRun {
  const int64_t* matrix;
  int64_t chunks;
  KERNELS_HD int64_t operator()(int64_t g) const { return matrix[g * chunks]; }
};

// Fills g->starts from the ids of the input rows (`gid`, each below
// g->count), and either g->order and g->ids (`ordered`) or g->first_rows.
// `map` (when given): gid holds hash slots, replaced here by map[slot].
template <typename D>
void PlaceRows(const D& be, uint32_t* gid, const int64_t* rows, bool ordered, Groups* g, const Exec& exec,
               const uint32_t* map = nullptr) {
  const int64_t n = g->rows, count = g->count;
  const int64_t chunks = RunsFor(n, count);
  const int64_t chunk = (n + chunks - 1) / chunks;
  const int64_t cells = count * chunks;
  Buffer matrix(static_cast<size_t>(cells) * sizeof(int64_t), exec);
  Buffer first(ordered ? 0 : static_cast<size_t>(cells) * sizeof(int64_t), exec);
  int64_t* m = matrix.as<int64_t>();
  be.Fill(m, 0, matrix.size(), exec);
  thrust::for_each_n(be.policy(exec), RowIterator(0), chunks,
                     ChunkCount{gid, n, chunk, chunks, m, first.as<int64_t>(), map});
  if (!ordered) {
    g->first_rows = Buffer(static_cast<size_t>(count) * sizeof(int64_t), exec);
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(count), g->first_rows.as<int64_t>(),
                      FirstRowOfGroup{m, first.as<int64_t>(), rows, chunks});
    first.Reset();
  }
  thrust::exclusive_scan(be.policy(exec), m, m + cells, m);
  g->starts = Buffer(static_cast<size_t>(count + 1) * sizeof(int64_t), exec);
  int64_t* starts = g->starts.as<int64_t>();
  thrust::transform(be.policy(exec), RowIterator(0), RowIterator(count), starts, FirstOfRun{m, chunks});
  thrust::fill_n(be.policy(exec), starts + count, 1, n);
  if (!ordered) return;
  g->order = Buffer(static_cast<size_t>(n) * sizeof(int64_t), exec);
  g->ids = Buffer(static_cast<size_t>(n) * sizeof(int32_t), exec);
  thrust::for_each_n(
      be.policy(exec), RowIterator(0), chunks,
      ChunkPlace{gid, rows, n, chunk, chunks, m, g->order.as<int64_t>(), g->ids.as<int32_t>()});
}

// Keeps the ids per input row (and a copy of `rows`) in the groups, for
// aggregates that read the rows in input order; orders the rows when
// `ordered`, else keeps each group's first row instead. `map`: as PlaceRows.
template <typename D>
Groups CountingSortGroups(const D& be, Buffer row_groups, const int64_t* rows, int64_t n, int64_t count,
                          bool ordered, const Exec& exec, const uint32_t* map = nullptr) {
  Groups g;
  g.rows = n;
  g.count = count;
  g.method = GroupMethod::kHash;
  PlaceRows(be, row_groups.as<uint32_t>(), rows, ordered, &g, exec, map);
  if (rows != nullptr) g.input_rows = RowsOrIota(be, rows, n, exec);
  g.row_groups = std::move(row_groups);
  return g;
}

// The groups of CountedInsertRun's pass: each input row keeps its slot
// (row_groups), mapped to its group by `group_of_slot` (slot_groups); the
// groups' sizes and first rows come from the per-slot `sizes` and `firsts`.
template <typename D>
Groups SlotGroups(const D& be, Buffer slot_of, int32_t slot_bytes, Buffer group_of_slot, const Buffer& sizes,
                  const Buffer& firsts, int64_t slot_count, const int64_t* rows, int64_t n, int64_t count,
                  const Exec& exec) {
  Groups g;
  g.rows = n;
  g.count = count;
  g.method = GroupMethod::kHash;
  Buffer group_sizes(static_cast<size_t>(count) * sizeof(int64_t), exec);
  g.first_rows = Buffer(static_cast<size_t>(count) * sizeof(int64_t), exec);
  thrust::for_each_n(be.policy(exec), RowIterator(0), slot_count,
                     SlotGroupSizes{sizes.as<AtomicWord>(), firsts.as<AtomicWord>(), group_of_slot.as<uint32_t>(),
                                    rows, group_sizes.as<int64_t>(), g.first_rows.as<int64_t>()});
  g.starts = Buffer(static_cast<size_t>(count + 1) * sizeof(int64_t), exec);
  int64_t* starts = g.starts.as<int64_t>();
  const int64_t* size = group_sizes.as<int64_t>();
  thrust::exclusive_scan(be.policy(exec), size, size + count, starts);
  thrust::fill_n(be.policy(exec), starts + count, 1, n);
  if (rows != nullptr) g.input_rows = RowsOrIota(be, rows, n, exec);
  g.row_groups = std::move(slot_of);
  g.slot_bytes = slot_bytes;
  g.slot_groups = std::move(group_of_slot);
  return g;
}

// `groups` (from CountingSortGroups or SlotGroups) with the rows in group order: for an
// aggregate that needs the order of groups made without it.
template <typename D>
Groups OrderedGroups(const D& be, const Groups& groups, const Exec& exec) {
  Groups g;
  g.rows = groups.rows;
  g.count = groups.count;
  g.method = groups.method;
  const int64_t* rows = groups.input_rows.size() > 0 ? groups.input_rows.as<int64_t>() : nullptr;
  if (groups.slot_groups.size() > 0) {  // slots: mapped to ids in a copy as they are counted
    Buffer ids(static_cast<size_t>(groups.rows) * sizeof(uint32_t), exec);
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(groups.rows), ids.as<uint32_t>(),
                      WidenSlot{groups.row_groups.data(), groups.slot_bytes});
    PlaceRows(be, ids.as<uint32_t>(), rows, true, &g, exec, groups.slot_groups.as<uint32_t>());
    return g;
  }
  PlaceRows(be, const_cast<uint32_t*>(groups.row_groups.as<uint32_t>()), rows, true, &g, exec);
  return g;
}

// Groups from the rows in group order (`order`) and the start flags
// (flags[0] == 1); computes ids from the flags unless given.
template <typename D>
Groups FinishGroups(const D& be, Buffer order, Buffer flags, Buffer ids, int64_t n, int64_t count,
                    GroupMethod method, const Exec& exec) {
  const uint8_t* f = flags.as<uint8_t>();
  if (count < 0) count = be.CountNonZero(f, n, exec);
  Groups g;
  g.rows = n;
  g.count = count;
  g.method = method;
  g.starts = Buffer(static_cast<size_t>(count + 1) * sizeof(int64_t), exec);
  int64_t* starts = g.starts.as<int64_t>();
  be.CompactIndices(f, 0, n, starts, exec);
  thrust::fill_n(be.policy(exec), starts + count, 1, n);
  if (ids.size() == 0) {
    ids = Buffer(static_cast<size_t>(n) * sizeof(int32_t), exec);
    auto first = thrust::make_transform_iterator(RowIterator(0), LaterStart{f});
    thrust::inclusive_scan(be.policy(exec), first, first + n, ids.as<int32_t>());
  }
  g.order = std::move(order);
  g.ids = std::move(ids);
  return g;
}

inline int64_t NextPow2(int64_t v) {
  int64_t p = 1;
  while (p < v) p <<= 1;
  return p;
}

// Rows below which kAuto sorts without trying the table (kernels_bench).
constexpr int64_t kHashMinRows = int64_t{1} << 16;
// Rows kAuto inserts first, spread over the input, to estimate the groups.
constexpr int64_t kHashSampleRows = int64_t{1} << 14;
// kAuto hashes only when the sample's distinct keys are at most one per
// this many rows: on the host, counting sort and per-run partials cost per
// group, and lose to sorting below ~100 rows per group (kernels_bench).
constexpr int64_t kHashRowsPerGroup = 100;

// The most slots of the host's dense path: one integer key whose bounds
// (GroupOptions::key_bounds) span at most this many values, and at most one
// per kDenseRowsPerSlot rows, maps each row to its slot (key - lo) whatever
// the groups: no sample, no hash table, no sort (kernels_bench
// groupby_sum_count/keys:1e6/bounds: 1e6 groups of 1e7 rows in 172 ms
// against sorting's 382; of 1e6 rows, where zeroing and merging the runs'
// counters and sums cost as much as the rows, sorting takes 34 ms and this
// path 242).
constexpr int64_t kDenseSlots = int64_t{1} << 22;
constexpr int64_t kDenseRowsPerSlot = 8;

// Whether an integer key of `type` and `bounds` over n rows takes the dense
// path: on the host, for rows that need no order.
template <typename D>
bool DenseKey(const D& be, PhysType type, const KeyBounds& bounds, int64_t n, const GroupOptions& options) {
  if (!SerialGroups(be) || options.ordered || !bounds.known()) return false;
  if (type != PhysType::kInt64 && type != PhysType::kInt32) return false;
  const uint64_t span = static_cast<uint64_t>(bounds.hi) - static_cast<uint64_t>(bounds.lo);
  return span < static_cast<uint64_t>(kDenseSlots) && span * kDenseRowsPerSlot < static_cast<uint64_t>(n);
}

// Host-only functors of KeyBoundsOf: a null row gives {max, min}, which
// every merge (a plain min and max) passes over, and which is no bounds
// (lo > hi) when every row is null.
template <typename T>
struct IntValueBounds {
  const T* data;
  const uint8_t* validity;
  const int64_t* rows;
  KeyBounds operator()(int64_t i) const {
    const int64_t row = rows != nullptr ? rows[i] : i;
    if (validity != nullptr && validity[row] == 0)
      return KeyBounds{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
    return KeyBounds{data[row], data[row]};
  }
};
struct MergeKeyBounds {
  KeyBounds operator()(const KeyBounds& a, const KeyBounds& b) const {
    return KeyBounds{a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi};
  }
};

// The least and greatest non-null value of an int32 or int64 `col` over
// `rows` (all rows when null), for the host's dense path; none known for
// other types or no values. Host backends only (a pass over the rows).
template <typename D>
KeyBounds KeyBoundsOf(const D& be, const ColumnView& col, const int64_t* rows, int64_t n, const Exec& exec) {
  const KeyBounds none{std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
  const auto bounds = [&](auto* data) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(data)>>;
    return thrust::transform_reduce(be.policy(exec), RowIterator(0), RowIterator(n),
                                    IntValueBounds<T>{data, col.validity, rows}, none, MergeKeyBounds());
  };
  if (col.type == PhysType::kInt64) return bounds(static_cast<const int64_t*>(col.data));
  if (col.type == PhysType::kInt32) return bounds(static_cast<const int32_t*>(col.data));
  return KeyBounds();
}

// The hash path of GroupRows; returns false (having allocated nothing that
// outlives it) when the table fills up.
// `nulls`: the validity of a key whose null flag is not in `word` (rows
// null there are one group, the first), or null.
template <typename D>
bool HashGroups(const D& be, const RadixWord& word, const uint8_t* nulls, const int64_t* rows, int64_t n,
                const GroupOptions& options, Groups* out, const Exec& exec) {
  const int64_t limit = options.hash_max_groups > 0 ? options.hash_max_groups : kDefaultHashGroups;
  if (limit >= (int64_t{1} << 30)) return false;
  // The table for `limit` keys; a sample that shows far fewer shrinks it
  // below (grown back when it fills up).
  const int64_t full_slots = NextPow2(limit * 2 < 64 ? 64 : limit * 2);
  int64_t slots = full_slots;
  Buffer table(static_cast<size_t>(slots) * sizeof(AtomicWord), exec);
  be.Fill(table.data(), 0xFF, table.size(), exec);
  Buffer status(4 * sizeof(AtomicWord), exec);
  be.Fill(status.data(), 0, status.size(), exec);
  AtomicWord* t = table.as<AtomicWord>();
  AtomicWord* st = status.as<AtomicWord>();
  AtomicWord host_status[4];
  const KeyField& f0 = word.fields[0];
  const bool plain = word.count == 1 && f0.kind == FieldKind::kValue && f0.shift == 0 && f0.index == nullptr &&
                     !f0.descending && f0.col.validity == nullptr;
  const int32_t direct = !plain                                   ? 0
                         : f0.col.type == PhysType::kInt64 ? 8
                         : f0.col.type == PhysType::kInt32 ? 4
                                                           : 0;
  HashInsert insert{word, direct, nulls, rows, 1, t, static_cast<uint64_t>(slots - 1),
                    nullptr, st, static_cast<AtomicWord>(limit), false, 0};
  const KeyBounds bounds = options.key_bounds.empty() ? KeyBounds() : options.key_bounds[0];
  // A dense key maps to its slots directly however many groups it has: no
  // sample, no table.
  const bool dense = direct != 0 && DenseKey(be, f0.col.type, bounds, n, options);
  if (options.method == GroupMethod::kAuto && n >= 4 * kHashSampleRows && !dense) {
    insert.stride = n / kHashSampleRows;
    thrust::for_each_n(be.policy(exec), RowIterator(0), kHashSampleRows, insert);
    be.CopyToHostSync(host_status, st, sizeof(host_status), exec);
    const int64_t seen = static_cast<int64_t>(host_status[kHashDistinct]);
    if (host_status[kHashOverflow] != 0 || seen * kHashRowsPerGroup > n) return false;
    insert.stride = 1;
    // Four slots per key the sample saw, 8,192 at least (kernels_bench:
    // smaller tables count slower): a table that stays in cache and is quick
    // to clear and count into (keys the sample missed may fill it up: the
    // full table then).
    const int64_t fit = NextPow2(4 * seen < 8192 ? 8192 : 4 * seen);
    if (fit < slots) {
      slots = fit;
      table = Buffer(static_cast<size_t>(slots) * sizeof(AtomicWord), exec);
      be.Fill(table.data(), 0xFF, table.size(), exec);
      be.Fill(status.data(), 0, status.size(), exec);
      insert.table = t = table.as<AtomicWord>();
      insert.mask = static_cast<uint64_t>(slots - 1);
      insert.limit = static_cast<AtomicWord>(slots / 2);
    }
  }
  // On the host, rows that need no order are counted per slot as they go
  // in, and keep their slots (mapped to groups by Groups::slot_groups).
  // Each run zeroes counters for every slot: for tables of at most
  // kCountedSlots slots (the default's 65,536 among them).
  const bool counted = SerialGroups(be) && !options.ordered && (full_slots <= kCountedSlots || dense);
  // Each row's slot: 4 bytes, or on the counted path the fewest bytes that
  // hold the table's slots (allocated per attempt, as the table may grow).
  Buffer slot_of;
  int32_t slot_bytes = 4;
  if (!counted) {
    slot_of = Buffer(static_cast<size_t>(n) * sizeof(uint32_t), exec);
    insert.slot_of = slot_of.as<uint32_t>();
  }
  Buffer sizes, firsts;
  // Keys of fewer values than the groups allowed, or dense, map to their
  // slots directly, the slots in key order, as many as the keys span: an
  // integer key within bounds (GroupOptions::key_bounds), or a word of few
  // bits (bounded keys packed).
  const uint64_t span = direct != 0 ? static_cast<uint64_t>(bounds.hi) - static_cast<uint64_t>(bounds.lo)
                        : word.bits < 32 && nulls == nullptr ? (uint64_t{1} << word.bits) - 1
                                                             : ~uint64_t{0};
  insert.indexed = dense || (counted && (direct == 0 || bounds.known()) && span < static_cast<uint64_t>(limit));
  insert.index_lo = direct != 0 ? bounds.lo : 0;
  const int64_t table_slots = slots;
  if (insert.indexed) {
    slots = static_cast<int64_t>(span) + 1;
    insert.mask = static_cast<uint64_t>(slots - 1);
  }
  for (;;) {
    const int64_t slot_count = slots + 2;  // the table's and the two keys outside it
    if (counted) {
      if constexpr (D::kHasSerialGroups) {
        sizes = Buffer(static_cast<size_t>(slot_count) * sizeof(AtomicWord), exec);
        be.Fill(sizes.data(), 0, sizes.size(), exec);
        firsts = Buffer(static_cast<size_t>(slot_count) * sizeof(AtomicWord), exec);
        be.Fill(firsts.data(), 0xFF, firsts.size(), exec);
        // Few runs, each zeroing its counters: two per thread, for balance
        // (one per thread past kCountedSlots: each run's counters are then
        // as big as a share of the rows).
        const int64_t lanes = CountLanesFor(slot_count);
        const int64_t runs = std::min(RunsFor(n, slot_count), (lanes == 1 ? 1 : 2) * be.threads());
        Buffer local(static_cast<size_t>(runs * (lanes + 1) * slot_count) * sizeof(uint32_t), exec);
        const auto count_into = [&](auto* out) {
          using S = std::remove_pointer_t<decltype(out)>;
          thrust::for_each_n(be.policy(exec), RowIterator(0), runs,
                             CountedInsertRun<S>{insert, out, n, (n + runs - 1) / runs, slot_count, lanes,
                                                 local.as<uint32_t>(), sizes.as<AtomicWord>(),
                                                 firsts.as<AtomicWord>()});
        };
        slot_bytes = slot_count <= 256 ? 1 : slot_count <= 65536 ? 2 : 4;
        slot_of = Buffer(static_cast<size_t>(n) * static_cast<size_t>(slot_bytes), exec);
        if (slot_bytes == 1) {
          count_into(slot_of.as<uint8_t>());
        } else if (slot_bytes == 2) {
          count_into(slot_of.as<uint16_t>());
        } else {
          count_into(slot_of.as<uint32_t>());
        }
      }
    } else {
      thrust::for_each_n(be.policy(exec), RowIterator(0), n, insert);
    }
    be.CopyToHostSync(host_status, st, sizeof(host_status), exec);
    if (host_status[kHashOverflow] == 0) break;
    if (insert.indexed) {
      // A key beyond the bounds: hash after all, in a table counted into.
      if (full_slots > kCountedSlots) return false;
      insert.indexed = false;
      slots = table_slots;
      insert.mask = static_cast<uint64_t>(slots - 1);
    } else if (slots < full_slots) {
      // More keys than the sample suggested: the full table, from the start.
      slots = full_slots;
      table = Buffer(static_cast<size_t>(slots) * sizeof(AtomicWord), exec);
      be.Fill(table.data(), 0xFF, table.size(), exec);
      insert.table = t = table.as<AtomicWord>();
      insert.mask = static_cast<uint64_t>(slots - 1);
      insert.limit = static_cast<AtomicWord>(limit);
      be.Fill(st, 0, status.size(), exec);
      continue;
    } else {
      return false;
    }
    be.Fill(st + kHashOverflow, 0, sizeof(AtomicWord), exec);
  }
  const int64_t slot_count = slots + 2;
  if (insert.indexed) {
    // The slots counted, numbered in order after the null group.
    const SlotCounted used{sizes.as<AtomicWord>()};
    const int64_t distinct = thrust::transform_reduce(be.policy(exec), RowIterator(0), RowIterator(slots), used,
                                                      int64_t{0}, thrust::plus<int64_t>());
    const uint32_t first = host_status[kHashNull] != 0 ? 1 : 0;
    Buffer group_of_slot(static_cast<size_t>(slot_count) * sizeof(uint32_t), exec);
    uint32_t* group_of = group_of_slot.as<uint32_t>();
    const auto used_at = thrust::make_transform_iterator(RowIterator(0), used);
    thrust::exclusive_scan(be.policy(exec), used_at, used_at + slots, group_of, first);
    if (first != 0) thrust::fill_n(be.policy(exec), group_of + slots + 1, 1, uint32_t{0});
    table.Reset();
    *out = SlotGroups(be, std::move(slot_of), slot_bytes, std::move(group_of_slot), sizes, firsts, slot_count, rows,
                      n, distinct + first, exec);
    return true;
  }
  const int64_t distinct = static_cast<int64_t>(host_status[kHashDistinct]);
  const bool sentinel = host_status[kHashSentinel] != 0;
  const bool null_group = host_status[kHashNull] != 0;
  const uint32_t first = null_group ? 1 : 0;
  if (distinct + (sentinel ? 1 : 0) + first > limit)
    return false;  // the two keys outside the table count too

  // Number the distinct keys in ascending order: sort the (few) used slots by key.
  Buffer used(static_cast<size_t>(slots), exec);
  thrust::transform(be.policy(exec), RowIterator(0), RowIterator(slots), used.as<uint8_t>(), SlotUsed{t});
  Buffer sorted_slots(static_cast<size_t>(distinct) * sizeof(int64_t), exec);
  be.CompactIndices(used.as<uint8_t>(), 0, slots, sorted_slots.as<int64_t>(), exec);
  Buffer keys(static_cast<size_t>(distinct) * sizeof(uint64_t), exec);
  be.GatherFixed(t, 8, sorted_slots.as<int64_t>(), distinct, keys.data(), exec);
  StableSortPairs(be, keys.as<uint64_t>(), sorted_slots.as<int64_t>(), distinct, exec);
  Buffer group_of_slot(static_cast<size_t>(slots + 2) * sizeof(uint32_t), exec);
  uint32_t* group_of = group_of_slot.as<uint32_t>();
  thrust::for_each_n(be.policy(exec), RowIterator(0), distinct,
                     RankSlots{sorted_slots.as<int64_t>(), first, group_of});
  // The key equal to the marker is the largest word: the last group. Nulls
  // of a key whose flag is outside the word come first.
  if (sentinel) thrust::fill_n(be.policy(exec), group_of + slots, 1, first + static_cast<uint32_t>(distinct));
  if (null_group) thrust::fill_n(be.policy(exec), group_of + slots + 1, 1, uint32_t{0});
  table.Reset();
  used.Reset();
  keys.Reset();
  sorted_slots.Reset();

  // Counted rows need no order. Else rows in group order: a stable sort by
  // the group id, counting on a backend with few threads (which maps the
  // slots to ids as it counts), else radix.
  const int64_t count = distinct + (sentinel ? 1 : 0) + first;
  if (counted) {
    *out = SlotGroups(be, std::move(slot_of), slot_bytes, std::move(group_of_slot), sizes, firsts, slot_count, rows,
                      n, count, exec);
    return true;
  }
  if (SerialGroups(be)) {
    *out = CountingSortGroups(be, std::move(slot_of), rows, n, count, options.ordered, exec, group_of);
    return true;
  }
  uint32_t* gid = slot_of.as<uint32_t>();
  thrust::transform(be.policy(exec), gid, gid + n, gid, SlotToGroup{group_of});
  group_of_slot.Reset();
  Buffer order = RowsOrIota(be, rows, n, exec);
  StableSortPairs(be, gid, order.as<int64_t>(), n, exec);
  Buffer flags(static_cast<size_t>(n), exec);
  thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), flags.as<uint8_t>(),
                    WordChanged<uint32_t>{gid});
  *out = FinishGroups(be, std::move(order), std::move(flags), std::move(slot_of), n, count,
                      GroupMethod::kHash, exec);
  return true;
}

// The host's path for many groups (more than one per kHashRowsPerGroup rows,
// where the one table of HashGroups would not stay in cache) of rows that
// need no order and no key order (GroupOptions::ordered and key_order
// false): the rows' packed words are radix-partitioned by their hash in one
// pass (as DuckDB's and other engines' aggregations do), so that each
// partition's keys fit a table in cache; each partition is then grouped
// alone, its keys numbered as they first come; the numbers, made global,
// go back to the rows' input positions (Groups::row_groups). The groups
// come in partition order, not key order (Groups::key_ordered false); each
// group's first row is its first in input order (the partitions keep it).

// Keys per partition, about (the groups estimated from a sample): a
// partition's table (two to four slots a key, 12 bytes each) then fits a
// core's L2 cache. Partitions by rows instead (2^17 each) left 79,000 keys
// a partition for 632,000 groups of 1e6 rows, their tables 3 MB: 2x slower.
constexpr int64_t kPartitionKeys = int64_t{1} << 14;
constexpr int kMaxPartitionBits = 10;
// Rows sampled for the estimate.
constexpr int64_t kPartitionSample = int64_t{1} << 14;

// The groups of the rows' words, estimated from the distinct words among
// kPartitionSample rows spread over them: pairs of sampled rows meet in a
// group about s^2 / 2G times, and each meeting costs a distinct word. Host
// memory only.
inline int64_t EstimateWordGroups(const RadixWord& word, const int64_t* rows, int64_t n) {
  const int64_t s = std::min(n, kPartitionSample);
  const PackKeys<uint64_t> pack{word, rows};
  std::vector<uint64_t> sample(static_cast<size_t>(s));
  for (int64_t k = 0; k < s; ++k) sample[static_cast<size_t>(k)] = pack(k * (n / s));
  std::sort(sample.begin(), sample.end());
  const int64_t seen = std::unique(sample.begin(), sample.end()) - sample.begin();
  const int64_t meetings = s - seen;
  if (meetings <= 0) return n;
  const double g = static_cast<double>(s) * static_cast<double>(s) / (2.0 * static_cast<double>(meetings));
  return std::max<int64_t>(seen, std::min<int64_t>(n, static_cast<int64_t>(g)));
}

// A row's place in its partition: its key word and input position, written
// together (one stream per partition).
struct PartEntry {
  uint64_t word;
  uint64_t position;
};

// ORs field f's bits of positions [begin, begin + m) (rows through `rows`
// when given) into out[0, m): a typed loop for an integer taken less its
// lo (the usual bounded key), PackWord's per row otherwise.
inline void PackField(const KeyField& f, const int64_t* rows, int64_t begin, int64_t m, uint64_t* out) {
  const bool plain = f.kind == FieldKind::kPlain && f.index == nullptr && rows == nullptr && !f.descending &&
                     f.col.validity == nullptr;
  const uint64_t lo = static_cast<uint64_t>(f.lo);
  const auto typed = [&](const auto* x) {
    for (int64_t k = 0; k < m; ++k) out[k] |= (static_cast<uint64_t>(static_cast<int64_t>(x[k])) - lo) << f.shift;
  };
  if (plain && f.col.type == PhysType::kInt32) {
    typed(static_cast<const int32_t*>(f.col.data) + begin);
  } else if (plain && f.col.type == PhysType::kInt64) {
    typed(static_cast<const int64_t*>(f.col.data) + begin);
  } else {
    for (int64_t k = 0; k < m; ++k) out[k] |= FieldBits(f, rows != nullptr ? rows[begin + k] : begin + k) << f.shift;
  }
}

// Run r of the rows: packs each row's key word into words[i] (a block of
// rows a field at a time) and counts the words per partition (the top
// `bits` of HashWord) into its own counts[r * partitions ...].
struct PartitionCount {
  RadixWord word;
  const int64_t* rows;
  int64_t n, chunk;
  int bits;
  uint64_t* words;
  uint32_t* counts;
  void operator()(int64_t r) const {
    const int64_t begin = r * chunk, end = begin + chunk < n ? begin + chunk : n;
    uint32_t* c = counts + (r << bits);
    constexpr int64_t kBlock = 512;
    for (int64_t b = begin; b < end; b += kBlock) {
      const int64_t m = end - b < kBlock ? end - b : kBlock;
      uint64_t* out = words + b;
      for (int64_t k = 0; k < m; ++k) out[k] = 0;
      for (int32_t f = 0; f < word.count; ++f) PackField(word.fields[f], rows, b, m, out);
      for (int64_t k = 0; k < m; ++k) ++c[HashWord(out[k]) >> (64 - bits)];
    }
  }
};

// Run r again: each word and its input position into its partition's
// place, from the run's first place in each partition (at[r * partitions
// + p]), in input order.
struct PartitionScatter {
  const uint64_t* words;
  int64_t n, chunk;
  int bits;
  const uint32_t* at;
  PartEntry* entries;
  void operator()(int64_t r) const {
    const int64_t begin = r * chunk, end = begin + chunk < n ? begin + chunk : n;
    std::vector<uint32_t> next(at + (r << bits), at + ((r + 1) << bits));
    for (int64_t i = begin; i < end; ++i) {
      const uint64_t w = words[i];
      entries[next[HashWord(w) >> (64 - bits)]++] = PartEntry{w, static_cast<uint64_t>(i)};
    }
  }
};

// Run r groups partitions r, r + runs, ...: partition p's places [starts[p],
// starts[p + 1]) each get their key's number within the partition
// (local_ids), numbered as the keys first come; the key numbered k has its
// size at sizes[starts[p] + k] and its first input position at firsts[...];
// distinct[p]: the partition's keys. An open-addressing table per
// partition (linear probing on the low bits of HashWord), grown as keys come.
struct PartitionGroup {
  const PartEntry* entries;
  const uint32_t* starts;
  int64_t partitions, runs;
  int64_t keys_each;  // the keys expected in a partition
  uint32_t* local_ids;
  uint32_t* sizes;
  uint32_t* firsts;
  uint32_t* distinct;
  void operator()(int64_t r) const {
    constexpr uint32_t kEmpty = ~uint32_t{0};
    // The table, and the one it grows from: kept for the run's partitions
    // (allocated once, not per table).
    std::vector<uint64_t> keys, old_keys;
    std::vector<uint32_t> ids, old_ids;
    for (int64_t p = r; p < partitions; p += runs) {
      const uint32_t begin = starts[p], end = starts[p + 1];
      uint64_t slots = 64;  // two per row, up to four per key expected; doubled when half full
      while (slots < 2 * static_cast<uint64_t>(end - begin) && slots < 4 * static_cast<uint64_t>(keys_each)) slots *= 2;
      keys.resize(slots);
      ids.assign(slots, kEmpty);
      uint64_t mask = slots - 1;
      uint32_t count = 0;
      for (uint32_t j = begin; j < end; ++j) {
        const uint64_t w = entries[j].word;
        uint64_t s = HashWord(w) & mask;
        while (ids[s] != kEmpty && keys[s] != w) s = (s + 1) & mask;
        uint32_t id = ids[s];
        if (id == kEmpty) {
          id = count++;
          keys[s] = w;
          ids[s] = id;
          sizes[begin + id] = 0;
          firsts[begin + id] = static_cast<uint32_t>(entries[j].position);
          if (2 * static_cast<uint64_t>(count) > slots) {  // grow: every key again, in a table twice as big
            keys.swap(old_keys);
            ids.swap(old_ids);
            slots *= 2;
            mask = slots - 1;
            keys.resize(slots);
            ids.assign(slots, kEmpty);
            for (size_t o = 0; o < slots / 2; ++o) {
              if (old_ids[o] == kEmpty) continue;
              uint64_t t = HashWord(old_keys[o]) & mask;
              while (ids[t] != kEmpty) t = (t + 1) & mask;
              keys[t] = old_keys[o];
              ids[t] = old_ids[o];
            }
          }
        }
        ++sizes[begin + id];
        local_ids[j] = id;
      }
      distinct[p] = count;
    }
  }
};

// Run r again, over its partitions: each place's group (its partition's
// first group, `base`, plus its number) to the row's input position in
// row_groups, and each group's size and first row (through `rows`, when
// given) to its place among all groups.
struct PartitionFinish {
  const PartEntry* entries;
  const uint32_t* starts;
  const uint32_t* local_ids;
  const uint32_t* sizes;
  const uint32_t* firsts;
  const uint32_t* distinct;
  const int64_t* base;
  const int64_t* rows;
  int64_t partitions, runs;
  int32_t* row_groups;
  int64_t* group_sizes;
  int64_t* first_rows;
  void operator()(int64_t r) const {
    for (int64_t p = r; p < partitions; p += runs) {
      const uint32_t begin = starts[p], end = starts[p + 1];
      const int64_t b = base[p];
      for (uint32_t j = begin; j < end; ++j) row_groups[entries[j].position] = static_cast<int32_t>(b + local_ids[j]);
      for (uint32_t k = 0; k < distinct[p]; ++k) {
        group_sizes[b + k] = sizes[begin + k];
        const int64_t first = firsts[begin + k];
        first_rows[b + k] = rows != nullptr ? rows[first] : first;
      }
    }
  }
};

// Whether the words of the rows mostly ascend already, as a table's key
// or its time order do (9 in 10 of 1,024 pairs of neighbouring rows spread
// over the input in order): the radix sort then moves them at memory speed
// and finds each group's rows together, where partitions would scatter
// them (tpch_bench s_top_groups, 1.5e6 groups of o_orderkey: sorted 68 ms,
// partitioned 131). Host memory only.
inline bool WordsMostlyAscend(const RadixWord& word, const int64_t* rows, int64_t n) {
  constexpr int64_t kPairs = 1024;
  const PackKeys<uint64_t> pack{word, rows};
  const int64_t stride = std::max<int64_t>(1, (n - 1) / kPairs);
  int64_t pairs = 0, ascending = 0;
  for (int64_t p = 0; p + 1 < n && pairs < kPairs; p += stride, ++pairs) ascending += pack(p) <= pack(p + 1) ? 1 : 0;
  return ascending * 10 >= pairs * 9;
}

// Groups `rows` (all when null) by their packed `word` as above, about
// `groups` of them (EstimateWordGroups). Host backends only (SerialGroups).
template <typename D>
Groups PartitionedGroups(const D& be, const RadixWord& word, const int64_t* rows, int64_t n, int64_t groups,
                         const Exec& exec) {
  int bits = 1;
  while (bits < kMaxPartitionBits && (kPartitionKeys << bits) < groups) ++bits;
  const int64_t partitions = int64_t{1} << bits;
  const int64_t runs = std::max<int64_t>(1, std::min<int64_t>(be.threads(), n / 4096 + 1));
  const int64_t chunk = (n + runs - 1) / runs;
  Buffer words(static_cast<size_t>(n) * sizeof(uint64_t), exec);
  Buffer counts(static_cast<size_t>(runs * partitions) * sizeof(uint32_t), exec);
  be.Fill(counts.data(), 0, counts.size(), exec);
  thrust::for_each_n(be.policy(exec), RowIterator(0), runs,
                     PartitionCount{word, rows, n, chunk, bits, words.as<uint64_t>(), counts.as<uint32_t>()});
  // Each run's first place in each partition, partition by partition; the
  // partitions' first places.
  Buffer at(counts.size(), exec), starts(static_cast<size_t>(partitions + 1) * sizeof(uint32_t), exec);
  {
    const uint32_t* c = counts.as<uint32_t>();
    uint32_t* a = at.as<uint32_t>();
    uint32_t* s = starts.as<uint32_t>();
    uint32_t place = 0;
    for (int64_t p = 0; p < partitions; ++p) {
      s[p] = place;
      for (int64_t r = 0; r < runs; ++r) {
        a[(r << bits) + p] = place;
        place += c[(r << bits) + p];
      }
    }
    s[partitions] = place;
  }
  counts.Reset();
  Buffer entries(static_cast<size_t>(n) * sizeof(PartEntry), exec);
  thrust::for_each_n(be.policy(exec), RowIterator(0), runs,
                     PartitionScatter{words.as<uint64_t>(), n, chunk, bits, at.as<uint32_t>(),
                                      entries.as<PartEntry>()});
  words.Reset();
  at.Reset();
  Buffer local_ids(static_cast<size_t>(n) * sizeof(uint32_t), exec);
  Buffer sizes(local_ids.size(), exec), firsts(local_ids.size(), exec);
  Buffer distinct(static_cast<size_t>(partitions) * sizeof(uint32_t), exec);
  thrust::for_each_n(be.policy(exec), RowIterator(0), runs,
                     PartitionGroup{entries.as<PartEntry>(), starts.as<uint32_t>(), partitions, runs,
                                    groups / partitions + 1, local_ids.as<uint32_t>(), sizes.as<uint32_t>(),
                                    firsts.as<uint32_t>(), distinct.as<uint32_t>()});
  Buffer base(static_cast<size_t>(partitions) * sizeof(int64_t), exec);
  int64_t count = 0;
  for (int64_t p = 0; p < partitions; ++p) {
    base.as<int64_t>()[p] = count;
    count += distinct.as<uint32_t>()[p];
  }
  Groups g;
  g.rows = n;
  g.count = count;
  g.method = GroupMethod::kHash;
  g.key_ordered = false;
  g.row_groups = Buffer(static_cast<size_t>(n) * sizeof(int32_t), exec);
  g.first_rows = Buffer(static_cast<size_t>(count) * sizeof(int64_t), exec);
  Buffer group_sizes(static_cast<size_t>(count) * sizeof(int64_t), exec);
  thrust::for_each_n(be.policy(exec), RowIterator(0), runs,
                     PartitionFinish{entries.as<PartEntry>(), starts.as<uint32_t>(), local_ids.as<uint32_t>(),
                                     sizes.as<uint32_t>(), firsts.as<uint32_t>(), distinct.as<uint32_t>(),
                                     base.as<int64_t>(), rows, partitions, runs, g.row_groups.as<int32_t>(),
                                     group_sizes.as<int64_t>(), g.first_rows.as<int64_t>()});
  g.starts = Buffer(static_cast<size_t>(count + 1) * sizeof(int64_t), exec);
  int64_t* group_starts = g.starts.as<int64_t>();
  const int64_t* size = group_sizes.as<int64_t>();
  thrust::exclusive_scan(be.policy(exec), size, size + count, group_starts);
  thrust::fill_n(be.policy(exec), group_starts + count, 1, n);
  if (rows != nullptr) g.input_rows = RowsOrIota(be, rows, n, exec);
  return g;
}

struct GroupWordRange {
  uint64_t lo, hi;
};

struct GroupWordToRange {
  const uint64_t* words;
  KERNELS_HD GroupWordRange operator()(int64_t i) const { return GroupWordRange{words[i], words[i]}; }
};

struct MergeGroupWordRanges {
  KERNELS_HD GroupWordRange operator()(const GroupWordRange& a, const GroupWordRange& b) const {
    return GroupWordRange{a.lo < b.lo ? a.lo : b.lo, a.hi > b.hi ? a.hi : b.hi};
  }
};

struct NarrowGroupWord {
  uint64_t lo;
  KERNELS_HD uint32_t operator()(uint64_t w) const { return static_cast<uint32_t>(w - lo); }
};

// Sorts `perm` stably by the 64-bit packed `word` of its rows; returns the
// sorted words: uint32 (each less the least word) where they span less
// than 2^32, which orders them alike; uint64 otherwise.
template <typename D>
Buffer NarrowGroupWords(const D& be, const RadixWord& word, int64_t* perm, int64_t n, const Exec& exec) {
  Buffer wide(static_cast<size_t>(n) * sizeof(uint64_t), exec);
  uint64_t* w = wide.as<uint64_t>();
  thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), w, PackKeys<uint64_t>{word, perm});
  const GroupWordRange range =
      thrust::transform_reduce(be.policy(exec), RowIterator(0), RowIterator(n), GroupWordToRange{w},
                               GroupWordRange{~uint64_t{0}, 0}, MergeGroupWordRanges{});
  if (range.hi - range.lo > 0xFFFFFFFFull) {
    StableSortPairs(be, w, perm, n, exec);
    return wide;
  }
  Buffer narrow(static_cast<size_t>(n) * sizeof(uint32_t), exec);
  uint32_t* k = narrow.as<uint32_t>();
  thrust::transform(be.policy(exec), w, w + n, k, NarrowGroupWord{range.lo});
  wide.Reset();
  StableSortPairs(be, k, perm, n, exec);
  return narrow;
}

// The key columns of TupleHashGroups, by value (kernels read them on
// either backend).
constexpr int kTupleKeys = 8;
struct TupleKeys {
  ColumnView col[kTupleKeys];
  int32_t count = 0;
};

// A string's bytes as one 64-bit image for hashing: eight bytes at a time
// (little-endian), the last ones zero-padded. `end`: where the bytes may be
// read up to, so that a tail with eight bytes before `end` is one load.
KERNELS_HD inline uint64_t StringImage(const char* s, int64_t len, const char* end) {
  uint64_t h = static_cast<uint64_t>(len) * 0x9E3779B97F4A7C15ull;
  int64_t k = 0;
  for (; k + 8 <= len; k += 8) {
    uint64_t w;
    memcpy(&w, s + k, 8);
    h = (h ^ w) * 0xFF51AFD7ED558CCDull;
    h ^= h >> 32;
  }
  const int64_t rest = len - k;
  uint64_t w = 0;
  if (s + k + 8 <= end) {
    memcpy(&w, s + k, 8);
    w &= (uint64_t{1} << (8 * rest)) - 1;  // rest < 8
  } else {
    for (int64_t b = 0; b < rest; ++b) w |= static_cast<uint64_t>(static_cast<unsigned char>(s[k + b])) << (8 * b);
  }
  h = (h ^ w) * 0xFF51AFD7ED558CCDull;
  return h ^ (h >> 32);
}

// hashes[i]: row i's key tuple hashed (equal keys as RowKeysEqual has them
// hash alike), for grouping within one call only: nothing keeps it.
struct TupleHash {
  TupleKeys keys;
  uint64_t* hashes;
  KERNELS_HD void operator()(int64_t i) const {
    uint64_t h = 0x243F6A8885A308D3ull;
    for (int32_t k = 0; k < keys.count; ++k) {
      const ColumnView& c = keys.col[k];
      uint64_t v;
      if (!c.is_valid(i)) {
        v = 0x6E756C6C6E756C6Cull;
      } else if (IsStringType(c.type)) {
        const char* str;
        int64_t len;
        StringAt(c, i, str, len);
        // The column's last byte: varchar bytes end at the last row's end.
        const char* end = static_cast<const char*>(c.data) + (c.type == PhysType::kVarChars
                                                                   ? c.offsets[c.size]
                                                                   : c.size * static_cast<int64_t>(c.width));
        v = StringImage(str, len, end);
      } else {
        v = OrderBits(c, i, 0, 0);
      }
      h = HashWord(h ^ v);
    }
    hashes[i] = h;
  }
};

// 1 where row `row_at[i]` (i itself when null) and the first row of its
// group (first_row[group_at[i]]) differ in one of the keys.
struct TupleMismatch {
  TupleKeys keys;
  const int64_t* row_at;
  RowGroupOf group_at;
  const int64_t* first_row;
  KERNELS_HD int64_t operator()(int64_t i) const {
    const int64_t r = row_at != nullptr ? row_at[i] : i;
    const int64_t f = first_row[group_at(i)];
    if (r == f) return 0;
    for (int32_t k = 0; k < keys.count; ++k) {
      if (!RowKeysEqual(keys.col[k], r, f)) return 1;
    }
    return 0;
  }
};

template <typename D>
Groups GroupRowsAlgo(const D& be, const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n,
                     const GroupOptions& options, const Exec& exec);
template <typename D>
Buffer GroupFirstRowsAlgo(const D& be, const Groups& groups, const Exec& exec);

// GroupOptions::key_order's other way: the rows grouped by the hash of
// their key tuple, checked key by key against their group's first row.
// False (two tuples of one hash) when the check fails.
template <typename D>
bool TupleHashGroups(const D& be, const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n,
                     const GroupOptions& options, Groups* out, const Exec& exec) {
  if (keys.size() > static_cast<size_t>(kTupleKeys)) return false;
  TupleKeys tuple;
  for (const ColumnView& k : keys) tuple.col[tuple.count++] = k;
  const int64_t size = keys[0].size;
  Buffer hashes(static_cast<size_t>(size) * sizeof(uint64_t), exec);
  thrust::for_each_n(be.policy(exec), RowIterator(0), size, TupleHash{tuple, hashes.as<uint64_t>()});
  ColumnView hash;
  hash.type = PhysType::kInt64;
  hash.size = size;
  hash.data = hashes.data();
  Groups g = GroupRowsAlgo(be, {hash}, rows, n, options, exec);
  hashes.Reset();
  // Positions: the rows in group order, or (the host's unordered hash path)
  // in input order with their groups' ids and first rows.
  const bool ordered = g.order.size() > 0;
  Buffer first = ordered ? GroupFirstRowsAlgo(be, g, exec) : Buffer();
  RowGroupOf group_at = RowGroupsOf(g);
  if (ordered) group_at = RowGroupOf{g.ids.as<int32_t>(), nullptr};
  const TupleMismatch check{tuple, ordered ? g.order.as<int64_t>() : rows, group_at,
                            ordered ? first.as<int64_t>() : g.first_rows.as<int64_t>()};
  const int64_t differ = thrust::transform_reduce(be.policy(exec), RowIterator(0), RowIterator(n), check,
                                                  int64_t{0}, thrust::plus<int64_t>());
  if (differ != 0) return false;
  g.key_ordered = false;
  *out = std::move(g);
  return true;
}

struct ScatterRank {
  const int64_t* sorted_rows;
  int32_t* rank_at_row;
  KERNELS_HD void operator()(int64_t p) const { rank_at_row[sorted_rows[p]] = static_cast<int32_t>(p); }
};

// ranks[row] = the rank of the row's group (the rank scattered at its first
// row): by input position (rows, group_at), or through order and ids.
struct RankRows {
  const int64_t* rows;
  RowGroupOf group_at;
  const int64_t* order;  // non-null: the groups' rows and their ids
  const int32_t* ids;
  const int64_t* first;
  const int32_t* rank_at_first;
  int32_t* ranks;
  KERNELS_HD void operator()(int64_t i) const {
    int64_t row;
    int32_t g;
    if (order != nullptr) {
      row = order[i];
      g = ids[i];
    } else {
      row = rows != nullptr ? rows[i] : i;
      g = group_at(i);
    }
    ranks[row] = rank_at_first[first[g]];
  }
};

// ranks[row] for the rows `rows` (or 0..n-1) of `key`: the rank of the
// row's value among the distinct values there, in key's order (a device
// int32 column of key.column.size rows; others unset); *sorted_rows: the
// first row of each distinct value, in that order. Returns their count, or
// -1 (nothing allocated) when it is more than max_values.
template <typename D>
int64_t RankValues(const D& be, const SortKey& key, const int64_t* rows, int64_t n, int64_t max_values,
                   Buffer* ranks, Buffer* sorted_rows, const Exec& exec) {
  GroupOptions options;
  options.ordered = false;
  options.key_order = false;
  const Groups g = GroupRowsAlgo(be, {key.column}, rows, n, options, exec);
  if (g.count > max_values) return -1;
  Buffer first = GroupFirstRowsAlgo(be, g, exec);
  // The distinct values' first rows in the key's order, each's rank noted
  // at its row.
  Buffer sorted = SortOrderAlgo(be, {key}, first.as<int64_t>(), g.count, exec, false);
  const size_t size = static_cast<size_t>(key.column.size) * sizeof(int32_t);
  Buffer rank_at_first(size, exec);
  thrust::for_each_n(be.policy(exec), RowIterator(0), g.count,
                     ScatterRank{sorted.as<int64_t>(), rank_at_first.as<int32_t>()});
  *ranks = Buffer(size, exec);
  const bool ordered = g.order.size() > 0;
  thrust::for_each_n(be.policy(exec), RowIterator(0), n,
                     RankRows{rows, ordered ? RowGroupOf{} : RowGroupsOf(g), ordered ? g.order.as<int64_t>() : nullptr,
                              ordered ? g.ids.as<int32_t>() : nullptr, first.as<int64_t>(),
                              rank_at_first.as<int32_t>(), ranks->as<int32_t>()});
  *sorted_rows = std::move(sorted);
  return g.count;
}

template <typename D>
bool RankSortKey(const D& be, const SortKey& key, const int64_t* rows, int64_t n, Buffer* ranks,
                 const Exec& exec) {
  if (EstimateDistinct(key.column, rows, n, exec) * kRankRowsPerValue > n) return false;
  Buffer sorted;
  return RankValues(be, key, rows, n, n, ranks, &sorted, exec) >= 0;
}

// Ops::EncodeValues.
template <typename D>
int64_t EncodeValuesAlgo(const D& be, const ColumnView& column, int64_t max_values, Buffer* codes,
                         Buffer* value_rows, const Exec& exec) {
  const int64_t n = column.size;
  if (n == 0) {
    *codes = Buffer();
    *value_rows = Buffer();
    return 0;
  }
  // A sample refuses many values before any of them is grouped.
  if (EstimateDistinct(column, nullptr, n, exec) > 2 * max_values) return -1;
  return RankValues(be, SortKey{column, false}, nullptr, n, max_values, codes, value_rows, exec);
}

template <typename D>
Groups GroupRowsAlgo(const D& be, const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n,
                     const GroupOptions& options, const Exec& exec) {
  if (n >= (int64_t{1} << 31)) throw std::invalid_argument("GroupRows: 2^31 rows or more");
  if (n <= 0) {
    Groups g;
    g.starts = Buffer(sizeof(int64_t), exec);
    be.Fill(g.starts.data(), 0, sizeof(int64_t), exec);
    return g;
  }
  // Several keys: those with bounds take the bits their span needs.
  std::vector<SortColumn> cols;
  for (size_t i = 0; i < keys.size(); ++i) {
    SortColumn c;
    c.col = keys[i];
    const KeyBounds b = i < options.key_bounds.size() ? options.key_bounds[i] : KeyBounds();
    if (keys.size() > 1 && b.known() && IsIntegerType(keys[i].type)) {
      const uint64_t span = static_cast<uint64_t>(b.hi) - static_cast<uint64_t>(b.lo);
      c.known_bits = 1;
      while (c.known_bits < 64 && (span >> c.known_bits) != 0) ++c.known_bits;
      c.lo = b.lo;
    }
    cols.push_back(c);
  }
  const std::vector<SortPass> plan = PlanSort(cols);
  if (plan.empty() && SerialGroups(be) && !options.ordered) {
    // No key bits at all: one group. Its rows need no order, so each keeps
    // its group as a byte (slot 0 of a one-slot table, as the hash path
    // leaves them): the aggregates read the rows in input order, in runs.
    Groups g;
    g.rows = n;
    g.count = 1;
    g.starts = Buffer(2 * sizeof(int64_t), exec);
    thrust::fill_n(be.policy(exec), g.starts.as<int64_t>(), 1, int64_t{0});
    thrust::fill_n(be.policy(exec), g.starts.as<int64_t>() + 1, 1, n);
    g.first_rows = RowsOrIota(be, rows, 1, exec);
    if (rows != nullptr) g.input_rows = RowsOrIota(be, rows, n, exec);
    g.row_groups = Buffer(static_cast<size_t>(n), exec);
    be.Fill(g.row_groups.data(), 0, static_cast<size_t>(n), exec);
    g.slot_bytes = 1;
    g.slot_groups = Buffer(sizeof(uint32_t), exec);
    be.Fill(g.slot_groups.data(), 0, sizeof(uint32_t), exec);
    return g;
  }
  if (plan.empty()) {  // no key bits at all: one group
    Buffer flags(static_cast<size_t>(n), exec);
    be.Fill(flags.data(), 0, static_cast<size_t>(n), exec);
    be.Fill(flags.data(), 1, 1, exec);
    Buffer ids(static_cast<size_t>(n) * sizeof(int32_t), exec);
    be.Fill(ids.data(), 0, ids.size(), exec);
    return FinishGroups(be, RowsOrIota(be, rows, n, exec), std::move(flags), std::move(ids), n, 1,
                        GroupMethod::kSort, exec);
  }
  const bool one_word = plan.size() == 1 && plan[0].radix;
  // Any order will do, and the keys are no one radix word: several passes
  // or a comparison sort (strings). A nullable 64-bit key alone has the
  // hash path below.
  const bool tuple = !one_word && (keys.size() > 1 || IsStringType(keys[0].type));
  if (!options.key_order && tuple && (rows == nullptr || keys[0].size <= 4 * n)) {
    Groups g;
    if (TupleHashGroups(be, keys, rows, n, options, &g, exec)) return g;
  }
  if (options.method != GroupMethod::kSort && (options.method == GroupMethod::kHash || n >= kHashMinRows)) {
    // One word of key bits; or one nullable key whose value alone fills a
    // word (int64, double, char8), its nulls kept out of the table.
    const uint8_t* nulls = nullptr;
    std::vector<SortPass> hash_plan;
    // One integer key of unknown bounds (a computed key: a table's columns
    // bring their zone maps'): a pass over it finds them, so that a key of
    // few values (EXTRACT(year ...), k % 10) maps to its slots without
    // hashing. The rows need no order (the host's counted path).
    GroupOptions bounded = options;
    if constexpr (D::kHasSerialGroups) {
      if (keys.size() == 1 && (options.key_bounds.empty() || !options.key_bounds[0].known()) && SerialGroups(be) &&
          !options.ordered && (keys[0].type == PhysType::kInt64 || keys[0].type == PhysType::kInt32)) {
        bounded.key_bounds = {KeyBoundsOf(be, keys[0], rows, n, exec)};
      }
    }
    // A nullable dense key keeps its nulls out of its slots' word too.
    const KeyBounds bounds = bounded.key_bounds.empty() ? KeyBounds() : bounded.key_bounds[0];
    const bool dense_nulls =
        keys.size() == 1 && keys[0].validity != nullptr && DenseKey(be, keys[0].type, bounds, n, bounded);
    if (one_word && !dense_nulls) {
      hash_plan = plan;
    } else if (keys.size() == 1 && keys[0].validity != nullptr) {
      cols[0].col.validity = nullptr;
      hash_plan = PlanSort(cols);
      nulls = keys[0].validity;
    }
    Groups g;
    const bool packed = hash_plan.size() == 1 && hash_plan[0].radix;
    if (packed && HashGroups(be, hash_plan[0].word, nulls, rows, n, bounded, &g, exec)) return g;
    if constexpr (D::kHasSerialGroups) {
      // Too many groups for one table in cache, of rows that need no order
      // of either kind, whose keys do not ascend already, two rows or more
      // a group: partitioned. (Of fewer rows a group, the sort's groups,
      // their rows together, aggregate faster: compare_duckdb groupby_1e6,
      // 632,000 groups of 1e6 rows, 54 ms sorted, 78 partitioned.)
      if (packed && nulls == nullptr && options.method == GroupMethod::kAuto && SerialGroups(be) &&
          !options.ordered && !options.key_order && !WordsMostlyAscend(hash_plan[0].word, rows, n)) {
        const int64_t groups = EstimateWordGroups(hash_plan[0].word, rows, n);
        if (2 * groups <= n) return PartitionedGroups(be, hash_plan[0].word, rows, n, groups, exec);
      }
    }
  }
  Buffer order = RowsOrIota(be, rows, n, exec);
  int64_t* perm = order.as<int64_t>();
  Buffer flags(static_cast<size_t>(n), exec);
  uint8_t* f = flags.as<uint8_t>();
  // One 64-bit word: sorted as 32 bits less its least value where the
  // words span less than 2^32 (half the radix passes and key bytes).
  Buffer words = one_word && WordBytes(plan[0]) == 8 ? NarrowGroupWords(be, plan[0].word, perm, n, exec)
                                                     : RunSortPlan(be, plan, perm, n, exec);
  if (one_word && words.size() == static_cast<size_t>(n) * sizeof(uint32_t)) {
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), f,
                      WordChanged<uint32_t>{words.as<uint32_t>()});
  } else if (one_word) {
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(n), f,
                      WordChanged<uint64_t>{words.as<uint64_t>()});
  } else {
    words.Reset();
    be.Fill(f, 0, static_cast<size_t>(n), exec);
    for (const ColumnView& k : keys)
      thrust::for_each_n(be.policy(exec), RowIterator(0), n, MarkKeyChange{k, perm, f});
  }
  words.Reset();
  return FinishGroups(be, std::move(order), std::move(flags), Buffer(), n, -1, GroupMethod::kSort, exec);
}

template <typename D>
Buffer GroupFirstRowsAlgo(const D& be, const Groups& groups, const Exec& exec) {
  Buffer out(static_cast<size_t>(groups.count) * sizeof(int64_t), exec);
  if (groups.first_rows.size() > 0) {
    be.CopyOnDevice(out.data(), groups.first_rows.data(), out.size(), exec);
    return out;
  }
  be.GatherFixed(groups.order.data(), 8, groups.starts.as<int64_t>(), groups.count, out.data(), exec);
  return out;
}

}  // namespace kernels::detail
