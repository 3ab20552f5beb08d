// /filter, /filter/byrange, /filter/bylist, /filter/bystring, /filter/byvalue,
// /filter/bytable.

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/handlers/rows.h"
#include "engine/handlers/shards.h"
#include "kernels/filter.h"
#include "kernels/gather.h"
#include "kernels/groupby.h"
#include "kernels/sort.h"
#include "re2/re2.h"

namespace engine {
namespace {

absl::StatusOr<std::vector<Access>> FilterAccess(const Json& request) {
  auto access = ReadTableAccess(request);
  if (!access.ok()) return access;
  const std::string& view = StringField(request, "view_name");
  if (!view.empty()) {
    if (absl::Status s = ValidateTableName(view, "view_name"); !s.ok()) return s;
    access->push_back(Access{view, true});
  }
  return access;
}

// view_name, when set, must not name a table or view yet.
absl::Status CheckViewName(const JobContext& ctx, const Json& request) {
  const std::string& view_name = StringField(request, "view_name");
  if (!view_name.empty() && ctx.catalog.Has(view_name)) {
    return absl::AlreadyExistsError(absl::StrCat("view_name: table '", view_name, "' already exists"));
  }
  return absl::OkStatus();
}

// `rows` of a single-device `table` as a view named `name` on ctx.device.
// REQUIRES: !rows.all.
std::shared_ptr<Table> GatherView(JobContext& ctx, const std::string& name, const Table& table, const RowSet& rows) {
  const TableType& type = table.type();
  const std::vector<kernels::ColumnView> views = table.views();
  std::vector<kernels::Column> columns;
  for (size_t c = 0; c < views.size(); ++c) {
    columns.push_back(kernels::Gather(views[c], rows.data(), rows.count, type.column(c).nullable, ctx.exec));
  }
  auto view = std::make_shared<Table>(name, type, &ctx.device, Table::Kind::kView);
  view->Replace(std::move(columns), ctx.exec).IgnoreError();  // no journal: cannot fail
  return view;
}

// The rows of `part` as a shard of a view named `name`, on ctx's device,
// keeping their positions. REQUIRES: `part` is a shard; !rows.all.
std::shared_ptr<Table> GatherViewShard(JobContext& ctx, const std::string& name, const Table& part,
                                       const RowSet& rows) {
  std::vector<kernels::Column> columns;
  const std::vector<kernels::ColumnView> views = part.views();
  for (size_t c = 0; c < views.size(); ++c) {
    columns.push_back(kernels::Gather(views[c], rows.data(), rows.count, part.type().column(c).nullable, ctx.exec));
  }
  kernels::Column positions = kernels::Gather(part.positions(), rows.data(), rows.count, false, ctx.exec);
  return Table::Shard(name, part.type(), &ctx.device, std::move(columns), std::move(positions), ctx.exec);
}

// Adds `view` (named by view_name) to the catalog; the response of a filter
// that chose `count` rows.
absl::StatusOr<Json> FilterResponse(JobContext& ctx, const Json& request, std::shared_ptr<Table> view, int64_t count) {
  const std::string& view_name = StringField(request, "view_name");
  if (view != nullptr) {
    if (absl::Status s = ctx.catalog.Add(std::move(view)); !s.ok()) {
      return absl::AlreadyExistsError(absl::StrCat("view_name: ", s.message()));
    }
  }
  return Json{{"count", count}, {"info", Json{{"qualified_view_name", view_name}}}};
}

// Chooses rows of one part of a table (on part_ctx's device): their count,
// and with `want_rows` their indices.
using SelectFn = std::function<absl::StatusOr<RowSet>(JobContext& part_ctx, const Table& part, bool want_rows)>;

// A filter's answer: `select` on every part of `table` (shards.h), the
// counts summed, and the view named by view_name when it is not empty. On a
// distributed table each shard filters its rows on its device, and the view
// keeps the table's layout, each shard's rows where they were (with their
// positions).
absl::StatusOr<Json> FilterParts(JobContext& ctx, const Json& request, const Table& table, const SelectFn& select) {
  if (absl::Status s = CheckViewName(ctx, request); !s.ok()) return s;
  const std::string& view_name = StringField(request, "view_name");
  const size_t n = PartCount(table);
  std::vector<int64_t> counts(n, 0);
  std::vector<std::shared_ptr<Table>> parts(n);
  absl::Status scanned =
      ForEachShard(ctx, table, [&](JobContext& part_ctx, const Table& part, size_t i) -> absl::Status {
        auto rows = select(part_ctx, part, !view_name.empty());
        if (!rows.ok()) return rows.status();
        counts[i] = rows->count;
        if (view_name.empty()) return absl::OkStatus();
        parts[i] =
            n == 1 ? GatherView(part_ctx, view_name, part, *rows) : GatherViewShard(part_ctx, view_name, part, *rows);
        return absl::OkStatus();
      });
  if (!scanned.ok()) return scanned;
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  std::shared_ptr<Table> view;
  if (n == 1) {
    view = parts[0];
  } else if (!view_name.empty()) {
    view = std::make_shared<Table>(view_name, table.type(), table.layout(), std::move(parts), Table::Kind::kView);
  }
  return FilterResponse(ctx, request, std::move(view), total);
}

// The rows of `table` where `expression` holds (FilterParts). `field` names
// the part of the request the expression came from, for errors.
absl::StatusOr<Json> FilterRows(JobContext& ctx, const Json& request, const Table& table, const std::string& expression,
                                absl::string_view field) {
  return FilterParts(ctx, request, table,
                     [&](JobContext& part_ctx, const Table& part, bool want_rows) -> absl::StatusOr<RowSet> {
                       if (want_rows) return SelectRows(part_ctx, part, expression, field);
                       auto count = CountRows(part_ctx, part, expression, field);
                       if (!count.ok()) return count.status();
                       return RowSet{false, *count, {}};
                     });
}

absl::StatusOr<Json> Filter(JobContext& ctx, const Json& request) {
  const std::string& expression = StringField(request, "expression");
  if (absl::StripAsciiWhitespace(expression).empty()) {
    return absl::InvalidArgumentError("expression: is empty; give a filter condition");
  }
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  return FilterRows(ctx, request, **table, expression, "expression");
}

// The index of column request[field] in `table`; InvalidArgument naming the
// field when there is none.
absl::StatusOr<int> FindColumn(const Table& table, const Json& request, absl::string_view field) {
  const std::string& name = StringField(request, field);
  const int c = table.type().Find(name);
  if (c < 0) return absl::InvalidArgumentError(absl::StrCat(field, ": no column named '", name, "'"));
  return c;
}

absl::StatusOr<Json> FilterByRange(JobContext& ctx, const Json& request) {
  const double lower = request["lower_bound"].get<double>();
  const double upper = request["upper_bound"].get<double>();
  if (!std::isfinite(lower) || !std::isfinite(upper)) {
    return absl::InvalidArgumentError("lower_bound, upper_bound: must be finite numbers");
  }
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  auto c = FindColumn(**table, request, "column_name");
  if (!c.ok()) return c.status();
  const std::string& column = StringField(request, "column_name");
  if ((*table)->type().column(*c).is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("column_name: '", column, "' is not numeric"));
  }
  return FilterRows(ctx, request, **table,
                    absl::StrCat(column, " between ", NumberLiteral(lower), " and ", NumberLiteral(upper)),
                    "column_name");
}

absl::StatusOr<Json> FilterByList(JobContext& ctx, const Json& request) {
  const std::string mode = Option(request, "filter_mode", "in_list");
  if (mode != "in_list" && mode != "not_in_list") {
    return absl::InvalidArgumentError(
        absl::StrCat("options.filter_mode: expected 'in_list' or 'not_in_list', got '", mode, "'"));
  }
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  const Json& map = request["column_values_map"];
  if (map.empty()) return absl::InvalidArgumentError("column_values_map: give at least one column and its values");
  std::vector<std::string> terms;
  for (auto it = map.begin(); it != map.end(); ++it) {
    const int c = (*table)->type().Find(it.key());
    if (c < 0) return absl::InvalidArgumentError(absl::StrCat("column_values_map: no column named '", it.key(), "'"));
    const ColumnDef& def = (*table)->type().column(c);
    std::vector<std::string> literals;
    for (const Json& v : *it) {
      const std::string& text = v.get_ref<const std::string&>();
      if (def.is_string()) {
        literals.push_back(StringLiteral(text));
      } else {
        double number = 0;
        if (!absl::SimpleAtod(text, &number)) {
          return absl::InvalidArgumentError(absl::StrCat("column_values_map.", it.key(), ": '", text,
                                                         "' is not a number (the column is ", def.type_name(), ")"));
        }
        literals.push_back(NumberLiteral(number));
      }
    }
    if (literals.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("column_values_map.", it.key(), ": the list of values is empty"));
    }
    terms.push_back(absl::StrCat(it.key(), mode == "in_list" ? " in (" : " not in (", absl::StrJoin(literals, ", "),
                                 ")"));
  }
  return FilterRows(ctx, request, **table, absl::StrJoin(terms, " and "), "column_values_map");
}

