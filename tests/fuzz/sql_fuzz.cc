// libFuzzer target: the SQL front end of /execute/sql (engine/sql/select.h),
// PostgreSQL's grammar (libpg_query, Statement::Parse) and the translation of
// its tree into the engine's requests: what the scheduler reads
// (StatementTables, StatementSchemas), then EXPLAIN, SELECT or a change, with nested queries
// answered by a stand-in that names tables as the engine would. Any input: a
// translation or an error, never a crash, a leak or a run over the timeout.
//
// Seeds (tests/fuzz/corpus/sql): the statements of tests/engine/sql and the
// TPC-H queries of benchmarks/tpch_bench.py.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "engine/sql/select.h"

namespace {

// Nested queries as tables named in order, each with two columns and two
// values: enough for the translator to go on past them.
class StandIn final : public engine::sql::Nested {
 public:
  absl::StatusOr<std::string> Keep(const engine::sql::SelectQuery&) override { return Next(); }
  absl::StatusOr<std::string> Combine(const std::vector<std::string>& tables, const std::string&) override {
    if (tables.empty()) __builtin_trap();  // a set operation combines at least one query
    return Next();
  }
  absl::StatusOr<std::vector<std::string>> Values(const std::string&, int64_t limit) override {
    if (limit == 1) return std::vector<std::string>{"1"};
    return std::vector<std::string>{"1", "null"};
  }
  absl::StatusOr<std::vector<std::string>> Columns(const std::string&) override {
    return std::vector<std::string>{"a", "b"};
  }

 private:
  std::string Next() { return "nested_" + std::to_string(count_++); }
  int count_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<engine::sql::Statement> statement = engine::sql::Statement::Parse(text);
  if (!statement.ok()) return 0;
  // What the scheduler reads, then the translation.
  (void)engine::sql::StatementTables(*statement, "ki_home");
  (void)engine::sql::StatementSchemas(*statement);
  const engine::Json params = engine::Json::array({1, "two", nullptr});
  StandIn nested;
  if (absl::StrContains(absl::AsciiStrToLower(text), "explain")) {
    (void)engine::sql::ParseExplain(*statement, params, &nested);
    return 0;
  }
  if (statement->is_select()) {
    (void)engine::sql::ParseSelect(*statement, params, &nested);
  } else {
    (void)engine::sql::ParseChange(*statement, params, &nested);
  }
  return 0;
}
