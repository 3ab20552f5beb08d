// engine/io's readers: delimited text, JSON and Parquet into host columns;
// their options; bad records with their line (or record) numbers; and the
// type of a new table inferred from the data. Parquet inputs are written by
// engine/io's writer (writer_test.cc checks the writer on its own).

#include "engine/io/reader.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/io/writer.h"
#include "tests/common/table_type.h"

namespace engine::io {
namespace {

using gpudb_test::MustParse;

// Row `row` of column `c` as text: "null", a number, or the string.
std::string At(const Records& r, size_t c, int64_t row) {
  const ColumnDef& def = r.type.column(c);
  const HostColumn& col = r.columns[c];
  if (!col.IsValid(row)) return "null";
  if (def.is_integer()) return absl::StrCat(col.IntAt(row));
  if (def.is_real()) return absl::StrCat(col.FloatAt(row));
  return std::string(col.StringAt(row));
}

// Every row as "v1|v2|...".
std::vector<std::string> Rows(const Records& r) {
  std::vector<std::string> out;
  for (int64_t row = 0; row < r.rows; ++row) {
    std::vector<std::string> values;
    for (size_t c = 0; c < r.type.size(); ++c) values.push_back(At(r, c, row));
    out.push_back(absl::StrJoin(values, "|"));
  }
  return out;
}

// The type as "name:type[?]" entries.
std::string TypeOf(const Records& r) {
  std::vector<std::string> out;
  for (const ColumnDef& def : r.type.columns())
    out.push_back(absl::StrCat(def.name, ":", def.type_name(), def.nullable ? "?" : ""));
  return absl::StrJoin(out, ",");
}

absl::Status NoProgress(int64_t, int64_t) { return absl::OkStatus(); }

// Reads `text` into records of `definition` (empty: inferred).
absl::Status Read(const std::string& text, const std::string& definition, ReadOptions options, Records* out) {
  *out = definition.empty() ? Records() : RecordsOf(MustParse(definition));
  return ReadRecords(Input{text, nullptr}, options, NoProgress, out);
}

Records MustRead(const std::string& text, const std::string& definition, ReadOptions options = {}) {
  Records r;
  absl::Status s = Read(text, definition, options, &r);
  EXPECT_TRUE(s.ok()) << s;
  return r;
}

std::string ReadError(const std::string& text, const std::string& definition, ReadOptions options = {}) {
  Records r;
  absl::Status s = Read(text, definition, options, &r);
  EXPECT_FALSE(s.ok()) << "read did not fail";
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  return std::string(s.message());
}

ReadOptions Skipping(OnError mode = OnError::kSkip) {
  ReadOptions o;
  o.on_error = mode;
  return o;
}

const char kPeople[] = R"([["id","int"],["name","char8","nullable"],["score","double","nullable"]])";

// --- Delimited text -----------------------------------------------------------

TEST(DelimitedText, ReadsValuesNullsAndQuotes) {
  const Records r = MustRead(
      "id,name,score\n"
      "1,ann,7.5\n"
      "2,\\N,\n"                   // \N and an empty field: null
      "3,\"b,\"\"o\"\"\",1e3\r\n"  // a quoted delimiter, doubled quotes, CRLF
      "4,\"\",-0.25\n",            // a quoted empty string is not null
      kPeople);
  EXPECT_EQ(Rows(r), (std::vector<std::string>{"1|ann|7.5", "2|null|null", "3|b,\"o\"|1000", "4||-0.25"}));
}

TEST(DelimitedText, EmptyAndHeaderOnly) {
  EXPECT_EQ(MustRead("", kPeople).rows, 0);
  EXPECT_EQ(MustRead("id,name,score\n", kPeople).rows, 0);
  EXPECT_EQ(Rows(MustRead("id,name,score\n9,z,1", kPeople)), (std::vector<std::string>{"9|z|1"}));
}

TEST(DelimitedText, EveryType) {
  const std::string type = R"([["a","int8"],["b","int16"],["c","int"],["d","long"],["e","float"],["f","double"],
      ["g","boolean"],["h","timestamp"],["i","string"],["j","char4"],["k","bytes"]])";
  const Records r = MustRead(
      "a,b,c,d,e,f,g,h,i,j,k\n"
      "-128,32767,-2147483648,9223372036854775807,1.5,2.25,true,2024-05-01 10:00:00.250,héllo,abcd,xyz\n"
      "127,-32768,2147483647,-9223372036854775808,-3,1e-3,0,86400000,,a,\n",
      type);
  EXPECT_EQ(Rows(r), (std::vector<std::string>{
                         "-128|32767|-2147483648|9223372036854775807|1.5|2.25|1|1714557600250|héllo|abcd|xyz",
                         "127|-32768|2147483647|-9223372036854775808|-3|0.001|0|86400000||a|"}));
}

