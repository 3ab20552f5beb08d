// /insert/records/frompayload, /insert/records/fromfiles, /export/records/tofiles:
// Kinetica's bulk loads and export. engine/io reads and writes the formats
// (delimited text, JSON, Parquet) and holds the files directory; here the
// options are read, the table is found (or created, from create_table_options
// or the data), and the records are appended all at once: a load that fails
// leaves the table as it was, and one that creates the table creates it only
// when it succeeds.

#include <unistd.h>

#include <algorithm>
#include <random>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "engine/api/options.h"
#include "engine/handlers/keys.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/handlers/rows.h"
#include "engine/handlers/shards.h"
#include "engine/io/files.h"
#include "engine/io/reader.h"
#include "engine/io/writer.h"
#include "engine/table/catalog.h"
#include "engine/table/record_codec.h"

namespace engine {
namespace {

// --- Options ----------------------------------------------------------------

// Options Kinetica documents that change what a load does and that this
// server does not do: refused rather than ignored.
constexpr const char* kUnsupportedLoadOptions[] = {"avro_schema",
                                                   "avro_schema_no_inference",
                                                   "column_formats",
                                                   "datasource_name",
                                                   "default_column_formats",
                                                   "gdal_configuration_options",
                                                   "kafka_group_id",
                                                   "kafka_offset_reset_policy",
                                                   "layer",
                                                   "local_time_offset",
                                                   "name_columns_from_file",
                                                   "pk_conflict_predicate_higher",
                                                   "pk_conflict_predicate_lower",
                                                   "schema_registry_schema_name",
                                                   "start_offsets",
                                                   "text_search_columns",
                                                   "transformations"};
constexpr const char* kUnsupportedTableOptions[] = {"foreign_keys", "foreign_shard_key", "partition_definitions",
                                                    "partition_keys", "partition_type"};

absl::Status Unsupported(absl::string_view field, absl::string_view why = "") {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": not supported by this server", why.empty() ? "" : " (", why, why.empty() ? "" : ")"));
}

// A one-character option: the character, "\t" for a tab; `empty_ok` lets
// "" mean none (returned as '\0').
absl::StatusOr<char> CharOption(const Json& request, absl::string_view key, char fallback, bool empty_ok = false) {
  const std::string* value = FindOption(request["options"], key);
  if (value == nullptr) return fallback;
  if (*value == "\\t") return '\t';
  if (value->size() == 1) return (*value)[0];
  if (value->empty() && empty_ok) return '\0';
  return absl::InvalidArgumentError(absl::StrCat("options.", key, ": expected one character, got '", *value, "'"));
}

// A whole-number option >= `min`.
absl::StatusOr<int64_t> IntOption(const Json& options, absl::string_view field, absl::string_view key, int64_t fallback,
                                  int64_t min) {
  const std::string* value = FindOption(options, key);
  if (value == nullptr) return fallback;
  int64_t n;
  if (!absl::SimpleAtoi(*value, &n) || n < min) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".", key, ": expected a whole number >= ", min, ", got '", *value, "'"));
  }
  return n;
}

// What a load request asks for.
struct LoadPlan {
  io::ReadOptions read;
  bool format_given = false;     // options.file_type
  bool delimiter_given = false;  // options.text_delimiter
  std::string bad_table;         // options.bad_record_table_name
  int64_t bad_limit = 10000;
  enum class Mode { kFull, kDryRun, kTypeOnly } mode = Mode::kFull;
  bool truncate_table = false;
  ExistingKey existing_key = ExistingKey::kError;  // update_on_existing_pk, ignore_existing_pk
  std::string type_id;  // create_table_options.type_id
  std::vector<std::string> primary_keys, shard_keys;
  bool replicated = false;  // create_table_options.is_replicated
};

