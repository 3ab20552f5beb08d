// Tables and views made from others: /create/jointable (a view of several
// tables joined), /create/projection (columns or expressions of one table's
// rows) and /create/union (the rows of several, as union, intersect or
// except).
//
// /create/jointable.
// table_names is a FROM clause, one entry per table: "name", "name alias"
// or "name as alias"; every entry after the first may start with a join
// type and carry its condition: "[inner] join t as b on a.id = b.id",
// "left [outer] join ...", "right [outer] join ...", "full [outer] join
// ...", and ours, "semi join t on <equalities>" (the rows so far that have
// a row of t, each once; no column of t; joined after the other tables) and
// "anti join t on <equalities>" (those that have none, null keys included).
// A table given without a join type is inner-joined by the conditions in
// `expressions`, which otherwise filter the joined rows (a WHERE clause).
//
// Two tables whose rows pair up within shards (both sharded on the join's
// keys, or one of them replicated: ShardLocal) are joined shard by shard,
// each on its device, into a view laid out over the same devices; other
// joins run on the job's device (a distributed table's rows are brought
// there first): each table first filtered by the conditions that read it
// alone, then joined left to right or, when every join is inner, in the
// order of fewest rows by estimate (JoinOrder). Each step joins the rows
// so far with the next table by a hash join (kernels/join.h) on the
// equalities between a column of the rows so far and a column of the table
// found in its ON condition (an inner join also uses those of
// `expressions`, and those they imply); the condition's other parts, and a
// join with no equality (a cross join), filter the pairs. The view holds column_names, each "alias.column",
// "column", "alias.*", "*" or an expression, with "as name" to name it; its
// columns are named by their alias or column name, which must be unique.

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/expr/expression.h"
#include "engine/expr/text.h"
#include "engine/handlers/registry.h"
#include "engine/handlers/request.h"
#include "engine/handlers/rows.h"
#include "engine/handlers/shards.h"
#include "engine/table/names.h"
#include "engine/table/result_table.h"
#include "kernels/backend.h"
#include "kernels/filter.h"
#include "kernels/gather.h"
#include "kernels/groupby.h"
#include "kernels/join.h"
#include "kernels/materialize.h"
#include "kernels/shard.h"
#include "kernels/statistics.h"

namespace engine {
namespace {

// One entry of table_names.
struct JoinSource {
  std::string name;
  std::string alias;
  kernels::JoinKind kind = kernels::JoinKind::kInner;
  bool typed = false;  // written with a join type (and so maybe an ON condition)
  bool semi = false;   // "semi join": keeps the rows so far that have a match, once each
  bool anti = false;   // "anti join" (also semi): keeps those that have none (null keys included)
  std::string on;
};

// The words of `text` and where each begins.
std::vector<std::pair<std::string, size_t>> Words(absl::string_view text) {
  std::vector<std::pair<std::string, size_t>> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && absl::ascii_isspace(static_cast<unsigned char>(text[i]))) ++i;
    const size_t begin = i;
    while (i < text.size() && !absl::ascii_isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i > begin) out.emplace_back(std::string(text.substr(begin, i - begin)), begin);
  }
  return out;
}

absl::StatusOr<JoinSource> ParseSource(absl::string_view entry, size_t index) {
  const std::string field = absl::StrCat("table_names[", index, "]");
  const auto words = Words(entry);
  JoinSource out;
  size_t w = 0;
  const auto is = [&](size_t at, absl::string_view word) {
    return at < words.size() && absl::EqualsIgnoreCase(words[at].first, word);
  };
  // The join type.
  if (is(0, "join") || is(0, "inner") || is(0, "left") || is(0, "right") || is(0, "full") || is(0, "semi") ||
      is(0, "anti")) {
    if (index == 0) return absl::InvalidArgumentError(absl::StrCat(field, ": the first table cannot have a join type"));
    out.typed = true;
    out.anti = is(0, "anti");
    out.semi = is(0, "semi") || out.anti;
    if (is(0, "left")) out.kind = kernels::JoinKind::kLeft;
    if (is(0, "right")) out.kind = kernels::JoinKind::kRight;
    if (is(0, "full")) out.kind = kernels::JoinKind::kFull;
    w = is(0, "join") ? 0 : 1;
    if (out.kind != kernels::JoinKind::kInner && is(w, "outer")) ++w;
    if (!is(w, "join")) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": expected 'join' after '", words[0].first, "'"));
    }
    ++w;
  }
  if (w >= words.size()) return absl::InvalidArgumentError(absl::StrCat(field, ": expected a table name"));
  out.name = words[w++].first;
  if (is(w, "as")) ++w;
  if (w < words.size() && !is(w, "on")) out.alias = words[w++].first;
  if (out.alias.empty()) out.alias = SplitTableName(out.name).table;
  if (is(w, "on")) {
    if (!out.typed) return absl::InvalidArgumentError(absl::StrCat(field, ": 'on' needs a join type ('join ... on')"));
    if (w + 1 >= words.size()) return absl::InvalidArgumentError(absl::StrCat(field, ": 'on' without a condition"));
    out.on = std::string(absl::StripAsciiWhitespace(entry.substr(words[w + 1].second)));
  } else if (w < words.size()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": unexpected '", words[w].first, "'"));
  }
  if (out.typed && out.on.empty() && (out.kind != kernels::JoinKind::kInner || out.semi)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ",
                                                   out.anti   ? "an anti"
                                                   : out.semi ? "a semi"
                                                              : "an outer",
                                                   " join needs an 'on' condition"));
  }
  return out;
}

absl::StatusOr<std::vector<Access>> JoinAccess(const Json& request) {
  std::vector<Access> access;
  const Json& names = request["table_names"];
  for (size_t i = 0; i < names.size(); ++i) {
    auto source = ParseSource(names[i].get<std::string>(), i);
    if (!source.ok()) return source.status();
    if (absl::Status s = ValidateTableName(source->name, absl::StrCat("table_names[", i, "]")); !s.ok()) return s;
    access.push_back(Access{source->name, false});
  }
  const std::string& view = StringField(request, "join_table_name");
  if (absl::Status s = ValidateTableName(view, "join_table_name"); !s.ok()) return s;
  access.push_back(Access{view, true});
  return access;
}

// Rows on ctx's device with named columns ("alias.column"): the rows
// joined so far. Column c's values at the relation's rows are views[c]
// itself (map[c] < 0), or views[c] read at the positions maps[map[c]]
// holds (int64, one per row): filters and joins compose the maps of the
// columns of each table they came from, and a column is gathered only when
// it is read (late materialization). `owned` and `owners` keep the memory
// viewed.
struct Relation {
  std::vector<ColumnDef> defs;
  std::vector<kernels::ColumnView> views;
  std::vector<std::shared_ptr<kernels::Column>> owned;  // per column: its own, or null (a view of a table)
  std::vector<int> map;                                 // per column: its index in maps, or -1
  std::vector<std::shared_ptr<kernels::Column>> maps;   // positions in the columns that share each
  std::vector<std::shared_ptr<const void>> owners;      // the tables viewed
  std::vector<std::string> aliases;                     // of the tables joined so far
  int64_t rows = 0;
  // The one table the relation's rows come from, when its columns are that
  // table's own (FromTable; on the job's device), and each column's index
  // there (-1: another column). Null/empty otherwise. While `maps` is empty
  // the rows are the table's, in order: filters read its zone maps and
  // dictionaries.
  const Table* table = nullptr;
  std::vector<int> table_column;

