// Micro-benchmarks of the SQL front end (engine/sql/select.h): what
// /execute/sql spends on a statement before any kernel runs. For each shape,
// the front end's work for one SELECT as the engine does it (three parses:
// the scheduler's StatementTables and StatementSchemas, whether it may be
// cancelled, and ParseExplain and ParseSelect with nested queries answered by
// a stand-in), beside a baseline
// measured in the same run: PostgreSQL's grammar alone (pg_query_parse, its
// JSON tree printed, nothing read) on the same text, once. The counters
//   grammar_us   the baseline, microseconds a statement
//   x_grammar    front end time ÷ grammar time (3.0 would be the three
//                parses and nothing else)
//
// Shapes: TPC-H Q1, Q3, Q5, Q19 (benchmarks/tpch_bench.py's texts), an OR of
// 3,000 equalities, an IN list of 10,000 numbers, 300 nested parentheses of
// arithmetic and a 100-deep chain of nested scalar subqueries.

#include <benchmark/benchmark.h>
#include <pg_query.h>

#include <chrono>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/sql/select.h"

namespace {

// Nested queries as tables named in order, each one column of one value.
class StandIn final : public engine::sql::Nested {
 public:
  absl::StatusOr<std::string> Keep(const engine::sql::SelectQuery&) override { return Next(); }
  absl::StatusOr<std::string> Combine(const std::vector<std::string>&, const std::string&) override { return Next(); }
  absl::StatusOr<std::vector<std::string>> Values(const std::string&, int64_t) override {
    return std::vector<std::string>{"1"};
  }
  absl::StatusOr<std::vector<std::string>> Columns(const std::string&) override {
    return std::vector<std::string>{"a"};
  }

 private:
  std::string Next() { return absl::StrCat("nested_", count_++); }
  int count_ = 0;
};

const char* const kQ1 = R"(
select l_returnflag, l_linestatus, sum(l_quantity) as sum_qty, sum(l_extendedprice) as sum_base_price,
       sum(l_extendedprice * (1 - l_discount)) as sum_disc_price,
       sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) as sum_charge, avg(l_quantity) as avg_qty,
       avg(l_extendedprice) as avg_price, avg(l_discount) as avg_disc, count(*) as count_order
from lineitem
where l_shipdate <= date '1998-12-01' - interval '90' day
group by l_returnflag, l_linestatus
order by l_returnflag, l_linestatus)";

const char* const kQ3 = R"(
select l_orderkey, sum(l_extendedprice * (1 - l_discount)) as revenue, o_orderdate, o_shippriority
from customer, orders, lineitem
where c_mktsegment = 'BUILDING' and c_custkey = o_custkey and l_orderkey = o_orderkey
  and o_orderdate < date '1995-03-15' and l_shipdate > date '1995-03-15'
group by l_orderkey, o_orderdate, o_shippriority
order by revenue desc, o_orderdate
limit 10)";

const char* const kQ5 = R"(
select n_name, sum(l_extendedprice * (1 - l_discount)) as revenue
from customer, orders, lineitem, supplier, nation, region
where c_custkey = o_custkey and l_orderkey = o_orderkey and l_suppkey = s_suppkey
  and c_nationkey = s_nationkey and s_nationkey = n_nationkey and n_regionkey = r_regionkey
  and r_name = 'ASIA' and o_orderdate >= date '1994-01-01'
  and o_orderdate < date '1994-01-01' + interval '1' year
group by n_name
order by revenue desc)";

