#pragma once

// Dates as the engine stores them: days since 1970-01-01 (an int32), read
// and written as Kinetica's 'YYYY-MM-DD' strings.

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace engine {

// The day of "YYYY-MM-DD" (surrounding spaces allowed), or nullopt.
std::optional<int32_t> ParseDate(absl::string_view text);
// "YYYY-MM-DD" of day `days`.
std::string FormatDate(int64_t days);

// Milliseconds since 1970-01-01 00:00:00 UTC of "YYYY-MM-DD" (midnight) or
// "YYYY-MM-DD HH:MM[:SS[.fraction]]" (a 'T' for the space and a trailing 'Z'
// allowed; the fraction cut to milliseconds), or nullopt. How timestamps are
// written in SQL and JSON.
std::optional<int64_t> ParseTimestamp(absl::string_view text);

}  // namespace engine
