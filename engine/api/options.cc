#include "engine/api/options.h"

#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace engine {

const std::string* FindOption(const Json& options, absl::string_view key) {
  if (!options.is_object()) return nullptr;
  auto it = options.find(std::string(key));
  return it != options.end() && it->is_string() ? &it->get_ref<const std::string&>() : nullptr;
}

absl::StatusOr<bool> ParseBoolOption(absl::string_view key, const std::string* value, bool fallback) {
  if (value == nullptr) return fallback;
  if (*value == "true") return true;
  if (*value == "false") return false;
  return absl::InvalidArgumentError(absl::StrCat("options.", key, ": expected 'true' or 'false', got '", *value, "'"));
}

absl::StatusOr<absl::Duration> ParseTimeoutOption(const std::string& value) {
  int64_t ms = 0;
  if (!absl::SimpleAtoi(value, &ms) || ms <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.timeout_ms: expected a positive number of milliseconds, got '", value, "'"));
  }
  return absl::Milliseconds(ms);
}

}  // namespace engine