  TableType type() const { return TableType(defs, ""); }
  // A column of the relation's rows.
  void Add(ColumnDef def, kernels::Column column) {
    owned.push_back(std::make_shared<kernels::Column>(std::move(column)));
    defs.push_back(std::move(def));
    views.push_back(owned.back()->view());
    map.push_back(-1);
    if (table != nullptr) table_column.push_back(-1);
  }
  void AddView(ColumnDef def, const kernels::ColumnView& view) {
    owned.push_back(nullptr);
    defs.push_back(std::move(def));
    views.push_back(view);
    map.push_back(-1);
  }
  const int64_t* positions(size_t c) const {
    return map[c] < 0 ? nullptr : static_cast<const int64_t*>(maps[map[c]]->view().data);
  }
  // Column c at the relation's rows: views[c], or its rows gathered into
  // *scratch.
  kernels::ColumnView Aligned(size_t c, kernels::Column* scratch, const kernels::Exec& exec) const {
    if (map[c] < 0) return views[c];
    *scratch = kernels::Gather(views[c], positions(c), rows, defs[c].nullable, exec);
    return scratch->view();
  }
  // Keeps the rows at positions `picked` (count of them, held from now on).
  void Pick(kernels::Buffer picked, int64_t count, const kernels::Exec& exec) {
    for (auto& m : maps) {
      m = std::make_shared<kernels::Column>(kernels::Gather(m->view(), picked.as<int64_t>(), count, false, exec));
    }
    auto positions = std::make_shared<kernels::Column>(kernels::Column::Adopt(
        kernels::PhysType::kInt64, 0, false, count, std::move(picked), kernels::Buffer(), kernels::Buffer(), 0));
    int identity = -1;
    for (int& m : map) {
      if (m >= 0) continue;
      if (identity < 0) {
        identity = static_cast<int>(maps.size());
        maps.push_back(positions);
      }
      m = identity;
    }
    rows = count;
  }
  // Every column at the relation's rows (no maps left).
  void Materialize(const kernels::Exec& exec) {
    for (size_t c = 0; c < defs.size(); ++c) {
      if (map[c] < 0) continue;
      owned[c] =
          std::make_shared<kernels::Column>(kernels::Gather(views[c], positions(c), rows, defs[c].nullable, exec));
      views[c] = owned[c]->view();
      map[c] = -1;
    }
    maps.clear();
    table = nullptr;  // its columns no longer
    table_column.clear();
  }
  // Column c as a column of its own: moved out when the relation owns it
  // (views[c] stays valid while the column lives), else gathered or copied.
  kernels::Column Take(size_t c, const ColumnDef& def, const kernels::Exec& exec) {
    if (map[c] >= 0) return kernels::Gather(views[c], positions(c), rows, def.nullable, exec);
    if (owned[c] != nullptr && owned[c]->nullable() == def.nullable) {
      kernels::Column taken = std::move(*owned[c]);
      owned[c] = nullptr;
      return taken;
    }
    kernels::Column copy(def.phys(), def.char_width, def.nullable);
    copy.Append(views[c], exec);
    return copy;
  }
  // The views of the columns `text` reads at the relation's rows (the
  // others as they are, unread), gathered into *scratch where mapped.
  std::vector<kernels::ColumnView> AlignedFor(const std::string& text, std::vector<kernels::Column>* scratch,
                                              const kernels::Exec& exec) const {
    std::vector<kernels::ColumnView> out = views;
    const TableType t = type();
    auto refs = ReferencedColumns(text, t);
    if (!refs.ok()) return out;  // the caller's compile reports it
    scratch->reserve(scratch->size() + refs->size());
    for (const std::string& name : *refs) {
      const int c = t.Find(name);
      if (c < 0 || map[c] < 0) continue;
      scratch->emplace_back();
      out[c] = Aligned(c, &scratch->back(), exec);
    }
    return out;
  }
};

// `n` null rows of a column like `def`.
kernels::Column NullColumn(const ColumnDef& def, int64_t n, const kernels::Exec& exec) {
  const kernels::PhysType type = def.phys();
  const int32_t width = kernels::ValueWidth(type, def.char_width);
  kernels::Buffer data, offsets;
  if (type == kernels::PhysType::kVarChars) {
    offsets = kernels::Buffer(static_cast<size_t>(n + 1) * sizeof(int64_t), exec);
    kernels::Fill(offsets.data(), 0, static_cast<size_t>(n + 1) * sizeof(int64_t), exec);
    data = kernels::Buffer(0, exec);
  } else {
    data = kernels::Buffer(static_cast<size_t>(n) * width, exec);
    kernels::Fill(data.data(), 0, static_cast<size_t>(n) * width, exec);
  }
  kernels::Buffer validity(static_cast<size_t>(n), exec);
  kernels::Fill(validity.data(), 0, static_cast<size_t>(n), exec);
  return kernels::Column::Adopt(type, def.char_width, true, n, std::move(data), std::move(offsets), std::move(validity),
                                0);
}

// The columns of `table` that `needed` names ("alias.column"; all when
// `all`), as a relation of `alias`: views of the table's own columns when it
// lives on ctx's device whole, else of a copy assembled there.
Relation FromTable(JobContext& ctx, const std::shared_ptr<Table>& table, const std::string& alias,
                   const std::set<std::string>& needed, bool all) {
  std::shared_ptr<Table> local = LocalTable(ctx, table);
  Relation r;
  r.aliases.push_back(alias);
  r.rows = local->rows();
  r.owners.push_back(local);
  if (local == table) r.table = table.get();
  const std::vector<kernels::ColumnView> views = local->views();
  for (size_t c = 0; c < views.size(); ++c) {
    ColumnDef def = table->type().column(c);
    def.name = absl::StrCat(alias, ".", def.name);
    if (!all && needed.count(def.name) == 0) continue;
    def.properties.erase(std::remove_if(def.properties.begin(), def.properties.end(),
                                        [](const std::string& p) { return p == "primary_key" || p == "shard_key"; }),
                         def.properties.end());
    r.AddView(std::move(def), views[c]);
    r.table_column.push_back(static_cast<int>(c));
  }
  if (r.table == nullptr) r.table_column.clear();
  return r;
}

// Whether `text` is a name, maybe qualified ("x", "a.x"): letters, digits,
// '_' and dots.
bool IsName(absl::string_view text) {
  if (text.empty() || absl::ascii_isdigit(static_cast<unsigned char>(text[0]))) return false;
  return std::all_of(text.begin(), text.end(), [](char ch) {
    return absl::ascii_isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '.';
  });
}

// The values of a column or expression over the relation's rows.
absl::StatusOr<RowValues> Evaluate(JobContext& ctx, const Relation& r, const std::string& text,
                                   const std::string& field) {
  const TableType type = r.type();
  RowValues out;
  const std::string trimmed(absl::StripAsciiWhitespace(text));
  int c = type.Find(trimmed);
  if (c < 0 && IsName(trimmed)) {
    // A column named as the compiler finds it (unqualified, another case):
    // read as it is, not computed.
    if (auto refs = ReferencedColumns(trimmed, type); refs.ok() && refs->size() == 1) c = type.Find(refs->front());
  }
  if (c >= 0) {
    out.view = r.Aligned(c, &out.owned, ctx.exec);
    out.def = r.defs[c];
    return out;
  }
  std::vector<kernels::Column> scratch;
  const std::vector<kernels::ColumnView> views = r.AlignedFor(trimmed, &scratch, ctx.exec);
  auto program = CompileExpression(trimmed, type, views, ExprUse::kValue);
  if (!program.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", program.status().message()));
  kernels::DeviceProgram device_program = kernels::Upload(*program, ctx.exec);
  out.owned = kernels::Materialize(device_program.view, 0, r.rows, /*nullable=*/true, ctx.exec);
  out.view = out.owned.view();
  out.def = ValueDef(program->result, trimmed, true);
  return out;
}

// The aliases the columns of `text` belong to, in `all`'s columns ("a.x").
absl::StatusOr<std::set<std::string>> AliasesOf(const std::string& text, const TableType& all,
                                                const std::string& field) {
  auto columns = ReferencedColumns(text, all);
  if (!columns.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", columns.status().message()));
  std::set<std::string> out;
  for (const std::string& c : *columns) out.insert(c.substr(0, c.rfind('.')));
  return out;
}

// If `conjunct` is "x = y" with x a column of the relation so far and y one
// of `right` (or the other way round), their names.
bool EquiKey(const std::string& conjunct, const TableType& left, const TableType& right, std::string* l,
             std::string* r) {
  // One top-level '=' (or '=='), not part of <=, >=, !=.
  size_t eq = std::string::npos;
  bool several = false;
  ScanTopLevel(conjunct, [&](size_t i, int depth) {
    if (depth != 0 || conjunct[i] != '=' || (i > 0 && conjunct[i - 1] == '=')) return true;
    const bool comparison = i > 0 && (conjunct[i - 1] == '<' || conjunct[i - 1] == '>' || conjunct[i - 1] == '!');
    several = several || comparison || eq != std::string::npos;
    eq = i;
    return !several;
  });
  if (several) return false;
  if (eq == std::string::npos) return false;
  std::string a(WithoutOuterParens(absl::string_view(conjunct).substr(0, eq)));
  size_t after = eq + 1;
  if (after < conjunct.size() && conjunct[after] == '=') ++after;
  std::string b(WithoutOuterParens(absl::string_view(conjunct).substr(after)));
  const auto column = [](const TableType& t, const std::string& name) {
    auto refs = ReferencedColumns(name, t);
    return refs.ok() && refs->size() == 1 && name.find_first_of(" +-*/()'\"") == std::string::npos;
  };
  if (column(left, a) && column(right, b)) {
    *l = a;
    *r = b;
    return true;
  }
  if (column(left, b) && column(right, a)) {
    *l = b;
    *r = a;
    return true;
  }
  return false;
}

// Key columns of both sides, of one type: as they are, or both evaluated as
// a long or a double when they differ.
struct JoinKeys {
  std::vector<RowValues> left, right;
};

absl::StatusOr<JoinKeys> EvaluateKeys(JobContext& ctx, const Relation& left, const Relation& right,
                                      const std::vector<std::pair<std::string, std::string>>& pairs,
                                      const std::string& field) {
  JoinKeys out;
  for (const auto& [l, r] : pairs) {
    auto a = Evaluate(ctx, left, l, field);
    if (!a.ok()) return a.status();
    auto b = Evaluate(ctx, right, r, field);
    if (!b.ok()) return b.status();
    const ColumnDef& da = a->def;
    const ColumnDef& db = b->def;
    if (da.is_string() != db.is_string()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": cannot join ", l, " (", da.type_name(), ") with ", r, " (", db.type_name(), ")"));
    }
    if (!da.is_string() && da.phys() != db.phys()) {
      const char* widen = da.is_real() || db.is_real() ? " + 0.0" : " + 0";
      a = Evaluate(ctx, left, absl::StrCat("(", l, ")", widen), field);
      if (!a.ok()) return a.status();
      b = Evaluate(ctx, right, absl::StrCat("(", r, ")", widen), field);
      if (!b.ok()) return b.status();
    }
    out.left.push_back(*std::move(a));
    out.right.push_back(*std::move(b));
  }
  return out;
}

