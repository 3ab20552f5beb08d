// Equi-joins (kernels/join.h) and the index maps of row changes
// (kernels/gather.h): the build side's chained hash table, probes that count
// and then write the candidate pairs, key checks, scatters.

#pragma once

#include <thrust/fill.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/reduce.h>
#include <thrust/scan.h>

#include <cstdint>

#include "kernels/column.h"
#include "kernels/detail/atomics.h"
#include "kernels/detail/hash.inl"
#include "kernels/detail/row_values.h"
#include "kernels/hd.h"

namespace kernels::detail {

// Whether row a of `x` and row b of `y` hold equal join keys: both valid and
// equal as RowKeysEqual has it. REQUIRES: x and y of one type (a charN and a
// varchar compare as strings).
KERNELS_HD inline bool JoinKeysEqual(const ColumnView& x, int64_t a, const ColumnView& y, int64_t b) {
  if (!x.is_valid(a) || !y.is_valid(b)) return false;
  if (IsStringType(x.type)) {
    const char *sa, *sb;
    int64_t na, nb;
    StringAt(x, a, sa, na);
    StringAt(y, b, sb, nb);
    return CompareBytes(sa, na, sb, nb) == 0;
  }
  return OrderBits(x, a, 0, 0) == OrderBits(y, b, 0, 0);
}

struct PairKeysEqual {
  ColumnView x, y;
  const int64_t* rows_x;
  const int64_t* rows_y;
  bool first;
  uint8_t* mask;

  KERNELS_HD void operator()(int64_t i) const {
    const bool eq = JoinKeysEqual(x, rows_x[i], y, rows_y[i]);
    mask[i] = static_cast<uint8_t>((first || mask[i] != 0) && eq);
  }
};

struct RowsValid {
  ColumnView column;
  const int64_t* rows;  // null: row i itself
  bool first;
  uint8_t* mask;

  KERNELS_HD void operator()(int64_t i) const {
    const bool valid = column.is_valid(rows != nullptr ? rows[i] : i);
    mask[i] = static_cast<uint8_t>((first || mask[i] != 0) && valid);
  }
};

// The build side's hash table: slot hash & mask holds the last build
// position inserted there, next[p] the one inserted before p (a chain per
// slot, ending in kNoRow). Inserting is one atomic exchange, so equal keys
// (duplicates) cost no more than distinct ones.
constexpr AtomicWord kNoRow = ~AtomicWord{0};

// The table's filter: after its `capacity` slots, capacity * 8 bits (a
// word per 8 slots), bit (hash >> 32) mod (capacity * 8) set for each build
// hash, so that most probe rows of no match are told so from a bitmap that
// stays in cache, without a look at the slots.
KERNELS_HD inline uint64_t FilterBit(uint64_t hash, uint64_t mask) { return (hash >> 32) & (mask * 8 + 7); }

struct InsertChains {
  const uint64_t* hashes;
  AtomicWord* slots;
  AtomicWord* next;
  uint64_t mask;

  KERNELS_HD void operator()(int64_t p) const {
    const uint64_t h = hashes[p];
    next[p] = AtomicExchange(&slots[h & mask], static_cast<AtomicWord>(p));
    const uint64_t bit = FilterBit(h, mask);
    AtomicOr(&slots[mask + 1 + (bit >> 6)], AtomicWord{1} << (bit & 63));
  }
};

// The matches (build positions of equal hash) of probe rows [b * block,
// (b + 1) * block) of np: counted into counts[b], or written from
// offsets[b] on (a block of none is skipped). A row whose filter bit is
// clear has none, without a look at the slots.
struct ProbeChains {
  const uint64_t* build_hashes;
  const AtomicWord* slots;
  const AtomicWord* next;
  uint64_t mask;
  const uint64_t* probe;  // the probe rows' hashes; null: hashed here from `key`
  ColumnView key;
  int64_t np;
  int64_t block;
  int64_t* counts;
  const int64_t* offsets;  // fill pass; null: count pass
  int64_t* out_probe;
  int64_t* out_build;
  // The count pass keeps a block's first `cap` pairs at scratch[b * cap]
  // (cap 0: none), which the fill pass then copies: a block of at most cap
  // pairs is probed once.
  int64_t cap;
  int64_t* scratch_probe;
  int64_t* scratch_build;

