// End-to-end tests: a real server::Server listening on 127.0.0.1 (ephemeral
// port), reached over a real gRPC channel with the generated stub. Requests
// are built the way an external client builds them: protobuf messages for
// binary, JSON text for json, snappy::RawCompress of the protobuf for snappy;
// binary records for /insert/records are Avro written here, independently of
// the engine's codec. Every result is checked against a reference computed in
// the test from rows read back (or, for random rows, recomputed from the
// generator). The client, the stream gate and the fixture's server are in
// test_client.h (shared with lifecycle_e2e_test.cc).
//
// Devices: GPUDB_TEST_DEVICES if set (e.g. "cuda"), else "host:2".

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/engine.h"
#include "kernels/random.h"
#include "proto/gpudb.grpc.pb.h"
#include "server/server.h"
#include "tests/common/avro.h"
#include "tests/common/reference.h"
#include "tests/server/test_client.h"

namespace {

namespace pb = gpudb::v1;
using nlohmann::json;
// The tests' own Avro writer and reader (tests/common/avro.h).
using gpudb_test::AvroIn;
using gpudb_test::PutDouble;
using gpudb_test::PutFloat;
using gpudb_test::PutLong;
using gpudb_test::PutBytes;
using gpudb_test::At;
using gpudb_test::Client;
using gpudb_test::Contains;
using gpudb_test::ExpectError;
using gpudb_test::Snappy;
using gpudb_test::StreamGate;

// The server's default max_get_records_size.
constexpr int64_t kServerMaxRows = 20000;

std::string TestDevices() {
  const char* env = std::getenv("GPUDB_TEST_DEVICES");
  return env != nullptr && *env != '\0' ? env : "host:2";
}

// Relative closeness for floating-point results (sums are reduced in a
// different order on the server).
::testing::AssertionResult Near(const char* a_expr, const char* b_expr, double a, double b) {
  const double tolerance = 1e-9 * std::max(1.0, std::max(std::fabs(a), std::fabs(b)));
  if (std::fabs(a - b) <= tolerance) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a_expr << " = " << a << " but " << b_expr << " = " << b;
}
#define EXPECT_CLOSE(a, b) EXPECT_PRED_FORMAT2(Near, a, b)

// ---------------------------------------------------------------------------
// The user story's table: id long, x int, y double nullable, f float,
// name char16, note string nullable.

const char* kPointType = R"({"type":"record","name":"point","fields":[)"
                         R"({"name":"id","type":"long"},{"name":"x","type":"int"},)"
                         R"({"name":"y","type":["double","null"]},{"name":"f","type":"float"},)"
                         R"({"name":"name","type":"string"},{"name":"note","type":["string","null"]}]})";

struct Row {
  int64_t id = 0;
  int32_t x = 0;
  std::optional<double> y;
  float f = 0;
  std::string name;
  std::optional<std::string> note;

  auto Tie() const { return std::tie(id, x, y, f, name, note); }
  bool operator==(const Row& o) const { return Tie() == o.Tie(); }
  bool operator<(const Row& o) const { return Tie() < o.Tie(); }
};

std::ostream& operator<<(std::ostream& os, const Row& r) {
  os << "{id=" << r.id << " x=" << r.x << " y=";
  if (r.y)
    os << *r.y;
  else
    os << "null";
  os << " f=" << r.f << " name='" << r.name << "' note=";
  if (r.note)
    os << "'" << *r.note << "'";
  else
    os << "null";
  return os << "}";
}

std::string EncodeRow(const Row& r) {
  std::string out;
  PutLong(&out, r.id);
  PutLong(&out, r.x);
  PutLong(&out, r.y ? 0 : 1);
  if (r.y) PutDouble(&out, *r.y);
  PutFloat(&out, r.f);
  PutBytes(&out, r.name);
  PutLong(&out, r.note ? 0 : 1);
  if (r.note) PutBytes(&out, *r.note);
  return out;
}

bool DecodeRow(const std::string& bytes, Row* r) {
  AvroIn in(bytes);
  int64_t x = 0, branch = 0;
  if (!in.Long(&r->id) || !in.Long(&x) || x < INT32_MIN || x > INT32_MAX) return false;
  r->x = static_cast<int32_t>(x);
  if (!in.Long(&branch) || branch < 0 || branch > 1) return false;
  r->y.reset();
  if (branch == 0) {
    double y = 0;
    if (!in.Double(&y)) return false;
    r->y = y;
  }
  if (!in.Float(&r->f) || !in.Bytes(&r->name) || !in.Long(&branch) || branch < 0 || branch > 1) return false;
  r->note.reset();
  if (branch == 0) {
    std::string note;
    if (!in.Bytes(&note)) return false;
    r->note = note;
  }
  return in.AtEnd();
}

json RowToJson(const Row& r) {
  json j = {{"id", r.id}, {"x", r.x}, {"f", static_cast<double>(r.f)}, {"name", r.name}};
  j["y"] = r.y ? json(*r.y) : json(nullptr);
  if (r.note) j["note"] = *r.note;  // a missing nullable column is null
  return j;
}

Row RowFromJson(const json& j) {
  Row r;
  r.id = j.at("id").get<int64_t>();
  r.x = j.at("x").get<int32_t>();
  if (!j.at("y").is_null()) r.y = j.at("y").get<double>();
  r.f = static_cast<float>(j.at("f").get<double>());
  r.name = j.at("name").get<std::string>();
  if (!j.at("note").is_null()) r.note = j.at("note").get<std::string>();
  return r;
}

// ---------------------------------------------------------------------------
// Statistics reference (sample variance, as the spec says).

struct Stats {
  double count = 0, sum = 0, min = 0, max = 0, mean = 0, variance = 0, stdv = 0;
};

Stats ReferenceStats(const std::vector<double>& values) {
  Stats s;
  s.count = static_cast<double>(values.size());
  if (values.empty()) return s;
  long double sum = 0;
  s.min = s.max = values[0];
  for (double v : values) {
    sum += v;
    s.min = std::min(s.min, v);
    s.max = std::max(s.max, v);
  }
  const long double mean = sum / values.size();
  long double m2 = 0;
  for (double v : values) m2 += (v - mean) * (v - mean);
  s.sum = static_cast<double>(sum);
  s.mean = static_cast<double>(mean);
  s.variance = values.size() > 1 ? static_cast<double>(m2 / (values.size() - 1)) : 0.0;
  s.stdv = std::sqrt(s.variance);
  return s;
}

template <typename Map>
void ExpectStats(const Map& got, const Stats& want, const std::string& what) {
  SCOPED_TRACE(what);
  const std::map<std::string, double> expected = {
      {"count", want.count}, {"sum", want.sum},   {"min", want.min},          {"max", want.max},
      {"mean", want.mean},   {"stdv", want.stdv}, {"variance", want.variance}};
  for (const auto& [name, value] : expected) {
    auto it = got.find(name);
    if (it == got.end()) {
      ADD_FAILURE() << "statistic '" << name << "' missing";
      continue;
    }
    double v = 0;
    if constexpr (std::is_same_v<Map, json>)
      v = it->template get<double>();
    else
      v = it->second;
    if (name == "count")
      EXPECT_EQ(v, value) << name;
    else
      EXPECT_CLOSE(v, value) << name;
  }
}

const char* kAllStats = "count,sum,min,max,mean,stdv,variance";

// Every row of `table` (or those matching `expression`), read in pages of
// `page` rows with `encoding`.
std::vector<Row> ReadAll(Client& client, const std::string& table, const std::string& encoding, int64_t page,
                         const std::string& expression = "") {
  std::vector<Row> rows;
  int64_t total = -1;
  for (int64_t offset = 0;; offset += page) {
    pb::GetRecordsRequest request;
    request.set_table_name(table);
    request.set_offset(offset);
    request.set_limit(page);
    request.set_encoding(encoding);
    if (!expression.empty()) (*request.mutable_options())["expression"] = expression;
    const auto response =
        client.Binary<pb::GetRecordsResponse>("/get/records", request, "get_records_response");
    EXPECT_EQ(response.table_name(), table);
    if (total < 0) total = response.total_number_of_records();
    EXPECT_EQ(response.total_number_of_records(), total) << "offset " << offset;
    const int64_t n = encoding == "binary" ? response.records_binary_size() : response.records_json_size();
    EXPECT_EQ(n, std::min(page, std::max<int64_t>(0, total - offset))) << "offset " << offset;
    EXPECT_EQ(response.has_more_records(), offset + n < total) << "offset " << offset;
    if (encoding == "binary") {
      EXPECT_EQ(response.records_json_size(), 0);
      for (const std::string& record : response.records_binary()) {
        Row r;
        EXPECT_TRUE(DecodeRow(record, &r)) << "record " << rows.size() << " is not a point";
        rows.push_back(r);
      }
    } else {
      EXPECT_EQ(response.records_binary_size(), 0);
      for (const std::string& record : response.records_json()) {
        const json j = json::parse(record, nullptr, false);
        if (j.is_discarded() || !j.is_object() || j.size() != 6) {
          ADD_FAILURE() << "record " << rows.size() << " is not a point: " << record;
          return rows;
        }
        rows.push_back(RowFromJson(j));
      }
    }
    if (!response.has_more_records() || n == 0) break;
  }
  EXPECT_EQ(static_cast<int64_t>(rows.size()), total);
  return rows;
}

std::vector<Row> Sorted(std::vector<Row> rows) {
  std::sort(rows.begin(), rows.end());
  return rows;
}

// Expects the same rows in any order; shows a few that differ.
void ExpectSameRows(std::vector<Row> got, std::vector<Row> want, const std::string& what) {
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  if (got == want) return;
  std::vector<Row> extra, missing;
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(), std::back_inserter(extra));
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(), std::back_inserter(missing));
  ::testing::Message m;
  m << what << ": got " << got.size() << " rows, expected " << want.size() << "; " << extra.size()
    << " unexpected, " << missing.size() << " missing";
  for (size_t i = 0; i < extra.size() && i < 5; ++i) m << "\n  unexpected " << extra[i];
  for (size_t i = 0; i < missing.size() && i < 5; ++i) m << "\n  missing " << missing[i];
  ADD_FAILURE() << m;
}