// The rows of `r` where `conditions` hold.
absl::Status FilterRelation(JobContext& ctx, Relation* r, const std::vector<std::string>& conditions,
                            const std::string& field) {
  if (conditions.empty() || r->rows == 0) return absl::OkStatus();
  std::vector<std::string> parts;
  for (const auto& c : conditions) parts.push_back(absl::StrCat("(", c, ")"));
  const std::string text = absl::StrJoin(parts, " and ");
  std::vector<kernels::Column> scratch;
  const std::vector<kernels::ColumnView> views = r->AlignedFor(text, &scratch, ctx.exec);
  auto chosen = SelectWhere(ctx, r->type(), views, r->rows, text, field, r->maps.empty() ? r->table : nullptr);
  if (!chosen.ok()) return chosen.status();
  if (chosen->count == r->rows) return absl::OkStatus();
  r->Pick(std::move(chosen->indices), chosen->count, ctx.exec);
  return absl::OkStatus();
}

// The hash join of the rows of `left` and `right` on `keys` (pairs of a
// column or expression of each side).
absl::StatusOr<kernels::JoinResult> JoinRows(JobContext& ctx, const Relation& left, const Relation& right,
                                             kernels::JoinKind kind,
                                             const std::vector<std::pair<std::string, std::string>>& keys,
                                             const std::string& field) {
  auto k = EvaluateKeys(ctx, left, right, keys, field);
  if (!k.ok()) return k.status();
  std::vector<kernels::ColumnView> lk, rk;
  for (const RowValues& v : k->left) lk.push_back(v.view);
  for (const RowValues& v : k->right) rk.push_back(v.view);
  kernels::JoinResult j = kernels::HashJoin(lk, nullptr, left.rows, rk, nullptr, right.rows, kind, ctx.exec);
  if (absl::Status s = ctx.checkpoint(1, 2); !s.ok()) return s;
  return j;
}

// Joins `left` (the rows so far) with `right` as `kind` on the `keys`
// (pairs of column names; none: every pair of rows).
absl::StatusOr<Relation> JoinStep(JobContext& ctx, Relation left, Relation right, kernels::JoinKind kind,
                                  const std::vector<std::pair<std::string, std::string>>& keys,
                                  const std::string& field) {
  std::vector<std::pair<std::string, std::string>> pairs = keys;
  if (pairs.empty()) pairs.emplace_back("0", "0");  // a cross join: every row has the one key
  auto joined = JoinRows(ctx, left, right, kind, pairs, field);
  if (!joined.ok()) return joined.status();
  kernels::JoinResult& j = *joined;
  if (kind == kernels::JoinKind::kInner) {
    // The pairs: each side's maps composed with its rows of them.
    left.Pick(std::move(j.left), j.pairs, ctx.exec);
    right.Pick(std::move(j.right), j.pairs, ctx.exec);
    const int offset = static_cast<int>(left.maps.size());
    for (size_t c = 0; c < right.defs.size(); ++c) {
      left.defs.push_back(std::move(right.defs[c]));
      left.views.push_back(right.views[c]);
      left.owned.push_back(std::move(right.owned[c]));
      left.map.push_back(right.map[c] < 0 ? -1 : right.map[c] + offset);
    }
    left.maps.insert(left.maps.end(), right.maps.begin(), right.maps.end());
    left.owners.insert(left.owners.end(), right.owners.begin(), right.owners.end());
    left.aliases.insert(left.aliases.end(), right.aliases.begin(), right.aliases.end());
    return left;
  }
  // An outer join: every column gathered, unmatched rows reading null on
  // the other side.
  left.Materialize(ctx.exec);
  right.Materialize(ctx.exec);
  Relation out;
  out.aliases = left.aliases;
  out.aliases.insert(out.aliases.end(), right.aliases.begin(), right.aliases.end());
  out.rows = j.pairs + j.left_only_count + j.right_only_count;
  // Rows: the pairs, then the left rows without a match, then the right
  // ones; a side with no row there reads null.
  const auto side = [&](const Relation& from, const kernels::Buffer& paired, bool left_side, bool nulls) {
    const kernels::Buffer& own = left_side ? j.left_only : j.right_only;
    const int64_t own_count = left_side ? j.left_only_count : j.right_only_count;
    const int64_t other_count = left_side ? j.right_only_count : j.left_only_count;
    for (size_t c = 0; c < from.views.size(); ++c) {
      ColumnDef def = from.defs[c];
      def.nullable = def.nullable || nulls;
      kernels::Column column = kernels::Gather(from.views[c], paired.as<int64_t>(), j.pairs, def.nullable, ctx.exec);
      kernels::Column mine = own_count > 0
                                 ? kernels::Gather(from.views[c], own.as<int64_t>(), own_count, def.nullable, ctx.exec)
                                 : kernels::Column();
      kernels::Column none = other_count > 0 ? NullColumn(def, other_count, ctx.exec) : kernels::Column();
      if (left_side && own_count > 0) column.Append(mine.view(), ctx.exec);
      if (other_count > 0) column.Append(none.view(), ctx.exec);
      if (!left_side && own_count > 0) column.Append(mine.view(), ctx.exec);
      out.Add(std::move(def), std::move(column));
    }
  };
  side(left, j.left, true, kind == kernels::JoinKind::kRight || kind == kernels::JoinKind::kFull);
  side(right, j.right, false, kind == kernels::JoinKind::kLeft || kind == kernels::JoinKind::kFull);
  return out;
}

// The rows of `left` that have a row of `right` of equal `keys` (`matched`;
// else those that have none, null keys included), each once, in their
// order; `right`'s columns go no further.
absl::StatusOr<Relation> SemiStep(JobContext& ctx, Relation left, const Relation& right,
                                  const std::vector<std::pair<std::string, std::string>>& keys, bool matched,
                                  const std::string& field) {
  auto j = JoinRows(ctx, left, right, kernels::JoinKind::kInner, keys, field);
  if (!j.ok()) return j.status();
  kernels::Selection found = kernels::RowsIn(j->left.as<int64_t>(), j->pairs, left.rows, ctx.exec);
  if (!matched) {
    const int64_t missing = left.rows - found.count;
    found.indices = kernels::RowsNotIn(found.indices.as<int64_t>(), found.count, left.rows, ctx.exec);
    found.count = missing;
  }
  if (found.count < left.rows) left.Pick(std::move(found.indices), found.count, ctx.exec);
  return left;
}

// The columns column_names reads (qualified, as `all` names them), or
// `*all_columns` when one of them is "*". Unknown names are left for
// SelectColumns to report.
void NeededColumns(const Json& names, const TableType& all, std::set<std::string>* needed, bool* all_columns) {
  for (const Json& n : names) {
    const std::string entry(absl::StripAsciiWhitespace(n.get<std::string>()));
    if (entry == "*") {
      *all_columns = true;
    } else if (absl::EndsWith(entry, ".*")) {
      const std::string prefix = entry.substr(0, entry.size() - 1);
      for (const ColumnDef& d : all.columns()) {
        if (absl::StartsWith(d.name, prefix)) needed->insert(d.name);
      }
    } else if (auto aliased = SplitAlias(entry, ""); aliased.ok()) {
      if (auto refs = ReferencedColumns(aliased->expr, all); refs.ok()) needed->insert(refs->begin(), refs->end());
    }
  }
}

