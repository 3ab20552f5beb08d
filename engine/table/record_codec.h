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

// Appends the rows of `records` (a JSON array of binary values or a packed
// byte list, engine/api/json.h; each item one Avro record) to `columns`. On
// error nothing is guaranteed about `columns`; the message names the record
// and column, e.g. "list[3]: column 'x': data ends inside a number at byte 2".
// Only records [begin, end) are decoded (end is capped to the list's size);
// to decode a long list in chunks, AvroRecordsDecoder reads it once.
absl::Status DecodeAvroRecords(const TableType& type, const Json& records,
                               const DecodeOptions& options, std::vector<HostColumn>* columns,
                               size_t begin = 0, size_t end = SIZE_MAX);

// Decodes a list of Avro records of `type` (as DecodeAvroRecords takes it)
// into host columns, a chunk of records at a time, from the first record to
// the last. Records are read by a loop over the columns that writes each
// value straight into its column's storage, sized once per chunk; a record
// that fails is read again by DecodeAvroRecord, whose message is the error.
class AvroRecordsDecoder {
 public:
  // REQUIRES: `type` and `records` outlive the decoder.
  AvroRecordsDecoder(const TableType& type, const Json& records, const DecodeOptions& options);
  AvroRecordsDecoder(const TableType& type, Json&& records, const DecodeOptions& options) = delete;

  size_t size() const { return records_.size(); }       // records in the list
  size_t decoded() const { return records_.index(); }   // records read so far

  // Passes over the next `n` records (fewer at the end) without decoding them.
  absl::Status Skip(size_t n);
  // Decodes the next `n` records (fewer at the end) and appends their rows to
  // `columns` (MakeHostColumns(type), maybe with rows already). Errors as
  // DecodeAvroRecords'; after one, nothing is guaranteed about `columns`.
  absl::Status Next(size_t n, std::vector<HostColumn>* columns);

 private:
  absl::Status Failed(size_t index, absl::string_view record) const;

  const TableType& type_;
  DecodeOptions options_;
  BytesListReader records_;
  std::vector<absl::string_view> chunk_;  // the records of the chunk being decoded
};

// Decodes one Avro record (`bytes`, item `index` of the list) value by value
// through AvroReader, appending a row to `columns`: the reference the loop
// of AvroRecordsDecoder is tested against, and the source of its errors.
absl::Status DecodeAvroRecord(const TableType& type, const DecodeOptions& options, size_t index,
                              absl::string_view bytes, std::vector<HostColumn>* columns);

// Appends the rows of `records` (a JSON array of strings, each a JSON object)
// to `columns`. Errors name the record and the column, e.g.
// "list_str[0]: column 'x': expected int, got string".
absl::Status DecodeJsonRecords(const TableType& type, const Json& records,
                               const DecodeOptions& options, std::vector<HostColumn>* columns,
                               size_t begin = 0, size_t end = SIZE_MAX);

// Appends one value given as JSON (null, a number, a boolean, a string) to
// `column` of `def`, or says what is wrong with it ("expected integer, got
// string", "null in a column that is not nullable", a range or length).
absl::Status DecodeJsonValue(const ColumnDef& def, const DecodeOptions& options, const Json& v, HostColumn* column);

// Row `row` of `columns` as one Avro record.
std::string EncodeAvroRecord(const TableType& type, const std::vector<HostColumn>& columns, int64_t row);

// Row `row` of `columns` as a JSON object.
Json RecordToJson(const TableType& type, const std::vector<HostColumn>& columns, int64_t row);

// Value of row `row` of `column` as JSON (null, number or string; bytes as a
// binary value).
Json ValueToJson(const ColumnDef& def, const HostColumn& column, int64_t row);

}  // namespace engine