// ---------------------------------------------------------------------------
// The fixture: one server per test.

class GrpcE2eTest : public gpudb_test::ServerTest {
 protected:
  void SetUp() override { Start(TestDevices(), 0); }

  void Start(const std::string& devices, size_t memory_limit) {
    server::ServerOptions options = gpudb_test::TestServerOptions(devices);
    options.engine.devices.memory_limit = memory_limit;
    StartServer(options);
  }
};

// ---------------------------------------------------------------------------
// 1. The user story.

TEST_F(GrpcE2eTest, UserStory) {
  Client& c = *client_;
  constexpr uint64_t kSeed = 42;
  constexpr int64_t kRandomRows = 100000;

  // A type from an Avro schema, char16 from the properties; the same
  // definition gives the same id, over either encoding.
  const json type = c.Json("/create/type",
                           {{"type_definition", kPointType},
                            {"label", "point"},
                            {"properties", {{"name", {"char16"}}}},
                            {"options", json::object()}},
                           "create_type_response");
  const std::string type_id = type.value("type_id", "");
  ASSERT_FALSE(type_id.empty());
  EXPECT_EQ(type.value("label", ""), "point");
  EXPECT_EQ(type["properties"]["name"], json({"char16"}));
  EXPECT_EQ(type["properties"]["y"], json({"nullable"}));
  {
    pb::CreateTypeRequest again;
    again.set_type_definition(kPointType);
    again.set_label("point");
    (*again.mutable_properties())["name"].add_values("char16");
    const auto r = c.Binary<pb::CreateTypeResponse>("/create/type", again, "create_type_response");
    EXPECT_EQ(r.type_id(), type_id);
  }

  pb::CreateTableRequest create;
  create.set_table_name("story");
  create.set_type_id(type_id);
  const auto created = c.Binary<pb::CreateTableResponse>("/create/table", create, "create_table_response");
  EXPECT_EQ(created.table_name(), "story");
  EXPECT_EQ(created.type_id(), type_id);
  EXPECT_FALSE(created.is_collection());
  EXPECT_EQ(created.info().at("qualified_table_name"), "story");
  ASSERT_FALSE(HasFailure());

  // 100,000 random rows as an async job (binary), polled by id.
  {
    pb::InsertRecordsRandomRequest random;
    random.set_table_name("story");
    random.set_count(kRandomRows);
    auto& options = *random.mutable_options();
    (*options["seed"].mutable_values())["value"] = kSeed;
    (*options["y"].mutable_values())["null_percentage"] = 10;
    (*options["y"].mutable_values())["min"] = -1000;
    (*options["y"].mutable_values())["max"] = 1000;
    (*options["f"].mutable_values())["min"] = -1;
    (*options["f"].mutable_values())["max"] = 1;
    (*options["note"].mutable_values())["null_percentage"] = 25;
    (*options["note"].mutable_values())["max"] = 8;
    const auto [id, tag] = c.SubmitBinary("/insert/records/random", random);
    const auto r = c.WaitBinary<pb::InsertRecordsRandomResponse>(id);
    EXPECT_EQ(r.table_name(), "story");
    EXPECT_EQ(r.count(), kRandomRows);
  }

  // Rows of our own: Avro binary (Execute, binary) ...
  std::vector<Row> binary_rows;
  for (int i = 0; i < 50; ++i) {
    Row r;
    r.id = 1000000 + i;
    r.x = i == 0   ? std::numeric_limits<int32_t>::max()
          : i == 1 ? std::numeric_limits<int32_t>::min()
                   : i * 37 - 900;
    if (i % 3 != 0) r.y = i * 1.5 - 10;
    r.f = i * 0.25f - 3;
    r.name = std::string(static_cast<size_t>(i % 17), static_cast<char>('A' + i % 26));
    if (i == 7) r.name = "\xc3\xa9t\xc3\xa9";  // UTF-8, 5 bytes
    if (i % 4 != 0) r.note = "n" + std::to_string(i);
    if (i == 5) r.note = "q\"\\/\t";
    binary_rows.push_back(r);
  }
  {
    pb::InsertRecordsRequest insert;
    insert.set_table_name("story");
    for (const Row& r : binary_rows) insert.add_list(EncodeRow(r));
    const auto r = c.Binary<pb::InsertRecordsResponse>("/insert/records", insert, "insert_records_response");
    EXPECT_EQ(r.count_inserted(), 50);
    EXPECT_EQ(r.count_updated(), 0);
  }
  // ... and JSON (an async job, json, polled by tag).
  std::vector<Row> json_rows;
  {
    json list = json::array();
    for (int i = 0; i < 20; ++i) {
      Row r;
      r.id = 2000000 + i;
      r.x = -7 * i;
      if (i % 2 == 1) r.y = i / 3.0;
      r.f = 1.0f / static_cast<float>(i + 1);
      r.name = "j" + std::to_string(i);
      if (i % 5 != 0) r.note = "json " + std::to_string(i);
      json_rows.push_back(r);
      list.push_back(RowToJson(r).dump());
    }
    const auto [id, tag] = c.SubmitJson(
        "/insert/records", {{"table_name", "story"}, {"list_str", list}, {"list_encoding", "json"}},
        {{"job_tag", "story-insert-json"}});
    const json r = c.WaitJson(id, "story-insert-json");
    EXPECT_EQ(r.value("count_inserted", -1), 20);
  }
  ASSERT_FALSE(HasFailure());
  const int64_t total = kRandomRows + 50 + 20;

  // Everything back, in pages of the server maximum (binary).
  const std::vector<Row> all = ReadAll(c, "story", "binary", kServerMaxRows);
  ASSERT_EQ(static_cast<int64_t>(all.size()), total);
  ASSERT_FALSE(HasFailure());
  for (int i = 0; i < 50; ++i) EXPECT_EQ(all[kRandomRows + i], binary_rows[i]) << "binary row " << i;
  for (int i = 0; i < 20; ++i) EXPECT_EQ(all[kRandomRows + 50 + i], json_rows[i]) << "json row " << i;

  // The random rows are the generator's (kernels::RandomBits; column c
  // draws from stream c): integers exactly, doubles to rounding, nulls
  // exactly; strings within their lengths.
  int64_t y_nulls = 0, note_nulls = 0;
  for (int64_t row = 0; row < kRandomRows; ++row) {
    const Row& r = all[row];
    const auto bits = [&](uint64_t column, uint64_t draw) {
      return kernels::RandomBits(kSeed, column, row, draw);
    };
    const bool y_valid = kernels::RandomUnit(bits(2, 0)) >= 0.10;
    const bool note_valid = kernels::RandomUnit(bits(5, 0)) >= 0.25;
    y_nulls += !r.y;
    note_nulls += !r.note;
    bool ok = r.id == -99999 + static_cast<int64_t>(bits(0, 1) % 199999) &&
              r.x == -99999 + static_cast<int64_t>(bits(1, 1) % 199999) && r.y.has_value() == y_valid &&
              r.note.has_value() == note_valid && r.f >= -1 && r.f <= 1 && !r.name.empty() &&
              r.name.size() <= 16;
    if (ok && r.y) ok = std::fabs(*r.y - (-1000 + 2000 * kernels::RandomUnit(bits(2, 1)))) < 1e-9;
    if (ok && r.note) ok = !r.note->empty() && r.note->size() <= 8;
    for (char ch : r.name) ok = ok && std::isalnum(static_cast<unsigned char>(ch));
    if (!ok) {
      ADD_FAILURE() << "random row " << row << " is not the generator's: " << r;
      break;
    }
  }
  EXPECT_NEAR(y_nulls, kRandomRows * 0.10, kRandomRows * 0.01);
  EXPECT_NEAR(note_nulls, kRandomRows * 0.25, kRandomRows * 0.01);

  // /show/table and /has/table.
  {
    const json shown = c.Json("/show/table", {{"table_name", "story"}}, "show_table_response");
    EXPECT_EQ(shown["table_names"], json({"story"}));
    EXPECT_EQ(shown["type_ids"], json({type_id}));
    EXPECT_EQ(shown["sizes"], json({total}));
    EXPECT_EQ(shown["total_size"], total);
    EXPECT_EQ(shown["table_descriptions"], json::array({json::array()}));
    const json schema = json::parse(shown["type_schemas"][0].get<std::string>(), nullptr, false);
    ASSERT_TRUE(schema.is_object()) << shown["type_schemas"][0];
    EXPECT_EQ(schema["fields"].size(), 6u);
    EXPECT_EQ(c.Json("/has/table", {{"table_name", "story"}}, "has_table_response")["table_exists"], true);
  }

  // /filter as an async job (json), making a view; polled by tag.
  const std::string filter = "x > 0 and y < 500";
  const auto in_filter = [](const Row& r) { return r.x > 0 && r.y && *r.y < 500; };
  std::vector<Row> expected_view;
  for (const Row& r : all) {
    if (in_filter(r)) expected_view.push_back(r);
  }
  {
    const auto [id, tag] = c.SubmitJson(
        "/filter", {{"table_name", "story"}, {"view_name", "story_view"}, {"expression", filter}},
        {{"job_tag", "story-filter"}});
    EXPECT_EQ(tag, "story-filter");
    const json r = c.WaitJson(0, "story-filter");
    EXPECT_EQ(r.value("count", -1), static_cast<int64_t>(expected_view.size()));
    EXPECT_EQ(r["info"].value("qualified_view_name", ""), "story_view");
    // The same job by id.
    const json again = c.WaitJson(id);
    EXPECT_EQ(again, r);
  }
  ASSERT_FALSE(HasFailure());
  expected_view = Sorted(expected_view);

  // /aggregate/statistics as async jobs (binary and json) on the view and
  // on the table.
  std::vector<double> view_y, all_x, all_sum;
  for (const Row& r : expected_view) {
    if (r.y) view_y.push_back(*r.y);
  }
  for (const Row& r : all) {
    all_x.push_back(r.x);
    all_sum.push_back(static_cast<double>(r.x + r.id));
  }
  {
    pb::AggregateStatisticsRequest stats;
    stats.set_table_name("story_view");
    stats.set_column_name("y");
    stats.set_stats(kAllStats);
    const auto [id, tag] = c.SubmitBinary("/aggregate/statistics", stats);
    const auto r = c.WaitBinary<pb::AggregateStatisticsResponse>(id);
    ExpectStats(r.stats(), ReferenceStats(view_y), "y on story_view");
    EXPECT_EQ(r.stats().size(), 7);
  }
  {
    const auto [id, tag] = c.SubmitJson(
        "/aggregate/statistics", {{"table_name", "story"}, {"column_name", "x"}, {"stats", kAllStats}});
    ExpectStats(c.WaitJson(0, tag)["stats"], ReferenceStats(all_x), "x on story");
    pb::AggregateStatisticsRequest stats;
    stats.set_table_name("story");
    stats.set_column_name("x + id");
    stats.set_stats(kAllStats);
    const auto r = c.Binary<pb::AggregateStatisticsResponse>(
        "/aggregate/statistics", stats, "aggregate_statistics_response", /*snappy=*/true);
    ExpectStats(r.stats(), ReferenceStats(all_sum), "x + id on story");
  }

  // The view's rows: binary in pages of the maximum, json in pages of 7777;
  // both give the filter's rows.
  const std::vector<Row> view_binary = ReadAll(c, "story_view", "binary", kServerMaxRows);
  const std::vector<Row> view_json = ReadAll(c, "story_view", "json", 7777);
  EXPECT_EQ(view_binary, view_json);
  ExpectSameRows(view_binary, expected_view, "view");
  // limit -9999 (unset) and a limit over the maximum give the maximum;
  // an offset past the end gives nothing.
  {
    pb::GetRecordsRequest request;
    request.set_table_name("story_view");
    const auto r = c.Binary<pb::GetRecordsResponse>("/get/records", request, "get_records_response");
    EXPECT_EQ(r.records_binary_size(), std::min<int64_t>(kServerMaxRows, expected_view.size()));
    EXPECT_EQ(r.total_number_of_records(), static_cast<int64_t>(expected_view.size()));
    // Kinetica's type_name is the type id (its clients look the type up by it with /show/types).
    EXPECT_EQ(r.type_name(), type_id);
    request.set_limit(kServerMaxRows * 3);
    request.set_encoding("json");
    const auto capped = c.Binary<pb::GetRecordsResponse>("/get/records", request, "get_records_response");
    EXPECT_EQ(capped.records_json_size(), std::min<int64_t>(kServerMaxRows, expected_view.size()));
    request.set_offset(static_cast<int64_t>(expected_view.size()) + 5);
    const auto past = c.Binary<pb::GetRecordsResponse>("/get/records", request, "get_records_response");
    EXPECT_EQ(past.records_json_size(), 0);
    EXPECT_FALSE(past.has_more_records());
  }
  // Option `expression` on the view (a string comparison, a null test).
  {
    const std::string expression = "id % 3 = 0 or is_null(note) or name < 'M'";
    std::vector<Row> expected;
    for (const Row& r : expected_view) {
      if (r.id % 3 == 0 || !r.note || r.name < std::string("M")) expected.push_back(r);
    }
    ExpectSameRows(ReadAll(c, "story_view", "json", kServerMaxRows, expression), expected,
                   "view, json, expression");
    ExpectSameRows(ReadAll(c, "story_view", "binary", 4321, expression), expected,
                   "view, binary, expression");
    // Over the table, the same as a filter of the filter.
    std::vector<Row> expected_all;
    for (const Row& r : all) {
      if (in_filter(r) && (r.id % 3 == 0 || !r.note || r.name < std::string("M"))) expected_all.push_back(r);
    }
    ExpectSameRows(ReadAll(c, "story", "binary", kServerMaxRows, "(" + filter + ") and (" + expression + ")"),
                   expected_all, "table, both expressions");
  }

  // /show/table on the view and on everything.
  {
    const json view = c.Json("/show/table", {{"table_name", "story_view"}}, "show_table_response");
    EXPECT_EQ(view["sizes"], json({expected_view.size()}));
    EXPECT_EQ(view["table_descriptions"], json::array({json::array({"VIEW"})}));
    const json every = c.Json("/show/table", {{"table_name", ""}}, "show_table_response");
    EXPECT_EQ(every["table_names"], json({"story", "story_view"}));
    EXPECT_EQ(every["total_size"], total + static_cast<int64_t>(expected_view.size()));
  }

  // /clear/table: the view, then the table.
  EXPECT_EQ(c.Json("/clear/table", {{"table_name", "story_view"}}, "clear_table_response")["table_name"],
            "story_view");
  EXPECT_EQ(c.Json("/has/table", {{"table_name", "story_view"}}, "has_table_response")["table_exists"],
            false);
  ExpectError(c.ExecuteJson("/get/records", {{"table_name", "story_view"}}),
              {"table_name", "story_view", "does not exist"}, "read of a cleared view");
  EXPECT_EQ(c.Json("/has/table", {{"table_name", "story"}}, "has_table_response")["table_exists"], true);
  pb::ClearTableRequest clear;
  clear.set_table_name("story");
  c.Binary<pb::ClearTableResponse>("/clear/table", clear, "clear_table_response");
  EXPECT_EQ(c.Json("/has/table", {{"table_name", "story"}}, "has_table_response")["table_exists"], false);
  ExpectError(c.ExecuteBinary("/clear/table", clear), {"table_name", "'story'", "does not exist"},
              "clear of a cleared table");
  (*clear.mutable_options())["no_error_if_not_exists"] = "true";
  c.Binary<pb::ClearTableResponse>("/clear/table", clear, "clear_table_response");
  EXPECT_EQ(c.Json("/show/table", {{"table_name", ""}}, "show_table_response")["table_names"], json::array());
}

