#pragma once

// A table (or a view): its type and one column per field, on one device or
// spread over several (its Layout). A distributed table is a list of shards,
// each a single-device Table of the same type holding some of the rows
// (sharded, spread) or all of them (replicated). Tables are reached through
// the Catalog; the Scheduler orders the jobs
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
#include "kernels/dictionary.h"
#include "kernels/zone_map.h"

namespace engine {

class Device;

// How a table's rows are placed on devices.
//   kSingle: every row on one device.
//   kSharded: each row on the shard hash(shard key) % shards picks
//     (kernels::ShardOfRows): rows with equal keys share a shard.
//   kSpread: rows in contiguous runs: an insert fills the shards in order
//     (the home device's first) up to an even share of the rows, and at
//     least chunk_rows each, so that a small table stays on one device.
//   kReplicated: every row on every device.
struct Layout {
  enum class Kind { kSingle, kSharded, kSpread, kReplicated };
  Kind kind = Kind::kSingle;
  std::vector<int> shard_key;  // kSharded: column indices, in type order
  int64_t chunk_rows = 1;      // kSpread: rows a shard takes before the next one is used

  // "single", "sharded", "spread", "replicated".
  const char* name() const;
};

class Table {
 public:
  enum class Kind { kTable, kView };

  // A single-device table. `name` as names.h reads it: "schema.table", or
  // "table" in the default schema.
  // `layout` is what it would be on several devices (shown, and kept in the
  // data directory).
  Table(std::string name, TableType type, Device* device, Kind kind, Layout layout = {});
  // A distributed table over `shards` (single-device tables of `type`, one
  // per device; the first one's device is the table's home). REQUIRES:
  // layout.kind != kSingle, shards not empty.
  Table(std::string name, TableType type, Layout layout, std::vector<std::shared_ptr<Table>> shards, Kind kind);
  // An empty table laid out over `devices` as `layout` says (kSingle: on the
  // first). REQUIRES: devices not empty.
  static std::shared_ptr<Table> Create(std::string name, TableType type, Layout layout,
                                       const std::vector<Device*>& devices, Kind kind);
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // The name as listings show it (DisplayTableName): "schema.table", or the
  // bare name in the default schema, however it was spelt at creation.
  const std::string& name() const { return name_; }
  const TableType& type() const { return type_; }
  const std::string& type_id() const { return type_id_; }
  // The device of a single-device table; a distributed table's home (its
  // first shard's device).
  Device* device() const { return device_; }
  Kind kind() const { return kind_; }
  // The table's layout; a single-device table's is kSingle or what it would
  // be on several devices.
  const Layout& layout() const { return layout_; }
  bool distributed() const { return !shards_.empty(); }
  // A distributed table's shards, in device order; empty for a
  // single-device table.
  const std::vector<std::shared_ptr<Table>>& shards() const { return shards_; }
  // The shard on `device`, or null (also for a single-device table).
  std::shared_ptr<Table> ShardOn(const Device* device) const;

  // Rows (a replicated table counts one copy), and device bytes held (every
  // copy); safe to call at any time.
  int64_t rows() const;
  size_t device_bytes() const;

  // Views of the columns, in type order. REQUIRES: a single-device table
  // (throws std::logic_error otherwise); the caller holds the table's turn
  // (runs as a job that declared access to it).
  std::vector<kernels::ColumnView> views() const;

  // A shard's row positions (ascending): for each of its rows, the row's
  // position in the distributed table's order of insertion (int64, the order every
  // device count reads the table in). REQUIRES: a shard of a sharded or
  // spread table (or a view of one); the caller holds the table's turn.
  kernels::ColumnView positions() const { return positions_.view(); }

  // Every row, in the order of insertion, as new columns on exec's device (a
  // replicated table: one copy). REQUIRES: the caller holds the table's turn.
  std::vector<kernels::Column> Assemble(const kernels::Exec& exec) const;

  // A shard of a view: `columns` and their `positions` (as positions() has
  // them) on `device`. Views of a distributed table are made of these.
  static std::shared_ptr<Table> Shard(std::string name, TableType type, Device* device,
                                      std::vector<kernels::Column> columns, kernels::Column positions,
                                      const kernels::Exec& exec);

  // Appends rows given as one column per field (same layouts as the type's,
  // on exec's device); a distributed table routes them to its shards (each
  // shard's part copied on a shard stream of its device, all at once). All
  // or nothing: on an exception (OutOfMemory), an error of a device or of
  // the journal the table is unchanged. REQUIRES: the caller holds the
  // table's write turn; it does not run on a shard stream (RunOnDevices).
  absl::Status Append(const std::vector<kernels::ColumnView>& columns, const kernels::Exec& exec);

  // Replaces the content with `columns` (same layouts, on exec's device;
  // routed as Append routes); on an error the table is unchanged.
  // REQUIRES: as Append.
  absl::Status Replace(std::vector<kernels::Column> columns, const kernels::Exec& exec);

  // A change of one part's rows (a single-device table's, or one shard's of
  // a distributed table): rows `deleted` go and rows `updated` take new
  // values in the columns `columns` (field indices, ascending): values[i]
  // holds column columns[i]'s, updated_count rows in the order of
  // `updated`. Row indices are the part's, ascending, on its device;
  // deleted and updated are disjoint (a change may do both: an update
  // whose new keys replace other rows). Every part updates the same columns.
  struct RowChange {
    kernels::Buffer deleted;
    int64_t deleted_count = 0;
    kernels::Buffer updated;
    int64_t updated_count = 0;
    std::vector<int> columns;
    std::vector<kernels::Column> values;
  };
  // Applies changes[i] to part i: the table itself when single-device, else
  // shards()[i] (a replicated table's replicas each take the same change).
  // Rows keep their order (and, on shards, their positions). All or
  // nothing: the new columns are built first (on each part's device, all at
  // once), the change recorded, then the parts switched. REQUIRES: as Append;
  // changes.size() is 1 or shards().size().
  absl::Status ChangeRows(const std::vector<RowChange>& changes, const kernels::Exec& exec);

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

