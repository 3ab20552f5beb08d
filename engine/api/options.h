#pragma once

// Readers of the options maps (map<string, string>) that requests carry.
// Every transport and handler reads options through these, so that an
// option's spelling and its error are the same everywhere.

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "engine/api/json.h"

namespace engine {

// options[key] when it is set, else null; null also when `options` is not an
// object (a record without options).
const std::string* FindOption(const Json& options, absl::string_view key);

// The boolean `value` of options.<key>: "true" or "false"; `fallback` when
// `value` is null. InvalidArgument otherwise:
//   "options.<key>: expected 'true' or 'false', got '<value>'".
absl::StatusOr<bool> ParseBoolOption(absl::string_view key, const std::string* value, bool fallback);

// options.timeout_ms: a positive whole number of milliseconds. InvalidArgument
// otherwise: "options.timeout_ms: expected a positive number of milliseconds,
// got '<value>'".
absl::StatusOr<absl::Duration> ParseTimeoutOption(const std::string& value);

}  // namespace engine
