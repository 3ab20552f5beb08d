// /create/type, /show/types, /create/table, /show/table, /has/table,
// /clear/table, /clear/tables, /show/table/metadata, /alter/table/metadata,
// /alter/wal, /show/wal.

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/handlers/shards.h"
#include "engine/table/catalog.h"

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
  auto id = ctx.catalog.AddType(*type);
  if (!id.ok()) return id.status();
  return Json{{"type_id", *id},
              {"type_definition", type->RecordSchema()},
              {"label", type->label()},
              {"properties", PropertiesToJson(type->PropertyMap())},
              {"info", Json::object()}};
}

// The types with the id `type_id` and the label `label`; an empty field
// matches any. An unknown non-empty type_id is an error.
absl::StatusOr<Json> ShowTypes(JobContext& ctx, const Json& request) {
  const std::string& type_id = StringField(request, "type_id");
  const std::string& label = StringField(request, "label");
  if (auto v = BoolOption(request, "no_join_types", false); !v.ok()) return v.status();
  std::vector<std::pair<std::string, TableType>> types;
  if (type_id.empty()) {
    types = ctx.catalog.Types();
  } else {
    auto type = ctx.catalog.FindType(type_id);
    if (!type.ok()) return absl::NotFoundError(absl::StrCat("type_id: ", type.status().message()));
    types.emplace_back(type_id, *std::move(type));
  }
  Json ids = Json::array(), schemas = Json::array(), labels = Json::array(), properties = Json::array();
  for (const auto& [id, type] : types) {
    if (!label.empty() && type.label() != label) continue;
    ids.push_back(id);
    schemas.push_back(type.RecordSchema());
    labels.push_back(type.label());
    properties.push_back(PropertiesToJson(type.PropertyMap()));
  }
  return Json{{"type_ids", ids},
              {"type_schemas", schemas},
              {"labels", labels},
              {"properties", properties},
              {"info", Json::object()}};
}

// type_id may name a registered type or give the compact column list itself.
absl::StatusOr<TableType> ResolveType(const JobContext& ctx, const std::string& type_id) {
  if (!type_id.empty() && (type_id[0] == '[' || type_id[0] == '{')) {
    auto type = ParseTypeDefinition(type_id, {}, "");
    if (!type.ok()) return absl::InvalidArgumentError(absl::StrCat("type_id: ", type.status().message()));
    if (auto id = ctx.catalog.AddType(*type); !id.ok()) return id.status();
    return type;
  }
  auto type = ctx.catalog.FindType(type_id);
  if (!type.ok()) return absl::NotFoundError(absl::StrCat("type_id: ", type.status().message()));
  return type;
}

// The name /create/table creates: table_name, or, with the deprecated
// options.collection_name and a bare table_name,
// "collection_name.table_name". Kinetica creates that schema when it is
// missing. (Kinetica's GPUdbTable sends the qualified name and the
// collection_name both; they must agree.)
struct NewTable {
  std::string name;
  std::string collection;  // the schema to create first, if missing; empty: none
};

absl::StatusOr<NewTable> NewTableName(const Json& request) {
  const std::string& name = StringField(request, "table_name");
  if (absl::Status s = ValidateTableName(name, "table_name"); !s.ok()) return s;
  const std::string collection = Option(request, "collection_name");
  if (collection.empty()) return NewTable{name, ""};
  if (absl::Status s = ValidateSchemaName(collection, "options.collection_name"); !s.ok()) return s;
  if (name.find('.') == std::string::npos) return NewTable{absl::StrCat(collection, ".", name), collection};
  if (SplitTableName(name).schema != collection) {
    return absl::InvalidArgumentError(absl::StrCat("options.collection_name: '", collection,
                                                   "' is not the schema table_name '", name, "' names"));
  }
  return NewTable{name, collection};
}

// The table written, and with options.collection_name its schema, which it
// may create.
absl::StatusOr<std::vector<Access>> CreateTableAccess(const Json& request) {
  auto table = NewTableName(request);
  if (!table.ok()) return table.status();
  std::vector<Access> access{{table->name, true}};
  if (!table->collection.empty()) access.push_back(Access{SchemaAccessName(table->collection), true});
  return access;
}

