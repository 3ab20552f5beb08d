#include "engine/storage/log.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"

namespace engine::storage {
namespace {

constexpr absl::string_view kLogMagic = "GPUDBLOG";

// Creates a log file at `path` holding its header, synced; its descriptor.
absl::StatusOr<int> CreateLogFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError(errno, "create the log", path);
  const std::string header = FileHeader(kLogMagic);
  if (int err = WriteAt(fd, {header}, 0); err != 0 || ::fdatasync(fd) != 0) {
    const int e = err != 0 ? err : errno;
    ::close(fd);
    ::unlink(path.c_str());
    return IoError(e, "write the log", path);
  }
  return fd;
}

}  // namespace

absl::StatusOr<Sync> ParseSync(absl::string_view name) {
  if (name == "none") return Sync::kNone;
  if (name == "background") return Sync::kBackground;
  if (name == "flush") return Sync::kFlush;
  if (name == "fsync") return Sync::kFsync;
  return absl::InvalidArgumentError(
      absl::StrCat("sync: '", name, "' is not a sync level; use none, background, flush or fsync"));
}

const char* SyncName(Sync sync) {
  switch (sync) {
    case Sync::kNone: return "none";
    case Sync::kBackground: return "background";
    case Sync::kFlush: return "flush";
    case Sync::kFsync: return "fsync";
  }
  return "?";
}

LogWriter::LogWriter(int fd, std::string path, Sync sync) : sync_(sync), fd_(fd), path_(std::move(path)) {
  file_bytes_ = kFileHeaderBytes;
  flusher_ = std::thread([this] { FlushLoop(); });
}

absl::StatusOr<std::unique_ptr<LogWriter>> LogWriter::Create(std::string path, Sync sync) {
  auto fd = CreateLogFile(path);
  if (!fd.ok()) return fd.status();
  return std::unique_ptr<LogWriter>(new LogWriter(*fd, std::move(path), sync));
}

LogWriter::~LogWriter() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    flush_cv_.SignalAll();
  }
  if (flusher_.joinable()) flusher_.join();
  Flush(false).IgnoreError();
  absl::MutexLock lock(&mu_);
  ::close(fd_);
}

void LogWriter::Buffer::Copy(absl::string_view data) {
  if (!tail_is_copy) {
    copies.emplace_back();
    parts.emplace_back();
    tail_is_copy = true;
  }
  copies.back().append(data.data(), data.size());
  parts.back() = copies.back();
  bytes += data.size();
}

void LogWriter::Buffer::CopyWhole(absl::string_view data) {
  copies.emplace_back(data);  // one allocation of its size, not a growing tail
  parts.push_back(copies.back());
  tail_is_copy = false;
  bytes += data.size();
}

void LogWriter::Buffer::Borrow(absl::string_view data) {
  parts.push_back(data);
  tail_is_copy = false;
  bytes += data.size();
}

uint64_t LogWriter::Add(uint32_t kind, const Pieces& body, Sync sync, bool borrow) {
  constexpr size_t kBorrowBytes = size_t{64} << 10;
  const std::string header = FrameHeader(kind, body);
  absl::MutexLock lock(&mu_);
  if (sync == Sync::kBackground) buffered_background_ = true;
  if (buffer_.empty()) buffered_since_ = absl::Now();
  buffer_.Copy(header);
  for (absl::string_view p : body.parts()) {
    if (p.size() < kBorrowBytes) {
      buffer_.Copy(p);
    } else if (borrow) {
      buffer_.Borrow(p);
    } else {
      buffer_.CopyWhole(p);
    }
  }
  return ++added_;
}

bool LogWriter::Failed(uint64_t ticket, absl::Status* status) const {
  for (const Failure& f : failures_) {
    if (ticket > f.first && ticket <= f.last) {
      *status = f.status;
      return true;
    }
  }
  return false;
}