// ---------------------------------------------------------------------------
// /filter/byvalue: column_name equal to value, or to value_str when is_string.

absl::StatusOr<Json> FilterByValue(JobContext& ctx, const Json& request) {
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  auto c = FindColumn(**table, request, "column_name");
  if (!c.ok()) return c.status();
  const ColumnDef& def = (*table)->type().column(*c);
  const bool is_string = request["is_string"].get<bool>();
  if (is_string && !def.is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("column_name: '", def.name, "' is ", def.type_name(),
                                                   ", not a string column; give value with is_string false"));
  }
  if (!is_string && def.is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("column_name: '", def.name, "' is ", def.type_name(), "; give value_str with is_string true"));
  }
  std::string literal;
  if (is_string) {
    literal = StringLiteral(StringField(request, "value_str"));
  } else {
    const double value = request["value"].get<double>();
    if (!std::isfinite(value)) return absl::InvalidArgumentError("value: must be a finite number");
    literal = NumberLiteral(value);
  }
  return FilterRows(ctx, request, **table, absl::StrCat(def.name, " = ", literal), "column_name");
}

// ---------------------------------------------------------------------------
// /filter/bystring.
//
// equals, starts_with and contains are expressions on the device (= ;
// substr(c, 1, n) = ; like '%…%'), over lower(c) when case_sensitive is
// false (ASCII letters fold). A contains whose text has % or _ (which like
// would read as wildcards), regex (RE2, unanchored: a match anywhere in the
// value) and search run on the host, chunk by chunk, over the columns' values
// copied from the device. A row passes when any of the columns matches; nulls
// never match.

