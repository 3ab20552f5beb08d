// /filter, /filter/byrange, /filter/bylist, /aggregate/statistics.

#include <cmath>
#include <cstdio>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "engine/catalog.h"
#include "engine/expression.h"
#include "engine/handler_util.h"
#include "engine/handlers.h"
#include "engine/host_column.h"
#include "kernels/filter.h"
#include "kernels/gather.h"
#include "kernels/groupby.h"
#include "kernels/materialize.h"
#include "kernels/sort.h"
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

// A double as an expression literal that reads back exactly.
std::string Literal(double v) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.17g", v);
  return buf;
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
                    absl::StrCat(column, " between ", Literal(lower), " and ", Literal(upper)), "column_name");
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
        literals.push_back(absl::StrCat("'", absl::StrReplaceAll(text, {{"'", "''"}}), "'"));
      } else {
        double number = 0;
        if (!absl::SimpleAtod(text, &number)) {
          return absl::InvalidArgumentError(absl::StrCat("column_values_map.", it.key(), ": '", text,
                                                         "' is not a number (the column is ", def.type_name(), ")"));
        }
        literals.push_back(Literal(number));
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

// The statistic names of /aggregate/statistics, plain and with an argument.
const char* const kPlainStats[] = {"count", "mean", "stdv", "variance", "skew", "kurtosis", "sum", "min", "max",
                                   "weighted_average", "cardinality", "estimated_cardinality"};

// "percentile(50)" → ("percentile", 50); "mean" → ("mean", nullopt).
struct StatName {
  std::string name;
  bool has_arg = false;
  double arg = 0;
};

absl::StatusOr<StatName> ParseStat(const std::string& text) {
  StatName stat;
  const size_t open = text.find('(');
  stat.name = std::string(absl::StripAsciiWhitespace(text.substr(0, open)));
  if (open != std::string::npos) {
    if (text.back() != ')' || !absl::SimpleAtod(text.substr(open + 1, text.size() - open - 2), &stat.arg)) {
      return absl::InvalidArgumentError(absl::StrCat("stats: '", text, "': expected a number in parentheses"));
    }
    stat.has_arg = true;
  }
  if (stat.name == "percentile" || stat.name == "percentile_rank") {
    if (!stat.has_arg) return absl::InvalidArgumentError(absl::StrCat("stats: '", text, "' needs an argument, e.g. ", stat.name, "(50)"));
    if (stat.name == "percentile" && (stat.arg < 0 || stat.arg > 100)) {
      return absl::InvalidArgumentError(absl::StrCat("stats: '", text, "': the percentile must be 0..100"));
    }
    return stat;
  }
  for (const char* k : kPlainStats) {
    if (stat.name == k && !stat.has_arg) return stat;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "stats: '", text, "' is not a statistic (count, mean, stdv, variance, skew, kurtosis, sum, min, max, "
      "weighted_average, cardinality, estimated_cardinality, percentile(p), percentile_rank(v))"));
}

