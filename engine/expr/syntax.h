#pragma once

// The syntax tree of an expression (expression.h): what the parser
// (parser.h) builds and the compiler type-checks and turns into code.
//
// The nodes live in one vector, children by index. Binary operators are
// left-associative, so a long chain (a or b or c ...) is a deep left spine:
// whoever walks the tree walks such spines in loops; any other recursion over
// it is bounded by kMaxExpressionNesting, which the parser enforces.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace engine::expr {

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

inline bool IsLogical(Operator op) { return op == Operator::kOr || op == Operator::kAnd; }
inline bool IsComparison(Operator op) { return op >= Operator::kEq && op <= Operator::kGe; }

// The symbol of an arithmetic operator, for messages ("" for the others).
inline const char* OperatorText(Operator op) {
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
  kLong,
};

constexpr int kAnyNumber = std::numeric_limits<int>::max();

// A function as the language names it (the parser's table holds them all).
struct FunctionInfo {
  const char* name;
  Function id;
  int min_args;
  int max_args;  // kAnyNumber: no limit
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

// A parsed expression: its nodes and the index of the root among them.
struct SyntaxTree {
  std::vector<Node> nodes;
  int root = -1;
};

}  // namespace engine::expr
