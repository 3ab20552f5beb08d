// libFuzzer target: the SQL pre-passes that run before PostgreSQL's grammar
// sees a statement (engine/sql/kinetica_words.h): Kinetica's words blanked
// and the nesting bound. Any input: never a crash; blanking keeps the
// statement's length (errors point into the statement as written).

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/sql/kinetica_words.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string statement(reinterpret_cast<const char*>(data), size);
  const engine::sql::KineticaWords words = engine::sql::ReadKineticaWords(statement);
  if (words.text.size() != statement.size()) __builtin_trap();
  const engine::sql::Nesting nesting = engine::sql::NestingOf(statement);
  if (nesting.depth < 0 || nesting.at > statement.size()) __builtin_trap();
  return 0;
}
