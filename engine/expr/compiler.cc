// The expression compiler's back end: type-checks a syntax tree (syntax.h)
// and emits the stack program of kernels/expr_program.h. Implements
// expression.h.

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/expr/expression.h"
#include "engine/expr/lexer.h"
#include "engine/expr/parser.h"
#include "engine/expr/syntax.h"
#include "engine/table/dates.h"

namespace engine {
namespace expr {
namespace {

using kernels::Cmp;
using kernels::Instr;
using kernels::Op;
using kernels::Program;

Type ColumnType(const ColumnDef& c) {
  if (c.is_integer() || c.kind == ColumnKind::kDate) return Type::kInt;  // a date: its day
  if (c.is_real()) return Type::kFloat;
  return Type::kString;
}

bool IsNumber(Type t) { return t == Type::kInt || t == Type::kFloat; }

// How a kernel holds values of type t (a null: as an int).
kernels::ValueKind ValueKindOf(Type t) {
  using kernels::ValueKind;
  return t == Type::kString ? ValueKind::kString : t == Type::kFloat ? ValueKind::kFloat : ValueKind::kInt;
}

class Compiler {
 public:
  Compiler(absl::string_view text, const TableType& type, std::vector<Node> nodes)
      : text_(text), type_(type), nodes_(std::move(nodes)), slots_(type.size(), -1) {}

  // Type-checks the tree under `root` and emits its code into program().
  absl::Status Run(int root) {
    absl::Status s = DatesAsDays();
    if (s.ok()) s = Check(root);
    if (!s.ok()) return s;
    Emit(root);
    if (max_depth_ > kernels::kMaxStackDepth) {
      return absl::InvalidArgumentError("expression is too complex");
    }
    return absl::OkStatus();
  }

  const Node& node(int id) const { return nodes_[id]; }
  Program& program() { return program_; }
  // Table indices of the program's columns, in program order.
  const std::vector<int>& columns() const { return columns_; }

 private:
  absl::Status Error(const Node& n, absl::string_view problem) const {
    return ErrorAt(text_, n.pos, problem);
  }

  // The binary nodes down the left spine from `id`, top first, and the
  // first node that is not one.
  std::vector<int> LeftSpine(int id, int* leaf) const {
    std::vector<int> spine;
    while (nodes_[id].kind == NodeKind::kBinary) {
      spine.push_back(id);
      id = nodes_[id].args[0];
    }
    *leaf = id;
    return spine;
  }

  absl::Status Check(int id) {
    Node& n = nodes_[id];
    switch (n.kind) {
      case NodeKind::kColumn: n.type = ColumnType(type_.column(n.column)); break;
      case NodeKind::kInt: n.type = Type::kInt; break;
      case NodeKind::kFloat: n.type = Type::kFloat; break;
      case NodeKind::kString: n.type = Type::kString; break;
      case NodeKind::kNull: n.truth = true; break;
      case NodeKind::kUnary: {
        absl::Status s = Check(n.args[0]);
        if (!s.ok()) return s;
        return CheckUnary(n);
      }
      case NodeKind::kBinary: {
        int leaf;
        const std::vector<int> spine = LeftSpine(id, &leaf);
        absl::Status s = Check(leaf);
        for (auto it = spine.rbegin(); s.ok() && it != spine.rend(); ++it) {
          s = Check(nodes_[*it].args[1]);
          if (s.ok()) s = CheckBinary(nodes_[*it]);
        }
        return s;
      }
      case NodeKind::kCall:
      case NodeKind::kIn:
      case NodeKind::kBetween:
      case NodeKind::kLike:
        for (int arg : n.args) {
          absl::Status s = Check(arg);
          if (!s.ok()) return s;
        }
        if (n.kind == NodeKind::kIn || n.kind == NodeKind::kBetween) return CheckCompareAll(n);
        if (n.kind == NodeKind::kLike) return CheckLike(n);
        return CheckCall(n);
    }
    return absl::OkStatus();
  }

