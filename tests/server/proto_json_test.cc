#include "server/proto_json.h"

#include <cstdint>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include "engine/api/json.h"
#include "engine/api/schema.h"
#include "proto/gpudb.pb.h"
#include "server/codec.h"

namespace server {
namespace {

using engine::Json;
using engine::TypeSchema;
using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using Kind = TypeSchema::Kind;

Json Bytes(const std::string& s) {
  return Json::binary(Json::binary_t::container_type(s.begin(), s.end()));
}

std::unique_ptr<Message> NewMessage(const Descriptor* descriptor) {
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(descriptor)->New());
}

// ---------------------------------------------------------------------------
// The consistency check: engine schema <-> gpudb.proto.

std::string ValueMismatch(const TypeSchema& type, const FieldDescriptor* field);

// "" when `field` (which may be repeated or a map) represents `type`; else why not.
std::string FieldMismatch(const TypeSchema& type, const FieldDescriptor* field) {
  if (type.kind == Kind::kMap) {
    if (!field->is_map()) return "expected a map field";
    if (field->message_type()->map_key()->type() != FieldDescriptor::TYPE_STRING) {
      return "map key is not a string";
    }
    return ValueMismatch(*type.item, field->message_type()->map_value());
  }
  if (type.kind == Kind::kArray) {
    if (!field->is_repeated() || field->is_map()) return "expected a repeated field";
    return ValueMismatch(*type.item, field);
  }
  if (field->is_repeated()) return "unexpected repeated field";
  return ValueMismatch(type, field);
}

// "" when one value of `field` (repeated or not) represents `type`; else why not.
std::string ValueMismatch(const TypeSchema& type, const FieldDescriptor* field) {
  auto expect = [&](FieldDescriptor::Type proto_type) -> std::string {
    if (field->type() == proto_type) return "";
    return std::string("expected ") + FieldDescriptor::TypeName(proto_type) + ", got " +
           field->type_name();
  };
  switch (type.kind) {
    case Kind::kString:
      return expect(FieldDescriptor::TYPE_STRING);
    case Kind::kBytes:
      return expect(FieldDescriptor::TYPE_BYTES);
    case Kind::kInt:
      return expect(FieldDescriptor::TYPE_INT32);
    case Kind::kLong:
      return expect(FieldDescriptor::TYPE_INT64);
    case Kind::kFloat:
      return expect(FieldDescriptor::TYPE_FLOAT);
    case Kind::kDouble:
      return expect(FieldDescriptor::TYPE_DOUBLE);
    case Kind::kBoolean:
      return expect(FieldDescriptor::TYPE_BOOL);
    case Kind::kArray:
    case Kind::kMap: {
      if (field->type() != FieldDescriptor::TYPE_MESSAGE) return "expected a wrapper message";
      const Descriptor* wrapper = field->message_type();
      if (wrapper->field_count() != 1 || wrapper->field(0)->name() != "values") {
        return wrapper->name() + " is not a wrapper with one field `values`";
      }
      return FieldMismatch(type, wrapper->field(0));
    }
    case Kind::kNullable: {
      if (field->type() != FieldDescriptor::TYPE_MESSAGE) return "expected a nullable wrapper";
      const Descriptor* wrapper = field->message_type();
      if (wrapper->field_count() != 1 || wrapper->field(0)->name() != "value" ||
          !wrapper->field(0)->has_optional_keyword() || wrapper->field(0)->is_repeated()) {
        return wrapper->name() + " is not a wrapper with one optional field `value`";
      }
      return ValueMismatch(*type.item, wrapper->field(0));
    }
    case Kind::kRecord:
      break;
  }
  return "records are not nested in the spec";
}

bool IsZero(const Json& value) {
  switch (value.type()) {
    case Json::value_t::string:
      return value.get_ref<const std::string&>().empty();
    case Json::value_t::binary:
      return value.get_binary().empty();
    case Json::value_t::array:
    case Json::value_t::object:
      return value.empty();
    case Json::value_t::boolean:
      return !value.get<bool>();
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return value.get<double>() == 0;
    default:
      return false;
  }
}

void ExpectRecordMatchesMessage(const TypeSchema& record) {
  SCOPED_TRACE(record.name);
  const Descriptor* descriptor = FindRecordMessage(record.name);
  ASSERT_NE(descriptor, nullptr) << "no message for " << record.name;
  ASSERT_EQ(descriptor->field_count(), static_cast<int>(record.fields.size()));
  for (size_t i = 0; i < record.fields.size(); ++i) {
    const engine::FieldSchema& field = record.fields[i];
    SCOPED_TRACE(field.name);
    const FieldDescriptor* proto_field = descriptor->FindFieldByNumber(static_cast<int>(i + 1));
    ASSERT_NE(proto_field, nullptr) << "no field number " << i + 1;
    EXPECT_EQ(proto_field->name(), field.name);
    EXPECT_EQ(FieldMismatch(*field.type, proto_field), "");
    const bool needs_presence = field.default_value && !IsZero(*field.default_value);
    EXPECT_EQ(proto_field->has_optional_keyword(), needs_presence)
        << "`optional` exactly where the default is not protobuf's zero value";
  }
}

TEST(ProtoJsonTest, EveryEndpointHasMatchingMessages) {
  ASSERT_FALSE(engine::AllEndpointSchemas().empty());
  for (const engine::EndpointSchema& schema : engine::AllEndpointSchemas()) {
    SCOPED_TRACE(schema.endpoint);
    ExpectRecordMatchesMessage(*schema.request);
    ExpectRecordMatchesMessage(*schema.response);
  }
  const TypeSchema* wrapper = engine::FindRecord("gpudb_response");
  ASSERT_NE(wrapper, nullptr);
  ExpectRecordMatchesMessage(*wrapper);
}

TEST(ProtoJsonTest, EveryMessageIsARecordAWrapperOrTheExecuteRequest) {
  std::set<const Descriptor*> records = {FindRecordMessage("gpudb_response")};
  for (const engine::EndpointSchema& schema : engine::AllEndpointSchemas()) {
    records.insert(FindRecordMessage(schema.request->name));
    records.insert(FindRecordMessage(schema.response->name));
  }
  const google::protobuf::FileDescriptor* file = gpudb::v1::GpudbResponse::descriptor()->file();
  EXPECT_EQ(file->package(), "gpudb.v1");
  for (int i = 0; i < file->message_type_count(); ++i) {
    const Descriptor* message = file->message_type(i);
    if (records.count(message) || message->name() == "ExecuteRequest") continue;
    ASSERT_EQ(message->field_count(), 1) << message->name();
    const std::string& name = message->field(0)->name();
    EXPECT_TRUE(name == "values" || (name == "value" && message->field(0)->has_optional_keyword()))
        << message->name() << " is neither a record nor a wrapper";
  }
}

TEST(ProtoJsonTest, ServiceHasTheFourCalls) {
  const google::protobuf::ServiceDescriptor* service =
      gpudb::v1::GpudbResponse::descriptor()->file()->FindServiceByName("Gpudb");
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(service->method_count(), 4);
  const struct {
    const char* name;
    const Descriptor* input;
    bool server_streaming;
  } expected[] = {{"CreateJob", gpudb::v1::CreateJobRequest::descriptor(), false},
                  {"GetJob", gpudb::v1::GetJobRequest::descriptor(), false},
                  {"WatchJob", gpudb::v1::GetJobRequest::descriptor(), true},
                  {"Execute", gpudb::v1::ExecuteRequest::descriptor(), false}};
  for (const auto& method : expected) {
    const google::protobuf::MethodDescriptor* m = service->FindMethodByName(method.name);
    ASSERT_NE(m, nullptr) << method.name;
    EXPECT_EQ(m->input_type(), method.input);
    EXPECT_EQ(m->output_type(), gpudb::v1::GpudbResponse::descriptor());
    EXPECT_FALSE(m->client_streaming()) << method.name;
    EXPECT_EQ(m->server_streaming(), method.server_streaming) << method.name;
  }
  EXPECT_TRUE(gpudb::v1::ExecuteRequest::descriptor()
                  ->FindFieldByName("request_encoding")
                  ->has_optional_keyword());
}

TEST(ProtoJsonTest, FindRecordMessage) {
  EXPECT_EQ(FindRecordMessage("filter_request"), gpudb::v1::FilterRequest::descriptor());
  EXPECT_EQ(FindRecordMessage("aggregate_group_by_response"),
            gpudb::v1::AggregateGroupByResponse::descriptor());
  EXPECT_EQ(FindRecordMessage("get_records_by_column_request"),
            gpudb::v1::GetRecordsByColumnRequest::descriptor());
  EXPECT_EQ(FindRecordMessage("gpudb_response"), gpudb::v1::GpudbResponse::descriptor());
  EXPECT_EQ(FindRecordMessage("no_such_request"), nullptr);
  EXPECT_EQ(FindRecordMessage(""), nullptr);
}

// ---------------------------------------------------------------------------
// Round trips: Json -> message -> Json.

// Normalizes `json` against the record, converts it to the record's message and
// back, normalizes again, and expects the same record, field order included.
void ExpectRoundTrip(const std::string& record_name, const Json& json) {
  SCOPED_TRACE(record_name);
  const TypeSchema* record = engine::FindRecord(record_name);
  ASSERT_NE(record, nullptr);
  absl::StatusOr<Json> normalized = engine::Normalize(*record, json);
  ASSERT_TRUE(normalized.ok()) << normalized.status();
  std::unique_ptr<Message> message = NewMessage(FindRecordMessage(record_name));
  ASSERT_TRUE(JsonToMessage(*normalized, message.get()).ok());
  absl::StatusOr<Json> back = engine::Normalize(*record, MessageToJson(*message));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, *normalized);
  EXPECT_EQ(engine::DumpJson(*back), engine::DumpJson(*normalized));
}

