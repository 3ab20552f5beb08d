#pragma once

// A table (or a view) that lives on one device: its type and one column per
// field. Tables are reached through the Catalog; the Scheduler orders the jobs
// that touch a table (readers together, writers alone), so the column data is
// never read and written at once. Sizes are also kept under a lock so that
// listings that do not take a table's turn (/show/table of all tables) read
// consistent numbers.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "engine/table/journal.h"
#include "engine/table/types.h"
#include "kernels/column.h"

namespace engine {

class Device;

class Table {
 public:
  enum class Kind { kTable, kView };

  // `name` as names.h reads it: "schema.table", or "table" in the default
  // schema.
  Table(std::string name, TableType type, Device* device, Kind kind);
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // The name as listings show it (DisplayTableName): "schema.table", or the
  // bare name in the default schema, however it was spelt at creation.
  const std::string& name() const { return name_; }
  const TableType& type() const { return type_; }
  const std::string& type_id() const { return type_id_; }
  Device* device() const { return device_; }
  Kind kind() const { return kind_; }

  // Rows, and device bytes held; safe to call at any time.
  int64_t rows() const;
  size_t device_bytes() const;

  // Views of the columns, in type order. REQUIRES: the caller holds the
  // table's turn (runs as a job that declared access to it).
  std::vector<kernels::ColumnView> views() const;

  // Appends rows given as one column per field (same layouts as the type's).
  // All or nothing: on an exception (OutOfMemory) or an error of the
  // journal the table is unchanged. REQUIRES: the caller holds the table's
  // write turn.
  absl::Status Append(const std::vector<kernels::ColumnView>& columns, const kernels::Exec& exec);

  // Replaces the content with `columns` (same layouts, on exec's device);
  // on an error of the journal the table is unchanged. REQUIRES: write turn.
  absl::Status Replace(std::vector<kernels::Column> columns, const kernels::Exec& exec);

  // The user's metadata (/alter/table/metadata), key to value; safe to call
  // at any time. UpdateMetadata adds or replaces the keys of `changes`; an
  // empty `changes` clears every key.
  std::map<std::string, std::string> metadata() const;
  absl::Status UpdateMetadata(const std::map<std::string, std::string>& changes);

  // The table's own sync level for its changes ("" : the server's); safe to
  // call at any time. SetSyncPolicy records the change in the journal.
  std::string sync_policy() const;
  absl::Status SetSyncPolicy(std::string policy);

  // Where changes are recorded from now on (Catalog::Add sets it for
  // tables, not views); null: nowhere.
  void set_journal(Journal* journal) { journal_ = journal; }
  // Rises with every change of rows or metadata; safe to call at any time.
  int64_t version() const;

 private:
  void UpdateSizes();

  const std::string name_;
  const TableType type_;
  const std::string type_id_;
  Device* const device_;
  const Kind kind_;
  std::vector<kernels::Column> columns_;
  Journal* journal_ = nullptr;

  mutable absl::Mutex sizes_mu_;
  int64_t version_ ABSL_GUARDED_BY(sizes_mu_) = 0;
  int64_t rows_ ABSL_GUARDED_BY(sizes_mu_) = 0;
  size_t bytes_ ABSL_GUARDED_BY(sizes_mu_) = 0;

  mutable absl::Mutex metadata_mu_;
  std::map<std::string, std::string> metadata_ ABSL_GUARDED_BY(metadata_mu_);
  std::string sync_policy_ ABSL_GUARDED_BY(metadata_mu_);
};

}  // namespace engine
