// The analytical endpoints end to end: a real server::Server on 127.0.0.1
// (ephemeral port) reached over gRPC, with requests in both encodings
// (json: the request as JSON text; binary: the protobuf message) and
// dynamic-schema responses in both (json_encoded_response,
// binary_encoded_response decoded with response_schema_str). Tables are
// filled through the server (/insert/records, half the rows as JSON records,
// half as Avro records written in the test), so every value is known, and
// each result is compared with the reference of tests/common/reference.h.
// A representative subset of tests/engine/analytics_test.cc's checks.
//
// Devices: GPUDB_TEST_DEVICES if set (e.g. "cuda"), else "host:2".

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "proto/gpudb.grpc.pb.h"
#include "server/server.h"
#include "tests/common/reference.h"
#include "tests/server/test_client.h"

namespace {

namespace pb = gpudb::v1;
namespace ref = analytics_ref;
using gpudb_test::At;
using gpudb_test::Client;
using gpudb_test::ExpectError;
using nlohmann::json;
using ref::Value;

std::string TestDevices() {
  const char* env = std::getenv("GPUDB_TEST_DEVICES");
  return env != nullptr && *env != '\0' ? env : "host:2";
}

std::string Text(const std::vector<std::string>& names, const json& options) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return "[" + out + "] " + options.dump();
}

// The dynamic-schema part of a response: the schema, and the encoded record
// in `encoding` (binary bytes, or JSON text).
ref::Dynamic DecodeDynamic(const std::string& schema, const std::string& binary, const std::string& json_text,
                           const std::string& encoding) {
  ref::Dynamic d;
  std::string error;
  if (encoding == "binary") {
    EXPECT_EQ(json_text, "");
    error = ref::DecodeDynamicBinary(schema, binary, &d);
  } else {
    EXPECT_EQ(binary, "");
    error = ref::DecodeDynamicJson(schema, json_text, &d);
  }
  EXPECT_EQ(error, "") << schema;
  return d;
}

// The same from a JSON response record, where binary_encoded_response is a
// string of code points (bytes in Kinetica's JSON mode).
ref::Dynamic DecodeDynamic(const json& r, const std::string& encoding) {
  if (!r.contains("response_schema_str")) {
    ADD_FAILURE() << "no response_schema_str in " << r.dump().substr(0, 300);
    return ref::Dynamic();
  }
  std::string binary;
  EXPECT_TRUE(ref::FromCodePoints(r.value("binary_encoded_response", ""), &binary));
  return DecodeDynamic(r["response_schema_str"].get<std::string>(), binary, r.value("json_encoded_response", ""),
                       encoding);
}

class AnalyticsE2eTest : public gpudb_test::ServerTest {
 protected:
  void SetUp() override { StartServer(gpudb_test::TestServerOptions(TestDevices())); }

  // Creates `name`; the first half of t's rows go in as JSON records (json
  // request), the rest as Avro records (binary request).
  void Load(const std::string& name, const ref::Table& t) {
    client_->Json("/create/table", {{"table_name", name}, {"type_id", t.CompactType()}}, "create_table_response");
    const size_t half = t.size() / 2;
    if (half > 0) {
      json list = json::array();
      for (size_t r = 0; r < half; ++r) list.push_back(ref::RecordJson(t.columns, t.rows[r]).dump());
      const json inserted = client_->Json(
          "/insert/records", {{"table_name", name}, {"list_encoding", "json"}, {"list_str", list}},
          "insert_records_response");
      EXPECT_EQ(inserted.value("count_inserted", -1), static_cast<int64_t>(half));
    }
    if (t.size() > half) {
      pb::InsertRecordsRequest insert;
      insert.set_table_name(name);
      insert.set_list_encoding("binary");
      for (size_t r = half; r < t.size(); ++r) insert.add_list(ref::EncodeRecord(t.columns, t.rows[r]));
      const auto inserted = client_->Binary<pb::InsertRecordsResponse>("/insert/records", insert,
                                                                       "insert_records_response");
      EXPECT_EQ(inserted.count_inserted(), static_cast<int32_t>(t.size() - half));
    }
  }

