// /aggregate/groupby, /aggregate/unique, /aggregate/minmax, /aggregate/histogram.

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "engine/expr/expression.h"
#include "engine/expr/text.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/handlers/rows.h"
#include "engine/handlers/shards.h"
#include "engine/table/catalog.h"
#include "engine/table/host_column.h"
#include "engine/table/result_table.h"
#include "kernels/filter.h"
#include "kernels/gather.h"
#include "kernels/groupby.h"
#include "kernels/histogram.h"
#include "kernels/materialize.h"
#include "kernels/sort.h"
#include "kernels/statistics.h"
#include "kernels/zone_map.h"

namespace engine {
namespace {

using kernels::AggKind;

// An aggregate entry of column_names: "name(args)".
struct AggregateSpec {
  AggKind kind = AggKind::kCount;
  bool count_star = false;  // count(*): the group sizes
  std::string value;        // the argument expression
  std::string target;       // arg_min / arg_max: the column returned
};

// Lowercase text with whitespace outside quotes removed: how aggregate calls
// are matched when having/order_by refer to them.
std::string Canonical(absl::string_view text) {
  std::string out;
  char quote = 0;
  for (char c : text) {
    if (quote != 0) {
      out.push_back(c);
      if (c == quote) quote = 0;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out.push_back(c);
    } else if (!absl::ascii_isspace(static_cast<unsigned char>(c))) {
      out.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

// The aggregate `expr` calls, if it is one: nullopt when `expr` is not a call
// of an aggregate function; an error for a malformed aggregate.
std::optional<absl::StatusOr<AggregateSpec>> ParseAggregate(const std::string& expr, absl::string_view field) {
  static const std::map<std::string, AggKind> kAggregates = {
      {"count", AggKind::kCount},         {"sum", AggKind::kSum},
      {"min", AggKind::kMin},             {"max", AggKind::kMax},
      {"avg", AggKind::kMean},            {"mean", AggKind::kMean},
      {"stddev", AggKind::kStdPop},       {"stddev_pop", AggKind::kStdPop},
      {"stddev_samp", AggKind::kStdSamp}, {"var", AggKind::kVarPop},
      {"var_pop", AggKind::kVarPop},      {"var_samp", AggKind::kVarSamp},
      {"count_distinct", AggKind::kCountDistinct},
      {"arg_min", AggKind::kArgMin},      {"arg_max", AggKind::kArgMax}};
  const size_t open = expr.find('(');
  if (open == std::string::npos || expr.back() != ')') return std::nullopt;
  const std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(expr.substr(0, open)));
  auto it = kAggregates.find(name);
  if (it == kAggregates.end()) return std::nullopt;
  const std::string inner = expr.substr(open + 1, expr.size() - open - 2);
  // The parentheses must enclose the whole rest: "min(a) + max(b)" is not one call.
  int depth = 0;
  for (char c : inner) {
    depth += c == '(' ? 1 : c == ')' ? -1 : 0;
    if (depth < 0) return std::nullopt;
  }
  AggregateSpec spec;
  spec.kind = it->second;
  const std::vector<std::string> args = SplitTopLevel(inner, ',');
  const bool two = spec.kind == AggKind::kArgMin || spec.kind == AggKind::kArgMax;
  if (args.size() != (two ? 2u : 1u) || args[0].empty() || (two && args[1].empty())) {
    return absl::StatusOr<AggregateSpec>(absl::InvalidArgumentError(absl::StrCat(
        field, ": '", expr, "': ", name, " takes ", two ? "two arguments (value, column)" : "one argument")));
  }
  if (args[0] == "*") {
    if (spec.kind != AggKind::kCount) {
      return absl::StatusOr<AggregateSpec>(
          absl::InvalidArgumentError(absl::StrCat(field, ": '", expr, "': only count takes *")));
    }
    spec.count_star = true;
  } else {
    spec.value = args[0];
  }
  if (two) spec.target = args[1];
  return absl::StatusOr<AggregateSpec>(spec);
}

// Rewrites the calls and parenthesized expressions in `text` that match an
// output column (an aggregate, a grouping expression such as "(k % 7)")
// into that column's name, so that having/order_by can be compiled over the
// result.
std::string ResolveAggregates(absl::string_view text, const std::map<std::string, std::string>& calls) {
  std::string out;
  size_t i = 0;
  // Whether text[i, the ')' closing the '(' at `open`] names an output
  // column: if so, its name is written and `i` moves past it.
  const auto resolved = [&](size_t open) {
    int depth = 0;
    for (size_t close = open; close < text.size(); ++close) {
      depth += text[close] == '(' ? 1 : text[close] == ')' ? -1 : 0;
      if (depth != 0) continue;
      auto hit = calls.find(Canonical(text.substr(i, close + 1 - i)));
      if (hit == calls.end()) return false;
      out.append(hit->second);
      i = close + 1;
      return true;
    }
    return false;
  };
  while (i < text.size()) {
    const char c = text[i];
    if (c == '(') {
      if (!resolved(i)) {
        out.push_back(c);
        ++i;
      }
      continue;
    }
    if (c == '\'' || c == '"') {
      const size_t close = text.find(c, i + 1);
      const size_t end = close == absl::string_view::npos ? text.size() : close + 1;
      absl::StrAppend(&out, text.substr(i, end - i));
      i = end;
      continue;
    }
    if (absl::ascii_isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i;
      while (j < text.size() &&
             (absl::ascii_isalnum(static_cast<unsigned char>(text[j])) || text[j] == '_' || text[j] == '.')) {
        ++j;
      }
      size_t k = j;
      while (k < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[k]))) ++k;
      if (k < text.size() && text[k] == '(') {
        if (resolved(k)) continue;
      } else if (auto hit = calls.find(Canonical(text.substr(i, j - i))); hit != calls.end()) {
        out.append(hit->second);  // a grouping column by another name ("t.k" → t_k)
        i = j;
        continue;
      }
      absl::StrAppend(&out, text.substr(i, j - i));
      i = j;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

// A name for a result column in expressions and stored tables.
std::string ColumnName(absl::string_view header, size_t index) {
  std::string name;
  for (char c : header) {
    name.push_back(absl::ascii_isalnum(static_cast<unsigned char>(c)) ? absl::ascii_tolower(c) : '_');
  }
  while (!name.empty() && name.back() == '_') name.pop_back();
  if (name.empty() || absl::ascii_isdigit(static_cast<unsigned char>(name[0]))) name = absl::StrCat("column_", index + 1);
  return name;
}

// The definition of an aggregate's result column.
ColumnDef AggregateDef(AggKind kind, const RowValues* value, const RowValues* target, std::string name) {
  switch (kind) {
    case AggKind::kCount:
    case AggKind::kCountDistinct:
      return ValueDef(kernels::ValueKind::kInt, std::move(name), false);
    case AggKind::kSum:
      return ValueDef(value->def.is_integer() ? kernels::ValueKind::kInt : kernels::ValueKind::kFloat,
                      std::move(name), true);
    case AggKind::kMin:
    case AggKind::kMax:
      return ResultDef(value->def, std::move(name), true);
    case AggKind::kArgMin:
    case AggKind::kArgMax:
      return ResultDef(target->def, std::move(name), true);
    default:
      return ValueDef(kernels::ValueKind::kFloat, std::move(name), true);
  }
}

// Orders the rows of `result` by an order_by list ("expr [asc|desc], ...")
// over its columns.
// `needed` >= 0: only the first `needed` rows are kept (a top-k selection
// where it pays: kernels::TopKOrder).
absl::Status OrderResult(JobContext& ctx, ResultTable& result, const std::string& order_by,
                         const std::map<std::string, std::string>& calls, absl::string_view field,
                         int64_t needed = -1) {
  auto parsed = ParseOrderBy(order_by, field);
  if (!parsed.ok()) return parsed.status();
  std::vector<kernels::SortKey> keys;
  std::vector<kernels::Column> owned;
  const TableType type = result.type();
  const std::vector<kernels::ColumnView> views = result.views();
  for (const OrderKey& key : *parsed) {
    // A grouping expression or aggregate as written names its column.
    auto whole = calls.find(Canonical(key.expr));
    const std::string expr = whole != calls.end() ? whole->second : ResolveAggregates(key.expr, calls);
    if (const int c = type.Find(expr); c >= 0) {
      keys.push_back({views[c], key.descending});
      continue;
    }
    auto program = CompileExpression(expr, type, views, ExprUse::kValue);
    if (!program.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", program.status().message()));
    kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
    owned.push_back(kernels::Materialize(device_program.view, 0, result.rows(), true, ctx.exec));
    keys.push_back({owned.back().view(), key.descending});
  }
  if (keys.empty()) return absl::OkStatus();
  if (needed >= 0 && needed < result.rows()) {
    kernels::Buffer order = kernels::TopKOrder(keys, nullptr, result.rows(), needed, ctx.exec);
    result.Keep(order.as<int64_t>(), needed, ctx.exec);
    return absl::OkStatus();
  }
  kernels::Buffer order = kernels::SortOrder(keys, nullptr, result.rows(), ctx.exec);
  result.Keep(order.as<int64_t>(), result.rows(), ctx.exec);
  return absl::OkStatus();
}

// Stores `result` as a new table (option result_table): kept across
// restarts when `persist` (result_table_persist), else a view.
absl::Status StoreResult(JobContext& ctx, const ResultTable& result, const std::string& name, bool persist) {
  std::vector<ColumnDef> defs;
  std::vector<kernels::Column> columns;
  for (const ResultColumn& c : result.columns()) {
    defs.push_back(c.def);
    kernels::Column copy(c.values.type(), c.values.width(), c.def.nullable);
    copy.Append(c.values.view(), ctx.exec);
    columns.push_back(std::move(copy));
  }
  auto table = std::make_shared<Table>(name, TableType(std::move(defs), ""), &ctx.device,
                                       persist ? Table::Kind::kTable : Table::Kind::kView);
  if (absl::Status s = ctx.catalog.Add(table); !s.ok()) {
    if (absl::IsAlreadyExists(s)) return absl::AlreadyExistsError(absl::StrCat("options.result_table: ", s.message()));
    return s;
  }
  // Its rows, recorded after the table itself; on an error the table goes.
  if (absl::Status s = table->Replace(std::move(columns), ctx.exec); !s.ok()) {
    ctx.catalog.Remove(name).IgnoreError();
    return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Access>> GroupByAccess(const Json& request) {
  auto access = ReadTableAccess(request);
  if (!access.ok()) return access;
  const std::string result = Option(request, "result_table");
  if (!result.empty()) {
    if (absl::Status s = ValidateTableName(result, "options.result_table"); !s.ok()) return s;
    access->push_back(Access{result, true});
  }
  return access;
}

// The groups are read only through GroupFirstRows and Aggregate.
kernels::GroupOptions Unordered() {
  kernels::GroupOptions options;
  options.ordered = false;
  return options;
}

// What GroupRows groups by for the key `expr` of `table` whose values are
// `values`, and its bounds (kernels::GroupOptions::key_bounds): a string
// column with a dictionary (Table::dictionary) by its codes, an integer
// column by its values within its zone map's bounds; else the values,
// unbounded. Keys of few values then map to their groups without hashing,
// and several pack into one word.
struct GroupKey {
  kernels::ColumnView view;
  kernels::KeyBounds bounds;
  std::shared_ptr<const kernels::Dictionary> dictionary;  // holds `view`'s codes
};

GroupKey GroupKeyOf(JobContext& ctx, const Table& table, const std::string& expr, const kernels::ColumnView& values) {
  GroupKey key{values, {}, nullptr};
  const int c = table.type().Find(expr);
  if (c < 0) return key;
  switch (table.type().column(static_cast<size_t>(c)).phys()) {
    case kernels::PhysType::kVarChars:
    case kernels::PhysType::kFixedChars:
      key.dictionary = table.dictionary(c, ctx.exec);
      if (key.dictionary != nullptr) {
        key.view = key.dictionary->codes.view();
        key.bounds = kernels::KeyBounds{0, key.dictionary->count() - 1};
      }
      break;
    case kernels::PhysType::kInt8:
    case kernels::PhysType::kInt16:
    case kernels::PhysType::kInt32:
    case kernels::PhysType::kInt64:
      if (auto zones = table.zone_map(c, ctx.exec)) kernels::ZoneMapIntBounds(*zones, &key.bounds.lo, &key.bounds.hi);
      break;
    default:
      break;
  }
  return key;
}

// One row of an aggregate: the count `count`, or (none) null.
ResultColumn OneRow(const ColumnDef& def, std::string header, std::optional<int64_t> count, const kernels::Exec& exec) {
  HostColumn host(def.phys(), def.char_width, def.nullable);
  if (count) {
    host.AppendInt(*count);
  } else {
    host.AppendNull();
  }
  return ResultColumn{std::move(header), def, ToDevice(host, exec)};
}

// One row of an aggregate over no rows: counts 0, everything else null.
ResultColumn EmptyAggregate(const ColumnDef& def, std::string header, const kernels::Exec& exec) {
  return OneRow(def, std::move(header), def.nullable ? std::nullopt : std::optional<int64_t>(0), exec);
}

// An entry of column_names: a grouping key or an aggregate.
struct GroupEntry {
  std::string header;
  std::string name;
  std::optional<AggregateSpec> aggregate;
  std::string expr;
  // Errors name this field (empty: column_names[i], i the entry's index).
  std::string field;
};

// An entry made for partial aggregates; errors name `from`'s field and text.
GroupEntry KeyEntry(std::string name, std::string expr, std::string field = "") {
  return GroupEntry{name, name, std::nullopt, std::move(expr), std::move(field)};
}

GroupEntry AggregateEntry(std::string name, AggKind kind, std::string value, std::string field = "",
                          std::string text = "", std::string target = "") {
  AggregateSpec spec;
  spec.kind = kind;
  spec.count_star = value.empty();
  spec.value = std::move(value);
  spec.target = std::move(target);
  return GroupEntry{name, name, spec, std::move(text), std::move(field)};
}

// When `rows` chose fewer than half of `table`'s rows: the columns that
// `entries` read, gathered at them, as a table of its own (and *rows then
// all of its rows), so that keys and aggregates are computed over the rows
// chosen only. Else (or when an entry does not parse: left to report) null.
std::shared_ptr<Table> ChosenRows(JobContext& ctx, const Table& table, const std::vector<GroupEntry>& entries,
                                  RowSet* rows) {
  if (rows->all || rows->count * 2 >= table.rows()) return nullptr;
  std::set<std::string> read;
  for (const GroupEntry& e : entries) {
    std::vector<std::string> texts{e.expr};
    if (e.aggregate) texts = {e.aggregate->value, e.aggregate->target};
    for (const std::string& text : texts) {
      if (text.empty()) continue;
      auto refs = ReferencedColumns(text, table.type());
      if (!refs.ok()) return nullptr;
      read.insert(refs->begin(), refs->end());
    }
  }
  std::vector<ColumnDef> defs;
  std::vector<kernels::Column> columns;
  const std::vector<kernels::ColumnView> views = table.views();
  for (size_t c = 0; c < views.size(); ++c) {
    const ColumnDef& def = table.type().column(c);
    if (read.count(def.name) == 0 && !(read.empty() && c == 0)) continue;  // one kept: the rows count
    columns.push_back(kernels::Gather(views[c], rows->data(), rows->count, def.nullable, ctx.exec));
    defs.push_back(def);
  }
  rows->all = true;
  rows->indices = kernels::Buffer();
  return ScratchTable(ctx, std::move(defs), std::move(columns));
}

// The groups of the rows of a single-device `table` where `expression`
// holds, one result row per group: each entry's key value or aggregate, in
// entry order; the groups in ascending key order when `key_order`, else in
// any (several wide or string keys are then grouped by their hash: see
// kernels::GroupOptions::key_order).
absl::StatusOr<ResultTable> LocalGroups(JobContext& ctx, const Table& table, const std::vector<GroupEntry>& entries,
                                        const std::string& expression, bool key_order) {
  // Only count(*), no keys: the rows chosen counted as the filter finds
  // them, neither listed nor grouped.
  if (std::all_of(entries.begin(), entries.end(), [](const GroupEntry& e) {
        return e.aggregate && e.aggregate->kind == AggKind::kCount && e.aggregate->count_star;
      })) {
    auto count = CountRows(ctx, table, expression, "options.expression");
    if (!count.ok()) return count.status();
    std::vector<ResultColumn> columns;
    for (const GroupEntry& e : entries) {
      columns.push_back(OneRow(AggregateDef(AggKind::kCount, nullptr, nullptr, e.name), e.header, *count, ctx.exec));
    }
    return ResultTable(std::move(columns));
  }
  auto rows = SelectRows(ctx, table, expression, "options.expression");
  if (!rows.ok()) return rows.status();
  std::shared_ptr<Table> chosen = ChosenRows(ctx, table, entries, &*rows);
  const Table& source = chosen != nullptr ? *chosen : table;

  // Key values, then the groups.
  const auto field_of = [&](size_t i) {
    return entries[i].field.empty() ? absl::StrCat("column_names[", i, "]") : entries[i].field;
  };
  std::vector<RowValues> keys;
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].aggregate) continue;
    auto v = EvaluateRows(ctx, source, entries[i].expr, field_of(i));
    if (!v.ok()) return v.status();
    keys.push_back(*std::move(v));
  }
  if (absl::Status s = ctx.checkpoint(1, 3); !s.ok()) return s;
  // Aggregates without keys: one group of every selected row.
  const bool one_group = keys.empty();
  std::vector<GroupKey> group_keys;
  std::vector<kernels::ColumnView> key_views;
  kernels::GroupOptions options = Unordered();
  for (size_t i = 0, k = 0; i < entries.size(); ++i) {
    if (entries[i].aggregate) continue;
    group_keys.push_back(GroupKeyOf(ctx, source, entries[i].expr, keys[k++].view));
    key_views.push_back(group_keys.back().view);
    options.key_bounds.push_back(group_keys.back().bounds);
  }
  options.key_order = false;
  kernels::Groups groups = kernels::GroupRows(key_views, rows->data(), rows->count, options, ctx.exec);
  kernels::Buffer first = kernels::GroupFirstRows(groups, ctx.exec);
  if (absl::Status s = ctx.checkpoint(2, 3); !s.ok()) return s;

  // Each aggregate's values, then every aggregate at once (sums share
  // their pass over the rows: kernels::Aggregates).
  struct Values {
    std::optional<RowValues> value, target;
  };
  std::vector<Values> values(entries.size());
  std::vector<kernels::AggregateCall> calls;
  std::vector<size_t> called;  // entry of each call
  for (size_t i = 0; i < entries.size(); ++i) {
    const GroupEntry& e = entries[i];
    if (!e.aggregate) continue;
    const std::string field = field_of(i);
    const AggregateSpec& spec = *e.aggregate;
    Values& v = values[i];
    if (!spec.count_star) {
      // A sum's or mean's expression is evaluated as it is summed, where
      // the kernel can (kernels::AggregateCall::program).
      const bool summed = spec.kind == AggKind::kSum || spec.kind == AggKind::kMean;
      auto value = EvaluateRows(ctx, source, spec.value, field, /*as_program=*/summed);
      if (!value.ok()) return value.status();
      v.value = *std::move(value);
      const bool numeric_only = spec.kind == AggKind::kSum || spec.kind == AggKind::kMean ||
                                spec.kind == AggKind::kVarPop || spec.kind == AggKind::kVarSamp ||
                                spec.kind == AggKind::kStdPop || spec.kind == AggKind::kStdSamp;
      if (numeric_only && v.value->def.is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": '", e.expr, "' needs a numeric argument, not ", v.value->def.type_name()));
      }
    }
    if (!spec.target.empty()) {
      auto target = EvaluateRows(ctx, source, spec.target, field);
      if (!target.ok()) return target.status();
      v.target = *std::move(target);
    }
    if (one_group && rows->count == 0) continue;  // EmptyAggregate below
    kernels::AggregateCall call{spec.kind, nullptr, v.target ? &v.target->view : nullptr};
    if (v.value && v.value->program) {
      call.program = &v.value->program->view;
      call.program_rows = source.rows();
    } else if (v.value) {
      call.value = &v.value->view;
    }
    calls.push_back(call);
    called.push_back(i);
  }
  std::vector<kernels::Column> aggregated = kernels::Aggregates(groups, calls, ctx.exec);
  std::vector<std::optional<kernels::Column>> by_entry(entries.size());
  for (size_t c = 0; c < called.size(); ++c) by_entry[called[c]] = std::move(aggregated[c]);

  std::vector<ResultColumn> columns;
  size_t key = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const GroupEntry& e = entries[i];
    if (!e.aggregate) {
      const RowValues& k = keys[key++];
      columns.push_back(
          ResultColumn{e.header, ResultDef(k.def, e.name, k.def.nullable),
                       kernels::Gather(k.view, first.as<int64_t>(), groups.count, k.def.nullable, ctx.exec)});
      continue;
    }
    const Values& v = values[i];
    const ColumnDef def =
        AggregateDef(e.aggregate->kind, v.value ? &*v.value : nullptr, v.target ? &*v.target : nullptr, e.name);
    if (!by_entry[i]) {
      columns.push_back(EmptyAggregate(def, e.header, ctx.exec));
      continue;
    }
    columns.push_back(ResultColumn{e.header, def, std::move(*by_entry[i])});
  }
  ResultTable result(std::move(columns));
  if (key_order && !groups.key_ordered) {
    // Groups in the order of their hashes: sorted by key (fewer than the rows).
    std::vector<kernels::SortKey> sort_keys;
    const std::vector<kernels::ColumnView> views = result.views();
    for (size_t i = 0; i < entries.size(); ++i) {
      if (!entries[i].aggregate) sort_keys.push_back({views[i], false});
    }
    kernels::Buffer order = kernels::SortOrder(sort_keys, nullptr, groups.count, ctx.exec);
    result.Keep(order.as<int64_t>(), groups.count, ctx.exec);
  }
  return result;
}

// `result` (on the job's device) as a table for LocalGroups; not in the catalog.
std::shared_ptr<Table> ResultAsTable(JobContext& ctx, ResultTable result) {
  std::vector<ColumnDef> defs;
  std::vector<kernels::Column> columns;
  for (ResultColumn& c : std::move(result).TakeColumns()) {
    defs.push_back(std::move(c.def));
    columns.push_back(std::move(c.values));
  }
  return ScratchTable(ctx, std::move(defs), std::move(columns));
}

// LocalGroups on every part of a distributed table, each on its device; the
// parts' results one after another in one table on the job's device.
absl::StatusOr<std::shared_ptr<Table>> PartialGroups(JobContext& ctx, const Table& table,
                                                     const std::vector<GroupEntry>& entries,
                                                     const std::string& expression) {
  std::vector<std::optional<ResultTable>> parts(PartCount(table));
  absl::Status s = ForEachShard(ctx, table, [&](JobContext& part_ctx, const Table& part, size_t i) -> absl::Status {
    auto groups = LocalGroups(part_ctx, part, entries, expression, /*key_order=*/false);
    if (!groups.ok()) return groups.status();
    parts[i] = *std::move(groups);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  std::vector<ResultColumn> columns;
  const std::vector<ResultColumn>& shape = parts[0]->columns();
  for (size_t c = 0; c < shape.size(); ++c) {
    std::vector<kernels::ColumnView> views;
    for (const auto& p : parts) views.push_back(p->columns()[c].values.view());
    const kernels::Column& v = shape[c].values;
    columns.push_back(
        ResultColumn{shape[c].header, shape[c].def, Concatenate(views, v.type(), v.width(), v.nullable(), ctx.exec)});
  }
  return ResultAsTable(ctx, ResultTable(std::move(columns)));
}

// Whether every aggregate of `entries` merges from per-shard partials.
bool Mergeable(const std::vector<GroupEntry>& entries) {
  for (const GroupEntry& e : entries) {
    if (!e.aggregate) continue;
    switch (e.aggregate->kind) {
      case AggKind::kCount:
      case AggKind::kSum:
      case AggKind::kMin:
      case AggKind::kMax:
      case AggKind::kMean:
      case AggKind::kVarPop:
      case AggKind::kVarSamp:
      case AggKind::kStdPop:
      case AggKind::kStdSamp:
      case AggKind::kCountDistinct:
      case AggKind::kArgMin:
      case AggKind::kArgMax:
        break;
      default:
        return false;
    }
  }
  return true;
}

// The groups of a distributed table from partial aggregates: each shard
// groups its rows (keys k0.., and per aggregate: count → c, sum → s, min/max
// → m, mean → s and c) and the job's device groups the partials again
// (counts and sums summed, min of mins, max of maxes, mean = sum / count;
// variances from each shard's count n, mean m and population variance v:
// with a shift C, the mean of every partial, M2 = sum(n v + n (m - C)^2) -
// sum(n (m - C))^2 / sum(n), Chan's merge of (n, m, M2) written as sums).
// arg_min/arg_max: each shard's extreme, the target there and that row's
// position; the partials ordered by position, the first with the extreme
// wins (the first row with it, as on one device). count_distinct: each
// shard's distinct (keys, value) tuples, made distinct again over all
// shards, then counted per key; both results have the groups
// in key order, so they line up row by row. The result is the one
// LocalGroups gives over every row (up to the order of floating-point sums).
// REQUIRES: Mergeable(entries).
absl::StatusOr<ResultTable> ShardedGroups(JobContext& ctx, const Table& table, const std::vector<GroupEntry>& entries,
                                          const std::string& expression) {
  std::vector<GroupEntry> partial, merge, keys_only;
  std::vector<std::string> key_names;
  std::vector<size_t> variances;  // entries whose merge needs their shift first
  for (size_t i = 0; i < entries.size(); ++i) {
    const GroupEntry& e = entries[i];
    if (e.aggregate) continue;
    const std::string k = absl::StrCat("k", key_names.size());
    partial.push_back(KeyEntry(k, e.expr, absl::StrCat("column_names[", i, "]")));
    merge.push_back(KeyEntry(k, k));
    keys_only.push_back(KeyEntry(k, k));
    key_names.push_back(k);
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].aggregate) continue;
    const AggregateSpec& spec = *entries[i].aggregate;
    const std::string a = absl::StrCat("a", i), field = absl::StrCat("column_names[", i, "]");
    const std::string& text = entries[i].expr;
    switch (spec.kind) {
      case AggKind::kCount:
        partial.push_back(AggregateEntry(a + "_c", AggKind::kCount, spec.value, field, text));
        merge.push_back(AggregateEntry(a + "_c", AggKind::kSum, a + "_c"));
        break;
      case AggKind::kSum:
        partial.push_back(AggregateEntry(a + "_s", AggKind::kSum, spec.value, field, text));
        merge.push_back(AggregateEntry(a + "_s", AggKind::kSum, a + "_s"));
        break;
      case AggKind::kMin:
      case AggKind::kMax:
        partial.push_back(AggregateEntry(a + "_m", spec.kind, spec.value, field, text));
        merge.push_back(AggregateEntry(a + "_m", spec.kind, a + "_m"));
        break;
      case AggKind::kMean:
        partial.push_back(AggregateEntry(a + "_s", AggKind::kSum, spec.value, field, text));
        partial.push_back(AggregateEntry(a + "_c", AggKind::kCount, spec.value, field, text));
        merge.push_back(AggregateEntry(a + "_s", AggKind::kSum, a + "_s"));
        merge.push_back(AggregateEntry(a + "_c", AggKind::kSum, a + "_c"));
        break;
      case AggKind::kVarPop:
      case AggKind::kVarSamp:
      case AggKind::kStdPop:
      case AggKind::kStdSamp:
        partial.push_back(AggregateEntry(a + "_c", AggKind::kCount, spec.value, field, text));
        partial.push_back(AggregateEntry(a + "_m", AggKind::kMean, spec.value, field, text));
        partial.push_back(AggregateEntry(a + "_v", AggKind::kVarPop, spec.value, field, text));
        variances.push_back(i);
        break;
      case AggKind::kArgMin:
      case AggKind::kArgMax:
        // The extreme, the target there, and that row's position (for ties).
        partial.push_back(AggregateEntry(a + "_m", spec.kind == AggKind::kArgMin ? AggKind::kMin : AggKind::kMax,
                                         spec.value, field, text));
        partial.push_back(AggregateEntry(a + "_t", spec.kind, spec.value, field, text, spec.target));
        partial.push_back(AggregateEntry(a + "_p", spec.kind, spec.value, field, text, kRowPosition));
        break;
      default:  // kCountDistinct: below
        break;
    }
  }
  if (partial.size() == key_names.size()) partial.push_back(AggregateEntry("rows", AggKind::kCount, ""));
  auto parts = PartialGroups(ctx, table, partial, expression);
  if (!parts.ok()) return parts.status();
  for (size_t i : variances) {
    // The shift: the mean over every partial (one small pass over them).
    const std::string a = absl::StrCat("a", i);
    auto overall = LocalGroups(ctx, **parts,
                               {AggregateEntry("s", AggKind::kSum, absl::StrCat(a, "_c * ", a, "_m")),
                                AggregateEntry("n", AggKind::kSum, a + "_c")},
                               "", /*key_order=*/true);
    if (!overall.ok()) return overall.status();
    const HostColumn s = ToHost(overall->columns()[0].values.view(), true, 0, 1, ctx.exec);
    const HostColumn n = ToHost(overall->columns()[1].values.view(), true, 0, 1, ctx.exec);
    const double shift = s.IsValid(0) && n.IsValid(0) && n.IntAt(0) > 0 ? s.FloatAt(0) / n.IntAt(0) : 0.0;
    const std::string d = absl::StrCat("(", a, "_m - (", NumberLiteral(std::isfinite(shift) ? shift : 0.0), "))");
    merge.push_back(AggregateEntry(a + "_n", AggKind::kSum, a + "_c"));
    merge.push_back(AggregateEntry(a + "_d", AggKind::kSum, absl::StrCat(a, "_c * ", d)));
    merge.push_back(
        AggregateEntry(a + "_q", AggKind::kSum, absl::StrCat(a, "_c * ", a, "_v + ", a, "_c * ", d, " * ", d)));
  }
  auto merged = LocalGroups(ctx, **parts, merge.empty() ? keys_only : merge, "", /*key_order=*/true);
  if (!merged.ok()) return merged.status();
  std::map<std::string, const ResultColumn*> by_name;
  for (const ResultColumn& c : merged->columns()) by_name[c.def.name] = &c;
  const TableType merged_type = merged->type();
  const std::vector<kernels::ColumnView> merged_views = merged->views();
  const int64_t groups = merged->rows();

  std::vector<ResultColumn> columns;
  size_t key = 0;
  for (size_t i = 0; i < entries.size(); ++i) {
    const GroupEntry& e = entries[i];
    const std::string a = absl::StrCat("a", i);
    if (!e.aggregate) {
      const ResultColumn& k = *by_name.at(key_names[key++]);
      kernels::Column copy(k.values.type(), k.values.width(), k.def.nullable);
      copy.Append(k.values.view(), ctx.exec);
      columns.push_back(ResultColumn{e.header, ResultDef(k.def, e.name, k.def.nullable), std::move(copy)});
      continue;
    }
    const AggregateSpec& spec = *e.aggregate;
    if (spec.kind == AggKind::kArgMin || spec.kind == AggKind::kArgMax) {
      RowSet order;
      order.count = (*parts)->rows();
      if (absl::Status s = OrderRows(ctx, **parts, {OrderKey{a + "_p", false}}, &order, "column_names"); !s.ok()) {
        return s;
      }
      std::vector<kernels::Column> sorted;
      const std::vector<kernels::ColumnView> views = (*parts)->views();
      for (size_t c = 0; c < views.size(); ++c) {
        sorted.push_back(
            kernels::Gather(views[c], order.data(), order.count, (*parts)->type().column(c).nullable, ctx.exec));
      }
      auto by_position = std::make_shared<Table>("", (*parts)->type(), &ctx.device, Table::Kind::kView);
      by_position->Replace(std::move(sorted), ctx.exec).IgnoreError();  // no journal: cannot fail
      std::vector<GroupEntry> pick = keys_only;
      pick.push_back(AggregateEntry("x", spec.kind, a + "_m", "", "", a + "_t"));
      auto picked = LocalGroups(ctx, *by_position, pick, "", /*key_order=*/true);
      if (!picked.ok()) return picked.status();
      std::vector<ResultColumn> got = std::move(*picked).TakeColumns();
      ResultColumn& x = got.back();
      columns.push_back(ResultColumn{e.header, ResultDef(x.def, e.name, true), std::move(x.values)});
      continue;
    }
    if (spec.kind == AggKind::kCountDistinct) {
      // Distinct (keys, value) per shard, distinct again here, counted per key.
      std::vector<GroupEntry> tuples, recount = keys_only;
      size_t j = 0;
      for (size_t k = 0; k < entries.size(); ++k) {
        if (!entries[k].aggregate) {
          tuples.push_back(KeyEntry(key_names[j++], entries[k].expr, absl::StrCat("column_names[", k, "]")));
        }
      }
      tuples.push_back(KeyEntry("d", spec.value, absl::StrCat("column_names[", i, "]")));
      auto distinct = PartialGroups(ctx, table, tuples, expression);
      if (!distinct.ok()) return distinct.status();
      std::vector<GroupEntry> again = keys_only;
      again.push_back(KeyEntry("d", "d"));
      auto unique = LocalGroups(ctx, **distinct, again, "", /*key_order=*/true);
      if (!unique.ok()) return unique.status();
      distinct->reset();
      recount.push_back(AggregateEntry("n", AggKind::kCount, "d"));
      auto counted = LocalGroups(ctx, *ResultAsTable(ctx, *std::move(unique)), recount, "", /*key_order=*/true);
      if (!counted.ok()) return counted.status();
      const ResultColumn& n = counted->columns().back();
      kernels::Column values(n.values.type(), n.values.width(), false);
      values.Append(n.values.view(), ctx.exec);
      columns.push_back(ResultColumn{e.header, ValueDef(kernels::ValueKind::kInt, e.name, false), std::move(values)});
      continue;
    }
    if (spec.kind == AggKind::kMean || std::find(variances.begin(), variances.end(), i) != variances.end()) {
      // mean: sum / count; null where the count is 0 (the sum is null there
      // too). Variances: M2 / n or M2 / (n - 1), null where that divides by 0.
      // abs: a rounding error below 0 (and null stays null, where greatest would not).
      const std::string m2 = absl::StrCat("abs(", a, "_q - ", a, "_d * ", a, "_d / ", a, "_n)");
      std::string formula = absl::StrCat(a, "_s * 1.0 / ", a, "_c");
      if (spec.kind == AggKind::kVarPop || spec.kind == AggKind::kStdPop) formula = absl::StrCat(m2, " / ", a, "_n");
      if (spec.kind == AggKind::kVarSamp || spec.kind == AggKind::kStdSamp) {
        formula = absl::StrCat(m2, " / (", a, "_n - 1)");
      }
      if (spec.kind == AggKind::kStdPop || spec.kind == AggKind::kStdSamp)
        formula = absl::StrCat("sqrt(", formula, ")");
      auto program = CompileExpression(formula, merged_type, merged_views, ExprUse::kValue);
      if (!program.ok()) return program.status();
      kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
      columns.push_back(ResultColumn{e.header, ValueDef(kernels::ValueKind::kFloat, e.name, true),
                                     kernels::Materialize(device_program.view, 0, groups, true, ctx.exec)});
      continue;
    }
    const std::string from = spec.kind == AggKind::kCount ? a + "_c" : spec.kind == AggKind::kSum ? a + "_s" : a + "_m";
    const ResultColumn& c = *by_name.at(from);
    const bool nullable = spec.kind != AggKind::kCount;
    kernels::Column values(c.values.type(), c.values.width(), nullable);
    values.Append(c.values.view(), ctx.exec);
    ColumnDef def = ResultDef(c.def, e.name, nullable);
    if (spec.kind == AggKind::kCount) def = ValueDef(kernels::ValueKind::kInt, e.name, false);
    columns.push_back(ResultColumn{e.header, def, std::move(values)});
  }
  return ResultTable(std::move(columns));
}

absl::StatusOr<Json> GroupBy(JobContext& ctx, const Json& request) {
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  const auto names = request["column_names"].get<std::vector<std::string>>();
  if (names.empty()) return absl::InvalidArgumentError("column_names: give at least one column or aggregate");
  const std::string result_table = Option(request, "result_table");
  if (!result_table.empty() && ctx.catalog.Has(result_table)) {
    return absl::AlreadyExistsError(absl::StrCat("options.result_table: table '", result_table, "' already exists"));
  }
  auto persist = BoolOption(request, "result_table_persist", false);
  if (!persist.ok()) return persist.status();
  auto descending = DescendingOption(request);
  if (!descending.ok()) return descending.status();
  // Kinetica's sort_by: "key" (the default: by the grouping columns) or
  // "value" (by the aggregates, the first first), in sort_order.
  const std::string sort_by = absl::AsciiStrToLower(absl::StripAsciiWhitespace(Option(request, "sort_by")));
  if (!sort_by.empty() && sort_by != "key" && sort_by != "value") {
    return absl::InvalidArgumentError(
        absl::StrCat("options.sort_by: expected 'key' or 'value', got '", Option(request, "sort_by"), "'"));
  }

  // Classify the entries: keys and aggregates.
  std::vector<GroupEntry> entries;
  // Canonical text of each entry (aggregate calls and grouping expressions)
  // → its column name, for having and order_by.
  std::map<std::string, std::string> calls;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string field = absl::StrCat("column_names[", i, "]");
    auto aliased = SplitAlias(names[i], field);
    if (!aliased.ok()) return aliased.status();
    GroupEntry e;
    e.expr = aliased->expr;
    e.header = aliased->alias.empty() ? aliased->expr : aliased->alias;
    e.name = !aliased->alias.empty()                     ? aliased->alias
             : (*table)->type().Find(aliased->expr) >= 0 ? aliased->expr
                                                         : ColumnName(e.header, i);
    if (auto parsed = ParseAggregate(aliased->expr, field)) {
      if (!parsed->ok()) return parsed->status();
      e.aggregate = **parsed;
    }
    calls[Canonical(aliased->expr)] = e.name;
    entries.push_back(std::move(e));
  }

