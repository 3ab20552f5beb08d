#pragma once

// Pieces of expression text that requests carry around expressions: lists
// split at their top level, "expr as alias", sort keys, and literals.

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace engine {

// Calls fn(i, depth) for each character text[i] outside quoted strings
// (quotes themselves excluded), `depth` being how many parentheses are open
// before it (a '(' is at the depth outside it, its ')' at the same depth + 1).
// fn returns false to stop.
void ScanTopLevel(absl::string_view text, const std::function<bool(size_t i, int depth)>& fn);

// Splits `text` at top-level occurrences of `sep` (outside quotes and
// parentheses), trimming each piece; empty pieces are kept.
std::vector<std::string> SplitTopLevel(absl::string_view text, char sep);

// `text` trimmed and without parentheses around the whole of it:
// "((a = b))" -> "a = b"; "(a) + (b)" stays.
absl::string_view WithoutOuterParens(absl::string_view text);

// The parts of `text` joined by top-level "and" (any case), each without
// outer parentheses; empty parts dropped.
std::vector<std::string> Conjuncts(absl::string_view text);
// The same for top-level "or".
std::vector<std::string> Disjuncts(absl::string_view text);

// "expr as alias" → {expr, alias}; {text, ""} without an alias. The alias is
// the last top-level " as " (any case). InvalidArgument names `field` when
// the alias is not a name (letters, digits, '_'; or qualified, alias.name).
struct Aliased {
  std::string expr;
  std::string alias;
};
absl::StatusOr<Aliased> SplitAlias(absl::string_view text, absl::string_view field);

// One key of a sort: an expression and its direction.
struct OrderKey {
  std::string expr;
  bool descending = false;
};

// Parses "a asc, b desc, c" (asc is the default). InvalidArgument names
// `field` for an empty key.
absl::StatusOr<std::vector<OrderKey>> ParseOrderBy(absl::string_view text, absl::string_view field);

// A double as a literal that reads back exactly ("%.17g").
std::string NumberLiteral(double v);
// A string as a quoted literal ('it''s').
std::string StringLiteral(absl::string_view v);

}  // namespace engine
