// /insert/records/frompayload, /insert/records/fromfiles and
// /export/records/tofiles through the engine: tables created from the data,
// loads that fail leaving the table as it was, bad records skipped and
// counted (and kept in a bad-record table), the files directory and what it
// refuses, exports read back, and progress on a long load.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "tests/engine/handlers/handler_fixture.h"

namespace engine {
namespace {

class LoadingTest : public HandlerTest {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/gpudb_loadingXXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    ASSERT_EQ(::mkdir((dir_ + "/in").c_str(), 0755), 0);
    EngineOptions options;
    const char* devices = std::getenv("GPUDB_TEST_DEVICES");
    options.devices.spec = devices != nullptr && *devices != '\0' ? devices : "host:1";
    options.devices.memory_limit = size_t{256} << 20;
    options.limits.files_dir = dir_;
    auto engine = Engine::Create(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = *std::move(engine);
  }
  void TearDown() override { std::system(absl::StrCat("rm -rf '", dir_, "'").c_str()); }

  void WriteFile(const std::string& name, const std::string& text) { std::ofstream(dir_ + "/" + name) << text; }
  std::string ReadFile(const std::string& name) {
    std::stringstream s;
    s << std::ifstream(dir_ + "/" + name).rdbuf();
    return s.str();
  }

  Json Payload(const std::string& table, const std::string& text, Json options = Json::object()) {
    return Json{{"table_name", table}, {"data_text", text}, {"options", std::move(options)}};
  }

  // Every row of `table` as its JSON record text.
  std::vector<std::string> Records(const std::string& table) {
    const Json r = Run("/get/records", {{"table_name", table}, {"encoding", "json"}});
    return r.value("records_json", std::vector<std::string>{});
  }

