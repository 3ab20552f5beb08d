#pragma once

// The journal: where the catalog and its tables record every change before
// it takes effect, so that it survives a restart (engine/storage implements
// it over a data directory). Without a journal (memory-only mode) changes are
// applied directly.
//
// A change is made in three steps under one Turn: prepare (allocate; may
// fail and change nothing), Log (durable at the journal's sync level on
// return; may fail, e.g. a full disk, and then nothing changes), apply (cannot
// fail). A large append logs and applies at once (Start, apply, Finish) and
// is undone when Finish fails. Checkpoints take every turn at once, so they
// see each change either whole or not at all.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "engine/table/types.h"
#include "kernels/column.h"

namespace engine {

struct JournalChange {
  enum class Kind {
    kAddType,
    kAddSchema,
    kDropSchema,
    kAddTable,
    kDropTable,
    kAppend,
    kReplace,
    kMetadata,
    kSyncPolicy,  // the table's (or, for name "*", the server's) sync level becomes sync_policy
    kDelete,      // the rows at `ranks` go
    kUpdate,      // the rows at `ranks` take in `columns` the values of `rows` (one row per rank, in that order)
    kRedefine,    // table `name` becomes table `new_name` of `type`, holding `rows` (metadata, replicated as kAddTable)
  };
  Kind kind = Kind::kAddType;
  std::string name;                                         // the table or schema
  std::string new_name;                                     // kRedefine
  const TableType* type = nullptr;                          // kAddType, kAddTable, kAppend, kReplace, kRedefine
  const std::vector<kernels::ColumnView>* rows = nullptr;   // kAppend, kReplace, kUpdate, kRedefine: on exec's device
  // kDelete, kUpdate: rows as their ranks, places in the table's order of
  // insertion (the order a restart reads its rows in) before the change.
  const std::vector<int64_t>* ranks = nullptr;
  // kUpdate: rows (by rank, before the change) that go as well; null: none.
  const std::vector<int64_t>* deleted_ranks = nullptr;
  // kUpdate: the table's columns that `rows` (of `type`, those columns
  // alone) hold new values of.
  const std::vector<int>* columns = nullptr;
  const kernels::Exec* exec = nullptr;                      // with rows
  const std::map<std::string, std::string>* metadata = nullptr;  // kAddTable, kRedefine, kMetadata (empty: clear all)
  bool cascade = false;                                     // kDropSchema
  bool replicated = false;                                  // kAddTable, kRedefine: a copy on every device
  // The table's sync level ("none", "background", "flush", "fsync"; empty:
  // the server's), for the change's record; kSyncPolicy: the new level (empty:
  // back to the server's).
  std::string sync_policy;
};

class Journal {
 public:
  // A shared hold on a journal's mutex (movable; empty: none).
  class Turn {
   public:
    Turn() = default;
    explicit Turn(absl::Mutex* mu) : mu_(mu) { mu_->ReaderLock(); }
    ~Turn() { Release(); }
    Turn(Turn&& other) noexcept : mu_(std::exchange(other.mu_, nullptr)) {}
    Turn& operator=(Turn&& other) noexcept {
      if (this != &other) {
        Release();
        mu_ = std::exchange(other.mu_, nullptr);
      }
      return *this;
    }

   private:
    void Release() {
      if (mu_ != nullptr) mu_->ReaderUnlock();
      mu_ = nullptr;
    }
    absl::Mutex* mu_ = nullptr;
  };

  virtual ~Journal() = default;
  // Held from before a change is prepared until it is applied.
  virtual Turn Hold() = 0;
  // Records `change`. Errors name the data directory and the problem; after
  // one the change must not be applied.
  virtual absl::Status Log(const JournalChange& change) = 0;
  // Log in two steps, so that a large record is written while the caller
  // applies the change: Start begins, Finish returns once the record is
  // written as Log's would be. After an error from Finish the caller undoes
  // the change. REQUIRES: the change's rows stay as they are until Finish.
  virtual uint64_t Start(const JournalChange& change) = 0;
  virtual absl::Status Finish(uint64_t ticket) = 0;

  // What /show/wal reports.
  struct Description {
    std::string sync;               // the server's level
    uint64_t log_bytes = 0;         // the current log's size
    uint64_t checkpoint_bytes = 0;  // the size that starts a checkpoint
  };
  virtual Description Describe() = 0;
};

}  // namespace engine
