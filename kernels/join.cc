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
  Buffer rows;  // int64_t[n]
  int64_t n = 0;
  Buffer hashes;  // uint64_t[n]
};

Side MakeSide(const std::vector<ColumnView>& keys, const int64_t* rows, int64_t n, const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  Buffer mask(static_cast<size_t>(n), exec);
  for (size_t k = 0; k < keys.size(); ++k) ops.RowsValid(keys[k], rows, n, k == 0, mask.as<uint8_t>(), exec);
  Selection valid = Compact(mask.as<uint8_t>(), 0, n, exec);
  Side side{&keys, Int64s(valid.count, exec), valid.count, Buffer()};
  if (rows != nullptr) {
    ops.GatherFixed(rows, sizeof(int64_t), valid.indices.as<int64_t>(), valid.count, side.rows.data(), exec);
  } else {
    side.rows = std::move(valid.indices);
  }
  // Every row's hash, then those of the side's rows.
  const int64_t size = keys[0].size;
  Buffer all(static_cast<size_t>(size) * sizeof(uint64_t), exec);
  for (size_t k = 0; k < keys.size(); ++k) ops.FoldRowHash(keys[k], size, k == 0, all.as<uint64_t>(), exec);
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
  // Build on the smaller side: its hashes sorted, with their positions.
  const bool build_right = right.n <= left.n;
  Side& build = build_right ? right : left;
  Side& probe = build_right ? left : right;
  Buffer order = Int64s(build.n, exec);
  ops.Positions(0, build.n, order.as<int64_t>(), exec);
  ops.SortByHash(build.hashes.as<uint64_t>(), order.as<int64_t>(), build.n, exec);
  // Each probe row's range of equal hashes, then the candidate pairs.
  int64_t candidates = 0;
  Buffer probe_rows, build_rows;
  {
    Buffer lo = Int64s(probe.n, exec), counts = Int64s(probe.n, exec), offsets = Int64s(probe.n, exec);
    if (build.n > 0) {
      candidates = ops.ProbeRanges(build.hashes.as<uint64_t>(), build.n, probe.hashes.as<uint64_t>(), probe.n,
                                   lo.as<int64_t>(), counts.as<int64_t>(), offsets.as<int64_t>(), exec);
    }
    Buffer at_probe = Int64s(candidates, exec), at_build = Int64s(candidates, exec);
    if (candidates > 0) {
      ops.ExpandPairs(lo.as<int64_t>(), counts.as<int64_t>(), offsets.as<int64_t>(), probe.n, order.as<int64_t>(),
                      at_probe.as<int64_t>(), at_build.as<int64_t>(), exec);
    }
    probe_rows = Int64s(candidates, exec);
    build_rows = Int64s(candidates, exec);
    ops.GatherFixed(probe.rows.data(), sizeof(int64_t), at_probe.as<int64_t>(), candidates, probe_rows.data(), exec);
    ops.GatherFixed(build.rows.data(), sizeof(int64_t), at_build.as<int64_t>(), candidates, build_rows.data(), exec);
  }
  // The candidates whose keys are all equal (equal hashes may hide unequal keys).
  Buffer equal(static_cast<size_t>(candidates), exec);
  for (size_t k = 0; k < probe.keys->size(); ++k) {
    ops.PairKeysEqual((*probe.keys)[k], probe_rows.as<int64_t>(), (*build.keys)[k], build_rows.as<int64_t>(),
                      candidates, k == 0, equal.as<uint8_t>(), exec);
  }
  Selection kept = Compact(equal.as<uint8_t>(), 0, candidates, exec);
  JoinResult out;
  out.pairs = kept.count;
  const auto keep = [&](const Buffer& rows) {
    Buffer b = Int64s(kept.count, exec);
    ops.GatherFixed(rows.data(), sizeof(int64_t), kept.indices.as<int64_t>(), kept.count, b.data(), exec);
    return b;
  };
  (build_right ? out.left : out.right) = keep(probe_rows);
  (build_right ? out.right : out.left) = keep(build_rows);
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
