#pragma once

// The host's evaluator of expression programs: an instruction at a time
// over a block of rows (EvaluateBlock), so that each instruction's switch
// is taken once per block rather than once per row, its row loop running the
// instruction's own code (Step with a constant op). Each row keeps its own
// stack, `depth` slots long, in one buffer per block. Same values as
// Evaluate (expr_eval.h) row for row.

#include <cstdint>
#include <type_traits>
#include <vector>

#include "kernels/detail/expr_eval.h"
#include "kernels/expr_program.h"

namespace kernels::detail {

// Rows per block.
constexpr int64_t kEvalBlock = 256;

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
#undef KERNELS_BLOCK_OP
      default:  // the rarer ops: the same code, its switch taken per row
        for (int64_t r = 0; r < n; ++r) Step(in.op, p, in, s + r * depth, first + r);
        break;
    }
    sp += effect;
  }
}

// Whether `p` is arithmetic on numbers only: numeric columns, number
// constants, +, -, * and negation of ints or floats and ints made floats.
// Such a program runs by NumericBlock: typed arrays, a loop per
// instruction that the compiler vectorizes.
inline bool IsNumericArithmetic(const ProgramView& p) {
  for (int32_t pc = 0; pc < p.length; ++pc) {
    const Instr in = p.code[pc];
    switch (in.op) {
      case Op::kColumn: {
        const PhysType t = p.columns[in.arg].type;
        if (t == PhysType::kFixedChars || t == PhysType::kVarChars) return false;
        break;
      }
      case Op::kConstInt:
      case Op::kConstFloat:
      case Op::kIntToFloat:
      case Op::kAddI:
      case Op::kSubI:
      case Op::kMulI:
      case Op::kNegI:
      case Op::kAddF:
      case Op::kSubF:
      case Op::kMulF:
      case Op::kNegF:
        break;
      default:
        return false;
    }
  }
  return p.result == ValueKind::kInt || p.result == ValueKind::kFloat;
}

// A NumericBlock stack entry: n values, as ints or floats (the
// instructions say which), and whether each is valid.
struct NumberBlock {
  int64_t i[kEvalBlock];
  double f[kEvalBlock];
  uint8_t valid[kEvalBlock];
};

template <typename T>
inline void LoadNumbers(const ColumnView& c, int64_t first, int64_t n, NumberBlock* out) {
  const T* x = static_cast<const T*>(c.data) + first;
  if constexpr (std::is_floating_point_v<T>) {
    for (int64_t r = 0; r < n; ++r) out->f[r] = static_cast<double>(x[r]);
  } else {
    for (int64_t r = 0; r < n; ++r) out->i[r] = static_cast<int64_t>(x[r]);
  }
  if (c.validity == nullptr) {
    for (int64_t r = 0; r < n; ++r) out->valid[r] = 1;
  } else {
    for (int64_t r = 0; r < n; ++r) out->valid[r] = c.validity[first + r] != 0 ? 1 : 0;
  }
}

// Runs an IsNumericArithmetic program for rows [first, first + n) (n <=
// kEvalBlock) into stack[0]: the values Evaluate gives row by row (the same
// operations in the same order; a null operand makes the result null,
// whose value is then never read). REQUIRES: stack holds StackDepth(p)
// entries.
inline void NumericBlock(const ProgramView& p, int64_t first, int64_t n, NumberBlock* stack) {
  int sp = 0;
  for (int32_t pc = 0; pc < p.length; ++pc) {
    const Instr in = p.code[pc];
    NumberBlock* top = stack + sp - 1;
    switch (in.op) {
      case Op::kColumn: {
        const ColumnView& c = p.columns[in.arg];
        NumberBlock* out = stack + sp;
        switch (c.type) {
          case PhysType::kInt8:
            LoadNumbers<int8_t>(c, first, n, out);
            break;
          case PhysType::kInt16:
            LoadNumbers<int16_t>(c, first, n, out);
            break;
          case PhysType::kInt32:
            LoadNumbers<int32_t>(c, first, n, out);
            break;
          case PhysType::kInt64:
            LoadNumbers<int64_t>(c, first, n, out);
            break;
          case PhysType::kFloat32:
            LoadNumbers<float>(c, first, n, out);
            break;
          default:
            LoadNumbers<double>(c, first, n, out);
            break;
        }
        break;
      }
      case Op::kConstInt:
        for (int64_t r = 0; r < n; ++r) stack[sp].i[r] = p.ints[in.arg], stack[sp].valid[r] = 1;
        break;
      case Op::kConstFloat:
        for (int64_t r = 0; r < n; ++r) stack[sp].f[r] = p.floats[in.arg], stack[sp].valid[r] = 1;
        break;
      case Op::kIntToFloat:
        for (int64_t r = 0; r < n; ++r) top->f[r] = static_cast<double>(top->i[r]);
        break;
      case Op::kNegI:
        for (int64_t r = 0; r < n; ++r) top->i[r] = static_cast<int64_t>(0ull - static_cast<uint64_t>(top->i[r]));
        break;
      case Op::kNegF:
        for (int64_t r = 0; r < n; ++r) top->f[r] = -top->f[r];
        break;
      default: {  // a binary operator: top - 1 = (top - 1) op top
        NumberBlock* a = top - 1;
        const NumberBlock* b = top;
        for (int64_t r = 0; r < n; ++r) a->valid[r] &= b->valid[r];
        const auto ints = [&](auto f) {
          for (int64_t r = 0; r < n; ++r) {
            a->i[r] = static_cast<int64_t>(f(static_cast<uint64_t>(a->i[r]), static_cast<uint64_t>(b->i[r])));
          }
        };
        switch (in.op) {
          case Op::kAddI:
            ints([](uint64_t x, uint64_t y) { return x + y; });
            break;
          case Op::kSubI:
            ints([](uint64_t x, uint64_t y) { return x - y; });
            break;
          case Op::kMulI:
            ints([](uint64_t x, uint64_t y) { return x * y; });
            break;
          case Op::kAddF:
            for (int64_t r = 0; r < n; ++r) a->f[r] = a->f[r] + b->f[r];
            break;
          case Op::kSubF:
            for (int64_t r = 0; r < n; ++r) a->f[r] = a->f[r] - b->f[r];
            break;
          default:  // kMulF
            for (int64_t r = 0; r < n; ++r) a->f[r] = a->f[r] * b->f[r];
            break;
        }
        break;
      }
    }
    sp += StackEffect(in.op);
  }
}

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