  // /aggregate/groupby with the request in `request_encoding` and the
  // response in `encoding`; checks total_number_of_records and
  // has_more_records, and returns the decoded columns.
  ref::Dynamic GroupBy(const std::string& table, const std::vector<std::string>& names, const json& options,
                       const std::string& request_encoding, const std::string& encoding, int64_t offset,
                       int64_t limit, int64_t total) {
    if (request_encoding == "json") {
      const json r = client_->Json("/aggregate/groupby",
                                   {{"table_name", table},
                                    {"column_names", names},
                                    {"offset", offset},
                                    {"limit", limit},
                                    {"encoding", encoding},
                                    {"options", options}},
                                   "aggregate_group_by_response");
      EXPECT_EQ(r.value("total_number_of_records", -1), total);
      EXPECT_EQ(r.value("has_more_records", false), std::min(total, offset + limit) < total && limit >= 0);
      return DecodeDynamic(r, encoding);
    }
    pb::AggregateGroupByRequest request;
    request.set_table_name(table);
    for (const std::string& n : names) request.add_column_names(n);
    request.set_offset(offset);
    request.set_limit(limit);
    request.set_encoding(encoding);
    for (auto it = options.begin(); it != options.end(); ++it) {
      (*request.mutable_options())[it.key()] = it.value().get<std::string>();
    }
    const auto r = client_->Binary<pb::AggregateGroupByResponse>("/aggregate/groupby", request,
                                                                 "aggregate_group_by_response");
    EXPECT_EQ(r.total_number_of_records(), total);
    EXPECT_EQ(r.has_more_records(), std::min(total, offset + limit) < total && limit >= 0);
    return DecodeDynamic(r.response_schema_str(), r.binary_encoded_response(), r.json_encoded_response(), encoding);
  }

  // Every row of `table` through /get/records (binary request, binary
  // records decoded with type_schema; or json request, JSON records).
  std::vector<std::vector<Value>> ReadRecords(const std::string& table, const std::string& request_encoding,
                                              const std::map<std::string, std::string>& options,
                                              const std::vector<std::string>& types) {
    std::vector<std::vector<Value>> rows;
    std::vector<std::pair<std::string, ref::AvroField>> fields;
    std::string error;
    if (request_encoding == "binary") {
      pb::GetRecordsRequest request;
      request.set_table_name(table);
      request.set_limit(-9999);
      request.set_encoding("binary");
      for (const auto& [k, v] : options) (*request.mutable_options())[k] = v;
      const auto r = client_->Binary<pb::GetRecordsResponse>("/get/records", request, "get_records_response");
      if (!ref::RecordFields(r.type_schema(), &fields, &error)) {
        ADD_FAILURE() << error;
        return rows;
      }
      EXPECT_EQ(r.total_number_of_records(), r.records_binary_size());
      for (const std::string& record : r.records_binary()) {
        std::vector<Value> row;
        EXPECT_TRUE(ref::DecodeRecord(fields, record, &row)) << "record " << rows.size();
        rows.push_back(std::move(row));
      }
      return rows;
    }
    const json r = client_->Json("/get/records",
                                 {{"table_name", table}, {"limit", -9999}, {"encoding", "json"}, {"options", options}},
                                 "get_records_response");
    if (!ref::RecordFields(r.value("type_schema", ""), &fields, &error)) {
      ADD_FAILURE() << error;
      return rows;
    }
    for (const json& record : r["records_json"]) {
      std::vector<Value> row;
      EXPECT_TRUE(ref::DecodeJsonRecord(fields, types, record.get<std::string>(), &row)) << record;
      rows.push_back(std::move(row));
    }
    return rows;
  }
};

std::vector<std::string> TypesOf(const ref::Table& t) {
  std::vector<std::string> types;
  for (const ref::ColumnSpec& c : t.columns) types.push_back(c.type);
  return types;
}

// Rows equal, column by column (`approx` columns with a relative tolerance).
void ExpectRows(const std::vector<std::vector<Value>>& got, const std::vector<std::vector<Value>>& want,
                const std::string& what, const std::vector<bool>& approx = {}) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t r = 0; r < got.size(); ++r) {
    ASSERT_EQ(got[r].size(), want[r].size()) << what;
    for (size_t k = 0; k < got[r].size(); ++k) {
      const bool near = k < approx.size() && approx[k] && !got[r][k].null() && !want[r][k].null();
      const bool same = near ? ref::Near(got[r][k].f, want[r][k].f) : ref::Compare(got[r][k], want[r][k]) == 0;
      ASSERT_TRUE(same) << what << ": row " << r << " column " << k << ": got " << got[r][k] << ", expected "
                        << want[r][k];
    }
  }
}

// ---------------------------------------------------------------------------
// /aggregate/groupby

