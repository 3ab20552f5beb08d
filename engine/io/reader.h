#pragma once

// Reading records from delimited text (CSV, TSV, ...), JSON and Parquet into
// the host columns of a table type, as Kinetica's /insert/records/frompayload
// and /insert/records/fromfiles read them. Delimited text and Parquet are read
// by Apache Arrow's readers; JSON by nlohmann/json. No Arrow type appears in
// this header (it is included by C++17 code; engine/io itself builds at
// C++20).
//
// Records that cannot be loaded (a value that does not fit its column, a row
// with the wrong number of fields, a null in a non-nullable column) are bad
// records. Each is named by its place in the input: "line N" for delimited
// text and JSON lines (physical lines, 1-based, header and comments counted),
// "record N" for a JSON array and Parquet (1-based). OnError says what a bad
// record does: abort the read, or skip it (it is then listed in
// Records::bad).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/table/host_column.h"
#include "engine/table/types.h"

namespace engine::io {

enum class FileFormat { kDelimitedText, kJson, kParquet };

// The shape of delimited text (Kinetica's text_* options).
struct TextFormat {
  char delimiter = ',';
  bool has_header = true;
  bool quoting = true;  // false: no quote character
  char quote = '"';     // doubled inside a quoted value stands for itself
  bool escaping = false;
  char escape = '\\';
  // A field equal to it (unquoted) is null. An unquoted empty field is null
  // in a column of any type but a non-nullable string column, where it is "".
  std::string null_string = "\\N";
  // Lines starting with it are skipped (empty: none).
  std::string comment = "#";
  // Lines skipped at the start, before the header.
  int64_t skip_lines = 0;
  // Splits a header field "name|type|property..." (Kinetica's header with
  // column types); a table created from the data takes those types.
  char header_property_delimiter = '|';
};

enum class OnError {
  kAbort,       // the first bad record fails the read
  kSkip,        // bad records are skipped
  kPermissive,  // as kSkip, but a delimited row with too few fields gets nulls
};

struct ReadOptions {
  FileFormat format = FileFormat::kDelimitedText;
  TextFormat text;
  OnError on_error = OnError::kAbort;
  // Kinetica's columns_to_load: entry i names the source column of target
  // column i: a 1-based number, a range "2..4" (or "4..2"), a name, or empty
  // (null). Mutually exclusive with columns_to_skip (source columns left out;
  // numbers or names).
  std::vector<std::string> columns_to_load;
  std::vector<std::string> columns_to_skip;
  // Cut strings longer than a charN column (at a UTF-8 character boundary)
  // instead of rejecting the record.
  bool truncate_strings = false;
  // Stop after this many loaded records; -1: no limit.
  int64_t max_records = -1;
  // Records per batch handed to the columns (and between progress reports).
  int64_t batch_size = 50000;
  // For error messages: what the input is ("data_text", "data/trips.csv").
  std::string source_name = "data";
};

// One record skipped as bad.
struct BadRecord {
  int64_t line = 0;   // its line or record number (see above)
  std::string text;   // the record as it was read (its fields rejoined)
  std::string error;  // what is wrong, e.g. "column 'x': 'abc' is not a valid int"
};

// What a read produced. Reads append: several inputs may be read into one
// Records (the first one fixes the type when it is inferred).
struct Records {
  TableType type;                   // the target type, or the inferred one
  bool has_type = false;            // false until a type is set or inferred
  std::vector<HostColumn> columns;  // one per column of `type`
  int64_t rows = 0;
  int64_t skipped = 0;         // bad records skipped
  std::vector<BadRecord> bad;  // the first `max_bad` of them
  int64_t max_bad = 10000;
};

// Records for the table type `type` (empty columns).
Records RecordsOf(const TableType& type);

// Bytes to read: a payload or a mapped file. `keep` holds what `bytes`
// points into (null when the caller keeps it alive).
struct Input {
  absl::string_view bytes;
  std::shared_ptr<const void> keep;
};

// Reports progress: `done` of `total` (any unit); a non-OK status (a cancel,
// a deadline) stops the read and is returned.
using Progress = std::function<absl::Status(int64_t done, int64_t total)>;

// Reads `input` into `out`. When out->has_type is false the type is inferred
// from the data (Kinetica's "accuracy" inference: every record is scanned;
// integers become int or long, reals double, true/false boolean, ISO dates
// and times timestamp, text charN sized to the longest value (string past
// 256 bytes); a column with a null is nullable), or taken from a header with
// column types. Errors: InvalidArgument naming options.source_name, the
// record and the column ("data_text: line 3: column 'x': 'abc' is not a
// valid int") for a bad record in kAbort mode, or the problem with the
// input or the options (an unreadable file, a column named in
// columns_to_load that the data lacks, a table column the data does not
// feed). On error `out` may hold part of the records; callers discard it.
absl::Status ReadRecords(const Input& input, const ReadOptions& options, const Progress& progress, Records* out);

// The format a name suggests: ".parquet" → Parquet, ".json"/".jsonl" → JSON,
// else delimited text; the delimiter a name suggests: '\t' for ".tsv", '|'
// for ".psv", else ','.
FileFormat FormatOfName(absl::string_view name);
char DelimiterOfName(absl::string_view name);

// Whether `bytes` start like a Parquet file ("PAR1").
bool LooksLikeParquet(absl::string_view bytes);

}  // namespace engine::io
