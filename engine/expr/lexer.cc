#include "engine/expr/lexer.h"

#include <cmath>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace engine::expr {
namespace {

// 1-based character position of byte `offset` of the UTF-8 `text`.
int64_t CharPosition(absl::string_view text, size_t offset) {
  int64_t chars = 0;
  for (size_t i = 0; i < offset; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++chars;
  }
  return chars + 1;
}

struct Keyword {
  const char* text;
  Tok kind;
};

constexpr Keyword kKeywords[] = {
    {"and", Tok::kAnd},         {"or", Tok::kOr},     {"not", Tok::kNot}, {"null", Tok::kNull},
    {"in", Tok::kIn},           {"between", Tok::kBetween}, {"like", Tok::kLike},
    {"is", Tok::kIs}};

bool IsNameStart(char c) { return absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

class Lexer {
 public:
  explicit Lexer(absl::string_view text) : text_(text) {}

  // All tokens of the text, ending with kEnd.
  absl::StatusOr<std::vector<Token>> Run() {
    std::vector<Token> tokens;
    for (;;) {
      while (at_ < text_.size() && absl::ascii_isspace(static_cast<unsigned char>(text_[at_]))) {
        ++at_;
      }
      Token t;
      t.pos = at_;
      if (at_ == text_.size()) {
        tokens.push_back(std::move(t));
        return tokens;
      }
      const char c = text_[at_];
      absl::Status s;
      if (IsDigit(c) || (c == '.' && at_ + 1 < text_.size() && IsDigit(text_[at_ + 1]))) {
        s = Number(t);
      } else if (c == '\'' || c == '"') {
        s = String(t);
      } else if (IsNameStart(c)) {
        Name(t);
      } else {
        s = Symbol(t);
      }
      if (!s.ok()) return s;
      t.len = at_ - t.pos;
      tokens.push_back(std::move(t));
    }
  }

 private:
  bool Peek(char c, size_t ahead = 0) const {
    return at_ + ahead < text_.size() && text_[at_ + ahead] == c;
  }

  // Consumes `c` when it comes next.
  bool Accept(char c) {
    if (!Peek(c)) return false;
    ++at_;
    return true;
  }

  absl::Status Number(Token& t) {
    const size_t start = at_;
    bool real = false;
    constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();
    uint64_t v = 0;
    if (Peek('0') && (Peek('x', 1) || Peek('X', 1))) {
      at_ += 2;
      const size_t digits = at_;
      for (int d; at_ < text_.size() && (d = HexDigit(text_[at_])) >= 0; ++at_) {
        v = (v >> 60) != 0 ? kSaturated : v * 16 + d;
      }
      if (at_ == digits) return ErrorAt(text_, start, "invalid number");
    } else {
      for (; at_ < text_.size() && IsDigit(text_[at_]); ++at_) {
        const uint64_t d = text_[at_] - '0';
        v = v > (kSaturated - d) / 10 ? kSaturated : v * 10 + d;
      }
      if (Peek('.')) {
        real = true;
        for (++at_; at_ < text_.size() && IsDigit(text_[at_]);) ++at_;
      }
      if (Peek('e') || Peek('E')) {
        real = true;
        ++at_;
        if (Peek('+') || Peek('-')) ++at_;
        const size_t digits = at_;
        while (at_ < text_.size() && IsDigit(text_[at_])) ++at_;
        if (at_ == digits) return ErrorAt(text_, start, "invalid number");
      }
    }
    if (at_ < text_.size() && (IsNameChar(text_[at_]) || text_[at_] == '.')) {
      return ErrorAt(text_, start, "invalid number");
    }
    if (!real) {
      t.kind = Tok::kInt;
      t.int_value = v;
      return absl::OkStatus();
    }
    t.kind = Tok::kFloat;
    if (!absl::SimpleAtod(text_.substr(start, at_ - start), &t.float_value) ||
        !std::isfinite(t.float_value)) {
      return ErrorAt(text_, start, "number is out of range");
    }
    return absl::OkStatus();
  }

  absl::Status String(Token& t) {
    const char quote = text_[at_];
    t.kind = Tok::kString;
    for (++at_; at_ < text_.size(); ++at_) {
      if (text_[at_] != quote) {
        t.str.push_back(text_[at_]);
      } else if (Peek(quote, 1)) {
        t.str.push_back(quote);
        ++at_;
      } else {
        ++at_;
        return absl::OkStatus();
      }
    }
    return ErrorAt(text_, t.pos, "unterminated string");
  }

  // A name, or a qualified one (alias.column): one token.
  void Name(Token& t) {
    bool qualified = false;
    for (;;) {
      while (at_ < text_.size() && IsNameChar(text_[at_])) ++at_;
      if (!Peek('.') || at_ + 1 >= text_.size() || !IsNameStart(text_[at_ + 1])) break;
      ++at_;
      qualified = true;
    }
    const absl::string_view name = text_.substr(t.pos, at_ - t.pos);
    t.kind = Tok::kName;
    for (const Keyword& k : kKeywords) {
      if (!qualified && absl::EqualsIgnoreCase(name, k.text)) t.kind = k.kind;
    }
  }

  absl::Status Symbol(Token& t) {
    const char c = text_[at_++];
    switch (c) {
      case '=':
        Accept('=');
        t.kind = Tok::kEq;
        break;
      case '!': t.kind = Accept('=') ? Tok::kNe : Tok::kNot; break;
      case '<': t.kind = Accept('=') ? Tok::kLe : Accept('>') ? Tok::kNe : Tok::kLt; break;
      case '>': t.kind = Accept('=') ? Tok::kGe : Tok::kGt; break;
      case '+': t.kind = Tok::kPlus; break;
      case '-': t.kind = Tok::kMinus; break;
      case '*': t.kind = Tok::kStar; break;
      case '/': t.kind = Tok::kSlash; break;
      case '%': t.kind = Tok::kPercent; break;
      case '(': t.kind = Tok::kLParen; break;
      case ')': t.kind = Tok::kRParen; break;
      case ',': t.kind = Tok::kComma; break;
      default: {
        // Show a whole UTF-8 sequence, escaped so the message stays valid text.
        if (static_cast<unsigned char>(c) >= 0xC0) {
          while (at_ < text_.size() && at_ - t.pos < 4 &&
                 (static_cast<unsigned char>(text_[at_]) & 0xC0) == 0x80) {
            ++at_;
          }
        }
        return ErrorAt(text_, t.pos,
                       absl::StrCat("unexpected character '",
                                    absl::CHexEscape(text_.substr(t.pos, at_ - t.pos)), "'"));
      }
    }
    return absl::OkStatus();
  }

  absl::string_view text_;
  size_t at_ = 0;
};

}  // namespace

absl::Status ErrorAt(absl::string_view text, size_t offset, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(problem, " at position ", CharPosition(text, offset)));
}

absl::StatusOr<std::vector<Token>> Lex(absl::string_view text) { return Lexer(text).Run(); }

}  // namespace engine::expr
