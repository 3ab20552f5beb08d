// libFuzzer target: the loaders of /insert/records/frompayload and
// /insert/records/fromfiles (engine/io/reader.h): delimited text and Parquet
// through Apache Arrow's readers, JSON through nlohmann/json, into the host
// columns of a fixed table type or of one inferred from the data. The first
// byte picks the format and the options (header, delimiter, what a bad
// record does, escaping, truncation, inference). Any input: records or an
// error naming the input, never a crash, a leak or a run over the timeout;
// loaded records fill every column to the same length.
//
// Seeds (tests/fuzz/corpus/loader): small files of each format, as clients
// send them (written by pandas and pyarrow for Parquet).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "engine/io/reader.h"

namespace {

const engine::TableType& FixedType() {
  static const engine::TableType* const kType = [] {
    const std::map<std::string, std::vector<std::string>> properties = {{"c", {"char16"}}, {"d", {"timestamp"}}};
    auto type = engine::ParseTypeDefinition(
        R"({"type":"record","name":"t","fields":[{"name":"a","type":"int"},{"name":"b","type":["double","null"]},)"
        R"({"name":"c","type":"string"},{"name":"d","type":["long","null"]}]})",
        properties, "fixed");
    if (!type.ok()) __builtin_trap();
    return new engine::TableType(*std::move(type));
  }();
  return *kType;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t choice = data[0];
  engine::io::ReadOptions options;
  static const engine::io::FileFormat kFormats[] = {engine::io::FileFormat::kDelimitedText,
                                                    engine::io::FileFormat::kDelimitedText,
                                                    engine::io::FileFormat::kJson, engine::io::FileFormat::kParquet};
  options.format = kFormats[choice & 3];
  if ((choice & 3) == 1) {
    options.text.delimiter = '|';
    options.text.has_header = false;
  }
  static const engine::io::OnError kOnError[] = {engine::io::OnError::kAbort, engine::io::OnError::kSkip,
                                                 engine::io::OnError::kPermissive, engine::io::OnError::kSkip};
  options.on_error = kOnError[(choice >> 3) & 3];
  options.truncate_strings = (choice >> 5) & 1;
  options.text.escaping = (choice >> 6) & 1;
  options.batch_size = 7;  // batches end inside the data
  options.source_name = "payload";

  engine::io::Records records;
  if ((choice >> 2) & 1) records = engine::io::RecordsOf(FixedType());
  const engine::io::Input input{absl::string_view(reinterpret_cast<const char*>(data + 1), size - 1), nullptr};
  const absl::Status status = engine::io::ReadRecords(
      input, options, [](int64_t, int64_t) { return absl::OkStatus(); }, &records);
  if (!status.ok()) {
    if (status.code() != absl::StatusCode::kInvalidArgument) {  // bad input is the client's error
      std::fprintf(stderr, "not InvalidArgument: %s\n", status.ToString().c_str());
      __builtin_trap();
    }
    return 0;
  }
  if (!records.has_type || records.columns.size() != records.type.size()) __builtin_trap();
  for (const engine::HostColumn& column : records.columns) {
    if (column.size != records.rows) __builtin_trap();
  }
  return 0;
}
