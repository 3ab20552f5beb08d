// libFuzzer target: engine::ParseJson (every JSON text a client sends) and
// what is done with its value (DumpJson, copies, comparisons). Any input:
// a value or an error, never a crash, a leak or a stack overflow.

#include <cstddef>
#include <cstdint>

#include "engine/api/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<engine::Json> value = engine::ParseJson(text, /*max_bytes=*/size_t{64} << 20);
  if (!value.ok()) return 0;
  const engine::Json copy = *value;
  if (copy != *value) __builtin_trap();
  (void)engine::DumpJson(copy);
  return 0;
}
