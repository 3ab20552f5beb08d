#pragma once

// SQL statements read with PostgreSQL's own grammar (libpg_query) and turned
// into what the engine's endpoints take: a query on one table or view as
// column expressions in the engine's expression language (expr/expression.h),
// a filter, grouping, ordering and a page. /execute/sql runs them through the
// read endpoints (/get/records/bycolumn, /aggregate/groupby).
//
// Supported (this first part of the SQL work): one SELECT of one table or
// view, or of several joined ([INNER], LEFT, RIGHT, FULL [OUTER] JOIN ... ON,
// and commas with the conditions in WHERE), with expressions (arithmetic, comparisons, AND/OR/NOT, IN lists,
// BETWEEN, LIKE/ILIKE, IS [NOT] NULL, CASE, COALESCE and the engine's
// functions), aggregates (count, count(DISTINCT x), sum, min, max, avg,
// stddev and variance (sample, as in PostgreSQL) and their _pop/_samp
// forms), DISTINCT, WHERE, GROUP BY,
// HAVING, ORDER BY, LIMIT and OFFSET; and the changes below (Change).
// Anything else is refused naming the feature ("subqueries in SQL are not
// supported yet").

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/api/json.h"
#include "engine/sql/kinetica_words.h"

namespace engine::sql {

struct OutputColumn {
  std::string expr;  // in the engine's expression language (an aggregate as groupby writes it)
  std::string name;  // the column's header
  bool aggregate = false;  // holds an aggregate
  std::string sql_name;    // a call without an alias: its function's name (PostgreSQL's name for it)
};

// A key of ORDER BY. Nulls come last ascending and first descending, as in
// PostgreSQL, unless NULLS FIRST or LAST says otherwise.
struct OrderItem {
  std::string expr;
  bool descending = false;
  bool nulls_first = false;
};

// A window function (a call with OVER): computed over the query's rows as
// column `name`, which the query's expressions then read.
struct WindowCall {
  std::string name;      // "window_<i>"
  std::string function;  // row_number, rank, dense_rank, lag, lead, count, sum, min, max, avg
  std::string arg;       // its argument in the engine's language; "" for none (count(*))
  int64_t offset = 1;    // lag, lead
  std::vector<std::string> partition;
  std::vector<OrderItem> order;
};

// A table of FROM: the first, or one joined to those before it.
struct FromTable {
  std::string name;   // as the statement names it ("schema.table" or "table")
  std::string alias;  // its alias, else its name's last part
  std::string join;   // "" (the first, or a comma: an inner join by WHERE), "join", "left join", "right join",
                      // "full join", "semi join"
  std::string on;     // the join's condition, in the engine's language
  bool semi = false;  // an IN subquery's rows, semi-joined: none of its columns in SELECT *
};

struct SelectQuery {
  // One table: as the statement names it ("schema.table" or "table"); empty
  // for a SELECT without FROM, which reads one row of no columns.
  std::string table;
  // Several: every table of FROM in order (columns are then written
  // alias.column, and `columns_read` lists those the statement reads, as
  // written: "a.x" or a bare "x").
  std::vector<FromTable> from;
  std::vector<std::string> columns_read;
  std::vector<OutputColumn> columns;
  bool star = false;       // SELECT *: every column of the table, in order
  bool distinct = false;   // SELECT DISTINCT
  bool aggregate = false;  // aggregates or GROUP BY: one row per group
  std::vector<std::string> group_by;
  // Every aggregate call of the columns, HAVING and ORDER BY, each once, as
  // written in them ("sum(x)", "count(*)").
  std::vector<std::string> aggregate_calls;
  std::vector<WindowCall> windows;  // the window functions its columns read
  std::string where;
  std::string having;
  std::vector<OrderItem> order;  // ORDER BY
  int64_t limit = -1;    // -1: none
  int64_t offset = 0;
};

// The queries nested in a statement (subqueries in FROM, WITH, set
// operations, IN, EXISTS and scalar subqueries), run by the caller as the
// parser meets them, innermost first: each becomes a table (a view, dropped
// with the statement) the outer query reads.
class Nested {
 public:
  virtual ~Nested() = default;
  // Runs `q`, keeping its rows as a table; its name. Columns are named as
  // `q.columns` name them.
  virtual absl::StatusOr<std::string> Keep(const SelectQuery& q) = 0;
  // The rows of `tables` (alike in their number of columns) combined as
  // /create/union's `mode` ("union_all", "union", "intersect", "except"), as
  // a table named by the first's columns; its name.
  virtual absl::StatusOr<std::string> Combine(const std::vector<std::string>& tables, const std::string& mode) = 0;
  // The first `limit` values of the one column of table `name`, as literals
  // of the engine's expression language ("null" for a null); an error when
  // it has several columns.
  virtual absl::StatusOr<std::vector<std::string>> Values(const std::string& name, int64_t limit) = 0;
  // The names of table `name`'s columns, in order (for `SELECT * ... ORDER
  // BY n`).
  virtual absl::StatusOr<std::vector<std::string>> Columns(const std::string& name) = 0;
};

// One statement read with PostgreSQL's grammar, once, for every function
// below (the scheduler's readers and the translators each used to parse it
// again).
class Statement {
 public:
  // Reads `text`: Kinetica's words (kinetica_words.h), then the grammar.
  // Errors: a syntax error gives line, column and the line with a caret
  // under the place ("syntax error at or near \"FORM\" (line 1, column
  // 10)\n  SELECT a FORM t\n           ^"); so does a statement nested deeper
  // than kMaxNesting; more or fewer than one statement are refused.
  static absl::StatusOr<Statement> Parse(absl::string_view text);