TEST(DelimitedText, ByNameByPositionAndColumnLists) {
  // The header's order differs from the table's; "extra" feeds no column.
  EXPECT_EQ(Rows(MustRead("score,extra,NAME,id\n1.5,x,ann,7\n", kPeople)), (std::vector<std::string>{"7|ann|1.5"}));
  ReadOptions headerless;
  headerless.text.has_header = false;
  EXPECT_EQ(Rows(MustRead("7,ann,1.5\n", kPeople, headerless)), (std::vector<std::string>{"7|ann|1.5"}));
  ReadOptions load;
  load.columns_to_load = {"3", "", "1..1"};  // id <- 3rd, name <- null, score <- 1st
  EXPECT_EQ(Rows(MustRead("a,b,c\n2.5,x,9\n", kPeople, load)), (std::vector<std::string>{"9|null|2.5"}));
  load.columns_to_load = {"c", "b", "a"};
  EXPECT_EQ(Rows(MustRead("a,b,c\n2.5,x,9\n", kPeople, load)), (std::vector<std::string>{"9|x|2.5"}));
  ReadOptions skip;
  skip.columns_to_skip = {"name"};
  skip.on_error = OnError::kPermissive;  // name is fed by nothing: null
  EXPECT_EQ(Rows(MustRead("id,name,score\n1,ann,2\n", kPeople, skip)), (std::vector<std::string>{"1|null|2"}));

  load.columns_to_load = {"a", "nope", "c"};
  EXPECT_EQ(ReadError("a,b,c\n1,2,3\n", kPeople, load), "options.columns_to_load: 'nope' is not a column of the data");
  load.columns_to_load = {"1", "9", "2"};
  EXPECT_EQ(ReadError("a,b,c\n1,2,3\n", kPeople, load), "options.columns_to_load: column 9 is not in the data (1..3)");
  load.columns_to_load = {"1", "2"};
  EXPECT_EQ(ReadError("a,b,c\n1,2,3\n", kPeople, load),
            "options.columns_to_load: 2 columns given for a table of 3 columns");
  EXPECT_EQ(ReadError("id,score\n1,2\n", kPeople),
            "data: the data has no column for the table's column 'name' (options.error_handling=permissive loads "
            "it as null; columns_to_load maps columns)");
  EXPECT_EQ(ReadError("name,score\nx,2\n", kPeople, Skipping(OnError::kPermissive)),
            "data: the table's column 'id' is not nullable and the data has no column for it");
}

TEST(DelimitedText, BadRecordAbortsWithItsLine) {
  // Lines: 1 header, 2 a comment, 3 a row, 4 blank, 5-6 one row with a line
  // break inside quotes, 7 the bad row.
  const std::string text = "id,name,score\n# a comment\n1,a,1\n\n2,\"x\ny\",2\n3,b,oops\n4,c,4\n";
  EXPECT_EQ(ReadError(text, kPeople), "data: line 7: column 'score': 'oops' is not a valid double");
  ReadOptions named;
  named.source_name = "data_text";
  EXPECT_EQ(ReadError("id,name,score\n1,a,1,9\n", kPeople, named), "data_text: line 2: has 4 fields, expected 3");
  EXPECT_EQ(ReadError("id,name,score\nx,a,1\n", kPeople), "data: line 2: column 'id': 'x' is not a valid int");
  EXPECT_EQ(ReadError("id,name,score\n1,toolongname,1\n", kPeople),
            "data: line 2: column 'name': 'toolongname' is longer than char8 (11 bytes)");
  EXPECT_EQ(ReadError("id,name,score\n\\N,a,1\n", kPeople), "data: line 2: column 'id': null in a non-nullable column");
  EXPECT_EQ(ReadError("id,name,score\n99999999999,a,1\n", kPeople),
            "data: line 2: column 'id': '99999999999' is not a valid int");
}

