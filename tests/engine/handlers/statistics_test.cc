// /aggregate/statistics/byrange through the engine: each statistic of each
// bin against a reference computed here from the rows the test inserted, for
// bins of start, end and interval and for bins of listed values, and each
// error case by its message.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tests/engine/handlers/handler_fixture.h"

namespace engine {
namespace {

// One row of the table `r`.
struct Row {
  int id = 0;
  std::optional<double> b;  // binning column, nullable
  std::optional<double> v;  // value, nullable
  int iv = 0;               // an integer value
  double w = 0;             // weight
  int64_t o = 0;            // order (unique)
  std::string cat;          // char8, binned by value
  int ci = 0;               // int, binned by value
};

constexpr const char* kType =
    R"([["id","int"],["b","double","nullable"],["v","double","nullable"],["iv","int"],["w","double"],)"
    R"(["o","long"],["cat","char8"],["ci","int"]])";

// 2011 rows: b over [-12, 38) with nulls, v with nulls, o a permutation.
std::vector<Row> MakeRows() {
  std::vector<Row> rows;
  const std::vector<std::string> cats = {"ant", "bee", "cat", "dog", "eel"};
  for (int i = 0; i < 2011; ++i) {
    Row r;
    r.id = i;
    if (i % 17 != 0) r.b = ((i * 37) % 500) / 10.0 - 12.0;
    if (i % 13 != 0) r.v = std::sin(i * 0.7) * 100.0 + (i % 7);
    r.iv = (i * 53) % 1000 - 500;
    r.w = 1 + i % 4;
    r.o = (static_cast<int64_t>(i) * 1013) % 2011;
    r.cat = cats[(i * 3) % cats.size()];
    r.ci = i % 6;
    rows.push_back(r);
  }
  return rows;
}

// The statistics of one bin's values, as /aggregate/statistics defines them.
struct BinStats {
  int64_t count = 0;  // rows in the bin
  std::vector<double> values;
  std::vector<std::pair<int64_t, double>> ordered;  // (order, value)
  double wx = 0, wsum = 0;

  double Get(const std::string& stat) const {
    const double n = static_cast<double>(values.size());
    double sum = 0;
    for (double x : values) sum += x;
    const double mean = values.empty() ? 0 : sum / n;
    double m2 = 0, m3 = 0, m4 = 0;
    for (double x : values) {
      const double d = x - mean;
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
    }
    const double var = values.size() > 1 ? m2 / (n - 1) : 0;
    const double pop = values.empty() ? 0 : m2 / n;
    if (stat == "count") return static_cast<double>(count);
    if (values.empty()) return 0;
    if (stat == "sum") return sum;
    if (stat == "mean") return mean;
    if (stat == "variance") return var;
    if (stat == "stdv") return std::sqrt(var);
    if (stat == "min") return *std::min_element(values.begin(), values.end());
    if (stat == "max") return *std::max_element(values.begin(), values.end());
    if (stat == "skew") return pop > 0 ? (m3 / n) / std::pow(pop, 1.5) : 0;
    if (stat == "kurtosis") return pop > 0 ? (m4 / n) / (pop * pop) : 0;
    if (stat == "first") return std::min_element(ordered.begin(), ordered.end())->second;
    if (stat == "last") return std::max_element(ordered.begin(), ordered.end())->second;
    if (stat == "weighted_average") return wsum != 0 ? wx / wsum : 0;
    ADD_FAILURE() << "no reference for " << stat;
    return 0;
  }
};

class StatisticsByRangeTest : public HandlerTest {
 protected:
  void SetUp() override {
    HandlerTest::SetUp();
    rows_ = MakeRows();
  }

