// Randomized property tests of the analytical endpoints at engine level
// (Engine::Submit + WhenFinished on a host device): /aggregate/groupby,
// /aggregate/unique, /aggregate/minmax, /aggregate/histogram,
// /aggregate/statistics, /filter/byrange, /filter/bylist, /get/records
// sorting and /get/records/bycolumn.
//
// Devices: GPUDB_TEST_DEVICES if set (e.g. "cuda"), else "host:1".
//
// Every table is built through the engine (/insert/records in json or binary
// with values generated here, or /insert/records/random read back), so the
// test knows every value; each result is compared with a straightforward
// reference computed here (tests/common/reference.h). Dynamic-schema
// responses are decoded from binary_encoded_response with
// response_schema_str, or from json_encoded_response.

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <future>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "engine/engine.h"
#include "tests/common/job_watch.h"
#include "tests/common/reference.h"

namespace engine {
namespace {

namespace ref = analytics_ref;
using ref::Value;
using ref::AllRows;
using ref::AllTypes;
using ref::Computed;
using ref::Describe;
using ref::Eval;
using ref::Iota;
using ref::KeepRows;
using ref::kAllTypes;
using ref::OrderResult;
using ref::ParseCall;
using ref::ReferenceGroupBy;
using ref::ResultColumn;
using ref::Rows;
using ref::SplitAs;
using ref::Where;

constexpr int64_t kMaxRows = 2'000'000;  // the engine's max_get_records_size here
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// ---------------------------------------------------------------------------
// Running jobs.

// GPUDB_TEST_DEVICES if set (e.g. "cuda"), else one host device.
std::string TestDevices() {
  const char* env = std::getenv("GPUDB_TEST_DEVICES");
  return env != nullptr && *env != '\0' ? env : "host:1";
}

EngineOptions Options() {
  EngineOptions options;
  options.devices.spec = TestDevices();
  options.devices.streams_per_device = 2;
  options.devices.memory_limit = size_t{1} << 30;
  options.limits.max_get_records_size = kMaxRows;
  // Scans checkpoint (and statistics merge partial moments) every 777 rows.
  options.limits.chunk_rows = 777;
  return options;
}

std::string Bytes(const Json& v) {
  if (v.is_binary()) return std::string(v.get_binary().begin(), v.get_binary().end());
  if (v.is_string()) return v.get<std::string>();
  return "";
}

class AnalyticsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto engine = Engine::Create(Options());
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }

  // The job's final record, or a default one after a reported failure.
  JobSnapshot RunJob(const std::string& endpoint, Json request, absl::Status* submit = nullptr) {
    JobRequest job;
    job.endpoint = FindEndpoint(endpoint);
    job.request = std::move(request);
    auto submitted = engine_->Submit(std::move(job));
    if (!submitted.ok()) {
      if (submit != nullptr) {
        *submit = submitted.status();
      } else {
        ADD_FAILURE() << endpoint << ": " << submitted.status();
      }
      return JobSnapshot();
    }
    return gpudb_test::AwaitFinished(*engine_, submitted->id, endpoint);
  }

  // A job that must succeed: its response.
  Json Run(const std::string& endpoint, Json request) {
    const std::string text = request.dump(-1, ' ', false, Json::error_handler_t::replace);
    JobSnapshot job = RunJob(endpoint, std::move(request));
    EXPECT_EQ(job.state, JobState::kDone) << endpoint << " " << text.substr(0, 400) << ": " << job.error;
    if (job.state != JobState::kDone || job.response == nullptr) return Json::object();
    return *job.response;
  }

  // A job (or submission) that must fail: its message.
  std::string Fail(const std::string& endpoint, Json request) {
    absl::Status submit;
    JobSnapshot job = RunJob(endpoint, std::move(request), &submit);
    if (!submit.ok()) return std::string(submit.message());
    EXPECT_EQ(job.state, JobState::kError) << endpoint << " did not fail";
    return job.error;
  }

  void ExpectFail(const std::string& endpoint, Json request, const std::string& message) {
    const std::string error = Fail(endpoint, std::move(request));
    EXPECT_NE(error.find(message), std::string::npos) << endpoint << ": '" << error << "' lacks '" << message << "'";
  }

  // Creates `name` with t's columns and inserts t's rows (json or binary).
  void Load(const std::string& name, const ref::Table& t, const std::string& encoding) {
    Run("/create/table", Json{{"table_name", name}, {"type_id", t.CompactType()}});
    constexpr size_t kBatch = 50000;
    for (size_t begin = 0; begin < t.size(); begin += kBatch) {
      const size_t end = std::min(t.size(), begin + kBatch);
      Json list = Json::array();
      for (size_t r = begin; r < end; ++r) {
        if (encoding == "json") {
          list.push_back(ref::RecordJson(t.columns, t.rows[r]).dump());
        } else {
          const std::string record = ref::EncodeRecord(t.columns, t.rows[r]);
          list.push_back(Json::binary(std::vector<uint8_t>(record.begin(), record.end())));
        }
      }
      Json request = {{"table_name", name}, {"list_encoding", encoding}};
      request[encoding == "json" ? "list_str" : "list"] = std::move(list);
      const Json r = Run("/insert/records", std::move(request));
      EXPECT_EQ(r.value("count_inserted", -1), static_cast<int64_t>(end - begin));
    }
  }

  // Every row of `table` as /get/records returns it (sorted by `options`).
  std::vector<std::vector<Value>> ReadRecords(const std::string& table, const std::string& encoding,
                                              Json options = Json::object(), int64_t offset = 0,
                                              int64_t limit = -9999, int64_t* total = nullptr,
                                              bool* more = nullptr) {
    const Json r = Run("/get/records", Json{{"table_name", table},
                                            {"offset", offset},
                                            {"limit", limit},
                                            {"encoding", encoding},
                                            {"options", options}});
    std::vector<std::vector<Value>> rows;
    if (!r.contains("type_schema")) return rows;
    if (total != nullptr) *total = r["total_number_of_records"].get<int64_t>();
    if (more != nullptr) *more = r["has_more_records"].get<bool>();
    std::vector<std::pair<std::string, ref::AvroField>> fields;
    std::string error;
    if (!ref::RecordFields(r["type_schema"].get<std::string>(), &fields, &error)) {
      ADD_FAILURE() << error;
      return rows;
    }
    std::vector<std::string> types;
    if (auto t = engine_->catalog().Find(table); t.ok()) {
      for (const ColumnDef& c : (*t)->type().columns()) types.push_back(c.type_name());
    }
    if (encoding == "binary") {
      EXPECT_TRUE(r["records_json"].empty());
      for (const Json& record : r["records_binary"]) {
        std::vector<Value> row;
        EXPECT_TRUE(ref::DecodeRecord(fields, Bytes(record), &row)) << "record " << rows.size() << " of " << table;
        rows.push_back(std::move(row));
      }
    } else {
      EXPECT_TRUE(r["records_binary"].empty());
      for (const Json& record : r["records_json"]) {
        std::vector<Value> row;
        EXPECT_TRUE(ref::DecodeJsonRecord(fields, types, record.get<std::string>(), &row))
            << "record " << rows.size() << " of " << table << ": " << record;
        rows.push_back(std::move(row));
      }
    }
    return rows;
  }

  std::unique_ptr<Engine> engine_;
};

// Decodes the dynamic-schema part of a response in `encoding`.
ref::Dynamic Decode(const Json& response, const std::string& encoding) {
  ref::Dynamic d;
  if (!response.contains("response_schema_str")) {
    ADD_FAILURE() << "no response_schema_str in " << response.dump().substr(0, 300);
    return d;
  }
  const std::string schema = response["response_schema_str"].get<std::string>();
  std::string error;
  if (encoding == "binary") {
    EXPECT_EQ(response["json_encoded_response"], "");
    error = ref::DecodeDynamicBinary(schema, Bytes(response["binary_encoded_response"]), &d);
  } else {
    EXPECT_TRUE(Bytes(response["binary_encoded_response"]).empty());
    error = ref::DecodeDynamicJson(schema, response["json_encoded_response"].get<std::string>(), &d);
  }
  EXPECT_EQ(error, "") << schema;
  return d;
}

Json GroupByRequest(const std::string& table, const std::vector<std::string>& names, const std::string& encoding,
                    Json options = Json::object(), int64_t offset = 0, int64_t limit = -9999) {
  return Json{{"table_name", table}, {"column_names", names}, {"offset", offset},
              {"limit", limit},      {"encoding", encoding},  {"options", options}};
}


// ---------------------------------------------------------------------------
// /aggregate/groupby

// Random keys (columns of every type and expressions) and random aggregates
// (every kind) over random tables of 0, 1, a few and thousands of rows, in
// both encodings, with and without a filter.
TEST_F(AnalyticsTest, GroupByRandomizedAgainstReference) {
  const std::vector<std::string> key_pool = {
      "g",       "s",     "c",          "bo",        "i8",       "ts",    "f",       "b",
      "i16",     "i",     "d",          "i % 7",     "substr(s, 1, 1)",  "year(ts)", "lower(c)",
      "g * 2 + 1", "length(s)", "f * 2", "if(i > 0, 'pos', 'neg')", "l / 1000"};
  const std::vector<std::string> agg_pool = {
      "count(*)",         "count(i)",        "count(s)",           "sum(i)",          "sum(f)",
      "sum(d)",           "sum(l)",          "sum(bo)",            "sum(i8)",         "min(i)",
      "max(i)",           "min(s)",          "max(s)",             "min(c)",          "max(c)",
      "min(d)",           "max(f)",          "min(ts)",            "max(b)",          "min(b)",
      "avg(i)",           "mean(d)",         "stddev(d)",          "stddev_pop(i)",   "stddev_samp(f)",
      "var(i16)",         "var_pop(d)",      "var_samp(i)",        "count_distinct(s)", "count_distinct(f)",
      "count_distinct(i)", "count_distinct(d)", "arg_min(d, id)",  "arg_max(i, s)",   "arg_min(l, c)",
      "arg_max(f, ts)",   "sum(i * 2 + 1)",  "max(length(s))",     "avg(d) as avg_d", "min(bo)",
      "max(i8)",          "sum(ts)",         "avg(f * 2)",         "count(b)",        "min(substr(s, 1, 2))"};
  std::mt19937_64 rng(20240601);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  const std::vector<size_t> sizes = {0, 1, 2, 40, 3000};
  int checked = 0;
  for (size_t si = 0; si < sizes.size(); ++si) {
    const std::string table = "rand_" + std::to_string(si);
    const ref::Table t = AllTypes(1000 + si, sizes[si], si == 4 ? 7 : 3);
    Load(table, t, si % 2 == 0 ? "json" : "binary");
    ASSERT_FALSE(HasFailure());
    const int rounds = sizes[si] >= 1000 ? 40 : 15;
    for (int round = 0; round < rounds; ++round) {
      std::vector<std::string> names;
      std::set<std::string> used;
      const size_t nkeys = pick(4);  // 0..3 keys
      while (names.size() < nkeys) {
        const std::string k = key_pool[pick(key_pool.size())];
        if (used.insert(k).second) names.push_back(k);
      }
      const size_t naggs = 1 + pick(5);
      for (size_t a = 0; a < naggs; ++a) {
        const std::string k = agg_pool[pick(agg_pool.size())];
        if (used.insert(k).second) names.push_back(k);
      }
      std::shuffle(names.begin(), names.end(), rng);
      const std::string encoding = pick(2) == 0 ? "json" : "binary";
      Json options = Json::object();
      std::vector<size_t> rows = AllRows(t);
      if (pick(3) == 0) {
        options["expression"] = "g <> 1 and (is_null(i) = 1 or i > -20)";
        rows = Where(t, [](const std::vector<Value>& row) {
          return row[1].i != 1 && (row[2].null() || row[2].i > -20);
        });
      }
      SCOPED_TRACE(table + " " + encoding + " " + Describe(names, options));
      const std::vector<ref::ExpectedColumn> want = ReferenceGroupBy(t, names, rows);
      const Json r = Run("/aggregate/groupby", GroupByRequest(table, names, encoding, options));
      if (!r.contains("total_number_of_records")) continue;
      EXPECT_EQ(r["total_number_of_records"].get<int64_t>(), static_cast<int64_t>(Rows(want)));
      EXPECT_FALSE(r["has_more_records"].get<bool>());
      const ref::Dynamic got = Decode(r, encoding);
      EXPECT_TRUE(ref::SameDynamic(got, want, 0, Rows(want), encoding == "json"));
      ++checked;
    }
  }
  EXPECT_EQ(checked, 100);
}

