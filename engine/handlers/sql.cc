// /execute/sql: a SELECT (engine/sql/select.h) run as the read endpoint
// that answers it: /aggregate/groupby for aggregates, GROUP BY and DISTINCT,
// else /get/records/bycolumn. What it reads first becomes tables of their
// own (views with names of their own, dropped when the statement is
// answered): joined tables a /create/jointable view of the columns read,
// subqueries, WITH queries and the operands of set operations a
// /create/projection or an /aggregate/groupby result table, set operations a
// /create/union; IN, EXISTS and scalar subqueries are read back as literals.
// CREATE TABLE [AS SELECT], DROP TABLE, INSERT ... VALUES, INSERT ... SELECT,
// UPDATE and DELETE run as their endpoints (sql::ParseChange); only a SELECT
// may be cancelled. The statement's LIMIT and OFFSET bound the rows; the
// request's offset and limit page through them (as Kinetica's clients do).

#include <algorithm>
#include <atomic>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/api/schema.h"
#include "engine/handlers/keys.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/handlers/rows.h"
#include "engine/handlers/shards.h"
#include "engine/sql/select.h"
#include "engine/table/dates.h"
#include "engine/table/host_column.h"
#include "engine/table/names.h"
#include "engine/table/result_table.h"
#include "kernels/window.h"