TEST(ProtoJsonTest, RoundTripsScalarsBytesAndMaps) {
  ExpectRoundTrip("create_job_request", {{"endpoint", "/filter"},
                                         {"request_encoding", "json"},
                                         {"data", Bytes(std::string("\x00\xff\x01", 3))},
                                         {"data_str", "{\"a\":1}"},
                                         {"options", {{"job_tag", "t-1"}, {"z", "last"}}}});
  ExpectRoundTrip("get_job_response", {{"endpoint", "/filter"},
                                       {"job_status", "DONE"},
                                       {"running", false},
                                       {"progress", 100},
                                       {"successful", true},
                                       {"response_encoding", "binary"},
                                       {"job_response", Bytes("\x02\x04")},
                                       {"job_response_str", ""},
                                       {"status_map", Json::object()},
                                       {"info", {{"job_tag", "x"}}}});
  ExpectRoundTrip("gpudb_response", {{"status", "OK"},
                                     {"message", ""},
                                     {"data_type", "filter_response"},
                                     {"data", Bytes("\x0a")},
                                     {"data_str", ""}});
  ExpectRoundTrip("aggregate_statistics_response",
                  {{"stats", {{"count", 3.0}, {"mean", 0.5}}}, {"info", Json::object()}});
  ExpectRoundTrip("create_type_request",
                  {{"type_definition", "[[\"x\",\"int\"]]"},
                   {"label", ""},
                   {"properties", {{"a", {"char16", "nullable"}}, {"b", Json::array()}}}});
  ExpectRoundTrip("insert_records_random_request",
                  {{"table_name", "t"},
                   {"count", 1000000000000LL},
                   {"options", {{"all", {{"max", 10.0}, {"min", -1.5}}}, {"seed", {{"value", 7.0}}}}}});
}

