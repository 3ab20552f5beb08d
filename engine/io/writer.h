#pragma once

// Writing rows of host columns as delimited text or Parquet, with Apache
// Arrow's CSV and Parquet writers (/export/records/tofiles). Rows are handed
// over in batches; the output is complete once Close() returns OK.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/reader.h"
#include "engine/table/host_column.h"
#include "engine/table/types.h"

namespace engine::io {

struct WriteOptions {
  FileFormat format = FileFormat::kDelimitedText;  // kDelimitedText or kParquet
  // Delimited text:
  char delimiter = ',';
  bool header = true;
  std::string null_string = "\\N";
  // The header as Kinetica's "name|type|property..." fields, which a load
  // into a new table reads back as the column types (TextFormat); delimited
  // text only.
  bool typed_header = false;
  char typed_header_delimiter = '|';
  // Parquet: "snappy" (the default), "gzip" or "uncompressed".
  std::string compression = "snappy";
};

class RecordWriter {
 public:
  // A writer of rows of `type` to the open file `fd` (which it closes), or,
  // with fd = -1, to memory (Close() then returns the bytes). Errors:
  // InvalidArgument for options that do not apply (a format other than
  // text or Parquet, an unknown compression).
  static absl::StatusOr<std::unique_ptr<RecordWriter>> Open(const TableType& type, const WriteOptions& options, int fd);
  virtual ~RecordWriter() = default;

  // Writes the rows of `columns` (one per column of the type, in order).
  virtual absl::Status Write(const std::vector<HostColumn>& columns) = 0;
  // Finishes the output; in memory, the bytes written.
  virtual absl::StatusOr<std::string> Close() = 0;
};

}  // namespace engine::io
