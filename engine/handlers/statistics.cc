// /aggregate/statistics.

#include <cmath>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/expr/expression.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/handlers/rows.h"
#include "kernels/gather.h"
#include "kernels/groupby.h"
#include "kernels/materialize.h"
#include "kernels/sort.h"
#include "kernels/statistics.h"

namespace engine {
namespace {

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
      auto below = CountRows(ctx, **table, absl::StrCat("(", column, ") < ", NumberLiteral(stat.arg)), "column_name");
      if (!below.ok()) return below.status();
      v = m->count > 0 ? 100.0 * static_cast<double>(*below) / n : 0.0;
    }
    stats[text] = v;
  }
  return Json{{"stats", stats}, {"info", Json::object()}};
}

}  // namespace

void AddStatisticsHandlers(HandlerMap* handlers) {
  (*handlers)["/aggregate/statistics"] = Handler{true, ReadTableAccess, AggregateStatistics};
}

}  // namespace engine
