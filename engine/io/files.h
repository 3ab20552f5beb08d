#pragma once

// The server's files directory (--files-dir): the one place where
// /insert/records/fromfiles reads and /export/records/tofiles writes. Paths
// are taken relative to it (an absolute path must lie inside it); a path with
// a ".." component, or one that leads outside the directory through a
// symbolic link, is refused. Without a directory every call fails.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/io/reader.h"

namespace engine::io {

// A file found under the directory.
struct FoundFile {
  std::string name;  // as the directory shows it: "data/trips.csv" (relative)
  std::string path;  // its resolved absolute path
  int64_t size = 0;
};

class FilesDir {
 public:
  // `root` as given to --files-dir; empty: no directory.
  explicit FilesDir(std::string root);

  bool enabled() const { return !root_.empty(); }

  // The files `path` names: a file; a directory (the regular files in it,
  // not in its subdirectories); or a last component with '*' or '?' (the
  // regular files it matches, fnmatch(3)). Sorted by name. Errors name
  // `field`: FailedPrecondition without a directory; InvalidArgument for a
  // refused path; NotFound when nothing is there.
  absl::StatusOr<std::vector<FoundFile>> Match(absl::string_view path, absl::string_view field) const;

  // The bytes of a file that Match found, mapped into memory.
  absl::StatusOr<Input> Map(const FoundFile& file) const;

  // Whether `path` names a directory under the root (false for a refused
  // path).
  bool IsDirectory(absl::string_view path) const;

  // Opens the file `path` for writing, in a directory that exists; returns
  // the descriptor and the name as the directory shows it. With `overwrite`
  // an existing regular file is replaced, else it is an AlreadyExists error;
  // a symbolic link is never written through. Errors name `field`.
  struct Created {
    int fd = -1;
    std::string name;  // as the directory shows it
    std::string path;  // absolute
  };
  absl::StatusOr<Created> Create(absl::string_view path, bool overwrite, absl::string_view field) const;

 private:
  // The absolute path `path` stands for (before symbolic links are
  // resolved), or the reason it is refused.
  absl::StatusOr<std::string> Join(absl::string_view path, absl::string_view field) const;
  // Whether the resolved absolute path `real` lies inside the root.
  bool Inside(const std::string& real) const;
  // `real` relative to the root ("" for the root itself).
  std::string Relative(const std::string& real) const;

  std::string root_;  // resolved (realpath) when it exists; empty: none
  std::string given_;
};

}  // namespace engine::io
