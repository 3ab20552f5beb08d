#include "engine/expr/text.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace engine {

void ScanTopLevel(absl::string_view text, const std::function<bool(size_t i, int depth)>& fn) {
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      continue;
    }
    if (!fn(i, depth)) return;
    if (c == '(') ++depth;
    if (c == ')') --depth;
  }
}

std::vector<std::string> SplitTopLevel(absl::string_view text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  ScanTopLevel(text, [&](size_t i, int depth) {
    if (text[i] == sep && depth == 0) {
      out.emplace_back(absl::StripAsciiWhitespace(text.substr(start, i - start)));
      start = i + 1;
    }
    return true;
  });
  out.emplace_back(absl::StripAsciiWhitespace(text.substr(start)));
  return out;
}

absl::string_view WithoutOuterParens(absl::string_view text) {
  for (;;) {
    text = absl::StripAsciiWhitespace(text);
    if (text.size() < 2 || text.front() != '(' || text.back() != ')') return text;
    // The first parenthesis must close at the very end.
    bool whole = true;
    ScanTopLevel(text, [&](size_t i, int depth) {
      if (text[i] == ')' && depth == 1 && i + 1 < text.size()) whole = false;
      return whole;
    });
    if (!whole) return text;
    text = text.substr(1, text.size() - 2);
  }
}

namespace {

// The parts of `whole` joined by the top-level word `word` ("and", "or"),
// each without outer parentheses; empty parts dropped.
std::vector<std::string> SplitAtWord(absl::string_view whole, absl::string_view word) {
  const absl::string_view text = WithoutOuterParens(whole);
  std::vector<std::string> out;
  size_t begin = 0;
  const auto space = [&](size_t i) { return absl::ascii_isspace(static_cast<unsigned char>(text[i])); };
  const size_t n = word.size();
  ScanTopLevel(text, [&](size_t i, int depth) {
    if (depth == 0 && (i == 0 || space(i - 1)) && i + n + 1 <= text.size() &&
        absl::EqualsIgnoreCase(text.substr(i, n), word) && (i + n == text.size() || space(i + n))) {
      out.emplace_back(WithoutOuterParens(text.substr(begin, i - begin)));
      begin = i + n;
    }
    return true;
  });
  out.emplace_back(WithoutOuterParens(text.substr(begin)));
  out.erase(std::remove(out.begin(), out.end(), ""), out.end());
  return out;
}

}  // namespace

std::vector<std::string> Conjuncts(absl::string_view text) { return SplitAtWord(text, "and"); }

std::vector<std::string> Disjuncts(absl::string_view text) { return SplitAtWord(text, "or"); }

absl::StatusOr<Aliased> SplitAlias(absl::string_view text, absl::string_view field) {
  size_t at = absl::string_view::npos;
  ScanTopLevel(text, [&](size_t i, int depth) {
    if (depth == 0 && i + 4 <= text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[i])) &&
        absl::EqualsIgnoreCase(text.substr(i + 1, 2), "as") && i + 3 < text.size() &&
        absl::ascii_isspace(static_cast<unsigned char>(text[i + 3]))) {
      at = i;
    }
    return true;
  });
  Aliased out;
  if (at == absl::string_view::npos) {
    out.expr = std::string(absl::StripAsciiWhitespace(text));
    return out;
  }
  out.expr = std::string(absl::StripAsciiWhitespace(text.substr(0, at)));
  out.alias = std::string(absl::StripAsciiWhitespace(text.substr(at + 4)));
  // A name, or names joined by dots (alias.column).
  bool ok = true;
  for (absl::string_view part : absl::StrSplit(out.alias, '.')) {
    ok = ok && !part.empty() && !absl::ascii_isdigit(static_cast<unsigned char>(part[0]));
    for (char c : part) ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_');
  }
  if (!ok || out.expr.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": '", text, "': an alias after 'as' must be a name (letters, digits, '_'; or alias.name)"));
  }
  return out;
}

absl::StatusOr<std::vector<OrderKey>> ParseOrderBy(absl::string_view text, absl::string_view field) {
  std::vector<OrderKey> keys;
  for (const std::string& item : SplitTopLevel(text, ',')) {
    OrderKey key;
    key.expr = item;
    const std::string lower = absl::AsciiStrToLower(item);
    if (absl::EndsWith(lower, " desc")) {
      key.descending = true;
      key.expr = item.substr(0, item.size() - 5);
    } else if (absl::EndsWith(lower, " asc")) {
      key.expr = item.substr(0, item.size() - 4);
    }
    key.expr = std::string(absl::StripAsciiWhitespace(key.expr));
    if (key.expr.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": an empty sort key in '", text, "'"));
    }
    keys.push_back(std::move(key));
  }
  return keys;
}

std::string NumberLiteral(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
}

std::string StringLiteral(absl::string_view v) { return absl::StrCat("'", absl::StrReplaceAll(v, {{"'", "''"}}), "'"); }

}  // namespace engine