  // A date column (stored as its day) or a timestamp column (its ms)
  // compared with strings ('1994-01-01', '2024-05-01 10:00:00'; =, <>, <,
  // <=, >, >=, in, between): the strings become the days or the ms they
  // name, or an error says they name none.
  absl::Status DatesAsDays() {
    for (Node& n : nodes_) {
      const bool compares = (n.kind == NodeKind::kBinary && IsComparison(n.op)) || n.kind == NodeKind::kIn ||
                            n.kind == NodeKind::kBetween;
      if (!compares) continue;
      const auto of_kind = [&](ColumnKind kind) {
        return std::any_of(n.args.begin(), n.args.end(), [&](int a) {
          return nodes_[a].kind == NodeKind::kColumn && type_.column(nodes_[a].column).kind == kind;
        });
      };
      const bool date = of_kind(ColumnKind::kDate);
      if (!date && !of_kind(ColumnKind::kTimestamp)) continue;
      for (int a : n.args) {
        Node& operand = nodes_[a];
        if (operand.kind != NodeKind::kString) continue;
        std::optional<int64_t> value;
        if (date) {
          if (const std::optional<int32_t> day = ParseDate(operand.str)) value = *day;
        } else {
          value = ParseTimestamp(operand.str);
        }
        if (!value) {
          return Error(operand, absl::StrCat("'", operand.str, "' is not a ",
                                             date ? "date (YYYY-MM-DD)" : "timestamp (YYYY-MM-DD HH:MM:SS.mmm)"));
        }
        operand.kind = NodeKind::kInt;
        operand.int_value = *value;
      }
    }
    return absl::OkStatus();
  }

  // "string" or "number", for messages; kNull is neither (it fits both).
  static const char* Class(Type t) { return t == Type::kString ? "string" : "number"; }

  // Whether values of types `a` and `b` can be compared or mixed: strings
  // with strings, numbers with numbers; null fits both.
  static bool Comparable(Type a, Type b) {
    return a == Type::kNull || b == Type::kNull || (a == Type::kString) == (b == Type::kString);
  }
  // The type two comparable types meet in: int with float is float.
  static Type Wider(Type a, Type b) {
    if (a == Type::kNull) return b;
    if (b == Type::kNull) return a;
    if (a == Type::kString) return a;
    return a == Type::kFloat || b == Type::kFloat ? Type::kFloat : Type::kInt;
  }

  // The value of literal node `id` (an `in` list item): its type and value.
  void LiteralValue(int id, Type* type, int64_t* i, double* f, std::string* str) const {
    bool negate = false;
    while (nodes_[id].kind == NodeKind::kUnary) {
      negate ^= nodes_[id].op == Operator::kNeg;
      id = nodes_[id].args[0];
    }
    const Node& n = nodes_[id];
    switch (n.kind) {
      case NodeKind::kInt:
        *type = Type::kInt;
        *i = negate ? static_cast<int64_t>(0 - static_cast<uint64_t>(n.int_value)) : n.int_value;
        *f = static_cast<double>(*i);
        break;
      case NodeKind::kFloat:
        *type = Type::kFloat;
        *f = negate ? -n.float_value : n.float_value;
        break;
      case NodeKind::kString:
        *type = Type::kString;
        *str = n.str;
        break;
      default: *type = Type::kNull; break;
    }
  }

  // Types `x [not] in (...)` and `x [not] between a and b`: x and the list
  // (or the bounds) compare in one type, n.operand. One that does not compare
  // with those before it is an error where it begins (in) or at the operator
  // (between).
  absl::Status CheckCompareAll(Node& n) {
    Type operand = Type::kNull;
    for (size_t k = 0; k < n.args.size(); ++k) {
      const Type t = nodes_[n.args[k]].type;
      if (!Comparable(operand, t)) {
        return ErrorAt(text_, n.kind == NodeKind::kIn ? n.arg_pos[k] : n.pos,
                       absl::StrCat("cannot compare ", Class(operand), " with ", Class(t)));
      }
      operand = Wider(operand, t);
    }
    n.operand = operand;
    n.type = Type::kInt;
    n.truth = true;
    return absl::OkStatus();
  }

  absl::Status CheckLike(Node& n) {
    if (IsNumber(nodes_[n.args[0]].type)) return Error(n, "cannot use 'like' on a number");
    n.type = Type::kInt;
    n.truth = true;
    return absl::OkStatus();
  }

  // Argument k of call `n` must be of kind `want` ("a number", "a string",
  // "an int", "a timestamp"); null fits all.
  absl::Status Require(const Node& n, size_t k, absl::string_view want) const {
    const Type t = nodes_[n.args[k]].type;
    bool ok = t == Type::kNull;
    if (want == "a string") {
      ok = ok || t == Type::kString;
    } else if (want == "a number") {
      ok = ok || IsNumber(t);
    } else {
      ok = ok || t == Type::kInt;  // an int, a timestamp (ms since the epoch)
    }
    if (ok) return absl::OkStatus();
    // An int or a timestamp wanted: say what it got was a float.
    const bool want_int = want == "an int" || want == "a timestamp";
    const char* got = t == Type::kString              ? "a string"
                      : t == Type::kFloat && want_int ? "a float"
                                                      : "a number";
    return ErrorAt(text_, n.arg_pos[k],
                   absl::StrCat("argument ", k + 1, " of '", n.function->name, "' must be ", want,
                                ", not ", got));
  }

