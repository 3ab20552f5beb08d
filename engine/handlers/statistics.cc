// /aggregate/statistics, /aggregate/statistics/byrange.

#include <algorithm>
#include <cmath>
#include <functional>
#include <iterator>
#include <map>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/expr/expression.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/handlers/rows.h"
#include "engine/handlers/shards.h"
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

// The statistics the moments give: count, sum, min, max, mean, stdv and
// variance (of a sample: 0 with fewer than two values), skew and kurtosis (of
// the population, kurtosis not in excess; 0 when every value is equal);
// nullopt for another name.
std::optional<double> MomentStatistic(const std::string& name, const kernels::Moments& m) {
  const double n = static_cast<double>(m.count);
  const double variance = m.count > 1 ? m.m2 / (n - 1) : 0.0;
  const double pop_variance = m.count > 0 ? m.m2 / n : 0.0;
  if (name == "count") return n;
  if (name == "sum") return m.sum;
  if (name == "min") return m.min;
  if (name == "max") return m.max;
  if (name == "mean") return m.mean;
  if (name == "stdv") return std::sqrt(variance);
  if (name == "variance") return variance;
  if (name == "skew") return pop_variance > 0 ? (m.m3 / n) / std::pow(pop_variance, 1.5) : 0.0;
  if (name == "kurtosis") return pop_variance > 0 ? (m.m4 / n) / (pop_variance * pop_variance) : 0.0;
  return std::nullopt;
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

// fn on every part of `table` (shards.h), the results folded in part
// order with `merge`, from `init`.
template <typename T>
absl::StatusOr<T> FoldParts(JobContext& ctx, const Table& table,
                            const std::function<absl::StatusOr<T>(JobContext& part_ctx, const Table& part)>& fn,
                            T init, const std::function<T(const T&, const T&)>& merge) {
  std::vector<T> parts(PartCount(table));
  absl::Status s = ForEachShard(ctx, table, [&](JobContext& part_ctx, const Table& part, size_t i) -> absl::Status {
    auto value = fn(part_ctx, part);
    if (!value.ok()) return value.status();
    parts[i] = *std::move(value);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  for (const T& p : parts) init = merge(init, p);
  return init;
}

// The moments of `expression` over every part of `table`, merged.
absl::StatusOr<kernels::Moments> TableMoments(JobContext& ctx, const Table& table, const std::string& expression,
                                              absl::string_view field) {
  return FoldParts<kernels::Moments>(
      ctx, table, [&](JobContext& part_ctx, const Table& part) { return MomentsOf(part_ctx, part, expression, field); },
      kernels::Moments{}, kernels::MergeMoments);
}

// The rows of every part of `table` where `expression` holds.
absl::StatusOr<int64_t> TableCount(JobContext& ctx, const Table& table, const std::string& expression,
                                   absl::string_view field) {
  return FoldParts<int64_t>(
      ctx, table, [&](JobContext& part_ctx, const Table& part) { return CountRows(part_ctx, part, expression, field); },
      0, [](const int64_t& a, const int64_t& b) { return a + b; });
}

// Per part of `table`, a column made by fn (on the part's device), brought
// together in one column on the job's device. REQUIRES: every part's column
// has the same layout (they come from one expression over one type).
absl::StatusOr<kernels::Column> GatherParts(
    JobContext& ctx, const Table& table,
    const std::function<absl::StatusOr<kernels::Column>(JobContext& part_ctx, const Table& part)>& fn) {
  std::vector<kernels::Column> parts(PartCount(table));
  absl::Status s = ForEachShard(ctx, table, [&](JobContext& part_ctx, const Table& part, size_t i) -> absl::Status {
    auto column = fn(part_ctx, part);
    if (!column.ok()) return column.status();
    parts[i] = *std::move(column);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (parts.size() == 1) return std::move(parts[0]);
  std::vector<kernels::ColumnView> views;
  for (const kernels::Column& p : parts) views.push_back(p.view());
  return Concatenate(views, parts[0].type(), parts[0].width(), parts[0].nullable(), ctx.exec);
}

// The non-null values of a numeric expression, sorted ascending, as doubles.
struct SortedValues {
  kernels::Column values;  // kFloat64, every non-null value
  kernels::Buffer order;   // int64[count]: ascending
  int64_t count = 0;
};

absl::StatusOr<SortedValues> SortValues(JobContext& ctx, const Table& table, const std::string& column) {
  auto values =
      GatherParts(ctx, table, [&](JobContext& part_ctx, const Table& part) -> absl::StatusOr<kernels::Column> {
        auto program = CompileExpression(column, part.type(), part.views(), ExprUse::kNumber);
        if (!program.ok()) return absl::InvalidArgumentError(absl::StrCat("column_name: ", program.status().message()));
        kernels::DeviceProgram device_program = kernels::Upload(*program, part_ctx.exec);
        kernels::Column all = kernels::Materialize(device_program.view, 0, part.rows(), true, part_ctx.exec);
        auto present = SelectRows(part_ctx, part, absl::StrCat("not is_null(", column, ")"), "column_name");
        if (!present.ok()) return present.status();
        if (present->all) return all;
        return kernels::Gather(all.view(), present->data(), present->count, false, part_ctx.exec);
      });
  if (!values.ok()) return values.status();
  SortedValues out;
  out.values = *std::move(values);
  out.count = out.values.size();
  out.order = kernels::SortOrder({{out.values.view(), false}}, nullptr, out.count, ctx.exec);
  return out;
}

// The distinct non-null values of a column or expression.
absl::StatusOr<int64_t> Cardinality(JobContext& ctx, const Table& table, const std::string& column) {
  auto distinct =
      GatherParts(ctx, table, [&](JobContext& part_ctx, const Table& part) -> absl::StatusOr<kernels::Column> {
        auto values = EvaluateRows(part_ctx, part, column, "column_name");
        if (!values.ok()) return values.status();
        auto present = SelectRows(part_ctx, part, absl::StrCat("not is_null(", column, ")"), "column_name");
        if (!present.ok()) return present.status();
        kernels::Groups groups = kernels::GroupRows({values->view}, present->data(), present->count, part_ctx.exec);
        kernels::Buffer first = kernels::GroupFirstRows(groups, part_ctx.exec);
        return kernels::Gather(values->view, first.as<int64_t>(), groups.count, false, part_ctx.exec);
      });
  if (!distinct.ok()) return distinct.status();
  if (PartCount(table) == 1) return distinct->size();
  return kernels::GroupRows({distinct->view()}, nullptr, distinct->size(), ctx.exec).count;
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
  // Each statistic is computed per part of the table (on its device) and
  // merged: moments, counts, the distinct values, the values themselves.
  absl::StatusOr<kernels::Moments> m = kernels::Moments{};
  if (numeric) {
    m = TableMoments(ctx, **table, column, "column_name");
    if (!m.ok()) return m.status();
  } else {
    auto present = TableCount(ctx, **table, absl::StrCat("not is_null(", column, ")"), "column_name");
    if (!present.ok()) return present.status();
    m->count = *present;
  }
  const double n = static_cast<double>(m->count);

  std::optional<SortedValues> sorted;
  Json stats = Json::object();
  for (const auto& [text, stat] : wanted) {
    double v = 0;
    if (std::optional<double> from_moments = MomentStatistic(stat.name, *m)) {
      v = *from_moments;
    } else if (stat.name == "weighted_average") {
      const std::string weight = Option(request, "weight_column_name");
      if (weight.empty()) {
        return absl::InvalidArgumentError("options.weight_column_name: weighted_average needs a weight column");
      }
      // Rows where either is null do not count.
      auto wx =
          TableMoments(ctx, **table, absl::StrCat("(", column, ") * (", weight, ")"), "options.weight_column_name");
      if (!wx.ok()) return wx.status();
      auto w =
          TableMoments(ctx, **table, absl::StrCat("(", weight, ") + 0 * (", column, ")"), "options.weight_column_name");
      if (!w.ok()) return w.status();
      v = w->sum != 0 ? wx->sum / w->sum : 0.0;
    } else if (stat.name == "cardinality" || stat.name == "estimated_cardinality") {
      auto distinct = Cardinality(ctx, **table, column);
      if (!distinct.ok()) return distinct.status();
      v = static_cast<double>(*distinct);
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
      auto below = TableCount(ctx, **table, absl::StrCat("(", column, ") < ", NumberLiteral(stat.arg)), "column_name");
      if (!below.ok()) return below.status();
      v = m->count > 0 ? 100.0 * static_cast<double>(*below) / n : 0.0;
    }
    stats[text] = v;
  }
  return Json{{"stats", stats}, {"info", Json::object()}};
}

// ---------------------------------------------------------------------------
// /aggregate/statistics/byrange: statistics of value_column_name in each bin
// of column_name, over the rows where select_expression holds. Bins are
// /aggregate/histogram's, [start + i*interval, start + (i+1)*interval) with
// the last one closed at end; or, with options.bin_values, one per listed
// value of a string or integer column. The response has an array per
// statistic asked for, a value per bin (0 for a bin without values), and
// always "count", the rows of each bin (the histogram of column_name).
//
// The bins are groups (kernels::GroupRows of each row's bin) and most
// statistics their aggregates; skew and kurtosis, which no aggregate gives,
// come from the moments of each bin's values (kernels::ComputeMoments over
// the values ordered by bin, one call per bin that has rows).

const char* const kRangeStats[] = {"count",    "sum", "mean", "stdv",  "variance", "skew",
                                   "kurtosis", "min", "max",  "first", "last",     "weighted_average"};

// The bins of a request: the rows in some bin grouped by bin, and the bin of
// each group.
struct Bins {
  int64_t count = 0;
  RowSet rows;
  RowValues key;  // the value rows are grouped by
  kernels::Groups groups;
  std::vector<int64_t> of_group;
};

// How rows fall into bins: the filter that keeps the rows in some bin, and
// the key the rows of a bin share. Bins of start, end and interval keep
// "(column) between start and end" and key the bin number as
// /aggregate/histogram computes it (in double); bins of listed values keep
// "(column) in (values)" and key the column, each value's bin in by_value.
struct BinRule {
  std::string keep;
  std::string key;
  int64_t count = 0;
  std::map<std::string, int64_t> by_value;  // the bin of each listed value, as text
};

absl::StatusOr<BinRule> RangeBins(const Json& request, const std::string& column, const ColumnDef& def) {
  if (def.is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("column_name: bins of start, end and interval need a numeric column, not ", def.type_name(),
                     "; or give options.bin_values"));
  }
  auto bins = RequestedBins(request);
  if (!bins.ok()) return bins.status();
  const double start = request["start"].get<double>();
  const double end = request["end"].get<double>();
  const double interval = request["interval"].get<double>();
  BinRule rule;
  rule.count = *bins;
  rule.keep = absl::StrCat("(", column, ") between (", NumberLiteral(start), ") and (", NumberLiteral(end), ")");
  rule.key = absl::StrCat("least(floor(((", column, ") * 1.0 - (", NumberLiteral(start), ")) / (",
                          NumberLiteral(interval), ")), ", rule.count - 1, ")");
  return rule;
}

absl::StatusOr<BinRule> ListedBins(const std::string& list, const std::string& column, const ColumnDef& def) {
  if (!def.is_string() && !def.is_integer()) {
    return absl::InvalidArgumentError(
        absl::StrCat("column_name: options.bin_values needs a string or integer column, not ", def.type_name()));
  }
  BinRule rule;
  std::vector<std::string> literals;
  for (absl::string_view piece : absl::StrSplit(list, ',')) {
    std::string text(absl::StripAsciiWhitespace(piece));
    if (!def.is_string()) {
      int64_t v = 0;
      if (!absl::SimpleAtoi(text, &v)) {
        return absl::InvalidArgumentError(absl::StrCat("options.bin_values: '", text, "' is not an integer (column '",
                                                       column, "' is ", def.type_name(), ")"));
      }
      text = absl::StrCat(v);
    }
    if (!rule.by_value.emplace(text, rule.count).second) {
      return absl::InvalidArgumentError(absl::StrCat("options.bin_values: '", text, "' is listed twice"));
    }
    literals.push_back(def.is_string() ? StringLiteral(text) : text);
    ++rule.count;
  }
  rule.keep = absl::StrCat("(", column, ") in (", absl::StrJoin(literals, ", "), ")");
  rule.key = column;
  return rule;
}

// The value at `row` of a column of any numeric layout, as a double.
double NumberAt(const HostColumn& values, int64_t row) {
  return values.type == kernels::PhysType::kFloat32 || values.type == kernels::PhysType::kFloat64
             ? values.FloatAt(row)
             : static_cast<double>(values.IntAt(row));
}

// One value per bin from one per group (null and missing bins: 0).
std::vector<double> PerBin(JobContext& ctx, const Bins& bins, const kernels::Column& per_group) {
  std::vector<double> out(static_cast<size_t>(bins.count), 0.0);
  const HostColumn host = ToHost(per_group.view(), per_group.nullable(), 0, bins.groups.count, ctx.exec);
  for (int64_t g = 0; g < bins.groups.count; ++g) {
    if (host.IsValid(g)) out[bins.of_group[g]] = NumberAt(host, g);
  }
  return out;
}

// A numeric column or expression of the request, for errors named `field`.
absl::StatusOr<RowValues> NumericValues(JobContext& ctx, const Table& table, const std::string& text,
                                        absl::string_view field) {
  auto values = EvaluateRows(ctx, table, text, field);
  if (!values.ok()) return values.status();
  if (values->def.is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": '", text, "' must be numeric, not ", values->def.type_name()));
  }
  return values;
}

absl::StatusOr<Bins> MakeBins(JobContext& ctx, const Table& table, const Json& request, bool ordered) {
  const std::string& column = StringField(request, "column_name");
  auto binned = EvaluateRows(ctx, table, column, "column_name");
  if (!binned.ok()) return binned.status();
  const std::string list = Option(request, "bin_values");
  auto rule = absl::StripAsciiWhitespace(list).empty() ? RangeBins(request, column, binned->def)
                                                       : ListedBins(list, column, binned->def);
  if (!rule.ok()) return rule.status();
  const std::string& select = StringField(request, "select_expression");
  std::string keep = rule->keep;
  if (!absl::StripAsciiWhitespace(select).empty()) {
    auto program = CompileExpression(select, table.type(), table.views(), ExprUse::kPredicate);
    if (!program.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("select_expression: ", program.status().message()));
    }
    keep = absl::StrCat("(", select, ") and ", keep);
  }
  Bins bins;
  bins.count = rule->count;
  auto rows = SelectRows(ctx, table, keep, "select_expression");
  if (!rows.ok()) return rows.status();
  bins.rows = *std::move(rows);
  const bool string_key = binned->def.is_string();
  auto key = rule->by_value.empty() ? EvaluateRows(ctx, table, rule->key, "column_name") : std::move(binned);
  if (!key.ok()) return key.status();
  bins.key = *std::move(key);
  kernels::GroupOptions options;
  options.ordered = ordered;
  bins.groups = kernels::GroupRows({bins.key.view}, bins.rows.data(), bins.rows.count, options, ctx.exec);
  kernels::Buffer first = kernels::GroupFirstRows(bins.groups, ctx.exec);
  kernels::Column keys = kernels::Gather(bins.key.view, first.as<int64_t>(), bins.groups.count, false, ctx.exec);
  const HostColumn host = ToHost(keys.view(), false, 0, bins.groups.count, ctx.exec);
  for (int64_t g = 0; g < bins.groups.count; ++g) {
    bins.of_group.push_back(rule->by_value.empty() ? static_cast<int64_t>(NumberAt(host, g))
                            : string_key           ? rule->by_value.at(std::string(host.StringAt(g)))
                                                   : rule->by_value.at(absl::StrCat(host.IntAt(g))));
  }
  return bins;
}

// The moments of each group's values (the groups in order).
absl::StatusOr<std::vector<kernels::Moments>> GroupMoments(JobContext& ctx, const Bins& bins, const RowValues& value) {
  std::vector<int64_t> starts(static_cast<size_t>(bins.groups.count + 1), 0);
  kernels::CopyToHostSync(starts.data(), bins.groups.starts.data(), starts.size() * sizeof(int64_t), ctx.exec);
  kernels::Column sorted =
      kernels::Gather(value.view, bins.groups.order.as<int64_t>(), bins.rows.count, true, ctx.exec);
  ColumnDef def = value.def;
  def.name = "v";
  def.nullable = true;
  auto program = CompileExpression("v", TableType({def}, ""), {sorted.view()}, ExprUse::kNumber);
  if (!program.ok()) return program.status();
  kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
  std::vector<kernels::Moments> moments(static_cast<size_t>(bins.groups.count));
  absl::Status scanned = ForEachChunk(ctx, bins.groups.count, [&](int64_t begin, int64_t end) {
    for (int64_t g = begin; g < end; ++g) {
      moments[g] = kernels::ComputeMoments(device_program.view, starts[g], starts[g + 1], ctx.exec);
    }
  });
  if (!scanned.ok()) return scanned;
  return moments;
}

// One bin's share of the statistics from one part of a table, to merge with
// the other parts': its rows, the moments of its values, its first and last
// value (with the order and the row's position that decide them) and its
// weighted sums.
struct BinPart {
  int64_t rows = 0;
  kernels::Moments m;
  bool has_order = false;
  double first_order = 0, first_position = 0, first_value = 0;
  double last_order = 0, last_position = 0, last_value = 0;
  double weighted = 0, weights = 0;
};

// The bins of one part (a single-device table or a shard) as BinParts.
absl::StatusOr<std::vector<BinPart>> BinParts(JobContext& ctx, const Table& table, const Json& request,
                                              const std::vector<std::string>& wanted, bool need_moments) {
  const std::string order_column = Option(request, "order_column_name");
  const std::string weight_column = Option(request, "weight_column_name");
  const std::string& value_column = StringField(request, "value_column_name");
  const auto wants = [&](std::initializer_list<const char*> names) {
    for (const char* n : names) {
      if (std::find(wanted.begin(), wanted.end(), n) != wanted.end()) return true;
    }
    return false;
  };
  auto value = NumericValues(ctx, table, value_column, "value_column_name");
  if (!value.ok()) return value.status();
  std::optional<RowValues> order, weighted, weights, position;
  if (wants({"first", "last"})) {
    if (order_column.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("options.order_column_name: '",
                                                     wants({"first"}) ? "first" : "last",
                                                     "' is the value at the least or greatest order; name the "
                                                     "column that orders the rows"));
    }
    // The order of the rows that have a value: first and last skip nulls.
    auto o = EvaluateRows(ctx, table, order_column, "options.order_column_name");
    if (!o.ok()) return o.status();
    o = EvaluateRows(ctx, table, absl::StrCat("if(is_null(", value_column, "), null, ", order_column, ")"),
                     "options.order_column_name");
    if (!o.ok()) return o.status();
    order = *std::move(o);
    // A shard's rows' positions break ties as one device's row order does.
    auto p = EvaluateRows(ctx, table, kRowPosition, "options.order_column_name");
    if (p.ok()) position = *std::move(p);
  }
  if (wants({"weighted_average"})) {
    if (weight_column.empty()) {
      return absl::InvalidArgumentError("options.weight_column_name: weighted_average needs a weight column");
    }
    // Rows where either is null do not count.
    auto w = NumericValues(ctx, table, weight_column, "options.weight_column_name");
    if (!w.ok()) return w.status();
    auto wx = EvaluateRows(ctx, table, absl::StrCat("(", value_column, ") * (", weight_column, ")"),
                           "options.weight_column_name");
    if (!wx.ok()) return wx.status();
    auto wn = EvaluateRows(ctx, table, absl::StrCat("(", weight_column, ") + 0 * (", value_column, ")"),
                           "options.weight_column_name");
    if (!wn.ok()) return wn.status();
    weighted = *std::move(wx);
    weights = *std::move(wn);
  }

  auto bins = MakeBins(ctx, table, request, need_moments);
  if (!bins.ok()) return bins.status();
  if (absl::Status s = ctx.checkpoint(1, 2); !s.ok()) return s;
  const auto aggregate = [&](kernels::AggKind kind, const RowValues* of, const RowValues* target) {
    return PerBin(ctx, *bins,
                  kernels::Aggregate(bins->groups, kind, of != nullptr ? &of->view : nullptr,
                                     target != nullptr ? &target->view : nullptr, ctx.exec));
  };
  std::vector<BinPart> out(static_cast<size_t>(bins->count));
  const std::vector<double> rows = aggregate(kernels::AggKind::kCount, nullptr, nullptr);
  for (size_t b = 0; b < out.size(); ++b) out[b].rows = static_cast<int64_t>(rows[b]);
  if (need_moments) {
    auto m = GroupMoments(ctx, *bins, *value);
    if (!m.ok()) return m.status();
    for (int64_t g = 0; g < bins->groups.count; ++g) out[bins->of_group[g]].m = (*m)[g];
  } else if (wants({"sum", "mean", "stdv", "variance", "min", "max"})) {
    const std::vector<double> n = aggregate(kernels::AggKind::kCount, &*value, nullptr);
    const std::vector<double> sum = aggregate(kernels::AggKind::kSum, &*value, nullptr);
    const std::vector<double> min = aggregate(kernels::AggKind::kMin, &*value, nullptr);
    const std::vector<double> max = aggregate(kernels::AggKind::kMax, &*value, nullptr);
    const std::vector<double> mean = aggregate(kernels::AggKind::kMean, &*value, nullptr);
    const std::vector<double> var = aggregate(kernels::AggKind::kVarPop, &*value, nullptr);
    for (size_t b = 0; b < out.size(); ++b) {
      kernels::Moments& m = out[b].m;
      m.count = static_cast<int64_t>(n[b]);
      if (m.count == 0) continue;
      m.sum = sum[b];
      m.min = min[b];
      m.max = max[b];
      m.mean = mean[b];
      m.m2 = var[b] * n[b];
    }
  }
  if (order) {
    const std::vector<double> ordered = aggregate(kernels::AggKind::kCount, &*order, nullptr);
    const std::vector<double> first_order = aggregate(kernels::AggKind::kMin, &*order, nullptr);
    const std::vector<double> first = aggregate(kernels::AggKind::kArgMin, &*order, &*value);
    const std::vector<double> last_order = aggregate(kernels::AggKind::kMax, &*order, nullptr);
    const std::vector<double> last = aggregate(kernels::AggKind::kArgMax, &*order, &*value);
    std::vector<double> first_position(out.size(), 0), last_position(out.size(), 0);
    if (position) {
      first_position = aggregate(kernels::AggKind::kArgMin, &*order, &*position);
      last_position = aggregate(kernels::AggKind::kArgMax, &*order, &*position);
    }
    for (size_t b = 0; b < out.size(); ++b) {
      out[b] = BinPart{out[b].rows,
                       out[b].m,
                       ordered[b] > 0,
                       first_order[b],
                       first_position[b],
                       first[b],
                       last_order[b],
                       last_position[b],
                       last[b],
                       0,
                       0};
    }
  }
  if (weighted) {
    const std::vector<double> wx = aggregate(kernels::AggKind::kSum, &*weighted, nullptr);
    const std::vector<double> w = aggregate(kernels::AggKind::kSum, &*weights, nullptr);
    for (size_t b = 0; b < out.size(); ++b) {
      out[b].weighted = wx[b];
      out[b].weights = w[b];
    }
  }
  return out;
}

