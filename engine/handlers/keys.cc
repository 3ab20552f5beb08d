#include "engine/handlers/keys.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "engine/handlers/shards.h"
#include "engine/table/host_column.h"
#include "engine/table/record_codec.h"
#include "kernels/backend.h"
#include "kernels/gather.h"
#include "kernels/join.h"

namespace engine {
namespace {

using Pairs = std::vector<std::pair<int64_t, int64_t>>;

std::vector<int64_t> ToHostInts(const kernels::Buffer& b, int64_t n, const kernels::Exec& exec) {
  std::vector<int64_t> out(static_cast<size_t>(n));
  if (n > 0) kernels::CopyToHostSync(out.data(), b.data(), static_cast<size_t>(n) * sizeof(int64_t), exec);
  return out;
}

// The matched pairs of an inner join of `a` and `b` (all rows of each), on
// the host.
Pairs JoinPairs(const std::vector<kernels::ColumnView>& a, const std::vector<kernels::ColumnView>& b,
                const kernels::Exec& exec) {
  const kernels::JoinResult r =
      kernels::HashJoin(a, nullptr, a[0].size, b, nullptr, b[0].size, kernels::JoinKind::kInner, exec);
  const std::vector<int64_t> left = ToHostInts(r.left, r.pairs, exec), right = ToHostInts(r.right, r.pairs, exec);
  Pairs out;
  out.reserve(left.size());
  for (size_t i = 0; i < left.size(); ++i) out.emplace_back(left[i], right[i]);
  return out;
}

// The key columns of `rows`.
std::vector<kernels::ColumnView> KeyViews(const std::vector<kernels::ColumnView>& rows, const std::vector<int>& key) {
  std::vector<kernels::ColumnView> out;
  for (int c : key) out.push_back(rows[c]);
  return out;
}

// "(id=5, name="x")": the key of row `row` of `rows` (on exec's device).
std::string KeyText(const TableType& type, const std::vector<int>& key, const std::vector<kernels::ColumnView>& rows,
                    int64_t row, const kernels::Exec& exec) {
  std::vector<std::string> parts;
  for (int c : key) {
    const ColumnDef& def = type.column(c);
    const HostColumn value = ToHost(rows[c], def.nullable, row, row + 1, exec);
    parts.push_back(absl::StrCat(def.name, "=", engine::DumpJson(ValueToJson(def, value, 0))));
  }
  return absl::StrCat("(", absl::StrJoin(parts, ", "), ")");
}

// Columns `views` copied to exec's device (they may be on another one, at rest).
std::vector<kernels::Column> CopyColumns(const std::vector<kernels::ColumnView>& views, const TableType& type,
                                         const std::vector<int>& which, const kernels::Exec& exec) {
  std::vector<kernels::Column> out;
  for (size_t i = 0; i < views.size(); ++i) {
    const ColumnDef& def = type.column(which.empty() ? i : which[i]);
    out.emplace_back(def.phys(), def.char_width, def.nullable);
    out.back().Append(views[i], exec);
  }
  return out;
}

}  // namespace

std::vector<int> PrimaryKey(const TableType& type) {
  std::vector<int> key;
  for (size_t c = 0; c < type.size(); ++c) {
    const auto& props = type.column(c).properties;
    if (std::find(props.begin(), props.end(), "primary_key") != props.end()) key.push_back(static_cast<int>(c));
  }
  return key;
}

absl::Status InsertWithKey(JobContext& ctx, Table& table, const std::vector<kernels::ColumnView>& rows,
                           ExistingKey policy, int64_t* inserted, int64_t* updated) {
  const TableType& type = table.type();
  const std::vector<int> key = PrimaryKey(type);
  const int64_t n = rows.empty() ? 0 : rows[0].size;
  *inserted = 0;
  *updated = 0;
  if (n == 0) return absl::OkStatus();
  if (key.empty()) {
    if (absl::Status s = table.Append(rows, ctx.exec); !s.ok()) return s;
    *inserted = n;
    return absl::OkStatus();
  }
  const std::vector<kernels::ColumnView> keys = KeyViews(rows, key);
  std::vector<uint8_t> keep(static_cast<size_t>(n), 1);
  // Records of the batch sharing a key.
  for (const auto& [a, b] : JoinPairs(keys, keys, ctx.exec)) {
    if (a >= b) continue;
    if (policy == ExistingKey::kError) {
      return absl::InvalidArgumentError(absl::StrCat(
          "list[", b, "]: primary key ", KeyText(type, key, rows, b, ctx.exec), " is also the key of list[", a, "]"));
    }
    keep[policy == ExistingKey::kIgnore ? b : a] = 0;
  }
  // Records whose key a part of the table holds: (record, row of the part).
  kernels::Synchronize(ctx.exec);
  const size_t parts = table.distributed() ? table.shards().size() : 1;
  std::vector<Pairs> matches(parts);
  absl::Status s = ForEachPart(ctx, table, [&](JobContext& part_ctx, const Table& part, size_t p) -> absl::Status {
    if (part.rows() == 0) return absl::OkStatus();
    const std::vector<kernels::ColumnView> part_keys = KeyViews(part.views(), key);
    if (&part_ctx.device == &ctx.device) {
      matches[p] = JoinPairs(keys, part_keys, part_ctx.exec);
      return absl::OkStatus();
    }
    const std::vector<kernels::Column> local = CopyColumns(keys, type, key, part_ctx.exec);
    std::vector<kernels::ColumnView> local_views;
    for (const auto& c : local) local_views.push_back(c.view());
    matches[p] = JoinPairs(local_views, part_keys, part_ctx.exec);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  // What becomes of them; a replicated table's replicas match alike.
  const bool replicated = table.layout().kind == Layout::Kind::kReplicated && table.distributed();
  std::vector<Pairs> updates(parts);  // (row of the part, record)
  for (size_t p = 0; p < parts; ++p) {
    for (const auto& [record, row] : matches[p]) {
      if (policy == ExistingKey::kError) {
        return absl::InvalidArgumentError(absl::StrCat("list[", record, "]: primary key ",
                                                       KeyText(type, key, rows, record, ctx.exec),
                                                       " already exists in table '", table.name(), "'"));
      }
      if (policy == ExistingKey::kUpdate && keep[record] != 0) updates[p].emplace_back(row, record);
    }
  }
  for (size_t p = 0; p < parts; ++p) {
    for (const auto& [record, row] : matches[p]) keep[record] = 0;
    std::sort(updates[p].begin(), updates[p].end());
    if (p == 0 || !replicated) *updated += static_cast<int64_t>(updates[p].size());
  }
  // The replaced rows keep their key: their other columns take the records'.
  std::vector<int> others;
  for (size_t c = 0; c < type.size(); ++c) {
    if (std::find(key.begin(), key.end(), static_cast<int>(c)) == key.end()) others.push_back(static_cast<int>(c));
  }
  if (*updated > 0 && !others.empty()) {
    std::vector<Table::RowChange> changes(parts);
    s = ForEachPart(ctx, table, [&](JobContext& part_ctx, const Table& part, size_t p) -> absl::Status {
      const Pairs& u = updates[p];
      if (u.empty()) return absl::OkStatus();
      std::vector<int64_t> at, from;
      for (const auto& [row, record] : u) {
        at.push_back(row);
        from.push_back(record);
      }
      Table::RowChange& change = changes[p];
      change.updated_count = static_cast<int64_t>(u.size());
      change.updated = kernels::Buffer(at.size() * sizeof(int64_t), part_ctx.exec);
      kernels::CopyToDevice(change.updated.data(), at.data(), at.size() * sizeof(int64_t), part_ctx.exec);
      kernels::Buffer records(from.size() * sizeof(int64_t), part_ctx.exec);
      kernels::CopyToDevice(records.data(), from.data(), from.size() * sizeof(int64_t), part_ctx.exec);
      std::vector<kernels::ColumnView> sources;
      for (int c : others) sources.push_back(rows[c]);
      const std::vector<kernels::Column> local = &part_ctx.device == &ctx.device
                                                     ? std::vector<kernels::Column>()
                                                     : CopyColumns(sources, type, others, part_ctx.exec);
      change.columns = others;
      for (size_t i = 0; i < others.size(); ++i) {
        const kernels::ColumnView src = local.empty() ? sources[i] : local[i].view();
        change.values.push_back(kernels::Gather(src, records.as<int64_t>(), change.updated_count,
                                                type.column(others[i]).nullable, part_ctx.exec));
      }
      kernels::Synchronize(part_ctx.exec);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    if (s = table.ChangeRows(changes, ctx.exec); !s.ok()) return s;
  }
  // The records that stay new.
  std::vector<int64_t> kept;
  for (int64_t i = 0; i < n; ++i) {
    if (keep[i] != 0) kept.push_back(i);
  }
  *inserted = static_cast<int64_t>(kept.size());
  if (kept.empty()) return absl::OkStatus();
  if (*inserted == n) return table.Append(rows, ctx.exec);
  kernels::Buffer at(kept.size() * sizeof(int64_t), ctx.exec);
  kernels::CopyToDevice(at.data(), kept.data(), kept.size() * sizeof(int64_t), ctx.exec);
  std::vector<kernels::Column> gathered;
  std::vector<kernels::ColumnView> views;
  for (size_t c = 0; c < type.size(); ++c) {
    gathered.push_back(kernels::Gather(rows[c], at.as<int64_t>(), *inserted, type.column(c).nullable, ctx.exec));
    views.push_back(gathered.back().view());
  }
  return table.Append(views, ctx.exec);
}

absl::StatusOr<std::vector<int64_t>> CheckUpdatedKeys(JobContext& part_ctx, const Table& part,
                                                      const std::vector<int>& key, const kernels::Buffer& updated,
                                                      const std::vector<int>& columns,
                                                      const std::vector<kernels::Column>& values, bool replace) {
  const TableType& type = part.type();
  // The new rows as views per field (those of the key are all there).
  std::vector<kernels::ColumnView> rows(type.size());
  for (size_t i = 0; i < columns.size(); ++i) rows[columns[i]] = values[i].view();
  const std::vector<kernels::ColumnView> keys = KeyViews(rows, key);
  for (const auto& [a, b] : JoinPairs(keys, keys, part_ctx.exec)) {
    if (a < b) {
      return absl::InvalidArgumentError(absl::StrCat("new_values_maps: the update gives two rows the primary key ",
                                                     KeyText(type, key, rows, a, part_ctx.exec)));
    }
  }
  const int64_t n = values.empty() ? 0 : values[0].size();
  const std::vector<int64_t> changed = ToHostInts(updated, n, part_ctx.exec);
  std::vector<int64_t> replaced;
  for (const auto& [row, other] : JoinPairs(keys, KeyViews(part.views(), key), part_ctx.exec)) {
    if (std::binary_search(changed.begin(), changed.end(), other)) continue;
    if (!replace) {
      return absl::InvalidArgumentError(absl::StrCat(
          "new_values_maps: the update gives a row the primary key ", KeyText(type, key, rows, row, part_ctx.exec),
          " of another row of table '", part.name(), "' (options.update_on_existing_pk=true replaces that row)"));
    }
    replaced.push_back(other);
  }
  std::sort(replaced.begin(), replaced.end());
  replaced.erase(std::unique(replaced.begin(), replaced.end()), replaced.end());
  return replaced;
}

}  // namespace engine
