#pragma once

// Files of a data directory: every write goes through WriteAt (so that tests
// can make writes fail as a full disk does), whole files are read with
// ReadWholeFile, and errors name the file and the system's reason.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace engine::storage {

// Unavailable: "data directory: cannot WHAT PATH: <strerror(err)>".
absl::Status IoError(int err, absl::string_view what, absl::string_view path);

// Writes all of `parts`, in order, at `offset` of `fd`; 0, or the errno of
// the failure (or of an injected fault).
int WriteAt(int fd, const std::vector<absl::string_view>& parts, uint64_t offset);

// `fault(bytes)` returns 0 to let a write of `bytes` through, or an errno
// (e.g. ENOSPC) to fail it. Null: no faults (the default).
void SetWriteFaultForTesting(std::function<int(size_t bytes)> fault);

// The whole file at `path`.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace engine::storage
