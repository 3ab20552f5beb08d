#pragma once

// The host's evaluator of expression programs: an instruction at a time
// over a block of rows (EvaluateBlock), so that each instruction's switch
// is taken once per block rather than once per row, its row loop running the
// instruction's own code (Step with a constant op). Each row keeps its own
// stack, `depth` slots long, in one buffer per block. Same values as
// Evaluate (expr_eval.h) row for row.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/detail/expr_eval.h"
#include "kernels/detail/row_values.h"  // StringAt
#include "kernels/detail/scan_blocks.h"  // kAllValid
#include "kernels/expr_program.h"

namespace kernels::detail {

// Rows per block.
constexpr int64_t kEvalBlock = 256;
static_assert(kEvalBlock <= kScanBlock, "kAllValid covers a block");

template <typename Fn, int32_t... k>
KERNELS_BLOCK_INLINE void WithConstantOf(int32_t v, Fn& fn, std::integer_sequence<int32_t, k...>) {
  ((v == k ? fn(std::integral_constant<int32_t, k>{}) : void()), ...);
}

// Calls fn(c) with c a std::integral_constant<int32_t, v>, for v in [0,
// kCount) (outside: no call), so that a row loop inside fn is compiled once
// per value, the switches on v inside it (a DatePart's, a MathFn's) folded
// away.
template <int32_t kCount, typename Fn>
KERNELS_BLOCK_INLINE void WithConstant(int32_t v, Fn fn) {
  WithConstantOf(v, fn, std::make_integer_sequence<int32_t, kCount>{});
}

constexpr int32_t kDateParts = static_cast<int32_t>(DatePart::kSec) + 1;
constexpr int32_t kMathFns = static_cast<int32_t>(MathFn::kRound) + 1;

// The deepest `p`'s stack gets.
inline int StackDepth(const ProgramView& p) {
  int depth = 0, most = 1;
  for (int32_t pc = 0; pc < p.length; ++pc) {
    depth += StackEffect(p.code[pc].op);
    if (depth > most) most = depth;
  }
  return most;
}

// Runs `p` for rows [first, first + n) (n <= kEvalBlock): row r's value is
// left in stack[r * depth]. REQUIRES: stack holds n * depth slots, depth >=
// StackDepth(p).
inline void EvaluateBlock(const ProgramView& p, int depth, int64_t first, int64_t n, Slot* stack) {
  int sp = 0;
  for (int32_t pc = 0; pc < p.length; ++pc) {
    const Instr in = p.code[pc];
    const int effect = StackEffect(in.op);
    Slot* s = stack + sp - (1 - effect);
    switch (in.op) {
#define KERNELS_BLOCK_OP(name)                                                       \
  case Op::name:                                                                     \
    for (int64_t r = 0; r < n; ++r) Step(Op::name, p, in, s + r * depth, first + r); \
    break;
      KERNELS_BLOCK_OP(kColumn)
      KERNELS_BLOCK_OP(kConstInt)
      KERNELS_BLOCK_OP(kConstFloat)
      KERNELS_BLOCK_OP(kConstString)
      KERNELS_BLOCK_OP(kConstNull)
      KERNELS_BLOCK_OP(kIntToFloat)
      KERNELS_BLOCK_OP(kAddI)
      KERNELS_BLOCK_OP(kSubI)
      KERNELS_BLOCK_OP(kMulI)
      KERNELS_BLOCK_OP(kDivI)
      KERNELS_BLOCK_OP(kModI)
      KERNELS_BLOCK_OP(kNegI)
      KERNELS_BLOCK_OP(kAddF)
      KERNELS_BLOCK_OP(kSubF)
      KERNELS_BLOCK_OP(kMulF)
      KERNELS_BLOCK_OP(kDivF)
      KERNELS_BLOCK_OP(kNegF)
      KERNELS_BLOCK_OP(kCmpI)
      KERNELS_BLOCK_OP(kCmpF)
      KERNELS_BLOCK_OP(kCmpS)
      KERNELS_BLOCK_OP(kTruthI)
      KERNELS_BLOCK_OP(kTruthF)
      KERNELS_BLOCK_OP(kAnd)
      KERNELS_BLOCK_OP(kOr)
      KERNELS_BLOCK_OP(kNot)
      KERNELS_BLOCK_OP(kIsNull)
      KERNELS_BLOCK_OP(kBetweenI)
      KERNELS_BLOCK_OP(kBetweenF)
      KERNELS_BLOCK_OP(kBetweenS)
      KERNELS_BLOCK_OP(kInI)
      KERNELS_BLOCK_OP(kInF)
      KERNELS_BLOCK_OP(kInS)
      KERNELS_BLOCK_OP(kLike)
      KERNELS_BLOCK_OP(kIf)
      KERNELS_BLOCK_OP(kIfNull)
      KERNELS_BLOCK_OP(kModF)
      KERNELS_BLOCK_OP(kAbsI)
      KERNELS_BLOCK_OP(kSignI)
      KERNELS_BLOCK_OP(kMathF)
      KERNELS_BLOCK_OP(kPowF)
      KERNELS_BLOCK_OP(kRoundF)
      KERNELS_BLOCK_OP(kRoundI)
      KERNELS_BLOCK_OP(kFloatToInt)
      KERNELS_BLOCK_OP(kMinI)
      KERNELS_BLOCK_OP(kMaxI)
      KERNELS_BLOCK_OP(kMinF)
      KERNELS_BLOCK_OP(kMaxF)
      KERNELS_BLOCK_OP(kMinS)
      KERNELS_BLOCK_OP(kMaxS)
      KERNELS_BLOCK_OP(kNullIfI)
      KERNELS_BLOCK_OP(kNullIfF)
      KERNELS_BLOCK_OP(kNullIfS)
      KERNELS_BLOCK_OP(kFold)
      KERNELS_BLOCK_OP(kLength)
      KERNELS_BLOCK_OP(kSubstr)
      KERNELS_BLOCK_OP(kUnknownIfFalse)
#undef KERNELS_BLOCK_OP
      case Op::kDatePart:  // a loop per part
        WithConstant<kDateParts>(in.arg, [&](auto part) {
          for (int64_t r = 0; r < n; ++r) {
            Slot& a = s[r * depth];
            if (a.valid) a.i = detail::DatePartOf(a.i, part);
          }
        });
        break;
    }
    sp += effect;
  }
}

// Whether `p` works on numbers only: numeric columns, number constants and
// null, arithmetic, comparisons, between, in-lists of numbers, and, or, not,
// is null, if, ifnull, nullif, greatest, least, abs, sign, round, the math
// functions, pow, float to int and date parts of numbers; string columns
// only as leaves that make numbers (StringLeafLength: =, <>, IN or LIKE
// against constants, or the length). Such a program runs by NumericBlock:
// typed arrays, a loop per instruction that the compiler vectorizes.
// Instructions after a string column's kColumn that make it a number
// NumericBlock computes as one leaf: a truth per row for `= 'k'` or `<> 'k'`
// (kConstString, kCmpS), an in-list of strings (kInS) or a LIKE pattern
// (kLike), or the length (kLength); 0: none.
inline int32_t StringLeafLength(const ProgramView& p, int32_t pc) {
  if (pc + 1 < p.length) {
    const Op next = p.code[pc + 1].op;
    if (next == Op::kInS || next == Op::kLike || next == Op::kLength) return 1;
  }
  if (pc + 2 < p.length && p.code[pc + 1].op == Op::kConstString && p.code[pc + 2].op == Op::kCmpS) {
    const Cmp cmp = static_cast<Cmp>(p.code[pc + 2].arg);
    if (cmp == Cmp::kEq || cmp == Cmp::kNe) return 2;
  }
  return 0;
}

inline bool IsNumericProgram(const ProgramView& p) {
  for (int32_t pc = 0; pc < p.length; ++pc) {
    const Instr in = p.code[pc];
    switch (in.op) {
      case Op::kColumn: {
        const PhysType t = p.columns[in.arg].type;
        if (t == PhysType::kFixedChars || t == PhysType::kVarChars) {
          const int32_t leaf = StringLeafLength(p, pc);
          if (leaf == 0) return false;
          pc += leaf;
        }
        break;
      }
      case Op::kConstInt:
      case Op::kConstFloat:
      case Op::kConstNull:
      case Op::kIntToFloat:
      case Op::kAddI:
      case Op::kSubI:
      case Op::kMulI:
      case Op::kDivI:
      case Op::kModI:
      case Op::kNegI:
      case Op::kAddF:
      case Op::kSubF:
      case Op::kMulF:
      case Op::kDivF:
      case Op::kModF:
      case Op::kNegF:
      case Op::kCmpI:
      case Op::kCmpF:
      case Op::kTruthI:
      case Op::kTruthF:
      case Op::kAnd:
      case Op::kOr:
      case Op::kNot:
      case Op::kInI:
      case Op::kInF:
      case Op::kDatePart:
      case Op::kUnknownIfFalse:
      case Op::kIsNull:
      case Op::kBetweenI:
      case Op::kBetweenF:
      case Op::kNullIfI:
      case Op::kNullIfF:
      case Op::kMaxI:
      case Op::kMaxF:
      case Op::kMinI:
      case Op::kMinF:
      case Op::kAbsI:
      case Op::kSignI:
      case Op::kMathF:
      case Op::kPowF:
      case Op::kRoundI:
      case Op::kRoundF:
      case Op::kFloatToInt:
        break;
      case Op::kIf:
      case Op::kIfNull:
        if (in.arg == static_cast<int32_t>(ValueKind::kString)) return false;
        break;
      default:
        return false;
    }
  }
  return p.result == ValueKind::kInt || p.result == ValueKind::kFloat;
}

// A NumericBlock stack entry: n values, as ints or floats (the
// instructions say which), read through `ints`/`floats` (its own arrays, or
// an int64 or double column's rows in place; a constant: one value for
// every row), and valid flags through `valid` (null: every row valid).
// Results are written into the entry's own arrays.
struct NumberBlock {
  int64_t i[kEvalBlock];
  double f[kEvalBlock];
  uint8_t flags[kEvalBlock];
  const int64_t* ints;
  const double* floats;
  const uint8_t* valid;
  bool constant;
};

// The valid flags of column `c` at rows [first, first + n), or at rows
// at[0..n) (gathered into out's own flags), into out->valid (null: no
// validity).
KERNELS_BLOCK_INLINE void LoadValid(const ColumnView& c, int64_t first, const int64_t* at, int64_t n,
                                    NumberBlock* out) {
  if (c.validity == nullptr) {
    out->valid = nullptr;
  } else if (at == nullptr) {
    out->valid = c.validity + first;
  } else {
    for (int64_t r = 0; r < n; ++r) out->flags[r] = c.validity[at[r]];
    out->valid = out->flags;
  }
}

// Rows [first, first + n) of numeric column `c` into `out`, or, with `at`,
// rows at[0..n) (gathered into its own arrays).
template <typename T>
KERNELS_BLOCK_INLINE void LoadNumbers(const ColumnView& c, int64_t first, const int64_t* at, int64_t n,
                                      NumberBlock* out) {
  out->constant = false;
  LoadValid(c, first, at, n, out);
  if (at != nullptr) {
    const T* x = static_cast<const T*>(c.data);
    if constexpr (std::is_floating_point_v<T>) {
      for (int64_t r = 0; r < n; ++r) out->f[r] = static_cast<double>(x[at[r]]);
      out->floats = out->f;
    } else {
      for (int64_t r = 0; r < n; ++r) out->i[r] = static_cast<int64_t>(x[at[r]]);
      out->ints = out->i;
    }
    return;
  }
  const T* x = static_cast<const T*>(c.data) + first;
  if constexpr (std::is_same_v<T, int64_t>) {
    out->ints = x;
  } else if constexpr (std::is_same_v<T, double>) {
    out->floats = x;
  } else if constexpr (std::is_floating_point_v<T>) {
    for (int64_t r = 0; r < n; ++r) out->f[r] = static_cast<double>(x[r]);
    out->floats = out->f;
  } else {
    for (int64_t r = 0; r < n; ++r) out->i[r] = static_cast<int64_t>(x[r]);
    out->ints = out->i;
  }
}

// out[r] = op(x, y) for r < n, x and y read at r unless constant (then at
// 0). Both constant: out[0] only. Returns whether the result is constant.
template <typename T, typename V, typename U, typename F>
KERNELS_BLOCK_INLINE bool Apply(const T* x, bool xc, const V* y, bool yc, U* out, int64_t n, F op) {
  if (xc && yc) {
    out[0] = op(x[0], y[0]);
  } else if (xc) {
    const T a = x[0];
    for (int64_t r = 0; r < n; ++r) out[r] = op(a, y[r]);
  } else if (yc) {
    const V b = y[0];
    for (int64_t r = 0; r < n; ++r) out[r] = op(x[r], b);
  } else {
    for (int64_t r = 0; r < n; ++r) out[r] = op(x[r], y[r]);
  }
  return xc && yc;
}

// a's valid flags and b's, and-ed into a's own (null when both are): one
// when both are constants, else n. (A constant's flag is read before a's
// array is written.)
KERNELS_BLOCK_INLINE void AndValid(NumberBlock* a, const NumberBlock* b, int64_t n) {
  if (a->valid == nullptr && b->valid == nullptr) return;
  const uint8_t a0 = a->valid == nullptr ? 1 : a->valid[0], b0 = b->valid == nullptr ? 1 : b->valid[0];
  const int64_t rows = a->constant && b->constant ? 1 : n;
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t av = a->valid == nullptr ? 1 : a->constant ? a0 : a->valid[r];
    const uint8_t bv = b->valid == nullptr ? 1 : b->constant ? b0 : b->valid[r];
    a->flags[r] = av & bv;
  }
  a->valid = a->flags;
}

