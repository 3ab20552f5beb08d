#pragma once

// A compiled expression: a short stack program evaluated once per row, on
// either backend. The engine's expression compiler (engine/expr/expression.h)
// type-checks an expression and emits this code; kernels run it inside one
// fused pass over the rows, so an expression never materializes a temporary
// column per operator.
//
// Every op pops its operands and pushes one result (StackEffect gives the net
// change). Ops are uniform across the rows of a kernel; only the loops inside
// a few string ops (like, in over strings) depend on the data. Nothing here
// allocates: a string result is a view into a column or a constant, with a
// case fold applied by whoever reads its bytes.
//
// Null: an op whose operand is null gives null, except where noted (and, or,
// between, is_null, if, ifnull, greatest/least, nullif's second operand,
// in-lists).

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "kernels/column.h"
#include "kernels/hd.h"
#include "kernels/memory.h"
#include "kernels/scan_plan.h"

namespace kernels {

// The kind of a value on the stack; fixed per instruction by the compiler.
enum class ValueKind : uint8_t { kInt, kFloat, kString };

enum class Op : uint8_t {
  kColumn,       // push column `arg` of the program's column table
  kConstInt,     // push ints[arg]
  kConstFloat,   // push floats[arg]
  kConstString,  // push string constant `arg`
  kConstNull,    // push null
  kIntToFloat,   // convert top
  kAddI,
  kSubI,
  kMulI,
  kDivI,
  kModI,
  kNegI,  // integer arithmetic (wraps; x/0 is null)
  kAddF,
  kSubF,
  kMulF,
  kDivF,
  kModF,
  kNegF,  // float arithmetic (x/0 is null)
  kCmpI,
  kCmpF,
  kCmpS,  // compare the two top values; `arg` is a Cmp; pushes int 0/1
  kTruthI,
  kTruthF,  // x != 0 as int 0/1 (null stays null)
  kAnd,
  kOr,  // SQL three-valued logic on truth values
  kNot,
  kIsNull,  // int 1 if top is null else 0; never null