namespace engine {
namespace {

// An error of the endpoint a statement ran as, said of the statement: the
// endpoint's field ("column_names[0]: ", "options.expression: ") and the
// position within the expression written for it (" at position 7") left out.
absl::Status InnerError(const absl::Status& s) {
  absl::string_view message = s.message();
  for (absl::string_view field :
       {"column_names[", "options.", "table_names[", "expressions[", "new_values_maps[", "list[", "list_str[",
        "table_name: ", "join_table_name: ", "schema_name: ", "value: ", "action: "}) {
    const size_t colon = message.find(": ");
    if (absl::StartsWith(message, field) && colon != absl::string_view::npos) {
      message.remove_prefix(colon + 2);
      break;
    }
  }
  std::string text(message);
  if (const size_t at = text.rfind(" at position "); at != std::string::npos &&
      text.find_first_not_of("0123456789", at + 13) == std::string::npos) {
    text.resize(at);
  }
  return absl::Status(s.code(), absl::StrCat("statement: ", text));
}

absl::StatusOr<std::vector<Access>> SqlAccess(const Json& request) {
  auto statement = sql::Statement::Parse(StringField(request, "statement"));
  if (!statement.ok()) return statement.status();
  auto tables = sql::StatementTables(*statement, Option(request, "current_schema"));
  if (!tables.ok()) return tables.status();
  std::vector<Access> access;
  for (const auto& [t, write] : *tables) {
    if (absl::Status s = ValidateTableName(t, "statement"); !s.ok()) return s;
    access.push_back(Access{t, write});
  }
  if (const std::string paging = Option(request, "paging_table"); !paging.empty()) {
    if (absl::Status s = ValidateTableName(paging, "options.paging_table"); !s.ok()) return s;
    access.push_back(Access{paging, true});
  }
  for (const std::string& schema : sql::StatementSchemas(*statement)) {
    if (absl::Status s = ValidateSchemaName(schema, "statement"); !s.ok()) return s;
    access.push_back(Access{SchemaAccessName(schema), true});
  }
  return access;
}

// ORDER BY as the endpoints' order_by of rows of `table`: the kernels put
// nulls first ascending and last descending, so a key whose nulls go the
// other way (PostgreSQL's default) is led by "(key is null)"; a column that
// holds no nulls needs none.
std::string OrderBy(const std::vector<sql::OrderItem>& order, const Table& table) {
  std::vector<std::string> keys;
  for (const sql::OrderItem& o : order) {
    const int column = table.type().Find(o.expr);
    const bool nullable = column < 0 || table.type().column(column).nullable;
    const char* direction = o.descending ? " desc" : " asc";
    if (nullable && o.nulls_first == o.descending) {
      keys.push_back(absl::StrCat("(", o.expr, " is null)", o.nulls_first ? " desc" : " asc"));
    }
    keys.push_back(absl::StrCat(o.expr, direction));
  }
  return absl::StrJoin(keys, ", ");
}

// "expr as name", or the expression when it names itself.
std::string Named(const sql::OutputColumn& c) {
  return c.name == c.expr ? c.expr : absl::StrCat(c.expr, " as ", c.name);
}

// Whether `name` is a plain column name (letters, digits, underscores).
bool PlainName(const std::string& name) {
  return !name.empty() && !absl::ascii_isdigit(static_cast<unsigned char>(name[0])) &&
         std::all_of(name.begin(), name.end(),
                     [](char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

// The columns of a table made of `q`'s rows, as PostgreSQL names them: an
// alias or a column's name, a call's function ("count"), else "column<n>";
// a name taken already gets "_<n>" after it.
std::vector<std::string> KeptNames(const sql::SelectQuery& q) {
  std::vector<std::string> out;
  for (size_t i = 0; i < q.columns.size(); ++i) {
    const sql::OutputColumn& c = q.columns[i];
    std::string name = PlainName(c.name) ? c.name : !c.sql_name.empty() ? c.sql_name : absl::StrCat("column", i + 1);
    if (std::find(out.begin(), out.end(), name) != out.end()) name = absl::StrCat(name, "_", i + 1);
    out.push_back(name);
  }
  return out;
}

std::string ReplaceTerm(const std::string& text, const std::string& from, const std::string& to);
class Temporaries;
absl::Status JoinFrom(JobContext& ctx, Temporaries& temps, sql::SelectQuery* q);
absl::Status Store(JobContext& ctx, Temporaries& temps, sql::SelectQuery q, const std::string& name, bool persist);
absl::StatusOr<Json> RunEndpoint(JobContext& ctx, const std::string& endpoint, Json request);

// The tables a statement keeps while it runs (sql::Nested): views with
// names no other statement uses, dropped when it is done.
class Temporaries : public sql::Nested {
 public:
  explicit Temporaries(JobContext& ctx) : ctx_(ctx) {}
  ~Temporaries() override {
    for (auto it = names_.rbegin(); it != names_.rend(); ++it) ctx_.catalog.Remove(*it).IgnoreError();
  }

  std::string NewName() {
    static std::atomic<int64_t> next{0};
    names_.push_back(absl::StrCat("sql_temporary_", next.fetch_add(1)));
    return names_.back();
  }

  // A view of one row (of one column, "one"): what a SELECT without FROM reads.
  absl::StatusOr<std::string> OneRow() {
    const std::string name = NewName();
    ColumnDef def;
    def.name = "one";
    def.kind = ColumnKind::kInt;
    HostColumn one(kernels::PhysType::kInt32, 0, false);
    one.AppendInt(1);
    std::vector<kernels::Column> columns;
    columns.push_back(ToDevice(one, ctx_.exec));
    auto view = std::make_shared<Table>(name, TableType({def}, ""), &ctx_.device, Table::Kind::kView);
    view->Replace(std::move(columns), ctx_.exec).IgnoreError();  // no journal: cannot fail
    if (absl::Status s = ctx_.catalog.Add(std::move(view)); !s.ok()) return s;
    return name;
  }

  absl::StatusOr<std::string> Keep(const sql::SelectQuery& q) override {
    std::string name = NewName();
    if (absl::Status s = Store(ctx_, *this, q, name, false); !s.ok()) return s;
    return name;
  }

  absl::StatusOr<std::string> Combine(const std::vector<std::string>& tables, const std::string& mode) override {
    Json inputs = Json::array();
    size_t width = 0;
    Json output = Json::array();
    for (const std::string& t : tables) {
      auto names = Columns(t);
      if (!names.ok()) return names.status();
      const Json columns = *names;
      if (inputs.empty()) {
        width = columns.size();
        output = columns;
      } else if (columns.size() != width) {
        return absl::InvalidArgumentError(
            absl::StrCat("statement: each query of ", absl::AsciiStrToUpper(mode.substr(0, mode.find('_'))),
                         " must give as many columns (", width, " and ", columns.size(), ")"));
      }
      inputs.push_back(columns);
    }
    const std::string name = NewName();
    auto answer = RunEndpoint(ctx_, "/create/union",
                              Json{{"table_name", name},
                                   {"table_names", tables},
                                   {"input_column_names", inputs},
                                   {"output_column_names", output},
                                   {"options", {{"mode", mode}}}});
    if (!answer.ok()) return answer.status();
    return name;
  }

  absl::StatusOr<std::vector<std::string>> Values(const std::string& name, int64_t limit) override {
    auto table = ctx_.catalog.Find(name);
    if (!table.ok()) return absl::NotFoundError(absl::StrCat("statement: ", table.status().message()));
    const TableType& type = (*table)->type();
    if (type.size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("statement: a subquery read as a value must give one column, not ", type.size()));
    }
    RowSet all;
    all.count = (*table)->rows();
    const int64_t n = std::min(limit, all.count);
    const std::vector<HostColumn> rows = FetchRows(ctx_, **table, all, 0, n);
    const ColumnDef& def = type.column(0);
    std::vector<std::string> out;
    for (int64_t r = 0; r < n; ++r) {
      const HostColumn& c = rows[0];
      if (!c.IsValid(r)) {
        out.push_back("null");
      } else if (def.is_string()) {
        out.push_back(StringLiteral(c.StringAt(r)));
      } else if (def.kind == ColumnKind::kDate) {
        out.push_back(StringLiteral(FormatDate(c.IntAt(r))));
      } else if (def.is_real()) {
        out.push_back(absl::StrFormat("%.17g", c.FloatAt(r)));
      } else {
        out.push_back(absl::StrCat(c.IntAt(r)));
      }
    }
    return out;
  }

  absl::StatusOr<std::vector<std::string>> Columns(const std::string& name) override {
    auto table = ctx_.catalog.Find(name);
    if (!table.ok()) return absl::NotFoundError(absl::StrCat("statement: ", table.status().message()));
    std::vector<std::string> out;
    for (const ColumnDef& d : (*table)->type().columns()) out.push_back(d.name);
    return out;
  }

 private:
  JobContext& ctx_;
  std::vector<std::string> names_;
};

// Runs `endpoint` with `request` (its fields filled in); errors said of the
// statement.
absl::StatusOr<Json> RunEndpoint(JobContext& ctx, const std::string& endpoint, Json request) {
  const Endpoint* target = FindEndpoint(endpoint);
  auto normalized = Normalize(*target->request, std::move(request));
  if (!normalized.ok()) return absl::InternalError(absl::StrCat("statement: ", normalized.status().message()));
  auto answer = target->handler->run(ctx, *normalized);
  if (!answer.ok()) return InnerError(answer.status());
  return answer;
}

absl::StatusOr<Json> Answer(JobContext& ctx, const Json& request, sql::SelectQuery* q);

// The joined tables of `q` as a view holding the columns the
// statement reads (named alias.column) where its WHERE holds
// (/create/jointable); `q` then reads that view.
absl::Status JoinFrom(JobContext& ctx, Temporaries& temps, sql::SelectQuery* q) {
  std::vector<std::shared_ptr<Table>> tables;
  for (const sql::FromTable& t : q->from) {
    auto table = ctx.catalog.Find(t.name);
    if (!table.ok()) return absl::NotFoundError(absl::StrCat("statement: ", table.status().message()));
    tables.push_back(*std::move(table));
  }
  // Every column read, qualified.
  std::vector<std::string> needed;
  const auto need = [&](const std::string& column) {
    if (std::find(needed.begin(), needed.end(), column) == needed.end()) needed.push_back(column);
  };
  std::vector<std::string> read, star;  // star: every column, in the tables' order
  if (q->star) {
    for (size_t i = 0; i < tables.size(); ++i) {
      if (q->from[i].semi) continue;
      for (const ColumnDef& d : tables[i]->type().columns()) star.push_back(absl::StrCat(q->from[i].alias, ".", d.name));
    }
  }
  read = star;
  read.insert(read.end(), q->columns_read.begin(), q->columns_read.end());
  // What reads the view: the columns, groups, HAVING, ORDER BY and windows
  // (WHERE and ON are the join's own: their columns need not leave it).
  std::vector<std::string> outputs = q->group_by;
  for (const sql::OutputColumn& c : q->columns) outputs.push_back(c.expr);
  outputs.push_back(q->having);
  for (const sql::OrderItem& o : q->order) outputs.push_back(o.expr);
  for (const sql::WindowCall& w : q->windows) {
    outputs.push_back(w.arg);
    outputs.insert(outputs.end(), w.partition.begin(), w.partition.end());
    for (const sql::OrderItem& o : w.order) outputs.push_back(o.expr);
  }
  const auto read_after = [&](const std::string& column) {
    return std::any_of(outputs.begin(), outputs.end(),
                       [&](const std::string& text) { return ReplaceTerm(text, column, "") != text; });
  };
  for (size_t k = 0; k < read.size(); ++k) {
    const std::string& column = read[k];
    const size_t dot = column.find('.');
    std::vector<std::string> owners;
    for (size_t i = 0; i < tables.size(); ++i) {
      const std::string& alias = q->from[i].alias;
      if (dot != std::string::npos && column.substr(0, dot) != alias) continue;
      if (tables[i]->type().Find(dot == std::string::npos ? column : column.substr(dot + 1)) >= 0) {
        owners.push_back(alias);
      }
    }
    if (owners.empty()) return absl::InvalidArgumentError(absl::StrCat("statement: unknown column '", column, "'"));
    if (owners.size() > 1) {
      return absl::InvalidArgumentError(absl::StrCat("statement: column '", column, "' is in several tables (",
                                                     absl::StrJoin(owners, ", "), "); qualify it"));
    }
    if (k < star.size() || read_after(column))
      need(dot == std::string::npos ? absl::StrCat(owners[0], ".", column) : column);
  }
  // A count of joined rows reads no column: it keeps one.
  if (needed.empty()) need(absl::StrCat(q->from[0].alias, ".", tables[0]->type().column(0).name));
  Json table_names = Json::array(), column_names = Json::array();
  for (const sql::FromTable& t : q->from) {
    if (t.join.empty()) {
      table_names.push_back(absl::StrCat(t.name, " as ", t.alias));
    } else {
      table_names.push_back(absl::StrCat(t.join, " ", t.name, " as ", t.alias, " on ", t.on));
    }
  }
  for (const std::string& c : needed) column_names.push_back(absl::StrCat(c, " as ", c));
  const std::string name = temps.NewName();
  Json join{{"join_table_name", name},
            {"table_names", table_names},
            {"column_names", column_names},
            {"expressions", q->where.empty() ? Json::array() : Json::array({q->where})}};
  auto answer = RunEndpoint(ctx, "/create/jointable", std::move(join));
  if (!answer.ok()) return answer.status();
  q->table = name;
  q->from.clear();
  q->where.clear();
  if (q->star) {
    q->star = false;
    for (const std::string& c : star) q->columns.push_back(sql::OutputColumn{c, c.substr(c.find('.') + 1)});
  }
  return absl::OkStatus();
}

// `text` with every whole occurrence of `from` (not within a longer name or
// a string literal) replaced by `to`.
std::string ReplaceTerm(const std::string& text, const std::string& from, const std::string& to) {
  const auto name_char = [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  };
  std::string out;
  bool quoted = false;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\'') quoted = !quoted;
    if (!quoted && text.compare(i, from.size(), from) == 0 && (i == 0 || !name_char(text[i - 1])) &&
        (i + from.size() == text.size() || !name_char(from.back()) || !name_char(text[i + from.size()]))) {
      out += to;
      i += from.size();
      continue;
    }
    out += text[i++];
  }
  return out;
}

// The first name in expression `text` (outside string literals) that is no
// function, keyword, group_<i>, aggregate_<i> or window_<i>; "" when there
// is none.
std::string StrayColumn(const std::string& text) {
  static const char* const kWords[] = {"and", "or", "not", "is", "null", "in", "between", "like", "true", "false"};
  const auto name_char = [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
  };
  bool quoted = false;
  for (size_t i = 0; i < text.size();) {
    if (text[i] == '\'') quoted = !quoted;
    if (quoted || !name_char(text[i]) || absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      // Skip a number whole (1.5e3), and anything else one character.
      if (!quoted && absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
        while (i < text.size() && name_char(text[i])) ++i;
      } else {
        ++i;
      }
      continue;
    }
    size_t end = i;
    while (end < text.size() && name_char(text[end])) ++end;
    const std::string name = text.substr(i, end - i);
    size_t next = end;
    while (next < text.size() && text[next] == ' ') ++next;
    const bool call = next < text.size() && text[next] == '(';
    const std::string lower = absl::AsciiStrToLower(name);
    const bool word = std::find(std::begin(kWords), std::end(kWords), lower) != std::end(kWords);
    if (!call && !word && !absl::StartsWith(name, "group_") && !absl::StartsWith(name, "aggregate_") &&
        !absl::StartsWith(name, "window_")) {
      return name;
    }
    i = end;
  }
  return "";
}

// Groups whose columns, HAVING or ORDER BY compute with aggregates or keys
// ("max(x) - min(x)", "HAVING count(*) > 2" without count(*) selected, "k +
// 1"), that group by keys not selected, or that window functions read
// ("rank() OVER (ORDER BY sum(v))"): the groups' keys and aggregates are
// kept as a table first (group_<i>, aggregate_<i>), and `q` becomes a query
// of that table, its expressions and windows reading those columns (the
// windows then see the groups HAVING keeps, as SQL orders them).
absl::Status Regroup(Temporaries& temps, sql::SelectQuery* q) {
  if (!q->aggregate) return absl::OkStatus();
  const bool plain = q->windows.empty() &&
                     std::all_of(q->aggregate_calls.begin(), q->aggregate_calls.end(),
                                 [&](const std::string& call) {
                                   return std::any_of(q->columns.begin(), q->columns.end(),
                                                      [&](const sql::OutputColumn& c) { return c.expr == call; });
                                 }) &&
                     std::all_of(q->columns.begin(), q->columns.end(),
                                 [&](const sql::OutputColumn& c) {
                                   return c.aggregate || std::find(q->group_by.begin(), q->group_by.end(), c.expr) !=
                                                             q->group_by.end();
                                 }) &&
                     std::all_of(q->group_by.begin(), q->group_by.end(), [&](const std::string& g) {
                       return std::any_of(q->columns.begin(), q->columns.end(),
                                          [&](const sql::OutputColumn& c) { return c.expr == g; });
                     });
  if (plain) return absl::OkStatus();
  sql::SelectQuery groups;
  groups.table = q->table;
  groups.from = q->from;
  groups.columns_read = q->columns_read;
  groups.where = q->where;
  groups.group_by = q->group_by;
  groups.aggregate = true;
  // Terms to rewrite, the longest first (a key within a call is the call's).
  std::vector<std::pair<std::string, std::string>> terms;
  for (size_t i = 0; i < q->group_by.size(); ++i) {
    const std::string name = absl::StrCat("group_", i);
    groups.columns.push_back(sql::OutputColumn{q->group_by[i], name, false});
    terms.emplace_back(q->group_by[i], name);
  }
  for (size_t i = 0; i < q->aggregate_calls.size(); ++i) {
    const std::string name = absl::StrCat("aggregate_", i);
    groups.columns.push_back(sql::OutputColumn{q->aggregate_calls[i], name, true});
    terms.emplace_back(q->aggregate_calls[i], name);
  }
  std::stable_sort(terms.begin(), terms.end(),
                   [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  const auto rewrite = [&](std::string text) {
    for (const auto& [from, to] : terms) text = ReplaceTerm(text, from, to);
    return text;
  };
  // What remains of a column or a window after that must be no column of
  // the rows.
  const auto grouped = [&](const std::string& text) {
    const std::string stray = StrayColumn(rewrite(text));
    if (stray.empty()) return absl::OkStatus();
    return absl::InvalidArgumentError(
        absl::StrCat("statement: '", stray, "' must appear in GROUP BY or be used in an aggregate"));
  };
  std::vector<sql::WindowCall> windows = q->windows;
  for (sql::WindowCall& w : windows) {
    std::vector<std::string*> parts = {&w.arg};
    for (std::string& p : w.partition) parts.push_back(&p);
    for (sql::OrderItem& o : w.order) parts.push_back(&o.expr);
    for (std::string* part : parts) {
      if (absl::Status s = grouped(*part); !s.ok()) return s;
      *part = rewrite(*part);
    }
  }
  for (const sql::OutputColumn& c : q->columns) {
    if (absl::Status s = grouped(c.expr); !s.ok()) return s;
  }
  auto kept = temps.Keep(groups);
  if (!kept.ok()) return kept.status();
  sql::SelectQuery out;
  out.table = *kept;
  const std::vector<std::string> names = KeptNames(*q);
  for (size_t i = 0; i < q->columns.size(); ++i) {
    out.columns.push_back(sql::OutputColumn{rewrite(q->columns[i].expr), names[i], false});
  }
  out.where = rewrite(q->having);
  out.windows = std::move(windows);
  for (sql::OrderItem o : q->order) {
    o.expr = rewrite(o.expr);
    out.order.push_back(o);
  }
  out.distinct = q->distinct;
  out.limit = q->limit;
  out.offset = q->offset;
  *q = std::move(out);
  return absl::OkStatus();
}

// The key columns of ORDER BY `order` over `table`'s rows, as the kernels
// order them (see OrderBy): a nullable key whose nulls go the other way is
// led by "(key is null)". `keep` holds the evaluated columns.
absl::Status OrderKeys(JobContext& ctx, const Table& table, const std::vector<sql::OrderItem>& order,
                       std::vector<RowValues>* keep, std::vector<kernels::SortKey>* keys) {
  for (const sql::OrderItem& o : order) {
    auto v = EvaluateRows(ctx, table, o.expr, "statement");
    if (!v.ok()) return v.status();
    if (v->def.nullable && o.nulls_first == o.descending) {
      auto nulls = EvaluateRows(ctx, table, absl::StrCat("(", o.expr, ") is null"), "statement");
      if (!nulls.ok()) return nulls.status();
      keep->push_back(*std::move(nulls));
      keys->push_back(kernels::SortKey{keep->back().view, o.nulls_first});
    }
    keep->push_back(*std::move(v));
    keys->push_back(kernels::SortKey{keep->back().view, o.descending});
  }
  return absl::OkStatus();
}

// Window functions: the query's rows (joined, filtered) kept as a table,
// then a view of them with a column per window function (kernels::Window),
// which `q` then reads.
absl::Status ComputeWindows(JobContext& ctx, Temporaries& temps, sql::SelectQuery* q) {
  if (q->windows.empty()) return absl::OkStatus();
  if (!q->from.empty()) {
    if (absl::Status s = JoinFrom(ctx, temps, q); !s.ok()) return s;
  } else if (!q->where.empty()) {
    sql::SelectQuery rows;
    rows.table = q->table;
    rows.star = true;
    rows.where = q->where;
    auto kept = temps.Keep(rows);
    if (!kept.ok()) return kept.status();
    q->table = *kept;
    q->where.clear();
  }
  auto found = ctx.catalog.Find(q->table);
  if (!found.ok()) return absl::NotFoundError(absl::StrCat("statement: ", found.status().message()));
  std::shared_ptr<Table> table = LocalTable(ctx, *found);
  const int64_t n = table->rows();
  std::vector<ColumnDef> defs = table->type().columns();
  std::vector<kernels::Column> columns;
  for (const kernels::ColumnView& v : table->views()) {
    kernels::Column copy(v.type, v.width, v.validity != nullptr);
    copy.Append(v, ctx.exec);
    columns.push_back(std::move(copy));
  }
  static const std::map<std::string, kernels::WindowKind> kKinds = {{"row_number", kernels::WindowKind::kRowNumber},
                                                                    {"rank", kernels::WindowKind::kRank},
                                                                    {"dense_rank", kernels::WindowKind::kDenseRank},
                                                                    {"lag", kernels::WindowKind::kLag},
                                                                    {"lead", kernels::WindowKind::kLead},
                                                                    {"count", kernels::WindowKind::kCount},
                                                                    {"sum", kernels::WindowKind::kSum},
                                                                    {"min", kernels::WindowKind::kMin},
                                                                    {"max", kernels::WindowKind::kMax},
                                                                    {"avg", kernels::WindowKind::kMean}};
  for (const sql::WindowCall& w : q->windows) {
    kernels::WindowSpec spec;
    spec.kind = kKinds.at(w.function);
    spec.offset = w.offset;
    std::vector<RowValues> keep;
    keep.reserve(w.partition.size() + 2 * w.order.size() + 1);
    for (const std::string& p : w.partition) {
      auto v = EvaluateRows(ctx, *table, p, "statement");
      if (!v.ok()) return v.status();
      keep.push_back(*std::move(v));
      spec.partition.push_back(keep.back().view);
    }
    if (absl::Status s = OrderKeys(ctx, *table, w.order, &keep, &spec.order); !s.ok()) return s;
    if (!w.arg.empty()) {
      auto v = EvaluateRows(ctx, *table, w.arg, "statement");
      if (!v.ok()) return v.status();
      if (v->def.is_string() && w.function != "count") {
        return absl::UnimplementedError(
            absl::StrCat("statement: ", w.function, " OVER a string is not supported yet (give a number)"));
      }
      keep.push_back(*std::move(v));
      spec.value = &keep.back().view;
    }
    if (spec.partition.size() > 8 || spec.order.size() > 8) {
      return absl::UnimplementedError("statement: a window of more than 8 PARTITION BY or ORDER BY keys");
    }
    kernels::Column values = kernels::Window(spec, n, ctx.exec);
    const bool real = values.type() == kernels::PhysType::kFloat64;
    ColumnDef def;
    def.name = w.name;
    def.kind = real ? ColumnKind::kDouble : ColumnKind::kLong;
    def.nullable = values.nullable();
    defs.push_back(def);
    columns.push_back(std::move(values));
  }
  const std::string name = temps.NewName();
  auto view = std::make_shared<Table>(name, TableType(std::move(defs), ""), &ctx.device, Table::Kind::kView);
  view->Replace(std::move(columns), ctx.exec).IgnoreError();  // no journal: cannot fail
  if (absl::Status s = ctx.catalog.Add(std::move(view)); !s.ok()) return s;
  q->table = name;
  q->windows.clear();
  return absl::OkStatus();
}

// Keeps `q`'s rows as a new table `name` (kept across restarts when
// `persist`, else a view): through /create/projection, or /aggregate/groupby's
// result_table for groups (then a projection of those for a LIMIT).
absl::Status Store(JobContext& ctx, Temporaries& temps, sql::SelectQuery q, const std::string& name, bool persist) {
  if (q.offset > 0)
    return absl::UnimplementedError("statement: OFFSET in subqueries and CREATE TABLE AS is not supported yet");
  if (q.table.empty() && q.from.empty()) {
    auto one = temps.OneRow();
    if (!one.ok()) return one.status();
    q.table = *one;
  }
  if (absl::Status s = Regroup(temps, &q); !s.ok()) return s;
  if (absl::Status s = ComputeWindows(ctx, temps, &q); !s.ok()) return s;
  if (!q.from.empty()) {
    if (absl::Status s = JoinFrom(ctx, temps, &q); !s.ok()) return s;
  }
  Json columns = Json::array();
  if (q.star) columns.push_back("*");
  const std::vector<std::string> names = KeptNames(q);
  for (size_t i = 0; i < q.columns.size(); ++i) {
    const sql::OutputColumn& c = q.columns[i];
    columns.push_back(c.expr == names[i] ? c.expr : absl::StrCat(c.expr, " as ", names[i]));
  }
  Json inner{{"table_name", q.table}, {"column_names", columns}, {"options", Json::object()}};
  Json& options = inner["options"];
  if (!q.where.empty()) options["expression"] = q.where;
  if (!q.order.empty()) {
    auto table = ctx.catalog.Find(q.table);
    if (!table.ok()) return absl::NotFoundError(absl::StrCat("statement: ", table.status().message()));
    options["order_by"] = OrderBy(q.order, **table);
  }
  const std::string flag = persist ? "true" : "false";
  if (q.aggregate || q.distinct) {
    if (!q.having.empty()) options["having"] = q.having;
    const bool page = q.limit >= 0;
    const std::string groups = page ? temps.NewName() : name;
    options["result_table"] = groups;
    options["result_table_persist"] = page ? "false" : flag;
    inner["limit"] = 0;
    auto answer = RunEndpoint(ctx, "/aggregate/groupby", std::move(inner));
    if (!answer.ok()) return answer.status();
    if (!page) return absl::OkStatus();
    inner = Json{{"table_name", groups},
                 {"projection_name", name},
                 {"column_names", Json::array({"*"})},
                 {"options", {{"persist", flag}, {"limit", absl::StrCat(q.limit)}}}};
    return RunEndpoint(ctx, "/create/projection", std::move(inner)).status();
  }
  inner["projection_name"] = name;
  options["persist"] = flag;
  if (q.limit >= 0) options["limit"] = absl::StrCat(q.limit);
  return RunEndpoint(ctx, "/create/projection", std::move(inner)).status();
}

// INSERT ... SELECT: the query's rows, kept, converted to the table's
// columns (those not given null) and inserted as /insert/records would.
absl::StatusOr<int64_t> InsertSelect(JobContext& ctx, Temporaries& temps, const Json& request,
                                     const sql::Change& change) {
  auto table = ctx.catalog.Find(change.into);
  if (!table.ok()) return absl::NotFoundError(absl::StrCat("statement: ", table.status().message()));
  auto kept = temps.Keep(change.select);
  if (!kept.ok()) return kept.status();
  auto rows = ctx.catalog.Find(*kept);
  if (!rows.ok()) return rows.status();
  const TableType& type = (*table)->type();
  const TableType& given = (*rows)->type();
  std::vector<std::string> columns = change.columns;
  if (columns.empty()) {
    for (size_t i = 0; i < std::min(type.size(), given.size()); ++i) columns.push_back(type.column(i).name);
  }
  if (columns.size() != given.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("statement: INSERT gives ", columns.size(), " columns and its SELECT ", given.size()));
  }
  std::vector<kernels::Column> values;
  for (const ColumnDef& def : type.columns()) {
    const auto it = std::find(columns.begin(), columns.end(), def.name);
    if (it == columns.end() && !def.nullable) {
      return absl::InvalidArgumentError(absl::StrCat("statement: column '", def.name, "' of table '", change.into,
                                                     "' may not be null and is not given"));
    }
    const std::string text = it == columns.end() ? "null" : given.column(it - columns.begin()).name;
    auto column = EvaluateAs(ctx, **rows, text, def, "statement");
    if (!column.ok()) return column.status();
    values.push_back(*std::move(column));
  }
  for (const std::string& c : columns) {
    if (type.Find(c) < 0) {
      return absl::InvalidArgumentError(absl::StrCat("statement: table '", change.into, "' has no column '", c, "'"));
    }
  }
  std::vector<kernels::ColumnView> views;
  for (const kernels::Column& c : values) views.push_back(c.view());
  auto update = BoolOption(request, "update_on_existing_pk", false);
  auto ignore = BoolOption(request, "ignore_existing_pk", false);
  if (!update.ok()) return update.status();
  if (!ignore.ok()) return ignore.status();
  const ExistingKey policy = *update ? ExistingKey::kUpdate : *ignore ? ExistingKey::kIgnore : ExistingKey::kError;
  int64_t inserted = 0, updated = 0;
  if (absl::Status s = InsertWithKey(ctx, **table, views, policy, &inserted, &updated); !s.ok()) {
    return InnerError(s);
  }
  return inserted + updated;
}

// Runs `change` (sql::ParseChange) as its endpoint; the rows it affected.
absl::StatusOr<int64_t> RunChange(JobContext& ctx, Temporaries& temps, const Json& request, sql::Change change) {
  if (change.insert) return InsertSelect(ctx, temps, request, change);
  if (change.endpoint.empty()) {
    // CREATE TABLE ... AS SELECT
    if (absl::Status s = Store(ctx, temps, std::move(change.select), change.into, true); !s.ok()) return s;
    auto made = ctx.catalog.Find(change.into);
    return made.ok() ? (*made)->rows() : 0;
  }
  if (change.endpoint == "/insert/records") {
    // Values without a column list follow the table's columns.
    auto table = ctx.catalog.Find(change.request["table_name"].get<std::string>());
    if (!table.ok()) return absl::NotFoundError(absl::StrCat("statement: ", table.status().message()));
    const TableType& type = (*table)->type();
    for (Json& text : change.request["list_str"]) {
      Json record = Json::parse(text.get<std::string>());
      Json named = Json::object();
      for (auto& [key, value] : record.items()) {
        if (key.empty() || key[0] != '#') {
          named[key] = value;
          continue;
        }
        const size_t i = std::stoul(key.substr(1));
        if (i >= type.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("statement: ", i + 1, " values for table '", (*table)->name(), "' of ", type.size(), " columns"));
        }
        named[type.column(i).name] = value;
      }
      text = engine::DumpJson(named);
    }
    for (const char* key : {"update_on_existing_pk", "ignore_existing_pk"}) {
      if (const std::string v = Option(request, key); !v.empty()) change.request["options"][key] = v;
    }
  }
  auto answer = RunEndpoint(ctx, change.endpoint, std::move(change.request));
  if (!answer.ok()) return answer.status();
  int64_t affected = 0;
  for (const char* count : {"count_deleted", "count_updated", "count_inserted"}) {
    if (answer->contains(count)) affected += (*answer)[count].get<int64_t>();
  }
  return affected;
}

// EXPLAIN: the steps a SELECT runs as, each nested query a step of its own
// (described, not run).
class Explainer : public sql::Nested {
 public:
  explicit Explainer(JobContext& ctx) : ctx_(ctx) {}

