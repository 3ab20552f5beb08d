#include "engine/expr/text.h"

#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"

namespace engine {

std::vector<std::string> SplitTopLevel(absl::string_view text, char sep) {
  std::vector<std::string> out;
  int depth = 0;
  char quote = 0;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == sep && depth == 0 && quote == 0)) {
      out.emplace_back(absl::StripAsciiWhitespace(text.substr(start, i - start)));
      start = i + 1;
      continue;
    }
    const char c = text[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    }
  }
  return out;
}

absl::StatusOr<Aliased> SplitAlias(absl::string_view text, absl::string_view field) {
  int depth = 0;
  char quote = 0;
  size_t at = absl::string_view::npos;
  for (size_t i = 0; i + 4 <= text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '\'' || c == '"') quote = c;
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && absl::ascii_isspace(static_cast<unsigned char>(c)) &&
        absl::EqualsIgnoreCase(text.substr(i + 1, 2), "as") && i + 3 < text.size() &&
        absl::ascii_isspace(static_cast<unsigned char>(text[i + 3]))) {
      at = i;
    }
  }
  Aliased out;
  if (at == absl::string_view::npos) {
    out.expr = std::string(absl::StripAsciiWhitespace(text));
    return out;
  }
  out.expr = std::string(absl::StripAsciiWhitespace(text.substr(0, at)));
  out.alias = std::string(absl::StripAsciiWhitespace(text.substr(at + 4)));
  bool ok = !out.alias.empty() && !absl::ascii_isdigit(static_cast<unsigned char>(out.alias[0]));
  for (char c : out.alias) ok = ok && (absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok || out.expr.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", text, "': an alias after 'as' must be a name (letters, digits, '_')"));
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
