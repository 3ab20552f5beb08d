// engine/sql: SELECT statements to the engine's requests, and the errors a
// user meets (line, column and caret; unsupported features named).

#include "engine/sql/select.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/sql/kinetica_words.h"

namespace engine::sql {
namespace {

// The functions under test, from a statement's text: Statement::Parse's
// error, or theirs.
absl::StatusOr<SelectQuery> ParseSelect(absl::string_view text, const Json& params = Json::array(),
                                        Nested* nested = nullptr, absl::string_view schema = "") {
  auto statement = Statement::Parse(text);
  if (!statement.ok()) return statement.status();
  return sql::ParseSelect(*statement, params, nested, schema);
}
absl::StatusOr<std::vector<Change>> ParseChange(absl::string_view text, const Json& params = Json::array(),
                                                Nested* nested = nullptr, absl::string_view schema = "") {
  auto statement = Statement::Parse(text);
  if (!statement.ok()) return statement.status();
  return sql::ParseChange(*statement, params, nested, schema);
}
absl::StatusOr<std::optional<SelectQuery>> ParseExplain(absl::string_view text, const Json& params, Nested* nested) {
  auto statement = Statement::Parse(text);
  if (!statement.ok()) return statement.status();
  return sql::ParseExplain(*statement, params, nested);
}
absl::StatusOr<std::vector<std::pair<std::string, bool>>> StatementTables(absl::string_view text,
                                                                          absl::string_view schema = "") {
  auto statement = Statement::Parse(text);
  if (!statement.ok()) return statement.status();
  return sql::StatementTables(*statement, schema);
}
absl::StatusOr<std::vector<std::string>> StatementSchemas(absl::string_view text) {
  auto statement = Statement::Parse(text);
  if (!statement.ok()) return statement.status();
  return sql::StatementSchemas(*statement);
}
absl::StatusOr<bool> IsSelect(absl::string_view text) {
  auto statement = Statement::Parse(text);
  if (!statement.ok()) return statement.status();
  return statement->is_select();
}

TEST(SelectTest, ExpressionsBecomeTheEnginesLanguage) {
  auto q = ParseSelect(
      "SELECT id, x * 2 AS y, CASE WHEN k IN (1, -2) THEN 'a' ELSE 'b' END AS c FROM s.t AS u "
      "WHERE u.x BETWEEN 0 AND 10 AND s ILIKE 'AB%' AND k IS NOT NULL ORDER BY y DESC, id LIMIT 5 OFFSET 2");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->table, "s.t");
  ASSERT_EQ(q->columns.size(), 3u);
  EXPECT_EQ(q->columns[0].expr, "id");
  EXPECT_EQ(q->columns[1].expr, "(x * 2)");
  EXPECT_EQ(q->columns[1].name, "y");
  EXPECT_EQ(q->columns[2].expr, "if((k in (1, -2)), 'a', 'b')");
  EXPECT_EQ(q->where, "((x between 0 and 10) and (lower(s) like 'ab%') and (k is not null))");
  ASSERT_EQ(q->order.size(), 2u);
  EXPECT_EQ(q->order[0].expr, "(x * 2)");
  EXPECT_TRUE(q->order[0].descending);
  EXPECT_TRUE(q->order[0].nulls_first);  // PostgreSQL's default: nulls first descending, last ascending
  EXPECT_EQ(q->order[1].expr, "id");
  EXPECT_FALSE(q->order[1].descending);
  EXPECT_FALSE(q->order[1].nulls_first);
  EXPECT_EQ(q->limit, 5);
  EXPECT_EQ(q->offset, 2);
  EXPECT_FALSE(q->aggregate);
}

TEST(SelectTest, AggregatesGroupsAndDistinct) {
  auto q = ParseSelect("SELECT k, count(*) AS n, count(DISTINCT s), stddev(x) FROM t GROUP BY k HAVING count(*) > 1");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_TRUE(q->aggregate);
  EXPECT_EQ(q->columns[1].expr, "count(*)");
  EXPECT_EQ(q->columns[2].expr, "count_distinct(s)");
  EXPECT_EQ(q->columns[3].expr, "stddev_samp(x)");
  EXPECT_EQ(q->group_by, (std::vector<std::string>{"k"}));
  EXPECT_EQ(q->having, "(count(*) > 1)");
  auto d = ParseSelect("SELECT DISTINCT a, b FROM t");
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->distinct);
  auto star = ParseSelect("select * from t");
  ASSERT_TRUE(star.ok());
  EXPECT_TRUE(star->star);
}