  void MakeTable(const std::string& name, const std::vector<Row>& rows) {
    Run("/create/table", {{"table_name", name}, {"type_id", kType}});
    Json list = Json::array();
    for (const Row& r : rows) {
      list.push_back(Json{
          {"id", r.id},
          {"b", r.b ? Json(*r.b) : Json(nullptr)},
          {"v", r.v ? Json(*r.v) : Json(nullptr)},
          {"iv", r.iv},
          {"w", r.w},
          {"o", r.o},
          {"cat", r.cat},
          {"ci", r.ci}}.dump());
    }
    if (!rows.empty()) Run("/insert/records", {{"table_name", name}, {"list_encoding", "json"}, {"list_str", list}});
  }

  Json Request(const std::string& select, const std::string& column, const std::string& value, const std::string& stats,
               double start, double end, double interval, Json options = Json::object(),
               const std::string& table = "r") {
    return Json{{"table_name", table},
                {"select_expression", select},
                {"column_name", column},
                {"value_column_name", value},
                {"stats", stats},
                {"start", start},
                {"end", end},
                {"interval", interval},
                {"options", std::move(options)}};
  }

  // The reference: `bin_of` gives a row's bin or -1; `value` its value.
  std::vector<BinStats> Reference(int64_t bins, const std::function<int64_t(const Row&)>& bin_of,
                                  const std::function<std::optional<double>(const Row&)>& value) const {
    std::vector<BinStats> out(static_cast<size_t>(bins));
    for (const Row& r : rows_) {
      const int64_t b = bin_of(r);
      if (b < 0) continue;
      BinStats& s = out[b];
      ++s.count;
      if (const std::optional<double> x = value(r)) {
        s.values.push_back(*x);
        s.ordered.emplace_back(r.o, *x);
        s.wx += *x * r.w;
        s.wsum += r.w;
      }
    }
    return out;
  }

  // Checks every statistic of `got` against the reference, to 1e-9 relative.
  void Expect(const Json& got, const std::vector<std::string>& stats, const std::vector<BinStats>& want,
              const std::string& what) {
    ASSERT_TRUE(got.contains("stats")) << what;
    std::vector<std::string> keys = stats;
    keys.push_back("count");
    for (const std::string& stat : keys) {
      ASSERT_TRUE(got["stats"].contains(stat)) << what << ": no " << stat;
      const Json& values = got["stats"][stat];
      ASSERT_EQ(values.size(), want.size()) << what << ": " << stat;
      for (size_t b = 0; b < want.size(); ++b) {
        const double w = want[b].Get(stat);
        EXPECT_NEAR(values[b].get<double>(), w, 1e-9 * std::max(1.0, std::abs(w)))
            << what << ": " << stat << " of bin " << b;
      }
    }
  }

