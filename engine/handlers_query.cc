// /filter, /aggregate/statistics.

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/catalog.h"
#include "engine/expression.h"
#include "engine/handler_util.h"
#include "engine/handlers.h"
#include "kernels/gather.h"
#include "kernels/statistics.h"

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

absl::StatusOr<Json> Filter(JobContext& ctx, const Json& request) {
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  const std::string& view_name = StringField(request, "view_name");
  if (!view_name.empty() && ctx.catalog.Has(view_name)) {
    return absl::AlreadyExistsError(absl::StrCat("view_name: table '", view_name, "' already exists"));
  }
  const std::string& expression = StringField(request, "expression");
  if (absl::StripAsciiWhitespace(expression).empty()) {
    return absl::InvalidArgumentError("expression: is empty; give a filter condition");
  }
  if (view_name.empty()) {
    auto count = CountRows(ctx, **table, expression, "expression");
    if (!count.ok()) return count.status();
    return Json{{"count", *count}, {"info", Json{{"qualified_view_name", ""}}}};
  }
  auto rows = SelectRows(ctx, **table, expression, "expression");
  if (!rows.ok()) return rows.status();
  {
    const TableType& type = (*table)->type();
    const std::vector<kernels::ColumnView> views = (*table)->views();
    std::vector<kernels::Column> columns;
    for (size_t c = 0; c < views.size(); ++c) {
      columns.push_back(kernels::Gather(views[c], rows->indices.as<int64_t>(), rows->count,
                                        type.column(c).nullable, ctx.exec));
    }
    auto view = std::make_shared<Table>(view_name, type, &ctx.device, Table::Kind::kView);
    view->Replace(std::move(columns));
    if (absl::Status s = ctx.catalog.Add(view); !s.ok()) {
      return absl::AlreadyExistsError(absl::StrCat("view_name: ", s.message()));
    }
  }
  return Json{{"count", rows->count}, {"info", Json{{"qualified_view_name", view_name}}}};
}

// The statistics this server computes, in the order Kinetica lists them.
constexpr const char* kStats[] = {"count", "mean", "stdv", "variance", "sum", "min", "max"};

absl::StatusOr<Json> AggregateStatistics(JobContext& ctx, const Json& request) {
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  std::vector<std::string> wanted;
  for (absl::string_view s : absl::StrSplit(StringField(request, "stats"), ',', absl::SkipWhitespace())) {
    std::string name(absl::StripAsciiWhitespace(s));
    bool known = false;
    for (const char* k : kStats) known = known || name == k;
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(
          "stats: '", name, "' is not a statistic this server computes (count, mean, stdv, variance, sum, min, max)"));
    }
    wanted.push_back(name);
  }
  if (wanted.empty()) return absl::InvalidArgumentError("stats: is empty; name at least one statistic");

  auto program = CompileExpression(StringField(request, "column_name"), (*table)->type(), (*table)->views(),
                                   ExprUse::kNumber);
  if (!program.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("column_name: ", program.status().message()));
  }
  kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
  kernels::Moments m;
  absl::Status scanned = ForEachChunk(ctx, (*table)->rows(), [&](int64_t begin, int64_t end) {
    m = kernels::MergeMoments(m, kernels::ComputeMoments(device_program.view, begin, end, ctx.exec));
  });
  if (!scanned.ok()) return scanned;

  // Sample variance and deviation; 0 when there are fewer than two values.
  const double variance = m.count > 1 ? m.m2 / static_cast<double>(m.count - 1) : 0.0;
  Json stats = Json::object();
  for (const std::string& name : wanted) {
    double v = 0;
    if (name == "count") v = static_cast<double>(m.count);
    else if (name == "mean") v = m.mean;
    else if (name == "stdv") v = std::sqrt(variance);
    else if (name == "variance") v = variance;
    else if (name == "sum") v = m.sum;
    else if (name == "min") v = m.min;
    else if (name == "max") v = m.max;
    stats[name] = v;
  }
  return Json{{"stats", stats}, {"info", Json::object()}};
}

}  // namespace

void AddQueryHandlers(std::map<std::string, Handler, std::less<>>* handlers) {
  (*handlers)["/filter"] = Handler{true, FilterAccess, Filter};
  (*handlers)["/aggregate/statistics"] = Handler{true, ReadTableAccess, AggregateStatistics};
}

}  // namespace engine
