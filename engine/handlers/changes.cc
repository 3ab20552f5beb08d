// /delete/records and /update/records: rows chosen by expressions leave the
// table or take new values, all at once (Table::ChangeRows).
//
// Each expression is and-ed with options.global_expression. A row goes with
// (or is updated by) the first expression that holds for it; counts_deleted
// and counts_updated count each row once, under that expression. The rows
// are chosen and the new values computed on each part of the table (each
// shard, on its device); then every part changes at once, recorded as one
// change in the journal.

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/expr/expression.h"
#include "engine/handlers/keys.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/handlers/rows.h"
#include "engine/handlers/shards.h"
#include "engine/table/record_codec.h"
#include "kernels/gather.h"
#include "kernels/shard.h"
#include "kernels/sort.h"

namespace engine {
namespace {

// The table named by table_name, which must be a table, not a view.
absl::StatusOr<std::shared_ptr<Table>> FindChangeTarget(const JobContext& ctx, const Json& request,
                                                        absl::string_view verb) {
  auto table = FindTable(ctx, request, "table_name");
  if (table.ok() && (*table)->kind() == Table::Kind::kView) {
    return absl::InvalidArgumentError(
        absl::StrCat("table_name: '", (*table)->name(), "' is a view; ", verb, " the rows of a table"));
  }
  return table;
}

// The condition of expression i: it holds, global holds, and no earlier
// expression holds (a null counts as not holding).
std::vector<std::string> FirstMatchConditions(const std::vector<std::string>& expressions, const std::string& global) {
  std::vector<std::string> out;
  std::vector<std::string> earlier;
  for (const std::string& e : expressions) {
    std::vector<std::string> parts;
    if (!global.empty()) parts.push_back(absl::StrCat("(", global, ")"));
    parts.push_back(absl::StrCat("(", e, ")"));
    if (!earlier.empty()) parts.push_back(absl::StrCat("not (", absl::StrJoin(earlier, " or "), ")"));
    out.push_back(absl::StrJoin(parts, " and "));
    earlier.push_back(absl::StrCat("ifnull((", e, "), 0) <> 0"));
  }
  return out;
}

// Compiles each expression alone, so that an error names its own field.
absl::Status CheckExpressions(const Table& table, const std::vector<std::string>& expressions,
                              const std::string& global) {
  const auto check = [&](const std::string& text, const std::string& field) -> absl::Status {
    if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": expression is empty"));
    auto columns = ReferencedColumns(text, table.type());
    if (!columns.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", columns.status().message()));
    return absl::OkStatus();
  };
  if (!global.empty()) {
    if (absl::Status s = check(global, "options.global_expression"); !s.ok()) return s;
  }
  for (size_t i = 0; i < expressions.size(); ++i) {
    if (absl::Status s = check(expressions[i], absl::StrCat("expressions[", i, "]")); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::vector<std::string> Strings(const Json& list) {
  std::vector<std::string> out;
  for (const Json& e : list) out.push_back(e.get<std::string>());
  return out;
}

// The rows of `part` each condition chooses, as one ascending list (they
// are disjoint), and how many each chose.
struct Chosen {
  kernels::Buffer rows;  // with several conditions; with one, sets[0] has them
  int64_t count = 0;
  std::vector<int64_t> counts;
  std::vector<RowSet> sets;  // each condition's rows
};

absl::StatusOr<Chosen> ChooseRows(JobContext& ctx, const Table& part, const std::vector<std::string>& conditions) {
  Chosen out;
  for (size_t i = 0; i < conditions.size(); ++i) {
    auto rows = SelectRows(ctx, part, conditions[i], absl::StrCat("expressions[", i, "]"));
    if (!rows.ok()) return rows.status();
    if (rows->all) {  // every row: as a list
      rows->all = false;
      rows->indices = kernels::RowPositions(0, rows->count, ctx.exec);
    }
    out.counts.push_back(rows->count);
    out.count += rows->count;
    out.sets.push_back(*std::move(rows));
  }
  if (out.sets.size() == 1) return out;  // its list is the rows (TakeRows)
  // Several lists: joined, then sorted.
  kernels::Column all(kernels::PhysType::kInt64, 0, false);
  for (const RowSet& s : out.sets) {
    all.Append(kernels::ColumnView{kernels::PhysType::kInt64, 0, s.count, s.indices.data()}, ctx.exec);
  }
  kernels::Buffer order = kernels::SortOrder({{all.view(), false}}, nullptr, out.count, ctx.exec);
  kernels::Column sorted = kernels::Gather(all.view(), order.as<int64_t>(), out.count, false, ctx.exec);
  out.rows = kernels::Buffer(static_cast<size_t>(out.count) * sizeof(int64_t), ctx.exec);
  if (out.count > 0) kernels::CopyOnDevice(out.rows.data(), sorted.view().data, out.count * sizeof(int64_t), ctx.exec);
  return out;
}

// The chosen rows as one ascending list, moved out of `chosen`.
kernels::Buffer TakeRows(Chosen* chosen) {
  return chosen->sets.size() == 1 ? std::move(chosen->sets[0].indices) : std::move(chosen->rows);
}

// The rows each expression chose over the parts of `table` (counts: per
// part, per expression); a replicated table counts one replica.
std::vector<int64_t> PerExpression(const Table& table, const std::vector<std::vector<int64_t>>& counts,
                                   size_t expressions) {
  const bool replicated = table.layout().kind == Layout::Kind::kReplicated && table.distributed();
  std::vector<int64_t> out(expressions, 0);
  for (size_t p = 0; p < (replicated ? std::min<size_t>(1, counts.size()) : counts.size()); ++p) {
    for (size_t e = 0; e < counts[p].size(); ++e) out[e] += counts[p][e];
  }
  return out;
}

Json Counts(const std::vector<int64_t>& counts) {
  Json out = Json::array();
  for (int64_t c : counts) out.push_back(c);
  return out;
}

// ---------------------------------------------------------------------------
// /delete/records

absl::StatusOr<Json> DeleteRecords(JobContext& ctx, const Json& request) {
  auto table = FindChangeTarget(ctx, request, "delete");
  if (!table.ok()) return table.status();
  auto all = BoolOption(request, "delete_all_records", false);
  if (!all.ok()) return all.status();
  const std::vector<std::string> expressions = Strings(request["expressions"]);
  const std::string global = Option(request, "global_expression");
  if (*all) {
    const int64_t rows = (*table)->rows();
    std::vector<kernels::Column> empty;
    for (const ColumnDef& c : (*table)->type().columns()) empty.emplace_back(c.phys(), c.char_width, c.nullable);
    if (absl::Status s = (*table)->Replace(std::move(empty), ctx.exec); !s.ok()) return s;
    return Json{{"count_deleted", rows}, {"counts_deleted", Json::array()}, {"info", Json::object()}};
  }
  if (expressions.empty() && global.empty()) {
    return absl::InvalidArgumentError(
        "expressions: give at least one expression (or options.global_expression, or "
        "options.delete_all_records=true)");
  }
  if (absl::Status s = CheckExpressions(**table, expressions, global); !s.ok()) return s;
  const std::vector<std::string> conditions = FirstMatchConditions(
      expressions.empty() ? std::vector<std::string>{global} : expressions, expressions.empty() ? "" : global);
  const size_t parts = (*table)->distributed() ? (*table)->shards().size() : 1;
  std::vector<Table::RowChange> changes(parts);
  std::vector<std::vector<int64_t>> counts(parts);
  absl::Status s = ForEachPart(ctx, **table, [&](JobContext& part_ctx, const Table& part, size_t i) -> absl::Status {
    auto chosen = ChooseRows(part_ctx, part, conditions);
    if (!chosen.ok()) return chosen.status();
    changes[i].deleted = TakeRows(&*chosen);
    changes[i].deleted_count = chosen->count;
    counts[i] = std::move(chosen->counts);
    kernels::Synchronize(part_ctx.exec);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  if (absl::Status s = (*table)->ChangeRows(changes, ctx.exec); !s.ok()) return s;
  const std::vector<int64_t> per_expression = PerExpression(**table, counts, conditions.size());
  int64_t total = 0;
  for (int64_t c : per_expression) total += c;
  return Json{{"count_deleted", total},
              {"counts_deleted", expressions.empty() ? Json::array() : Counts(per_expression)},
              {"info", Json::object()}};
}

// ---------------------------------------------------------------------------
// /update/records

// What a new_values_map sets: column -> its value text (a literal, or an
// expression), or null.
struct NewValue {
  int column;
  std::string field;  // "new_values_maps[i].column"
  bool null = false;
  std::string text;
};

absl::StatusOr<std::vector<NewValue>> ReadNewValues(const TableType& type, const Json& map, size_t i) {
  std::vector<NewValue> out;
  if (!map.is_object()) return absl::InvalidArgumentError(absl::StrCat("new_values_maps[", i, "]: expected a map"));
  for (const auto& [name, value] : map.items()) {
    const int c = type.Find(name);
    const std::string field = absl::StrCat("new_values_maps[", i, "].", name);
    if (c < 0) return absl::InvalidArgumentError(absl::StrCat(field, ": unknown column '", name, "'"));
    NewValue v{c, field, value.is_null(), value.is_null() ? "" : value.get<std::string>()};
    if (v.null && !type.column(c).nullable) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": column '", name, "' is not nullable"));
    }
    out.push_back(std::move(v));
  }
  if (out.empty()) return absl::InvalidArgumentError(absl::StrCat("new_values_maps[", i, "]: sets no column"));
  return out;
}

// `text` as a JSON value for column `def`: a number (or boolean) for the
// number columns, the text itself for string columns.
Json LiteralValue(const ColumnDef& def, const std::string& text) {
  if (def.is_string()) return Json(text);
  absl::StatusOr<Json> v = ParseJson(text);
  return !v.ok() || v->is_null() ? Json(text) : *std::move(v);
}

// The new value of column `def` (v.column) for the rows of `subset` (the
// rows being updated, the columns they read, on ctx's device): a literal
// repeated, a null, or an expression of the old row converted to the
// column's type.
absl::StatusOr<kernels::Column> NewColumn(JobContext& ctx, const Table& subset, const ColumnDef& def, const NewValue& v,
                                          bool expressions) {
  const int64_t n = subset.rows();
  HostColumn column(def.phys(), def.char_width, def.nullable);
  column.Reserve(n);
  DecodeOptions options;
  if (v.null || !expressions) {
    HostColumn one(def.phys(), def.char_width, def.nullable);
    const Json value = v.null ? Json(nullptr) : LiteralValue(def, v.text);
    if (absl::Status s = DecodeJsonValue(def, options, value, &one); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(v.field, ": ", s.message()));
    }
    for (int64_t r = 0; r < n; ++r) column.AppendRowOf(one, 0);
    return ToDevice(std::move(column), ctx.exec);
  }
  return EvaluateAs(ctx, subset, v.text, def, v.field);
}

// records_to_insert (binary, record_encoding "binary") or
// records_to_insert_str (JSON), decoded: one record per expression at most;
// empty host columns when none are given.
absl::StatusOr<std::vector<HostColumn>> RecordsToInsert(const Json& request, const TableType& type,
                                                        size_t expressions) {
  std::vector<HostColumn> out = MakeHostColumns(type);
  const Json& binary = request["records_to_insert"];
  const Json& text = request["records_to_insert_str"];
  const std::string& encoding = StringField(request, "record_encoding");
  const size_t given = encoding == "json" ? text.size() : BytesListReader(binary).size();
  if (encoding != "binary" && encoding != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("record_encoding: expected 'binary' or 'json', got '", encoding, "'"));
  }
  if (given == 0) return std::vector<HostColumn>();
  if (given > expressions) {
    return absl::InvalidArgumentError(absl::StrCat(encoding == "json" ? "records_to_insert_str" : "records_to_insert",
                                                   ": ", given, " records for ", expressions,
                                                   " expressions; give one per expression at most"));
  }
  DecodeOptions options;
  absl::Status s = encoding == "json" ? DecodeJsonRecords(type, text, options, &out)
                                      : DecodeAvroRecords(type, binary, options, &out);
  if (!s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(encoding == "json" ? "records_to_insert_str" : "records_to_insert", ": ", s.message()));
  }
  return out;
}

