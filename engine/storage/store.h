#pragma once

// The data directory: where tables and finished jobs outlive the process.
// The catalog records every change here (table/journal.h) before it takes
// effect; the engine records each async job when it is created and when it
// finishes. Changes go to the write-ahead log (log.h); checkpoints write each
// changed table as a segment file (segment.h) and switch the manifest, after
// which the older logs are deleted. Recovery is: load the manifest's
// segments, replay the logs after it, stop at the first torn or damaged
// record.
//
// Layout of a data directory:
//   LOCK                  held (flock) by the server using the directory
//   MANIFEST              the last checkpoint (JSON): format version,
//                         schemas, types, tables and their segment files,
//                         the first log to replay
//   log-NNNNNN.wal        the write-ahead logs, replayed in order
//   segments/*.seg        tables' rows at a checkpoint
//
// Views are not kept: they are gone after a restart (as Kinetica's are).

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "engine/jobs/tracker.h"
#include "engine/storage/log.h"
#include "engine/table/catalog.h"
#include "engine/table/host_column.h"
#include "engine/table/journal.h"

namespace engine::storage {

struct StorageOptions {
  std::string data_dir;  // empty: memory only (no Store)
  Sync sync = Sync::kFlush;
  // A checkpoint starts when the log grows past this many bytes.
  uint64_t checkpoint_log_bytes = uint64_t{512} << 20;
  // Finished jobs older than this are not brought back.
  absl::Duration job_ttl = absl::Hours(1);
};

struct RecoveredTable {
  std::string name;
  TableType type;
  std::map<std::string, std::string> metadata;
  std::string sync_policy;  // its own sync level; empty: the server's
  std::vector<HostColumn> columns;
  bool replicated = false;  // a copy on every device
};

// What a data directory held at start.
struct Recovered {
  std::vector<std::string> schemas;  // besides the default schema
  std::vector<TableType> types;
  std::vector<RecoveredTable> tables;
  // Tables whose data is damaged: their names, and why (naming the file).
  std::vector<std::pair<std::string, absl::Status>> unavailable;
  // By id. Jobs that had not finished read ERROR "interrupted by a server
  // restart".
  std::vector<JobSnapshot> jobs;
  // What recovery did, a line each, for the server's log.
  std::vector<std::string> notes;
};

struct RecoveryState;  // store.cc

class Store final : public Journal {
 public:
  // Opens (creates) the data directory and reads what it holds into
  // `recovered`. Errors: the directory cannot be created or locked (another
  // server uses it), its manifest is damaged or of a newer format.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StorageOptions& options, Recovered* recovered);
  // Stops the checkpointer; what is buffered is written.
  ~Store() override;

  Turn Hold() override { return Turn(&change_mu_); }
  absl::Status Log(const JournalChange& change) override { return Finish(Start(change)); }
  uint64_t Start(const JournalChange& change) override;
  absl::Status Finish(uint64_t ticket) override;
  Description Describe() override;

  // Records a job as it stands now (created, or finished): only async jobs
  // are kept. Durable at the sync level on return.
  absl::Status LogJob(const JobSnapshot& job);
  // Drops jobs the tracker no longer keeps (JobTracker::TakeForgotten), so
  // that neither memory nor a restart keeps them. Not waited for: a crash
  // just after may bring them back once.
  void ForgetJobs(const std::vector<int64_t>& ids);

  // From now on checkpoints `catalog` in the background whenever the log
  // grows past checkpoint_log_bytes. Tables named as recovered keep their
  // segments until they change.
  void Start(const Catalog* catalog);
  // Writes a checkpoint now (the server calls it at a graceful shutdown).
  // REQUIRES: Start was called.
  absl::Status Checkpoint();

  struct Stats {
    uint64_t log_bytes = 0;
    int64_t checkpoints = 0;
    uint64_t last_checkpoint_bytes = 0;  // segment bytes written
    double last_checkpoint_seconds = 0;
  };
  Stats stats() const;

 private:
  Store(StorageOptions options, int lock_fd);
  std::string Path(absl::string_view name) const;
  // Open's stages: the manifest and its segments, then the logs after it
  // (returns the number of the last log, 0 when none).
  absl::Status LoadCheckpoint(RecoveryState* state, Recovered* recovered);
  absl::StatusOr<int64_t> ReplayLogs(RecoveryState* state, Recovered* recovered);
  absl::Status CheckpointLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(change_mu_);
  void CheckpointLoop();

  const StorageOptions options_;
  const int lock_fd_;
  // Held shared by every change from its preparation to its application,
  // and exclusively by a checkpoint.
  absl::Mutex change_mu_;
  std::unique_ptr<LogWriter> log_;
  int64_t log_number_ = 0;         // of the current log file
  int64_t checkpoint_number_ = 0;  // of the last checkpoint
  int64_t replayed_ = 0;           // log records replayed at the start

  // The latest record of each job kept (CBOR), written again into the log
  // that a checkpoint starts. Guarded by jobs_mu_, taken after change_mu_.
  absl::Mutex jobs_mu_;
  struct JobEntry {
    std::vector<uint8_t> record;
    int64_t finished_us = 0;  // 0: not finished
  };
  std::map<int64_t, JobEntry> jobs_ ABSL_GUARDED_BY(jobs_mu_);

  // Segment files of the tables as of the last checkpoint.
  struct Segment {
    std::weak_ptr<Table> table;
    int64_t version = 0;
    std::string file;
  };
  std::map<std::string, Segment> segments_;            // by qualified name
  std::map<std::string, std::string> recovered_segments_;  // unchanged since the manifest: name → file
  // Damaged tables: name → segment file, error. Changed by Log (under a
  // shared change turn), read by checkpoints (under the exclusive one).
  absl::Mutex unavailable_mu_;
  std::map<std::string, std::pair<std::string, std::string>> unavailable_;

  // The bodies of records started and not finished (the log borrows their
  // large parts), by ticket.
  struct Pending {
    Pieces body;
    Sync sync;
  };
  absl::Mutex pending_mu_;
  std::map<uint64_t, Pending> pending_ ABSL_GUARDED_BY(pending_mu_);
  // The server's sync level: --sync, changed by /alter/wal with "*" (not
  // kept across restarts; the flag decides at start).
  std::atomic<Sync> sync_;

  const Catalog* catalog_ = nullptr;
  mutable absl::Mutex stats_mu_;
  Stats stats_ ABSL_GUARDED_BY(stats_mu_);
  absl::Mutex loop_mu_;
  bool stopping_ ABSL_GUARDED_BY(loop_mu_) = false;
  bool wanted_ ABSL_GUARDED_BY(loop_mu_) = false;
  absl::CondVar loop_cv_;
  std::thread checkpointer_;
};

}  // namespace engine::storage
