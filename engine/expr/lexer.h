#pragma once

// The expression language's first stage (expression.h): cuts the text into
// tokens. Also how every stage reports an error at a place in the text: a
// place is a byte offset into the text (Token::pos, Node::pos), shown to the
// user as a character position.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace engine::expr {

// InvalidArgument "<problem> at position N", N being the 1-based character
// position of byte `offset` of the UTF-8 `text`.
absl::Status ErrorAt(absl::string_view text, size_t offset, absl::string_view problem);

enum class Tok : uint8_t {
  kEnd,
  kName,
  kInt,
  kFloat,
  kString,
  kAnd,
  kOr,
  kNot,  // also '!'
  kNull,
  kIn,
  kBetween,
  kLike,
  kIs,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kPlus,
  kMinus,
  kStar,
  kSlash,
  kPercent,
  kLParen,
  kRParen,
  kComma,
};

struct Token {
  Tok kind = Tok::kEnd;
  size_t pos = 0;  // byte offset in the text
  size_t len = 0;  // bytes of source text
  // kInt: the value, saturated at UINT64_MAX; the parser checks the range,
  // since -9223372036854775808 is in range and 9223372036854775808 is not.
  uint64_t int_value = 0;
  double float_value = 0;  // kFloat
  std::string str;         // kString: the value, quotes undone
};

// All tokens of `text`, the last of kind kEnd (at the end of the text).
// Keywords are case-insensitive, any other name is kName. Errors (ErrorAt, at
// the token's start): "invalid number", "number is out of range",
// "unterminated string", "unexpected character '<c>'".
absl::StatusOr<std::vector<Token>> Lex(absl::string_view text);

}  // namespace engine::expr