  // Types call `n` whose value is one of its arguments [first, end): they
  // take their common type, which is the call's (int with int is int, int
  // with float float, string with string string; null fits all), and the
  // call is a truth value when they all are (or null).
  absl::Status CheckChoice(Node& n, size_t first) {
    Type common = Type::kNull;
    bool truth = true;
    for (size_t k = first; k < n.args.size(); ++k) {
      const Node& arg = nodes_[n.args[k]];
      if (!Comparable(common, arg.type)) {
        return ErrorAt(text_, n.arg_pos[k],
                       absl::StrCat("cannot mix ", Class(common), " and ", Class(arg.type), " in '",
                                    n.function->name, "'"));
      }
      common = Wider(common, arg.type);
      truth = truth && arg.truth;
    }
    n.operand = common;
    n.type = common;
    n.truth = truth;
    return absl::OkStatus();
  }

  absl::Status CheckUnary(Node& n) {
    const Node& a = nodes_[n.args[0]];
    if (n.op == Operator::kNot) {
      if (a.type == Type::kString) return Error(n, "cannot use a string as a condition");
      n.type = Type::kInt;
      n.truth = true;
      return absl::OkStatus();
    }
    if (a.type == Type::kString) {
      return Error(n, absl::StrCat("cannot use '", OperatorText(n.op), "' on a string"));
    }
    n.type = a.type == Type::kFloat ? Type::kFloat : Type::kInt;
    n.truth = n.op == Operator::kPlus && a.truth;
    return absl::OkStatus();
  }

  absl::Status CheckBinary(Node& n) {
    const Type a = nodes_[n.args[0]].type;
    const Type b = nodes_[n.args[1]].type;
    const bool strings = a == Type::kString || b == Type::kString;
    const Type numeric = a == Type::kFloat || b == Type::kFloat ? Type::kFloat : Type::kInt;
    if (IsLogical(n.op)) {
      if (strings) return Error(n, "cannot use a string as a condition");
      n.type = Type::kInt;
      n.truth = true;
    } else if (IsComparison(n.op)) {
      if (strings && (IsNumber(a) || IsNumber(b))) {
        return Error(n, a == Type::kString ? "cannot compare string with number"
                                           : "cannot compare number with string");
      }
      n.operand = strings ? Type::kString : numeric;
      n.type = Type::kInt;
      n.truth = true;
    } else {
      if (strings)
        return Error(n, absl::StrCat("cannot use '", OperatorText(n.op), "' on a string"));
      n.operand = numeric;
      n.type = numeric;
    }
    return absl::OkStatus();
  }

  absl::Status CheckCall(Node& n) {
    const Type first = nodes_[n.args[0]].type;
    absl::Status s;
    switch (n.function->id) {
      case Function::kIsNull:
        n.type = Type::kInt;
        n.truth = true;
        return s;
      case Function::kIf:
        if (first == Type::kString) {
          return ErrorAt(text_, n.arg_pos[0], "cannot use a string as a condition");
        }
        return CheckChoice(n, 1);
      case Function::kIfNull:
      case Function::kCoalesce:
      case Function::kNullIf:
      case Function::kGreatest:
      case Function::kLeast:
        return CheckChoice(n, 0);
      case Function::kAbs:
      case Function::kSign:
      case Function::kFloor:
      case Function::kCeil:
      case Function::kRound:
        s = Require(n, 0, "a number");
        if (s.ok() && n.args.size() > 1) s = Require(n, 1, "an int");
        n.type = first == Type::kFloat ? Type::kFloat : Type::kInt;
        return s;
      case Function::kSqrt:
      case Function::kCbrt:
      case Function::kExp:
      case Function::kLn:
      case Function::kLog10:
      case Function::kPow:
        for (size_t k = 0; s.ok() && k < n.args.size(); ++k) s = Require(n, k, "a number");
        n.type = Type::kFloat;
        return s;
      case Function::kMod:
        s = Require(n, 0, "a number");
        if (s.ok()) s = Require(n, 1, "a number");
        n.operand = Wider(Wider(Type::kInt, first), nodes_[n.args[1]].type);
        n.type = n.operand;
        return s;
      case Function::kLength:
        n.type = Type::kInt;
        return Require(n, 0, "a string");
      case Function::kLower:
      case Function::kUpper:
      case Function::kSubstr:
        s = Require(n, 0, "a string");
        for (size_t k = 1; s.ok() && k < n.args.size(); ++k) s = Require(n, k, "an int");
        n.type = first == Type::kNull ? Type::kNull : Type::kString;
        return s;
      case Function::kYear:
      case Function::kMonth:
      case Function::kDay:
      case Function::kHour:
      case Function::kMinute:
      case Function::kSec:
        n.type = Type::kInt;
        return Require(n, 0, "a timestamp");
      case Function::kLong:
        n.type = Type::kInt;
        return Require(n, 0, "a number");
    }
    return s;
  }

