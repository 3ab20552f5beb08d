#include "engine/table/table.h"

#include <algorithm>
#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "engine/jobs/device.h"
#include "engine/table/names.h"
#include "kernels/backend.h"
#include "kernels/gather.h"
#include "kernels/shard.h"
#include "kernels/sort.h"
#include "kernels/statistics.h"

namespace engine {

const char* Layout::name() const {
  switch (kind) {
    case Kind::kSingle:
      return "single";
    case Kind::kSharded:
      return "sharded";
    case Kind::kSpread:
      return "spread";
    case Kind::kReplicated:
      return "replicated";
  }
  return "single";
}

Table::Table(std::string name, TableType type, Device* device, Kind kind, Layout layout)
    : name_(DisplayTableName(name)),
      type_(std::move(type)),
      type_id_(type_.TypeId()),
      device_(device),
      kind_(kind),
      layout_(std::move(layout)) {
  for (const ColumnDef& c : type_.columns()) columns_.emplace_back(c.phys(), c.char_width, c.nullable);
}

Table::Table(std::string name, TableType type, Layout layout, std::vector<std::shared_ptr<Table>> shards, Kind kind)
    : name_(DisplayTableName(name)),
      type_(std::move(type)),
      type_id_(type_.TypeId()),
      device_(shards.at(0)->device()),
      kind_(kind),
      layout_(std::move(layout)),
      shards_(std::move(shards)) {
  UpdateSizes();
}

std::shared_ptr<Table> Table::Create(std::string name, TableType type, Layout layout,
                                     const std::vector<Device*>& devices, Kind kind) {
  if (layout.kind == Layout::Kind::kSingle || devices.size() == 1) {
    return std::make_shared<Table>(std::move(name), std::move(type), devices.at(0), kind, std::move(layout));
  }
  std::vector<std::shared_ptr<Table>> shards;
  for (Device* d : devices) shards.push_back(std::make_shared<Table>(name, type, d, kind));
  return std::make_shared<Table>(std::move(name), std::move(type), std::move(layout), std::move(shards), kind);
}

std::shared_ptr<Table> Table::ShardOn(const Device* device) const {
  for (const auto& s : shards_) {
    if (s->device() == device) return s;
  }
  return nullptr;
}

int64_t Table::rows() const {
  absl::MutexLock lock(&sizes_mu_);
  return rows_;
}

size_t Table::device_bytes() const {
  absl::MutexLock lock(&sizes_mu_);
  return bytes_;
}

std::vector<kernels::ColumnView> Table::views() const {
  if (distributed()) {
    throw std::logic_error(absl::StrCat("table '", name_, "' is distributed over ", shards_.size(),
                                        " devices; its columns are read shard by shard"));
  }
  std::vector<kernels::ColumnView> out;
  out.reserve(columns_.size());
  for (const kernels::Column& c : columns_) out.push_back(c.view());
  return out;
}

std::vector<kernels::Column> Table::Assemble(const kernels::Exec& exec) const {
  std::vector<kernels::Column> out;
  for (const ColumnDef& c : type_.columns()) out.emplace_back(c.phys(), c.char_width, c.nullable);
  const bool shards = distributed() && layout_.kind != Layout::Kind::kReplicated;
  const Table* one = !distributed() ? this : shards_[0].get();
  if (!shards) {
    const std::vector<kernels::ColumnView> views = one->views();
    for (size_t c = 0; c < out.size(); ++c) out[c].Append(views[c], exec);
    return out;
  }
  // The shards' rows one after another, then put in order of position.
  kernels::Column positions(kernels::PhysType::kInt64, 0, false);
  for (const auto& s : shards_) {
    const std::vector<kernels::ColumnView> views = s->views();
    for (size_t c = 0; c < out.size(); ++c) out[c].Append(views[c], exec);
    positions.Append(s->positions(), exec);
  }
  const int64_t n = positions.size();
  kernels::Buffer order = kernels::SortOrder({{positions.view(), false}}, nullptr, n, exec);
  for (size_t c = 0; c < out.size(); ++c) {
    out[c] = kernels::Gather(out[c].view(), order.as<int64_t>(), n, type_.column(c).nullable, exec);
  }
  return out;
}

std::shared_ptr<Table> Table::Shard(std::string name, TableType type, Device* device,
                                    std::vector<kernels::Column> columns, kernels::Column positions,
                                    const kernels::Exec& exec) {
  auto shard = std::make_shared<Table>(std::move(name), std::move(type), device, Kind::kView);
  shard->Replace(std::move(columns), exec).IgnoreError();  // no journal: cannot fail
  shard->positions_ = std::move(positions);
  return shard;
}

int64_t Table::version() const {
  absl::MutexLock lock(&sizes_mu_);
  return version_;
}

absl::Status Table::AppendRows(const std::vector<kernels::ColumnView>& columns, const kernels::ColumnView* positions,
                               const kernels::Exec& exec) {
  if (columns.empty() || columns[0].size == 0) return absl::OkStatus();
  if (distributed()) {
    absl::Status s = RouteRows(columns, exec);
    UpdateSizes();
    return s;
  }
  const int64_t rows = columns_[0].size() + columns[0].size;
  std::vector<kernels::Column::Growth> growth;
  growth.reserve(columns_.size() + 1);
  for (size_t i = 0; i < columns_.size(); ++i) {
    const int64_t chars = columns_[i].chars() + kernels::Column::CharCount(columns[i], exec);
    growth.push_back(columns_[i].Grow(rows, chars, exec));
  }
  if (positions != nullptr) growth.push_back(positions_.Grow(rows, 0, exec));
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].Commit(std::move(growth[i]), exec);
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].Append(columns[i], exec);
  if (positions != nullptr) {
    positions_.Commit(std::move(growth.back()), exec);
    positions_.Append(*positions, exec);
  }
  UpdateSizes(/*appended=*/true);
  return absl::OkStatus();
}

