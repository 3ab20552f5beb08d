#include "engine/api/schema.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/api/field_path.h"

namespace engine {
namespace {

using Kind = TypeSchema::Kind;

// The records, as Avro record schemas: names, fields and types as in Kinetica's
// clients (gpudb.py), field lists as in the spec, plus "default" where a field
// has one (see api_schema.h).
constexpr const char kWrapper[] = R"({"type":"record","name":"gpudb_response","fields":[
  {"name":"status","type":"string"},
  {"name":"message","type":"string"},
  {"name":"data_type","type":"string"},
  {"name":"data","type":"bytes"},
  {"name":"data_str","type":"string"}]})";

struct EndpointText {
  const char* endpoint;
  const char* request;
  const char* response;
};

constexpr EndpointText kEndpoints[] = {
    // §2 Jobs.
    {"/create/job",
     R"({"type":"record","name":"create_job_request","fields":[
  {"name":"endpoint","type":"string"},
  {"name":"request_encoding","type":"string","default":"binary"},
  {"name":"data","type":"bytes","default":""},
  {"name":"data_str","type":"string","default":""},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"create_job_response","fields":[
  {"name":"job_id","type":"long"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/get/job",
     R"({"type":"record","name":"get_job_request","fields":[
  {"name":"job_id","type":"long"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"get_job_response","fields":[
  {"name":"endpoint","type":"string"},
  {"name":"job_status","type":"string"},
  {"name":"running","type":"boolean"},
  {"name":"progress","type":"int"},
  {"name":"successful","type":"boolean"},
  {"name":"response_encoding","type":"string"},
  {"name":"job_response","type":"bytes"},
  {"name":"job_response_str","type":"string"},
  {"name":"status_map","type":{"type":"map","values":"string"}},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/admin/alter/jobs",
     R"({"type":"record","name":"admin_alter_jobs_request","fields":[
  {"name":"job_ids","type":{"type":"array","items":"long"},"default":[]},
  {"name":"action","type":"string"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"admin_alter_jobs_response","fields":[
  {"name":"job_ids","type":{"type":"array","items":"long"},"default":[]},
  {"name":"action","type":"string"},
  {"name":"status","type":{"type":"array","items":"string"},"default":[]},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/admin/show/jobs",
     R"({"type":"record","name":"admin_show_jobs_request","fields":[
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"admin_show_jobs_response","fields":[
  {"name":"job_id","type":{"type":"array","items":"long"},"default":[]},
  {"name":"status","type":{"type":"array","items":"string"},"default":[]},
  {"name":"endpoint_name","type":{"type":"array","items":"string"},"default":[]},
  {"name":"time_received","type":{"type":"array","items":"long"},"default":[]},
  {"name":"auth_id","type":{"type":"array","items":"string"},"default":[]},
  {"name":"source_ip","type":{"type":"array","items":"string"},"default":[]},
  {"name":"query_text","type":{"type":"array","items":"string"},"default":[]},
  {"name":"user_data","type":{"type":"array","items":"string"},"default":[]},
  {"name":"flags","type":{"type":"array","items":"string"},"default":[]},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},

    // §3 Tables and types.
    {"/create/type",
     R"({"type":"record","name":"create_type_request","fields":[
  {"name":"type_definition","type":"string"},
  {"name":"label","type":"string"},
  {"name":"properties","type":{"type":"map","values":{"type":"array","items":"string"}},"default":{}},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"create_type_response","fields":[
  {"name":"type_id","type":"string"},
  {"name":"type_definition","type":"string"},
  {"name":"label","type":"string"},
  {"name":"properties","type":{"type":"map","values":{"type":"array","items":"string"}}},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/create/table",
     R"({"type":"record","name":"create_table_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"type_id","type":"string"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"create_table_response","fields":[
  {"name":"table_name","type":"string"},
  {"name":"type_id","type":"string"},
  {"name":"is_collection","type":"boolean"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/insert/records",
     R"({"type":"record","name":"insert_records_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"list","type":{"type":"array","items":"bytes"},"default":[]},
  {"name":"list_str","type":{"type":"array","items":"string"},"default":[]},
  {"name":"list_encoding","type":"string","default":"binary"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"insert_records_response","fields":[
  {"name":"record_ids","type":{"type":"array","items":"string"},"default":[]},
  {"name":"count_inserted","type":"int"},
  {"name":"count_updated","type":"int"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/insert/records/random",
     R"({"type":"record","name":"insert_records_random_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"count","type":"long"},
  {"name":"options","type":{"type":"map","values":{"type":"map","values":"double"}},"default":{}}]})",
     R"({"type":"record","name":"insert_records_random_response","fields":[
  {"name":"table_name","type":"string"},
  {"name":"count","type":"long"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/get/records",
     R"({"type":"record","name":"get_records_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"offset","type":"long","default":0},
  {"name":"limit","type":"long","default":-9999},
  {"name":"encoding","type":"string","default":"binary"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"get_records_response","fields":[
  {"name":"table_name","type":"string"},
  {"name":"type_name","type":"string"},
  {"name":"type_schema","type":"string"},
  {"name":"records_binary","type":{"type":"array","items":"bytes"},"default":[]},
  {"name":"records_json","type":{"type":"array","items":"string"},"default":[]},
  {"name":"total_number_of_records","type":"long"},
  {"name":"has_more_records","type":"boolean"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/get/records/bycolumn",
     R"({"type":"record","name":"get_records_by_column_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"column_names","type":{"type":"array","items":"string"},"default":[]},
  {"name":"offset","type":"long","default":0},
  {"name":"limit","type":"long","default":-9999},
  {"name":"encoding","type":"string","default":"binary"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"get_records_by_column_response","fields":[
  {"name":"table_name","type":"string"},
  {"name":"response_schema_str","type":"string"},
  {"name":"binary_encoded_response","type":"bytes"},
  {"name":"json_encoded_response","type":"string"},
  {"name":"total_number_of_records","type":"long"},
  {"name":"has_more_records","type":"boolean"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/show/table",
     R"({"type":"record","name":"show_table_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"show_table_response","fields":[
  {"name":"table_name","type":"string"},
  {"name":"table_names","type":{"type":"array","items":"string"},"default":[]},
  {"name":"table_descriptions","type":{"type":"array","items":{"type":"array","items":"string"}},"default":[]},
  {"name":"type_ids","type":{"type":"array","items":"string"},"default":[]},
  {"name":"type_schemas","type":{"type":"array","items":"string"},"default":[]},
  {"name":"type_labels","type":{"type":"array","items":"string"},"default":[]},
  {"name":"properties","type":{"type":"array","items":{"type":"map","values":{"type":"array","items":"string"}}},"default":[]},
  {"name":"additional_info","type":{"type":"array","items":{"type":"map","values":"string"}},"default":[]},
  {"name":"sizes","type":{"type":"array","items":"long"},"default":[]},
  {"name":"full_sizes","type":{"type":"array","items":"long"},"default":[]},
  {"name":"join_sizes","type":{"type":"array","items":"double"},"default":[]},
  {"name":"total_size","type":"long"},
  {"name":"total_full_size","type":"long"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/has/table",
     R"({"type":"record","name":"has_table_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"has_table_response","fields":[
  {"name":"table_name","type":"string"},
  {"name":"table_exists","type":"boolean"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/clear/table",
     R"({"type":"record","name":"clear_table_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"authorization","type":"string","default":""},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"clear_table_response","fields":[
  {"name":"table_name","type":"string"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/alter/table",
     R"({"type":"record","name":"alter_table_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"action","type":"string"},
  {"name":"value","type":"string"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"alter_table_response","fields":[
  {"name":"table_name","type":"string"},
  {"name":"action","type":"string"},
  {"name":"value","type":"string"},
  {"name":"type_id","type":"string"},
  {"name":"type_definition","type":"string"},
  {"name":"properties","type":{"type":"map","values":{"type":"array","items":"string"}}},
  {"name":"label","type":"string"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},

    // §4 Queries and changes.
    {"/filter",
     R"({"type":"record","name":"filter_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"view_name","type":"string"},
  {"name":"expression","type":"string"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"filter_response","fields":[
  {"name":"count","type":"long"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/filter/byrange",
     R"({"type":"record","name":"filter_by_range_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"view_name","type":"string"},
  {"name":"column_name","type":"string"},
  {"name":"lower_bound","type":"double"},
  {"name":"upper_bound","type":"double"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"filter_by_range_response","fields":[
  {"name":"count","type":"long"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/filter/bylist",
     R"({"type":"record","name":"filter_by_list_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"view_name","type":"string"},
  {"name":"column_values_map","type":{"type":"map","values":{"type":"array","items":"string"}}},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"filter_by_list_response","fields":[
  {"name":"count","type":"long"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/aggregate/groupby",
     R"({"type":"record","name":"aggregate_group_by_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"column_names","type":{"type":"array","items":"string"},"default":[]},
  {"name":"offset","type":"long","default":0},
  {"name":"limit","type":"long","default":-9999},
  {"name":"encoding","type":"string","default":"binary"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"aggregate_group_by_response","fields":[
  {"name":"response_schema_str","type":"string"},
  {"name":"binary_encoded_response","type":"bytes"},
  {"name":"json_encoded_response","type":"string"},
  {"name":"total_number_of_records","type":"long"},
  {"name":"has_more_records","type":"boolean"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/aggregate/statistics",
     R"({"type":"record","name":"aggregate_statistics_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"column_name","type":"string"},
  {"name":"stats","type":"string"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"aggregate_statistics_response","fields":[
  {"name":"stats","type":{"type":"map","values":"double"}},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/aggregate/unique",
     R"({"type":"record","name":"aggregate_unique_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"column_name","type":"string"},
  {"name":"offset","type":"long","default":0},
  {"name":"limit","type":"long","default":-9999},
  {"name":"encoding","type":"string","default":"binary"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"aggregate_unique_response","fields":[
  {"name":"table_name","type":"string"},
  {"name":"response_schema_str","type":"string"},
  {"name":"binary_encoded_response","type":"bytes"},
  {"name":"json_encoded_response","type":"string"},
  {"name":"has_more_records","type":"boolean"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/aggregate/minmax",
     R"({"type":"record","name":"aggregate_min_max_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"column_name","type":"string"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"aggregate_min_max_response","fields":[
  {"name":"min","type":"double"},
  {"name":"max","type":"double"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/aggregate/histogram",
     R"({"type":"record","name":"aggregate_histogram_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"column_name","type":"string"},
  {"name":"start","type":"double"},
  {"name":"end","type":"double"},
  {"name":"interval","type":"double"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"aggregate_histogram_response","fields":[
  {"name":"counts","type":{"type":"array","items":"double"},"default":[]},
  {"name":"start","type":"double"},
  {"name":"end","type":"double"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/update/records",
     R"({"type":"record","name":"update_records_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"expressions","type":{"type":"array","items":"string"},"default":[]},
  {"name":"new_values_maps","type":{"type":"array","items":{"type":"map","values":["string","null"]}},"default":[]},
  {"name":"records_to_insert","type":{"type":"array","items":"bytes"},"default":[]},
  {"name":"records_to_insert_str","type":{"type":"array","items":"string"},"default":[]},
  {"name":"record_encoding","type":"string","default":"binary"},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"update_records_response","fields":[
  {"name":"count_updated","type":"long"},
  {"name":"counts_updated","type":{"type":"array","items":"long"},"default":[]},
  {"name":"count_inserted","type":"long"},
  {"name":"counts_inserted","type":{"type":"array","items":"long"},"default":[]},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/delete/records",
     R"({"type":"record","name":"delete_records_request","fields":[
  {"name":"table_name","type":"string"},
  {"name":"expressions","type":{"type":"array","items":"string"},"default":[]},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"delete_records_response","fields":[
  {"name":"count_deleted","type":"long"},
  {"name":"counts_deleted","type":{"type":"array","items":"long"},"default":[]},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/create/jointable",
     R"({"type":"record","name":"create_join_table_request","fields":[
  {"name":"join_table_name","type":"string"},
  {"name":"table_names","type":{"type":"array","items":"string"},"default":[]},
  {"name":"column_names","type":{"type":"array","items":"string"},"default":[]},
  {"name":"expressions","type":{"type":"array","items":"string"},"default":[]},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"create_join_table_response","fields":[
  {"name":"join_table_name","type":"string"},
  {"name":"count","type":"long"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/execute/sql",
     R"({"type":"record","name":"execute_sql_request","fields":[
  {"name":"statement","type":"string"},
  {"name":"offset","type":"long","default":0},
  {"name":"limit","type":"long","default":-9999},
  {"name":"encoding","type":"string","default":"binary"},
  {"name":"request_schema_str","type":"string","default":""},
  {"name":"data","type":{"type":"array","items":"bytes"},"default":[]},
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"execute_sql_response","fields":[
  {"name":"count_affected","type":"long"},
  {"name":"response_schema_str","type":"string"},
  {"name":"binary_encoded_response","type":"bytes"},
  {"name":"json_encoded_response","type":"string"},
  {"name":"total_number_of_records","type":"long"},
  {"name":"has_more_records","type":"boolean"},
  {"name":"paging_table","type":"string"},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},

    // §7 What clients call when they connect.
    {"/show/system/properties",
     R"({"type":"record","name":"show_system_properties_request","fields":[
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"show_system_properties_response","fields":[
  {"name":"property_map","type":{"type":"map","values":"string"}},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
    {"/show/system/status",
     R"({"type":"record","name":"show_system_status_request","fields":[
  {"name":"options","type":{"type":"map","values":"string"},"default":{}}]})",
     R"({"type":"record","name":"show_system_status_response","fields":[
  {"name":"status_map","type":{"type":"map","values":"string"}},
  {"name":"info","type":{"type":"map","values":"string"},"default":{}}]})"},
};

// ---------------------------------------------------------------------------
// Normalize.

absl::Status FieldError(const std::string& path, absl::string_view problem) {
  if (path.empty()) return absl::InvalidArgumentError(problem);
  return absl::InvalidArgumentError(absl::StrCat("field '", path, "': ", problem));
}

absl::Status Mismatch(const std::string& path, Kind expected, const Json& got) {
  return FieldError(path, absl::StrCat("expected ", KindName(expected), ", got ",
                                       JsonTypeName(got)));
}

absl::Status NormalizeInteger(Kind kind, Json* value, const std::string& path) {
  constexpr double kTwo63 = 9223372036854775808.0;
  int64_t i = 0;
  switch (value->type()) {
    case Json::value_t::number_integer:
      i = value->get<int64_t>();
      break;
    case Json::value_t::number_unsigned: {
      const uint64_t u = value->get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return FieldError(path, absl::StrCat(value->dump(), " is out of range for ",
                                             KindName(kind)));
      }
      i = static_cast<int64_t>(u);
      break;
    }
    case Json::value_t::number_float: {
      const double d = value->get<double>();
      if (!std::isfinite(d) || d != std::trunc(d)) {
        return FieldError(path, absl::StrCat("expected ", KindName(kind), ", got ",
                                             value->dump()));
      }
      if (d < -kTwo63 || d >= kTwo63) {
        return FieldError(path, absl::StrCat(value->dump(), " is out of range for ",
                                             KindName(kind)));
      }
      i = static_cast<int64_t>(d);
      break;
    }
    default:
      return Mismatch(path, kind, *value);
  }
  if (kind == Kind::kInt &&
      (i < std::numeric_limits<int32_t>::min() || i > std::numeric_limits<int32_t>::max())) {
    return FieldError(path, absl::StrCat(value->dump(), " is out of range for int"));
  }
  *value = i;
  return absl::OkStatus();
}

absl::Status NormalizeAt(const TypeSchema& type, Json* value, std::string* path);

absl::Status NormalizeRecord(const TypeSchema& type, Json* value, std::string* path) {
  if (!value->is_object()) return Mismatch(*path, type.kind, *value);
  for (auto it = value->begin(); it != value->end(); ++it) {
    bool known = false;
    for (const FieldSchema& field : type.fields) known = known || field.name == it.key();
    if (!known) {
      PathScope scope(path, it.key());
      return absl::InvalidArgumentError(absl::StrCat("unknown field '", *path, "'"));
    }
  }
  Json out = Json::object();
  for (const FieldSchema& field : type.fields) {
    PathScope scope(path, field.name);
    auto it = value->find(field.name);
    if (it == value->end()) {
      if (!field.default_value) {
        return absl::InvalidArgumentError(absl::StrCat("missing field '", *path, "'"));
      }
      out[field.name] = *field.default_value;
      continue;
    }
    Json& slot = out[field.name] = std::move(*it);
    if (absl::Status s = NormalizeAt(*field.type, &slot, path); !s.ok()) return s;
  }
  *value = std::move(out);
  return absl::OkStatus();
}

absl::Status NormalizeAt(const TypeSchema& type, Json* value, std::string* path) {
  switch (type.kind) {
    case Kind::kString:
      if (!value->is_string()) return Mismatch(*path, type.kind, *value);
      return absl::OkStatus();
    case Kind::kBytes: {
      if (value->is_binary()) return absl::OkStatus();
      if (!value->is_string()) return Mismatch(*path, type.kind, *value);
      std::string bytes;
      if (!FromCodePoints(value->get_ref<const std::string&>(), &bytes)) {
        return FieldError(*path, "expected bytes, got a string with a code point above 255");
      }
      *value = Json::binary(Json::binary_t::container_type(bytes.begin(), bytes.end()));
      return absl::OkStatus();
    }
    case Kind::kInt:
    case Kind::kLong:
      return NormalizeInteger(type.kind, value, *path);
    case Kind::kFloat:
    case Kind::kDouble: {
      if (!value->is_number()) return Mismatch(*path, type.kind, *value);
      const double d = value->get<double>();
      if (type.kind == Kind::kFloat && std::isfinite(d) &&
          std::fabs(d) > std::numeric_limits<float>::max()) {
        return FieldError(*path, absl::StrCat(value->dump(), " is out of range for float"));
      }
      *value = d;
      return absl::OkStatus();
    }
    case Kind::kBoolean:
      if (!value->is_boolean()) return Mismatch(*path, type.kind, *value);
      return absl::OkStatus();
    case Kind::kArray: {
      if (!value->is_array()) return Mismatch(*path, type.kind, *value);
      for (size_t i = 0; i < value->size(); ++i) {
        PathScope scope(path, i);
        if (absl::Status s = NormalizeAt(*type.item, &(*value)[i], path); !s.ok()) return s;
      }
      return absl::OkStatus();
    }
    case Kind::kMap: {
      if (!value->is_object()) return Mismatch(*path, type.kind, *value);
      for (auto it = value->begin(); it != value->end(); ++it) {
        PathScope scope(path, it.key());
        if (absl::Status s = NormalizeAt(*type.item, &it.value(), path); !s.ok()) return s;
      }
      return absl::OkStatus();
    }
    case Kind::kRecord:
      return NormalizeRecord(type, value, path);
    case Kind::kNullable:
      if (value->is_null()) return absl::OkStatus();
      return NormalizeAt(*type.item, value, path);
  }
  return absl::InternalError("unhandled schema kind");
}

// ---------------------------------------------------------------------------
// The registry: the schemas above, parsed once.

[[noreturn]] void Fatal(const std::string& message) {
  std::fprintf(stderr, "engine/api_schema: %s\n", message.c_str());
  std::abort();
}

class Registry {
 public:
  Registry() {
    records_.push_back(ParseRecord(kWrapper));
    for (const EndpointText& text : kEndpoints) {
      const TypeSchema* request = ParseRecord(text.request);
      const TypeSchema* response = ParseRecord(text.response);
      records_.push_back(request);
      records_.push_back(response);
      endpoints_.push_back(EndpointSchema{text.endpoint, request, response});
    }
  }

  const std::vector<EndpointSchema>& endpoints() const { return endpoints_; }
  const std::vector<const TypeSchema*>& records() const { return records_; }

 private:
  const TypeSchema* ParseRecord(const char* text) {
    const TypeSchema* record = Parse(Json::parse(text));
    if (record->kind != Kind::kRecord) Fatal(absl::StrCat("not a record: ", text));
    return record;
  }

  const TypeSchema* Node(Kind kind, const TypeSchema* item = nullptr) {
    TypeSchema& node = nodes_.emplace_back();
    node.kind = kind;
    node.item = item;
    return &node;
  }

  const TypeSchema* Parse(const Json& avro) {
    if (avro.is_string()) {
      const std::string& name = avro.get_ref<const std::string&>();
      for (Kind kind : {Kind::kString, Kind::kBytes, Kind::kInt, Kind::kLong, Kind::kFloat,
                        Kind::kDouble, Kind::kBoolean}) {
        if (name == KindName(kind)) return Node(kind);
      }
      Fatal("unknown Avro type " + avro.dump());
    }
    if (avro.is_array()) {  // Only [T, "null"] is used.
      if (avro.size() != 2 || avro[1] != "null") Fatal("unsupported union " + avro.dump());
      return Node(Kind::kNullable, Parse(avro[0]));
    }
    const std::string type = avro.value("type", "");
    if (type == "array") return Node(Kind::kArray, Parse(avro.at("items")));
    if (type == "map") return Node(Kind::kMap, Parse(avro.at("values")));
    if (type != "record") Fatal("unsupported Avro type " + avro.dump());
    TypeSchema& record = nodes_.emplace_back();
    record.kind = Kind::kRecord;
    record.name = avro.at("name").get<std::string>();
    for (const Json& field : avro.at("fields")) {
      FieldSchema& out = record.fields.emplace_back();
      out.name = field.at("name").get<std::string>();
      out.type = Parse(field.at("type"));
      if (field.contains("default")) {
        absl::StatusOr<Json> value = Normalize(*out.type, field["default"]);
        if (!value.ok()) {
          Fatal(absl::StrCat(record.name, ".", out.name, ": bad default: ",
                             value.status().message()));
        }
        out.default_value = *std::move(value);
      }
    }
    return &record;
  }

  std::deque<TypeSchema> nodes_;  // Stable addresses.
  std::vector<EndpointSchema> endpoints_;
  std::vector<const TypeSchema*> records_;
};

const Registry& GetRegistry() {
  static const Registry* registry = new Registry();
  return *registry;
}

}  // namespace

const char* KindName(TypeSchema::Kind kind) {
  switch (kind) {
    case Kind::kString:
      return "string";
    case Kind::kBytes:
      return "bytes";
    case Kind::kInt:
      return "int";
    case Kind::kLong:
      return "long";
    case Kind::kFloat:
      return "float";
    case Kind::kDouble:
      return "double";
    case Kind::kBoolean:
      return "boolean";
    case Kind::kArray:
      return "array";
    case Kind::kMap:
      return "map";
    case Kind::kRecord:
      return "record";
    case Kind::kNullable:
      return "nullable";
  }
  return "unknown";
}

const char* JsonTypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    case Json::value_t::binary:
      return "bytes";
    case Json::value_t::discarded:
      break;
  }
  return "nothing";
}

const EndpointSchema* FindEndpointSchema(absl::string_view endpoint) {
  for (const EndpointSchema& schema : GetRegistry().endpoints()) {
    if (schema.endpoint == endpoint) return &schema;
  }
  return nullptr;
}

const std::vector<EndpointSchema>& AllEndpointSchemas() { return GetRegistry().endpoints(); }

const TypeSchema* FindRecord(absl::string_view record_name) {
  for (const TypeSchema* record : GetRegistry().records()) {
    if (record->name == record_name) return record;
  }
  return nullptr;
}

absl::StatusOr<Json> Normalize(const TypeSchema& type, Json value) {
  std::string path;
  if (absl::Status s = NormalizeAt(type, &value, &path); !s.ok()) return s;
  return value;
}

}  // namespace engine