TEST(SelectTest, JoinsListTheirTablesAndTheColumnsRead) {
  auto q = ParseSelect(
      "SELECT a.x, y FROM s.t AS a LEFT JOIN u b ON a.k = b.k AND b.z > 1, v WHERE v.w = a.x ORDER BY y");
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->from.size(), 3u);
  EXPECT_EQ(q->from[0].name, "s.t");
  EXPECT_EQ(q->from[0].alias, "a");
  EXPECT_EQ(q->from[1].join, "left join");
  EXPECT_EQ(q->from[1].alias, "b");
  EXPECT_EQ(q->from[1].on, "((a.k = b.k) and (b.z > 1))");
  EXPECT_EQ(q->from[2].join, "");
  EXPECT_EQ(q->where, "(v.w = a.x)");
  EXPECT_EQ(q->columns[0].name, "x");
  EXPECT_EQ(q->columns_read, (std::vector<std::string>{"v.w", "a.x", "a.k", "b.k", "b.z", "a.x", "y", "y"}));
  using Tables = std::vector<std::pair<std::string, bool>>;
  EXPECT_EQ(StatementTables("SELECT * FROM t JOIN u ON t.a = u.a").value(), (Tables{{"t", false}, {"u", false}}));
}

TEST(SelectTest, ChangesBecomeTheirEndpointsRequests) {
  auto d = ParseChange("DELETE FROM t WHERE a > 1");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ((*d)[0].endpoint, "/delete/records");
  EXPECT_EQ((*d)[0].request["expressions"], Json::array({"(a > 1)"}));
  EXPECT_EQ(ParseChange("DELETE FROM t").value()[0].request["options"]["delete_all_records"], "true");
  auto u = ParseChange("UPDATE t SET a = a + 1, s = 'x' WHERE b = -2");
  ASSERT_TRUE(u.ok()) << u.status();
  EXPECT_EQ((*u)[0].request["new_values_maps"][0], (Json{{"a", "(a + 1)"}, {"s", "'x'"}}));
  EXPECT_EQ((*u)[0].request["expressions"][0], "(b = -2)");
  auto i = ParseChange("INSERT INTO t (a, s) VALUES (1, 'x'), (-2, NULL)");
  ASSERT_TRUE(i.ok()) << i.status();
  EXPECT_EQ((*i)[0].request["list_str"], Json::array({R"({"a":1,"s":"x"})", R"({"a":-2,"s":null})"}));
  auto c = ParseChange("CREATE TABLE s.t (a INT PRIMARY KEY, b BIGINT NOT NULL, c VARCHAR(10), d TEXT)");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ((*c)[0].endpoint, "/create/table");
  EXPECT_EQ(Json::parse((*c)[0].request["type_id"].get<std::string>()),
            Json::parse(R"([["a","int","primary_key"],["b","long"],["c","string","char16","nullable"],)"
                        R"(["d","string","nullable"]])"));
  auto drop = ParseChange("DROP TABLE IF EXISTS t, s.u");
  ASSERT_TRUE(drop.ok());
  ASSERT_EQ(drop->size(), 2u);
  EXPECT_EQ((*drop)[1].request["table_name"], "s.u");
  EXPECT_EQ(StatementTables("UPDATE t SET a = 1").value(), (std::vector<std::pair<std::string, bool>>{{"t", true}}));
}

TEST(SelectTest, IsSelectTellsQueriesFromChanges) {
  EXPECT_TRUE(IsSelect("SELECT a FROM t").value());
  EXPECT_FALSE(IsSelect("DELETE FROM t WHERE 1 = 1").value());
  EXPECT_FALSE(IsSelect("CREATE TABLE x AS SELECT a FROM t").value());
}

