// The schema endpoints through the engine: /create/schema, /has/schema,
// /show/schema, /drop/schema, each with its error cases by message; and the
// order of jobs on a schema and its tables.

#include <string>
#include <vector>

#include "tests/engine/handlers/handler_fixture.h"

namespace engine {
namespace {

constexpr const char* kType = R"([["x","long"]])";

class SchemasTest : public HandlerTest {
 protected:
  void MakeTable(const std::string& name) { Run("/create/table", {{"table_name", name}, {"type_id", kType}}); }
  bool HasSchema(const std::string& name) { return Run("/has/schema", {{"schema_name", name}})["schema_exists"]; }
  bool HasTable(const std::string& name) { return Run("/has/table", {{"table_name", name}})["table_exists"]; }
};

TEST_F(SchemasTest, TheDefaultSchemaIsThere) {
  EXPECT_TRUE(HasSchema("ki_home"));
  EXPECT_FALSE(HasSchema("s1"));
  const Json shown = Run("/show/schema", {{"schema_name", ""}});
  EXPECT_EQ(shown["schema_names"], Json::array({"ki_home"}));
  EXPECT_EQ(shown["schema_tables"], Json::parse("[[]]"));
}

TEST_F(SchemasTest, CreateSchema) {
  const Json created = Run("/create/schema", {{"schema_name", "s1"}});
  EXPECT_EQ(created["schema_name"], "s1");
  EXPECT_TRUE(HasSchema("s1"));
  EXPECT_EQ(Error("/create/schema", {{"schema_name", "s1"}}), "schema_name: schema 's1' already exists");
  EXPECT_EQ(Error("/create/schema", {{"schema_name", "ki_home"}}), "schema_name: schema 'ki_home' already exists");
  EXPECT_EQ(
      Run("/create/schema", {{"schema_name", "s1"}, {"options", {{"no_error_if_exists", "true"}}}})["schema_name"],
      "s1");
  // A schema may have the name of a table.
  MakeTable("t");
  Run("/create/schema", {{"schema_name", "t"}});
  EXPECT_TRUE(HasSchema("t"));
  EXPECT_TRUE(HasTable("t"));
}

TEST_F(SchemasTest, CreateSchemaErrors) {
  EXPECT_EQ(Error("/create/schema", {{"schema_name", "a.b"}}),
            "schema_name: 'a.b' has characters other than letters, digits, '_' and '-'");
  EXPECT_EQ(Error("/create/schema", {{"schema_name", ""}}), "schema_name: the name is empty");
  EXPECT_EQ(Error("/create/schema", {{"schema_name", std::string(257, 's')}}),
            "schema_name: the name is longer than 256 characters");
  EXPECT_EQ(Error("/create/schema", {{"schema_name", "s"}, {"options", {{"no_error_if_exists", "maybe"}}}}),
            "options.no_error_if_exists: expected 'true' or 'false', got 'maybe'");
  EXPECT_EQ(Error("/has/schema", {{"schema_name", "a b"}}),
            "schema_name: 'a b' has characters other than letters, digits, '_' and '-'");
}

TEST_F(SchemasTest, ShowSchemaListsSchemasAndTheirTables) {
  Run("/create/schema", {{"schema_name", "s2"}});
  Run("/create/schema", {{"schema_name", "s1"}});
  MakeTable("s1.b");
  MakeTable("s1.a");
  MakeTable("t");
  Run("/filter", {{"table_name", "s1.a"}, {"view_name", "s2.v"}, {"expression", "x > 0"}});
  const Json all = Run("/show/schema", {{"schema_name", ""}});
  EXPECT_EQ(all["schema_name"], "");
  EXPECT_EQ(all["schema_names"], Json::array({"ki_home", "s1", "s2"}));
  EXPECT_EQ(all["schema_tables"], Json::parse(R"([["t"], ["s1.a", "s1.b"], ["s2.v"]])"));
  EXPECT_EQ(all["additional_info"].size(), 3u);

  const Json one = Run("/show/schema", {{"schema_name", "s1"}});
  EXPECT_EQ(one["schema_name"], "s1");
  EXPECT_EQ(one["schema_names"], Json::array({"s1"}));
  EXPECT_EQ(one["schema_tables"], Json::parse(R"([["s1.a", "s1.b"]])"));
}

TEST_F(SchemasTest, ShowSchemaOfAMissingSchema) {
  EXPECT_EQ(Error("/show/schema", {{"schema_name", "nope"}}), "schema_name: schema 'nope' does not exist");
  const Json none = Run("/show/schema", {{"schema_name", "nope"}, {"options", {{"no_error_if_not_exists", "true"}}}});
  EXPECT_EQ(none["schema_names"], Json::array());
  EXPECT_EQ(none["schema_tables"], Json::array());
}

TEST_F(SchemasTest, DropSchemaDropsAnEmptySchema) {
  Run("/create/schema", {{"schema_name", "s1"}});
  EXPECT_EQ(Run("/drop/schema", {{"schema_name", "s1"}})["schema_name"], "s1");
  EXPECT_FALSE(HasSchema("s1"));
  EXPECT_EQ(Error("/create/table", {{"table_name", "s1.t"}, {"type_id", kType}}),
            "table_name: schema 's1' does not exist");
}

TEST_F(SchemasTest, DropSchemaOfASchemaWithTablesNeedsCascade) {
  Run("/create/schema", {{"schema_name", "s1"}});
  MakeTable("s1.a");
  MakeTable("s1.b");
  Run("/filter", {{"table_name", "s1.a"}, {"view_name", "s1.v"}, {"expression", "x > 0"}});
  MakeTable("a");
  EXPECT_EQ(Error("/drop/schema", {{"schema_name", "s1"}}),
            "schema_name: schema 's1' is not empty (3 tables); drop its tables first, or set options.cascade");
  EXPECT_TRUE(HasTable("s1.a"));

  Run("/drop/schema", {{"schema_name", "s1"}, {"options", {{"cascade", "true"}}}});
  EXPECT_FALSE(HasSchema("s1"));
  for (const char* gone : {"s1.a", "s1.b", "s1.v"}) EXPECT_FALSE(HasTable(gone)) << gone;
  EXPECT_TRUE(HasTable("a"));
  // The names are free again.
  Run("/create/schema", {{"schema_name", "s1"}});
  MakeTable("s1.a");
  EXPECT_EQ(Run("/show/schema", {{"schema_name", "s1"}})["schema_tables"], Json::parse(R"([["s1.a"]])"));
}

TEST_F(SchemasTest, DropSchemaErrors) {
  EXPECT_EQ(Error("/drop/schema", {{"schema_name", "nope"}}), "schema_name: schema 'nope' does not exist");
  EXPECT_EQ(
      Run("/drop/schema", {{"schema_name", "nope"}, {"options", {{"no_error_if_not_exists", "true"}}}})["schema_name"],
      "nope");
  EXPECT_EQ(Error("/drop/schema", {{"schema_name", "ki_home"}, {"options", {{"cascade", "true"}}}}),
            "schema_name: schema 'ki_home' is the default schema and cannot be dropped");
  EXPECT_EQ(Error("/drop/schema", {{"schema_name", "s"}, {"options", {{"cascade", "all"}}}}),
            "options.cascade: expected 'true' or 'false', got 'all'");
  EXPECT_EQ(Error("/drop/schema", {{"schema_name", "x.y"}}),
            "schema_name: 'x.y' has characters other than letters, digits, '_' and '-'");
}

// Jobs submitted together run in submission order across a schema and its
// tables: the create of a table waits for its schema's create, an insert for
// the table's, and the drop for the insert; a job after the drop sees the
// schema gone.
TEST_F(SchemasTest, JobsOnASchemaAndItsTablesRunInSubmissionOrder) {
  Json rows = Json::array();
  for (int i = 0; i < 1000; ++i) rows.push_back(Json{{"x", i}}.dump());
  for (int round = 0; round < 20; ++round) {
    std::vector<int64_t> ids;
    for (auto [endpoint, request] : std::vector<std::pair<std::string, Json>>{
             {"/create/schema", {{"schema_name", "s1"}}},
             {"/create/table", {{"table_name", "s1.t"}, {"type_id", kType}}},
             {"/insert/records", {{"table_name", "s1.t"}, {"list_encoding", "json"}, {"list_str", rows}}},
             {"/get/records", {{"table_name", "s1.t"}, {"limit", 1}, {"encoding", "json"}}},
             {"/drop/schema", {{"schema_name", "s1"}, {"options", {{"cascade", "true"}}}}},
             {"/has/table", {{"table_name", "s1.t"}}}}) {
      auto id = Submit(endpoint, request);
      ASSERT_TRUE(id.ok()) << endpoint << ": " << id.status();
      ids.push_back(*id);
    }
    std::vector<JobSnapshot> jobs;
    for (int64_t id : ids) jobs.push_back(Await(id));
    for (const JobSnapshot& job : jobs) ASSERT_EQ(job.state, JobState::kDone) << job.endpoint << ": " << job.error;
    EXPECT_EQ((*jobs[2].response)["count_inserted"], 1000);
    EXPECT_EQ((*jobs[3].response)["total_number_of_records"], 1000);
    EXPECT_EQ((*jobs[5].response)["table_exists"], false);
  }
}

// "t" and "ki_home.t" are one table to the scheduler too: a read by either
// name sees every write submitted before it by the other.
TEST_F(SchemasTest, JobsOnATableByEitherNameRunInSubmissionOrder) {
  MakeTable("t");
  for (int round = 1; round <= 20; ++round) {
    auto insert = Submit("/insert/records/random", {{"table_name", round % 2 ? "t" : "ki_home.t"}, {"count", 5000}});
    auto read = Submit("/get/records", {{"table_name", round % 2 ? "ki_home.t" : "t"}, {"limit", 0}});
    ASSERT_TRUE(insert.ok() && read.ok());
    Await(*insert);
    const JobSnapshot r = Await(*read);
    ASSERT_EQ(r.state, JobState::kDone) << r.error;
    EXPECT_EQ((*r.response)["total_number_of_records"], round * 5000);
  }
}

}  // namespace
}  // namespace engine