TEST(ProtoJsonTest, RoundTripsNestedArraysAndNullables) {
  ExpectRoundTrip("show_table_response",
                  {{"table_name", ""},
                   {"table_names", {"a", "b"}},
                   {"table_descriptions", {Json::array({"VIEW", "JOIN"}), Json::array()}},
                   {"type_ids", {"1", "2"}},
                   {"type_schemas", {"{}", "{}"}},
                   {"type_labels", {"", ""}},
                   {"properties", {{{"x", {"char16"}}}, Json::object()}},
                   {"additional_info", {{{"k", "v"}}, Json::object()}},
                   {"sizes", {3, 0}},
                   {"full_sizes", {3, 0}},
                   {"join_sizes", {1.0, 0.25}},
                   {"total_size", 3},
                   {"total_full_size", 3},
                   {"info", Json::object()}});
  ExpectRoundTrip("update_records_request",
                  {{"table_name", "t"},
                   {"expressions", {"x = 1", "x = 2"}},
                   {"new_values_maps", {{{"a", nullptr}, {"b", "b + 1"}}, Json::object()}},
                   {"records_to_insert", {Bytes("\x01"), Bytes("")}},
                   {"records_to_insert_str", Json::array()},
                   {"record_encoding", "binary"},
                   {"options", {{"global_expression", ""}}}});
  ExpectRoundTrip("admin_show_jobs_response", {{"job_id", {1, 2}},
                                               {"status", {"RUNNING", "DONE"}},
                                               {"endpoint_name", {"/filter", "/get/records"}},
                                               {"time_received", {1700000000000LL, 1}},
                                               {"query_text", {"", ""}},
                                               {"flags", {"", ""}}});
}