absl::Status Table::RouteRows(const std::vector<kernels::ColumnView>& columns, const kernels::Exec& exec) {
  const int64_t n = columns[0].size;
  const size_t count = shards_.size();
  std::vector<Device*> devices;
  for (const auto& s : shards_) devices.push_back(s->device());
  // Each shard's part: views into `columns` (a run of rows) or into `parts`
  // (rows gathered by shard).
  std::vector<std::vector<kernels::ColumnView>> views(count);
  std::vector<std::vector<kernels::Column>> parts(count);
  // The rows' positions (replicated tables read one copy in its own order).
  const bool positioned = layout_.kind != Layout::Kind::kReplicated;
  kernels::Buffer first_positions;
  kernels::ColumnView all_positions{kernels::PhysType::kInt64, 0, n};
  if (positioned) {
    first_positions = kernels::RowPositions(next_position_, n, exec);
    all_positions.data = first_positions.data();
  }
  std::vector<kernels::ColumnView> positions(count);
  std::vector<kernels::Column> gathered_positions(count);
  switch (layout_.kind) {
    case Layout::Kind::kSingle:
    case Layout::Kind::kReplicated:
      for (auto& v : views) v = columns;
      break;
    case Layout::Kind::kSpread: {
      // Fill the shards in order up to an even share, and chunk_rows at least.
      std::vector<int64_t> have(count);
      int64_t total = n;
      for (size_t s = 0; s < count; ++s) total += have[s] = shards_[s]->rows();
      const int64_t share = std::max<int64_t>(layout_.chunk_rows,
                                              (total + static_cast<int64_t>(count) - 1) / static_cast<int64_t>(count));
      std::vector<int64_t> take(count, 0);
      int64_t left = n;
      for (size_t s = 0; s < count; ++s) {
        take[s] = std::min(left, std::max<int64_t>(0, share - have[s]));
        left -= take[s];
      }
      take[0] += left;  // none: the shares cover every row
      int64_t begin = 0;
      for (size_t s = 0; s < count; ++s) {
        if (take[s] == 0) continue;
        for (const kernels::ColumnView& c : columns) views[s].push_back(kernels::SliceRows(c, begin, begin + take[s]));
        positions[s] = kernels::SliceRows(all_positions, begin, begin + take[s]);
        begin += take[s];
      }
      break;
    }
    case Layout::Kind::kSharded: {
      std::vector<kernels::ColumnView> keys;
      for (int k : layout_.shard_key) keys.push_back(columns[k]);
      kernels::Buffer shard_of = kernels::ShardOfRows(keys, n, static_cast<int>(count), exec);
      kernels::ShardPartition p = kernels::PartitionRows(shard_of.as<int32_t>(), n, static_cast<int>(count), exec);
      for (size_t s = 0; s < count; ++s) {
        const int64_t rows = p.starts[s + 1] - p.starts[s];
        if (rows == 0) continue;
        const int64_t* order = p.order.as<int64_t>() + p.starts[s];
        for (size_t c = 0; c < columns.size(); ++c) {
          parts[s].push_back(kernels::Gather(columns[c], order, rows, type_.column(c).nullable, exec));
          views[s].push_back(parts[s].back().view());
        }
        gathered_positions[s] = kernels::Gather(all_positions, order, rows, false, exec);
        positions[s] = gathered_positions[s].view();
      }
      break;
    }
  }
  // The shards copy from memory of exec's device: it must be ready.
  kernels::Synchronize(exec);
  absl::Status s = RunOnDevices(devices, [&](size_t s, const kernels::Exec& shard_exec) {
    return shards_[s]->AppendRows(views[s], positioned ? &positions[s] : nullptr, shard_exec);
  });
  if (s.ok()) next_position_ += n;
  return s;
}

