// libFuzzer target: engine::ParseTypeDefinition, /create/type's
// type_definition (Avro record schemas and Kinetica's compact column lists)
// with its properties. The first byte's bits choose properties for the
// first columns. Any input: a type or an error, never a crash.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/table/types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kProperties[] = {"nullable", "primary_key", "shard_key", "char16", "date", "dict", "int8",
                                            "ipv4"};
  std::map<std::string, std::vector<std::string>> properties;
  for (int bit = 0; bit < 8; ++bit) {
    if ((data[0] >> bit) & 1) properties[bit < 4 ? "a" : "b"].push_back(kProperties[bit]);
  }
  const absl::string_view definition(reinterpret_cast<const char*>(data + 1), size - 1);
  absl::StatusOr<engine::TableType> type = engine::ParseTypeDefinition(definition, properties, "label");
  if (type.ok() && type->size() == 0) __builtin_trap();  // a type has a column
  return 0;
}
