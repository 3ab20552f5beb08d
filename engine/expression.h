#pragma once

// The expression compiler (spec §6): parses an expression over the columns of
// a table, type-checks it and emits the stack program that kernels evaluate
// once per row (kernels/expr_vm.h).
//
// Language:
//   literals    integers, decimal or hex (0x1F): int64; decimals (3.5, 1e3,
//               .5): double; strings in single or double quotes, a doubled
//               quote inside standing for one; null.
//   names       column names, matched exactly, else by a unique
//               case-insensitive match. Keywords (and, or, not, null) and
//               function names are case-insensitive.
//   operators   lowest to highest precedence: or; and; not !; the comparisons
//               = == != <> < <= > >= (not chained); + -; * / %; unary - +.
//   functions   is_null(x): 1 when x is null, else 0; never null.
// Int with int gives int (/ is integer division); a float on either side
// makes the operation float. Strings compare with strings only, bytewise.
// x / 0 and x % 0 are null; an operation on null is null; a comparison with
// null is null, which a filter treats as not true; and, or and not follow
// SQL's three-valued logic, any non-zero number being true.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/types.h"
#include "kernels/column.h"
#include "kernels/expr_vm.h"

namespace engine {

// How the value of an expression is used.
enum class ExprUse {
  kPredicate,  // a filter: result is an int truth value (kernels::EvaluatePredicate)
  kNumber,     // a numeric value, result coerced to float (ValueKind::kFloat)
  kValue,      // any value, of its natural kind (int, float or string)
};

// Longest expression text accepted, in bytes.
constexpr size_t kMaxExpressionLength = 64 * 1024;

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
// 1-based character position of the offending token, e.g.
//   "unknown column 'foo' at position 7"
//   "expected ')' at position 12"
//   "cannot compare string with number at position 3"
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
