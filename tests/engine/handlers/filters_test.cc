// /filter/bystring, /filter/byvalue and /filter/bytable through the engine:
// counts and views against references computed here from the rows the test
// inserted, and each error case by its message.

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/common/avro.h"
#include "tests/engine/handlers/handler_fixture.h"

namespace engine {
namespace {

// One row of the table `t` the tests filter.
struct Row {
  int id = 0;
  std::optional<std::string> s;  // string, nullable, text_search
  std::string c;                 // char16, text_search
  std::optional<double> x;       // double, nullable
  int64_t k = 0;                 // long
  int n = 0;                     // int16
};

constexpr const char* kType = R"([["id","int"],["s","string","nullable","text_search"],["c","char16","text_search"],)"
                              R"(["x","double","nullable"],["k","long"],["n","int16"]])";

// 1237 rows (no multiple of a block size): s from a few words in mixed case
// with punctuation, % and _ (null every 9th row), c a short code.
std::vector<Row> MakeRows() {
  const std::vector<std::string> words = {"apple", "Banana", "cherry", "red",   "RED",      "Apple", "pie",
                                          "50%",   "a_b",    "e-mail", "bnana", "APPLEPIE", "über"};
  const std::vector<std::string> seps = {" ", ", ", "-", " ", "! "};
  std::vector<Row> rows;
  for (int i = 0; i < 1237; ++i) {
    Row r;
    r.id = i;
    if (i % 9 != 0) {
      std::string s;
      for (int w = 0; w <= i % 3; ++w) {
        if (w > 0) s += seps[(i / 3 + w) % seps.size()];
        s += words[(i * 7 + w * 5) % words.size()];
      }
      r.s = s;
    }
    r.c = std::string(i % 2 == 0 ? "ab" : "AB") + std::to_string(i % 17) + (i % 5 == 0 ? "_x%" : "");
    if (i % 11 != 0) r.x = i % 13 == 0 ? std::numeric_limits<double>::quiet_NaN() : (i % 23) * 0.5;
    r.k = (i * 31) % 97;
    r.n = i % 40 - 20;
    rows.push_back(r);
  }
  return rows;
}

// Row r as an Avro record of kType (a nullable field is the union [value, null]).
std::string RowRecord(const Row& r) {
  using gpudb_test::Double;
  using gpudb_test::Long;
  using gpudb_test::Str;
  return Long(r.id) + (r.s ? Long(0) + Str(*r.s) : Long(1)) + Str(r.c) + (r.x ? Long(0) + Double(*r.x) : Long(1)) +
         Long(r.k) + Long(r.n);
}

std::string Lower(std::string s) {
  for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

class FiltersTest : public HandlerTest {
 protected:
  void SetUp() override {
    HandlerTest::SetUp();
    rows_ = MakeRows();
  }

  // Creates `name` with `type` and the rows of `rows` as JSON records.
  void Insert(const std::string& name, const std::string& type, const std::vector<Json>& rows) {
    Run("/create/table", {{"table_name", name}, {"type_id", type}});
    Json list = Json::array();
    for (const Json& r : rows) list.push_back(r.dump());
    if (!rows.empty()) Run("/insert/records", {{"table_name", name}, {"list_encoding", "json"}, {"list_str", list}});
  }

  // Creates `name` with `type` and `records` in Avro binary (NaN included).
  void InsertBinary(const std::string& name, const std::string& type, const std::vector<std::string>& records) {
    Run("/create/table", {{"table_name", name}, {"type_id", type}});
    Json list = Json::array();
    for (const std::string& r : records) list.push_back(Json::binary(std::vector<uint8_t>(r.begin(), r.end())));
    Run("/insert/records", {{"table_name", name}, {"list_encoding", "binary"}, {"list", list}});
  }

  void MakeT() {
    std::vector<std::string> records;
    for (const Row& r : rows_) records.push_back(RowRecord(r));
    InsertBinary("t", kType, records);
  }

  // The ids of the rows of a table or view, ascending.
  std::vector<int> Ids(const std::string& name) {
    const Json r = Run("/get/records", {{"table_name", name},
                                        {"offset", 0},
                                        {"limit", -9999},
                                        {"encoding", "json"},
                                        {"options", {{"sort_by", "id"}}}});
    std::vector<int> ids;
    for (const Json& rec : r["records_json"]) ids.push_back(Json::parse(rec.get<std::string>())["id"].get<int>());
    return ids;
  }

  std::vector<int> Where(const std::function<bool(const Row&)>& keep) const {
    std::vector<int> ids;
    for (const Row& r : rows_) {
      if (keep(r)) ids.push_back(r.id);
    }
    return ids;
  }

  Json ByString(const std::string& mode, const std::string& expression, Json columns, Json options = Json::object(),
                const std::string& view = "") {
    return Run("/filter/bystring", {{"table_name", "t"},
                                    {"view_name", view},
                                    {"expression", expression},
                                    {"mode", mode},
                                    {"column_names", std::move(columns)},
                                    {"options", std::move(options)}});
  }

  std::string ByStringError(const std::string& mode, const std::string& expression, Json columns,
                            Json options = Json::object(), const std::string& table = "t") {
    return Error("/filter/bystring", {{"table_name", table},
                                      {"view_name", ""},
                                      {"expression", expression},
                                      {"mode", mode},
                                      {"column_names", std::move(columns)},
                                      {"options", std::move(options)}});
  }

  std::vector<Row> rows_;
};

// ---------------------------------------------------------------------------
// /filter/bystring: equals, starts_with, contains, regex.

// Dates (the date property): 'YYYY-MM-DD' strings in and out, stored as
// days, compared with date strings in expressions, ordered as days.
TEST_F(FiltersTest, DatesAreStringsInAndOutAndCompareAsDays) {
  Insert("d", R"([["id", "int"], ["day", "date", "nullable"]])",
         {{{"id", 1}, {"day", "1999-12-31"}},
          {{"id", 2}, {"day", "2000-01-01"}},
          {{"id", 3}, {"day", nullptr}},
          {{"id", 4}, {"day", "1969-07-20"}},
          {{"id", 5}, {"day", "2024-02-29"}}});
  Run("/filter", {{"table_name", "d"}, {"view_name", "recent"}, {"expression", "day >= '2000-01-01'"}});
  EXPECT_EQ(Ids("recent"), (std::vector<int>{2, 5}));
  Run("/filter", {{"table_name", "d"},
                  {"view_name", "between"},
                  {"expression", "day between '1969-07-20' and '1999-12-31' or day in ('2024-02-29')"}});
  EXPECT_EQ(Ids("between"), (std::vector<int>{1, 4, 5}));
  const Json r = Run(
      "/get/records",
      {{"table_name", "d"}, {"offset", 0}, {"limit", -9999}, {"encoding", "json"}, {"options", {{"sort_by", "day"}}}});
  std::vector<Json> days;
  for (const Json& rec : r["records_json"]) days.push_back(Json::parse(rec.get<std::string>())["day"]);
  EXPECT_EQ(days, (std::vector<Json>{nullptr, "1969-07-20", "1999-12-31", "2000-01-01", "2024-02-29"}));
  const Json g = Run("/aggregate/groupby", {{"table_name", "d"},
                                            {"column_names", {"max(day)", "min(day)"}},
                                            {"offset", 0},
                                            {"limit", -9999},
                                            {"encoding", "json"}});
  const Json groups = Json::parse(g["json_encoded_response"].get<std::string>());
  EXPECT_EQ(groups["column_1"], Json::array({"2024-02-29"}));
  EXPECT_EQ(groups["column_2"], Json::array({"1969-07-20"}));
  EXPECT_NE(Error("/filter", {{"table_name", "d"}, {"view_name", "bad"}, {"expression", "day > '2000-13-01'"}})
                .find("'2000-13-01' is not a date (YYYY-MM-DD)"),
            std::string::npos);
  EXPECT_NE(Error("/insert/records",
                  {{"table_name", "d"}, {"list_encoding", "json"}, {"list_str", {R"({"id": 6, "day": "yesterday"})"}}})
                .find("'yesterday' is not a date"),
            std::string::npos);
}

TEST_F(FiltersTest, ByStringModesMatchTheirReferences) {
  MakeT();
  struct Case {
    std::string mode, text;
    bool case_sensitive;
    std::function<bool(const std::string&)> match;
  };
  const auto contains = [](const std::string& v, const std::string& t) { return v.find(t) != std::string::npos; };
  const std::vector<Case> cases = {
      {"equals", "apple", true, [](const std::string& v) { return v == "apple"; }},
      {"equals", "APPLE", false, [](const std::string& v) { return Lower(v) == "apple"; }},
      {"equals", "ab3", true, [](const std::string& v) { return v == "ab3"; }},
      {"starts_with", "Ap", true, [](const std::string& v) { return v.rfind("Ap", 0) == 0; }},
      {"starts_with", "ap", false, [](const std::string& v) { return Lower(v).rfind("ap", 0) == 0; }},
      {"starts_with", "", true, [](const std::string&) { return true; }},
      {"contains", "an", true, [&](const std::string& v) { return contains(v, "an"); }},
      {"contains", "RED", false, [&](const std::string& v) { return contains(Lower(v), "red"); }},
      // % and _ are themselves here, not like's wildcards.
      {"contains", "0%", true, [&](const std::string& v) { return contains(v, "0%"); }},
      {"contains", "A_B", false, [&](const std::string& v) { return contains(Lower(v), "a_b"); }},
      {"contains", "_x%", true, [&](const std::string& v) { return contains(v, "_x%"); }},
      {"regex", "^[Aa]p+le$", true,
       [](const std::string& v) { return std::regex_search(v, std::regex("^[Aa]p+le$")); }},
      {"regex", "an{1,2}a|pie", true,
       [](const std::string& v) { return std::regex_search(v, std::regex("an{1,2}a|pie")); }},
      {"regex", "^AB1[0-6]", false,
       [](const std::string& v) { return std::regex_search(v, std::regex("^AB1[0-6]", std::regex::icase)); }},
  };
  for (const Case& c : cases) {
    const Json options = {{"case_sensitive", c.case_sensitive ? "true" : "false"}};
    for (const Json& columns : {Json::array({"s"}), Json::array({"c"}), Json::array({"s", "c"})}) {
      // A row passes when any of the columns matches; a null never does.
      const std::vector<int> want = Where([&](const Row& r) {
        for (const Json& name : columns) {
          if (name == "s" ? r.s && c.match(*r.s) : c.match(r.c)) return true;
        }
        return false;
      });
      if (columns.size() == 2) EXPECT_GT(want.size(), 0u) << c.mode << " '" << c.text << "' matches no row";
      const Json got = ByString(c.mode, c.text, columns, options);
      EXPECT_EQ(got["count"], want.size()) << c.mode << " '" << c.text << "' over " << columns.dump();
      EXPECT_EQ(got["info"]["qualified_view_name"], "");
      EXPECT_EQ(got["stats_data"], "");
    }
  }
}

TEST_F(FiltersTest, ByStringMakesAViewOfTheMatchingRows) {
  MakeT();
  const Json got = ByString("contains", "pie", {"s"}, Json::object(), "pies");
  const std::vector<int> want = Where([](const Row& r) { return r.s && r.s->find("pie") != std::string::npos; });
  EXPECT_EQ(got["count"], want.size());
  EXPECT_EQ(got["info"]["qualified_view_name"], "pies");
  EXPECT_EQ(Ids("pies"), want);
  // The host path (regex) makes the same kind of view.
  ByString("regex", "pie$", {"s"}, Json::object(), "pie_end");
  EXPECT_EQ(Ids("pie_end"), Where([](const Row& r) { return r.s && std::regex_search(*r.s, std::regex("pie$")); }));
  // A view filters like a table.
  EXPECT_EQ(Run("/filter/bystring", {{"table_name", "pies"},
                                     {"view_name", ""},
                                     {"expression", "ap"},
                                     {"mode", "starts_with"},
                                     {"column_names", {"s"}},
                                     {"options", {{"case_sensitive", "false"}}}})["count"],
            Where([](const Row& r) {
              return r.s && r.s->find("pie") != std::string::npos && Lower(*r.s).rfind("ap", 0) == 0;
            }).size());
}

TEST_F(FiltersTest, ByStringOfAnEmptyTableIsZero) {
  Insert("e", kType, {});
  for (const char* mode : {"equals", "contains", "regex"}) {
    EXPECT_EQ(Run("/filter/bystring", {{"table_name", "e"},
                                       {"view_name", std::string("v_") + mode},
                                       {"expression", "a%"},
                                       {"mode", mode},
                                       {"column_names", {"s"}}})["count"],
              0)
        << mode;
  }
  EXPECT_EQ(Ids("v_regex"), std::vector<int>{});
}

// ---------------------------------------------------------------------------
// /filter/bystring: search.

// The words of a value as search mode reads them: runs of letters, digits,
// '_' and non-ASCII bytes, ASCII letters folded.
std::vector<std::string> Words(const std::string& text) {
  std::vector<std::string> out;
  std::string word;
  for (char ch : text) {
    const auto u = static_cast<unsigned char>(ch);
    if (std::isalnum(u) || ch == '_' || u >= 0x80) {
      word += static_cast<char>(std::tolower(u));
    } else if (!word.empty()) {
      out.push_back(word);
      word.clear();
    }
  }
  if (!word.empty()) out.push_back(word);
  return out;
}

TEST_F(FiltersTest, SearchFindsWordsPhrasesAndWildcardsInTextSearchColumns) {
  MakeT();
  // The words of each text_search column of a row.
  const auto columns = [](const Row& r) {
    return std::vector<std::vector<std::string>>{r.s ? Words(*r.s) : std::vector<std::string>{}, Words(r.c)};
  };
  const auto has = [&](const Row& r, const std::function<bool(const std::string&)>& word) {
    for (const auto& words : columns(r)) {
      if (std::any_of(words.begin(), words.end(), word)) return true;
    }
    return false;
  };
  const auto word = [&](const std::string& w) {
    return [&has, w](const Row& r) { return has(r, [&](const std::string& x) { return x == w; }); };
  };
  const auto phrase = [&](const std::vector<std::string>& p) {
    return [&columns, p](const Row& r) {
      for (const auto& words : columns(r)) {
        if (std::search(words.begin(), words.end(), p.begin(), p.end()) != words.end()) return true;
      }
      return false;
    };
  };
  const std::vector<std::pair<std::string, std::function<bool(const Row&)>>> queries = {
      {"apple", word("apple")},
      {"APPLE", word("apple")},  // search ignores case
      {"apple banana", [&](const Row& r) { return word("apple")(r) || word("banana")(r); }},
      {"apple OR banana", [&](const Row& r) { return word("apple")(r) || word("banana")(r); }},
      {"apple AND red", [&](const Row& r) { return word("apple")(r) && word("red")(r); }},
      {"apple NOT red", [&](const Row& r) { return word("apple")(r) && !word("red")(r); }},
      {"NOT apple", [&](const Row& r) { return !word("apple")(r); }},
      {"(cherry OR banana) AND pie",
       [&](const Row& r) { return (word("cherry")(r) || word("banana")(r)) && word("pie")(r); }},
      {"cherry apple AND pie", [&](const Row& r) { return word("cherry")(r) || (word("apple")(r) && word("pie")(r)); }},
      {"\"banana pie\"", phrase({"banana", "pie"})},
      {"\"red e-mail\" OR \"A_B apple\"",
       [&](const Row& r) {
         return phrase({"red", "e", "mail"})(r) || phrase({"a_b", "apple"})(r);
       }},
      {"\"pie banana\"", phrase({"pie", "banana"})},
      {"e-mail", phrase({"e", "mail"})},
      {"a_b", word("a_b")},
      {"50", word("50")},
      {"über", word("über")},
      {"app*", [&](const Row& r) { return has(r, [](const std::string& x) { return x.rfind("app", 0) == 0; }); }},
      {"b?nana",
       [&](const Row& r) {
         return has(r, [](const std::string& x) { return x.size() == 6 && x[0] == 'b' && x.substr(2) == "nana"; });
       }},
      {"*pie",
       [&](const Row& r) {
         return has(r, [](const std::string& x) { return x.size() >= 3 && x.substr(x.size() - 3) == "pie"; });
       }},
      {"ab1*", [&](const Row& r) { return has(r, [](const std::string& x) { return x.rfind("ab1", 0) == 0; }); }},
  };
  for (const auto& [query, keep] : queries) {
    // column_names is ignored by search, as Kinetica ignores it.
    const size_t want = Where(keep).size();
    EXPECT_EQ(ByString("search", query, {"s"})["count"], want) << query;
    if (query != "\"pie banana\"") EXPECT_GT(want, 0u) << query;
  }
  ByString("search", "banana AND pie", Json::array(), Json::object(), "banana_pie");
  EXPECT_EQ(Ids("banana_pie"), Where([&](const Row& r) { return word("banana")(r) && word("pie")(r); }));
}

TEST_F(FiltersTest, SearchErrors) {
  MakeT();
  EXPECT_EQ(ByStringError("search", "  ", Json::array()), "expression: is empty; give the words to search for");
  EXPECT_EQ(ByStringError("search", "roam~", Json::array()),
            "expression: 'roam~' uses '~', which is not supported (fuzzy, proximity, boost, field and range queries, "
            "and the + - ! operators); use words, \"phrases\", * and ?, AND, OR, NOT and parentheses at position 1");
  const std::string prefix = ByStringError("search", "apple -pie", Json::array());
  EXPECT_EQ(prefix.substr(0, prefix.find(',')), "expression: '-pie' uses '-'");
  const std::string field = ByStringError("search", "s:apple", Json::array());
  EXPECT_EQ(field.substr(0, field.find(',')), "expression: 's:apple' uses ':'");
  EXPECT_EQ(ByStringError("search", "(apple OR pie", Json::array()), "expression: expected ')' at position 14");
  EXPECT_EQ(ByStringError("search", "apple)", Json::array()), "expression: unexpected ')' at position 6");
  EXPECT_EQ(ByStringError("search", "apple AND", Json::array()),
            "expression: expected a word, a \"phrase\" or '(' at position 10");
  EXPECT_EQ(ByStringError("search", "apple AND OR pie", Json::array()),
            "expression: expected a word, a \"phrase\" or '(', not 'OR' at position 11");
  EXPECT_EQ(ByStringError("search", "\"red apple", Json::array()),
            "expression: expected a closing '\"' at position 11");
  EXPECT_EQ(ByStringError("search", "\"  \"", Json::array()),
            "expression: \"  \" has no word to search for at position 1");
  EXPECT_EQ(ByStringError("search", "ap-p*", Json::array()),
            "expression: wildcards apply within one word; 'ap-p*' has '-' at position 1");
  // A table without text_search columns.
  Insert("plain", R"([["id","int"],["s","string"]])", Json::array());
  EXPECT_EQ(ByStringError("search", "apple", Json::array(), Json::object(), "plain"),
            "mode: search reads the string columns with the text_search property, and table 'plain' has none");
}

TEST_F(FiltersTest, ByStringErrors) {
  MakeT();
  EXPECT_EQ(ByStringError("fuzzy", "a", {"s"}),
            "mode: expected 'search', 'equals', 'contains', 'starts_with' or 'regex', got 'fuzzy'");
  EXPECT_EQ(ByStringError("search_stats", "a", {"s"}),
            "mode: 'search_stats' is not supported (it reports the BM25 statistics of a text index, which this server "
            "does not build)");
  EXPECT_EQ(ByStringError("equals", "a", {"s", "nope"}), "column_names[1]: no column named 'nope'");
  EXPECT_EQ(ByStringError("contains", "a", {"k"}), "column_names[0]: 'k' is long, not a string column");
  Insert("blobs", R"([["id","int"],["b","bytes"]])", {});
  EXPECT_EQ(ByStringError("equals", "a", {"b"}, Json::object(), "blobs"),
            "column_names[0]: 'b' is bytes, not a string column");
  EXPECT_EQ(ByStringError("contains", "a", Json::array()),
            "column_names: name at least one string column for mode 'contains'");
  EXPECT_EQ(ByStringError("regex", "(ab", {"s"}), "expression: invalid regular expression: missing ): (ab");
  EXPECT_EQ(ByStringError("regex", "a**", {"s"}),
            "expression: invalid regular expression: bad repetition operator: **");
  EXPECT_EQ(ByStringError("equals", "a", {"s"}, {{"case_sensitive", "maybe"}}),
            "options.case_sensitive: expected 'true' or 'false', got 'maybe'");
  EXPECT_EQ(ByStringError("equals", "a", {"s"}, Json::object(), "nope"), "table_name: table 'nope' does not exist");
  ByString("equals", "a", {"s"}, Json::object(), "v");
  EXPECT_EQ(
      Error("/filter/bystring",
            {{"table_name", "t"}, {"view_name", "v"}, {"expression", "a"}, {"mode", "regex"}, {"column_names", {"s"}}}),
      "view_name: table 'v' already exists");
}

// ---------------------------------------------------------------------------
// /filter/byvalue

TEST_F(FiltersTest, ByValueMatchesEqualValues) {
  MakeT();
  const auto by_value = [&](const std::string& column, bool is_string, double value, const std::string& text,
                            const std::string& view = "") {
    return Run("/filter/byvalue", {{"table_name", "t"},
                                   {"view_name", view},
                                   {"is_string", is_string},
                                   {"value", value},
                                   {"value_str", text},
                                   {"column_name", column}});
  };
  EXPECT_EQ(by_value("k", false, 42, "")["count"], Where([](const Row& r) { return r.k == 42; }).size());
  EXPECT_EQ(by_value("n", false, -3, "")["count"], Where([](const Row& r) { return r.n == -3; }).size());
  EXPECT_EQ(by_value("x", false, 5.5, "")["count"], Where([](const Row& r) { return r.x && *r.x == 5.5; }).size());
  EXPECT_EQ(by_value("x", false, 0.25, "")["count"], 0);
  EXPECT_EQ(by_value("c", true, 0, "AB3")["count"], Where([](const Row& r) { return r.c == "AB3"; }).size());
  EXPECT_EQ(by_value("s", true, 0, "pie")["count"], Where([](const Row& r) { return r.s && *r.s == "pie"; }).size());
  // The value is ignored for a string, value_str for a number.
  EXPECT_EQ(by_value("k", false, 7, "anything")["count"], Where([](const Row& r) { return r.k == 7; }).size());

  const Json made = by_value("c", true, 0, "ab0_x%", "ab0");
  EXPECT_EQ(made["info"]["qualified_view_name"], "ab0");
  EXPECT_EQ(Ids("ab0"), Where([](const Row& r) { return r.c == "ab0_x%"; }));
}

TEST_F(FiltersTest, ByValueErrors) {
  MakeT();
  const auto error = [&](const std::string& column, bool is_string, double value, const std::string& table = "t") {
    return Error("/filter/byvalue", {{"table_name", table},
                                     {"view_name", ""},
                                     {"is_string", is_string},
                                     {"value", value},
                                     {"value_str", "x"},
                                     {"column_name", column}});
  };
  EXPECT_EQ(error("nope", false, 1), "column_name: no column named 'nope'");
  EXPECT_EQ(error("k", true, 1), "column_name: 'k' is long, not a string column; give value with is_string false");
  EXPECT_EQ(error("c", false, 1), "column_name: 'c' is char16; give value_str with is_string true");
  EXPECT_EQ(error("k", false, 1, "nope"), "table_name: table 'nope' does not exist");
}

// ---------------------------------------------------------------------------
// /filter/bytable

class ByTableTest : public FiltersTest {
 protected:
  Json ByTable(const std::string& table, const std::string& column, const std::string& source,
               const std::string& source_column, Json options = Json::object(), const std::string& view = "") {
    return Run("/filter/bytable", {{"table_name", table},
                                   {"view_name", view},
                                   {"column_name", column},
                                   {"source_table_name", source},
                                   {"source_table_column_name", source_column},
                                   {"options", std::move(options)}});
  }
  std::string ByTableError(const std::string& table, const std::string& column, const std::string& source,
                           const std::string& source_column, Json options = Json::object()) {
    return Error("/filter/bytable", {{"table_name", table},
                                     {"view_name", ""},
                                     {"column_name", column},
                                     {"source_table_name", source},
                                     {"source_table_column_name", source_column},
                                     {"options", std::move(options)}});
  }

  // The source table `src`: `keys` long, `codes` string (nullable), `xs`
  // double (nullable), `ns` int, one row per entry of the longest list.
  void MakeSource(const std::vector<int64_t>& keys, const std::vector<std::optional<std::string>>& codes,
                  const std::vector<std::optional<double>>& xs, const std::vector<int>& ns) {
    std::vector<Json> list;
    const size_t rows = std::max({keys.size(), codes.size(), xs.size(), ns.size()});
    for (size_t i = 0; i < rows; ++i) {
      list.push_back(Json{{"key", i < keys.size() ? keys[i] : 0},
                          {"code", i < codes.size() && codes[i] ? Json(*codes[i]) : Json(nullptr)},
                          {"xs", i < xs.size() && xs[i] ? Json(*xs[i]) : Json(nullptr)},
                          {"ns", i < ns.size() ? ns[i] : 0}});
    }
    Insert("src", R"([["key","long"],["code","string","nullable"],["xs","double","nullable"],["ns","int"]])", list);
  }
};

TEST_F(ByTableTest, InAndNotInTableMatchTheSourceValues) {
  MakeT();
  // Duplicates, values the table lacks, nulls.
  const std::vector<int64_t> keys = {3, 3, 50, 96, 1000, -1, 50};
  const std::vector<std::optional<std::string>> codes = {"ab4", "AB5", std::nullopt, "ab4", "ab0_x%", "zz"};
  const std::vector<std::optional<double>> xs = {0.5, std::nullopt, 3.0, 11.0, 100.0};
  const std::vector<int> ns = {-20, 0, 19, 500};
  MakeSource(keys, codes, xs, ns);
  const auto in = [](const auto& list, const auto& v) { return std::find(list.begin(), list.end(), v) != list.end(); };

  const std::vector<int> want_k = Where([&](const Row& r) { return in(keys, r.k); });
  EXPECT_EQ(ByTable("t", "k", "src", "key")["count"], want_k.size());
  EXPECT_EQ(ByTable("t", "k", "src", "key", {{"filter_mode", "not_in_table"}})["count"], rows_.size() - want_k.size());
  // int16 against int: both Avro int.
  EXPECT_EQ(ByTable("t", "n", "src", "ns")["count"], Where([&](const Row& r) { return in(ns, r.n); }).size());
  // char16 against string; nulls match nothing.
  const std::vector<int> want_c = Where([&](const Row& r) { return in(codes, std::optional<std::string>(r.c)); });
  EXPECT_EQ(ByTable("t", "c", "src", "code")["count"], want_c.size());
  const Json view = ByTable("t", "c", "src", "code", Json::object(), "coded");
  EXPECT_EQ(view["info"]["qualified_view_name"], "coded");
  EXPECT_EQ(Ids("coded"), want_c);
  // Nullable doubles: null rows are in neither result; NaN is never in the source.
  const auto x_in = [&](const Row& r) { return r.x && in(xs, std::optional<double>(*r.x)); };
  EXPECT_EQ(ByTable("t", "x", "src", "xs")["count"], Where(x_in).size());
  ByTable("t", "x", "src", "xs", {{"filter_mode", "not_in_table"}}, "x_out");
  EXPECT_EQ(Ids("x_out"), Where([&](const Row& r) { return r.x && !x_in(r); }));
  // The table against itself.
  EXPECT_EQ(ByTable("t", "c", "t", "c")["count"], rows_.size());
}

TEST_F(ByTableTest, NaNsAreNeverInTheSourceAndZerosAreEqual) {
  using gpudb_test::Double;
  using gpudb_test::Long;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  InsertBinary("a", R"([["id","int"],["x","double"]])",
               {Long(0) + Double(0.0), Long(1) + Double(-0.0), Long(2) + Double(nan), Long(3) + Double(1.5)});
  InsertBinary("b", R"([["y","double"]])", {Double(-0.0), Double(nan), Double(2.5)});
  EXPECT_EQ(ByTable("a", "x", "b", "y", Json::object(), "zeros")["count"], 2);
  EXPECT_EQ(Ids("zeros"), (std::vector<int>{0, 1}));
  // not in keeps NaN (NaN equals nothing), as /filter/bylist's not_in_list does.
  ByTable("a", "x", "b", "y", {{"filter_mode", "not_in_table"}}, "others");
  EXPECT_EQ(Ids("others"), (std::vector<int>{2, 3}));
}

TEST_F(ByTableTest, EmptyTablesAndEmptySources) {
  MakeT();
  MakeSource({}, {}, {}, {});
  Insert("none", kType, {});
  EXPECT_EQ(ByTable("t", "k", "src", "key")["count"], 0);
  EXPECT_EQ(ByTable("t", "k", "src", "key", {{"filter_mode", "not_in_table"}})["count"], rows_.size());
  EXPECT_EQ(ByTable("none", "k", "t", "k", Json::object(), "nothing")["count"], 0);
  EXPECT_EQ(Ids("nothing"), std::vector<int>{});
  EXPECT_EQ(ByTable("none", "k", "src", "key", {{"filter_mode", "not_in_table"}})["count"], 0);
}

TEST_F(ByTableTest, TablesOnTwoDevices) {
  EngineOptions options;
  options.devices.spec = "host:2";
  options.devices.streams_per_device = 2;
  options.devices.memory_limit = size_t{256} << 20;
  auto engine = Engine::Create(options);
  ASSERT_TRUE(engine.ok()) << engine.status();
  engine_ = *std::move(engine);
  MakeT();
  MakeSource({1, 2, 3, 4, 5}, {"AB1", "ab2"}, {}, {});
  // A new table goes to the device with the fewest tables.
  const auto device = [&](const std::string& name) {
    return Run("/show/table", {{"table_name", name}})["additional_info"][0]["device"].get<std::string>();
  };
  ASSERT_NE(device("t"), device("src"));
  EXPECT_EQ(ByTable("t", "k", "src", "key", Json::object(), "near")["count"],
            Where([](const Row& r) { return r.k >= 1 && r.k <= 5; }).size());
  EXPECT_EQ(device("near"), device("t"));
  EXPECT_EQ(Ids("near"), Where([](const Row& r) { return r.k >= 1 && r.k <= 5; }));
  EXPECT_EQ(ByTable("src", "code", "t", "c")["count"], 2);
}

TEST_F(ByTableTest, Errors) {
  MakeT();
  MakeSource({1}, {"a"}, {1.0}, {1});
  EXPECT_EQ(ByTableError("t", "k", "nope", "key"), "source_table_name: table 'nope' does not exist");
  EXPECT_EQ(ByTableError("nope", "k", "src", "key"), "table_name: table 'nope' does not exist");
  EXPECT_EQ(ByTableError("t", "kk", "src", "key"), "column_name: no column named 'kk'");
  EXPECT_EQ(ByTableError("t", "k", "src", "kk"), "source_table_column_name: no column named 'kk'");
  EXPECT_EQ(ByTableError("t", "k", "src", "code"),
            "source_table_column_name: 'code' is string and column_name 'k' is long; their types must match");
  EXPECT_EQ(ByTableError("t", "id", "src", "key"),
            "source_table_column_name: 'key' is long and column_name 'id' is int; their types must match");
  EXPECT_EQ(ByTableError("t", "k", "src", "key", {{"filter_mode", "in_list"}}),
            "options.filter_mode: expected 'in_table' or 'not_in_table', got 'in_list'");
  EXPECT_EQ(ByTableError("t", "k", "src", "key", {{"mode", "spatial"}}),
            "options.mode: only 'normal' is supported, got 'spatial' (spatial filters need geometry columns)");
  EXPECT_EQ(Error("/filter/bytable", {{"table_name", "t"},
                                      {"view_name", ""},
                                      {"column_name", "k"},
                                      {"source_table_name", "bad name"},
                                      {"source_table_column_name", "key"}})
                .substr(0, 19),
            "source_table_name: ");
}

}  // namespace
}  // namespace engine