  // libpg_query's name of the statement's kind: "SelectStmt", "InsertStmt",
  // "ExplainStmt", ...
  const std::string& kind() const { return kind_; }
  // A SELECT (ParseSelect) rather than a change (ParseChange) or EXPLAIN.
  bool is_select() const { return kind_ == "SelectStmt"; }
  // Kinetica's words, and the text the grammar read (those words blanked).
  const KineticaWords& words() const { return words_; }
  // The statement's node of libpg_query's tree (JSON output).
  const Json& node() const;

 private:
  Statement() = default;
  KineticaWords words_;
  Json tree_;
  std::string kind_;
};

// Translates `statement` (one SELECT); an unsupported feature is refused
// naming it.
//
// `params` (options.query_parameters: a JSON array of values) take the places
// of $1, $2, ... ; ParseChange also takes an array of such arrays for an
// INSERT ... VALUES, one row of values each.
// Nested queries run through `nested`; without one they are refused.
// Unqualified table names are in `schema` (options.current_schema) when it
// is given, else left to the default schema.
absl::StatusOr<SelectQuery> ParseSelect(const Statement& statement, const Json& params = Json::array(),
                                        Nested* nested = nullptr, absl::string_view schema = "");

// A statement that changes rows or tables, as the request of the endpoint
// that does it: DELETE (/delete/records), UPDATE (/update/records, the new
// values as expressions), INSERT ... VALUES (/insert/records, JSON records),
// CREATE TABLE AS SELECT, CREATE TABLE (/create/table: TINYINT, SMALLINT,
// INT, BIGINT, REAL, DOUBLE, DECIMAL (a double), VARCHAR(n) and CHAR(n) (a
// charN up to 256), TEXT, BOOLEAN, DATE, TIME, DATETIME, TIMESTAMP, UUID,
// IPV4, BLOB; PRIMARY KEY; NOT NULL, else nullable; Kinetica's words of
// kinetica_words.h), DROP TABLE [IF EXISTS] (/clear/table), ALTER TABLE
// (/alter/table: ADD COLUMN, DROP COLUMN, ALTER COLUMN TYPE, RENAME TO,
// RENAME COLUMN) and CREATE and DROP SCHEMA (/create/schema, /drop/schema).
// CREATE TABLE ... AS SELECT: `into` is the new table and `select` its query
// (endpoint empty); the caller runs it as a projection or a group-by into a
// table.
// INSERT ... SELECT: `insert`, `into` the table, `columns` those given (else
// the table's, in order).
struct Change {
  std::string endpoint;
  Json request;
  std::string into;
  SelectQuery select;
  bool insert = false;
  std::vector<std::string> columns;
};

absl::StatusOr<std::vector<Change>> ParseChange(const Statement& statement, const Json& params = Json::array(),
                                                Nested* nested = nullptr, absl::string_view schema = "");

// The tables and views `statement` reads (false) or writes (true), for the
// scheduler; an unsupported kind of statement is refused. StatementSchemas:
// the schemas it creates or drops.
absl::StatusOr<std::vector<std::pair<std::string, bool>>> StatementTables(const Statement& statement,
                                                                          absl::string_view schema = "");
std::vector<std::string> StatementSchemas(const Statement& statement);

// EXPLAIN SELECT ...: the query (nested queries through `nested`, as
// ParseSelect); nullopt when `statement` is no EXPLAIN.
absl::StatusOr<std::optional<SelectQuery>> ParseExplain(const Statement& statement, const Json& params, Nested* nested,
                                                        absl::string_view schema = "");

}  // namespace engine::sql