  // Appends an instruction and tracks the stack's depth.
  void Push(Op op, int32_t arg = 0, int32_t arg2 = 0) {
    program_.code.push_back(Instr{op, arg, arg2});
    depth_ += kernels::StackEffect(op);
    max_depth_ = std::max(max_depth_, depth_);
  }

  // Emits node `id` and converts its value to `type` (int to float).
  void EmitAs(int id, Type type) {
    Emit(id);
    if (type == Type::kFloat && nodes_[id].type == Type::kInt) Push(Op::kIntToFloat);
  }

  // Turns the value of `n`, on top of the stack, into a truth value.
  void ToTruth(const Node& n) {
    if (n.type == Type::kFloat) {
      Push(Op::kTruthF);
    } else if (n.type == Type::kInt && !n.truth) {
      Push(Op::kTruthI);
    }
  }

  // Brings operand `a` of binary node `n`, on top of the stack, to the type
  // the operator takes.
  void Convert(const Node& a, const Node& n) {
    if (IsLogical(n.op)) {
      ToTruth(a);
    } else if (n.operand == Type::kFloat && a.type == Type::kInt) {
      Push(Op::kIntToFloat);
    }
  }

  int32_t ColumnSlot(int column) {
    if (slots_[column] < 0) {
      slots_[column] = static_cast<int>(columns_.size());
      columns_.push_back(column);
    }
    return slots_[column];
  }

  void Emit(int id) {
    const Node& n = nodes_[id];
    switch (n.kind) {
      case NodeKind::kColumn: Push(Op::kColumn, ColumnSlot(n.column)); break;
      case NodeKind::kInt: Push(Op::kConstInt, program_.AddInt(n.int_value)); break;
      case NodeKind::kFloat: Push(Op::kConstFloat, program_.AddFloat(n.float_value)); break;
      case NodeKind::kString: Push(Op::kConstString, program_.AddString(n.str)); break;
      case NodeKind::kNull: Push(Op::kConstNull); break;
      case NodeKind::kUnary: EmitUnary(n); break;
      case NodeKind::kBinary: {
        if (n.op == Operator::kOr && EmitOrAsIn(id)) break;
        int leaf;
        const std::vector<int> spine = LeftSpine(id, &leaf);
        Emit(leaf);
        // Integer constants added or subtracted one after another are
        // summed here and added once: integers wrap (kAddI), so
        // (x + c1) - c2 is x + (c1 - c2) exactly, nulls alike.
        uint64_t offset = 0;
        const auto flush = [&] {
          if (offset == 0) return;
          Push(Op::kConstInt, program_.AddInt(static_cast<int64_t>(offset)));
          Push(Op::kAddI);
          offset = 0;
        };
        for (auto it = spine.rbegin(); it != spine.rend(); ++it) {
          const Node& op = nodes_[*it];
          const Node& right = nodes_[op.args[1]];
          if ((op.op == Operator::kAdd || op.op == Operator::kSub) && op.operand == Type::kInt &&
              op.type == Type::kInt && right.kind == NodeKind::kInt && nodes_[op.args[0]].type == Type::kInt) {
            const uint64_t c = static_cast<uint64_t>(right.int_value);
            offset = op.op == Operator::kAdd ? offset + c : offset - c;
            continue;
          }
          flush();
          Convert(nodes_[op.args[0]], op);
          Emit(op.args[1]);
          Convert(right, op);
          EmitBinary(op);
        }
        flush();
        break;
      }
      case NodeKind::kCall: EmitCall(n); break;
      case NodeKind::kIn: EmitIn(n); break;
      case NodeKind::kBetween:
        for (int arg : n.args) EmitAs(arg, n.operand);
        Push(n.operand == Type::kString  ? Op::kBetweenS
             : n.operand == Type::kFloat ? Op::kBetweenF
                                         : Op::kBetweenI);
        if (n.negated) Push(Op::kNot);
        break;
      case NodeKind::kLike: {
        const Node& pattern = nodes_[n.args[1]];
        if (pattern.kind == NodeKind::kNull) {
          // x like null is null: if(is_null(x), null, null), so that x's
          // columns are still the expression's.
          Emit(n.args[0]);
          Push(Op::kIsNull);
          Push(Op::kConstNull);
          Push(Op::kConstNull);
          Push(Op::kIf);
          break;
        }
        Emit(n.args[0]);
        Push(Op::kLike, program_.AddString(pattern.str));
        if (n.negated) Push(Op::kNot);
        break;
      }
    }
  }

