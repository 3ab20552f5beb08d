#include "engine/table/subtypes.h"

#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "engine/table/dates.h"

namespace engine {
namespace {

bool Digits(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Two digits at most `max`.
bool Field(absl::string_view s, int max) {
  return s.size() == 2 && Digits(s) && (s[0] - '0') * 10 + (s[1] - '0') <= max;
}

// HH:MM:SS with an optional fraction of 1 to 6 digits.
bool TimeOfDay(absl::string_view s) {
  if (s.size() < 8 || s[2] != ':' || s[5] != ':') return false;
  if (!Field(s.substr(0, 2), 23) || !Field(s.substr(3, 2), 59) || !Field(s.substr(6, 2), 59)) return false;
  if (s.size() == 8) return true;
  return s[8] == '.' && s.size() <= 15 && Digits(s.substr(9));
}

bool DateTime(absl::string_view s) {
  if (s.size() < 10 || !ParseDate(s.substr(0, 10))) return false;
  if (s.size() == 10) return true;
  return (s[10] == ' ' || s[10] == 'T') && TimeOfDay(s.substr(11));
}

bool Decimal(absl::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  const size_t point = s.find('.');
  const absl::string_view whole = s.substr(0, point);
  const absl::string_view fraction = point == absl::string_view::npos ? "" : s.substr(point + 1);
  if (whole.empty() && fraction.empty()) return false;
  if (!whole.empty() && (!Digits(whole) || whole.size() > 15)) return false;
  if (point != absl::string_view::npos && !fraction.empty() && (!Digits(fraction) || fraction.size() > 4)) {
    return false;
  }
  return true;
}

bool Ulong(absl::string_view s) {
  uint64_t v = 0;
  return Digits(s) && absl::SimpleAtoi(s, &v);
}

bool Uuid(absl::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !absl::ascii_isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

bool Ipv4(absl::string_view s) {
  for (int part = 0; part < 4; ++part) {
    const size_t dot = part < 3 ? s.find('.') : s.size();
    if (dot == absl::string_view::npos) return false;
    const absl::string_view digits = s.substr(0, dot);
    int v = 0;
    if (digits.size() > 3 || !Digits(digits) || !absl::SimpleAtoi(digits, &v) || v > 255) return false;
    s.remove_prefix(part < 3 ? dot + 1 : dot);
  }
  return s.empty();
}

// Each subtype: its name, the test of its form, and the form as errors say it.
struct Subtype {
  absl::string_view name;
  bool (*has_form)(absl::string_view);
  const char* form;
};

constexpr Subtype kSubtypes[] = {
    {"datetime", DateTime, "a datetime (YYYY-MM-DD HH:MM:SS.mmm)"},
    {"time", TimeOfDay, "a time (HH:MM:SS.mmm)"},
    {"decimal", Decimal, "a decimal (up to 15 digits, a point and up to 4 more)"},
    {"ulong", Ulong, "a ulong (0 to 18446744073709551615)"},
    {"uuid", Uuid, "a uuid (8-4-4-4-12 hexadecimal digits)"},
    {"ipv4", Ipv4, "an ipv4 address (A.B.C.D, each 0 to 255)"},
};

}  // namespace

absl::string_view StringSubtype(const ColumnDef& def) {
  if (def.kind != ColumnKind::kString) return "";
  for (const std::string& p : def.properties) {
    for (const Subtype& t : kSubtypes) {
      if (p == t.name) return t.name;
    }
  }
  return "";
}

absl::Status CheckSubtype(absl::string_view subtype, absl::string_view text) {
  for (const Subtype& t : kSubtypes) {
    if (subtype != t.name) continue;
    if (t.has_form(text)) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not ", t.form));
  }
  return absl::OkStatus();  // "" (or no subtype): any text
}

std::string SubtypeValue(absl::string_view subtype, uint64_t word) {
  // splitmix64: the word's bits spread, for the second half of a uuid.
  uint64_t z = word + 0x9e3779b97f4a7c15ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  const uint64_t mixed = z ^ (z >> 31);
  const int64_t ms = static_cast<int64_t>(word % 86'400'000);
  const std::string time =
      absl::StrFormat("%02d:%02d:%02d.%03d", ms / 3'600'000, ms / 60'000 % 60, ms / 1000 % 60, ms % 1000);
  if (subtype == "datetime") {
    constexpr int64_t kDay2010 = 14'610;  // 2010-01-01, days since 1970-01-01
    return absl::StrCat(FormatDate(kDay2010 + static_cast<int64_t>(mixed % 7'305)), " ", time);
  }
  if (subtype == "time") return time;
  if (subtype == "decimal") {
    const int64_t v = static_cast<int64_t>(word % 2'000'000'000'000) - 1'000'000'000'000;  // 10^8 with 4 decimals
    return absl::StrFormat("%s%d.%04d", v < 0 ? "-" : "", (v < 0 ? -v : v) / 10'000, (v < 0 ? -v : v) % 10'000);
  }
  if (subtype == "ulong") return absl::StrCat(mixed);
  if (subtype == "uuid") {
    return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", word >> 32, (word >> 16) & 0xFFFF, word & 0xFFFF, mixed >> 48,
                           mixed & 0xFFFFFFFFFFFFull);
  }
  return absl::StrFormat("%d.%d.%d.%d", (mixed >> 24) & 0xFF, (mixed >> 16) & 0xFF, (mixed >> 8) & 0xFF, mixed & 0xFF);
}

}  // namespace engine
