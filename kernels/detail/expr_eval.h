#pragma once

// The evaluator of expression programs (expr_program.h), for kernels on both
// backends: Evaluate runs a program for one row on the device (or the host)
// with a stack of Slots; EvaluatePredicate reads the result as a truth value.

#include <cmath>
#include <cstdint>

#include "kernels/column.h"
#include "kernels/expr_program.h"
#include "kernels/hd.h"

namespace kernels {

// A value on the evaluator's stack.
struct Slot {
  union {
    int64_t i;
    double f;
    const char* s;
  };
  int64_t len;   // strings only: bytes at s
  bool valid;
  uint8_t fold;  // strings only: a Fold, applied to every byte read
};

namespace detail {

// Compares a[0, na) with b[0, nb) bytewise, each byte read through its
// string's fold; <0, 0 or >0.
KERNELS_HD inline int CompareBytes(const char* a, int64_t na, uint8_t fa, const char* b, int64_t nb,
                                   uint8_t fb) {
  const int64_t n = na < nb ? na : nb;
  for (int64_t k = 0; k < n; ++k) {
    const unsigned char ca = static_cast<unsigned char>(FoldChar(a[k], fa));
    const unsigned char cb = static_cast<unsigned char>(FoldChar(b[k], fb));
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return na == nb ? 0 : (na < nb ? -1 : 1);
}

KERNELS_HD inline int CompareBytes(const char* a, int64_t na, const char* b, int64_t nb) {
  return CompareBytes(a, na, kNoFold, b, nb, kNoFold);
}

KERNELS_HD inline int CompareStrings(const Slot& a, const Slot& b) {
  return CompareBytes(a.s, a.len, a.fold, b.s, b.len, b.fold);
}

template <typename T>
KERNELS_HD inline int CompareValues(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

KERNELS_HD inline bool ApplyCmp(int32_t cmp, int c) {
  switch (static_cast<Cmp>(cmp)) {
    case Cmp::kEq: return c == 0;
    case Cmp::kNe: return c != 0;
    case Cmp::kLt: return c < 0;
    case Cmp::kLe: return c <= 0;
    case Cmp::kGt: return c > 0;
    case Cmp::kGe: return c >= 0;
  }
  return false;
}

KERNELS_HD inline void LoadColumn(const ColumnView& c, int64_t row, Slot& out) {
  out.valid = c.is_valid(row);
  switch (c.type) {
    case PhysType::kInt8: out.i = static_cast<const int8_t*>(c.data)[row]; break;
    case PhysType::kInt16: out.i = static_cast<const int16_t*>(c.data)[row]; break;
    case PhysType::kInt32: out.i = static_cast<const int32_t*>(c.data)[row]; break;
    case PhysType::kInt64: out.i = static_cast<const int64_t*>(c.data)[row]; break;
    case PhysType::kFloat32: out.f = static_cast<const float*>(c.data)[row]; break;
    case PhysType::kFloat64: out.f = static_cast<const double*>(c.data)[row]; break;
    case PhysType::kFixedChars: {
      const char* p = static_cast<const char*>(c.data) + row * static_cast<int64_t>(c.width);
      int64_t n = 0;
      while (n < c.width && p[n] != 0) ++n;
      out.s = p;
      out.len = n;
      out.fold = kNoFold;
      break;
    }
    case PhysType::kVarChars:
      out.s = static_cast<const char*>(c.data) + c.offsets[row];
      out.len = c.offsets[row + 1] - c.offsets[row];
      out.fold = kNoFold;
      break;
  }
}

// SQL's three-valued and of two comparisons (valid, value).
KERNELS_HD inline void And3(bool av, bool a, bool bv, bool b, Slot& out) {
  if ((av && !a) || (bv && !b)) {
    out.i = 0;
    out.valid = true;
  } else {
    out.i = 1;
    out.valid = av && bv;
  }
}

// Whether s[0, n), read through `fold`, matches pattern p[0, m): '%' matches
// any run of bytes, '_' any one byte, every other byte itself. Greedy with
// backtracking to the last '%': O(n * m) at worst, no recursion.
KERNELS_HD inline bool Like(const char* s, int64_t n, uint8_t fold, const char* p, int64_t m) {
  int64_t i = 0, j = 0, star = -1, mark = 0;
  while (i < n) {
    if (j < m && p[j] == '%') {
      star = j++;
      mark = i;
    } else if (j < m && (p[j] == '_' || p[j] == FoldChar(s[i], fold))) {
      ++i;
      ++j;
    } else if (star >= 0) {
      j = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (j < m && p[j] == '%') ++j;
  return j == m;
}

KERNELS_HD inline bool IsFinite(double v) { return v - v == 0.0; }

// x rounded half away from zero to `digits` decimal digits (negative: to
// tens, hundreds, ...).
KERNELS_HD inline double RoundDigits(double x, int64_t digits) {
  if (digits == 0) return ::round(x);
  if (digits > 0) {
    if (digits > 340) return x;
    const double p = ::pow(10.0, static_cast<double>(digits));
    const double y = x * p;
    if (!IsFinite(y) || !IsFinite(p)) return x;
    return ::round(y) / p;
  }
  if (digits < -308) return IsFinite(x) ? 0.0 : x;
  const double p = ::pow(10.0, static_cast<double>(-digits));
  return ::round(x / p) * p;
}

// The same for an int; the result wraps (mod 2^64) where it overflows.
KERNELS_HD inline int64_t RoundDigits(int64_t x, int64_t digits) {
  if (digits >= 0) return x;
  if (digits < -19) return 0;
  uint64_t p = 1;
  for (int64_t k = 0; k < -digits; ++k) p *= 10;
  const uint64_t mag = x < 0 ? 0ull - static_cast<uint64_t>(x) : static_cast<uint64_t>(x);
  uint64_t q = mag / p;
  const uint64_t r = mag % p;
  if (r >= p - r) ++q;
  const uint64_t out = q * p;
  return static_cast<int64_t>(x < 0 ? 0ull - out : out);
}

// Float function `fn` of x into *out; false where x is outside its domain.
KERNELS_HD inline bool MathF(int32_t fn, double x, double* out) {
  switch (static_cast<MathFn>(fn)) {
    case MathFn::kAbs: *out = ::fabs(x); return true;
    case MathFn::kSign: *out = x > 0 ? 1.0 : x < 0 ? -1.0 : x; return true;
    case MathFn::kSqrt:
      if (x < 0) return false;
      *out = ::sqrt(x);
      return true;
    case MathFn::kCbrt: *out = ::cbrt(x); return true;
    case MathFn::kExp: *out = ::exp(x); return true;
    case MathFn::kLn:
      if (x <= 0) return false;
      *out = ::log(x);
      return true;
    case MathFn::kLog10:
      if (x <= 0) return false;
      *out = ::log10(x);
      return true;
    case MathFn::kFloor: *out = ::floor(x); return true;
    case MathFn::kCeil: *out = ::ceil(x); return true;
    case MathFn::kRound: *out = ::round(x); return true;
  }
  return false;
}

// Date part `part` of `ms` milliseconds since 1970-01-01 UTC, in the
// proleptic Gregorian calendar (days_from_civil's inverse, H. Hinnant).
KERNELS_HD inline int64_t DatePartOf(int64_t ms, int32_t part) {
  constexpr int64_t kMsPerDay = 86400000;
  int64_t in_day = ms % kMsPerDay;
  int64_t days = ms / kMsPerDay;
  if (in_day < 0) {
    in_day += kMsPerDay;
    --days;
  }
  switch (static_cast<DatePart>(part)) {
    case DatePart::kHour: return in_day / 3600000;
    case DatePart::kMinute: return in_day / 60000 % 60;
    case DatePart::kSec: return in_day / 1000 % 60;
    default: break;
  }
  const int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;                                   // [0, 146096]
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);             // [0, 365]
  const int64_t mp = (5 * doy + 2) / 153;                                  // [0, 11], from March
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  switch (static_cast<DatePart>(part)) {
    case DatePart::kMonth: return month;
    case DatePart::kDay: return day;
    default: return yoe + era * 400 + (month <= 2 ? 1 : 0);
  }
}

}  // namespace detail

// Evaluates `p` for one row. A null result has valid == false.
// REQUIRES: p is well formed (IsWellFormed), as the compiler's programs are.
KERNELS_HD inline Slot Evaluate(const ProgramView& p, int64_t row) {
  Slot st[kMaxStackDepth];
  int sp = 0;  // next free slot
  for (int32_t pc = 0; pc < p.length; ++pc) {
    const Instr in = p.code[pc];
    switch (in.op) {
      // Pushes.
      case Op::kColumn:
        detail::LoadColumn(p.columns[in.arg], row, st[sp++]);
        continue;
      case Op::kConstInt:
        st[sp].i = p.ints[in.arg];
        st[sp++].valid = true;
        continue;
      case Op::kConstFloat:
        st[sp].f = p.floats[in.arg];
        st[sp++].valid = true;
        continue;
      case Op::kConstString:
        st[sp].s = p.chars + p.string_offsets[in.arg];
        st[sp].len = p.string_offsets[in.arg + 1] - p.string_offsets[in.arg];
        st[sp].fold = kNoFold;
        st[sp++].valid = true;
        continue;
      case Op::kConstNull:
        st[sp].i = 0;
        st[sp].len = 0;
        st[sp].fold = kNoFold;
        st[sp++].valid = false;
        continue;

      // Ops on the top value, in place.
      case Op::kIntToFloat:
        st[sp - 1].f = static_cast<double>(st[sp - 1].i);
        continue;
      case Op::kNegI:
        st[sp - 1].i = static_cast<int64_t>(0ull - static_cast<uint64_t>(st[sp - 1].i));
        continue;
      case Op::kNegF:
        st[sp - 1].f = -st[sp - 1].f;
        continue;
      case Op::kTruthI:
        st[sp - 1].i = st[sp - 1].i != 0;
        continue;
      case Op::kTruthF:
        st[sp - 1].i = st[sp - 1].f != 0.0;
        continue;
      case Op::kNot:
        st[sp - 1].i = st[sp - 1].i == 0;
        continue;
      case Op::kIsNull:
        st[sp - 1].i = st[sp - 1].valid ? 0 : 1;
        st[sp - 1].valid = true;
        continue;
      case Op::kUnknownIfFalse:
        if (st[sp - 1].i == 0) st[sp - 1].valid = false;
        continue;
      case Op::kInI: {
        Slot& t = st[sp - 1];
        if (!t.valid) continue;
        bool hit = false;
        for (int32_t k = 0; k < in.arg2 && !hit; ++k) hit = p.ints[in.arg + k] == t.i;
        t.i = hit;
        continue;
      }
      case Op::kInF: {
        Slot& t = st[sp - 1];
        if (!t.valid) continue;
        bool hit = false;
        for (int32_t k = 0; k < in.arg2 && !hit; ++k) hit = p.floats[in.arg + k] == t.f;
        t.i = hit;
        continue;
      }
      case Op::kInS: {
        Slot& t = st[sp - 1];
        if (!t.valid) continue;
        bool hit = false;
        for (int32_t k = 0; k < in.arg2 && !hit; ++k) {
          const int64_t at = p.string_offsets[in.arg + k];
          const int64_t n = p.string_offsets[in.arg + k + 1] - at;
          hit = n == t.len && detail::CompareBytes(t.s, t.len, t.fold, p.chars + at, n, kNoFold) == 0;
        }
        t.i = hit;
        continue;
      }
      case Op::kLike: {
        Slot& t = st[sp - 1];
        if (!t.valid) continue;
        const int64_t at = p.string_offsets[in.arg];
        t.i = detail::Like(t.s, t.len, t.fold, p.chars + at, p.string_offsets[in.arg + 1] - at);
        continue;
      }
      case Op::kAbsI:
        if (st[sp - 1].i < 0) {
          st[sp - 1].i = static_cast<int64_t>(0ull - static_cast<uint64_t>(st[sp - 1].i));
        }
        continue;
      case Op::kSignI:
        st[sp - 1].i = st[sp - 1].i > 0 ? 1 : st[sp - 1].i < 0 ? -1 : 0;
        continue;
      case Op::kMathF: {
        Slot& t = st[sp - 1];
        if (!t.valid) continue;
        double r = 0;
        if (detail::MathF(in.arg, t.f, &r)) {
          t.f = r;
        } else {
          t.valid = false;
        }
        continue;
      }
      case Op::kLength:
        st[sp - 1].i = st[sp - 1].valid ? st[sp - 1].len : 0;
        continue;
      case Op::kFold:
        st[sp - 1].fold = static_cast<uint8_t>(in.arg);
        continue;
      case Op::kDatePart:
        if (st[sp - 1].valid) st[sp - 1].i = detail::DatePartOf(st[sp - 1].i, in.arg);
        continue;

      // Ops on the three top values.
      case Op::kBetweenI:
      case Op::kBetweenF:
      case Op::kBetweenS: {
        const Slot& x = st[sp - 3];
        const Slot& lo = st[sp - 2];
        const Slot& hi = st[sp - 1];
        const bool ge_valid = x.valid && lo.valid;
        const bool le_valid = x.valid && hi.valid;
        bool ge = false, le = false;
        if (in.op == Op::kBetweenI) {
          ge = x.i >= lo.i;
          le = x.i <= hi.i;
        } else if (in.op == Op::kBetweenF) {
          ge = x.f >= lo.f;
          le = x.f <= hi.f;
        } else {
          ge = ge_valid && detail::CompareStrings(x, lo) >= 0;
          le = le_valid && detail::CompareStrings(x, hi) <= 0;
        }
        sp -= 2;
        detail::And3(ge_valid, ge, le_valid, le, st[sp - 1]);
        continue;
      }
      case Op::kIf: {
        const Slot& c = st[sp - 3];
        const bool take_a = c.valid && c.i != 0;
        st[sp - 3] = take_a ? st[sp - 2] : st[sp - 1];
        sp -= 2;
        continue;
      }
      case Op::kSubstr: {
        Slot& s = st[sp - 3];
        const Slot& start = st[sp - 2];
        const Slot& count = st[sp - 1];
        if (s.valid && start.valid && count.valid) {
          // Positions [start, start + count) of 1..len, clipped.
          const int64_t from = start.i < 1 ? 1 : start.i;
          int64_t to;  // one past the last position
          if (count.i <= 0) {
            to = from;
          } else if (start.i > INT64_MAX - count.i) {
            to = INT64_MAX;
          } else {
            to = start.i + count.i;
          }
          if (to > s.len + 1) to = s.len + 1;
          if (from >= to) {
            s.len = 0;
          } else {
            s.s += from - 1;
            s.len = to - from;
          }
        } else {
          s.valid = false;
        }
        sp -= 2;
        continue;
      }
      default:
        break;
    }

    // Ops on the two top values.
    Slot& a = st[sp - 2];
    const Slot& b = st[sp - 1];
    --sp;
    switch (in.op) {
      case Op::kAnd: {
        // false and x = false; true and null = null.
        detail::And3(a.valid, a.i != 0, b.valid, b.i != 0, a);
        continue;
      }
      case Op::kOr: {
        const bool a_true = a.valid && a.i != 0;
        const bool b_true = b.valid && b.i != 0;
        if (a_true || b_true) {
          a.i = 1;
          a.valid = true;
        } else {
          a.i = 0;
          a.valid = a.valid && b.valid;
        }
        continue;
      }
      case Op::kIfNull:
        if (!a.valid) a = b;
        continue;
      case Op::kNullIfI:
        if (a.valid && b.valid && a.i == b.i) a.valid = false;
        continue;
      case Op::kNullIfF:
        if (a.valid && b.valid && a.f == b.f) a.valid = false;
        continue;
      case Op::kNullIfS:
        if (a.valid && b.valid && detail::CompareStrings(a, b) == 0) a.valid = false;
        continue;
      case Op::kMaxI:
      case Op::kMaxF:
      case Op::kMaxS:
      case Op::kMinI:
      case Op::kMinF:
      case Op::kMinS: {
        if (!b.valid) continue;
        if (!a.valid) {
          a = b;
          continue;
        }
        int c;  // b compared with a
        if (in.op == Op::kMaxI || in.op == Op::kMinI) {
          c = detail::CompareValues(b.i, a.i);
        } else if (in.op == Op::kMaxF || in.op == Op::kMinF) {
          c = detail::CompareValues(b.f, a.f);  // NaN compares equal: a is kept
        } else {
          c = detail::CompareStrings(b, a);
        }
        const bool is_max = in.op == Op::kMaxI || in.op == Op::kMaxF || in.op == Op::kMaxS;
        if (is_max ? c > 0 : c < 0) a = b;
        continue;
      }
      default:
        break;
    }
    const bool valid = a.valid && b.valid;
    a.valid = valid;
    if (!valid) continue;
    const uint64_t ua = static_cast<uint64_t>(a.i);
    const uint64_t ub = static_cast<uint64_t>(b.i);
    switch (in.op) {
      case Op::kAddI: a.i = static_cast<int64_t>(ua + ub); break;
      case Op::kSubI: a.i = static_cast<int64_t>(ua - ub); break;
      case Op::kMulI: a.i = static_cast<int64_t>(ua * ub); break;
      case Op::kDivI:
      case Op::kModI:
        if (b.i == 0) {
          a.valid = false;  // x/0 is null
        } else if (b.i == -1 && a.i == INT64_MIN) {
          a.i = in.op == Op::kDivI ? a.i : 0;  // INT64_MIN / -1 wraps like the other operators
        } else {
          a.i = in.op == Op::kDivI ? a.i / b.i : a.i % b.i;
        }
        break;
      case Op::kAddF: a.f = a.f + b.f; break;
      case Op::kSubF: a.f = a.f - b.f; break;
      case Op::kMulF: a.f = a.f * b.f; break;
      case Op::kDivF:
        if (b.f == 0.0) a.valid = false; else a.f = a.f / b.f;
        break;
      case Op::kModF:
        if (b.f == 0.0) a.valid = false; else a.f = ::fmod(a.f, b.f);
        break;
      case Op::kCmpI: a.i = detail::ApplyCmp(in.arg, detail::CompareValues(a.i, b.i)); break;
      case Op::kCmpF:
        // NaN is unordered: every comparison with it is false except !=.
        a.i = (a.f != a.f || b.f != b.f) ? static_cast<Cmp>(in.arg) == Cmp::kNe
                                         : detail::ApplyCmp(in.arg, detail::CompareValues(a.f, b.f));
        break;
      case Op::kCmpS: a.i = detail::ApplyCmp(in.arg, detail::CompareStrings(a, b)); break;
      case Op::kPowF:
        if (a.f == 0.0 && b.f < 0) {
          a.valid = false;  // a pole, like x/0
        } else {
          const double r = ::pow(a.f, b.f);
          if (r != r && a.f == a.f && b.f == b.f) a.valid = false;  // e.g. (-8)^0.5
          a.f = r;
        }
        break;
      case Op::kRoundI: a.i = detail::RoundDigits(a.i, b.i); break;
      case Op::kRoundF: a.f = detail::RoundDigits(a.f, b.i); break;
      default: break;
    }
  }
  return st[0];
}

// True when the program's value for `row` is non-null and non-zero.
KERNELS_HD inline bool EvaluatePredicate(const ProgramView& p, int64_t row) {
  const Slot v = Evaluate(p, row);
  if (!v.valid) return false;
  return p.result == ValueKind::kFloat ? v.f != 0.0 : v.i != 0;
}

}  // namespace kernels