// The view's columns from column_names; "*" and "alias.*" take the
// tables' columns in `order` (their aliases in table_names).
absl::StatusOr<std::pair<std::vector<ColumnDef>, std::vector<kernels::Column>>> SelectColumns(
    JobContext& ctx, Relation& r, const Json& names, const std::vector<std::string>& order) {
  std::vector<ColumnDef> defs;
  std::vector<kernels::Column> columns;
  const TableType type = r.type();
  const auto add_column = [&](size_t c, const std::string& name) {
    ColumnDef def = r.defs[c];
    def.name = name;
    columns.push_back(r.Take(c, def, ctx.exec));
    defs.push_back(std::move(def));
  };
  const auto bare = [](const std::string& qualified) { return qualified.substr(qualified.rfind('.') + 1); };
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string field = absl::StrCat("column_names[", i, "]");
    std::string entry(absl::StripAsciiWhitespace(names[i].get<std::string>()));
    if (entry == "*" || absl::EndsWith(entry, ".*")) {
      const std::string alias = entry == "*" ? "" : entry.substr(0, entry.size() - 2);
      if (!alias.empty() && std::find(r.aliases.begin(), r.aliases.end(), alias) == r.aliases.end()) {
        return absl::InvalidArgumentError(absl::StrCat(field, ": no table named '", alias, "' in the join"));
      }
      // In the order of table_names, whatever the order joined.
      for (const std::string& a : order) {
        if (!alias.empty() && a != alias) continue;
        for (size_t c = 0; c < r.defs.size(); ++c) {
          if (absl::StartsWith(r.defs[c].name, a + ".")) add_column(c, bare(r.defs[c].name));
        }
      }
      continue;
    }
    auto aliased = SplitAlias(entry, field);
    if (!aliased.ok()) return aliased.status();
    entry = aliased->expr;
    const std::string name = aliased->alias;
    auto refs = ReferencedColumns(entry, type);
    if (!refs.ok()) return absl::InvalidArgumentError(absl::StrCat(field, ": ", refs.status().message()));
    const int c =
        refs->size() == 1 && entry.find_first_of(" +-*/()'\"") == std::string::npos ? type.Find((*refs)[0]) : -1;
    if (c >= 0) {
      add_column(c, name.empty() ? bare(r.defs[c].name) : name);
      continue;
    }
    if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": name the expression ('... as name')"));
    auto values = Evaluate(ctx, r, entry, field);
    if (!values.ok()) return values.status();
    ColumnDef def = values->def;
    def.name = name;
    kernels::Column copy(def.phys(), def.char_width, def.nullable);
    copy.Append(values->view, ctx.exec);
    defs.push_back(std::move(def));
    columns.push_back(std::move(copy));
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < defs.size(); ++i) {
    if (!seen.insert(absl::AsciiStrToLower(defs[i].name)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("column_names: two columns of the join are named '", defs[i].name, "'; name one with 'as'"));
    }
  }
  if (defs.empty()) return absl::InvalidArgumentError("column_names: give at least one column");
  return std::make_pair(std::move(defs), std::move(columns));
}

// A join as the request asks for it.
struct JoinPlan {
  std::vector<JoinSource> sources;
  std::vector<std::shared_ptr<Table>> tables;
  TableType all;  // every column of every table, qualified: what conditions are read against
  // The WHERE clause's parts and the tables each needs.
  struct Condition {
    std::string text;
    std::string field;
    std::set<std::string> aliases;
    bool used = false;
    // Implied by others (a = b and b = c give a = c): a join key when it
    // serves as one, else dropped.
    bool implied = false;
  };
  std::vector<Condition> where;
  std::set<std::string> needed;  // the columns the join reads
  bool all_columns = false;
};

// Columns of `rels` that `where`'s equalities of two relations make equal:
// classes of (relation, column) of two members or more, and the pairs the
// equalities state.
using RelationColumn = std::pair<size_t, int>;
using ColumnClass = std::vector<RelationColumn>;
struct Equalities {
  std::vector<ColumnClass> classes;
  std::set<std::pair<RelationColumn, RelationColumn>> stated;  // both ways
};