TEST(SelectTest, StatementsNestedTooDeeplyAreRefusedBeforeTheGrammarRecurses) {
  const auto repeat = [](const std::string& piece, int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += piece;
    return s;
  };
  // 10,000 levels of any of these overflowed a thread's stack (the server
  // crashed) inside the grammar's tree printer.
  const std::vector<std::string> deep = {
      "SELECT 1" + repeat("+1", 100000),
      "SELECT " + repeat("(", 100000) + "1" + repeat(")", 100000),
      "SELECT " + repeat("NOT ", 100000) + "true",
      "SELECT " + repeat("abs(", 5000) + "1" + repeat(")", 5000),
      "SELECT " + repeat("CASE WHEN a = 1 THEN ", 2000) + "1" + repeat(" END", 2000) + " FROM t",
      "SELECT a FROM " + repeat("(SELECT a FROM ", 2000) + "t" + repeat(") s", 2000),
      "SELECT a::text" + repeat("::text", 2000) + " FROM t",
  };
  for (const std::string& statement : deep) {
    auto q = ParseSelect(statement);
    ASSERT_FALSE(q.ok()) << statement.substr(0, 40);
    EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(q.status().message().find("nested deeper than 1000 levels"), std::string::npos) << q.status();
    EXPECT_NE(q.status().message().find("(line 1, column "), std::string::npos) << q.status();
  }
  // Long flat lists and AND/OR chains are side by side, not nested.
  std::string in_list = "SELECT a FROM t WHERE a IN (0";
  for (int i = 1; i < 50000; ++i) absl::StrAppend(&in_list, ", -", i);
  EXPECT_TRUE(ParseSelect(in_list + ")").ok());
  EXPECT_TRUE(ParseSelect("SELECT a FROM t WHERE a = 0" + repeat(" OR a + 1 = 2", 20000)).ok());
  EXPECT_TRUE(ParseSelect("SELECT a FROM t WHERE a = 0" + repeat(" AND NOT a = 2", 20000)).ok());
  EXPECT_TRUE(ParseSelect("SELECT 1" + repeat("+1", 900) + " FROM t").ok());
  // As deep as the limit lets a statement nest, on columns (not folded as
  // constants): the translator recurses once a level and must fit a
  // thread's stack, under AddressSanitizer too (the fuzzer's find: 979
  // bytes of unary pluses overflowed 8 MiB).
  for (const std::string& statement :
       {"SELECT a" + repeat("+a", 999) + " FROM t", "SELECT " + repeat("+", 999) + "a FROM t",
        "SELECT " + repeat("-(", 499) + "a" + repeat(")", 499) + " FROM t",
        "SELECT " + repeat("NOT ", 999) + "a FROM t"}) {
    absl::StatusOr<SelectQuery> q = ParseSelect(statement);
    EXPECT_TRUE(q.ok() || q.status().code() == absl::StatusCode::kInvalidArgument) << q.status();
  }
  EXPECT_EQ(NestingOf("SELECT f(a + 1, b * (c - 2)) FROM t").depth, 5);
}

TEST(SelectTest, ASmallThreadStackGivesAnErrorNotACrash) {
  // 1 MiB of stack (a Release build needs ~1.5 MiB for 1,000 levels;
  // sanitizers several times more): the translator stops with an error
  // where the stack would run out. PostgreSQL's grammar, which reads the
  // statement first, needs about half of it (with ThreadSanitizer's
  // interceptors, more than 512 KiB).
  struct Run {
    std::string statement = "SELECT a";
    absl::Status status;
  } run;
  for (int i = 0; i < 999; ++i) run.statement += "+a";
  run.statement += " FROM t";
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, 1 << 20), 0);
  pthread_t thread;
  ASSERT_EQ(pthread_create(
                &thread, &attr,
                [](void* arg) -> void* {
                  auto* r = static_cast<Run*>(arg);
                  r->status = ParseSelect(r->statement).status();
                  return nullptr;
                },
                &run),
            0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  EXPECT_EQ(run.status.code(), absl::StatusCode::kInvalidArgument) << run.status;
  EXPECT_EQ(run.status.message(), "statement: nested too deeply for this thread's stack");
  // On an ordinary thread (8 MiB) the same statement translates, but for
  // AddressSanitizer's larger frames.
  const absl::Status ordinary = ParseSelect(run.statement).status();
#if defined(__SANITIZE_ADDRESS__)
  EXPECT_TRUE(ordinary.ok() || ordinary.message() == run.status.message()) << ordinary;
#else
  EXPECT_TRUE(ordinary.ok()) << ordinary;
#endif
}

