#include "kernels/join.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "kernels/detail/ops.h"
#include "kernels/filter.h"
#include "kernels/shard.h"

namespace kernels {
namespace {

Buffer Int64s(int64_t n, const Exec& exec) { return Buffer(static_cast<size_t>(n) * sizeof(int64_t), exec); }

// One side of a join: its key columns, the rows whose keys are all valid
// and (once HashSide has run) their key hashes.
struct Side {
  const std::vector<ColumnView>* keys;
  Buffer rows;  // int64_t[n]; empty when every row takes part (row i is position i)
  int64_t n = 0;
  Buffer hashes;  // uint64_t[n]
};

Side MakeSide(const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n, const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  const int64_t size = keys[0].size;
  // Nulls: a key with validity that marks a row null (most nullable
  // columns have none; a count of the flags spares them the compaction).
  bool nulls = false;
  for (const ColumnView& k : keys) {
    nulls = nulls || (k.validity != nullptr && (rows != nullptr || ops.CountNonZero(k.validity, size, exec) < size));
  }
  if (rows == nullptr && !nulls) return Side{&keys, Buffer(), size, Buffer()};  // every row takes part
  // The rows whose keys are all valid.
  Buffer mask(static_cast<size_t>(n), exec);
  ops.Fill(mask.data(), 1, static_cast<size_t>(n), exec);
  for (const ColumnView& k : keys) ops.RowsValid(k, rows, n, false, mask.as<uint8_t>(), exec);
  Selection valid = Compact(mask.as<uint8_t>(), 0, n, exec);
  Side side{&keys, Int64s(valid.count, exec), valid.count, Buffer()};
  if (rows != nullptr) {
    ops.GatherFixed(rows, sizeof(int64_t), valid.indices.as<int64_t>(), valid.count, side.rows.data(), exec);
  } else {
    side.rows = std::move(valid.indices);
  }
  return side;
}

// Fills side->hashes.
void HashSide(Side* side, const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  const std::vector<ColumnView>& keys = *side->keys;
  const int64_t size = keys[0].size;
  Buffer all(static_cast<size_t>(size) * sizeof(uint64_t), exec);
  for (size_t k = 0; k < keys.size(); ++k) ops.FoldRowHash(keys[k], size, k == 0, all.as<uint64_t>(), exec);
  if (side->rows.size() == 0) {
    side->hashes = std::move(all);
    return;
  }
  side->hashes = Buffer(static_cast<size_t>(side->n) * sizeof(uint64_t), exec);
  ops.GatherFixed(all.data(), sizeof(uint64_t), side->rows.as<int64_t>(), side->n, side->hashes.data(), exec);
}

// The rows of `rows` (n; null: 0..n-1) of a side with `size` rows that are
// not among the `pairs` rows of `matched`, ascending.
Buffer Unmatched(const int64_t* rows, int64_t n, int64_t size, const Buffer& matched, int64_t pairs, int64_t* count,
                 const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  Buffer mask(static_cast<size_t>(size), exec);
  if (rows == nullptr) {
    ops.Fill(mask.data(), 1, static_cast<size_t>(size), exec);
  } else {
    ops.Fill(mask.data(), 0, static_cast<size_t>(size), exec);
    ops.ScatterByte(rows, n, 1, mask.as<uint8_t>(), exec);
  }
  ops.ScatterByte(matched.as<int64_t>(), pairs, 0, mask.as<uint8_t>(), exec);
  Selection rest = Compact(mask.as<uint8_t>(), 0, size, exec);
  *count = rest.count;
  return std::move(rest.indices);
}

// The slots of the hash table of nb build rows: a power of two, at least
// twice nb (at most half full).
int64_t Capacity(int64_t nb) {
  int64_t capacity = 16;
  while (capacity < 2 * nb) capacity *= 2;
  return capacity;
}

// How many partitions a join of nb build rows and np probe rows takes: one
// when its hash table, chains and hashes (16 bytes a build row besides the
// table) and probe arrays (24 bytes per probe row) take at most half the
// memory left under exec's limit; else enough that each partition's do (an
// odd count).
int64_t Partitions(int64_t nb, int64_t np, const Exec& exec) {
  const size_t limit = exec.mr != nullptr ? exec.mr->limit() : 0;
  if (limit == 0) return 1;
  const size_t used = exec.mr->in_use();
  const size_t budget = used < limit ? (limit - used) / 2 : 0;
  const size_t need = static_cast<size_t>(detail::JoinTableWords(Capacity(nb))) * 8 + static_cast<size_t>(nb) * 16 +
                      static_cast<size_t>(np) * 24;
  if (need <= budget) return 1;
  int64_t p = static_cast<int64_t>(need / std::max<size_t>(budget, 1)) + 1;
  if (p % 2 == 0) ++p;
  return std::min<int64_t>(p, 4095);
}

}  // namespace

JoinResult HashJoin(const std::vector<ColumnView>& left_keys, const int64_t* left_rows, int64_t nl,
                    const std::vector<ColumnView>& right_keys, const int64_t* right_rows, int64_t nr, JoinKind kind,
                    const Exec& exec) {
  if (left_keys.empty() || left_keys.size() != right_keys.size()) {
    throw std::invalid_argument("HashJoin: needs as many key columns on each side, at least one");
  }
  const auto& ops = detail::OpsFor(exec.backend);
  Side left = MakeSide(left_keys, left_rows, nl, exec);
  Side right = MakeSide(right_keys, right_rows, nr, exec);
  // Build on the smaller side, probe with the other.
  const bool build_right = right.n <= left.n;
  Side& build = build_right ? right : left;
  Side& probe = build_right ? left : right;
  HashSide(&build, exec);
  // The candidate pairs (positions in probe.rows and build.rows) of equal
  // hash, partition by partition when the build side's table would not fit
  // in the memory left (partition = hash % P, P odd so that it is
  // independent of the slot, hash & mask).
  const int64_t partitions = Partitions(build.n, probe.n, exec);
  // One partition, every probe row and one key: the probe hashes its rows
  // as it goes (no array of their hashes).
  const ColumnView& probe_key = (*probe.keys)[0];
  const bool fused = partitions == 1 && probe.rows.size() == 0 && probe.keys->size() == 1;
  if (!fused) HashSide(&probe, exec);
  // Each partition's pairs; the parts are joined when there are several.
  std::vector<Buffer> probe_parts, build_parts;
  std::vector<int64_t> found_parts;
  const auto pairs_of = [&](const uint64_t* build_hashes, int64_t nb, const uint64_t* probe_hashes, int64_t np,
                            const int64_t* build_at, const int64_t* probe_at) {
    const int64_t capacity = Capacity(nb);
    Buffer table(static_cast<size_t>(detail::JoinTableWords(capacity)) * sizeof(uint64_t), exec);
    Buffer next(static_cast<size_t>(nb) * sizeof(uint64_t), exec);
    const bool unique = ops.BuildChains(build_hashes, nb, table.as<uint64_t>(), capacity, next.as<uint64_t>(), exec);
    Buffer at_probe, at_build;
    const int64_t found = ops.ProbePairs(table.as<uint64_t>(), capacity, next.as<uint64_t>(), unique, probe_hashes,
                                         fused ? probe_key : ColumnView(), np, &at_probe, &at_build, exec);
    // Positions within the partition to table rows (through the side's
    // positions, when it has them).
    const auto map = [&](Buffer at, const int64_t* to, const Side& side) {
      if (to != nullptr) {
        Buffer mapped = Int64s(found, exec);
        ops.GatherFixed(to, sizeof(int64_t), at.as<int64_t>(), found, mapped.data(), exec);
        at = std::move(mapped);
      }
      if (side.rows.size() == 0) return at;
      Buffer rows = Int64s(found, exec);
      ops.GatherFixed(side.rows.data(), sizeof(int64_t), at.as<int64_t>(), found, rows.data(), exec);
      return rows;
    };
    probe_parts.push_back(map(std::move(at_probe), probe_at, probe));
    build_parts.push_back(map(std::move(at_build), build_at, build));
    found_parts.push_back(found);
  };
  if (partitions == 1) {
    pairs_of(build.hashes.as<uint64_t>(), build.n, fused ? nullptr : probe.hashes.as<uint64_t>(), probe.n, nullptr,
             nullptr);
  } else {
    const auto split = [&](const Side& side) {
      Buffer part(static_cast<size_t>(side.n) * sizeof(int32_t), exec);
      ops.HashToShard(side.hashes.as<uint64_t>(), side.n, static_cast<int32_t>(partitions), part.as<int32_t>(), exec);
      return PartitionRows(part.as<int32_t>(), side.n, static_cast<int>(partitions), exec);
    };
    const ShardPartition bp = split(build), pp = split(probe);
    for (int64_t p = 0; p < partitions; ++p) {
      const int64_t nb = bp.starts[p + 1] - bp.starts[p], np = pp.starts[p + 1] - pp.starts[p];
      if (nb == 0 || np == 0) continue;
      const int64_t* build_at = bp.order.as<int64_t>() + bp.starts[p];
      const int64_t* probe_at = pp.order.as<int64_t>() + pp.starts[p];
      Buffer bh(static_cast<size_t>(nb) * sizeof(uint64_t), exec), ph(static_cast<size_t>(np) * sizeof(uint64_t), exec);
      ops.GatherFixed(build.hashes.data(), sizeof(uint64_t), build_at, nb, bh.data(), exec);
      ops.GatherFixed(probe.hashes.data(), sizeof(uint64_t), probe_at, np, ph.data(), exec);
      pairs_of(bh.as<uint64_t>(), nb, ph.as<uint64_t>(), np, build_at, probe_at);
    }
  }
  int64_t candidates = 0;
  for (int64_t f : found_parts) candidates += f;
  const auto joined = [&](std::vector<Buffer>& parts) {
    if (parts.size() == 1) return std::move(parts[0]);
    Buffer all = Int64s(candidates, exec);
    int64_t at = 0;
    for (size_t i = 0; i < parts.size(); ++i) {
      if (found_parts[i] > 0) {
        ops.CopyOnDevice(all.as<int64_t>() + at, parts[i].data(), static_cast<size_t>(found_parts[i]) * 8, exec);
      }
      at += found_parts[i];
    }
    parts.clear();
    return all;
  };
  Buffer probe_rows = joined(probe_parts);
  Buffer build_rows = joined(build_parts);
  JoinResult out;
  out.partitions = partitions;
  // One fixed-width key: its hash is a bijection of the value (OrderBits,
  // then bijective mixing), so equal hashes are equal keys. Otherwise the
  // candidates whose keys are all equal.
  const bool exact = probe.keys->size() == 1 && (*probe.keys)[0].type != PhysType::kVarChars &&
                     (*probe.keys)[0].type != PhysType::kFixedChars;
  if (exact) {
    out.pairs = candidates;
    (build_right ? out.left : out.right) = std::move(probe_rows);
    (build_right ? out.right : out.left) = std::move(build_rows);
  }
  Buffer equal(static_cast<size_t>(exact ? 0 : candidates), exec);
  for (size_t k = 0; k < probe.keys->size() && !exact; ++k) {
    ops.PairKeysEqual((*probe.keys)[k], probe_rows.as<int64_t>(), (*build.keys)[k], build_rows.as<int64_t>(),
                      candidates, k == 0, equal.as<uint8_t>(), exec);
  }
  Selection kept = exact ? Selection{} : Compact(equal.as<uint8_t>(), 0, candidates, exec);
  if (!exact) out.pairs = kept.count;
  const auto keep = [&](const Buffer& rows) {
    Buffer b = Int64s(kept.count, exec);
    ops.GatherFixed(rows.data(), sizeof(int64_t), kept.indices.as<int64_t>(), kept.count, b.data(), exec);
    return b;
  };
  if (!exact) {
    (build_right ? out.left : out.right) = keep(probe_rows);
    (build_right ? out.right : out.left) = keep(build_rows);
  }
  if (kind == JoinKind::kLeft || kind == JoinKind::kFull) {
    out.left_only = Unmatched(left_rows, nl, left_keys[0].size, out.left, out.pairs, &out.left_only_count, exec);
  }
  if (kind == JoinKind::kRight || kind == JoinKind::kFull) {
    out.right_only = Unmatched(right_rows, nr, right_keys[0].size, out.right, out.pairs, &out.right_only_count, exec);
  }
  return out;
}

}  // namespace kernels
