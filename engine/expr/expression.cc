#include "engine/expr/expression.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace engine {
namespace {

using kernels::Cmp;
using kernels::Instr;
using kernels::Op;
using kernels::Program;
using kernels::ValueKind;

// Three stages: the lexer cuts the text into tokens; the parser builds a tree
// of nodes (kept in one vector, children by index); the compiler infers the
// type of every node, then emits code for the tree. Binary operators are
// left-associative, so a long chain (a or b or c ...) is a deep left spine:
// the compiler walks such spines in loops, and all other recursion, in the
// parser and in the compiler, is bounded by kMaxExpressionNesting.

constexpr uint64_t kInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// 1-based character position of byte `offset` of the UTF-8 `text`.
int64_t CharPosition(absl::string_view text, size_t offset) {
  int64_t chars = 0;
  for (size_t i = 0; i < offset; ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++chars;
  }
  return chars + 1;
}

absl::Status ErrorAt(absl::string_view text, size_t offset, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(problem, " at position ", CharPosition(text, offset)));
}

// A name as quoted in a message, cut short when long.
std::string Quoted(absl::string_view name) {
  constexpr size_t kMax = 64;
  if (name.size() <= kMax) return absl::StrCat("'", name, "'");
  return absl::StrCat("'", name.substr(0, kMax), "...'");
}

