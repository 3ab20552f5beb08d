#pragma once

// The names the engine knows: types (by type_id), schemas, and the tables and
// views in them (by name, resolved as names.h says: "schema.table", or
// "table" in the default schema). Thread-safe; the objects it hands out stay
// valid while held, even after they are removed.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "engine/table/journal.h"
#include "engine/table/names.h"
#include "engine/table/table.h"
#include "engine/table/types.h"

namespace engine {

class Catalog {
 public:
  Catalog();  // holds the default schema

  // Records every change of types, schemas and tables (not views) in
  // `journal` from now on (see journal.h); its errors fail the change, which
  // then has not happened. Set before the catalog is shared; the tables
  // already here record theirs there too.
  void set_journal(Journal* journal);
  Journal* journal() const { return journal_; }

  // Registers `type` and returns its id; registering an equal type again
  // returns the same id. Errors: the journal's.
  absl::StatusOr<std::string> AddType(const TableType& type);
  // NotFound names the type id.
  absl::StatusOr<TableType> FindType(absl::string_view type_id) const;
  // Every registered type, by id.
  std::vector<std::pair<std::string, TableType>> Types() const;

  // NotFound: "table 'x' does not exist" (x as asked).
  absl::StatusOr<std::shared_ptr<Table>> Find(absl::string_view name) const;
  bool Has(absl::string_view name) const;
  // Adds a table under its name (empty: its rows come later, through the
  // table). AlreadyExists when its schema holds a table or view of that
  // name; NotFound when its schema does not exist ("schema 's' does not
  // exist"); the journal's errors.
  absl::Status Add(std::shared_ptr<Table> table);
  // Holds `name` for a table that could not be brought back (its data is
  // damaged): Find answers `why`, Remove drops the name.
  void AddUnavailable(absl::string_view name, absl::Status why);
  // Returns the removed table, or null (also for an unavailable one); the
  // journal's errors.
  absl::StatusOr<std::shared_ptr<Table>> Remove(absl::string_view name);
  // Replaces table `old` of this catalog with `replacement`: the same table
  // redefined (another type, name, layout or rows; not yet in the catalog,
  // holding its rows), recorded as one change with every row (assembled on
  // exec's device). The replacement records its later changes from then
  // on; `old` no longer does. AlreadyExists when a new name is taken,
  // NotFound when `old` is no longer here or a new name's schema does not
  // exist; the journal's errors. REQUIRES: both are tables; the caller
  // holds old's write turn and the new name's.
  absl::Status Redefine(const std::shared_ptr<Table>& old, std::shared_ptr<Table> replacement,
                        const kernels::Exec& exec);
  // Every table and view, by schema, then name.
  std::vector<std::shared_ptr<Table>> List() const;

  // AlreadyExists when the schema exists.
  absl::Status AddSchema(absl::string_view schema);
  bool HasSchema(absl::string_view schema) const;
  // Every schema's name, sorted.
  std::vector<std::string> Schemas() const;
  // The tables and views of a schema, by name (none for a missing schema).
  std::vector<std::shared_ptr<Table>> ListSchema(absl::string_view schema) const;
  // Removes a schema, and with `cascade` its tables and views, which it
  // returns. NotFound: "schema 's' does not exist"; FailedPrecondition for
  // the default schema, and without `cascade` for a schema that is not empty.
  absl::StatusOr<std::vector<std::shared_ptr<Table>>> RemoveSchema(absl::string_view schema, bool cascade);

 private:
  // The journal's turn and the record of a change (OK without a journal).
  absl::Status Log(const JournalChange& change) const;

  Journal* journal_ = nullptr;
  mutable absl::Mutex mu_;
  std::map<std::string, absl::Status, std::less<>> unavailable_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, TableType, std::less<>> types_ ABSL_GUARDED_BY(mu_);
  std::set<std::string, std::less<>> schemas_ ABSL_GUARDED_BY(mu_);
  // By QualifiedTableName: "schema.table".
  std::map<std::string, std::shared_ptr<Table>, std::less<>> tables_ ABSL_GUARDED_BY(mu_);
};

}  // namespace engine