// a = op(a, b) over n rows, of ints (op on their bits as uint64, so that
// overflow wraps) or of floats; returns whether the result is constant.
template <typename F>
KERNELS_BLOCK_INLINE bool IntsOp(NumberBlock* a, const NumberBlock* b, int64_t n, F op) {
  const bool constant = Apply(a->ints, a->constant, b->ints, b->constant, a->i, n, [op](int64_t x, int64_t y) {
    return static_cast<int64_t>(op(static_cast<uint64_t>(x), static_cast<uint64_t>(y)));
  });
  a->ints = a->i;
  return constant;
}
template <typename F>
KERNELS_BLOCK_INLINE bool FloatsOp(NumberBlock* a, const NumberBlock* b, int64_t n, F op) {
  const bool constant = Apply(a->floats, a->constant, b->floats, b->constant, a->f, n, op);
  a->floats = a->f;
  return constant;
}

// a's valid flags made one per row in its own array, so that an op can
// clear a row's (AndValid leaves none when both operands have none, or
// one when `both_constant`).
KERNELS_BLOCK_INLINE void FlagEveryRow(NumberBlock* a, bool both_constant, int64_t n) {
  if (a->valid != nullptr && !both_constant) return;
  const uint8_t a0 = a->valid == nullptr ? 1 : a->valid[0];
  for (int64_t r = 0; r < n; ++r) a->flags[r] = a0;
  a->valid = a->flags;
}

