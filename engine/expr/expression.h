#pragma once

// The expression compiler (spec §6): parses an expression over the columns of
// a table, type-checks it and emits the stack program that kernels evaluate
// once per row (kernels/expr_program.h).
//
// Language:
//   literals    integers, decimal or hex (0x1F): int64; decimals (3.5, 1e3,
//               .5): double; strings in single or double quotes, a doubled
//               quote inside standing for one; null.
//   names       column names, matched exactly, else by a unique
//               case-insensitive match. A qualified name (alias.column) is
//               one name; a join's columns are so named, and a name
//               matches the one column whose qualified name ends with
//               it after a dot (x or a.x for v.a.x). Keywords (and, or, not, null, in,
//               between, like, is) and function names are case-insensitive;
//               a keyword is never a column name.
//   operators   lowest to highest precedence: or; and; not !; the comparisons
//               = == != <> < <= > >=, [not] in, [not] between, [not] like,
//               is [not] null (not chained); + -; * / %; unary - +.
//     x is null             is_null(x); x is not null: not is_null(x).
//     x in (v, ...)         the list holds literals only (numbers, signed or
//                           not, strings, null); true when x equals one;
//                           else null when x or a list item is null, else
//                           false. x not in (...) is not (x in (...)).
//     x between a and b     x >= a and x <= b, x evaluated once; a and b are
//                           sums (they bind tighter than and).
//     s like 'pattern'      % matches any run of bytes, _ any one byte, all
//                           else itself; no escapes. The pattern is a string
//                           literal (or null: the result is null).
//                           Case-sensitive unless s is folded (lower/upper).
//   functions   (numbers: int or float; null fits any argument)
//     is_null(x)            1 when x is null, else 0; never null.
//     if(c, a, b)           a when c is true (non-null, non-zero), else b.
//     ifnull(x, d), nvl(x, d), coalesce(a, ...)   the first non-null.
//     nullif(a, b)          null when a = b, else a.
//     greatest(a, ...), least(a, ...)   nulls skipped; null when all are.
//     abs, sign, floor, ceil, round(x), round(x, d)   an int stays an int
//                           (round to d < 0 digits rounds to tens...; half
//                           away from zero; d is an int).
//     sqrt, cbrt, exp, ln, log10, pow(x, y)   float.
//     mod(a, b)             a % b.
//     length(s)             bytes; lower(s), upper(s): ASCII letters only,
//                           a view of s read through a fold (no copy).
//     substr(s, start[, len])   bytes [start, start + len) of s, 1-based,
//                           clipped to the string (start < 1 counts from
//                           before it; len < 0 gives ''); len omitted: to the
//                           end; start and len are ints.
//     year, month, day, hour, minute, sec (of an int: ms since 1970-01-01
//                           UTC, a timestamp column; proleptic Gregorian,
//                           negative before 1970): ints.
//   types       if, ifnull/nvl, coalesce, nullif, greatest and least take
//               their arguments' common type: int with int is int, int with
//               float float, string with string string; a string with a
//               number is an error.
// Int with int gives int (/ is integer division; arithmetic wraps); a float
// on either side makes the operation float. Strings compare with strings
// only, bytewise (after their fold). Domain errors give null: x / 0, x % 0,
// mod(x, 0), sqrt of a negative, ln and log10 of x <= 0, pow(0, negative)
// and pow giving NaN (pow(-8, 1/3)); overflow to infinity stays. An
// operation on null is null unless said otherwise; a comparison with null is
// null, which a filter treats as not true; and, or and not follow SQL's
// three-valued logic, any non-zero number being true.
//
// An expression compiles to one program evaluated once per row in a single
// fused pass (kernels/expr_program.h): every operand is computed, so both arms of
// if() are evaluated; variadic functions fold pairwise and keep the stack at
// two slots whatever their arity.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/table/types.h"
#include "kernels/column.h"
#include "kernels/expr_program.h"

namespace engine {

// How the value of an expression is used.
enum class ExprUse {
  kPredicate,  // a filter: result is an int truth value (kernels::EvaluatePredicate)
  kNumber,     // a numeric value, result coerced to float (ValueKind::kFloat)
  kValue,      // any value, of its natural kind (int, float or string)
};

// Longest expression text accepted, in bytes: room for an IN list of
// 100,000 values (SQL's IN subqueries are read back as one).
constexpr size_t kMaxExpressionLength = 4 * 1024 * 1024;

// Deepest nesting of sub-expressions accepted: each parenthesis, function
// call and prefix operator opens a level, and so does the operand of a binary
// operator that binds tighter than the one before it (in a or b and c, b and
// c are one level down). Long chains (a or b or c ...) do not nest.
constexpr int kMaxExpressionNesting = 200;

// Compiles `text` against the columns of `type`. `columns[i]` is the device
// view of column i of the table (same order as type.columns()); the program's
// column table (Program::columns) holds only the columns the expression
// references, in order of first reference, and kColumn instructions index
// into it. The program's stack never grows past kernels::kMaxStackDepth.
// REQUIRES: columns.size() == type.size() (else an Internal error).
//
// Errors are InvalidArgument, "<problem> at position N" where N is the
// 1-based character position of the offending token (for an argument, where
// the argument begins), e.g.
//   "unknown column 'foo' at position 7"
//   "expected ')' at position 12"
//   "cannot compare string with number at position 3"
//   "unknown function 'foo' at position 1"
//   "function 'pow' takes 2 arguments, not 1 at position 1"
//   "function 'coalesce' takes at least 1 argument, not 0 at position 1"
//   "argument 1 of 'sqrt' must be a number, not a string at position 6"
//   "argument 2 of 'substr' must be an int, not a float at position 11"
//   "argument 1 of 'year' must be a timestamp, not a float at position 6"
//   "cannot mix number and string in 'if' at position 14"
//   "expected a literal in the 'in' list at position 7"
//   "expected a string literal as the 'like' pattern at position 8"
//   "cannot use 'like' on a number at position 3"
//   "expected 'and' at position 12"
// and, without a position, "expression is empty", "expression is too long
// (...)", "expression is too complex" (it needs a deeper stack than the VM
// has) and, per `use`, "expression must be a condition, not a string" or
// "expression must be a number, not a string". The caller prefixes the field
// name (e.g. "expression: ...").
absl::StatusOr<kernels::Program> CompileExpression(absl::string_view text, const TableType& type,
                                                   const std::vector<kernels::ColumnView>& columns,
                                                   ExprUse use);

// Names of the columns `text` references, each once, in order of first
// reference (for planning), or the errors CompileExpression gives for any use
// (the use-specific ones aside).
absl::StatusOr<std::vector<std::string>> ReferencedColumns(absl::string_view text,
                                                           const TableType& type);

}  // namespace engine