// A match on the host: whether row `row` of the copied `values` (one per
// searched column) passes.
using HostMatch = std::function<bool(const std::vector<HostColumn>& values, int64_t row)>;

// The rows of `table` where `match` holds for the values of `columns`.
absl::StatusOr<RowSet> SelectRowsOnHost(JobContext& ctx, const Table& table, const std::vector<int>& columns,
                                        const HostMatch& match) {
  const int64_t n = table.rows();
  const std::vector<kernels::ColumnView> views = table.views();
  std::vector<uint8_t> mask(static_cast<size_t>(n));
  absl::Status scanned = ForEachChunk(ctx, n, [&](int64_t begin, int64_t end) {
    std::vector<HostColumn> values;
    for (int c : columns) values.push_back(ToHost(views[c], table.type().column(c).nullable, begin, end, ctx.exec));
    for (int64_t r = 0; r < end - begin; ++r) mask[begin + r] = match(values, r) ? 1 : 0;
  });
  if (!scanned.ok()) return scanned;
  kernels::Buffer device_mask(static_cast<size_t>(n), ctx.exec);
  if (n > 0) kernels::CopyToDevice(device_mask.data(), mask.data(), mask.size(), ctx.exec);
  kernels::Selection selection = kernels::Compact(device_mask.as<uint8_t>(), 0, n, ctx.exec);
  RowSet rows;
  rows.all = false;
  rows.count = selection.count;
  rows.indices = std::move(selection.indices);
  return rows;
}

// Whether any searched column of the row holds a value for which `test` holds.
HostMatch AnyValue(std::function<bool(absl::string_view)> test) {
  return [test = std::move(test)](const std::vector<HostColumn>& values, int64_t row) {
    for (const HostColumn& v : values) {
      if (v.IsValid(row) && test(v.StringAt(row))) return true;
    }
    return false;
  };
}

char Fold(char c) { return absl::ascii_tolower(static_cast<unsigned char>(c)); }

// Text as search mode reads it: words are runs of ASCII letters, digits and
// '_' and of non-ASCII bytes (so UTF-8 letters stay inside words); anything
// else separates them. Words compare with ASCII letters folded.
bool IsWordByte(char c) {
  const auto u = static_cast<unsigned char>(c);
  return absl::ascii_isalnum(u) || c == '_' || u >= 0x80;
}

void SplitWords(absl::string_view text, std::vector<absl::string_view>* words) {
  words->clear();
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && !IsWordByte(text[i])) ++i;
    const size_t start = i;
    while (i < text.size() && IsWordByte(text[i])) ++i;
    if (i > start) words->push_back(text.substr(start, i - start));
  }
}

bool SameWord(absl::string_view word, absl::string_view folded) {
  if (word.size() != folded.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (Fold(word[i]) != folded[i]) return false;
  }
  return true;
}