TEST_F(AnalyticsE2eTest, GroupByInBothEncodings) {
  const ref::Table t = ref::AllTypes(1, 1500, 5);
  Load("t", t);
  ref::Table empty;
  empty.columns = ref::kAllTypes;
  Load("empty", empty);
  ASSERT_FALSE(HasFailure());
  const std::vector<size_t> all = ref::AllRows(t);

  struct Case {
    std::string table;
    std::vector<std::string> names;
    json options;
    std::function<void(std::vector<ref::ExpectedColumn>*)> apply;
  };
  std::vector<Case> cases;
  // Keys of several types; every kind of aggregate; having on an aggregate
  // as written and on an alias; order_by an alias then keys.
  cases.push_back({"t",
                   {"g", "s", "count(*)", "sum(i) as si", "avg(d)", "max(c)", "min(b)", "count(i)"},
                   {{"having", "count(*) > 5 and si > -200"}, {"order_by", "si desc, g, s"}},
                   [](std::vector<ref::ExpectedColumn>* c) {
                     std::vector<size_t> keep;
                     for (size_t r = 0; r < ref::Rows(*c); ++r) {
                       const Value& si = (*c)[3].values[r];
                       if ((*c)[2].values[r].i > 5 && !si.null() && si.i > -200) keep.push_back(r);
                     }
                     ref::KeepRows(c, keep);
                     ref::OrderResult(c, {{ref::ResultColumn(c, 3), true},
                                          {ref::ResultColumn(c, 0), false},
                                          {ref::ResultColumn(c, 1), false}});
                   }});
  // Expression keys, descending key order.
  cases.push_back({"t",
                   {"year(ts)", "bo", "count_distinct(s)", "arg_min(d, id)", "var_samp(i)", "stddev(f)",
                    "var_pop(i16)", "stddev_samp(d)", "mean(i8)", "max(ts)"},
                   {{"sort_order", "descending"}},
                   [](std::vector<ref::ExpectedColumn>* c) {
                     ref::OrderResult(c, {{ref::ResultColumn(c, 0), true}, {ref::ResultColumn(c, 1), true}});
                   }});
  // Strings with shared prefixes as keys, ordered by an aggregate (ties keep key order).
  cases.push_back({"t",
                   {"c", "lower(c) as lc", "count(*)", "arg_max(i, s)", "min(f)", "sum(f)"},
                   {{"order_by", "count(*) desc"}, {"expression", "g <> 3"}},
                   nullptr});
  // No keys: one row, also over an empty table.
  cases.push_back({"t", {"count(*)", "sum(l)", "min(s)", "max(d)", "avg(i)", "count_distinct(c)"}, json::object(), nullptr});
  cases.push_back({"empty", {"count(*)", "sum(l)", "min(s)", "max(d)", "avg(i)", "count_distinct(c)"}, json::object(), nullptr});

  int round = 0;
  for (const Case& cs : cases) {
    const ref::Table& table = cs.table == "t" ? t : empty;
    std::vector<size_t> rows = ref::AllRows(table);
    if (cs.options.contains("expression")) {
      rows = ref::Where(table, [](const std::vector<Value>& r) { return r[1].i != 3; });
    }
    std::vector<ref::ExpectedColumn> want = ref::ReferenceGroupBy(table, cs.names, rows);
    if (cs.apply) {
      cs.apply(&want);
    } else if (cs.options.contains("order_by")) {
      ref::OrderResult(&want, {{ref::ResultColumn(&want, 2), true}});
    }
    const int64_t total = static_cast<int64_t>(ref::Rows(want));
    for (const std::string request_encoding : {"json", "binary"}) {
      for (const std::string encoding : {"json", "binary"}) {
        SCOPED_TRACE(cs.table + " " + Text(cs.names, cs.options) + " request " + request_encoding + ", response " +
                     encoding);
        const ref::Dynamic whole = GroupBy(cs.table, cs.names, cs.options, request_encoding, encoding, 0, -9999, total);
        EXPECT_TRUE(ref::SameDynamic(whole, want, 0, total, encoding == "json"));
        // A page from the middle.
        const int64_t offset = total / 3, limit = 4 + round++ % 3;
        const ref::Dynamic page = GroupBy(cs.table, cs.names, cs.options, request_encoding, encoding, offset, limit, total);
        EXPECT_TRUE(ref::SameDynamic(page, want, offset, std::min(total, offset + limit), encoding == "json"));
      }
    }
  }
}

