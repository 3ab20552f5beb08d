// AvroCodec (server/avro_codec.h): byte-exact encodings written by hand,
// round trips of every record the server knows (every endpoint's request and
// response and the wrapper) with generated values, and malformed input —
// truncation at every byte, giant lengths and counts, bad unions, invalid
// UTF-8, trailing bytes, random garbage — answered with an error naming the
// field, never a crash.

#include "server/avro_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>

#include "absl/strings/escaping.h"
#include "engine/api/schema.h"
#include "engine/api/json.h"
#include "tests/common/avro.h"

namespace {

using engine::Json;
using engine::TypeSchema;
using Kind = TypeSchema::Kind;
// Avro, written independently of the engine's writer.
using gpudb_test::Long;
using gpudb_test::Str;

const TypeSchema& Record(const char* name) {
  const TypeSchema* record = engine::FindRecord(name);
  EXPECT_NE(record, nullptr) << name;
  return *record;
}


Json Bytes(const std::string& s) { return Json::binary(Json::binary_t::container_type(s.begin(), s.end())); }

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

TEST(AvroCodecTest, EncodesKnownRecordsByteExactly) {
  server::AvroCodec codec;
  auto has_table = codec.Encode(Record("has_table_request"), Json{{"table_name", "ab"}, {"options", Json::object()}});
  ASSERT_TRUE(has_table.ok()) << has_table.status();
  EXPECT_EQ(*has_table, Str("ab") + Long(0));

  // A map: one block of two entries, then 0; fields in record order.
  auto job = codec.Encode(Record("create_job_response"),
                          Json{{"job_id", -3}, {"info", Json{{"job_tag", "t1"}, {"k", ""}}}});
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(*job, Long(-3) + Long(2) + Str("job_tag") + Str("t1") + Str("k") + Str("") + Long(0));

  // Doubles little-endian, arrays as blocks.
  auto histogram = codec.Encode(Record("aggregate_histogram_response"),
                                Json{{"counts", Json::array({1.0, 2.5})}, {"start", 0.0}, {"end", 1.0},
                                     {"info", Json::object()}});
  ASSERT_TRUE(histogram.ok()) << histogram.status();
  std::string doubles;
  for (double d : {1.0, 2.5, 0.0, 1.0}) doubles.append(reinterpret_cast<const char*>(&d), 8);
  EXPECT_EQ(*histogram, Long(2) + doubles.substr(0, 16) + Long(0) + doubles.substr(16) + Long(0));

  // The wrapper: status, message, data_type, data (bytes), data_str.
  auto wrapper = codec.Encode(Record("gpudb_response"),
                              Json{{"status", "OK"}, {"message", ""}, {"data_type", "x"},
                                   {"data", Bytes(std::string("\0\xff", 2))}, {"data_str", ""}});
  ASSERT_TRUE(wrapper.ok()) << wrapper.status();
  EXPECT_EQ(*wrapper, Str("OK") + Str("") + Str("x") + Str(std::string("\0\xff", 2)) + Str(""));
}

TEST(AvroCodecTest, DecodesKnownBytes) {
  server::AvroCodec codec;
  // get_job_request: job_id, options.
  auto request = codec.Decode(Record("get_job_request"), Long(42) + Long(1) + Str("job_tag") + Str("abc") + Long(0));
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(*request, (Json{{"job_id", 42}, {"options", Json{{"job_tag", "abc"}}}}));

  // A negative block count is followed by the block's byte size.
  const std::string items = Long(5) + Long(-6);
  auto alter = codec.Decode(Record("admin_alter_jobs_request"),
                            Long(-2) + Long(static_cast<int64_t>(items.size())) + items + Long(0) + Str("cancel") + Long(0));
  ASSERT_TRUE(alter.ok()) << alter.status();
  EXPECT_EQ((*alter)["job_ids"], Json::array({5, -6}));

  // Several blocks make one array.
  auto list = codec.Decode(Record("insert_records_request"),
                           Str("t") + Long(1) + Str("a") + Long(1) + Str("bc") + Long(0) + Long(0) + Str("binary") +
                               Long(0));
  ASSERT_TRUE(list.ok()) << list.status();
  EXPECT_EQ((*list)["list"], Json::array({Bytes("a"), Bytes("bc")}));

  // A nullable value: the union [T, "null"], branch 1 = null, 0 = value.
  auto update = [](int64_t branch) {
    return Str("t") + Long(0) + Long(1) + Long(2) + Str("a") + Long(branch) + Str("b") + Long(0) + Str("x") + Long(0) +
           Long(0) + Long(0) + Long(0) + Str("binary") + Long(0);
  };
  auto nullable = codec.Decode(Record("update_records_request"), update(1));
  ASSERT_TRUE(nullable.ok()) << nullable.status();
  EXPECT_EQ((*nullable)["new_values_maps"], Json::array({Json{{"a", nullptr}, {"b", "x"}}}));
  auto encoded = codec.Encode(Record("update_records_request"), *nullable);
  ASSERT_TRUE(encoded.ok()) << encoded.status();
  EXPECT_EQ(*encoded, update(1));
  auto bad = codec.Decode(Record("update_records_request"), update(2));
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(Contains(std::string(bad.status().message()), "field 'new_values_maps[0].a': union branch 2"))
      << bad.status();
}

// A deterministic value for any type.
Json Generate(const TypeSchema& type, std::mt19937_64& rng, int depth = 0) {
  switch (type.kind) {
    case Kind::kString: {
      static const char* kSamples[] = {"", "a", "table_1", "h\xc3\xa9llo \xe2\x82\xac", "x y z"};
      return kSamples[rng() % 5];
    }
    case Kind::kBytes: {
      std::string s;
      for (int i = 0, n = static_cast<int>(rng() % 6); i < n; ++i) s.push_back(static_cast<char>(rng() & 0xFF));
      return Bytes(s);
    }
    case Kind::kInt:
      return static_cast<int64_t>(static_cast<int32_t>(rng()));
    case Kind::kLong:
      return static_cast<int64_t>(rng());
    case Kind::kFloat:
      return static_cast<double>(static_cast<float>(static_cast<int64_t>(rng() % 2001) - 1000) / 8.0f);
    case Kind::kDouble:
      return static_cast<double>(static_cast<int64_t>(rng() % 2000001) - 1000000) / 1024.0;
    case Kind::kBoolean:
      return (rng() & 1) == 1;
    case Kind::kArray: {
      Json out = Json::array();
      for (int i = 0, n = depth > 2 ? 0 : static_cast<int>(rng() % 4); i < n; ++i) {
        out.push_back(Generate(*type.item, rng, depth + 1));
      }
      return out;
    }
    case Kind::kMap: {
      Json out = Json::object();
      for (int i = 0, n = depth > 2 ? 0 : static_cast<int>(rng() % 4); i < n; ++i) {
        out["key" + std::to_string(i)] = Generate(*type.item, rng, depth + 1);
      }
      return out;
    }
    case Kind::kRecord: {
      Json out = Json::object();
      for (const engine::FieldSchema& f : type.fields) out[f.name] = Generate(*f.type, rng, depth + 1);
      return out;
    }
    case Kind::kNullable:
      return (rng() & 1) == 1 ? Json(nullptr) : Generate(*type.item, rng, depth);
  }
  return nullptr;
}

std::vector<const TypeSchema*> AllRecords() {
  std::vector<const TypeSchema*> records = {engine::FindRecord("gpudb_response")};
  for (const engine::EndpointSchema& e : engine::AllEndpointSchemas()) {
    records.push_back(e.request);
    records.push_back(e.response);
  }
  return records;
}

// `value` with every packed byte list in it as the ordinary array.
Json Unpacked(const Json& value) {
  if (engine::IsPackedBytes(value)) return engine::UnpackBytes(value);
  if (!value.is_object() && !value.is_array()) return value;
  Json out = value;
  for (auto& v : out) v = Unpacked(v);
  return out;
}

bool HasPacked(const Json& value) {
  if (engine::IsPackedBytes(value)) return true;
  if (value.is_object() || value.is_array()) {
    for (const Json& v : value) {
      if (HasPacked(v)) return true;
    }
  }
  return false;
}

TEST(AvroCodecTest, RoundTripsEveryRecord) {
  server::AvroCodec codec;
  std::mt19937_64 rng(12345);
  const auto records = AllRecords();
  ASSERT_GT(records.size(), 40u);
  int packed_lists = 0;
  for (const TypeSchema* record : records) {
    for (int trial = 0; trial < 20; ++trial) {
      const Json value = Generate(*record, rng);
      auto bytes = codec.Encode(*record, value);
      ASSERT_TRUE(bytes.ok()) << record->name << ": " << bytes.status();
      auto back = codec.Decode(*record, *bytes);
      ASSERT_TRUE(back.ok()) << record->name << ": " << back.status();
      EXPECT_EQ(*back, value) << record->name;
      // The decoded record is already in normalized form.
      auto normalized = engine::Normalize(*record, *back);
      ASSERT_TRUE(normalized.ok()) << record->name << ": " << normalized.status();
      EXPECT_EQ(*normalized, *back) << record->name;
      // DecodePacked: the same record with its byte lists packed, which
      // Normalize keeps and the encoder writes back byte for byte.
      auto packed = codec.DecodePacked(*record, *bytes);
      ASSERT_TRUE(packed.ok()) << record->name << ": " << packed.status();
      packed_lists += HasPacked(*packed) ? 1 : 0;
      EXPECT_EQ(Unpacked(*packed), value) << record->name;
      auto kept = engine::Normalize(*record, *packed);
      ASSERT_TRUE(kept.ok()) << record->name << ": " << kept.status();
      EXPECT_EQ(*kept, *packed) << record->name;
      auto again = codec.Encode(*record, *packed);
      ASSERT_TRUE(again.ok()) << record->name << ": " << again.status();
      EXPECT_EQ(*again, *bytes) << record->name;
    }
  }
  EXPECT_EQ(packed_lists, 6 * 20);  // the array<bytes> fields of six records
}

TEST(AvroCodecTest, EncodeFillsDefaultsAndRefusesWrongTypes) {
  server::AvroCodec codec;
  auto filled = codec.Encode(Record("has_table_request"), Json{{"table_name", "t"}});
  ASSERT_TRUE(filled.ok()) << filled.status();
  EXPECT_EQ(*filled, Str("t") + Long(0));
  auto missing = codec.Encode(Record("has_table_request"), Json{{"options", Json::object()}});
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(Contains(std::string(missing.status().message()), "table_name")) << missing.status();
  auto wrong = codec.Encode(Record("filter_response"), Json{{"count", "many"}});
  ASSERT_FALSE(wrong.ok());
  EXPECT_TRUE(Contains(std::string(wrong.status().message()), "'count': expected long, got string")) << wrong.status();
  auto range = codec.Encode(Record("get_job_response"),
                            Json{{"endpoint", "/x"}, {"job_status", "DONE"}, {"running", false},
                                 {"progress", int64_t{1} << 40}});
  ASSERT_FALSE(range.ok());
  EXPECT_TRUE(Contains(std::string(range.status().message()), "progress")) << range.status();
}

TEST(AvroCodecTest, TruncationAtEveryByteIsAnError) {
  server::AvroCodec codec;
  std::mt19937_64 rng(7);
  for (const char* name : {"create_job_request", "get_job_response", "insert_records_request", "show_table_response",
                           "gpudb_response", "aggregate_statistics_response"}) {
    const TypeSchema& record = Record(name);
    Json value = Generate(record, rng);
    auto bytes = codec.Encode(record, value);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    for (size_t n = 0; n < bytes->size(); ++n) {
      auto decoded = codec.Decode(record, absl::string_view(*bytes).substr(0, n));
      ASSERT_FALSE(decoded.ok()) << name << " cut at " << n << " of " << bytes->size();
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
      const std::string message(decoded.status().message());
      EXPECT_TRUE(Contains(message, "field '")) << name << " cut at " << n << ": " << message;
    }
  }
}

TEST(AvroCodecTest, MalformedInputNamesFieldAndProblem) {
  server::AvroCodec codec;
  struct Case {
    const char* what;
    const char* record;
    std::string bytes;
    std::vector<std::string> parts;
  };
  const std::vector<Case> cases = {
      {"giant string length", "has_table_request", Long(int64_t{1} << 40) + "abc",
       {"field 'table_name'", "length 1099511627776 exceeds the 3 bytes left"}},
      {"negative length", "has_table_request", Long(-5) + "abc", {"field 'table_name'", "negative length"}},
      {"giant map count", "has_table_request", Str("t") + Long(int64_t{1} << 50) + "x",
       {"field 'options'", "block of 1125899906842624 items", "exceeds"}},
      {"giant array count", "admin_alter_jobs_request", Long(1000000000), {"field 'job_ids'", "block of"}},
      {"giant negative block size", "admin_alter_jobs_request", Long(-1) + Long(int64_t{1} << 40),
       {"field 'job_ids'", "block size"}},
      {"lowest block count", "admin_alter_jobs_request", Long(INT64_MIN), {"field 'job_ids'", "out of range"}},
      {"varint too long", "get_job_request", std::string(11, '\xff'), {"field 'job_id'"}},
      {"int out of range", "get_job_response",
       Str("/f") + Str("DONE") + std::string(1, '\0') + Long(int64_t{1} << 33), {"field 'progress'", "32-bit"}},
      {"bad boolean", "has_table_response", Str("t") + std::string(1, '\x07'), {"field 'table_exists'", "boolean"}},
      {"invalid UTF-8", "has_table_request", Str("\xc3\x28") + Long(0), {"field 'table_name'", "UTF-8"}},
      {"overlong UTF-8", "has_table_request", Str("\xc0\xaf") + Long(0), {"UTF-8"}},
      {"surrogate in UTF-8", "has_table_request", Str("\xed\xa0\x80") + Long(0), {"UTF-8"}},
      {"invalid UTF-8 key", "has_table_request", Str("t") + Long(1) + Str("\xff") + Str("v") + Long(0),
       {"field 'options.<key 0>'", "UTF-8"}},
      {"duplicate key", "has_table_request", Str("t") + Long(2) + Str("k") + Str("a") + Str("k") + Str("b") + Long(0),
       {"field 'options.k'", "twice"}},
      {"trailing bytes", "has_table_request", Str("t") + Long(0) + "zz", {"2 bytes left after the end"}},
      {"empty", "has_table_request", "", {"field 'table_name'", "data ends inside a number"}},
  };
  for (const Case& c : cases) {
    auto decoded = codec.Decode(Record(c.record), c.bytes);
    ASSERT_FALSE(decoded.ok()) << c.what;
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << c.what;
    const std::string message(decoded.status().message());
    for (const std::string& part : c.parts) EXPECT_TRUE(Contains(message, part)) << c.what << ": " << message;
  }
}

TEST(AvroCodecTest, DecodePackedTakesEveryBlockForm) {
  server::AvroCodec codec;
  const std::string long_item(300, 'x');  // a two-byte length
  const std::string items = Str("c") + Str(long_item);
  // Blocks: two items, then a negative count with its byte size, then one item.
  const std::string body = Str("t") + Long(2) + Str("a") + Str("") + Long(-2) +
                           Long(static_cast<int64_t>(items.size())) + items + Long(1) + Str("d") + Long(0) + Long(0) +
                           Str("binary") + Long(0);
  auto packed = codec.DecodePacked(Record("insert_records_request"), body);
  ASSERT_TRUE(packed.ok()) << packed.status();
  ASSERT_TRUE(engine::IsPackedBytes((*packed)["list"]));
  EXPECT_EQ(engine::UnpackBytes((*packed)["list"]),
            Json::array({Bytes("a"), Bytes(""), Bytes("c"), Bytes(long_item), Bytes("d")}));
  auto plain = codec.Decode(Record("insert_records_request"), body);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(Unpacked(*packed), *plain);
  // An empty list is an empty packed list; other fields are as Decode gives them.
  auto empty = codec.DecodePacked(Record("insert_records_request"),
                                  Str("t") + Long(0) + Long(1) + Str("{}") + Long(0) + Str("json") + Long(0));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_EQ(engine::BytesListReader((*empty)["list"]).size(), 0u);
  EXPECT_EQ((*empty)["list_str"], Json::array({"{}"}));
  EXPECT_EQ((*empty)["list_encoding"], "json");
}

TEST(AvroCodecTest, DecodeOwnedGivesTheLargestBytesFieldTheBuffer) {
  server::AvroCodec codec;
  const TypeSchema& payload = Record("insert_records_from_payload_request");
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7 + i / 4096);
  const std::string body = Str("t") + Str("") + Str(big) + Long(0) + Long(0) + Long(1) + Str("file_type") +
                           Str("parquet") + Long(0);
  auto owned = codec.DecodeOwned(payload, std::vector<uint8_t>(body.begin(), body.end()));
  ASSERT_TRUE(owned.ok()) << owned.status();
  auto packed = codec.DecodePacked(payload, body);
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(*owned, *packed);  // the same record as a copy gives
  EXPECT_EQ((*owned)["data_bytes"].get_binary().size(), big.size());
  EXPECT_EQ((*owned)["options"], Json({{"file_type", "parquet"}}));
  // Malformed: the same error as DecodePacked's, the buffer untouched or not.
  const std::string cut = body.substr(0, body.size() - 3);
  auto bad = codec.DecodeOwned(payload, std::vector<uint8_t>(cut.begin(), cut.end()));
  auto bad_packed = codec.DecodePacked(payload, cut);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status(), bad_packed.status());
}