// A single-device table's marks: one per column, then its positions; a
// distributed one's: its next position, then each shard's.
Table::Marks Table::Mark() const {
  Marks marks;
  if (distributed()) {
    marks.emplace_back(next_position_, 0);
    for (const auto& s : shards_) {
      Marks m = s->Mark();
      marks.insert(marks.end(), m.begin(), m.end());
    }
    return marks;
  }
  for (const kernels::Column& c : columns_) marks.emplace_back(c.size(), c.chars());
  marks.emplace_back(positions_.size(), 0);
  return marks;
}

void Table::Truncate(const Marks& marks) {
  if (distributed()) {
    next_position_ = marks[0].first;
    size_t at = 1;
    for (const auto& s : shards_) {
      const size_t n = s->type().columns().size() + 1;
      s->Truncate(Marks(marks.begin() + at, marks.begin() + at + n));
      at += n;
    }
  } else {
    for (size_t i = 0; i < columns_.size(); ++i) columns_[i].Truncate(marks[i].first, marks[i].second);
    positions_.Truncate(marks.back().first, 0);
  }
  UpdateSizes();
}

absl::Status Table::Append(const std::vector<kernels::ColumnView>& columns, const kernels::Exec& exec) {
  if (columns.empty() || columns[0].size == 0) return absl::OkStatus();
  Journal::Turn turn;
  if (journal_ != nullptr) turn = journal_->Hold();
  JournalChange change{JournalChange::Kind::kAppend, name_};
  change.type = &type_;
  change.rows = &columns;
  change.exec = &exec;
  change.sync_policy = sync_policy();
  if (distributed()) {
    // Routed first, then recorded: a device's failure half way is undone
    // before anything is written.
    const Marks marks = Mark();
    absl::Status s = AppendRows(columns, nullptr, exec);
    if (s.ok() && journal_ != nullptr) s = journal_->Log(change);
    if (!s.ok()) Truncate(marks);
    return s;
  }
  const int64_t rows = columns_[0].size() + columns[0].size;
  // Grow every column before committing any: only growing allocates, so a
  // failure drops the grown storage and leaves the table as it was.
  std::vector<kernels::Column::Growth> growth;
  growth.reserve(columns_.size());
  for (size_t i = 0; i < columns_.size(); ++i) {
    const int64_t chars = columns_[i].chars() + kernels::Column::CharCount(columns[i], exec);
    growth.push_back(columns_[i].Grow(rows, chars, exec));
  }
  // The record is written while the rows are copied in; a failed write
  // undoes the copy (the rows before it are as they were).
  const uint64_t ticket = journal_ != nullptr ? journal_->Start(change) : 0;
  const Marks marks = Mark();
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].Commit(std::move(growth[i]), exec);
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].Append(columns[i], exec);
  if (journal_ != nullptr) {
    if (absl::Status s = journal_->Finish(ticket); !s.ok()) {
      Truncate(marks);
      return s;
    }
  }
  UpdateSizes(/*appended=*/true);
  return absl::OkStatus();
}