// Keys of several types together; having (aggregates as written, in any
// case and spacing, aliases, keys); order_by on aggregates, aliases, keys and
// expressions over the result; sort_order descending.
TEST_F(AnalyticsTest, GroupByHavingAndOrder) {
  const ref::Table t = AllTypes(7, 2500, 6);
  Load("t", t, "json");
  ASSERT_FALSE(HasFailure());
  const std::vector<size_t> all = AllRows(t);

  struct Case {
    std::vector<std::string> names;
    Json options;
    // Applies having and order to the reference result.
    std::function<void(std::vector<ref::ExpectedColumn>*)> apply;
  };
  auto value = [](const std::vector<ref::ExpectedColumn>& c, size_t k, size_t r) -> const Value& {
    return c[k].values[r];
  };
  auto having = [](std::vector<ref::ExpectedColumn>* cols, const std::function<bool(size_t)>& keep) {
    std::vector<size_t> rows;
    for (size_t r = 0; r < Rows(*cols); ++r) {
      if (keep(r)) rows.push_back(r);
    }
    KeepRows(cols, rows);
  };
  std::vector<Case> cases;
  // having on count(*) as written (other case and spacing) and on an alias.
  cases.push_back({{"g", "s", "count(*)", "sum(i) as si", "avg(d)"},
                   {{"having", "COUNT( * ) > 20 and si >= -100"}},
                   [&](std::vector<ref::ExpectedColumn>* c) {
                     having(c, [&](size_t r) {
                       return value(*c, 2, r).i > 20 && !value(*c, 3, r).null() && value(*c, 3, r).i >= -100;
                     });
                   }});
  // having on a key and an aggregate that is null in some groups.
  cases.push_back({{"g", "bo", "avg(d)", "max(s)"},
                   {{"having", "avg(d) > 0 or g = 2"}},
                   [&](std::vector<ref::ExpectedColumn>* c) {
                     having(c, [&](size_t r) {
                       return (!value(*c, 2, r).null() && value(*c, 2, r).f > 0) || value(*c, 0, r).i == 2;
                     });
                   }});
  // order_by an aggregate descending, ties broken by the stable order (keys ascending).
  cases.push_back({{"g", "bo", "count(*)"},
                   {{"order_by", "count(*) desc"}},
                   [&](std::vector<ref::ExpectedColumn>* c) { OrderResult(c, {{ResultColumn(c, 2), true}}); }});
  // order_by an alias (nulls last descending), then a key.
  cases.push_back({{"s", "min(i) as mi", "count(*)"},
                   {{"order_by", "mi desc, s"}},
                   [&](std::vector<ref::ExpectedColumn>* c) {
                     OrderResult(c, {{ResultColumn(c, 1), true}, {ResultColumn(c, 0), false}});
                   }});
  // order_by an aggregate ascending (nulls first) with sort_order ignored.
  cases.push_back({{"c", "avg(i16)"},
                   {{"order_by", "avg(i16) asc, c desc"}, {"sort_order", "descending"}},
                   [&](std::vector<ref::ExpectedColumn>* c) {
                     OrderResult(c, {{ResultColumn(c, 1), false}, {ResultColumn(c, 0), true}});
                   }});
  // order_by an expression over aggregates.
  cases.push_back({{"g", "sum(i8)", "count(*)"},
                   {{"order_by", "sum(i8) - count(*) desc"}},
                   [&](std::vector<ref::ExpectedColumn>* c) {
                     ref::Expr e = [c](size_t r) {
                       return Value::Int((*c)[1].values[r].i - (*c)[2].values[r].i);
                     };
                     OrderResult(c, {{e, true}});
                   }});
  // Kinetica's sort_by value: by the aggregates, the first first, in
  // sort_order (ties in key order).
  cases.push_back({{"g", "bo", "count(*)", "min(i) as mi"},
                   {{"sort_by", "value"}, {"sort_order", "descending"}},
                   [&](std::vector<ref::ExpectedColumn>* c) {
                     OrderResult(c, {{ResultColumn(c, 2), true}, {ResultColumn(c, 3), true}});
                   }});
  cases.push_back({{"s", "count(*)"}, {{"sort_by", "VALUE"}}, [&](std::vector<ref::ExpectedColumn>* c) {
                     OrderResult(c, {{ResultColumn(c, 1), false}});
                   }});
  // sort_by key: the groups' own order; order_by before sort_by.
  cases.push_back({{"g", "count(*)"}, {{"sort_by", "key"}}, [&](std::vector<ref::ExpectedColumn>*) {}});
  cases.push_back(
      {{"g", "count(*)"}, {{"sort_by", "value"}, {"order_by", "g desc"}}, [&](std::vector<ref::ExpectedColumn>* c) {
         OrderResult(c, {{ResultColumn(c, 0), true}});
       }});
  // order_by a grouping expression as written (other spacing), descending.
  cases.push_back({{"i % 7", "count(*)"},
                   {{"order_by", "I%7 desc"}},
                   [&](std::vector<ref::ExpectedColumn>* c) { OrderResult(c, {{ResultColumn(c, 0), true}}); }});
  // sort_order descending: keys descending (nulls last).
  cases.push_back({{"i16", "bo", "count(*)", "max(c)"},
                   {{"sort_order", "descending"}},
                   [&](std::vector<ref::ExpectedColumn>* c) {
                     OrderResult(c, {{ResultColumn(c, 0), true}, {ResultColumn(c, 1), true}});
                   }});
  cases.push_back({{"s", "count(*)"},
                   {{"sort_order", "descending"}},
                   [&](std::vector<ref::ExpectedColumn>* c) { OrderResult(c, {{ResultColumn(c, 0), true}}); }});
  // Keys of several types, including expressions, and having with order_by.
  cases.push_back({{"year(ts)", "bo", "c", "count(*) as n", "arg_max(d, id)"},
                   {{"having", "n >= 2"}, {"order_by", "n desc, c"}},
                   [&](std::vector<ref::ExpectedColumn>* c) {
                     having(c, [&](size_t r) { return value(*c, 3, r).i >= 2; });
                     OrderResult(c, {{ResultColumn(c, 3), true}, {ResultColumn(c, 2), false}});
                   }});
  // A filter first, then having on count_distinct.
  cases.push_back({{"i8 % 3 as m3", "count_distinct(c) as dc", "sum(d)"},
                   {{"expression", "bo = 1"}, {"having", "dc > 3"}, {"order_by", "m3 desc"}},
                   nullptr});

  for (size_t k = 0; k < cases.size(); ++k) {
    Case& cs = cases[k];
    for (const std::string encoding : {"binary", "json"}) {
      SCOPED_TRACE(std::to_string(k) + " " + encoding + " " + Describe(cs.names, cs.options));
      std::vector<ref::ExpectedColumn> want;
      if (cs.apply) {
        want = ReferenceGroupBy(t, cs.names, all);
        cs.apply(&want);
      } else {
        // Case 9 by hand: keys i8 % 3 (an alias), over rows with bo = 1.
        const std::vector<size_t> rows = Where(t, [](const std::vector<Value>& row) { return row[10].i == 1; });
        const int i8 = t.Find("i8"), c = t.Find("c"), d = t.Find("d");
        std::vector<ref::Group> groups =
            ref::GroupRows(rows, {[&](size_t r) { return Value::Int(t.rows[r][i8].i % 3); }});
        ref::ExpectedColumn m3{"m3", "long", true, false, {}}, dc{"dc", "long", false, false, {}},
            sd{"sum(d)", "double", true, true, {}};
        for (const ref::Group& grp : groups) {
          const Value distinct = ref::Aggregate(ref::Agg::kCountDistinct, grp.rows,
                                                [&](size_t r) { return t.rows[r][c]; }, nullptr, false);
          if (distinct.i <= 3) continue;
          m3.values.push_back(grp.key[0]);
          dc.values.push_back(distinct);
          sd.values.push_back(
              ref::Aggregate(ref::Agg::kSum, grp.rows, [&](size_t r) { return t.rows[r][d]; }, nullptr, false));
        }
        want = {m3, dc, sd};
        OrderResult(&want, {{ResultColumn(&want, 0), true}});
      }
      const Json r = Run("/aggregate/groupby", GroupByRequest("t", cs.names, encoding, cs.options));
      if (!r.contains("total_number_of_records")) continue;
      EXPECT_EQ(r["total_number_of_records"].get<int64_t>(), static_cast<int64_t>(Rows(want)));
      EXPECT_TRUE(ref::SameDynamic(Decode(r, encoding), want, 0, Rows(want), encoding == "json"));
    }
  }
}

// offset/limit pages: each page is its slice of the whole result;
// total_number_of_records and has_more_records follow.
TEST_F(AnalyticsTest, GroupByPaging) {
  const ref::Table t = AllTypes(11, 1500, 4);
  Load("t", t, "binary");
  ASSERT_FALSE(HasFailure());
  const std::vector<std::string> names = {"g", "i8 % 10 as k", "count(*)", "max(s)"};
  const Json options = {{"order_by", "count(*) desc"}};
  std::vector<ref::ExpectedColumn> want;
  {
    // The key i8 % 10 is an int expression: a long, nullable, named k.
    const int i8 = t.Find("i8");
    std::vector<ref::Group> groups = ref::GroupRows(
        AllRows(t), {[&](size_t r) { return t.rows[r][1]; }, [&](size_t r) { return Value::Int(t.rows[r][i8].i % 10); }});
    ref::ExpectedColumn g{"g", "int", false, false, {}}, k{"k", "long", true, false, {}},
        n{"count(*)", "long", false, false, {}}, s{"max(s)", "string", true, false, {}};
    for (const ref::Group& grp : groups) {
      g.values.push_back(grp.key[0]);
      k.values.push_back(grp.key[1]);
      n.values.push_back(Value::Int(grp.rows.size()));
      s.values.push_back(ref::Aggregate(ref::Agg::kMax, grp.rows, Eval(t, "s").expr, nullptr, false));
    }
    want = {g, k, n, s};
    OrderResult(&want, {{ResultColumn(&want, 2), true}});
  }
  const int64_t total = static_cast<int64_t>(Rows(want));
  ASSERT_GT(total, 30);
  for (const int64_t page : {int64_t{1}, int64_t{7}, int64_t{16}, total, total + 5}) {
    for (int64_t offset = 0; offset <= total + 1; offset += std::max<int64_t>(page, 5)) {
      const std::string encoding = (offset / std::max<int64_t>(page, 5)) % 2 == 0 ? "binary" : "json";
      SCOPED_TRACE("offset " + std::to_string(offset) + " limit " + std::to_string(page) + " " + encoding);
      const Json r = Run("/aggregate/groupby", GroupByRequest("t", names, encoding, options, offset, page));
      if (!r.contains("total_number_of_records")) continue;
      const int64_t begin = std::min(offset, total), end = std::min(total, begin + page);
      EXPECT_EQ(r["total_number_of_records"].get<int64_t>(), total);
      EXPECT_EQ(r["has_more_records"].get<bool>(), end < total);
      EXPECT_TRUE(ref::SameDynamic(Decode(r, encoding), want, begin, end, encoding == "json"));
    }
  }
  // limit 0: no rows, more to come.
  const Json r = Run("/aggregate/groupby", GroupByRequest("t", names, "binary", options, 0, 0));
  EXPECT_EQ(r["total_number_of_records"].get<int64_t>(), total);
  EXPECT_TRUE(r["has_more_records"].get<bool>());
  EXPECT_TRUE(ref::SameDynamic(Decode(r, "binary"), want, 0, 0, false));
}