absl::StatusOr<Json> CreateTable(JobContext& ctx, const Json& request) {
  auto target = NewTableName(request);
  if (!target.ok()) return target.status();
  auto type = ResolveType(ctx, StringField(request, "type_id"));
  if (!type.ok()) return type.status();
  auto no_error = BoolOption(request, "no_error_if_exists", false);
  if (!no_error.ok()) return no_error.status();
  auto replicated = BoolOption(request, "is_replicated", false);
  if (!replicated.ok()) return replicated.status();
  if (auto v = BoolOption(request, "is_result_table", false); !v.ok()) return v.status();
  if (!target->collection.empty()) {
    if (absl::Status s = ctx.catalog.AddSchema(target->collection); !s.ok() && !absl::IsAlreadyExists(s)) return s;
  }
  std::shared_ptr<Table> table = MakeTable(ctx, target->name, *type, *replicated);
  if (absl::Status s = ctx.catalog.Add(table); !s.ok()) {
    if (absl::IsNotFound(s)) return absl::NotFoundError(absl::StrCat("table_name: ", s.message()));
    auto existing = ctx.catalog.Find(target->name);
    if (!*no_error || !existing.ok() || (*existing)->type_id() != table->type_id()) {
      return absl::AlreadyExistsError(absl::StrCat("table_name: ", s.message(),
                                                   *no_error ? " with a different type" : ""));
    }
    table = *existing;
  }
  return Json{{"table_name", StringField(request, "table_name")},
              {"type_id", table->type_id()},
              {"is_collection", false},
              {"info", Json{{"qualified_table_name", table->name()}}}};
}

// The parallel lists of a /show/table response, one entry per table, view
// or schema.
class TableListing {
 public:
  void AddTable(const std::string& name, const Table& t) {
    const int64_t rows = t.rows();
    total_ += rows;
    const std::string schema = SplitTableName(t.name()).schema;
    Json description = Json::array();
    if (t.kind() == Table::Kind::kView) description.push_back("VIEW");
    if (t.layout().kind == Layout::Kind::kReplicated) description.push_back("REPLICATED");
    // Where the rows are: the home device and every byte; per device, rows
    // and bytes (one entry for a single-device table).
    std::vector<const Table*> parts;
    if (!t.distributed()) parts.push_back(&t);
    for (const auto& s : t.shards()) parts.push_back(s.get());
    std::string devices, device_rows, device_bytes;
    for (const Table* p : parts) {
      const char* sep = devices.empty() ? "" : ",";
      absl::StrAppend(&devices, sep, p->device()->name());
      absl::StrAppend(&device_rows, sep, p->rows());
      absl::StrAppend(&device_bytes, sep, p->device_bytes());
    }
    std::string shard_key;
    for (int c : t.layout().shard_key) {
      absl::StrAppend(&shard_key, shard_key.empty() ? "" : ",", t.type().column(c).name);
    }
    Add(name, std::move(description), t.type_id(), t.type().RecordSchema(), t.type().label(),
        PropertiesToJson(t.type().PropertyMap()),
        Json{{"device", t.device()->name()},
             {"device_bytes", absl::StrCat(t.device_bytes())},
             {"shard_devices", devices},
             {"shard_rows", device_rows},
             {"shard_bytes", device_bytes},
             {"distribution", t.layout().name()},
             {"shard_key", shard_key},
             {"schema_name", schema},
             {"collection_names", schema}},
        rows);
  }

  void AddSchema(const std::string& name) {
    Add(name, Json::array({"SCHEMA"}), "", "", "", Json::object(), Json{{"schema_name", name}}, 0);
  }

  Json Response(const std::string& table_name) const {
    return Json{{"table_name", table_name},
                {"table_names", names_},
                {"table_descriptions", descriptions_},
                {"type_ids", type_ids_},
                {"type_schemas", schemas_},
                {"type_labels", labels_},
                {"properties", properties_},
                {"additional_info", additional_},
                {"sizes", sizes_},
                {"full_sizes", sizes_},
                {"join_sizes", join_sizes_},
                {"total_size", total_},
                {"total_full_size", total_},
                {"info", Json::object()}};
  }

