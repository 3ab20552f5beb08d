#include "engine/table/catalog.h"

#include "absl/strings/str_cat.h"

namespace engine {

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

absl::StatusOr<std::shared_ptr<Table>> Catalog::Find(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  auto it = tables_.find(name);
  if (it == tables_.end()) return absl::NotFoundError(absl::StrCat("table '", name, "' does not exist"));
  return it->second;
}

bool Catalog::Has(absl::string_view name) const {
  absl::MutexLock lock(&mu_);
  return tables_.find(name) != tables_.end();
}

absl::Status Catalog::Add(std::shared_ptr<Table> table) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = tables_.emplace(table->name(), table);
  if (!inserted) return absl::AlreadyExistsError(absl::StrCat("table '", table->name(), "' already exists"));
  return absl::OkStatus();
}

std::shared_ptr<Table> Catalog::Remove(absl::string_view name) {
  absl::MutexLock lock(&mu_);
  auto it = tables_.find(name);
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

absl::Status ValidateTableName(absl::string_view name, absl::string_view field) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": the name is empty"));
  if (name.size() > 256) return absl::InvalidArgumentError(absl::StrCat(field, ": the name is longer than 256 characters"));
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-' || c == '.';
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          field, ": '", name, "' has characters other than letters, digits, '_', '-' and '.'"));
    }
  }
  return absl::OkStatus();
}

}  // namespace engine