// `word` against a folded pattern where * is any run of characters and ? one
// character (one UTF-8 sequence).
bool WildcardMatch(absl::string_view word, absl::string_view pattern) {
  size_t w = 0, p = 0, star = absl::string_view::npos, resume = 0;
  const auto next_char = [&](size_t at) {
    ++at;
    while (at < word.size() && (static_cast<unsigned char>(word[at]) & 0xC0) == 0x80) ++at;
    return at;
  };
  while (w < word.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      resume = w;
    } else if (p < pattern.size() && (pattern[p] == '?' || pattern[p] == Fold(word[w]))) {
      w = pattern[p] == '?' ? next_char(w) : w + 1;
      ++p;
    } else if (star != absl::string_view::npos) {
      p = star + 1;
      w = resume = next_char(resume);
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// A search query: words, wildcard words, phrases, and AND / OR / NOT of them.
struct SearchNode {
  enum class Kind { kWord, kWildcard, kPhrase, kAnd, kOr, kNot };
  Kind kind = Kind::kWord;
  std::vector<std::string> words;    // folded: one (word, wildcard pattern) or a phrase's
  std::vector<SearchNode> children;  // kAnd, kOr: two; kNot: one
};

// The words of each searched column of one row.
using Document = std::vector<std::vector<absl::string_view>>;

bool Matches(const SearchNode& node, const Document& doc) {
  switch (node.kind) {
    case SearchNode::Kind::kAnd:
      return Matches(node.children[0], doc) && Matches(node.children[1], doc);
    case SearchNode::Kind::kOr:
      return Matches(node.children[0], doc) || Matches(node.children[1], doc);
    case SearchNode::Kind::kNot:
      return !Matches(node.children[0], doc);
    default:
      break;
  }
  const std::vector<std::string>& q = node.words;
  for (const std::vector<absl::string_view>& words : doc) {
    for (size_t i = 0; i + q.size() <= words.size(); ++i) {
      bool hit = true;
      for (size_t k = 0; k < q.size() && hit; ++k) {
        hit =
            node.kind == SearchNode::Kind::kWildcard ? WildcardMatch(words[i + k], q[k]) : SameWord(words[i + k], q[k]);
      }
      if (hit) return true;
    }
  }
  return false;
}

// Parses the search mode's query, Kinetica's full text search syntax less
// what needs an index: words (any of them may match), "exact phrases", * and
// ? inside a word, AND, OR, NOT ("a NOT b" is a AND NOT b; a leading NOT
// negates) and parentheses; NOT binds tightest, then AND, then OR (also
// between terms with no operator). Operators are uppercase; other words are
// searched for. Errors name the expression and the position (1-based).
class SearchParser {
 public:
  explicit SearchParser(absl::string_view text) : text_(text) {}

  absl::StatusOr<SearchNode> Parse() {
    auto node = ParseOr(0);
    if (!node.ok()) return node;
    if (Peek().kind != Tok::kEnd) return Error("unexpected ')'", Peek().pos);
    return node;
  }

 private:
  enum class Tok { kEnd, kOpen, kClose, kPhrase, kWord, kAnd, kOr, kNot };
  struct Token {
    Tok kind = Tok::kEnd;
    size_t pos = 0;          // 0-based
    absl::string_view text;  // a word, or a phrase's inside
  };
  static constexpr int kMaxNesting = 100;

  absl::Status Error(absl::string_view problem, size_t pos) const {
    return absl::InvalidArgumentError(absl::StrCat("expression: ", problem, " at position ", pos + 1));
  }

  Token Peek() {
    while (at_ < text_.size() && absl::ascii_isspace(static_cast<unsigned char>(text_[at_]))) ++at_;
    Token t;
    t.pos = at_;
    if (at_ >= text_.size()) return t;
    const char c = text_[at_];
    if (c == '(' || c == ')') {
      t.kind = c == '(' ? Tok::kOpen : Tok::kClose;
      t.text = text_.substr(at_, 1);
      return t;
    }
    if (c == '"') {
      const size_t close = text_.find('"', at_ + 1);
      t.kind = Tok::kPhrase;
      t.text = close == absl::string_view::npos ? text_.substr(at_ + 1) : text_.substr(at_ + 1, close - at_ - 1);
      return t;
    }
    size_t end = at_;
    while (end < text_.size() && !absl::ascii_isspace(static_cast<unsigned char>(text_[end])) && text_[end] != '(' &&
           text_[end] != ')' && text_[end] != '"') {
      ++end;
    }
    t.text = text_.substr(at_, end - at_);
    t.kind = t.text == "AND" ? Tok::kAnd : t.text == "OR" ? Tok::kOr : t.text == "NOT" ? Tok::kNot : Tok::kWord;
    return t;
  }

  void Skip(const Token& t) { at_ = t.pos + t.text.size() + (t.kind == Tok::kPhrase ? 2 : 0); }

  static SearchNode Binary(SearchNode::Kind kind, SearchNode a, SearchNode b) {
    SearchNode n;
    n.kind = kind;
    n.children.push_back(std::move(a));
    n.children.push_back(std::move(b));
    return n;
  }

  absl::StatusOr<SearchNode> ParseOr(int depth) {
    auto left = ParseAnd(depth);
    if (!left.ok()) return left;
    while (true) {
      const Token t = Peek();
      if (t.kind == Tok::kOr) {
        Skip(t);
      } else if (t.kind != Tok::kWord && t.kind != Tok::kPhrase && t.kind != Tok::kOpen) {
        return left;
      }
      auto right = ParseAnd(depth);
      if (!right.ok()) return right;
      left = Binary(SearchNode::Kind::kOr, *std::move(left), *std::move(right));
    }
  }

  absl::StatusOr<SearchNode> ParseAnd(int depth) {
    auto left = ParseUnary(depth);
    if (!left.ok()) return left;
    while (true) {
      const Token t = Peek();
      if (t.kind != Tok::kAnd && t.kind != Tok::kNot) return left;
      if (t.kind == Tok::kAnd) Skip(t);  // a NOT stays, for ParseUnary to negate what follows
      auto right = ParseUnary(depth);
      if (!right.ok()) return right;
      left = Binary(SearchNode::Kind::kAnd, *std::move(left), *std::move(right));
    }
  }

  absl::StatusOr<SearchNode> ParseUnary(int depth) {
    if (depth > kMaxNesting) return Error("the query nests too deeply", at_);
    const Token t = Peek();
    Skip(t);
    switch (t.kind) {
      case Tok::kNot: {
        auto operand = ParseUnary(depth + 1);
        if (!operand.ok()) return operand;
        SearchNode n;
        n.kind = SearchNode::Kind::kNot;
        n.children.push_back(*std::move(operand));
        return n;
      }
      case Tok::kOpen: {
        auto inner = ParseOr(depth + 1);
        if (!inner.ok()) return inner;
        const Token close = Peek();
        if (close.kind != Tok::kClose) return Error("expected ')'", close.pos);
        Skip(close);
        return inner;
      }
      case Tok::kPhrase:
        if (t.pos + t.text.size() + 1 >= text_.size() || text_[t.pos + t.text.size() + 1] != '"') {
          return Error("expected a closing '\"'", text_.size());
        }
        return Term(t, /*phrase=*/true);
      case Tok::kWord:
        return Term(t, /*phrase=*/false);
      case Tok::kEnd:
        return Error("expected a word, a \"phrase\" or '('", t.pos);
      default:
        return Error(absl::StrCat("expected a word, a \"phrase\" or '(', not '", t.text, "'"), t.pos);
    }
  }

  // A word or a phrase as a node: a word that reads as several words (e-mail)
  // is their phrase.
  absl::StatusOr<SearchNode> Term(const Token& t, bool phrase) {
    for (size_t i = 0; i < t.text.size(); ++i) {
      const char c = t.text[i];
      if (absl::StrContains("~^:[]{}\\!", c) || (!phrase && i == 0 && (c == '+' || c == '-'))) {
        return Error(absl::StrCat("'", t.text, "' uses '", std::string(1, c),
                                  "', which is not supported (fuzzy, proximity, boost, field and range "
                                  "queries, and the + - ! operators); use words, \"phrases\", * and ?, AND, "
                                  "OR, NOT and parentheses"),
                     t.pos);
      }
    }
    SearchNode n;
    if (!phrase && (absl::StrContains(t.text, '*') || absl::StrContains(t.text, '?'))) {
      for (const char c : t.text) {
        if (c != '*' && c != '?' && !IsWordByte(c)) {
          return Error(absl::StrCat("wildcards apply within one word; '", t.text, "' has '", std::string(1, c), "'"),
                       t.pos);
        }
      }
      n.kind = SearchNode::Kind::kWildcard;
      n.words.push_back(absl::AsciiStrToLower(t.text));
      return n;
    }
    std::vector<absl::string_view> words;
    SplitWords(t.text, &words);
    if (words.empty()) {
      return Error(absl::StrCat(phrase ? "\"" : "'", t.text, phrase ? "\"" : "'", " has no word to search for"), t.pos);
    }
    n.kind = words.size() == 1 ? SearchNode::Kind::kWord : SearchNode::Kind::kPhrase;
    for (absl::string_view w : words) n.words.push_back(absl::AsciiStrToLower(w));
    return n;
  }

  absl::string_view text_;
  size_t at_ = 0;
};

enum class StringMode { kSearch, kEquals, kContains, kStartsWith, kRegex };

absl::StatusOr<StringMode> ParseStringMode(const std::string& mode) {
  if (mode == "search") return StringMode::kSearch;
  if (mode == "equals") return StringMode::kEquals;
  if (mode == "contains") return StringMode::kContains;
  if (mode == "starts_with") return StringMode::kStartsWith;
  if (mode == "regex") return StringMode::kRegex;
  if (mode == "search_stats") {
    return absl::InvalidArgumentError(
        "mode: 'search_stats' is not supported (it reports the BM25 statistics of a text index, which this "
        "server does not build)");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("mode: expected 'search', 'equals', 'contains', 'starts_with' or 'regex', got '", mode, "'"));
}

// Whether /filter/bystring reads the column: string and charN, not bytes.
bool IsText(const ColumnDef& def) { return def.is_string() && def.kind != ColumnKind::kBytes; }

// The columns search mode reads: every string column with the text_search
// property (column_names is ignored, as Kinetica ignores it).
absl::StatusOr<std::vector<int>> TextSearchColumns(const Table& table) {
  std::vector<int> columns;
  for (size_t c = 0; c < table.type().size(); ++c) {
    const ColumnDef& def = table.type().column(c);
    if (IsText(def) && std::find(def.properties.begin(), def.properties.end(), "text_search") != def.properties.end()) {
      columns.push_back(static_cast<int>(c));
    }
  }
  if (columns.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("mode: search reads the string columns with the text_search property, and table '", table.name(),
                     "' has none"));
  }
  return columns;
}

// The columns of column_names, each a string column of `table`.
absl::StatusOr<std::vector<int>> StringColumns(const Table& table, const Json& request, const std::string& mode) {
  std::vector<int> columns;
  const Json& names = request["column_names"];
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i].get_ref<const std::string&>();
    const int c = table.type().Find(name);
    if (c < 0) return absl::InvalidArgumentError(absl::StrCat("column_names[", i, "]: no column named '", name, "'"));
    const ColumnDef& def = table.type().column(c);
    if (!IsText(def)) {
      return absl::InvalidArgumentError(
          absl::StrCat("column_names[", i, "]: '", name, "' is ", def.type_name(), ", not a string column"));
    }
    columns.push_back(c);
  }
  if (columns.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("column_names: name at least one string column for mode '", mode, "'"));
  }
  return columns;
}