// result_table keeps the whole result (after having and order_by, before
// paging) as a table that /get/records reads; a second run with the same
// name fails.
TEST_F(AnalyticsTest, GroupByResultTable) {
  const ref::Table t = AllTypes(12, 800, 5);
  Load("t", t, "json");
  ASSERT_FALSE(HasFailure());
  const std::vector<std::string> names = {"g", "c", "count(*) as n", "sum(i)", "min(ts)", "avg(d) as mean_d"};
  const Json options = {{"result_table", "summary"}, {"having", "n > 2"}, {"order_by", "n desc, g, c"}};
  std::vector<ref::ExpectedColumn> want = ReferenceGroupBy(t, names, AllRows(t));
  {
    std::vector<size_t> keep;
    for (size_t r = 0; r < Rows(want); ++r) {
      if (want[2].values[r].i > 2) keep.push_back(r);
    }
    KeepRows(&want, keep);
    OrderResult(&want, {{ResultColumn(&want, 2), true}, {ResultColumn(&want, 0), false}, {ResultColumn(&want, 1), false}});
  }
  const Json r = Run("/aggregate/groupby", GroupByRequest("t", names, "binary", options, 3, 5));
  ASSERT_TRUE(r.contains("info"));
  EXPECT_EQ(r["info"].value("qualified_result_table_name", ""), "summary");
  EXPECT_TRUE(ref::SameDynamic(Decode(r, "binary"), want, 3, 8, false));

  for (const std::string encoding : {"binary", "json"}) {
    const auto rows = ReadRecords("summary", encoding);
    ASSERT_EQ(rows.size(), Rows(want)) << encoding;
    for (size_t row = 0; row < rows.size(); ++row) {
      ASSERT_EQ(rows[row].size(), want.size());
      for (size_t k = 0; k < want.size(); ++k) {
        const Value& got = rows[row][k];
        const Value& exp = want[k].values[row];
        const bool same = want[k].approx && !exp.null() && !got.null() ? ref::Near(got.f, exp.f)
                                                                       : ref::Compare(got, exp) == 0;
        EXPECT_TRUE(same) << encoding << " row " << row << " column " << want[k].header << ": " << got << " vs "
                          << exp;
      }
    }
  }
  // The stored table's columns: names from aliases and columns.
  auto stored = engine_->catalog().Find("summary");
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ((*stored)->type().column(0).name, "g");
  EXPECT_EQ((*stored)->type().column(1).name, "c");
  EXPECT_EQ((*stored)->type().column(1).type_name(), "char16");
  EXPECT_EQ((*stored)->type().column(2).name, "n");
  EXPECT_EQ((*stored)->type().column(5).name, "mean_d");

  // The stored result is a table like any other: group it again.
  const Json again = Run("/aggregate/groupby", GroupByRequest("summary", {"g", "sum(n)"}, "json"));
  std::vector<ref::ExpectedColumn> want2 = {{"g", "int", false, false, {}}, {"sum(n)", "long", true, false, {}}};
  {
    std::map<int64_t, int64_t> sums;
    for (size_t r = 0; r < Rows(want); ++r) sums[want[0].values[r].i] += want[2].values[r].i;
    for (const auto& [g, n] : sums) {
      want2[0].values.push_back(Value::Int(g));
      want2[1].values.push_back(Value::Int(n));
    }
  }
  EXPECT_TRUE(ref::SameDynamic(Decode(again, "json"), want2, 0, Rows(want2), true));

  ExpectFail("/aggregate/groupby", GroupByRequest("t", names, "binary", options),
             "options.result_table: table 'summary' already exists");
}

// No grouping column: one row, also over an empty table and an empty
// selection (counts 0, the rest null).
TEST_F(AnalyticsTest, GroupByWithoutKeys) {
  const ref::Table t = AllTypes(13, 600);
  Load("t", t, "json");
  ref::Table empty;
  empty.columns = kAllTypes;
  Load("empty", empty, "json");
  ASSERT_FALSE(HasFailure());
  const std::vector<std::string> names = {"count(*)",         "count(i)", "sum(i)",  "sum(d)",         "min(s)",
                                          "max(c)",           "avg(d)",   "var_samp(f)", "count_distinct(s)",
                                          "arg_max(i, id)",   "min(ts)",  "stddev(i16) as sd"};
  for (const std::string encoding : {"binary", "json"}) {
    SCOPED_TRACE(encoding);
    std::vector<ref::ExpectedColumn> want = ReferenceGroupBy(t, names, AllRows(t));
    ASSERT_EQ(Rows(want), 1u);
    Json r = Run("/aggregate/groupby", GroupByRequest("t", names, encoding));
    EXPECT_EQ(r.value("total_number_of_records", -1), 1);
    EXPECT_TRUE(ref::SameDynamic(Decode(r, encoding), want, 0, 1, encoding == "json"));

    want = ReferenceGroupBy(empty, names, {});
    ASSERT_EQ(Rows(want), 1u);
    EXPECT_EQ(want[0].values[0].i, 0);
    EXPECT_TRUE(want[2].values[0].null());
    r = Run("/aggregate/groupby", GroupByRequest("empty", names, encoding));
    EXPECT_EQ(r.value("total_number_of_records", -1), 1);
    EXPECT_TRUE(ref::SameDynamic(Decode(r, encoding), want, 0, 1, encoding == "json"));

    r = Run("/aggregate/groupby", GroupByRequest("t", names, encoding, {{"expression", "g > 100"}}));
    EXPECT_EQ(r.value("total_number_of_records", -1), 1);
    EXPECT_TRUE(ref::SameDynamic(Decode(r, encoding), want, 0, 1, encoding == "json"));

    // count(*) alone (counted without grouping): every row, the rows a
    // filter chooses, none.
    const std::vector<std::string> counts = {"count(*)", "count(*) as n"};
    for (const auto& [table, expression, rows] : std::vector<std::tuple<std::string, std::string, std::vector<size_t>>>{
             {"t", "", AllRows(t)},
             {"t", "g > 1", Where(t, [](const std::vector<Value>& row) { return !row[1].null() && row[1].i > 1; })},
             {"t", "g > 100", {}},
             {"empty", "", {}}}) {
      SCOPED_TRACE(table + " where " + expression);
      want = ReferenceGroupBy(table == "t" ? t : empty, counts, rows);
      ASSERT_EQ(want[0].values[0].i, static_cast<int64_t>(rows.size()));
      r = Run("/aggregate/groupby", GroupByRequest(table, counts, encoding, {{"expression", expression}}));
      EXPECT_EQ(r.value("total_number_of_records", -1), 1);
      EXPECT_TRUE(ref::SameDynamic(Decode(r, encoding), want, 0, 1, encoding == "json"));
    }

    // With keys, an empty table has no groups.
    r = Run("/aggregate/groupby", GroupByRequest("empty", {"s", "count(*)"}, encoding));
    EXPECT_EQ(r.value("total_number_of_records", -1), 0);
    EXPECT_TRUE(ref::SameDynamic(Decode(r, encoding), ReferenceGroupBy(empty, {"s", "count(*)"}, {}), 0, 0,
                                 encoding == "json"));
  }
}

// Random rows into a table with a primary key: keys drawn twice (or held
// already) are left out, and the count says how many went in.
TEST_F(AnalyticsTest, RandomRowsKeepAPrimaryKey) {
  Run("/create/table", Json{{"table_name", "keyed"}, {"type_id", R"([["k","int","primary_key"],["v","double"]])"}});
  const Json options = {{"k", {{"min", 0}, {"max", 999}}}};
  const Json first = Run("/insert/records/random", Json{{"table_name", "keyed"}, {"count", 3000}, {"options", options}});
  const Json second = Run("/insert/records/random", Json{{"table_name", "keyed"}, {"count", 3000}, {"options", options}});
  ASSERT_FALSE(HasFailure());
  const int64_t inserted = first["count"].get<int64_t>() + second["count"].get<int64_t>();
  EXPECT_LE(inserted, 1000);
  EXPECT_GT(first["count"].get<int64_t>(), 900);  // 3000 draws of 1000 keys miss few
  const Json stats = Run("/aggregate/statistics", Json{{"table_name", "keyed"}, {"column_name", "k"},
                                                       {"stats", "count,cardinality"}});
  EXPECT_EQ(stats["stats"]["count"], inserted);
  EXPECT_EQ(stats["stats"]["cardinality"], inserted);
}

