#pragma once

// The evaluator of expression programs (expr_program.h), for kernels on both
// backends: Evaluate runs a program for one row on the device (or the host)
// with a stack of Slots; EvaluatePredicate reads the result as a truth value.

#include <cmath>
#include <cstdint>
#include <cstring>

#if !defined(__CUDA_ARCH__) && defined(__SSE2__)
#include <emmintrin.h>
#endif

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
#if !defined(__CUDA_ARCH__)
  if (fa == kNoFold && fb == kNoFold) {  // the host's memcmp, a word at a time
    const int c = n > 0 ? std::memcmp(a, b, static_cast<size_t>(n)) : 0;
    if (c != 0) return c < 0 ? -1 : 1;
    return na == nb ? 0 : (na < nb ? -1 : 1);
  }
#endif
  for (int64_t k = 0; k < n; ++k) {
    const unsigned char ca = static_cast<unsigned char>(FoldChar(a[k], fa));
    const unsigned char cb = static_cast<unsigned char>(FoldChar(b[k], fb));
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return na == nb ? 0 : (na < nb ? -1 : 1);
}

// Whether two byte strings, each read with its fold, are equal: lengths
// first (most unequal strings differ there), then the bytes.
KERNELS_HD inline bool BytesEqual(const char* a, int64_t na, uint8_t fa, const char* b, int64_t nb, uint8_t fb) {
  if (na != nb) return false;
  if (fa == kNoFold && fb == kNoFold) {
#if !defined(__CUDA_ARCH__)
    if (na > 16) return std::memcmp(a, b, static_cast<size_t>(na)) == 0;
#endif
    for (int64_t k = 0; k < na; ++k) {
      if (a[k] != b[k]) return false;
    }
    return true;
  }
  for (int64_t k = 0; k < na; ++k) {
    if (FoldChar(a[k], fa) != FoldChar(b[k], fb)) return false;
  }
  return true;
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

// Whether one of `count` ascending entries from `first` compares equal:
// compare(k) orders entry k against the value sought (<0: entry below).
template <typename Compare>
KERNELS_HD inline bool FindSorted(int32_t first, int32_t count, Compare compare) {
  int32_t lo = first, hi = first + count;
  while (lo < hi) {
    const int32_t mid = lo + (hi - lo) / 2;
    const int c = compare(mid);
    if (c == 0) return true;
    if (c < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return false;
}

// FindSorted's order of string constant k of `p` against the bytes s
// (read with `fold`).
struct ConstantVsBytes {
  const ProgramView* p;
  const char* s;
  int64_t len;
  uint8_t fold;
  KERNELS_HD int operator()(int32_t k) const {
    const int64_t at = p->string_offsets[k];
    return -CompareBytes(s, len, fold, p->chars + at, p->string_offsets[k + 1] - at, kNoFold);
  }
};

// Whether the bytes s (read with `fold`) equal one of the `count` ascending
// string constants of `p` from `first` (kInS): an equality each (lengths
// first) for up to 8, else a binary search.
KERNELS_HD inline bool InStrings(const ProgramView& p, int32_t first, int32_t count, const char* s, int64_t len,
                                 uint8_t fold) {
  if (count > 8) return FindSorted(first, count, ConstantVsBytes{&p, s, len, fold});
  bool found = false;
  for (int32_t k = first; k < first + count; ++k) {
    const int64_t at = p.string_offsets[k];
    found |= BytesEqual(s, len, fold, p.chars + at, p.string_offsets[k + 1] - at, kNoFold);
  }
  return found;
}

KERNELS_HD KERNELS_INLINE bool ApplyCmp(int32_t cmp, int c) {
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

// The length of a charN cell p[0, width): up to its first zero byte. On
// the host sixteen bytes at a time where SSE2 is there (inline: a call to
// memchr per cell cost more than the search).
KERNELS_HD inline int64_t FixedCharsLength(const char* p, int32_t width) {
  int32_t n = 0;
#if !defined(__CUDA_ARCH__) && defined(__SSE2__)
  const __m128i zero = _mm_setzero_si128();
  for (; n + 16 <= width; n += 16) {
    const unsigned mask = static_cast<unsigned>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + n)), zero)));
    if (mask != 0) return n + __builtin_ctz(mask);
  }
#endif
  while (n < width && p[n] != 0) ++n;
  return n;
}

