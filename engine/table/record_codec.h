#pragma once

// Records of a table type in the two encodings of /insert/records and
// /get/records (spec §3, §7): binary = one Avro record per row, fields in type
// order, nullable columns as the union [value, null]; json = one JSON object
// per row, keyed by column name.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "engine/table/host_column.h"
#include "engine/api/json.h"
#include "engine/table/types.h"

namespace engine {

// Empty host columns for `type`, in column order.
std::vector<HostColumn> MakeHostColumns(const TableType& type);

struct DecodeOptions {
  // Cut strings longer than a charN column (at a UTF-8 character boundary)
  // instead of refusing the record.
  bool truncate_strings = false;
};

// Appends the rows of `records` (a JSON array of binary values, each one Avro
// record) to `columns`. On error nothing is guaranteed about `columns`; the
// message names the record and column, e.g.
// "list[3]: column 'x': data ends inside a number at byte 2".
// Only records [begin, end) are decoded (end is capped to the list's size),
// so a caller can decode a long list in chunks.
absl::Status DecodeAvroRecords(const TableType& type, const Json& records,
                               const DecodeOptions& options, std::vector<HostColumn>* columns,
                               size_t begin = 0, size_t end = SIZE_MAX);

// Appends the rows of `records` (a JSON array of strings, each a JSON object)
// to `columns`. Errors name the record and the column, e.g.
// "list_str[0]: column 'x': expected int, got string".
absl::Status DecodeJsonRecords(const TableType& type, const Json& records,
                               const DecodeOptions& options, std::vector<HostColumn>* columns,
                               size_t begin = 0, size_t end = SIZE_MAX);

// Row `row` of `columns` as one Avro record.
std::string EncodeAvroRecord(const TableType& type, const std::vector<HostColumn>& columns, int64_t row);

// Row `row` of `columns` as a JSON object.
Json RecordToJson(const TableType& type, const std::vector<HostColumn>& columns, int64_t row);

// Value of row `row` of `column` as JSON (null, number or string; bytes as a
// binary value).
Json ValueToJson(const ColumnDef& def, const HostColumn& column, int64_t row);

}  // namespace engine
