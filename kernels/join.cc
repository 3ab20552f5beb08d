#include "kernels/join.h"

#include <stdexcept>
#include <utility>

#include "kernels/detail/ops.h"
#include "kernels/filter.h"

namespace kernels {
namespace {

Buffer Int64s(int64_t n, const Exec& exec) { return Buffer(static_cast<size_t>(n) * sizeof(int64_t), exec); }

// One side of a join: its key columns, the rows whose keys are all valid and
// their key hashes.
struct Side {
  const std::vector<ColumnView>* keys;
  Buffer rows;  // int64_t[n]; empty when every row takes part (row i is position i)
  int64_t n = 0;
  Buffer hashes;  // uint64_t[n]
};

Side MakeSide(const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n, const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  const int64_t size = keys[0].size;
  bool nulls = false;
  for (const ColumnView& k : keys) nulls = nulls || k.validity != nullptr;
  // Every row's hash.
  Buffer all(static_cast<size_t>(size) * sizeof(uint64_t), exec);
  for (size_t k = 0; k < keys.size(); ++k) ops.FoldRowHash(keys[k], size, k == 0, all.as<uint64_t>(), exec);
  if (rows == nullptr && !nulls) return Side{&keys, Buffer(), size, std::move(all)};  // every row takes part
  // The rows whose keys are all valid, and their hashes.
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
  side.hashes = Buffer(static_cast<size_t>(side.n) * sizeof(uint64_t), exec);
  ops.GatherFixed(all.data(), sizeof(uint64_t), side.rows.as<int64_t>(), side.n, side.hashes.data(), exec);
  return side;
}

// The rows of `rows` (n; null: 0..n-1) of a side with `size` rows that are
// not among the `pairs` rows of `matched`, ascending.
Buffer Unmatched(const int64_t* rows, int64_t n, int64_t size, const Buffer& matched, int64_t pairs,
                 int64_t* count, const Exec& exec) {
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
  // The build side's hash table (twice as many slots as rows, a power of
  // two), then each probe row's matches counted and written.
  int64_t capacity = 16;
  while (capacity < 2 * build.n) capacity *= 2;
  Buffer slots(static_cast<size_t>(capacity) * sizeof(uint64_t), exec);
  Buffer next(static_cast<size_t>(build.n) * sizeof(uint64_t), exec);
  ops.BuildChains(build.hashes.as<uint64_t>(), build.n, slots.as<uint64_t>(), capacity, next.as<uint64_t>(), exec);
  int64_t candidates = 0;
  Buffer probe_rows, build_rows;
  {
    Buffer counts = Int64s(probe.n, exec), offsets = Int64s(probe.n, exec);
    candidates = ops.ProbeCounts(build.hashes.as<uint64_t>(), slots.as<uint64_t>(), capacity, next.as<uint64_t>(),
                                 probe.hashes.as<uint64_t>(), probe.n, counts.as<int64_t>(), offsets.as<int64_t>(),
                                 exec);
    Buffer at_probe = Int64s(candidates, exec), at_build = Int64s(candidates, exec);
    ops.ProbeFill(build.hashes.as<uint64_t>(), slots.as<uint64_t>(), capacity, next.as<uint64_t>(),
                  probe.hashes.as<uint64_t>(), probe.n, offsets.as<int64_t>(), at_probe.as<int64_t>(),
                  at_build.as<int64_t>(), exec);
    // Positions to table rows.
    const auto rows_of = [&](const Side& side, Buffer& at) {
      if (side.rows.size() == 0) return std::move(at);
      Buffer rows = Int64s(candidates, exec);
      ops.GatherFixed(side.rows.data(), sizeof(int64_t), at.as<int64_t>(), candidates, rows.data(), exec);
      return rows;
    };
    probe_rows = rows_of(probe, at_probe);
    build_rows = rows_of(build, at_build);
  }
  slots = Buffer();
  next = Buffer();
  JoinResult out;
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
    out.right_only =
        Unmatched(right_rows, nr, right_keys[0].size, out.right, out.pairs, &out.right_only_count, exec);
  }
  return out;
}

}  // namespace kernels