// The valid flags of entry e (spread): every row's, kAllValid's when it has none.
KERNELS_BLOCK_INLINE const uint8_t* ValidOf(const NumberBlock* e) {
  return e->valid != nullptr ? e->valid : kAllValid.flags;
}

// A constant entry's value (int and float) and flag spread over n rows of
// its own arrays; it is then a constant no more.
KERNELS_BLOCK_INLINE void Spread(NumberBlock* e, int64_t n) {
  if (!e->constant) return;
  const int64_t i0 = e->ints[0];
  const double f0 = e->floats[0];
  const uint8_t v0 = e->valid == nullptr ? 1 : e->valid[0];
  for (int64_t r = 0; r < n; ++r) {
    e->i[r] = i0;
    e->f[r] = f0;
    e->flags[r] = v0;
  }
  e->ints = e->i;
  e->floats = e->f;
  e->valid = e->valid == nullptr ? nullptr : e->flags;
  e->constant = false;
}

// The comparison `cmp` of x and y into out (IEEE for floats: NaN is
// unequal to all, ordered with none). Returns whether it is constant.
template <typename T>
KERNELS_BLOCK_INLINE bool Compare(Cmp cmp, const T* x, bool xc, const T* y, bool yc, int64_t* out, int64_t n) {
  switch (cmp) {
    case Cmp::kEq:
      return Apply(x, xc, y, yc, out, n, [](T a, T b) -> int64_t { return a == b; });
    case Cmp::kNe:
      return Apply(x, xc, y, yc, out, n, [](T a, T b) -> int64_t { return a != b; });
    case Cmp::kLt:
      return Apply(x, xc, y, yc, out, n, [](T a, T b) -> int64_t { return a < b; });
    case Cmp::kLe:
      return Apply(x, xc, y, yc, out, n, [](T a, T b) -> int64_t { return a <= b; });
    case Cmp::kGt:
      return Apply(x, xc, y, yc, out, n, [](T a, T b) -> int64_t { return a > b; });
    default:
      return Apply(x, xc, y, yc, out, n, [](T a, T b) -> int64_t { return a >= b; });
  }
}