int LogWriter::WriteBuffered(bool fsync) {
  Buffer batch = std::move(buffer_);
  buffer_ = Buffer();
  buffered_background_ = false;
  buffered_since_ = absl::InfiniteFuture();
  const uint64_t first = written_, last = added_;
  const uint64_t offset = file_bytes_;
  const int fd = fd_;
  const std::string path = path_;
  const bool cut = cut_pending_;
  writing_ = true;
  mu_.Unlock();
  int err = 0;
  const char* what = "write the log";
  // After a failed write the file may hold part of it: cut that off first,
  // or a shorter write could leave whole records of it behind.
  if (cut && ::ftruncate(fd, static_cast<off_t>(offset)) != 0) err = errno;
  if (err == 0 && !batch.empty()) err = WriteAt(fd, batch.parts, offset);
  if (err == 0 && fsync && ::fdatasync(fd) != 0) {
    err = errno;
    what = "sync the log";
  }
  const bool cut_now = err != 0 && ::ftruncate(fd, static_cast<off_t>(offset)) == 0;
  mu_.Lock();
  writing_ = false;
  written_ = last;  // these tickets are settled, written or failed
  if (err == 0) {
    cut_pending_ = false;
    file_bytes_ = offset + batch.bytes;
    if (fsync) synced_ = last;
  } else {
    cut_pending_ = !cut_now;
    failures_.push_back(Failure{first, last, IoError(err, what, path)});
    if (failures_.size() > 64) failures_.pop_front();
  }
  return err;
}

absl::Status LogWriter::Wait(uint64_t ticket, Sync sync) {
  if (sync == Sync::kNone || sync == Sync::kBackground) return absl::OkStatus();
  absl::MutexLock lock(&mu_);
  const bool fsync = sync == Sync::kFsync;
  for (;;) {
    absl::Status failed;
    if (Failed(ticket, &failed)) return failed;
    if (ticket <= written_ && (!fsync || ticket <= synced_)) return absl::OkStatus();
    if (!writing_) {
      WriteBuffered(fsync);
      continue;
    }
    mu_.Await(absl::Condition(
        +[](bool* writing) { return !*writing; }, &writing_));
  }
}

absl::Status LogWriter::Flush(bool fsync) {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](bool* writing) { return !*writing; }, &writing_));
  if (buffer_.empty() && !fsync && !cut_pending_) return absl::OkStatus();
  if (WriteBuffered(fsync) != 0) return failures_.back().status;
  return absl::OkStatus();
}

absl::Status LogWriter::Rotate(std::string path) {
  if (absl::Status s = Flush(false); !s.ok()) return s;
  auto fd = CreateLogFile(path);
  if (!fd.ok()) return fd.status();
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(
      +[](bool* writing) { return !*writing; }, &writing_));
  // Records added since the flush go to the new file.
  ::close(fd_);
  fd_ = *fd;
  path_ = std::move(path);
  file_bytes_ = kFileHeaderBytes;
  return absl::OkStatus();
}

uint64_t LogWriter::bytes() const {
  absl::MutexLock lock(&mu_);
  return file_bytes_ + buffer_.bytes;
}

void LogWriter::Kick(Sync sync) {
  absl::MutexLock lock(&mu_);
  kicked_ = true;
  kicked_fsync_ = kicked_fsync_ || sync == Sync::kFsync;
  flush_cv_.Signal();
}

void LogWriter::FlushLoop() {
  // Records of levels flush and fsync are written by their waiters, or here
  // when kicked; background ones within 20 ms, none within a second. Every
  // round that does not write waits (while a waiter writes, too: this thread
  // must not hold the mutex the writer needs back).
  absl::MutexLock lock(&mu_);
  while (!stopping_) {
    if (!kicked_ || writing_) flush_cv_.WaitWithTimeout(&mu_, absl::Milliseconds(20));
    if (stopping_ || writing_) continue;
    const bool due = kicked_ || buffered_background_ || absl::Now() - buffered_since_ >= absl::Seconds(1);
    const bool fsync = kicked_fsync_;
    kicked_ = kicked_fsync_ = false;
    if (due && !buffer_.empty()) WriteBuffered(fsync);
  }
}

absl::StatusOr<LogContents> ReadLog(const std::string& path) {
  LogContents out;
  auto bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status();
  out.bytes = *std::move(bytes);
  if (absl::Status s = CheckFileHeader(out.bytes, kLogMagic, path); !s.ok()) {
    if (out.bytes.size() < kFileHeaderBytes && std::string(kLogMagic).compare(0, out.bytes.size(), out.bytes) == 0) {
      out.problem = absl::DataLossError("torn file header");  // created, header not yet whole
      return out;
    }
    return s;
  }
  absl::string_view rest(out.bytes);
  rest.remove_prefix(kFileHeaderBytes);
  out.valid_bytes = kFileHeaderBytes;
  while (!rest.empty()) {
    auto frame = NextFrame(&rest);
    if (!frame.ok()) {
      out.problem = frame.status();
      break;
    }
    out.frames.push_back(*frame);
    out.valid_bytes = out.bytes.size() - rest.size();
  }
  return out;
}

}  // namespace engine::storage
