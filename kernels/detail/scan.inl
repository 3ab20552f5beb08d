// Filters and counts over rows (Ops: EvaluateMask, CountNonZero,
// CompactIndices, CountTrue), written once as templates over a Thrust
// execution policy. An expression program (expr_eval.h) runs row by row; a
// scan plan (scan_plan.h) runs row by row too (kBlocked false: CUDA) or by
// blocks of kScanBlock rows (kBlocked true: the host, scan_blocks.h).
// REQUIRES: end > begin, n > 0 (AlgorithmOps checks). Instantiated through
// AlgorithmOps (algorithm_ops.inl) in host_ops.cc and cuda_ops.cu.

#pragma once

#include <thrust/copy.h>
#include <thrust/count.h>
#include <thrust/for_each.h>
#include <thrust/functional.h>
#include <thrust/transform.h>
#include <thrust/transform_reduce.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/detail/expr_block.h"
#include "kernels/detail/expr_eval.h"
#include "kernels/detail/rows.h"
#include "kernels/detail/scan_blocks.h"
#include "kernels/expr_program.h"
#include "kernels/hd.h"
#include "kernels/scan_plan.h"

namespace kernels::detail {

struct PredicateToByte {
  ProgramView p;
  KERNELS_HD uint8_t operator()(int64_t row) const { return EvaluatePredicate(p, row) ? 1 : 0; }
};

struct PredicateTrue {
  ProgramView p;
  KERNELS_HD bool operator()(int64_t row) const { return EvaluatePredicate(p, row); }
};

// Programs by blocks of kEvalBlock rows (the host; EvaluateBlock): the
// truth of each row into the mask, or the count of true rows.
struct ProgramMaskBlock {
  ProgramView p;
  int depth;
  int64_t begin, end;
  uint8_t* mask;  // mask[0] is row `begin`
  bool numeric;   // the program IsNumericProgram: NumericBlock's typed loops
  KERNELS_HOST_CLONES int64_t operator()(int64_t b) const {
    const int64_t first = begin + b * kEvalBlock;
    const int64_t count = end - first < kEvalBlock ? end - first : kEvalBlock;
    if (numeric) {
      NumberBlock* stack = NumberStack(depth);
      NumericBlock(p, first, count, stack);
      const NumberBlock& v = stack[0];
      if (v.constant) {  // one truth for the block
        const bool t = NumberValid(v, 0) && (p.result == ValueKind::kFloat ? v.floats[0] != 0.0 : v.ints[0] != 0);
        if (mask != nullptr) std::memset(mask + (first - begin), t ? 1 : 0, static_cast<size_t>(count));
        return t ? count : 0;
      }
      // Locals the mask's stores cannot alias, so that the loops vectorize.
      const uint8_t* valid = v.valid != nullptr ? v.valid : kAllValid.flags;
      const int64_t* ints = v.ints;
      const double* floats = v.floats;
      uint8_t truth[kEvalBlock];
      if (p.result == ValueKind::kFloat) {
        for (int64_t r = 0; r < count; ++r) truth[r] = static_cast<uint8_t>((valid[r] != 0) & (floats[r] != 0.0));
      } else {
        for (int64_t r = 0; r < count; ++r) truth[r] = static_cast<uint8_t>((valid[r] != 0) & (ints[r] != 0));
      }
      int64_t trues = 0;
      for (int64_t r = 0; r < count; ++r) trues += truth[r];
      if (mask != nullptr) std::memcpy(mask + (first - begin), truth, static_cast<size_t>(count));
      return trues;
    }
    Slot* stack = BlockStack(depth);
    EvaluateBlock(p, depth, first, count, stack);
    int64_t trues = 0;
    for (int64_t r = 0; r < count; ++r) {
      const bool t = IsTrue(p, stack[r * depth]);
      trues += t;
      if (mask != nullptr) mask[first - begin + r] = t ? 1 : 0;
    }
    return trues;
  }
};

struct NonZero {
  KERNELS_HD bool operator()(uint8_t v) const { return v != 0; }
};

// Scan plans (scan_plan.h), row by row (CUDA) ...
struct PlanToByte {
  const ScanPlan* plan;
  KERNELS_HD uint8_t operator()(int64_t row) const { return PlanPredicateRow(*plan, row) ? 1 : 0; }
};

struct PlanTrue {
  const ScanPlan* plan;
  KERNELS_HD bool operator()(int64_t row) const { return PlanPredicateRow(*plan, row); }
};

// ... and by blocks of kScanBlock rows (host; PlanBlocks in scan_blocks.h).
struct PlanMaskBlock {
  PlanBlocks blocks;
  uint8_t* mask;  // mask[0] is row `begin`
  KERNELS_HOST_CLONES void operator()(int64_t b) const {
    PredicateBlock(*blocks.plan, blocks.first(b), mask + b * kScanBlock, blocks.size(b));
  }
};

struct PlanCountBlock {
  PlanBlocks blocks;
  KERNELS_HOST_CLONES int64_t operator()(int64_t b) const {
    uint8_t m[kScanBlock];
    const int64_t n = blocks.size(b);
    PredicateBlock(*blocks.plan, blocks.first(b), m, n);
    return CountBlock(m, n);
  }
};

struct MaskBlockCount {
  const uint8_t* mask;
  int64_t n;
  int64_t operator()(int64_t b) const {
    const int64_t r = b * kScanBlock;
    return CountNonZeroBlock(mask + r, n - r < kScanBlock ? n - r : kScanBlock);
  }
};

struct CompactBlock {
  const uint8_t* mask;
  int64_t begin, n;
  const int64_t* offsets;  // of each block's first index in out
  int64_t* out;
  void operator()(int64_t b) const {
    const int64_t r = b * kScanBlock;
    CompactBlockInto(mask + r, begin + r, n - r < kScanBlock ? n - r : kScanBlock, out + offsets[b]);
  }
};

// kBlocked: run scan plans by blocks of rows (the host), else row by row.
template <bool kBlocked, typename Policy>
void EvaluateMaskImpl(Policy&& policy, const ProgramView& p, int64_t begin, int64_t end,
                      uint8_t* mask) {
  if (p.plan_kind == PlanKind::kPredicate) {
    if constexpr (kBlocked) {
      thrust::for_each_n(policy, RowIterator(0), PlanBlocks::Count(begin, end),
                         PlanMaskBlock{{p.plan, begin, end}, mask});
    } else {
      thrust::transform(policy, RowIterator(begin), RowIterator(end), mask, PlanToByte{p.plan});
    }
    return;
  }
  if constexpr (kBlocked) {
    thrust::for_each_n(policy, RowIterator(0), (end - begin + kEvalBlock - 1) / kEvalBlock,
                       ProgramMaskBlock{p, StackDepth(p), begin, end, mask, IsNumericProgram(p)});
  } else {
    thrust::transform(policy, RowIterator(begin), RowIterator(end), mask, PredicateToByte{p});
  }
}

// kBlocked: block by block (CountNonZeroBlock), as CompactIndicesImpl
// counts: the bytes compared a vector at a time.
template <bool kBlocked, typename Policy>
int64_t CountNonZeroImpl(Policy&& policy, const uint8_t* mask, int64_t n) {
  if constexpr (kBlocked) {
    return thrust::transform_reduce(policy, RowIterator(0), RowIterator((n + kScanBlock - 1) / kScanBlock),
                                    MaskBlockCount{mask, n}, int64_t{0}, thrust::plus<int64_t>());
  } else {
    return thrust::count_if(policy, mask, mask + n, NonZero{});
  }
}

template <bool kBlocked, typename Policy>
void CompactIndicesImpl(Policy&& policy, const uint8_t* mask, int64_t begin, int64_t n, int64_t* out) {
  if constexpr (kBlocked) {
    // Count each block's set bytes, scan the counts, then each block writes
    // its rows from its offset on.
    const int64_t blocks = (n + kScanBlock - 1) / kScanBlock;
    std::vector<int64_t> offsets(static_cast<size_t>(blocks));
    thrust::transform(policy, RowIterator(0), RowIterator(blocks), offsets.data(), MaskBlockCount{mask, n});
    int64_t total = 0;
    for (int64_t& o : offsets) {
      const int64_t c = o;
      o = total;
      total += c;
    }
    thrust::for_each_n(policy, RowIterator(0), blocks, CompactBlock{mask, begin, n, offsets.data(), out});
  } else {
    thrust::copy_if(policy, RowIterator(begin), RowIterator(begin + n), mask, out, NonZero{});
  }
}

template <bool kBlocked, typename Policy>
int64_t CountTrueImpl(Policy&& policy, const ProgramView& p, int64_t begin, int64_t end) {
  if (p.plan_kind == PlanKind::kPredicate) {
    if constexpr (kBlocked) {
      return thrust::transform_reduce(policy, RowIterator(0), RowIterator(PlanBlocks::Count(begin, end)),
                                      PlanCountBlock{{p.plan, begin, end}}, int64_t{0},
                                      thrust::plus<int64_t>());
    } else {
      return thrust::count_if(policy, RowIterator(begin), RowIterator(end), PlanTrue{p.plan});
    }
  }
  if constexpr (kBlocked) {
    return thrust::transform_reduce(policy, RowIterator(0), RowIterator((end - begin + kEvalBlock - 1) / kEvalBlock),
                                    ProgramMaskBlock{p, StackDepth(p), begin, end, nullptr, IsNumericProgram(p)}, int64_t{0},
                                    thrust::plus<int64_t>());
  }
  return thrust::count_if(policy, RowIterator(begin), RowIterator(end), PredicateTrue{p});
}

}  // namespace kernels::detail
