#include "engine/sql/select.h"

#include <pg_query.h>
#include <pthread.h>

#include <algorithm>
#include <functional>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <set>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "engine/api/json.h"
#include "engine/expr/expression.h"
#include "engine/expr/text.h"
#include "engine/sql/kinetica_words.h"

namespace engine::sql {
namespace {

// InvalidArgument "statement: <message> (line L, column C)", then the line
// and a caret under byte `at` of `text`.
absl::Status ErrorAt(const std::string& text, size_t at, absl::string_view message) {
  at = std::min(at, text.size());
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  const size_t line_end = std::min(text.find('\n', line_start), text.size());
  const size_t column = at - line_start + 1;
  return absl::InvalidArgumentError(absl::StrCat("statement: ", message, " (line ", line, ", column ", column, ")\n  ",
                                                 text.substr(line_start, line_end - line_start), "\n  ",
                                                 std::string(column - 1, ' '), "^"));
}

// A parse tree as JSON, or the error with line, column and a caret.
absl::StatusOr<Json> ParseTree(absl::string_view statement) {
  const std::string text(statement);
  // The grammar's tree printer recurses once per level: a statement nested
  // too deeply would overflow the thread's stack.
  if (const Nesting nesting = NestingOf(text); nesting.depth > kMaxNesting) {
    return ErrorAt(text, nesting.at,
                   absl::StrCat("nested deeper than ", kMaxNesting, " levels (parentheses, CASE and operators)"));
  }
  PgQueryParseResult result = pg_query_parse(text.c_str());
  absl::StatusOr<Json> out;
  if (result.error != nullptr) {
    // cursorpos is 1-based over the statement's bytes (0: unknown).
    out = ErrorAt(text, static_cast<size_t>(std::max(0, result.error->cursorpos - 1)), result.error->message);
  } else {
    // Read in linear time and without recursion (ParseJson); its depth is
    // bounded by kMaxNesting above.
    out = ParseJson(result.parse_tree, SIZE_MAX, std::numeric_limits<int>::max());
    if (!out.ok()) out = absl::InternalError(absl::StrCat("statement: the parser's tree: ", out.status().message()));
  }
  pg_query_free_parse_result(result);
  return out;
}

// The items of `node`'s list `key` (none when it has no such member). Unlike
// Json::value, no copy: a copy of a query's list at each level of nesting
// would cost the square of its depth.
const Json& Items(const Json& node, const char* key) {
  static const Json* const kNone = new Json(Json::array());
  const auto it = node.find(key);
  return it == node.end() ? *kNone : *it;
}

// Bytes of the calling thread's stack left below the caller's frame (the
// stack grows down); SIZE_MAX when the thread's stack is unknown.
size_t StackLeft() {
  thread_local const char* const lowest = [] {
    pthread_attr_t attr;
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstack(&attr, &addr, &size);
      pthread_attr_destroy(&attr);
    }
    return static_cast<const char*>(addr);
  }();
  const char* here = static_cast<const char*>(__builtin_frame_address(0));
  return lowest == nullptr || here < lowest ? SIZE_MAX : static_cast<size_t>(here - lowest);
}

// The translator recurses once per level of a statement. kMaxNesting keeps
// that within a few MiB of stack in a Release build, but a level's frames
// are several times larger under sanitizers and a thread's stack may be
// smaller: below this much stack left, translating goes no deeper.
constexpr size_t kStackReserve = 256 << 10;

absl::Status TooDeepForTheStack() {
  return absl::InvalidArgumentError("statement: nested too deeply for this thread's stack");
}

absl::Status Unsupported(absl::string_view what) {
  return absl::UnimplementedError(absl::StrCat("statement: ", what, " in SQL are not supported yet"));
}

// What parsing one statement carries along: its text, its parameters, the
// runner of its nested queries and the WITH queries in scope.
// An IN subquery of WHERE joined (SemiJoins) rather than read back.
struct Joined {
  enum Mode {
    kSemi,       // x IN (...): a semi join; the IN reads true
    kNotIn,      // NOT x IN (...), no null among the values: an anti join; the IN reads (x is null)
    kNotExists,  // NOT EXISTS, as NOT x IN (...): an anti join; the IN reads false
    kNever,      // NOT x IN (values with a null): no join; the IN reads true (its NOT false)
  } mode = kSemi;
  std::string alias;  // of the join
  std::string on;     // its condition (written by Sub, with WHERE)
};

struct Context {
  absl::string_view text;
  const Json* params = nullptr;
  Nested* nested = nullptr;
  std::map<std::string, std::string> ctes;  // a WITH query's name -> the table holding its rows
  std::string schema;  // options.current_schema: where unqualified names are ("": the default schema)
  // IN subqueries of WHERE run before it is written (SemiJoins): the table
  // of each one's distinct values, and (joined) the column it is equal to.
  std::map<const Json*, std::string> sublink_tables;
  std::map<const Json*, Joined> joined;
  // A correlated EXISTS of WHERE -> the IN subquery that answers it
  // (Decorrelated), kept in `rewritten_links`.
  std::map<const Json*, const Json*> rewritten;
  std::list<Json> rewritten_links;
};

// A RangeVar's name ("schema.table", or the table holding a WITH query's
// rows) and alias.
FromTable RangeOf(const Json& range, const Context* cx = nullptr) {
  FromTable t;
  t.name = range.value("relname", "");
  if (range.contains("schemaname")) {
    t.name = absl::StrCat(range["schemaname"].get<std::string>(), ".", t.name);
  } else if (cx != nullptr && cx->ctes.count(t.name) > 0) {
    t.name = cx->ctes.at(t.name);
  } else if (cx != nullptr && !cx->schema.empty()) {
    t.name = absl::StrCat(cx->schema, ".", t.name);
  }
  t.alias = range.contains("alias") ? range["alias"].value("aliasname", "") : range.value("relname", "");
  return t;
}

absl::StatusOr<SelectQuery> QueryOf(Context& cx, const Json& s);
absl::StatusOr<std::string> TableOf(Context& cx, const SelectQuery& q);

// A table of FROM: a RangeVar, or a subquery kept as a table.
absl::StatusOr<FromTable> SourceOf(Context& cx, const Json& item) {
  if (item.contains("RangeVar")) return RangeOf(item["RangeVar"], &cx);
  if (!item.contains("RangeSubselect")) return Unsupported(absl::StrCat("FROM ", item.begin().key()));
  const Json& sub = item["RangeSubselect"];
  if (cx.nested == nullptr) return Unsupported("subqueries in FROM");
  if (sub.value("lateral", false)) return Unsupported("LATERAL subqueries");
  auto q = QueryOf(cx, sub.at("subquery").at("SelectStmt"));
  if (!q.ok()) return q.status();
  auto name = TableOf(cx, *q);
  if (!name.ok()) return name.status();
  FromTable t;
  t.name = *name;
  t.alias = sub.contains("alias") ? sub["alias"].value("aliasname", "subquery") : "subquery";
  return t;
}

// The tables of a FROM item, joins flattened left to right (the right side
// of each join one table). `on` nodes are kept for the caller to write.
absl::Status FromItem(Context& cx, const Json& item, std::vector<FromTable>* out, std::vector<const Json*>* on) {
  if (!item.contains("JoinExpr")) {
    auto t = SourceOf(cx, item);
    if (!t.ok()) return t.status();
    out->push_back(*std::move(t));
    on->push_back(nullptr);
    return absl::OkStatus();
  }
  const Json& j = item["JoinExpr"];
  if (j.value("isNatural", false) || j.contains("usingClause")) return Unsupported("NATURAL joins and USING");
  if (j.at("rarg").contains("JoinExpr")) return Unsupported("joins of parenthesized joins");
  if (absl::Status s = FromItem(cx, j.at("larg"), out, on); !s.ok()) return s;
  auto source = SourceOf(cx, j["rarg"]);
  if (!source.ok()) return source.status();
  FromTable right = *std::move(source);
  const std::string type = j.value("jointype", "JOIN_INNER");
  right.join = type == "JOIN_LEFT" ? "left join" : type == "JOIN_RIGHT" ? "right join" : type == "JOIN_FULL" ? "full join" : "join";
  if (!j.contains("quals")) {
    if (type != "JOIN_INNER") return Unsupported("outer joins without ON");
    right.join = "";  // CROSS JOIN: a table of its own, conditions in WHERE
  }
  out->push_back(std::move(right));
  on->push_back(j.contains("quals") ? &j["quals"] : nullptr);
  return absl::OkStatus();
}

// The tables a FROM clause names.
absl::Status FromTables(Context& cx, const Json& select, std::vector<FromTable>* out, std::vector<const Json*>* on) {
  if (!select.contains("fromClause") || select["fromClause"].empty()) return absl::OkStatus();  // one row
  for (const Json& item : select["fromClause"]) {  // a reference: `on` points into it
    if (absl::Status s = FromItem(cx, item, out, on); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// The conjuncts of an expression node (its AND's arguments, or itself).
std::vector<const Json*> ConjunctsOf(const Json& node) {
  std::vector<const Json*> out;
  if (node.contains("BoolExpr") && node["BoolExpr"].value("boolop", "") == "AND_EXPR") {
    for (const Json& a : node["BoolExpr"].at("args")) out.push_back(&a);
  } else {
    out.push_back(&node);
  }
  return out;
}

// EXISTS (SELECT ... FROM s WHERE s.k = o.k AND <conditions of s alone>), o
// a table of the outer query (`outer`), as the SubLink of
// o.k IN (SELECT s.k FROM s WHERE <those conditions>), which answers it
// where o.k is not null (a null o.k: false, where the IN is unknown); null
// for any other shape. The subquery's FROM is tables (no joins), its
// columns resolved by their qualifier or by the tables that have them.
std::optional<Json> Decorrelated(Context& cx, const Json& link, const std::vector<FromTable>& outer) {
  if (link.value("subLinkType", "") != "EXISTS_SUBLINK") return std::nullopt;
  const Json& sel = link.at("subselect").at("SelectStmt");
  for (const char* key : {"groupClause", "havingClause", "limitCount", "limitOffset", "distinctClause", "valuesLists",
                          "withClause", "larg"}) {
    if (sel.contains(key)) return std::nullopt;
  }
  if (!sel.contains("fromClause") || !sel.contains("whereClause")) return std::nullopt;
  struct Source {
    std::string alias;
    std::vector<std::string> columns;
  };
  const auto sources_of = [&](const std::vector<FromTable>& tables, std::vector<Source>* out) {
    for (const FromTable& t : tables) {
      auto columns = cx.nested->Columns(t.name);
      if (!columns.ok()) return false;
      out->push_back(Source{t.alias, *std::move(columns)});
    }
    return true;
  };
  std::vector<FromTable> inner_tables;
  for (const Json& item : sel["fromClause"]) {
    if (!item.contains("RangeVar")) return std::nullopt;
    inner_tables.push_back(RangeOf(item["RangeVar"], &cx));
  }
  std::vector<Source> inner, outside;
  if (!sources_of(inner_tables, &inner) || !sources_of(outer, &outside)) return std::nullopt;
  // 1: a column of the subquery's tables; 2: of the outer query's; 0: neither.
  const auto owner = [&](const Json& ref) {
    const Json& fields = ref.at("fields");
    const auto has = [](const std::vector<Source>& in, const std::string& alias, const std::string& column) {
      return std::any_of(in.begin(), in.end(), [&](const Source& s) {
        return (alias.empty() || s.alias == alias) &&
               std::find(s.columns.begin(), s.columns.end(), column) != s.columns.end();
      });
    };
    if (fields.empty() || !fields.back().contains("String")) return 0;
    const std::string column = fields.back()["String"].value("sval", "");
    const std::string alias = fields.size() == 2 ? fields[0]["String"].value("sval", "") : "";
    if (fields.size() > 2) return 0;
    if (has(inner, alias, column)) return 1;
    return has(outside, alias, column) ? 2 : 0;
  };
  // Whether `node` reads a column of the outer query.
  std::function<bool(const Json&)> reads_outer = [&](const Json& node) {
    if (node.is_object()) {
      if (node.contains("ColumnRef") && owner(node["ColumnRef"]) != 1) return true;
      for (const auto& [key, value] : node.items()) {
        if (key != "ColumnRef" && reads_outer(value)) return true;
      }
    } else if (node.is_array()) {
      for (const Json& value : node) {
        if (reads_outer(value)) return true;
      }
    }
    return false;
  };
  const Json* inner_key = nullptr;
  const Json* outer_key = nullptr;
  Json rest = Json::array();
  for (const Json* c : ConjunctsOf(sel["whereClause"])) {
    if (outer_key == nullptr && c->contains("A_Expr")) {
      const Json& e = (*c)["A_Expr"];
      const bool equal = e.value("kind", "") == "AEXPR_OP" && e.contains("name") && e["name"].size() == 1 &&
                         e["name"][0].at("String").value("sval", "") == "=";
      if (equal && e.contains("lexpr") && e.contains("rexpr") && e["lexpr"].contains("ColumnRef") &&
          e["rexpr"].contains("ColumnRef")) {
        const int l = owner(e["lexpr"]["ColumnRef"]), r = owner(e["rexpr"]["ColumnRef"]);
        if (l * r == 2) {  // one of each
          inner_key = l == 1 ? &e["lexpr"] : &e["rexpr"];
          outer_key = l == 1 ? &e["rexpr"] : &e["lexpr"];
          continue;
        }
      }
    }
    if (reads_outer(*c)) return std::nullopt;
    rest.push_back(*c);
  }
  if (outer_key == nullptr) return std::nullopt;
  Json sub = sel;
  if (rest.empty()) {
    sub.erase("whereClause");
  } else if (rest.size() == 1) {
    sub["whereClause"] = rest[0];
  } else {
    sub["whereClause"] = Json{{"BoolExpr", Json{{"boolop", "AND_EXPR"}, {"args", rest}}}};
  }
  sub["targetList"] = Json::array({Json{{"ResTarget", Json{{"val", *inner_key}}}}});
  return Json{{"subLinkType", "ANY_SUBLINK"}, {"testexpr", *outer_key}, {"subselect", Json{{"SelectStmt", sub}}}};
}

// IN subqueries that are conjuncts of `select`'s WHERE, or negated
// conjuncts, and give more than kSemiJoinValues rows join the query as semi
// joins (FromTable::semi: the rows of the others that have a value equal to
// the tested expression, each once) or anti joins (those that have none),
// rather than be read back as an IN list (Joined says what the IN then
// reads in WHERE). The others' tables are kept for Sub to read.
constexpr int64_t kSemiJoinValues = 1000;
constexpr char kSemiColumn[] = "sql_semi_value";

absl::Status SemiJoins(Context& cx, const Json& select, std::vector<FromTable>* from, std::vector<const Json*>* on) {
  if (cx.nested == nullptr || from->empty() || !select.contains("whereClause")) return absl::OkStatus();
  const size_t outer = from->size();
  for (const Json* c : ConjunctsOf(select["whereClause"])) {
    bool negated = false;
    if (c->contains("BoolExpr") && (*c)["BoolExpr"].value("boolop", "") == "NOT_EXPR" &&
        (*c)["BoolExpr"].at("args").size() == 1) {
      c = &(*c)["BoolExpr"]["args"][0];
      negated = true;
    }
    if (!c->contains("SubLink")) continue;
    const Json* link = &c->at("SubLink");
    // [NOT] EXISTS correlated by one equality: answered by an IN subquery.
    bool exists = false;
    if (auto in = Decorrelated(cx, *link, std::vector<FromTable>(from->begin(), from->begin() + outer))) {
      cx.rewritten_links.push_back(*std::move(in));
      cx.rewritten[link] = &cx.rewritten_links.back();
      link = &cx.rewritten_links.back();
      exists = true;
    }
    if (link->value("subLinkType", "") != "ANY_SUBLINK" || link->contains("operName")) continue;
    // Left to Sub (which reports what it cannot run): anything but one
    // column of values.
    auto q = QueryOf(cx, link->at("subselect").at("SelectStmt"));
    if (!q.ok() || q->star || q->columns.size() != 1 || q->limit >= 0 || q->offset != 0) continue;
    q->columns[0].name = kSemiColumn;
    auto table = TableOf(cx, *q);
    if (!table.ok()) continue;
    auto values = cx.nested->Values(*table, kSemiJoinValues + 1);
    if (!values.ok()) return values.status();
    if (static_cast<int64_t>(values->size()) <= kSemiJoinValues) {
      cx.sublink_tables[link] = *table;
      continue;
    }
    Joined joined;
    joined.mode = !negated ? Joined::kSemi : exists ? Joined::kNotExists : Joined::kNotIn;
    if (joined.mode == Joined::kNotIn) {
      // x NOT IN (values with a null) is never true.
      SelectQuery nulls;
      nulls.table = *table;
      nulls.columns.push_back(OutputColumn{kSemiColumn, kSemiColumn});
      nulls.where = absl::StrCat("is_null(", kSemiColumn, ")");
      nulls.limit = 1;
      auto kept = cx.nested->Keep(nulls);
      if (!kept.ok()) return kept.status();
      auto null = cx.nested->Values(*kept, 1);
      if (!null.ok()) return null.status();
      if (!null->empty()) {
        joined.mode = Joined::kNever;
        cx.joined[link] = joined;
        continue;
      }
    }
    FromTable t;
    t.name = *table;
    t.alias = absl::StrCat("sql_semi_", cx.joined.size());
    t.join = negated ? "anti join" : "semi join";
    t.semi = true;
    joined.alias = t.alias;
    cx.joined[link] = joined;
    from->push_back(std::move(t));
    on->push_back(nullptr);
  }
  return absl::OkStatus();
}

// A TypeCast node's type name, lower case ("date", "interval", "float8").
std::string CastType(const Json& cast) {
  return absl::AsciiStrToLower(cast.at("typeName").at("names").back().at("String").at("sval").get<std::string>());
}

// The string of an A_Const node, if it is one.
std::optional<std::string> StringConst(const Json& node) {
  if (!node.contains("A_Const") || !node["A_Const"].contains("sval")) return std::nullopt;
  return node["A_Const"]["sval"].value("sval", "");
}

// A day of the proleptic Gregorian calendar from "YYYY-MM-DD".
std::optional<absl::CivilDay> ParseDay(absl::string_view text) {
  absl::CivilDay day;
  if (!absl::ParseCivilTime(absl::StripAsciiWhitespace(text), &day)) return std::nullopt;
  return day;
}

// `day` moved by `months` (the day of the month kept, or the month's last).
absl::CivilDay AddMonths(absl::CivilDay day, int64_t months) {
  const absl::CivilMonth month = absl::CivilMonth(day) + months;
  absl::CivilDay out(month.year(), month.month(), day.day());
  while (out.month() != month.month()) out -= 1;  // normalized past the month's end
  return out;
}

// The first type modifier of a TypeName (VARCHAR(n), INTERVAL's field mask)
// when it is an integer; the grammar takes any expression there
// (VARCHAR(a + 1)).
std::optional<int64_t> TypeModifier(const Json& type_name) {
  const Json& mods = Items(type_name, "typmods");
  if (mods.empty() || !mods[0].contains("A_Const")) return std::nullopt;
  const Json& c = mods[0]["A_Const"];
  if (!c.contains("ival")) return std::nullopt;
  return c["ival"].value("ival", int64_t{0});  // zero: left out of the tree
}

// An interval constant (`interval '90' day`, `interval '3 months'`) as
// months and days; nullopt when `node` is none or not understood.
std::optional<std::pair<int64_t, int64_t>> IntervalConst(const Json& node) {
  if (!node.contains("TypeCast") || CastType(node["TypeCast"]) != "interval") return std::nullopt;
  const Json& cast = node["TypeCast"];
  auto text = StringConst(cast.at("arg"));
  if (!text) return std::nullopt;
  std::vector<std::string> words = absl::StrSplit(absl::AsciiStrToLower(*text), ' ', absl::SkipEmpty());
  int64_t n = 0;
  if (words.empty() || words.size() > 2 || !absl::SimpleAtoi(words[0], &n)) return std::nullopt;
  std::string unit = words.size() == 2 ? words[1] : "";
  if (unit.empty()) {
    // PostgreSQL's field mask: YEAR 1 << 2, MONTH 1 << 1, DAY 1 << 3.
    const int64_t mask = TypeModifier(cast.at("typeName")).value_or(0);
    unit = mask == 4 ? "year" : mask == 2 ? "month" : mask == 8 ? "day" : "";
  }
  if (absl::EndsWith(unit, "s")) unit.pop_back();
  if (unit == "year") return std::make_pair(12 * n, int64_t{0});
  if (unit == "month") return std::make_pair(n, int64_t{0});
  if (unit == "week") return std::make_pair(int64_t{0}, 7 * n);
  if (unit == "day") return std::make_pair(int64_t{0}, n);
  return std::nullopt;
}

// A date constant: `date 'YYYY-MM-DD'` (or a cast of one), moved by
// constant intervals (`date '1998-12-01' - interval '90' day`). nullopt
// when `node` is none; an error for a malformed date.
absl::StatusOr<std::optional<absl::CivilDay>> DateConst(const Json& node) {
  if (node.contains("TypeCast") && CastType(node["TypeCast"]) == "date") {
    auto text = StringConst(node["TypeCast"].at("arg"));
    if (!text) return std::optional<absl::CivilDay>();
    auto day = ParseDay(*text);
    if (!day) return absl::InvalidArgumentError(absl::StrCat("statement: '", *text, "' is not a date (YYYY-MM-DD)"));
    return day;
  }
  if (!node.contains("A_Expr") || node["A_Expr"].value("kind", "") != "AEXPR_OP")
    return std::optional<absl::CivilDay>();
  const Json& e = node["A_Expr"];
  const std::string op = e.at("name").back().at("String").at("sval").get<std::string>();
  if ((op != "+" && op != "-") || !e.contains("lexpr") || !e.contains("rexpr")) return std::optional<absl::CivilDay>();
  auto interval = IntervalConst(e["rexpr"]);
  if (!interval) return std::optional<absl::CivilDay>();
  auto day = DateConst(e["lexpr"]);
  if (!day.ok() || !day->has_value()) return day;
  const int64_t sign = op == "+" ? 1 : -1;
  return std::optional<absl::CivilDay>(AddMonths(**day, sign * interval->first) + sign * interval->second);
}

// An exact decimal: unscaled / 10^scale.
struct Decimal {
  __int128 unscaled = 0;
  int scale = 0;
};

// A numeric constant, or +, - and * of such (`0.06 - 0.01`), computed
// exactly as PostgreSQL's numeric does (a double would give
// 0.049999999999999996); nullopt when `node` is none or it overflows.
// `text` is the statement (the parser's JSON leaves out zero and negative
// integers: they are read where they stand). Operators found to be no such
// constant go into `not_constant`, when given, and are not walked again (the
// writer asks this of every operator of an expression: a chain of n would
// cost n*n/2 walks).
std::optional<Decimal> NumericConst(const Json& node, absl::string_view text,
                                    absl::flat_hash_set<const Json*>* not_constant = nullptr);

std::optional<Decimal> OperatorConst(const Json& e, absl::string_view text,
                                     absl::flat_hash_set<const Json*>* not_constant);

std::optional<Decimal> NumericConst(const Json& node, absl::string_view text,
                                    absl::flat_hash_set<const Json*>* not_constant) {
  constexpr __int128 kLimit = 1000000000000000000LL;  // 10^18: fits an int64
  if (node.contains("A_Const")) {
    const Json& c = node["A_Const"];
    std::string digits;
    if (c.contains("fval")) {
      digits = c["fval"].value("fval", "");
    } else if (c.contains("ival")) {
      if (c["ival"].contains("ival")) {
        digits = absl::StrCat(c["ival"]["ival"].get<int64_t>());
      } else {
        size_t at = static_cast<size_t>(std::max<int64_t>(0, c.value("location", int64_t{0})));
        if (at < text.size() && text[at] == '-') digits.push_back(text[at++]);
        while (at < text.size() && absl::ascii_isdigit(static_cast<unsigned char>(text[at])))
          digits.push_back(text[at++]);
        if (digits.empty() || digits == "-") digits = "0";
      }
    } else {
      return std::nullopt;
    }
    Decimal d;
    bool negative = false, point = false;
    for (char ch : digits) {
      if (ch == '-') {
        negative = true;
      } else if (ch == '.') {
        point = true;
      } else if (absl::ascii_isdigit(static_cast<unsigned char>(ch))) {
        d.unscaled = d.unscaled * 10 + (ch - '0');
        if (point) ++d.scale;
        if (d.unscaled > kLimit || d.scale > 18) return std::nullopt;
      } else {
        return std::nullopt;  // an exponent: not exact here
      }
    }
    if (negative) d.unscaled = -d.unscaled;
    return d;
  }
  if (!node.contains("A_Expr") || node["A_Expr"].value("kind", "") != "AEXPR_OP") return std::nullopt;
  const Json& e = node["A_Expr"];
  if (not_constant != nullptr && not_constant->contains(&e)) return std::nullopt;
  if (StackLeft() < kStackReserve) return std::nullopt;  // too deep to tell: the writer says so
  std::optional<Decimal> out = OperatorConst(e, text, not_constant);
  if (!out && not_constant != nullptr) not_constant->insert(&e);
  return out;
}

// NumericConst of the operator `e` (an A_Expr).
std::optional<Decimal> OperatorConst(const Json& e, absl::string_view text,
                                     absl::flat_hash_set<const Json*>* not_constant) {
  constexpr __int128 kLimit = 1000000000000000000LL;  // 10^18: fits an int64
  const std::string op = e.at("name").back().at("String").at("sval").get<std::string>();
  if (op != "+" && op != "-" && op != "*") return std::nullopt;
  std::optional<Decimal> left =
      e.contains("lexpr") ? NumericConst(e["lexpr"], text, not_constant) : std::optional<Decimal>(Decimal{});
  if (!left || !e.contains("rexpr")) return std::nullopt;
  std::optional<Decimal> right = NumericConst(e["rexpr"], text, not_constant);
  if (!right) return std::nullopt;
  Decimal out;
  if (op == "*") {
    out.unscaled = left->unscaled * right->unscaled;
    out.scale = left->scale + right->scale;
  } else {
    while (left->scale < right->scale) left->unscaled *= 10, ++left->scale;
    while (right->scale < left->scale) right->unscaled *= 10, ++right->scale;
    out.unscaled = op == "+" ? left->unscaled + right->unscaled : left->unscaled - right->unscaled;
    out.scale = left->scale;
  }
  if (out.unscaled > kLimit || out.unscaled < -kLimit || out.scale > 18) return std::nullopt;
  return out;
}

// A decimal as a literal of the engine's language ("0.05", "-3").
std::string DecimalLiteral(Decimal d) {
  const bool negative = d.unscaled < 0;
  __int128 v = negative ? -d.unscaled : d.unscaled;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v > 0);
  while (static_cast<int>(digits.size()) <= d.scale) digits.insert(digits.begin(), '0');
  if (d.scale > 0) digits.insert(digits.end() - d.scale, '.');
  return negative ? absl::StrCat("-", digits) : digits;
}

// Aggregates: SQL name -> the groupby's.
const std::map<std::string, std::string>& Aggregates() {
  static const auto* m = new std::map<std::string, std::string>{{"count", "count"},
                                                                {"sum", "sum"},
                                                                {"min", "min"},
                                                                {"max", "max"},
                                                                {"avg", "avg"},
                                                                {"mean", "mean"},
                                                                {"stddev", "stddev_samp"},
                                                                {"stddev_pop", "stddev_pop"},
                                                                {"stddev_samp", "stddev_samp"},
                                                                {"variance", "var_samp"},
                                                                {"var_pop", "var_pop"},
                                                                {"var_samp", "var_samp"}};
  return *m;
}

// Turns SQL expression trees into the engine's expression language.
class Writer {
 public:
  // `alias`: the name FROM gives the table (qualified names drop it).
  // One table (`table`, `alias`: qualified names drop the qualifier), or
  // several (`joined`: names keep it, alias.column).
  Writer(Context& cx, std::string table, std::string alias, bool joined = false)
      : cx_(cx),
        text_(cx.text),
        table_(std::move(table)),
        alias_(std::move(alias)),
        joined_(joined),
        params_(cx.params) {}

  // Parameter $n's value as JSON, or an error naming it.
  absl::StatusOr<Json> Param(const Json& n) const {
    const int64_t number = n.value("number", int64_t{0});
    if (params_ == nullptr || !params_->is_array() || number < 1 || number > static_cast<int64_t>(params_->size())) {
      return absl::InvalidArgumentError(absl::StrCat("options.query_parameters: no value for $", number));
    }
    return (*params_)[number - 1];
  }

  bool saw_aggregate() const { return aggregates_ > 0; }
  int aggregates() const { return aggregates_; }
  const std::vector<std::string>& columns_read() const { return read_; }
  const std::vector<std::string>& aggregate_calls() const { return calls_; }
  const std::vector<WindowCall>& windows() const { return windows_; }

  absl::StatusOr<std::string> Expr(const Json& node) {
    if (StackLeft() < kStackReserve) return TooDeepForTheStack();
    if (!node.is_object() || node.empty()) return absl::InvalidArgumentError("statement: an empty expression");
    const std::string kind = node.begin().key();
    const Json& n = node.begin().value();
    if (kind == "A_Expr") {
      if (auto d = NumericConst(node, text_, &not_constant_)) return DecimalLiteral(*d);
    }
    if (kind == "TypeCast" || kind == "A_Expr") {
      // Dates are strings 'YYYY-MM-DD' (they order as the days do).
      auto day = DateConst(node);
      if (!day.ok()) return day.status();
      if (day->has_value()) return StringLiteral(absl::FormatCivilTime(**day));
    }
    if (kind == "ColumnRef") return Column(n);
    if (kind == "A_Const") return Const(n);
    if (kind == "A_Expr") return AExpr(n);
    if (kind == "BoolExpr") return Bool(n);
    if (kind == "NullTest") {
      auto arg = Expr(n.at("arg"));
      if (!arg.ok()) return arg;
      return absl::StrCat("(", *arg, n.value("nulltesttype", "") == "IS_NULL" ? " is null)" : " is not null)");
    }
    if (kind == "FuncCall") return Func(n);
    if (kind == "CaseExpr") return Case(n);
    if (kind == "MinMaxExpr" || kind == "CoalesceExpr") {
      std::vector<std::string> args;
      for (const Json& a : n.at("args")) {
        auto e = Expr(a);
        if (!e.ok()) return e;
        args.push_back(*e);
      }
      const char* name = kind == "CoalesceExpr"                  ? "coalesce("
                         : n.value("op", "") == "IS_GREATEST" ? "greatest("
                                                              : "least(";
      return absl::StrCat(name, absl::StrJoin(args, ", "), ")");
    }
    if (kind == "TypeCast") return Cast(n);
    if (kind == "SubLink") return Sub(n);
    if (kind == "ParamRef") {
      auto v = Param(n);
      if (!v.ok()) return v.status();
      if (v->is_null()) return std::string("null");
      if (v->is_boolean()) return std::string(v->get<bool>() ? "1" : "0");
      if (v->is_string()) return StringLiteral(v->get<std::string>());
      if (v->is_number()) return v->dump();
      return absl::InvalidArgumentError(absl::StrCat("options.query_parameters: $", n.value("number", 0),
                                                     " is not a number, a string, a boolean or null"));
    }
    return Unsupported(absl::StrCat("expressions of kind ", kind));
  }

 private:
  absl::StatusOr<std::string> Column(const Json& n) {
    std::vector<std::string> parts;
    for (const Json& f : n.at("fields")) {
      if (f.contains("A_Star")) return std::string("*");
      parts.push_back(f.at("String").at("sval").get<std::string>());
    }
    if (joined_) {
      // alias.column (a schema before it dropped), or a bare column.
      const std::string name = parts.size() > 1 ? absl::StrCat(parts[parts.size() - 2], ".", parts.back()) : parts.back();
      read_.push_back(name);
      return name;
    }
    // table.column, alias.column, schema.table.column: the column. A table
    // given an alias is named by the alias only (as in PostgreSQL: its name
    // may then be another table's, an outer query's).
    if (parts.size() > 1) {
      const std::string qualifier = absl::StrJoin(parts.begin(), parts.end() - 1, ".");
      const bool aliased = alias_ != table_.substr(table_.rfind('.') + 1);
      if (qualifier != alias_ && (aliased || (qualifier != table_ && !absl::EndsWith(table_, "." + qualifier)))) {
        return absl::InvalidArgumentError(
            absl::StrCat("statement: '", qualifier, "' is not the table of this query ('", alias_, "')"));
      }
    }
    return parts.back();
  }

  absl::StatusOr<std::string> Const(const Json& n) {
    if (n.value("isnull", false)) return std::string("null");
    if (n.contains("ival")) {
      if (n["ival"].contains("ival")) return absl::StrCat(n["ival"]["ival"].get<int64_t>());
      // The parser's JSON leaves out zero and negative integers: read the
      // literal where it stands.
      size_t at = static_cast<size_t>(std::max<int64_t>(0, n.value("location", int64_t{0})));
      std::string digits;
      if (at < text_.size() && text_[at] == '-') digits.push_back(text_[at++]);
      while (at < text_.size() && absl::ascii_isdigit(static_cast<unsigned char>(text_[at])))
        digits.push_back(text_[at++]);
      return digits.empty() || digits == "-" ? std::string("0") : digits;
    }
    if (n.contains("fval")) return n["fval"].at("fval").get<std::string>();
    if (n.contains("sval")) return StringLiteral(n["sval"].at("sval").get<std::string>());
    if (n.contains("boolval")) return std::string(n["boolval"].value("boolval", false) ? "1" : "0");
    return Unsupported("constants of this kind");
  }

  absl::StatusOr<std::string> AExpr(const Json& n) {
    const std::string kind = n.value("kind", "");
    const std::string op = n.at("name").back().at("String").at("sval").get<std::string>();
    absl::StatusOr<std::string> left = n.contains("lexpr") ? Expr(n["lexpr"]) : absl::StatusOr<std::string>("");
    if (!left.ok()) return left;
    if (kind == "AEXPR_IN") {
      std::vector<std::string> items;
      for (const Json& item : n.at("rexpr").at("List").at("items")) {
        auto e = Expr(item);
        if (!e.ok()) return e;
        items.push_back(*e);
      }
      return absl::StrCat("(", *left, op == "=" ? " in (" : " not in (", absl::StrJoin(items, ", "), "))");
    }
    if (kind == "AEXPR_BETWEEN" || kind == "AEXPR_NOT_BETWEEN") {
      const Json& items = n.at("rexpr").at("List").at("items");
      auto lo = Expr(items.at(0));
      if (!lo.ok()) return lo;
      auto hi = Expr(items.at(1));
      if (!hi.ok()) return hi;
      return absl::StrCat("(", *left, kind == "AEXPR_BETWEEN" ? " between " : " not between ", *lo, " and ", *hi, ")");
    }
    auto right = Expr(n.at("rexpr"));
    if (!right.ok()) return right;
    if (kind == "AEXPR_LIKE") return absl::StrCat("(", *left, op == "~~" ? " like " : " not like ", *right, ")");
    if (kind == "AEXPR_ILIKE") {
      // The pattern is a literal: folded here (like takes a literal pattern).
      return absl::StrCat("(lower(", *left, ")", op == "~~*" ? " like " : " not like ", absl::AsciiStrToLower(*right),
                          ")");
    }
    if (kind == "AEXPR_NULLIF") return absl::StrCat("nullif(", *left, ", ", *right, ")");
    // a IS [NOT] DISTINCT FROM b: = and <> where a null equals a null.
    if (kind == "AEXPR_DISTINCT") {
      return absl::StrCat("coalesce(", *left, " <> ", *right, ", not (", *left, " is null and ", *right, " is null))");
    }
    if (kind == "AEXPR_NOT_DISTINCT") {
      return absl::StrCat("coalesce(", *left, " = ", *right, ", ", *left, " is null and ", *right, " is null)");
    }
    if (kind != "AEXPR_OP") return Unsupported(absl::StrCat("operators of kind ", kind));
    static const char* const kOps[] = {"=", "<>", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%"};
    if (std::find(std::begin(kOps), std::end(kOps), op) == std::end(kOps)) {
      return Unsupported(absl::StrCat("operators such as '", op, "'"));
    }
    if (left->empty()) return absl::StrCat("(", op, *right, ")");  // unary minus / plus
    return absl::StrCat("(", *left, " ", op, " ", *right, ")");
  }

  absl::StatusOr<std::string> Bool(const Json& n) {
    const std::string op = n.value("boolop", "");
    if (op != "OR_EXPR") {
      // Constant truths fold (a joined IN leaves one: see Joined).
      std::vector<std::string> args;
      for (const Json& a : n.at("args")) {
        auto e = Expr(a);
        if (!e.ok()) return e;
        if (op == "NOT_EXPR" && (*e == "1" || *e == "0")) return std::string(*e == "1" ? "0" : "1");
        if (op != "NOT_EXPR" && *e == "1") continue;
        args.push_back(*e);
      }
      if (args.empty()) return std::string("1");
      if (op == "NOT_EXPR") return absl::StrCat("(not ", args.at(0), ")");
      return absl::StrCat("(", absl::StrJoin(args, " and "), ")");
    }
    // (a and b) or (a and c) is a and (b or c): a condition every branch
    // has comes out, so that a join finds its keys and a table its filter.
    std::vector<std::vector<std::string>> branches;
    std::vector<std::string> args;
    for (const Json& a : n.at("args")) {
      std::vector<std::string> conjuncts;
      const bool conjunction = a.contains("BoolExpr") && a["BoolExpr"].value("boolop", "") == "AND_EXPR";
      for (const Json& c : conjunction ? a["BoolExpr"].at("args") : Json::array({a})) {
        auto e = Expr(c);
        if (!e.ok()) return e;
        conjuncts.push_back(*e);
      }
      args.push_back(conjunction ? absl::StrCat("(", absl::StrJoin(conjuncts, " and "), ")") : conjuncts[0]);
      branches.push_back(std::move(conjuncts));
    }
    std::vector<std::string> common;
    for (const std::string& c : branches[0]) {
      const bool everywhere = std::all_of(branches.begin(), branches.end(), [&](const std::vector<std::string>& b) {
        return std::find(b.begin(), b.end(), c) != b.end();
      });
      if (everywhere && std::find(common.begin(), common.end(), c) == common.end()) common.push_back(c);
    }
    if (common.empty()) return absl::StrCat("(", absl::StrJoin(args, " or "), ")");
    std::vector<std::string> rest;
    for (const std::vector<std::string>& b : branches) {
      std::vector<std::string> own;
      for (const std::string& c : b) {
        if (std::find(common.begin(), common.end(), c) == common.end()) own.push_back(c);
      }
      if (own.empty()) return absl::StrCat("(", absl::StrJoin(common, " and "), ")");  // a branch of only those
      rest.push_back(own.size() == 1 ? own[0] : absl::StrCat("(", absl::StrJoin(own, " and "), ")"));
    }
    return absl::StrCat("(", absl::StrJoin(common, " and "), " and (", absl::StrJoin(rest, " or "), "))");
  }

  absl::StatusOr<std::string> Func(const Json& n) {
    const std::string name = absl::AsciiStrToLower(n.at("funcname").back().at("String").at("sval").get<std::string>());
    if (n.contains("over")) return Window(n, name);
    std::vector<std::string> args;
    for (const Json& a : Items(n, "args")) {
      auto e = Expr(a);
      if (!e.ok()) return e;
      args.push_back(*e);
    }
    auto agg = Aggregates().find(name);
    if (agg != Aggregates().end()) {
      ++aggregates_;
      // agg(x) FILTER (WHERE c) is agg(if(c, x, null)): every aggregate here
      // skips nulls, and count(*) counts the rows where c holds.
      std::string filter;
      if (n.contains("agg_filter")) {
        if (n.value("agg_distinct", false)) return Unsupported(absl::StrCat(name, "(DISTINCT ...) FILTER (WHERE ...)"));
        auto f = Expr(n["agg_filter"]);
        if (!f.ok()) return f;
        filter = *f;
      }
      const auto kept = [&](const std::string& value) {
        return filter.empty() ? value : absl::StrCat("if(", filter, ", ", value, ", null)");
      };
      std::string call;
      if (n.value("agg_star", false)) {
        call = filter.empty() ? "count(*)" : absl::StrCat("count(", kept("1"), ")");
      } else if (n.value("agg_distinct", false)) {
        if (name != "count") return Unsupported(absl::StrCat(name, "(DISTINCT ...)"));
        call = absl::StrCat("count_distinct(", args.at(0), ")");
      } else if (args.size() != 1) {
        return absl::InvalidArgumentError(absl::StrCat("statement: ", name, " takes one argument"));
      } else {
        call = absl::StrCat(agg->second, "(", kept(args[0]), ")");
      }
      if (std::find(calls_.begin(), calls_.end(), call) == calls_.end()) calls_.push_back(call);
      return call;
    }
    // PostgreSQL's other aggregates: named, rather than read as functions of
    // a row (whose columns would then have to be grouped).
    static const char* const kOtherAggregates[] = {
        "array_agg",  "string_agg",     "json_agg",   "jsonb_agg",       "json_object_agg", "bool_and",
        "bool_or",    "every",          "bit_and",    "bit_or",          "bit_xor",         "corr",
        "covar_pop",  "covar_samp",     "mode",       "percentile_cont", "percentile_disc", "xmlagg",
        "regr_slope", "regr_intercept", "regr_count", "regr_r2",         "any_value"};
    if (std::find(std::begin(kOtherAggregates), std::end(kOtherAggregates), name) != std::end(kOtherAggregates)) {
      return Unsupported(absl::StrCat("the aggregate ", name));
    }
    if (n.contains("agg_filter")) {
      return absl::InvalidArgumentError(absl::StrCat("statement: FILTER (WHERE ...) is for aggregates, not ", name));
    }
    if (name == "extract" || name == "date_part") return DatePart(name, args);
    const std::string engine_name = name == "substring" ? "substr" : name == "power" ? "pow" : name;
    return absl::StrCat(engine_name, "(", absl::StrJoin(args, ", "), ")");
  }

  // EXTRACT(field FROM x) and date_part('field', x): the engine's function
  // of that part.
  absl::StatusOr<std::string> DatePart(const std::string& name, const std::vector<std::string>& args) {
    if (args.size() != 2)
      return absl::InvalidArgumentError(absl::StrCat("statement: ", name, " takes a field and a value"));
    std::string field = absl::AsciiStrToLower(args[0]);
    if (field.size() >= 2 && field.front() == '\'' && field.back() == '\'') field = field.substr(1, field.size() - 2);
    static const char* const kParts[] = {"year", "month", "day", "hour", "minute"};
    if (std::find(std::begin(kParts), std::end(kParts), field) == std::end(kParts)) {
      return Unsupported(absl::StrCat(name, " of '", field, "' (year, month, day, hour and minute are supported)"));
    }
    return absl::StrCat(field, "(", args[1], ")");
  }

  absl::StatusOr<std::string> Case(const Json& n) {
    absl::StatusOr<std::string> subject = n.contains("arg") ? Expr(n["arg"]) : absl::StatusOr<std::string>("");
    if (!subject.ok()) return subject;
    std::string otherwise = "null";
    if (n.contains("defresult")) {
      auto d = Expr(n["defresult"]);
      if (!d.ok()) return d;
      otherwise = *d;
    }
    // Nested if()s, the last WHEN innermost.
    const Json& whens = n.at("args");
    std::string out = otherwise;
    for (auto it = whens.rbegin(); it != whens.rend(); ++it) {
      const Json& w = it->at("CaseWhen");
      auto cond = Expr(w.at("expr"));
      if (!cond.ok()) return cond;
      auto result = Expr(w.at("result"));
      if (!result.ok()) return result;
      const std::string test = subject->empty() ? *cond : absl::StrCat("(", *subject, " = ", *cond, ")");
      out = absl::StrCat("if(", test, ", ", *result, ", ", out, ")");
    }
    return out;
  }

  // A window function: the column it becomes ("window_<i>").
  absl::StatusOr<std::string> Window(const Json& n, const std::string& name) {
    static const char* const kFunctions[] = {"row_number", "rank", "dense_rank", "lag", "lead",
                                             "count",      "sum",  "min",        "max", "avg"};
    if (std::find(std::begin(kFunctions), std::end(kFunctions), name) == std::end(kFunctions)) {
      return Unsupported(absl::StrCat("the window function ", name,
                                      " (window functions other than row_number, rank, "
                                      "dense_rank, lag, lead, count, sum, min, max and avg)"));
    }
    const Json& over = n.at("over");
    if (over.contains("name") || over.contains("refname")) return Unsupported("named windows");
    if (n.contains("agg_filter")) return Unsupported("FILTER (WHERE ...) in window functions");
    if (over.value("frameOptions", 1058) != 1058) return Unsupported("window frames (ROWS or RANGE BETWEEN)");
    if (n.value("agg_distinct", false)) return Unsupported(absl::StrCat(name, "(DISTINCT ...) OVER"));
    WindowCall call;
    call.function = name;
    const Json& args = Items(n, "args");
    const size_t takes = name == "row_number" || name == "rank" || name == "dense_rank" ? 0 : 1;
    const size_t most = name == "lag" || name == "lead" ? 2 : takes;
    if (!n.value("agg_star", false) && (args.size() < takes || args.size() > most) &&
        !(name == "count" && args.empty())) {
      return absl::InvalidArgumentError(absl::StrCat("statement: ", name, " takes ", takes == most ? "" : "one or two",
                                                     takes == most ? absl::StrCat(takes) : "", " arguments"));
    }
    if (!args.empty()) {
      auto arg = Expr(args[0]);
      if (!arg.ok()) return arg;
      call.arg = *arg;
    }
    if (args.size() == 2) {
      const std::optional<Decimal> offset = NumericConst(args[1], text_);
      if (!offset || offset->scale != 0 || offset->unscaled < 0) {
        return absl::InvalidArgumentError(absl::StrCat("statement: ", name, "'s offset must be a count of rows"));
      }
      call.offset = static_cast<int64_t>(offset->unscaled);
    }
    for (const Json& p : Items(over, "partitionClause")) {
      auto e = Expr(p);
      if (!e.ok()) return e;
      call.partition.push_back(*e);
    }
    for (const Json& item : Items(over, "orderClause")) {
      const Json& by = item.at("SortBy");
      auto e = Expr(by.at("node"));
      if (!e.ok()) return e;
      const bool desc = by.value("sortby_dir", "") == "SORTBY_DESC";
      const std::string nulls = by.value("sortby_nulls", "SORTBY_NULLS_DEFAULT");
      call.order.push_back(OrderItem{*e, desc, nulls == "SORTBY_NULLS_DEFAULT" ? desc : nulls == "SORTBY_NULLS_FIRST"});
    }
    call.name = absl::StrCat("window_", windows_.size());
    windows_.push_back(call);
    return call.name;
  }

  // A subquery (run first: uncorrelated) as the literals it gives.
  absl::StatusOr<std::string> Sub(const Json& n) {
    if (cx_.nested == nullptr) return Unsupported("subqueries");
    const std::string type = n.value("subLinkType", "");
    if (type == "ALL_SUBLINK" || n.contains("operName")) return Unsupported("comparisons with ALL, ANY and SOME");
    if (type != "EXISTS_SUBLINK" && type != "EXPR_SUBLINK" && type != "ANY_SUBLINK") {
      return Unsupported(absl::StrCat("subqueries of kind ", type));
    }
    // A correlated EXISTS: its IN, false where that is unknown (joined: as
    // the join has it).
    if (auto in = cx_.rewritten.find(&n); in != cx_.rewritten.end()) {
      auto answer = Sub(*in->second);
      if (!answer.ok() || cx_.joined.count(in->second) > 0) return answer;
      return absl::StrCat("coalesce(", *answer, ", 0)");
    }
    // Joined (SemiJoins): the join's condition, the tested expression equal
    // to the subquery's column; in WHERE, what Joined::Mode says.
    if (auto joined = cx_.joined.find(&n); joined != cx_.joined.end()) {
      Joined& j = joined->second;
      if (j.mode == Joined::kNever) return std::string("1");
      auto left = Expr(n.at("testexpr"));
      if (!left.ok()) return left;
      j.on = absl::StrCat(*left, " = ", j.alias, ".", kSemiColumn);
      if (j.mode == Joined::kNotIn) return absl::StrCat("(", *left, " is null)");
      return std::string(j.mode == Joined::kSemi ? "1" : "0");
    }
    // Its columns are no columns of this query.
    const std::vector<std::string> read = read_;
    absl::StatusOr<std::string> table;
    if (auto kept = cx_.sublink_tables.find(&n); kept != cx_.sublink_tables.end()) {
      table = kept->second;
    } else {
      auto q = QueryOf(cx_, n.at("subselect").at("SelectStmt"));
      // IN reads each value once: DISTINCT (unless a LIMIT or OFFSET picks rows).
      if (q.ok() && type == "ANY_SUBLINK" && q->limit < 0 && q->offset == 0) q->distinct = true;
      table = q.ok() ? TableOf(cx_, *q) : absl::StatusOr<std::string>(q.status());
    }
    read_ = read;
    if (!table.ok()) {
      const absl::string_view message = table.status().message();
      if (!absl::StrContains(message, "unknown column") && !absl::StrContains(message, "is not the table of")) {
        return table.status();
      }
      return absl::Status(table.status().code(),
                          absl::StrCat(table.status().message(),
                                       " (subqueries that read the outer query's columns are not supported yet)"));
    }
    // An IN list is part of the expression the engine compiles (its
    // constants searched by halves): at most kMaxIn values, and no longer
    // than half the expression's length limit.
    constexpr int64_t kMaxIn = 100000;
    auto values = cx_.nested->Values(*table, type == "EXISTS_SUBLINK" ? 1 : type == "EXPR_SUBLINK" ? 2 : kMaxIn + 1);
    if (!values.ok()) return values.status();
    if (type == "EXISTS_SUBLINK") return std::string(values->empty() ? "0" : "1");
    if (type == "EXPR_SUBLINK") {
      if (values->size() > 1) return absl::InvalidArgumentError("statement: a scalar subquery gave more than one row");
      return values->empty() ? std::string("null") : (*values)[0];
    }
    auto left = Expr(n.at("testexpr"));
    if (!left.ok()) return left;
    // x IN (..., NULL): true where found, else unknown. Each value once.
    std::vector<std::string> found;
    bool null = false;
    for (const std::string& v : *values) {
      if (v == "null") {
        null = true;
      } else {
        found.push_back(v);
      }
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    if (found.empty()) return std::string(null ? "null" : "0");
    const std::string in = absl::StrCat("(", *left, " in (", absl::StrJoin(found, ", "), "))");
    if (static_cast<int64_t>(values->size()) > kMaxIn || in.size() > kMaxExpressionLength / 2) {
      return Unsupported(absl::StrCat("IN subqueries of more than ", kMaxIn, " values or ", kMaxExpressionLength / 2,
                                      " bytes of them (this one: ", found.size(), "+ values, ", in.size(), " bytes)"));
    }
    return null ? absl::StrCat("if(", in, ", 1, null)") : in;
  }

  absl::StatusOr<std::string> Cast(const Json& n) {
    auto arg = Expr(n.at("arg"));
    if (!arg.ok()) return arg;
    const std::string type =
        absl::AsciiStrToLower(n.at("typeName").at("names").back().at("String").at("sval").get<std::string>());
    if (type == "float4" || type == "float8" || type == "float" || type == "double" || type == "real" ||
        type == "numeric") {
      return absl::StrCat("((", *arg, ") + 0.0)");
    }
    const std::optional<std::string> text = StringConst(n.at("arg"));
    if (type == "int2" || type == "int4" || type == "int8" || type == "int" || type == "integer" || type == "bigint" ||
        type == "smallint") {
      if (text) {  // CAST('42' AS INT): the number the string holds
        int64_t v = 0;
        if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(*text), &v)) {
          return absl::InvalidArgumentError(absl::StrCat("statement: '", *text, "' is not an integer"));
        }
        return absl::StrCat(v);
      }
      return absl::StrCat("long(", *arg, ")");  // a number, rounded halves to even
    }
    if ((type == "varchar" || type == "text" || type == "bpchar" || type == "char") && text) return *arg;
    // TIMESTAMP '2024-05-01 10:00:00': the string, which a timestamp column
    // compared with it reads as its ms (or says it is none).
    if ((type == "timestamp" || type == "timestamptz") && text) return *arg;
    return Unsupported(absl::StrCat("CAST to ", type, text ? "" : " of this value"));
  }

  Context& cx_;
  absl::string_view text_;  // the statement
  std::string table_, alias_;
  bool joined_ = false;
  const Json* params_ = nullptr;
  int aggregates_ = 0;  // aggregate calls written so far
  std::vector<std::string> calls_;  // the aggregate calls written, each once
  std::vector<WindowCall> windows_;
  absl::flat_hash_set<const Json*> not_constant_;  // operators NumericConst found no constant
  std::vector<std::string> read_;  // joined: the columns read, as written
};

// A non-negative integer constant of LIMIT or OFFSET.
absl::StatusOr<int64_t> Count(const Json& node, absl::string_view what) {
  if (node.contains("A_Const") && node["A_Const"].contains("ival")) {
    const int64_t v = node["A_Const"]["ival"].value("ival", int64_t{0});
    if (v >= 0) return v;
  }
  if (node.contains("A_Const") && node["A_Const"].value("isnull", false)) return int64_t{-1};  // LIMIT ALL
  return absl::InvalidArgumentError(absl::StrCat("statement: ", what, " must be a count of rows"));
}

// The position n of `ORDER BY n` and `GROUP BY n` (1-based), else 0.
int64_t Ordinal(const Json& node) {
  if (!node.contains("A_Const") || !node["A_Const"].contains("ival")) return 0;
  return node["A_Const"]["ival"].value("ival", int64_t{0});
}

// The expression of output column `n` of `q` (ORDER BY n, GROUP BY n), or
// an error.
absl::StatusOr<std::string> Position(Context& cx, const SelectQuery& q, int64_t n, absl::string_view clause) {
  std::vector<std::string> star;
  if (q.star && cx.nested != nullptr && q.from.empty()) {
    auto columns = cx.nested->Columns(q.table);
    if (!columns.ok()) return columns.status();
    star = *std::move(columns);
  }
  const size_t count = q.star ? star.size() : q.columns.size();
  if (n < 1 || n > static_cast<int64_t>(count)) {
    return absl::InvalidArgumentError(absl::StrCat("statement: ", clause, " position ", n, " is not in select list"));
  }
  return q.star ? star[n - 1] : q.columns[n - 1].expr;
}

// ORDER BY, LIMIT and OFFSET of SelectStmt `s` into `q`, written by `w`.
absl::Status OrderAndPage(Context& cx, const Json& s, Writer& w, SelectQuery* q) {
  for (const Json& item : Items(s, "sortClause")) {
    const Json& by = item.at("SortBy");
    std::string key;
    if (const int64_t n = Ordinal(by.at("node")); n != 0) {
      auto c = Position(cx, *q, n, "ORDER BY");
      if (!c.ok()) return c.status();
      key = *c;
    } else {
      auto e = w.Expr(by.at("node"));
      if (!e.ok()) return e.status();
      // An output column's name orders by its expression.
      key = *e;
      for (const OutputColumn& c : q->columns) {
        if (c.name == key && c.expr != key) key = c.expr;
      }
    }
    const bool desc = by.value("sortby_dir", "") == "SORTBY_DESC";
    const std::string nulls = by.value("sortby_nulls", "SORTBY_NULLS_DEFAULT");
    const bool nulls_first = nulls == "SORTBY_NULLS_DEFAULT" ? desc : nulls == "SORTBY_NULLS_FIRST";
    q->order.push_back(OrderItem{key, desc, nulls_first});
  }
  if (s.contains("limitCount")) {
    auto n = Count(s["limitCount"], "LIMIT");
    if (!n.ok()) return n.status();
    q->limit = *n;
  }
  if (s.contains("limitOffset")) {
    auto n = Count(s["limitOffset"], "OFFSET");
    if (!n.ok()) return n.status();
    q->offset = std::max<int64_t>(0, *n);
  }
  return absl::OkStatus();
}

// The query of SelectStmt node `s` (no set operation, no WITH).
absl::StatusOr<SelectQuery> SelectOf(Context& cx, const Json& s) {
  if (s.contains("valuesLists")) return Unsupported("VALUES lists");
  if (s.contains("windowClause")) return Unsupported("window functions");
  SelectQuery q;
  std::vector<FromTable> from;
  std::vector<const Json*> on;
  if (absl::Status st = FromTables(cx, s, &from, &on); !st.ok()) return st;
  if (absl::Status st = SemiJoins(cx, s, &from, &on); !st.ok()) return st;
  const bool joined = from.size() > 1;
  // No FROM: one row of no columns (q.table empty; the caller supplies it).
  q.table = from.empty() ? "" : from[0].name;
  const std::string alias = from.empty() ? "" : from[0].alias;
  Writer w(cx, q.table, alias, joined);
  if (joined) {
    for (size_t i = 0; i < from.size(); ++i) {
      if (on[i] != nullptr) {
        auto e = w.Expr(*on[i]);
        if (!e.ok()) return e.status();
        from[i].on = *e;
      }
    }
    q.from = from;
  }
  if (s.contains("distinctClause")) {
    if (!s["distinctClause"].empty() && !s["distinctClause"][0].empty()) return Unsupported("DISTINCT ON");
    q.distinct = true;
  }
  for (const Json& target : Items(s, "targetList")) {
    const Json& rt = target.at("ResTarget");
    const int aggregates_before = w.aggregates();
    auto e = w.Expr(rt.at("val"));
    if (!e.ok()) return e.status();
    if (*e == "*") {
      if (!q.columns.empty() || rt.contains("name")) return Unsupported("'*' beside other columns");
      q.star = true;
      continue;
    }
    if (q.star) return Unsupported("'*' beside other columns");
    // Named by its alias, a column by its name, else by the expression as
    // the engine writes it.
    std::string name = rt.value("name", *e);
    if (!rt.contains("name") && rt.at("val").contains("ColumnRef")) name = e->substr(e->rfind('.') + 1);
    OutputColumn column{*e, name, w.aggregates() > aggregates_before};
    if (!rt.contains("name") && rt.at("val").contains("FuncCall")) {
      column.sql_name = absl::AsciiStrToLower(rt["val"]["FuncCall"].at("funcname").back().at("String").at("sval"));
      if (rt["val"]["FuncCall"].contains("over")) column.name = column.sql_name;
    }
    q.columns.push_back(std::move(column));
  }
  q.aggregate = w.saw_aggregate() || s.contains("groupClause");
  if (s.contains("whereClause")) {
    Writer where(cx, q.table, alias, joined);
    auto e = where.Expr(s["whereClause"]);
    if (!e.ok()) return e.status();
    if (where.saw_aggregate()) return absl::InvalidArgumentError("statement: aggregates are not allowed in WHERE");
    if (!where.windows().empty()) {
      return absl::InvalidArgumentError("statement: window functions are not allowed in WHERE");
    }
    if (*e != "1") q.where = *e;  // WHERE TRUE, or only joined INs: no filter
    q.columns_read.insert(q.columns_read.end(), where.columns_read().begin(), where.columns_read().end());
    for (FromTable& t : q.from) {
      if (!t.semi) continue;
      for (const auto& [link, joined] : cx.joined) {
        if (joined.alias == t.alias) t.on = joined.on;
      }
      if (t.on.empty()) return absl::InternalError(absl::StrCat("statement: no condition for ", t.alias));
    }
  }
  for (const Json& g : Items(s, "groupClause")) {
    if (const int64_t n = Ordinal(g); n != 0) {
      auto c = Position(cx, q, n, "GROUP BY");
      if (!c.ok()) return c.status();
      q.group_by.push_back(*c);
      continue;
    }
    auto e = w.Expr(g);
    if (!e.ok()) return e.status();
    // An output column's name groups by its expression.
    std::string key = *e;
    for (const OutputColumn& c : q.columns) {
      if (c.name == key && c.expr != key && !c.aggregate) key = c.expr;
    }
    q.group_by.push_back(key);
  }
  if (s.contains("havingClause")) {
    auto e = w.Expr(s["havingClause"]);
    if (!e.ok()) return e.status();
    q.having = *e;
  }
  if (absl::Status st = OrderAndPage(cx, s, w, &q); !st.ok()) return st;
  q.aggregate_calls = w.aggregate_calls();
  q.windows = w.windows();
  if (q.star && q.aggregate) return Unsupported("'*' with GROUP BY or aggregates");
  // Names ORDER BY gives of output columns are no columns to read.
  for (const std::string& c : w.columns_read()) {
    const bool alias = std::any_of(q.columns.begin(), q.columns.end(),
                                   [&](const OutputColumn& o) { return o.name == c && o.expr != c; });
    if (!alias) q.columns_read.push_back(c);
  }
  return q;
}

// A set operation's rows as a table, then read as a query of it (its ORDER
// BY, LIMIT and OFFSET).
absl::StatusOr<SelectQuery> SetOperation(Context& cx, const Json& s) {
  if (cx.nested == nullptr) return Unsupported("UNION, INTERSECT and EXCEPT");
  const std::string op = s.value("op", "");
  const bool all = s.value("all", false);
  const std::string mode = op == "SETOP_UNION"       ? (all ? "union_all" : "union")
                           : op == "SETOP_INTERSECT" ? "intersect"
                                                     : "except";
  if (all && mode != "union_all") return Unsupported("INTERSECT ALL and EXCEPT ALL");
  std::vector<std::string> tables;
  for (const char* side : {"larg", "rarg"}) {
    auto q = QueryOf(cx, s.at(side));
    if (!q.ok()) return q.status();
    auto name = TableOf(cx, *q);
    if (!name.ok()) return name.status();
    tables.push_back(*name);
  }
  auto combined = cx.nested->Combine(tables, mode);
  if (!combined.ok()) return combined.status();
  SelectQuery q;
  q.table = *combined;
  q.star = true;
  Writer w(cx, q.table, q.table);
  if (absl::Status st = OrderAndPage(cx, s, w, &q); !st.ok()) return st;
  return q;
}

// The query of SelectStmt node `s`: its WITH queries kept as tables first.
absl::StatusOr<SelectQuery> QueryOf(Context& cx, const Json& s) {
  if (StackLeft() < kStackReserve) return TooDeepForTheStack();
  const std::map<std::string, std::string> outer = cx.ctes;
  absl::StatusOr<SelectQuery> q;
  if (s.contains("withClause")) {
    const Json& with = s["withClause"];
    if (cx.nested == nullptr) return Unsupported("WITH clauses");
    if (with.value("recursive", false)) return Unsupported("WITH RECURSIVE");
    for (const Json& item : with.at("ctes")) {
      const Json& cte = item.at("CommonTableExpr");
      if (cte.contains("aliascolnames")) return Unsupported("column names after a WITH query's name");
      auto inner = QueryOf(cx, cte.at("ctequery").at("SelectStmt"));
      absl::StatusOr<std::string> name = inner.ok() ? TableOf(cx, *inner) : inner.status();
      if (!name.ok()) {
        cx.ctes = outer;
        return name.status();
      }
      cx.ctes[cte.at("ctename").get<std::string>()] = *name;
    }
  }
  q = s.value("op", "SETOP_NONE") != "SETOP_NONE" ? SetOperation(cx, s) : SelectOf(cx, s);
  cx.ctes = outer;
  return q;
}

// The table holding `q`'s rows: its table when it reads all of one as it
// is, else one the caller keeps.
absl::StatusOr<std::string> TableOf(Context& cx, const SelectQuery& q) {
  if (q.star && q.from.empty() && q.where.empty() && q.order.empty() && q.limit < 0 && q.offset == 0 && !q.distinct) {
    return q.table;
  }
  return cx.nested->Keep(q);
}

}  // namespace

absl::StatusOr<Statement> Statement::Parse(absl::string_view text) {
  Statement out;
  out.words_ = ReadKineticaWords(text);
  auto tree = ParseTree(out.words_.text);
  if (!tree.ok()) return tree.status();
  const Json& stmts = Items(*tree, "stmts");
  if (stmts.size() != 1) return absl::InvalidArgumentError("statement: give exactly one statement");
  out.kind_ = stmts[0].at("stmt").begin().key();
  out.tree_ = *std::move(tree);
  return out;
}

const Json& Statement::node() const { return tree_["stmts"][0]["stmt"].begin().value(); }

absl::StatusOr<SelectQuery> ParseSelect(const Statement& statement, const Json& params, Nested* nested,
                                        absl::string_view schema) {
  if (!statement.is_select()) return Unsupported(absl::StrCat("statements of kind ", statement.kind()));
  const KineticaWords& words = statement.words();
  Context cx{words.text, &params, nested, {}, std::string(schema)};
  auto q = QueryOf(cx, statement.node());
  if (q.ok() && words.top >= 0 && q->limit < 0) q->limit = words.top;  // SELECT TOP n
  return q;
}

absl::StatusOr<std::optional<SelectQuery>> ParseExplain(const Statement& statement, const Json& params, Nested* nested,
                                                        absl::string_view schema) {
  if (statement.kind() != "ExplainStmt") return std::optional<SelectQuery>();
  const Json& query = statement.node().at("query");
  if (!query.contains("SelectStmt")) return Unsupported("EXPLAIN of anything but a SELECT");
  Context cx{statement.words().text, &params, nested, {}, std::string(schema)};
  auto q = QueryOf(cx, query["SelectStmt"]);
  if (!q.ok()) return q.status();
  return std::optional<SelectQuery>(*std::move(q));
}

namespace {

std::string RelationName(const Json& range, const Context* cx = nullptr) { return RangeOf(range, cx).name; }

// An object name of DROP (its parts), in `schema` when it names none.
std::string ObjectName(const Json& object, absl::string_view schema) {
  std::vector<std::string> parts;
  for (const Json& p : object.at("List").at("items")) parts.push_back(p.at("String").at("sval"));
  if (parts.size() == 1 && !schema.empty()) parts.insert(parts.begin(), std::string(schema));
  return absl::StrJoin(parts, ".");
}

// A column type of CREATE TABLE as the engine's compact type list has it:
// the type and its properties.
absl::StatusOr<std::vector<std::string>> ColumnType(const Json& type_name, const std::string& column) {
  const std::string t = absl::AsciiStrToLower(type_name.at("names").back().at("String").at("sval").get<std::string>());
  if (t == "int4" || t == "int" || t == "integer") return std::vector<std::string>{"int"};
  if (t == "tinyint") return std::vector<std::string>{"int", "int8"};
  if (t == "time" || t == "datetime" || t == "uuid" || t == "ipv4") return std::vector<std::string>{"string", t};
  if (t == "blob" || t == "bytea" || t == "bytes") return std::vector<std::string>{"bytes"};
  if (t == "int8" || t == "bigint") return std::vector<std::string>{"long"};
  if (t == "int2" || t == "smallint") return std::vector<std::string>{"int", "int16"};
  if (t == "float4" || t == "real") return std::vector<std::string>{"float"};
  if (t == "float8" || t == "double" || t == "numeric" || t == "decimal") return std::vector<std::string>{"double"};
  if (t == "bool" || t == "boolean") return std::vector<std::string>{"int", "boolean"};
  if (t == "timestamp" || t == "timestamptz") return std::vector<std::string>{"long", "timestamp"};
  if (t == "text" || t == "string") return std::vector<std::string>{"string"};
  if (t == "date") return std::vector<std::string>{"string", "date"};
  if (t == "varchar" || t == "bpchar" || t == "char") {
    const Json& mods = Items(type_name, "typmods");
    const std::optional<int64_t> n = TypeModifier(type_name);
    if (!mods.empty() && (!n || mods.size() > 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat("statement: column '", column, "': ", t, "(...) takes one whole number, its length"));
    }
    if (!n || *n <= 0 || *n > 256) return std::vector<std::string>{"string"};
    int64_t width = 1;
    while (width < *n) width *= 2;
    return std::vector<std::string>{"string", absl::StrCat("char", width)};
  }
  return absl::UnimplementedError(absl::StrCat("statement: column '", column, "': the type ", t,
                                               " in SQL is not supported yet"));
}

}  // namespace

absl::StatusOr<std::vector<Change>> ParseChange(const Statement& statement, const Json& params, Nested* nested,
                                                absl::string_view schema) {
  const KineticaWords& words = statement.words();
  const std::string& kind = statement.kind();
  const Json& n = statement.node();
  Context cx{words.text, &params, nested, {}, std::string(schema)};
  // CREATE OR REPLACE: the table of that name goes first.
  std::vector<Change> out;
  if (words.or_replace && (kind == "CreateStmt" || kind == "CreateTableAsStmt")) {
    const std::string name = RelationName(kind == "CreateStmt" ? n.at("relation") : n.at("into").at("rel"), &cx);
    out.push_back({"/clear/table", Json{{"table_name", name}, {"options", {{"no_error_if_not_exists", "true"}}}}});
  }
  const auto with = [&out](Change c) {
    out.push_back(std::move(c));
    return std::move(out);
  };
  const auto where = [&](const std::string& table, const std::string& alias) -> absl::StatusOr<std::string> {
    if (!n.contains("whereClause")) return std::string();
    Writer w(cx, table, alias);
    return w.Expr(n["whereClause"]);
  };
  if (kind == "DeleteStmt" || kind == "UpdateStmt") {
    const FromTable t = RangeOf(n.at("relation"), &cx);
    if (n.contains("usingClause") || n.contains("fromClause")) return Unsupported("DELETE USING and UPDATE FROM");
    auto condition = where(t.name, t.alias);
    if (!condition.ok()) return condition.status();
    if (kind == "DeleteStmt") {
      Json request{{"table_name", t.name}, {"expressions", Json::array()}, {"options", Json::object()}};
      if (condition->empty()) {
        request["options"]["delete_all_records"] = "true";
      } else {
        request["expressions"].push_back(*condition);
      }
      return std::vector<Change>{{"/delete/records", request}};
    }
    Json values = Json::object();
    Writer w(cx, t.name, t.alias);
    for (const Json& target : n.at("targetList")) {
      const Json& rt = target.at("ResTarget");
      auto e = w.Expr(rt.at("val"));
      if (!e.ok()) return e.status();
      values[rt.at("name").get<std::string>()] = *e;
    }
    Json request{{"table_name", t.name},
                 {"expressions", Json::array({condition->empty() ? std::string("1") : *condition})},
                 {"new_values_maps", Json::array({values})},
                 {"options", {{"use_expressions_in_new_values_maps", "true"}}}};
    return std::vector<Change>{{"/update/records", request}};
  }
  if (kind == "InsertStmt") {
    const FromTable t = RangeOf(n.at("relation"), &cx);
    const Json& select = n.at("selectStmt").at("SelectStmt");
    std::vector<std::string> columns;
    for (const Json& c : Items(n, "cols")) columns.push_back(c.at("ResTarget").at("name"));
    if (n.contains("onConflictClause") || n.contains("returningList")) {
      return Unsupported("ON CONFLICT and RETURNING");
    }
    if (!select.contains("valuesLists")) {
      // INSERT ... SELECT: the query's rows, kept, then appended.
      if (nested == nullptr) return Unsupported("INSERT ... SELECT");
      auto q = QueryOf(cx, select);
      if (!q.ok()) return q.status();
      Change c;
      c.into = t.name;
      c.insert = true;
      c.columns = columns;
      c.select = *std::move(q);
      return std::vector<Change>{std::move(c)};
    }
    // One row of parameters, or (an array of arrays) one insert of the
    // VALUES per row of parameters.
    const bool batch = params.is_array() && !params.empty() && params[0].is_array();
    const Json rows_of_params = batch ? params : Json::array({params});
    Json records = Json::array();
    for (const Json& row_params : rows_of_params) {
      Context row_cx{words.text, &row_params, nested, {}, std::string(schema)};
      Writer w(row_cx, t.name, t.alias);
      for (const Json& row : select["valuesLists"]) {
        const Json& items = row.at("List").at("items");
        Json record = Json::object();
        for (size_t i = 0; i < items.size(); ++i) {
          Json value;
          if (items[i].contains("ParamRef")) {
            auto v = w.Param(items[i]["ParamRef"]);
            if (!v.ok()) return v.status();
            value = *v;
          } else if (items[i].contains("A_Const")) {
            auto text = w.Expr(items[i]);
            if (!text.ok()) return text.status();
            const Json& c = items[i]["A_Const"];
            value = c.value("isnull", false) ? Json(nullptr)
                    : c.contains("sval")     ? Json(c["sval"].at("sval").get<std::string>())
                    : c.contains("boolval")  ? Json(c["boolval"].value("boolval", false))
                                             : Json::parse(*text, nullptr, /*allow_exceptions=*/false);
          } else {
            return Unsupported("expressions in VALUES (give constants or $n)");
          }
          const std::string key = i < columns.size() ? columns[i] : absl::StrCat("#", i);
          record[key] = value;
        }
        records.push_back(engine::DumpJson(record));
      }
    }
    Json request{{"table_name", t.name}, {"list_encoding", "json"}, {"list_str", records},
                 {"options", Json::object()}};
    // Without a column list the values follow the table's columns: the
    // caller maps "#i" keys.
    return std::vector<Change>{{"/insert/records", request}};
  }
  if (kind == "CreateStmt") {
    const std::string name = RelationName(n.at("relation"), &cx);
    std::vector<std::string> keys;
    for (const Json& e : Items(n, "tableElts")) {
      if (e.contains("Constraint") && e["Constraint"].value("contype", "") == "CONSTR_PRIMARY") {
        for (const Json& k : e["Constraint"].at("keys")) keys.push_back(k.at("String").at("sval"));
      }
    }
    Json type = Json::array();
    for (const Json& e : Items(n, "tableElts")) {
      if (!e.contains("ColumnDef")) continue;
      const Json& c = e["ColumnDef"];
      const std::string column = c.at("colname");
      auto t = ColumnType(c.at("typeName"), column);
      if (!t.ok()) return t.status();
      bool not_null = false, primary = std::find(keys.begin(), keys.end(), column) != keys.end();
      // Kinetica's column properties (INTEGER(SHARD_KEY), VARCHAR(16, DICT)).
      std::vector<std::string> properties;
      if (auto it = words.properties.find(absl::AsciiStrToLower(column)); it != words.properties.end()) {
        for (const std::string& p : it->second) {
          if (p == "primary_key") {
            primary = true;
          } else if (p != "not_null") {
            properties.push_back(p);
          }
          not_null = not_null || p == "not_null";
        }
      }
      const bool sharded = std::any_of(words.shard_key.begin(), words.shard_key.end(),
                                       [&](const std::string& k) { return absl::EqualsIgnoreCase(k, column); });
      if (sharded && std::find(properties.begin(), properties.end(), "shard_key") == properties.end()) {
        properties.push_back("shard_key");
      }
      for (const Json& k : Items(c, "constraints")) {
        const std::string contype = k.at("Constraint").value("contype", "");
        not_null = not_null || contype == "CONSTR_NOTNULL";
        primary = primary || contype == "CONSTR_PRIMARY";
      }
      Json def = Json::array({column});
      for (const std::string& p : *t) def.push_back(p);
      for (const std::string& p : properties) def.push_back(p);
      if (primary) def.push_back("primary_key");
      if (!primary && !not_null) def.push_back("nullable");
      type.push_back(def);
    }
    for (const std::string& k : words.shard_key) {
      const bool known = std::any_of(type.begin(), type.end(),
                                     [&](const Json& d) { return absl::EqualsIgnoreCase(d[0].get<std::string>(), k); });
      if (!known)
        return absl::InvalidArgumentError(absl::StrCat("statement: SHARD KEY names '", k, "', no column of the table"));
    }
    Json options = Json::object();
    if (n.value("if_not_exists", false)) options["no_error_if_exists"] = "true";
    if (words.replicated) options["is_replicated"] = "true";
    return with(
        {"/create/table", Json{{"table_name", name}, {"type_id", engine::DumpJson(type)}, {"options", options}}});
  }
  if (kind == "CreateTableAsStmt") {
    if (n.value("objtype", "OBJECT_TABLE") != "OBJECT_TABLE") return Unsupported("CREATE of anything but tables");
    auto q = QueryOf(cx, n.at("query").at("SelectStmt"));
    if (!q.ok()) return q.status();
    Change c;
    c.into = RelationName(n.at("into").at("rel"), &cx);
    c.select = *std::move(q);
    return with(std::move(c));
  }
  if (kind == "CreateSchemaStmt") {
    Json options = Json::object();
    if (n.value("if_not_exists", false)) options["no_error_if_exists"] = "true";
    return std::vector<Change>{
        {"/create/schema", Json{{"schema_name", n.value("schemaname", "")}, {"options", options}}}};
  }
  if (kind == "DropStmt" && n.value("removeType", "") == "OBJECT_SCHEMA") {
    std::vector<Change> drops;
    for (const Json& object : n.at("objects")) {
      Json options = Json::object();
      if (n.value("missing_ok", false)) options["no_error_if_not_exists"] = "true";
      if (n.value("behavior", "") == "DROP_CASCADE") options["cascade"] = "true";
      drops.push_back({"/drop/schema", Json{{"schema_name", object.at("String").at("sval")}, {"options", options}}});
    }
    return drops;
  }
  if (kind == "RenameStmt") {
    const std::string table = RelationName(n.at("relation"), &cx);
    const std::string type = n.value("renameType", "");
    if (type == "OBJECT_TABLE") {
      // The new name stays in the table's schema (as in PostgreSQL).
      std::string renamed = n.value("newname", "");
      if (const size_t dot = table.rfind('.'); dot != std::string::npos && renamed.find('.') == std::string::npos) {
        renamed = absl::StrCat(table.substr(0, dot + 1), renamed);
      }
      return std::vector<Change>{
          {"/alter/table",
           Json{{"table_name", table}, {"action", "rename_table"}, {"value", renamed}, {"options", Json::object()}}}};
    }
    if (type == "OBJECT_COLUMN") {
      return std::vector<Change>{{"/alter/table", Json{{"table_name", table},
                                                       {"action", "change_column"},
                                                       {"value", n.value("subname", "")},
                                                       {"options", {{"rename_column", n.value("newname", "")}}}}}};
    }
    return Unsupported("ALTER ... RENAME of anything but tables and columns");
  }
  if (kind == "AlterTableStmt") {
    const std::string table = RelationName(n.at("relation"), &cx);
    std::vector<Change> changes;
    for (const Json& item : n.at("cmds")) {
      const Json& cmd = item.at("AlterTableCmd");
      const std::string subtype = cmd.value("subtype", "");
      if (subtype == "AT_DropColumn") {
        changes.push_back({"/alter/table", Json{{"table_name", table},
                                                {"action", "delete_column"},
                                                {"value", cmd.value("name", "")},
                                                {"options", Json::object()}}});
      } else if (subtype == "AT_AddColumn" || subtype == "AT_AlterColumnType") {
        const Json& c = cmd.at("def").at("ColumnDef");
        const std::string column = subtype == "AT_AddColumn" ? c.value("colname", "") : cmd.value("name", "");
        auto t = ColumnType(c.at("typeName"), column);
        if (!t.ok()) return t.status();
        bool not_null = false;
        Json default_value;
        for (const Json& k : Items(c, "constraints")) {
          const Json& constraint = k.at("Constraint");
          not_null = not_null || constraint.value("contype", "") == "CONSTR_NOTNULL";
          if (constraint.value("contype", "") == "CONSTR_DEFAULT") {
            Writer w(cx, table, table);
            auto e = w.Expr(constraint.at("raw_expr"));
            if (!e.ok()) return e.status();
            default_value = *e;
          }
        }
        std::vector<std::string> properties(t->begin() + 1, t->end());
        if (!not_null) properties.push_back("nullable");
        Json options{{"column_type", (*t)[0]}, {"column_properties", absl::StrJoin(properties, ",")}};
        if (default_value.is_string()) {
          std::string v = default_value.get<std::string>();
          if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'') v = v.substr(1, v.size() - 2);
          options["column_default_value"] = v;
        }
        changes.push_back({"/alter/table", Json{{"table_name", table},
                                                {"action", subtype == "AT_AddColumn" ? "add_column" : "change_column"},
                                                {"value", column},
                                                {"options", options}}});
      } else {
        return Unsupported(absl::StrCat("ALTER TABLE commands of kind ", subtype));
      }
    }
    return changes;
  }
  if (kind == "DropStmt") {
    if (n.value("removeType", "") != "OBJECT_TABLE") return Unsupported("DROP of anything but tables");
    std::vector<Change> out;
    for (const Json& object : n.at("objects")) {
      Json options = Json::object();
      if (n.value("missing_ok", false)) options["no_error_if_not_exists"] = "true";
      out.push_back({"/clear/table", Json{{"table_name", ObjectName(object, schema)}, {"options", options}}});
    }
    return out;
  }
  return Unsupported(absl::StrCat("statements of kind ", kind));
}

namespace {

// The names of the RangeVars under `node` (tables, views and WITH queries)
// and of the WITH queries it defines.
void Relations(const Json& node, std::vector<std::string>* names, std::set<std::string>* ctes) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "RangeVar") names->push_back(RangeOf(value).name);
      if (key == "CommonTableExpr") ctes->insert(value.value("ctename", ""));
      Relations(value, names, ctes);
    }
  } else if (node.is_array()) {
    for (const Json& item : node) Relations(item, names, ctes);
  }
}

}  // namespace

