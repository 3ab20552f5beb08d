#include "engine/table/dates.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"

namespace engine {

std::optional<int32_t> ParseDate(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  // Exactly YYYY-MM-DD: ParseCivilTime alone also takes other shapes.
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  absl::CivilDay day;
  if (!absl::ParseCivilTime(text, &day)) return std::nullopt;
  return static_cast<int32_t>(day - absl::CivilDay(1970, 1, 1));
}

std::string FormatDate(int64_t days) {
  const absl::CivilDay day = absl::CivilDay(1970, 1, 1) + days;
  // Four digits for years 0 to 999 too ("0999-12-31"), as ParseDate reads
  // them back; absl writes "999-12-31".
  if (day.year() >= 0 && day.year() < 1000) {
    return absl::StrFormat("%04d-%02d-%02d", day.year(), day.month(), day.day());
  }
  return absl::FormatCivilTime(day);
}

}  // namespace engine