  // x in (literals): one op scanning the list's constants; a null in the
  // list turns "no match" into null (SQL), and `not in` negates that.
  void EmitIn(const Node& n) {
    EmitInList(n.args[0], n.operand, std::vector<int>(n.args.begin() + 1, n.args.end()), n.negated);
  }

  // Node `operand` in the literals `list`, compared as `type`.
  void EmitInList(int operand, Type type, const std::vector<int>& list, bool negated) {
    EmitAs(operand, type);
    // The constants ascending and each once (the kernels search them);
    // NaN equals nothing and is left out.
    bool has_null = false;
    std::vector<int64_t> ints;
    std::vector<double> floats;
    std::vector<std::string> strings;
    for (int literal : list) {
      Type t;
      int64_t i = 0;
      double f = 0;
      std::string str;
      LiteralValue(literal, &t, &i, &f, &str);
      if (t == Type::kNull) {
        has_null = true;
      } else if (type == Type::kString) {
        strings.push_back(std::move(str));
      } else if (type == Type::kFloat) {
        if (f == f) floats.push_back(f);
      } else {
        ints.push_back(i);
      }
    }
    const auto sorted = [](auto& values) {
      std::sort(values.begin(), values.end());
      values.erase(std::unique(values.begin(), values.end()), values.end());
    };
    sorted(ints);
    sorted(floats);
    sorted(strings);
    int32_t first = -1;
    const auto added = [&](int32_t at) { first = first < 0 ? at : first; };
    if (!ints.empty()) added(program_.AddIntSet(ints));
    for (double v : floats) added(program_.AddFloat(v));
    for (const std::string& v : strings) added(program_.AddString(v));
    const int32_t count = static_cast<int32_t>(ints.size() + floats.size() + strings.size());
    if (first < 0) first = 0;
    Push(type == Type::kString ? Op::kInS : type == Type::kFloat ? Op::kInF : Op::kInI, first, count);
    if (has_null) Push(Op::kUnknownIfFalse);
    if (negated) Push(Op::kNot);
  }

  // The operands of the chain of ORs under `id` (parenthesized ones too).
  void OrTerms(int id, std::vector<int>* terms) const {
    int leaf;
    const std::vector<int> spine = LeftSpine(id, &leaf);
    const auto add = [&](int term) {
      const Node& t = nodes_[term];
      if (t.kind == NodeKind::kBinary && t.op == Operator::kOr) {
        OrTerms(term, terms);  // a parenthesized chain: nesting is bounded
      } else {
        terms->push_back(term);
      }
    };
    // The spine stops at the first node that is no OR: that is a term.
    size_t ors = 0;
    while (ors < spine.size() && nodes_[spine[ors]].op == Operator::kOr) ++ors;
    add(ors < spine.size() ? spine[ors] : leaf);
    for (size_t k = ors; k-- > 0;) add(nodes_[spine[k]].args[1]);
  }

  // A number or string literal (a number under signs), not null.
  bool IsLiteral(int id) const {
    while (nodes_[id].kind == NodeKind::kUnary &&
           (nodes_[id].op == Operator::kNeg || nodes_[id].op == Operator::kPlus)) {
      id = nodes_[id].args[0];
      if (nodes_[id].kind == NodeKind::kString) return false;
    }
    const NodeKind k = nodes_[id].kind;
    return k == NodeKind::kInt || k == NodeKind::kFloat || k == NodeKind::kString;
  }