KERNELS_HD KERNELS_INLINE void LoadColumn(const ColumnView& c, int64_t row, Slot& out) {
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
      out.s = p;
      out.len = detail::FixedCharsLength(p, c.width);
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

// The leftmost place of r[0, rn) in h[0, hn), or null. Sixteen places at a
// time where SSE2 is there: the places holding both r's first and its last
// byte (W. Mula's filter), then the bytes between compared; the places past
// the last whole sixteen in one more window ending at the last place (those
// before it masked off); with fewer than sixteen places, and without SSE2,
// one place at a time.
inline const char* FindRun(const char* h, int64_t hn, const char* r, int64_t rn) {
  if (rn > hn) return nullptr;
  if (rn == 1) return static_cast<const char*>(std::memchr(h, r[0], static_cast<size_t>(hn)));
  const int64_t last = hn - rn;  // the last place r may start
  const size_t between = static_cast<size_t>(rn) - 2;
  int64_t i = 0;
#if !defined(__CUDA_ARCH__) && defined(__SSE2__)
  if (last >= 15) {
    const __m128i first = _mm_set1_epi8(r[0]), final = _mm_set1_epi8(r[rn - 1]);
    // Places w to w + 15, less those before `from`: the loads end at
    // h[last + rn - 1] at most.
    const auto window = [&](int64_t w, int64_t from) -> const char* {
      const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + w));
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(h + w + rn - 1));
      unsigned mask =
          static_cast<unsigned>(_mm_movemask_epi8(_mm_and_si128(_mm_cmpeq_epi8(a, first), _mm_cmpeq_epi8(b, final))));
      mask &= ~((1u << (from - w)) - 1);
      for (; mask != 0; mask &= mask - 1) {
        const char* at = h + w + __builtin_ctz(mask);
        if (std::memcmp(at + 1, r + 1, between) == 0) return at;
      }
      return nullptr;
    };
    for (; i + 15 <= last; i += 16) {
      if (const char* at = window(i, i)) return at;
    }
    return i <= last ? window(last - 15, i) : nullptr;
  }
#endif
  for (; i <= last; ++i) {
    if (h[i] == r[0] && h[i + rn - 1] == r[rn - 1] && std::memcmp(h + i + 1, r + 1, between) == 0) return h + i;
  }
  return nullptr;
}

// Where a LIKE pattern's '%'s are, for LikeLiteralRuns: the first and the
// last (-1: none); literal false when the pattern has a '_' (Like's
// backtracking matcher then). Made once for a pattern, not per row.
struct LikeShape {
  int64_t first = -1, last = -1;
  bool literal = true;
};

inline LikeShape LikeShapeOf(const char* p, int64_t m) {
  LikeShape shape;
  for (int64_t j = 0; j < m; ++j) {
    if (p[j] == '_') shape.literal = false;
    if (p[j] == '%') {
      if (shape.first < 0) shape.first = j;
      shape.last = j;
    }
  }
  return shape;
}

// Like on bytes read as they are, for a pattern without '_' (`shape`, its
// LikeShapeOf, literal): its literal runs between the '%'s. The first must
// start s and the last end it (unless a '%' is there), and those between
// are found in order, each at its leftmost place after the one before
// (which leaves the most room for the rest).
inline bool LikeLiteralRuns(const char* s, int64_t n, const char* p, int64_t m, const LikeShape& shape) {
  const int64_t first = shape.first, last = shape.last;
  if (first < 0) return n == m && (m == 0 || std::memcmp(s, p, static_cast<size_t>(m)) == 0);
  const int64_t tail = m - last - 1;
  if (first + tail > n || (first > 0 && std::memcmp(s, p, static_cast<size_t>(first)) != 0) ||
      (tail > 0 && std::memcmp(s + n - tail, p + last + 1, static_cast<size_t>(tail)) != 0)) {
    return false;
  }
  int64_t i = first;
  const int64_t end = n - tail;  // the middle runs lie in s[i, end)
  for (int64_t j = first + 1; j < last;) {
    int64_t stop = j;
    while (p[stop] != '%') ++stop;
    if (stop > j) {
      const char* hit = FindRun(s + i, end - i, p + j, stop - j);
      if (hit == nullptr) return false;
      i = hit - s + (stop - j);
    }
    j = stop + 1;
  }
  return true;
}

