#pragma once

// A table type for the engine's table tests, from its definition.

#include <gtest/gtest.h>

#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/table/types.h"

namespace gpudb_test {

// The type of `definition` (the compact list or an Avro record schema), or an
// empty type after a reported failure.
inline engine::TableType MustParse(absl::string_view definition) {
  absl::StatusOr<engine::TableType> type = engine::ParseTypeDefinition(definition, {}, "");
  EXPECT_TRUE(type.ok()) << definition << ": " << type.status();
  return type.ok() ? *std::move(type) : engine::TableType();
}

}  // namespace gpudb_test