TEST(AvroCodecTest, DecodePackedErrorsAreDecodesErrors) {
  server::AvroCodec codec;
  const TypeSchema& insert = Record("insert_records_request");
  const std::string list = Long(3) + Str("ab") + Str(std::string(200, 'q')) + Str("c") + Long(0);
  const std::string body = Str("t") + list + Long(2) + Str("x") + Str("y") + Long(0) + Str("binary") + Long(0);
  // Cut anywhere, with a length that runs past the end, or invalid UTF-8 in
  // list_str: the same message from both, naming the item.
  std::vector<std::string> bad;
  for (size_t n = 0; n < body.size(); ++n) bad.push_back(body.substr(0, n));
  bad.push_back(Str("t") + Long(2) + Str("ab") + Long(9) + "cd");
  bad.push_back(Str("t") + Long(2) + Str("ab") + Long(-1) + Long(0));
  bad.push_back(Str("t") + Long(0) + Long(3) + Str("x") + Str("y") + Str("\xff") + Long(0) + Str("json") + Long(0));
  for (const std::string& b : bad) {
    auto plain = codec.Decode(insert, b);
    auto packed = codec.DecodePacked(insert, b);
    ASSERT_FALSE(plain.ok());
    ASSERT_FALSE(packed.ok()) << absl::CEscape(b);
    EXPECT_EQ(packed.status(), plain.status());
  }
  auto item = codec.DecodePacked(insert, Str("t") + Long(2) + Str("ab") + Long(9) + "cd");
  EXPECT_EQ(item.status().message(), "field 'list[1]': length 9 exceeds the 2 bytes left");
  auto utf8 = codec.DecodePacked(insert, bad.back());
  EXPECT_EQ(utf8.status().message(), "field 'list_str[2]': string is not valid UTF-8");
}