TEST(ProtoJsonTest, UnsetOptionalFieldsAreLeftOutSoDefaultsApply) {
  gpudb::v1::GetRecordsRequest request;
  request.set_table_name("t");
  request.set_offset(0);
  EXPECT_EQ(MessageToJson(request).dump(), R"({"table_name":"t","offset":0,"options":{}})");
  absl::StatusOr<Json> normalized =
      engine::Normalize(*engine::FindRecord("get_records_request"), MessageToJson(request));
  ASSERT_TRUE(normalized.ok()) << normalized.status();
  EXPECT_EQ((*normalized)["limit"], -9999);
  EXPECT_EQ((*normalized)["encoding"], "binary");

  request.set_limit(0);  // set to protobuf's zero value: kept
  request.set_encoding("json");
  EXPECT_EQ(MessageToJson(request).dump(),
            R"({"table_name":"t","offset":0,"limit":0,"encoding":"json","options":{}})");

  gpudb::v1::GetRecordsRequest parsed;
  ASSERT_TRUE(JsonToMessage(Json{{"table_name", "t"}}, &parsed).ok());
  EXPECT_FALSE(parsed.has_limit());
  EXPECT_FALSE(parsed.has_encoding());
}

TEST(ProtoJsonTest, MapKeysComeOutSorted) {
  gpudb::v1::FilterRequest request;
  (*request.mutable_options())["zz"] = "1";
  (*request.mutable_options())["aa"] = "2";
  (*request.mutable_options())["mm"] = "3";
  EXPECT_EQ(MessageToJson(request)["options"].dump(), R"({"aa":"2","mm":"3","zz":"1"})");
}

TEST(ProtoJsonTest, NullableWrapperAbsentIsNull) {
  gpudb::v1::UpdateRecordsRequest request;
  auto& values = *request.add_new_values_maps()->mutable_values();
  values["a"];  // value not set: null
  values["b"].set_value("");
  const Json json = MessageToJson(request);
  EXPECT_TRUE(json["new_values_maps"][0]["a"].is_null());
  EXPECT_EQ(json["new_values_maps"][0]["b"], "");
}

TEST(ProtoJsonTest, JsonToMessageTakesCodePointStringsForBytes) {
  gpudb::v1::InsertRecordsRequest request;
  ASSERT_TRUE(JsonToMessage({{"table_name", "t"}, {"list", {"a\xc3\xbf"}}}, &request).ok());
  ASSERT_EQ(request.list_size(), 1);
  EXPECT_EQ(request.list(0), "a\xff");
}

TEST(ProtoJsonTest, JsonToMessageClearsTheMessageFirst) {
  gpudb::v1::FilterRequest request;
  request.set_view_name("old");
  ASSERT_TRUE(JsonToMessage({{"table_name", "t"}}, &request).ok());
  EXPECT_EQ(request.view_name(), "");
  EXPECT_EQ(request.table_name(), "t");
}

// ---------------------------------------------------------------------------
// Errors of JsonToMessage.

std::string ErrorOf(const Json& json, Message* message) {
  absl::Status status = JsonToMessage(json, message);
  if (status.ok()) return "";
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  return std::string(status.message());
}

