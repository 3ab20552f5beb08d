#include "engine/table/dates.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"

namespace engine {

std::optional<int32_t> ParseDate(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  // Exactly YYYY-MM-DD, digits where digits go: ParseCivilTime alone also
  // takes other shapes ("-024-01-15", a year -24, which FormatDate would
  // write back as "-24-01-15").
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
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