absl::StatusOr<LoadPlan> ReadLoadPlan(const Json& request) {
  LoadPlan plan;
  const Json& options = request["options"];
  for (const char* key : kUnsupportedLoadOptions) {
    if (const std::string* v = FindOption(options, key); v != nullptr && !v->empty()) {
      return Unsupported(absl::StrCat("options.", key));
    }
  }
  auto upsert = BoolOption(request, "update_on_existing_pk", false);
  if (!upsert.ok()) return upsert.status();
  auto ignore = BoolOption(request, "ignore_existing_pk", false);
  if (!ignore.ok()) return ignore.status();
  plan.existing_key = *upsert ? ExistingKey::kUpdate : *ignore ? ExistingKey::kIgnore : ExistingKey::kError;
  for (const char* key : {"subscribe", "trim_space"}) {
    auto on = BoolOption(request, key, false);
    if (!on.ok()) return on.status();
    if (*on) return Unsupported(absl::StrCat("options.", key), "only 'false'");
  }
  if (Option(request, "table_insert_mode", "single") != "single") {
    return Unsupported("options.table_insert_mode", "only 'single'");
  }
  const std::string compression = Option(request, "compression_type", "auto");
  if (compression != "auto" && compression != "none") {
    return Unsupported("options.compression_type", "uncompressed data only: 'none' or 'auto'");
  }
  for (auto it = request["create_table_options"].begin(); it != request["create_table_options"].end(); ++it) {
    for (const char* key : kUnsupportedTableOptions) {
      if (it.key() == key && !it->get<std::string>().empty()) {
        return Unsupported(absl::StrCat("create_table_options.", key));
      }
    }
  }
  if (const std::string* id = FindOption(request["create_table_options"], "type_id")) plan.type_id = *id;
  for (const char* key : {"no_error_if_exists", "is_replicated", "is_result_table"}) {
    const std::string* value = FindOption(request["create_table_options"], key);
    if (value != nullptr && *value != "true" && *value != "false") {
      return absl::InvalidArgumentError(
          absl::StrCat("create_table_options.", key, ": expected 'true' or 'false', got '", *value, "'"));
    }
  }
  if (const std::string* v = FindOption(request["create_table_options"], "is_replicated"))
    plan.replicated = *v == "true";
  if (!request["modify_columns"].empty()) return Unsupported("modify_columns");

  io::ReadOptions& read = plan.read;
  if (const std::string* type = FindOption(options, "file_type")) {
    plan.format_given = true;
    if (*type == "delimited_text")
      read.format = io::FileFormat::kDelimitedText;
    else if (*type == "json")
      read.format = io::FileFormat::kJson;
    else if (*type == "parquet")
      read.format = io::FileFormat::kParquet;
    else if (*type == "avro" || *type == "gdb" || *type == "shapefile") {
      return Unsupported("options.file_type", "delimited_text, json or parquet");
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("options.file_type: expected delimited_text, json or parquet, got '", *type, "'"));
    }
  }
  const std::string on_error = Option(request, "error_handling", "abort");
  if (on_error == "abort")
    read.on_error = io::OnError::kAbort;
  else if (on_error == "skip" || on_error == "ignore_bad_records")
    read.on_error = io::OnError::kSkip;
  else if (on_error == "permissive")
    read.on_error = io::OnError::kPermissive;
  else {
    return absl::InvalidArgumentError(absl::StrCat(
        "options.error_handling: expected permissive, skip, ignore_bad_records or abort, got '", on_error, "'"));
  }
  const std::string mode = Option(request, "ingestion_mode", "full");
  if (mode == "full")
    plan.mode = LoadPlan::Mode::kFull;
  else if (mode == "dry_run")
    plan.mode = LoadPlan::Mode::kDryRun;
  else if (mode == "type_inference_only")
    plan.mode = LoadPlan::Mode::kTypeOnly;
  else {
    return absl::InvalidArgumentError(
        absl::StrCat("options.ingestion_mode: expected full, dry_run or type_inference_only, got '", mode, "'"));
  }
  if (auto dry = BoolOption(request, "dry_run", false); !dry.ok())
    return dry.status();
  else if (*dry)
    plan.mode = LoadPlan::Mode::kDryRun;

  io::TextFormat& text = read.text;
  plan.delimiter_given = FindOption(options, "text_delimiter") != nullptr;
  auto delimiter = CharOption(request, "text_delimiter", ',');
  auto quote = CharOption(request, "text_quote_character", '"', /*empty_ok=*/true);
  auto escape = CharOption(request, "text_escape_character", '\0', /*empty_ok=*/true);
  auto property = CharOption(request, "text_header_property_delimiter", '|');
  auto header = BoolOption(request, "text_has_header", true);
  auto truncate_strings = BoolOption(request, "truncate_strings", false);
  auto truncate_table = BoolOption(request, "truncate_table", false);
  auto batch = IntOption(options, "options", "batch_size", 50000, 1);
  auto skip = IntOption(options, "options", "skip_lines", 0, 0);
  auto max_records = IntOption(options, "options", "max_records_to_load", -1, 1);
  auto bad_limit = IntOption(options, "options", "bad_record_table_limit", 10000, 1);
  for (const absl::Status& s : {delimiter.status(), quote.status(), escape.status(), property.status(), header.status(),
                                truncate_strings.status(), truncate_table.status(), batch.status(), skip.status(),
                                max_records.status(), bad_limit.status()}) {
    if (!s.ok()) return s;
  }
  text.delimiter = *delimiter;
  text.quoting = *quote != '\0';
  if (text.quoting) text.quote = *quote;
  text.escaping = *escape != '\0';
  if (text.escaping) text.escape = *escape;
  text.header_property_delimiter = *property;
  text.has_header = *header;
  text.null_string = Option(request, "text_null_string", "\\N");
  text.comment = Option(request, "text_comment_string", "#");
  text.skip_lines = *skip;
  if (text.quoting && text.quote == text.delimiter) {
    return absl::InvalidArgumentError("options.text_quote_character: the same character as text_delimiter");
  }
  read.truncate_strings = *truncate_strings;
  plan.truncate_table = *truncate_table;
  read.batch_size = *batch;
  read.max_records = *max_records;
  read.columns_to_load = ListOption(request, "columns_to_load");
  read.columns_to_skip = ListOption(request, "columns_to_skip");
  plan.bad_table = Option(request, "bad_record_table_name");
  plan.bad_limit = *bad_limit;
  plan.primary_keys = ListOption(request, "primary_keys");
  plan.shard_keys = ListOption(request, "shard_keys");
  return plan;
}

