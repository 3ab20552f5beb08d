#include "engine/storage/file.h"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace engine::storage {
namespace {

absl::Mutex fault_mu;
std::function<int(size_t)>* fault ABSL_GUARDED_BY(fault_mu) = nullptr;

int InjectedFault(size_t bytes) {
  absl::MutexLock lock(&fault_mu);
  return fault != nullptr ? (*fault)(bytes) : 0;
}

}  // namespace

absl::Status IoError(int err, absl::string_view what, absl::string_view path) {
  return absl::UnavailableError(absl::StrCat("data directory: cannot ", what, " ", path, ": ", std::strerror(err)));
}

void SetWriteFaultForTesting(std::function<int(size_t bytes)> f) {
  absl::MutexLock lock(&fault_mu);
  delete fault;
  fault = f ? new std::function<int(size_t)>(std::move(f)) : nullptr;
}

int WriteAt(int fd, const std::vector<absl::string_view>& parts, uint64_t offset) {
  size_t total = 0;
  for (absl::string_view p : parts) total += p.size();
  if (int err = InjectedFault(total); err != 0) return err;
  size_t part = 0, within = 0;
  while (part < parts.size()) {
    iovec iov[64];
    int n = 0;
    for (size_t i = part; i < parts.size() && n < 64; ++i) {
      const size_t skip = i == part ? within : 0;
      if (parts[i].size() == skip) continue;
      iov[n].iov_base = const_cast<char*>(parts[i].data() + skip);
      iov[n].iov_len = parts[i].size() - skip;
      ++n;
    }
    if (n == 0) break;
    const ssize_t wrote = ::pwritev(fd, iov, n, static_cast<off_t>(offset));
    if (wrote < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (wrote == 0) return ENOSPC;
    offset += static_cast<uint64_t>(wrote);
    size_t left = static_cast<size_t>(wrote);
    while (part < parts.size() && left >= parts[part].size() - within) {
      left -= parts[part].size() - within;
      ++part;
      within = 0;
    }
    within += left;
  }
  return 0;
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError(errno, "read", path);
  const off_t size = ::lseek(fd, 0, SEEK_END);
  std::string bytes(size > 0 ? static_cast<size_t>(size) : 0, '\0');
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      ::close(fd);
      return IoError(err, "read", path);
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return bytes;
}

}  // namespace engine::storage