TEST(SelectTest, ParametersTakeThePlacesOfDollarNumbers) {
  auto q = ParseSelect("SELECT a FROM t WHERE s = $1 AND x > $2 AND f = $3", Json::array({"it's", -2.5, true}));
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->where, "((s = 'it''s') and (x > -2.5) and (f = 1))");
  auto missing = ParseSelect("SELECT a FROM t WHERE s = $2", Json::array({1}));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().message(), "options.query_parameters: no value for $2");
  // An INSERT with rows of parameters: one record per row.
  auto i = ParseChange("INSERT INTO t (a, s) VALUES ($1, $2)", Json::parse(R"([[1, "x"], [2, null]])"));
  ASSERT_TRUE(i.ok()) << i.status();
  EXPECT_EQ((*i)[0].request["list_str"], Json::array({R"({"a":1,"s":"x"})", R"({"a":2,"s":null})"}));
  // The tables a statement touches do not need its parameters.
  EXPECT_EQ(StatementTables("INSERT INTO s.t VALUES ($1)").value(),
            (std::vector<std::pair<std::string, bool>>{{"s.t", true}}));
}

TEST(SelectTest, ErrorsNameThePlaceOrTheFeature) {
  auto bad = ParseSelect("SELECT a\nFROM t WHERE a >");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(std::string(bad.status().message()),
            "statement: syntax error at end of input (line 2, column 17)\n  FROM t WHERE a >\n                  ^");
  for (const auto& [sql, feature] : std::vector<std::pair<const char*, const char*>>{
           {"SELECT * FROM a JOIN b USING (x)", "USING"},
           {"SELECT * FROM a JOIN (b JOIN c ON b.y = c.y) ON a.x = b.x", "parenthesized joins"},
           {"SELECT x FROM t UNION SELECT x FROM u", "UNION"},
           {"WITH w AS (SELECT 1) SELECT * FROM w", "WITH"},
           {"SELECT x FROM t WHERE x IN (SELECT y FROM u)", "subqueries"},
           {"SELECT ntile(2) OVER () FROM t", "window function ntile"},
           {"SELECT sum(x) OVER (ORDER BY x ROWS 2 PRECEDING) FROM t", "window frames"},
           {"INSERT INTO t SELECT * FROM u", "INSERT ... SELECT"}}) {
    auto select = IsSelect(sql);
    ASSERT_TRUE(select.ok()) << sql;
    absl::Status q = *select ? ParseSelect(sql).status() : ParseChange(sql).status();
    ASSERT_FALSE(q.ok()) << sql;
    EXPECT_EQ(q.code(), absl::StatusCode::kUnimplemented) << sql;
    EXPECT_NE(q.message().find(feature), std::string::npos) << q.message();
  }
  EXPECT_EQ(StatementTables("SELECT * FROM s.t").value(), (std::vector<std::pair<std::string, bool>>{{"s.t", false}}));
}

TEST(SelectTest, DatesAndConstantArithmeticAreFoldedExactly) {
  auto q = ParseSelect(
      "SELECT a FROM t WHERE d <= DATE '1998-12-01' - INTERVAL '90' DAY AND d < DATE '1994-01-31' + INTERVAL '1' "
      "MONTH AND e >= date '1994-01-01' + interval '1 year' AND x BETWEEN 0.06 - 0.01 AND 0.06 + 0.01 AND y < 2 * 3");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->where,
            "((d <= '1998-09-02') and (d < '1994-02-28') and (e >= '1995-01-01') and (x between 0.05 and 0.07) and "
            "(y < 6))");
  auto bad = ParseSelect("SELECT a FROM t WHERE d < DATE '1994-13-01'");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'1994-13-01' is not a date"), std::string::npos) << bad.status();
}

