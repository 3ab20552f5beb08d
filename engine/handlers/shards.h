#pragma once

// Tables over several devices, as handlers meet them: where a new table's
// rows go, one task per shard on that shard's device, and the rows of a
// distributed table brought to one device for the endpoints that read a
// table whole.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/handlers/handler.h"
#include "engine/table/table.h"
#include "engine/table/types.h"
#include "kernels/column.h"

namespace engine {

// The layout of a new table (Kinetica's rules): every row on every device
// when `replicated`; else sharded by the type's shard_key columns (its
// primary_key columns when it has no shard key); else spread, in chunks of
// at least `chunk_rows` rows per device.
Layout ChooseLayout(const TableType& type, bool replicated, int64_t chunk_rows);

// An empty table laid out as ChooseLayout says (chunk_rows from ctx.limits)
// over every device of the engine, ctx.device first (its home); a
// single-device one on ctx.device when there is one device.
std::shared_ptr<Table> MakeTable(const JobContext& ctx, std::string name, TableType type, bool replicated);
// The devices a new table goes over: `home` first, then every other device
// that has not failed.
std::vector<Device*> TableDevices(const std::vector<std::unique_ptr<Device>>& devices, Device* home);

// The table as one single-device table on ctx.device, for an endpoint that
// reads it whole: its only part when that lives on ctx.device (a
// single-device table, a replica, a shard holding every row); otherwise a
// copy of every row, in the order of insertion, assembled on ctx.device (a
// view of no name).
std::shared_ptr<Table> LocalTable(JobContext& ctx, std::shared_ptr<Table> table);

// The parts of `table` a read works on: a single-device table itself; a
// replicated table's replica on ctx.device; the shards of a sharded or
// spread table that hold rows (one shard when none do: ctx.device's, else
// the first).
std::vector<const Table*> Parts(const JobContext& ctx, const Table& table);
// How many there are (the same for every ctx).
size_t PartCount(const Table& table);

// Runs fn(part_ctx, part, i) once per part of `table` (Parts): on ctx itself
// when there is one part and it lives on ctx.device; otherwise each on a
// shard stream of its device, all at once. part_ctx is ctx with the part's
// device and stream; its checkpoint adds up the parts' progress into ctx's,
// and so stops every part on a cancel or a deadline. Returns the first
// error (a device's named); every task has finished when it returns.
// REQUIRES: fn does not call ForEachShard.
using ShardFn = std::function<absl::Status(JobContext& part_ctx, const Table& part, size_t index)>;
absl::Status ForEachShard(JobContext& ctx, const Table& table, const ShardFn& fn);
// ForEachShard over every part a change of `table` touches: the table
// itself, or each of its shards (every replica, empty shards too), `index`
// being the shard's place in table.shards().
absl::Status ForEachPart(JobContext& ctx, const Table& table, const ShardFn& fn);

// `parts` (columns of one layout, on any devices, each at rest: no work
// pending on them) one after another in a new column on exec's device.
kernels::Column Concatenate(const std::vector<kernels::ColumnView>& parts, kernels::PhysType type, int32_t width,
                            bool nullable, const kernels::Exec& exec);

}  // namespace engine
