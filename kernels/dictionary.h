#pragma once

// Dictionaries of string columns: each row's value as an int32 code into the
// column's distinct values, kept in ascending order, so that codes compare,
// group and sort as the strings do (Kinetica's `dict` columns; DuckDB and
// libcudf encode strings alike). engine::Table keeps one beside a string
// column of few values, for the kernels that work faster on integers: a
// group-by key of strings becomes a key of known bounds
// (GroupOptions::key_bounds), packed with other keys into one word.

#include <cstdint>

#include "kernels/backend.h"
#include "kernels/column.h"

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

}  // namespace kernels
