#include "engine/handlers/rows.h"

#include <algorithm>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "engine/expr/expression.h"
#include "engine/expr/text.h"
#include "engine/table/record_codec.h"
#include "engine/table/result_table.h"
#include "engine/table/subtypes.h"
#include "kernels/dictionary.h"
#include "kernels/filter.h"
#include "kernels/gather.h"
#include "kernels/materialize.h"
#include "kernels/scan_plan.h"
#include "kernels/sort.h"
#include "kernels/zone_map.h"

namespace engine {
namespace {

// The index of the column of `table` whose view `v` is, or -1.
int ColumnOf(const Table& table, const kernels::ColumnView& v) {
  const std::vector<kernels::ColumnView> views = table.views();
  for (size_t c = 0; c < views.size(); ++c) {
    if (views[c].data != nullptr && views[c].data == v.data && views[c].type == v.type) return static_cast<int>(c);
  }
  return -1;
}

// `expression` compiled over `views` (a predicate); where they are columns
// of `table` with a dictionary (Table::dictionary), its tests of them
// against constants test the codes instead (kernels::RewriteWithCodes),
// whose dictionaries `held` keeps.
absl::StatusOr<kernels::Program> CompilePredicate(JobContext& ctx, absl::string_view expression, const TableType& type,
                                                  const std::vector<kernels::ColumnView>& views, const Table* table,
                                                  std::vector<std::shared_ptr<const kernels::Dictionary>>* held) {
  auto program = CompileExpression(expression, type, views, ExprUse::kPredicate);
  if (!program.ok() || table == nullptr || table->distributed()) return program;
  const size_t columns = program->columns.size();
  for (size_t j = 0; j < columns; ++j) {
    const kernels::ColumnView v = program->columns[j];
    if (v.type != kernels::PhysType::kVarChars && v.type != kernels::PhysType::kFixedChars) continue;
    if (!kernels::TestsWithConstants(*program, static_cast<int32_t>(j))) continue;
    auto dictionary = table->dictionary(ColumnOf(*table, v), ctx.exec);
    if (dictionary == nullptr || dictionary->rows() != v.size) continue;
    if (kernels::RewriteWithCodes(&*program, static_cast<int32_t>(j), *dictionary, ctx.exec) > 0) {
      held->push_back(std::move(dictionary));
    }
  }
  return program;
}

// Rows [begin, end).
struct RowRange {
  int64_t begin = 0;
  int64_t end = 0;
};

// ForEachChunk over the rows of `ranges` (ascending, disjoint): chunks do
// not cross a range's end; progress counts the rows of the ranges.
absl::Status ForEachChunkOf(JobContext& ctx, const std::vector<RowRange>& ranges,
                            const std::function<void(int64_t, int64_t)>& fn) {
  const int64_t chunk = std::max<int64_t>(ctx.limits.chunk_rows, 1);
  int64_t total = 0, done = 0;
  for (const RowRange& r : ranges) total += r.end - r.begin;
  for (const RowRange& r : ranges) {
    for (int64_t begin = r.begin; begin < r.end; begin += chunk) {
      const int64_t end = std::min(r.end, begin + chunk);
      fn(begin, end);
      done += end - begin;
      if (absl::Status s = ctx.checkpoint(done, total); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// The verdict of `program`'s scan plan on each zone of `table`'s rows
// (kernels::PlanZoneVerdicts), or none when it has no plan, there is no
// table, or none of the columns it tests has a zone map.
std::vector<kernels::ZoneVerdict> ZoneVerdicts(JobContext& ctx, const Table* table, const kernels::Program& program) {
  if (table == nullptr || table->distributed()) return {};
  const kernels::ScanPlan plan = kernels::CompileScanPlan(program);
  if (plan.kind != kernels::PlanKind::kPredicate) return {};
  std::vector<std::shared_ptr<const kernels::ZoneMap>> held;
  std::vector<const kernels::ZoneMap*> maps;
  bool any = false;
  for (int32_t t = 0; t < plan.terms; ++t) {
    const kernels::PlanTerm& term = plan.term[t];
    const bool bounded = term.kind == kernels::TermKind::kRange || term.kind == kernels::TermKind::kIsNull;
    const int c = bounded ? ColumnOf(*table, term.column) : -1;
    held.push_back(c >= 0 ? table->zone_map(c, ctx.exec) : nullptr);
    maps.push_back(held.back().get());
    any = any || maps.back() != nullptr;
  }
  if (!any) return {};
  return kernels::PlanZoneVerdicts(plan, maps, table->rows());
}

// Consecutive zones of [0, n) with a verdict other than kNone, merged into
// ranges (kAll counted as kSome unless `keep_all`); with no verdicts, [0, n).
struct ZoneRun {
  RowRange rows;
  kernels::ZoneVerdict verdict;
};
std::vector<ZoneRun> ZoneRuns(const std::vector<kernels::ZoneVerdict>& verdicts, int64_t n, bool keep_all) {
  if (verdicts.empty())
    return n > 0 ? std::vector<ZoneRun>{{{0, n}, kernels::ZoneVerdict::kSome}} : std::vector<ZoneRun>{};
  std::vector<ZoneRun> runs;
  for (size_t z = 0; z < verdicts.size(); ++z) {
    kernels::ZoneVerdict v = verdicts[z];
    if (v == kernels::ZoneVerdict::kNone) continue;
    if (v == kernels::ZoneVerdict::kAll && !keep_all) v = kernels::ZoneVerdict::kSome;
    const int64_t begin = static_cast<int64_t>(z) * kernels::kZoneRows;
    const int64_t end = std::min(n, begin + kernels::kZoneRows);
    if (!runs.empty() && runs.back().rows.end == begin && runs.back().verdict == v) {
      runs.back().rows.end = end;
    } else {
      runs.push_back({{begin, end}, v});
    }
  }
  return runs;
}

}  // namespace

absl::Status ForEachChunk(JobContext& ctx, int64_t rows, const std::function<void(int64_t, int64_t)>& fn) {
  return ForEachChunkOf(ctx, {{0, rows}}, fn);
}

absl::StatusOr<RowSet> SelectRows(JobContext& ctx, const Table& table, const std::string& expression,
                                  absl::string_view field) {
  RowSet rows;
  const int64_t n = table.rows();
  if (absl::StripAsciiWhitespace(expression).empty()) {
    rows.count = n;
    return rows;
  }
  auto selection = SelectWhere(ctx, table.type(), table.views(), n, expression, field, &table);
  if (!selection.ok()) return selection.status();
  rows.all = false;
  rows.count = selection->count;
  rows.indices = std::move(selection->indices);
  return rows;
}

absl::StatusOr<int64_t> CountRows(JobContext& ctx, const Table& table, const std::string& expression,
                                  absl::string_view field) {
  if (absl::StripAsciiWhitespace(expression).empty()) return table.rows();
  std::vector<std::shared_ptr<const kernels::Dictionary>> dictionaries;
  auto program = CompilePredicate(ctx, expression, table.type(), table.views(), &table, &dictionaries);
  if (!program.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", program.status().message()));
  const kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
  // Zones whose bounds settle the predicate are not read (all: every row counts).
  const std::vector<ZoneRun> runs = ZoneRuns(ZoneVerdicts(ctx, &table, *program), table.rows(), true);
  int64_t count = 0, reading = 0;
  std::vector<RowRange> read;
  for (const ZoneRun& run : runs) {
    if (run.verdict == kernels::ZoneVerdict::kAll) {
      count += run.rows.end - run.rows.begin;
    } else {
      read.push_back(run.rows);
      reading += run.rows.end - run.rows.begin;
    }
  }
  const kernels::OneThreadScope one_thread(ctx.exec, reading < kernels::kOneThreadRows);
  absl::Status scanned = ForEachChunkOf(ctx, read, [&](int64_t begin, int64_t end) {
    count += kernels::Count(device_program.view, begin, end, ctx.exec);
  });
  if (!scanned.ok()) return scanned;
  return count;
}

std::vector<HostColumn> FetchRows(JobContext& ctx, const Table& table, const RowSet& rows, int64_t begin,
                                  int64_t end) {
  std::vector<HostColumn> out;
  const std::vector<kernels::ColumnView> views = table.views();
  for (size_t c = 0; c < views.size(); ++c) {
    const bool nullable = table.type().column(c).nullable;
    if (rows.all) {
      out.push_back(ToHost(views[c], nullable, begin, end, ctx.exec));
    } else {
      kernels::Column picked =
          kernels::Gather(views[c], rows.indices.as<int64_t>() + begin, end - begin, nullable, ctx.exec);
      out.push_back(ToHost(picked.view(), nullable, 0, end - begin, ctx.exec));
    }
  }
  return out;
}

std::vector<int64_t> RowIndices(JobContext& ctx, const RowSet& rows, int64_t begin, int64_t end) {
  std::vector<int64_t> out(static_cast<size_t>(end - begin));
  if (rows.all) {
    for (int64_t r = begin; r < end; ++r) out[r - begin] = r;
  } else if (!out.empty()) {
    kernels::CopyToHostSync(out.data(), rows.indices.as<int64_t>() + begin, out.size() * sizeof(int64_t), ctx.exec);
  }
  return out;
}

std::shared_ptr<Table> ScratchTable(JobContext& ctx, std::vector<ColumnDef> defs,
                                    std::vector<kernels::Column> columns) {
  auto table = std::make_shared<Table>("", TableType(std::move(defs), ""), &ctx.device, Table::Kind::kView);
  table->Replace(std::move(columns), ctx.exec).IgnoreError();  // no journal: cannot fail
  return table;
}

absl::StatusOr<RowValues> EvaluateRows(JobContext& ctx, const Table& table, const std::string& text,
                                       absl::string_view field, bool as_program) {
  RowValues out;
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  if (trimmed == kRowPosition && table.positions().size == table.rows() && table.rows() > 0) {
    out.view = table.positions();
    out.def = ValueDef(kernels::ValueKind::kInt, trimmed, false);
    return out;
  }
  if (const int c = table.type().Find(trimmed); c >= 0) {
    out.view = table.views()[c];
    out.def = table.type().column(c);
    return out;
  }
  const std::vector<kernels::ColumnView> views = table.views();
  auto program = CompileExpression(trimmed, table.type(), views, ExprUse::kValue);
  if (!program.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", program.status().message()));
  // A column named otherwise ("o_orderdate" for "orders.o_orderdate"): the
  // column itself, its type kept (a date stays a date). In parentheses it
  // is evaluated (as below).
  if (program->code.size() == 1 && program->code[0].op == kernels::Op::kColumn &&
      trimmed.find('(') == std::string::npos) {
    const kernels::ColumnView& named = program->columns[program->code[0].arg];
    for (size_t c = 0; c < views.size(); ++c) {
      if (named.data != nullptr && views[c].data == named.data && views[c].type == named.type) {
        out.view = views[c];
        out.def = table.type().column(c);
        out.def.name = trimmed;
        return out;
      }
    }
  }
  kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
  out.def = ValueDef(program->result, trimmed, true);
  if (as_program) {
    out.program = std::move(device_program);
    return out;
  }
  out.owned = kernels::Materialize(device_program.view, 0, table.rows(), /*nullable=*/true, ctx.exec);
  out.view = out.owned.view();
  return out;
}

namespace {

// When the order's first key is a column of `table` (or "(c is null)" then
// c, as SQL's NULLS FIRST and LAST are written), the rows of the zones that
// can hold its first `needed` rows that rank at or before the zones' bound
// (kernels::TopKZones, ZoneRowsAtMost), *count of them; else an empty
// buffer and *count 0.
kernels::Buffer ZoneCandidates(JobContext& ctx, const Table& table, const std::vector<OrderKey>& keys,
                               const std::vector<RowValues>& values, int64_t needed, int64_t* count) {
  *count = 0;
  if (keys.empty()) return kernels::Buffer();
  int column = ColumnOf(table, values[0].view);
  bool descending = keys[0].descending, nulls_first = !descending;
  if (column < 0 && keys.size() > 1 &&
      absl::StripAsciiWhitespace(keys[0].expr) ==
          absl::StrCat("(", absl::StripAsciiWhitespace(keys[1].expr), " is null)")) {
    column = ColumnOf(table, values[1].view);
    nulls_first = keys[0].descending;
    descending = keys[1].descending;
  }
  if (column < 0) return kernels::Buffer();
  const auto map = table.zone_map(column, ctx.exec);
  if (map == nullptr) return kernels::Buffer();
  kernels::RankBound bound;
  const std::vector<int64_t> zones = kernels::TopKZones(*map, descending, nulls_first, needed, &bound);
  if (zones.empty()) return kernels::Buffer();
  const kernels::OneThreadScope one_thread(
      ctx.exec, static_cast<int64_t>(zones.size()) * kernels::kZoneRows < kernels::kOneThreadRows);
  kernels::Buffer rows = kernels::ZoneRowsAtMost(table.views()[column], zones, bound, count, ctx.exec);
  // At least `needed` rows by TopKZones' contract; were it ever fewer, the
  // page would read past them: every row is ordered instead.
  if (*count < needed) {
    *count = 0;
    return kernels::Buffer();
  }
  return rows;
}

}  // namespace

absl::Status OrderRows(JobContext& ctx, const Table& table, const std::vector<OrderKey>& keys, RowSet* rows,
                       absl::string_view field, int64_t needed, const kernels::ColumnView* tiebreak) {
  if (keys.empty() && tiebreak == nullptr) return absl::OkStatus();
  std::vector<RowValues> values;
  std::vector<kernels::SortKey> sort_keys;
  for (const OrderKey& key : keys) {
    auto v = EvaluateRows(ctx, table, key.expr, field);
    if (!v.ok()) return v.status();
    values.push_back(*std::move(v));
  }
  // A string column with a dictionary (Table::dictionary) sorts by its
  // codes: integers in its values' order, a null's first.
  std::vector<std::shared_ptr<const kernels::Dictionary>> dictionaries;
  for (size_t i = 0; i < keys.size(); ++i) {
    kernels::ColumnView key = values[i].view;
    const bool text = key.type == kernels::PhysType::kVarChars || key.type == kernels::PhysType::kFixedChars;
    if (auto dictionary = text ? table.dictionary(ColumnOf(table, key), ctx.exec) : nullptr) {
      key = dictionary->codes.view();
      dictionaries.push_back(std::move(dictionary));
    }
    sort_keys.push_back({key, keys[i].descending});
  }
  if (tiebreak != nullptr) sort_keys.push_back({*tiebreak, false});
  kernels::Buffer order;
  if (needed >= 0 && needed < rows->count) {
    int64_t count = 0;
    kernels::Buffer candidates =
        rows->all ? ZoneCandidates(ctx, table, keys, values, needed, &count) : kernels::Buffer();
    const kernels::OneThreadScope one_thread(ctx.exec, count > 0 && count < kernels::kOneThreadRows);
    order = count > 0 ? kernels::TopKOrder(sort_keys, candidates.as<int64_t>(), count, needed, ctx.exec)
                      : kernels::TopKOrder(sort_keys, rows->data(), rows->count, needed, ctx.exec);
  } else {
    order = kernels::SortOrder(sort_keys, rows->data(), rows->count, ctx.exec);
  }
  rows->all = false;
  rows->indices = std::move(order);
  return absl::OkStatus();
}

absl::StatusOr<kernels::Column> EvaluateAs(JobContext& ctx, const Table& table, const std::string& text,
                                           const ColumnDef& def, absl::string_view field) {
  const int64_t n = table.rows();
  auto values = EvaluateRows(ctx, table, text, field);
  if (!values.ok()) return values.status();
  // An expression's values are declared nullable: with no null row they go
  // into a column that is not as they are (a null is refused below, by row).
  if (!def.nullable && values->def.nullable) {
    if (values->owned.size() == n) {
      values->owned.CountNulls(ctx.exec);
      values->view = values->owned.view();
    }
    if (values->view.validity == nullptr) values->def.nullable = false;
  }
  // Alike and of no subtype to check (subtypes.h): as they are.
  if (values->def.phys() == def.phys() && values->def.char_width == def.char_width &&
      (def.nullable || !values->def.nullable) && StringSubtype(def).empty()) {
    if (values->owned.size() == n && values->owned.nullable() == def.nullable) return std::move(values->owned);
    kernels::Column copy(def.phys(), def.char_width, def.nullable);
    copy.Append(values->view, ctx.exec);
    return copy;
  }
  // Another type: converted value by value, on the host.
  const HostColumn got = ToHost(values->view, true, 0, n, ctx.exec);
  HostColumn column(def.phys(), def.char_width, def.nullable);
  column.Reserve(n);
  DecodeOptions options;
  for (int64_t r = 0; r < n; ++r) {
    Json value = ValueToJson(values->def, got, r);
    if (absl::Status s = DecodeJsonValue(def, options, value, &column); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": row ", r, ": ", s.message()));
    }
  }
  return ToDevice(std::move(column), ctx.exec);
}

namespace {

// The rows [0, n) where `program` holds, a chunk at a time; with zone
// verdicts (ZoneVerdicts), only over the zones that may hold some.
absl::StatusOr<kernels::Selection> SelectByProgram(JobContext& ctx, const kernels::ProgramView& program, int64_t n,
                                                   const std::vector<kernels::ZoneVerdict>& verdicts = {}) {
  std::vector<RowRange> read;
  for (const ZoneRun& run : ZoneRuns(verdicts, n, false)) read.push_back(run.rows);
  kernels::Buffer mask(static_cast<size_t>(n), ctx.exec);
  absl::Status scanned = ForEachChunkOf(ctx, read, [&](int64_t begin, int64_t end) {
    kernels::EvaluateMask(program, begin, end, mask.as<uint8_t>() + begin, ctx.exec);
  });
  if (!scanned.ok()) return scanned;
  if (read.size() == 1 && read[0].begin == 0 && read[0].end == n)
    return kernels::Compact(mask.as<uint8_t>(), 0, n, ctx.exec);
  // Each range's rows, one after another.
  std::vector<kernels::Selection> parts;
  kernels::Selection out;
  for (const RowRange& r : read) {
    parts.push_back(kernels::Compact(mask.as<uint8_t>() + r.begin, r.begin, r.end - r.begin, ctx.exec));
    out.count += parts.back().count;
  }
  out.indices = kernels::Buffer(static_cast<size_t>(std::max<int64_t>(out.count, 1)) * sizeof(int64_t), ctx.exec);
  int64_t at = 0;
  for (const kernels::Selection& part : parts) {
    if (part.count > 0) {
      kernels::CopyOnDevice(out.indices.as<int64_t>() + at, part.indices.data(), part.count * sizeof(int64_t),
                            ctx.exec);
    }
    at += part.count;
  }
  return out;
}

}  // namespace

absl::StatusOr<kernels::Selection> SelectWhere(JobContext& ctx, const TableType& type,
                                               const std::vector<kernels::ColumnView>& views, int64_t n,
                                               const std::string& expression, absl::string_view field,
                                               const Table* table) {
  std::vector<std::shared_ptr<const kernels::Dictionary>> dictionaries;
  auto whole = CompilePredicate(ctx, expression, type, views, table, &dictionaries);
  if (!whole.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", whole.status().message()));
  const auto upload_and_select = [&](const kernels::Program& program) {
    kernels::DeviceProgram device_program = kernels::Upload(program, ctx.exec);
    return SelectByProgram(ctx, device_program.view, n, ZoneVerdicts(ctx, table, program));
  };
  if (kernels::CompileScanPlan(*whole).kind == kernels::PlanKind::kPredicate) return upload_and_select(*whole);
  // A conjunction of which only some parts have a scan plan: those select
  // first; the others run only over the rows they leave.
  const std::vector<std::string> parts = Conjuncts(expression);
  std::vector<std::string> planned, rest;
  for (const std::string& part : parts) {
    auto program = parts.size() > 1 ? CompilePredicate(ctx, part, type, views, table, &dictionaries) : whole;
    if (!program.ok()) return upload_and_select(*whole);
    (kernels::CompileScanPlan(*program).kind == kernels::PlanKind::kPredicate ? planned : rest).push_back(part);
  }
  if (planned.empty() || rest.empty()) return upload_and_select(*whole);
  const auto joined = [](const std::vector<std::string>& v) {
    std::vector<std::string> wrapped;
    for (const std::string& p : v) wrapped.push_back(absl::StrCat("(", p, ")"));
    return absl::StrJoin(wrapped, " and ");
  };
  auto first = SelectWhere(ctx, type, views, n, joined(planned), field, table);
  if (!first.ok() || first->count == 0) return first;
  // The other parts over those rows: the columns they read, gathered.
  const std::string others = joined(rest);
  auto referenced = ReferencedColumns(others, type);
  if (!referenced.ok()) return upload_and_select(*whole);
  const int64_t m = first->count;
  std::vector<kernels::Column> gathered;
  gathered.reserve(referenced->size());
  std::vector<kernels::ColumnView> subset = views;
  for (const std::string& name : *referenced) {
    const int c = type.Find(name);
    if (c < 0) return upload_and_select(*whole);
    gathered.push_back(kernels::Gather(views[c], first->indices.as<int64_t>(), m, type.column(c).nullable, ctx.exec));
    subset[c] = gathered.back().view();
  }
  auto program = CompileExpression(others, type, subset, ExprUse::kPredicate);
  if (!program.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", program.status().message()));
  kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
  auto kept = SelectByProgram(ctx, device_program.view, m);
  if (!kept.ok()) return kept;
  // Positions among those rows, made row numbers.
  const kernels::ColumnView positions{kernels::PhysType::kInt64, 0, m, first->indices.data()};
  kernels::Column rows = kernels::Gather(positions, kept->indices.as<int64_t>(), kept->count, false, ctx.exec);
  kernels::Selection out;
  out.count = kept->count;
  out.indices = kernels::Buffer(static_cast<size_t>(out.count) * sizeof(int64_t), ctx.exec);
  if (out.count > 0) kernels::CopyOnDevice(out.indices.data(), rows.view().data, out.count * sizeof(int64_t), ctx.exec);
  return out;
}

}  // namespace engine
