// The table endpoints through the engine, with schema-qualified names:
// /show/types, /create/table (options.collection_name), /show/table,
// /has/table, /clear/tables, /show/table/metadata, /alter/table/metadata,
// /get/records (type_name) and /get/records/fromcollection, each with its
// error cases by message.

#include <string>
#include <vector>

#include "engine/table/subtypes.h"
#include "tests/common/avro.h"
#include "tests/engine/handlers/handler_fixture.h"

namespace engine {
namespace {

constexpr const char* kType = R"([["id","int"],["x","double","nullable"],["s","char8"]])";

class TablesTest : public HandlerTest {
 protected:
  // Creates `name` with kType and rows id = 0..rows-1, x = id / 2 (null for
  // every third id), s = "s<id>".
  Json Make(const std::string& name, int rows = 0) {
    Json created = Run("/create/table", {{"table_name", name}, {"type_id", kType}});
    Json list = Json::array();
    for (int i = 0; i < rows; ++i) {
      list.push_back(
          Json{{"id", i}, {"x", i % 3 == 0 ? Json(nullptr) : Json(i / 2.0)}, {"s", "s" + std::to_string(i)}}.dump());
    }
    if (rows > 0) Run("/insert/records", {{"table_name", name}, {"list_encoding", "json"}, {"list_str", list}});
    return created;
  }

