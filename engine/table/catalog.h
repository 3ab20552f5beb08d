#pragma once

// The names the engine knows: types (by type_id) and tables and views (by
// name). Thread-safe; the objects it hands out stay valid while held, even
// after they are removed.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "engine/table/table.h"
#include "engine/table/types.h"

namespace engine {

class Catalog {
 public:
  // Registers `type` and returns its id; registering an equal type again
  // returns the same id.
  std::string AddType(const TableType& type);
  // NotFound names the type id.
  absl::StatusOr<TableType> FindType(absl::string_view type_id) const;

  // NotFound: "table 'x' does not exist".
  absl::StatusOr<std::shared_ptr<Table>> Find(absl::string_view name) const;
  bool Has(absl::string_view name) const;
  // AlreadyExists when the name is taken.
  absl::Status Add(std::shared_ptr<Table> table);
  // Returns the removed table, or null.
  std::shared_ptr<Table> Remove(absl::string_view name);
  // Every table and view, by name.
  std::vector<std::shared_ptr<Table>> List() const;

 private:
  mutable absl::Mutex mu_;
  std::map<std::string, TableType, std::less<>> types_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<Table>, std::less<>> tables_ ABSL_GUARDED_BY(mu_);
};

// Checks a table or view name: 1..256 characters of letters, digits, '_', '-'
// and '.'. The error names `field`.
absl::Status ValidateTableName(absl::string_view name, absl::string_view field);

}  // namespace engine