// ---------------------------------------------------------------------------
// 2. The three request encodings give the same results; responses follow
// the request encoding.

TEST_F(GrpcE2eTest, EncodingsAgree) {
  Client& c = *client_;
  MakeRandomTable("enc", R"([["k","int"],["v","double","nullable"],["s","char4"]])", 5000, 7);
  ASSERT_FALSE(HasFailure());

  // References from the rows read back.
  const json rows = c.Json("/get/records", {{"table_name", "enc"}, {"limit", 5000}, {"encoding", "json"}},
                           "get_records_response");
  ASSERT_EQ(rows["records_json"].size(), 5000u);
  std::vector<double> v;
  int64_t positive = 0;
  for (const auto& text : rows["records_json"]) {
    const json r = json::parse(text.get<std::string>());
    if (!r["v"].is_null()) v.push_back(r["v"].get<double>());
    positive += r["k"].get<int64_t>() > 0 && !r["v"].is_null() && r["v"].get<double>() > 0;
  }
  const Stats want = ReferenceStats(v);
  const std::string expression = "k > 0 and v > 0";

  const json stats_json = {{"table_name", "enc"}, {"column_name", "v"}, {"stats", kAllStats}};
  pb::AggregateStatisticsRequest stats_pb;
  stats_pb.set_table_name("enc");
  stats_pb.set_column_name("v");
  stats_pb.set_stats(kAllStats);
  const json filter_json = {{"table_name", "enc"}, {"view_name", ""}, {"expression", expression}};
  pb::FilterRequest filter_pb;
  filter_pb.set_table_name("enc");
  filter_pb.set_expression(expression);

  // Execute.
  ExpectStats(c.Json("/aggregate/statistics", stats_json, "aggregate_statistics_response")["stats"], want,
              "Execute json");
  ExpectStats(c.Binary<pb::AggregateStatisticsResponse>("/aggregate/statistics", stats_pb,
                                                        "aggregate_statistics_response")
                  .stats(),
              want, "Execute binary");
  ExpectStats(c.Binary<pb::AggregateStatisticsResponse>("/aggregate/statistics", stats_pb,
                                                        "aggregate_statistics_response", /*snappy=*/true)
                  .stats(),
              want, "Execute snappy");
  EXPECT_EQ(c.Json("/filter", filter_json, "filter_response")["count"], positive);
  EXPECT_EQ(c.Binary<pb::FilterResponse>("/filter", filter_pb, "filter_response").count(), positive);
  EXPECT_EQ(c.Binary<pb::FilterResponse>("/filter", filter_pb, "filter_response", true).count(), positive);
  // request_encoding unset means binary.
  {
    const pb::GpudbResponse r = c.ExecuteRaw("/filter", std::nullopt, filter_pb.SerializeAsString(), "");
    EXPECT_EQ(r.status(), "OK") << r.message();
    pb::FilterResponse f;
    EXPECT_TRUE(f.ParseFromString(r.data()));
    EXPECT_EQ(f.count(), positive);
  }

  // CreateJob + GetJob: json → job_response_str; binary and snappy → job_response.
  {
    const auto [id, tag] = c.SubmitJson("/aggregate/statistics", stats_json);
    const pb::GetJobResponse job = c.Wait(id);
    EXPECT_EQ(job.endpoint(), "/aggregate/statistics");
    EXPECT_EQ(job.response_encoding(), "json");
    EXPECT_TRUE(job.job_response().empty());
    ExpectStats(json::parse(job.job_response_str())["stats"], want, "job json");
  }
  for (const std::string encoding : {"binary", "snappy"}) {
    std::string payload = stats_pb.SerializeAsString();
    if (encoding == "snappy") payload = Snappy(payload);
    const auto [id, tag] = c.Submit("/aggregate/statistics", encoding, payload);
    const pb::GetJobResponse job = c.Wait(0, tag);
    EXPECT_EQ(job.endpoint(), "/aggregate/statistics");
    EXPECT_EQ(job.response_encoding(), "binary") << encoding;
    EXPECT_TRUE(job.job_response_str().empty()) << encoding;
    pb::AggregateStatisticsResponse r;
    EXPECT_TRUE(r.ParseFromString(job.job_response())) << encoding;
    ExpectStats(r.stats(), want, "job " + encoding);
  }

  // /create/job and /get/job are endpoints of Execute too.
  {
    const json created =
        c.Json("/create/job",
               {{"endpoint", "/filter"}, {"request_encoding", "json"}, {"data_str", filter_json.dump()}},
               "create_job_response");
    const int64_t id = created.value("job_id", int64_t{0});
    ASSERT_GT(id, 0);
    const pb::GetJobResponse done = c.Wait(id);
    EXPECT_EQ(json::parse(done.job_response_str())["count"], positive);
    const json got = c.Json("/get/job", {{"job_id", id}}, "get_job_response");
    EXPECT_EQ(got["job_status"], "DONE");
    EXPECT_EQ(got["response_encoding"], "json");
    EXPECT_EQ(json::parse(got["job_response_str"].get<std::string>())["count"], positive);
    EXPECT_EQ(got["info"]["job_tag"], created["info"]["job_tag"]);
  }
}