TEST(SelectTest, ConditionsEveryBranchOfAnOrHasComeOut) {
  auto q = ParseSelect(
      "SELECT a FROM t, u WHERE (t.k = u.k AND t.x = 1 AND u.y < 2) OR (t.k = u.k AND t.x = 2) OR (u.y > 5 AND t.k = "
      "u.k)");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->where, "((t.k = u.k) and (((t.x = 1) and (u.y < 2)) or (t.x = 2) or (u.y > 5)))");
  // A branch of only those: the or holds whenever they do.
  auto all = ParseSelect("SELECT a FROM t WHERE (x = 1 AND y = 2) OR x = 1");
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->where, "((x = 1))");
}

TEST(SelectTest, WindowFunctionsBecomeColumnsTheQueryReads) {
  auto q = ParseSelect(
      "SELECT id, rank() OVER (PARTITION BY k ORDER BY x DESC) AS r, lag(x, 2) OVER (ORDER BY id), "
      "sum(x) OVER () FROM t");
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ(q->windows.size(), 3u);
  EXPECT_EQ(q->columns[1].expr, "window_0");
  EXPECT_EQ(q->columns[1].name, "r");
  EXPECT_EQ(q->columns[2].name, "lag");
  EXPECT_EQ(q->windows[0].function, "rank");
  EXPECT_EQ(q->windows[0].partition, std::vector<std::string>{"k"});
  ASSERT_EQ(q->windows[0].order.size(), 1u);
  EXPECT_TRUE(q->windows[0].order[0].descending);
  EXPECT_EQ(q->windows[1].arg, "x");
  EXPECT_EQ(q->windows[1].offset, 2);
  EXPECT_TRUE(q->windows[2].order.empty());
  EXPECT_FALSE(q->aggregate);
  auto where = ParseSelect("SELECT id FROM t WHERE rank() OVER (ORDER BY id) = 1");
  ASSERT_FALSE(where.ok());
  EXPECT_NE(where.status().message().find("not allowed in WHERE"), std::string::npos);
}

TEST(SelectTest, KineticasWordsAreReadAndBlankedOut) {
  const KineticaWords top = ReadKineticaWords("SELECT DISTINCT TOP 5 a FROM t");
  EXPECT_EQ(top.top, 5);
  EXPECT_EQ(top.text, "SELECT DISTINCT       a FROM t");  // positions kept
  EXPECT_EQ(ParseSelect("SELECT TOP 3 a FROM t ORDER BY a").value().limit, 3);
  const KineticaWords create = ReadKineticaWords(
      "CREATE OR REPLACE REPLICATED TABLE s.t (id INTEGER(PRIMARY_KEY), name VARCHAR(64, DICT), "
      "c DECIMAL(10, 2), -- a comment (x, y)\n SHARD KEY (id), v VARCHAR(32, TEXT_SEARCH, DICT))");
  EXPECT_TRUE(create.or_replace);
  EXPECT_TRUE(create.replicated);
  EXPECT_EQ(create.shard_key, std::vector<std::string>{"id"});
  EXPECT_EQ(create.properties.at("id"), std::vector<std::string>{"primary_key"});
  EXPECT_EQ(create.properties.at("name"), std::vector<std::string>{"dict"});
  EXPECT_EQ(create.properties.at("v"), (std::vector<std::string>{"text_search", "dict"}));
  EXPECT_EQ(create.properties.count("c"), 0u);
  auto changes = ParseChange(
      "CREATE OR REPLACE REPLICATED TABLE s.t (id INTEGER(PRIMARY_KEY), name VARCHAR(64, DICT), SHARD KEY (id))");
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].endpoint, "/clear/table");
  EXPECT_EQ((*changes)[1].request["options"]["is_replicated"], "true");
  EXPECT_EQ(
      Json::parse((*changes)[1].request["type_id"].get<std::string>()),
      Json::parse(R"([["id", "int", "shard_key", "primary_key"], ["name", "string", "char64", "dict", "nullable"]])"));
  // A syntax error still points into the statement as written.
  auto bad = ParseSelect("SELECT TOP 5 a FROM t WHERE");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("column 28"), std::string::npos) << bad.status();
  // Unclosed parentheses: the grammar's error, nothing read out of bounds.
  for (const char* bad : {"CREATE TABLE t (a INT, SHARD KEY (a", "CREATE TABLE t (a VARCHAR(16, DICT",
                          "CREATE TABLE t (", "CREATE REPLICATED"}) {
    auto change = ParseChange(bad);
    ASSERT_FALSE(change.ok()) << bad;
    EXPECT_NE(change.status().message().find("syntax error"), std::string::npos) << change.status();
  }
  auto unknown = ParseChange("CREATE TABLE t (a INT, SHARD KEY (b))");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("SHARD KEY names 'b'"), std::string::npos) << unknown.status();
  // A type name the grammar reads as a generic one takes any expressions
  // as its modifiers (the fuzzer's find: an exception thrown out of the
  // translator).
  for (const char* bad : {"CREATE TABLE t (a \"varchar\"(1 + 2))", "CREATE TABLE t (a bpchar(10, 2))"}) {
    auto change = ParseChange(bad);
    ASSERT_FALSE(change.ok()) << bad;
    EXPECT_EQ(change.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(absl::StrContains(change.status().message(), "(...) takes one whole number, its length"))
        << change.status();
  }
  EXPECT_TRUE(ParseChange("CREATE TABLE t (a pg_catalog.varchar(8))").ok());
}