  // `id` is `column = literal` or `literal = column`: the column's node and
  // the literal's.
  bool ColumnEquals(int id, int* column, int* literal) const {
    const Node& n = nodes_[id];
    if (n.kind != NodeKind::kBinary || n.op != Operator::kEq) return false;
    for (int side = 0; side < 2; ++side) {
      if (nodes_[n.args[side]].kind == NodeKind::kColumn && IsLiteral(n.args[1 - side])) {
        *column = n.args[side];
        *literal = n.args[1 - side];
        return true;
      }
    }
    return false;
  }

  // An OR chain in which a column is equal to two or more literals (x = 1 or
  // x = 2 or ... or y > 0) emits each such column as one IN list (x in (1,
  // 2, ...)): one search of its sorted constants a row rather than a
  // comparison a term. The same truth values: each side is null where x is
  // null; AND and OR's three values do not depend on order. The other terms
  // are or-ed as written. False (nothing emitted) when no column is.
  bool EmitOrAsIn(int id) {
    std::vector<int> terms;
    OrTerms(id, &terms);
    struct Group {
      int column;              // the column's node (of the first term)
      Type type;               // the comparison's
      std::vector<int> terms;  // the equalities
      std::vector<int> literals;
    };
    std::vector<Group> groups;
    std::vector<int> rest;
    for (int t : terms) {
      int column, literal;
      if (!ColumnEquals(t, &column, &literal)) {
        rest.push_back(t);
        continue;
      }
      const Type type = nodes_[t].operand;
      auto g = std::find_if(groups.begin(), groups.end(), [&](const Group& g) {
        return nodes_[g.column].column == nodes_[column].column && g.type == type;
      });
      if (g == groups.end()) g = groups.insert(groups.end(), Group{column, type, {}, {}});
      g->terms.push_back(t);
      g->literals.push_back(literal);
    }
    if (std::none_of(groups.begin(), groups.end(), [](const Group& g) { return g.terms.size() > 1; })) return false;
    bool first = true;
    const auto or_with_before = [&] {
      if (!first) Push(Op::kOr);
      first = false;
    };
    for (const Group& g : groups) {
      if (g.terms.size() == 1) {
        rest.push_back(g.terms[0]);
        continue;
      }
      EmitInList(g.column, g.type, g.literals, /*negated=*/false);
      or_with_before();
    }
    for (int t : rest) {
      Emit(t);
      ToTruth(nodes_[t]);
      or_with_before();
    }
    return true;
  }

  void EmitUnary(const Node& n) {
    const Node& a = nodes_[n.args[0]];
    Emit(n.args[0]);
    switch (n.op) {
      case Operator::kNot:
        ToTruth(a);
        Push(Op::kNot);
        break;
      case Operator::kNeg: Push(n.type == Type::kFloat ? Op::kNegF : Op::kNegI); break;
      default: break;  // unary plus
    }
  }

  void EmitBinary(const Node& n) {
    const bool f = n.operand == Type::kFloat;
    switch (n.op) {
      case Operator::kOr: Push(Op::kOr); return;
      case Operator::kAnd: Push(Op::kAnd); return;
      case Operator::kAdd: Push(f ? Op::kAddF : Op::kAddI); return;
      case Operator::kSub: Push(f ? Op::kSubF : Op::kSubI); return;
      case Operator::kMul: Push(f ? Op::kMulF : Op::kMulI); return;
      case Operator::kDiv: Push(f ? Op::kDivF : Op::kDivI); return;
      case Operator::kMod: Push(f ? Op::kModF : Op::kModI); return;
      default: break;
    }
    Cmp cmp = Cmp::kEq;
    switch (n.op) {
      case Operator::kNe: cmp = Cmp::kNe; break;
      case Operator::kLt: cmp = Cmp::kLt; break;
      case Operator::kLe: cmp = Cmp::kLe; break;
      case Operator::kGt: cmp = Cmp::kGt; break;
      case Operator::kGe: cmp = Cmp::kGe; break;
      default: break;
    }
    const Op op = n.operand == Type::kString ? Op::kCmpS : f ? Op::kCmpF : Op::kCmpI;
    Push(op, static_cast<int32_t>(cmp));
  }

  // Emits a float function of one number.
  void EmitMath(const Node& n, kernels::MathFn fn) {
    EmitAs(n.args[0], Type::kFloat);
    Push(Op::kMathF, static_cast<int32_t>(fn));
  }