// --- Loading ----------------------------------------------------------------

// One input of a load: a payload, or a file under the files directory.
struct Source {
  std::string name;  // for messages: "data_text", "data/trips.csv"
  io::Input input;
  io::FoundFile file;  // files only
  bool is_file = false;
};

// The type of the bad-record table, as Kinetica documents it.
TableType BadRecordType() {
  static const TableType type =
      *ParseTypeDefinition(R"([["line_number","long"],["line_rejected","string"],["error_message","string"]])", {}, "");
  return type;
}

// The type create_table_options.type_id names: a registered id, or the
// compact column list itself.
absl::StatusOr<TableType> CreateType(const JobContext& ctx, const std::string& type_id) {
  auto type =
      !type_id.empty() && type_id[0] == '[' ? ParseTypeDefinition(type_id, {}, "") : ctx.catalog.FindType(type_id);
  if (!type.ok()) {
    return absl::Status(type.status().code(), absl::StrCat("create_table_options.type_id: ", type.status().message()));
  }
  return type;
}

// `type` with primary_key / shard_key added to the columns `keys` names.
absl::StatusOr<TableType> WithKeys(const TableType& type, const std::vector<std::string>& keys, const char* property,
                                   const char* field) {
  std::vector<ColumnDef> columns = type.columns();
  for (const std::string& key : keys) {
    const int c = type.Find(key);
    if (c < 0)
      return absl::InvalidArgumentError(absl::StrCat("options.", field, ": the table has no column '", key, "'"));
    auto& props = columns[c].properties;
    if (std::find(props.begin(), props.end(), property) == props.end()) props.push_back(property);
  }
  return TableType(std::move(columns), type.label());
}