// Moments of a numeric expression over every row, in chunks.
absl::StatusOr<kernels::Moments> MomentsOf(JobContext& ctx, const Table& table, const std::string& expression,
                                           absl::string_view field) {
  auto program = CompileExpression(expression, table.type(), table.views(), ExprUse::kNumber);
  if (!program.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", program.status().message()));
  kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
  kernels::Moments m;
  absl::Status scanned = ForEachChunk(ctx, table.rows(), [&](int64_t begin, int64_t end) {
    m = kernels::MergeMoments(m, kernels::ComputeMoments(device_program.view, begin, end, ctx.exec));
  });
  if (!scanned.ok()) return scanned;
  return m;
}

// The non-null values of a numeric expression, sorted ascending, as doubles.
struct SortedValues {
  kernels::Column values;  // kFloat64, every row
  kernels::Buffer order;   // int64[count]: rows with a value, ascending
  int64_t count = 0;
};

absl::StatusOr<SortedValues> SortValues(JobContext& ctx, const Table& table, const std::string& column) {
  auto program = CompileExpression(column, table.type(), table.views(), ExprUse::kNumber);
  if (!program.ok()) return absl::InvalidArgumentError(absl::StrCat("column_name: ", program.status().message()));
  kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
  SortedValues out;
  out.values = kernels::Materialize(device_program.view, 0, table.rows(), true, ctx.exec);
  auto present = SelectRows(ctx, table, absl::StrCat("not is_null(", column, ")"), "column_name");
  if (!present.ok()) return present.status();
  out.count = present->count;
  out.order = kernels::SortOrder({{out.values.view(), false}}, present->data(), present->count, ctx.exec);
  return out;
}

// The value at position `k` of the sorted values.
double ValueAt(JobContext& ctx, const SortedValues& sorted, int64_t k) {
  kernels::Column one = kernels::Gather(sorted.values.view(), sorted.order.as<int64_t>() + k, 1, false, ctx.exec);
  return ToHost(one.view(), false, 0, 1, ctx.exec).FloatAt(0);
}

absl::StatusOr<Json> AggregateStatistics(JobContext& ctx, const Json& request) {
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  std::vector<std::pair<std::string, StatName>> wanted;
  for (const std::string& text : SplitTopLevel(StringField(request, "stats"), ',')) {
    if (text.empty()) continue;
    auto stat = ParseStat(text);
    if (!stat.ok()) return stat.status();
    wanted.emplace_back(text, *stat);
  }
  if (wanted.empty()) return absl::InvalidArgumentError("stats: is empty; name at least one statistic");
  const std::string& column = StringField(request, "column_name");

  // count and cardinality work on any column; the other statistics need
  // numbers and the moments.
  bool numeric = false;
  for (const auto& [text, stat] : wanted) {
    numeric = numeric || (stat.name != "count" && stat.name != "cardinality" && stat.name != "estimated_cardinality");
  }
  absl::StatusOr<kernels::Moments> m = kernels::Moments{};
  if (numeric) {
    m = MomentsOf(ctx, **table, column, "column_name");
    if (!m.ok()) return m.status();
  } else {
    auto present = CountRows(ctx, **table, absl::StrCat("not is_null(", column, ")"), "column_name");
    if (!present.ok()) return present.status();
    m->count = *present;
  }
  const double n = static_cast<double>(m->count);
  // Sample variance and deviation (0 with fewer than two values); skew and
  // kurtosis of the population (kurtosis not in excess).
  const double variance = m->count > 1 ? m->m2 / (n - 1) : 0.0;
  const double pop_variance = m->count > 0 ? m->m2 / n : 0.0;

  std::optional<SortedValues> sorted;
  Json stats = Json::object();
  for (const auto& [text, stat] : wanted) {
    double v = 0;
    if (stat.name == "count") {
      v = n;
    } else if (stat.name == "mean") {
      v = m->mean;
    } else if (stat.name == "stdv") {
      v = std::sqrt(variance);
    } else if (stat.name == "variance") {
      v = variance;
    } else if (stat.name == "skew") {
      v = pop_variance > 0 ? (m->m3 / n) / std::pow(pop_variance, 1.5) : 0.0;
    } else if (stat.name == "kurtosis") {
      v = pop_variance > 0 ? (m->m4 / n) / (pop_variance * pop_variance) : 0.0;
    } else if (stat.name == "sum") {
      v = m->sum;
    } else if (stat.name == "min") {
      v = m->min;
    } else if (stat.name == "max") {
      v = m->max;
    } else if (stat.name == "weighted_average") {
      const std::string weight = Option(request, "weight_column_name");
      if (weight.empty()) {
        return absl::InvalidArgumentError("options.weight_column_name: weighted_average needs a weight column");
      }
      // Rows where either is null do not count.
      auto wx = MomentsOf(ctx, **table, absl::StrCat("(", column, ") * (", weight, ")"), "options.weight_column_name");
      if (!wx.ok()) return wx.status();
      auto w = MomentsOf(ctx, **table, absl::StrCat("(", weight, ") + 0 * (", column, ")"), "options.weight_column_name");
      if (!w.ok()) return w.status();
      v = w->sum != 0 ? wx->sum / w->sum : 0.0;
    } else if (stat.name == "cardinality" || stat.name == "estimated_cardinality") {
      auto values = EvaluateRows(ctx, **table, column, "column_name");
      if (!values.ok()) return values.status();
      auto present = SelectRows(ctx, **table, absl::StrCat("not is_null(", column, ")"), "column_name");
      if (!present.ok()) return present.status();
      v = static_cast<double>(kernels::GroupRows({values->view}, present->data(), present->count, ctx.exec).count);
    } else if (stat.name == "percentile") {
      if (!sorted) {
        auto s = SortValues(ctx, **table, column);
        if (!s.ok()) return s.status();
        sorted = *std::move(s);
      }
      if (sorted->count > 0) {
        // Linear interpolation between the closest ranks.
        const double rank = stat.arg / 100.0 * static_cast<double>(sorted->count - 1);
        const int64_t lo = static_cast<int64_t>(std::floor(rank));
        const int64_t hi = std::min<int64_t>(lo + 1, sorted->count - 1);
        const double a = ValueAt(ctx, *sorted, lo);
        const double b = ValueAt(ctx, *sorted, hi);
        v = a + (b - a) * (rank - static_cast<double>(lo));
      }
    } else if (stat.name == "percentile_rank") {
      // The percentage of values below v.
      auto below = CountRows(ctx, **table, absl::StrCat("(", column, ") < ", Literal(stat.arg)), "column_name");
      if (!below.ok()) return below.status();
      v = m->count > 0 ? 100.0 * static_cast<double>(*below) / n : 0.0;
    }
    stats[text] = v;
  }
  return Json{{"stats", stats}, {"info", Json::object()}};
}

}  // namespace

void AddQueryHandlers(std::map<std::string, Handler, std::less<>>* handlers) {
  (*handlers)["/filter"] = Handler{true, FilterAccess, Filter};
  (*handlers)["/filter/byrange"] = Handler{true, FilterAccess, FilterByRange};
  (*handlers)["/filter/bylist"] = Handler{true, FilterAccess, FilterByList};
  (*handlers)["/aggregate/statistics"] = Handler{true, ReadTableAccess, AggregateStatistics};
}

}  // namespace engine
