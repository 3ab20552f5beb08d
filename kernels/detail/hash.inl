// Placing rows on shards (kernels/shard.h): row hashes, one pass per key
// column folding each row's value into its running hash; row positions.

#pragma once

#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstdint>

#include "kernels/column.h"
#include "kernels/detail/row_values.h"
#include "kernels/hd.h"

namespace kernels::detail {

KERNELS_HD inline uint64_t MixHash(uint64_t h) {
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDull;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ull;
  h ^= h >> 33;
  return h;
}

constexpr uint64_t kHashSeed = 0x9E3779B97F4A7C15ull;

// The running hash `h` with the value image `v` folded in.
KERNELS_HD inline uint64_t FoldValue(uint64_t h, uint64_t v) {
  return MixHash(h ^ (MixHash(v) + kHashSeed + (h << 6) + (h >> 2)));
}

// Row i's value of `column` folded into the running hash `h` (first:
// starts the hash, `h` unread). Equal keys (as RowKeysEqual has them: null
// == null, NaN == NaN, -0.0 == 0.0, a charN equal to the same varchar) hash
// alike.
KERNELS_HD inline uint64_t FoldHash(const ColumnView& column, int64_t i, uint64_t h, bool first) {
  uint64_t v;
  if (!column.is_valid(i)) {
    v = 0x6E756C6C6E756C6Cull;  // nulls: one value of their own
  } else if (IsStringType(column.type)) {
    const char* s;
    int64_t len;
    StringAt(column, i, s, len);
    v = 0xCBF29CE484222325ull;  // FNV-1a
    for (int64_t k = 0; k < len; ++k) v = (v ^ static_cast<unsigned char>(s[k])) * 0x100000001B3ull;
  } else {
    v = OrderBits(column, i, 0, 0);
  }
  if (first) h = kHashSeed;
  return FoldValue(h, v);
}

// Folds row i's value of `column` into hashes[i] (FoldHash).
struct FoldRowHash {
  ColumnView column;
  bool first;
  uint64_t* hashes;

  KERNELS_HD void operator()(int64_t i) const { hashes[i] = FoldHash(column, i, first ? 0 : hashes[i], first); }
};

struct HashToShard {
  const uint64_t* hashes;
  uint32_t shards;
  int32_t* out;

  KERNELS_HD void operator()(int64_t i) const { out[i] = static_cast<int32_t>(hashes[i] % shards); }
};

struct Position {
  int64_t first;
  int64_t* out;

  KERNELS_HD void operator()(int64_t i) const { out[i] = first + i; }
};

template <typename Policy>
void PositionsImpl(Policy&& policy, int64_t first, int64_t n, int64_t* out) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   Position{first, out});
}

template <typename Policy>
void FoldRowHashImpl(Policy&& policy, const ColumnView& column, int64_t n, bool first, uint64_t* hashes) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   FoldRowHash{column, first, hashes});
}

template <typename Policy>
void HashToShardImpl(Policy&& policy, const uint64_t* hashes, int64_t n, int32_t shards, int32_t* out) {
  thrust::for_each(policy, thrust::counting_iterator<int64_t>(0), thrust::counting_iterator<int64_t>(n),
                   HashToShard{hashes, static_cast<uint32_t>(shards), out});
}

}  // namespace kernels::detail
