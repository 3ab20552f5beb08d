#pragma once

// The write-ahead log: records (format.h) appended to a file, with group
// commit. Writers add records in order; whoever then needs them written
// becomes the leader and writes everything added so far in one call (and
// fsyncs once for all who asked), while the others wait. Thread-safe.
//
// Sync levels (what Wait promises on return; each record has its own):
//   kNone        nothing; records are written within a second
//   kBackground  nothing; records are written within 20 ms
//   kFlush       written to the OS: survives the process being killed
//   kFsync       written and fdatasync'ed: survives power loss
//
// A failed write (a full disk) fails the records of that write; the file is
// cut back to the last good record, so it holds only whole records, and
// later appends are tried afresh.

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "engine/storage/file.h"
#include "engine/storage/format.h"

namespace engine::storage {

enum class Sync { kNone, kBackground, kFlush, kFsync };
// "none", "background", "flush", "fsync"; InvalidArgument otherwise.
absl::StatusOr<Sync> ParseSync(absl::string_view name);
const char* SyncName(Sync sync);


class LogWriter {
 public:
  // Creates `path` (its header written and synced); `sync` is the level of
  // Append and of Wait without a level.
  static absl::StatusOr<std::unique_ptr<LogWriter>> Create(std::string path, Sync sync);
  // Writes what is buffered.
  ~LogWriter();

  // Adds a record of level `sync` to the buffer and returns its ticket;
  // Wait(ticket, sync) returns once it is durable at that level. Add alone
  // never writes: callers order records under their own locks, then wait
  // outside them.
  //
  // `borrow`: the body's large parts are written from where they are, not
  // copied. REQUIRES: then the caller keeps them until Wait(ticket) returns,
  // and `sync` is kFlush or kFsync (so that Wait returns only once they are
  // written).
  uint64_t Add(uint32_t kind, const Pieces& body, Sync sync, bool borrow = false);
  absl::Status Wait(uint64_t ticket, Sync sync);
  uint64_t Add(uint32_t kind, const Pieces& body) { return Add(kind, body, sync_); }
  absl::Status Wait(uint64_t ticket) { return Wait(ticket, sync_); }
  // Has the writer thread write what was added, now, synced for a record of
  // level kFsync (Wait then waits for it).
  void Kick(Sync sync);
  // Add (borrowing at kFlush and kFsync) and Wait.
  absl::Status Append(uint32_t kind, const Pieces& body) {
    return Wait(Add(kind, body, sync_, sync_ == Sync::kFlush || sync_ == Sync::kFsync));
  }

  // Writes everything added so far, and with `fsync` syncs the file.
  absl::Status Flush(bool fsync);
  // Writes what is buffered to this file (synced as its records' levels
  // asked, not more: a checkpoint makes it obsolete), then continues in a new
  // file at `path`. REQUIRES: no Add meanwhile.
  absl::Status Rotate(std::string path);

  // Bytes of the current file, buffered records included.
  uint64_t bytes() const;
  Sync sync() const { return sync_; }

 private:
  LogWriter(int fd, std::string path, Sync sync);
  // Writes the buffer as the leader (mu_ released meanwhile); errno or 0.
  // REQUIRES: !writing_.
  int WriteBuffered(bool fsync) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Failed(uint64_t ticket, absl::Status* status) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void FlushLoop();

  const Sync sync_;
  mutable absl::Mutex mu_;
  int fd_ ABSL_GUARDED_BY(mu_);
  std::string path_ ABSL_GUARDED_BY(mu_);
  uint64_t file_bytes_ ABSL_GUARDED_BY(mu_) = 0;  // whole records written
  // Added, not yet written: small records copied into the last of
  // `copies`, large borrowed parts as views.
  struct Buffer {
    std::deque<std::string> copies;
    std::vector<absl::string_view> parts;
    size_t bytes = 0;
    bool tail_is_copy = false;
    void Copy(absl::string_view data);       // appended to the last copy
    void CopyWhole(absl::string_view data);  // a copy of its own
    void Borrow(absl::string_view data);
    bool empty() const { return bytes == 0; }
  };
  Buffer buffer_ ABSL_GUARDED_BY(mu_);
  uint64_t added_ ABSL_GUARDED_BY(mu_) = 0;        // tickets handed out
  uint64_t written_ ABSL_GUARDED_BY(mu_) = 0;      // tickets written
  uint64_t synced_ ABSL_GUARDED_BY(mu_) = 0;       // tickets synced
  bool writing_ ABSL_GUARDED_BY(mu_) = false;      // a leader is writing
  bool cut_pending_ ABSL_GUARDED_BY(mu_) = false;  // a failed write may have left bytes
  // Tickets (first, last] whose write failed, with why (the latest few).
  struct Failure {
    uint64_t first, last;
    absl::Status status;
  };
  std::deque<Failure> failures_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool kicked_ ABSL_GUARDED_BY(mu_) = false;
  bool kicked_fsync_ ABSL_GUARDED_BY(mu_) = false;
  absl::CondVar flush_cv_;  // wakes the writer thread
  // Buffered records of level background (written within 20 ms), and since
  // when records of level none wait (written within a second).
  bool buffered_background_ ABSL_GUARDED_BY(mu_) = false;
  absl::Time buffered_since_ ABSL_GUARDED_BY(mu_) = absl::InfiniteFuture();
  std::thread flusher_;
};

// What a log file holds: its records' frames, in order, up to the first torn
// or damaged one. `valid_bytes` is where that one starts (the file's size
// when all are whole); `problem` says what was wrong there (OK: nothing).
struct LogContents {
  std::string bytes;  // the whole file
  std::vector<Frame> frames;
  uint64_t valid_bytes = 0;
  absl::Status problem;
};
// FailedPrecondition for a file that is not a log of a readable version.
absl::StatusOr<LogContents> ReadLog(const std::string& path);

}  // namespace engine::storage