// Whether s[0, n), read through `fold`, matches pattern p[0, m): '%' matches
// any run of bytes, '_' any one byte, every other byte itself. Greedy with
// backtracking to the last '%': O(n * m) at worst, no recursion.
KERNELS_HD inline bool LikeBacktracking(const char* s, int64_t n, uint8_t fold, const char* p, int64_t m) {
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

// The same, on the host by LikeLiteralRuns where the pattern has no '_'
// and the bytes are read as they are.
KERNELS_HD inline bool Like(const char* s, int64_t n, uint8_t fold, const char* p, int64_t m) {
#if !defined(__CUDA_ARCH__)
  if (fold == kNoFold) {
    const LikeShape shape = LikeShapeOf(p, m);
    if (shape.literal) return LikeLiteralRuns(s, n, p, m, shape);
  }
#endif
  return LikeBacktracking(s, n, fold, p, m);
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
// proleptic Gregorian calendar. Years 0 to 2,900,000 (every real date) in
// 32-bit arithmetic by Neri and Schneider's Euclidean affine functions
// ("Euclidean affine functions and their application to calendar
// algorithms", 2022: divisions become multiplications), the rest by
// days_from_civil's inverse (H. Hinnant) in 64 bits; the two agree on every
// day (expr_eval_test).
KERNELS_HD KERNELS_INLINE int64_t DatePartOf(int64_t ms, int32_t part) {
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
  const int64_t z = days + 719468;  // days since 0000-03-01
  if (z >= 0 && z < (int64_t{1} << 30)) {
    const uint32_t n1 = 4 * static_cast<uint32_t>(z) + 3;
    const uint32_t century = n1 / 146097;
    const uint64_t p2 = uint64_t{2939745} * ((n1 % 146097) | 3);
    const uint32_t year_of_century = static_cast<uint32_t>(p2 >> 32);
    const uint32_t doy = static_cast<uint32_t>(p2) / 2939745 / 4;  // [0, 365], from March 1
    const bool jan_feb = doy >= 306;
    const uint32_t n3 = 2141 * doy + 197913;
    switch (static_cast<DatePart>(part)) {
      case DatePart::kMonth:
        return (n3 >> 16) - (jan_feb ? 12 : 0);
      case DatePart::kDay:
        return (n3 & 0xFFFF) / 2141 + 1;
      default:
        return int64_t{100} * century + year_of_century + (jan_feb ? 1 : 0);
    }
  }
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

// Instruction `in` (of op `op`, which is in.op) of program `p` for `row`: `s`
// points at its first operand, or for a push at the free slot; the result
// is left in s[0]. Evaluate runs it a row at a time; EvaluateBlock
// (expr_block.h, the host's) an instruction at a time over a block of rows,
// with `op` a constant so that the switch folds away.
KERNELS_HD KERNELS_INLINE void Step(Op op, const ProgramView& p, const Instr& in, Slot* s, int64_t row) {
  Slot& a = s[0];
  switch (op) {
    // Pushes.
    case Op::kColumn:
      detail::LoadColumn(p.columns[in.arg], row, a);
      return;
    case Op::kConstInt:
      a.i = p.ints[in.arg];
      a.valid = true;
      return;
    case Op::kConstFloat:
      a.f = p.floats[in.arg];
      a.valid = true;
      return;
    case Op::kConstString:
      a.s = p.chars + p.string_offsets[in.arg];
      a.len = p.string_offsets[in.arg + 1] - p.string_offsets[in.arg];
      a.fold = kNoFold;
      a.valid = true;
      return;
    case Op::kConstNull:
      a.i = 0;
      a.len = 0;
      a.fold = kNoFold;
      a.valid = false;
      return;

    // Ops on the top value, in place.
    case Op::kIntToFloat:
      a.f = static_cast<double>(a.i);
      return;
    case Op::kNegI:
      a.i = static_cast<int64_t>(0ull - static_cast<uint64_t>(a.i));
      return;
    case Op::kNegF:
      a.f = -a.f;
      return;
    case Op::kTruthI:
      a.i = a.i != 0;
      return;
    case Op::kTruthF:
      a.i = a.f != 0.0;
      return;
    case Op::kNot:
      a.i = a.i == 0;
      return;
    case Op::kIsNull:
      a.i = a.valid ? 0 : 1;
      a.valid = true;
      return;
    case Op::kUnknownIfFalse:
      if (a.i == 0) a.valid = false;
      return;
    // The constants are ascending: a binary search for one equal to x.
    case Op::kInI: {
      if (!a.valid) return;
      a.i = InIntSet(IntSetOf(p.ints, in.arg, in.arg2), a.i);
      return;
    }
    case Op::kInF: {
      if (!a.valid) return;
      a.i = a.f == a.f &&  // NaN equals nothing
            detail::FindSorted(in.arg, in.arg2, [&](int32_t k) { return detail::CompareValues(p.floats[k], a.f); });
      return;
    }
    case Op::kInS: {
      if (!a.valid) return;
      a.i = detail::InStrings(p, in.arg, in.arg2, a.s, a.len, a.fold);
      return;
    }
    case Op::kLike: {
      if (!a.valid) return;
      const int64_t at = p.string_offsets[in.arg];
      a.i = detail::Like(a.s, a.len, a.fold, p.chars + at, p.string_offsets[in.arg + 1] - at);
      return;
    }
    case Op::kAbsI:
      if (a.i < 0) a.i = static_cast<int64_t>(0ull - static_cast<uint64_t>(a.i));
      return;
    case Op::kSignI:
      a.i = a.i > 0 ? 1 : a.i < 0 ? -1 : 0;
      return;
    case Op::kMathF: {
      if (!a.valid) return;
      double r = 0;
      if (detail::MathF(in.arg, a.f, &r)) {
        a.f = r;
      } else {
        a.valid = false;
      }
      return;
    }
    case Op::kLength:
      a.i = a.valid ? a.len : 0;
      return;
    case Op::kFold:
      a.fold = static_cast<uint8_t>(in.arg);
      return;
    case Op::kDatePart:
      if (a.valid) a.i = detail::DatePartOf(a.i, in.arg);
      return;
    case Op::kFloatToInt:
      if (!a.valid) return;
      if (!(a.f >= -9.2e18 && a.f <= 9.2e18)) {
        a.valid = false;  // NaN, or past int64
        return;
      }
      a.i = static_cast<int64_t>(::nearbyint(a.f));  // the default rounding: halves to even
      return;

    // Ops on the three top values.
    case Op::kBetweenI:
    case Op::kBetweenF:
    case Op::kBetweenS: {
      const Slot& x = s[0];
      const Slot& lo = s[1];
      const Slot& hi = s[2];
      const bool ge_valid = x.valid && lo.valid;
      const bool le_valid = x.valid && hi.valid;
      bool ge = false, le = false;
      if (op == Op::kBetweenI) {
        ge = x.i >= lo.i;
        le = x.i <= hi.i;
      } else if (op == Op::kBetweenF) {
        ge = x.f >= lo.f;
        le = x.f <= hi.f;
      } else {
        ge = ge_valid && detail::CompareStrings(x, lo) >= 0;
        le = le_valid && detail::CompareStrings(x, hi) <= 0;
      }
      detail::And3(ge_valid, ge, le_valid, le, a);
      return;
    }
    case Op::kIf: {
      const bool take_a = a.valid && a.i != 0;
      a = take_a ? s[1] : s[2];
      return;
    }
    case Op::kSubstr: {
      const Slot& start = s[1];
      const Slot& count = s[2];
      if (a.valid && start.valid && count.valid) {
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
        if (to > a.len + 1) to = a.len + 1;
        if (from >= to) {
          a.len = 0;
        } else {
          a.s += from - 1;
          a.len = to - from;
        }
      } else {
        a.valid = false;
      }
      return;
    }
    default:
      break;
  }

  // Ops on the two top values.
  const Slot& b = s[1];
  switch (op) {
    case Op::kAnd:
      // false and x = false; true and null = null.
      detail::And3(a.valid, a.i != 0, b.valid, b.i != 0, a);
      return;
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
      return;
    }
    case Op::kIfNull:
      if (!a.valid) a = b;
      return;
    case Op::kNullIfI:
      if (a.valid && b.valid && a.i == b.i) a.valid = false;
      return;
    case Op::kNullIfF:
      if (a.valid && b.valid && a.f == b.f) a.valid = false;
      return;
    case Op::kNullIfS:
      if (a.valid && b.valid && detail::CompareStrings(a, b) == 0) a.valid = false;
      return;
    case Op::kMaxI:
    case Op::kMaxF:
    case Op::kMaxS:
    case Op::kMinI:
    case Op::kMinF:
    case Op::kMinS: {
      if (!b.valid) return;
      if (!a.valid) {
        a = b;
        return;
      }
      int c;  // b compared with a
      if (op == Op::kMaxI || op == Op::kMinI) {
        c = detail::CompareValues(b.i, a.i);
      } else if (op == Op::kMaxF || op == Op::kMinF) {
        c = detail::CompareValues(b.f, a.f);  // NaN compares equal: a is kept
      } else {
        c = detail::CompareStrings(b, a);
      }
      const bool is_max = op == Op::kMaxI || op == Op::kMaxF || op == Op::kMaxS;
      if (is_max ? c > 0 : c < 0) a = b;
      return;
    }
    default:
      break;
  }
  const bool valid = a.valid && b.valid;
  a.valid = valid;
  if (!valid) return;
  const uint64_t ua = static_cast<uint64_t>(a.i);
  const uint64_t ub = static_cast<uint64_t>(b.i);
  switch (op) {
    case Op::kAddI:
      a.i = static_cast<int64_t>(ua + ub);
      break;
    case Op::kSubI:
      a.i = static_cast<int64_t>(ua - ub);
      break;
    case Op::kMulI:
      a.i = static_cast<int64_t>(ua * ub);
      break;
    case Op::kDivI:
    case Op::kModI:
      if (b.i == 0) {
        a.valid = false;  // x/0 is null
      } else if (b.i == -1 && a.i == INT64_MIN) {
        a.i = op == Op::kDivI ? a.i : 0;  // INT64_MIN / -1 wraps like the other operators
      } else {
        a.i = op == Op::kDivI ? a.i / b.i : a.i % b.i;
      }
      break;
    case Op::kAddF:
      a.f = a.f + b.f;
      break;
    case Op::kSubF:
      a.f = a.f - b.f;
      break;
    case Op::kMulF:
      a.f = a.f * b.f;
      break;
    case Op::kDivF:
      if (b.f == 0.0)
        a.valid = false;
      else
        a.f = a.f / b.f;
      break;
    case Op::kModF:
      if (b.f == 0.0)
        a.valid = false;
      else
        a.f = ::fmod(a.f, b.f);
      break;
    case Op::kCmpI:
      a.i = detail::ApplyCmp(in.arg, detail::CompareValues(a.i, b.i));
      break;
    case Op::kCmpF:
      // NaN is unordered: every comparison with it is false except !=.
      a.i = (a.f != a.f || b.f != b.f) ? static_cast<Cmp>(in.arg) == Cmp::kNe
                                       : detail::ApplyCmp(in.arg, detail::CompareValues(a.f, b.f));
      break;
    case Op::kCmpS:
      if (static_cast<Cmp>(in.arg) == Cmp::kEq || static_cast<Cmp>(in.arg) == Cmp::kNe) {
        a.i = detail::BytesEqual(a.s, a.len, a.fold, b.s, b.len, b.fold) == (static_cast<Cmp>(in.arg) == Cmp::kEq);
      } else {
        a.i = detail::ApplyCmp(in.arg, detail::CompareStrings(a, b));
      }
      break;
    case Op::kPowF:
      if (a.f == 0.0 && b.f < 0) {
        a.valid = false;  // a pole, like x/0
      } else {
        const double r = ::pow(a.f, b.f);
        if (r != r && a.f == a.f && b.f == b.f) a.valid = false;  // e.g. (-8)^0.5
        a.f = r;
      }
      break;
    case Op::kRoundI:
      a.i = detail::RoundDigits(a.i, b.i);
      break;
    case Op::kRoundF:
      a.f = detail::RoundDigits(a.f, b.i);
      break;
    default:
      break;
  }
}

// Evaluates `p` for one row. A null result has valid == false.
KERNELS_HD inline Slot Evaluate(const ProgramView& p, int64_t row) {
  Slot st[kMaxStackDepth];
  int sp = 0;  // next free slot
  for (int32_t pc = 0; pc < p.length; ++pc) {
    const Instr in = p.code[pc];
    const int effect = StackEffect(in.op);
    Step(in.op, p, in, st + sp - (1 - effect), row);
    sp += effect;
  }
  return st[0];
}

// Whether value `v` of program `p` is true: non-null and non-zero.
KERNELS_HD inline bool IsTrue(const ProgramView& p, const Slot& v) {
  if (!v.valid) return false;
  return p.result == ValueKind::kFloat ? v.f != 0.0 : v.i != 0;
}

// True when the program's value for `row` is non-null and non-zero.
KERNELS_HD inline bool EvaluatePredicate(const ProgramView& p, int64_t row) { return IsTrue(p, Evaluate(p, row)); }

}  // namespace kernels