  absl::StatusOr<std::string> Keep(const sql::SelectQuery& q) override {
    const std::string name = absl::StrCat("step_", steps_.size() + 1);
    std::vector<std::string> lines = Describe(q);
    lines.insert(lines.begin(), absl::StrCat(name, ": kept as a view"));
    steps_.push_back(std::move(lines));
    return name;
  }
  absl::StatusOr<std::string> Combine(const std::vector<std::string>& tables, const std::string& mode) override {
    const std::string name = absl::StrCat("step_", steps_.size() + 1);
    steps_.push_back({absl::StrCat(name, ": /create/union mode ", mode, " of ", absl::StrJoin(tables, ", "))});
    return name;
  }
  absl::StatusOr<std::vector<std::string>> Values(const std::string& name, int64_t) override {
    return std::vector<std::string>{absl::StrCat("'values of ", name, "'")};
  }
  absl::StatusOr<std::vector<std::string>> Columns(const std::string& name) override {
    auto table = ctx_.catalog.Find(name);
    if (!table.ok()) return std::vector<std::string>();
    std::vector<std::string> out;
    for (const ColumnDef& d : (*table)->type().columns()) out.push_back(d.name);
    return out;
  }

  // The plan's lines: the steps, then the query.
  std::vector<std::string> Plan(const sql::SelectQuery& q) const {
    std::vector<std::string> out;
    for (const auto& step : steps_) out.insert(out.end(), step.begin(), step.end());
    out.push_back("answer:");
    for (const std::string& line : Describe(q)) out.push_back(line);
    return out;
  }

