// /create/type, /create/table, /show/table, /has/table, /clear/table.

#include "absl/strings/str_cat.h"
#include "engine/table/catalog.h"
#include "engine/handlers/request.h"
#include "engine/handlers/registry.h"

namespace engine {
namespace {

using PropertyMap = std::map<std::string, std::vector<std::string>>;

Json PropertiesToJson(const PropertyMap& properties) {
  Json out = Json::object();
  for (const auto& [column, list] : properties) out[column] = list;
  return out;
}

absl::StatusOr<std::vector<Access>> NoAccess(const Json&) { return std::vector<Access>{}; }

absl::StatusOr<Json> CreateType(JobContext& ctx, const Json& request) {
  PropertyMap properties;
  for (auto it = request["properties"].begin(); it != request["properties"].end(); ++it) {
    properties[it.key()] = it.value().get<std::vector<std::string>>();
  }
  auto type = ParseTypeDefinition(StringField(request, "type_definition"), properties,
                                  StringField(request, "label"));
  if (!type.ok()) return type.status();
  const std::string id = ctx.catalog.AddType(*type);
  return Json{{"type_id", id},
              {"type_definition", type->AvroSchema(type->label().empty() ? "type" : type->label())},
              {"label", type->label()},
              {"properties", PropertiesToJson(type->PropertyMap())},
              {"info", Json::object()}};
}

// type_id may name a registered type or give the compact column list itself.
absl::StatusOr<TableType> ResolveType(const JobContext& ctx, const std::string& type_id) {
  if (!type_id.empty() && (type_id[0] == '[' || type_id[0] == '{')) {
    auto type = ParseTypeDefinition(type_id, {}, "");
    if (!type.ok()) return absl::InvalidArgumentError(absl::StrCat("type_id: ", type.status().message()));
    ctx.catalog.AddType(*type);
    return type;
  }
  auto type = ctx.catalog.FindType(type_id);
  if (!type.ok()) return absl::NotFoundError(absl::StrCat("type_id: ", type.status().message()));
  return type;
}

absl::StatusOr<Json> CreateTable(JobContext& ctx, const Json& request) {
  const std::string& name = StringField(request, "table_name");
  auto type = ResolveType(ctx, StringField(request, "type_id"));
  if (!type.ok()) return type.status();
  auto no_error = BoolOption(request, "no_error_if_exists", false);
  if (!no_error.ok()) return no_error.status();
  for (const char* flag : {"is_replicated", "is_result_table"}) {
    if (auto v = BoolOption(request, flag, false); !v.ok()) return v.status();
  }
  auto table = std::make_shared<Table>(name, *type, &ctx.device, Table::Kind::kTable);
  if (absl::Status s = ctx.catalog.Add(table); !s.ok()) {
    auto existing = ctx.catalog.Find(name);
    if (!*no_error || !existing.ok() || (*existing)->type_id() != table->type_id()) {
      return absl::AlreadyExistsError(absl::StrCat("table_name: ", s.message(),
                                                   *no_error ? " with a different type" : ""));
    }
    table = *existing;
  }
  return Json{{"table_name", name},
              {"type_id", table->type_id()},
              {"is_collection", false},
              {"info", Json{{"qualified_table_name", name}}}};
}

absl::StatusOr<std::vector<Access>> ShowTableAccess(const Json& request) {
  const std::string& name = StringField(request, "table_name");
  if (name.empty()) return std::vector<Access>{};
  return ReadTableAccess(request);
}

absl::StatusOr<Json> ShowTable(JobContext& ctx, const Json& request) {
  const std::string& name = StringField(request, "table_name");
  auto no_error = BoolOption(request, "no_error_if_not_exists", false);
  if (!no_error.ok()) return no_error.status();
  std::vector<std::shared_ptr<Table>> tables;
  if (name.empty()) {
    tables = ctx.catalog.List();
  } else if (auto table = ctx.catalog.Find(name); table.ok()) {
    tables.push_back(*table);
  } else if (!*no_error) {
    return absl::NotFoundError(absl::StrCat("table_name: ", table.status().message()));
  }
  Json names = Json::array(), descriptions = Json::array(), type_ids = Json::array(),
       schemas = Json::array(), labels = Json::array(), properties = Json::array(),
       additional = Json::array(), sizes = Json::array(), join_sizes = Json::array();
  int64_t total = 0;
  for (const auto& t : tables) {
    const int64_t rows = t->rows();
    total += rows;
    names.push_back(t->name());
    descriptions.push_back(t->kind() == Table::Kind::kView ? Json::array({"VIEW"}) : Json::array());
    type_ids.push_back(t->type_id());
    schemas.push_back(t->type().AvroSchema(t->type().label().empty() ? "type" : t->type().label()));
    labels.push_back(t->type().label());
    properties.push_back(PropertiesToJson(t->type().PropertyMap()));
    additional.push_back(Json{{"device", t->device()->name()},
                              {"device_bytes", absl::StrCat(t->device_bytes())}});
    sizes.push_back(rows);
    join_sizes.push_back(static_cast<double>(rows));
  }
  return Json{{"table_name", name},
              {"table_names", names},
              {"table_descriptions", descriptions},
              {"type_ids", type_ids},
              {"type_schemas", schemas},
              {"type_labels", labels},
              {"properties", properties},
              {"additional_info", additional},
              {"sizes", sizes},
              {"full_sizes", sizes},
              {"join_sizes", join_sizes},
              {"total_size", total},
              {"total_full_size", total},
              {"info", Json::object()}};
}

absl::StatusOr<Json> HasTable(JobContext& ctx, const Json& request) {
  const std::string& name = StringField(request, "table_name");
  return Json{{"table_name", name}, {"table_exists", ctx.catalog.Has(name)}, {"info", Json::object()}};
}

absl::StatusOr<std::vector<Access>> ClearTableAccess(const Json& request) {
  if (StringField(request, "table_name").empty()) {
    return absl::InvalidArgumentError("table_name: clearing every table at once is not allowed; name a table");
  }
  return WriteTableAccess(request);
}

absl::StatusOr<Json> ClearTable(JobContext& ctx, const Json& request) {
  const std::string& name = StringField(request, "table_name");
  auto no_error = BoolOption(request, "no_error_if_not_exists", false);
  if (!no_error.ok()) return no_error.status();
  std::shared_ptr<Table> removed = ctx.catalog.Remove(name);
  if (removed == nullptr && !*no_error) {
    return absl::NotFoundError(absl::StrCat("table_name: table '", name, "' does not exist"));
  }
  if (removed != nullptr) {
    // Hand a big table's memory back to the OS rather than to the device's
    // block cache (unless a running job still reads it).
    constexpr size_t kTrimAfterBytes = size_t{64} << 20;
    Device* device = removed->device();
    const bool big = removed->device_bytes() >= kTrimAfterBytes;
    removed.reset();
    if (big && device != nullptr) device->memory().Trim();
  }
  return Json{{"table_name", name}, {"info", Json::object()}};
}

}  // namespace

void AddTableHandlers(HandlerMap* handlers) {
  (*handlers)["/create/type"] = Handler{false, NoAccess, CreateType};
  (*handlers)["/create/table"] = Handler{false, WriteTableAccess, CreateTable};
  (*handlers)["/show/table"] = Handler{true, ShowTableAccess, ShowTable};
  (*handlers)["/has/table"] = Handler{true, ReadTableAccess, HasTable};
  (*handlers)["/clear/table"] = Handler{false, ClearTableAccess, ClearTable};
}

}  // namespace engine