// Appends host rows to `table` at once (all or nothing); into an empty table,
// or with `replace`, they become its content: on a host device the host
// columns themselves (ToDevice), otherwise copies. An append copies from the
// host columns once (DeviceViews). A table with a primary key takes them as
// InsertWithKey does (`existing`); `inserted` and `updated` count the rows.
absl::Status Store(JobContext& ctx, Table& table, std::vector<HostColumn>* columns, bool replace, ExistingKey existing,
                   int64_t* inserted, int64_t* updated) {
  std::vector<kernels::Column> staged;
  *inserted = columns->empty() ? 0 : (*columns)[0].size;
  *updated = 0;
  if (!PrimaryKey(table.type()).empty()) {
    if (!replace)
      return InsertWithKey(ctx, table, DeviceViews(*columns, ctx.exec, &staged), existing, inserted, updated);
    // The rows with their keys checked in a table of their own, which then
    // becomes the content.
    Table fresh("", table.type(), &ctx.device, Table::Kind::kView);
    if (absl::Status s =
            InsertWithKey(ctx, fresh, DeviceViews(*columns, ctx.exec, &staged), existing, inserted, updated);
        !s.ok()) {
      return s;
    }
    std::vector<kernels::Column> rows;
    const std::vector<kernels::ColumnView> views = fresh.views();
    for (size_t c = 0; c < views.size(); ++c) {
      const ColumnDef& def = table.type().column(c);
      rows.emplace_back(def.phys(), def.char_width, def.nullable);
      rows.back().Append(views[c], ctx.exec);
    }
    return table.Replace(std::move(rows), ctx.exec);
  }
  if (replace || table.rows() == 0) {
    for (HostColumn& c : *columns) staged.push_back(ToDevice(std::move(c), ctx.exec));
    return table.Replace(std::move(staged), ctx.exec);
  }
  return table.Append(DeviceViews(*columns, ctx.exec, &staged), ctx.exec);
}

// Writes the bad records to the bad-record table (created when missing).
// `check_only`: only says whether the table can take them.
absl::Status WriteBadRecords(JobContext& ctx, const std::string& name, const io::Records& records, bool check_only) {
  const TableType type = BadRecordType();
  auto found = ctx.catalog.Find(name);
  if (found.ok() && ((*found)->kind() != Table::Kind::kTable || (*found)->type_id() != type.TypeId())) {
    return absl::InvalidArgumentError(
        absl::StrCat("options.bad_record_table_name: '", name,
                     "' exists and is not a table of line_number long, line_rejected string, error_message string"));
  }
  if (check_only) return absl::OkStatus();
  std::shared_ptr<Table> table = found.ok() ? *found : MakeTable(ctx, name, type, /*replicated=*/false);
  if (!found.ok()) {
    if (auto id = ctx.catalog.AddType(type); !id.ok()) return id.status();
    if (absl::Status s = ctx.catalog.Add(table); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("options.bad_record_table_name: ", s.message()));
    }
  }
  std::vector<HostColumn> columns = MakeHostColumns(type);
  for (const io::BadRecord& bad : records.bad) {
    columns[0].AppendInt(bad.line);
    columns[1].AppendString(bad.text);
    columns[2].AppendString(bad.error);
  }
  int64_t inserted = 0, updated = 0;
  return Store(ctx, *table, &columns, false, ExistingKey::kError, &inserted, &updated);
}

