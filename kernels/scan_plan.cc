#include "kernels/scan_plan.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "kernels/expr_program.h"

namespace kernels {
namespace {

bool IsIntType(PhysType t) {
  return t == PhysType::kInt8 || t == PhysType::kInt16 || t == PhysType::kInt32 || t == PhysType::kInt64;
}
bool IsFloatType(PhysType t) { return t == PhysType::kFloat32 || t == PhysType::kFloat64; }

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// A value on the symbolic stack while a program is matched.
struct Entry {
  enum Kind { kColumn, kInt, kFloat, kString, kTerms } kind;
  int32_t column = 0;
  bool as_float = false;  // kColumn: an int column converted by kIntToFloat
  int64_t i = 0;
  double f = 0;
  std::vector<PlanTerm> terms;  // kTerms: a conjunction
  std::string s;                // kString
};

// A charN column (of at most kMaxPlanCharWidth bytes) equal to one of
// `constants` as a kChars term; false when it is no such column or a
// constant does not fit a term (too many; one longer than the column, or
// holding a zero byte, can match no row: left to the program).
bool CharsTerm(const Entry& col, const std::vector<std::string>& constants, const Program& p, PlanTerm* t) {
  if (col.kind != Entry::kColumn) return false;
  const ColumnView& c = p.columns[col.column];
  if (c.type != PhysType::kFixedChars || c.width > kMaxPlanCharWidth) return false;
  if (constants.empty() || constants.size() > static_cast<size_t>(kMaxPlanChars)) return false;
  t->column = c;
  t->kind = TermKind::kChars;
  for (const std::string& k : constants) {
    if (k.size() > static_cast<size_t>(c.width) || k.find('\0') != std::string::npos) return false;
    std::memcpy(t->chars[t->nchars++], k.data(), k.size());
  }
  return true;
}

// The column of `e` when it can be compared in the float (or int) domain.
bool ColumnIn(const Entry& e, const Program& p, bool float_domain) {
  if (e.kind != Entry::kColumn) return false;
  const PhysType t = p.columns[e.column].type;
  if (float_domain) return IsFloatType(t) || (IsIntType(t) && e.as_float);
  return IsIntType(t) && !e.as_float;
}

Cmp Mirror(Cmp c) {  // k OP x  ==  x Mirror(OP) k
  switch (c) {
    case Cmp::kLt: return Cmp::kGt;
    case Cmp::kLe: return Cmp::kGe;
    case Cmp::kGt: return Cmp::kLt;
    case Cmp::kGe: return Cmp::kLe;
    default: return c;
  }
}

// x OP k as a range test, possibly negated (!=).
PlanTerm IntCompare(const ColumnView& c, Cmp op, int64_t k) {
  PlanTerm t;
  t.column = c;
  t.ilo = kMin;
  t.ihi = kMax;
  switch (op) {
    case Cmp::kEq: t.ilo = t.ihi = k; break;
    case Cmp::kNe: t.ilo = t.ihi = k; t.negate = true; break;
    case Cmp::kLt:
      if (k == kMin) { t.ilo = 1; t.ihi = 0; } else { t.ihi = k - 1; }
      break;
    case Cmp::kLe: t.ihi = k; break;
    case Cmp::kGt:
      if (k == kMax) { t.ilo = 1; t.ihi = 0; } else { t.ilo = k + 1; }
      break;
    case Cmp::kGe: t.ilo = k; break;
  }
  return t;
}

PlanTerm FloatCompare(const ColumnView& c, Cmp op, double k) {
  PlanTerm t;
  t.column = c;
  t.as_float = true;
  t.flo = -kInf;
  t.fhi = kInf;
  switch (op) {
    case Cmp::kEq: t.flo = t.fhi = k; break;
    case Cmp::kNe: t.flo = t.fhi = k; t.negate = true; break;
    case Cmp::kLt: t.fhi = k == -kInf ? kNaN : std::nextafter(k, -kInf); break;
    case Cmp::kLe: t.fhi = k; break;
    case Cmp::kGt: t.flo = k == kInf ? kNaN : std::nextafter(k, kInf); break;
    case Cmp::kGe: t.flo = k; break;
  }
  return t;
}

Entry Terms(PlanTerm t) {
  Entry e{Entry::kTerms};
  e.terms.push_back(t);
  return e;
}

}  // namespace

ScanPlan CompileScanPlan(const Program& p) {
  ScanPlan plan;
  if (!IsWellFormed(p)) return plan;

  // One column read as a double: the statistics' operand.
  if (p.result == ValueKind::kFloat) {
    const bool single = p.code.size() == 1 && p.code[0].op == Op::kColumn &&
                        IsFloatType(p.columns[p.code[0].arg].type);
    const bool converted = p.code.size() == 2 && p.code[0].op == Op::kColumn &&
                           p.code[1].op == Op::kIntToFloat && IsIntType(p.columns[p.code[0].arg].type);
    if (single || converted) {
      plan.kind = PlanKind::kValue;
      plan.terms = 1;
      plan.term[0].column = p.columns[p.code[0].arg];
      plan.term[0].as_float = true;
    }
    return plan;
  }

  std::vector<Entry> st;
  for (const Instr& in : p.code) {
    const size_t n = st.size();
    switch (in.op) {
      case Op::kColumn: {  // any type; comparisons take numeric ones only (ColumnIn)
        Entry e{Entry::kColumn};
        e.column = in.arg;
        st.push_back(e);
        break;
      }
      case Op::kConstInt: {
        Entry e{Entry::kInt};
        e.i = p.ints[in.arg];
        st.push_back(e);
        break;
      }
      case Op::kConstFloat: {
        Entry e{Entry::kFloat};
        e.f = p.floats[in.arg];
        st.push_back(e);
        break;
      }
      case Op::kConstString: {
        Entry e{Entry::kString};
        e.s.assign(p.chars.data() + p.string_offsets[in.arg], p.string_offsets[in.arg + 1] - p.string_offsets[in.arg]);
        st.push_back(std::move(e));
        break;
      }
      case Op::kCmpS: {  // charN = 'k' or <> 'k', either way round
        const Cmp op = static_cast<Cmp>(in.arg);
        const Entry* col = &st[n - 2];
        const Entry* k = &st[n - 1];
        if (col->kind == Entry::kString) std::swap(col, k);
        PlanTerm t;
        if ((op != Cmp::kEq && op != Cmp::kNe) || k->kind != Entry::kString || !CharsTerm(*col, {k->s}, p, &t)) {
          return plan;
        }
        t.negate = op == Cmp::kNe;
        st.resize(n - 2);
        st.push_back(Terms(t));
        break;
      }
      case Op::kInS: {  // charN in ('k1', ...): then `not` negates it
        std::vector<std::string> constants;
        for (int32_t k = 0; k < in.arg2; ++k) {
          const int64_t at = p.string_offsets[in.arg + k];
          constants.emplace_back(p.chars.data() + at, p.string_offsets[in.arg + k + 1] - at);
        }
        PlanTerm t;
        if (!CharsTerm(st[n - 1], constants, p, &t)) return plan;
        st[n - 1] = Terms(t);
        break;
      }
      case Op::kInI: {  // an int column in a list of consecutive ints: a range
        // (a dictionary's codes of a few neighbouring values, `like 'ab%'`)
        if (!ColumnIn(st[n - 1], p, false) || in.arg2 < 1) return plan;
        const int64_t lo = p.ints[in.arg], hi = p.ints[in.arg + in.arg2 - 1];  // ascending, distinct
        if (static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) != static_cast<uint64_t>(in.arg2 - 1)) return plan;
        PlanTerm t;
        t.column = p.columns[st[n - 1].column];
        t.ilo = lo;
        t.ihi = hi;
        st[n - 1] = Terms(t);
        break;
      }
      case Op::kIntToFloat: {
        Entry& e = st[n - 1];
        if (e.kind == Entry::kInt) {
          e.kind = Entry::kFloat;
          e.f = static_cast<double>(e.i);
        } else if (e.kind == Entry::kColumn && IsIntType(p.columns[e.column].type) && !e.as_float) {
          e.as_float = true;
        } else {
          return plan;
        }
        break;
      }
      case Op::kCmpI:
      case Op::kCmpF: {
        const bool fl = in.op == Op::kCmpF;
        const Entry::Kind constant = fl ? Entry::kFloat : Entry::kInt;
        Cmp op = static_cast<Cmp>(in.arg);
        const Entry* col = &st[n - 2];
        const Entry* k = &st[n - 1];
        if (ColumnIn(*col, p, fl) && ColumnIn(*k, p, fl) && p.columns[col->column].type == p.columns[k->column].type &&
            (!fl || IsFloatType(p.columns[col->column].type))) {
          // Two columns of one type (ints converted to double compare as
          // doubles: left to the program): x > y as y < x, x >= y as y <= x.
          if (op == Cmp::kGt || op == Cmp::kGe) {
            std::swap(col, k);
            op = Mirror(op);
          }
          PlanTerm t;
          t.kind = TermKind::kColumns;
          t.column = p.columns[col->column];
          t.other = p.columns[k->column];
          t.as_float = fl;
          t.cmp = op == Cmp::kEq   ? PlanCmp::kEq
                  : op == Cmp::kNe ? PlanCmp::kNe
                  : op == Cmp::kLt ? PlanCmp::kLt
                                   : PlanCmp::kLe;
          st.resize(n - 2);
          st.push_back(Terms(t));
          break;
        }
        if (col->kind == constant && k->kind == Entry::kColumn) {
          std::swap(col, k);
          op = Mirror(op);
        }
        if (k->kind != constant || !ColumnIn(*col, p, fl)) return plan;
        const ColumnView& c = p.columns[col->column];
        Entry e = Terms(fl ? FloatCompare(c, op, k->f) : IntCompare(c, op, k->i));
        st.resize(n - 2);
        st.push_back(std::move(e));
        break;
      }
      case Op::kBetweenI:
      case Op::kBetweenF: {
        const bool fl = in.op == Op::kBetweenF;
        const Entry::Kind constant = fl ? Entry::kFloat : Entry::kInt;
        const Entry& x = st[n - 3];
        const Entry& lo = st[n - 2];
        const Entry& hi = st[n - 1];
        if (lo.kind != constant || hi.kind != constant || !ColumnIn(x, p, fl)) return plan;
        PlanTerm t;
        t.column = p.columns[x.column];
        t.as_float = fl;
        t.ilo = lo.i;
        t.ihi = hi.i;
        t.flo = lo.f;
        t.fhi = hi.f;
        st.resize(n - 3);
        st.push_back(Terms(t));
        break;
      }
      case Op::kTruthI:
      case Op::kTruthF: {
        const bool fl = in.op == Op::kTruthF;
        if (!ColumnIn(st[n - 1], p, fl)) return plan;
        const ColumnView& c = p.columns[st[n - 1].column];
        st[n - 1] = Terms(fl ? FloatCompare(c, Cmp::kNe, 0.0) : IntCompare(c, Cmp::kNe, 0));
        break;
      }
      case Op::kIsNull: {
        if (st[n - 1].kind != Entry::kColumn) return plan;
        PlanTerm t;
        t.column = p.columns[st[n - 1].column];
        t.kind = TermKind::kIsNull;
        st[n - 1] = Terms(t);
        break;
      }
      case Op::kNot: {
        // not(x) of one term flips it; not of a conjunction is no conjunction.
        Entry& e = st[n - 1];
        if (e.kind != Entry::kTerms || e.terms.size() != 1) return plan;
        e.terms[0].negate = !e.terms[0].negate;
        break;
      }
      case Op::kAnd: {
        Entry& a = st[n - 2];
        Entry& b = st[n - 1];
        if (a.kind != Entry::kTerms || b.kind != Entry::kTerms) return plan;
        a.terms.insert(a.terms.end(), b.terms.begin(), b.terms.end());
        st.pop_back();
        break;
      }
      default:
        return plan;
    }
  }
  if (st.size() != 1 || st[0].kind != Entry::kTerms || st[0].terms.size() > kMaxPlanTerms) return plan;
  plan.kind = PlanKind::kPredicate;
  plan.terms = static_cast<int32_t>(st[0].terms.size());
  for (int32_t k = 0; k < plan.terms; ++k) plan.term[k] = st[0].terms[k];
  return plan;
}

}  // namespace kernels