TEST(SelectTest, AlterTableSchemasAndExplain) {
  auto add = ParseChange("ALTER TABLE s.t ADD COLUMN c VARCHAR(10) DEFAULT 'z' NOT NULL, DROP COLUMN d");
  ASSERT_TRUE(add.ok()) << add.status();
  ASSERT_EQ(add->size(), 2u);
  EXPECT_EQ((*add)[0].request["action"], "add_column");
  EXPECT_EQ((*add)[0].request["options"]["column_type"], "string");
  EXPECT_EQ((*add)[0].request["options"]["column_properties"], "char16");
  EXPECT_EQ((*add)[0].request["options"]["column_default_value"], "z");
  EXPECT_EQ((*add)[1].request["action"], "delete_column");
  auto rename = ParseChange("ALTER TABLE s.t RENAME TO u");
  ASSERT_TRUE(rename.ok()) << rename.status();
  EXPECT_EQ((*rename)[0].request["value"], "s.u");  // stays in its schema
  auto column = ParseChange("ALTER TABLE t RENAME COLUMN a TO b");
  ASSERT_TRUE(column.ok()) << column.status();
  EXPECT_EQ((*column)[0].request["options"]["rename_column"], "b");
  auto schema = ParseChange("DROP SCHEMA IF EXISTS s CASCADE");
  ASSERT_TRUE(schema.ok()) << schema.status();
  EXPECT_EQ((*schema)[0].endpoint, "/drop/schema");
  EXPECT_EQ((*schema)[0].request["options"], Json::parse(R"({"no_error_if_not_exists": "true", "cascade": "true"})"));
  EXPECT_EQ(StatementSchemas("CREATE SCHEMA s").value(), std::vector<std::string>{"s"});
  EXPECT_TRUE(StatementTables("CREATE SCHEMA s").value().empty());
  auto explain = ParseExplain("EXPLAIN SELECT a FROM t WHERE a > 1", Json::array(), nullptr);
  ASSERT_TRUE(explain.ok()) << explain.status();
  ASSERT_TRUE(explain->has_value());
  EXPECT_EQ((*explain)->where, "(a > 1)");
  EXPECT_FALSE(ParseExplain("SELECT a FROM t", Json::array(), nullptr).value().has_value());
  EXPECT_EQ(StatementTables("EXPLAIN SELECT a FROM t").value(),
            (std::vector<std::pair<std::string, bool>>{{"t", false}}));
}

}  // namespace
}  // namespace engine::sql