TEST(AvroCodecTest, RandomGarbageNeverCrashes) {
  server::AvroCodec codec;
  std::mt19937_64 rng(99);
  const auto records = AllRecords();
  int accepted = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::string bytes;
    for (int i = 0, n = static_cast<int>(rng() % 40); i < n; ++i) bytes.push_back(static_cast<char>(rng() & 0xFF));
    const TypeSchema* record = records[rng() % records.size()];
    auto decoded = codec.Decode(*record, bytes);
    // DecodePacked agrees, whatever the bytes.
    auto packed = codec.DecodePacked(*record, bytes);
    ASSERT_EQ(packed.ok(), decoded.ok()) << record->name;
    if (decoded.ok()) {
      EXPECT_EQ(Unpacked(*packed), *decoded) << record->name;
    } else {
      EXPECT_EQ(packed.status(), decoded.status()) << record->name;
    }
    if (decoded.ok()) {
      ++accepted;
      // Whatever decodes encodes and decodes back to the same record.
      auto again = codec.Encode(*record, *decoded);
      ASSERT_TRUE(again.ok()) << again.status();
      auto back = codec.Decode(*record, *again);
      ASSERT_TRUE(back.ok()) << back.status();
      EXPECT_EQ(*back, *decoded) << record->name;
    } else {
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
  EXPECT_LT(accepted, 20000);
}

}  // namespace
