#pragma once

// A scan plan: the common shapes of a program recognised when it is uploaded
// (Upload in expr_program.h), so that filters and statistics over them run as
// typed loops instead of through the stack machine.
//
//   kPredicate: a conjunction (and) of up to kMaxPlanTerms terms, each over
//     one numeric column and constants:
//       col <cmp> const, const <cmp> col  (kCmpI, kCmpF; ints converted to
//                                          float with kIntToFloat included)
//       col between const and const       (kBetweenI, kBetweenF)
//       col (truth: col != 0)             (kTruthI, kTruthF)
//       col is null                       (kIsNull)
//       charN col = 'k', col in ('k1', ...) (kChars: a charN of at most
//                                          kMaxPlanCharWidth bytes, at most
//                                          kMaxPlanChars constants that fit it)
//       col <cmp> col                     (kColumns: two columns of one
//                                          numeric type, dates included)
//     each possibly negated (kNot). Every comparison is a range test
//     lo <= x <= hi (integers in int64; floats and converted ints in double,
//     with strict bounds moved to the next double), so NaN fails every test,
//     and only a negation (!=, not ...) makes it true.
//   kValue: one numeric column read as a double (the statistics' operand).
//
// A row satisfies the plan exactly when the program's value for it is
// non-null and non-zero (EvaluatePredicate), resp. the plan's value equals
// the program's (Evaluate): a null column value makes a term false, and a
// conjunction is true only when all its terms are (SQL's three-valued and).
// Programs of any other shape get no plan and run on the stack machine.

#include <cstdint>

#include "kernels/column.h"
#include "kernels/hd.h"

namespace kernels {

struct Program;

constexpr int kMaxPlanTerms = 8;
constexpr int kMaxPlanChars = 4;       // constants of a kChars term
constexpr int kMaxPlanCharWidth = 32;  // widest charN a kChars term reads

enum class PlanKind : int32_t { kNone, kPredicate, kValue };
enum class TermKind : uint8_t { kRange, kIsNull, kChars, kColumns };
// A kColumns term's comparison (x > y is planned as y < x, x >= y as y <= x).
enum class PlanCmp : uint8_t { kEq, kNe, kLt, kLe };

struct PlanTerm {
  ColumnView column;
  TermKind kind = TermKind::kRange;
  bool as_float = false;  // kRange: compare in double (flo, fhi), else in int64 (ilo, ihi)
  bool negate = false;    // the term's truth is flipped for non-null values (kIsNull: always)
  int64_t ilo = 0, ihi = 0;
  double flo = 0, fhi = 0;
  // kChars: the row's `column.width` bytes equal one of these (each zero-padded).
  int32_t nchars = 0;
  char chars[kMaxPlanChars][kMaxPlanCharWidth] = {};
  // kColumns: column <cmp> other (either null: false).
  ColumnView other;
  PlanCmp cmp = PlanCmp::kEq;
};

struct ScanPlan {
  PlanKind kind = PlanKind::kNone;
  int32_t terms = 0;
  PlanTerm term[kMaxPlanTerms];
};

// The plan of `program`, or one of kind kNone when it has another shape.
ScanPlan CompileScanPlan(const Program& program);

namespace detail {

KERNELS_HD inline int64_t PlanIntAt(const ColumnView& c, int64_t row) {
  switch (c.type) {
    case PhysType::kInt8: return static_cast<const int8_t*>(c.data)[row];
    case PhysType::kInt16: return static_cast<const int16_t*>(c.data)[row];
    case PhysType::kInt32: return static_cast<const int32_t*>(c.data)[row];
    case PhysType::kInt64: return static_cast<const int64_t*>(c.data)[row];
    default: return 0;
  }
}

KERNELS_HD inline double PlanDoubleAt(const ColumnView& c, int64_t row) {
  switch (c.type) {
    case PhysType::kFloat32: return static_cast<const float*>(c.data)[row];
    case PhysType::kFloat64: return static_cast<const double*>(c.data)[row];
    default: return static_cast<double>(PlanIntAt(c, row));
  }
}

}  // namespace detail

// Whether term `t` is true for `row`.
KERNELS_HD inline bool PlanTermRow(const PlanTerm& t, int64_t row) {
  const bool valid = t.column.is_valid(row);
  if (t.kind == TermKind::kIsNull) return !valid != t.negate;
  if (!valid) return false;
  if (t.kind == TermKind::kColumns) {
    if (!t.other.is_valid(row)) return false;
    int c;
    if (t.as_float) {
      const double x = detail::PlanDoubleAt(t.column, row), y = detail::PlanDoubleAt(t.other, row);
      c = x < y ? -1 : x > y ? 1 : x == y ? 0 : 2;  // 2: NaN, unordered
    } else {
      const int64_t x = detail::PlanIntAt(t.column, row), y = detail::PlanIntAt(t.other, row);
      c = x < y ? -1 : x > y ? 1 : 0;
    }
    const bool r = t.cmp == PlanCmp::kEq   ? c == 0
                   : t.cmp == PlanCmp::kNe ? c != 0
                   : t.cmp == PlanCmp::kLt ? c == -1
                                           : c == -1 || c == 0;
    return r != t.negate;
  }
  if (t.kind == TermKind::kChars) {
    const char* x = static_cast<const char*>(t.column.data) + row * static_cast<int64_t>(t.column.width);
    bool found = false;
    for (int32_t k = 0; k < t.nchars && !found; ++k) {
      bool same = true;
      for (int32_t b = 0; b < t.column.width && same; ++b) same = x[b] == t.chars[k][b];
      found = same;
    }
    return found != t.negate;
  }
  bool inside;
  if (t.as_float) {
    const double x = detail::PlanDoubleAt(t.column, row);
    inside = x >= t.flo && x <= t.fhi;
  } else {
    const int64_t x = detail::PlanIntAt(t.column, row);
    inside = x >= t.ilo && x <= t.ihi;
  }
  return inside != t.negate;
}

// Whether a kPredicate plan is true for `row`: one row at a time, as the CUDA
// backend evaluates it (the host evaluates blocks of rows, detail/scan_blocks.h).
KERNELS_HD inline bool PlanPredicateRow(const ScanPlan& plan, int64_t row) {
  for (int32_t k = 0; k < plan.terms; ++k) {
    if (!PlanTermRow(plan.term[k], row)) return false;
  }
  return true;
}

}  // namespace kernels