// Reads every source into records of the table (or of the type the first
// source gives), then stores them.
absl::StatusOr<Json> Load(JobContext& ctx, const Json& request, std::vector<Source> sources) {
  auto plan = ReadLoadPlan(request);
  if (!plan.ok()) return plan.status();
  const std::string& name = StringField(request, "table_name");
  std::shared_ptr<Table> table;
  if (auto found = ctx.catalog.Find(name); found.ok()) {
    table = *found;
    if (table->kind() == Table::Kind::kView) {
      return absl::InvalidArgumentError(absl::StrCat("table_name: '", table->name(), "' is a view; load into a table"));
    }
  }
  io::Records records;
  if (table != nullptr) {
    records = io::RecordsOf(table->type());
  } else if (!plan->type_id.empty()) {
    auto type = CreateType(ctx, plan->type_id);
    if (!type.ok()) return type.status();
    records = io::RecordsOf(*type);
  }
  records.max_bad = plan->bad_limit;
  if (!plan->bad_table.empty() && plan->read.on_error != io::OnError::kAbort) {
    if (absl::Status s = WriteBadRecords(ctx, plan->bad_table, records, /*check_only=*/true); !s.ok()) return s;
  }

  int64_t total_bytes = 0;
  for (const Source& s : sources) total_bytes += static_cast<int64_t>(s.input.bytes.size());
  int64_t bytes_before = 0;
  Json files = Json::array();
  for (Source& source : sources) {
    io::ReadOptions read = plan->read;
    read.source_name = source.name;
    const int64_t size = static_cast<int64_t>(source.input.bytes.size());
    if (!plan->format_given) {
      read.format = source.is_file                             ? io::FormatOfName(source.name)
                    : io::LooksLikeParquet(source.input.bytes) ? io::FileFormat::kParquet
                                                               : io::FileFormat::kDelimitedText;
    }
    if (!plan->delimiter_given && source.is_file) read.text.delimiter = io::DelimiterOfName(source.name);
    if (absl::StartsWith(source.input.bytes, "\x1f\x8b")) {
      return Unsupported(source.name, "gzip-compressed data; decompress it first");
    }
    auto progress = [&](int64_t done, int64_t total) {
      const int64_t part = total > 0 ? size * done / total : 0;
      return ctx.checkpoint((bytes_before + part) * 9, std::max<int64_t>(total_bytes, 1) * 10);
    };
    if (absl::Status s = io::ReadRecords(source.input, read, progress, &records); !s.ok()) return s;
    source.input = io::Input{};  // unmap a file once read
    bytes_before += size;
    if (source.is_file) files.push_back(source.name);
  }
  if (!records.has_type) return absl::InvalidArgumentError("no records to load");

  const bool create = table == nullptr;
  TableType type = records.type;
  if (create) {
    auto keyed = WithKeys(type, plan->primary_keys, "primary_key", "primary_keys");
    if (keyed.ok()) keyed = WithKeys(*keyed, plan->shard_keys, "shard_key", "shard_keys");
    if (!keyed.ok()) return keyed.status();
    type = *std::move(keyed);
  }
  int64_t inserted = records.rows, updated = 0;
  if (plan->mode == LoadPlan::Mode::kFull) {
    if (create) {
      // Clients look a table's type up by its id.
      if (auto id = ctx.catalog.AddType(type); !id.ok()) return id.status();
      table = MakeTable(ctx, name, type, plan->replicated);
      if (absl::Status s = ctx.catalog.Add(table); !s.ok()) {
        return absl::Status(s.code(), absl::StrCat("table_name: ", s.message()));
      }
    }
    if (records.rows > 0 || plan->truncate_table) {
      if (absl::Status s =
              Store(ctx, *table, &records.columns, plan->truncate_table, plan->existing_key, &inserted, &updated);
          !s.ok()) {
        return s;
      }
    }
    if (!plan->bad_table.empty() && !records.bad.empty() && plan->read.on_error != io::OnError::kAbort) {
      if (absl::Status s = WriteBadRecords(ctx, plan->bad_table, records, false); !s.ok()) return s;
    }
  } else if (plan->mode == LoadPlan::Mode::kTypeOnly) {
    inserted = 0;
  }
  Json info = Json::object();
  if (plan->mode == LoadPlan::Mode::kDryRun) info["dry_run"] = "true";
  if (!records.bad.empty()) {
    const io::BadRecord& first = records.bad.front();
    info["first_bad_record"] = absl::StrCat("line ", first.line, ": ", first.error);
  }
  const std::string label = type.label();
  Json response{{"table_name", name},
                {"type_id", type.TypeId()},
                {"type_definition", type.AvroSchema(label.empty() ? "type" : label)},
                {"type_label", label},
                {"type_properties", Json::object()},
                {"count_inserted", inserted},
                {"count_skipped", records.skipped},
                {"count_updated", updated},
                {"info", info}};
  for (const auto& [column, properties] : type.PropertyMap()) response["type_properties"][column] = properties;
  if (request.contains("filepaths")) response["files"] = files;
  return response;
}