  std::vector<Row> rows_;
};

// The bin of x among `bins` bins of [start, end], as the docs put it: the
// last one is closed at end.
int64_t RangeBin(std::optional<double> x, double start, double end, double interval, int64_t bins) {
  if (!x || !(*x >= start) || !(*x <= end)) return -1;
  return std::min<int64_t>(static_cast<int64_t>(std::floor((*x - start) / interval)), bins - 1);
}

TEST_F(StatisticsByRangeTest, RangeBinsMatchTheReference) {
  MakeTable("r", rows_);
  const std::vector<std::string> all = {"count", "sum",  "mean",     "stdv",  "variance", "min",
                                        "max",   "skew", "kurtosis", "first", "last",     "weighted_average"};
  const std::string stats = "count,sum,mean,stdv,variance,min,max,skew,kurtosis,first,last,weighted_average";
  const Json options = {{"order_column_name", "o"}, {"weight_column_name", "w"}};
  struct Case {
    double start, end, interval;
  };
  // Bins that divide the range, a last bin cut short, one bin, many bins
  // (some empty), a range narrower than the values.
  for (const Case& c : {Case{-12, 38, 5}, Case{-12, 38, 7}, Case{0, 10, 10}, Case{-20, 40, 0.3}, Case{1.5, 9.25, 2}}) {
    const int64_t bins = static_cast<int64_t>(std::ceil((c.end - c.start) / c.interval));
    const Json got =
        Run("/aggregate/statistics/byrange", Request("", "b", "v", stats, c.start, c.end, c.interval, options));
    Expect(got, all,
           Reference(
               bins, [&](const Row& r) { return RangeBin(r.b, c.start, c.end, c.interval, bins); },
               [](const Row& r) { return r.v; }),
           "bins of " + std::to_string(c.interval));
  }
}

TEST_F(StatisticsByRangeTest, SelectExpressionIntegerValuesAndExpressions) {
  MakeTable("r", rows_);
  const std::vector<std::string> stats = {"sum", "min", "max", "mean"};
  Expect(Run("/aggregate/statistics/byrange", Request("iv > 0 and ci != 2", "b", "iv", "sum,min,max,mean", 0, 30, 4)),
         stats,
         Reference(
             8, [](const Row& r) { return r.iv > 0 && r.ci != 2 ? RangeBin(r.b, 0, 30, 4, 8) : -1; },
             [](const Row& r) { return std::optional<double>(r.iv); }),
         "iv where iv > 0");
  // A value and a binning expression.
  Expect(
      Run("/aggregate/statistics/byrange", Request("", "b * 2", "v + iv", "sum,min,max,mean", -24, 76, 10)), stats,
      Reference(
          10,
          [](const Row& r) { return RangeBin(r.b ? std::optional<double>(*r.b * 2) : std::nullopt, -24, 76, 10, 10); },
          [](const Row& r) { return r.v ? std::optional<double>(*r.v + r.iv) : std::nullopt; }),
      "expressions");
  // Stats as written, in any order; count is always there.
  const Json got = Run("/aggregate/statistics/byrange", Request("", "b", "v", "max, sum", 0, 1, 1));
  EXPECT_TRUE(got["stats"].contains("max") && got["stats"].contains("sum") && got["stats"].contains("count"));
  EXPECT_EQ(got["stats"].size(), 3u);
  EXPECT_EQ(Run("/aggregate/statistics/byrange", Request("", "b", "v", "", 0, 1, 1))["stats"].size(), 1u);
}

TEST_F(StatisticsByRangeTest, ListedBinValues) {
  MakeTable("r", rows_);
  const std::vector<std::string> cats = {"dog", "ant", "cow", "eel"};
  const std::vector<std::string> stats = {"mean", "sum", "stdv", "skew"};
  Expect(Run("/aggregate/statistics/byrange",
             Request("", "cat", "v", "mean,sum,stdv,skew", 0, 0, 0, {{"bin_values", "dog, ant,cow,eel"}})),
         stats,
         Reference(
             4,
             [&](const Row& r) {
               const auto it = std::find(cats.begin(), cats.end(), r.cat);
               return it == cats.end() ? int64_t{-1} : static_cast<int64_t>(it - cats.begin());
             },
             [](const Row& r) { return r.v; }),
         "cat");
  Expect(Run("/aggregate/statistics/byrange",
             Request("id < 1000", "ci", "iv", "mean,sum,stdv,skew", 0, 0, 0, {{"bin_values", "5,0,3"}})),
         stats,
         Reference(
             3,
             [](const Row& r) {
               if (r.id >= 1000) return int64_t{-1};
               return r.ci == 5 ? int64_t{0} : r.ci == 0 ? int64_t{1} : r.ci == 3 ? int64_t{2} : int64_t{-1};
             },
             [](const Row& r) { return std::optional<double>(r.iv); }),
         "ci");
}

TEST_F(StatisticsByRangeTest, NoRowsGiveZeros) {
  MakeTable("empty", {});
  MakeTable("r", rows_);
  const Json zeros = Json::array({0.0, 0.0, 0.0});
  Json got =
      Run("/aggregate/statistics/byrange", Request("", "b", "v", "mean,kurtosis", 0, 3, 1, Json::object(), "empty"));
  EXPECT_EQ(got["stats"], (Json{{"count", zeros}, {"mean", zeros}, {"kurtosis", zeros}}));
  got = Run("/aggregate/statistics/byrange", Request("", "b", "v", "mean", 100, 103, 1));
  EXPECT_EQ(got["stats"], (Json{{"count", zeros}, {"mean", zeros}}));
}

TEST_F(StatisticsByRangeTest, Errors) {
  MakeTable("r", rows_);
  const auto error = [&](Json request) { return Error("/aggregate/statistics/byrange", std::move(request)); };
  EXPECT_EQ(error(Request("", "b", "v", "mean", 0, 10, 0)), "interval: must be a positive number, got 0");
  EXPECT_EQ(error(Request("", "b", "v", "mean", 0, 10, -1)), "interval: must be a positive number, got -1");
  EXPECT_EQ(error(Request("", "b", "v", "mean", 10, 10, 1)), "end: must be greater than start (10), got 10");
  EXPECT_EQ(error(Request("", "b", "v", "mean", 0, 1e9, 1e-3)),
            "interval: (end - start) / interval gives 1e+12 bins; at most 1e+07 are allowed");
  EXPECT_EQ(error(Request("", "b", "v", "mean,median", 0, 10, 1)),
            "stats: 'median' is not a statistic by range (count, sum, mean, stdv, variance, skew, kurtosis, min, max, "
            "first, last, weighted_average)");
  EXPECT_EQ(error(Request("", "bb", "v", "mean", 0, 10, 1)), "column_name: unknown column 'bb' at position 1");
  EXPECT_EQ(error(Request("", "b", "vv", "mean", 0, 10, 1)), "value_column_name: unknown column 'vv' at position 1");
  EXPECT_EQ(error(Request("", "b", "cat", "mean", 0, 10, 1)), "value_column_name: 'cat' must be numeric, not char8");
  EXPECT_EQ(error(Request("bogus > 1", "b", "v", "mean", 0, 10, 1)),
            "select_expression: unknown column 'bogus' at position 1");
  EXPECT_EQ(error(Request("", "cat", "v", "mean", 0, 10, 1)),
            "column_name: bins of start, end and interval need a numeric column, not char8; or give "
            "options.bin_values");
  EXPECT_EQ(error(Request("", "b", "v", "first", 0, 10, 1)),
            "options.order_column_name: 'first' is the value at the least or greatest order; name the column that "
            "orders the rows");
  EXPECT_EQ(error(Request("", "b", "v", "weighted_average", 0, 10, 1)),
            "options.weight_column_name: weighted_average needs a weight column");
  EXPECT_EQ(error(Request("", "b", "v", "weighted_average", 0, 10, 1, {{"weight_column_name", "cat"}})),
            "options.weight_column_name: 'cat' must be numeric, not char8");
  EXPECT_EQ(error(Request("", "b", "v", "mean", 0, 10, 1, {{"additional_column_names", "iv"}})),
            "options.additional_column_names: not supported (Kinetica does not document how the statistics of more "
            "value columns are keyed in the response); ask once per value column");
  EXPECT_EQ(error(Request("", "b", "v", "mean", 0, 0, 0, {{"bin_values", "1,2"}})),
            "column_name: options.bin_values needs a string or integer column, not double");
  EXPECT_EQ(error(Request("", "ci", "v", "mean", 0, 0, 0, {{"bin_values", "1,two"}})),
            "options.bin_values: 'two' is not an integer (column 'ci' is int)");
  EXPECT_EQ(error(Request("", "cat", "v", "mean", 0, 0, 0, {{"bin_values", "ant,bee,ant"}})),
            "options.bin_values: 'ant' is listed twice");
  EXPECT_EQ(error(Request("", "b", "v", "mean", 0, 10, 1, Json::object(), "nope")),
            "table_name: table 'nope' does not exist");
}

}  // namespace
}  // namespace engine