 private:
  void Add(const std::string& name, Json description, const std::string& type_id, const std::string& schema,
           const std::string& label, Json properties, Json additional, int64_t rows) {
    names_.push_back(name);
    descriptions_.push_back(std::move(description));
    type_ids_.push_back(type_id);
    schemas_.push_back(schema);
    labels_.push_back(label);
    properties_.push_back(std::move(properties));
    additional_.push_back(std::move(additional));
    sizes_.push_back(rows);
    join_sizes_.push_back(static_cast<double>(rows));
  }

  Json names_ = Json::array(), descriptions_ = Json::array(), type_ids_ = Json::array(), schemas_ = Json::array(),
       labels_ = Json::array(), properties_ = Json::array(), additional_ = Json::array(), sizes_ = Json::array(),
       join_sizes_ = Json::array();
  int64_t total_ = 0;
};

// A name without a '.' may name a schema as well as a table of the default
// schema.
bool MayNameSchema(const std::string& name) { return name.find('.') == std::string::npos; }

absl::StatusOr<std::vector<Access>> ShowTableAccess(const Json& request) {
  const std::string& name = StringField(request, "table_name");
  if (name.empty() || name == "*") return std::vector<Access>{};
  auto access = ReadTableAccess(request);
  if (access.ok() && MayNameSchema(name)) access->push_back(Access{SchemaAccessName(name), false});
  return access;
}

// table_name: a table or view (listed under the name asked for); a schema
// (its tables and views, or with show_children=false the schema itself);
// empty: every table and view; "*": every schema, table and view.
absl::StatusOr<Json> ShowTable(JobContext& ctx, const Json& request) {
  const std::string& name = StringField(request, "table_name");
  auto no_error = BoolOption(request, "no_error_if_not_exists", false);
  if (!no_error.ok()) return no_error.status();
  auto show_children = BoolOption(request, "show_children", true);
  if (!show_children.ok()) return show_children.status();
  TableListing listing;
  if (name.empty() || name == "*") {
    if (name == "*") {
      for (const std::string& schema : ctx.catalog.Schemas()) listing.AddSchema(schema);
    }
    for (const auto& t : ctx.catalog.List()) listing.AddTable(t->name(), *t);
  } else if (auto table = ctx.catalog.Find(name); table.ok()) {
    listing.AddTable(name, **table);
  } else if (MayNameSchema(name) && ctx.catalog.HasSchema(name)) {
    if (*show_children) {
      for (const auto& t : ctx.catalog.ListSchema(name)) listing.AddTable(t->name(), *t);
    } else {
      listing.AddSchema(name);
    }
  } else if (!*no_error) {
    return absl::NotFoundError(absl::StrCat("table_name: ", table.status().message()));
  }
  return listing.Response(name);
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
  const bool existed = ctx.catalog.Has(name);
  auto removed = ctx.catalog.Remove(name);
  if (!removed.ok()) return removed.status();
  if (!existed && !*no_error) {
    return absl::NotFoundError(absl::StrCat("table_name: table '", name, "' does not exist"));
  }
  ReleaseRemovedTable(*std::move(removed));
  return Json{{"table_name", name}, {"info", Json::object()}};
}

absl::StatusOr<std::vector<Access>> ClearTablesAccess(const Json& request) {
  if (request["table_names"].empty()) {
    return absl::InvalidArgumentError("table_names: clearing every table at once is not allowed; name the tables");
  }
  return TableListAccess(request, "table_names", /*write=*/true);
}

// All or nothing: without no_error_if_not_exists a missing table fails the
// request before any table is cleared. `tables` maps each name to "".
absl::StatusOr<Json> ClearTables(JobContext& ctx, const Json& request) {
  const auto names = request["table_names"].get<std::vector<std::string>>();
  auto no_error = BoolOption(request, "no_error_if_not_exists", false);
  if (!no_error.ok()) return no_error.status();
  for (size_t i = 0; i < names.size() && !*no_error; ++i) {
    if (!ctx.catalog.Has(names[i])) {
      return absl::NotFoundError(absl::StrCat("table_names[", i, "]: table '", names[i], "' does not exist"));
    }
  }
  Json tables = Json::object();
  for (const std::string& name : names) {
    auto removed = ctx.catalog.Remove(name);
    if (!removed.ok()) return removed.status();
    ReleaseRemovedTable(*std::move(removed));
    tables[name] = "";
  }
  return Json{{"tables", tables}, {"info", Json::object()}};
}