// result_table: the whole result stored, read back with /get/records; the
// same name again is an error. Jobs submitted with CreateJob in both
// encodings give the same result.
TEST_F(AnalyticsE2eTest, GroupByResultTableAndAsyncJobs) {
  const ref::Table t = ref::AllTypes(2, 900, 4);
  Load("t", t);
  ASSERT_FALSE(HasFailure());
  const std::vector<std::string> names = {"g", "c", "count(*) as n", "sum(i16)", "avg(d) as mean_d"};
  std::vector<ref::ExpectedColumn> want = ref::ReferenceGroupBy(t, names, ref::AllRows(t));
  ref::OrderResult(&want, {{ref::ResultColumn(&want, 2), true}});
  const int64_t total = static_cast<int64_t>(ref::Rows(want));

  pb::AggregateGroupByRequest request;
  request.set_table_name("t");
  for (const std::string& n : names) request.add_column_names(n);
  request.set_offset(2);
  request.set_limit(3);
  request.set_encoding("binary");
  (*request.mutable_options())["result_table"] = "summary";
  (*request.mutable_options())["order_by"] = "n desc";
  const auto r = client_->Binary<pb::AggregateGroupByResponse>("/aggregate/groupby", request,
                                                               "aggregate_group_by_response");
  EXPECT_EQ(At(r.info(), "qualified_result_table_name"), "summary");
  EXPECT_EQ(r.total_number_of_records(), total);
  EXPECT_TRUE(ref::SameDynamic(DecodeDynamic(r.response_schema_str(), r.binary_encoded_response(),
                                             r.json_encoded_response(), "binary"),
                               want, 2, 5, false));
  // The stored table has every row, in the result's order.
  std::vector<std::vector<Value>> rows;
  for (size_t i = 0; i < ref::Rows(want); ++i) {
    std::vector<Value> row;
    for (const ref::ExpectedColumn& c : want) row.push_back(c.values[i]);
    rows.push_back(std::move(row));
  }
  const std::vector<bool> approx = {false, false, false, false, true};
  ExpectRows(ReadRecords("summary", "binary", {}, {}), rows, "summary (binary)", approx);
  ExpectRows(ReadRecords("summary", "json", {}, {"int", "char16", "long", "long", "double"}), rows, "summary (json)",
             approx);
  ExpectError(client_->ExecuteBinary("/aggregate/groupby", request),
              {"options.result_table: table 'summary' already exists"}, "result_table again");

  // Async: CreateJob in json, then in binary; results by id and by tag.
  (*request.mutable_options()).erase("result_table");
  json options = {{"order_by", "n desc"}};
  const auto [id, tag] = client_->SubmitJson(
      "/aggregate/groupby",
      {{"table_name", "t"}, {"column_names", names}, {"encoding", "json"}, {"options", options}});
  const json done = client_->WaitJson(id);
  EXPECT_EQ(done.value("total_number_of_records", -1), total);
  EXPECT_TRUE(ref::SameDynamic(DecodeDynamic(done, "json"), want, 0, total, true));
  request.set_offset(0);
  request.set_limit(-9999);
  const auto [id2, tag2] = client_->SubmitBinary("/aggregate/groupby", request);
  const auto binary = client_->WaitBinary<pb::AggregateGroupByResponse>(0, tag2);
  EXPECT_TRUE(ref::SameDynamic(DecodeDynamic(binary.response_schema_str(), binary.binary_encoded_response(),
                                             binary.json_encoded_response(), "binary"),
                               want, 0, total, false));
  (void)tag;
  (void)id2;
}

// ---------------------------------------------------------------------------
// /aggregate/unique, /aggregate/minmax, /aggregate/histogram

