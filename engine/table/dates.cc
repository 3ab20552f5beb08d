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

std::optional<int64_t> ParseTimestamp(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  const std::optional<int32_t> day = ParseDate(text.substr(0, 10));
  if (!day || (text.size() > 10 && text[10] != ' ' && text[10] != 'T')) return std::nullopt;
  int64_t ms = int64_t{*day} * 86'400'000;
  if (text.size() <= 10) return ms;
  absl::string_view rest = text.substr(11);
  if (!rest.empty() && rest.back() == 'Z') rest.remove_suffix(1);
  // HH:MM, then :SS, then .fraction: two digits each, within their ranges.
  const auto two = [&](size_t at, int most, int64_t* v) {
    if (at + 2 > rest.size() || !absl::ascii_isdigit(static_cast<unsigned char>(rest[at])) ||
        !absl::ascii_isdigit(static_cast<unsigned char>(rest[at + 1]))) {
      return false;
    }
    *v = (rest[at] - '0') * 10 + (rest[at + 1] - '0');
    return *v <= most;
  };
  int64_t hour = 0, minute = 0, second = 0;
  if (!two(0, 23, &hour) || rest.size() < 5 || rest[2] != ':' || !two(3, 59, &minute)) return std::nullopt;
  size_t at = 5;
  if (at < rest.size()) {
    if (rest[at] != ':' || !two(at + 1, 59, &second)) return std::nullopt;
    at += 3;
  }
  int64_t fraction = 0;
  if (at < rest.size()) {
    if (rest[at] != '.' || at + 1 == rest.size()) return std::nullopt;
    int digits = 0;
    for (++at; at < rest.size(); ++at, ++digits) {
      if (!absl::ascii_isdigit(static_cast<unsigned char>(rest[at])) || digits == 9) return std::nullopt;
      if (digits < 3) fraction = fraction * 10 + (rest[at] - '0');
    }
    for (; digits < 3; ++digits) fraction *= 10;
  }
  return ms + hour * 3'600'000 + minute * 60'000 + second * 1'000 + fraction;
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
