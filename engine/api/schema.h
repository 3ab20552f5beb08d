#pragma once

// The schema of every endpoint (spec §1-§4, §7): its request and response
// records, with the spec's field names in the spec's order, their Avro types
// and their defaults. The one definition of the API is endpoints.json beside
// this file: Avro record schemas (the form Kinetica's clients carry), embedded
// at build time and parsed once, on first use, into a tree of TypeSchema
// nodes that live for the whole program. The gRPC messages
// (proto/gpudb.proto) are generated from the same records at build time.
//
// Defaults: every map named `options` or `info` defaults to {}, every array to
// []; offset 0, limit -9999, encoding / list_encoding / record_encoding /
// request_encoding "binary"; create_type_request.properties {}; fields the
// spec calls exclusive or unused default to "" (create_job_request.data and
// .data_str, clear_table_request.authorization,
// execute_sql_request.request_schema_str). Other fields have no default.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/api/json.h"

namespace engine {

struct FieldSchema;

// An Avro type. Nodes are immutable and owned by the registry.
struct TypeSchema {
  enum class Kind {
    kString,
    kBytes,
    kInt,      // 32-bit
    kLong,     // 64-bit
    kFloat,
    kDouble,
    kBoolean,
    kArray,    // items: `item`
    kMap,      // string keys; values: `item`
    kRecord,   // `name`, `fields`
    kNullable, // Avro union [T, "null"]; T: `item`
  };
  Kind kind = Kind::kString;
  const TypeSchema* item = nullptr;  // kArray, kMap, kNullable
  std::string name;                  // kRecord
  std::vector<FieldSchema> fields;   // kRecord, in record order
};

struct FieldSchema {
  std::string name;
  const TypeSchema* type = nullptr;
  std::optional<Json> default_value;  // already in normalized form
};

struct EndpointSchema {
  std::string endpoint;            // e.g. "/aggregate/groupby"
  std::string section;             // the spec's section, e.g. "§4 Queries and changes"
  const TypeSchema* request;       // record "aggregate_group_by_request"
  const TypeSchema* response;      // record "aggregate_group_by_response"
};

// The endpoint with this exact path (e.g. "/filter"), or null if unknown.
const EndpointSchema* FindEndpointSchema(absl::string_view endpoint);

// Every endpoint, in the spec's order.
const std::vector<EndpointSchema>& AllEndpointSchemas();

// The record with this name: any endpoint's request or response, or the
// response wrapper "gpudb_response" (spec §1). Null if unknown.
const TypeSchema* FindRecord(absl::string_view record_name);

// The protobuf message of a record in the generated gpudb.proto: its name in
// PascalCase ("filter_request" -> "FilterRequest").
std::string MessageName(absl::string_view record_name);

// Avro name of a kind: "string", "int", "array", "record", "nullable", ...
const char* KindName(TypeSchema::Kind kind);

// True for the kinds of one plain value: string, bytes, int, long, float,
// double, boolean (not array, map, record or nullable).
bool IsScalarKind(TypeSchema::Kind kind);

// Name of a JSON value's type, as error messages give it: "null", "boolean",
// "number", "string", "array", "object", "bytes" (a binary value).
const char* JsonTypeName(const Json& value);

// Checks `value` against `type` and returns it in normalized form. For a
// record: every field present, in schema order; a missing field takes its
// default. Numbers become int64 for int/long and double for float/double (an
// integral double such as 5.0 is accepted for int/long, 5.5 is not; int must
// fit in 32 bits). A `bytes` value may be a binary value or a string of code
// points 0-255 (Kinetica's JSON convention), which becomes a binary value. An
// array<bytes> value may also be a packed byte list (json.h), kept as it is
// (its items are not looked at: only the transports' decoders make one). A
// nullable value may be null.
// Errors are InvalidArgument and name the field path and the problem:
//   "missing field 'table_name'", "unknown field 'tabel_name'",
//   "field 'options.job_tag': expected string, got number",
//   "field 'list[3]': expected bytes, got number",
//   "field 'progress': 3000000000 is out of range for int".
absl::StatusOr<Json> Normalize(const TypeSchema& type, Json value);

}  // namespace engine