// The names a load writes: its table, and the bad-record table if any.
absl::StatusOr<std::vector<Access>> LoadAccess(const Json& request) {
  auto access = WriteTableAccess(request);
  if (!access.ok()) return access;
  const std::string bad = Option(request, "bad_record_table_name");
  if (!bad.empty()) {
    if (absl::Status s = ValidateTableName(bad, "options.bad_record_table_name"); !s.ok()) return s;
    if (bad == StringField(request, "table_name")) {
      return absl::InvalidArgumentError("options.bad_record_table_name: the table being loaded");
    }
    access->push_back(Access{bad, true});
  }
  return access;
}

absl::StatusOr<Json> InsertRecordsFromPayload(JobContext& ctx, const Json& request) {
  const Json& text = request["data_text"];
  const Json& bytes = request["data_bytes"];
  absl::string_view data;
  if (bytes.is_binary() && !bytes.get_binary().empty()) {
    data = absl::string_view(reinterpret_cast<const char*>(bytes.get_binary().data()), bytes.get_binary().size());
  } else if (bytes.is_string()) {
    data = bytes.get_ref<const std::string&>();
  }
  const std::string& data_text = text.get_ref<const std::string&>();
  if (!data_text.empty() && !data.empty()) {
    return absl::InvalidArgumentError("data_text, data_bytes: give the records in one of them, not both");
  }
  if (data_text.empty() && data.empty()) {
    return absl::InvalidArgumentError("data_text, data_bytes: no records given");
  }
  Source source;
  source.name = data_text.empty() ? "data_bytes" : "data_text";
  source.input.bytes = data_text.empty() ? data : absl::string_view(data_text);
  std::vector<Source> sources;
  sources.push_back(std::move(source));
  return Load(ctx, request, std::move(sources));
}

absl::StatusOr<Json> InsertRecordsFromFiles(JobContext& ctx, const Json& request) {
  const io::FilesDir dir(ctx.limits.files_dir);
  const auto& paths = request["filepaths"];
  if (paths.empty()) return absl::InvalidArgumentError("filepaths: name at least one file");
  std::vector<Source> sources;
  std::set<std::string> seen;
  for (size_t i = 0; i < paths.size(); ++i) {
    auto found = dir.Match(paths[i].get<std::string>(), absl::StrCat("filepaths[", i, "]"));
    if (!found.ok()) return found.status();
    for (io::FoundFile& file : *found) {
      if (!seen.insert(file.path).second) continue;
      auto mapped = dir.Map(file);
      if (!mapped.ok()) return mapped.status();
      Source source;
      source.name = file.name;
      source.input = *std::move(mapped);
      source.file = std::move(file);
      source.is_file = true;
      sources.push_back(std::move(source));
    }
  }
  return Load(ctx, request, std::move(sources));
}

// --- Export -----------------------------------------------------------------