std::vector<std::string> StatementSchemas(const Statement& statement) {
  const std::string& kind = statement.kind();
  const Json& n = statement.node();
  std::vector<std::string> out;
  if (kind == "CreateSchemaStmt") out.push_back(n.value("schemaname", ""));
  if (kind == "DropStmt" && n.value("removeType", "") == "OBJECT_SCHEMA") {
    for (const Json& object : n.at("objects")) out.push_back(object.at("String").at("sval"));
  }
  return out;
}

absl::StatusOr<std::vector<std::pair<std::string, bool>>> StatementTables(const Statement& statement,
                                                                          absl::string_view schema) {
  const std::string& kind = statement.kind();
  const Json& n = statement.node();
  std::vector<std::pair<std::string, bool>> out;
  // The table a change writes.
  if (kind == "CreateSchemaStmt" || (kind == "DropStmt" && n.value("removeType", "") == "OBJECT_SCHEMA")) {
    return out;  // StatementSchemas
  }
  Context cx;
  cx.schema = std::string(schema);
  if (kind == "CreateTableAsStmt") {
    out.emplace_back(RelationName(n.at("into").at("rel"), &cx), true);
  } else if (kind == "DropStmt") {
    for (const Json& object : Items(n, "objects")) out.emplace_back(ObjectName(object, schema), true);
    return out;
  } else if (n.contains("relation")) {
    out.emplace_back(RelationName(n["relation"], &cx), true);
  } else if (kind != "SelectStmt" && kind != "ExplainStmt") {
    return Unsupported(absl::StrCat("statements of kind ", kind));
  }
  // And every table it reads.
  std::vector<std::string> names;
  std::set<std::string> ctes;
  Relations(n, &names, &ctes);
  for (std::string name : names) {
    if (ctes.count(name) > 0) continue;
    if (!schema.empty() && name.find('.') == std::string::npos) name = absl::StrCat(schema, ".", name);
    const bool seen = std::any_of(out.begin(), out.end(), [&](const auto& t) { return t.first == name; });
    if (!seen) out.emplace_back(name, false);
  }
  return out;
}

}  // namespace engine::sql