TEST(DelimitedText, SkipsBadRecordsAndCountsThem) {
  const std::string text = "id,name,score\n1,a,1\nx,b,2\n3,c\n4,d,4,5\n5,e,5\n\"6,f,6\n";
  Records r = MustRead(text, kPeople, Skipping());
  EXPECT_EQ(Rows(r), (std::vector<std::string>{"1|a|1", "5|e|5"}));
  EXPECT_EQ(r.skipped, 4);
  ASSERT_EQ(r.bad.size(), 4u);
  EXPECT_EQ(r.bad[0].line, 3);
  EXPECT_EQ(r.bad[0].text, "x,b,2");
  EXPECT_EQ(r.bad[0].error, "column 'id': 'x' is not a valid int");
  EXPECT_EQ(r.bad[1].line, 4);
  EXPECT_EQ(r.bad[1].error, "has 2 fields, expected 3");
  EXPECT_EQ(r.bad[2].line, 5);
  EXPECT_EQ(r.bad[3].line, 7);  // an unclosed quote: the rest of the data
  // Permissive: a short row gets nulls; a long one is still bad.
  r = MustRead(text, kPeople, Skipping(OnError::kPermissive));
  EXPECT_EQ(Rows(r), (std::vector<std::string>{"1|a|1", "3|c|null", "5|e|5"}));
  EXPECT_EQ(r.skipped, 3);
  // At most max_bad are listed; all are counted.
  r = RecordsOf(MustParse(kPeople));
  r.max_bad = 1;
  ASSERT_TRUE(ReadRecords(Input{text, nullptr}, Skipping(), NoProgress, &r).ok());
  EXPECT_EQ(r.skipped, 4);
  EXPECT_EQ(r.bad.size(), 1u);
}

TEST(DelimitedText, TextOptions) {
  ReadOptions o;
  o.text.delimiter = '\t';
  o.text.quoting = false;
  o.text.null_string = "NA";
  o.text.skip_lines = 2;
  EXPECT_EQ(Rows(MustRead("junk\nmore junk\nid\tname\tscore\n1\t\"q\tNA\n", kPeople, o)),
            (std::vector<std::string>{"1|\"q|null"}));
  ReadOptions quote;
  quote.text.quote = '\'';
  quote.text.escaping = true;
  EXPECT_EQ(Rows(MustRead("id,name,score\n1,'a,b',2\n2,x\\,y,3\n", kPeople, quote)),
            (std::vector<std::string>{"1|a,b|2", "2|x,y|3"}));
  ReadOptions cut;
  cut.truncate_strings = true;
  EXPECT_EQ(Rows(MustRead("id,name,score\n1,ééééé,1\n", kPeople, cut)), (std::vector<std::string>{"1|éééé|1"}));
  ReadOptions most;
  most.max_records = 2;
  EXPECT_EQ(MustRead("id,name,score\n1,a,1\n2,b,2\n3,c,3\n", kPeople, most).rows, 2);
}