Equalities EqualColumns(const std::vector<const Relation*>& rels, const std::vector<JoinPlan::Condition>& where) {
  Equalities out;
  const size_t n = rels.size();
  std::map<RelationColumn, size_t> member;
  std::vector<size_t> parent;
  std::vector<RelationColumn> column_of;
  const auto find = [&](size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  const auto id = [&](size_t rel, const std::string& text) -> int64_t {
    const TableType type = rels[rel]->type();
    auto refs = ReferencedColumns(text, type);
    if (!refs.ok() || refs->size() != 1) return -1;
    const int c = type.Find((*refs)[0]);
    if (c < 0) return -1;
    auto [it, added] = member.emplace(std::make_pair(rel, c), parent.size());
    if (added) {
      parent.push_back(parent.size());
      column_of.push_back(it->first);
    }
    return static_cast<int64_t>(it->second);
  };
  const auto rel_of = [&](const std::string& alias) {
    for (size_t i = 0; i < n; ++i) {
      if (rels[i]->aliases[0] == alias) return i;
    }
    return n;
  };
  for (const JoinPlan::Condition& c : where) {
    if (c.used || c.aliases.size() != 2) continue;
    const size_t a = rel_of(*c.aliases.begin()), b = rel_of(*c.aliases.rbegin());
    if (a == n || b == n) continue;
    std::string l, r;
    if (!EquiKey(c.text, rels[a]->type(), rels[b]->type(), &l, &r)) continue;
    const int64_t x = id(a, l), y = id(b, r);
    if (x < 0 || y < 0) continue;
    parent[find(x)] = find(y);
    out.stated.emplace(column_of[x], column_of[y]);
    out.stated.emplace(column_of[y], column_of[x]);
  }
  std::map<size_t, ColumnClass> classes;
  for (const auto& [column, m] : member) classes[find(m)].push_back(column);
  for (auto& [root, members] : classes) out.classes.push_back(std::move(members));
  return out;
}

// The equalities `equal` implies between columns of two relations that no
// WHERE part states: conditions marked implied, so that a table joins the
// rows so far on keys wherever it can (a.x = b.y and b.y = c.z join c to a).
std::vector<JoinPlan::Condition> ImpliedEqualities(const std::vector<const Relation*>& rels, const Equalities& equal) {
  std::vector<JoinPlan::Condition> out;
  for (const ColumnClass& members : equal.classes) {
    for (size_t a = 0; a < members.size(); ++a) {
      for (size_t b = a + 1; b < members.size(); ++b) {
        const auto [ra, ca] = members[a];
        const auto [rb, cb] = members[b];
        if (ra == rb || equal.stated.count({members[a], members[b]}) > 0) continue;
        const std::string& x = rels[ra]->defs[ca].name;
        const std::string& y = rels[rb]->defs[cb].name;
        JoinPlan::Condition c;
        c.text = absl::StrCat(x, " = ", y);
        c.field = "expressions";
        c.aliases = {rels[ra]->aliases[0], rels[rb]->aliases[0]};
        c.implied = true;
        out.push_back(std::move(c));
      }
    }
  }
  return out;
}

// What the WHERE parts that are an `or` of several tables' tests imply for
// each table on its own: when every branch has tests of that table alone,
// the `or` of those tests (TPC-H q19: `(p.brand = 'a' and l.qty < 11 and
// ...) or (p.brand = 'b' and l.qty < 20 and ...)` gives `p.brand = 'a' or
// p.brand = 'b'` and `l.qty < 11 or l.qty < 20`), so that the table is
// filtered before it is joined. A row the part holds for passes what it
// implies; the part itself still filters the joined rows. Conditions marked
// implied: dropped unless a table applies them.
std::vector<JoinPlan::Condition> ImpliedByOr(const std::vector<JoinPlan::Condition>& where, const TableType& all) {
  std::vector<JoinPlan::Condition> out;
  for (const JoinPlan::Condition& c : where) {
    if (c.aliases.size() < 2) continue;
    const std::vector<std::string> branches = Disjuncts(c.text);
    if (branches.size() < 2) continue;
    // Per branch, its conjuncts and the one table each reads ("" for none
    // or several).
    std::vector<std::vector<std::pair<std::string, std::string>>> parts;
    for (const std::string& branch : branches) {
      parts.emplace_back();
      for (const std::string& conjunct : Conjuncts(branch)) {
        auto used = AliasesOf(conjunct, all, c.field);
        parts.back().emplace_back(conjunct, used.ok() && used->size() == 1 ? *used->begin() : "");
      }
    }
    for (const std::string& alias : c.aliases) {
      std::vector<std::string> implied;
      for (const auto& branch : parts) {
        std::vector<std::string> own;
        for (const auto& [conjunct, reads] : branch) {
          if (reads == alias) own.push_back(absl::StrCat("(", conjunct, ")"));
        }
        if (own.empty()) break;
        implied.push_back(absl::StrCat("(", absl::StrJoin(own, " and "), ")"));
      }
      if (implied.size() < parts.size()) continue;
      JoinPlan::Condition derived;
      derived.text = absl::StrJoin(implied, " or ");
      derived.field = c.field;
      derived.aliases = {alias};
      derived.implied = true;
      out.push_back(std::move(derived));
    }
  }
  return out;
}

// The order in which to join `rels` when every join is inner (any order
// gives the same rows): the left-deep order whose intermediate results hold
// the fewest rows in all, by estimate. A set of relations joined is
// estimated to hold the product of their rows, divided, for each class of
// equal columns, by the distinct values of all but the class's column with
// the fewest there (which assumes the values of that one are found in the
// others); distinct values are estimated (EstimatedDistinct). Up to
// kExhaustiveJoins relations every order is weighed (by subsets); beyond,
// each step takes the relation giving the smallest result.
constexpr size_t kExhaustiveJoins = 12;

// The distinct values of column c of `r` (a table's rows, maybe filtered),
// estimated: from a sample of its rows when they are few
// (kernels::EstimateDistinct) or not a table's; else from its table's
// estimate (Table::distinct, kept while the rows stand) as if the rows kept
// were drawn at random: d (1 - (1 - f)^(n/d)) of the table's n rows holding
// d values, f the share kept (exact for a key, d for few values). A sample
// of the filtered rows took about 0.6 ms a column (TPC-H q3: 2.5 of 38 ms).
int64_t EstimatedDistinct(JobContext& ctx, const Relation& r, size_t c) {
  const int tc = r.table != nullptr ? r.table_column[c] : -1;
  if (r.rows > kernels::kDistinctSample && tc >= 0) {
    const auto n = static_cast<double>(r.table->rows());
    const auto d = static_cast<double>(r.table->distinct(tc, ctx.exec));
    if (d >= 1 && n >= d) {
      const double f = std::min(1.0, static_cast<double>(r.rows) / n);
      return std::max<int64_t>(1, static_cast<int64_t>(d * (1 - std::pow(1 - f, n / d))));
    }
  }
  return kernels::EstimateDistinct(r.views[c], r.positions(c), r.rows, ctx.exec);
}

std::vector<size_t> JoinOrder(JobContext& ctx, const std::vector<const Relation*>& rels,
                              const std::vector<ColumnClass>& classes) {
  const size_t n = rels.size();
  std::vector<std::vector<std::pair<size_t, double>>> distinct;
  for (const ColumnClass& members : classes) {
    distinct.emplace_back();
    for (const auto& [rel, column] : members) {
      const Relation& r = *rels[rel];
      const int64_t d = EstimatedDistinct(ctx, r, static_cast<size_t>(column));
      distinct.back().emplace_back(rel, static_cast<double>(std::max<int64_t>(1, d)));
    }
  }
  const auto rows_of = [&](uint32_t set) {
    double rows = 1;
    for (size_t i = 0; i < n; ++i) {
      if (set >> i & 1) rows *= static_cast<double>(rels[i]->rows);
    }
    for (const auto& members : distinct) {
      std::vector<double> in;
      for (const auto& [rel, d] : members) {
        if (set >> rel & 1) in.push_back(d);
      }
      if (in.size() < 2) continue;
      std::sort(in.begin(), in.end());
      for (size_t k = 1; k < in.size(); ++k) rows /= in[k];
    }
    return rows;
  };
  std::vector<size_t> order;
  if (n <= kExhaustiveJoins) {
    // cost[s]: the fewest rows of the joins that make set s; last[s]: the
    // relation joined last in that order. Ties keep the order given.
    const uint32_t full = (1u << n) - 1;
    std::vector<double> cost(full + 1, std::numeric_limits<double>::infinity());
    std::vector<size_t> last(full + 1, 0);
    for (size_t i = 0; i < n; ++i) {
      cost[1u << i] = 0;
      last[1u << i] = i;
    }
    for (uint32_t s = 1; s <= full; ++s) {
      if ((s & (s - 1)) == 0) continue;
      const double rows = rows_of(s);
      for (size_t i = n; i-- > 0;) {
        if ((s >> i & 1) == 0) continue;
        const double c = cost[s & ~(1u << i)] + rows;
        if (c < cost[s]) {
          cost[s] = c;
          last[s] = i;
        }
      }
    }
    for (uint32_t s = full; s != 0; s &= ~(1u << last[s])) order.push_back(last[s]);
    std::reverse(order.begin(), order.end());
    return order;
  }
  uint32_t joined = 0;
  for (size_t step = 0; step < n; ++step) {
    size_t best = n;
    double best_rows = 0;
    for (size_t i = 0; i < n; ++i) {
      if (joined >> i & 1) continue;
      const double rows = step == 0 ? static_cast<double>(rels[i]->rows) : rows_of(joined | 1u << i);
      if (best == n || rows < best_rows) {
        best = i;
        best_rows = rows;
      }
    }
    order.push_back(best);
    joined |= 1u << best;
  }
  return order;
}

// The view's columns: the join of `tables` (single-device parts of the
// plan's tables, on ctx's device), filtered, then column_names.
absl::StatusOr<std::pair<std::vector<ColumnDef>, std::vector<kernels::Column>>> RunJoin(
    JobContext& ctx, const JoinPlan& plan, const std::vector<std::shared_ptr<Table>>& tables, const Json& columns) {
  std::vector<JoinPlan::Condition> where = plan.where;
  const auto& sources = plan.sources;
  const size_t n = sources.size();
  // Every join inner: the ON conditions are WHERE parts, and the tables may
  // join in any order.
  const bool inner = std::all_of(sources.begin() + 1, sources.end(),
                                 [](const JoinSource& s) { return s.kind == kernels::JoinKind::kInner; });
  std::vector<std::string> on(n);
  for (size_t i = 0; i < n; ++i) {
    const std::string field = absl::StrCat("table_names[", i, "]");
    for (const std::string& c : Conjuncts(sources[i].on)) {
      auto used = AliasesOf(c, plan.all, field);
      if (!used.ok()) return used.status();
      if (inner && !sources[i].semi) where.push_back(JoinPlan::Condition{c, field, *std::move(used)});
    }
    if (!inner || sources[i].semi) on[i] = sources[i].on;
  }
  for (JoinPlan::Condition& c : ImpliedByOr(where, plan.all)) where.push_back(std::move(c));
  // WHERE parts that read one table filter it before it is joined, unless
  // an outer join may give it null rows (a later right or full join: every
  // table before it; a left or full join: its right table).
  std::vector<bool> nullable(n, false);
  for (size_t i = 1; i < n; ++i) {
    const kernels::JoinKind kind = sources[i].kind;
    if (kind == kernels::JoinKind::kLeft || kind == kernels::JoinKind::kFull) nullable[i] = true;
    if (kind == kernels::JoinKind::kRight || kind == kernels::JoinKind::kFull) {
      std::fill(nullable.begin(), nullable.begin() + i, true);
    }
  }
  // The columns the view holds and the ON conditions read (the WHERE parts
  // not yet applied are added per table).
  std::set<std::string> kept;
  bool all_columns = plan.all_columns;
  NeededColumns(columns, plan.all, &kept, &all_columns);
  for (const std::string& text : on) {
    for (const std::string& c : Conjuncts(text)) {
      if (auto refs = ReferencedColumns(c, plan.all); refs.ok()) kept.insert(refs->begin(), refs->end());
    }
  }
  const auto table_rows = [&](size_t i) -> absl::StatusOr<Relation> {
    Relation r = FromTable(ctx, tables[i], sources[i].alias, plan.needed, plan.all_columns);
    std::vector<std::string> own;
    for (JoinPlan::Condition& c : where) {
      if (!nullable[i] && !c.used && c.aliases.size() == 1 && *c.aliases.begin() == sources[i].alias) {
        own.push_back(c.text);
        c.used = true;
      }
    }
    if (absl::Status s = FilterRelation(ctx, &r, own, "expressions"); !s.ok()) return s;
    if (own.empty() || all_columns) return r;
    // Columns only its own filter read go no further (the joins gather the rest).
    std::set<std::string> later = kept;
    for (const JoinPlan::Condition& c : where) {
      if (c.used) continue;
      if (auto refs = ReferencedColumns(c.text, plan.all); refs.ok()) later.insert(refs->begin(), refs->end());
    }
    Relation pruned;
    pruned.owners = r.owners;
    pruned.aliases = r.aliases;
    pruned.rows = r.rows;
    pruned.maps = r.maps;
    pruned.table = r.table;
    for (size_t c = 0; c < r.defs.size(); ++c) {
      if (later.count(r.defs[c].name) == 0) continue;
      pruned.defs.push_back(r.defs[c]);
      pruned.views.push_back(r.views[c]);
      pruned.owned.push_back(r.owned[c]);
      pruned.map.push_back(r.map[c]);
      if (r.table != nullptr) pruned.table_column.push_back(r.table_column[c]);
    }
    if (pruned.defs.empty()) return r;  // keep one: the rows still count
    return pruned;
  };
  std::vector<Relation> rels;
  for (size_t i = 0; i < n; ++i) {
    auto r = table_rows(i);
    if (!r.ok()) return r.status();
    rels.push_back(*std::move(r));
  }
  // The order: the tables, then the semi joins (each once the tables it
  // reads are joined: last).
  std::vector<size_t> order, semis;
  for (size_t i = 0; i < n; ++i) (sources[i].semi ? semis : order).push_back(i);
  if (inner && order.size() > 2) {
    std::vector<const Relation*> tables_only;
    for (size_t i : order) tables_only.push_back(&rels[i]);
    const Equalities equal = EqualColumns(tables_only, where);
    for (JoinPlan::Condition& c : ImpliedEqualities(tables_only, equal)) where.push_back(std::move(c));
    std::vector<size_t> joined_order;
    for (size_t k : JoinOrder(ctx, tables_only, equal.classes)) joined_order.push_back(order[k]);
    order = std::move(joined_order);
  }
  order.insert(order.end(), semis.begin(), semis.end());
  // The WHERE parts an inner join's rows so far can apply: those whose
  // tables are all joined.
  const auto apply_joined = [&](Relation* r) {
    std::vector<std::string> ready;
    const std::set<std::string> joined(r->aliases.begin(), r->aliases.end());
    for (JoinPlan::Condition& c : where) {
      if (c.used || c.implied || c.aliases.empty() ||
          !std::includes(joined.begin(), joined.end(), c.aliases.begin(), c.aliases.end())) {
        continue;
      }
      ready.push_back(c.text);
      c.used = true;
    }
    return FilterRelation(ctx, r, ready, "expressions");
  };
  Relation rows = std::move(rels[order[0]]);
  for (size_t step = 1; step < n; ++step) {
    const size_t i = order[step];
    const std::string field = absl::StrCat("table_names[", i, "]");
    Relation right = std::move(rels[i]);
    const TableType left_type(rows.defs, ""), right_type(right.defs, "");
    std::vector<std::pair<std::string, std::string>> keys;
    std::vector<std::string> filters;  // applied to the pairs (an inner join's only)
    for (const std::string& c : Conjuncts(on[i])) {
      std::string l, r;
      if (EquiKey(c, left_type, right_type, &l, &r)) {
        keys.emplace_back(l, r);
      } else if (sources[i].semi) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ": ", sources[i].anti ? "an anti" : "a semi",
                         " join's condition must be equalities of a column of each side; '", c, "' is not"));
      } else if (sources[i].kind == kernels::JoinKind::kInner) {
        filters.push_back(c);
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            field, ": an outer join's condition must be equalities of a column of each side; '", c, "' is not"));
      }
    }
    if (sources[i].semi) {
      auto kept = SemiStep(ctx, std::move(rows), right, keys, !sources[i].anti, field);
      if (!kept.ok()) return kept.status();
      rows = *std::move(kept);
      continue;
    }
    if (sources[i].kind == kernels::JoinKind::kInner) {
      // WHERE parts that join this table to the ones before it.
      std::set<std::string> joined(rows.aliases.begin(), rows.aliases.end());
      joined.insert(sources[i].alias);
      for (JoinPlan::Condition& c : where) {
        if (c.used || c.aliases.count(sources[i].alias) == 0) continue;
        if (!std::includes(joined.begin(), joined.end(), c.aliases.begin(), c.aliases.end())) continue;
        std::string l, r;
        if (EquiKey(c.text, left_type, right_type, &l, &r)) {
          keys.emplace_back(l, r);
          c.used = true;
        }
      }
    }
    auto joined = JoinStep(ctx, std::move(rows), std::move(right), sources[i].kind, keys, field);
    if (!joined.ok()) return joined.status();
    rows = *std::move(joined);
    if (absl::Status s = FilterRelation(ctx, &rows, filters, field); !s.ok()) return s;
    if (inner) {
      if (absl::Status s = apply_joined(&rows); !s.ok()) return s;
    }
  }
  std::vector<std::string> rest;
  for (const JoinPlan::Condition& c : where) {
    if (!c.used && !c.implied) rest.push_back(c.text);
  }
  if (absl::Status s = FilterRelation(ctx, &rows, rest, "expressions"); !s.ok()) return s;
  std::vector<std::string> aliases;
  for (const JoinSource& source : sources) aliases.push_back(source.alias);
  return SelectColumns(ctx, rows, columns, aliases);
}

