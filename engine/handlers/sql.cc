// /execute/sql: a SELECT (engine/sql/select.h) run as the read endpoint
// that answers it: /aggregate/groupby for aggregates, GROUP BY and DISTINCT,
// else /get/records/bycolumn; joined tables first become a view of the
// columns read (/create/jointable), dropped when the statement is answered.
// CREATE TABLE [AS SELECT], DROP TABLE, INSERT ... VALUES, UPDATE and DELETE
// run as their endpoints (sql::ParseChange); only a SELECT may be cancelled.
// The statement's LIMIT and OFFSET bound the rows; the request's offset and
// limit page through them (as Kinetica's clients do). Only what the first
// part of the SQL work covers; the rest is refused naming the feature.

#include <algorithm>
#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/api/schema.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/sql/select.h"
#include "engine/table/names.h"
#include "engine/table/result_table.h"

namespace engine {
namespace {

// An error of the endpoint a statement ran as, said of the statement: the
// endpoint's field ("column_names[0]: ", "options.expression: ") and the
// position within the expression written for it (" at position 7") left out.
absl::Status InnerError(const absl::Status& s) {
  absl::string_view message = s.message();
  for (absl::string_view field : {"column_names[", "options.", "table_names[", "expressions[", "new_values_maps[",
                                  "list[", "list_str[", "table_name: ", "join_table_name: "}) {
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

// The view a statement with joins is answered from while it runs (one name
// per statement: the scheduler runs two such statements one after the other).
std::string JoinViewName(const std::string& statement) {
  return absl::StrCat("sql_join_", absl::Hex(std::hash<std::string>()(statement), absl::kZeroPad16));
}

absl::StatusOr<std::vector<Access>> SqlAccess(const Json& request) {
  const std::string& statement = StringField(request, "statement");
  auto tables = sql::StatementTables(statement);
  if (!tables.ok()) return tables.status();
  std::vector<Access> access;
  for (const auto& [t, write] : *tables) {
    if (absl::Status s = ValidateTableName(t, "statement"); !s.ok()) return s;
    access.push_back(Access{t, write});
  }
  const auto reads = std::count_if(tables->begin(), tables->end(), [](const auto& t) { return !t.second; });
  if (reads > 1) access.push_back(Access{JoinViewName(statement), true});
  return access;
}

// The joined tables of `q` as a view named `name` holding the columns the
// statement reads (named alias.column) where its WHERE holds
// (/create/jointable); `q` then reads that view.
absl::Status JoinFrom(JobContext& ctx, const std::string& name, sql::SelectQuery* q) {
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
      for (const ColumnDef& d : tables[i]->type().columns()) star.push_back(absl::StrCat(q->from[i].alias, ".", d.name));
    }
  }
  read = star;
  read.insert(read.end(), q->columns_read.begin(), q->columns_read.end());
  for (const std::string& column : read) {
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
    need(dot == std::string::npos ? absl::StrCat(owners[0], ".", column) : column);
  }
  Json table_names = Json::array(), column_names = Json::array();
  for (const sql::FromTable& t : q->from) {
    if (t.join.empty()) {
      table_names.push_back(absl::StrCat(t.name, " as ", t.alias));
    } else {
      table_names.push_back(absl::StrCat(t.join, " ", t.name, " as ", t.alias, " on ", t.on));
    }
  }
  for (const std::string& c : needed) column_names.push_back(absl::StrCat(c, " as ", c));
  Json join{{"join_table_name", name},
            {"table_names", table_names},
            {"column_names", column_names},
            {"expressions", q->where.empty() ? Json::array() : Json::array({q->where})}};
  const Endpoint* target = FindEndpoint("/create/jointable");
  auto normalized = Normalize(*target->request, std::move(join));
  if (!normalized.ok()) return absl::InternalError(absl::StrCat("statement: ", normalized.status().message()));
  auto answer = target->handler->run(ctx, *normalized);
  if (!answer.ok()) return InnerError(answer.status());
  q->table = name;
  q->where.clear();
  if (q->star) {
    q->star = false;
    for (const std::string& c : star) q->columns.push_back(sql::OutputColumn{c, c.substr(c.find('.') + 1)});
  }
  return absl::OkStatus();
}

// "expr as name", or the expression when it names itself.
std::string Named(const sql::OutputColumn& c) {
  return c.name == c.expr ? c.expr : absl::StrCat(c.expr, " as ", c.name);
}

absl::StatusOr<Json> Answer(JobContext& ctx, const Json& request, sql::SelectQuery* q);

// CREATE TABLE ... AS SELECT: the query's rows as a new table, through a
// persisted /create/projection, or /aggregate/groupby's result_table for
// groups; the rows it holds.
absl::StatusOr<int64_t> CreateTableAs(JobContext& ctx, const std::string& statement, sql::Change change) {
  sql::SelectQuery& q = change.select;
  if (q.offset > 0) return absl::UnimplementedError("statement: OFFSET in CREATE TABLE AS is not supported yet");
  const std::string view = JoinViewName(statement);
  if (!q.from.empty()) {
    if (absl::Status s = JoinFrom(ctx, view, &q); !s.ok()) return s;
  }
  Json columns = Json::array();
  if (q.star) columns.push_back("*");
  for (const sql::OutputColumn& c : q.columns) columns.push_back(Named(c));
  Json inner{{"table_name", q.table}, {"column_names", columns}, {"options", Json::object()}};
  Json& options = inner["options"];
  if (!q.where.empty()) options["expression"] = q.where;
  if (!q.order_by.empty()) options["order_by"] = q.order_by;
  std::string endpoint = "/create/projection";
  if (q.aggregate || q.distinct) {
    if (q.limit >= 0) return absl::UnimplementedError("statement: LIMIT on groups in CREATE TABLE AS is not supported yet");
    endpoint = "/aggregate/groupby";
    if (!q.having.empty()) options["having"] = q.having;
    options["result_table"] = change.into;
    inner["limit"] = 0;
  } else {
    inner["projection_name"] = change.into;
    options["persist"] = "true";
    if (q.limit >= 0) options["limit"] = absl::StrCat(q.limit);
  }
  const Endpoint* target = FindEndpoint(endpoint);
  absl::StatusOr<Json> answer = Normalize(*target->request, std::move(inner));
  if (answer.ok()) answer = target->handler->run(ctx, *answer);
  if (!q.from.empty()) ctx.catalog.Remove(view).IgnoreError();  // a view: nothing recorded
  if (!answer.ok()) return InnerError(answer.status());
  auto made = ctx.catalog.Find(change.into);
  return made.ok() ? (*made)->rows() : 0;
}

// Runs `change` (sql::ParseChange) as its endpoint; the rows it affected.
absl::StatusOr<int64_t> RunChange(JobContext& ctx, const Json& request, sql::Change change) {
  if (change.endpoint.empty()) return CreateTableAs(ctx, StringField(request, "statement"), std::move(change));
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
      text = named.dump();
    }
    for (const char* key : {"update_on_existing_pk", "ignore_existing_pk"}) {
      if (const std::string v = Option(request, key); !v.empty()) change.request["options"][key] = v;
    }
  }
  const Endpoint* target = FindEndpoint(change.endpoint);
  auto normalized = Normalize(*target->request, std::move(change.request));
  if (!normalized.ok()) return absl::InternalError(absl::StrCat("statement: ", normalized.status().message()));
  auto answer = target->handler->run(ctx, *normalized);
  if (!answer.ok()) return InnerError(answer.status());
  int64_t affected = 0;
  for (const char* count : {"count_deleted", "count_updated", "count_inserted"}) {
    if (answer->contains(count)) affected += (*answer)[count].get<int64_t>();
  }
  return affected;
}