// The tables of request.table_names, which must all exist.
absl::StatusOr<std::vector<std::shared_ptr<Table>>> FindTables(const JobContext& ctx, const Json& request) {
  const Json& names = request["table_names"];
  if (names.empty()) return absl::InvalidArgumentError("table_names: name at least one table");
  std::vector<std::shared_ptr<Table>> tables;
  for (size_t i = 0; i < names.size(); ++i) {
    auto table = ctx.catalog.Find(names[i].get_ref<const std::string&>());
    if (!table.ok()) return absl::NotFoundError(absl::StrCat("table_names[", i, "]: ", table.status().message()));
    tables.push_back(*std::move(table));
  }
  return tables;
}

absl::StatusOr<std::vector<Access>> ReadTablesAccess(const Json& request) {
  return TableListAccess(request, "table_names", /*write=*/false);
}

absl::StatusOr<std::vector<Access>> WriteTablesAccess(const Json& request) {
  return TableListAccess(request, "table_names", /*write=*/true);
}

absl::StatusOr<Json> ShowTableMetadata(JobContext& ctx, const Json& request) {
  auto tables = FindTables(ctx, request);
  if (!tables.ok()) return tables.status();
  Json maps = Json::array();
  for (const auto& t : *tables) maps.push_back(t->metadata());
  return Json{{"table_names", request["table_names"]}, {"metadata_maps", maps}, {"info", Json::object()}};
}

// Adds or replaces the keys of metadata_map on every table; an empty map
// clears their metadata.
absl::StatusOr<Json> AlterTableMetadata(JobContext& ctx, const Json& request) {
  auto tables = FindTables(ctx, request);
  if (!tables.ok()) return tables.status();
  const auto changes = request["metadata_map"].get<std::map<std::string, std::string>>();
  for (const auto& t : *tables) {
    if (absl::Status s = t->UpdateMetadata(changes); !s.ok()) return s;
  }
  return Json{{"table_names", request["table_names"]},
              {"metadata_map", request["metadata_map"]},
              {"info", Json::object()}};
}

// /alter/wal and /show/wal: table_names, where "*" stands for the server's
// own settings.
Json WithoutStar(const Json& request) {
  Json copy = request;
  Json names = Json::array();
  for (const Json& n : request["table_names"]) {
    if (n != "*") names.push_back(n);
  }
  copy["table_names"] = names;
  return copy;
}

absl::StatusOr<std::vector<Access>> AlterWalAccess(const Json& request) {
  return TableListAccess(WithoutStar(request), "table_names", /*write=*/true);
}

absl::StatusOr<std::vector<Access>> ShowWalAccess(const Json& request) {
  return TableListAccess(WithoutStar(request), "table_names", /*write=*/false);
}

// Sets the sync level of tables (sync_policy), or puts them back on the
// server's (restore_system_settings); "*" sets the server's own level.
absl::StatusOr<Json> AlterWal(JobContext& ctx, const Json& request) {
  const Json& names = request["table_names"];
  if (names.empty()) return absl::InvalidArgumentError("table_names: name at least one table, or \"*\" for the server");
  const Json& options = request["options"];
  std::string policy;
  bool restore = false;
  for (auto it = options.begin(); it != options.end(); ++it) {
    const std::string& value = it.value().get_ref<const std::string&>();
    if (it.key() == "sync_policy") {
      if (value != "none" && value != "background" && value != "flush" && value != "fsync") {
        return absl::InvalidArgumentError(absl::StrCat("options.sync_policy: '", value,
                                                       "' is not a sync level; use none, background, flush or fsync"));
      }
      policy = value;
    } else if (it.key() == "restore_system_settings") {
      auto v = BoolOption(request, "restore_system_settings", false);
      if (!v.ok()) return v.status();
      restore = *v;
    } else if (it.key() == "persist" || it.key() == "checksum") {
      // Table settings are always kept; records always carry a checksum.
    } else {
      return absl::InvalidArgumentError(absl::StrCat("options.", it.key(),
                                                     ": not supported; this server's write-ahead log takes "
                                                     "sync_policy and restore_system_settings"));
    }
  }
  if (restore && !policy.empty()) {
    return absl::InvalidArgumentError("options.restore_system_settings: cannot be used with sync_policy");
  }
  if (!restore && policy.empty()) {
    return absl::InvalidArgumentError("options: give sync_policy, or restore_system_settings=true");
  }
  std::vector<std::shared_ptr<Table>> tables;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i].get_ref<const std::string&>();
    if (name == "*") {
      if (restore) return absl::InvalidArgumentError(absl::StrCat("table_names[", i, "]: \"*\" has no system settings to restore"));
      continue;
    }
    auto table = ctx.catalog.Find(name);
    if (!table.ok()) return absl::NotFoundError(absl::StrCat("table_names[", i, "]: ", table.status().message()));
    if ((*table)->kind() != Table::Kind::kTable) {
      return absl::InvalidArgumentError(absl::StrCat("table_names[", i, "]: '", name, "' is a view, which is not kept"));
    }
    tables.push_back(*std::move(table));
  }
  for (const auto& t : tables) {
    if (absl::Status s = t->SetSyncPolicy(policy); !s.ok()) return s;
  }
  if (std::find(names.begin(), names.end(), "*") != names.end() && ctx.catalog.journal() != nullptr) {
    JournalChange change{JournalChange::Kind::kSyncPolicy, "*"};
    change.sync_policy = policy;
    if (absl::Status s = ctx.catalog.journal()->Log(change); !s.ok()) return s;
  }
  return Json{{"info", Json::object()}};
}