// The columns columns_to_export (or all but columns_to_skip) names, in order.
absl::StatusOr<std::vector<int>> ExportColumns(const TableType& type, const Json& request) {
  const std::vector<std::string> wanted = ListOption(request, "columns_to_export");
  const std::vector<std::string> skipped = ListOption(request, "columns_to_skip");
  if (!wanted.empty() && !skipped.empty()) {
    return absl::InvalidArgumentError("options.columns_to_skip: give columns_to_export or columns_to_skip, not both");
  }
  // An entry: a column name, a 1-based number, or a range "a..b".
  auto resolve = [&](const std::string& entry, const char* field, std::vector<int>* out) -> absl::Status {
    std::vector<absl::string_view> range = absl::StrSplit(entry, "..");
    int first, last;
    if (range.size() <= 2 && absl::SimpleAtoi(range[0], &first) &&
        absl::SimpleAtoi(range.size() == 2 ? range[1] : range[0], &last)) {
      for (int n : {first, last}) {
        if (n < 1 || static_cast<size_t>(n) > type.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("options.", field, ": column ", n, " is not in the table (1..", type.size(), ")"));
        }
      }
      for (int n = first;; n += first <= last ? 1 : -1) {
        out->push_back(n - 1);
        if (n == last) break;
      }
      return absl::OkStatus();
    }
    const int c = type.Find(entry);
    if (c < 0)
      return absl::InvalidArgumentError(absl::StrCat("options.", field, ": the table has no column '", entry, "'"));
    out->push_back(c);
    return absl::OkStatus();
  };
  std::vector<int> columns;
  for (const std::string& e : wanted) {
    if (absl::Status s = resolve(e, "columns_to_export", &columns); !s.ok()) return s;
  }
  if (wanted.empty()) {
    std::vector<int> drop;
    for (const std::string& e : skipped) {
      if (absl::Status s = resolve(e, "columns_to_skip", &drop); !s.ok()) return s;
    }
    for (size_t c = 0; c < type.size(); ++c) {
      if (std::find(drop.begin(), drop.end(), static_cast<int>(c)) == drop.end())
        columns.push_back(static_cast<int>(c));
    }
  }
  if (columns.empty()) return absl::InvalidArgumentError("options.columns_to_skip: no column left to export");
  return columns;
}

absl::StatusOr<io::WriteOptions> ReadWriteOptions(const Json& request) {
  for (const char* key : {"datasink_name", "column_formats", "default_column_formats"}) {
    if (!Option(request, key).empty()) return Unsupported(absl::StrCat("options.", key));
  }
  if (auto ddl = BoolOption(request, "export_ddl", false); !ddl.ok() || *ddl) {
    return ddl.ok() ? Unsupported("options.export_ddl", "only 'false'") : ddl.status();
  }
  io::WriteOptions out;
  const std::string type = Option(request, "file_type", "delimited_text");
  if (type == "parquet")
    out.format = io::FileFormat::kParquet;
  else if (type != "delimited_text") {
    return absl::InvalidArgumentError(
        absl::StrCat("options.file_type: expected delimited_text or parquet, got '", type, "'"));
  }
  const std::string compression =
      Option(request, "compression_type", out.format == io::FileFormat::kParquet ? "snappy" : "uncompressed");
  if (out.format == io::FileFormat::kDelimitedText && compression != "uncompressed" && compression != "none") {
    return Unsupported("options.compression_type", "text is written uncompressed");
  }
  out.compression = compression == "none" ? "uncompressed" : compression;
  auto delimiter = CharOption(request, "text_delimiter", ',');
  auto header = BoolOption(request, "text_has_header", true);
  auto typed = BoolOption(request, "kinetica_header", false);
  auto typed_delimiter = CharOption(request, "kinetica_header_delimiter", '|');
  for (const absl::Status& s : {delimiter.status(), header.status(), typed.status(), typed_delimiter.status()}) {
    if (!s.ok()) return s;
  }
  out.delimiter = *delimiter;
  out.header = *header;
  out.typed_header = *typed && *header;
  out.typed_header_delimiter = *typed_delimiter;
  out.null_string = Option(request, "text_null_string", "\\N");
  return out;
}