TEST(ProtoJsonTest, JsonToMessageErrorsNameTheFieldAndTheProblem) {
  gpudb::v1::CreateJobRequest job;
  EXPECT_EQ(ErrorOf({{"tabel_name", "t"}}, &job), "unknown field 'tabel_name'");
  EXPECT_EQ(ErrorOf({{"options", {{"job_tag", 5}}}}, &job),
            "field 'options.job_tag': expected string, got number");
  EXPECT_EQ(ErrorOf({{"options", {"a"}}}, &job), "field 'options': expected map, got array");
  EXPECT_EQ(ErrorOf({{"data", 1}}, &job), "field 'data': expected bytes, got number");
  EXPECT_EQ(ErrorOf({{"data", "\xc4\x80"}}, &job),
            "field 'data': expected bytes, got a string with a code point above 255");
  EXPECT_EQ(ErrorOf({{"endpoint", nullptr}}, &job), "field 'endpoint': expected string, got null");
  EXPECT_EQ(ErrorOf(Json::array(), &job), "expected record, got array");

  gpudb::v1::GetJobRequest get_job;
  EXPECT_EQ(ErrorOf({{"job_id", 1.5}}, &get_job), "field 'job_id': expected long, got 1.5");
  EXPECT_EQ(ErrorOf({{"job_id", "1"}}, &get_job), "field 'job_id': expected long, got string");
  EXPECT_EQ(ErrorOf({{"job_id", 18446744073709551615ULL}}, &get_job),
            "field 'job_id': 18446744073709551615 is out of range for long");
  EXPECT_EQ(ErrorOf({{"job_id", 2.0}}, &get_job), "");
  EXPECT_EQ(get_job.job_id(), 2);

  gpudb::v1::GetJobResponse job_response;
  EXPECT_EQ(ErrorOf({{"progress", 3000000000LL}}, &job_response),
            "field 'progress': 3000000000 is out of range for int");
  EXPECT_EQ(ErrorOf({{"running", 1}}, &job_response),
            "field 'running': expected boolean, got number");

  gpudb::v1::InsertRecordsRequest insert;
  EXPECT_EQ(ErrorOf({{"list", "abc"}}, &insert), "field 'list': expected array, got string");
  EXPECT_EQ(ErrorOf({{"list", {Bytes("a"), 7}}}, &insert),
            "field 'list[1]': expected bytes, got number");

  gpudb::v1::ShowTableResponse show;
  EXPECT_EQ(ErrorOf({{"table_descriptions", {Json::array({"VIEW"}), "JOIN"}}}, &show),
            "field 'table_descriptions[1]': expected array, got string");
  EXPECT_EQ(ErrorOf({{"properties", {{{"x", {"a", 1}}}}}}, &show),
            "field 'properties[0].x[1]': expected string, got number");
  EXPECT_EQ(ErrorOf({{"join_sizes", {"1"}}}, &show),
            "field 'join_sizes[0]': expected double, got string");

  gpudb::v1::UpdateRecordsRequest update;
  EXPECT_EQ(ErrorOf({{"new_values_maps", {{{"a", 5}}}}}, &update),
            "field 'new_values_maps[0].a': expected string, got number");

  gpudb::v1::InsertRecordsRandomRequest random;
  EXPECT_EQ(ErrorOf({{"options", {{"x", {{"min", true}}}}}}, &random),
            "field 'options.x.min': expected double, got boolean");
}

// ---------------------------------------------------------------------------
// ProtobufCodec (server/codec.h): DecodePacked against Decode, the wire
// format split around repeated bytes fields, packed byte lists encoded back.

const TypeSchema& Record(const char* name) {
  const TypeSchema* record = engine::FindRecord(name);
  EXPECT_NE(record, nullptr) << name;
  return *record;
}

// A protobuf varint, and a field's key.
std::string Varint(uint64_t v) {
  std::string out;
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
  return out;
}
std::string Delimited(int field, const std::string& value) {
  return Varint(static_cast<uint64_t>(field) << 3 | 2) + Varint(value.size()) + value;
}

// Items of lengths whose varints take one, two and three bytes.
std::vector<std::string> SampleItems() {
  std::vector<std::string> items = {"", "a", std::string(63, 'b'), std::string(64, 'c'), std::string(127, 'd'),
                                    std::string(128, 'e'), std::string(20000, '\xff')};
  std::mt19937_64 rng(1);
  for (int i = 0; i < 500; ++i) {
    std::string item(rng() % 40, '\0');
    for (char& c : item) c = static_cast<char>(rng());
    items.push_back(item);
  }
  return items;
}

