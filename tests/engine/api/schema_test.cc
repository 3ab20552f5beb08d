#include "engine/api/schema.h"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace engine {
namespace {

using Kind = TypeSchema::Kind;

const TypeSchema& Request(absl::string_view endpoint) {
  const EndpointSchema* schema = FindEndpointSchema(endpoint);
  EXPECT_NE(schema, nullptr) << endpoint;
  return *schema->request;
}

const TypeSchema& Response(absl::string_view endpoint) {
  const EndpointSchema* schema = FindEndpointSchema(endpoint);
  EXPECT_NE(schema, nullptr) << endpoint;
  return *schema->response;
}

std::vector<std::string> FieldNames(const TypeSchema& record) {
  std::vector<std::string> names;
  for (const FieldSchema& field : record.fields) names.push_back(field.name);
  return names;
}

// The error message of Normalize(record, json), or "" when it succeeds.
std::string ErrorOf(const TypeSchema& record, const Json& json) {
  absl::StatusOr<Json> result = Normalize(record, json);
  if (result.ok()) return "";
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(result.status().message());
}

Json Bytes(const std::string& s) {
  return Json::binary(Json::binary_t::container_type(s.begin(), s.end()));
}

TEST(ApiSchemaTest, EveryEndpointOfTheSpecResolves) {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"/create/job", "create_job"},
      {"/get/job", "get_job"},
      {"/admin/alter/jobs", "admin_alter_jobs"},
      {"/admin/show/jobs", "admin_show_jobs"},
      {"/create/type", "create_type"},
      {"/show/types", "show_types"},
      {"/create/table", "create_table"},
      {"/create/schema", "create_schema"},
      {"/show/schema", "show_schema"},
      {"/has/schema", "has_schema"},
      {"/drop/schema", "drop_schema"},
      {"/insert/records", "insert_records"},
      {"/insert/records/random", "insert_records_random"},
      {"/insert/records/frompayload", "insert_records_from_payload"},
      {"/insert/records/fromfiles", "insert_records_from_files"},
      {"/get/records", "get_records"},
      {"/get/records/bycolumn", "get_records_by_column"},
      {"/get/records/fromcollection", "get_records_from_collection"},
      {"/export/records/tofiles", "export_records_to_files"},
      {"/show/table", "show_table"},
      {"/show/table/metadata", "show_table_metadata"},
      {"/has/table", "has_table"},
      {"/clear/table", "clear_table"},
      {"/clear/tables", "clear_tables"},
      {"/alter/table", "alter_table"},
      {"/alter/table/metadata", "alter_table_metadata"},
      {"/alter/wal", "alter_wal"},
      {"/show/wal", "show_wal"},
      {"/filter", "filter"},
      {"/filter/byrange", "filter_by_range"},
      {"/filter/bylist", "filter_by_list"},
      {"/filter/bystring", "filter_by_string"},
      {"/filter/byvalue", "filter_by_value"},
      {"/filter/bytable", "filter_by_table"},
      {"/aggregate/groupby", "aggregate_group_by"},
      {"/aggregate/statistics", "aggregate_statistics"},
      {"/aggregate/statistics/byrange", "aggregate_statistics_by_range"},
      {"/aggregate/unique", "aggregate_unique"},
      {"/aggregate/minmax", "aggregate_min_max"},
      {"/aggregate/histogram", "aggregate_histogram"},
      {"/update/records", "update_records"},
      {"/delete/records", "delete_records"},
      {"/create/jointable", "create_join_table"},
      {"/create/projection", "create_projection"},
      {"/create/union", "create_union"},
      {"/execute/sql", "execute_sql"},
      {"/show/system/properties", "show_system_properties"},
      {"/show/system/status", "show_system_status"},
  };
  ASSERT_EQ(AllEndpointSchemas().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& [endpoint, record] = expected[i];
    const EndpointSchema* schema = FindEndpointSchema(endpoint);
    ASSERT_NE(schema, nullptr) << endpoint;
    EXPECT_EQ(schema, &AllEndpointSchemas()[i]) << "spec order";
    EXPECT_EQ(schema->endpoint, endpoint);
    ASSERT_EQ(schema->request->kind, Kind::kRecord);
    ASSERT_EQ(schema->response->kind, Kind::kRecord);
    EXPECT_EQ(schema->request->name, record + "_request");
    EXPECT_EQ(schema->response->name, record + "_response");
    EXPECT_EQ(FindRecord(record + "_request"), schema->request);
    EXPECT_EQ(FindRecord(record + "_response"), schema->response);
  }
}

