#include "engine/io/files.h"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace engine::io {
namespace {

// realpath(3), or empty when the path does not resolve.
std::string RealPath(const std::string& path) {
  char buffer[PATH_MAX];
  if (::realpath(path.c_str(), buffer) == nullptr) return "";
  return buffer;
}

std::string Errno() { return std::strerror(errno); }

bool IsPattern(absl::string_view name) { return name.find_first_of("*?[") != absl::string_view::npos; }

}  // namespace

FilesDir::FilesDir(std::string root) : given_(root) {
  if (root.empty()) return;
  root_ = RealPath(root);
  if (root_.empty()) root_ = root;  // checked at start by the server; Match reports it
}

absl::StatusOr<std::string> FilesDir::Join(absl::string_view path, absl::string_view field) const {
  if (root_.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        field, ": this server reads and writes no files: start it with --files-dir=DIR to serve the files under DIR"));
  }
  if (path.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": the path is empty"));
  if (absl::StrContains(path, "://")) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", path,
                                                   "': only paths under the server's --files-dir are served "
                                                   "(no KiFS, no data sources)"));
  }
  for (absl::string_view part : absl::StrSplit(path, '/')) {
    if (part == "..") {
      return absl::InvalidArgumentError(absl::StrCat(field, ": '", path, "': '..' is not allowed in a path"));
    }
  }
  if (path[0] == '/') {
    const std::string absolute(path);
    if (absolute != root_ && !absl::StartsWith(absolute, root_ + "/") && absolute != given_ &&
        !absl::StartsWith(absolute, given_ + "/")) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": '", path, "' is outside the server's files directory"));
    }
    return absolute;
  }
  return absl::StrCat(root_, "/", path);
}

bool FilesDir::Inside(const std::string& real) const { return real == root_ || absl::StartsWith(real, root_ + "/"); }

std::string FilesDir::Relative(const std::string& real) const {
  return real.size() > root_.size() ? real.substr(root_.size() + 1) : "";
}

absl::StatusOr<std::vector<FoundFile>> FilesDir::Match(absl::string_view path, absl::string_view field) const {
  auto joined = Join(path, field);
  if (!joined.ok()) return joined.status();
  auto outside = [&] {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", path, "' leads outside the server's files directory"));
  };
  // The directory to list and the pattern its entries must match, or the
  // one file.
  std::string dir = *joined;
  std::string pattern;
  const size_t slash = joined->rfind('/');
  if (IsPattern(absl::string_view(*joined).substr(slash + 1))) {
    dir = joined->substr(0, slash);
    pattern = joined->substr(slash + 1);
  }
  const std::string real = RealPath(dir);
  if (real.empty()) return absl::NotFoundError(absl::StrCat(field, ": '", path, "' does not exist"));
  if (!Inside(real)) return outside();
  struct stat st;
  if (::stat(real.c_str(), &st) != 0) return absl::NotFoundError(absl::StrCat(field, ": '", path, "': ", Errno()));
  std::vector<FoundFile> files;
  if (!S_ISDIR(st.st_mode)) {
    if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(field, ": '", path, "' is not a file"));
    files.push_back(FoundFile{Relative(real), real, static_cast<int64_t>(st.st_size)});
    return files;
  }
  DIR* d = ::opendir(real.c_str());
  if (d == nullptr) return absl::NotFoundError(absl::StrCat(field, ": '", path, "': ", Errno()));
  while (dirent* entry = ::readdir(d)) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (!pattern.empty() && ::fnmatch(pattern.c_str(), name.c_str(), FNM_PERIOD) != 0) continue;
    if (pattern.empty() && name[0] == '.') continue;
    const std::string file = RealPath(real + "/" + name);
    struct stat fst;
    if (file.empty() || ::stat(file.c_str(), &fst) != 0 || !S_ISREG(fst.st_mode)) continue;
    if (!Inside(file)) {
      ::closedir(d);
      return outside();
    }
    files.push_back(FoundFile{Relative(real + "/" + name), file, static_cast<int64_t>(fst.st_size)});
  }
  ::closedir(d);
  std::sort(files.begin(), files.end(), [](const FoundFile& a, const FoundFile& b) { return a.name < b.name; });
  if (files.empty()) return absl::NotFoundError(absl::StrCat(field, ": no files match '", path, "'"));
  return files;
}

absl::StatusOr<Input> FilesDir::Map(const FoundFile& file) const {
  const int fd = ::open(file.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("'", file.name, "': ", Errno()));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const std::string error = Errno();
    ::close(fd);
    return absl::InternalError(absl::StrCat("'", file.name, "': ", error));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  if (size == 0) {
    ::close(fd);
    return Input{};
  }
  void* data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const std::string error = Errno();
  ::close(fd);
  if (data == MAP_FAILED) return absl::InternalError(absl::StrCat("'", file.name, "': mmap: ", error));
  ::madvise(data, size, MADV_SEQUENTIAL);
  std::shared_ptr<const void> keep(data, [size](const void* p) { ::munmap(const_cast<void*>(p), size); });
  return Input{absl::string_view(static_cast<const char*>(data), size), std::move(keep)};
}

bool FilesDir::IsDirectory(absl::string_view path) const {
  auto joined = Join(path, "");
  if (!joined.ok()) return false;
  const std::string real = RealPath(*joined);
  struct stat st;
  return !real.empty() && Inside(real) && ::stat(real.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

absl::StatusOr<FilesDir::Created> FilesDir::Create(absl::string_view path, bool overwrite,
                                                   absl::string_view field) const {
  auto joined = Join(path, field);
  if (!joined.ok()) return joined.status();
  const size_t slash = joined->rfind('/');
  const std::string name = joined->substr(slash + 1);
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": '", path, "' names no file"));
  const std::string dir = RealPath(joined->substr(0, slash));
  if (dir.empty()) {
    return absl::NotFoundError(absl::StrCat(field, ": the directory of '", path, "' does not exist"));
  }
  if (!Inside(dir)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": '", path, "' leads outside the server's files directory"));
  }
  const std::string target = dir + "/" + name;
  struct stat st;
  if (::lstat(target.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": '", path, "' is a symbolic link; not written"));
    }
    if (!S_ISREG(st.st_mode)) return absl::InvalidArgumentError(absl::StrCat(field, ": '", path, "' is not a file"));
    if (!overwrite) {
      return absl::AlreadyExistsError(
          absl::StrCat(field, ": '", path, "' exists (options.single_file=overwrite replaces it)"));
    }
  }
  const int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  const int fd = ::open(target.c_str(), flags, 0644);
  if (fd < 0) {
    if (errno == EEXIST) {
      return absl::AlreadyExistsError(absl::StrCat(field, ": '", path, "' exists"));
    }
    return absl::InternalError(absl::StrCat(field, ": '", path, "': ", Errno()));
  }
  return Created{fd, Relative(target), target};
}

}  // namespace engine::io