  std::vector<std::string> Names(const std::string& table_name, Json options = Json::object()) {
    return Run("/show/table", {{"table_name", table_name}, {"options", options}})["table_names"]
        .get<std::vector<std::string>>();
  }
};

// ---------------------------------------------------------------------------
// /show/types

TEST_F(TablesTest, ShowTypesListsEveryTypeOrThoseOfAnIdOrALabel) {
  const std::string a = Run("/create/type", {{"type_definition", R"([["a","int"]])"}, {"label", "first"}})["type_id"];
  const std::string b = Run("/create/type", {{"type_definition", R"([["b","double","nullable"],["c","char4"]])"},
                                             {"label", "second"}})["type_id"];
  const Json all = Run("/show/types", {{"type_id", ""}, {"label", ""}});
  EXPECT_EQ(all["type_ids"].size(), 2u);
  EXPECT_EQ(all["labels"].size(), 2u);

  const Json by_id = Run("/show/types", {{"type_id", b}, {"label", ""}});
  EXPECT_EQ(by_id["type_ids"], Json::array({b}));
  EXPECT_EQ(by_id["labels"], Json::array({"second"}));
  EXPECT_EQ(Json::parse(by_id["type_schemas"][0].get<std::string>()),
            Json::parse(R"({"type":"record","name":"second","fields":[{"name":"b","type":["double","null"]},)"
                        R"({"name":"c","type":"string"}]})"));
  EXPECT_EQ(by_id["properties"][0], Json::parse(R"({"b":["nullable"],"c":["char4"]})"));

  EXPECT_EQ(Run("/show/types", {{"type_id", ""}, {"label", "first"}})["type_ids"], Json::array({a}));
  EXPECT_EQ(Run("/show/types", {{"type_id", a}, {"label", "second"}})["type_ids"], Json::array());
  EXPECT_EQ(Run("/show/types", {{"type_id", ""}, {"label", "third"}})["type_ids"], Json::array());
}

TEST_F(TablesTest, ShowTypesKnowsTheTypeOfATableMadeFromAColumnList) {
  const std::string type_id = Make("t")["type_id"];
  const Json shown = Run("/show/types", {{"type_id", type_id}, {"label", ""}});
  ASSERT_EQ(shown["type_ids"], Json::array({type_id}));
  EXPECT_EQ(shown["properties"][0], Json::parse(R"({"s":["char8"],"x":["nullable"]})"));
}

TEST_F(TablesTest, ShowTypesErrors) {
  EXPECT_EQ(Error("/show/types", {{"type_id", "123"}, {"label", ""}}), "type_id: type '123' does not exist");
  EXPECT_EQ(Error("/show/types", {{"type_id", ""}, {"label", ""}, {"options", {{"no_join_types", "yes"}}}}),
            "options.no_join_types: expected 'true' or 'false', got 'yes'");
}

// ---------------------------------------------------------------------------
// Names: the default schema, other schemas.

TEST_F(TablesTest, AnUnqualifiedNameIsTheTableOfTheDefaultSchema) {
  const Json created = Make("t", 5);
  EXPECT_EQ(created["table_name"], "t");
  EXPECT_EQ(created["info"]["qualified_table_name"], "t");
  EXPECT_EQ(Run("/has/table", {{"table_name", "ki_home.t"}})["table_exists"], true);
  EXPECT_EQ(Run("/get/records", {{"table_name", "ki_home.t"}, {"encoding", "json"}})["total_number_of_records"], 5);
  EXPECT_EQ(Error("/create/table", {{"table_name", "ki_home.t"}, {"type_id", kType}}),
            "table_name: table 't' already exists");
  // Listed under the name asked for; a listing of everything shows the bare name.
  EXPECT_EQ(Names("ki_home.t"), std::vector<std::string>{"ki_home.t"});
  EXPECT_EQ(Names("t"), std::vector<std::string>{"t"});
  EXPECT_EQ(Names(""), std::vector<std::string>{"t"});
  const Json shown = Run("/show/table", {{"table_name", "t"}});
  EXPECT_EQ(shown["additional_info"][0]["schema_name"], "ki_home");
  EXPECT_EQ(shown["sizes"], Json::array({5}));

  Run("/clear/table", {{"table_name", "ki_home.t"}});
  EXPECT_EQ(Run("/has/table", {{"table_name", "t"}})["table_exists"], false);
}

TEST_F(TablesTest, TablesOfOneNameInTwoSchemasAreApart) {
  Run("/create/schema", {{"schema_name", "s1"}});
  Make("t", 2);
  Make("s1.t", 7);
  EXPECT_EQ(Run("/create/table", {{"table_name", "s1.t"},
                                  {"type_id", kType},
                                  {"options", {{"no_error_if_exists", "true"}}}})["info"]["qualified_table_name"],
            "s1.t");
  EXPECT_EQ(Run("/get/records", {{"table_name", "t"}, {"encoding", "json"}})["total_number_of_records"], 2);
  EXPECT_EQ(Run("/get/records", {{"table_name", "s1.t"}, {"encoding", "json"}})["total_number_of_records"], 7);
  EXPECT_EQ(Names(""), (std::vector<std::string>{"t", "s1.t"}));
  // A schema may have a table's name.
  Make("s1", 1);
  EXPECT_EQ(Run("/get/records", {{"table_name", "s1"}, {"encoding", "json"}})["total_number_of_records"], 1);
}

TEST_F(TablesTest, ShowTableOfASchemaListsItsTablesOrItself) {
  Run("/create/schema", {{"schema_name", "s1"}});
  Make("s1.b", 3);
  Make("s1.a", 4);
  Run("/filter", {{"table_name", "s1.b"}, {"view_name", "s1.v"}, {"expression", "id > 0"}});
  Make("t");
  const Json children = Run("/show/table", {{"table_name", "s1"}});
  EXPECT_EQ(children["table_name"], "s1");
  EXPECT_EQ(children["table_names"], Json::array({"s1.a", "s1.b", "s1.v"}));
  EXPECT_EQ(children["table_descriptions"], Json::parse(R"([[], [], ["VIEW"]])"));
  EXPECT_EQ(children["sizes"], Json::array({4, 3, 2}));
  EXPECT_EQ(children["additional_info"][2]["schema_name"], "s1");

  const Json itself = Run("/show/table", {{"table_name", "s1"}, {"options", {{"show_children", "false"}}}});
  EXPECT_EQ(itself["table_names"], Json::array({"s1"}));
  EXPECT_EQ(itself["table_descriptions"], Json::parse(R"([["SCHEMA"]])"));
  EXPECT_EQ(itself["type_ids"], Json::array({""}));

  EXPECT_EQ(Names("*"), (std::vector<std::string>{"ki_home", "s1", "t", "s1.a", "s1.b", "s1.v"}));
  EXPECT_EQ(Names(""), (std::vector<std::string>{"t", "s1.a", "s1.b", "s1.v"}));
}

TEST_F(TablesTest, ShowTableErrors) {
  EXPECT_EQ(Error("/show/table", {{"table_name", "nope"}}), "table_name: table 'nope' does not exist");
  EXPECT_EQ(Error("/show/table", {{"table_name", "s9.nope"}}), "table_name: table 's9.nope' does not exist");
  EXPECT_EQ(Names("nope", {{"no_error_if_not_exists", "true"}}), std::vector<std::string>{});
  EXPECT_EQ(Error("/show/table", {{"table_name", "a.b.c"}}),
            "table_name: 'a.b.c' has more than one '.'; name a table as schema.table");
  EXPECT_EQ(Error("/show/table", {{"table_name", ""}, {"options", {{"show_children", "no"}}}}),
            "options.show_children: expected 'true' or 'false', got 'no'");
}

TEST_F(TablesTest, CreateTableInASchemaNeedsTheSchema) {
  EXPECT_EQ(Error("/create/table", {{"table_name", "s1.t"}, {"type_id", kType}}),
            "table_name: schema 's1' does not exist");
  EXPECT_EQ(Error("/create/table", {{"table_name", ".t"}, {"type_id", kType}}),
            "table_name: '.t' lacks the schema name around its '.'");
  EXPECT_EQ(Error("/create/table", {{"table_name", "s1."}, {"type_id", kType}}),
            "table_name: 's1.' lacks the table name around its '.'");
  EXPECT_EQ(Run("/has/schema", {{"schema_name", "s1"}})["schema_exists"], false);
}

TEST_F(TablesTest, CollectionNameIsTheSchemaAndIsCreatedWhenMissing) {
  const Json created =
      Run("/create/table", {{"table_name", "t"}, {"type_id", kType}, {"options", {{"collection_name", "c1"}}}});
  EXPECT_EQ(created["table_name"], "t");
  EXPECT_EQ(created["info"]["qualified_table_name"], "c1.t");
  EXPECT_EQ(Run("/has/schema", {{"schema_name", "c1"}})["schema_exists"], true);
  EXPECT_EQ(Run("/has/table", {{"table_name", "c1.t"}})["table_exists"], true);
  EXPECT_EQ(Run("/has/table", {{"table_name", "t"}})["table_exists"], false);
  // Into the existing schema.
  Run("/create/table", {{"table_name", "u"}, {"type_id", kType}, {"options", {{"collection_name", "c1"}}}});
  EXPECT_EQ(Names("c1"), (std::vector<std::string>{"c1.t", "c1.u"}));

  // A qualified name in the same schema (as Kinetica's GPUdbTable sends it).
  Run("/create/table", {{"table_name", "c2.v"}, {"type_id", kType}, {"options", {{"collection_name", "c2"}}}});
  EXPECT_EQ(Names("c2"), (std::vector<std::string>{"c2.v"}));

  EXPECT_EQ(
      Error("/create/table", {{"table_name", "c1.v"}, {"type_id", kType}, {"options", {{"collection_name", "c3"}}}}),
      "options.collection_name: 'c3' is not the schema table_name 'c1.v' names");
  EXPECT_EQ(Run("/has/schema", {{"schema_name", "c3"}})["schema_exists"], false);
  EXPECT_EQ(
      Error("/create/table", {{"table_name", "v"}, {"type_id", kType}, {"options", {{"collection_name", "c.1"}}}}),
      "options.collection_name: 'c.1' has characters other than letters, digits, '_' and '-'");
}

// ---------------------------------------------------------------------------
// /clear/tables

TEST_F(TablesTest, ClearTablesClearsEveryNamedTable) {
  Run("/create/schema", {{"schema_name", "s1"}});
  Make("a", 2);
  Make("s1.b", 2);
  Make("c", 2);
  const Json r = Run("/clear/tables", {{"table_names", {"ki_home.a", "s1.b"}}});
  EXPECT_EQ(r["tables"], Json::parse(R"({"ki_home.a": "", "s1.b": ""})"));
  EXPECT_EQ(Names(""), std::vector<std::string>{"c"});
}

TEST_F(TablesTest, ClearTablesOfAMissingTableClearsNothingUnlessAsked) {
  Make("a", 2);
  EXPECT_EQ(Error("/clear/tables", {{"table_names", {"a", "nope"}}}), "table_names[1]: table 'nope' does not exist");
  EXPECT_EQ(Run("/has/table", {{"table_name", "a"}})["table_exists"], true);
  const Json r =
      Run("/clear/tables", {{"table_names", {"a", "nope"}}, {"options", {{"no_error_if_not_exists", "true"}}}});
  EXPECT_EQ(r["tables"], Json::parse(R"({"a": "", "nope": ""})"));
  EXPECT_EQ(Run("/has/table", {{"table_name", "a"}})["table_exists"], false);
}

TEST_F(TablesTest, ClearTablesErrors) {
  EXPECT_EQ(Error("/clear/tables", {{"table_names", Json::array()}}),
            "table_names: clearing every table at once is not allowed; name the tables");
  EXPECT_EQ(Error("/clear/tables", {{"table_names", {"a", "b c"}}}),
            "table_names[1]: 'b c' has characters other than letters, digits, '_', '-' and '.'");
  EXPECT_EQ(Error("/clear/tables", {{"table_names", {"a"}}, {"options", {{"no_error_if_not_exists", "1"}}}}),
            "options.no_error_if_not_exists: expected 'true' or 'false', got '1'");
}

// ---------------------------------------------------------------------------
// /alter/table/metadata, /show/table/metadata

TEST_F(TablesTest, MetadataIsAddedReplacedAndClearedPerTable) {
  Run("/create/schema", {{"schema_name", "s1"}});
  Make("a");
  Make("s1.b");
  const Json altered = Run("/alter/table/metadata",
                           {{"table_names", {"a", "s1.b"}}, {"metadata_map", {{"owner", "ann"}, {"tier", "1"}}}});
  EXPECT_EQ(altered["table_names"], Json::array({"a", "s1.b"}));
  EXPECT_EQ(altered["metadata_map"], Json::parse(R"({"owner": "ann", "tier": "1"})"));
  Run("/alter/table/metadata", {{"table_names", {"ki_home.a"}}, {"metadata_map", {{"tier", "2"}}}});

  const Json shown = Run("/show/table/metadata", {{"table_names", {"s1.b", "a"}}});
  EXPECT_EQ(shown["table_names"], Json::array({"s1.b", "a"}));
  EXPECT_EQ(shown["metadata_maps"], Json::parse(R"([{"owner": "ann", "tier": "1"}, {"owner": "ann", "tier": "2"}])"));

  Run("/alter/table/metadata", {{"table_names", {"a"}}, {"metadata_map", Json::object()}});
  EXPECT_EQ(Run("/show/table/metadata", {{"table_names", {"a"}}})["metadata_maps"], Json::parse("[{}]"));
}

TEST_F(TablesTest, MetadataErrors) {
  Make("a");
  EXPECT_EQ(Error("/show/table/metadata", {{"table_names", {"a", "nope"}}}),
            "table_names[1]: table 'nope' does not exist");
  EXPECT_EQ(Error("/alter/table/metadata", {{"table_names", {"nope"}}, {"metadata_map", {{"k", "v"}}}}),
            "table_names[0]: table 'nope' does not exist");
  EXPECT_EQ(Error("/show/table/metadata", {{"table_names", Json::array()}}), "table_names: name at least one table");
  EXPECT_EQ(Error("/alter/table/metadata", {{"table_names", {"x.y.z"}}, {"metadata_map", Json::object()}}),
            "table_names[0]: 'x.y.z' has more than one '.'; name a table as schema.table");
}

// ---------------------------------------------------------------------------
// /get/records, /get/records/fromcollection

TEST_F(TablesTest, GetRecordsNamesItsTypeById) {
  const std::string type_id = Make("t", 3)["type_id"];
  const Json r = Run("/get/records", {{"table_name", "ki_home.t"}, {"encoding", "json"}});
  EXPECT_EQ(r["table_name"], "ki_home.t");
  EXPECT_EQ(r["type_name"], type_id);
  const Json types = Run("/show/types", {{"type_id", r["type_name"]}, {"label", ""}});
  EXPECT_EQ(types["type_schemas"], Json::array({r["type_schema"]}));
}

TEST_F(TablesTest, GetRecordsFromCollectionPagesRecordsWithTheirTypesAndIds) {
  Run("/create/schema", {{"schema_name", "s1"}});
  const std::string type_id = Make("s1.t", 10)["type_id"];
  const Json r =
      Run("/get/records/fromcollection", {{"table_name", "s1.t"},
                                          {"offset", 1},
                                          {"limit", 2},
                                          {"encoding", "json"},
                                          {"options", {{"expression", "id % 2 = 1"}, {"return_record_ids", "true"}}}});
  EXPECT_EQ(r["table_name"], "s1.t");
  EXPECT_EQ(r["type_names"], Json::array({type_id, type_id}));
  EXPECT_EQ(r["records_json"], Json::array({R"({"id":3,"x":null,"s":"s3"})", R"({"id":5,"x":2.5,"s":"s5"})"}));
  EXPECT_EQ(r["records_binary"], Json::array());
  EXPECT_EQ(r["record_ids"], Json::array({"3", "5"}));
  EXPECT_EQ(r["info"], Json::parse(R"({"total_number_of_records": "5", "has_more_records": "true"})"));

  // Binary: Avro records of the table's type; no record ids unless asked.
  const Json b = Run("/get/records/fromcollection", {{"table_name", "s1.t"}, {"offset", 8}, {"encoding", "binary"}});
  ASSERT_EQ(b["records_binary"].size(), 2u);
  EXPECT_EQ(b["record_ids"], Json::array());
  EXPECT_EQ(b["info"]["has_more_records"], "false");
  const auto& bytes = b["records_binary"][0].get_binary();
  gpudb_test::AvroIn in(std::string(bytes.begin(), bytes.end()));
  int64_t id = 0, branch = 0;
  double x = 0;
  std::string s;
  ASSERT_TRUE(in.Long(&id) && in.Long(&branch) && in.Double(&x) && in.Bytes(&s));
  EXPECT_EQ(id, 8);
  EXPECT_EQ(branch, 0);  // the value, not null
  EXPECT_EQ(x, 4.0);
  EXPECT_EQ(s, "s8");
}

TEST_F(TablesTest, GetRecordsFromCollectionErrors) {
  Make("t", 1);
  EXPECT_EQ(Error("/get/records/fromcollection", {{"table_name", "nope"}}), "table_name: table 'nope' does not exist");
  EXPECT_EQ(Error("/get/records/fromcollection", {{"table_name", "t"}, {"encoding", "geojson"}}),
            "encoding: expected 'binary' or 'json', got 'geojson'");
  EXPECT_EQ(Error("/get/records/fromcollection", {{"table_name", "t"}, {"options", {{"return_record_ids", "y"}}}}),
            "options.return_record_ids: expected 'true' or 'false', got 'y'");
  EXPECT_EQ(Error("/get/records/fromcollection", {{"table_name", "t"}, {"offset", -1}}),
            "offset: must be >= 0, got -1");
}

// Columns of string subtypes (datetime, time, decimal, ulong, uuid, ipv4)
// take values of their form only: an insert with one other value fails
// whole, naming the column and the form; random records have the form.
// A nullable column that holds no null reads as one without validity (the
// kernels' paths for columns of no nulls); every change that brings a null
// must show it: inserts, updates, a new table from a join, after deletes.
TEST_F(TablesTest, NullableColumnsReadTheirNullsAfterEveryChange) {
  Run("/create/table", {{"table_name", "n"}, {"type_id", R"([["id","int"],["x","long","nullable"]])"}});
  const auto insert = [&](const std::vector<std::string>& records) {
    Run("/insert/records", {{"table_name", "n"}, {"list_encoding", "json"}, {"list_str", records}});
  };
  const auto nulls = [&] {
    return Run("/filter", {{"table_name", "n"}, {"view_name", ""}, {"expression", "x is null"}})["count"]
        .get<int64_t>();
  };
  const auto non_null = [&] {
    const Json r = Run("/aggregate/groupby", {{"table_name", "n"},
                                              {"column_names", {"count(x)", "sum(x)"}},
                                              {"offset", 0},
                                              {"limit", 10},
                                              {"encoding", "json"}});
    return Json::parse(r["json_encoded_response"].get<std::string>())["column_1"][0].get<int64_t>();
  };
  insert({R"({"id": 1, "x": 10})", R"({"id": 2, "x": 20})", R"({"id": 3, "x": 30})"});
  EXPECT_EQ(nulls(), 0);
  EXPECT_EQ(non_null(), 3);
  insert({R"({"id": 4, "x": null})"});
  EXPECT_EQ(nulls(), 1);
  EXPECT_EQ(non_null(), 3);
  Run("/delete/records", {{"table_name", "n"}, {"expressions", {"x is null"}}});
  EXPECT_EQ(nulls(), 0);
  Run("/update/records", {{"table_name", "n"},
                          {"expressions", {"id = 2"}},
                          {"new_values_maps", {{{"x", nullptr}}}},
                          {"records_to_insert", Json::array()},
                          {"records_to_insert_str", Json::array()},
                          {"record_encoding", "json"}});
  EXPECT_EQ(nulls(), 1);
  EXPECT_EQ(non_null(), 2);
  Run("/update/records", {{"table_name", "n"},
                          {"expressions", {"id = 2"}},
                          {"new_values_maps", {{{"x", "25"}}}},
                          {"records_to_insert", Json::array()},
                          {"records_to_insert_str", Json::array()},
                          {"record_encoding", "json"}});
  EXPECT_EQ(nulls(), 0);
  EXPECT_EQ(non_null(), 3);
}

TEST_F(TablesTest, StringSubtypesTakeTheirFormOnly) {
  const char* subtypes[] = {"datetime", "time", "decimal", "ulong", "uuid", "ipv4"};
  Json type = Json::array();
  for (const char* subtype : subtypes) type.push_back(Json::array({subtype, "string", subtype, "nullable"}));
  Run("/create/table", {{"table_name", "typed"}, {"type_id", type.dump()}});
  Run("/insert/records/random", {{"table_name", "typed"}, {"count", 500}, {"options", {{"seed", {{"value", 4}}}}}});
  const Json got = Run("/get/records", {{"table_name", "typed"}, {"offset", 0}, {"limit", 500}, {"encoding", "json"}});
  ASSERT_EQ(got["records_json"].size(), 500u);
  for (const Json& text : got["records_json"]) {
    const Json record = Json::parse(text.get<std::string>());
    for (const char* subtype : subtypes) {
      if (record[subtype].is_null()) continue;
      EXPECT_TRUE(CheckSubtype(subtype, record[subtype].get<std::string>()).ok()) << record.dump();
    }
  }
  const Json good = {{"datetime", "2024-01-15 10:20:30.123"},
                     {"time", "10:20:30"},
                     {"decimal", "-12.5"},
                     {"ulong", "18446744073709551615"},
                     {"uuid", "123e4567-e89b-12d3-a456-426614174000"},
                     {"ipv4", "192.168.1.1"}};
  Json bad = good;
  bad["uuid"] = "not-a-uuid";
  const std::string error = Error(
      "/insert/records", {{"table_name", "typed"}, {"list_encoding", "json"}, {"list_str", {good.dump(), bad.dump()}}});
  EXPECT_NE(error.find("uuid"), std::string::npos) << error;
  EXPECT_NE(error.find("'not-a-uuid' is not a uuid"), std::string::npos) << error;
  const Json count = Run("/get/records", {{"table_name", "typed"}, {"offset", 0}, {"limit", 1}, {"encoding", "json"}});
  EXPECT_EQ(count.value("total_number_of_records", -1), 500);  // neither record went in
  Run("/insert/records", {{"table_name", "typed"}, {"list_encoding", "json"}, {"list_str", {good.dump()}}});
  // Updates: a literal, or an expression's values, of another form fail.
  const auto update = [](const std::string& value) {
    return Json{{"table_name", "typed"},
                {"expressions", {"ipv4 = '192.168.1.1'"}},
                {"new_values_maps", {{{"ipv4", value}}}},
                {"records_to_insert", Json::array()},
                {"records_to_insert_str", Json::array()},
                {"record_encoding", "json"}};
  };
  EXPECT_NE(Error("/update/records", update("1.2.3")).find("'1.2.3' is not an ipv4 address"), std::string::npos);
  Json computed = update("substr(ipv4, 1, 5)");
  computed["options"] = {{"use_expressions_in_new_values_maps", "true"}};
  const std::string computed_error = Error("/update/records", computed);
  EXPECT_NE(computed_error.find("'192.1' is not an ipv4 address"), std::string::npos) << computed_error;
  Run("/update/records", update("10.9.8.7"));
  // A column changed to a subtype: its values are checked, the table kept
  // as it was when one lacks the form (or, unvalidated, that one made null).
  Run("/create/table", {{"table_name", "plain"}, {"type_id", R"([["s", "string", "nullable"]])"}});
  Run("/insert/records", {{"table_name", "plain"},
                          {"list_encoding", "json"},
                          {"list_str", {R"({"s": "10.0.0.1"})", R"({"s": "300.1.1.1"})"}}});
  const auto change = [](bool validate) {
    return Json{
        {"table_name", "plain"},
        {"action", "change_column"},
        {"value", "s"},
        {"options", {{"column_properties", "ipv4,nullable"}, {"validate_change_column", validate ? "true" : "false"}}}};
  };
  const std::string change_error = Error("/alter/table", change(true));
  EXPECT_NE(change_error.find("'300.1.1.1' is not an ipv4 address"), std::string::npos) << change_error;
  Run("/insert/records", {{"table_name", "plain"}, {"list_encoding", "json"}, {"list_str", {R"({"s": "any text"})"}}});
  Run("/alter/table", change(false));
  const Json kept = Run("/get/records", {{"table_name", "plain"}, {"offset", 0}, {"limit", 10}, {"encoding", "json"}});
  std::vector<std::string> values;
  for (const Json& text : kept["records_json"]) {
    const Json record = Json::parse(text.get<std::string>());
    values.push_back(record["s"].is_null() ? "null" : record["s"].get<std::string>());
  }
  EXPECT_EQ(values, (std::vector<std::string>{"10.0.0.1", "null", "null"}));
}

// An expression's values are nullable; written into a column that is not,
// they go in when the updated rows hold no null, and a null is refused with
// the row named, the table as it was.
TEST_F(TablesTest, ExpressionUpdatesOfAColumnThatIsNotNullable) {
  Run("/create/table",
      {{"table_name", "t"}, {"type_id", R"([["k", "int"], ["x", "double"], ["y", "double", "nullable"]])"}});
  std::vector<std::string> rows;
  for (int k = 0; k < 1000; ++k) {
    const std::string y = k % 10 == 0 ? "null" : std::to_string(k * 0.5);
    rows.push_back(absl::StrCat(R"({"k": )", k, R"(, "x": )", k, R"(, "y": )", y, "}"));
  }
  Run("/insert/records", {{"table_name", "t"}, {"list_encoding", "json"}, {"list_str", rows}});
  const auto update = [](const std::string& where, const std::string& value) {
    return Json{{"table_name", "t"},
                {"expressions", {where}},
                {"new_values_maps", {{{"x", value}}}},
                {"records_to_insert", Json::array()},
                {"records_to_insert_str", Json::array()},
                {"record_encoding", "json"},
                {"options", {{"use_expressions_in_new_values_maps", "true"}}}};
  };
  const auto sum_x = [&] {
    return Run("/aggregate/statistics", {{"table_name", "t"}, {"column_name", "x"}, {"stats", "sum"}})["stats"]["sum"]
        .get<double>();
  };
  // x = 2x + 1 on the odd k: sum 499500 + (250000 + 500).
  EXPECT_EQ(Run("/update/records", update("k % 2 = 1", "x * 2 + 1"))["count_updated"], 500);
  EXPECT_DOUBLE_EQ(sum_x(), 499500.0 + 250000.0 + 500.0);
  // y where k % 10 == 0 is null: refused, nothing changed.
  const std::string error = Error("/update/records", update("k < 20", "y"));
  EXPECT_NE(error.find("null in a column that is not nullable"), std::string::npos) << error;
  EXPECT_NE(error.find("new_values_maps[0].x"), std::string::npos) << error;
  EXPECT_DOUBLE_EQ(sum_x(), 499500.0 + 250000.0 + 500.0);
  // y + 0 over rows whose y is never null: written (x = k/2 for k = 1..9).
  EXPECT_EQ(Run("/update/records", update("k > 0 and k < 10", "y + 0"))["count_updated"], 9);
  // k = 1..9 held x = 2k + 1 (odd k) or k (even k); now x = k / 2.
  double before = 0, after = 0;
  for (int k = 1; k < 10; ++k) {
    before += k % 2 == 1 ? 2 * k + 1 : k;
    after += k * 0.5;
  }
  EXPECT_DOUBLE_EQ(sum_x(), 499500.0 + 250000.0 + 500.0 - before + after);
}

}  // namespace
}  // namespace engine
