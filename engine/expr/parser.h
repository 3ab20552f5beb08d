#pragma once

// The expression language's front end (expression.h): text to syntax tree.
// The parser binds names as it goes: column names to the columns of the
// table, function names to the language's functions (with their arity).

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/expr/syntax.h"
#include "engine/table/types.h"

namespace engine::expr {

// Parses `text` (lexer.h) into a tree whose columns are columns of `type`.
// Every node of the tree is nested at most kMaxExpressionNesting deep, but
// for the left spines of binary operator chains (syntax.h); its literals in
// an `in` list are literals (numbers, signed or not, strings, null) and its
// `like` patterns a string or null.
//
// Errors are CompileExpression's (expression.h) but for type errors and
// "expression is too complex": "expression is too long (...)", "expression
// is empty", the lexer's, and "<problem> at position N" (ErrorAt), e.g.
// "unexpected ')'", "expected ',' or ')'", "expression is nested too deeply",
// "comparisons cannot be chained", "integer is out of range", "unknown
// column 'x'", "ambiguous column 'x'", "unknown function 'f'", "function 'f'
// takes 2 arguments, not 1".
absl::StatusOr<SyntaxTree> Parse(absl::string_view text, const TableType& type);

}  // namespace engine::expr
