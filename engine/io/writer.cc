#include "engine/io/writer.h"

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "arrow/csv/writer.h"
#include "arrow/io/file.h"
#include "arrow/io/memory.h"
#include "arrow/ipc/writer.h"
#include "engine/io/arrow_columns.h"
#include "parquet/arrow/writer.h"
#include "parquet/properties.h"

namespace engine::io {
namespace {

using detail::FromArrow;

// The Arrow schema rows of `type` are written with; a typed header names
// each column "name|type|property..." (the properties as declared).
std::shared_ptr<arrow::Schema> SchemaOf(const TableType& type, const WriteOptions& options) {
  std::vector<std::shared_ptr<arrow::Field>> fields;
  for (const ColumnDef& def : type.columns()) {
    std::string name = def.name;
    if (options.typed_header && options.format == FileFormat::kDelimitedText) {
      std::vector<std::string> parts{def.name, def.avro_type()};
      parts.insert(parts.end(), def.properties.begin(), def.properties.end());
      name = absl::StrJoin(parts, std::string(1, options.typed_header_delimiter));
    }
    fields.push_back(arrow::field(name, detail::ArrowTypeOf(def), def.nullable));
  }
  return arrow::schema(fields);
}

class Writer final : public RecordWriter {
 public:
  Writer(TableType type, std::shared_ptr<arrow::io::OutputStream> sink,
         std::shared_ptr<arrow::io::BufferOutputStream> memory)
      : type_(std::move(type)), sink_(std::move(sink)), memory_(std::move(memory)) {}

  absl::Status Start(const WriteOptions& options) {
    auto schema = SchemaOf(type_, options);
    if (options.format == FileFormat::kParquet) {
      parquet::WriterProperties::Builder builder;
      if (options.compression == "snappy")
        builder.compression(arrow::Compression::SNAPPY);
      else if (options.compression == "gzip")
        builder.compression(arrow::Compression::GZIP);
      else
        builder.compression(arrow::Compression::UNCOMPRESSED);
      auto writer = parquet::arrow::FileWriter::Open(*schema, arrow::default_memory_pool(), sink_, builder.build(),
                                                     parquet::ArrowWriterProperties::Builder().store_schema()->build());
      if (!writer.ok()) return FromArrow(writer.status(), "export");
      parquet_ = *std::move(writer);
      return absl::OkStatus();
    }
    auto csv = arrow::csv::WriteOptions::Defaults();
    csv.include_header = options.header;
    csv.delimiter = options.delimiter;
    csv.null_string = options.null_string;
    csv.batch_size = 1 << 16;
    auto writer = arrow::csv::MakeCSVWriter(sink_, schema, csv);
    if (!writer.ok()) return FromArrow(writer.status(), "export");
    csv_ = *std::move(writer);
    schema_ = schema;
    return absl::OkStatus();
  }

  absl::Status Write(const std::vector<HostColumn>& columns) override {
    if (columns.empty() || columns[0].size == 0) return absl::OkStatus();
    std::vector<std::shared_ptr<arrow::Array>> arrays;
    for (size_t c = 0; c < type_.size(); ++c) {
      auto array = detail::ToArrow(type_.column(c), columns[c]);
      if (!array.ok()) return array.status();
      arrays.push_back(*std::move(array));
    }
    if (parquet_ != nullptr) {
      auto batch = arrow::RecordBatch::Make(parquet_->schema(), columns[0].size, arrays);
      return FromArrow(parquet_->WriteRecordBatch(*batch), "export");
    }
    auto batch = arrow::RecordBatch::Make(schema_, columns[0].size, arrays);
    return FromArrow(csv_->WriteRecordBatch(*batch), "export");
  }

  absl::StatusOr<std::string> Close() override {
    arrow::Status st = parquet_ != nullptr ? parquet_->Close() : csv_->Close();
    if (st.ok()) st = sink_->Close();
    if (!st.ok()) return FromArrow(st, "export");
    if (memory_ == nullptr) return std::string();
    auto buffer = memory_->Finish();
    if (!buffer.ok()) return FromArrow(buffer.status(), "export");
    return (*buffer)->ToString();
  }

 private:
  const TableType type_;
  std::shared_ptr<arrow::io::OutputStream> sink_;
  std::shared_ptr<arrow::io::BufferOutputStream> memory_;
  std::shared_ptr<arrow::Schema> schema_;
  std::unique_ptr<parquet::arrow::FileWriter> parquet_;
  std::shared_ptr<arrow::ipc::RecordBatchWriter> csv_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RecordWriter>> RecordWriter::Open(const TableType& type, const WriteOptions& options,
                                                                 int fd) {
  auto close_fd = [fd] {
    if (fd >= 0) ::close(fd);
  };
  if (options.format != FileFormat::kDelimitedText && options.format != FileFormat::kParquet) {
    close_fd();
    return absl::InvalidArgumentError("options.file_type: records are exported as delimited_text or parquet");
  }
  if (options.format == FileFormat::kParquet && options.compression != "snappy" && options.compression != "gzip" &&
      options.compression != "uncompressed") {
    close_fd();
    return absl::InvalidArgumentError(absl::StrCat(
        "options.compression_type: expected uncompressed, snappy or gzip, got '", options.compression, "'"));
  }
  std::shared_ptr<arrow::io::OutputStream> sink;
  std::shared_ptr<arrow::io::BufferOutputStream> memory;
  if (fd >= 0) {
    auto file = arrow::io::FileOutputStream::Open(fd);
    if (!file.ok()) {
      close_fd();
      return FromArrow(file.status(), "export");
    }
    sink = *file;
  } else {
    auto buffer = arrow::io::BufferOutputStream::Create();
    if (!buffer.ok()) return FromArrow(buffer.status(), "export");
    memory = *buffer;
    sink = memory;
  }
  auto writer = std::make_unique<Writer>(type, sink, memory);
  if (absl::Status s = writer->Start(options); !s.ok()) return s;
  return std::unique_ptr<RecordWriter>(std::move(writer));
}

}  // namespace engine::io