 private:
  // One query: what it reads (joins, with the filters that go to each
  // table before it is joined), computes and answers with.
  std::vector<std::string> Describe(const sql::SelectQuery& q) const {
    std::vector<std::string> out;
    std::vector<std::string> after;  // conditions left for the joined rows
    if (q.from.empty()) {
      out.push_back(absl::StrCat("  read ", q.table, q.where.empty() ? "" : absl::StrCat(" where ", q.where)));
    } else {
      std::map<std::string, std::vector<std::string>> own;
      for (const std::string& c : Conjuncts(q.where)) {
        std::set<std::string> aliases;
        for (const sql::FromTable& t : q.from) {
          if (absl::StrContains(c, t.alias + ".")) aliases.insert(t.alias);
        }
        if (aliases.size() == 1) {
          own[*aliases.begin()].push_back(c);
        } else {
          after.push_back(c);
        }
      }
      for (const sql::FromTable& t : q.from) {
        const std::string filter =
            own.count(t.alias) > 0 ? absl::StrCat(" where ", absl::StrJoin(own[t.alias], " and ")) : "";
        const std::string join = t.join.empty() ? (&t == &q.from[0] ? "read" : "join") : t.join;
        out.push_back(absl::StrCat("  ", join, " ", t.name, " as ", t.alias, filter,
                                   t.on.empty() ? "" : absl::StrCat(" on ", t.on)));
      }
      out.push_back(
          "  (/create/jointable: hash joins on the equalities of ON and WHERE, in this order; tables joined by commas "
          "wait for one that has an equality with those before them)");
      if (!after.empty()) out.push_back(absl::StrCat("  filter the joined rows: ", absl::StrJoin(after, " and ")));
    }
    // Windows read the rows, or beside GROUP BY the groups HAVING keeps.
    std::vector<std::string> windows;
    for (const sql::WindowCall& w : q.windows) {
      std::vector<std::string> over;
      if (!w.partition.empty()) over.push_back(absl::StrCat("partition by ", absl::StrJoin(w.partition, ", ")));
      if (!w.order.empty()) {
        over.push_back(
            absl::StrCat("order by ", absl::StrJoin(w.order, ", ", [](std::string* o, const sql::OrderItem& i) {
                           absl::StrAppend(o, i.expr, i.descending ? " desc" : " asc");
                         })));
      }
      windows.push_back(absl::StrCat("  window ", w.name, " = ", w.function, "(", w.arg, ") over (",
                                     absl::StrJoin(over, " "), ")", q.aggregate ? " over the groups" : "",
                                     " (kernels::Window)"));
    }
    if (!q.aggregate) out.insert(out.end(), windows.begin(), windows.end());
    std::vector<std::string> columns;
    for (const sql::OutputColumn& c : q.columns) columns.push_back(Named(c));
    if (q.star) columns.push_back("*");
    if (q.aggregate || q.distinct) {
      out.push_back(absl::StrCat("  /aggregate/groupby", q.group_by.empty() ? "" : " by ",
                                 absl::StrJoin(q.group_by, ", "), ": ", absl::StrJoin(columns, ", ")));
      if (!q.having.empty()) out.push_back(absl::StrCat("  having ", q.having));
      out.insert(out.end(), windows.begin(), windows.end());
    } else {
      out.push_back(absl::StrCat("  /get/records/bycolumn: ", absl::StrJoin(columns, ", ")));
    }
    if (!q.order.empty()) {
      out.push_back(absl::StrCat(
          "  order by ", absl::StrJoin(q.order, ", ", [](std::string* o, const sql::OrderItem& i) {
            absl::StrAppend(o, i.expr, i.descending ? " desc" : " asc", i.nulls_first ? " nulls first" : " nulls last");
          })));
    }
    if (q.limit >= 0 || q.offset > 0) out.push_back(absl::StrCat("  limit ", q.limit, " offset ", q.offset));
    return out;
  }

