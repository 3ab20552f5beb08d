// libFuzzer target: the expression language's front end (engine/expr:
// lexer and parser), which reads every filter, join condition, computed
// column and SQL expression, against a table of every kind of column. Any
// input: a syntax tree or an error with its position, never a crash or a
// stack overflow.

#include <cstddef>
#include <cstdint>

#include "engine/expr/parser.h"
#include "engine/table/types.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const engine::TableType* const kType = [] {
    auto type = engine::ParseTypeDefinition(
        R"([["i","int"],["l","long","nullable"],["d","double"],["f","float"],["s","string","nullable"],)"
        R"(["c","string","char8"],["t","long","timestamp"],["dt","string","date"],["b","int","int8"]])",
        {}, "");
    if (!type.ok()) __builtin_trap();
    return new engine::TableType(*std::move(type));
  }();
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  (void)engine::expr::Parse(text, *kType);
  return 0;
}