// The test of mode `mode` for column `name` as an expression (equals,
// starts_with, and contains of a text without % and _).
std::string StringTest(StringMode mode, const std::string& name, const std::string& text, bool case_sensitive) {
  const std::string value = case_sensitive ? name : absl::StrCat("lower(", name, ")");
  const std::string folded = case_sensitive ? text : absl::AsciiStrToLower(text);
  switch (mode) {
    case StringMode::kEquals:
      return absl::StrCat(value, " = ", StringLiteral(folded));
    case StringMode::kStartsWith:
      return absl::StrCat("substr(", value, ", 1, ", folded.size(), ") = ", StringLiteral(folded));
    default:
      return absl::StrCat(value, " like ", StringLiteral(absl::StrCat("%", folded, "%")));
  }
}

// FilterParts for a match on the host: each shard copies its values to the
// host and matches them there (its own copy of `match`, which may keep
// state), all at once.
absl::StatusOr<Json> FilterRowsOnHost(JobContext& ctx, const Json& request, const Table& table,
                                      const std::vector<int>& columns, const HostMatch& match) {
  return FilterParts(ctx, request, table, [&](JobContext& part_ctx, const Table& part, bool) {
    return SelectRowsOnHost(part_ctx, part, columns, HostMatch(match));
  });
}

