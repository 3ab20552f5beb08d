#include "engine/sql/kinetica_words.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace engine::sql {
namespace {

struct Token {
  size_t begin = 0, end = 0;
  std::string upper;  // words and symbols upper-cased; "" for a string literal
  bool word = false;
  bool number = false;
};

// The statement's tokens, comments and string literals skipped over.
std::vector<Token> Tokens(absl::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  const auto is_word = [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$';
  };
  while (i < s.size()) {
    const char c = s[i];
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      const size_t close = s.find("*/", i + 2);
      i = close == absl::string_view::npos ? s.size() : close + 2;
    } else if (c == '\'' || c == '"') {
      Token t;
      t.begin = i++;
      while (i < s.size()) {
        if (s[i] == c && i + 1 < s.size() && s[i + 1] == c) {
          i += 2;
        } else if (s[i++] == c) {
          break;
        }
      }
      t.end = i;
      if (c == '"') {  // a quoted name: a word as written
        t.upper = std::string(s.substr(t.begin + 1, t.end - t.begin - 2));
        t.word = true;
      }
      out.push_back(t);
    } else if (is_word(c)) {
      Token t;
      t.begin = i;
      while (i < s.size() && is_word(s[i])) ++i;
      t.end = i;
      t.upper = absl::AsciiStrToUpper(s.substr(t.begin, t.end - t.begin));
      t.number = absl::ascii_isdigit(static_cast<unsigned char>(c));
      t.word = !t.number;
      out.push_back(t);
    } else {
      out.push_back(Token{i, i + 1, std::string(1, c), false, false});
      ++i;
    }
  }
  return out;
}

}  // namespace

Nesting NestingOf(absl::string_view statement, int64_t limit) {
  static const absl::flat_hash_set<std::string>* const kOperatorWords =
      new absl::flat_hash_set<std::string>{"NOT", "IS", "LIKE", "ILIKE", "SIMILAR", "BETWEEN", "IN", "COLLATE"};
  Nesting out;
  std::vector<int64_t> ops = {0};  // per open level: operators since its last comma
  int64_t depth = 1;               // levels open + their operators
  for (const Token& t : Tokens(statement)) {
    const std::string& u = t.upper;
    if (u == "(" || u == "CASE") {
      ops.push_back(0);
      ++depth;
    } else if ((u == ")" || u == "END") && ops.size() > 1) {
      depth -= ops.back() + 1;
      ops.pop_back();
    } else if (u == "," || u == "AND" || u == "OR") {
      depth -= ops.back();
      ops.back() = 0;
    } else if (t.word ? kOperatorWords->contains(u)
                      : !t.number && u.size() == 1 &&
                            absl::string_view("+-*/%^|<>=!~&#@:").find(u[0]) != absl::string_view::npos) {
      ++ops.back();
      ++depth;
    }
    if (depth > out.depth) {
      out.depth = depth;
      out.at = t.begin;
      if (depth > limit) break;
    }
  }
  return out;
}

KineticaWords ReadKineticaWords(absl::string_view statement) {
  KineticaWords out;
  out.text = std::string(statement);
  const std::vector<Token> t = Tokens(statement);
  const auto blank = [&](size_t from, size_t to) {  // tokens [from, to)
    if (from >= to) return;
    for (size_t i = t[from].begin; i < t[to - 1].end; ++i) {
      if (out.text[i] != '\n') out.text[i] = ' ';
    }
  };
  const auto is = [&](size_t i, const char* word) { return i < t.size() && t[i].upper == word; };
  // The word before a parenthesis is a column's name when it starts an element.
  size_t i = 0;
  while (i < t.size() && t[i].upper == "(") ++i;
  if (is(i, "SELECT")) {
    size_t k = i + 1;
    if (is(k, "DISTINCT") || is(k, "ALL")) ++k;
    int64_t n = 0;
    if (is(k, "TOP") && k + 1 < t.size() && t[k + 1].number && absl::SimpleAtoi(t[k + 1].upper, &n)) {
      out.top = n;
      blank(k, k + 2);
    }
    return out;
  }
  if (!is(i, "CREATE")) return out;
  size_t k = i + 1;
  if (is(k, "OR") && is(k + 1, "REPLACE")) {
    out.or_replace = true;
    blank(k, k + 2);
    k += 2;
  }
  if (is(k, "REPLICATED")) {
    out.replicated = true;
    blank(k, k + 1);
    ++k;
  }
  // The table's element list: the first parenthesis after TABLE name.
  while (k < t.size() && t[k].upper != "(" && t[k].upper != "AS") ++k;
  if (k >= t.size() || t[k].upper != "(") return out;
  int depth = 0;
  size_t element = k + 1;  // the first token of the current element
  for (size_t j = k; j < t.size(); ++j) {
    if (t[j].upper == "(") {
      ++depth;
      // A type's parentheses (depth 2) holding names: properties.
      if (depth == 2 && j >= element + 2 && t[element].word) {
        size_t close = j + 1;
        int inner = 1;
        while (close < t.size() && inner > 0) {
          if (t[close].upper == "(") ++inner;
          if (t[close].upper == ")") --inner;
          if (inner > 0) ++close;
        }
        if (close >= t.size()) return out;  // unclosed: the grammar reports it
        bool names = false;
        for (size_t a = j + 1; a < close; ++a) names = names || t[a].word;
        if (names && !is(element, "SHARD") && !is(element, "PRIMARY") && !is(element, "FOREIGN") &&
            !is(element, "UNIQUE") && !is(element, "CONSTRAINT") && !is(element, "CHECK")) {
          const std::string column =
              absl::AsciiStrToLower(statement.substr(t[element].begin, t[element].end - t[element].begin));
          std::vector<size_t> numbers;
          for (size_t a = j + 1; a < close; ++a) {
            if (t[a].word) out.properties[column].push_back(absl::AsciiStrToLower(t[a].upper));
            if (t[a].number) numbers.push_back(a);
          }
          // Keep "(n)" or "(p, s)"; blank the rest.
          if (numbers.empty()) {
            blank(j, close + 1);
          } else {
            for (size_t a = j + 1; a < close; ++a) {
              if (t[a].word) {
                blank(a, a + 1);
                // The comma before or after it.
                if (a > j + 1 && t[a - 1].upper == "," &&
                    std::find(numbers.begin(), numbers.end(), a - 2) != numbers.end()) {
                  blank(a - 1, a);
                } else if (a + 1 < close && t[a + 1].upper == ",") {
                  blank(a + 1, a + 2);
                }
              }
            }
          }
          j = close;
          --depth;
          continue;
        }
      }
      continue;
    }
    if (t[j].upper == ")") {
      if (--depth == 0) break;
      continue;
    }
    if (depth == 1 && t[j].upper == ",") {
      element = j + 1;
      continue;
    }
    // SHARD KEY (a, b) as an element: the shard key, blanked with its comma.
    if (depth == 1 && j == element && is(j, "SHARD") && is(j + 1, "KEY") && is(j + 2, "(")) {
      size_t close = j + 3;
      while (close < t.size() && t[close].upper != ")") {
        if (t[close].word) {
          out.shard_key.push_back(std::string(statement.substr(t[close].begin, t[close].end - t[close].begin)));
        }
        ++close;
      }
      if (close >= t.size()) return out;  // unclosed: the grammar reports it
      const size_t from = j > k + 1 && t[j - 1].upper == "," ? j - 1 : j;
      size_t to = close + 1;
      if (from == j && to < t.size() && t[to].upper == ",") ++to;  // the first element: its comma after
      blank(from, to);
      j = to - 1;
    }
  }
  return out;
}

}  // namespace engine::sql