absl::StatusOr<Json> ExecuteSql(JobContext& ctx, const Json& request) {
  const std::string& statement = StringField(request, "statement");
  auto select = sql::IsSelect(statement);
  if (!select.ok()) return select.status();
  // options.query_parameters: the values of $1, $2, ... (JSON).
  Json params = Json::array();
  if (const std::string p = Option(request, "query_parameters"); !p.empty()) {
    params = Json::parse(p, nullptr, /*allow_exceptions=*/false);
    if (params.is_null()) params = Json::array();  // what clients send for none
    if (params.is_discarded() || !params.is_array()) {
      return absl::InvalidArgumentError("options.query_parameters: expected a JSON array of values");
    }
  }
  if (!*select) {
    auto changes = sql::ParseChange(statement, params);
    if (!changes.ok()) return changes.status();
    int64_t affected = 0;
    for (sql::Change& change : *changes) {
      auto n = RunChange(ctx, request, std::move(change));
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
  auto q = sql::ParseSelect(statement, params);
  if (!q.ok()) return q.status();
  if (q->from.empty()) return Answer(ctx, request, &*q);
  // Joins: answered from a view of the joined rows, dropped after.
  const std::string view = JoinViewName(statement);
  absl::Status joined = JoinFrom(ctx, view, &*q);
  absl::StatusOr<Json> answer = joined.ok() ? Answer(ctx, request, &*q) : absl::StatusOr<Json>(joined);
  ctx.catalog.Remove(view).IgnoreError();  // a view: nothing recorded
  return answer;
}

absl::StatusOr<Json> Answer(JobContext& ctx, const Json& request, sql::SelectQuery* q) {
  auto table = ctx.catalog.Find(q->table);
  if (!table.ok()) return absl::NotFoundError(absl::StrCat("statement: ", table.status().message()));
  if (absl::Status s = CheckEncoding(request); !s.ok()) return s;

  Json inner{{"table_name", q->table}, {"encoding", request["encoding"]}, {"options", Json::object()}};
  Json& options = inner["options"];
  if (!q->where.empty()) options["expression"] = q->where;
  if (!q->order_by.empty()) options["order_by"] = q->order_by;
  Json columns = Json::array();
  std::string endpoint;
  if (q->aggregate || q->distinct) {
    endpoint = "/aggregate/groupby";
    // The grouping columns are the selected ones that are not aggregates;
    // SQL asks that they be the GROUP BY's.
    for (const sql::OutputColumn& c : q->columns) {
      if (!c.aggregate && q->aggregate &&
          std::find(q->group_by.begin(), q->group_by.end(), c.expr) == q->group_by.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("statement: '", c.expr, "' must appear in GROUP BY or be used in an aggregate"));
      }
      columns.push_back(Named(c));
    }
    for (const std::string& g : q->group_by) {
      const bool selected =
          std::any_of(q->columns.begin(), q->columns.end(), [&](const sql::OutputColumn& c) { return c.expr == g; });
      if (!selected)
        return absl::UnimplementedError("statement: GROUP BY of a column not selected is not supported yet");
    }
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
  const Endpoint* target = FindEndpoint(endpoint);
  auto normalized = Normalize(*target->request, std::move(inner));
  if (!normalized.ok()) return absl::InternalError(absl::StrCat("statement: ", normalized.status().message()));
  auto answer = target->handler->run(ctx, *normalized);
  if (!answer.ok()) {
    // The inner request's fields are the statement's parts.
    return InnerError(answer.status());
  }
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
    return sql::IsSelect(StringField(request, "statement")).value_or(false);
  };
  (*handlers)["/execute/sql"] = sql;
}

}  // namespace engine
