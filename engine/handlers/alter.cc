// /alter/table: a table's columns and name.
//
// Actions (value and options as Kinetica's API spells them):
//   add_column      value: the new column's name; options.column_type (int,
//                   long, float, double, string, ...), column_properties
//                   ("char16,nullable"), column_default_value (every row's
//                   value; without it the rows hold null, so the column must
//                   be nullable), add_column_expression (an expression of
//                   each row's columns) or copy_values_from_column.
//   delete_column   value: the column's name.
//   change_column   value: the column's name; options.column_type and
//                   column_properties (the column's new type; unchanged
//                   when absent), rename_column (its new name),
//                   validate_change_column (true, the default: a value the
//                   new type cannot hold fails the change naming it; false:
//                   it becomes null).
//   rename_table    value: the new name.
// Each change builds the table anew (its rows converted on the host where a
// column's type changes) and replaces it in the catalog as one change
// (Catalog::Redefine). Views made from the table before keep the rows and
// columns they were made with.

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/handlers/rows.h"
#include "engine/handlers/shards.h"
#include "engine/table/host_column.h"
#include "engine/table/names.h"
#include "engine/table/record_codec.h"
#include "engine/table/subtypes.h"

namespace engine {
namespace {

absl::StatusOr<std::vector<Access>> AlterAccess(const Json& request) {
  auto access = WriteTableAccess(request);
  if (!access.ok()) return access;
  if (absl::AsciiStrToLower(StringField(request, "action")) == "rename_table") {
    const std::string& name = StringField(request, "value");
    if (absl::Status s = ValidateTableName(name, "value"); !s.ok()) return s;
    access->push_back(Access{name, true});
  }
  return access;
}

// A column definition from column_type and column_properties.
absl::StatusOr<ColumnDef> ParseColumn(const std::string& name, const std::string& type, const std::string& properties) {
  Json column = Json::array({name, type});
  for (absl::string_view p : absl::StrSplit(properties, ',', absl::SkipWhitespace())) {
    column.push_back(std::string(absl::StripAsciiWhitespace(p)));
  }
  auto parsed = ParseTypeDefinition(engine::DumpJson(Json::array({column})), {}, "");
  if (!parsed.ok()) return absl::InvalidArgumentError(absl::StrCat("options.column_type: ", parsed.status().message()));
  return parsed->column(0);
}

// `value` (JSON, as ValueToJson gives it) as a value of `to`: numbers and
// strings cross over as their text.
Json Reinterpret(const ColumnDef& to, const Json& value) {
  if (value.is_null()) return value;
  if (to.is_string() && !value.is_string())
    return Json(value.is_number_float() ? absl::StrCat(value.get<double>()) : engine::DumpJson(value));
  if (!to.is_string() && value.is_string()) {
    absl::StatusOr<Json> number = ParseJson(value.get<std::string>());
    if (number.ok() && (number->is_number() || number->is_boolean())) return *std::move(number);
  }
  return value;
}

// Every row of column `from` (def `from_def`) converted to `to`.
absl::StatusOr<kernels::Column> ConvertColumn(JobContext& ctx, const kernels::ColumnView& from,
                                              const ColumnDef& from_def, const ColumnDef& to, bool validate) {
  // The bytes copied as they are, unless each value must be checked: null
  // rows going into a column that takes none, or strings taking on a
  // subtype (datetime, ipv4, ...) they did not have.
  const absl::string_view subtype = StringSubtype(to);
  if (from_def.phys() == to.phys() && from_def.char_width == to.char_width && (to.nullable || !from_def.nullable) &&
      (subtype.empty() || subtype == StringSubtype(from_def))) {
    kernels::Column copy(to.phys(), to.char_width, to.nullable);
    copy.Append(from, ctx.exec);
    return copy;
  }
  const HostColumn values = ToHost(from, from_def.nullable, 0, from.size, ctx.exec);
  HostColumn out(to.phys(), to.char_width, to.nullable);
  out.Reserve(from.size);
  const DecodeOptions options;
  for (int64_t r = 0; r < from.size; ++r) {
    const Json value = Reinterpret(to, ValueToJson(from_def, values, r));
    absl::Status s = DecodeJsonValue(to, options, value, &out);
    if (s.ok()) continue;
    if (validate || !to.nullable) {
      return absl::InvalidArgumentError(absl::StrCat("options.column_type: row ", r, " holds ", engine::DumpJson(value),
                                                     ", which a ", to.type_name(), " column cannot: ", s.message(),
                                                     validate ? "" : " (and the column is not nullable)"));
    }
    out.AppendNull();
  }
  return ToDevice(std::move(out), ctx.exec);
}

// A column of `n` rows all holding `text` (a literal of `def`), or null.
absl::StatusOr<kernels::Column> FilledColumn(JobContext& ctx, const ColumnDef& def, int64_t n,
                                             const std::string* text) {
  HostColumn one(def.phys(), def.char_width, def.nullable);
  Json value(nullptr);
  if (text != nullptr) {
    absl::StatusOr<Json> parsed = def.is_string() ? Json(*text) : ParseJson(*text);
    value = parsed.ok() ? *std::move(parsed) : Json(*text);
  }
  if (absl::Status s = DecodeJsonValue(def, DecodeOptions(), value, &one); !s.ok()) {
    if (text == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("options.column_default_value: column '", def.name, "' is not nullable; give its value"));
    }
    return absl::InvalidArgumentError(absl::StrCat("options.column_default_value: ", s.message()));
  }
  HostColumn out(def.phys(), def.char_width, def.nullable);
  out.Reserve(n);
  for (int64_t r = 0; r < n; ++r) out.AppendRowOf(one, 0);
  return ToDevice(std::move(out), ctx.exec);
}

absl::StatusOr<Json> AlterTable(JobContext& ctx, const Json& request) {
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  const std::shared_ptr<Table>& old = *table;
  const std::string action = absl::AsciiStrToLower(StringField(request, "action"));
  const std::string& value = StringField(request, "value");
  if (old->kind() == Table::Kind::kView) {
    return absl::InvalidArgumentError(
        absl::StrCat("table_name: '", old->name(), "' is a view; alter a table (or make the view anew)"));
  }
  const TableType& type = old->type();
  // The rows as they are, on this device.
  std::shared_ptr<Table> local = LocalTable(ctx, old);
  const std::vector<kernels::ColumnView> views = local->views();
  const int64_t n = old->rows();
  std::vector<ColumnDef> defs = type.columns();
  std::vector<kernels::Column> columns;
  // A copy of old column c.
  const auto keep = [&](size_t c) {
    const ColumnDef& def = type.column(c);
    kernels::Column copy(def.phys(), def.char_width, def.nullable);
    copy.Append(views[c], ctx.exec);
    return copy;
  };
  std::string name = old->name();
  const auto find = [&](const std::string& column) -> absl::StatusOr<int> {
    const int c = type.Find(column);
    if (c < 0)
      return absl::NotFoundError(absl::StrCat("value: table '", old->name(), "' has no column '", column, "'"));
    return c;
  };
  if (action == "rename_table") {
    if (absl::Status s = ValidateTableName(value, "value"); !s.ok()) return s;
    name = value;
    for (size_t c = 0; c < defs.size(); ++c) columns.push_back(keep(c));
  } else if (action == "add_column") {
    if (type.Find(value) >= 0) {
      return absl::AlreadyExistsError(absl::StrCat("value: table '", old->name(), "' has a column '", value, "'"));
    }
    const std::string column_type = Option(request, "column_type");
    if (column_type.empty()) return absl::InvalidArgumentError("options.column_type: give the new column's type");
    auto def = ParseColumn(value, column_type, Option(request, "column_properties"));
    if (!def.ok()) return def.status();
    for (size_t c = 0; c < defs.size(); ++c) columns.push_back(keep(c));
    absl::StatusOr<kernels::Column> added;
    if (const std::string e = Option(request, "add_column_expression"); !e.empty()) {
      auto values = EvaluateRows(ctx, *local, e, "options.add_column_expression");
      if (!values.ok()) return values.status();
      added = ConvertColumn(ctx, values->view, values->def, *def, true);
    } else if (const std::string from = Option(request, "copy_values_from_column"); !from.empty()) {
      const int c = type.Find(from);
      if (c < 0) return absl::NotFoundError(absl::StrCat("options.copy_values_from_column: no column '", from, "'"));
      added = ConvertColumn(ctx, views[c], defs[c], *def, true);
    } else {
      const std::string text = Option(request, "column_default_value");
      const bool given = request["options"].contains("column_default_value");
      added = FilledColumn(ctx, *def, n, given ? &text : nullptr);
    }
    if (!added.ok()) return added.status();
    defs.push_back(*def);
    columns.push_back(*std::move(added));
  } else if (action == "delete_column") {
    auto c = find(value);
    if (!c.ok()) return c.status();
    if (defs.size() == 1) return absl::InvalidArgumentError("value: a table keeps at least one column");
    defs.erase(defs.begin() + *c);
    for (size_t i = 0; i < type.size(); ++i) {
      if (static_cast<int>(i) != *c) columns.push_back(keep(i));
    }
  } else if (action == "change_column") {
    auto c = find(value);
    if (!c.ok()) return c.status();
    auto validate = BoolOption(request, "validate_change_column", true);
    if (!validate.ok()) return validate.status();
    ColumnDef changed = defs[*c];
    const std::string column_type = Option(request, "column_type");
    const bool retyped = !column_type.empty() || request["options"].contains("column_properties");
    if (retyped) {
      std::string kind = column_type;
      if (kind.empty()) kind = changed.avro_type();
      auto def = ParseColumn(changed.name, kind, Option(request, "column_properties"));
      if (!def.ok()) return def.status();
      changed = *def;
    }
    if (const std::string renamed = Option(request, "rename_column"); !renamed.empty()) {
      if (type.Find(renamed) >= 0 && renamed != changed.name) {
        return absl::AlreadyExistsError(
            absl::StrCat("options.rename_column: table '", old->name(), "' has a column '", renamed, "'"));
      }
      changed.name = renamed;
    }
    for (size_t i = 0; i < type.size(); ++i) {
      if (static_cast<int>(i) != *c) {
        columns.push_back(keep(i));
        continue;
      }
      auto converted = ConvertColumn(ctx, views[i], defs[i], changed, *validate);
      if (!converted.ok()) return converted.status();
      columns.push_back(*std::move(converted));
    }
    defs[*c] = changed;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("action: expected add_column, delete_column, change_column or rename_table, got '", action, "'"));
  }
  TableType new_type(std::move(defs), type.label());
  if (absl::Status s = ctx.catalog.AddType(new_type).status(); !s.ok()) return s;
  // The table anew: laid out for its new type, then the catalog switched.
  std::shared_ptr<Table> replacement = MakeTable(ctx, name, new_type, old->layout().kind == Layout::Kind::kReplicated);
  if (absl::Status s = replacement->UpdateMetadata(old->metadata()); !s.ok()) return s;
  if (absl::Status s = replacement->SetSyncPolicy(old->sync_policy()); !s.ok()) return s;
  std::vector<kernels::ColumnView> rows;
  for (const auto& c : columns) rows.push_back(c.view());
  if (absl::Status s = replacement->Append(rows, ctx.exec); !s.ok()) return s;
  if (absl::Status s = ctx.catalog.Redefine(old, replacement, ctx.exec); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat(action == "rename_table" ? "value: " : "table_name: ", s.message()));
  }
  Json properties = Json::object();
  for (const auto& [column, list] : new_type.PropertyMap()) properties[column] = list;
  return Json{{"table_name", replacement->name()},
              {"action", action},
              {"value", value},
              {"type_id", replacement->type_id()},
              {"type_definition", new_type.RecordSchema()},
              {"properties", properties},
              {"label", new_type.label()},
              {"info", Json::object()}};
}

}  // namespace

void AddAlterHandlers(HandlerMap* handlers) { (*handlers)["/alter/table"] = Handler{false, AlterAccess, AlterTable}; }

}  // namespace engine