// Schemas and schema-qualified names over gRPC, in protobuf and json: a
// table in a schema, read by its qualified name; its type by the id
// /get/records names; /get/records/fromcollection; the schema dropped with
// its tables as an async job.
TEST_F(GrpcE2eTest, SchemasAndQualifiedNames) {
  Client& c = *client_;
  pb::CreateSchemaRequest create;
  create.set_schema_name("sales");
  EXPECT_EQ(c.Binary<pb::CreateSchemaResponse>("/create/schema", create, "create_schema_response").schema_name(),
            "sales");
  ExpectError(c.ExecuteBinary("/create/schema", create), {"schema_name: schema 'sales' already exists"},
              "create_schema twice");
  MakeRandomTable("sales.t", R"([["k","int"],["v","double","nullable"]])", 1000, 5);
  MakeRandomTable("t", R"([["k","int"]])", 10, 5);
  ASSERT_FALSE(HasFailure());

  pb::GetRecordsFromCollectionRequest read;
  read.set_table_name("sales.t");
  read.set_offset(990);
  (*read.mutable_options())["return_record_ids"] = "true";
  const auto records = c.Binary<pb::GetRecordsFromCollectionResponse>(
      "/get/records/fromcollection", read, "get_records_from_collection_response");
  EXPECT_EQ(records.records_binary_size(), 10);
  ASSERT_EQ(records.record_ids_size(), 10);
  EXPECT_EQ(records.record_ids(9), "999");
  ASSERT_EQ(records.type_names_size(), 10);
  EXPECT_EQ(At(records.info(), "total_number_of_records"), "1000");

  pb::ShowTypesRequest types;
  types.set_type_id(records.type_names(0));
  const auto shown = c.Binary<pb::ShowTypesResponse>("/show/types", types, "show_types_response");
  ASSERT_EQ(shown.type_schemas_size(), 1);
  EXPECT_EQ(json::parse(shown.type_schemas(0))["fields"][1]["type"], json({"double", "null"}));

  const json schema = c.Json("/show/schema", {{"schema_name", "sales"}}, "show_schema_response");
  EXPECT_EQ(schema["schema_tables"], json({{"sales.t"}}));
  EXPECT_EQ(c.Json("/show/table", {{"table_name", ""}}, "show_table_response")["table_names"],
            json({"t", "sales.t"}));

  pb::DropSchemaRequest drop;
  drop.set_schema_name("sales");
  ExpectError(c.ExecuteBinary("/drop/schema", drop), {"schema 'sales' is not empty (1 table)"}, "drop_schema");
  (*drop.mutable_options())["cascade"] = "true";
  const auto [id, tag] = c.SubmitBinary("/drop/schema", drop);
  EXPECT_EQ(c.WaitBinary<pb::DropSchemaResponse>(id).schema_name(), "sales");
  EXPECT_EQ(c.Json("/has/schema", {{"schema_name", "sales"}}, "has_schema_response")["schema_exists"], false);
  EXPECT_EQ(c.Json("/has/table", {{"table_name", "sales.t"}}, "has_table_response")["table_exists"], false);
  EXPECT_EQ(c.Json("/has/table", {{"table_name", "ki_home.t"}}, "has_table_response")["table_exists"], true);
}