TEST(ProtobufCodecTest, ARequestPastTheMemoryBudgetIsRefusedBeforeItIsBuilt) {
  const ProtobufCodec codec(size_t{1} << 20);
  // 100,000 empty names: 200 KB on the wire, several MB decoded.
  gpudb::v1::GetRecordsByColumnRequest wide;
  wide.set_table_name("t");
  for (int i = 0; i < 100000; ++i) wide.add_column_names("");
  for (auto decode : {&ProtobufCodec::Decode, &ProtobufCodec::DecodePacked}) {
    auto r = (codec.*decode)(Record("get_records_by_column_request"), wide.SerializeAsString());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().message(),
              "data: the request decodes to more than 1048576 bytes of memory (the limit is 4 times the largest "
              "message)");
  }
  // Options maps count too.
  gpudb::v1::HasTableRequest map;
  for (int i = 0; i < 20000; ++i) (*map.mutable_options())[std::to_string(i)] = "";
  EXPECT_FALSE(codec.Decode(Record("has_table_request"), map.SerializeAsString()).ok());
  // Packed records count as their bytes: 200,000 one-byte records decode.
  gpudb::v1::InsertRecordsRequest insert;
  insert.set_table_name("t");
  for (int i = 0; i < 200000; ++i) insert.add_list("x");
  auto packed = codec.DecodePacked(Record("insert_records_request"), insert.SerializeAsString());
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(engine::BytesListReader((*packed)["list"]).size(), 200000u);
  // Under the budget, the same request decodes.
  wide.mutable_column_names()->DeleteSubrange(1000, wide.column_names_size() - 1000);
  EXPECT_TRUE(codec.Decode(Record("get_records_by_column_request"), wide.SerializeAsString()).ok());
}

TEST(ProtobufCodecTest, AStringThatIsNotUtf8IsAnErrorForTheClientNotALineInTheServersLog) {
  const ProtobufCodec codec;
  const std::string bytes = Delimited(1, "\xff\xfe not UTF-8");  // has_table_request's table_name
  testing::internal::CaptureStderr();
  auto decoded = codec.Decode(Record("has_table_request"), bytes);
  const std::string log = testing::internal::GetCapturedStderr();
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().message(), "malformed protobuf: 14 bytes are not a gpudb.v1.HasTableRequest");
  EXPECT_EQ(log, "");
}

TEST(ProtobufCodecTest, DecodePackedGivesTheListPackedAndTheRestAsDecode) {
  const std::vector<std::string> items = SampleItems();
  gpudb::v1::InsertRecordsRequest request;
  request.set_table_name("t");
  for (const std::string& item : items) request.add_list(item);
  request.add_list_str("{}");
  (*request.mutable_options())["truncate_strings"] = "true";
  const std::string bytes = request.SerializeAsString();

  ProtobufCodec codec;
  auto plain = codec.Decode(Record("insert_records_request"), bytes);
  auto packed = codec.DecodePacked(Record("insert_records_request"), bytes);
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(packed.ok()) << packed.status();
  ASSERT_TRUE(engine::IsPackedBytes((*packed)["list"]));
  Json expected = Json::array();
  for (const std::string& item : items) expected.push_back(Bytes(item));
  EXPECT_EQ(engine::UnpackBytes((*packed)["list"]), expected);
  Json unpacked = *packed;
  unpacked["list"] = engine::UnpackBytes(unpacked["list"]);
  EXPECT_EQ(unpacked, *plain);
  EXPECT_EQ(unpacked.dump(), plain->dump());  // fields in the same order too
  // Encoded back: the same message.
  auto again = codec.Encode(Record("insert_records_request"), *packed);
  ASSERT_TRUE(again.ok()) << again.status();
  gpudb::v1::InsertRecordsRequest back;
  ASSERT_TRUE(back.ParseFromString(*again));
  EXPECT_EQ(back.SerializeAsString(), bytes);
}