absl::StatusOr<Json> FilterByStringRows(JobContext& ctx, const Json& request) {
  auto mode = ParseStringMode(StringField(request, "mode"));
  if (!mode.ok()) return mode.status();
  auto case_sensitive = BoolOption(request, "case_sensitive", true);
  if (!case_sensitive.ok()) return case_sensitive.status();
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  if (absl::Status s = CheckViewName(ctx, request); !s.ok()) return s;
  const std::string& text = StringField(request, "expression");

  absl::StatusOr<std::vector<int>> columns = *mode == StringMode::kSearch
                                                 ? TextSearchColumns(**table)
                                                 : StringColumns(**table, request, StringField(request, "mode"));
  if (!columns.ok()) return columns.status();

  HostMatch match;
  if (*mode == StringMode::kSearch) {
    if (absl::StripAsciiWhitespace(text).empty()) {
      return absl::InvalidArgumentError("expression: is empty; give the words to search for");
    }
    auto query = SearchParser(text).Parse();
    if (!query.ok()) return query.status();
    match = [query = *std::move(query), doc = Document()](const std::vector<HostColumn>& values, int64_t row) mutable {
      doc.resize(values.size());
      for (size_t c = 0; c < values.size(); ++c) {
        if (values[c].IsValid(row)) {
          SplitWords(values[c].StringAt(row), &doc[c]);
        } else {
          doc[c].clear();
        }
      }
      return Matches(query, doc);
    };
  } else if (*mode == StringMode::kRegex) {
    RE2::Options options;
    options.set_log_errors(false);
    options.set_case_sensitive(*case_sensitive);
    auto re = std::make_shared<RE2>(text, options);
    if (!re->ok())
      return absl::InvalidArgumentError(absl::StrCat("expression: invalid regular expression: ", re->error()));
    match =
        AnyValue([re](absl::string_view v) { return RE2::PartialMatch(re2::StringPiece(v.data(), v.size()), *re); });
  } else if (*mode == StringMode::kContains && text.find_first_of("%_") != std::string::npos) {
    const std::string needle = *case_sensitive ? text : absl::AsciiStrToLower(text);
    const bool fold = !*case_sensitive;
    match = AnyValue([needle, fold](absl::string_view v) {
      return std::search(v.begin(), v.end(), needle.begin(), needle.end(),
                         [fold](char a, char b) { return (fold ? Fold(a) : a) == b; }) != v.end();
    });
  } else {
    std::vector<std::string> tests;
    for (int c : *columns) {
      tests.push_back(StringTest(*mode, (*table)->type().column(c).name, text, *case_sensitive));
    }
    return FilterRows(ctx, request, **table, absl::StrJoin(tests, " or "), "column_names");
  }
  return FilterRowsOnHost(ctx, request, **table, *columns, match);
}