TEST_F(AnalyticsE2eTest, UniqueMinMaxHistogram) {
  const ref::Table t = ref::AllTypes(3, 1200, 4);
  Load("t", t);
  ASSERT_FALSE(HasFailure());
  const std::vector<size_t> all = ref::AllRows(t);
  // unique: strings (nulls first ascending, last descending), charN, an
  // expression; whole and paged; both encodings.
  for (const std::string column : {"s", "c", "f", "substr(s, 1, 2)", "ts"}) {
    for (const bool desc : {false, true}) {
      std::vector<ref::ExpectedColumn> want = ref::ReferenceGroupBy(t, {column}, all);
      if (desc) ref::OrderResult(&want, {{ref::ResultColumn(&want, 0), true}});
      const int64_t total = static_cast<int64_t>(ref::Rows(want));
      for (const auto& [offset, limit] : std::vector<std::pair<int64_t, int64_t>>{{0, -9999}, {2, 5}}) {
        const int64_t end = limit < 0 ? total : std::min(total, offset + limit);
        SCOPED_TRACE(column + (desc ? " descending" : " ascending") + " offset " + std::to_string(offset));
        const std::string order = desc ? "descending" : "ascending";
        const json r = client_->Json("/aggregate/unique",
                                     {{"table_name", "t"},
                                      {"column_name", column},
                                      {"offset", offset},
                                      {"limit", limit},
                                      {"encoding", "json"},
                                      {"options", {{"sort_order", order}}}},
                                     "aggregate_unique_response");
        EXPECT_EQ(r.value("has_more_records", true), end < total);
        EXPECT_EQ(r["info"].value("total_number_of_records", ""), std::to_string(total));
        EXPECT_TRUE(ref::SameDynamic(DecodeDynamic(r, "json"), want, offset, end, true));

        pb::AggregateUniqueRequest request;
        request.set_table_name("t");
        request.set_column_name(column);
        request.set_offset(offset);
        request.set_limit(limit);
        request.set_encoding("binary");
        (*request.mutable_options())["sort_order"] = order;
        const auto b = client_->Binary<pb::AggregateUniqueResponse>("/aggregate/unique", request,
                                                                    "aggregate_unique_response");
        EXPECT_EQ(b.table_name(), "t");
        EXPECT_EQ(b.has_more_records(), end < total);
        EXPECT_TRUE(ref::SameDynamic(DecodeDynamic(b.response_schema_str(), b.binary_encoded_response(),
                                                   b.json_encoded_response(), "binary"),
                                     want, offset, end, false));
      }
    }
  }

  // minmax: numbers (json and binary) and strings (info).
  for (const std::string column : {"i", "d", "f", "ts", "bo", "i * 2 + 1"}) {
    const ref::Computed v = ref::Eval(t, column);
    double min = 0, max = 0;
    bool any = false;
    for (size_t r : all) {
      const Value x = v.expr(r);
      if (x.null()) continue;
      min = any ? std::min(min, x.num()) : x.num();
      max = any ? std::max(max, x.num()) : x.num();
      any = true;
    }
    const json r = client_->Json("/aggregate/minmax", {{"table_name", "t"}, {"column_name", column}},
                                 "aggregate_min_max_response");
    EXPECT_EQ(r.value("min", -1.0), min) << column;
    EXPECT_EQ(r.value("max", -1.0), max) << column;
    pb::AggregateMinMaxRequest request;
    request.set_table_name("t");
    request.set_column_name(column);
    const auto b = client_->Binary<pb::AggregateMinMaxResponse>("/aggregate/minmax", request,
                                                                "aggregate_min_max_response");
    EXPECT_EQ(b.min(), min) << column;
    EXPECT_EQ(b.max(), max) << column;
  }
  for (const std::string column : {"s", "c"}) {
    std::vector<std::string> present;
    for (size_t r : all) {
      if (!ref::Eval(t, column).expr(r).null()) present.push_back(ref::Eval(t, column).expr(r).s);
    }
    std::sort(present.begin(), present.end());
    pb::AggregateMinMaxRequest request;
    request.set_table_name("t");
    request.set_column_name(column);
    const auto b = client_->Binary<pb::AggregateMinMaxResponse>("/aggregate/minmax", request,
                                                                "aggregate_min_max_response");
    EXPECT_EQ(At(b.info(), "min_string"), present.front()) << column;
    EXPECT_EQ(At(b.info(), "max_string"), present.back()) << column;
    const json r = client_->Json("/aggregate/minmax", {{"table_name", "t"}, {"column_name", column}},
                                 "aggregate_min_max_response");
    EXPECT_EQ(r["info"].value("min_string", "?"), present.front()) << column;
    EXPECT_EQ(r["info"].value("max_string", "?"), present.back()) << column;
  }

  // histogram: counts (edges on integers, the last bin closed, values
  // outside skipped) and value_column sums.
  struct Hist {
    std::string column;
    double start, end, interval;
    std::string weights;
  };
  for (const Hist& h : std::vector<Hist>{{"i", -50, 50, 10, ""}, {"i", -20, 30, 7, "d"}, {"f", -5, 5, 0.5, "i16"},
                                         {"bo", 0, 1, 0.5, ""}}) {
    SCOPED_TRACE(h.column + " " + h.weights);
    std::vector<Value> values, weights;
    for (size_t r : all) {
      values.push_back(ref::Eval(t, h.column).expr(r));
      if (!h.weights.empty()) weights.push_back(ref::Eval(t, h.weights).expr(r));
    }
    const std::vector<double> want =
        ref::Histogram(values, h.weights.empty() ? nullptr : &weights, h.start, h.end, h.interval);
    json options = json::object();
    if (!h.weights.empty()) options["value_column"] = h.weights;
    const json r = client_->Json("/aggregate/histogram",
                                 {{"table_name", "t"},
                                  {"column_name", h.column},
                                  {"start", h.start},
                                  {"end", h.end},
                                  {"interval", h.interval},
                                  {"options", options}},
                                 "aggregate_histogram_response");
    pb::AggregateHistogramRequest request;
    request.set_table_name("t");
    request.set_column_name(h.column);
    request.set_start(h.start);
    request.set_end(h.end);
    request.set_interval(h.interval);
    if (!h.weights.empty()) (*request.mutable_options())["value_column"] = h.weights;
    const auto b = client_->Binary<pb::AggregateHistogramResponse>("/aggregate/histogram", request,
                                                                   "aggregate_histogram_response");
    const auto counts = r.value("counts", std::vector<double>{});
    ASSERT_EQ(counts.size(), want.size());
    ASSERT_EQ(static_cast<size_t>(b.counts_size()), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      EXPECT_TRUE(ref::Near(counts[i], want[i])) << "bin " << i << ": " << counts[i] << " vs " << want[i];
      EXPECT_TRUE(ref::Near(b.counts(static_cast<int>(i)), want[i])) << "bin " << i;
    }
    EXPECT_EQ(b.start(), h.start);
    EXPECT_EQ(b.end(), h.end);
  }
}

// ---------------------------------------------------------------------------
// /aggregate/statistics