TEST(ApiSchemaTest, ResponseNamesAreTheSpecList) {
  // Spec §1, in its order.
  const std::vector<std::string> spec = {
      "create_job_response", "get_job_response", "admin_alter_jobs_response",
      "admin_show_jobs_response", "create_type_response", "create_table_response",
      "insert_records_response", "insert_records_random_response", "get_records_response",
      "get_records_by_column_response", "filter_response", "filter_by_range_response",
      "aggregate_group_by_response", "aggregate_statistics_response",
      "aggregate_unique_response", "aggregate_min_max_response",
      "aggregate_histogram_response", "update_records_response", "delete_records_response",
      "clear_table_response", "alter_table_response", "show_table_response",
      "has_table_response", "create_join_table_response", "execute_sql_response",
      "show_system_status_response", "show_system_properties_response"};
  std::set<std::string> registered;
  for (const EndpointSchema& schema : AllEndpointSchemas()) registered.insert(schema.response->name);
  // The spec's list omits filter_by_list_response, which /filter/bylist needs,
  // and the endpoints Kinetica's clients reach for beyond the spec (their
  // records as the client's schemas have them).
  for (const char* beyond : {"filter_by_list_response",
                             "show_types_response",
                             "create_schema_response",
                             "show_schema_response",
                             "has_schema_response",
                             "drop_schema_response",
                             "insert_records_from_payload_response",
                             "insert_records_from_files_response",
                             "get_records_from_collection_response",
                             "export_records_to_files_response",
                             "show_table_metadata_response",
                             "clear_tables_response",
                             "alter_table_metadata_response",
                             "filter_by_string_response",
                             "filter_by_value_response",
                             "filter_by_table_response",
                             "aggregate_statistics_by_range_response",
                             "alter_wal_response",
                             "show_wal_response",
                             "create_projection_response",
                             "create_union_response"}) {
    EXPECT_EQ(registered.erase(beyond), 1u) << beyond;
  }
  EXPECT_EQ(registered, std::set<std::string>(spec.begin(), spec.end()));
}

TEST(ApiSchemaTest, UnknownNamesAreNull) {
  EXPECT_EQ(FindEndpointSchema("/no/such"), nullptr);
  EXPECT_EQ(FindEndpointSchema("filter"), nullptr);
  EXPECT_EQ(FindEndpointSchema(""), nullptr);
  EXPECT_EQ(FindRecord("no_such_request"), nullptr);
  EXPECT_EQ(FindRecord(""), nullptr);
}

TEST(ApiSchemaTest, WrapperRecord) {
  const TypeSchema* wrapper = FindRecord("gpudb_response");
  ASSERT_NE(wrapper, nullptr);
  EXPECT_EQ(FieldNames(*wrapper),
            (std::vector<std::string>{"status", "message", "data_type", "data", "data_str"}));
  EXPECT_EQ(wrapper->fields[3].type->kind, Kind::kBytes);
}

