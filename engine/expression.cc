#include "engine/expression.h"

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
    {"and", Tok::kAnd}, {"or", Tok::kOr}, {"not", Tok::kNot}, {"null", Tok::kNull}};

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

enum class NodeKind : uint8_t { kColumn, kInt, kFloat, kString, kNull, kUnary, kBinary, kCall };

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

enum class Function : uint8_t { kIsNull };

struct FunctionInfo {
  const char* name;
  Function id;
  int min_args;
  int max_args;
};

constexpr FunctionInfo kFunctions[] = {
    {"is_null", Function::kIsNull, 1, 1},
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
  std::vector<int> args;                   // operands (kUnary, kBinary) or arguments (kCall)

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
      Operator op = Operator::kOr;
      const Level level = BinaryLevel(Peek().kind, &op);
      if (level == kUnaryLevel || level < min) {
        --depth_;
        return left;
      }
      const size_t pos = Next().pos;
      absl::StatusOr<int> right = ParseExpression(static_cast<Level>(level + 1));
      if (!right.ok()) return right;
      left = AddOperation(op, pos, *left, *right);
      if (level == kComparisonLevel && BinaryLevel(Peek().kind, &op) == kComparisonLevel) {
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
    if (Peek().kind != Tok::kRParen) {
      for (;;) {
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
      const std::string takes = function->min_args == function->max_args
                                    ? absl::StrCat(function->min_args)
                                    : absl::StrCat(function->min_args, " to ", function->max_args);
      return Error(
          name_token.pos,
          absl::StrCat("function '", function->name, "' takes ", takes,
                       function->max_args == 1 ? " argument" : " arguments", ", not ", count));
    }
    const int id = AddNode(NodeKind::kCall, name_token.pos);
    nodes_[id].function = function;
    nodes_[id].args = std::move(args);
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
        for (int arg : n.args) {
          absl::Status s = Check(arg);
          if (!s.ok()) return s;
        }
        return CheckCall(n);
    }
    return absl::OkStatus();
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
    switch (n.function->id) {
      case Function::kIsNull:
        n.type = Type::kInt;
        n.truth = true;
        break;
    }
    return absl::OkStatus();
  }

  // Appends `op`, which changes the stack's depth by `delta`.
  void Push(Op op, int32_t arg, int delta) {
    program_.code.push_back(Instr{op, arg});
    depth_ += delta;
    max_depth_ = std::max(max_depth_, depth_);
  }

  // Turns the value of `n`, on top of the stack, into a truth value.
  void ToTruth(const Node& n) {
    if (n.type == Type::kFloat) {
      Push(Op::kTruthF, 0, 0);
    } else if (n.type == Type::kInt && !n.truth) {
      Push(Op::kTruthI, 0, 0);
    }
  }

  // Brings operand `a` of binary node `n`, on top of the stack, to the type
  // the operator takes.
  void Convert(const Node& a, const Node& n) {
    if (IsLogical(n.op)) {
      ToTruth(a);
    } else if (n.operand == Type::kFloat && a.type == Type::kInt) {
      Push(Op::kIntToFloat, 0, 0);
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
      case NodeKind::kColumn: Push(Op::kColumn, ColumnSlot(n.column), 1); break;
      case NodeKind::kInt: Push(Op::kConstInt, program_.AddInt(n.int_value), 1); break;
      case NodeKind::kFloat: Push(Op::kConstFloat, program_.AddFloat(n.float_value), 1); break;
      case NodeKind::kString: Push(Op::kConstString, program_.AddString(n.str), 1); break;
      case NodeKind::kNull: Push(Op::kConstNull, 0, 1); break;
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
    }
  }

  void EmitUnary(const Node& n) {
    const Node& a = nodes_[n.args[0]];
    Emit(n.args[0]);
    switch (n.op) {
      case Operator::kNot:
        ToTruth(a);
        Push(Op::kNot, 0, 0);
        break;
      case Operator::kNeg: Push(n.type == Type::kFloat ? Op::kNegF : Op::kNegI, 0, 0); break;
      default: break;  // unary plus
    }
  }

  void EmitBinary(const Node& n) {
    const bool f = n.operand == Type::kFloat;
    switch (n.op) {
      case Operator::kOr: Push(Op::kOr, 0, -1); return;
      case Operator::kAnd: Push(Op::kAnd, 0, -1); return;
      case Operator::kAdd: Push(f ? Op::kAddF : Op::kAddI, 0, -1); return;
      case Operator::kSub: Push(f ? Op::kSubF : Op::kSubI, 0, -1); return;
      case Operator::kMul: Push(f ? Op::kMulF : Op::kMulI, 0, -1); return;
      case Operator::kDiv: Push(f ? Op::kDivF : Op::kDivI, 0, -1); return;
      case Operator::kMod: Push(f ? Op::kModF : Op::kModI, 0, -1); return;
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
    Push(op, static_cast<int32_t>(cmp), -1);
  }

  void EmitCall(const Node& n) {
    switch (n.function->id) {
      case Function::kIsNull:
        Emit(n.args[0]);
        Push(Op::kIsNull, 0, 0);
        break;
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