// About a million groups: random rows made on the device, read back, grouped
// by the engine and by the reference.
TEST_F(AnalyticsTest, GroupByMillionGroups) {
  constexpr int64_t kRows = 1'200'000;
  Run("/create/table", Json{{"table_name", "big"}, {"type_id", R"([["k","long"],["v","double","nullable"],["w","int"]])"}});
  Run("/insert/records/random",
      Json{{"table_name", "big"},
           {"count", kRows},
           {"options",
            {{"seed", {{"value", 77}}},
             {"k", {{"min", 0}, {"max", 4'000'000}}},
             {"v", {{"min", -100}, {"max", 100}, {"null_percentage", 10}}},
             {"w", {{"min", -1000}, {"max", 1000}}}}}});
  ASSERT_FALSE(HasFailure());
  // Read the rows back.
  const Json all = Run("/get/records/bycolumn",
                       Json{{"table_name", "big"}, {"column_names", {"k", "v", "w"}}, {"encoding", "binary"}});
  const ref::Dynamic rows = Decode(all, "binary");
  ASSERT_EQ(rows.rows(), static_cast<size_t>(kRows));
  const ref::TypedColumn &k = rows.columns[0], &v = rows.columns[1], &w = rows.columns[2];

  // The reference: rows sorted by k (stable), runs of equal k.
  std::vector<uint32_t> order(kRows);
  for (uint32_t r = 0; r < kRows; ++r) order[r] = r;
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return k.ints[a] < k.ints[b]; });
  struct G {
    int64_t key, count, sum_w;
    bool has_v;
    double max_v;
    long double sum_v;
    int64_t n_v;
  };
  std::vector<G> groups;
  for (uint32_t r : order) {
    if (groups.empty() || groups.back().key != k.ints[r]) groups.push_back(G{k.ints[r], 0, 0, false, 0, 0, 0});
    G& g = groups.back();
    ++g.count;
    g.sum_w += w.ints[r];
    if (v.valid[r]) {
      g.max_v = g.has_v ? std::max(g.max_v, v.floats[r]) : v.floats[r];
      g.has_v = true;
      g.sum_v += v.floats[r];
      ++g.n_v;
    }
  }
  ASSERT_GT(groups.size(), 950'000u);

  const Json r = Run("/aggregate/groupby", GroupByRequest("big", {"k", "count(*)", "sum(w)", "max(v)", "avg(v)"},
                                                          "binary", Json::object(), 0, kMaxRows));
  EXPECT_EQ(r.value("total_number_of_records", -1), static_cast<int64_t>(groups.size()));
  const ref::Dynamic got = Decode(r, "binary");
  ASSERT_EQ(got.rows(), groups.size());
  EXPECT_EQ(got.datatypes, (std::vector<std::string>{"long", "long", "long", "double", "double"}));
  size_t bad = 0;
  for (size_t g = 0; g < groups.size() && bad < 5; ++g) {
    const G& e = groups[g];
    const bool ok = got.columns[0].ints[g] == e.key && got.columns[1].ints[g] == e.count &&
                    got.columns[2].ints[g] == e.sum_w && got.columns[3].valid[g] == e.has_v &&
                    got.columns[4].valid[g] == e.has_v &&
                    (!e.has_v || (got.columns[3].floats[g] == e.max_v &&
                                  ref::Near(got.columns[4].floats[g], static_cast<double>(e.sum_v / e.n_v))));
    if (!ok) {
      ++bad;
      ADD_FAILURE() << "group " << g << " (k=" << e.key << ") differs: got k=" << got.columns[0].ints[g]
                    << " count=" << got.columns[1].ints[g];
    }
  }
  // A page of the middle, and a filtered count of groups.
  const Json page = Run("/aggregate/groupby", GroupByRequest("big", {"k", "count(*)"}, "json", Json::object(), 500'000, 3));
  const ref::Dynamic p = Decode(page, "json");
  ASSERT_EQ(p.rows(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(p.columns[0].ints[i], groups[500'000 + i].key);
    EXPECT_EQ(p.columns[1].ints[i], groups[500'000 + i].count);
  }
  EXPECT_TRUE(page.value("has_more_records", false));
}

// Many rows in few groups (the hash path of the grouping kernel: keys that
// pack into 64 bits, or one nullable 64-bit key), and one group of every
// row: random rows made on the device, read back, grouped by both.
TEST_F(AnalyticsTest, GroupByFewGroupsManyRows) {
  constexpr int64_t kRows = 120'000;  // at least 2^16: the hash path's threshold
  Run("/create/table",
      Json{{"table_name", "few"},
           {"type_id", R"([["k","int"],["k2","int","int8","nullable"],["l","long","nullable"],)"
                       R"(["v","double","nullable"],["f","float"],["one","int"]])"}});
  Run("/insert/records/random",
      Json{{"table_name", "few"},
           {"count", kRows},
           {"options",
            {{"seed", {{"value", 3}}},
             {"k", {{"min", 0}, {"max", 9}}},
             {"k2", {{"min", -3}, {"max", 3}, {"null_percentage", 20}}},
             {"l", {{"min", 0}, {"max", 5}, {"null_percentage", 10}}},
             {"v", {{"min", -100}, {"max", 100}, {"null_percentage", 10}}},
             {"f", {{"min", -1}, {"max", 1}}},
             {"one", {{"min", 7}, {"max", 7}}}}}});
  ASSERT_FALSE(HasFailure());
  const Json all = Run("/get/records/bycolumn", Json{{"table_name", "few"},
                                                     {"column_names", {"k", "k2", "l", "v", "f", "one"}},
                                                     {"encoding", "binary"}});
  const ref::Dynamic read = Decode(all, "binary");
  ASSERT_EQ(read.rows(), static_cast<size_t>(kRows));
  ref::Table t;
  t.columns = {{"k", "int", false}, {"k2", "int8", true}, {"l", "long", true},
               {"v", "double", true}, {"f", "float", false}, {"one", "int", false}};
  t.rows.resize(kRows);
  for (size_t r = 0; r < static_cast<size_t>(kRows); ++r) {
    for (size_t c = 0; c < t.columns.size(); ++c) t.rows[r].push_back(read.columns[c].Get(r));
  }
  const std::vector<std::vector<std::string>> queries = {
      {"k", "count(*)", "sum(v)", "min(v)", "max(v)", "avg(v)", "count_distinct(k2)", "arg_max(v, l)"},
      {"k", "k2", "count(*)", "var_samp(v)", "min(f)", "sum(l)"},
      {"l", "count(*)", "count(v)", "stddev(v)", "max(k2)"},
      {"k2", "l", "count(*)", "sum(k)"},
      {"one", "count(*)", "sum(k)", "avg(f)", "count_distinct(l)", "min(k2)", "arg_min(v, k)"},
  };
  for (const auto& names : queries) {
    const std::vector<ref::ExpectedColumn> want = ReferenceGroupBy(t, names, AllRows(t));
    for (const std::string encoding : {"binary", "json"}) {
      SCOPED_TRACE(encoding + " " + Describe(names, Json::object()));
      const Json r = Run("/aggregate/groupby", GroupByRequest("few", names, encoding));
      EXPECT_EQ(r.value("total_number_of_records", -1), static_cast<int64_t>(Rows(want)));
      EXPECT_TRUE(ref::SameDynamic(Decode(r, encoding), want, 0, Rows(want), encoding == "json"));
    }
  }
  // A filter first (an index list into the rows).
  const std::vector<std::string> names = {"k", "l", "count(*)", "max(v)"};
  const std::vector<ref::ExpectedColumn> want = ReferenceGroupBy(
      t, names, Where(t, [](const std::vector<Value>& row) { return !row[3].null() && row[3].f > 50; }));
  const Json r = Run("/aggregate/groupby", GroupByRequest("few", names, "binary", {{"expression", "v > 50"}}));
  EXPECT_TRUE(ref::SameDynamic(Decode(r, "binary"), want, 0, Rows(want), false));

  // An integer key's zone map bounds it (few keys then map to their groups
  // directly); the bounds follow updates and appends.
  std::map<int64_t, int64_t> sizes;
  for (const std::vector<Value>& row : t.rows) ++sizes[row[0].i];
  const auto sizes_by_k = [&] {
    const ref::Dynamic got =
        Decode(Run("/aggregate/groupby", GroupByRequest("few", {"k", "count(*)"}, "json")), "json");
    std::map<int64_t, int64_t> out;
    for (size_t i = 0; i < got.rows(); ++i) out[got.columns[0].ints[i]] = got.columns[1].ints[i];
    return out;
  };
  EXPECT_EQ(sizes_by_k(), sizes);
  Run("/update/records", Json{{"table_name", "few"},
                              {"expressions", {"k = 9"}},
                              {"new_values_maps", {{{"k", "1000"}}}},
                              {"records_to_insert", Json::array()},
                              {"records_to_insert_str", Json::array()},
                              {"record_encoding", "json"}});
  sizes[1000] = sizes[9];
  sizes.erase(9);
  EXPECT_EQ(sizes_by_k(), sizes);
  Run("/insert/records/random",
      Json{{"table_name", "few"}, {"count", 5000}, {"options", {{"k", {{"min", -5}, {"max", -5}}}}}});
  sizes[-5] += 5000;
  EXPECT_EQ(sizes_by_k(), sizes);
}

// ---------------------------------------------------------------------------
// NaN, infinities and signed zeros (inserted in binary: JSON has no NaN).

ref::Table NanTable() {
  ref::Table t;
  t.columns = {{"id", "long", false}, {"d", "double", true}, {"f", "float", true}, {"k", "int", false}};
  const std::vector<double> ds = {kNaN, 1.5, -0.0, 0.0, -kInf, kInf, 1.5, kNaN, -3.25, 0.0, -0.0, kNaN, 7, -3.25};
  std::mt19937_64 rng(5);
  for (size_t r = 0; r < 60; ++r) {
    std::vector<Value> row;
    row.push_back(Value::Int(static_cast<int64_t>(r)));
    const size_t pick = rng() % (ds.size() + 2);
    row.push_back(pick >= ds.size() ? Value() : Value::Float(ds[pick]));
    const size_t pick2 = rng() % (ds.size() + 2);
    row.push_back(pick2 >= ds.size() ? Value() : Value::Float(static_cast<float>(ds[pick2])));
    row.push_back(Value::Int(static_cast<int64_t>(rng() % 3)));
    t.rows.push_back(std::move(row));
  }
  return t;
}

TEST_F(AnalyticsTest, NanAndSignedZeros) {
  const ref::Table t = NanTable();
  Load("nan", t, "binary");
  ASSERT_FALSE(HasFailure());
  const std::vector<size_t> all = AllRows(t);
  // Sorting: NaN after every number ascending, first descending; nulls
  // first ascending, last descending; -0.0 ties 0.0 (insertion order kept).
  for (const std::string column : {"d", "f"}) {
    for (const bool desc : {false, true}) {
      const auto rows = ReadRecords("nan", "binary",
                                    {{"sort_by", column}, {"sort_order", desc ? "descending" : "ascending"}});
      const std::vector<size_t> want = ref::StableSort(all, {{Eval(t, column).expr, desc}});
      ASSERT_EQ(rows.size(), want.size());
      for (size_t i = 0; i < want.size(); ++i) {
        EXPECT_EQ(rows[i][0].i, t.rows[want[i]][0].i) << column << (desc ? " desc" : " asc") << " position " << i;
      }
    }
  }
  // Group-by keys: one NaN group (last), -0.0 and 0.0 one group; aggregates
  // with NaN: max is NaN, min skips it, count_distinct counts NaN once.
  const std::vector<std::vector<std::string>> queries = {
      {"d", "count(*)", "min(id)", "max(f)", "min(f)", "count_distinct(f)", "sum(id)"},
      {"f", "k", "count(*)", "max(d)", "min(d)", "count_distinct(d)", "arg_max(d, id)", "arg_min(d, id)"},
      {"k", "max(d)", "min(d)", "count_distinct(d)", "count(d)"}};
  for (const auto& names : queries) {
    for (const std::string encoding : {"binary", "json"}) {
      for (const bool desc : {false, true}) {
        SCOPED_TRACE(encoding + (desc ? " descending " : " ") + Describe(names, Json::object()));
        std::vector<ref::ExpectedColumn> want = ReferenceGroupBy(t, names, all);
        if (desc) {
          std::vector<std::pair<ref::Expr, bool>> keys;
          for (size_t k = 0; k < names.size(); ++k) {
            ref::Agg kind;
            std::vector<std::string> args;
            if (!ParseCall(names[k], &kind, &args)) keys.push_back({ResultColumn(&want, k), true});
          }
          OrderResult(&want, keys);
        }
        const Json r = Run("/aggregate/groupby", GroupByRequest("nan", names, encoding,
                                                                desc ? Json{{"sort_order", "descending"}} : Json::object()));
        EXPECT_TRUE(ref::SameDynamic(Decode(r, encoding), want, 0, Rows(want), encoding == "json"));
      }
    }
  }
  // Unique: NaN once, after numbers; -0.0 and 0.0 once.
  for (const bool desc : {false, true}) {
    const Json r = Run("/aggregate/unique", Json{{"table_name", "nan"},
                                                 {"column_name", "d"},
                                                 {"encoding", "binary"},
                                                 {"options", {{"sort_order", desc ? "descending" : "ascending"}}}});
    std::vector<ref::ExpectedColumn> want = ReferenceGroupBy(t, {"d"}, all);
    if (desc) OrderResult(&want, {{ResultColumn(&want, 0), true}});
    EXPECT_TRUE(ref::SameDynamic(Decode(r, "binary"), want, 0, Rows(want), false));
  }
}

// ---------------------------------------------------------------------------
// /aggregate/unique

TEST_F(AnalyticsTest, UniqueAgainstReference) {
  const ref::Table t = AllTypes(21, 1200, 4);
  Load("t", t, "binary");
  ref::Table empty;
  empty.columns = kAllTypes;
  Load("empty", empty, "json");
  ASSERT_FALSE(HasFailure());
  const std::vector<std::string> columns = {"s", "c", "i", "f", "d", "bo", "ts", "b", "i8", "i16", "g",
                                            "substr(s, 1, 2)", "i % 7", "lower(c)", "f * 2"};
  std::mt19937_64 rng(3);
  for (const std::string& column : columns) {
    for (const bool desc : {false, true}) {
      for (const bool filtered : {false, true}) {
        const std::string encoding = rng() % 2 == 0 ? "binary" : "json";
        SCOPED_TRACE(column + (desc ? " desc " : " asc ") + (filtered ? "filtered " : "") + encoding);
        Json options = {{"sort_order", desc ? "descending" : "ascending"}};
        std::vector<size_t> rows = AllRows(t);
        if (filtered) {
          options["expression"] = "g = 1 or bo = 0";
          rows = Where(t, [](const std::vector<Value>& r) { return r[1].i == 1 || r[10].i == 0; });
        }
        std::vector<ref::ExpectedColumn> want = ReferenceGroupBy(t, {column}, rows);
        if (desc) OrderResult(&want, {{ResultColumn(&want, 0), true}});
        const int64_t total = static_cast<int64_t>(Rows(want));
        // The whole list, then pages.
        for (const int64_t limit : {int64_t{-9999}, int64_t{3}}) {
          for (int64_t offset = 0; offset < (limit < 0 ? 1 : std::min<int64_t>(total + 1, 12)); offset += 3) {
            const Json r = Run("/aggregate/unique", Json{{"table_name", "t"},
                                                         {"column_name", column},
                                                         {"offset", offset},
                                                         {"limit", limit},
                                                         {"encoding", encoding},
                                                         {"options", options}});
            if (!r.contains("info")) continue;
            const int64_t begin = std::min(offset, total);
            const int64_t end = limit < 0 ? total : std::min(total, begin + limit);
            EXPECT_EQ(r.value("table_name", ""), "t");
            EXPECT_EQ(r["info"].value("total_number_of_records", ""), std::to_string(total));
            EXPECT_EQ(r.value("has_more_records", true), end < total) << offset;
            EXPECT_TRUE(ref::SameDynamic(Decode(r, encoding), want, begin, end, encoding == "json")) << offset;
          }
        }
      }
    }
  }
  // An empty table: no values.
  const Json r = Run("/aggregate/unique", Json{{"table_name", "empty"}, {"column_name", "s"}, {"encoding", "json"}});
  EXPECT_EQ(Decode(r, "json").rows(), 0u);
  EXPECT_FALSE(r.value("has_more_records", true));
}

// ---------------------------------------------------------------------------
// /aggregate/minmax

TEST_F(AnalyticsTest, MinMaxAgainstReference) {
  for (const size_t n : {size_t{0}, size_t{1}, size_t{700}}) {
    const ref::Table t = AllTypes(31 + n, n);
    const std::string table = "t" + std::to_string(n);
    Load(table, t, n % 2 ? "json" : "binary");
    ASSERT_FALSE(HasFailure());
    for (const std::string column : {"i", "l", "f", "d", "i8", "i16", "bo", "ts", "g", "id", "i * 2 + 1", "d / 2",
                                     "length(s)"}) {
      SCOPED_TRACE(table + " " + column);
      const Computed v = Eval(t, column);
      double min = 0, max = 0;
      bool any = false;
      for (size_t r = 0; r < t.size(); ++r) {
        const Value x = v.expr(r);
        if (x.null()) continue;
        min = any ? std::min(min, x.num()) : x.num();
        max = any ? std::max(max, x.num()) : x.num();
        any = true;
      }
      const Json r = Run("/aggregate/minmax", Json{{"table_name", table}, {"column_name", column}});
      EXPECT_EQ(r.value("min", kNaN), min);
      EXPECT_EQ(r.value("max", kNaN), max);
      EXPECT_FALSE(r["info"].contains("min_string"));
    }
    for (const std::string column : {"s", "c"}) {
      SCOPED_TRACE(table + " " + column);
      const Computed v = Eval(t, column);
      std::vector<std::string> present;
      for (size_t r = 0; r < t.size(); ++r) {
        if (!v.expr(r).null()) present.push_back(v.expr(r).s);
      }
      std::sort(present.begin(), present.end());
      const Json r = Run("/aggregate/minmax", Json{{"table_name", table}, {"column_name", column}});
      if (present.empty()) {
        EXPECT_FALSE(r["info"].contains("min_string"));
        continue;
      }
      EXPECT_EQ(r["info"].value("min_string", "?"), present.front());
      EXPECT_EQ(r["info"].value("max_string", "?"), present.back());
    }
  }
  // Every string null: no min_string / max_string.
  ref::Table nulls;
  nulls.columns = {{"s", "string", true}, {"x", "int", true}};
  nulls.rows = {{Value(), Value()}, {Value(), Value()}};
  Load("nulls", nulls, "json");
  const Json r = Run("/aggregate/minmax", Json{{"table_name", "nulls"}, {"column_name", "s"}});
  EXPECT_FALSE(r["info"].contains("min_string"));
  const Json x = Run("/aggregate/minmax", Json{{"table_name", "nulls"}, {"column_name", "x"}});
  EXPECT_EQ(x.value("min", kNaN), 0);
  EXPECT_EQ(x.value("max", kNaN), 0);
}

// ---------------------------------------------------------------------------
// /aggregate/histogram

TEST_F(AnalyticsTest, HistogramAgainstReference) {
  const ref::Table t = AllTypes(41, 3000);
  Load("t", t, "json");
  ref::Table empty;
  empty.columns = kAllTypes;
  Load("empty", empty, "binary");
  ASSERT_FALSE(HasFailure());
  struct Case {
    std::string column;
    double start, end, interval;
    std::string weights;
  };
  const std::vector<Case> cases = {
      {"i", -50, 50, 10, ""},         // edges on integers; 50 in the last (closed) bin
      {"i", -20, 30, 7, ""},          // a partial last bin; values outside skipped
      {"i", 0, 100, 1000, ""},        // one bin
      {"i8", -128, 127, 1, ""},       // 255 bins
      {"f", -5, 5, 0.5, "d"},         // weights: a nullable double
      {"f", -10, 10, 2.5, "i16"},     // weights: a nullable int16
      {"d", -500, 500, 33.3, "i"},
      {"d", -1000, 1000, 0.001, ""},  // two million bins
      {"ts", -1e12, 2e12, 1e11, "bo"},
      {"i * 2 + 1", -60, 60, 8, "g"},
      {"bo", 0, 1, 0.5, ""},
      {"l", -1e12, 1e12, 1e10, "f"},
  };
  for (const Case& cs : cases) {
    SCOPED_TRACE(cs.column + " [" + std::to_string(cs.start) + ", " + std::to_string(cs.end) + "] / " +
                 std::to_string(cs.interval) + " " + cs.weights);
    std::vector<Value> values, weights;
    const Computed v = Eval(t, cs.column);
    for (size_t r = 0; r < t.size(); ++r) values.push_back(v.expr(r));
    if (!cs.weights.empty()) {
      const Computed w = Eval(t, cs.weights);
      for (size_t r = 0; r < t.size(); ++r) weights.push_back(w.expr(r));
    }
    const std::vector<double> want =
        ref::Histogram(values, cs.weights.empty() ? nullptr : &weights, cs.start, cs.end, cs.interval);
    Json options = Json::object();
    if (!cs.weights.empty()) options["value_column"] = cs.weights;
    const Json r = Run("/aggregate/histogram", Json{{"table_name", "t"},
                                                    {"column_name", cs.column},
                                                    {"start", cs.start},
                                                    {"end", cs.end},
                                                    {"interval", cs.interval},
                                                    {"options", options}});
    if (!r.contains("counts")) continue;
    const auto counts = r["counts"].get<std::vector<double>>();
    ASSERT_EQ(counts.size(), want.size());
    double sum = 0;
    for (size_t b = 0; b < want.size(); ++b) {
      sum += want[b];
      if (cs.weights.empty()) {
        EXPECT_EQ(counts[b], want[b]) << "bin " << b;
      } else {
        EXPECT_TRUE(ref::Near(counts[b], want[b])) << "bin " << b << ": " << counts[b] << " vs " << want[b];
      }
    }
    EXPECT_EQ(r.value("start", kNaN), cs.start);
    EXPECT_EQ(r.value("end", kNaN), cs.end);
    if (cs.weights.empty() && cs.column == "i" && cs.start == -50) {
      // Every non-null i lies in [-50, 50].
      double present = 0;
      for (const Value& x : values) present += !x.null();
      EXPECT_EQ(sum, present);
    }
  }
  const Json r = Run("/aggregate/histogram",
                     Json{{"table_name", "empty"}, {"column_name", "d"}, {"start", 0}, {"end", 10}, {"interval", 3}});
  EXPECT_EQ(r["counts"].get<std::vector<double>>(), (std::vector<double>{0, 0, 0, 0}));
}

// ---------------------------------------------------------------------------
// /aggregate/statistics

TEST_F(AnalyticsTest, StatisticsAgainstReference) {
  const std::string stats =
      "count,sum,min,max,mean,stdv,variance,skew,kurtosis,weighted_average,cardinality,"
      "estimated_cardinality,percentile(0),percentile(50),percentile(100),percentile(37.5),percentile(99.9),"
      "percentile_rank(0),percentile_rank(12.5),percentile_rank(-1e9)";
  std::vector<std::pair<std::string, double>> names;
  {
    std::string item;
    for (const char ch : stats + ",") {
      if (ch != ',') {
        item.push_back(ch);
        continue;
      }
      double arg = 0;
      if (const size_t open = item.find('('); open != std::string::npos) arg = std::stod(item.substr(open + 1));
      names.emplace_back(item, arg);
      item.clear();
    }
  }
  for (const size_t n : {size_t{0}, size_t{1}, size_t{2}, size_t{3001}}) {
    const ref::Table t = AllTypes(51 + n, n);
    const std::string table = "t" + std::to_string(n);
    Load(table, t, n % 2 ? "binary" : "json");
    ASSERT_FALSE(HasFailure());
    for (const std::string column : {"i", "d", "f", "l", "i8", "i16", "bo", "ts", "d * 2 + i", "i + 0.5"}) {
      for (const std::string weight : {"i16", "g", "f"}) {
        if (n < 1000 && weight != "i16") continue;
        SCOPED_TRACE(table + " " + column + " weighted by " + weight);
        std::vector<Value> values, weights;
        const Computed v = Eval(t, column), w = Eval(t, weight);
        for (size_t r = 0; r < t.size(); ++r) {
          values.push_back(v.expr(r));
          weights.push_back(w.expr(r));
        }
        const Json r = Run("/aggregate/statistics", Json{{"table_name", table},
                                                         {"column_name", column},
                                                         {"stats", stats},
                                                         {"options", {{"weight_column_name", weight}}}});
        if (!r.contains("stats")) continue;
        EXPECT_EQ(r["stats"].size(), names.size());
        for (const auto& [item, arg] : names) {
          const std::string name = item.substr(0, item.find('('));
          const double want = ref::Statistic(name, arg, values, &weights);
          ASSERT_TRUE(r["stats"].contains(item)) << item;
          const double got = r["stats"][item].get<double>();
          const double tolerance = name == "skew" || name == "kurtosis" ? 1e-7 : 1e-9;
          EXPECT_TRUE(ref::Near(got, want, tolerance)) << item << ": got " << got << ", expected " << want;
        }
      }
    }
  }
}

TEST_F(AnalyticsTest, StatisticsCountAndCardinalityOfStrings) {
  const ref::Table t = AllTypes(71, 1500);
  Load("ts", t, "json");
  ASSERT_FALSE(HasFailure());
  for (const std::string column : {"s", "c", "upper(s)"}) {
    SCOPED_TRACE(column);
    std::vector<Value> values;
    const Computed v = Eval(t, column);
    for (size_t r = 0; r < t.size(); ++r) values.push_back(v.expr(r));
    const Json r = Run("/aggregate/statistics",
                       Json{{"table_name", "ts"}, {"column_name", column}, {"stats", "count,cardinality"}});
    ASSERT_TRUE(r.contains("stats")) << r.dump();
    EXPECT_EQ(r["stats"]["count"].get<double>(), ref::Statistic("count", 0, values, nullptr));
    EXPECT_EQ(r["stats"]["cardinality"].get<double>(), ref::Statistic("cardinality", 0, values, nullptr));
  }
}

// ---------------------------------------------------------------------------
// /filter/byrange and /filter/bylist

TEST_F(AnalyticsTest, FilterByRangeAgainstReference) {
  const ref::Table t = AllTypes(61, 2000);
  Load("t", t, "json");
  ASSERT_FALSE(HasFailure());
  struct Case {
    std::string column;
    double lo, hi;
  };
  const std::vector<Case> cases = {{"i", -10, 10},     {"i", 5, 5},          {"i", 10, -10},   {"d", -250.5, 0},
                                   {"d", -0.0, 0.0},   {"f", -2.5, 3.75},    {"ts", 0, 1e12},  {"i8", -128, -100},
                                   {"bo", 1, 1},       {"l", -1e11, 5e11},   {"i16", -1e300, 1e300},
                                   {"g", 0.5, 2.5},    {"id", 100, 199}};
  int view = 0;
  for (const Case& cs : cases) {
    SCOPED_TRACE(cs.column + " [" + std::to_string(cs.lo) + ", " + std::to_string(cs.hi) + "]");
    const int c = t.Find(cs.column);
    const std::vector<size_t> want = Where(t, [&](const std::vector<Value>& row) {
      return !row[c].null() && row[c].num() >= cs.lo && row[c].num() <= cs.hi;
    });
    // Without a view: the count only.
    Json r = Run("/filter/byrange", Json{{"table_name", "t"},
                                         {"view_name", ""},
                                         {"column_name", cs.column},
                                         {"lower_bound", cs.lo},
                                         {"upper_bound", cs.hi}});
    EXPECT_EQ(r.value("count", -1), static_cast<int64_t>(want.size()));
    // With a view: the rows, in table order.
    const std::string name = "range_" + std::to_string(view++);
    r = Run("/filter/byrange", Json{{"table_name", "t"},
                                    {"view_name", name},
                                    {"column_name", cs.column},
                                    {"lower_bound", cs.lo},
                                    {"upper_bound", cs.hi}});
    EXPECT_EQ(r.value("count", -1), static_cast<int64_t>(want.size()));
    EXPECT_EQ(r["info"].value("qualified_view_name", ""), name);
    const auto rows = ReadRecords(name, view % 2 ? "binary" : "json");
    ASSERT_EQ(rows.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      for (size_t k = 0; k < t.columns.size(); ++k) {
        EXPECT_TRUE(ref::Compare(rows[i][k], t.rows[want[i]][k]) == 0) << "row " << i << " column " << k;
      }
    }
  }
  // A view is read like a table: statistics and group-by over it.
  const std::vector<size_t> in = Where(t, [](const std::vector<Value>& row) {
    return !row[2].null() && row[2].i >= -10 && row[2].i <= 10;
  });
  const Json stats = Run("/aggregate/statistics", Json{{"table_name", "range_0"}, {"column_name", "d"}, {"stats", "count,sum"}});
  std::vector<Value> d;
  for (size_t r : in) d.push_back(t.rows[r][5]);
  EXPECT_EQ(stats["stats"].value("count", -1.0), ref::Statistic("count", 0, d, nullptr));
  EXPECT_TRUE(ref::Near(stats["stats"].value("sum", kNaN), ref::Statistic("sum", 0, d, nullptr)));
  const Json grouped = Run("/aggregate/groupby", GroupByRequest("range_0", {"s", "count(*)"}, "json"));
  EXPECT_TRUE(ref::SameDynamic(Decode(grouped, "json"), ReferenceGroupBy(t, {"s", "count(*)"}, in), 0,
                               Rows(ReferenceGroupBy(t, {"s", "count(*)"}, in)), true));

  ExpectFail("/filter/byrange", Json{{"table_name", "t"}, {"view_name", ""}, {"column_name", "s"},
                                     {"lower_bound", 0}, {"upper_bound", 1}},
             "column_name: 's' is not numeric");
  ExpectFail("/filter/byrange", Json{{"table_name", "t"}, {"view_name", ""}, {"column_name", "nope"},
                                     {"lower_bound", 0}, {"upper_bound", 1}},
             "column_name: no column named 'nope'");
  ExpectFail("/filter/byrange", Json{{"table_name", "t"}, {"view_name", "range_0"}, {"column_name", "i"},
                                     {"lower_bound", 0}, {"upper_bound", 1}},
             "view_name: table 'range_0' already exists");
}

TEST_F(AnalyticsTest, FilterByListAgainstReference) {
  const ref::Table t = AllTypes(71, 2000);
  Load("t", t, "binary");
  ASSERT_FALSE(HasFailure());
  struct Case {
    std::map<std::string, std::vector<std::string>> map;
    bool not_in;
  };
  const std::vector<Case> cases = {
      {{{"i", {"1", "2", "3", "-50", "50"}}}, false},
      {{{"i", {"1", "2", "3", "-50", "50"}}}, true},
      {{{"s", {"", "ab", "it's", "é", "zz"}}}, false},
      {{{"s", {"", "ab", "it's", "é", "zz"}}}, true},
      {{{"c", {"xy", "abcdefghijklmnop", ""}}}, false},
      {{{"g", {"0", "2"}}, {"s", {"a", "b", "abc"}}}, false},
      {{{"g", {"0", "2"}}, {"bo", {"1"}}}, true},
      {{{"f", {"0.25", "-1.5", "10"}}}, false},
      {{{"d", {"0"}}}, false},  // -0.0 and 0.0
      {{{"i8", {"-128", "127", "0"}}}, true},
  };
  int view = 0;
  for (const Case& cs : cases) {
    std::vector<std::pair<int, std::vector<Value>>> lists;
    Json map = Json::object();
    std::string what;
    for (const auto& [column, values] : cs.map) {
      const int c = t.Find(column);
      std::vector<Value> parsed;
      for (const std::string& v : values) {
        parsed.push_back(ref::IsStringType(t.columns[c].type) ? Value::Str(v) : Value::Float(std::stod(v)));
      }
      lists.emplace_back(c, parsed);
      map[column] = values;
      what += column + " ";
    }
    SCOPED_TRACE(what + (cs.not_in ? "not_in_list" : "in_list"));
    // All columns must match; a null matches neither mode.
    const std::vector<size_t> want = Where(t, [&](const std::vector<Value>& row) {
      for (const auto& [c, values] : lists) {
        if (row[c].null()) return false;
        bool found = false;
        for (const Value& v : values) found = found || ref::Compare(row[c], v) == 0;
        if (found == cs.not_in) return false;
      }
      return true;
    });
    const std::string name = "list_" + std::to_string(view++);
    const Json r = Run("/filter/bylist", Json{{"table_name", "t"},
                                              {"view_name", name},
                                              {"column_values_map", map},
                                              {"options", {{"filter_mode", cs.not_in ? "not_in_list" : "in_list"}}}});
    EXPECT_EQ(r.value("count", -1), static_cast<int64_t>(want.size()));
    const auto rows = ReadRecords(name, "binary");
    ASSERT_EQ(rows.size(), want.size());
    for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(rows[i][0].i, t.rows[want[i]][0].i) << "row " << i;
    const Json count = Run("/filter/bylist", Json{{"table_name", "t"}, {"view_name", ""}, {"column_values_map", map},
                                                  {"options", {{"filter_mode", cs.not_in ? "not_in_list" : "in_list"}}}});
    EXPECT_EQ(count.value("count", -1), static_cast<int64_t>(want.size()));
  }
  ExpectFail("/filter/bylist", Json{{"table_name", "t"}, {"view_name", ""}, {"column_values_map", {{"i", {"x1"}}}}},
             "column_values_map.i: 'x1' is not a number");
  ExpectFail("/filter/bylist", Json{{"table_name", "t"}, {"view_name", ""}, {"column_values_map", {{"i", {"1"}}}},
                                    {"options", {{"filter_mode", "maybe"}}}},
             "options.filter_mode: expected 'in_list' or 'not_in_list', got 'maybe'");
  ExpectFail("/filter/bylist", Json{{"table_name", "t"}, {"view_name", ""}, {"column_values_map", {{"zz", {"1"}}}}},
             "column_values_map: no column named 'zz'");
}

// ---------------------------------------------------------------------------
// /get/records sorting

TEST_F(AnalyticsTest, GetRecordsSortedOnEveryType) {
  const ref::Table t = AllTypes(81, 1500, 3);
  Load("t", t, "json");
  ASSERT_FALSE(HasFailure());
  const std::vector<size_t> all = AllRows(t);
  auto check = [&](const Json& options, const std::vector<size_t>& want, const std::string& encoding,
                   int64_t offset = 0, int64_t limit = -9999) {
    int64_t total = -1;
    bool more = true;
    const auto rows = ReadRecords("t", encoding, options, offset, limit, &total, &more);
    EXPECT_EQ(total, static_cast<int64_t>(want.size()));
    const size_t begin = std::min<size_t>(offset, want.size());
    const size_t end = limit < 0 ? want.size() : std::min<size_t>(want.size(), begin + limit);
    EXPECT_EQ(more, end < want.size());
    ASSERT_EQ(rows.size(), end - begin);
    for (size_t i = 0; i < rows.size(); ++i) {
      ASSERT_EQ(rows[i].size(), t.columns.size());
      for (size_t k = 0; k < t.columns.size(); ++k) {
        ASSERT_TRUE(ref::Compare(rows[i][k], t.rows[want[begin + i]][k]) == 0)
            << "position " << begin + i << " column " << t.columns[k].name << ": got " << rows[i][k]
            << ", expected " << t.rows[want[begin + i]][k] << " (id " << t.rows[want[begin + i]][0].i << ")";
      }
    }
  };
  // sort_by each column, both directions: stable (ties in insertion order).
  int n = 0;
  for (const ref::ColumnSpec& column : t.columns) {
    for (const bool desc : {false, true}) {
      SCOPED_TRACE(column.name + (desc ? " descending" : " ascending"));
      const std::vector<size_t> want = ref::StableSort(all, {{Eval(t, column.name).expr, desc}});
      Json options = {{"sort_by", column.name}};
      if (desc || n % 3 == 0) options["sort_order"] = desc ? "descending" : "ascending";
      check(options, want, n++ % 2 ? "json" : "binary");
    }
  }
  // order_by several keys, expressions among them.
  const std::vector<std::pair<std::string, std::vector<std::pair<std::string, bool>>>> orders = {
      {"g asc, s desc", {{"g", false}, {"s", true}}},
      {"bo desc, c, i desc", {{"bo", true}, {"c", false}, {"i", true}}},
      {"i8 desc, id desc", {{"i8", true}, {"id", true}}},
      {"i % 7 desc, ts", {{"i % 7", true}, {"ts", false}}},
      {"substr(s, 1, 1), f desc, b", {{"substr(s, 1, 1)", false}, {"f", true}, {"b", false}}},
      {"year(ts) DESC, lower(c) ASC", {{"year(ts)", true}, {"lower(c)", false}}},
  };
  for (const auto& [text, keys] : orders) {
    SCOPED_TRACE(text);
    std::vector<ref::SortKey> sort_keys;
    for (const auto& [expr, desc] : keys) sort_keys.push_back({Eval(t, expr).expr, desc});
    const std::vector<size_t> want = ref::StableSort(all, sort_keys);
    check({{"order_by", text}}, want, "binary");
    // Pages of it, with a filter.
    const std::vector<size_t> filtered =
        ref::StableSort(Where(t, [](const std::vector<Value>& r) { return r[1].i != 0; }), sort_keys);
    for (int64_t offset = 0; offset < static_cast<int64_t>(filtered.size()) + 200; offset += 250) {
      check({{"order_by", text}, {"expression", "g != 0"}}, filtered, offset % 500 ? "json" : "binary", offset, 250);
    }
  }
  // sort_by an expression.
  check({{"sort_by", "d * 2 + i"}, {"sort_order", "descending"}},
        ref::StableSort(all, {{Eval(t, "d * 2 + i").expr, true}}), "json");
}

// Small pages of a sorted read take its first rows without sorting them all
// (kernels::TopKOrder): the same rows as the full sort, ties in insertion
// order, on every type, both directions, with a filter and several keys.
TEST_F(AnalyticsTest, GetRecordsTopPagesOnEveryType) {
  const ref::Table t = AllTypes(83, 6000, 3);
  Load("t", t, "binary");
  ASSERT_FALSE(HasFailure());
  auto check = [&](const Json& options, const std::vector<size_t>& want, int64_t offset, int64_t limit) {
    SCOPED_TRACE(options.dump() + " offset " + std::to_string(offset) + " limit " + std::to_string(limit));
    int64_t total = -1;
    bool more = true;
    const auto rows = ReadRecords("t", offset % 2 ? "json" : "binary", options, offset, limit, &total, &more);
    EXPECT_EQ(total, static_cast<int64_t>(want.size()));
    const size_t begin = std::min<size_t>(offset, want.size());
    const size_t end = std::min<size_t>(want.size(), begin + limit);
    EXPECT_EQ(more, end < want.size());
    ASSERT_EQ(rows.size(), end - begin);
    for (size_t i = 0; i < rows.size(); ++i) {
      for (size_t k = 0; k < t.columns.size(); ++k) {
        ASSERT_TRUE(ref::Compare(rows[i][k], t.rows[want[begin + i]][k]) == 0)
            << "position " << begin + i << " column " << t.columns[k].name << " (id "
            << t.rows[want[begin + i]][0].i << ")";
      }
    }
  };
  const std::vector<std::pair<int64_t, int64_t>> pages = {{0, 0}, {0, 1}, {0, 10}, {7, 10}, {90, 25}, {0, 200}};
  const std::vector<size_t> all = AllRows(t);
  for (const ref::ColumnSpec& column : t.columns) {
    for (const bool desc : {false, true}) {
      const std::vector<size_t> want = ref::StableSort(all, {{Eval(t, column.name).expr, desc}});
      for (const auto& [offset, limit] : pages) {
        check({{"sort_by", column.name}, {"sort_order", desc ? "descending" : "ascending"}}, want, offset, limit);
      }
    }
  }
  const std::vector<size_t> filtered = ref::StableSort(
      Where(t, [](const std::vector<Value>& r) { return r[1].i != 0; }), {{Eval(t, "g").expr, true},
                                                                         {Eval(t, "d").expr, false}});
  for (const auto& [offset, limit] : pages) check({{"order_by", "g desc, d"}, {"expression", "g != 0"}}, filtered, offset, limit);
  // Past the end, and the whole table.
  const std::vector<size_t> by_i = ref::StableSort(all, {{Eval(t, "i").expr, true}});
  check({{"sort_by", "i"}, {"sort_order", "descending"}}, by_i, 5995, 10);
  check({{"sort_by", "i"}, {"sort_order", "descending"}}, by_i, 7000, 10);
  check({{"sort_by", "i"}, {"sort_order", "descending"}}, by_i, 0, 6000);
}

// ---------------------------------------------------------------------------
// /get/records/bycolumn

TEST_F(AnalyticsTest, GetRecordsByColumnAgainstReference) {
  const ref::Table t = AllTypes(91, 1300, 4);
  Load("t", t, "binary");
  ASSERT_FALSE(HasFailure());
  const std::vector<std::string> computed = {
      "i % 7",          "g * 2 + 1",     "substr(s, 1, 2)",  "substr(c, 2, 3)", "lower(c)",   "upper(s)",
      "length(s)",      "f * 2",         "d / 2",            "i + 0.5",         "if(i > 0, 'pos', 'neg')",
      "ifnull(i, -1)",  "coalesce(s, c)", "is_null(d)",      "abs(i)",          "floor(f)",   "round(d)",
      "sqrt(abs(d))",   "greatest(i, i16)", "least(i, i16)", "s like 'ab%'",    "g in (1, 3)",
      "i between -10 and 10", "i / 0",  "l / 1000",          "nullif(g, 2)",    "d * 2 + i",  "mod(i8, 5)",
      "pow(g, 2)",      "year(ts)",      "month(ts)",        "day(ts)",         "hour(ts)",   "minute(ts)",
      "sec(ts)"};
  // Plain columns of every type, with and without aliases, then every
  // computed column, a few at a time.
  std::vector<std::vector<std::string>> selections;
  {
    std::vector<std::string> plain;
    for (const ref::ColumnSpec& c : t.columns) plain.push_back(c.name);
    selections.push_back(plain);
    selections.push_back({"id", "s as name", "ts as when_ms", "b as raw", "c as code", "bo as flag"});
    for (size_t i = 0; i < computed.size(); i += 6) {
      std::vector<std::string> sel = {"id"};
      for (size_t k = i; k < std::min(computed.size(), i + 6); ++k) {
        sel.push_back(k % 4 == 0 ? computed[k] + " as e" + std::to_string(k) : computed[k]);
      }
      selections.push_back(sel);
    }
  }
  struct Ordering {
    Json options;
    std::vector<std::pair<std::string, bool>> keys;
    std::function<bool(const std::vector<Value>&)> where;
  };
  const std::vector<Ordering> orderings = {
      {Json::object(), {}, nullptr},
      {{{"order_by", "g desc, s, id desc"}}, {{"g", true}, {"s", false}, {"id", true}}, nullptr},
      {{{"order_by", "c, i16 desc"}, {"expression", "bo = 1 and i > 0"}},
       {{"c", false}, {"i16", true}},
       [](const std::vector<Value>& r) { return r[10].i == 1 && !r[2].null() && r[2].i > 0; }},
      {{{"sort_by", "ts"}, {"sort_order", "descending"}}, {{"ts", true}}, nullptr},
  };
  int round = 0;
  for (const auto& selection : selections) {
    for (const Ordering& o : orderings) {
      std::vector<size_t> rows = o.where ? Where(t, o.where) : AllRows(t);
      std::vector<ref::SortKey> keys;
      for (const auto& [expr, desc] : o.keys) keys.push_back({Eval(t, expr).expr, desc});
      rows = ref::StableSort(rows, keys);
      const std::vector<ref::ExpectedColumn> want = ref::ReferenceByColumn(t, selection, rows);
      const int64_t total = static_cast<int64_t>(rows.size());
      for (const auto& [offset, limit] : std::vector<std::pair<int64_t, int64_t>>{{0, -9999}, {5, 40}, {total - 3, 10}}) {
        const std::string encoding = round++ % 2 ? "json" : "binary";
        SCOPED_TRACE(Describe(selection, o.options) + " offset " + std::to_string(offset) + " limit " +
                     std::to_string(limit) + " " + encoding);
        const Json r = Run("/get/records/bycolumn", Json{{"table_name", "t"},
                                                         {"column_names", selection},
                                                         {"offset", offset},
                                                         {"limit", limit},
                                                         {"encoding", encoding},
                                                         {"options", o.options}});
        if (!r.contains("total_number_of_records")) continue;
        const int64_t begin = std::min(offset, total);
        const int64_t end = limit < 0 ? total : std::min(total, begin + limit);
        EXPECT_EQ(r.value("table_name", ""), "t");
        EXPECT_EQ(r["total_number_of_records"].get<int64_t>(), total);
        EXPECT_EQ(r["has_more_records"].get<bool>(), end < total);
        EXPECT_TRUE(ref::SameDynamic(Decode(r, encoding), want, begin, end, encoding == "json"));
      }
    }
  }
}

// Top-k by a column and filters read only the zones that can hold their
// rows (Table::zone_map); pages and counts must stay what a full pass gives
// while rows are appended (the zone map extended), updated and deleted
// (dropped).
TEST_F(AnalyticsTest, ZoneMapsFollowInsertsUpdatesAndDeletes) {
  struct Row {
    int64_t id;
    std::optional<double> x;
  };
  std::vector<Row> rows;
  std::mt19937_64 rng(7);
  Run("/create/table", Json{{"table_name", "z"}, {"type_id", R"([["id","long"],["x","double","nullable"]])"}});
  // Clustered values (rising with id, with noise and nulls), so that zones
  // differ; then the same checks after each change.
  const auto insert = [&](int64_t count, double base, double spread) {
    Json list = Json::array();
    for (int64_t i = 0; i < count; ++i) {
      Row r{static_cast<int64_t>(rows.size()), std::nullopt};
      if (rng() % 50 != 0) r.x = base + static_cast<double>(i) + static_cast<double>(rng() % 1000) * spread;
      list.push_back(Json{{"id", r.id}, {"x", r.x ? Json(*r.x) : Json(nullptr)}}.dump());
      rows.push_back(r);
    }
    Run("/insert/records", Json{{"table_name", "z"}, {"list_encoding", "json"}, {"list_str", list}});
  };
  const auto check = [&](const std::string& step) {
    for (bool desc : {true, false}) {
      // Ascending: nulls first; descending: nulls last; ties by insertion.
      std::vector<Row> want = rows;
      std::stable_sort(want.begin(), want.end(), [desc](const Row& a, const Row& b) {
        if (!a.x || !b.x) return desc ? (a.x && !b.x) : (!a.x && b.x);
        return desc ? *a.x > *b.x : *a.x < *b.x;
      });
      for (const auto& [offset, limit] : std::vector<std::pair<int64_t, int64_t>>{{0, 10}, {0, 1}, {3, 25}}) {
        SCOPED_TRACE(step + (desc ? ", descending" : ", ascending") + ", offset " + std::to_string(offset) +
                     ", limit " + std::to_string(limit));
        const Json r = Run("/get/records/bycolumn",
                           Json{{"table_name", "z"},
                                {"column_names", {"id"}},
                                {"offset", offset},
                                {"limit", limit},
                                {"encoding", "json"},
                                {"options", {{"sort_by", "x"}, {"sort_order", desc ? "descending" : "ascending"}}}});
        const ref::Dynamic got = Decode(r, "json");
        ASSERT_EQ(got.rows(), static_cast<size_t>(limit));
        for (int64_t i = 0; i < limit; ++i) EXPECT_EQ(got.columns[0].ints[i], want[offset + i].id) << "row " << i;
      }
    }
    struct Filter {
      std::string expression;
      std::function<bool(const Row&)> holds;
    };
    const std::vector<Filter> filters = {
        {"x > 89000", [](const Row& r) { return r.x && *r.x > 89000; }},
        {"x >= 100 and x < 4200", [](const Row& r) { return r.x && *r.x >= 100 && *r.x < 4200; }},
        {"x is null", [](const Row& r) { return !r.x; }},
        {"x != 20000.25", [](const Row& r) { return r.x && *r.x != 20000.25; }},
        {"x < -1 and id > 5", [](const Row& r) { return r.x && *r.x < -1 && r.id > 5; }},
    };
    for (const Filter& f : filters) {
      SCOPED_TRACE(step + ", " + f.expression);
      std::vector<int64_t> want;
      for (const Row& r : rows) {
        if (f.holds(r)) want.push_back(r.id);
      }
      const Json counted = Run("/filter", Json{{"table_name", "z"}, {"view_name", ""}, {"expression", f.expression}});
      EXPECT_EQ(counted.value("count", -1), static_cast<int64_t>(want.size()));
      const Json r = Run("/get/records/bycolumn", Json{{"table_name", "z"},
                                                       {"column_names", {"id"}},
                                                       {"offset", 0},
                                                       {"limit", -9999},
                                                       {"encoding", "json"},
                                                       {"options", {{"expression", f.expression}}}});
      const ref::Dynamic got = Decode(r, "json");
      EXPECT_EQ(got.columns.empty() ? std::vector<int64_t>() : got.columns[0].ints, want);
    }
  };
  // 100,000 rows: 25 zones of kernels::kZoneRows.
  insert(100'000, 0, 0.25);
  check("loaded");
  insert(9'000, 10'000, 1);  // in the middle, and a partial zone extended
  check("appended");
  insert(1, 1e9, 0);
  check("one more row, the largest");
  // The largest rows fall below all others.
  Run("/update/records", Json{{"table_name", "z"},
                              {"expressions", {"x > 98000"}},
                              {"new_values_maps", {{{"x", "-1e10"}}}},
                              {"records_to_insert", Json::array()},
                              {"records_to_insert_str", Json::array()},
                              {"record_encoding", "json"}});
  for (Row& r : rows) {
    if (r.x && *r.x > 98000) r.x = -1e10;
  }
  check("updated");
  Run("/delete/records", Json{{"table_name", "z"}, {"expressions", {"x < 5000"}}});
  rows.erase(std::remove_if(rows.begin(), rows.end(), [](const Row& r) { return r.x && *r.x < 5000; }), rows.end());
  check("deleted");
}

// String keys of few values group, sort and filter by their dictionary's
// codes (Table::dictionary), alone and packed with integer keys; the groups,
// the distinct values, the sorted pages and the filters' rows stay right as rows bring new values (sorting before,
// between and after the others), are updated and deleted; a small column
// declared `dict` is encoded too.
TEST_F(AnalyticsTest, StringKeysByDictionaryFollowInsertsUpdatesAndDeletes) {
  struct Row {
    std::optional<std::string> s;
    std::string c;
    int64_t k;
  };
  std::vector<Row> rows;
  std::mt19937_64 rng(17);
  Run("/create/table",
      Json{{"table_name", "ds"}, {"type_id", R"([["s","string","nullable"],["c","string","char8"],["k","int"]])"}});
  const auto insert = [&](int64_t count, const std::vector<std::string>& words) {
    for (int64_t begin = 0; begin < count; begin += 20000) {
      Json list = Json::array();
      for (int64_t i = begin; i < std::min(count, begin + 20000); ++i) {
        Row r{std::nullopt, "c" + std::to_string(rng() % 6), static_cast<int64_t>(rng() % 10)};
        if (rng() % 13 != 0) r.s = words[rng() % words.size()];
        list.push_back(Json{{"s", r.s ? Json(*r.s) : Json(nullptr)}, {"c", r.c}, {"k", r.k}}.dump());
        rows.push_back(r);
      }
      Run("/insert/records", Json{{"table_name", "ds"}, {"list_encoding", "json"}, {"list_str", list}});
    }
  };
  using Key = std::tuple<int64_t, std::string, std::optional<std::string>>;
  const auto check = [&](const std::string& step) {
    SCOPED_TRACE(step);
    std::map<std::optional<std::string>, int64_t> by_s;
    std::map<Key, int64_t> by_three;
    for (const Row& r : rows) {
      ++by_s[r.s];
      ++by_three[Key{r.k, r.c, r.s}];
    }
    const ref::Dynamic one = Decode(Run("/aggregate/groupby", GroupByRequest("ds", {"s", "count(*)"}, "json")), "json");
    std::map<std::optional<std::string>, int64_t> got_s;
    std::vector<std::optional<std::string>> order;
    for (size_t i = 0; i < one.rows(); ++i) {
      const std::optional<std::string> s =
          one.columns[0].valid[i] ? std::optional<std::string>(one.columns[0].strings[i]) : std::nullopt;
      got_s[s] = one.columns[1].ints[i];
      order.push_back(s);
    }
    EXPECT_EQ(got_s, by_s);
    EXPECT_TRUE(std::is_sorted(order.begin(), order.end())) << "groups in key order, nulls first";
    const ref::Dynamic three =
        Decode(Run("/aggregate/groupby", GroupByRequest("ds", {"k", "c", "s", "count(*)"}, "json")), "json");
    std::map<Key, int64_t> got_three;
    for (size_t i = 0; i < three.rows(); ++i) {
      const std::optional<std::string> s =
          three.columns[2].valid[i] ? std::optional<std::string>(three.columns[2].strings[i]) : std::nullopt;
      got_three[Key{three.columns[0].ints[i], three.columns[1].strings[i], s}] = three.columns[3].ints[i];
    }
    EXPECT_EQ(got_three, by_three);
    const ref::Dynamic unique = Decode(
        Run("/aggregate/unique",
            Json{{"table_name", "ds"}, {"column_name", "s"}, {"offset", 0}, {"limit", -9999}, {"encoding", "json"}}),
        "json");
    std::vector<std::optional<std::string>> want_unique, got_unique;
    for (const auto& [s, n] : by_s) want_unique.push_back(s);
    for (size_t i = 0; i < unique.rows(); ++i) {
      got_unique.push_back(unique.columns[0].valid[i] ? std::optional<std::string>(unique.columns[0].strings[i])
                                                      : std::nullopt);
    }
    EXPECT_EQ(got_unique, want_unique);
    // Filters testing s against constants (rewritten to test its codes),
    // counted against the rows; a null s satisfies none but `is null`.
    using Test = std::function<bool(const std::string&)>;
    const std::vector<std::pair<std::string, Test>> filters = {
        {"s = 'm3'", [](const std::string& v) { return v == "m3"; }},
        {"s <> 'm3'", [](const std::string& v) { return v != "m3"; }},
        {"s = 'absent'", [](const std::string& v) { return v == "absent"; }},
        {"s < 'm5'", [](const std::string& v) { return v < "m5"; }},
        {"'m5' <= s", [](const std::string& v) { return v >= "m5"; }},
        {"s > 'm50'", [](const std::string& v) { return v > "m50"; }},
        {"s >= 'm50a'", [](const std::string& v) { return v >= "m50a"; }},
        {"s <= 'b'", [](const std::string& v) { return v <= "b"; }},
        {"s between 'm1' and 'm4'", [](const std::string& v) { return v >= "m1" && v <= "m4"; }},
        {"s in ('m3', 'a', 'nope')", [](const std::string& v) { return v == "m3" || v == "a"; }},
        {"s like 'm1%'", [](const std::string& v) { return v.rfind("m1", 0) == 0; }},
        {"s like '%x'", [](const std::string& v) { return !v.empty() && v.back() == 'x'; }},
        {"s like 'q%'", [](const std::string&) { return false; }},
        {"s like 'm_' and k < 5", nullptr},
    };
    for (const auto& [expression, test] : filters) {
      int64_t want = 0;
      for (const Row& r : rows) {
        if (expression == "s like 'm_' and k < 5") {
          want += r.s && r.s->size() == 2 && (*r.s)[0] == 'm' && r.k < 5 ? 1 : 0;
        } else {
          want += r.s && test(*r.s) ? 1 : 0;
        }
      }
      const Json counted = Run("/filter", Json{{"table_name", "ds"}, {"view_name", ""}, {"expression", expression}});
      EXPECT_EQ(counted.value("count", -1), want) << expression;
      const Json selected = Run("/get/records/bycolumn", Json{{"table_name", "ds"},
                                                              {"column_names", {"k"}},
                                                              {"offset", 0},
                                                              {"limit", -9999},
                                                              {"encoding", "json"},
                                                              {"options", {{"expression", expression}}}});
      EXPECT_EQ(selected.value("total_number_of_records", -1), want) << expression;
    }
    // Sorted by s (its codes), both ways: nulls first ascending, last
    // descending; ties in insertion order.
    for (bool desc : {false, true}) {
      std::vector<Row> want = rows;
      std::stable_sort(want.begin(), want.end(),
                       [desc](const Row& a, const Row& b) { return desc ? b.s < a.s : a.s < b.s; });
      for (int64_t offset : {int64_t{0}, int64_t{4321}, static_cast<int64_t>(rows.size()) - 30}) {
        SCOPED_TRACE(testing::Message() << (desc ? "descending" : "ascending") << " from " << offset);
        const ref::Dynamic page =
            Decode(Run("/get/records/bycolumn",
                       Json{{"table_name", "ds"},
                            {"column_names", {"s", "c", "k"}},
                            {"offset", offset},
                            {"limit", 30},
                            {"encoding", "json"},
                            {"options", {{"sort_by", "s"}, {"sort_order", desc ? "descending" : "ascending"}}}}),
                   "json");
        ASSERT_EQ(page.rows(), 30u);
        for (size_t i = 0; i < 30; ++i) {
          const Row& w = want[static_cast<size_t>(offset) + i];
          EXPECT_EQ(page.columns[0].valid[i] != 0, w.s.has_value()) << "row " << i;
          if (w.s) EXPECT_EQ(page.columns[0].strings[i], *w.s) << "row " << i;
          EXPECT_EQ(page.columns[1].strings[i], w.c) << "row " << i;
          EXPECT_EQ(page.columns[2].ints[i], w.k) << "row " << i;
        }
      }
    }
  };
  std::vector<std::string> words;
  for (int i = 0; i < 40; ++i) words.push_back("m" + std::to_string(i * 37 % 100));
  insert(70'000, words);  // past Table::kAutoDictionaryRows
  check("loaded");
  insert(5'000, words);
  check("appended known values");
  insert(5'000, {"a", "m50x", "zz", "m0"});
  check("appended new values");
  Run("/update/records", Json{{"table_name", "ds"},
                              {"expressions", {"k = 3"}},
                              {"new_values_maps", {{{"s", "b"}}}},
                              {"records_to_insert", Json::array()},
                              {"records_to_insert_str", Json::array()},
                              {"record_encoding", "json"}});
  for (Row& r : rows) {
    if (r.k == 3) r.s = "b";
  }
  check("updated");
  Run("/delete/records", Json{{"table_name", "ds"}, {"expressions", {"c = 'c2'"}}});
  rows.erase(std::remove_if(rows.begin(), rows.end(), [](const Row& r) { return r.c == "c2"; }), rows.end());
  check("deleted");

  // A small column declared `dict`.
  Run("/create/table", Json{{"table_name", "dd"}, {"type_id", R"([["d","string","dict"],["x","int"]])"}});
  Json list = Json::array();
  std::map<std::string, int64_t> want;
  for (int i = 0; i < 500; ++i) {
    const std::string d = "v" + std::to_string(i % 7);
    ++want[d];
    list.push_back(Json{{"d", d}, {"x", i}}.dump());
  }
  Run("/insert/records", Json{{"table_name", "dd"}, {"list_encoding", "json"}, {"list_str", list}});
  const ref::Dynamic got = Decode(Run("/aggregate/groupby", GroupByRequest("dd", {"d", "count(*)"}, "json")), "json");
  std::map<std::string, int64_t> got_map;
  for (size_t i = 0; i < got.rows(); ++i) got_map[got.columns[0].strings[i]] = got.columns[1].ints[i];
  EXPECT_EQ(got_map, want);
}

// ---------------------------------------------------------------------------
// Errors, with their messages.

TEST_F(AnalyticsTest, ErrorsNameTheFieldAndTheProblem) {
  const ref::Table t = AllTypes(101, 50);
  Load("t", t, "json");
  ASSERT_FALSE(HasFailure());
  auto groupby = [](std::vector<std::string> names, Json options = Json::object()) {
    return GroupByRequest("t", names, "binary", options);
  };
  ExpectFail("/aggregate/groupby", groupby({"g", "sum(nope)"}), "column_names[1]: unknown column 'nope' at position 1");
  ExpectFail("/aggregate/groupby", groupby({"nope", "count(*)"}), "column_names[0]: unknown column 'nope'");
  ExpectFail("/aggregate/groupby", groupby({"g", "sum(s)"}), "column_names[1]: 'sum(s)' needs a numeric argument, not string");
  ExpectFail("/aggregate/groupby", groupby({"g", "avg(c)"}), "column_names[1]: 'avg(c)' needs a numeric argument, not char16");
  ExpectFail("/aggregate/groupby", groupby({"g", "arg_min(i)"}), "column_names[1]: 'arg_min(i)': arg_min takes two arguments");
  ExpectFail("/aggregate/groupby", groupby({"g", "sum(*)"}), "column_names[1]: 'sum(*)': only count takes *");
  ExpectFail("/aggregate/groupby", groupby({"g", "count(*)"}, {{"having", "count(*) >"}}), "options.having: ");
  ExpectFail("/aggregate/groupby", groupby({"g", "count(*)"}, {{"having", "sum(i) > 0"}}), "options.having: ");
  ExpectFail("/aggregate/groupby", groupby({"g", "count(*)"}, {{"having", "zz > 1"}}),
             "options.having: unknown column 'zz' at position 1");
  ExpectFail("/aggregate/groupby", groupby({"g", "count(*)"}, {{"order_by", "zz desc"}}),
             "options.order_by: unknown column 'zz' at position 1");
  ExpectFail("/aggregate/groupby", groupby({"g", "count(*)"}, {{"order_by", "g, , count(*)"}}),
             "options.order_by: an empty sort key");
  ExpectFail("/aggregate/groupby", groupby({"g", "count(*)"}, {{"sort_order", "sideways"}}),
             "options.sort_order: expected 'ascending' or 'descending', got 'sideways'");
  ExpectFail("/aggregate/groupby", groupby({"g", "count(*)"}, {{"sort_by", "count"}}),
             "options.sort_by: expected 'key' or 'value', got 'count'");
  ExpectFail("/aggregate/groupby", groupby({}), "column_names: give at least one column or aggregate");
  ExpectFail("/aggregate/groupby", groupby({"g", "count(*) as 1x"}), "column_names[1]: 'count(*) as 1x': an alias");
  ExpectFail("/aggregate/groupby", GroupByRequest("nope", {"g"}, "binary"), "table_name: table 'nope' does not exist");
  ExpectFail("/aggregate/groupby", GroupByRequest("t", {"g"}, "xml"), "encoding: expected 'binary' or 'json', got 'xml'");
  ExpectFail("/aggregate/groupby", groupby({"g", "count(*)"}, {{"expression", "g >"}}), "options.expression: ");
  ExpectFail("/aggregate/groupby", groupby({"count(*)"}, {{"expression", "g >"}}), "options.expression: ");
  Run("/aggregate/groupby", groupby({"g", "count(*)"}, {{"result_table", "taken"}}));
  ExpectFail("/aggregate/groupby", groupby({"g", "count(*)"}, {{"result_table", "taken"}}),
             "options.result_table: table 'taken' already exists");
  ExpectFail("/aggregate/groupby", groupby({"g", "count(*)"}, {{"result_table", "t"}}),
             "options.result_table: table 't' already exists");

  auto histogram = [](double start, double end, double interval, std::string column = "i") {
    return Json{{"table_name", "t"}, {"column_name", column}, {"start", start}, {"end", end}, {"interval", interval}};
  };
  ExpectFail("/aggregate/histogram", histogram(0, 10, 0), "interval: must be a positive number, got 0");
  ExpectFail("/aggregate/histogram", histogram(0, 10, -1), "interval: must be a positive number, got -1");
  ExpectFail("/aggregate/histogram", histogram(10, 0, 1), "end: must be greater than start (10), got 0");
  ExpectFail("/aggregate/histogram", histogram(5, 5, 1), "end: must be greater than start (5), got 5");
  ExpectFail("/aggregate/histogram", histogram(0, 1e9, 1), "interval: (end - start) / interval gives 1e+09 bins");
  ExpectFail("/aggregate/histogram", histogram(0, 10, 1, "s"), "column_name: a histogram needs a numeric column, not string");
  ExpectFail("/aggregate/histogram", histogram(0, 10, 1, "nope"), "column_name: unknown column 'nope' at position 1");
  {
    Json h = histogram(0, 10, 1);
    h["options"] = {{"value_column", "c"}};
    ExpectFail("/aggregate/histogram", h, "options.value_column: must be numeric, not char16");
  }

  auto statistics = [](std::string stats, std::string column = "i") {
    return Json{{"table_name", "t"}, {"column_name", column}, {"stats", stats}};
  };
  ExpectFail("/aggregate/statistics", statistics("count,median"), "stats: 'median' is not a statistic");
  ExpectFail("/aggregate/statistics", statistics("percentile(101)"), "stats: 'percentile(101)': the percentile must be 0..100");
  ExpectFail("/aggregate/statistics", statistics("percentile(-0.5)"), "stats: 'percentile(-0.5)': the percentile must be 0..100");
  ExpectFail("/aggregate/statistics", statistics("percentile"), "stats: 'percentile' needs an argument, e.g. percentile(50)");
  ExpectFail("/aggregate/statistics", statistics("percentile(x)"), "stats: 'percentile(x)': expected a number in parentheses");
  ExpectFail("/aggregate/statistics", statistics("mean(3)"), "stats: 'mean(3)' is not a statistic");
  ExpectFail("/aggregate/statistics", statistics(""), "stats: is empty");
  ExpectFail("/aggregate/statistics", statistics("weighted_average"),
             "options.weight_column_name: weighted_average needs a weight column");
  ExpectFail("/aggregate/statistics", statistics("mean", "nope"), "column_name: unknown column 'nope' at position 1");

  ExpectFail("/aggregate/unique", Json{{"table_name", "t"}, {"column_name", "nope"}}, "column_name: unknown column 'nope'");
  ExpectFail("/aggregate/unique", Json{{"table_name", "t"}, {"column_name", "s"}, {"options", {{"sort_order", "up"}}}},
             "options.sort_order: expected 'ascending' or 'descending', got 'up'");
  ExpectFail("/aggregate/unique", Json{{"table_name", "t"}, {"column_name", "s"}, {"offset", -1}}, "offset: must be >= 0, got -1");
  ExpectFail("/aggregate/minmax", Json{{"table_name", "t"}, {"column_name", "nope"}}, "column_name: unknown column 'nope'");
  ExpectFail("/get/records", Json{{"table_name", "t"}, {"options", {{"sort_by", "nope"}}}},
             "options.sort_by: unknown column 'nope' at position 1");
  ExpectFail("/get/records", Json{{"table_name", "t"}, {"options", {{"order_by", "g, nope desc"}}}},
             "options.order_by: unknown column 'nope' at position 1");
  ExpectFail("/get/records/bycolumn", Json{{"table_name", "t"}, {"column_names", {"g"}}, {"options", {{"sort_by", "nope"}}}},
             "options.sort_by: unknown column 'nope' at position 1");
  ExpectFail("/get/records/bycolumn",
             Json{{"table_name", "t"}, {"column_names", {"g"}}, {"options", {{"order_by", "g desc, nope"}}}},
             "options.order_by: unknown column 'nope' at position 1");
  ExpectFail("/get/records", Json{{"table_name", "t"}, {"options", {{"sort_by", "g"}, {"sort_order", "random"}}}},
             "options.sort_order: expected 'ascending' or 'descending', got 'random'");
  ExpectFail("/get/records/bycolumn", Json{{"table_name", "t"}, {"column_names", {"id", "sqr(i)"}}},
             "column_names[1]: unknown function 'sqr' at position 1");
  ExpectFail("/get/records/bycolumn", Json{{"table_name", "t"}, {"column_names", Json::array()}},
             "column_names: give at least one column or expression");
  ExpectFail("/get/records/bycolumn", Json{{"table_name", "t"}, {"column_names", {"id"}}, {"limit", -5}},
             "limit: must be >= 0 or -9999, got -5");
}

}  // namespace
}  // namespace engine