TEST(DelimitedText, ManyRowsInBatches) {
  // Rows not a multiple of the batch size; a bad row near the end is found
  // with its line after the fast way gives up.
  std::string text = "id,name,score\n";
  const int n = 100003;
  int64_t sum = 0;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&text, i, ",n", i % 1000, ",", i % 7 == 0 ? "" : absl::StrCat(i * 0.5), "\n");
    sum += i;
  }
  ReadOptions o;
  o.batch_size = 777;
  int reports = 0;
  Records r = RecordsOf(MustParse(kPeople));
  ASSERT_TRUE(ReadRecords(
                  Input{text, nullptr}, o,
                  [&](int64_t done, int64_t total) {
                    EXPECT_LE(done, total);
                    ++reports;
                    return absl::OkStatus();
                  },
                  &r)
                  .ok());
  ASSERT_EQ(r.rows, n);
  EXPECT_GT(reports, 10);
  int64_t got = 0;
  int nulls = 0;
  for (int64_t i = 0; i < r.rows; ++i) {
    got += r.columns[0].IntAt(i);
    nulls += r.columns[2].IsValid(i) ? 0 : 1;
  }
  EXPECT_EQ(got, sum);
  EXPECT_EQ(nulls, (n + 6) / 7);
  EXPECT_EQ(At(r, 1, 1234), "n234");

  text += "oops,x,1\n";
  EXPECT_EQ(ReadError(text, kPeople, o),
            absl::StrCat("data: line ", n + 2, ": column 'id': 'oops' is not a valid int"));
  // A progress error stops the read and is its error.
  r = RecordsOf(MustParse(kPeople));
  absl::Status s = ReadRecords(
      Input{text, nullptr}, o, [](int64_t, int64_t) { return absl::CancelledError("stop"); }, &r);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled) << s;
}

TEST(DelimitedText, InfersTheTypeOfANewTable) {
  Records r = MustRead(
      "i,l,d,b,t,s,n,e\n"
      "1,5000000000,1.5,true,2024-01-01 00:00:00,abc,,\n"
      "2,1,2,false,2024-01-02 10:30:00,abcdefghijk,7,\n",
      "");
  EXPECT_EQ(TypeOf(r), "i:int,l:long,d:double,b:boolean,t:timestamp,s:char16,n:int?,e:char1?");
  EXPECT_EQ(Rows(r)[1], "2|1|2|0|1704191400000|abcdefghijk|7|null");
  ReadOptions headerless;
  headerless.text.has_header = false;
  EXPECT_EQ(TypeOf(MustRead("1,x\n", "", headerless)), "column_1:int,column_2:char1");
  // A header with column types ("name|type|property...").
  r = MustRead("id|long|primary_key,name|string|char4|nullable\n1,ab\n", "");
  EXPECT_EQ(TypeOf(r), "id:long,name:char4?");
  EXPECT_EQ(r.type.column(0).properties, (std::vector<std::string>{"primary_key"}));
  ReadOptions some;
  some.columns_to_load = {"s", "i"};
  EXPECT_EQ(TypeOf(MustRead("i,s\n1,x\n", "", some)), "s:char1,i:int");
  // Comment lines send the read record by record; the type is still inferred.
  r = MustRead("# made by hand\na,b\n1,x\n# more\n2,y\n", "");
  EXPECT_EQ(Rows(r), (std::vector<std::string>{"1|x", "2|y"}));
  EXPECT_EQ(ReadError("a b,c\n1,2\n", ""),
            "data: the table's type from the data: column name 'a b' is not valid (letters, digits and '_', not "
            "starting with a digit)");
  EXPECT_EQ(ReadError("", ""), "data: no data");
  // A header that is not UTF-8 (found by the loader fuzz target: it threw).
  EXPECT_EQ(ReadError("a\xd0,b\n1,2\n", ""),
            "data: the table's type from the data: column name 'a\xef\xbf\xbd' is not valid (letters, digits and "
            "'_', not starting with a digit)");
}

// --- JSON ---------------------------------------------------------------------

