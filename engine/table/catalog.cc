#include "engine/table/catalog.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace engine {
namespace {

absl::Status SchemaNotFound(absl::string_view schema) {
  return absl::NotFoundError(absl::StrCat("schema '", schema, "' does not exist"));
}

// The tables of `schema` in a map keyed by QualifiedTableName: [first, last).
template <typename Map>
auto SchemaRange(Map& tables, absl::string_view schema) {
  const std::string prefix = absl::StrCat(schema, ".");
  auto first = tables.lower_bound(prefix);
  auto last = first;
  while (last != tables.end() && absl::StartsWith(last->first, prefix)) ++last;
  return std::make_pair(first, last);
}

}  // namespace

Catalog::Catalog() { schemas_.emplace(kDefaultSchema); }

void Catalog::set_journal(Journal* journal) {
  journal_ = journal;
  absl::MutexLock lock(&mu_);
  for (auto& [name, table] : tables_) {
    if (table->kind() == Table::Kind::kTable) table->set_journal(journal);
  }
}

absl::Status Catalog::Log(const JournalChange& change) const {
  return journal_ == nullptr ? absl::OkStatus() : journal_->Log(change);
}

absl::StatusOr<std::string> Catalog::AddType(const TableType& type) {
  std::string id = type.TypeId();
  Journal::Turn turn;
  if (journal_ != nullptr) turn = journal_->Hold();
  absl::MutexLock lock(&mu_);
  if (types_.find(id) != types_.end()) return id;
  JournalChange change{JournalChange::Kind::kAddType};
  change.type = &type;
  if (absl::Status s = Log(change); !s.ok()) return s;
  types_.emplace(id, type);
  return id;
}

absl::StatusOr<TableType> Catalog::FindType(absl::string_view type_id) const {
  absl::MutexLock lock(&mu_);
  auto it = types_.find(type_id);
  if (it == types_.end()) return absl::NotFoundError(absl::StrCat("type '", type_id, "' does not exist"));
  return it->second;
}

std::vector<std::pair<std::string, TableType>> Catalog::Types() const {
  absl::MutexLock lock(&mu_);
  return {types_.begin(), types_.end()};
}

absl::StatusOr<std::shared_ptr<Table>> Catalog::Find(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  const std::string qualified = QualifiedTableName(name);
  auto it = tables_.find(qualified);
  if (it == tables_.end()) {
    if (auto broken = unavailable_.find(qualified); broken != unavailable_.end()) return broken->second;
    return absl::NotFoundError(absl::StrCat("table '", name, "' does not exist"));
  }
  return it->second;
}

bool Catalog::Has(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  const std::string qualified = QualifiedTableName(name);
  return tables_.find(qualified) != tables_.end() || unavailable_.find(qualified) != unavailable_.end();
}

absl::Status Catalog::Add(std::shared_ptr<Table> table) {
  const TableName name = SplitTableName(table->name());
  const std::string qualified = absl::StrCat(name.schema, ".", name.table);
  const bool logged = journal_ != nullptr && table->kind() == Table::Kind::kTable;
  Journal::Turn turn;
  if (logged) turn = journal_->Hold();
  absl::MutexLock lock(&mu_);
  if (schemas_.find(name.schema) == schemas_.end()) return SchemaNotFound(name.schema);
  if (tables_.find(qualified) != tables_.end() || unavailable_.find(qualified) != unavailable_.end()) {
    return absl::AlreadyExistsError(absl::StrCat("table '", table->name(), "' already exists"));
  }
  if (logged) {
    JournalChange change{JournalChange::Kind::kAddTable, table->name()};
    change.replicated = table->layout().kind == Layout::Kind::kReplicated;
    change.type = &table->type();
    const std::map<std::string, std::string> metadata = table->metadata();
    change.metadata = &metadata;
    if (absl::Status s = Log(change); !s.ok()) return s;
    table->set_journal(journal_);
  }
  tables_.emplace(qualified, std::move(table));
  return absl::OkStatus();
}

absl::Status Catalog::Redefine(const std::shared_ptr<Table>& old, std::shared_ptr<Table> replacement,
                               const kernels::Exec& exec) {
  const std::string old_name = QualifiedTableName(old->name());
  const TableName name = SplitTableName(replacement->name());
  const std::string qualified = absl::StrCat(name.schema, ".", name.table);
  // The rows to record, gathered before any lock is taken.
  std::vector<kernels::Column> rows;
  std::vector<kernels::ColumnView> views;
  if (journal_ != nullptr) {
    rows = replacement->Assemble(exec);
    for (const auto& c : rows) views.push_back(c.view());
  }
  Journal::Turn turn;
  if (journal_ != nullptr) turn = journal_->Hold();
  absl::MutexLock lock(&mu_);
  auto it = tables_.find(old_name);
  if (it == tables_.end() || it->second != old) {
    return absl::NotFoundError(absl::StrCat("table '", old->name(), "' does not exist"));
  }
  if (qualified != old_name) {
    if (schemas_.find(name.schema) == schemas_.end()) return SchemaNotFound(name.schema);
    if (tables_.find(qualified) != tables_.end() || unavailable_.find(qualified) != unavailable_.end()) {
      return absl::AlreadyExistsError(absl::StrCat("table '", replacement->name(), "' already exists"));
    }
  }
  if (journal_ != nullptr) {
    JournalChange change{JournalChange::Kind::kRedefine, old->name()};
    change.new_name = replacement->name();
    change.type = &replacement->type();
    const std::map<std::string, std::string> metadata = replacement->metadata();
    change.metadata = &metadata;
    change.replicated = replacement->layout().kind == Layout::Kind::kReplicated;
    change.rows = &views;
    change.exec = &exec;
    change.sync_policy = replacement->sync_policy();
    if (absl::Status s = Log(change); !s.ok()) return s;
    old->set_journal(nullptr);
    replacement->set_journal(journal_);
  }
  tables_.erase(it);
  tables_.emplace(qualified, std::move(replacement));
  return absl::OkStatus();
}