// Whether a join of two distributed tables can run shard by shard: both
// laid out over the same devices, and every pair of joined rows on one
// device. So: both sharded, joined on their shard keys (column for column,
// of one type), the outer side(s) sharded; or one side replicated and the
// other one the side whose unmatched rows are kept (or an inner join).
bool ShardLocal(const JoinPlan& plan) {
  if (plan.tables.size() != 2) return false;
  const Table& a = *plan.tables[0];
  const Table& b = *plan.tables[1];
  if (!a.distributed() || !b.distributed() || a.shards().size() != b.shards().size()) return false;
  for (size_t i = 0; i < a.shards().size(); ++i) {
    if (a.shards()[i]->device() != b.shards()[i]->device()) return false;
  }
  const kernels::JoinKind kind = plan.sources[1].kind;
  const Layout::Kind ka = a.layout().kind, kb = b.layout().kind;
  if (kb == Layout::Kind::kReplicated && ka != Layout::Kind::kReplicated) {
    return kind == kernels::JoinKind::kInner || kind == kernels::JoinKind::kLeft;
  }
  if (ka == Layout::Kind::kReplicated && kb != Layout::Kind::kReplicated) {
    return kind == kernels::JoinKind::kInner || kind == kernels::JoinKind::kRight;
  }
  if (ka != Layout::Kind::kSharded || kb != Layout::Kind::kSharded) return false;
  if (a.layout().shard_key.size() != b.layout().shard_key.size()) return false;
  // The join's equalities between the two tables (ON, and WHERE for an inner join).
  std::vector<std::string> conditions = Conjuncts(plan.sources[1].on);
  if (kind == kernels::JoinKind::kInner) {
    for (const auto& c : plan.where) conditions.push_back(c.text);
  }
  std::vector<ColumnDef> left_defs, right_defs;
  for (ColumnDef d : a.type().columns()) {
    d.name = absl::StrCat(plan.sources[0].alias, ".", d.name);
    left_defs.push_back(std::move(d));
  }
  for (ColumnDef d : b.type().columns()) {
    d.name = absl::StrCat(plan.sources[1].alias, ".", d.name);
    right_defs.push_back(std::move(d));
  }
  const TableType lt(left_defs, ""), rt(right_defs, "");
  std::set<std::pair<int, int>> pairs;
  for (const std::string& c : conditions) {
    std::string l, r;
    if (!EquiKey(c, lt, rt, &l, &r)) continue;
    auto lc = ReferencedColumns(l, lt), rc = ReferencedColumns(r, rt);
    if (lc.ok() && rc.ok()) pairs.emplace(lt.Find((*lc)[0]), rt.Find((*rc)[0]));
  }
  // Shard key column k of each side equal in the join, of one layout.
  for (size_t k = 0; k < a.layout().shard_key.size(); ++k) {
    const int l = a.layout().shard_key[k], r = b.layout().shard_key[k];
    if (pairs.count({l, r}) == 0) return false;
    const ColumnDef& dl = a.type().column(l);
    const ColumnDef& dr = b.type().column(r);
    if (dl.phys() != dr.phys() && !(dl.is_string() && dr.is_string())) return false;
  }
  return true;
}

absl::StatusOr<Json> CreateJoinTable(JobContext& ctx, const Json& request) {
  const std::string& view_name = StringField(request, "join_table_name");
  if (view_name.empty()) return absl::InvalidArgumentError("join_table_name: give the join's name");
  if (ctx.catalog.Has(view_name)) {
    return absl::AlreadyExistsError(absl::StrCat("join_table_name: table '", view_name, "' already exists"));
  }
  const Json& names = request["table_names"];
  if (names.empty()) return absl::InvalidArgumentError("table_names: give at least one table");
  JoinPlan plan;
  std::set<std::string> aliases;
  for (size_t i = 0; i < names.size(); ++i) {
    auto source = ParseSource(names[i].get<std::string>(), i);
    if (!source.ok()) return source.status();
    auto table = ctx.catalog.Find(source->name);
    if (!table.ok()) return absl::NotFoundError(absl::StrCat("table_names[", i, "]: ", table.status().message()));
    if (!aliases.insert(source->alias).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("table_names[", i, "]: the alias '", source->alias, "' names two tables; give each its own"));
    }
    plan.sources.push_back(*std::move(source));
    plan.tables.push_back(*std::move(table));
  }
  std::vector<ColumnDef> all_defs;
  for (size_t i = 0; i < plan.tables.size(); ++i) {
    for (ColumnDef def : plan.tables[i]->type().columns()) {
      def.name = absl::StrCat(plan.sources[i].alias, ".", def.name);
      all_defs.push_back(std::move(def));
    }
  }
  plan.all = TableType(all_defs, "");
  const Json& expressions = request["expressions"];
  for (size_t i = 0; i < expressions.size(); ++i) {
    const std::string field = absl::StrCat("expressions[", i, "]");
    for (const std::string& c : Conjuncts(expressions[i].get<std::string>())) {
      auto used = AliasesOf(c, plan.all, field);
      if (!used.ok()) return used.status();
      plan.where.push_back(JoinPlan::Condition{c, field, *std::move(used)});
    }
  }
  // Only the columns the join reads travel through it.
  NeededColumns(request["column_names"], plan.all, &plan.needed, &plan.all_columns);
  for (const JoinSource& source : plan.sources) {
    for (const std::string& c : Conjuncts(source.on)) {
      if (auto refs = ReferencedColumns(c, plan.all); refs.ok()) plan.needed.insert(refs->begin(), refs->end());
    }
  }
  for (const JoinPlan::Condition& c : plan.where) {
    if (auto refs = ReferencedColumns(c.text, plan.all); refs.ok()) plan.needed.insert(refs->begin(), refs->end());
  }
  std::shared_ptr<Table> view;
  int64_t count = 0;
  const bool shard_local = ShardLocal(plan);
  if (!shard_local) {
    auto selected = RunJoin(ctx, plan, plan.tables, request["column_names"]);
    if (!selected.ok()) return selected.status();
    count = selected->second.empty() ? 0 : selected->second[0].size();
    view =
        std::make_shared<Table>(view_name, TableType(std::move(selected->first), ""), &ctx.device, Table::Kind::kView);
    view->Replace(std::move(selected->second), ctx.exec).IgnoreError();  // no journal: cannot fail
  } else {
    // Shard by shard, each on its device: a view laid out as the rows are
    // (rows of shard i ordered after those of shard i - 1).
    const size_t n = plan.tables[0]->shards().size();
    std::vector<std::shared_ptr<Table>> shards(n);
    std::vector<TableType> types(n);
    absl::Status s =
        ForEachPart(ctx, *plan.tables[0], [&](JobContext& part_ctx, const Table&, size_t i) -> absl::Status {
          const std::vector<std::shared_ptr<Table>> parts{plan.tables[0]->shards()[i], plan.tables[1]->shards()[i]};
          auto selected = RunJoin(part_ctx, plan, parts, request["column_names"]);
          if (!selected.ok()) return selected.status();
          types[i] = TableType(std::move(selected->first), "");
          const int64_t rows = selected->second.empty() ? 0 : selected->second[0].size();
          kernels::Column positions(kernels::PhysType::kInt64, 0, false);
          kernels::Buffer first = kernels::RowPositions(static_cast<int64_t>(i) << 40, rows, part_ctx.exec);
          positions.Append(kernels::ColumnView{kernels::PhysType::kInt64, 0, rows, first.data()}, part_ctx.exec);
          shards[i] = Table::Shard(view_name, types[i], &part_ctx.device, std::move(selected->second),
                                   std::move(positions), part_ctx.exec);
          kernels::Synchronize(part_ctx.exec);
          return absl::OkStatus();
        });
    if (!s.ok()) return s;
    for (const auto& shard : shards) count += shard->rows();
    Layout layout;
    layout.kind = Layout::Kind::kSpread;
    view = std::make_shared<Table>(view_name, types[0], layout, std::move(shards), Table::Kind::kView);
  }
  if (absl::Status s = ctx.catalog.Add(std::move(view)); !s.ok()) {
    return absl::AlreadyExistsError(absl::StrCat("join_table_name: ", s.message()));
  }
  return Json{{"join_table_name", view_name},
              {"count", count},
              {"info", Json{{"qualified_join_table_name", view_name},
                            {"join_execution", shard_local ? "shard_local" : "one_device"}}}};
}

