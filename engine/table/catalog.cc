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

std::string Catalog::AddType(const TableType& type) {
  std::string id = type.TypeId();
  absl::MutexLock lock(&mu_);
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
  auto it = tables_.find(QualifiedTableName(name));
  if (it == tables_.end()) return absl::NotFoundError(absl::StrCat("table '", name, "' does not exist"));
  return it->second;
}

bool Catalog::Has(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  return tables_.find(QualifiedTableName(name)) != tables_.end();
}

absl::Status Catalog::Add(std::shared_ptr<Table> table) {
  const TableName name = SplitTableName(table->name());
  absl::MutexLock lock(&mu_);
  if (schemas_.find(name.schema) == schemas_.end()) return SchemaNotFound(name.schema);
  auto [it, inserted] = tables_.emplace(absl::StrCat(name.schema, ".", name.table), table);
  if (!inserted) return absl::AlreadyExistsError(absl::StrCat("table '", table->name(), "' already exists"));
  return absl::OkStatus();
}

std::shared_ptr<Table> Catalog::Remove(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  auto it = tables_.find(QualifiedTableName(name));
  if (it == tables_.end()) return nullptr;
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
  absl::MutexLock lock(&mu_);
  if (!schemas_.emplace(schema).second) {
    return absl::AlreadyExistsError(absl::StrCat("schema '", schema, "' already exists"));
  }
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
  tables_.erase(first, last);
  schemas_.erase(found);
  return removed;
}

}  // namespace engine