// The leaf after kColumn at `pc` (StringLeafLength) of rows [first, first +
// n) of string column `c`, as numbers (truths or lengths) into `out`;
// returns the instructions it took past kColumn.
inline int32_t StringLeaf(const ProgramView& p, int32_t pc, const ColumnView& c, int64_t first, const int64_t* at,
                          int64_t n, NumberBlock* out) {
  const int32_t length = StringLeafLength(p, pc);
  const Instr test = p.code[pc + length];
  out->ints = out->i;
  LoadValid(c, first, at, n, out);
  out->constant = false;
  if (test.op == Op::kLength) {
    if (c.type == PhysType::kVarChars && at == nullptr) {
      const int64_t* o = c.offsets + first;
      for (int64_t r = 0; r < n; ++r) out->i[r] = o[r + 1] - o[r];
    } else {
      for (int64_t r = 0; r < n; ++r) {
        const char* s;
        int64_t len;
        StringAt(c, at != nullptr ? at[r] : first + r, s, len);
        out->i[r] = len;
      }
    }
    return length;
  }
  // The constants: one for = and <>, the list for in.
  const int32_t from = length == 1 ? test.arg : p.code[pc + 1].arg;
  const int32_t count = length == 1 ? test.arg2 : 1;
  const bool negate = length == 2 && static_cast<Cmp>(test.arg) == Cmp::kNe;
  const bool like = test.op == Op::kLike;
  const char* pattern = like ? p.chars + p.string_offsets[from] : nullptr;
  const int64_t pattern_length = like ? p.string_offsets[from + 1] - p.string_offsets[from] : 0;
  const LikeShape shape = like ? LikeShapeOf(pattern, pattern_length) : LikeShape();
  const auto found = [&](const char* s, int64_t len) {
    if (!like) return InStrings(p, from, count, s, len, kNoFold);
    return shape.literal ? LikeLiteralRuns(s, len, pattern, pattern_length, shape)
                         : LikeBacktracking(s, len, kNoFold, pattern, pattern_length);
  };
  // Constants of 8 bytes or fewer, as words: a row's string is then read as
  // one word too (its first 8 bytes, those past its length zeroed) and
  // compared without a branch, where 8 bytes can be read before the
  // column's end.
  uint64_t words[8] = {};
  int64_t lengths[8] = {};
  bool short_words = c.type == PhysType::kVarChars && count <= 8 && !like;
  for (int32_t k = 0; k < count && short_words; ++k) {
    const int64_t at = p.string_offsets[from + k];
    lengths[k] = p.string_offsets[from + k + 1] - at;
    short_words = lengths[k] <= 8;
    for (int64_t b = 0; short_words && b < lengths[k]; ++b)
      words[k] |= static_cast<uint64_t>(static_cast<unsigned char>(p.chars[at + b])) << (8 * b);
  }
  if (c.type == PhysType::kVarChars) {
    const char* chars = static_cast<const char*>(c.data);
    const int64_t end = c.offsets[c.size];  // the column's bytes end
    for (int64_t r = 0; r < n; ++r) {
      const int64_t row = at != nullptr ? at[r] : first + r;
      const int64_t from_byte = c.offsets[row], len = c.offsets[row + 1] - from_byte;
      if (!short_words || from_byte + 8 > end) {
        out->i[r] = found(chars + from_byte, len) != negate;
        continue;
      }
      uint64_t w;
      std::memcpy(&w, chars + from_byte, 8);
      w &= len >= 8 ? ~uint64_t{0} : (uint64_t{1} << (8 * len)) - 1;
      bool hit = false;
      for (int32_t k = 0; k < count; ++k) hit |= (len == lengths[k]) & (w == words[k]);
      out->i[r] = hit != negate;
    }
  } else {
    for (int64_t r = 0; r < n; ++r) {
      const char* s;
      int64_t len;
      StringAt(c, at != nullptr ? at[r] : first + r, s, len);
      out->i[r] = found(s, len) != negate;
    }
  }
  return length;
}

