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
#include "kernels/detail/ops.h"
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

// The build side's hash table: open addressing (linear probing) over the
// distinct build hashes. Slot s is two words: table[2s] the hash
// (kEmptyHash: a free slot) and table[2s + 1] the last build position
// inserted with it (kNoRow: none); next[p] is the position inserted before
// p with the same hash (a chain per distinct hash, ending in kNoRow), so
// that duplicates cost an atomic exchange and a probe of a unique key reads
// one slot. The hash kEmptyHash itself lives in the slot after the
// `capacity` probed ones. Then the filter: capacity * 8 bits (a word per 8
// slots), bit (hash >> 32) mod (capacity * 8) set for each build hash, so
// that most probe rows of no match are told so from a bitmap that stays in
// cache, without a look at the slots.
constexpr AtomicWord kNoRow = ~AtomicWord{0};
constexpr AtomicWord kEmptyHash = ~AtomicWord{0};

KERNELS_HD inline uint64_t FilterBit(uint64_t hash, uint64_t mask) { return (hash >> 32) & (mask * 8 + 7); }

// The slot of `hash` in a table of mask + 1 probed slots: the one holding
// it, else the free one it takes.
KERNELS_HD inline uint64_t ClaimSlot(AtomicWord* table, uint64_t mask, uint64_t hash) {
  if (hash == kEmptyHash) return mask + 1;
  for (uint64_t s = hash & mask;; s = (s + 1) & mask) {
    AtomicWord cur = AtomicRead(&table[2 * s]);
    if (cur == kEmptyHash) {
      cur = AtomicCas(&table[2 * s], kEmptyHash, hash);
      if (cur == kEmptyHash) return s;
    }
    if (cur == hash) return s;
  }
}

// The last build position inserted with `hash` (its chain's first), or
// kNoRow.
KERNELS_HD inline AtomicWord ChainOf(const AtomicWord* table, uint64_t mask, uint64_t hash) {
  if (hash == kEmptyHash) return table[2 * (mask + 1) + 1];
  for (uint64_t s = hash & mask;; s = (s + 1) & mask) {
    const AtomicWord cur = table[2 * s];
    if (cur == hash) return table[2 * s + 1];
    if (cur == kEmptyHash) return kNoRow;
  }
}

// Inserts build position p. `dups` is set when a hash is inserted twice.
struct InsertChains {
  const uint64_t* hashes;
  AtomicWord* table;
  AtomicWord* next;
  uint64_t mask;
  AtomicWord* dups;

  KERNELS_HD void operator()(int64_t p) const {
    const uint64_t h = hashes[p];
    const uint64_t s = ClaimSlot(table, mask, h);
    const AtomicWord before = AtomicExchange(&table[2 * s + 1], static_cast<AtomicWord>(p));
    next[p] = before;
    if (before != kNoRow && AtomicRead(dups) == 0) AtomicWrite(dups, 1);
    const uint64_t bit = FilterBit(h, mask);
    AtomicOr(&table[2 * (mask + 2) + (bit >> 6)], AtomicWord{1} << (bit & 63));
  }
};

// The hash of probe row i: read from `hashes`, or computed from the one
// key column: of a 4- or 8-byte integer (kKeyBytes; FoldHash's value for
// it, without its dispatch on the type) or of any type (0, FoldHash).
template <int kKeyBytes>
KERNELS_HD inline uint64_t ProbeHash(const uint64_t* hashes, const ColumnView& key, int64_t i) {
  if constexpr (kKeyBytes == 4) {
    const uint32_t v = static_cast<uint32_t>(static_cast<const int32_t*>(key.data)[i]) ^ 0x80000000u;
    return FoldValue(kHashSeed, v);
  } else if constexpr (kKeyBytes == 8) {
    const uint64_t v = static_cast<uint64_t>(static_cast<const int64_t*>(key.data)[i]) ^ 0x8000000000000000ull;
    return FoldValue(kHashSeed, v);
  } else {
    return hashes != nullptr ? hashes[i] : FoldHash(key, i, 0, true);
  }
}

// A hint that `p` will be read soon (none on a GPU, whose many threads hide
// the wait).
KERNELS_HD inline void Prefetch(const void* p) {
#if !defined(__CUDA_ARCH__)
  __builtin_prefetch(p);
#endif
}

// Probe rows by thread: a block of kProbeBlock on a CPU, whose filter
// words are fetched kProbeGroup rows at a time; one on a GPU, whose many
// threads hide the waits.
#if defined(__CUDA_ARCH__)
constexpr int64_t kProbeBlock = 1;
constexpr int64_t kProbeGroup = 1;
#else
constexpr int64_t kProbeBlock = 4096;
constexpr int64_t kProbeGroup = 16;
#endif

// The matches (build positions of equal hash) of probe rows [b * block,
// (b + 1) * block) of np: counted into counts[b], or written from
// offsets[b] on (a block of none is skipped). A row whose filter bit is
// clear has none, without a look at the slots; when every build hash is
// distinct (`unique`), a row has at most one, and the chain is not read.
static_assert(kProbeBlock <= 65536, "ProbeChains keeps a row's place in its block in 16 bits");