// The log's settings as each table sees them ("*": the server's). Without a
// data directory every level reads "memory only".
absl::StatusOr<Json> ShowWal(JobContext& ctx, const Json& request) {
  Json names = request["table_names"];
  if (names.empty()) names = Json::array({"*"});
  Journal* journal = ctx.catalog.journal();
  const Journal::Description d = journal != nullptr ? journal->Describe() : Journal::Description{"memory only", 0, 0};
  Json sizes = Json::array(), capacities = Json::array(), uncommitted = Json::array(), settings = Json::array();
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i].get_ref<const std::string&>();
    std::string policy = d.sync;
    bool own = false;
    if (name != "*") {
      auto table = ctx.catalog.Find(name);
      if (!table.ok()) return absl::NotFoundError(absl::StrCat("table_names[", i, "]: ", table.status().message()));
      const std::string p = (*table)->sync_policy();
      if (!p.empty() && journal != nullptr) {
        policy = p;
        own = true;
      }
    }
    sizes.push_back(Json::array({static_cast<int64_t>(d.log_bytes)}));
    capacities.push_back(static_cast<int64_t>(d.checkpoint_bytes));
    uncommitted.push_back(Json::array({0}));
    settings.push_back(Json{{"sync_policy", policy},
                            {"system_settings", own ? "false" : "true"},
                            {"checksum", "true"},
                            {"segment_count", "1"}});
  }
  return Json{{"table_names", names}, {"sizes", sizes},       {"capacities", capacities},
              {"uncommitted", uncommitted}, {"settings", settings}, {"info", Json::object()}};
}

}  // namespace

void AddTableHandlers(HandlerMap* handlers) {
  (*handlers)["/create/type"] = Handler{false, NoAccess, CreateType};
  (*handlers)["/show/types"] = Quick(Handler{true, NoAccess, ShowTypes});
  (*handlers)["/create/table"] = Handler{false, CreateTableAccess, CreateTable};
  (*handlers)["/show/table"] = Quick(Handler{true, ShowTableAccess, ShowTable});
  (*handlers)["/has/table"] = Quick(Handler{true, ReadTableAccess, HasTable});
  (*handlers)["/clear/table"] = Handler{false, ClearTableAccess, ClearTable};
  (*handlers)["/clear/tables"] = Handler{false, ClearTablesAccess, ClearTables};
  (*handlers)["/show/table/metadata"] = Quick(Handler{true, ReadTablesAccess, ShowTableMetadata});
  (*handlers)["/alter/table/metadata"] = Handler{false, WriteTablesAccess, AlterTableMetadata};
  (*handlers)["/alter/wal"] = Handler{false, AlterWalAccess, AlterWal};
  (*handlers)["/show/wal"] = Quick(Handler{true, ShowWalAccess, ShowWal});
}

}  // namespace engine