// In-lists of at most this many numbers are tested by an equality per
// constant over the block; longer ones by search (ints: their hash table).
constexpr int32_t kInScanMax = 8;

// Runs an IsNumericProgram program for rows [first, first + n) (n <=
// kEvalBlock), or with `at` for rows at[0..n) (first unused), into
// stack[0]: the values Evaluate gives row by row (the same operations in
// the same order; a null operand makes the result null, whose value is
// then never read). REQUIRES: stack holds StackDepth(p) entries.
KERNELS_HOST_CLONES inline void NumericBlock(const ProgramView& p, int64_t first, int64_t n, NumberBlock* stack,
                                             const int64_t* at = nullptr) {
  int sp = 0;
  for (int32_t pc = 0; pc < p.length; ++pc) {
    const Instr in = p.code[pc];
    NumberBlock* top = stack + sp - 1;
    NumberBlock* push = stack + sp;
    NumberBlock* a = top - 1;  // a binary operator's left operand, and its result
    // A unary operator's rows: one for a constant.
    const auto rows = [&] { return top->constant ? int64_t{1} : n; };
    switch (in.op) {
      case Op::kColumn: {
        const ColumnView& c = p.columns[in.arg];
        if (c.type == PhysType::kVarChars || c.type == PhysType::kFixedChars) {
          pc += StringLeaf(p, pc, c, first, at, n, push);
          break;
        }
        switch (c.type) {
          case PhysType::kInt8:
            LoadNumbers<int8_t>(c, first, at, n, push);
            break;
          case PhysType::kInt16:
            LoadNumbers<int16_t>(c, first, at, n, push);
            break;
          case PhysType::kInt32:
            LoadNumbers<int32_t>(c, first, at, n, push);
            break;
          case PhysType::kInt64:
            LoadNumbers<int64_t>(c, first, at, n, push);
            break;
          case PhysType::kFloat32:
            LoadNumbers<float>(c, first, at, n, push);
            break;
          default:
            LoadNumbers<double>(c, first, at, n, push);
            break;
        }
        break;
      }
      case Op::kConstInt:
      case Op::kConstFloat:
      case Op::kConstNull:
        push->i[0] = in.op == Op::kConstInt ? p.ints[in.arg] : 0;
        push->f[0] = in.op == Op::kConstFloat ? p.floats[in.arg] : 0.0;
        push->flags[0] = in.op != Op::kConstNull;
        push->ints = push->i;
        push->floats = push->f;
        push->valid = in.op == Op::kConstNull ? push->flags : nullptr;
        push->constant = true;
        break;
      case Op::kIntToFloat:
        for (int64_t r = 0, m = rows(); r < m; ++r) top->f[r] = static_cast<double>(top->ints[r]);
        top->floats = top->f;
        break;
      case Op::kNegI:
        for (int64_t r = 0, m = rows(); r < m; ++r)
          top->i[r] = static_cast<int64_t>(0ull - static_cast<uint64_t>(top->ints[r]));
        top->ints = top->i;
        break;
      case Op::kNegF:
        for (int64_t r = 0, m = rows(); r < m; ++r) top->f[r] = -top->floats[r];
        top->floats = top->f;
        break;
      case Op::kTruthI:
        for (int64_t r = 0, m = rows(); r < m; ++r) top->i[r] = top->ints[r] != 0;
        top->ints = top->i;
        break;
      case Op::kTruthF:
        for (int64_t r = 0, m = rows(); r < m; ++r) top->i[r] = top->floats[r] != 0.0;
        top->ints = top->i;
        break;
      case Op::kNot:
        for (int64_t r = 0, m = rows(); r < m; ++r) top->i[r] = top->ints[r] == 0;
        top->ints = top->i;
        break;
      case Op::kIsNull:  // never null
        for (int64_t r = 0, m = rows(); r < m; ++r) top->i[r] = top->valid != nullptr && top->valid[r] == 0;
        top->ints = top->i;
        top->valid = nullptr;
        break;
      case Op::kAbsI:  // wraps at INT64_MIN
        for (int64_t r = 0, m = rows(); r < m; ++r) {
          const int64_t x = top->ints[r];
          top->i[r] = x < 0 ? static_cast<int64_t>(0ull - static_cast<uint64_t>(x)) : x;
        }
        top->ints = top->i;
        break;
      case Op::kSignI:
        for (int64_t r = 0, m = rows(); r < m; ++r) {
          const int64_t x = top->ints[r];
          top->i[r] = (x > 0) - (x < 0);
        }
        top->ints = top->i;
        break;
      case Op::kMathF:  // a loop per function; a domain error makes the row null
        WithConstant<kMathFns>(in.arg, [&](auto fn) {
          const double* x = top->floats;
          const uint8_t* v = top->valid;
          for (int64_t r = 0, m = rows(); r < m; ++r) {
            double y = 0.0;
            const bool ok = detail::MathF(fn, x[r], &y);
            top->f[r] = y;
            top->flags[r] = static_cast<uint8_t>((v == nullptr ? 1 : v[r]) & ok);
          }
        });
        top->floats = top->f;
        top->valid = top->flags;
        break;
      case Op::kFloatToInt: {  // halves to even; NaN or past int64: null
        const double* x = top->floats;
        const uint8_t* v = top->valid;
        for (int64_t r = 0, m = rows(); r < m; ++r) {
          const bool ok = x[r] >= -9.2e18 && x[r] <= 9.2e18;
          top->i[r] = ok ? static_cast<int64_t>(::nearbyint(x[r])) : 0;
          top->flags[r] = static_cast<uint8_t>((v == nullptr ? 1 : v[r]) & ok);
        }
        top->ints = top->i;
        top->valid = top->flags;
        break;
      }
      case Op::kInI:
      case Op::kInF: {  // x in the list: 0 or 1 (a null x stays null)
        const int64_t m = rows();
        const int32_t count = in.arg2;
        if (count <= kInScanMax) {
          // An equality per constant, or-ed: loops over the rows.
          int64_t hit[kEvalBlock] = {};
          for (int32_t k = 0; k < count; ++k) {
            if (in.op == Op::kInI) {
              const int64_t c = p.ints[in.arg + k];
              for (int64_t r = 0; r < m; ++r) hit[r] |= top->ints[r] == c;
            } else {
              const double c = p.floats[in.arg + k];
              for (int64_t r = 0; r < m; ++r) hit[r] |= top->floats[r] == c;
            }
          }
          for (int64_t r = 0; r < m; ++r) top->i[r] = hit[r];
        } else if (in.op == Op::kInI) {
          const IntSetView set = IntSetOf(p.ints, in.arg, count);
          for (int64_t r = 0; r < m; ++r) top->i[r] = InIntSet(set, top->ints[r]);
        } else {
          const double* c = p.floats + in.arg;
          for (int64_t r = 0; r < m; ++r) {
            const double x = top->floats[r];
            top->i[r] = x == x && std::binary_search(c, c + count, x);  // NaN equals nothing
          }
        }
        top->ints = top->i;
        break;
      }
      case Op::kDatePart:  // a loop per part
        WithConstant<kDateParts>(in.arg, [&](auto part) {
          for (int64_t r = 0, m = rows(); r < m; ++r) top->i[r] = detail::DatePartOf(top->ints[r], part);
        });
        top->ints = top->i;
        break;
      case Op::kUnknownIfFalse:  // 0 becomes null
        for (int64_t r = 0, m = rows(); r < m; ++r)
          top->flags[r] = static_cast<uint8_t>((top->valid == nullptr ? 1 : top->valid[r]) & (top->ints[r] != 0));
        top->valid = top->flags;
        break;
      case Op::kAnd:   // false and x = false; true and null = null
      case Op::kOr: {  // true or x = true; false or null = null
        // Each side as per-row truth and valid bytes (a constant spread
        // over the rows), then one branch-free loop.
        Spread(a, n);
        Spread(top, n);
        const uint8_t* av = ValidOf(a);
        const uint8_t* bv = ValidOf(top);
        const uint8_t want = in.op == Op::kAnd ? 0 : 1;  // the value that settles it
        for (int64_t r = 0; r < n; ++r) {
          const uint8_t x = static_cast<uint8_t>(a->ints[r] != 0), y = static_cast<uint8_t>(top->ints[r] != 0);
          const uint8_t settled = static_cast<uint8_t>((av[r] & (x == want)) | (bv[r] & (y == want)));
          a->i[r] = settled ? want : 1 - want;
          a->flags[r] = static_cast<uint8_t>(settled | (av[r] & bv[r]));
        }
        a->ints = a->i;
        a->valid = a->flags;
        break;
      }
      case Op::kMaxI:
      case Op::kMaxF:
      case Op::kMinI:
      case Op::kMinF:
      case Op::kIfNull: {  // a b -> b where a is null; greatest, least: also where b is valid and beyond a
        Spread(a, n);
        Spread(top, n);
        const bool all_valid = a->valid == nullptr || top->valid == nullptr;
        const uint8_t* av = ValidOf(a);
        const uint8_t* bv = ValidOf(top);
        // beyond(y, x): whether y replaces a valid x (a NaN neither
        // replaces nor is replaced).
        const auto choose = [&](const auto* x, const auto* y, auto* out, auto beyond) {
          for (int64_t r = 0; r < n; ++r) {
            const bool take = !av[r] | (bv[r] & beyond(y[r], x[r]));
            out[r] = take ? y[r] : x[r];
            a->flags[r] = av[r] | bv[r];
          }
        };
        const auto larger = [](auto y, auto x) { return x < y; };
        const auto smaller = [](auto y, auto x) { return y < x; };
        const auto never = [](auto, auto) { return false; };
        switch (in.op) {
          case Op::kMaxI:
            choose(a->ints, top->ints, a->i, larger);
            break;
          case Op::kMinI:
            choose(a->ints, top->ints, a->i, smaller);
            break;
          case Op::kMaxF:
            choose(a->floats, top->floats, a->f, larger);
            break;
          case Op::kMinF:
            choose(a->floats, top->floats, a->f, smaller);
            break;
          default:  // kIfNull
            if (in.arg == static_cast<int32_t>(ValueKind::kFloat)) {
              choose(a->floats, top->floats, a->f, never);
            } else {
              choose(a->ints, top->ints, a->i, never);
            }
            break;
        }
        a->ints = a->i;
        a->floats = a->f;
        a->valid = all_valid ? nullptr : a->flags;
        break;
      }
      case Op::kNullIfI:
      case Op::kNullIfF: {  // a b -> a, null where b is valid and a = b
        Spread(a, n);
        Spread(top, n);
        const uint8_t* av = ValidOf(a);
        const uint8_t* bv = ValidOf(top);
        const auto null_if = [&](const auto* x, const auto* y) {
          for (int64_t r = 0; r < n; ++r) a->flags[r] = static_cast<uint8_t>(av[r] & !(bv[r] & (x[r] == y[r])));
        };
        if (in.op == Op::kNullIfF) {
          null_if(a->floats, top->floats);
        } else {
          null_if(a->ints, top->ints);
        }
        a->valid = a->flags;
        break;
      }
      case Op::kIf: {  // c x y -> x where c is true, else y
        NumberBlock* c = top - 2;
        const NumberBlock* x = top - 1;
        Spread(c, n);
        Spread(top - 1, n);
        Spread(top, n);
        const bool all_valid = x->valid == nullptr && top->valid == nullptr;
        const uint8_t* cv = ValidOf(c);
        const uint8_t* xv = ValidOf(x);
        const uint8_t* yv = ValidOf(top);
        const int64_t* truth = c->ints;
        const auto pick = [&](const auto* xs, const auto* ys, auto* out) {
          for (int64_t r = 0; r < n; ++r) {
            const bool take = cv[r] & (truth[r] != 0);
            out[r] = take ? xs[r] : ys[r];
            c->flags[r] = take ? xv[r] : yv[r];
          }
        };
        if (in.arg == static_cast<int32_t>(ValueKind::kFloat)) {
          pick(x->floats, top->floats, c->f);
        } else {
          pick(x->ints, top->ints, c->i);
        }
        c->ints = c->i;
        c->floats = c->f;
        c->valid = all_valid ? nullptr : c->flags;
        break;
      }
      case Op::kBetweenI:
      case Op::kBetweenF: {  // x lo hi -> x >= lo and x <= hi, three-valued
        NumberBlock* x = top - 2;
        Spread(x, n);
        Spread(top - 1, n);
        Spread(top, n);
        const uint8_t* xv = ValidOf(x);
        const uint8_t* lv = ValidOf(top - 1);
        const uint8_t* hv = ValidOf(top);
        const auto between = [&](const auto* xs, const auto* lo, const auto* hi) {
          for (int64_t r = 0; r < n; ++r) {
            const uint8_t ge_valid = xv[r] & lv[r], le_valid = xv[r] & hv[r];
            const uint8_t no = static_cast<uint8_t>((ge_valid & !(xs[r] >= lo[r])) | (le_valid & !(xs[r] <= hi[r])));
            x->i[r] = !no;
            x->flags[r] = static_cast<uint8_t>(no | (ge_valid & le_valid));
          }
        };
        if (in.op == Op::kBetweenF) {
          between(x->floats, (top - 1)->floats, top->floats);
        } else {
          between(x->ints, (top - 1)->ints, top->ints);
        }
        x->ints = x->i;
        x->valid = x->flags;
        break;
      }
      default: {  // a binary operator: a = a op top
        const NumberBlock* b = top;
        AndValid(a, b, n);
        const bool ac = a->constant, bc = b->constant;
        bool constant = false;
        switch (in.op) {
          case Op::kAddI:
            constant = IntsOp(a, b, n, [](uint64_t x, uint64_t y) { return x + y; });
            break;
          case Op::kSubI:
            constant = IntsOp(a, b, n, [](uint64_t x, uint64_t y) { return x - y; });
            break;
          case Op::kMulI:
            constant = IntsOp(a, b, n, [](uint64_t x, uint64_t y) { return x * y; });
            break;
          case Op::kAddF:
            constant = FloatsOp(a, b, n, [](double x, double y) { return x + y; });
            break;
          case Op::kSubF:
            constant = FloatsOp(a, b, n, [](double x, double y) { return x - y; });
            break;
          case Op::kMulF:
            constant = FloatsOp(a, b, n, [](double x, double y) { return x * y; });
            break;
          case Op::kDivF:  // x / 0 and x % 0 are null; INT64_MIN / -1 wraps
          case Op::kDivI:  // (and INT64_MIN % -1 is 0)
          case Op::kModF:
          case Op::kModI: {
            const bool is_float = in.op == Op::kDivF || in.op == Op::kModF;
            // A constant divisor other than 0 makes no row null: a's flags
            // stay as AndValid left them.
            const bool nonzero = bc && (is_float ? b->floats[0] != 0.0 : b->ints[0] != 0);
            if (nonzero) {
              switch (in.op) {
                case Op::kDivF:
                  constant = FloatsOp(a, b, n, [](double x, double y) { return x / y; });
                  break;
                case Op::kModF:
                  constant = FloatsOp(a, b, n, [](double x, double y) { return ::fmod(x, y); });
                  break;
                case Op::kDivI:
                  constant = IntsOp(a, b, n, [](uint64_t x, uint64_t y) {
                    const int64_t d = static_cast<int64_t>(y);
                    return d == -1 ? 0ull - x : static_cast<uint64_t>(static_cast<int64_t>(x) / d);
                  });
                  break;
                default:  // kModI
                  constant = IntsOp(a, b, n, [](uint64_t x, uint64_t y) {
                    const int64_t d = static_cast<int64_t>(y);
                    return d == -1 ? uint64_t{0} : static_cast<uint64_t>(static_cast<int64_t>(x) % d);
                  });
                  break;
              }
              break;
            }
            FlagEveryRow(a, ac && bc, n);
            const int64_t bi = bc ? 0 : 1;
            for (int64_t r = 0; r < n; ++r) {
              const bool zero = is_float ? b->floats[r * bi] == 0.0 : b->ints[r * bi] == 0;
              if (zero) a->flags[r] = 0;
            }
            if (in.op == Op::kDivF) {
              constant = FloatsOp(a, b, n, [](double x, double y) { return x / (y != 0.0 ? y : 1.0); });
            } else if (in.op == Op::kModF) {
              constant = FloatsOp(a, b, n, [](double x, double y) { return ::fmod(x, y != 0.0 ? y : 1.0); });
            } else if (in.op == Op::kModI) {
              constant = Apply(a->ints, ac, b->ints, bc, a->i, n,
                               [](int64_t x, int64_t y) { return y == 0 || y == -1 ? int64_t{0} : x % y; });
              a->ints = a->i;
            } else {
              constant = Apply(a->ints, ac, b->ints, bc, a->i, n, [](int64_t x, int64_t y) {
                return y == 0 ? int64_t{0} : y == -1 ? static_cast<int64_t>(0ull - static_cast<uint64_t>(x)) : x / y;
              });
              a->ints = a->i;
            }
            constant = false;  // its flags are per row now
            if (ac && bc) {
              for (int64_t r = 1; r < n; ++r) {
                a->i[r] = a->i[0];
                a->f[r] = a->f[0];
              }
            }
            break;
          }
          case Op::kPowF: {  // null at a pole (0 to a negative power) and for NaN of numbers
            FlagEveryRow(a, ac && bc, n);
            const double* xs = a->floats;
            const double* ys = b->floats;
            const double x0 = xs[0], y0 = ys[0];
            for (int64_t r = 0; r < n; ++r) {
              const double x = ac ? x0 : xs[r], y = bc ? y0 : ys[r];
              const double v = ::pow(x, y);
              const bool undefined = (x == 0.0 && y < 0) || (v != v && x == x && y == y);
              a->f[r] = v;
              a->flags[r] = static_cast<uint8_t>(a->flags[r] & !undefined);
            }
            a->floats = a->f;
            break;  // not constant: its flags are per row
          }
          case Op::kRoundI:
            constant = Apply(a->ints, ac, b->ints, bc, a->i, n,
                             [](int64_t x, int64_t digits) { return detail::RoundDigits(x, digits); });
            a->ints = a->i;
            break;
          case Op::kRoundF:
            constant = Apply(a->floats, ac, b->ints, bc, a->f, n,
                             [](double x, int64_t digits) { return detail::RoundDigits(x, digits); });
            a->floats = a->f;
            break;
          case Op::kCmpI:
            constant = Compare(static_cast<Cmp>(in.arg), a->ints, ac, b->ints, bc, a->i, n);
            a->ints = a->i;
            break;
          default:  // kCmpF
            constant = Compare(static_cast<Cmp>(in.arg), a->floats, ac, b->floats, bc, a->i, n);
            a->ints = a->i;
            break;
        }
        a->constant = constant;
        break;
      }
    }
    sp += StackEffect(in.op);
  }
}

// The value of NumericBlock's result at row r, and whether it is valid.
inline bool NumberValid(const NumberBlock& v, int64_t r) {
  return v.valid == nullptr || v.valid[v.constant ? 0 : r] != 0;
}
inline int64_t NumberInt(const NumberBlock& v, int64_t r) { return v.ints[v.constant ? 0 : r]; }
inline double NumberFloat(const NumberBlock& v, int64_t r) { return v.floats[v.constant ? 0 : r]; }

// NumericBlock's stack, one per thread, reused.
inline NumberBlock* NumberStack(int depth) {
  thread_local std::vector<NumberBlock> stack;
  if (stack.size() < static_cast<size_t>(depth)) stack.resize(static_cast<size_t>(depth));
  return stack.data();
}

// A block's stack, one per thread, reused.
inline Slot* BlockStack(int depth) {
  thread_local std::vector<Slot> stack;
  const size_t need = static_cast<size_t>(kEvalBlock) * static_cast<size_t>(depth);
  if (stack.size() < need) stack.resize(need);
  return stack.data();
}

}  // namespace kernels::detail