TEST(ApiSchemaTest, FieldsTypesAndOrderFollowTheSpec) {
  const TypeSchema& job = Response("/get/job");
  EXPECT_EQ(FieldNames(job),
            (std::vector<std::string>{"endpoint", "job_status", "running", "progress",
                                      "successful", "response_encoding", "job_response",
                                      "job_response_str", "status_map", "info"}));
  EXPECT_EQ(job.fields[3].type->kind, Kind::kInt);
  EXPECT_EQ(job.fields[6].type->kind, Kind::kBytes);

  const TypeSchema& show_jobs = Response("/admin/show/jobs");
  EXPECT_EQ(FieldNames(show_jobs),
            (std::vector<std::string>{"job_id", "status", "endpoint_name", "time_received",
                                      "auth_id", "source_ip", "query_text", "user_data", "flags",
                                      "info"}));

  // map<map<double>>.
  const FieldSchema& random_options = Request("/insert/records/random").fields[2];
  EXPECT_EQ(random_options.type->kind, Kind::kMap);
  EXPECT_EQ(random_options.type->item->kind, Kind::kMap);
  EXPECT_EQ(random_options.type->item->item->kind, Kind::kDouble);

  // array<map<string or null>>.
  const FieldSchema& new_values = Request("/update/records").fields[2];
  EXPECT_EQ(new_values.name, "new_values_maps");
  EXPECT_EQ(new_values.type->kind, Kind::kArray);
  EXPECT_EQ(new_values.type->item->kind, Kind::kMap);
  EXPECT_EQ(new_values.type->item->item->kind, Kind::kNullable);
  EXPECT_EQ(new_values.type->item->item->item->kind, Kind::kString);

  // array<map<array<string>>>.
  const FieldSchema& properties = Response("/show/table").fields[6];
  EXPECT_EQ(properties.name, "properties");
  EXPECT_EQ(properties.type->kind, Kind::kArray);
  EXPECT_EQ(properties.type->item->kind, Kind::kMap);
  EXPECT_EQ(properties.type->item->item->kind, Kind::kArray);

  EXPECT_EQ(FieldNames(Request("/execute/sql")),
            (std::vector<std::string>{"statement", "offset", "limit", "encoding",
                                      "request_schema_str", "data", "options"}));
}

TEST(ApiSchemaTest, EveryOptionsAndInfoMapDefaultsToEmpty) {
  for (const EndpointSchema& schema : AllEndpointSchemas()) {
    for (const TypeSchema* record : {schema.request, schema.response}) {
      for (const FieldSchema& field : record->fields) {
        if (field.name == "options" || field.name == "info" ||
            field.type->kind == Kind::kArray) {
          ASSERT_TRUE(field.default_value.has_value()) << record->name << "." << field.name;
          EXPECT_TRUE(field.default_value->empty()) << record->name << "." << field.name;
        }
      }
    }
  }
}

TEST(ApiSchemaTest, NormalizeFillsDefaultsInSchemaOrder) {
  absl::StatusOr<Json> job =
      Normalize(Request("/create/job"), Json{{"data_str", "{}"}, {"endpoint", "/filter"}});
  ASSERT_TRUE(job.ok()) << job.status();
  const Json expected = {{"endpoint", "/filter"},
                         {"request_encoding", "binary"},
                         {"data", Bytes("")},
                         {"data_str", "{}"},
                         {"options", Json::object()}};
  EXPECT_EQ(*job, expected);
  EXPECT_EQ(job->dump(), expected.dump());  // order, not just content

  absl::StatusOr<Json> records = Normalize(Request("/get/records"), Json{{"table_name", "t"}});
  ASSERT_TRUE(records.ok()) << records.status();
  EXPECT_EQ(records->dump(),
            R"({"table_name":"t","offset":0,"limit":-9999,"encoding":"binary","options":{}})");
}

TEST(ApiSchemaTest, NormalizeKeepsGivenValues) {
  const Json request = {{"table_name", "t"},
                        {"offset", 10},
                        {"limit", 5},
                        {"encoding", "json"},
                        {"options", {{"expression", "x > 1"}}}};
  absl::StatusOr<Json> out = Normalize(Request("/get/records"), request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, request);
}

