#include "engine/handlers/shards.h"

#include <algorithm>
#include <utility>

#include "absl/synchronization/mutex.h"

namespace engine {

Layout ChooseLayout(const TableType& type, bool replicated, int64_t chunk_rows) {
  Layout layout;
  layout.chunk_rows = std::max<int64_t>(chunk_rows, 1);
  if (replicated) {
    layout.kind = Layout::Kind::kReplicated;
    return layout;
  }
  for (const char* property : {"shard_key", "primary_key"}) {
    for (size_t c = 0; c < type.size(); ++c) {
      const auto& props = type.column(c).properties;
      if (std::find(props.begin(), props.end(), property) != props.end()) {
        layout.shard_key.push_back(static_cast<int>(c));
      }
    }
    if (!layout.shard_key.empty()) break;
  }
  layout.kind = layout.shard_key.empty() ? Layout::Kind::kSpread : Layout::Kind::kSharded;
  return layout;
}

std::vector<Device*> TableDevices(const std::vector<std::unique_ptr<Device>>& devices, Device* home) {
  std::vector<Device*> out{home};
  for (const auto& d : devices) {
    if (d.get() != home && d->failure().ok()) out.push_back(d.get());
  }
  return out;
}

std::shared_ptr<Table> MakeTable(const JobContext& ctx, std::string name, TableType type, bool replicated) {
  Layout layout = ChooseLayout(type, replicated, ctx.limits.spread_chunk_rows);
  return Table::Create(std::move(name), std::move(type), std::move(layout), TableDevices(ctx.devices, &ctx.device),
                       Table::Kind::kTable);
}

std::vector<const Table*> Parts(const JobContext& ctx, const Table& table) {
  if (!table.distributed()) return {&table};
  const std::shared_ptr<Table> local = table.ShardOn(&ctx.device);
  if (table.layout().kind == Layout::Kind::kReplicated)
    return {local != nullptr ? local.get() : table.shards()[0].get()};
  std::vector<const Table*> parts;
  for (const auto& s : table.shards()) {
    if (s->rows() > 0) parts.push_back(s.get());
  }
  if (parts.empty()) parts.push_back(local != nullptr ? local.get() : table.shards()[0].get());
  return parts;
}

size_t PartCount(const Table& table) {
  if (!table.distributed() || table.layout().kind == Layout::Kind::kReplicated) return 1;
  size_t n = 0;
  for (const auto& s : table.shards()) n += s->rows() > 0 ? 1 : 0;
  return std::max<size_t>(n, 1);
}

std::shared_ptr<Table> LocalTable(JobContext& ctx, std::shared_ptr<Table> table) {
  if (!table->distributed()) return table;
  const std::vector<const Table*> parts = Parts(ctx, *table);
  if (parts.size() == 1 && parts[0]->device() == &ctx.device) return table->ShardOn(&ctx.device);
  auto local = std::make_shared<Table>("", table->type(), &ctx.device, Table::Kind::kView);
  local->Replace(table->Assemble(ctx.exec), ctx.exec).IgnoreError();  // no journal: cannot fail
  return local;
}

namespace {

absl::Status RunParts(JobContext& ctx, const std::vector<const Table*>& parts, const ShardFn& fn) {
  if (parts.size() == 1 && parts[0]->device() == &ctx.device) return fn(ctx, *parts[0], 0);
  std::vector<Device*> devices;
  for (const Table* p : parts) devices.push_back(p->device());
  // Progress of each part, added up into the job's.
  absl::Mutex mu;
  std::vector<std::pair<int64_t, int64_t>> progress(parts.size(), {0, 0});
  return RunOnDevices(devices, [&](size_t i, const kernels::Exec& exec) {
    JobContext part_ctx{ctx.catalog, *devices[i], exec, ctx.limits, ctx.devices, [&, i](int64_t done, int64_t total) {
                          absl::MutexLock lock(&mu);
                          progress[i] = {done, total};
                          int64_t all_done = 0, all_total = 0;
                          for (const auto& [d, t] : progress) {
                            all_done += d;
                            all_total += t;
                          }
                          return ctx.checkpoint(all_done, all_total);
                        }};
    return fn(part_ctx, *parts[i], i);
  });
}

}  // namespace

absl::Status ForEachShard(JobContext& ctx, const Table& table, const ShardFn& fn) {
  return RunParts(ctx, Parts(ctx, table), fn);
}

absl::Status ForEachPart(JobContext& ctx, const Table& table, const ShardFn& fn) {
  if (!table.distributed()) return RunParts(ctx, {&table}, fn);
  std::vector<const Table*> parts;
  for (const auto& s : table.shards()) parts.push_back(s.get());
  return RunParts(ctx, parts, fn);
}

kernels::Column Concatenate(const std::vector<kernels::ColumnView>& parts, kernels::PhysType type, int32_t width,
                            bool nullable, const kernels::Exec& exec) {
  kernels::Column out(type, width, nullable);
  int64_t rows = 0, chars = 0;
  for (const kernels::ColumnView& p : parts) {
    rows += p.size;
    chars += kernels::Column::CharCount(p, exec);
  }
  out.Reserve(rows, chars, exec);
  for (const kernels::ColumnView& p : parts) out.Append(p, exec);
  return out;
}

}  // namespace engine