// ---------------------------------------------------------------------------
// Results kept as a table (options.persist: durable, changeable, laid out
// over the devices as shard_key and is_replicated say) or else as a view.

absl::StatusOr<std::shared_ptr<Table>> MakeResult(JobContext& ctx, const Json& request, const std::string& name,
                                                  std::vector<ColumnDef> defs, std::vector<kernels::Column> columns) {
  auto persist = BoolOption(request, "persist", false);
  if (!persist.ok()) return persist.status();
  auto replicated = BoolOption(request, "is_replicated", false);
  if (!replicated.ok()) return replicated.status();
  for (const std::string& key : ListOption(request, "shard_key")) {
    auto it = std::find_if(defs.begin(), defs.end(), [&](const ColumnDef& d) { return d.name == key; });
    if (it == defs.end()) {
      return absl::InvalidArgumentError(absl::StrCat("options.shard_key: no column named '", key, "'"));
    }
    it->properties.push_back("shard_key");
  }
  TableType type(std::move(defs), "");
  if (!*persist) {
    auto view = std::make_shared<Table>(name, std::move(type), &ctx.device, Table::Kind::kView);
    view->Replace(std::move(columns), ctx.exec).IgnoreError();  // no journal: cannot fail
    return view;
  }
  std::shared_ptr<Table> table = MakeTable(ctx, name, std::move(type), *replicated);
  if (absl::Status s = ctx.catalog.Add(table); !s.ok()) return s;
  std::vector<kernels::ColumnView> views;
  for (const auto& c : columns) views.push_back(c.view());
  if (absl::Status s = table->Append(views, ctx.exec); !s.ok()) return s;
  return table;
}

absl::Status AddResult(JobContext& ctx, const std::shared_ptr<Table>& result, absl::string_view field) {
  if (result->kind() == Table::Kind::kTable) return absl::OkStatus();  // added by MakeResult
  if (absl::Status s = ctx.catalog.Add(result); !s.ok()) {
    return absl::AlreadyExistsError(absl::StrCat(field, ": ", s.message()));
  }
  return absl::OkStatus();
}