TEST(ApiSchemaTest, NormalizeConvertsNumbers) {
  const TypeSchema& range = Request("/filter/byrange");
  absl::StatusOr<Json> out = Normalize(range, {{"table_name", "t"},
                                               {"view_name", ""},
                                               {"column_name", "x"},
                                               {"lower_bound", 1},
                                               {"upper_bound", 2.5}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE((*out)["lower_bound"].is_number_float());
  EXPECT_EQ((*out)["lower_bound"].get<double>(), 1.0);

  // An integral double is fine for long and int.
  out = Normalize(Request("/get/records"), {{"table_name", "t"}, {"limit", 5.0}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE((*out)["limit"].is_number_integer());
  EXPECT_EQ((*out)["limit"].get<int64_t>(), 5);

  const TypeSchema& inserted = Response("/insert/records");
  out = Normalize(inserted, {{"count_inserted", 2147483647}, {"count_updated", -2147483648.0}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)["count_updated"].get<int64_t>(), -2147483648LL);
}

TEST(ApiSchemaTest, NormalizeConvertsCodePointStringsToBytes) {
  // "\xc3\xbf" is U+00FF: one byte 0xFF.
  const Json request = {{"table_name", "t"}, {"list", {"a\xc3\xbf", Bytes("\x01")}}};
  absl::StatusOr<Json> out = Normalize(Request("/insert/records"), request);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)["list"][0], Bytes("a\xff"));
  EXPECT_EQ((*out)["list"][1], Bytes("\x01"));

  EXPECT_EQ(ErrorOf(Request("/insert/records"), {{"table_name", "t"}, {"list", {"\xc4\x80"}}}),
            "field 'list[0]': expected bytes, got a string with a code point above 255");
}

TEST(ApiSchemaTest, NormalizeAcceptsNullOnlyWhereNullable) {
  const TypeSchema& update = Request("/update/records");
  absl::StatusOr<Json> out = Normalize(
      update, {{"table_name", "t"}, {"new_values_maps", {{{"a", nullptr}, {"b", "x + 1"}}}}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_TRUE((*out)["new_values_maps"][0]["a"].is_null());
  EXPECT_EQ((*out)["new_values_maps"][0]["b"], "x + 1");
  EXPECT_EQ((*out)["record_encoding"], "binary");

  EXPECT_EQ(ErrorOf(update, {{"table_name", "t"}, {"new_values_maps", {{{"a", 1}}}}}),
            "field 'new_values_maps[0].a': expected string, got number");
  EXPECT_EQ(ErrorOf(Request("/filter"), {{"table_name", nullptr}}),
            "field 'table_name': expected string, got null");
}

TEST(ApiSchemaTest, NormalizeRejectsBadInput) {
  const TypeSchema& job = Request("/create/job");
  EXPECT_EQ(ErrorOf(job, {{"endpoint", "/filter"}, {"options", {{"job_tag", 5}}}}),
            "field 'options.job_tag': expected string, got number");
  EXPECT_EQ(ErrorOf(job, Json::object()), "missing field 'endpoint'");
  EXPECT_EQ(ErrorOf(job, {{"endpoint", "/filter"}, {"endpont", "/filter"}}),
            "unknown field 'endpont'");
  EXPECT_EQ(ErrorOf(job, {{"endpoint", "/filter"}, {"options", {"a", "b"}}}),
            "field 'options': expected map, got array");
  EXPECT_EQ(ErrorOf(job, Json::array()), "expected record, got array");
  EXPECT_EQ(ErrorOf(job, {{"endpoint", "/filter"}, {"data", true}}),
            "field 'data': expected bytes, got boolean");

  const TypeSchema& filter = Request("/filter");
  EXPECT_EQ(ErrorOf(filter, {{"tabel_name", "t"}, {"view_name", ""}, {"expression", "x"}}),
            "unknown field 'tabel_name'");
  EXPECT_EQ(ErrorOf(filter, {{"view_name", ""}, {"expression", "x"}}),
            "missing field 'table_name'");

  const TypeSchema& insert = Request("/insert/records");
  EXPECT_EQ(ErrorOf(insert, {{"table_name", "t"}, {"list", {Bytes("a"), Bytes("b"), "c", 7}}}),
            "field 'list[3]': expected bytes, got number");
  EXPECT_EQ(ErrorOf(insert, {{"table_name", "t"}, {"list", "abc"}}),
            "field 'list': expected array, got string");

  const TypeSchema& records = Request("/get/records");
  EXPECT_EQ(ErrorOf(records, {{"table_name", "t"}, {"offset", 5.5}}),
            "field 'offset': expected long, got 5.5");
  EXPECT_EQ(ErrorOf(records, {{"table_name", "t"}, {"offset", "5"}}),
            "field 'offset': expected long, got string");
  EXPECT_EQ(ErrorOf(records, {{"table_name", "t"}, {"offset", 18446744073709551615ULL}}),
            "field 'offset': 18446744073709551615 is out of range for long");
  EXPECT_EQ(ErrorOf(records, {{"table_name", "t"}, {"offset", 1e19}}),
            "field 'offset': 1e+19 is out of range for long");

  const TypeSchema& job_response = Response("/get/job");
  Json progress = {{"endpoint", "/filter"}, {"job_status", "RUNNING"}, {"running", true},
                   {"progress", 3000000000LL}, {"successful", false},
                   {"response_encoding", "binary"}, {"job_response", Bytes("")},
                   {"job_response_str", ""}, {"status_map", Json::object()}};
  EXPECT_EQ(ErrorOf(job_response, progress), "field 'progress': 3000000000 is out of range for int");
  progress["progress"] = 50;
  progress["running"] = "true";
  EXPECT_EQ(ErrorOf(job_response, progress), "field 'running': expected boolean, got string");

  const TypeSchema& random = Request("/insert/records/random");
  EXPECT_EQ(ErrorOf(random, {{"table_name", "t"}, {"count", 1}, {"options", {{"x", {{"min", "0"}}}}}}),
            "field 'options.x.min': expected double, got string");
  EXPECT_EQ(ErrorOf(Request("/filter/bylist"),
                    {{"table_name", "t"}, {"view_name", ""}, {"column_values_map", {{"x", {"a", 1}}}}}),
            "field 'column_values_map.x[1]': expected string, got number");
}

TEST(ApiSchemaTest, NormalizeKeepsPackedByteListsWhereArraysOfBytesGo) {
  PackedBytesBuilder builder;
  builder.Add("a\xff");
  builder.Add("");
  const Json packed = builder.Finish();
  const TypeSchema& insert = Request("/insert/records");
  absl::StatusOr<Json> out = Normalize(insert, {{"table_name", "t"}, {"list", packed}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)["list"], packed);  // as it was, not an array
  EXPECT_EQ(UnpackBytes((*out)["list"]), Json::array({Bytes("a\xff"), Bytes("")}));
  // Only an array<bytes> takes one: list_str is array<string>.
  EXPECT_EQ(ErrorOf(insert, {{"table_name", "t"}, {"list_str", packed}}),
            "field 'list_str': expected array, got bytes");
  // A plain binary value is not a list.
  EXPECT_EQ(ErrorOf(insert, {{"table_name", "t"}, {"list", Bytes("abc")}}),
            "field 'list': expected array, got bytes");
}

TEST(ApiSchemaTest, NormalizeNamesTheItemOfAScalarArrayThatFails) {
  // Scalar items are checked without their path, which is made only for
  // the one that fails: the message is the same, whichever item it is.
  const TypeSchema& list = *Request("/insert/records").fields[2].type;  // list_str: array<string>
  Json items = Json::array();
  for (int i = 0; i < 1000; ++i) items.push_back("x");
  items[777] = 5;
  EXPECT_EQ(ErrorOf(list, items), "field '[777]': expected string, got number");
  EXPECT_EQ(ErrorOf(Request("/insert/records"), {{"table_name", "t"}, {"list_str", items}}),
            "field 'list_str[777]': expected string, got number");
  // Integers are converted in place, and left as they were when they fail.
  const TypeSchema& ids = *Request("/admin/alter/jobs").fields[0].type;  // job_ids: array<long>
  absl::StatusOr<Json> converted = Normalize(ids, Json::array({1.0, 2, -3.0}));
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(converted->dump(), "[1,2,-3]");
  EXPECT_EQ(ErrorOf(ids, Json::array({1, 2.5})), "field '[1]': expected long, got 2.5");
}

TEST(ApiSchemaTest, NormalizeWorksForResponses) {
  const TypeSchema& response = Response("/aggregate/statistics");
  absl::StatusOr<Json> out = Normalize(response, {{"stats", {{"count", 3}, {"mean", 1.5}}}});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->dump(), R"({"stats":{"count":3.0,"mean":1.5},"info":{}})");
  EXPECT_EQ(ErrorOf(response, Json::object()), "missing field 'stats'");
}

TEST(ApiSchemaTest, NormalizeWorksOnNonRecordTypes) {
  const TypeSchema& options = *Request("/filter").fields[3].type;
  EXPECT_EQ(ErrorOf(options, 5), "expected map, got number");
  absl::StatusOr<Json> out = Normalize(options, Json::object());
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(*out, Json::object());
}

}  // namespace
}  // namespace engine