  // x lo hi -> x >= lo and x <= hi, three-valued (x is read once).
  kBetweenI,
  kBetweenF,
  kBetweenS,
  // x -> 1 when x equals one of the `arg2` constants from index `arg` (ints,
  // floats or string constants, ascending and distinct: found by binary
  // search, or for more than kInHashMin ints by their hash table (see
  // InIntSet); floats without NaN; strings bytewise), else 0; null when x
  // is null.
  kInI,
  kInF,
  kInS,
  kUnknownIfFalse,  // 0 becomes null (an in-list that holds null)
  kLike,            // s -> 1 when s matches the pattern in string constant `arg` (% and _)
  kIf,              // c a b -> a when c is true (non-null, non-zero), else b; `arg`: a's and b's ValueKind
  kIfNull,          // a b -> a unless a is null, else b; `arg`: their ValueKind
  kNullIfI,
  kNullIfF,
  kNullIfS,  // a b -> null when a = b, else a
  kMaxI,
  kMaxF,
  kMaxS,  // a b -> the larger; a null operand is skipped
  kMinI,
  kMinF,
  kMinS,        // a b -> the smaller; a null operand is skipped
  kAbsI,        // |x| (wraps at INT64_MIN)
  kSignI,       // -1, 0 or 1
  kMathF,       // float function `arg` (a MathFn) of the top; domain errors give null
  kPowF,        // x y -> x^y; null where undefined (NaN, or 0 to a negative power)
  kRoundI,      // x d -> x rounded half away from zero to d decimal digits (int d)
  kRoundF,      // x d -> the same for a float x
  kLength,      // s -> its length in bytes
  kFold,        // s -> s with fold `arg` (a Fold)
  kSubstr,      // s start len -> bytes [start, start + len) of s, 1-based, clipped
  kDatePart,    // ms since the epoch (UTC) -> date part `arg` (a DatePart)
  kFloatToInt,  // x -> x rounded to a whole number, halves to even (as SQL's CAST); null past int64 or NaN
};

enum class Cmp : int32_t { kEq, kNe, kLt, kLe, kGt, kGe };

// Functions of kMathF.
enum class MathFn : int32_t { kAbs, kSign, kSqrt, kCbrt, kExp, kLn, kLog10, kFloor, kCeil, kRound };

// Parts of kDatePart.
enum class DatePart : int32_t { kYear, kMonth, kDay, kHour, kMinute, kSec };

// A kInI list of more than kInHashMin constants is followed in `ints` by a
// hash table of InTableSlots(count) entries and a filter of
// InFilterWords(count) 64-bit words (Program::AddIntSet builds them):
// each table entry is -1 (empty) or the offset k < count of constant
// arg + k, placed by linear probing from InSlot; the filter has the bit
// InFilterBit of every constant set, so that most values not in the list
// (a bit in 64 is set) are turned away without a probe.
constexpr int32_t kInHashMin = 16;

KERNELS_HD inline int32_t InTableSlots(int32_t count) {
  int32_t slots = 32;
  while (slots < 2 * count) slots *= 2;
  return slots;
}

KERNELS_HD inline int32_t InFilterWords(int32_t count) {
  int32_t words = 16;
  while (words < count && words < (1 << 14)) words *= 2;
  return words;
}

KERNELS_HD inline uint64_t InHash(int64_t v) {
  const uint64_t h = static_cast<uint64_t>(v) * 0x9E3779B97F4A7C15ull;
  return h ^ (h >> 29);
}

KERNELS_HD inline uint32_t InSlot(uint64_t hash, uint32_t mask) { return static_cast<uint32_t>(hash) & mask; }

KERNELS_HD inline uint32_t InFilterBit(uint64_t hash, uint32_t bit_mask) {
  return static_cast<uint32_t>(hash >> 40) & bit_mask;
}

// A kInI list as InIntSet reads it: its `count` ascending constants, and
// past kInHashMin of them its hash table and filter (their sizes worked out
// once, not per value tested).
struct IntSetView {
  const int64_t* values;
  int32_t count;
  const int64_t* table;  // null: a short list, searched
  const int64_t* filter;
  uint32_t mask;      // table slots - 1
  uint32_t bit_mask;  // filter bits - 1
};

KERNELS_HD inline IntSetView IntSetOf(const int64_t* ints, int32_t first, int32_t count) {
  IntSetView set{ints + first, count, nullptr, nullptr, 0, 0};
  if (count <= kInHashMin) return set;
  const int32_t slots = InTableSlots(count);
  set.table = set.values + count;
  set.filter = set.table + slots;
  set.mask = static_cast<uint32_t>(slots - 1);
  set.bit_mask = static_cast<uint32_t>(InFilterWords(count) * 64 - 1);
  return set;
}

// Whether x is one of the constants of `set` (through its filter and hash
// table when it has them).
KERNELS_HD inline bool InIntSet(const IntSetView& set, int64_t x) {
  const int64_t* c = set.values;
  if (set.table == nullptr) {
    int32_t lo = 0, hi = set.count;
    while (lo < hi) {
      const int32_t mid = lo + (hi - lo) / 2;
      if (c[mid] == x) return true;
      if (c[mid] < x) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return false;
  }
  const uint64_t h = InHash(x);
  const uint32_t bit = InFilterBit(h, set.bit_mask);
  if (((static_cast<uint64_t>(set.filter[bit >> 6]) >> (bit & 63)) & 1) == 0) return false;
  for (uint32_t s = InSlot(h, set.mask), probes = 0; probes <= set.mask; s = (s + 1) & set.mask, ++probes) {
    const int64_t k = set.table[s];
    if (k < 0) return false;
    if (c[k] == x) return true;
  }
  return false;
}

struct Instr {
  Op op;
  int32_t arg;
  int32_t arg2 = 0;  // a second operand where an op needs one
};

// Net change of the stack's depth by `op`: a push adds one; every other op
// pops its operands (1 - StackEffect of them) and pushes its result.
KERNELS_HD inline int StackEffect(Op op) {
  switch (op) {
    case Op::kColumn:
    case Op::kConstInt:
    case Op::kConstFloat:
    case Op::kConstString:
    case Op::kConstNull:
      return 1;
    case Op::kIntToFloat:
    case Op::kNegI:
    case Op::kNegF:
    case Op::kTruthI:
    case Op::kTruthF:
    case Op::kNot:
    case Op::kIsNull:
    case Op::kInI:
    case Op::kInF:
    case Op::kInS:
    case Op::kUnknownIfFalse:
    case Op::kLike:
    case Op::kAbsI:
    case Op::kSignI:
    case Op::kMathF:
    case Op::kLength:
    case Op::kFold:
    case Op::kDatePart:
    case Op::kFloatToInt:
      return 0;
    case Op::kBetweenI:
    case Op::kBetweenF:
    case Op::kBetweenS:
    case Op::kIf:
    case Op::kSubstr:
      return -2;
    default:
      return -1;
  }
}

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
  // The program's scan plan (scan_plan.h) on the device, and its kind (kNone:
  // none, plan is null); set by Upload. Kernels that know the plan's kind run
  // it instead of the code.
  const ScanPlan* plan = nullptr;
  PlanKind plan_kind = PlanKind::kNone;
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
  // A kInI list's constants (ascending, distinct), and its hash table when
  // it has more than kInHashMin; returns the index of the first.
  int32_t AddIntSet(const std::vector<int64_t>& sorted);
  int32_t AddFloat(double v);
  int32_t AddString(const std::string& s);
};

// True when `p` can be evaluated safely: every op known, its operands always
// on the stack, the stack never deeper than kMaxStackDepth, one value left at
// the end, and every constant, column and enum argument in range.
bool IsWellFormed(const Program& p);

// A program copied to a device; owns the memory its view points into.
struct DeviceProgram {
  Buffer storage;
  ProgramView view;
};

// Copies `program` (and its column table, and its scan plan when it has one)
// to exec's device.
DeviceProgram Upload(const Program& program, const Exec& exec);

}  // namespace kernels