TEST(Json, ArraysObjectsAndLines) {
  ReadOptions o;
  o.format = FileFormat::kJson;
  EXPECT_EQ(
      Rows(MustRead(R"([{"id": 1, "name": "a", "score": 1.5, "other": [1]}, {"ID": 2, "score": null}])", kPeople, o)),
      (std::vector<std::string>{"1|a|1.5", "2|null|null"}));
  EXPECT_EQ(Rows(MustRead("{\n  \"id\": 3,\n  \"name\": \"c\"\n}\n", kPeople, o)),
            (std::vector<std::string>{"3|c|null"}));
  EXPECT_EQ(Rows(MustRead("{\"id\": 4, \"score\": \"2.5\"}\n\n{\"id\": 5, \"name\": 12}\n", kPeople, o)),
            (std::vector<std::string>{"4|null|2.5", "5|12|null"}));
  EXPECT_EQ(ReadError("{\"id\": 1}\n{\"id\": \"x\"}\n", kPeople, o),
            "data: line 2: column 'id': 'x' is not a valid int");
  EXPECT_EQ(ReadError("[{\"id\": 1}, {\"name\": \"x\"}]", kPeople, o), "data: record 2: column 'id' is missing");
  EXPECT_EQ(ReadError("[{\"id\": 1.5}]", kPeople, o), "data: record 1: column 'id': 1.5 is not a valid int");
  o.on_error = OnError::kSkip;
  Records r = MustRead("{\"id\": 1}\n{\"id\": 2,\n{\"id\": 3}\n[1]\n", kPeople, o);
  EXPECT_EQ(Rows(r), (std::vector<std::string>{"1|null|null", "3|null|null"}));
  ASSERT_EQ(r.bad.size(), 2u);
  EXPECT_EQ(r.bad[0].line, 2);
  EXPECT_EQ(r.bad[1].line, 4);
  EXPECT_EQ(r.bad[1].error, "not a JSON object");
}

TEST(Json, InfersTheTypeOfANewTable) {
  ReadOptions o;
  o.format = FileFormat::kJson;
  const Records r = MustRead(R"([{"a": 1, "b": "xy", "c": 1, "d": true},
                                 {"a": 2, "c": 2.5, "d": false, "e": 9000000000}])",
                             "", o);
  EXPECT_EQ(TypeOf(r), "a:int,b:char2?,c:double,d:boolean,e:long?");
  EXPECT_EQ(Rows(r), (std::vector<std::string>{"1|xy|1|1|null", "2|null|2.5|0|9000000000"}));
}

// --- Parquet ------------------------------------------------------------------

// Parquet bytes of `rows` of `definition`, written by engine/io's writer.
std::string ParquetOf(const std::string& definition, const Records& rows) {
  auto writer = RecordWriter::Open(MustParse(definition), WriteOptions{FileFormat::kParquet}, -1);
  EXPECT_TRUE(writer.ok()) << writer.status();
  EXPECT_TRUE((*writer)->Write(rows.columns).ok());
  auto bytes = (*writer)->Close();
  EXPECT_TRUE(bytes.ok()) << bytes.status();
  return bytes.ok() ? *bytes : "";
}

TEST(Parquet, ReadsEveryTypeAndKeepsItsTypes) {
  const std::string type = R"([["a","int8"],["b","int16","nullable"],["c","int"],["d","long"],["e","float"],
      ["f","double","nullable"],["g","boolean"],["h","timestamp"],["i","string","nullable"],["j","char4"],["k","bytes"]])";
  const Records source = MustRead(
      "a,b,c,d,e,f,g,h,i,j,k\n"
      "1,2,3,4,5.5,6.25,true,1000,x,ab,q\n"
      "-1,,-3,-4,-5.5,,false,-1000,,abcd,\n",
      type);
  const std::string bytes = ParquetOf(type, source);
  ASSERT_TRUE(LooksLikeParquet(bytes));
  ReadOptions o;
  o.format = FileFormat::kParquet;
  const Records into = MustRead(bytes, type, o);  // into the same type
  EXPECT_EQ(Rows(into), Rows(source));
  const Records inferred = MustRead(bytes, "", o);  // a new table
  EXPECT_EQ(TypeOf(inferred),
            "a:int8,b:int16?,c:int,d:long,e:float,f:double?,g:boolean,h:timestamp,i:string?,"
            "j:string,k:bytes");
  EXPECT_EQ(Rows(inferred), Rows(source));
}