absl::StatusOr<Json> FilterByString(JobContext& ctx, const Json& request) {
  auto response = FilterByStringRows(ctx, request);
  if (response.ok()) (*response)["stats_data"] = "";
  return response;
}

// ---------------------------------------------------------------------------
// /filter/bytable: the rows of table_name whose column_name value is (or,
// with filter_mode not_in_table, is not) among the values of
// source_table_name's source_table_column_name. Nulls never match, nor do
// NaNs; not_in_table keeps NaNs and drops nulls (as not in does).
//
// No kernel joins, so the membership is found by grouping: the source's
// values, then the table's, in one column; grouped (GroupRows keeps a group's
// rows in input order), a value is in the source when the first row of its
// group is one of the source's. The group of each row comes back through the
// inverse of the group order (a sort of it), and the first row of the group
// through a gather.

absl::StatusOr<std::vector<Access>> FilterByTableAccess(const Json& request) {
  auto access = FilterAccess(request);
  if (!access.ok()) return access;
  const std::string& source = StringField(request, "source_table_name");
  if (absl::Status s = ValidateTableName(source, "source_table_name"); !s.ok()) return s;
  access->push_back(Access{source, false});
  return access;
}

// The values of column `c` of `table` on the job's device in one layout per
// kind (integers int64, reals double, strings variable length): the column
// read as an expression. A table on another device is copied through the
// host first.
absl::StatusOr<RowValues> KeyValues(JobContext& ctx, const Table& table, int c, absl::string_view field) {
  const ColumnDef& def = table.type().column(c);
  std::shared_ptr<Table> copy;
  const Table* from = &table;
  if (table.device() != &ctx.device) {
    std::vector<kernels::Column> columns;
    columns.push_back(ToDevice(ToHost(table.views()[c], def.nullable, 0, table.rows(), ctx.exec), ctx.exec));
    copy = ScratchTable(ctx, {def}, std::move(columns));
    from = copy.get();
  }
  // In parentheses, so that it is evaluated rather than viewed as it is stored.
  return EvaluateRows(ctx, *from, absl::StrCat("(", def.name, ")"), field);
}

// The rows of `table` (on ctx's device) whose column `c` value is among
// the values of `source`'s column `sc` (or, with !in_table, is not, nulls
// aside): their count, and with `want_rows` their indices.
absl::StatusOr<RowSet> RowsInSource(JobContext& ctx, const Table& table, int c, const Table& source, int sc,
                                    bool in_table, bool want_rows) {
  auto values = KeyValues(ctx, table, c, "column_name");
  if (!values.ok()) return values.status();
  auto source_values = KeyValues(ctx, source, sc, "source_table_column_name");
  if (!source_values.ok()) return source_values.status();
  const int64_t n = table.rows();
  if (n == 0) return RowSet{false, 0, {}};
  // The source's values that can match: not null, not NaN.
  ColumnDef value_def = values->def;
  value_def.name = "v";
  std::vector<kernels::Column> owned;
  owned.push_back(std::move(source_values->owned));
  auto source_keys = ScratchTable(ctx, {value_def}, std::move(owned));
  auto present = SelectRows(ctx, *source_keys, "not is_null(v) and v = v", "source_table_column_name");
  if (!present.ok()) return present.status();
  const int64_t m = present->count;
  kernels::Column all(values->view.type, values->view.width, /*nullable=*/true);
  all.Append(kernels::Gather(source_keys->views()[0], present->data(), m, false, ctx.exec).view(), ctx.exec);
  all.Append(values->view, ctx.exec);
  source_keys.reset();
  if (absl::Status s = ctx.checkpoint(1, 3); !s.ok()) return s;

  // The group of each of the table's rows, and its group's first row.
  kernels::Groups groups = kernels::GroupRows({all.view()}, nullptr, m + n, ctx.exec);
  kernels::Buffer first = kernels::GroupFirstRows(groups, ctx.exec);
  kernels::ColumnView order{kernels::PhysType::kInt64, 0, m + n, groups.order.data()};
  kernels::Buffer position = kernels::SortOrder({{order, false}}, nullptr, m + n, ctx.exec);
  kernels::ColumnView ids{kernels::PhysType::kInt32, 0, m + n, groups.ids.data()};
  std::vector<kernels::Column> group_of_row;
  group_of_row.push_back(kernels::Gather(ids, position.as<int64_t>() + m, n, false, ctx.exec));
  ColumnDef group_def;
  group_def.name = "g";
  auto grouped = ScratchTable(ctx, {group_def}, std::move(group_of_row));
  auto group64 = EvaluateRows(ctx, *grouped, "(g)", "column_name");
  if (!group64.ok()) return group64.status();
  kernels::ColumnView firsts{kernels::PhysType::kInt64, 0, groups.count, first.data()};
  std::vector<kernels::Column> found;
  found.push_back(kernels::Gather(firsts, static_cast<const int64_t*>(group64->view.data), n, false, ctx.exec));
  found.push_back(std::move(values->owned));
  ColumnDef first_def;
  first_def.name = "first";
  first_def.kind = ColumnKind::kLong;
  auto membership = ScratchTable(ctx, {first_def, value_def}, std::move(found));
  if (absl::Status s = ctx.checkpoint(2, 3); !s.ok()) return s;

  // A row is in the source when its group begins with a source row.
  const std::string rule = in_table ? absl::StrCat("first < ", m) : absl::StrCat("first >= ", m, " and not is_null(v)");
  RowSet rows;
  if (!want_rows) {
    auto count = CountRows(ctx, *membership, rule, "column_name");
    if (!count.ok()) return count.status();
    rows.count = *count;
  } else {
    auto selected = SelectRows(ctx, *membership, rule, "column_name");
    if (!selected.ok()) return selected.status();
    rows = *std::move(selected);
  }
  rows.all = false;
  return rows;
}

