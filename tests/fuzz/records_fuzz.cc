// libFuzzer target: the record encodings of /insert/records, decoded into a
// table's host columns: JSON records (list_str) and Avro records (list), for
// a type with a column of every kind. The first byte chooses the encoding
// and whether long strings are cut (truncate_strings). JSON records are the
// input's lines; Avro records are length-prefixed (one byte each). Any
// input: rows or an error naming the record, never a crash. Rows decoded
// from Avro are encoded again, and that encoding must decode to itself.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "engine/table/record_codec.h"
#include "engine/table/types.h"

namespace {

const engine::TableType& Type() {
  static const engine::TableType* type = [] {
    auto t = engine::ParseTypeDefinition(
        R"([["a","long"],["b","int","nullable"],["c","double"],["d","string","char16","nullable"],)"
        R"(["e","string","date"],["f","string","datetime"],["g","bytes","nullable"],["h","float"],)"
        R"(["i","string","ipv4"],["j","int","int8"],["k","string","dict"],["l","long","timestamp"],)"
        R"(["m","string"],["n","boolean"]])",
        {}, "fuzz");
    if (!t.ok()) __builtin_trap();
    return new engine::TableType(*std::move(t));
  }();
  return *type;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const engine::TableType& type = Type();
  engine::DecodeOptions options;
  options.truncate_strings = (data[0] & 2) != 0;
  const absl::string_view payload(reinterpret_cast<const char*>(data + 1), size - 1);
  std::vector<engine::HostColumn> columns = engine::MakeHostColumns(type);
  if ((data[0] & 1) == 0) {
    engine::Json records = engine::Json::array();
    for (absl::string_view line : absl::StrSplit(payload, '\n')) records.push_back(std::string(line));
    if (!engine::DecodeJsonRecords(type, records, options, &columns).ok()) return 0;
    for (int64_t row = 0; row < columns[0].size; ++row) engine::RecordToJson(type, columns, row).dump();
    return 0;
  }
  engine::Json records = engine::Json::array();
  for (size_t i = 0; i < payload.size();) {
    const size_t n = static_cast<uint8_t>(payload[i++]);
    const absl::string_view record = payload.substr(i, n);
    records.push_back(engine::Json::binary(engine::Json::binary_t::container_type(record.begin(), record.end())));
    i += record.size();
  }
  if (!engine::DecodeAvroRecords(type, records, options, &columns).ok()) return 0;
  for (int64_t row = 0; row < columns[0].size; ++row) {
    const std::string once = engine::EncodeAvroRecord(type, columns, row);
    std::vector<engine::HostColumn> again = engine::MakeHostColumns(type);
    engine::Json one = engine::Json::array();
    one.push_back(engine::Json::binary(engine::Json::binary_t::container_type(once.begin(), once.end())));
    if (!engine::DecodeAvroRecords(type, one, options, &again).ok()) __builtin_trap();
    if (engine::EncodeAvroRecord(type, again, 0) != once) __builtin_trap();
  }
  return 0;
}