  // Emits a function that keeps an int an int (floor, ceil, round, abs,
  // sign): `int_op` for an int (kNop: the value itself), `fn` for a float.
  void EmitIntOrFloat(const Node& n, bool has_int_op, Op int_op, kernels::MathFn fn) {
    Emit(n.args[0]);
    if (n.type == Type::kFloat) {
      Push(Op::kMathF, static_cast<int32_t>(fn));
    } else if (has_int_op) {
      Push(int_op);
    }
  }

  // Emits arguments [first, end) of `n` as its common type, folding each
  // into the one before with `op` (two stack slots however many there are).
  void EmitFold(const Node& n, size_t first, Op op, int32_t arg = 0) {
    EmitAs(n.args[first], n.operand);
    for (size_t k = first + 1; k < n.args.size(); ++k) {
      EmitAs(n.args[k], n.operand);
      Push(op, arg);
    }
  }

  static Op ByType(Type t, Op int_op, Op float_op, Op string_op) {
    return t == Type::kString ? string_op : t == Type::kFloat ? float_op : int_op;
  }

  // A part of a timestamp (ms since the epoch), or of a date column (its
  // day since the epoch: made a timestamp first).
  void EmitDatePart(const Node& n, kernels::DatePart part) {
    Emit(n.args[0]);
    const Node& arg = nodes_[n.args[0]];
    if (arg.kind == NodeKind::kColumn && type_.column(arg.column).kind == ColumnKind::kDate) {
      Push(Op::kConstInt, program_.AddInt(int64_t{86'400'000}));
      Push(Op::kMulI);
    }
    Push(Op::kDatePart, static_cast<int32_t>(part));
  }

  void EmitCall(const Node& n) {
    using kernels::DatePart;
    using kernels::MathFn;
    switch (n.function->id) {
      case Function::kIsNull:
        Emit(n.args[0]);
        Push(Op::kIsNull);
        break;
      case Function::kIf:
        Emit(n.args[0]);
        ToTruth(nodes_[n.args[0]]);
        EmitAs(n.args[1], n.operand);
        EmitAs(n.args[2], n.operand);
        Push(Op::kIf, static_cast<int32_t>(ValueKindOf(n.operand)));
        break;
      case Function::kIfNull:
      case Function::kCoalesce:
        EmitFold(n, 0, Op::kIfNull, static_cast<int32_t>(ValueKindOf(n.operand)));
        break;
      case Function::kNullIf:
        EmitFold(n, 0, ByType(n.operand, Op::kNullIfI, Op::kNullIfF, Op::kNullIfS));
        break;
      case Function::kGreatest:
        EmitFold(n, 0, ByType(n.operand, Op::kMaxI, Op::kMaxF, Op::kMaxS));
        break;
      case Function::kLeast:
        EmitFold(n, 0, ByType(n.operand, Op::kMinI, Op::kMinF, Op::kMinS));
        break;
      case Function::kAbs: EmitIntOrFloat(n, true, Op::kAbsI, MathFn::kAbs); break;
      case Function::kSign: EmitIntOrFloat(n, true, Op::kSignI, MathFn::kSign); break;
      case Function::kFloor: EmitIntOrFloat(n, false, Op::kAbsI, MathFn::kFloor); break;
      case Function::kCeil: EmitIntOrFloat(n, false, Op::kAbsI, MathFn::kCeil); break;
      case Function::kRound:
        if (n.args.size() == 1) {
          EmitIntOrFloat(n, false, Op::kAbsI, MathFn::kRound);
        } else {
          Emit(n.args[0]);
          Emit(n.args[1]);
          Push(n.type == Type::kFloat ? Op::kRoundF : Op::kRoundI);
        }
        break;
      case Function::kSqrt: EmitMath(n, MathFn::kSqrt); break;
      case Function::kCbrt: EmitMath(n, MathFn::kCbrt); break;
      case Function::kExp: EmitMath(n, MathFn::kExp); break;
      case Function::kLn: EmitMath(n, MathFn::kLn); break;
      case Function::kLog10: EmitMath(n, MathFn::kLog10); break;
      case Function::kPow:
        EmitAs(n.args[0], Type::kFloat);
        EmitAs(n.args[1], Type::kFloat);
        Push(Op::kPowF);
        break;
      case Function::kMod:
        EmitFold(n, 0, n.operand == Type::kFloat ? Op::kModF : Op::kModI);
        break;
      case Function::kLength:
        Emit(n.args[0]);
        Push(Op::kLength);
        break;
      case Function::kLower:
      case Function::kUpper:
        Emit(n.args[0]);
        Push(Op::kFold, n.function->id == Function::kLower ? kernels::kFoldLower
                                                           : kernels::kFoldUpper);
        break;
      case Function::kSubstr:
        Emit(n.args[0]);
        Emit(n.args[1]);
        if (n.args.size() > 2) {
          Emit(n.args[2]);
        } else {
          Push(Op::kConstInt, program_.AddInt(std::numeric_limits<int64_t>::max()));
        }
        Push(Op::kSubstr);
        break;
      case Function::kYear: EmitDatePart(n, DatePart::kYear); break;
      case Function::kMonth: EmitDatePart(n, DatePart::kMonth); break;
      case Function::kDay: EmitDatePart(n, DatePart::kDay); break;
      case Function::kHour: EmitDatePart(n, DatePart::kHour); break;
      case Function::kMinute: EmitDatePart(n, DatePart::kMinute); break;
      case Function::kSec: EmitDatePart(n, DatePart::kSec); break;
      case Function::kLong:
        Emit(n.args[0]);
        if (nodes_[n.args[0]].type == Type::kFloat) Push(Op::kFloatToInt);
        break;
    }
  }

