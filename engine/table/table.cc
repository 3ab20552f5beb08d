#include "engine/table/table.h"

#include "engine/table/names.h"

namespace engine {

Table::Table(std::string name, TableType type, Device* device, Kind kind)
    : name_(DisplayTableName(name)), type_(std::move(type)), type_id_(type_.TypeId()), device_(device), kind_(kind) {
  for (const ColumnDef& c : type_.columns()) columns_.emplace_back(c.phys(), c.char_width, c.nullable);
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
  std::vector<kernels::ColumnView> out;
  out.reserve(columns_.size());
  for (const kernels::Column& c : columns_) out.push_back(c.view());
  return out;
}

int64_t Table::version() const {
  absl::MutexLock lock(&sizes_mu_);
  return version_;
}

absl::Status Table::Append(const std::vector<kernels::ColumnView>& columns, const kernels::Exec& exec) {
  if (columns.empty() || columns[0].size == 0) return absl::OkStatus();
  Journal::Turn turn;
  if (journal_ != nullptr) turn = journal_->Hold();
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
  uint64_t ticket = 0;
  if (journal_ != nullptr) {
    JournalChange change{JournalChange::Kind::kAppend, name_};
    change.type = &type_;
    change.rows = &columns;
    change.exec = &exec;
    change.sync_policy = sync_policy();
    ticket = journal_->Start(change);
  }
  std::vector<std::pair<int64_t, int64_t>> before;  // rows, chars
  for (const kernels::Column& c : columns_) before.emplace_back(c.size(), c.chars());
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].Commit(std::move(growth[i]), exec);
  for (size_t i = 0; i < columns_.size(); ++i) columns_[i].Append(columns[i], exec);
  if (journal_ != nullptr) {
    if (absl::Status s = journal_->Finish(ticket); !s.ok()) {
      for (size_t i = 0; i < columns_.size(); ++i) columns_[i].Truncate(before[i].first, before[i].second);
      UpdateSizes();
      return s;
    }
  }
  UpdateSizes();
  return absl::OkStatus();
}

absl::Status Table::Replace(std::vector<kernels::Column> columns, const kernels::Exec& exec) {
  Journal::Turn turn;
  if (journal_ != nullptr) {
    turn = journal_->Hold();
    std::vector<kernels::ColumnView> views;
    for (const kernels::Column& c : columns) views.push_back(c.view());
    JournalChange change{JournalChange::Kind::kReplace, name_};
    change.type = &type_;
    change.rows = &views;
    change.exec = &exec;
    change.sync_policy = sync_policy();
    if (absl::Status s = journal_->Log(change); !s.ok()) return s;
  }
  columns_ = std::move(columns);
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

void Table::UpdateSizes() {
  size_t bytes = 0;
  for (const kernels::Column& c : columns_) bytes += c.device_bytes();
  absl::MutexLock lock(&sizes_mu_);
  ++version_;
  rows_ = columns_.empty() ? 0 : columns_[0].size();
  bytes_ = bytes;
}

}  // namespace engine