  KERNELS_HD void operator()(int64_t b) const {
    const bool fill = offsets != nullptr;
    if (fill && counts[b] == 0) return;
    if (fill && counts[b] <= cap) {
      for (int64_t k = 0; k < counts[b]; ++k) {
        out_probe[offsets[b] + k] = scratch_probe[b * cap + k];
        out_build[offsets[b] + k] = scratch_build[b * cap + k];
      }
      return;
    }
    const int64_t begin = b * block;
    const int64_t end = begin + block < np ? begin + block : np;
    int64_t k = fill ? offsets[b] : 0;
    for (int64_t i = begin; i < end; ++i) {
      const uint64_t h = probe != nullptr ? probe[i] : FoldHash(key, i, 0, true);
      const uint64_t bit = FilterBit(h, mask);
      if (((slots[mask + 1 + (bit >> 6)] >> (bit & 63)) & 1) == 0) continue;
      for (AtomicWord p = slots[h & mask]; p != kNoRow; p = next[p]) {
        if (build_hashes[p] != h) continue;
        if (fill) {
          out_probe[k] = i;
          out_build[k] = static_cast<int64_t>(p);
        } else if (k < cap) {
          scratch_probe[b * cap + k] = i;
          scratch_build[b * cap + k] = static_cast<int64_t>(p);
        }
        ++k;
      }
    }
    if (!fill) counts[b] = k;
  }
};

struct ScatterByte {
  const int64_t* idx;
  uint8_t value;
  uint8_t* out;

  KERNELS_HD void operator()(int64_t i) const { out[idx[i]] = value; }
};

struct ScatterPosition {
  const int64_t* idx;
  int64_t first;
  int64_t* out;

  KERNELS_HD void operator()(int64_t i) const { out[idx[i]] = first + i; }
};

template <typename Policy>
void BuildChainsImpl(Policy&& policy, const uint64_t* hashes, int64_t n, uint64_t* slots, int64_t capacity,
                     uint64_t* next) {
  thrust::fill(policy, slots, slots + capacity, kNoRow);
  thrust::fill(policy, slots + capacity, slots + capacity + capacity / 8, uint64_t{0});  // the filter
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   InsertChains{hashes, reinterpret_cast<AtomicWord*>(slots), reinterpret_cast<AtomicWord*>(next),
                                static_cast<uint64_t>(capacity - 1)});
}

// The (probe row, build position) pairs of equal hash, by blocks of
// `block` probe rows: counted per block (the first `cap` kept), then
// written (copied, where all were kept).
template <typename Policy>
int64_t ProbePairsImpl(Policy&& policy, int64_t block, int64_t cap, const uint64_t* build_hashes,
                       const uint64_t* slots, int64_t capacity, const uint64_t* next, const uint64_t* probe,
                       const ColumnView& key, int64_t np, Buffer* out_probe, Buffer* out_build, const Exec& exec) {
  const int64_t blocks = (np + block - 1) / block;
  Buffer counts(static_cast<size_t>(blocks) * sizeof(int64_t), exec);
  Buffer offsets(static_cast<size_t>(blocks) * sizeof(int64_t), exec);
  Buffer scratch_probe(static_cast<size_t>(blocks * cap) * sizeof(int64_t), exec);
  Buffer scratch_build(static_cast<size_t>(blocks * cap) * sizeof(int64_t), exec);
  ProbeChains probe_chains{build_hashes,
                           reinterpret_cast<const AtomicWord*>(slots),
                           reinterpret_cast<const AtomicWord*>(next),
                           static_cast<uint64_t>(capacity - 1),
                           probe,
                           key,
                           np,
                           block,
                           counts.as<int64_t>(),
                           nullptr,
                           nullptr,
                           nullptr,
                           cap,
                           scratch_probe.as<int64_t>(),
                           scratch_build.as<int64_t>()};
  int64_t found = 0;
  if (blocks > 0) {
    thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(blocks),
                     probe_chains);
    thrust::exclusive_scan(policy, counts.as<int64_t>(), counts.as<int64_t>() + blocks, offsets.as<int64_t>());
    found = thrust::reduce(policy, counts.as<int64_t>(), counts.as<int64_t>() + blocks, int64_t{0});
  }
  *out_probe = Buffer(static_cast<size_t>(found) * sizeof(int64_t), exec);
  *out_build = Buffer(static_cast<size_t>(found) * sizeof(int64_t), exec);
  if (found == 0) return 0;
  probe_chains.offsets = offsets.as<int64_t>();
  probe_chains.out_probe = out_probe->as<int64_t>();
  probe_chains.out_build = out_build->as<int64_t>();
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(blocks),
                   probe_chains);
  return found;
}

template <typename Policy>
void PairKeysEqualImpl(Policy&& policy, const ColumnView& x, const int64_t* rows_x, const ColumnView& y,
                       const int64_t* rows_y, int64_t n, bool first, uint8_t* mask) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   PairKeysEqual{x, y, rows_x, rows_y, first, mask});
}

template <typename Policy>
void RowsValidImpl(Policy&& policy, const ColumnView& column, const int64_t* rows, int64_t n, bool first,
                   uint8_t* mask) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   RowsValid{column, rows, first, mask});
}

template <typename Policy>
void ScatterByteImpl(Policy&& policy, const int64_t* idx, int64_t n, uint8_t value, uint8_t* out) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   ScatterByte{idx, value, out});
}

template <typename Policy>
void ScatterPositionsImpl(Policy&& policy, const int64_t* idx, int64_t n, int64_t first, int64_t* out) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   ScatterPosition{idx, first, out});
}

}  // namespace kernels::detail