  // A distributed table groups shard by shard where its aggregates merge;
  // otherwise (variances, arg_min, arg_max) on one device.
  // order_by, or a descending sort_order, orders the groups anew: any order will do.
  const std::string expression = Option(request, "expression");
  // order_by takes precedence over sort_by.
  std::string order_by = Option(request, "order_by");
  if (absl::StripAsciiWhitespace(order_by).empty() && sort_by == "value") {
    for (const GroupEntry& e : entries) {
      if (e.aggregate) absl::StrAppend(&order_by, order_by.empty() ? "" : ", ", e.name, *descending ? " desc" : "");
    }
  }
  const bool key_order = absl::StripAsciiWhitespace(order_by).empty() && !*descending;
  absl::StatusOr<ResultTable> grouped =
      PartCount(**table) > 1 && Mergeable(entries)
          ? ShardedGroups(ctx, **table, entries, expression)
          : LocalGroups(ctx, *LocalTable(ctx, *table), entries, expression, key_order);
  if (!grouped.ok()) return grouped.status();
  ResultTable result = *std::move(grouped);
  const bool one_group = std::none_of(entries.begin(), entries.end(), [](const GroupEntry& e) { return !e.aggregate; });

  const std::string having = Option(request, "having");
  if (!absl::StripAsciiWhitespace(having).empty()) {
    auto program = CompileExpression(ResolveAggregates(having, calls), result.type(), result.views(),
                                     ExprUse::kPredicate);
    if (!program.ok()) return absl::InvalidArgumentError(absl::StrCat("options.having: ", program.status().message()));
    kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
    kernels::Selection kept = kernels::Select(device_program.view, 0, result.rows(), ctx.exec);
    result.Keep(kept.indices.as<int64_t>(), kept.count, ctx.exec);
  }
  // The page; without result_table only its rows need ordering.
  const int64_t total = result.rows();
  auto page = ResolvePage(request["offset"].get<int64_t>(), request["limit"].get<int64_t>(), total, ctx.limits);
  if (!page.ok()) return page.status();
  const int64_t needed = result_table.empty() ? page->end : -1;
  if (!absl::StripAsciiWhitespace(order_by).empty()) {
    // Ties in key order, as when the groups come in it (they may not: see
    // key_order).
    std::string by = order_by;
    for (const GroupEntry& e : entries) {
      if (!e.aggregate) absl::StrAppend(&by, ", ", e.name);
    }
    if (absl::Status s = OrderResult(ctx, result, by, calls, "options.order_by", needed); !s.ok()) return s;
  } else if (*descending && !one_group) {
    std::string keys_desc;
    for (const GroupEntry& e : entries) {
      if (!e.aggregate) absl::StrAppend(&keys_desc, keys_desc.empty() ? "" : ", ", e.name, " desc");
    }
    if (absl::Status s = OrderResult(ctx, result, keys_desc, calls, "options.sort_order", needed); !s.ok()) return s;
  }