TEST_F(AnalyticsE2eTest, StatisticsInBothEncodings) {
  const std::vector<std::string> stats = {"count",       "sum",      "min",      "max",
                                          "mean",        "stdv",     "variance", "skew",
                                          "kurtosis",    "weighted_average", "cardinality", "estimated_cardinality",
                                          "percentile(0)", "percentile(50)", "percentile(100)", "percentile(12.5)",
                                          "percentile_rank(0)", "percentile_rank(7.5)"};
  std::string joined;
  for (const std::string& s : stats) joined += (joined.empty() ? "" : ",") + s;
  for (const size_t n : {size_t{0}, size_t{1}, size_t{1400}}) {
    const ref::Table t = ref::AllTypes(4 + n, n);
    const std::string table = "t" + std::to_string(n);
    Load(table, t);
    ASSERT_FALSE(HasFailure());
    for (const std::string column : {"i", "d", "ts", "d * 2 + i"}) {
      SCOPED_TRACE(table + " " + column);
      std::vector<Value> values, weights;
      for (size_t r = 0; r < t.size(); ++r) {
        values.push_back(ref::Eval(t, column).expr(r));
        weights.push_back(ref::Eval(t, "i16").expr(r));
      }
      const json r = client_->Json("/aggregate/statistics",
                                   {{"table_name", table},
                                    {"column_name", column},
                                    {"stats", joined},
                                    {"options", {{"weight_column_name", "i16"}}}},
                                   "aggregate_statistics_response");
      pb::AggregateStatisticsRequest request;
      request.set_table_name(table);
      request.set_column_name(column);
      request.set_stats(joined);
      (*request.mutable_options())["weight_column_name"] = "i16";
      const auto b = client_->Binary<pb::AggregateStatisticsResponse>("/aggregate/statistics", request,
                                                                      "aggregate_statistics_response");
      for (const std::string& item : stats) {
        const size_t open = item.find('(');
        const double arg = open == std::string::npos ? 0 : std::stod(item.substr(open + 1));
        const double want = ref::Statistic(item.substr(0, open), arg, values, &weights);
        const double tolerance = item == "skew" || item == "kurtosis" ? 1e-7 : 1e-9;
        ASSERT_TRUE(r["stats"].contains(item)) << item;
        EXPECT_TRUE(ref::Near(r["stats"][item].get<double>(), want, tolerance))
            << item << ": json " << r["stats"][item] << ", expected " << want;
        ASSERT_EQ(b.stats().count(item), 1u) << item;
        EXPECT_TRUE(ref::Near(b.stats().at(item), want, tolerance))
            << item << ": binary " << b.stats().at(item) << ", expected " << want;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// /filter/byrange, /filter/bylist

TEST_F(AnalyticsE2eTest, FiltersMakeViews) {
  const ref::Table t = ref::AllTypes(5, 1000);
  Load("t", t);
  ASSERT_FALSE(HasFailure());
  const std::vector<std::string> types = TypesOf(t);
  auto rows_of = [&](const std::vector<size_t>& picked) {
    std::vector<std::vector<Value>> rows;
    for (size_t r : picked) rows.push_back(t.rows[r]);
    return rows;
  };
  // byrange, binary request; then json.
  {
    pb::FilterByRangeRequest request;
    request.set_table_name("t");
    request.set_view_name("in_range");
    request.set_column_name("d");
    request.set_lower_bound(-250.5);
    request.set_upper_bound(100);
    const auto b = client_->Binary<pb::FilterByRangeResponse>("/filter/byrange", request, "filter_by_range_response");
    const auto want = ref::Where(t, [](const std::vector<Value>& r) {
      return !r[5].null() && r[5].f >= -250.5 && r[5].f <= 100;
    });
    EXPECT_EQ(b.count(), static_cast<int64_t>(want.size()));
    EXPECT_EQ(At(b.info(), "qualified_view_name"), "in_range");
    ExpectRows(ReadRecords("in_range", "binary", {}, types), rows_of(want), "in_range");
    const json j = client_->Json("/filter/byrange",
                                 {{"table_name", "t"},
                                  {"view_name", "ts_range"},
                                  {"column_name", "ts"},
                                  {"lower_bound", 0},
                                  {"upper_bound", 1e12}},
                                 "filter_by_range_response");
    const auto want_ts = ref::Where(t, [](const std::vector<Value>& r) {
      return !r[11].null() && r[11].i >= 0 && r[11].i <= 1'000'000'000'000;
    });
    EXPECT_EQ(j.value("count", -1), static_cast<int64_t>(want_ts.size()));
    ExpectRows(ReadRecords("ts_range", "json", {}, types), rows_of(want_ts), "ts_range");
    ExpectError(client_->ExecuteJson("/filter/byrange", {{"table_name", "t"},
                                                         {"view_name", ""},
                                                         {"column_name", "s"},
                                                         {"lower_bound", 0},
                                                         {"upper_bound", 1}}),
                {"column_name: 's' is not numeric"}, "byrange on a string");
  }
  // bylist: strings in_list (json), numbers not_in_list (binary), two columns.
  {
    const std::vector<std::string> strings = {"", "ab", "it's", "é"};
    const json j = client_->Json("/filter/bylist",
                                 {{"table_name", "t"},
                                  {"view_name", "listed"},
                                  {"column_values_map", {{"s", strings}}},
                                  {"options", {{"filter_mode", "in_list"}}}},
                                 "filter_by_list_response");
    const auto want = ref::Where(t, [&](const std::vector<Value>& r) {
      return !r[6].null() && std::find(strings.begin(), strings.end(), r[6].s) != strings.end();
    });
    EXPECT_EQ(j.value("count", -1), static_cast<int64_t>(want.size()));
    ExpectRows(ReadRecords("listed", "binary", {}, types), rows_of(want), "listed");

    pb::FilterByListRequest request;
    request.set_table_name("t");
    request.set_view_name("not_listed");
    for (const char* v : {"1", "2", "-50"}) (*request.mutable_column_values_map())["i"].add_values(v);
    for (const char* v : {"0", "1"}) (*request.mutable_column_values_map())["g"].add_values(v);
    (*request.mutable_options())["filter_mode"] = "not_in_list";
    const auto b = client_->Binary<pb::FilterByListResponse>("/filter/bylist", request, "filter_by_list_response");
    const auto want_not = ref::Where(t, [](const std::vector<Value>& r) {
      return !r[2].null() && r[2].i != 1 && r[2].i != 2 && r[2].i != -50 && r[1].i != 0 && r[1].i != 1;
    });
    EXPECT_EQ(b.count(), static_cast<int64_t>(want_not.size()));
    ExpectRows(ReadRecords("not_listed", "json", {}, types), rows_of(want_not), "not_listed");
    ExpectError(client_->ExecuteBinary("/filter/bylist", request), {"view_name: table 'not_listed' already exists"},
                "view again");
  }
}

// ---------------------------------------------------------------------------
// /get/records sorting and /get/records/bycolumn

TEST_F(AnalyticsE2eTest, SortedReadsAndComputedColumns) {
  const ref::Table t = ref::AllTypes(6, 1100, 3);
  Load("t", t);
  ASSERT_FALSE(HasFailure());
  const std::vector<std::string> types = TypesOf(t);
  const std::vector<size_t> all = ref::AllRows(t);
  int n = 0;
  // sort_by columns of several types, both orders (stable), both encodings.
  for (const std::string column : {"s", "f", "b", "ts", "c", "bo", "d", "i8"}) {
    for (const bool desc : {false, true}) {
      const std::vector<size_t> order = ref::StableSort(all, {{ref::Eval(t, column).expr, desc}});
      std::vector<std::vector<Value>> want;
      for (size_t r : order) want.push_back(t.rows[r]);
      const std::string encoding = n++ % 2 ? "json" : "binary";
      ExpectRows(ReadRecords("t", encoding, {{"sort_by", column}, {"sort_order", desc ? "descending" : "ascending"}},
                             types),
                 want, column + (desc ? " descending " : " ascending ") + encoding);
    }
  }
  {
    const std::vector<size_t> order =
        ref::StableSort(all, {{ref::Eval(t, "g").expr, true}, {ref::Eval(t, "s").expr, false},
                              {ref::Eval(t, "year(ts)").expr, true}});
    std::vector<std::vector<Value>> want;
    for (size_t r : order) want.push_back(t.rows[r]);
    ExpectRows(ReadRecords("t", "binary", {{"order_by", "g desc, s, year(ts) desc"}}, types), want, "order_by");
  }

  // bycolumn: columns, aliases, computed columns of each kind; a filter,
  // order_by on several keys, pages.
  const std::vector<std::string> names = {"id",          "s as name",        "b",           "i * 2 + 1",
                                          "d / 2 as half", "substr(c, 2, 3)", "year(ts)",    "if(i > 0, 'pos', 'neg')",
                                          "ifnull(i, -1)", "s like 'ab%'",   "greatest(i, i16)", "round(d)",
                                          "i / 0",       "f"};
  const auto rows = ref::StableSort(ref::Where(t, [](const std::vector<Value>& r) { return r[10].i == 1; }),
                                    {{ref::Eval(t, "c").expr, false}, {ref::Eval(t, "id").expr, true}});
  const std::vector<ref::ExpectedColumn> want = ref::ReferenceByColumn(t, names, rows);
  const int64_t total = static_cast<int64_t>(rows.size());
  const json options = {{"expression", "bo = 1"}, {"order_by", "c, id desc"}};
  for (const auto& [offset, limit] : std::vector<std::pair<int64_t, int64_t>>{{0, -9999}, {10, 25}, {total - 4, 25}}) {
    const int64_t end = limit < 0 ? total : std::min(total, offset + limit);
    SCOPED_TRACE("offset " + std::to_string(offset));
    const json r = client_->Json("/get/records/bycolumn",
                                 {{"table_name", "t"},
                                  {"column_names", names},
                                  {"offset", offset},
                                  {"limit", limit},
                                  {"encoding", "json"},
                                  {"options", options}},
                                 "get_records_by_column_response");
    EXPECT_EQ(r.value("total_number_of_records", -1), total);
    EXPECT_EQ(r.value("has_more_records", true), end < total);
    EXPECT_TRUE(ref::SameDynamic(DecodeDynamic(r, "json"), want, offset, end, true));

    pb::GetRecordsByColumnRequest request;
    request.set_table_name("t");
    for (const std::string& name : names) request.add_column_names(name);
    request.set_offset(offset);
    request.set_limit(limit);
    request.set_encoding("binary");
    for (auto it = options.begin(); it != options.end(); ++it) {
      (*request.mutable_options())[it.key()] = it.value().get<std::string>();
    }
    const auto b = client_->Binary<pb::GetRecordsByColumnResponse>("/get/records/bycolumn", request,
                                                                   "get_records_by_column_response");
    EXPECT_EQ(b.total_number_of_records(), total);
    EXPECT_EQ(b.has_more_records(), end < total);
    EXPECT_TRUE(ref::SameDynamic(DecodeDynamic(b.response_schema_str(), b.binary_encoded_response(),
                                               b.json_encoded_response(), "binary"),
                                 want, offset, end, false));
  }
}

// ---------------------------------------------------------------------------
// Errors, in both request encodings.

TEST_F(AnalyticsE2eTest, ErrorsInBothEncodings) {
  const ref::Table t = ref::AllTypes(7, 40);
  Load("t", t);
  client_->Json("/aggregate/groupby",
                {{"table_name", "t"}, {"column_names", {"g", "count(*)"}}, {"options", {{"result_table", "taken"}}}},
                "aggregate_group_by_response");
  ASSERT_FALSE(HasFailure());
  struct GroupByError {
    std::vector<std::string> names;
    std::map<std::string, std::string> options;
    std::string message;
  };
  const std::vector<GroupByError> groupby = {
      {{"g", "sum(nope)"}, {}, "column_names[1]: unknown column 'nope' at position 1"},
      {{"g", "sum(s)"}, {}, "column_names[1]: 'sum(s)' needs a numeric argument, not string"},
      {{"g", "count(*)"}, {{"having", "count(*) >"}}, "options.having: "},
      {{"g", "count(*)"}, {{"having", "zz > 1"}}, "options.having: unknown column 'zz' at position 1"},
      {{"g", "count(*)"}, {{"order_by", "zz desc"}}, "options.order_by: unknown column 'zz' at position 1"},
      {{"g", "count(*)"}, {{"result_table", "taken"}}, "options.result_table: table 'taken' already exists"},
  };
  for (const GroupByError& e : groupby) {
    ExpectError(client_->ExecuteJson("/aggregate/groupby",
                                     {{"table_name", "t"}, {"column_names", e.names}, {"options", e.options}}),
                {e.message}, "json " + e.message);
    pb::AggregateGroupByRequest request;
    request.set_table_name("t");
    for (const std::string& n : e.names) request.add_column_names(n);
    for (const auto& [k, v] : e.options) (*request.mutable_options())[k] = v;
    ExpectError(client_->ExecuteBinary("/aggregate/groupby", request), {e.message}, "binary " + e.message);
  }
  // The error of an asynchronous job is in its status map.
  {
    const auto [id, tag] = client_->SubmitJson("/aggregate/groupby",
                                               {{"table_name", "t"}, {"column_names", {"g", "sum(s)"}}});
    const pb::GetJobResponse job = client_->WaitFinished(id);
    EXPECT_EQ(job.job_status(), "ERROR");
    EXPECT_TRUE(gpudb_test::Contains(At(job.status_map(), "error_message"), "'sum(s)' needs a numeric argument"))
        << At(job.status_map(), "error_message");
    (void)tag;
  }
  pb::AggregateHistogramRequest histogram;
  histogram.set_table_name("t");
  histogram.set_column_name("i");
  histogram.set_start(0);
  histogram.set_end(10);
  histogram.set_interval(0);
  ExpectError(client_->ExecuteBinary("/aggregate/histogram", histogram), {"interval: must be a positive number, got 0"},
              "histogram interval");
  ExpectError(client_->ExecuteJson("/aggregate/histogram", {{"table_name", "t"},
                                                            {"column_name", "i"},
                                                            {"start", 0},
                                                            {"end", 10},
                                                            {"interval", -2}}),
              {"interval: must be a positive number, got -2"}, "histogram interval (json)");
  for (const auto& [stats, message] : std::vector<std::pair<std::string, std::string>>{
           {"count,median", "stats: 'median' is not a statistic"},
           {"percentile(150)", "stats: 'percentile(150)': the percentile must be 0..100"}}) {
    ExpectError(client_->ExecuteJson("/aggregate/statistics", {{"table_name", "t"}, {"column_name", "d"}, {"stats", stats}}),
                {message}, "statistics (json) " + stats);
    pb::AggregateStatisticsRequest request;
    request.set_table_name("t");
    request.set_column_name("d");
    request.set_stats(stats);
    ExpectError(client_->ExecuteBinary("/aggregate/statistics", request), {message}, "statistics (binary) " + stats);
  }
  ExpectError(client_->ExecuteJson("/get/records", {{"table_name", "t"}, {"options", {{"order_by", "g, nope"}}}}),
              {"options.order_by: unknown column 'nope' at position 1"}, "get/records order_by");
  ExpectError(client_->ExecuteJson("/aggregate/unique", {{"table_name", "t"}, {"column_name", "nope"}}),
              {"column_name: unknown column 'nope' at position 1"}, "unique");
}

}  // namespace
