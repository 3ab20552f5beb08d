#include "engine/expr/parser.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/expr/expression.h"
#include "engine/expr/lexer.h"

namespace engine::expr {
namespace {

constexpr uint64_t kInt64Max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());

// A name as quoted in a message, cut short when long.
std::string Quoted(absl::string_view name) {
  constexpr size_t kMax = 64;
  if (name.size() <= kMax) return absl::StrCat("'", name, "'");
  return absl::StrCat("'", name.substr(0, kMax), "...'");
}

// The language's functions; names match in any case.
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
    {"long", Function::kLong, 1, 1},
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

  // The rest of `left [not] in (...)`, `left [not] between lo and hi` or
  // `left [not] like 'pattern'`, from the next token (`not` or the keyword).
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
    if (index < 0) {
      // A name the column's qualified name ends with (alias.column as
      // column, or view.alias.column as alias.column), when one column's does.
      for (size_t i = 0; i < type_.size(); ++i) {
        const std::string& column = type_.column(i).name;
        if (column.size() <= name.size() + 1 || column[column.size() - name.size() - 1] != '.' ||
            !absl::EqualsIgnoreCase(absl::string_view(column).substr(column.size() - name.size()), name)) {
          continue;
        }
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

}  // namespace

absl::StatusOr<SyntaxTree> Parse(absl::string_view text, const TableType& type) {
  if (text.size() > kMaxExpressionLength) {
    return absl::InvalidArgumentError(absl::StrCat("expression is too long (", text.size(),
                                                   " bytes; the limit is ", kMaxExpressionLength,
                                                   ")"));
  }
  absl::StatusOr<std::vector<Token>> tokens = Lex(text);
  if (!tokens.ok()) return tokens.status();
  if (tokens->size() == 1) return absl::InvalidArgumentError("expression is empty");
  Parser parser(text, type, *std::move(tokens));
  absl::StatusOr<int> root = parser.Run();
  if (!root.ok()) return root.status();
  SyntaxTree tree;
  tree.nodes = std::move(parser.nodes());
  tree.root = *root;
  return tree;
}

}  // namespace engine::expr