  std::string dir_;
};

const char kCsv[] = "id,name,score\n1,ann,7.5\n2,bob,\\N\n";

TEST_F(LoadingTest, PayloadCreatesTheTable) {
  const Json r = Run("/insert/records/frompayload", Payload("people", kCsv));
  EXPECT_EQ(r["count_inserted"], 2);
  EXPECT_EQ(r["count_skipped"], 0);
  EXPECT_EQ(r["table_name"], "people");
  EXPECT_EQ(r["type_properties"]["name"], Json::array({"char4"}));
  EXPECT_EQ(r["type_properties"]["score"], Json::array({"nullable"}));
  EXPECT_EQ(Records("people"), (std::vector<std::string>{R"({"id":1,"name":"ann","score":7.5})",
                                                         R"({"id":2,"name":"bob","score":null})"}));
  // Into the table it made; the type is registered for clients to look up.
  EXPECT_EQ(Run("/insert/records/frompayload", Payload("people", "id,name,score\n3,cid,1\n"))["count_inserted"], 1);
  EXPECT_EQ(Records("people").size(), 3u);
  EXPECT_EQ(Run("/show/table", {{"table_name", "people"}})["type_ids"][0], r["type_id"]);
}

TEST_F(LoadingTest, CreateTableOptionsGiveTheType) {
  Json request = Payload("typed", "a,b\n1,x\n");
  request["create_table_options"] = {{"type_id", R"([["a","long"],["b","string","nullable"]])"}};
  request["options"]["primary_keys"] = "a";
  Run("/insert/records/frompayload", request);
  const Json shown = Run("/show/table", {{"table_name", "typed"}});
  EXPECT_EQ(shown["properties"][0]["a"], Json::array({"primary_key"}));
  EXPECT_EQ(shown["properties"][0]["b"], Json::array({"nullable"}));
}

// CSV text into a date column: the days read back as 'YYYY-MM-DD'; a bad
// date fails the load naming it.
TEST_F(LoadingTest, DatesLoadFromText) {
  Run("/create/table", {{"table_name", "days"}, {"type_id", R"([["id","int"],["d","date","nullable"]])"}});
  EXPECT_EQ(
      Run("/insert/records/frompayload", Payload("days", "id,d\n1,1996-03-13\n2,\n3,2000-02-29\n"))["count_inserted"],
      3);
  EXPECT_EQ(Records("days"), (std::vector<std::string>{R"({"id":1,"d":"1996-03-13"})", R"({"id":2,"d":null})",
                                                       R"({"id":3,"d":"2000-02-29"})"}));
  const std::string error = Error("/insert/records/frompayload", Payload("days", "id,d\n4,1996-02-30\n"));
  EXPECT_NE(error.find("1996-02-30"), std::string::npos) << error;
}

// CSV text into string subtype columns: values of the form load; one of
// another fails the load naming it and the form.
TEST_F(LoadingTest, StringSubtypesLoadInTheirFormOnly) {
  Run("/create/table", {{"table_name", "sub"},
                        {"type_id", R"([["id","int"],["at","string","datetime"],["ip","string","ipv4","nullable"]])"}});
  EXPECT_EQ(Run("/insert/records/frompayload",
                Payload("sub", "id,at,ip\n1,2024-01-15 10:20:30.123,10.0.0.1\n2,2024-02-29,\n"))["count_inserted"],
            2);
  const std::string error = Error("/insert/records/frompayload", Payload("sub", "id,at,ip\n3,2024-01-15,10.0.0\n"));
  EXPECT_NE(error.find("'10.0.0' is not an ipv4 address"), std::string::npos) << error;
  EXPECT_EQ(Records("sub").size(), 2u);
}

// A load into a table with a primary key: a key it holds (or one the data
// holds twice) fails the load naming the record, unless update_on_existing_pk
// (the last record wins) or ignore_existing_pk (the first row stays).
TEST_F(LoadingTest, PrimaryKeysAreEnforced) {
  Json request = Payload("keyed", "a,b\n1,x\n2,y\n");
  request["create_table_options"] = {{"type_id", R"([["a","long"],["b","string","nullable"]])"}};
  request["options"]["primary_keys"] = "a";
  Run("/insert/records/frompayload", request);
  EXPECT_EQ(Error("/insert/records/frompayload", Payload("keyed", "a,b\n3,z\n2,w\n")),
            "list[1]: primary key (a=2) already exists in table 'keyed'");
  EXPECT_EQ(Error("/insert/records/frompayload", Payload("keyed", "a,b\n5,z\n5,w\n")),
            "list[1]: primary key (a=5) is also the key of list[0]");
  EXPECT_EQ(Records("keyed"), (std::vector<std::string>{R"({"a":1,"b":"x"})", R"({"a":2,"b":"y"})"}));
  Json r =
      Run("/insert/records/frompayload", Payload("keyed", "a,b\n3,z\n2,w\n2,v\n", {{"update_on_existing_pk", "true"}}));
  EXPECT_EQ(r["count_inserted"], 1);
  EXPECT_EQ(r["count_updated"], 1);
  r = Run("/insert/records/frompayload", Payload("keyed", "a,b\n1,q\n4,u\n", {{"ignore_existing_pk", "true"}}));
  EXPECT_EQ(r["count_inserted"], 1);
  EXPECT_EQ(Records("keyed"), (std::vector<std::string>{R"({"a":1,"b":"x"})", R"({"a":2,"b":"v"})",
                                                        R"({"a":3,"b":"z"})", R"({"a":4,"b":"u"})"}));
  // truncate_table with keys: the new rows' own keys are checked.
  EXPECT_EQ(Error("/insert/records/frompayload", Payload("keyed", "a,b\n7,z\n7,w\n", {{"truncate_table", "true"}})),
            "list[1]: primary key (a=7) is also the key of list[0]");
  EXPECT_EQ(Records("keyed").size(), 4u);
  Run("/insert/records/frompayload", Payload("keyed", "a,b\n7,z\n", {{"truncate_table", "true"}}));
  EXPECT_EQ(Records("keyed"), (std::vector<std::string>{R"({"a":7,"b":"z"})"}));
}

TEST_F(LoadingTest, AFailedLoadLeavesTheTableAsItWas) {
  Run("/insert/records/frompayload", Payload("t", kCsv));
  const std::vector<std::string> before = Records("t");
  EXPECT_EQ(Error("/insert/records/frompayload", Payload("t", "id,name,score\n3,cid,1\n4,dee,x\n5,eve,2\n")),
            "data_text: line 3: column 'score': 'x' is not a valid double");
  EXPECT_EQ(Records("t"), before);
  // A load that would create a table creates nothing when it fails.
  EXPECT_EQ(Error("/insert/records/frompayload", Payload("u", "a,b\n1,2\n3\n")),
            "data_text: line 3: has 1 fields, expected 2");
  EXPECT_FALSE(Run("/has/table", {{"table_name", "u"}})["table_exists"]);
  // truncate_table replaces the rows, only when the load succeeds.
  EXPECT_EQ(Run("/insert/records/frompayload",
                Payload("t", "id,name,score\n9,z,0\n", {{"truncate_table", "true"}}))["count_inserted"],
            1);
  EXPECT_EQ(Records("t"), (std::vector<std::string>{R"({"id":9,"name":"z","score":0.0})"}));
}

TEST_F(LoadingTest, BadRecordsAreSkippedCountedAndKept) {
  Run("/insert/records/frompayload", Payload("t", kCsv));
  const Json r = Run("/insert/records/frompayload",
                     Payload("t", "id,name,score\n3,c,1\nx,d,2\n5,e\n6,f,3\n",
                             {{"error_handling", "ignore_bad_records"}, {"bad_record_table_name", "t_bad"}}));
  EXPECT_EQ(r["count_inserted"], 2);
  EXPECT_EQ(r["count_skipped"], 2);
  EXPECT_EQ(r["info"]["first_bad_record"], "line 3: column 'id': 'x' is not a valid int");
  EXPECT_EQ(Records("t").size(), 4u);
  EXPECT_EQ(Records("t_bad"),
            (std::vector<std::string>{
                R"({"line_number":3,"line_rejected":"x,d,2","error_message":"column 'id': 'x' is not a valid int"})",
                R"({"line_number":4,"line_rejected":"5,e","error_message":"has 2 fields, expected 3"})"}));
  // permissive: the short row gets a null.
  EXPECT_EQ(Run("/insert/records/frompayload",
                Payload("t", "id,name,score\n7,g\n", {{"error_handling", "permissive"}}))["count_inserted"],
            1);
  // A bad-record table of another type is refused before anything changes.
  Run("/create/table", {{"table_name", "other"}, {"type_id", R"([["x","int"]])"}});
  EXPECT_EQ(
      Error("/insert/records/frompayload",
            Payload("t", "id,name,score\n8,h,1\n", {{"error_handling", "skip"}, {"bad_record_table_name", "other"}})),
      "options.bad_record_table_name: 'other' exists and is not a table of line_number long, line_rejected "
      "string, error_message string");
  EXPECT_EQ(Records("t").size(), 5u);
}

TEST_F(LoadingTest, ModesAndRefusedOptions) {
  Json r = Run("/insert/records/frompayload", Payload("d", kCsv, {{"ingestion_mode", "dry_run"}}));
  EXPECT_EQ(r["count_inserted"], 2);
  EXPECT_EQ(r["info"]["dry_run"], "true");
  EXPECT_FALSE(Run("/has/table", {{"table_name", "d"}})["table_exists"]);
  r = Run("/insert/records/frompayload", Payload("d", kCsv, {{"ingestion_mode", "type_inference_only"}}));
  EXPECT_EQ(r["count_inserted"], 0);
  EXPECT_NE(r["type_definition"].get<std::string>().find("\"score\""), std::string::npos);
  EXPECT_EQ(Error("/insert/records/frompayload", Payload("d", kCsv, {{"transformations", "id+1"}})),
            "options.transformations: not supported by this server");
  EXPECT_EQ(Error("/insert/records/frompayload", Payload("d", kCsv, {{"error_handling", "maybe"}})),
            "options.error_handling: expected permissive, skip, ignore_bad_records or abort, got 'maybe'");
  EXPECT_EQ(Error("/insert/records/frompayload", Payload("d", kCsv, {{"text_delimiter", ";;"}})),
            "options.text_delimiter: expected one character, got ';;'");
  EXPECT_EQ(Error("/insert/records/frompayload", Json{{"table_name", "d"}}), "data_text, data_bytes: no records given");
  Run("/insert/records/frompayload", Payload("d", kCsv));
  Run("/filter", {{"table_name", "d"}, {"view_name", "v"}, {"expression", "id > 1"}});
  EXPECT_EQ(Error("/insert/records/frompayload", Payload("v", kCsv)), "table_name: 'v' is a view; load into a table");
}

TEST_F(LoadingTest, FilesUnderTheFilesDirectory) {
  WriteFile("in/a.csv", "id,name\n1,a\n2,b\n");
  WriteFile("in/b.tsv", "id\tname\n3\tc\n");
  WriteFile("in/c.json", "{\"id\": 4, \"name\": \"d\"}\n");
  Json r =
      Run("/insert/records/fromfiles", {{"table_name", "f"}, {"filepaths", {"in/a.csv", "in/b.tsv", "in/c.json"}}});
  EXPECT_EQ(r["count_inserted"], 4);
  EXPECT_EQ(r["files"], Json::array({"in/a.csv", "in/b.tsv", "in/c.json"}));
  r = Run("/insert/records/fromfiles", {{"table_name", "g"}, {"filepaths", {"in/*.csv"}}});
  EXPECT_EQ(r["count_inserted"], 2);
  EXPECT_EQ(Error("/insert/records/fromfiles", {{"table_name", "h"}, {"filepaths", {"in/../../etc/passwd"}}}),
            "filepaths[0]: 'in/../../etc/passwd': '..' is not allowed in a path");
  EXPECT_EQ(Error("/insert/records/fromfiles", {{"table_name", "h"}, {"filepaths", {"/etc/passwd"}}}),
            "filepaths[0]: '/etc/passwd' is outside the server's files directory");
  ASSERT_EQ(::symlink("/etc/hostname", (dir_ + "/in/host.csv").c_str()), 0);
  EXPECT_EQ(Error("/insert/records/fromfiles", {{"table_name", "h"}, {"filepaths", {"in/host.csv"}}}),
            "filepaths[0]: 'in/host.csv' leads outside the server's files directory");
  EXPECT_EQ(Error("/insert/records/fromfiles", {{"table_name", "h"}, {"filepaths", {"in/a.csv", "in/nope.csv"}}}),
            "filepaths[1]: 'in/nope.csv' does not exist");
  WriteFile("in/bad.csv", "id,name\n1,a\nx,b\n");
  EXPECT_EQ(Error("/insert/records/fromfiles", {{"table_name", "f"}, {"filepaths", {"in/bad.csv"}}}),
            "in/bad.csv: line 3: column 'id': 'x' is not a valid int");
}

TEST_F(LoadingTest, WithoutAFilesDirectoryFilesAreRefused) {
  HandlerTest::SetUp();  // an engine with no files directory
  const std::string refused =
      ": this server reads and writes no files: start it with --files-dir=DIR to serve the files under DIR";
  EXPECT_EQ(Error("/insert/records/fromfiles", {{"table_name", "f"}, {"filepaths", {"a.csv"}}}),
            absl::StrCat("filepaths[0]", refused));
  Run("/insert/records/frompayload", Payload("t", kCsv));
  EXPECT_EQ(Error("/export/records/tofiles", {{"table_name", "t"}, {"filepath", "out.csv"}}),
            absl::StrCat("filepath", refused));
}

TEST_F(LoadingTest, ExportsReadBack) {
  Run("/insert/records/frompayload", Payload("t", kCsv));
  Json r = Run("/export/records/tofiles", {{"table_name", "t"}, {"filepath", "out.csv"}});
  EXPECT_EQ(r["count_exported"], 2);
  EXPECT_EQ(r["files"], Json::array({"out.csv"}));
  EXPECT_EQ(ReadFile("out.csv"), "\"id\",\"name\",\"score\"\n1,\"ann\",7.5\n2,\"bob\",\\N\n");
  EXPECT_EQ(Error("/export/records/tofiles", {{"table_name", "t"}, {"filepath", "out.csv"}}),
            "filepath: 'out.csv' exists (options.single_file=overwrite replaces it)");
  r = Run("/export/records/tofiles", {{"table_name", "t"},
                                      {"filepath", "out.csv"},
                                      {"options",
                                       {{"single_file", "overwrite"},
                                        {"columns_to_export", "score,id"},
                                        {"text_delimiter", "|"},
                                        {"text_has_header", "false"}}}});
  EXPECT_EQ(ReadFile("out.csv"), "7.5|1\n\\N|2\n");
  // Parquet into a directory: a generated name, read back into a new table.
  r = Run("/export/records/tofiles",
          {{"table_name", "t"}, {"filepath", "in"}, {"options", {{"file_type", "parquet"}}}});
  const std::string file = r["files"][0];
  EXPECT_EQ(file.substr(0, 5), "in/t_");
  EXPECT_EQ(file.substr(file.size() - 8), ".parquet");
  Run("/insert/records/fromfiles", {{"table_name", "back"}, {"filepaths", {file}}});
  EXPECT_EQ(Records("back"), Records("t"));
  EXPECT_EQ(Error("/export/records/tofiles", {{"table_name", "t"}, {"filepath", "../x.csv"}}),
            "filepath: '../x.csv': '..' is not allowed in a path");
  EXPECT_EQ(Error("/export/records/tofiles", {{"table_name", "t"}, {"filepath", "noext"}}),
            "filepath: 'noext' is neither a directory under the files directory nor a file name with an extension");
  EXPECT_EQ(Error("/export/records/tofiles",
                  {{"table_name", "t"}, {"filepath", "x.csv"}, {"options", {{"columns_to_export", "nope"}}}}),
            "options.columns_to_export: the table has no column 'nope'");
}

TEST_F(LoadingTest, ALongLoadReportsProgress) {
  std::string text = "id,v\n";
  for (int i = 0; i < 20000; ++i) absl::StrAppend(&text, i, ",", i * 0.25, "\n");
  Run("/create/table", {{"table_name", "p"}, {"type_id", R"([["id","int"],["v","double"]])"}});
  // A write held at its first progress report keeps the load queued behind
  // it until the load is watched.
  auto first = Submit("/insert/records/random", {{"table_name", "p"}, {"count", 5000000}});
  ASSERT_TRUE(first.ok());
  gpudb_test::ProgressPause pause(*engine_, *first);
  ASSERT_TRUE(pause.WaitReached());
  gpudb_test::WatchLog log;
  auto id = Submit("/insert/records/frompayload", Payload("p", text, {{"batch_size", "1000"}}));
  ASSERT_TRUE(id.ok());
  engine_->WatchJob(*id, log.Fn());
  pause.Release();
  const JobSnapshot done = Await(*id);
  ASSERT_EQ(done.state, JobState::kDone) << done.error;
  EXPECT_EQ((*done.response)["count_inserted"], 20000);
  EXPECT_GE(log.intermediate().size(), 5u);
}

}  // namespace
}  // namespace engine
