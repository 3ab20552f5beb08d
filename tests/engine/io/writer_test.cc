// engine/io/writer.h: delimited text and Parquet out of host columns, and
// back in through the readers.

#include "engine/io/writer.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/table/record_codec.h"
#include "tests/common/table_type.h"

namespace engine::io {
namespace {

using gpudb_test::MustParse;

const char kType[] = R"([["id","int"],["name","char8","nullable"],["t","timestamp"],["ok","boolean"]])";

std::vector<HostColumn> Sample(const TableType& type) {
  std::vector<HostColumn> columns = MakeHostColumns(type);
  columns[0].AppendInt(1);
  columns[1].AppendString("a,\"b\"");
  columns[2].AppendInt(1714557600250);
  columns[3].AppendInt(1);
  columns[0].AppendInt(2);
  columns[1].AppendNull();
  columns[2].AppendInt(0);
  columns[3].AppendInt(0);
  return columns;
}

std::string WriteAll(const TableType& type, const WriteOptions& options, const std::vector<HostColumn>& columns) {
  auto writer = RecordWriter::Open(type, options, -1);
  EXPECT_TRUE(writer.ok()) << writer.status();
  if (!writer.ok()) return "";
  EXPECT_TRUE((*writer)->Write(columns).ok());
  EXPECT_TRUE((*writer)->Write(MakeHostColumns(type)).ok());  // an empty batch adds nothing
  auto bytes = (*writer)->Close();
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : "";
}

TEST(Writer, DelimitedText) {
  const TableType type = MustParse(kType);
  WriteOptions options;
  EXPECT_EQ(WriteAll(type, options, Sample(type)),
            "\"id\",\"name\",\"t\",\"ok\"\n"
            "1,\"a,\"\"b\"\"\",2024-05-01 10:00:00.250,true\n"
            "2,\\N,1970-01-01 00:00:00.000,false\n");
  options.header = false;
  options.delimiter = '|';
  options.null_string = "NULL";
  EXPECT_EQ(WriteAll(type, options, Sample(type)),
            "1|\"a,\"\"b\"\"\"|2024-05-01 10:00:00.250|true\n2|NULL|1970-01-01 00:00:00.000|false\n");
}

TEST(Writer, RoundTrips) {
  const TableType type = MustParse(kType);
  for (FileFormat format : {FileFormat::kDelimitedText, FileFormat::kParquet}) {
    WriteOptions options;
    options.format = format;
    options.typed_header = true;  // text: the header carries the types
    const std::string bytes = WriteAll(type, options, Sample(type));
    ReadOptions read;
    read.format = format;
    Records back;  // a new table: the type comes from the data
    const absl::Status s = ReadRecords(
        Input{bytes, nullptr}, read, [](int64_t, int64_t) { return absl::OkStatus(); }, &back);
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_EQ(back.rows, 2);
    if (format == FileFormat::kDelimitedText) EXPECT_EQ(back.type.TypeId(), type.TypeId());
    EXPECT_EQ(back.columns[1].StringAt(0), "a,\"b\"");
    EXPECT_FALSE(back.columns[1].IsValid(1));
    EXPECT_EQ(back.columns[2].IntAt(0), 1714557600250);
    EXPECT_EQ(back.columns[3].IntAt(1), 0);
  }
}

TEST(Writer, RefusesWhatItCannotWrite) {
  const TableType type = MustParse(kType);
  WriteOptions json;
  json.format = FileFormat::kJson;
  EXPECT_EQ(RecordWriter::Open(type, json, -1).status().message(),
            "options.file_type: records are exported as delimited_text or parquet");
  WriteOptions lz;
  lz.format = FileFormat::kParquet;
  lz.compression = "lz4";
  EXPECT_EQ(RecordWriter::Open(type, lz, -1).status().message(),
            "options.compression_type: expected uncompressed, snappy or gzip, got 'lz4'");
}

}  // namespace
}  // namespace engine::io