// ---------------------------------------------------------------------------
// 3. Job tags and job states.

TEST_F(GrpcE2eTest, TagsAndStates) {
  Client& c = *client_;
  MakeRandomTable("tags", R"([["a","long"],["b","double"]])", 2000, 3);
  ASSERT_FALSE(HasFailure());
  const json count_all = {{"table_name", "tags"}, {"view_name", ""}, {"expression", "a = a"}};

  // A caller's tag comes back and finds the job; a second job cannot take it
  // while the first holds it.
  {
    const auto [id, tag] = c.SubmitJson("/filter", count_all, {{"job_tag", "my-Tag_9"}});
    EXPECT_EQ(tag, "my-Tag_9");
    EXPECT_EQ(c.WaitJson(0, "my-Tag_9")["count"], 2000);
    const pb::GetJobResponse by_id = c.Wait(id);
    EXPECT_EQ(At(by_id.info(), "job_tag"), "my-Tag_9");
    pb::CreateJobRequest dup;
    dup.set_endpoint("/filter");
    dup.set_request_encoding("json");
    dup.set_data_str(count_all.dump());
    (*dup.mutable_options())["job_tag"] = "my-Tag_9";
    ExpectError(c.CreateJob(dup), {"job_tag", "my-Tag_9", "already used"}, "duplicate tag");
  }

  // Generated tags: unique, not the id.
  {
    std::set<std::string> tags;
    std::set<int64_t> ids;
    for (int i = 0; i < 40; ++i) {
      const auto [id, tag] = c.SubmitJson("/filter", count_all);
      EXPECT_NE(tag, std::to_string(id));
      tags.insert(tag);
      ids.insert(id);
    }
    EXPECT_EQ(tags.size(), 40u);
    EXPECT_EQ(ids.size(), 40u);
    for (const std::string& tag : tags) EXPECT_EQ(c.WaitJson(0, tag)["count"], 2000);
  }

  // remove_job_on_complete: the first GetJob that sees it finished returns
  // the result; the next says it was removed (by id and by tag).
  for (const bool by_tag : {false, true}) {
    const auto [id, tag] = c.SubmitJson("/filter", count_all, {{"remove_job_on_complete", "true"}});
    const json r = by_tag ? c.WaitJson(0, tag) : c.WaitJson(id);
    EXPECT_EQ(r["count"], 2000);
    pb::GetJobResponse gone;
    pb::GetJobRequest request;
    request.set_job_id(id);
    ExpectError(c.GetJob(request), {"job_id", std::to_string(id), "was removed when its result was returned"},
                "removed job by id");
    request.set_job_id(0);
    (*request.mutable_options())["job_tag"] = tag;
    ExpectError(c.GetJob(request), {"job_tag", tag, "was removed when its result was returned"},
                "removed job by tag");
  }

  // While the streams are held, a job reports RUNNING (running, not
  // successful), also with remove_job_on_complete; then DONE.
  {
    StreamGate gate(server_->engine());
    const auto [id, tag] = c.SubmitJson("/filter", count_all, {{"remove_job_on_complete", "true"}});
    const auto [id2, tag2] = c.SubmitJson("/aggregate/statistics",
                                          {{"table_name", "tags"}, {"column_name", "b"}, {"stats", "count"}},
                                          {{"job_tag", "held"}});
    for (int i = 0; i < 3; ++i) {
      pb::GetJobResponse job;
      EXPECT_EQ(c.Poll(id, "", &job).status(), "OK");
      EXPECT_EQ(job.job_status(), "RUNNING");
      EXPECT_TRUE(job.running());
      EXPECT_FALSE(job.successful());
      EXPECT_EQ(job.endpoint(), "/filter");
      EXPECT_TRUE(job.job_response_str().empty());
      job.Clear();
      EXPECT_EQ(c.Poll(0, tag, &job).status(), "OK");
      EXPECT_EQ(job.job_status(), "RUNNING");
      job.Clear();
      EXPECT_EQ(c.Poll(0, "held", &job).status(), "OK");
      EXPECT_EQ(job.job_status(), "RUNNING");
      EXPECT_EQ(job.endpoint(), "/aggregate/statistics");
    }
    gate.Open();
    EXPECT_EQ(c.WaitJson(0, tag)["count"], 2000);
    EXPECT_EQ(c.WaitJson(id2)["stats"]["count"], 2000);
    pb::GetJobRequest request;
    request.set_job_id(id);
    ExpectError(c.GetJob(request), {"was removed when its result was returned"}, "removed after DONE");
  }

  // ERROR: the job's error message is in status_map.
  {
    const auto [id, tag] = c.SubmitJson(
        "/filter", {{"table_name", "no_such_table"}, {"view_name", ""}, {"expression", "a > 0"}});
    const pb::GetJobResponse job = c.Wait(id);
    EXPECT_EQ(job.job_status(), "ERROR");
    EXPECT_FALSE(job.running());
    EXPECT_FALSE(job.successful());
    const std::string message = At(job.status_map(), "error_message");
    EXPECT_TRUE(Contains(message, "table_name") && Contains(message, "no_such_table") &&
                Contains(message, "does not exist"))
        << message;
    const auto [id2, tag2] =
        c.SubmitJson("/filter", {{"table_name", "tags"}, {"view_name", ""}, {"expression", "a >"}});
    const pb::GetJobResponse bad = c.Wait(0, tag2);
    EXPECT_EQ(bad.job_status(), "ERROR");
    EXPECT_TRUE(Contains(At(bad.status_map(), "error_message"), "expression"))
        << At(bad.status_map(), "error_message");
    // A failed insert, removed once seen.
    const auto [id3, tag3] = c.SubmitJson(
        "/insert/records",
        {{"table_name", "tags"}, {"list_encoding", "json"}, {"list_str", {R"({"a":"x","b":1})"}}},
        {{"remove_job_on_complete", "true"}});
    const pb::GetJobResponse failed = c.Wait(id3);
    EXPECT_EQ(failed.job_status(), "ERROR");
    EXPECT_TRUE(Contains(At(failed.status_map(), "error_message"), "list_str[0]") &&
                Contains(At(failed.status_map(), "error_message"), "column 'a'"))
        << At(failed.status_map(), "error_message");
    pb::GetJobRequest again;
    (*again.mutable_options())["job_tag"] = tag3;
    ExpectError(c.GetJob(again), {"job_tag", tag3, "was removed when its result was returned"},
                "removed failed job");
    EXPECT_EQ(c.Json("/show/table", {{"table_name", "tags"}}, "show_table_response")["sizes"], json({2000}));
  }
  ExpectServing();
}

// ---------------------------------------------------------------------------
// 4. Every error case: an ERROR wrapper naming the field and the problem,
// and the server keeps serving.

