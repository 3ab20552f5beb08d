#pragma once

// Dictionaries of string columns: each row's value as an int32 code into the
// column's distinct values, kept in ascending order, so that codes compare,
// group and sort as the strings do (Kinetica's `dict` columns; DuckDB and
// libcudf encode strings alike). engine::Table keeps one beside a string
// column of few values, for the kernels that work faster on integers: a
// group-by key of strings becomes a key of known bounds
// (GroupOptions::key_bounds), packed with other keys into one word; a sort
// sorts the codes; a filter tests them (RewriteWithCodes).

#include <cstdint>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/expr_program.h"

namespace kernels {

struct Dictionary {
  // The distinct values of the rows, ascending (bytewise), in the column's
  // layout; a null first when some row is null.
  Column values;
  // kInt32, never null: codes[r] is the index of row r's value in `values`.
  Column codes{PhysType::kInt32, 0, false};

  int64_t rows() const { return codes.size(); }
  int64_t count() const { return values.size(); }
};

// Brings `dict` up to date with `column` after rows were appended (as
// ExtendZoneMap does): the codes of rows [0, dict->rows()) are kept when the
// new rows bring no new value, else renumbered (one pass over the codes); the
// new rows are encoded in a pass over them. An empty dictionary (rows 0) is
// built whole. Returns false, `dict` unchanged, when the values would number
// more than max_values (a sample refuses a column of far more before
// grouping it). Throws OutOfMemory, `dict` unchanged.
// REQUIRES: column is kVarChars or kFixedChars; dict->rows() <= column.size,
// and those rows unchanged since it was extended. Synchronizes.
bool ExtendDictionary(const ColumnView& column, int64_t max_values, Dictionary* dict, const Exec& exec);

// Whether `program` tests string column `column` (an index into its column
// table) against constants in a way RewriteWithCodes rewrites.
bool TestsWithConstants(const Program& program, int32_t column);

// Rewrites `program`'s tests of string column `column` against constants
// into tests of `dict`'s codes, added to its column table with the column's
// validity (a null row stays null): `s = 'k'`, `<>`, `<`, `<=`, `>`, `>=`
// (either side), `s between 'a' and 'b'` become integer comparisons, which
// the scan plans run as typed loops; `s in (...)` and `s like 'p'` (the
// pattern matched against each distinct value once) become integer
// in-lists. The same rows come out. Returns how many tests it rewrote; the
// program then reads dict's codes, which must outlive its runs. Reads the
// dictionary's values back (a copy when on a device).
// REQUIRES: dict up to date with the column (its rows are the column's).
int RewriteWithCodes(Program* program, int32_t column, const Dictionary& dict, const Exec& exec);

}  // namespace kernels