absl::Status Table::Replace(std::vector<kernels::Column> columns, const kernels::Exec& exec) {
  Journal::Turn turn;
  std::vector<kernels::ColumnView> views;
  for (const kernels::Column& c : columns) views.push_back(c.view());
  JournalChange change{JournalChange::Kind::kReplace, name_};
  change.type = &type_;
  change.rows = &views;
  change.exec = &exec;
  change.sync_policy = sync_policy();
  if (journal_ != nullptr) turn = journal_->Hold();
  if (!distributed()) {
    if (journal_ != nullptr) {
      if (absl::Status s = journal_->Log(change); !s.ok()) return s;
    }
    for (kernels::Column& c : columns) c.CountNulls(exec);  // columns of no nulls read as such
    columns_ = std::move(columns);
    UpdateSizes();
    return absl::OkStatus();
  }
  // The shards start empty and take their parts; on an error they get
  // their old columns back.
  std::vector<std::vector<kernels::Column>> old;
  std::vector<kernels::Column> old_positions;
  const int64_t old_next = next_position_;
  for (const auto& s : shards_) {
    old.push_back(std::move(s->columns_));
    old_positions.push_back(std::move(s->positions_));
    s->columns_.clear();
    for (const ColumnDef& c : type_.columns()) s->columns_.emplace_back(c.phys(), c.char_width, c.nullable);
    s->positions_ = kernels::Column(kernels::PhysType::kInt64, 0, false);
    s->UpdateSizes();
  }
  next_position_ = 0;
  const auto restore = [&] {
    for (size_t i = 0; i < shards_.size(); ++i) {
      shards_[i]->columns_ = std::move(old[i]);
      shards_[i]->positions_ = std::move(old_positions[i]);
      shards_[i]->UpdateSizes();
    }
    next_position_ = old_next;
    UpdateSizes();
  };
  absl::Status s;
  try {
    s = AppendRows(views, nullptr, exec);
  } catch (...) {
    restore();
    throw;
  }
  if (s.ok() && journal_ != nullptr) s = journal_->Log(change);
  if (!s.ok()) {
    restore();
    return s;
  }
  UpdateSizes();
  return s;
}

Table::Rebuilt Table::Rebuild(const RowChange& change, const kernels::Exec& exec) const {
  Rebuilt out;
  if (change.updated_count == 0 && change.deleted_count == 0) {
    out.same = true;
    return out;
  }
  const int64_t n = columns_.empty() ? 0 : columns_[0].size();
  const bool positioned = positions_.size() > 0;
  out.kept.assign(columns_.size(), change.deleted_count == 0);
  for (const kernels::Column& c : columns_) out.columns.emplace_back(c.type(), c.width(), c.nullable());
  std::vector<kernels::ColumnView> current = views();
  // The new columns, their nulls counted (so that columns of none read as such).
  const auto counted = [&] {
    for (size_t c = 0; c < out.columns.size(); ++c) {
      if (!out.kept[c]) out.columns[c].CountNulls(exec);
    }
    return std::move(out);
  };
  if (change.updated_count > 0) {
    for (size_t i = 0; i < change.columns.size(); ++i) {
      const int c = change.columns[i];
      out.columns[c] = kernels::ReplaceRows(current[c], change.updated.as<int64_t>(), change.updated_count,
                                            change.values[i].view(), columns_[c].nullable(), exec);
      out.kept[c] = false;
      current[c] = out.columns[c].view();
    }
    if (change.deleted_count == 0) return counted();
  }
  const int64_t kept = n - change.deleted_count;
  kernels::Buffer keep = kernels::RowsNotIn(change.deleted.as<int64_t>(), change.deleted_count, n, exec);
  for (size_t c = 0; c < columns_.size(); ++c) {
    out.columns[c] = kernels::Gather(current[c], keep.as<int64_t>(), kept, columns_[c].nullable(), exec);
  }
  if (positioned) {
    out.positions = kernels::Gather(positions_.view(), keep.as<int64_t>(), kept, false, exec);
    out.moved = true;
  }
  return counted();
}