TEST_F(GrpcE2eTest, Errors) {
  Client& c = *client_;
  MakeRandomTable("err", R"([["x","int"],["y","double","nullable"],["s","string"]])", 1000, 5);
  ASSERT_FALSE(HasFailure());
  pb::HasTableRequest has;
  has.set_table_name("err");
  const std::string has_bytes = has.SerializeAsString();
  const std::string has_json = R"({"table_name":"err"})";

  struct Case {
    std::string what;
    pb::GpudbResponse response;
    std::vector<std::string> parts;
  };
  std::vector<Case> cases;
  // Records a case, then makes a call that must succeed.
  auto add = [&](Case k) {
    cases.push_back(std::move(k));
    ExpectServing();
  };
  auto both = [&](const std::string& what, const std::string& endpoint,
                  const std::optional<std::string>& encoding, const std::string& data,
                  const std::string& data_str, std::vector<std::string> parts) {
    cases.push_back({"Execute: " + what, c.ExecuteRaw(endpoint, encoding, data, data_str), parts});
    ExpectServing();
    pb::CreateJobRequest job;
    job.set_endpoint(endpoint);
    if (encoding) job.set_request_encoding(*encoding);
    job.set_data(data);
    job.set_data_str(data_str);
    cases.push_back({"CreateJob: " + what, c.CreateJob(job), parts});
    ExpectServing();
  };
  both("unknown endpoint", "/no/such/endpoint", "json", "", has_json,
       {"endpoint", "/no/such/endpoint", "not"});
  both("unknown encoding", "/has/table", "xml", has_bytes, "", {"request_encoding", "xml"});
  both("data with json", "/has/table", "json", has_bytes, "", {"data", "json"});
  both("data_str with binary", "/has/table", "binary", "", has_json, {"data_str", "binary"});
  both("data_str with snappy", "/has/table", "snappy", "", has_json, {"data_str", "snappy"});
  both("data_str with default encoding", "/has/table", std::nullopt, "", has_json, {"data_str", "binary"});
  both("both carriers", "/has/table", "binary", has_bytes, has_json, {"data", "data_str", "both"});
  both("neither carrier (json)", "/has/table", "json", "", "", {"data_str", "empty"});
  both("neither carrier (binary)", "/has/table", "binary", "", "", {"data", "empty"});
  both("malformed protobuf", "/has/table", "binary",
       std::string("\x0a\x05"
                   "ab",
                   4),
       "", {"data", "malformed"});
  both("malformed JSON", "/has/table", "json", "", R"({"table_name": )", {"data_str", "malformed JSON"});
  both("JSON not an object", "/has/table", "json", "", "[1,2]", {"data_str", "object"});
  both("malformed snappy", "/has/table", "snappy", "\xff\xff\xff\xff\xff\xff", "", {"data", "snappy"});
  both("unknown field", "/has/table", "json", "", R"({"table_name":"err","tabel_name":"err"})",
       {"tabel_name", "unknown field"});
  both("wrong field type", "/has/table", "json", "", R"({"table_name":5})",
       {"table_name", "expected string"});
  // 100,000 levels crashed the server.
  both("deep JSON", "/has/table", "json", "",
       R"({"table_name":"err","options":)" + std::string(100000, '[') + std::string(100000, ']') + "}",
       {"data_str", "JSON nested deeper than 64 levels"});
  {
    // A map of a million keys: quadratic decoding took minutes. Answered.
    pb::HasTableRequest big = has;
    std::string text = R"({"table_name":"err","options":{)";
    for (int i = 0; i < 1000000; ++i) {
      (*big.mutable_options())[absl::StrCat("k", i)] = "v";
      absl::StrAppend(&text, i == 0 ? "" : ",", "\"k", i, "\":\"v\"");
    }
    text += "}}";
    for (const auto& [encoding, data, data_str] :
         {std::tuple<std::string, std::string, std::string>{"binary", big.SerializeAsString(), ""},
          {"json", "", text}}) {
      pb::GpudbResponse r = c.ExecuteRaw("/has/table", encoding, data, data_str);
      EXPECT_EQ(r.status(), "OK") << encoding << ": " << r.message();
    }
  }
  {
    // Snappy of something that is not the request.
    both("snappy of malformed protobuf", "/has/table", "snappy",
         Snappy(std::string("\x0a\x05"
                            "ab",
                            4)),
         "", {"data", "malformed"});
  }

  // Job options.
  auto create = [&](const std::map<std::string, std::string>& options) {
    pb::CreateJobRequest job;
    job.set_endpoint("/has/table");
    job.set_request_encoding("json");
    job.set_data_str(has_json);
    for (const auto& [k, v] : options) (*job.mutable_options())[k] = v;
    return c.CreateJob(job);
  };
  add({"tag with a space", create({{"job_tag", "bad tag"}}), {"job_tag", "bad tag", "characters"}});
  add({"tag with a slash", create({{"job_tag", "a/b"}}), {"job_tag", "a/b", "characters"}});
  add({"empty tag", create({{"job_tag", ""}}), {"job_tag", "empty"}});
  add({"bad remove flag", create({{"remove_job_on_complete", "yes"}}), {"remove_job_on_complete", "yes"}});
  {
    pb::GetJobRequest get;
    get.set_job_id(987654321);
    add({"unknown job id", c.GetJob(get), {"job_id", "987654321", "does not exist"}});
    get.set_job_id(0);
    (*get.mutable_options())["job_tag"] = "no-such-tag";
    add({"unknown tag", c.GetJob(get), {"job_tag", "no-such-tag"}});
  }

  // Endpoint errors (from Execute: the job's message).
  add({"unknown table",
       c.ExecuteJson("/get/records", {{"table_name", "nope"}, {"encoding", "json"}}),
       {"table_name", "'nope'", "does not exist"}});
  add({"unknown table (statistics)",
       c.ExecuteJson("/aggregate/statistics",
                     {{"table_name", "nope"}, {"column_name", "x"}, {"stats", "sum"}}),
       {"table_name", "'nope'", "does not exist"}});
  add({"invalid table name",
       c.ExecuteJson("/filter", {{"table_name", "bad name!"}, {"view_name", ""}, {"expression", "x > 0"}}),
       {"table_name", "bad name!"}});
  add({"unknown column",
       c.ExecuteJson("/filter",
                     {{"table_name", "err"}, {"view_name", "v1"}, {"expression", "x > 0 and nope < 3"}}),
       {"expression", "unknown column 'nope'", "position 11"}});
  add({"unknown column (get/records expression)",
       c.ExecuteJson("/get/records",
                     {{"table_name", "err"}, {"encoding", "json"}, {"options", {{"expression", "zz = 1"}}}}),
       {"options.expression", "unknown column 'zz'"}});
  add({"unknown column (statistics)",
       c.ExecuteJson("/aggregate/statistics",
                     {{"table_name", "err"}, {"column_name", "nope"}, {"stats", "sum"}}),
       {"column_name", "unknown column 'nope'"}});
  add({"bad expression",
       c.ExecuteJson("/filter", {{"table_name", "err"}, {"view_name", ""}, {"expression", "x > (y + "}}),
       {"expression", "position"}});
  add({"bad expression (types)",
       c.ExecuteJson("/filter", {{"table_name", "err"}, {"view_name", ""}, {"expression", "s > 3"}}),
       {"expression", "position"}});
  add({"empty expression",
       c.ExecuteJson("/filter", {{"table_name", "err"}, {"view_name", ""}, {"expression", ""}}),
       {"expression", "empty"}});
  add({"view name taken",
       c.ExecuteJson("/filter", {{"table_name", "err"}, {"view_name", "err"}, {"expression", "x > 0"}}),
       {"view_name", "'err'", "already exists"}});
  add({"unknown statistic",
       c.ExecuteJson("/aggregate/statistics",
                     {{"table_name", "err"}, {"column_name", "x"}, {"stats", "sum,median"}}),
       {"stats", "median"}});
  add({"negative offset",
       c.ExecuteJson("/get/records", {{"table_name", "err"}, {"offset", -1}}),
       {"offset", "-1"}});
  add({"insert json: type mismatch",
       c.ExecuteJson("/insert/records",
                     {{"table_name", "err"},
                      {"list_encoding", "json"},
                      {"list_str", {R"({"x":1,"y":2.5,"s":"ok"})", R"({"x":"one","y":null,"s":"a"})"}}}),
       {"list_str[1]", "column 'x'", "expected integer, got string"}});
  add({"insert json: null in a non-nullable column",
       c.ExecuteJson(
           "/insert/records",
           {{"table_name", "err"}, {"list_encoding", "json"}, {"list_str", {R"({"x":null,"y":1,"s":"a"})"}}}),
       {"list_str[0]", "column 'x'", "null"}});
  add({"insert json: unknown column",
       c.ExecuteJson(
           "/insert/records",
           {{"table_name", "err"}, {"list_encoding", "json"}, {"list_str", {R"({"x":1,"s":"a","w":2})"}}}),
       {"list_str[0]", "unknown column 'w'"}});
  add({"insert json: int out of range",
       c.ExecuteJson(
           "/insert/records",
           {{"table_name", "err"}, {"list_encoding", "json"}, {"list_str", {R"({"x":3000000000,"s":"a"})"}}}),
       {"list_str[0]", "column 'x'", "out of range"}});
  {
    // Binary records of the wrong shape: a string where the int is, a
    // truncated record, bytes left over, a bad union branch.
    std::string good, wrong, truncated, extra, branch;
    PutLong(&good, 1), PutLong(&good, 0), PutDouble(&good, 2.5), PutBytes(&good, "ok");
    PutBytes(&wrong, "one"), PutLong(&wrong, 1), PutDouble(&wrong, 1), PutBytes(&wrong, "a");
    PutLong(&truncated, 1), PutLong(&truncated, 0);
    extra = good + "xyz";
    PutLong(&branch, 1), PutLong(&branch, 4), PutBytes(&branch, "a");
    const std::vector<std::pair<std::string, std::vector<std::string>>> bad = {
        {wrong, {"list[1]", "column"}},
        {truncated, {"list[1]", "column 'y'", "ends"}},
        {extra, {"list[1]", "bytes left"}},
        {branch, {"list[1]", "column 'y'", "union"}}};
    for (const auto& [record, parts] : bad) {
      pb::InsertRecordsRequest insert;
      insert.set_table_name("err");
      insert.add_list(good);
      insert.add_list(record);
      add({"insert binary: bad record", c.ExecuteBinary("/insert/records", insert), parts});
    }
    pb::InsertRecordsRequest mixed;
    mixed.set_table_name("err");
    mixed.add_list(good);
    mixed.add_list_str(R"({"x":1,"s":"a"})");
    add({"insert: list_str with binary", c.ExecuteBinary("/insert/records", mixed), {"list_str", "binary"}});
  }
  add({"random: unknown column",
       c.ExecuteJson("/insert/records/random",
                     {{"table_name", "err"}, {"count", 5}, {"options", {{"zz", {{"min", 1}}}}}}),
       {"options", "'zz'"}});
  add({"random: bad null_percentage",
       c.ExecuteJson("/insert/records/random",
                     {{"table_name", "err"}, {"count", 5}, {"options", {{"y", {{"null_percentage", 150}}}}}}),
       {"null_percentage", "150"}});
  add({"random: negative count",
       c.ExecuteJson("/insert/records/random", {{"table_name", "err"}, {"count", -5}}),
       {"count", "-5"}});
  add({"create table: exists",
       c.ExecuteJson("/create/table", {{"table_name", "err"}, {"type_id", R"([["x","int"]])"}}),
       {"table_name", "err", "exists"}});
  add({"create table: unknown type id",
       c.ExecuteJson("/create/table", {{"table_name", "fresh"}, {"type_id", "123456"}}),
       {"type_id", "123456"}});
  add({"create type: bad definition",
       c.ExecuteJson("/create/type", {{"type_definition", R"([["x","complex"]])"}, {"label", ""}}),
       {"type_definition", "complex"}});

  for (const Case& k : cases) ExpectError(k.response, k.parts, k.what);

  // None of the failed inserts added a row; the table still answers.
  const json shown = c.Json("/show/table", {{"table_name", "err"}}, "show_table_response");
  EXPECT_EQ(shown["sizes"], json({1000}));
  EXPECT_EQ(c.Json("/has/table", {{"table_name", "fresh"}}, "has_table_response")["table_exists"], false);
  EXPECT_EQ(c.Json("/has/table", {{"table_name", "v1"}}, "has_table_response")["table_exists"], false);
  ExpectServing();
}

