#pragma once

// The path of the field being read, for error messages ("options.limit",
// "list[3]"): a scope appends one step to the path and takes it off again
// when it ends.

#include <cstddef>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace engine {

class PathScope {
 public:
  // Appends `.name` (or `name` at the top).
  PathScope(std::string* path, absl::string_view name) : path_(path), size_(path->size()) {
    if (!path->empty()) path->push_back('.');
    path->append(name.data(), name.size());
  }
  // Appends `[index]`.
  PathScope(std::string* path, size_t index) : path_(path), size_(path->size()) {
    absl::StrAppend(path, "[", index, "]");
  }
  ~PathScope() { path_->resize(size_); }
  PathScope(const PathScope&) = delete;
  PathScope& operator=(const PathScope&) = delete;

 private:
  std::string* path_;
  size_t size_;
};

}  // namespace engine
