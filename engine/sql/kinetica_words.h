#pragma once

// Kinetica's own words that PostgreSQL's grammar rejects, read before the
// grammar sees a statement and blanked out of it (spaces, so that a syntax
// error's line and column still point into the statement as written):
//
//   SELECT [DISTINCT] TOP n ...        the outermost SELECT's LIMIT n
//   CREATE [OR REPLACE] [REPLICATED] TABLE ...
//                                      a replicated table; OR REPLACE drops
//                                      one of that name first
//   SHARD KEY (a, b)                   an element of CREATE TABLE's list: the
//                                      table's shard key
//   a INTEGER(SHARD_KEY), b VARCHAR(64, DICT)
//                                      column properties beside a type's size
//                                      (names, not numbers, in its parentheses)
//
// KI_HINT comments (/* KI_HINT_... */) are comments to the grammar and are
// accepted and ignored.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace engine::sql {

struct KineticaWords {
  std::string text;  // the statement with those words blanked
  int64_t top = -1;  // SELECT TOP n; -1: none
  bool replicated = false;
  bool or_replace = false;
  std::vector<std::string> shard_key;                          // SHARD KEY (...)
  std::map<std::string, std::vector<std::string>> properties;  // column -> its properties, lower case
};

KineticaWords ReadKineticaWords(absl::string_view statement);

// How deeply a statement may nest: PostgreSQL's parser and the translator
// recurse once per level, and a level costs up to a few hundred bytes of a
// thread's stack (10,000 levels overflowed 8 MiB).
inline constexpr int64_t kMaxNesting = 1000;

// An upper bound on the depth of `statement`'s parse tree, read from its
// tokens: parentheses and CASE ... END open a level; operators (+, ||, NOT,
// LIKE, ::, ...) nest the operand that follows them, up to the next comma,
// AND or OR of their level (items of a list, and the operands of AND and OR,
// which the grammar keeps in one list, are side by side). Also the byte offset of the
// token where the bound is first reached (or passes `limit`).
struct Nesting {
  int64_t depth = 0;
  size_t at = 0;
};
Nesting NestingOf(absl::string_view statement, int64_t limit = kMaxNesting);

}  // namespace engine::sql