// A port in use is refused, not shared (gRPC's SO_REUSEPORT would let a
// second server take half of the first one's calls).
TEST_F(GrpcE2eTest, PortInUse) {
  server::ServerOptions options;
  options.host = "127.0.0.1";
  options.grpc_port = server_->grpc_port();
  options.engine.devices.spec = "host:1";
  auto second = server::Server::Start(options);
  EXPECT_FALSE(second.ok()) << "a second server listens on port " << options.grpc_port;
  if (!second.ok()) {
    EXPECT_TRUE(Contains(std::string(second.status().message()), std::to_string(options.grpc_port)))
        << second.status();
  }
  ExpectServing();
}

// A job that runs out of device memory fails alone: its memory comes back,
// and jobs before, after and beside it finish right.
class GrpcE2eMemoryTest : public GrpcE2eTest {
 protected:
  void SetUp() override { Start("host:1", size_t{8} << 20); }
};

TEST_F(GrpcE2eMemoryTest, OutOfDeviceMemory) {
  Client& c = *client_;
  engine::Device& device = *server_->engine().devices().at(0);
  ASSERT_EQ(device.memory().limit(), size_t{8} << 20);

  // Before: a small table, its statistics.
  MakeRandomTable("small", R"([["v","double"]])", 1000, 11);
  c.Json("/create/table", {{"table_name", "big"}, {"type_id", R"([["a","double"],["b","double"]])"}},
         "create_table_response");
  ASSERT_FALSE(HasFailure());
  std::vector<double> small;
  const json small_rows =
      c.Json("/get/records", {{"table_name", "small"}, {"limit", 1000}, {"encoding", "json"}},
             "get_records_response");
  for (const auto& text : small_rows["records_json"]) {
    small.push_back(json::parse(text.get<std::string>())["v"].get<double>());
  }
  ASSERT_EQ(small.size(), 1000u);
  const Stats want = ReferenceStats(small);
  const json stats = {{"table_name", "small"}, {"column_name", "v"}, {"stats", kAllStats}};
  ExpectStats(c.Json("/aggregate/statistics", stats, "aggregate_statistics_response")["stats"], want,
              "before");
  const size_t in_use_before = device.memory().in_use();

  // 2 × 600,000 doubles (9.6 MB) do not fit in 8 MiB: the insert fails with
  // an out-of-memory error; jobs submitted beside it finish right.
  const auto [oom_id, oom_tag] =
      c.SubmitJson("/insert/records/random", {{"table_name", "big"}, {"count", 600000}});
  std::vector<std::string> beside;
  for (int i = 0; i < 8; ++i) beside.push_back(c.SubmitJson("/aggregate/statistics", stats).second);
  const pb::GetJobResponse oom = c.Wait(oom_id);
  EXPECT_EQ(oom.job_status(), "ERROR");
  const std::string message = At(oom.status_map(), "error_message");
  EXPECT_TRUE(Contains(message, "memory")) << message;
  for (const std::string& tag : beside) ExpectStats(c.WaitJson(0, tag)["stats"], want, "beside");

  // The same through Execute.
  ExpectError(c.ExecuteJson("/insert/records/random", {{"table_name", "big"}, {"count", 600000}}), {"memory"},
              "Execute out of memory");

  // Every byte came back; the table is unchanged; the engine still works.
  EXPECT_EQ(device.memory().in_use(), in_use_before);
  EXPECT_EQ(c.Json("/show/table", {{"table_name", "big"}}, "show_table_response")["sizes"], json({0}));
  ExpectStats(c.Json("/aggregate/statistics", stats, "aggregate_statistics_response")["stats"], want,
              "after");
  const json fits = c.Json("/insert/records/random", {{"table_name", "big"}, {"count", 100000}},
                           "insert_records_random_response");
  EXPECT_EQ(fits.value("count", -1), 100000);
  EXPECT_EQ(c.Json("/show/table", {{"table_name", "big"}}, "show_table_response")["sizes"], json({100000}));
  EXPECT_GT(device.memory().in_use(), in_use_before);
  c.Json("/clear/table", {{"table_name", "big"}}, "clear_table_response");
  EXPECT_EQ(device.memory().in_use(), in_use_before);
  ExpectServing();
}

// ---------------------------------------------------------------------------
// 5. Concurrency: 32 clients × 100 jobs.