TEST(Parquet, BadRecordsByNumber) {
  const std::string wide = R"([["id","long"],["v","double","nullable"]])";
  const Records source = MustRead("id,v\n1,1\n3000000000,2\n3,\n", wide);
  const std::string bytes = ParquetOf(wide, source);
  ReadOptions o;
  o.format = FileFormat::kParquet;
  const std::string narrow = R"([["id","int"],["v","double"]])";
  EXPECT_EQ(ReadError(bytes, narrow, o), "data: record 2: column 'id': 3000000000 is out of range for int");
  o.on_error = OnError::kSkip;
  Records r = MustRead(bytes, narrow, o);
  EXPECT_EQ(Rows(r), (std::vector<std::string>{"1|1"}));
  ASSERT_EQ(r.bad.size(), 2u);
  EXPECT_EQ(r.bad[1].line, 3);
  EXPECT_EQ(r.bad[1].error, "column 'v': null in a non-nullable column");
  EXPECT_EQ(r.bad[1].text, "3,null");
  o.on_error = OnError::kAbort;
  EXPECT_EQ(ReadError("not parquet", narrow, o).substr(0, 28), "data: not a Parquet file: Pa");
}

// Found by the loader fuzz target: corrupt compressed pages were an internal
// error. Every byte of a file flipped in turn: each read loads or fails
// with InvalidArgument, never crashes.
TEST(Parquet, CorruptBytesAreTheInputsError) {
  const std::string type = R"([["id","long"],["name","string","nullable"],["v","double"]])";
  std::string csv = "id,name,v\n";
  for (int i = 0; i < 200; ++i) csv += absl::StrCat(i, ",name ", i % 7, ",", i * 0.5, "\n");
  const std::string bytes = ParquetOf(type, MustRead(csv, type));
  ReadOptions o;
  o.format = FileFormat::kParquet;
  int failed = 0;
  for (size_t at = 4; at + 4 < bytes.size(); ++at) {
    std::string corrupt = bytes;
    corrupt[at] = static_cast<char>(corrupt[at] ^ 0x5a);
    Records r;
    const absl::Status s = Read(corrupt, at % 2 == 0 ? type : "", o, &r);
    if (s.ok()) continue;
    ++failed;
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << "byte " << at << ": " << s;
  }
  EXPECT_GT(failed, 0);
}

// Found by the loader fuzz target (2026-12-07, after 4 M executions): a
// footer claiming -24 rows made the reservation made up front throw
// std::length_error out of the reader, which ended the server's process.
// The count is the file's claim: 200 rows claimed as -200 load as they are
// read, or fail as the input's error; never a crash.
TEST(Parquet, AFooterClaimingNegativeRowsIsNoCrash) {
  const std::string type = R"([["id","long"],["name","string","nullable"],["v","double"]])";
  std::string csv = "id,name,v\n";
  for (int i = 0; i < 200; ++i) csv += absl::StrCat(i, ",name ", i % 7, ",", i * 0.5, "\n");
  std::string bytes = ParquetOf(type, MustRead(csv, type));
  // The footer (thrift compact) ends in its length and "PAR1"; its num_rows
  // (field 3, an i64: header 0x16) is 200, zigzag varint 0x90 0x03.
  uint32_t footer_length = 0;
  std::memcpy(&footer_length, bytes.data() + bytes.size() - 8, 4);
  const size_t at = bytes.find(std::string("\x16\x90\x03", 3), bytes.size() - 8 - footer_length);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 1] = '\x8f';  // zigzag 399: -200
  ReadOptions o;
  o.format = FileFormat::kParquet;
  Records r;
  const absl::Status s = Read(bytes, type, o, &r);
  if (s.ok()) {
    EXPECT_EQ(r.rows, 200);
  } else {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  }
}

TEST(Names, FormatAndDelimiterOfAFileName) {
  EXPECT_EQ(FormatOfName("a/b.PARQUET"), FileFormat::kParquet);
  EXPECT_EQ(FormatOfName("x.jsonl"), FileFormat::kJson);
  EXPECT_EQ(FormatOfName("x.csv"), FileFormat::kDelimitedText);
  EXPECT_EQ(DelimiterOfName("x.tsv"), '\t');
  EXPECT_EQ(DelimiterOfName("x.psv"), '|');
  EXPECT_EQ(DelimiterOfName("x.txt"), ',');
}

}  // namespace
}  // namespace engine::io