void Catalog::AddUnavailable(absl::string_view name, absl::Status why) {
  absl::MutexLock lock(&mu_);
  unavailable_.insert_or_assign(QualifiedTableName(name), std::move(why));
}

absl::StatusOr<std::shared_ptr<Table>> Catalog::Remove(absl::string_view name) {
  const std::string qualified = QualifiedTableName(name);
  Journal::Turn turn;
  if (journal_ != nullptr) turn = journal_->Hold();
  absl::MutexLock lock(&mu_);
  auto it = tables_.find(qualified);
  auto broken = unavailable_.find(qualified);
  if (it == tables_.end() && broken == unavailable_.end()) return nullptr;
  if (journal_ != nullptr && (broken != unavailable_.end() || it->second->kind() == Table::Kind::kTable)) {
    if (absl::Status s = Log(JournalChange{JournalChange::Kind::kDropTable, std::string(name)}); !s.ok()) return s;
  }
  if (broken != unavailable_.end()) {
    unavailable_.erase(broken);
    return nullptr;
  }
  std::shared_ptr<Table> table = std::move(it->second);
  tables_.erase(it);
  return table;
}

std::vector<std::shared_ptr<Table>> Catalog::List() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<Table>> out;
  for (const auto& [name, table] : tables_) out.push_back(table);
  return out;
}

absl::Status Catalog::AddSchema(absl::string_view schema) {
  Journal::Turn turn;
  if (journal_ != nullptr) turn = journal_->Hold();
  absl::MutexLock lock(&mu_);
  if (schemas_.find(schema) != schemas_.end()) {
    return absl::AlreadyExistsError(absl::StrCat("schema '", schema, "' already exists"));
  }
  if (absl::Status s = Log(JournalChange{JournalChange::Kind::kAddSchema, std::string(schema)}); !s.ok()) return s;
  schemas_.emplace(schema);
  return absl::OkStatus();
}

bool Catalog::HasSchema(absl::string_view schema) const {
  absl::MutexLock lock(&mu_);
  return schemas_.find(schema) != schemas_.end();
}

std::vector<std::string> Catalog::Schemas() const {
  absl::MutexLock lock(&mu_);
  return {schemas_.begin(), schemas_.end()};
}

std::vector<std::shared_ptr<Table>> Catalog::ListSchema(absl::string_view schema) const {
  absl::MutexLock lock(&mu_);
  std::vector<std::shared_ptr<Table>> out;
  const auto [first, last] = SchemaRange(tables_, schema);
  for (auto it = first; it != last; ++it) out.push_back(it->second);
  return out;
}

absl::StatusOr<std::vector<std::shared_ptr<Table>>> Catalog::RemoveSchema(absl::string_view schema, bool cascade) {
  Journal::Turn turn;
  if (journal_ != nullptr) turn = journal_->Hold();
  absl::MutexLock lock(&mu_);
  auto found = schemas_.find(schema);
  if (found == schemas_.end()) return SchemaNotFound(schema);
  if (schema == kDefaultSchema) {
    return absl::FailedPreconditionError(
        absl::StrCat("schema '", schema, "' is the default schema and cannot be dropped"));
  }
  const auto [first, last] = SchemaRange(tables_, schema);
  std::vector<std::shared_ptr<Table>> removed;
  for (auto it = first; it != last; ++it) removed.push_back(it->second);
  if (!removed.empty() && !cascade) {
    return absl::FailedPreconditionError(absl::StrCat("schema '", schema, "' is not empty (", removed.size(),
                                                      removed.size() == 1 ? " table" : " tables",
                                                      "); drop its tables first, or set options.cascade"));
  }
  JournalChange change{JournalChange::Kind::kDropSchema, std::string(schema)};
  change.cascade = cascade;
  if (absl::Status s = Log(change); !s.ok()) return s;
  tables_.erase(first, last);
  {
    const auto [broken_first, broken_last] = SchemaRange(unavailable_, schema);
    unavailable_.erase(broken_first, broken_last);
  }
  schemas_.erase(found);
  return removed;
}

}  // namespace engine