std::vector<int64_t> Table::Ranks(const std::vector<const kernels::Buffer*>& rows, const std::vector<int64_t>& counts,
                                  const kernels::Exec& exec) const {
  std::vector<int64_t> ranks;
  const auto host = [&](const void* p, int64_t n) {
    std::vector<int64_t> v(static_cast<size_t>(n));
    if (n > 0) kernels::CopyToHostSync(v.data(), p, static_cast<size_t>(n) * sizeof(int64_t), exec);
    return v;
  };
  if (!distributed() || layout_.kind == Layout::Kind::kReplicated) return host(rows[0]->data(), counts[0]);
  // A row's rank: how many rows of every shard have a smaller position
  // (each shard's positions ascend: a binary search in each).
  std::vector<std::vector<int64_t>> positions;
  for (const auto& s : shards_) positions.push_back(host(s->positions_.view().data, s->positions_.size()));
  for (size_t i = 0; i < shards_.size(); ++i) {
    for (int64_t r : host(rows[i]->data(), counts[i])) {
      int64_t rank = 0;
      for (const std::vector<int64_t>& shard : positions) {
        rank += std::lower_bound(shard.begin(), shard.end(), positions[i][r]) - shard.begin();
      }
      ranks.push_back(rank);
    }
  }
  return ranks;
}

