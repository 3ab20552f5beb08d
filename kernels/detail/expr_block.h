#pragma once

// The host's evaluator of expression programs: an instruction at a time
// over a block of rows (EvaluateBlock), so that each instruction's switch
// is taken once per block rather than once per row, its row loop running the
// instruction's own code (Step with a constant op). Each row keeps its own
// stack, `depth` slots long, in one buffer per block. Same values as
// Evaluate (expr_eval.h) row for row.

#include <cstdint>
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

// A block's stack, one per thread, reused.
inline Slot* BlockStack(int depth) {
  thread_local std::vector<Slot> stack;
  const size_t need = static_cast<size_t>(kEvalBlock) * static_cast<size_t>(depth);
  if (stack.size() < need) stack.resize(need);
  return stack.data();
}

}  // namespace kernels::detail
