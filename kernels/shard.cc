#include "kernels/shard.h"

#include <stdexcept>

#include "kernels/detail/ops.h"
#include "kernels/histogram.h"
#include "kernels/sort.h"

namespace kernels {

Buffer ShardOfRows(const std::vector<ColumnView>& keys, int64_t n, int shards, const Exec& exec) {
  if (keys.empty() || shards < 1) throw std::invalid_argument("ShardOfRows: needs key columns and shards >= 1");
  const auto& ops = detail::OpsFor(exec.backend);
  Buffer hashes(static_cast<size_t>(n) * sizeof(uint64_t), exec);
  for (size_t k = 0; k < keys.size(); ++k) ops.FoldRowHash(keys[k], n, k == 0, hashes.as<uint64_t>(), exec);
  Buffer out(static_cast<size_t>(n) * sizeof(int32_t), exec);
  ops.HashToShard(hashes.as<uint64_t>(), n, shards, out.as<int32_t>(), exec);
  return out;
}

Buffer RowPositions(int64_t first, int64_t n, const Exec& exec) {
  Buffer out(static_cast<size_t>(n) * sizeof(int64_t), exec);
  detail::OpsFor(exec.backend).Positions(first, n, out.as<int64_t>(), exec);
  return out;
}

ShardPartition PartitionRows(const int32_t* shard_of, int64_t n, int shards, const Exec& exec) {
  ShardPartition p;
  p.starts.assign(static_cast<size_t>(shards) + 1, 0);
  if (n == 0) return p;
  ColumnView ids;
  ids.type = PhysType::kInt32;
  ids.size = n;
  ids.data = shard_of;
  p.order = SortOrder({{ids, false}}, nullptr, n, exec);
  const std::vector<double> counts = Histogram(ids, nullptr, nullptr, n, 0, shards, 1, shards, exec);
  for (int s = 0; s < shards; ++s) p.starts[s + 1] = p.starts[s] + static_cast<int64_t>(counts[s]);
  return p;
}

}  // namespace kernels