template <int kKeyBytes>
struct ProbeChains {
  const AtomicWord* table;
  const AtomicWord* next;
  uint64_t mask;
  bool unique;
  const uint64_t* probe;  // the probe rows' hashes; null: hashed here from `key`
  ColumnView key;
  int64_t np;
  int64_t block;  // at most kProbeBlock
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
    const AtomicWord* filter = table + 2 * (mask + 2);
    const int64_t begin = b * block;
    const int64_t end = begin + block < np ? begin + block : np;
    int64_t k = fill ? offsets[b] : 0;
    // The rows that pass the filter (their slots fetched as they are
    // found), then their chains: a CPU thread waits for many rows' cache
    // misses at once, not for each in turn.
    uint64_t hashes[kProbeBlock];
    uint16_t rows[kProbeBlock];
    int64_t passed = 0;
    for (int64_t g = begin; g < end; g += kProbeGroup) {
      const int64_t n = end - g < kProbeGroup ? end - g : kProbeGroup;
      uint64_t group[kProbeGroup];
      for (int64_t j = 0; j < n; ++j) {
        group[j] = ProbeHash<kKeyBytes>(probe, key, g + j);
        Prefetch(&filter[FilterBit(group[j], mask) >> 6]);
      }
      for (int64_t j = 0; j < n; ++j) {
        const uint64_t h = group[j];
        const uint64_t bit = FilterBit(h, mask);
        if (((filter[bit >> 6] >> (bit & 63)) & 1) == 0) continue;
        Prefetch(&table[2 * (h & mask)]);
        hashes[passed] = h;
        rows[passed++] = static_cast<uint16_t>(g + j - begin);
      }
    }
    for (int64_t j = 0; j < passed; ++j) {
      const int64_t i = begin + rows[j];
      for (AtomicWord p = ChainOf(table, mask, hashes[j]); p != kNoRow; p = unique ? kNoRow : next[p]) {
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

// Fills the table (JoinTableWords(capacity) words) and next (n) with the n
// build hashes; returns whether they are all distinct.
template <typename Policy>
bool BuildChainsImpl(Policy&& policy, const uint64_t* hashes, int64_t n, uint64_t* table, int64_t capacity,
                     uint64_t* next, const Exec& exec) {
  thrust::fill(policy, table, table + 2 * (capacity + 1), kEmptyHash);  // kNoRow too
  thrust::fill(policy, table + 2 * (capacity + 1), table + JoinTableWords(capacity), uint64_t{0});
  Buffer dups(sizeof(AtomicWord), exec);
  thrust::fill(policy, dups.as<AtomicWord>(), dups.as<AtomicWord>() + 1, AtomicWord{0});
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   InsertChains{hashes, reinterpret_cast<AtomicWord*>(table), reinterpret_cast<AtomicWord*>(next),
                                static_cast<uint64_t>(capacity - 1), dups.as<AtomicWord>()});
  return thrust::reduce(policy, dups.as<AtomicWord>(), dups.as<AtomicWord>() + 1, AtomicWord{0}) == 0;
}

// The (probe row, build position) pairs of equal hash, by blocks of
// `block` probe rows: counted per block (the first `cap` kept), then
// written (copied, where all were kept).
template <int kKeyBytes, typename Policy>
int64_t ProbePairsRun(Policy&& policy, int64_t block, int64_t cap, const uint64_t* table, int64_t capacity,
                      const uint64_t* next, bool unique, const uint64_t* probe, const ColumnView& key, int64_t np,
                      Buffer* out_probe, Buffer* out_build, const Exec& exec) {
  const int64_t blocks = (np + block - 1) / block;
  Buffer counts(static_cast<size_t>(blocks) * sizeof(int64_t), exec);
  Buffer offsets(static_cast<size_t>(blocks) * sizeof(int64_t), exec);
  Buffer scratch_probe(static_cast<size_t>(blocks * cap) * sizeof(int64_t), exec);
  Buffer scratch_build(static_cast<size_t>(blocks * cap) * sizeof(int64_t), exec);
  ProbeChains<kKeyBytes> probe_chains{reinterpret_cast<const AtomicWord*>(table),
                                      reinterpret_cast<const AtomicWord*>(next),
                                      static_cast<uint64_t>(capacity - 1),
                                      unique,
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

// ProbePairsRun with the probe's hashes read from `probe` or, when null,
// computed from `key` (a 4- or 8-byte integer by its own loop).
template <typename Policy>
int64_t ProbePairsImpl(Policy&& policy, int64_t block, int64_t cap, const uint64_t* table, int64_t capacity,
                       const uint64_t* next, bool unique, const uint64_t* probe, const ColumnView& key, int64_t np,
                       Buffer* out_probe, Buffer* out_build, const Exec& exec) {
  if (probe == nullptr && key.type == PhysType::kInt32) {
    return ProbePairsRun<4>(policy, block, cap, table, capacity, next, unique, probe, key, np, out_probe, out_build,
                            exec);
  }
  if (probe == nullptr && key.type == PhysType::kInt64) {
    return ProbePairsRun<8>(policy, block, cap, table, capacity, next, unique, probe, key, np, out_probe, out_build,
                            exec);
  }
  return ProbePairsRun<0>(policy, block, cap, table, capacity, next, unique, probe, key, np, out_probe, out_build,
                          exec);
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