TEST(ProtobufCodecTest, ListEntriesAnywhereAmongTheOtherFields) {
  // Entries of `list` (field 2) before, between and after the others, as a
  // writer may order them; and fields the message does not know.
  const std::string bytes = Delimited(2, "first") + Delimited(1, "tbl") + Delimited(2, "") +
                            Varint(99 << 3 | 0) + Varint(5) + Delimited(3, "{}") + Delimited(2, std::string(200, 'z')) +
                            Delimited(4, "binary");
  ProtobufCodec codec;
  auto plain = codec.Decode(Record("insert_records_request"), bytes);
  auto packed = codec.DecodePacked(Record("insert_records_request"), bytes);
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(engine::UnpackBytes((*packed)["list"]),
            Json::array({Bytes("first"), Bytes(""), Bytes(std::string(200, 'z'))}));
  EXPECT_EQ((*packed)["table_name"], "tbl");
  EXPECT_EQ((*packed)["list_str"], Json::array({"{}"}));
  EXPECT_EQ((*packed)["list_encoding"], "binary");
  (*packed)["list"] = engine::UnpackBytes((*packed)["list"]);
  EXPECT_EQ(*packed, *plain);
  // No entries at all: an empty packed list.
  auto empty = codec.DecodePacked(Record("insert_records_request"), Delimited(1, "t"));
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(engine::IsPackedBytes((*empty)["list"]));
  EXPECT_EQ(engine::BytesListReader((*empty)["list"]).size(), 0u);
}

TEST(ProtobufCodecTest, MalformedInputGetsDecodesError) {
  const google::protobuf::LogSilencer quiet;  // protobuf logs each string that is not UTF-8
  ProtobufCodec codec;
  const std::string good = Delimited(1, "t") + Delimited(2, "abc") + Delimited(2, "de");
  std::vector<std::string> bad;
  for (size_t n = 1; n < good.size(); ++n) bad.push_back(good.substr(0, n));
  bad.push_back(Delimited(1, "\xff\xfe"));                      // a string that is not UTF-8
  bad.push_back(Delimited(2, "x") + Varint(1 << 3 | 3));        // a group
  bad.push_back(Delimited(2, "x") + std::string(11, '\xff'));  // a key that never ends
  int refused = 0;
  for (const std::string& b : bad) {
    auto plain = codec.Decode(Record("insert_records_request"), b);
    auto packed = codec.DecodePacked(Record("insert_records_request"), b);
    ASSERT_EQ(packed.ok(), plain.ok()) << b.size();
    if (!plain.ok()) {
      ++refused;
      EXPECT_EQ(packed.status(), plain.status());
      EXPECT_EQ(plain.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
  EXPECT_GT(refused, 5);
}

TEST(ProtobufCodecTest, RecordsWithoutByteListsDecodeAsDecode) {
  gpudb::v1::FilterRequest filter;
  filter.set_table_name("t");
  filter.set_expression("x > 1");
  (*filter.mutable_options())["a"] = "b";
  ProtobufCodec codec;
  auto plain = codec.Decode(Record("filter_request"), filter.SerializeAsString());
  auto packed = codec.DecodePacked(Record("filter_request"), filter.SerializeAsString());
  ASSERT_TRUE(packed.ok()) << packed.status();
  EXPECT_EQ(*packed, *plain);
}

TEST(ProtobufCodecTest, RandomGarbageGetsTheSameAnswerFromBoth) {
  const google::protobuf::LogSilencer quiet;
  ProtobufCodec codec;
  std::mt19937_64 rng(77);
  for (int trial = 0; trial < 20000; ++trial) {
    std::string bytes;
    // Mostly well-formed list entries with damage here and there.
    for (int i = 0, n = static_cast<int>(rng() % 6); i < n; ++i) {
      bytes += rng() % 4 == 0 ? Delimited(1 + static_cast<int>(rng() % 5), "v") : Delimited(2, std::string(rng() % 70, 'x'));
    }
    for (int i = 0, n = static_cast<int>(rng() % 3); i < n; ++i) {
      bytes.insert(bytes.begin() + static_cast<long>(rng() % (bytes.size() + 1)), static_cast<char>(rng()));
    }
    auto plain = codec.Decode(Record("insert_records_request"), bytes);
    auto packed = codec.DecodePacked(Record("insert_records_request"), bytes);
    ASSERT_EQ(packed.ok(), plain.ok());
    if (plain.ok()) {
      (*packed)["list"] = engine::UnpackBytes((*packed)["list"]);
      EXPECT_EQ(*packed, *plain);
    } else {
      EXPECT_EQ(packed.status(), plain.status());
    }
  }
}

}  // namespace
}  // namespace server