  // The zone map (kernels/zone_map.h) of column `c` as the rows stand, or
  // null when the column's type has none, the table is distributed (its
  // shards have their own) or has no name (one job's scratch). Built on exec's device on first use and kept:
  // appended rows extend it, any other change of rows drops it.
  // REQUIRES: the caller holds the table's turn; exec on the table's device.
  std::shared_ptr<const kernels::ZoneMap> zone_map(int c, const kernels::Exec& exec) const;

  // The dictionary (kernels/dictionary.h) of string column `c` as the rows
  // stand, or null: when the column is not a string, the table has no
  // dictionaries (as zone_map), or the column's values are too many. A
  // column with Kinetica's `dict` property takes any number of values;
  // another string column of at least kAutoDictionaryRows rows takes at most
  // one per kAutoDictionaryRowsPer rows and kAutoDictionaryValues in all (a
  // column refused is tried again once its rows have doubled). Built on
  // exec's device on first use and kept: appended rows extend it, any other
  // change of rows drops it; out of memory, null (tried again next time).
  // It is extended in place: the jobs holding it
  // read the table, so no append runs while they do.
  // REQUIRES: as zone_map.
  std::shared_ptr<const kernels::Dictionary> dictionary(int c, const kernels::Exec& exec) const;
  // The distinct values of column `c` as the rows stand, estimated
  // (kernels::EstimateDistinct: exact up to kernels::kDistinctSample rows,
  // else from a sample), or -1 when the table has no zone maps (as
  // zone_map). Kept until the rows change.
  // REQUIRES: as zone_map.
  int64_t distinct(int c, const kernels::Exec& exec) const;
  static constexpr int64_t kAutoDictionaryRows = int64_t{1} << 16;
  static constexpr int64_t kAutoDictionaryRowsPer = 16;
  static constexpr int64_t kAutoDictionaryValues = int64_t{1} << 16;

 private:
  // Appends to the shards (distributed) or the columns (single; a shard
  // also takes the rows' positions), with no journal. Throws, or returns a
  // device's error; the table is then unchanged.
  absl::Status AppendRows(const std::vector<kernels::ColumnView>& columns, const kernels::ColumnView* positions,
                          const kernels::Exec& exec);
  // Each shard's part of rows 0..n of `columns`, which get positions from
  // next_position_ on.
  absl::Status RouteRows(const std::vector<kernels::ColumnView>& columns, const kernels::Exec& exec);
  // Rows and characters per column, to undo appends with Truncate.
  using Marks = std::vector<std::pair<int64_t, int64_t>>;
  Marks Mark() const;
  void Truncate(const Marks& marks);
  // After any change of rows: their count and bytes, the version; the
  // zone maps are dropped unless rows were only `appended`.
  void UpdateSizes(bool appended = false);
  // This part's columns (and positions) after `change`, built on exec's
  // device; the part is unchanged.
  struct Rebuilt {
    std::vector<kernels::Column> columns;
    kernels::Column positions{kernels::PhysType::kInt64, 0, false};
    bool moved = false;      // rows went: `positions` replaces the part's
    bool same = false;       // no change: the part keeps its columns
    std::vector<bool> kept;  // per column: unchanged, the part keeps its own
  };
  Rebuilt Rebuild(const RowChange& change, const kernels::Exec& exec) const;
  // The rank (place in the order of insertion among the table's rows) of
  // each row `rows` of each part, on the host, parts one after another.
  std::vector<int64_t> Ranks(const std::vector<const kernels::Buffer*>& rows, const std::vector<int64_t>& counts,
                             const kernels::Exec& exec) const;

  const std::string name_;
  const TableType type_;
  const std::string type_id_;
  Device* const device_;
  const Kind kind_;
  const Layout layout_;
  std::vector<kernels::Column> columns_;                            // single-device
  kernels::Column positions_{kernels::PhysType::kInt64, 0, false};  // a shard's
  std::vector<std::shared_ptr<Table>> shards_;                      // distributed
  int64_t next_position_ = 0;                                       // distributed: of the next row appended
  Journal* journal_ = nullptr;

  mutable absl::Mutex sizes_mu_;
  int64_t version_ ABSL_GUARDED_BY(sizes_mu_) = 0;
  int64_t rows_ ABSL_GUARDED_BY(sizes_mu_) = 0;
  size_t bytes_ ABSL_GUARDED_BY(sizes_mu_) = 0;

  // Zone maps, dictionaries and distinct estimates by column (null: not
  // built); see zone_map(), dictionary() and distinct().
  struct DictionaryState {
    std::shared_ptr<kernels::Dictionary> dictionary;
    int64_t refused_rows = 0;  // rows when its values were too many
  };
  mutable absl::Mutex zones_mu_;
  mutable std::vector<std::shared_ptr<const kernels::ZoneMap>> zones_ ABSL_GUARDED_BY(zones_mu_);
  mutable std::vector<DictionaryState> dictionaries_ ABSL_GUARDED_BY(zones_mu_);
  // Per column: {rows when estimated, the estimate}; rows -1: none yet.
  mutable std::vector<std::pair<int64_t, int64_t>> distinct_ ABSL_GUARDED_BY(zones_mu_);

  mutable absl::Mutex metadata_mu_;
  std::map<std::string, std::string> metadata_ ABSL_GUARDED_BY(metadata_mu_);
  std::string sync_policy_ ABSL_GUARDED_BY(metadata_mu_);
};

}  // namespace engine