TEST_F(GrpcE2eTest, ConcurrentClients) {
  constexpr int kThreads = 32;
  constexpr int kJobs = 100;
  constexpr int64_t kRows = 10000;
  MakeRandomTable("shared", R"([["k","int"],["v","double","nullable"]])", kRows, 99);
  client_->Json("/create/table", {{"table_name", "log"}, {"type_id", R"([["thread","int"],["n","long"]])"}},
                "create_table_response");
  ASSERT_FALSE(HasFailure());

  // References from the shared table's rows.
  std::vector<std::pair<int32_t, std::optional<double>>> rows;
  for (int64_t offset = 0; offset < kRows; offset += kServerMaxRows) {
    const json page =
        client_->Json("/get/records", {{"table_name", "shared"}, {"offset", offset}, {"encoding", "json"}},
                      "get_records_response");
    for (const auto& text : page["records_json"]) {
      const json r = json::parse(text.get<std::string>());
      rows.emplace_back(r["k"].get<int32_t>(),
                        r["v"].is_null() ? std::nullopt : std::optional<double>(r["v"].get<double>()));
    }
  }
  ASSERT_EQ(static_cast<int64_t>(rows.size()), kRows);
  auto count_where = [&](int threshold) {
    int64_t n = 0;
    for (const auto& [k, v] : rows) n += k > threshold && v.has_value();
    return n;
  };
  std::vector<double> v_values, k_values;
  for (const auto& [k, v] : rows) {
    k_values.push_back(k);
    if (v) v_values.push_back(*v);
  }
  const Stats k_stats = ReferenceStats(k_values);
  const Stats v_stats = ReferenceStats(v_values);

  std::mutex mu;
  std::vector<int64_t> job_ids;
  std::vector<std::string> job_tags;
  std::atomic<int> done_jobs{0};

  auto client_thread = [&](int t) {
    Client c(t % 2 == 0 ? channel_
                        : grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->grpc_port()),
                                              grpc::InsecureChannelCredentials()));
    const std::string own = "own_" + std::to_string(t);
    c.Json("/create/table", {{"table_name", own}, {"type_id", R"([["i","long"],["w","double"]])"}},
           "create_table_response");
    std::vector<double> inserted;
    int log_inserts = 0;
    std::vector<int64_t> ids;
    std::vector<std::string> tags;
    for (int j = 0; j < kJobs && !::testing::Test::HasFailure(); ++j) {
      const int threshold = (t * 7919 + j * 104729) % 199999 - 99999;
      const std::string where = "k > " + std::to_string(threshold) + " and not is_null(v)";
      switch (j % 6) {
        case 0: {  // filter (count), CreateJob json + GetJob by id
          const auto [id, tag] =
              c.SubmitJson("/filter", {{"table_name", "shared"}, {"view_name", ""}, {"expression", where}});
          EXPECT_EQ(c.WaitJson(id)["count"], count_where(threshold)) << where;
          ids.push_back(id);
          tags.push_back(tag);
          break;
        }
        case 1: {  // statistics, Execute binary (or snappy)
          if (j % 18 == 13) {
            // The shared log grows by whole inserts only, and has at
            // least every insert this thread has seen return.
            pb::AggregateStatisticsRequest r;
            r.set_table_name("log");
            r.set_column_name("n");
            r.set_stats("count,sum");
            const auto got = c.Binary<pb::AggregateStatisticsResponse>("/aggregate/statistics", r,
                                                                       "aggregate_statistics_response");
            const double count = got.stats().count("count") ? got.stats().at("count") : -1;
            const double sum = got.stats().count("sum") ? got.stats().at("sum") : -1;
            EXPECT_EQ(std::fmod(count, 3.0), 0.0) << "log count " << count;
            EXPECT_GE(count, 3.0 * log_inserts) << "log count " << count;
            EXPECT_EQ(sum, count) << "log sum";
            break;
          }
          pb::AggregateStatisticsRequest r;
          r.set_table_name("shared");
          r.set_column_name(j % 12 == 1 ? "k" : "v");
          r.set_stats(kAllStats);
          ExpectStats(c.Binary<pb::AggregateStatisticsResponse>("/aggregate/statistics", r,
                                                                "aggregate_statistics_response", t % 3 == 0)
                          .stats(),
                      j % 12 == 1 ? k_stats : v_stats, "shared statistics");
          break;
        }
        case 2: {  // insert into the thread's table, Execute json
          json list = json::array();
          for (int n = 0; n < 3; ++n) {
            const double w = t * 1000 + j + n * 0.5;
            list.push_back(json({{"i", j * 10 + n}, {"w", w}}).dump());
            inserted.push_back(w);
          }
          EXPECT_EQ(
              c.Json("/insert/records", {{"table_name", own}, {"list_str", list}, {"list_encoding", "json"}},
                     "insert_records_response")["count_inserted"],
              3);
          // Three rows into the shared log, in binary: n = 1 each.
          pb::InsertRecordsRequest log;
          log.set_table_name("log");
          for (int n = 0; n < 3; ++n) {
            std::string record;
            PutLong(&record, t), PutLong(&record, 1);
            log.add_list(record);
          }
          EXPECT_EQ(c.Binary<pb::InsertRecordsResponse>("/insert/records", log, "insert_records_response")
                        .count_inserted(),
                    3);
          ++log_inserts;
          break;
        }
        case 3: {  // statistics on the thread's table, CreateJob binary + GetJob by tag
          pb::AggregateStatisticsRequest r;
          r.set_table_name(own);
          r.set_column_name("w");
          r.set_stats(kAllStats);
          const std::string tag = "t" + std::to_string(t) + "-j" + std::to_string(j);
          const auto [id, got_tag] = c.SubmitBinary("/aggregate/statistics", r, {{"job_tag", tag}});
          ExpectStats(c.WaitBinary<pb::AggregateStatisticsResponse>(0, tag).stats(), ReferenceStats(inserted),
                      own + " statistics");
          ids.push_back(id);
          tags.push_back(got_tag);
          break;
        }
        case 4: {  // filter making a view, Execute snappy; read it; drop it
          const std::string view = "view_" + std::to_string(t) + "_" + std::to_string(j);
          pb::FilterRequest r;
          r.set_table_name("shared");
          r.set_view_name(view);
          r.set_expression(where);
          EXPECT_EQ(c.Binary<pb::FilterResponse>("/filter", r, "filter_response", /*snappy=*/true).count(),
                    count_where(threshold));
          const json page =
              c.Json("/get/records", {{"table_name", view}, {"limit", 0}}, "get_records_response");
          EXPECT_EQ(page["total_number_of_records"], count_where(threshold));
          c.Json("/clear/table", {{"table_name", view}}, "clear_table_response");
          break;
        }
        case 5: {  // filter (count), CreateJob snappy, remove_job_on_complete
          pb::FilterRequest r;
          r.set_table_name("shared");
          r.set_expression(where);
          const auto [id, tag] = c.Submit("/filter", "snappy", Snappy(r.SerializeAsString()),
                                          {{"remove_job_on_complete", "true"}});
          EXPECT_EQ(c.WaitBinary<pb::FilterResponse>(id).count(), count_where(threshold));
          ids.push_back(id);
          tags.push_back(tag);
          break;
        }
      }
      ++done_jobs;
    }
    const json final_rows = c.Json("/show/table", {{"table_name", own}}, "show_table_response");
    EXPECT_EQ(final_rows["sizes"], json({static_cast<int64_t>(inserted.size())}));
    std::lock_guard<std::mutex> lock(mu);
    job_ids.insert(job_ids.end(), ids.begin(), ids.end());
    job_tags.insert(job_tags.end(), tags.begin(), tags.end());
  };

  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(client_thread, t);
  for (auto& th : threads) th.join();

  EXPECT_EQ(done_jobs.load(), kThreads * kJobs);
  EXPECT_EQ(std::set<int64_t>(job_ids.begin(), job_ids.end()).size(), job_ids.size());
  EXPECT_EQ(std::set<std::string>(job_tags.begin(), job_tags.end()).size(), job_tags.size());
  EXPECT_GT(job_ids.size(), static_cast<size_t>(kThreads * kJobs / 3));
  // The views are gone; the shared table is as it was.
  const json every = client_->Json("/show/table", {{"table_name", ""}}, "show_table_response");
  EXPECT_EQ(every["table_names"].size(), static_cast<size_t>(kThreads + 2));
  int log_rows_per_thread = 0;
  for (int j = 0; j < kJobs; ++j) log_rows_per_thread += j % 6 == 2 ? 3 : 0;
  EXPECT_EQ(client_->Json("/show/table", {{"table_name", "log"}}, "show_table_response")["sizes"],
            json({kThreads * log_rows_per_thread}));
  EXPECT_EQ(client_->Json("/show/table", {{"table_name", "shared"}}, "show_table_response")["sizes"],
            json({kRows}));
  ExpectServing();
}

}  // namespace