const char* const kQ19 = R"(
select sum(l_extendedprice * (1 - l_discount)) as revenue
from lineitem, part
where (p_partkey = l_partkey and p_brand = 'Brand#12'
       and p_container in ('SM CASE', 'SM BOX', 'SM PACK', 'SM PKG')
       and l_quantity >= 1 and l_quantity <= 1 + 10 and p_size between 1 and 5
       and l_shipmode in ('AIR', 'AIR REG') and l_shipinstruct = 'DELIVER IN PERSON')
   or (p_partkey = l_partkey and p_brand = 'Brand#23'
       and p_container in ('MED BAG', 'MED BOX', 'MED PKG', 'MED PACK')
       and l_quantity >= 10 and l_quantity <= 10 + 10 and p_size between 1 and 10
       and l_shipmode in ('AIR', 'AIR REG') and l_shipinstruct = 'DELIVER IN PERSON')
   or (p_partkey = l_partkey and p_brand = 'Brand#34'
       and p_container in ('LG CASE', 'LG BOX', 'LG PACK', 'LG PKG')
       and l_quantity >= 20 and l_quantity <= 20 + 10 and p_size between 1 and 15
       and l_shipmode in ('AIR', 'AIR REG') and l_shipinstruct = 'DELIVER IN PERSON'))";

std::string OrChain(int n) {
  std::string s = "select a from t where a = 0";
  for (int i = 1; i < n; ++i) absl::StrAppend(&s, " or a = ", i);
  return s;
}

std::string InList(int n) {
  std::string s = "select a from t where a in (0";
  for (int i = 1; i < n; ++i) absl::StrAppend(&s, ", ", i);
  return s + ")";
}

std::string Parentheses(int n) {
  std::string s = "select " + std::string(n, '(') + "a";
  for (int i = 0; i < n; ++i) absl::StrAppend(&s, " + ", i, ")");
  return s + " from t";
}

std::string Subqueries(int n) {
  std::string s = "1";
  for (int i = 0; i < n; ++i) s = absl::StrCat("(select ", s, " + a from t", i, ")");
  return absl::StrCat("select ", s, " as x");
}

// Seconds the grammar alone takes for `text`, averaged over enough runs.
double GrammarSeconds(const std::string& text) {
  int runs = 0;
  const auto start = std::chrono::steady_clock::now();
  std::chrono::duration<double> spent{};
  do {
    PgQueryParseResult r = pg_query_parse(text.c_str());
    pg_query_free_parse_result(r);
    ++runs;
    spent = std::chrono::steady_clock::now() - start;
  } while (spent.count() < 0.1);
  return spent.count() / runs;
}

void FrontEnd(benchmark::State& state, const std::string& text) {
  const engine::Json params = engine::Json::array();
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    // The engine parses the statement three times: for the scheduler at
    // submission, to tell whether it may be cancelled, and to run it.
    auto for_access = engine::sql::Statement::Parse(text);
    auto tables = engine::sql::StatementTables(*for_access);
    auto schemas = engine::sql::StatementSchemas(*for_access);
    auto for_cancel = engine::sql::Statement::Parse(text);
    auto statement = engine::sql::Statement::Parse(text);
    StandIn nested;
    auto explain = engine::sql::ParseExplain(*statement, params, &nested);
    auto q = engine::sql::ParseSelect(*statement, params, &nested);
    if (!tables.ok() || !for_cancel.ok() || !explain.ok() || !q.ok()) {
      state.SkipWithError(std::string(q.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(schemas);
    benchmark::DoNotOptimize(q);
  }
  const std::chrono::duration<double> spent = std::chrono::steady_clock::now() - start;
  const double grammar = GrammarSeconds(text);
  state.counters["grammar_us"] = grammar * 1e6;
  state.counters["x_grammar"] = spent.count() / static_cast<double>(state.iterations()) / grammar;
  state.SetLabel(absl::StrCat(text.size(), " bytes"));
}

}  // namespace

BENCHMARK_CAPTURE(FrontEnd, tpch_q1, std::string(kQ1))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(FrontEnd, tpch_q3, std::string(kQ3))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(FrontEnd, tpch_q5, std::string(kQ5))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(FrontEnd, tpch_q19, std::string(kQ19))->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(FrontEnd, or_3000, OrChain(3000))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(FrontEnd, in_10000, InList(10000))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(FrontEnd, parentheses_300, Parentheses(300))->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(FrontEnd, subqueries_100, Subqueries(100))->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