absl::StatusOr<Json> UpdateRecords(JobContext& ctx, const Json& request) {
  auto table = FindChangeTarget(ctx, request, "update");
  if (!table.ok()) return table.status();
  const TableType& type = (*table)->type();
  const std::vector<std::string> expressions = Strings(request["expressions"]);
  const Json& maps = request["new_values_maps"];
  const std::string global = Option(request, "global_expression");
  auto use_expressions = BoolOption(request, "use_expressions_in_new_values_maps", false);
  if (!use_expressions.ok()) return use_expressions.status();
  auto bypass = BoolOption(request, "bypass_safety_checks", false);
  if (!bypass.ok()) return bypass.status();
  auto upsert = BoolOption(request, "update_on_existing_pk", false);
  if (!upsert.ok()) return upsert.status();
  if (expressions.empty()) return absl::InvalidArgumentError("expressions: give at least one expression");
  if (maps.size() != expressions.size()) {
    return absl::InvalidArgumentError(absl::StrCat("new_values_maps: ", maps.size(), " maps for ", expressions.size(),
                                                   " expressions; give one per expression"));
  }
  auto inserts = RecordsToInsert(request, type, expressions.size());
  if (!inserts.ok()) return inserts.status();
  if (absl::Status s = CheckExpressions(**table, expressions, global); !s.ok()) return s;
  std::vector<std::vector<NewValue>> sets;
  bool changes_key = false;
  const std::vector<int> key = PrimaryKey(type);
  for (size_t i = 0; i < maps.size(); ++i) {
    auto values = ReadNewValues(type, maps[i], i);
    if (!values.ok()) return values.status();
    for (const NewValue& v : *values) {
      const bool in_key = std::find(key.begin(), key.end(), v.column) != key.end();
      changes_key = changes_key || in_key;
      const auto& shard_key = (*table)->layout().shard_key;
      if ((*table)->layout().kind == Layout::Kind::kSharded &&
          std::find(shard_key.begin(), shard_key.end(), v.column) != shard_key.end()) {
        return absl::InvalidArgumentError(absl::StrCat(v.field, ": column '", type.column(v.column).name,
                                                       "' is in the shard key of table '", (*table)->name(),
                                                       "'; its values cannot be changed"));
      }
    }
    sets.push_back(*std::move(values));
  }
  // The columns that take new values (every key column when the key
  // changes), and those the new values are computed from.
  std::set<int> updated_set, read_set;
  for (const auto& set : sets) {
    for (const NewValue& v : set) {
      updated_set.insert(v.column);
      if (*use_expressions && !v.null) {
        auto refs = ReferencedColumns(v.text, type);
        if (!refs.ok()) return absl::InvalidArgumentError(absl::StrCat(v.field, ": ", refs.status().message()));
        for (const std::string& name : *refs) read_set.insert(type.Find(name));
      }
    }
  }
  if (changes_key) updated_set.insert(key.begin(), key.end());
  const std::vector<int> updated_columns(updated_set.begin(), updated_set.end());
  read_set.insert(updated_set.begin(), updated_set.end());
  const std::vector<int> subset_columns(read_set.begin(), read_set.end());
  std::vector<ColumnDef> subset_defs;
  for (int c : subset_columns) subset_defs.push_back(type.column(c));
  const TableType subset_type(subset_defs, "");
  const std::vector<std::string> conditions = FirstMatchConditions(expressions, global);
  const size_t parts = (*table)->distributed() ? (*table)->shards().size() : 1;
  std::vector<Table::RowChange> changes(parts);
  std::vector<std::vector<int64_t>> counts(parts);
  // Without bypass_safety_checks, an update of the key chooses one row per
  // expression.
  const auto check_safety = [&](const std::vector<int64_t>& chose) -> absl::Status {
    if (!changes_key || *bypass) return absl::OkStatus();
    for (size_t e = 0; e < chose.size(); ++e) {
      if (chose[e] > 1) {
        return absl::InvalidArgumentError(
            absl::StrCat("expressions[", e, "]: an update of the primary key must choose one row; this one chose ",
                         chose[e], " (options.bypass_safety_checks=true allows it)"));
      }
    }
    return absl::OkStatus();
  };
  absl::Status s = ForEachPart(ctx, **table, [&](JobContext& part_ctx, const Table& part, size_t p) -> absl::Status {
    auto chosen = ChooseRows(part_ctx, part, conditions);
    if (!chosen.ok()) return chosen.status();
    if (absl::Status s = check_safety(chosen->counts); !s.ok()) return s;
    counts[p] = chosen->counts;
    Table::RowChange& change = changes[p];
    change.updated_count = chosen->count;
    if (chosen->count == 0) return absl::OkStatus();
    // Each expression's rows with their new values in the updated columns
    // (computed over a copy of the columns they read), then all of them in
    // row order.
    const std::vector<kernels::ColumnView> views = part.views();
    std::vector<std::vector<kernels::Column>> values(updated_columns.size());
    for (size_t e = 0; e < sets.size(); ++e) {
      const RowSet& rows = chosen->sets[e];
      if (rows.count == 0) continue;
      std::vector<kernels::Column> old;
      for (int c : subset_columns) {
        old.push_back(kernels::Gather(views[c], rows.data(), rows.count, type.column(c).nullable, part_ctx.exec));
      }
      auto subset = std::make_shared<Table>("", subset_type, &part_ctx.device, Table::Kind::kView);
      subset->Replace(std::move(old), part_ctx.exec).IgnoreError();  // no journal: cannot fail
      const std::vector<kernels::ColumnView> subset_views = subset->views();
      for (size_t i = 0; i < updated_columns.size(); ++i) {
        const int c = updated_columns[i];
        const ColumnDef& def = type.column(c);
        auto v = std::find_if(sets[e].begin(), sets[e].end(), [&](const NewValue& n) { return n.column == c; });
        if (v != sets[e].end()) {
          auto column = NewColumn(part_ctx, *subset, def, *v, *use_expressions);
          if (!column.ok()) return column.status();
          values[i].push_back(*std::move(column));
          continue;
        }
        kernels::Column same(def.phys(), def.char_width, def.nullable);
        same.Append(subset_views[subset_type.Find(def.name)], part_ctx.exec);
        values[i].push_back(std::move(same));
      }
    }
    // Row order: the expressions' lists merged (chosen->rows is sorted).
    kernels::Buffer order;
    if (values.empty() || values[0].size() > 1) {
      kernels::Column at(kernels::PhysType::kInt64, 0, false);
      for (const RowSet& rows : chosen->sets) {
        at.Append(kernels::ColumnView{kernels::PhysType::kInt64, 0, rows.count, rows.data()}, part_ctx.exec);
      }
      order = kernels::SortOrder({{at.view(), false}}, nullptr, chosen->count, part_ctx.exec);
    }
    change.columns = updated_columns;
    for (size_t i = 0; i < updated_columns.size(); ++i) {
      const ColumnDef& def = type.column(updated_columns[i]);
      if (values[i].size() == 1) {
        change.values.push_back(std::move(values[i][0]));
        continue;
      }
      kernels::Column joined(def.phys(), def.char_width, def.nullable);
      for (const kernels::Column& v : values[i]) joined.Append(v.view(), part_ctx.exec);
      change.values.push_back(
          kernels::Gather(joined.view(), order.as<int64_t>(), chosen->count, def.nullable, part_ctx.exec));
    }
    change.updated = TakeRows(&*chosen);
    if (changes_key) {
      auto replaced = CheckUpdatedKeys(part_ctx, part, key, change.updated, change.columns, change.values, *upsert);
      if (!replaced.ok()) return replaced.status();
      change.deleted_count = static_cast<int64_t>(replaced->size());
      change.deleted = kernels::Buffer(replaced->size() * sizeof(int64_t), part_ctx.exec);
      kernels::CopyToDevice(change.deleted.data(), replaced->data(), replaced->size() * sizeof(int64_t), part_ctx.exec);
    }
    kernels::Synchronize(part_ctx.exec);
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  const std::vector<int64_t> per_expression = PerExpression(**table, counts, conditions.size());
  int64_t total = 0;
  for (int64_t c : per_expression) total += c;
  if (absl::Status s = check_safety(per_expression); !s.ok()) return s;
  if (absl::Status s = (*table)->ChangeRows(changes, ctx.exec); !s.ok()) return s;
  // The records to insert for the expressions that chose no row.
  Json inserted_counts = Json::array();
  int64_t inserted_total = 0;
  if (!inserts->empty()) {
    std::vector<HostColumn> rows = MakeHostColumns(type);
    for (size_t e = 0; e < per_expression.size(); ++e) {
      if (per_expression[e] != 0 || e >= static_cast<size_t>((*inserts)[0].size)) continue;
      for (size_t c = 0; c < rows.size(); ++c) rows[c].AppendRowOf((*inserts)[c], static_cast<int64_t>(e));
    }
    std::vector<kernels::Column> staged;
    int64_t inserted = 0, replaced = 0;
    if (absl::Status s = InsertWithKey(ctx, **table, DeviceViews(rows, ctx.exec, &staged),
                                       *upsert ? ExistingKey::kUpdate : ExistingKey::kError, &inserted, &replaced);
        !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("records_to_insert: ", s.message()));
    }
    for (size_t e = 0; e < per_expression.size(); ++e) {
      const bool used = per_expression[e] == 0 && e < static_cast<size_t>((*inserts)[0].size);
      inserted_counts.push_back(used ? 1 : 0);
    }
    inserted_total = inserted + replaced;
  }
  return Json{{"count_updated", total},
              {"counts_updated", Counts(per_expression)},
              {"count_inserted", inserted_total},
              {"counts_inserted", inserted_counts},
              {"info", Json::object()}};
}

}  // namespace

void AddChangeHandlers(HandlerMap* handlers) {
  (*handlers)["/delete/records"] = Handler{false, WriteTableAccess, DeleteRecords};
  (*handlers)["/update/records"] = Handler{false, WriteTableAccess, UpdateRecords};
}

}  // namespace engine