  JobContext& ctx_;
  std::vector<std::vector<std::string>> steps_;
};

// A result of one string column, a row per line.
Json Lines(JobContext& ctx, const Json& request, const std::string& header, const std::vector<std::string>& lines) {
  HostColumn host(kernels::PhysType::kVarChars, 0, false);
  for (const std::string& line : lines) host.AppendString(line);
  std::vector<ResultColumn> columns;
  columns.push_back(
      ResultColumn{header, ValueDef(kernels::ValueKind::kString, header, false), ToDevice(host, ctx.exec)});
  const int64_t n = static_cast<int64_t>(lines.size());
  const Json encoded = ResultTable(std::move(columns)).Encode(0, n, StringField(request, "encoding"), ctx.exec);
  return Json{{"count_affected", 0},
              {"response_schema_str", encoded["response_schema_str"]},
              {"binary_encoded_response", encoded.value("binary_encoded_response", Json(""))},
              {"json_encoded_response", encoded.value("json_encoded_response", Json(""))},
              {"total_number_of_records", n},
              {"has_more_records", false},
              {"paging_table", ""},
              {"info", Json::object()}};
}

// Edits (insertions, deletions, substitutions, swaps of neighbours) between
// `a` and `b`, case ignored.
size_t Distance(absl::string_view a, absl::string_view b) {
  const auto same = [&](size_t i, size_t j) {
    return absl::ascii_tolower(static_cast<unsigned char>(a[i])) ==
           absl::ascii_tolower(static_cast<unsigned char>(b[j]));
  };
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (same(i - 1, j - 1) ? 0 : 1)});
      if (i > 1 && j > 1 && same(i - 1, j - 2) && same(i - 2, j - 1)) d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.size()][b.size()];
}