  Json info = Json::object();
  if (!result_table.empty()) {
    if (absl::Status s = StoreResult(ctx, result, result_table, *persist); !s.ok()) return s;
    info["qualified_result_table_name"] = result_table;
  }
  Json response = result.Encode(page->begin, page->end, StringField(request, "encoding"), ctx.exec);
  response["total_number_of_records"] = total;
  response["has_more_records"] = page->end < total;
  response["info"] = info;
  return response;
}

absl::StatusOr<Json> GroupByChecked(JobContext& ctx, const Json& request) {
  if (absl::Status s = CheckEncoding(request); !s.ok()) return s;
  return GroupBy(ctx, request);
}

// The distinct values of a column or expression over the rows where
// `expression` holds, on ctx's device, and their definition. They come in
// ascending order when `ordered`; else in the order of their hashes (a
// string column's values are grouped by hash, and only the distinct values
// need sorting then, not every row). A distributed table's shards find
// theirs; the job's device makes the union distinct.
struct DistinctValues {
  kernels::Column values;
  ColumnDef def;
  bool ordered = true;
};

absl::StatusOr<DistinctValues> Distinct(JobContext& ctx, const Table& table, const std::string& column,
                                        const std::string& expression) {
  std::vector<DistinctValues> parts(PartCount(table));
  absl::Status s = ForEachShard(ctx, table, [&](JobContext& part_ctx, const Table& part, size_t i) -> absl::Status {
    auto rows = SelectRows(part_ctx, part, expression, "options.expression");
    if (!rows.ok()) return rows.status();
    auto value = EvaluateRows(part_ctx, part, column, "column_name");
    if (!value.ok()) return value.status();
    const GroupKey key = GroupKeyOf(part_ctx, part, column, value->view);
    kernels::GroupOptions options = Unordered();
    options.key_bounds = {key.bounds};
    options.key_order = false;
    kernels::Groups groups = kernels::GroupRows({key.view}, rows->data(), rows->count, options, part_ctx.exec);
    kernels::Buffer first = kernels::GroupFirstRows(groups, part_ctx.exec);
    parts[i] = DistinctValues{
        kernels::Gather(value->view, first.as<int64_t>(), groups.count, value->def.nullable, part_ctx.exec), value->def,
        groups.key_ordered};
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (parts.size() == 1) return std::move(parts[0]);
  std::vector<kernels::ColumnView> views;
  for (const DistinctValues& p : parts) views.push_back(p.values.view());
  const kernels::Column& shape = parts[0].values;
  kernels::Column all = Concatenate(views, shape.type(), shape.width(), shape.nullable(), ctx.exec);
  kernels::GroupOptions options = Unordered();
  options.key_order = false;
  kernels::Groups groups = kernels::GroupRows({all.view()}, nullptr, all.size(), options, ctx.exec);
  kernels::Buffer first = kernels::GroupFirstRows(groups, ctx.exec);
  return DistinctValues{kernels::Gather(all.view(), first.as<int64_t>(), groups.count, shape.nullable(), ctx.exec),
                        parts[0].def, groups.key_ordered};
}

absl::StatusOr<Json> Unique(JobContext& ctx, const Json& request) {
  if (absl::Status s = CheckEncoding(request); !s.ok()) return s;
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  auto descending = DescendingOption(request);
  if (!descending.ok()) return descending.status();
  const std::string& column = StringField(request, "column_name");
  auto distinct = Distinct(ctx, **table, column, Option(request, "expression"));
  if (!distinct.ok()) return distinct.status();
  std::vector<ResultColumn> columns;
  const std::string name = (*table)->type().Find(column) >= 0 ? column : ColumnName(column, 0);
  const ColumnDef& def = distinct->def;
  columns.push_back(ResultColumn{column, ResultDef(def, name, def.nullable), std::move(distinct->values)});
  ResultTable result(std::move(columns));
  if (*descending || !distinct->ordered) {
    kernels::Buffer order = kernels::SortOrder({{result.views()[0], *descending}}, nullptr, result.rows(), ctx.exec);
    result.Keep(order.as<int64_t>(), result.rows(), ctx.exec);
  }
  auto page = ResolvePage(request["offset"].get<int64_t>(), request["limit"].get<int64_t>(), result.rows(),
                          ctx.limits);
  if (!page.ok()) return page.status();
  Json encoded = result.Encode(page->begin, page->end, StringField(request, "encoding"), ctx.exec);
  return Json{{"table_name", (*table)->name()},
              {"response_schema_str", encoded["response_schema_str"]},
              {"binary_encoded_response", encoded["binary_encoded_response"]},
              {"json_encoded_response", encoded["json_encoded_response"]},
              {"has_more_records", page->end < result.rows()},
              {"info", Json{{"total_number_of_records", absl::StrCat(result.rows())}}}};
}

// The least and greatest non-null value of a column or expression over a
// single-device table: numbers in min/max, strings in min_string/max_string
// (bytewise), or nothing when there is no value.
struct Extremes {
  bool string = false;
  kernels::Moments numbers;
  std::optional<std::pair<std::string, std::string>> strings;
};

absl::StatusOr<Extremes> ExtremesOf(JobContext& ctx, const Table& table, const std::string& column) {
  auto value = EvaluateRows(ctx, table, column, "column_name");
  if (!value.ok()) return value.status();
  Extremes out;
  out.string = value->def.is_string();
  if (out.string) {
    // The first and last non-null strings in sorted order (nulls sort first).
    kernels::Buffer order = kernels::SortOrder({{value->view, false}}, nullptr, table.rows(), ctx.exec);
    auto present = CountRows(ctx, table, absl::StrCat("not is_null(", column, ")"), "column_name");
    if (!present.ok()) return present.status();
    if (*present > 0) {
      const int64_t n = table.rows();
      kernels::Column ends = kernels::Gather(value->view, order.as<int64_t>() + (n - *present), 1, false, ctx.exec);
      kernels::Column last = kernels::Gather(value->view, order.as<int64_t>() + (n - 1), 1, false, ctx.exec);
      out.strings = std::make_pair(std::string(ToHost(ends.view(), false, 0, 1, ctx.exec).StringAt(0)),
                                   std::string(ToHost(last.view(), false, 0, 1, ctx.exec).StringAt(0)));
    }
    return out;
  }
  auto program = CompileExpression(column, table.type(), table.views(), ExprUse::kNumber);
  if (!program.ok()) return absl::InvalidArgumentError(absl::StrCat("column_name: ", program.status().message()));
  kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
  absl::Status scanned = ForEachChunk(ctx, table.rows(), [&](int64_t begin, int64_t end) {
    out.numbers =
        kernels::MergeMoments(out.numbers, kernels::ComputeMoments(device_program.view, begin, end, ctx.exec));
  });
  if (!scanned.ok()) return scanned;
  return out;
}

absl::StatusOr<Json> MinMax(JobContext& ctx, const Json& request) {
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  const std::string& column = StringField(request, "column_name");
  std::vector<Extremes> parts(PartCount(**table));
  absl::Status s = ForEachShard(ctx, **table, [&](JobContext& part_ctx, const Table& part, size_t i) -> absl::Status {
    auto e = ExtremesOf(part_ctx, part, column);
    if (!e.ok()) return e.status();
    parts[i] = *std::move(e);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  // Merged on the host: a few values per shard.
  kernels::Moments m;
  std::optional<std::pair<std::string, std::string>> strings;
  for (const Extremes& p : parts) {
    m = kernels::MergeMoments(m, p.numbers);
    if (!p.strings) continue;
    if (!strings) {
      strings = p.strings;
    } else {
      strings->first = std::min(strings->first, p.strings->first);
      strings->second = std::max(strings->second, p.strings->second);
    }
  }
  Json info = Json::object();
  if (strings) {
    info["min_string"] = strings->first;
    info["max_string"] = strings->second;
  }
  const bool numbers = !parts[0].string;
  return Json{{"min", numbers ? m.min : 0.0}, {"max", numbers ? m.max : 0.0}, {"info", info}};
}

absl::StatusOr<Json> Histogram(JobContext& ctx, const Json& request) {
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  auto bins = RequestedBins(request);
  if (!bins.ok()) return bins.status();
  const double start = request["start"].get<double>();
  const double end = request["end"].get<double>();
  const double interval = request["interval"].get<double>();
  const std::string weight_column = Option(request, "value_column");
  // Each shard counts its rows; the counts (or sums of weights) add up.
  std::vector<std::vector<double>> parts(PartCount(**table));
  absl::Status s = ForEachShard(ctx, **table, [&](JobContext& part_ctx, const Table& part, size_t i) -> absl::Status {
    auto value = EvaluateRows(part_ctx, part, StringField(request, "column_name"), "column_name");
    if (!value.ok()) return value.status();
    if (value->def.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat("column_name: a histogram needs a numeric column, not ", value->def.type_name()));
    }
    std::optional<RowValues> weights;
    if (!weight_column.empty()) {
      auto w = EvaluateRows(part_ctx, part, weight_column, "options.value_column");
      if (!w.ok()) return w.status();
      if (w->def.is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat("options.value_column: must be numeric, not ", w->def.type_name()));
      }
      weights = *std::move(w);
    }
    parts[i] = kernels::Histogram(value->view, weights ? &weights->view : nullptr, nullptr, part.rows(), start, end,
                                  interval, *bins, part_ctx.exec);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  std::vector<double> counts = std::move(parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) {
    for (size_t b = 0; b < counts.size(); ++b) counts[b] += parts[i][b];
  }
  return Json{{"counts", counts}, {"start", start}, {"end", end}, {"info", Json::object()}};
}

}  // namespace

void AddAggregateHandlers(HandlerMap* handlers) {
  (*handlers)["/aggregate/groupby"] = Handler{true, GroupByAccess, GroupByChecked};
  (*handlers)["/aggregate/unique"] = Handler{true, ReadTableAccess, Unique};
  (*handlers)["/aggregate/minmax"] = Handler{true, ReadTableAccess, MinMax};
  (*handlers)["/aggregate/histogram"] = Handler{true, ReadTableAccess, Histogram};
}

}  // namespace engine
