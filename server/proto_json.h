#pragma once

// Converts between the protobuf messages of gpudb.v1 (proto/gpudb.proto) and
// the engine's records (engine::Json), by reflection, following the
// conventions stated at the top of gpudb.proto:
// - a record is a JSON object with the message's field names, in field-number
//   order; map keys are strings;
// - a message whose only field is named `values` (StringList, StringMap, ...)
//   stands for that field's value; one whose only field is an `optional` named
//   `value` (NullableString) stands for that value, or null when it is absent;
// - bytes are JSON binary values (JsonToMessage also takes a string of code
//   points 0-255, Kinetica's JSON convention, and for a repeated bytes field
//   a packed byte list, engine/api/json.h).

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "engine/api/json.h"

namespace server {

// The gpudb.v1 message named after `record_name` in PascalCase
// ("filter_request" -> gpudb.v1.FilterRequest), or null if there is none.
const google::protobuf::Descriptor* FindRecordMessage(absl::string_view record_name);

// The message as a record. Every field is present except proto3 `optional`
// fields that are not set, which are left out so that the engine's defaults
// apply (engine::Normalize). Map entries come out sorted by key.
engine::Json MessageToJson(const google::protobuf::Message& message);

// Clears `message` and fills it from `json`. Unknown fields, values of the
// wrong type and integers out of range are InvalidArgument errors that name the
// field path and the problem, e.g. "field 'options.job_tag': expected string,
// got number", "unknown field 'tabel_name'". Fields missing from `json` keep
// their protobuf default (unset, for `optional` fields).
absl::Status JsonToMessage(const engine::Json& json, google::protobuf::Message* message);

}  // namespace server
