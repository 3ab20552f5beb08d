#pragma once

// The engine's in-memory form of every request and response record: an
// ordered JSON value whose fields carry the spec's names in the spec's order.
// Transports convert to and from it (protobuf, Avro, JSON text); handlers read
// requests and build responses in it. `bytes` fields hold binary values.

#include <nlohmann/json.hpp>
#include <string>
#include "absl/strings/string_view.h"

namespace engine {

using Json = nlohmann::ordered_json;

// Kinetica's JSON mode carries `bytes` as a string of code points 0-255, one
// per byte. These convert between the two; FromCodePoints fails (returns
// false) on a code point above 255 or malformed UTF-8.
std::string ToCodePoints(absl::string_view bytes);
bool FromCodePoints(absl::string_view utf8, std::string* bytes);

// JSON text of `value`, with every binary value written as a code-point
// string (the only way JSON can carry bytes here).
std::string DumpJson(const Json& value);

}  // namespace engine