absl::StatusOr<Json> ExportRecordsToFiles(JobContext& ctx, const Json& request) {
  const io::FilesDir dir(ctx.limits.files_dir);
  const std::string& filepath = StringField(request, "filepath");
  if (!dir.enabled()) return dir.Match(filepath, "filepath").status();
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  auto options = ReadWriteOptions(request);
  if (!options.ok()) return options.status();
  auto columns = ExportColumns((*table)->type(), request);
  if (!columns.ok()) return columns.status();
  auto batch = IntOption(request["options"], "options", "batch_size", 1000000, 1);
  if (!batch.ok()) return batch.status();
  const std::string single = Option(request, "single_file", "true");
  if (single != "true" && single != "false" && single != "overwrite") {
    return absl::InvalidArgumentError(
        absl::StrCat("options.single_file: expected true, false or overwrite, got '", single, "'"));
  }
  // A directory gets "<table>_<random>.<extension>"; a name with an
  // extension is the file.
  const std::string extension =
      Option(request, "file_extension", options->format == io::FileFormat::kParquet ? ".parquet" : ".csv");
  std::string path = filepath;
  const absl::string_view last = absl::string_view(filepath).substr(filepath.rfind('/') + 1);
  if (dir.IsDirectory(filepath) || last.empty()) {
    std::random_device random;
    std::string base = (*table)->name();
    std::replace(base.begin(), base.end(), '.', '_');
    path = absl::StrCat(absl::StripSuffix(filepath, "/"), "/", base, "_",
                        absl::StrFormat("%08x%08x", random(), random()), extension);
  } else if (last.find('.') == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("filepath: '", filepath,
                     "' is neither a directory under the files directory nor a file name with an extension"));
  }
  auto created = dir.Create(path, single == "overwrite", "filepath");
  if (!created.ok()) return created.status();

  std::vector<ColumnDef> defs;
  for (int c : *columns) defs.push_back((*table)->type().column(c));
  const TableType type(std::move(defs), (*table)->type().label());
  std::shared_ptr<Table> local = LocalTable(ctx, *table);
  auto written = [&]() -> absl::StatusOr<int64_t> {
    auto writer = io::RecordWriter::Open(type, *options, created->fd);
    if (!writer.ok()) return writer.status();
    RowSet all;
    all.count = local->rows();
    for (int64_t begin = 0; begin < all.count; begin += *batch) {
      const int64_t end = std::min(all.count, begin + *batch);
      std::vector<HostColumn> fetched = FetchRows(ctx, *local, all, begin, end);
      std::vector<HostColumn> out;
      for (int c : *columns) out.push_back(std::move(fetched[c]));
      if (absl::Status s = (*writer)->Write(out); !s.ok()) return s;
      if (absl::Status s = ctx.checkpoint(end, all.count); !s.ok()) return s;
    }
    auto closed = (*writer)->Close();
    if (!closed.ok()) return closed.status();
    return all.count;
  }();
  if (!written.ok()) {
    ::unlink(created->path.c_str());  // no half-written file stays behind
    return written.status();
  }
  return Json{{"table_name", (*table)->name()},        {"count_exported", *written}, {"count_skipped", 0},
              {"files", Json::array({created->name})}, {"last_timestamp", 0},        {"data_text", Json::array()},
              {"data_bytes", Json::array()},           {"info", Json::object()}};
}

}  // namespace

void AddLoadingHandlers(HandlerMap* handlers) {
  (*handlers)["/insert/records/frompayload"] = Handler{false, LoadAccess, InsertRecordsFromPayload};
  (*handlers)["/insert/records/fromfiles"] = Handler{false, LoadAccess, InsertRecordsFromFiles};
  (*handlers)["/export/records/tofiles"] = Handler{true, ReadTableAccess, ExportRecordsToFiles};
}

}  // namespace engine