absl::Status Table::ChangeRows(const std::vector<RowChange>& changes, const kernels::Exec& exec) {
  const size_t parts = distributed() ? shards_.size() : 1;
  if (changes.size() != parts) {
    return absl::InternalError(absl::StrCat("ChangeRows: ", changes.size(), " changes for ", parts, " parts"));
  }
  bool updates = false, deletes = false;
  for (const RowChange& c : changes) {
    updates = updates || c.updated_count > 0;
    deletes = deletes || c.deleted_count > 0;
  }
  if (!updates && !deletes) return absl::OkStatus();
  Journal::Turn turn;
  if (journal_ != nullptr) turn = journal_->Hold();
  // Build every part's new columns; nothing has changed when this fails.
  std::vector<Rebuilt> rebuilt(parts);
  if (!distributed()) {
    rebuilt[0] = Rebuild(changes[0], exec);
  } else {
    std::vector<Device*> devices;
    for (const auto& s : shards_) devices.push_back(s->device());
    absl::Status s = RunOnDevices(devices, [&](size_t i, const kernels::Exec& shard_exec) {
      rebuilt[i] = shards_[i]->Rebuild(changes[i], shard_exec);
      kernels::Synchronize(shard_exec);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  if (journal_ != nullptr) {
    // One record: the rows by rank (a replicated table: its first replica's).
    const size_t logged = layout_.kind == Layout::Kind::kReplicated ? 1 : parts;
    std::vector<const kernels::Buffer*> updated, deleted;
    std::vector<int64_t> updated_counts, deleted_counts;
    for (size_t i = 0; i < logged; ++i) {
      updated.push_back(&changes[i].updated);
      updated_counts.push_back(changes[i].updated_count);
      deleted.push_back(&changes[i].deleted);
      deleted_counts.push_back(changes[i].deleted_count);
    }
    const std::vector<int64_t> updated_ranks = Ranks(updated, updated_counts, exec);
    const std::vector<int64_t> deleted_ranks = Ranks(deleted, deleted_counts, exec);
    JournalChange change{updates ? JournalChange::Kind::kUpdate : JournalChange::Kind::kDelete, name_};
    change.type = &type_;
    change.ranks = updates ? &updated_ranks : &deleted_ranks;
    if (updates && deletes) change.deleted_ranks = &deleted_ranks;
    change.exec = &exec;
    change.sync_policy = sync_policy();
    // The new values of every logged part, on exec's device: the updated
    // columns, as a type of their own.
    std::vector<int> updated_columns;
    for (const RowChange& c : changes) {
      if (c.updated_count > 0) updated_columns = c.columns;
    }
    std::vector<ColumnDef> updated_defs;
    for (int c : updated_columns) updated_defs.push_back(type_.column(c));
    const TableType updated_type(updated_defs, "");
    std::vector<kernels::Column> values;
    std::vector<kernels::ColumnView> views;
    if (updates) {
      for (size_t i = 0; i < updated_columns.size(); ++i) {
        const ColumnDef& def = updated_defs[i];
        values.emplace_back(def.phys(), def.char_width, def.nullable);
        for (size_t p = 0; p < logged; ++p) {
          if (changes[p].updated_count > 0) values.back().Append(changes[p].values[i].view(), exec);
        }
        views.push_back(values.back().view());
      }
      change.rows = &views;
      change.type = &updated_type;
      change.columns = &updated_columns;
    }
    if (absl::Status s = journal_->Log(change); !s.ok()) return s;
  }
  for (size_t i = 0; i < parts; ++i) {
    Table* part = distributed() ? shards_[i].get() : this;
    if (rebuilt[i].same) continue;
    for (size_t c = 0; c < part->columns_.size(); ++c) {
      if (!rebuilt[i].kept[c]) part->columns_[c] = std::move(rebuilt[i].columns[c]);
    }
    if (rebuilt[i].moved) part->positions_ = std::move(rebuilt[i].positions);
    part->UpdateSizes();
  }
  UpdateSizes();
  return absl::OkStatus();
}

std::map<std::string, std::string> Table::metadata() const {
  absl::MutexLock lock(&metadata_mu_);
  return metadata_;
}

absl::Status Table::UpdateMetadata(const std::map<std::string, std::string>& changes) {
  Journal::Turn turn;
  if (journal_ != nullptr) {
    turn = journal_->Hold();
    JournalChange change{JournalChange::Kind::kMetadata, name_};
    change.metadata = &changes;
    change.sync_policy = sync_policy();
    if (absl::Status s = journal_->Log(change); !s.ok()) return s;
  }
  {
    absl::MutexLock lock(&metadata_mu_);
    if (changes.empty()) metadata_.clear();
    for (const auto& [key, value] : changes) metadata_[key] = value;
  }
  absl::MutexLock lock(&sizes_mu_);
  ++version_;
  return absl::OkStatus();
}

std::string Table::sync_policy() const {
  absl::MutexLock lock(&metadata_mu_);
  return sync_policy_;
}

absl::Status Table::SetSyncPolicy(std::string policy) {
  Journal::Turn turn;
  if (journal_ != nullptr) {
    turn = journal_->Hold();
    JournalChange change{JournalChange::Kind::kSyncPolicy, name_};
    change.sync_policy = policy;
    if (absl::Status s = journal_->Log(change); !s.ok()) return s;
  }
  absl::MutexLock lock(&metadata_mu_);
  sync_policy_ = std::move(policy);
  return absl::OkStatus();
}

std::shared_ptr<const kernels::ZoneMap> Table::zone_map(int c, const kernels::Exec& exec) const {
  // A table without a name is one job's scratch: a map would serve once.
  if (name_.empty() || distributed() || c < 0 || static_cast<size_t>(c) >= columns_.size()) return nullptr;
  const kernels::Column& column = columns_[static_cast<size_t>(c)];
  if (!kernels::HasZoneMap(column.type())) return nullptr;
  absl::MutexLock lock(&zones_mu_);
  if (zones_.size() != columns_.size()) zones_.assign(columns_.size(), nullptr);
  std::shared_ptr<const kernels::ZoneMap>& cached = zones_[static_cast<size_t>(c)];
  if (cached != nullptr && cached->rows == column.size()) return cached;
  // Built anew, or extended over appended rows; readers holding the old map
  // keep it.
  auto map = cached != nullptr ? std::make_shared<kernels::ZoneMap>(*cached) : std::make_shared<kernels::ZoneMap>();
  kernels::ExtendZoneMap(column.view(), map.get(), exec);
  cached = std::move(map);
  return cached;
}

std::shared_ptr<const kernels::Dictionary> Table::dictionary(int c, const kernels::Exec& exec) const {
  if (name_.empty() || distributed() || c < 0 || static_cast<size_t>(c) >= columns_.size()) return nullptr;
  const kernels::Column& column = columns_[static_cast<size_t>(c)];
  if (column.type() != kernels::PhysType::kVarChars && column.type() != kernels::PhysType::kFixedChars) return nullptr;
  const std::vector<std::string>& properties = type_.column(static_cast<size_t>(c)).properties;
  const bool declared = std::find(properties.begin(), properties.end(), "dict") != properties.end();
  const int64_t rows = column.size();
  if (!declared && rows < kAutoDictionaryRows) return nullptr;
  const int64_t max_values =
      declared ? std::max<int64_t>(rows, 1) : std::min(kAutoDictionaryValues, rows / kAutoDictionaryRowsPer);
  absl::MutexLock lock(&zones_mu_);
  if (dictionaries_.size() != columns_.size()) dictionaries_.assign(columns_.size(), DictionaryState());
  DictionaryState& state = dictionaries_[static_cast<size_t>(c)];
  if (state.dictionary == nullptr && state.refused_rows > 0 && rows < 2 * state.refused_rows) return nullptr;
  if (state.dictionary != nullptr && state.dictionary->rows() == rows) return state.dictionary;
  auto dict = state.dictionary != nullptr ? state.dictionary : std::make_shared<kernels::Dictionary>();
  try {
    if (!kernels::ExtendDictionary(column.view(), max_values, dict.get(), exec)) {
      state = DictionaryState{nullptr, rows};
      return nullptr;
    }
  } catch (const kernels::OutOfMemory&) {
    return nullptr;  // the strings serve as they are; tried again next time
  }
  state.dictionary = std::move(dict);
  return state.dictionary;
}

int64_t Table::distinct(int c, const kernels::Exec& exec) const {
  if (name_.empty() || distributed() || c < 0 || static_cast<size_t>(c) >= columns_.size()) return -1;
  const kernels::Column& column = columns_[static_cast<size_t>(c)];
  absl::MutexLock lock(&zones_mu_);
  if (distinct_.size() != columns_.size()) distinct_.assign(columns_.size(), {-1, 0});
  std::pair<int64_t, int64_t>& cached = distinct_[static_cast<size_t>(c)];
  if (cached.first != column.size()) {
    cached = {column.size(), kernels::EstimateDistinct(column.view(), nullptr, column.size(), exec)};
  }
  return cached.second;
}

void Table::UpdateSizes(bool appended) {
  if (!appended) {
    absl::MutexLock lock(&zones_mu_);
    zones_.clear();
    dictionaries_.clear();
    distinct_.clear();
  }
  size_t bytes = 0;
  int64_t rows = 0;
  if (distributed()) {
    for (const auto& s : shards_) {
      bytes += s->device_bytes();
      if (layout_.kind != Layout::Kind::kReplicated || s == shards_[0]) rows += s->rows();
    }
  } else {
    for (const kernels::Column& c : columns_) bytes += c.device_bytes();
    rows = columns_.empty() ? 0 : columns_[0].size();
  }
  absl::MutexLock lock(&sizes_mu_);
  ++version_;
  rows_ = rows;
  bytes_ = bytes;
}

}  // namespace engine
