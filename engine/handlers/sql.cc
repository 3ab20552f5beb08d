// /execute/sql: a SELECT of one table or view (engine/sql/select.h) run as
// the read endpoint that answers it: /aggregate/groupby for aggregates,
// GROUP BY and DISTINCT, else /get/records/bycolumn. The statement's LIMIT
// and OFFSET bound the rows; the request's offset and limit page through
// them (as Kinetica's clients do). Only what the first part of the SQL work
// covers; the rest is refused naming the feature.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/api/schema.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/sql/select.h"
#include "engine/table/names.h"

namespace engine {
namespace {

absl::StatusOr<std::vector<Access>> SqlAccess(const Json& request) {
  auto tables = sql::StatementTables(StringField(request, "statement"));
  if (!tables.ok()) return tables.status();
  std::vector<Access> access;
  for (const std::string& t : *tables) {
    if (absl::Status s = ValidateTableName(t, "statement"); !s.ok()) return s;
    access.push_back(Access{t, false});
  }
  return access;
}

// "expr as name", or the expression when it names itself.
std::string Named(const sql::OutputColumn& c) {
  return c.name == c.expr ? c.expr : absl::StrCat(c.expr, " as ", c.name);
}

bool IsAggregate(const std::string& expr) {
  for (const char* f : {"count(", "count_distinct(", "sum(", "min(", "max(", "avg(", "mean(", "stddev", "var(",
                        "var_pop(", "var_samp("}) {
    if (expr.rfind(f, 0) == 0) return true;
  }
  return false;
}

absl::StatusOr<Json> ExecuteSql(JobContext& ctx, const Json& request) {
  auto q = sql::ParseSelect(StringField(request, "statement"));
  if (!q.ok()) return q.status();
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
      if (!IsAggregate(c.expr) && q->aggregate &&
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
    return absl::Status(answer.status().code(), absl::StrCat("statement: ", answer.status().message()));
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

void AddSqlHandlers(HandlerMap* handlers) { (*handlers)["/execute/sql"] = Handler{true, SqlAccess, ExecuteSql}; }

}  // namespace engine