absl::Status CheckNewName(const JobContext& ctx, const std::string& name, absl::string_view field) {
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": give a name"));
  if (ctx.catalog.Has(name)) {
    return absl::AlreadyExistsError(absl::StrCat(field, ": table '", name, "' already exists"));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// /create/projection: column_names (columns or "expression as name") of the
// rows of table_name where options.expression holds, in options.order_by
// order, the first options.limit of them.

absl::StatusOr<std::vector<Access>> ProjectionAccess(const Json& request) {
  auto access = ReadTableAccess(request);
  if (!access.ok()) return access;
  const std::string& name = StringField(request, "projection_name");
  if (absl::Status s = ValidateTableName(name, "projection_name"); !s.ok()) return s;
  access->push_back(Access{name, true});
  return access;
}

absl::StatusOr<Json> CreateProjection(JobContext& ctx, const Json& request) {
  const std::string& name = StringField(request, "projection_name");
  if (absl::Status s = CheckNewName(ctx, name, "projection_name"); !s.ok()) return s;
  auto source = FindTable(ctx, request, "table_name");
  if (!source.ok()) return source.status();
  int64_t limit = -1;
  if (const std::string l = Option(request, "limit"); !l.empty() && (!absl::SimpleAtoi(l, &limit) || limit < -1)) {
    return absl::InvalidArgumentError(absl::StrCat("options.limit: expected a count of rows, got '", l, "'"));
  }
  auto order = RequestedOrder(request);
  if (!order.ok()) return order.status();
  // The rows: chosen and ordered on the table itself, then gathered.
  std::shared_ptr<Table> local = LocalTable(ctx, *source);
  auto chosen = SelectRows(ctx, *local, Option(request, "expression"), "options.expression");
  if (!chosen.ok()) return chosen.status();
  if (!order->empty()) {
    if (absl::Status s = OrderRows(ctx, *local, *order, &*chosen, "options.order_by", limit); !s.ok()) return s;
  }
  const int64_t n = limit >= 0 ? std::min(limit, chosen->count) : chosen->count;
  std::set<std::string> needed;
  bool all_columns = false;
  const std::string alias = SplitTableName((*source)->name()).table;
  Relation whole = FromTable(ctx, local, alias, {}, true);
  NeededColumns(request["column_names"], whole.type(), &needed, &all_columns);
  Relation rows = FromTable(ctx, local, alias, needed, all_columns);
  if (!chosen->all || n < rows.rows) {
    if (chosen->all) chosen->indices = kernels::RowPositions(0, n, ctx.exec);
    rows.Pick(std::move(chosen->indices), n, ctx.exec);
  }
  auto selected = SelectColumns(ctx, rows, request["column_names"], rows.aliases);
  if (!selected.ok()) return selected.status();
  const int64_t count = selected->second.empty() ? 0 : selected->second[0].size();
  auto result = MakeResult(ctx, request, name, std::move(selected->first), std::move(selected->second));
  if (!result.ok()) return result.status();
  if (absl::Status s = AddResult(ctx, *result, "projection_name"); !s.ok()) return s;
  return Json{{"projection_name", name},
              {"info", Json{{"count", absl::StrCat(count)}, {"qualified_projection_name", (*result)->name()}}}};
}

// ---------------------------------------------------------------------------
// /create/union: input_column_names[i] of each table_names[i], as
// output_column_names. options.mode: union_all (every row; the default),
// union or union_distinct (distinct rows), intersect (distinct rows of the
// first found in every other), except (distinct rows of the first found in
// none of the others). Rows compare as group-by keys do (nulls equal). A
// column whose inputs differ in type becomes a long (integers), a double
// (numbers) or a string.

absl::StatusOr<std::vector<Access>> UnionAccess(const Json& request) {
  auto access = TableListAccess(request, "table_names", false);
  if (!access.ok()) return access;
  const std::string& name = StringField(request, "table_name");
  if (absl::Status s = ValidateTableName(name, "table_name"); !s.ok()) return s;
  access->push_back(Access{name, true});
  return access;
}

// `columns` (of `defs`) as one layout per column: `target`'s.
absl::Status Convert(JobContext& ctx, std::vector<ColumnDef>* defs, std::vector<kernels::Column>* columns,
                     const std::vector<ColumnDef>& target, const std::string& field) {
  Relation r;
  r.rows = columns->empty() ? 0 : (*columns)[0].size();
  for (size_t c = 0; c < defs->size(); ++c) r.AddView((*defs)[c], (*columns)[c].view());
  for (size_t c = 0; c < defs->size(); ++c) {
    const ColumnDef& from = (*defs)[c];
    const ColumnDef& to = target[c];
    if (from.phys() == to.phys() && from.char_width == to.char_width) continue;
    const std::string text = to.is_string() ? absl::StrCat("coalesce(", from.name, ")")
                             : to.is_real() ? absl::StrCat("(", from.name, ") + 0.0")
                                            : absl::StrCat("(", from.name, ") + 0");
    auto values = Evaluate(ctx, r, text, field);
    if (!values.ok()) return values.status();
    ColumnDef def = values->def;
    def.name = from.name;
    def.nullable = true;
    kernels::Column converted(def.phys(), def.char_width, true);
    converted.Append(values->view, ctx.exec);
    (*defs)[c] = std::move(def);
    (*columns)[c] = std::move(converted);
  }
  return absl::OkStatus();
}

// The common layout of column c over the inputs.
ColumnDef CommonDef(const std::vector<std::vector<ColumnDef>>& inputs, size_t c) {
  ColumnDef out = inputs[0][c];
  bool same = true, strings = true, reals = false;
  for (const auto& defs : inputs) {
    const ColumnDef& d = defs[c];
    same = same && d.phys() == out.phys() && d.char_width == out.char_width;
    strings = strings && d.is_string();
    reals = reals || d.is_real();
    out.nullable = out.nullable || d.nullable;
  }
  if (same) return out;
  out.kind = strings ? ColumnKind::kString : reals ? ColumnKind::kDouble : ColumnKind::kLong;
  out.char_width = 0;
  out.properties.clear();
  out.nullable = true;
  return out;
}

absl::StatusOr<Json> CreateUnion(JobContext& ctx, const Json& request) {
  const std::string& name = StringField(request, "table_name");
  if (absl::Status s = CheckNewName(ctx, name, "table_name"); !s.ok()) return s;
  const std::string mode = absl::AsciiStrToLower(Option(request, "mode", "union_all"));
  if (mode != "union_all" && mode != "union" && mode != "union_distinct" && mode != "intersect" && mode != "except") {
    return absl::InvalidArgumentError(
        absl::StrCat("options.mode: expected union_all, union, union_distinct, intersect or except, got '", mode, "'"));
  }
  const Json& names = request["table_names"];
  const Json& inputs = request["input_column_names"];
  if (names.empty()) return absl::InvalidArgumentError("table_names: give at least one table");
  if (inputs.size() != names.size()) {
    return absl::InvalidArgumentError(absl::StrCat("input_column_names: ", inputs.size(), " lists for ", names.size(),
                                                   " tables; give one per table"));
  }
  if ((mode == "intersect" || mode == "except") && names.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat("table_names: ", mode, " needs at least two tables"));
  }
  const Json& output = request["output_column_names"];
  std::vector<std::vector<ColumnDef>> defs;
  std::vector<std::vector<kernels::Column>> columns;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string field = absl::StrCat("table_names[", i, "]");
    auto table = ctx.catalog.Find(names[i].get<std::string>());
    if (!table.ok()) return absl::NotFoundError(absl::StrCat(field, ": ", table.status().message()));
    Relation rows = FromTable(ctx, *table, SplitTableName((*table)->name()).table, {}, true);
    auto selected = SelectColumns(ctx, rows, inputs[i], rows.aliases);
    if (!selected.ok()) {
      return absl::Status(selected.status().code(),
                          absl::StrCat("input_column_names[", i, "]",
                                       selected.status().message().substr(std::string("column_names").size())));
    }
    if (!defs.empty() && selected->first.size() != defs[0].size()) {
      return absl::InvalidArgumentError(absl::StrCat("input_column_names[", i, "]: ", selected->first.size(),
                                                     " columns; the first table gives ", defs[0].size()));
    }
    defs.push_back(std::move(selected->first));
    columns.push_back(std::move(selected->second));
  }
  const size_t width = defs[0].size();
  if (!output.empty() && output.size() != width) {
    return absl::InvalidArgumentError(
        absl::StrCat("output_column_names: ", output.size(), " names for ", width, " columns"));
  }
  std::vector<ColumnDef> target;
  for (size_t c = 0; c < width; ++c) {
    target.push_back(CommonDef(defs, c));
    if (!output.empty()) target.back().name = output[c].get<std::string>();
    target.back().properties.erase(
        std::remove_if(target.back().properties.begin(), target.back().properties.end(),
                       [](const std::string& p) { return p == "primary_key" || p == "shard_key"; }),
        target.back().properties.end());
  }
  for (size_t i = 0; i < defs.size(); ++i) {
    if (absl::Status s = Convert(ctx, &defs[i], &columns[i], target, absl::StrCat("input_column_names[", i, "]"));
        !s.ok()) {
      return s;
    }
  }
  // Every input's rows one after another, and which input each came from.
  std::vector<kernels::Column> all;
  std::vector<int64_t> sizes;
  for (size_t c = 0; c < width; ++c) {
    kernels::Column column(target[c].phys(), target[c].char_width, target[c].nullable);
    for (size_t i = 0; i < columns.size(); ++i) column.Append(columns[i][c].view(), ctx.exec);
    all.push_back(std::move(column));
  }
  for (const auto& input : columns) sizes.push_back(input.empty() ? 0 : input[0].size());
  columns.clear();
  const int64_t total = all.empty() ? 0 : all[0].size();
  if (mode != "union_all" && total > 0) {
    std::vector<kernels::ColumnView> keys;
    for (const auto& c : all) keys.push_back(c.view());
    kernels::Groups groups = kernels::GroupRows(keys, nullptr, total, ctx.exec);
    kernels::Buffer first = kernels::GroupFirstRows(groups, ctx.exec);
    std::vector<int64_t> firsts(static_cast<size_t>(groups.count));
    kernels::CopyToHostSync(firsts.data(), first.data(), firsts.size() * sizeof(int64_t), ctx.exec);
    std::vector<int64_t> keep;
    if (mode == "union" || mode == "union_distinct") {
      keep = firsts;
    } else {
      // Per group, the inputs it has rows of: the source of each row, and
      // the least and greatest source per group.
      std::vector<int32_t> source;
      source.reserve(static_cast<size_t>(total));
      for (size_t i = 0; i < sizes.size(); ++i)
        source.insert(source.end(), static_cast<size_t>(sizes[i]), static_cast<int32_t>(i));
      kernels::Buffer source_dev(source.size() * sizeof(int32_t), ctx.exec);
      kernels::CopyToDevice(source_dev.data(), source.data(), source.size() * sizeof(int32_t), ctx.exec);
      const kernels::ColumnView source_view{kernels::PhysType::kInt32, 0, total, source_dev.data()};
      const kernels::Column least = kernels::Aggregate(groups, kernels::AggKind::kMin, &source_view, nullptr, ctx.exec);
      const kernels::Column inputs_seen =
          kernels::Aggregate(groups, kernels::AggKind::kCountDistinct, &source_view, nullptr, ctx.exec);
      std::vector<int32_t> lo(static_cast<size_t>(groups.count));
      std::vector<int64_t> seen(static_cast<size_t>(groups.count));
      kernels::CopyToHostSync(lo.data(), least.view().data, lo.size() * sizeof(int32_t), ctx.exec);
      kernels::CopyToHostSync(seen.data(), inputs_seen.view().data, seen.size() * sizeof(int64_t), ctx.exec);
      for (int64_t g = 0; g < groups.count; ++g) {
        const bool in_first = lo[g] == 0;
        const bool wanted =
            mode == "intersect" ? in_first && seen[g] == static_cast<int64_t>(sizes.size()) : in_first && seen[g] == 1;
        if (wanted) keep.push_back(firsts[g]);
      }
    }
    kernels::Buffer at(keep.size() * sizeof(int64_t), ctx.exec);
    kernels::CopyToDevice(at.data(), keep.data(), keep.size() * sizeof(int64_t), ctx.exec);
    for (size_t c = 0; c < width; ++c) {
      all[c] = kernels::Gather(all[c].view(), at.as<int64_t>(), static_cast<int64_t>(keep.size()), target[c].nullable,
                               ctx.exec);
    }
  }
  const int64_t count = all.empty() ? 0 : all[0].size();
  auto result = MakeResult(ctx, request, name, std::move(target), std::move(all));
  if (!result.ok()) return result.status();
  if (absl::Status s = AddResult(ctx, *result, "table_name"); !s.ok()) return s;
  return Json{{"table_name", name},
              {"info", Json{{"count", absl::StrCat(count)}, {"qualified_table_name", (*result)->name()}}}};
}

}  // namespace

void AddDerivedHandlers(HandlerMap* handlers) {
  (*handlers)["/create/jointable"] = Handler{true, JoinAccess, CreateJoinTable};
  (*handlers)["/create/projection"] = Handler{false, ProjectionAccess, CreateProjection};
  (*handlers)["/create/union"] = Handler{false, UnionAccess, CreateUnion};
}

}  // namespace engine