absl::StatusOr<Json> FilterByTable(JobContext& ctx, const Json& request) {
  const std::string filter_mode = Option(request, "filter_mode", "in_table");
  if (filter_mode != "in_table" && filter_mode != "not_in_table") {
    return absl::InvalidArgumentError(
        absl::StrCat("options.filter_mode: expected 'in_table' or 'not_in_table', got '", filter_mode, "'"));
  }
  const std::string mode = Option(request, "mode", "normal");
  if (mode != "normal") {
    return absl::InvalidArgumentError(absl::StrCat("options.mode: only 'normal' is supported, got '", mode,
                                                   "' (spatial filters need geometry columns)"));
  }
  auto table = FindTable(ctx, request, "table_name");
  if (!table.ok()) return table.status();
  auto source = FindTable(ctx, request, "source_table_name");
  if (!source.ok()) return source.status();
  auto c = FindColumn(**table, request, "column_name");
  if (!c.ok()) return c.status();
  auto sc = FindColumn(**source, request, "source_table_column_name");
  if (!sc.ok()) return sc.status();
  const ColumnDef& def = (*table)->type().column(*c);
  const ColumnDef& source_def = (*source)->type().column(*sc);
  if (std::string(def.avro_type()) != source_def.avro_type()) {
    return absl::InvalidArgumentError(absl::StrCat("source_table_column_name: '", source_def.name, "' is ",
                                                   source_def.type_name(), " and column_name '", def.name, "' is ",
                                                   def.type_name(), "; their types must match"));
  }
  if (absl::Status s = CheckViewName(ctx, request); !s.ok()) return s;
  // Each part against a replicated source's copy on its device (no rows
  // move), else against the source's values brought to it.
  const bool in_table = filter_mode == "in_table";
  const bool replicated = (*source)->layout().kind == Layout::Kind::kReplicated && (*source)->distributed();
  std::shared_ptr<Table> source_here = replicated ? nullptr : LocalTable(ctx, *source);
  return FilterParts(ctx, request, **table, [&](JobContext& part_ctx, const Table& part, bool want_rows) {
    const Table& from = replicated ? *(*source)->ShardOn(&part_ctx.device) : *source_here;
    return RowsInSource(part_ctx, part, *c, from, *sc, in_table, want_rows);
  });
}

}  // namespace

void AddFilterHandlers(HandlerMap* handlers) {
  (*handlers)["/filter"] = Handler{true, FilterAccess, Filter};
  (*handlers)["/filter/byrange"] = Handler{true, FilterAccess, FilterByRange};
  (*handlers)["/filter/bylist"] = Handler{true, FilterAccess, FilterByList};
  (*handlers)["/filter/bystring"] = Handler{true, FilterAccess, FilterByString};
  (*handlers)["/filter/byvalue"] = Handler{true, FilterAccess, FilterByValue};
  (*handlers)["/filter/bytable"] = Handler{true, FilterByTableAccess, FilterByTable};
}

}  // namespace engine