// The name in `candidates` closest to `name` (at most a third of its
// letters off, and at least one); "" when none is.
std::string Closest(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_distance = std::max<size_t>(1, name.size() / 3) + 1;
  for (const std::string& c : candidates) {
    const size_t d = Distance(name, c);
    if (d < best_distance && !absl::EqualsIgnoreCase(c, name)) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

// `s` with a close name suggested for an unknown table (one of the
// catalog's) or column (one of the tables the statement reads).
absl::Status WithSuggestion(JobContext& ctx, const std::string& statement, const std::string& schema,
                            const absl::Status& s) {
  const std::string message(s.message());
  const auto quoted = [&](const std::string& before) -> std::string {
    const size_t at = message.find(before);
    if (at == std::string::npos) return "";
    const size_t begin = at + before.size(), end = message.find('\'', begin);
    return end == std::string::npos ? "" : message.substr(begin, end - begin);
  };
  std::vector<std::string> candidates;
  std::string name = quoted("table '");
  if (!name.empty() && absl::StrContains(message, "' does not exist")) {
    const bool qualified = name.find('.') != std::string::npos;
    for (const auto& t : ctx.catalog.List()) {
      if (absl::StartsWith(t->name(), "sql_temporary_")) continue;
      const std::string& full = t->name();
      candidates.push_back(qualified ? full : full.substr(full.rfind('.') + 1));
    }
  } else if (name = quoted("unknown column '"); !name.empty()) {
    auto parsed = sql::Statement::Parse(statement);
    if (!parsed.ok()) return s;
    auto tables = sql::StatementTables(*parsed, schema);
    for (const auto& [table, write] : tables.ok() ? *tables : std::vector<std::pair<std::string, bool>>()) {
      auto found = ctx.catalog.Find(table);
      if (!found.ok()) continue;
      for (const ColumnDef& d : (*found)->type().columns()) candidates.push_back(d.name);
    }
    name = name.substr(name.rfind('.') + 1);
  } else {
    return s;
  }
  const std::string close = Closest(name, candidates);
  if (close.empty()) return s;
  return absl::Status(s.code(), absl::StrCat(message, "; did you mean '", close, "'?"));
}

absl::StatusOr<Json> ExecuteStatement(JobContext& ctx, const Json& request);

absl::StatusOr<Json> ExecuteSql(JobContext& ctx, const Json& request) {
  absl::StatusOr<Json> answer = ExecuteStatement(ctx, request);
  if (answer.ok()) return answer;
  return WithSuggestion(ctx, StringField(request, "statement"), Option(request, "current_schema"), answer.status());
}

absl::StatusOr<Json> ExecuteStatement(JobContext& ctx, const Json& request) {
  auto statement = sql::Statement::Parse(StringField(request, "statement"));
  if (!statement.ok()) return statement.status();
  // options.query_parameters: the values of $1, $2, ... (JSON).
  Json params = Json::array();
  if (const std::string p = Option(request, "query_parameters"); !p.empty()) {
    absl::StatusOr<Json> parsed = ParseJson(p);
    if (!parsed.ok())
      return absl::InvalidArgumentError(absl::StrCat("options.query_parameters: ", parsed.status().message()));
    params = std::move(*parsed);
    if (params.is_null()) params = Json::array();  // what clients send for none
    if (!params.is_array())
      return absl::InvalidArgumentError("options.query_parameters: expected a JSON array of values");
  }
  Explainer explainer(ctx);
  const std::string schema = Option(request, "current_schema");
  auto explain = sql::ParseExplain(*statement, params, &explainer, schema);
  if (!explain.ok()) return explain.status();
  if (explain->has_value()) return Lines(ctx, request, "plan", explainer.Plan(**explain));
  Temporaries temps(ctx);
  if (!statement->is_select()) {
    auto changes = sql::ParseChange(*statement, params, &temps, schema);
    if (!changes.ok()) return changes.status();
    int64_t affected = 0;
    for (sql::Change& change : *changes) {
      auto n = RunChange(ctx, temps, request, std::move(change));
      if (!n.ok()) return n.status();
      affected += *n;
    }
    // No rows, in a dynamic schema clients can read (one long column).
    std::vector<ResultColumn> none;
    none.push_back(ResultColumn{"count_affected", ValueDef(kernels::ValueKind::kInt, "count_affected", false),
                                kernels::Column(kernels::PhysType::kInt64, 0, false)});
    const Json encoded = ResultTable(std::move(none)).Encode(0, 0, StringField(request, "encoding"), ctx.exec);
    return Json{{"count_affected", affected},
                {"response_schema_str", encoded["response_schema_str"]},
                {"binary_encoded_response", encoded.value("binary_encoded_response", Json(""))},
                {"json_encoded_response", encoded.value("json_encoded_response", Json(""))},
                {"total_number_of_records", 0},
                {"has_more_records", false},
                {"paging_table", ""},
                {"info", Json::object()}};
  }
  // options.paging_table: a table of the statement's rows that exists
  // answers the page without the statement being run again.
  const std::string paging = Option(request, "paging_table");
  if (!paging.empty() && ctx.catalog.Has(paging)) {
    sql::SelectQuery page;
    page.table = paging;
    page.star = true;
    absl::StatusOr<Json> answer = Answer(ctx, request, &page);
    if (answer.ok()) (*answer)["paging_table"] = paging;
    return answer;
  }
  auto q = sql::ParseSelect(*statement, params, &temps, schema);
  if (!q.ok()) return q.status();
  if (q->table.empty() && q->from.empty()) {
    auto one = temps.OneRow();
    if (!one.ok()) return one.status();
    q->table = *one;
  }
  if (absl::Status s = Regroup(temps, &*q); !s.ok()) return s;
  if (absl::Status s = ComputeWindows(ctx, temps, &*q); !s.ok()) return s;
  if (!q->from.empty()) {
    if (absl::Status s = JoinFrom(ctx, temps, &*q); !s.ok()) return s;
  }
  absl::StatusOr<Json> answer = Answer(ctx, request, &*q);
  // More rows than this page, and options.paging_table (or
  // paging_table_ttl) asks for it: they are kept as the paging table (its
  // name as given, else one of its own), a view, until it is dropped.
  const bool keep = !paging.empty() || !Option(request, "paging_table_ttl").empty();
  if (keep && answer.ok() && (*answer)["has_more_records"].get<bool>() && q->offset == 0) {
    static std::atomic<int64_t> next{0};
    const std::string name = paging.empty() ? absl::StrCat("sql_paging_", next.fetch_add(1)) : paging;
    if (absl::Status s = Store(ctx, temps, *q, name, false); !s.ok()) return s;
    (*answer)["paging_table"] = name;
  }
  return answer;
}

absl::StatusOr<Json> Answer(JobContext& ctx, const Json& request, sql::SelectQuery* q) {
  auto table = ctx.catalog.Find(q->table);
  if (!table.ok()) return absl::NotFoundError(absl::StrCat("statement: ", table.status().message()));
  if (absl::Status s = CheckEncoding(request); !s.ok()) return s;

  Json inner{{"table_name", q->table}, {"encoding", request["encoding"]}, {"options", Json::object()}};
  Json& options = inner["options"];
  if (!q->where.empty()) options["expression"] = q->where;
  if (!q->order.empty()) options["order_by"] = OrderBy(q->order, **table);
  Json columns = Json::array();
  std::string endpoint;
  if (q->aggregate || q->distinct) {
    endpoint = "/aggregate/groupby";
    // The grouping columns are the selected ones that are not aggregates
    // (Regroup made them the GROUP BY's).
    for (const sql::OutputColumn& c : q->columns) columns.push_back(Named(c));
    if (!q->having.empty()) options["having"] = q->having;
  } else {
    endpoint = "/get/records/bycolumn";
    if (q->star) {
      for (const ColumnDef& d : (*table)->type().columns()) columns.push_back(d.name);
    } else {
      for (const sql::OutputColumn& c : q->columns) columns.push_back(Named(c));
    }
  }
  inner["column_names"] = columns;
  // The page: the request's offset and limit within the statement's rows.
  const int64_t offset = request["offset"].get<int64_t>();
  int64_t limit = request["limit"].get<int64_t>();
  if (offset < 0) return absl::InvalidArgumentError("offset: must not be negative");
  if (limit == -9999 || limit < 0) limit = ctx.limits.max_get_records_size;
  if (q->limit >= 0) limit = std::max<int64_t>(0, std::min(limit, q->limit - offset));
  inner["offset"] = q->offset + offset;
  inner["limit"] = limit;
  auto answer = RunEndpoint(ctx, endpoint, std::move(inner));
  if (!answer.ok()) return answer.status();
  // Rows the statement gives (its LIMIT and OFFSET applied), and this page's.
  int64_t total = std::max<int64_t>(0, (*answer)["total_number_of_records"].get<int64_t>() - q->offset);
  if (q->limit >= 0) total = std::min(total, q->limit);
  const int64_t returned = std::max<int64_t>(0, std::min(limit, total - offset));
  return Json{{"count_affected", returned},
              {"response_schema_str", (*answer)["response_schema_str"]},
              {"binary_encoded_response", (*answer)["binary_encoded_response"]},
              {"json_encoded_response", (*answer)["json_encoded_response"]},
              {"total_number_of_records", total},
              {"has_more_records", offset + returned < total},
              {"paging_table", ""},
              {"info", Json::object()}};
}

}  // namespace

void AddSqlHandlers(HandlerMap* handlers) {
  // A SELECT may be cancelled; a statement that changes a table may not.
  Handler sql{false, SqlAccess, ExecuteSql};
  sql.cancellable_request = [](const Json& request) {
    auto statement = sql::Statement::Parse(StringField(request, "statement"));
    return statement.ok() && statement->is_select();
  };
  (*handlers)["/execute/sql"] = sql;
}

}  // namespace engine