  absl::string_view text_;
  const TableType& type_;
  std::vector<Node> nodes_;
  std::vector<int> slots_;    // table column -> program column, or -1
  std::vector<int> columns_;  // program column -> table column
  Program program_;
  int depth_ = 0;
  int max_depth_ = 0;
};

// An expression compiled up to its use: code without the final conversion,
// the columns it references and the type of its value.
struct Compiled {
  Program program;
  std::vector<int> columns;
  Type type = Type::kNull;
  bool truth = false;
};

absl::StatusOr<Compiled> Compile(absl::string_view text, const TableType& type) {
  absl::StatusOr<SyntaxTree> tree = Parse(text, type);
  if (!tree.ok()) return tree.status();
  Compiler compiler(text, type, std::move(tree->nodes));
  absl::Status s = compiler.Run(tree->root);
  if (!s.ok()) return s;
  Compiled out;
  out.program = std::move(compiler.program());
  out.columns = compiler.columns();
  out.type = compiler.node(tree->root).type;
  out.truth = compiler.node(tree->root).truth;
  return out;
}

}  // namespace
}  // namespace expr

absl::StatusOr<kernels::Program> CompileExpression(absl::string_view text, const TableType& type,
                                                   const std::vector<kernels::ColumnView>& columns,
                                                   ExprUse use) {
  if (columns.size() != type.size()) {
    return absl::InternalError(absl::StrCat("expression compiled against ", columns.size(),
                                            " column views for a table of ", type.size(),
                                            " columns"));
  }
  using expr::Type;
  using kernels::Instr;
  using kernels::Op;
  using kernels::ValueKind;
  absl::StatusOr<expr::Compiled> compiled = expr::Compile(text, type);
  if (!compiled.ok()) return compiled.status();
  kernels::Program& program = compiled->program;
  const Type t = compiled->type;
  switch (use) {
    case ExprUse::kPredicate:
      if (t == Type::kString) {
        return absl::InvalidArgumentError("expression must be a condition, not a string");
      }
      if (t == Type::kFloat) {
        program.code.push_back(Instr{Op::kTruthF, 0});
      } else if (t == Type::kInt && !compiled->truth) {
        program.code.push_back(Instr{Op::kTruthI, 0});
      }
      program.result = ValueKind::kInt;
      break;
    case ExprUse::kNumber:
      if (t == Type::kString) {
        return absl::InvalidArgumentError("expression must be a number, not a string");
      }
      if (t != Type::kFloat) program.code.push_back(Instr{Op::kIntToFloat, 0});
      program.result = ValueKind::kFloat;
      break;
    case ExprUse::kValue:
      program.result = expr::ValueKindOf(t);
      break;
  }
  for (int c : compiled->columns) program.columns.push_back(columns[c]);
  // The compiler's own guarantee, checked: a kernel evaluates the program
  // without bounds checks.
  if (!kernels::IsWellFormed(program)) {
    return absl::InternalError(absl::StrCat("expression compiled to a malformed program: ", text));
  }
  return std::move(compiled->program);
}

absl::StatusOr<std::vector<std::string>> ReferencedColumns(absl::string_view text,
                                                           const TableType& type) {
  absl::StatusOr<expr::Compiled> compiled = expr::Compile(text, type);
  if (!compiled.ok()) return compiled.status();
  std::vector<std::string> names;
  for (int c : compiled->columns) names.push_back(type.column(c).name);
  return names;
}

}  // namespace engine
