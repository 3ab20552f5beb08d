#pragma once

// Columns a read endpoint computes on a device (group-by, unique, computed
// columns), kept there until a page of them is encoded as the dynamic-schema
// response of spec §5: `response_schema_str` (an Avro record
// "generic_response" with fields column_1..column_N, each an array of the
// column's type, then column_headers and column_datatypes) and the record
// itself, Avro-encoded (`binary_encoded_response`) or as JSON text
// (`json_encoded_response`).

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/api/json.h"
#include "engine/table/types.h"
#include "kernels/column.h"
#include "kernels/expr_program.h"

namespace engine {

struct ResultColumn {
  std::string header;  // its entry in column_headers
  // Its type (kind, charN width, nullable) and the name expressions over the
  // result (having, order_by) use for it.
  ColumnDef def;
  kernels::Column values;
};

class ResultTable {
 public:
  ResultTable() = default;
  explicit ResultTable(std::vector<ResultColumn> columns) : columns_(std::move(columns)) {}

  const std::vector<ResultColumn>& columns() const { return columns_; }
  std::vector<ResultColumn> TakeColumns() && { return std::move(columns_); }
  int64_t rows() const { return columns_.empty() ? 0 : columns_[0].values.size(); }
  // The columns as a table type and their device views, to compile and run
  // expressions over the result.
  TableType type() const;
  std::vector<kernels::ColumnView> views() const;

  // Keeps only the rows at `indices` (device int64[n]), in that order.
  void Keep(const int64_t* indices, int64_t n, const kernels::Exec& exec);

  // The dynamic-schema fields for rows [begin, end): response_schema_str,
  // binary_encoded_response (when `encoding` is binary) and
  // json_encoded_response (when json).
  Json Encode(int64_t begin, int64_t end, absl::string_view encoding, const kernels::Exec& exec) const;

 private:
  std::vector<ResultColumn> columns_;
};

// The ColumnDef of a column a kernel produced with `layout` from a column
// defined as `source`: the same definition for copies and min/max;
// callers pass a long, double or string definition for computed values.
ColumnDef ResultDef(const ColumnDef& source, std::string name, bool nullable);

// A definition for an expression's value: long, double or string.
ColumnDef ValueDef(kernels::ValueKind kind, std::string name, bool nullable);

}  // namespace engine
