// /filter, /filter/byrange, /filter/bylist.

#include <cmath>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/handlers/rows.h"
#include "kernels/gather.h"

namespace engine {
namespace {


absl::StatusOr<std::vector<Access>> FilterAccess(const Json& request) {
  auto access = ReadTableAccess(request);
  if (!access.ok()) return access;
  const std::string& view = StringField(request, "view_name");
  if (!view.empty()) {
    if (absl::Status s = ValidateTableName(view, "view_name"); !s.ok()) return s;
    access->push_back(Access{view, true});
  }
  return access;
}

// The rows of the request's table where `expression` holds: their count, and
// a view of them named by view_name when it is not empty. `field` names the
// part of the request the expression came from, for errors.
absl::StatusOr<Json> FilterRows(JobContext& ctx, const Json& request, const std::string& expression,
                                absl::string_view field) {
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  const std::string& view_name = StringField(request, "view_name");
  if (!view_name.empty() && ctx.catalog.Has(view_name)) {
    return absl::AlreadyExistsError(absl::StrCat("view_name: table '", view_name, "' already exists"));
  }
  if (view_name.empty()) {
    auto count = CountRows(ctx, **table, expression, field);
    if (!count.ok()) return count.status();
    return Json{{"count", *count}, {"info", Json{{"qualified_view_name", ""}}}};
  }
  auto rows = SelectRows(ctx, **table, expression, field);
  if (!rows.ok()) return rows.status();
  const TableType& type = (*table)->type();
  const std::vector<kernels::ColumnView> views = (*table)->views();
  std::vector<kernels::Column> columns;
  for (size_t c = 0; c < views.size(); ++c) {
    columns.push_back(kernels::Gather(views[c], rows->indices.as<int64_t>(), rows->count, type.column(c).nullable,
                                      ctx.exec));
  }
  auto view = std::make_shared<Table>(view_name, type, &ctx.device, Table::Kind::kView);
  view->Replace(std::move(columns));
  if (absl::Status s = ctx.catalog.Add(view); !s.ok()) {
    return absl::AlreadyExistsError(absl::StrCat("view_name: ", s.message()));
  }
  return Json{{"count", rows->count}, {"info", Json{{"qualified_view_name", view_name}}}};
}

absl::StatusOr<Json> Filter(JobContext& ctx, const Json& request) {
  const std::string& expression = StringField(request, "expression");
  if (absl::StripAsciiWhitespace(expression).empty()) {
    return absl::InvalidArgumentError("expression: is empty; give a filter condition");
  }
  return FilterRows(ctx, request, expression, "expression");
}

absl::StatusOr<Json> FilterByRange(JobContext& ctx, const Json& request) {
  const std::string& column = StringField(request, "column_name");
  const double lower = request["lower_bound"].get<double>();
  const double upper = request["upper_bound"].get<double>();
  if (!std::isfinite(lower) || !std::isfinite(upper)) {
    return absl::InvalidArgumentError("lower_bound, upper_bound: must be finite numbers");
  }
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  const int c = (*table)->type().Find(column);
  if (c < 0) return absl::InvalidArgumentError(absl::StrCat("column_name: no column named '", column, "'"));
  if ((*table)->type().column(c).is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("column_name: '", column, "' is not numeric"));
  }
  return FilterRows(ctx, request,
                    absl::StrCat(column, " between ", NumberLiteral(lower), " and ", NumberLiteral(upper)), "column_name");
}

absl::StatusOr<Json> FilterByList(JobContext& ctx, const Json& request) {
  const std::string mode = Option(request, "filter_mode", "in_list");
  if (mode != "in_list" && mode != "not_in_list") {
    return absl::InvalidArgumentError(
        absl::StrCat("options.filter_mode: expected 'in_list' or 'not_in_list', got '", mode, "'"));
  }
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  const Json& map = request["column_values_map"];
  if (map.empty()) return absl::InvalidArgumentError("column_values_map: give at least one column and its values");
  std::vector<std::string> terms;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const int c = (*table)->type().Find(it.key());
    if (c < 0) return absl::InvalidArgumentError(absl::StrCat("column_values_map: no column named '", it.key(), "'"));
    const ColumnDef& def = (*table)->type().column(c);
    std::vector<std::string> literals;
    for (const Json& v : *it) {
      const std::string& text = v.get_ref<const std::string&>();
      if (def.is_string()) {
        literals.push_back(StringLiteral(text));
      } else {
        double number = 0;
        if (!absl::SimpleAtod(text, &number)) {
          return absl::InvalidArgumentError(absl::StrCat("column_values_map.", it.key(), ": '", text,
                                                         "' is not a number (the column is ", def.type_name(), ")"));
        }
        literals.push_back(NumberLiteral(number));
      }
    }
    if (literals.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("column_values_map.", it.key(), ": the list of values is empty"));
    }
    terms.push_back(absl::StrCat(it.key(), mode == "in_list" ? " in (" : " not in (", absl::StrJoin(literals, ", "),
                                 ")"));
  }
  return FilterRows(ctx, request, absl::StrJoin(terms, " and "), "column_values_map");
}

}  // namespace

void AddFilterHandlers(HandlerMap* handlers) {
  (*handlers)["/filter"] = Handler{true, FilterAccess, Filter};
  (*handlers)["/filter/byrange"] = Handler{true, FilterAccess, FilterByRange};
  (*handlers)["/filter/bylist"] = Handler{true, FilterAccess, FilterByList};
}

}  // namespace engine
