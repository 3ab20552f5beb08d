// /create/schema, /show/schema, /has/schema, /drop/schema: the schemas that
// hold tables and views (table/names.h). The default schema, ki_home, always
// exists and cannot be dropped.

#include "absl/strings/str_cat.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/table/catalog.h"

namespace engine {
namespace {

// Access to request.schema_name itself, not to its tables.
absl::StatusOr<std::vector<Access>> SchemaAccess(const Json& request, bool write) {
  const std::string& name = StringField(request, "schema_name");
  if (absl::Status s = ValidateSchemaName(name, "schema_name"); !s.ok()) return s;
  return std::vector<Access>{{SchemaAccessName(name), write}};
}

absl::StatusOr<std::vector<Access>> ReadSchemaAccess(const Json& request) { return SchemaAccess(request, false); }

absl::StatusOr<std::vector<Access>> WriteSchemaAccess(const Json& request) { return SchemaAccess(request, true); }

absl::StatusOr<Json> CreateSchema(JobContext& ctx, const Json& request) {
  const std::string& name = StringField(request, "schema_name");
  auto no_error = BoolOption(request, "no_error_if_exists", false);
  if (!no_error.ok()) return no_error.status();
  if (absl::Status s = ctx.catalog.AddSchema(name); !s.ok() && !(*no_error && absl::IsAlreadyExists(s))) {
    return absl::AlreadyExistsError(absl::StrCat("schema_name: ", s.message()));
  }
  return Json{{"schema_name", name}, {"info", Json::object()}};
}

absl::StatusOr<Json> HasSchema(JobContext& ctx, const Json& request) {
  const std::string& name = StringField(request, "schema_name");
  return Json{{"schema_name", name}, {"schema_exists", ctx.catalog.HasSchema(name)}, {"info", Json::object()}};
}

absl::StatusOr<std::vector<Access>> ShowSchemaAccess(const Json& request) {
  if (StringField(request, "schema_name").empty()) return std::vector<Access>{};
  return ReadSchemaAccess(request);
}

// schema_name: that schema; empty: every schema. schema_tables lists the
// names of each schema's tables and views as they are written elsewhere
// (bare in the default schema).
absl::StatusOr<Json> ShowSchema(JobContext& ctx, const Json& request) {
  const std::string& name = StringField(request, "schema_name");
  auto no_error = BoolOption(request, "no_error_if_not_exists", false);
  if (!no_error.ok()) return no_error.status();
  std::vector<std::string> schemas;
  if (name.empty()) {
    schemas = ctx.catalog.Schemas();
  } else if (ctx.catalog.HasSchema(name)) {
    schemas.push_back(name);
  } else if (!*no_error) {
    return absl::NotFoundError(absl::StrCat("schema_name: schema '", name, "' does not exist"));
  }
  Json tables = Json::array(), additional = Json::array();
  for (const std::string& schema : schemas) {
    Json names = Json::array();
    for (const auto& t : ctx.catalog.ListSchema(schema)) names.push_back(t->name());
    tables.push_back(std::move(names));
    additional.push_back(Json::object());
  }
  return Json{{"schema_name", name},
              {"schema_names", schemas},
              {"schema_tables", tables},
              {"additional_info", additional},
              {"info", Json::object()}};
}

// Without options.cascade only an empty schema is dropped; with it, its
// tables and views go too.
absl::StatusOr<Json> DropSchema(JobContext& ctx, const Json& request) {
  const std::string& name = StringField(request, "schema_name");
  auto no_error = BoolOption(request, "no_error_if_not_exists", false);
  if (!no_error.ok()) return no_error.status();
  auto cascade = BoolOption(request, "cascade", false);
  if (!cascade.ok()) return cascade.status();
  auto removed = ctx.catalog.RemoveSchema(name, *cascade);
  if (!removed.ok() && !(*no_error && absl::IsNotFound(removed.status()))) {
    return absl::Status(removed.status().code(), absl::StrCat("schema_name: ", removed.status().message()));
  }
  if (removed.ok()) {
    for (auto& table : *removed) ReleaseRemovedTable(std::move(table));
  }
  return Json{{"schema_name", name}, {"info", Json::object()}};
}

}  // namespace

void AddSchemaHandlers(HandlerMap* handlers) {
  (*handlers)["/create/schema"] = Handler{false, WriteSchemaAccess, CreateSchema};
  (*handlers)["/show/schema"] = Quick(Handler{true, ShowSchemaAccess, ShowSchema});
  (*handlers)["/has/schema"] = Quick(Handler{true, ReadSchemaAccess, HasSchema});
  (*handlers)["/drop/schema"] = Handler{false, WriteSchemaAccess, DropSchema};
}

}  // namespace engine
