#pragma once

// A compiled expression: a short stack program evaluated once per row, on
// either backend. The engine's expression compiler (engine/expression.h)
// type-checks an expression and emits this code; kernels run it inside one
// fused pass over the rows, so an expression never materializes a temporary
// column per operator.

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/column.h"
#include "kernels/hd.h"
#include "kernels/memory.h"

namespace kernels {

// The kind of a value on the stack; fixed per instruction by the compiler.
enum class ValueKind : uint8_t { kInt, kFloat, kString };

enum class Op : uint8_t {
  kColumn,      // push column `arg` of the program's column table
  kConstInt,    // push ints[arg]
  kConstFloat,  // push floats[arg]
  kConstString, // push string constant `arg`
  kConstNull,   // push null
  kIntToFloat,  // convert top
  kAddI, kSubI, kMulI, kDivI, kModI, kNegI,  // integer arithmetic (wraps; x/0 is null)
  kAddF, kSubF, kMulF, kDivF, kModF, kNegF,  // float arithmetic (x/0 is null)
  kCmpI, kCmpF, kCmpS,  // compare the two top values; `arg` is a Cmp; pushes int 0/1
  kTruthI, kTruthF,     // x != 0 as int 0/1 (null stays null)
  kAnd, kOr,            // SQL three-valued logic on truth values
  kNot,
  kIsNull,              // int 1 if top is null else 0; never null
};

enum class Cmp : int32_t { kEq, kNe, kLt, kLe, kGt, kGe };

struct Instr {
  Op op;
  int32_t arg;
  int32_t arg2 = 0;  // a second operand where an op needs one
};

// Deepest stack a program may use; the compiler refuses deeper expressions.
constexpr int kMaxStackDepth = 32;

// Case folding applied to a string value when it is read (lower/upper
// return views with a fold instead of new strings).
enum Fold : uint8_t { kNoFold = 0, kFoldLower = 1, kFoldUpper = 2 };

KERNELS_HD inline char FoldChar(char c, uint8_t fold) {
  if (fold == kFoldLower && c >= 'A' && c <= 'Z') return static_cast<char>(c - 'A' + 'a');
  if (fold == kFoldUpper && c >= 'a' && c <= 'z') return static_cast<char>(c - 'a' + 'A');
  return c;
}

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

// Everything a kernel needs to evaluate a program, as device pointers.
struct ProgramView {
  const Instr* code = nullptr;
  int32_t length = 0;
  const ColumnView* columns = nullptr;
  const int64_t* ints = nullptr;
  const double* floats = nullptr;
  const char* chars = nullptr;             // string constants, concatenated
  const int64_t* string_offsets = nullptr; // constant k is chars[off[k], off[k+1])
  ValueKind result = ValueKind::kInt;
};

// A program as the compiler builds it, in host memory.
struct Program {
  std::vector<Instr> code;
  std::vector<ColumnView> columns;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::string chars;
  std::vector<int64_t> string_offsets{0};
  ValueKind result = ValueKind::kInt;

  int32_t AddInt(int64_t v);
  int32_t AddFloat(double v);
  int32_t AddString(const std::string& s);
};

// A program copied to a device; owns the memory its view points into.
struct DeviceProgram {
  Buffer storage;
  ProgramView view;
};

// Copies `program` (and its column table) to exec's device.
DeviceProgram Upload(const Program& program, const Exec& exec);

namespace detail {

KERNELS_HD inline int CompareBytes(const char* a, int64_t na, const char* b, int64_t nb) {
  const int64_t n = na < nb ? na : nb;
  for (int64_t k = 0; k < n; ++k) {
    const unsigned char ca = static_cast<unsigned char>(a[k]);
    const unsigned char cb = static_cast<unsigned char>(b[k]);
    if (ca != cb) return ca < cb ? -1 : 1;
  }
  return na == nb ? 0 : (na < nb ? -1 : 1);
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
      break;
    }
    case PhysType::kVarChars:
      out.s = static_cast<const char*>(c.data) + c.offsets[row];
      out.len = c.offsets[row + 1] - c.offsets[row];
      break;
  }
}

}  // namespace detail

// Evaluates `p` for one row. A null result has valid == false.
KERNELS_HD inline Slot Evaluate(const ProgramView& p, int64_t row) {
  Slot st[kMaxStackDepth];
  int sp = 0;  // next free slot
  for (int32_t pc = 0; pc < p.length; ++pc) {
    const Instr in = p.code[pc];
    switch (in.op) {
      case Op::kColumn:
        detail::LoadColumn(p.columns[in.arg], row, st[sp++]);
        break;
      case Op::kConstInt:
        st[sp].i = p.ints[in.arg];
        st[sp++].valid = true;
        break;
      case Op::kConstFloat:
        st[sp].f = p.floats[in.arg];
        st[sp++].valid = true;
        break;
      case Op::kConstString:
        st[sp].s = p.chars + p.string_offsets[in.arg];
        st[sp].len = p.string_offsets[in.arg + 1] - p.string_offsets[in.arg];
        st[sp++].valid = true;
        break;
      case Op::kConstNull:
        st[sp].i = 0;
        st[sp].len = 0;
        st[sp++].valid = false;
        break;
      case Op::kIntToFloat:
        st[sp - 1].f = static_cast<double>(st[sp - 1].i);
        break;
      case Op::kNegI:
        st[sp - 1].i = static_cast<int64_t>(0ull - static_cast<uint64_t>(st[sp - 1].i));
        break;
      case Op::kNegF:
        st[sp - 1].f = -st[sp - 1].f;
        break;
      case Op::kTruthI:
        st[sp - 1].i = st[sp - 1].i != 0;
        break;
      case Op::kTruthF:
        st[sp - 1].i = st[sp - 1].f != 0.0;
        break;
      case Op::kNot:
        st[sp - 1].i = st[sp - 1].i == 0;
        break;
      case Op::kIsNull:
        st[sp - 1].i = st[sp - 1].valid ? 0 : 1;
        st[sp - 1].valid = true;
        break;
      default: {
        Slot& a = st[sp - 2];
        const Slot& b = st[sp - 1];
        --sp;
        switch (in.op) {
          case Op::kAnd: {
            // false and x = false; true and null = null.
            const bool a_false = a.valid && a.i == 0;
            const bool b_false = b.valid && b.i == 0;
            if (a_false || b_false) {
              a.i = 0;
              a.valid = true;
            } else {
              a.i = 1;
              a.valid = a.valid && b.valid;
            }
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
            if (b.i == 0 || (b.i == -1 && a.i == INT64_MIN)) {
              // x/0 is null; INT64_MIN / -1 wraps like the other operators.
              if (b.i == 0) {
                a.valid = false;
              } else {
                a.i = in.op == Op::kDivI ? a.i : 0;
              }
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
            if (b.f == 0.0) {
              a.valid = false;
            } else {
              a.f = fmod(a.f, b.f);
            }
            break;
          case Op::kCmpI: a.i = detail::ApplyCmp(in.arg, detail::CompareValues(a.i, b.i)); break;
          case Op::kCmpF:
            // NaN is unordered: every comparison with it is false except !=.
            a.i = (a.f != a.f || b.f != b.f) ? static_cast<Cmp>(in.arg) == Cmp::kNe
                                             : detail::ApplyCmp(in.arg, detail::CompareValues(a.f, b.f));
            break;
          case Op::kCmpS:
            a.i = detail::ApplyCmp(in.arg, detail::CompareBytes(a.s, a.len, b.s, b.len));
            break;
          default: break;
        }
      }
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