absl::StatusOr<Json> AggregateStatisticsByRange(JobContext& ctx, const Json& request) {
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  std::vector<std::string> wanted;
  bool need_moments = false;
  for (const std::string& text : SplitTopLevel(StringField(request, "stats"), ',')) {
    if (text.empty()) continue;
    if (std::find(std::begin(kRangeStats), std::end(kRangeStats), text) == std::end(kRangeStats)) {
      return absl::InvalidArgumentError(
          absl::StrCat("stats: '", text, "' is not a statistic by range (", absl::StrJoin(kRangeStats, ", "), ")"));
    }
    need_moments = need_moments || text == "skew" || text == "kurtosis";
    wanted.push_back(text);
  }
  if (!Option(request, "additional_column_names").empty()) {
    return absl::InvalidArgumentError(
        "options.additional_column_names: not supported (Kinetica does not document how the statistics of more "
        "value columns are keyed in the response); ask once per value column");
  }
  // Each part bins its rows on its device; the bins' shares merge here.
  std::vector<std::vector<BinPart>> parts(PartCount(**table));
  absl::Status s = ForEachShard(ctx, **table, [&](JobContext& part_ctx, const Table& part, size_t i) -> absl::Status {
    auto bins = BinParts(part_ctx, part, request, wanted, need_moments);
    if (!bins.ok()) return bins.status();
    parts[i] = *std::move(bins);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  std::vector<BinPart> bins = std::move(parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    for (size_t b = 0; b < bins.size(); ++b) {
      BinPart& to = bins[b];
      const BinPart& from = parts[i][b];
      to.rows += from.rows;
      to.m = kernels::MergeMoments(to.m, from.m);
      to.weighted += from.weighted;
      to.weights += from.weights;
      if (!from.has_order) continue;
      const auto before = [](double order, double position, double other_order, double other_position) {
        return order < other_order || (order == other_order && position < other_position);
      };
      if (!to.has_order || before(from.first_order, from.first_position, to.first_order, to.first_position)) {
        to.first_order = from.first_order;
        to.first_position = from.first_position;
        to.first_value = from.first_value;
      }
      if (!to.has_order || from.last_order > to.last_order ||
          (from.last_order == to.last_order && from.last_position < to.last_position)) {
        to.last_order = from.last_order;
        to.last_position = from.last_position;
        to.last_value = from.last_value;
      }
      to.has_order = true;
    }
  }
  Json stats = Json::object();
  std::vector<double> count;
  for (const BinPart& b : bins) count.push_back(static_cast<double>(b.rows));
  stats["count"] = count;
  for (const std::string& stat : wanted) {
    if (stat == "count") continue;
    std::vector<double> v;
    for (const BinPart& b : bins) {
      if (stat == "first" || stat == "last") {
        v.push_back(!b.has_order ? 0.0 : stat == "first" ? b.first_value : b.last_value);
      } else if (stat == "weighted_average") {
        v.push_back(b.weights != 0 ? b.weighted / b.weights : 0.0);
      } else if (b.m.count == 0) {
        v.push_back(0.0);  // a bin without values
      } else {
        v.push_back(*MomentStatistic(stat, b.m));
      }
    }
    stats[stat] = v;
  }
  return Json{{"stats", stats}, {"info", Json::object()}};
}

}  // namespace

void AddStatisticsHandlers(HandlerMap* handlers) {
  (*handlers)["/aggregate/statistics"] = Handler{true, ReadTableAccess, AggregateStatistics};
  (*handlers)["/aggregate/statistics/byrange"] = Handler{true, ReadTableAccess, AggregateStatisticsByRange};
}

}  // namespace engine