// ---------------------------------------------------------------------------
// Lexer

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

  void Name(Token& t) {
    while (at_ < text_.size() && IsNameChar(text_[at_])) ++at_;
    const absl::string_view name = text_.substr(t.pos, at_ - t.pos);
    t.kind = Tok::kName;
    for (const Keyword& k : kKeywords) {
      if (absl::EqualsIgnoreCase(name, k.text)) t.kind = k.kind;
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

// ---------------------------------------------------------------------------
// Syntax tree

// kIn: args are the operand, then the list's literals; kBetween: operand,
// lower and upper bound; kLike: operand and pattern (a string or null).
enum class NodeKind : uint8_t {
  kColumn,
  kInt,
  kFloat,
  kString,
  kNull,
  kUnary,
  kBinary,
  kCall,
  kIn,
  kBetween,
  kLike
};

enum class Operator : uint8_t {
  kOr,
  kAnd,
  kNot,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kNeg,
  kPlus,
  kIn,       // the comparison-level keywords, each with an optional `not`
  kBetween,
  kLike,
};

bool IsLogical(Operator op) { return op == Operator::kOr || op == Operator::kAnd; }
bool IsComparison(Operator op) { return op >= Operator::kEq && op <= Operator::kGe; }

const char* OperatorText(Operator op) {
  switch (op) {
    case Operator::kAdd:
    case Operator::kPlus: return "+";
    case Operator::kSub:
    case Operator::kNeg: return "-";
    case Operator::kMul: return "*";
    case Operator::kDiv: return "/";
    case Operator::kMod: return "%";
    default: return "";
  }
}

enum class Function : uint8_t {
  kIsNull,
  kIf,
  kIfNull,  // ifnull, nvl
  kCoalesce,
  kNullIf,
  kAbs,
  kSign,
  kSqrt,
  kCbrt,
  kExp,
  kLn,
  kLog10,
  kPow,
  kFloor,
  kCeil,
  kRound,
  kMod,
  kGreatest,
  kLeast,
  kLength,
  kLower,
  kUpper,
  kSubstr,
  kYear,
  kMonth,
  kDay,
  kHour,
  kMinute,
  kSec,
};

constexpr int kAnyNumber = std::numeric_limits<int>::max();

struct FunctionInfo {
  const char* name;
  Function id;
  int min_args;
  int max_args;  // kAnyNumber: no limit
};

constexpr FunctionInfo kFunctions[] = {
    {"is_null", Function::kIsNull, 1, 1},
    {"if", Function::kIf, 3, 3},
    {"ifnull", Function::kIfNull, 2, 2},
    {"nvl", Function::kIfNull, 2, 2},
    {"coalesce", Function::kCoalesce, 1, kAnyNumber},
    {"nullif", Function::kNullIf, 2, 2},
    {"abs", Function::kAbs, 1, 1},
    {"sign", Function::kSign, 1, 1},
    {"sqrt", Function::kSqrt, 1, 1},
    {"cbrt", Function::kCbrt, 1, 1},
    {"exp", Function::kExp, 1, 1},
    {"ln", Function::kLn, 1, 1},
    {"log10", Function::kLog10, 1, 1},
    {"pow", Function::kPow, 2, 2},
    {"floor", Function::kFloor, 1, 1},
    {"ceil", Function::kCeil, 1, 1},
    {"round", Function::kRound, 1, 2},
    {"mod", Function::kMod, 2, 2},
    {"greatest", Function::kGreatest, 1, kAnyNumber},
    {"least", Function::kLeast, 1, kAnyNumber},
    {"length", Function::kLength, 1, 1},
    {"lower", Function::kLower, 1, 1},
    {"upper", Function::kUpper, 1, 1},
    {"substr", Function::kSubstr, 2, 3},
    {"year", Function::kYear, 1, 1},
    {"month", Function::kMonth, 1, 1},
    {"day", Function::kDay, 1, 1},
    {"hour", Function::kHour, 1, 1},
    {"minute", Function::kMinute, 1, 1},
    {"sec", Function::kSec, 1, 1},
};

// The type of a value. kNull is the type of the null literal, which fits
// wherever a value of any type does.
enum class Type : uint8_t { kNull, kInt, kFloat, kString };

struct Node {
  NodeKind kind = NodeKind::kNull;
  size_t pos = 0;                          // byte offset of the token that makes the node
  Operator op = Operator::kOr;             // kUnary, kBinary
  const FunctionInfo* function = nullptr;  // kCall
  int column = -1;                         // kColumn: index in the table
  int64_t int_value = 0;                   // kInt
  double float_value = 0;                  // kFloat
  std::string str;                         // kString
  std::vector<int> args;                   // operands (kUnary, kBinary, kIn, ...) or arguments (kCall)
  std::vector<size_t> arg_pos;             // kCall, kIn: byte offset where each argument begins
  bool negated = false;                    // kIn, kBetween, kLike: `not in` etc.

  // Set by the compiler's type check.
  Type type = Type::kNull;
  bool truth = false;          // an int that is always 0 or 1 (or null)
  Type operand = Type::kNull;  // comparisons and arithmetic: the type both sides take
};

// Binding strength of the binary operators (and of prefix `not`).
enum Level {
  kOrLevel,
  kAndLevel,
  kNotLevel,
  kComparisonLevel,
  kSumLevel,
  kProductLevel,
  kUnaryLevel
};

// The level of binary operator token `t` (kUnaryLevel: not one) and its operator.
Level BinaryLevel(Tok t, Operator* op) {
  switch (t) {
    case Tok::kOr: *op = Operator::kOr; return kOrLevel;
    case Tok::kAnd: *op = Operator::kAnd; return kAndLevel;
    case Tok::kEq: *op = Operator::kEq; return kComparisonLevel;
    case Tok::kNe: *op = Operator::kNe; return kComparisonLevel;
    case Tok::kLt: *op = Operator::kLt; return kComparisonLevel;
    case Tok::kLe: *op = Operator::kLe; return kComparisonLevel;
    case Tok::kGt: *op = Operator::kGt; return kComparisonLevel;
    case Tok::kGe: *op = Operator::kGe; return kComparisonLevel;
    case Tok::kPlus: *op = Operator::kAdd; return kSumLevel;
    case Tok::kMinus: *op = Operator::kSub; return kSumLevel;
    case Tok::kStar: *op = Operator::kMul; return kProductLevel;
    case Tok::kSlash: *op = Operator::kDiv; return kProductLevel;
    case Tok::kPercent: *op = Operator::kMod; return kProductLevel;
    case Tok::kIn: *op = Operator::kIn; return kComparisonLevel;
    case Tok::kBetween: *op = Operator::kBetween; return kComparisonLevel;
    case Tok::kLike: *op = Operator::kLike; return kComparisonLevel;
    default: return kUnaryLevel;
  }
}

// ---------------------------------------------------------------------------
// Parser

class Parser {
 public:
  Parser(absl::string_view text, const TableType& type, std::vector<Token> tokens)
      : text_(text), type_(type), tokens_(std::move(tokens)) {}

  // Parses the whole text; returns the root node.
  absl::StatusOr<int> Run() {
    absl::StatusOr<int> root = ParseExpression(kOrLevel);
    if (!root.ok()) return root;
    if (Peek().kind != Tok::kEnd) return Unexpected(Peek());
    return root;
  }

  std::vector<Node>& nodes() { return nodes_; }

 private:
  const Token& Peek() const { return tokens_[next_]; }
  // The token after the next one (kEnd at the end).
  const Token& PeekSecond() const { return tokens_[std::min(next_ + 1, tokens_.size() - 1)]; }

  // The level of the binary operator that comes next, as BinaryLevel, with
  // `not in`, `not between` and `not like` read as one operator.
  Level PeekLevel(Operator* op) const {
    if (Peek().kind == Tok::kNot) {
      const Tok second = PeekSecond().kind;
      if (second == Tok::kIn || second == Tok::kBetween || second == Tok::kLike) {
        return BinaryLevel(second, op);
      }
    }
    return BinaryLevel(Peek().kind, op);
  }
  const Token& Next() { return tokens_[next_ < tokens_.size() - 1 ? next_++ : next_]; }

  // Errors and node building stay out of line, so that the functions that
  // recurse per level of nesting keep small stack frames.
  ABSL_ATTRIBUTE_NOINLINE absl::Status Error(size_t pos, absl::string_view problem) const {
    return ErrorAt(text_, pos, problem);
  }

  ABSL_ATTRIBUTE_NOINLINE absl::Status Unexpected(const Token& t) const {
    if (t.kind == Tok::kEnd) return Error(t.pos, "unexpected end of expression");
    if (t.kind == Tok::kString) return Error(t.pos, "unexpected string");
    return Error(t.pos, absl::StrCat("unexpected ", Quoted(text_.substr(t.pos, t.len))));
  }

  ABSL_ATTRIBUTE_NOINLINE int AddNode(NodeKind kind, size_t pos) {
    nodes_.emplace_back();
    nodes_.back().kind = kind;
    nodes_.back().pos = pos;
    return static_cast<int>(nodes_.size() - 1);
  }

  ABSL_ATTRIBUTE_NOINLINE int AddOperation(Operator op, size_t pos, int left, int right = -1) {
    const int id = AddNode(right < 0 ? NodeKind::kUnary : NodeKind::kBinary, pos);
    nodes_[id].op = op;
    nodes_[id].args.push_back(left);
    if (right >= 0) nodes_[id].args.push_back(right);
    return id;
  }

  // An operand followed by binary operators that bind at least as tightly
  // as `min` (precedence climbing). Every sub-expression (parenthesized, an
  // argument, the operand of an operator) is parsed by a call of this, so
  // counting its depth bounds all recursion, here and in the compiler.
  absl::StatusOr<int> ParseExpression(Level min) {
    if (++depth_ > kMaxExpressionNesting) {
      return Error(Peek().pos, "expression is nested too deeply");
    }
    absl::StatusOr<int> left = ParsePrefix(min);
    if (!left.ok()) return left;
    for (;;) {
      if (Peek().kind == Tok::kIs && min <= kComparisonLevel) {
        left = ParseIsNull(*left);
        if (!left.ok()) return left;
        Operator next = Operator::kOr;
        if (PeekLevel(&next) == kComparisonLevel || Peek().kind == Tok::kIs) {
          return Error(Peek().pos, "comparisons cannot be chained");
        }
        continue;
      }
      Operator op = Operator::kOr;
      const Level level = PeekLevel(&op);
      if (level == kUnaryLevel || level < min) {
        --depth_;
        return left;
      }
      if (op == Operator::kIn || op == Operator::kBetween || op == Operator::kLike) {
        left = ParseKeywordComparison(op, *left);
        if (!left.ok()) return left;
      } else {
        const size_t pos = Next().pos;
        absl::StatusOr<int> right = ParseExpression(static_cast<Level>(level + 1));
        if (!right.ok()) return right;
        left = AddOperation(op, pos, *left, *right);
      }
      if (level == kComparisonLevel && PeekLevel(&op) == kComparisonLevel) {
        return Error(Peek().pos, "comparisons cannot be chained");
      }
    }
  }

  // An operand, with its prefix operators: `not` where an operand of `min`
  // may have one (not a = b is not (a = b); a = not b is an error), and
  // unary minus and plus anywhere.
  absl::StatusOr<int> ParsePrefix(Level min) {
    const Tok kind = Peek().kind;
    Operator op;
    Level operand_level;
    if (kind == Tok::kNot && min <= kNotLevel) {
      op = Operator::kNot;
      operand_level = kNotLevel;
    } else if (kind == Tok::kMinus || kind == Tok::kPlus) {
      op = kind == Tok::kMinus ? Operator::kNeg : Operator::kPlus;
      operand_level = kUnaryLevel;
    } else {
      return ParsePrimary();
    }
    const size_t pos = Next().pos;
    if (op == Operator::kNeg && Peek().kind == Tok::kInt && Peek().int_value <= kInt64Max + 1) {
      // A negative literal, so that the smallest int64 can be written.
      const int id = AddNode(NodeKind::kInt, pos);
      nodes_[id].int_value = static_cast<int64_t>(0 - Next().int_value);
      return id;
    }
    absl::StatusOr<int> operand = ParseExpression(operand_level);
    if (!operand.ok()) return operand;
    return AddOperation(op, pos, *operand);
  }

  absl::StatusOr<int> ParsePrimary() {
    const Token& t = Next();
    switch (t.kind) {
      case Tok::kInt: {
        if (t.int_value > kInt64Max) return Error(t.pos, "integer is out of range");
        const int id = AddNode(NodeKind::kInt, t.pos);
        nodes_[id].int_value = static_cast<int64_t>(t.int_value);
        return id;
      }
      case Tok::kFloat: {
        const int id = AddNode(NodeKind::kFloat, t.pos);
        nodes_[id].float_value = t.float_value;
        return id;
      }
      case Tok::kString: {
        const int id = AddNode(NodeKind::kString, t.pos);
        nodes_[id].str = t.str;
        return id;
      }
      case Tok::kNull: return AddNode(NodeKind::kNull, t.pos);
      case Tok::kName:
        if (Peek().kind == Tok::kLParen) return ParseCall(t);
        return ParseColumn(t);
      case Tok::kLParen: {
        absl::StatusOr<int> inner = ParseExpression(kOrLevel);
        if (!inner.ok()) return inner;
        if (Peek().kind != Tok::kRParen) return Error(Peek().pos, "expected ')'");
        Next();
        return inner;
      }
      default: return Unexpected(t);
    }
  }

  // Whether node `id` is a literal: a number (with signs), a string or null.
  bool IsLiteral(int id) const {
    const NodeKind k = nodes_[id].kind;
    return k == NodeKind::kString || k == NodeKind::kNull || IsNumberLiteral(id);
  }

  bool IsNumberLiteral(int id) const {
    // Signs nest one parse level each, so this loop is bounded like the parse.
    while (nodes_[id].kind == NodeKind::kUnary &&
           (nodes_[id].op == Operator::kNeg || nodes_[id].op == Operator::kPlus)) {
      id = nodes_[id].args[0];
    }
    return nodes_[id].kind == NodeKind::kInt || nodes_[id].kind == NodeKind::kFloat;
  }

  // The rest of `left [not] in (...)`, `left [not] between lo and hi` or
  // `left [not] like 'pattern'`, from the next token (`not` or the keyword).
  // `x is null` and `x is not null`: is_null(x), and its negation.
  absl::StatusOr<int> ParseIsNull(int left) {
    const size_t pos = Next().pos;  // `is`
    const bool negated = Peek().kind == Tok::kNot;
    if (negated) Next();
    if (Peek().kind != Tok::kNull) return Error(Peek().pos, "expected 'null' after 'is'");
    Next();
    static const FunctionInfo* const kIsNullInfo = [] {
      for (const FunctionInfo& f : kFunctions) {
        if (f.id == Function::kIsNull) return &f;
      }
      return static_cast<const FunctionInfo*>(nullptr);
    }();
    const int id = AddNode(NodeKind::kCall, pos);
    nodes_[id].function = kIsNullInfo;
    nodes_[id].args.push_back(left);
    nodes_[id].arg_pos.push_back(nodes_[left].pos);
    return negated ? AddOperation(Operator::kNot, pos, id) : id;
  }

  absl::StatusOr<int> ParseKeywordComparison(Operator op, int left) {
    const bool negated = Peek().kind == Tok::kNot;
    if (negated) Next();
    const size_t pos = Next().pos;  // the keyword
    std::vector<int> args = {left};
    std::vector<size_t> arg_pos = {nodes_[left].pos};
    NodeKind kind = NodeKind::kIn;
    if (op == Operator::kIn) {
      if (Peek().kind != Tok::kLParen) return Error(Peek().pos, "expected '('");
      Next();
      for (;;) {
        const size_t start = Peek().pos;
        absl::StatusOr<int> item = ParseExpression(kOrLevel);
        if (!item.ok()) return item;
        if (!IsLiteral(*item)) return Error(start, "expected a literal in the 'in' list");
        args.push_back(*item);
        arg_pos.push_back(start);
        if (Peek().kind != Tok::kComma) break;
        Next();
      }
      if (Peek().kind != Tok::kRParen) return Error(Peek().pos, "expected ',' or ')'");
      Next();
    } else if (op == Operator::kBetween) {
      kind = NodeKind::kBetween;
      for (int k = 0; k < 2; ++k) {
        if (k == 1) {
          if (Peek().kind != Tok::kAnd) return Error(Peek().pos, "expected 'and'");
          Next();
        }
        const size_t start = Peek().pos;
        absl::StatusOr<int> bound = ParseExpression(kSumLevel);
        if (!bound.ok()) return bound;
        args.push_back(*bound);
        arg_pos.push_back(start);
      }
    } else {
      kind = NodeKind::kLike;
      const size_t start = Peek().pos;
      absl::StatusOr<int> pattern = ParseExpression(kSumLevel);
      if (!pattern.ok()) return pattern;
      const NodeKind k = nodes_[*pattern].kind;
      if (k != NodeKind::kString && k != NodeKind::kNull) {
        return Error(start, "expected a string literal as the 'like' pattern");
      }
      args.push_back(*pattern);
      arg_pos.push_back(start);
    }
    const int id = AddNode(kind, pos);
    nodes_[id].negated = negated;
    nodes_[id].args = std::move(args);
    nodes_[id].arg_pos = std::move(arg_pos);
    return id;
  }

  absl::StatusOr<int> ParseColumn(const Token& t) {
    const absl::string_view name = text_.substr(t.pos, t.len);
    int index = type_.Find(name);
    if (index < 0) {
      for (size_t i = 0; i < type_.size(); ++i) {
        if (!absl::EqualsIgnoreCase(type_.column(i).name, name)) continue;
        if (index >= 0) return Error(t.pos, absl::StrCat("ambiguous column ", Quoted(name)));
        index = static_cast<int>(i);
      }
    }
    if (index < 0) return Error(t.pos, absl::StrCat("unknown column ", Quoted(name)));
    const int id = AddNode(NodeKind::kColumn, t.pos);
    nodes_[id].column = index;
    return id;
  }

  absl::StatusOr<int> ParseCall(const Token& name_token) {
    const absl::string_view name = text_.substr(name_token.pos, name_token.len);
    const FunctionInfo* function = nullptr;
    for (const FunctionInfo& f : kFunctions) {
      if (absl::EqualsIgnoreCase(f.name, name)) function = &f;
    }
    if (function == nullptr) {
      return Error(name_token.pos, absl::StrCat("unknown function ", Quoted(name)));
    }
    Next();  // '('
    std::vector<int> args;
    std::vector<size_t> arg_pos;
    if (Peek().kind != Tok::kRParen) {
      for (;;) {
        arg_pos.push_back(Peek().pos);
        absl::StatusOr<int> arg = ParseExpression(kOrLevel);
        if (!arg.ok()) return arg;
        args.push_back(*arg);
        if (Peek().kind != Tok::kComma) break;
        Next();
      }
    }
    if (Peek().kind != Tok::kRParen) return Error(Peek().pos, "expected ',' or ')'");
    Next();
    const int count = static_cast<int>(args.size());
    if (count < function->min_args || count > function->max_args) {
      const std::string takes =
          function->min_args == function->max_args ? absl::StrCat(function->min_args)
          : function->max_args == kAnyNumber
              ? absl::StrCat("at least ", function->min_args)
              : absl::StrCat(function->min_args, " to ", function->max_args);
      const int most = function->max_args == kAnyNumber ? function->min_args : function->max_args;
      return Error(name_token.pos,
                   absl::StrCat("function '", function->name, "' takes ", takes,
                                most == 1 ? " argument" : " arguments", ", not ", count));
    }
    const int id = AddNode(NodeKind::kCall, name_token.pos);
    nodes_[id].function = function;
    nodes_[id].args = std::move(args);
    nodes_[id].arg_pos = std::move(arg_pos);
    return id;
  }

  absl::string_view text_;
  const TableType& type_;
  std::vector<Token> tokens_;
  size_t next_ = 0;
  int depth_ = 0;
  std::vector<Node> nodes_;
};

// ---------------------------------------------------------------------------
// Type check and code generation

Type ColumnType(const ColumnDef& c) {
  if (c.is_integer()) return Type::kInt;
  if (c.is_real()) return Type::kFloat;
  return Type::kString;
}

bool IsNumber(Type t) { return t == Type::kInt || t == Type::kFloat; }

class Compiler {
 public:
  Compiler(absl::string_view text, const TableType& type, std::vector<Node> nodes)
      : text_(text), type_(type), nodes_(std::move(nodes)), slots_(type.size(), -1) {}

  // Type-checks the tree under `root` and emits its code into program().
  absl::Status Run(int root) {
    absl::Status s = Check(root);
    if (!s.ok()) return s;
    Emit(root);
    if (max_depth_ > kernels::kMaxStackDepth) {
      return absl::InvalidArgumentError("expression is too complex");
    }
    return absl::OkStatus();
  }

  const Node& node(int id) const { return nodes_[id]; }
  Program& program() { return program_; }
  // Table indices of the program's columns, in program order.
  const std::vector<int>& columns() const { return columns_; }

 private:
  absl::Status Error(const Node& n, absl::string_view problem) const {
    return ErrorAt(text_, n.pos, problem);
  }

  // The binary nodes down the left spine from `id`, top first, and the
  // first node that is not one.
  std::vector<int> LeftSpine(int id, int* leaf) const {
    std::vector<int> spine;
    while (nodes_[id].kind == NodeKind::kBinary) {
      spine.push_back(id);
      id = nodes_[id].args[0];
    }
    *leaf = id;
    return spine;
  }

  absl::Status Check(int id) {
    Node& n = nodes_[id];
    switch (n.kind) {
      case NodeKind::kColumn: n.type = ColumnType(type_.column(n.column)); break;
      case NodeKind::kInt: n.type = Type::kInt; break;
      case NodeKind::kFloat: n.type = Type::kFloat; break;
      case NodeKind::kString: n.type = Type::kString; break;
      case NodeKind::kNull: n.truth = true; break;
      case NodeKind::kUnary: {
        absl::Status s = Check(n.args[0]);
        if (!s.ok()) return s;
        return CheckUnary(n);
      }
      case NodeKind::kBinary: {
        int leaf;
        const std::vector<int> spine = LeftSpine(id, &leaf);
        absl::Status s = Check(leaf);
        for (auto it = spine.rbegin(); s.ok() && it != spine.rend(); ++it) {
          s = Check(nodes_[*it].args[1]);
          if (s.ok()) s = CheckBinary(nodes_[*it]);
        }
        return s;
      }
      case NodeKind::kCall:
      case NodeKind::kIn:
      case NodeKind::kBetween:
      case NodeKind::kLike:
        for (int arg : n.args) {
          absl::Status s = Check(arg);
          if (!s.ok()) return s;
        }
        if (n.kind == NodeKind::kIn) return CheckIn(n);
        if (n.kind == NodeKind::kBetween) return CheckBetween(n);
        if (n.kind == NodeKind::kLike) return CheckLike(n);
        return CheckCall(n);
    }
    return absl::OkStatus();
  }

  // "string" or "number", for messages; kNull is neither (it fits both).
  static const char* Class(Type t) { return t == Type::kString ? "string" : "number"; }

  // Whether values of types `a` and `b` can be compared or mixed: strings
  // with strings, numbers with numbers; null fits both.
  static bool Comparable(Type a, Type b) {
    return a == Type::kNull || b == Type::kNull || (a == Type::kString) == (b == Type::kString);
  }
  // The type two comparable types meet in: int with float is float.
  static Type Wider(Type a, Type b) {
    if (a == Type::kNull) return b;
    if (b == Type::kNull) return a;
    if (a == Type::kString) return a;
    return a == Type::kFloat || b == Type::kFloat ? Type::kFloat : Type::kInt;
  }

  // The value of literal node `id` (IsLiteral): its type and value.
  void LiteralValue(int id, Type* type, int64_t* i, double* f, std::string* str) const {
    bool negate = false;
    while (nodes_[id].kind == NodeKind::kUnary) {
      negate ^= nodes_[id].op == Operator::kNeg;
      id = nodes_[id].args[0];
    }
    const Node& n = nodes_[id];
    switch (n.kind) {
      case NodeKind::kInt:
        *type = Type::kInt;
        *i = negate ? static_cast<int64_t>(0 - static_cast<uint64_t>(n.int_value)) : n.int_value;
        *f = static_cast<double>(*i);
        break;
      case NodeKind::kFloat:
        *type = Type::kFloat;
        *f = negate ? -n.float_value : n.float_value;
        break;
      case NodeKind::kString:
        *type = Type::kString;
        *str = n.str;
        break;
      default: *type = Type::kNull; break;
    }
  }

  absl::Status CheckIn(Node& n) {
    Type operand = nodes_[n.args[0]].type;
    for (size_t k = 1; k < n.args.size(); ++k) {
      Type t;
      int64_t i;
      double f;
      std::string str;
      LiteralValue(n.args[k], &t, &i, &f, &str);
      if (!Comparable(operand, t)) {
        return ErrorAt(text_, n.arg_pos[k],
                       absl::StrCat("cannot compare ", Class(operand), " with ", Class(t)));
      }
      operand = Wider(operand, t);
    }
    n.operand = operand;
    n.type = Type::kInt;
    n.truth = true;
    return absl::OkStatus();
  }

  absl::Status CheckBetween(Node& n) {
    Type operand = Type::kNull;
    for (int arg : n.args) {
      const Type t = nodes_[arg].type;
      if (!Comparable(operand, t)) {
        return Error(n, absl::StrCat("cannot compare ", Class(operand), " with ", Class(t)));
      }
      operand = Wider(operand, t);
    }
    n.operand = operand;
    n.type = Type::kInt;
    n.truth = true;
    return absl::OkStatus();
  }

  absl::Status CheckLike(Node& n) {
    if (IsNumber(nodes_[n.args[0]].type)) return Error(n, "cannot use 'like' on a number");
    n.type = Type::kInt;
    n.truth = true;
    return absl::OkStatus();
  }

  // Argument k of call `n` must be of kind `want` ("a number", "a string",
  // "an int", "a timestamp"); null fits all.
  absl::Status Require(const Node& n, size_t k, absl::string_view want) const {
    const Type t = nodes_[n.args[k]].type;
    bool ok = t == Type::kNull;
    if (want == "a string") {
      ok = ok || t == Type::kString;
    } else if (want == "a number") {
      ok = ok || IsNumber(t);
    } else {
      ok = ok || t == Type::kInt;  // an int, a timestamp (ms since the epoch)
    }
    if (ok) return absl::OkStatus();
    // An int or a timestamp wanted: say what it got was a float.
    const bool want_int = want == "an int" || want == "a timestamp";
    const char* got = t == Type::kString              ? "a string"
                      : t == Type::kFloat && want_int ? "a float"
                                                      : "a number";
    return ErrorAt(text_, n.arg_pos[k],
                   absl::StrCat("argument ", k + 1, " of '", n.function->name, "' must be ", want,
                                ", not ", got));
  }

  // The common type of arguments [first, end) of call `n`: int with int is
  // int, int with float float, string with string string; null fits all.
  absl::Status Unify(Node& n, size_t first, Type* out) const {
    Type common = Type::kNull;
    for (size_t k = first; k < n.args.size(); ++k) {
      const Type t = nodes_[n.args[k]].type;
      if (!Comparable(common, t)) {
        return ErrorAt(text_, n.arg_pos[k],
                       absl::StrCat("cannot mix ", Class(common), " and ", Class(t), " in '",
                                    n.function->name, "'"));
      }
      common = Wider(common, t);
    }
    *out = common;
    return absl::OkStatus();
  }

  // Whether arguments [first, end) of `n` are all truth values (or null).
  bool AllTruth(const Node& n, size_t first) const {
    for (size_t k = first; k < n.args.size(); ++k) {
      if (!nodes_[n.args[k]].truth) return false;
    }
    return true;
  }

  absl::Status CheckUnary(Node& n) {
    const Node& a = nodes_[n.args[0]];
    if (n.op == Operator::kNot) {
      if (a.type == Type::kString) return Error(n, "cannot use a string as a condition");
      n.type = Type::kInt;
      n.truth = true;
      return absl::OkStatus();
    }
    if (a.type == Type::kString) {
      return Error(n, absl::StrCat("cannot use '", OperatorText(n.op), "' on a string"));
    }
    n.type = a.type == Type::kFloat ? Type::kFloat : Type::kInt;
    n.truth = n.op == Operator::kPlus && a.truth;
    return absl::OkStatus();
  }

  absl::Status CheckBinary(Node& n) {
    const Type a = nodes_[n.args[0]].type;
    const Type b = nodes_[n.args[1]].type;
    const bool strings = a == Type::kString || b == Type::kString;
    const Type numeric = a == Type::kFloat || b == Type::kFloat ? Type::kFloat : Type::kInt;
    if (IsLogical(n.op)) {
      if (strings) return Error(n, "cannot use a string as a condition");
      n.type = Type::kInt;
      n.truth = true;
    } else if (IsComparison(n.op)) {
      if (strings && (IsNumber(a) || IsNumber(b))) {
        return Error(n, a == Type::kString ? "cannot compare string with number"
                                           : "cannot compare number with string");
      }
      n.operand = strings ? Type::kString : numeric;
      n.type = Type::kInt;
      n.truth = true;
    } else {
      if (strings)
        return Error(n, absl::StrCat("cannot use '", OperatorText(n.op), "' on a string"));
      n.operand = numeric;
      n.type = numeric;
    }
    return absl::OkStatus();
  }

  absl::Status CheckCall(Node& n) {
    const Type first = nodes_[n.args[0]].type;
    absl::Status s;
    switch (n.function->id) {
      case Function::kIsNull:
        n.type = Type::kInt;
        n.truth = true;
        return s;
      case Function::kIf:
        if (first == Type::kString) {
          return ErrorAt(text_, n.arg_pos[0], "cannot use a string as a condition");
        }
        s = Unify(n, 1, &n.operand);
        n.type = n.operand;
        n.truth = AllTruth(n, 1);
        return s;
      case Function::kIfNull:
      case Function::kCoalesce:
      case Function::kNullIf:
      case Function::kGreatest:
      case Function::kLeast:
        s = Unify(n, 0, &n.operand);
        n.type = n.operand;
        n.truth = AllTruth(n, 0);
        return s;
      case Function::kAbs:
      case Function::kSign:
      case Function::kFloor:
      case Function::kCeil:
      case Function::kRound:
        s = Require(n, 0, "a number");
        if (s.ok() && n.args.size() > 1) s = Require(n, 1, "an int");
        n.type = first == Type::kFloat ? Type::kFloat : Type::kInt;
        return s;
      case Function::kSqrt:
      case Function::kCbrt:
      case Function::kExp:
      case Function::kLn:
      case Function::kLog10:
      case Function::kPow:
        for (size_t k = 0; s.ok() && k < n.args.size(); ++k) s = Require(n, k, "a number");
        n.type = Type::kFloat;
        return s;
      case Function::kMod:
        s = Require(n, 0, "a number");
        if (s.ok()) s = Require(n, 1, "a number");
        n.operand = Wider(Wider(Type::kInt, first), nodes_[n.args[1]].type);
        n.type = n.operand;
        return s;
      case Function::kLength:
        n.type = Type::kInt;
        return Require(n, 0, "a string");
      case Function::kLower:
      case Function::kUpper:
      case Function::kSubstr:
        s = Require(n, 0, "a string");
        for (size_t k = 1; s.ok() && k < n.args.size(); ++k) s = Require(n, k, "an int");
        n.type = first == Type::kNull ? Type::kNull : Type::kString;
        return s;
      case Function::kYear:
      case Function::kMonth:
      case Function::kDay:
      case Function::kHour:
      case Function::kMinute:
      case Function::kSec:
        n.type = Type::kInt;
        return Require(n, 0, "a timestamp");
    }
    return s;
  }

  // Appends an instruction and tracks the stack's depth.
  void Push(Op op, int32_t arg = 0, int32_t arg2 = 0) {
    program_.code.push_back(Instr{op, arg, arg2});
    depth_ += kernels::StackEffect(op);
    max_depth_ = std::max(max_depth_, depth_);
  }

  // Emits node `id` and converts its value to `type` (int to float).
  void EmitAs(int id, Type type) {
    Emit(id);
    if (type == Type::kFloat && nodes_[id].type == Type::kInt) Push(Op::kIntToFloat);
  }

  // Turns the value of `n`, on top of the stack, into a truth value.
  void ToTruth(const Node& n) {
    if (n.type == Type::kFloat) {
      Push(Op::kTruthF);
    } else if (n.type == Type::kInt && !n.truth) {
      Push(Op::kTruthI);
    }
  }

  // Brings operand `a` of binary node `n`, on top of the stack, to the type
  // the operator takes.
  void Convert(const Node& a, const Node& n) {
    if (IsLogical(n.op)) {
      ToTruth(a);
    } else if (n.operand == Type::kFloat && a.type == Type::kInt) {
      Push(Op::kIntToFloat);
    }
  }

  int32_t ColumnSlot(int column) {
    if (slots_[column] < 0) {
      slots_[column] = static_cast<int>(columns_.size());
      columns_.push_back(column);
    }
    return slots_[column];
  }

  void Emit(int id) {
    const Node& n = nodes_[id];
    switch (n.kind) {
      case NodeKind::kColumn: Push(Op::kColumn, ColumnSlot(n.column)); break;
      case NodeKind::kInt: Push(Op::kConstInt, program_.AddInt(n.int_value)); break;
      case NodeKind::kFloat: Push(Op::kConstFloat, program_.AddFloat(n.float_value)); break;
      case NodeKind::kString: Push(Op::kConstString, program_.AddString(n.str)); break;
      case NodeKind::kNull: Push(Op::kConstNull); break;
      case NodeKind::kUnary: EmitUnary(n); break;
      case NodeKind::kBinary: {
        int leaf;
        const std::vector<int> spine = LeftSpine(id, &leaf);
        Emit(leaf);
        for (auto it = spine.rbegin(); it != spine.rend(); ++it) {
          const Node& op = nodes_[*it];
          Convert(nodes_[op.args[0]], op);
          Emit(op.args[1]);
          Convert(nodes_[op.args[1]], op);
          EmitBinary(op);
        }
        break;
      }
      case NodeKind::kCall: EmitCall(n); break;
      case NodeKind::kIn: EmitIn(n); break;
      case NodeKind::kBetween:
        for (int arg : n.args) EmitAs(arg, n.operand);
        Push(n.operand == Type::kString  ? Op::kBetweenS
             : n.operand == Type::kFloat ? Op::kBetweenF
                                         : Op::kBetweenI);
        if (n.negated) Push(Op::kNot);
        break;
      case NodeKind::kLike: {
        const Node& pattern = nodes_[n.args[1]];
        if (pattern.kind == NodeKind::kNull) {
          // x like null is null: if(is_null(x), null, null), so that x's
          // columns are still the expression's.
          Emit(n.args[0]);
          Push(Op::kIsNull);
          Push(Op::kConstNull);
          Push(Op::kConstNull);
          Push(Op::kIf);
          break;
        }
        Emit(n.args[0]);
        Push(Op::kLike, program_.AddString(pattern.str));
        if (n.negated) Push(Op::kNot);
        break;
      }
    }
  }

  // x in (literals): one op scanning the list's constants; a null in the
  // list turns "no match" into null (SQL), and `not in` negates that.
  void EmitIn(const Node& n) {
    EmitAs(n.args[0], n.operand);
    bool has_null = false;
    int32_t first = -1;
    int32_t count = 0;
    for (size_t k = 1; k < n.args.size(); ++k) {
      Type t;
      int64_t i = 0;
      double f = 0;
      std::string str;
      LiteralValue(n.args[k], &t, &i, &f, &str);
      if (t == Type::kNull) {
        has_null = true;
        continue;
      }
      const int32_t at = n.operand == Type::kString  ? program_.AddString(str)
                         : n.operand == Type::kFloat ? program_.AddFloat(f)
                                                     : program_.AddInt(i);
      if (first < 0) first = at;
      ++count;
    }
    if (first < 0) first = 0;
    Push(n.operand == Type::kString  ? Op::kInS
         : n.operand == Type::kFloat ? Op::kInF
                                     : Op::kInI,
         first, count);
    if (has_null) Push(Op::kUnknownIfFalse);
    if (n.negated) Push(Op::kNot);
  }

  void EmitUnary(const Node& n) {
    const Node& a = nodes_[n.args[0]];
    Emit(n.args[0]);
    switch (n.op) {
      case Operator::kNot:
        ToTruth(a);
        Push(Op::kNot);
        break;
      case Operator::kNeg: Push(n.type == Type::kFloat ? Op::kNegF : Op::kNegI); break;
      default: break;  // unary plus
    }
  }

  void EmitBinary(const Node& n) {
    const bool f = n.operand == Type::kFloat;
    switch (n.op) {
      case Operator::kOr: Push(Op::kOr); return;
      case Operator::kAnd: Push(Op::kAnd); return;
      case Operator::kAdd: Push(f ? Op::kAddF : Op::kAddI); return;
      case Operator::kSub: Push(f ? Op::kSubF : Op::kSubI); return;
      case Operator::kMul: Push(f ? Op::kMulF : Op::kMulI); return;
      case Operator::kDiv: Push(f ? Op::kDivF : Op::kDivI); return;
      case Operator::kMod: Push(f ? Op::kModF : Op::kModI); return;
      default: break;
    }
    Cmp cmp = Cmp::kEq;
    switch (n.op) {
      case Operator::kNe: cmp = Cmp::kNe; break;
      case Operator::kLt: cmp = Cmp::kLt; break;
      case Operator::kLe: cmp = Cmp::kLe; break;
      case Operator::kGt: cmp = Cmp::kGt; break;
      case Operator::kGe: cmp = Cmp::kGe; break;
      default: break;
    }
    const Op op = n.operand == Type::kString ? Op::kCmpS : f ? Op::kCmpF : Op::kCmpI;
    Push(op, static_cast<int32_t>(cmp));
  }

  // Emits a float function of one number.
  void EmitMath(const Node& n, kernels::MathFn fn) {
    EmitAs(n.args[0], Type::kFloat);
    Push(Op::kMathF, static_cast<int32_t>(fn));
  }

  // Emits a function that keeps an int an int (floor, ceil, round, abs,
  // sign): `int_op` for an int (kNop: the value itself), `fn` for a float.
  void EmitIntOrFloat(const Node& n, bool has_int_op, Op int_op, kernels::MathFn fn) {
    Emit(n.args[0]);
    if (n.type == Type::kFloat) {
      Push(Op::kMathF, static_cast<int32_t>(fn));
    } else if (has_int_op) {
      Push(int_op);
    }
  }

  // Emits arguments [first, end) of `n` as its common type, folding each
  // into the one before with `op` (two stack slots however many there are).
  void EmitFold(const Node& n, size_t first, Op op) {
    EmitAs(n.args[first], n.operand);
    for (size_t k = first + 1; k < n.args.size(); ++k) {
      EmitAs(n.args[k], n.operand);
      Push(op);
    }
  }

  static Op ByType(Type t, Op int_op, Op float_op, Op string_op) {
    return t == Type::kString ? string_op : t == Type::kFloat ? float_op : int_op;
  }

  void EmitDatePart(const Node& n, kernels::DatePart part) {
    Emit(n.args[0]);
    Push(Op::kDatePart, static_cast<int32_t>(part));
  }

  void EmitCall(const Node& n) {
    using kernels::DatePart;
    using kernels::MathFn;
    switch (n.function->id) {
      case Function::kIsNull:
        Emit(n.args[0]);
        Push(Op::kIsNull);
        break;
      case Function::kIf:
        Emit(n.args[0]);
        ToTruth(nodes_[n.args[0]]);
        EmitAs(n.args[1], n.operand);
        EmitAs(n.args[2], n.operand);
        Push(Op::kIf);
        break;
      case Function::kIfNull:
      case Function::kCoalesce: EmitFold(n, 0, Op::kIfNull); break;
      case Function::kNullIf:
        EmitFold(n, 0, ByType(n.operand, Op::kNullIfI, Op::kNullIfF, Op::kNullIfS));
        break;
      case Function::kGreatest:
        EmitFold(n, 0, ByType(n.operand, Op::kMaxI, Op::kMaxF, Op::kMaxS));
        break;
      case Function::kLeast:
        EmitFold(n, 0, ByType(n.operand, Op::kMinI, Op::kMinF, Op::kMinS));
        break;
      case Function::kAbs: EmitIntOrFloat(n, true, Op::kAbsI, MathFn::kAbs); break;
      case Function::kSign: EmitIntOrFloat(n, true, Op::kSignI, MathFn::kSign); break;
      case Function::kFloor: EmitIntOrFloat(n, false, Op::kAbsI, MathFn::kFloor); break;
      case Function::kCeil: EmitIntOrFloat(n, false, Op::kAbsI, MathFn::kCeil); break;
      case Function::kRound:
        if (n.args.size() == 1) {
          EmitIntOrFloat(n, false, Op::kAbsI, MathFn::kRound);
        } else {
          Emit(n.args[0]);
          Emit(n.args[1]);
          Push(n.type == Type::kFloat ? Op::kRoundF : Op::kRoundI);
        }
        break;
      case Function::kSqrt: EmitMath(n, MathFn::kSqrt); break;
      case Function::kCbrt: EmitMath(n, MathFn::kCbrt); break;
      case Function::kExp: EmitMath(n, MathFn::kExp); break;
      case Function::kLn: EmitMath(n, MathFn::kLn); break;
      case Function::kLog10: EmitMath(n, MathFn::kLog10); break;
      case Function::kPow:
        EmitAs(n.args[0], Type::kFloat);
        EmitAs(n.args[1], Type::kFloat);
        Push(Op::kPowF);
        break;
      case Function::kMod:
        EmitFold(n, 0, n.operand == Type::kFloat ? Op::kModF : Op::kModI);
        break;
      case Function::kLength:
        Emit(n.args[0]);
        Push(Op::kLength);
        break;
      case Function::kLower:
      case Function::kUpper:
        Emit(n.args[0]);
        Push(Op::kFold, n.function->id == Function::kLower ? kernels::kFoldLower
                                                           : kernels::kFoldUpper);
        break;
      case Function::kSubstr:
        Emit(n.args[0]);
        Emit(n.args[1]);
        if (n.args.size() > 2) {
          Emit(n.args[2]);
        } else {
          Push(Op::kConstInt, program_.AddInt(std::numeric_limits<int64_t>::max()));
        }
        Push(Op::kSubstr);
        break;
      case Function::kYear: EmitDatePart(n, DatePart::kYear); break;
      case Function::kMonth: EmitDatePart(n, DatePart::kMonth); break;
      case Function::kDay: EmitDatePart(n, DatePart::kDay); break;
      case Function::kHour: EmitDatePart(n, DatePart::kHour); break;
      case Function::kMinute: EmitDatePart(n, DatePart::kMinute); break;
      case Function::kSec: EmitDatePart(n, DatePart::kSec); break;
    }
  }

  absl::string_view text_;
  const TableType& type_;
  std::vector<Node> nodes_;
  std::vector<int> slots_;    // table column -> program column, or -1
  std::vector<int> columns_;  // program column -> table column
  Program program_;
  int depth_ = 0;
  int max_depth_ = 0;
};

// An expression compiled up to its use: code without the final conversion,
// the columns it references and the type of its value.
struct Compiled {
  Program program;
  std::vector<int> columns;
  Type type = Type::kNull;
  bool truth = false;
};

absl::StatusOr<Compiled> Compile(absl::string_view text, const TableType& type) {
  if (text.size() > kMaxExpressionLength) {
    return absl::InvalidArgumentError(absl::StrCat("expression is too long (", text.size(),
                                                   " bytes; the limit is ", kMaxExpressionLength,
                                                   ")"));
  }
  absl::StatusOr<std::vector<Token>> tokens = Lexer(text).Run();
  if (!tokens.ok()) return tokens.status();
  if (tokens->size() == 1) return absl::InvalidArgumentError("expression is empty");
  Parser parser(text, type, *std::move(tokens));
  absl::StatusOr<int> root = parser.Run();
  if (!root.ok()) return root.status();
  Compiler compiler(text, type, std::move(parser.nodes()));
  absl::Status s = compiler.Run(*root);
  if (!s.ok()) return s;
  Compiled out;
  out.program = std::move(compiler.program());
  out.columns = compiler.columns();
  out.type = compiler.node(*root).type;
  out.truth = compiler.node(*root).truth;
  return out;
}

}  // namespace

absl::StatusOr<kernels::Program> CompileExpression(absl::string_view text, const TableType& type,
                                                   const std::vector<kernels::ColumnView>& columns,
                                                   ExprUse use) {
  if (columns.size() != type.size()) {
    return absl::InternalError(absl::StrCat("expression compiled against ", columns.size(),
                                            " column views for a table of ", type.size(),
                                            " columns"));
  }
  absl::StatusOr<Compiled> compiled = Compile(text, type);
  if (!compiled.ok()) return compiled.status();
  Program& program = compiled->program;
  const Type t = compiled->type;
  switch (use) {
    case ExprUse::kPredicate:
      if (t == Type::kString) {
        return absl::InvalidArgumentError("expression must be a condition, not a string");
      }
      if (t == Type::kFloat) {
        program.code.push_back(Instr{Op::kTruthF, 0});
      } else if (t == Type::kInt && !compiled->truth) {
        program.code.push_back(Instr{Op::kTruthI, 0});
      }
      program.result = ValueKind::kInt;
      break;
    case ExprUse::kNumber:
      if (t == Type::kString) {
        return absl::InvalidArgumentError("expression must be a number, not a string");
      }
      if (t != Type::kFloat) program.code.push_back(Instr{Op::kIntToFloat, 0});
      program.result = ValueKind::kFloat;
      break;
    case ExprUse::kValue:
      program.result = t == Type::kString  ? ValueKind::kString
                       : t == Type::kFloat ? ValueKind::kFloat
                                           : ValueKind::kInt;
      break;
  }
  for (int c : compiled->columns) program.columns.push_back(columns[c]);
  // The compiler's own guarantee, checked: a kernel evaluates the program
  // without bounds checks.
  if (!kernels::IsWellFormed(program)) {
    return absl::InternalError(absl::StrCat("expression compiled to a malformed program: ", text));
  }
  return std::move(compiled->program);
}

absl::StatusOr<std::vector<std::string>> ReferencedColumns(absl::string_view text,
                                                           const TableType& type) {
  absl::StatusOr<Compiled> compiled = Compile(text, type);
  if (!compiled.ok()) return compiled.status();
  std::vector<std::string> names;
  for (int c : compiled->columns) names.push_back(type.column(c).name);
  return names;
}

}  // namespace engine
