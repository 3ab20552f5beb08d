// Materialize (materialize.h): an expression program's value for each row,
// as an int64, float64 or string column. Template over a backend D (see
// AnalyticsAlgorithms in analytics_algorithms.inl for what D supplies).

#pragma once

#include <thrust/fill.h>
#include <thrust/for_each.h>
#include <thrust/scan.h>

#include <cstdint>
#include <utility>

#include "kernels/column.h"
#include "kernels/detail/expr_block.h"
#include "kernels/detail/expr_eval.h"
#include "kernels/detail/rows.h"
#include "kernels/expr_program.h"
#include "kernels/hd.h"
#include "kernels/memory.h"

namespace kernels::detail {

// One functor for the three passes, so that nvcc compiles the expression VM
// into one kernel body rather than three.
enum class MaterializePass : uint8_t {
  kNumber,  // data (int64 or double) and validity
  kLength,  // string lengths (into the offsets) and validity
  kChars,   // string bytes, with the fold applied
};

struct MaterializeRow {
  ProgramView p;
  int64_t begin;
  MaterializePass pass;
  bool is_float;
  void* data;         // kNumber: the values; kChars: the bytes
  int64_t* offsets;   // kLength: written; kChars: read
  uint8_t* validity;  // null: not nullable (or kChars)
  KERNELS_HD void operator()(int64_t i) const { Write(i, Evaluate(p, begin + i)); }
  // Row begin + i's value `v` into the pass's output.
  KERNELS_HD void Write(int64_t i, const Slot& v) const {
    switch (pass) {
      case MaterializePass::kNumber:
        if (is_float) {
          static_cast<double*>(data)[i] = v.valid ? v.f : 0.0;
        } else {
          static_cast<int64_t*>(data)[i] = v.valid ? v.i : 0;
        }
        break;
      case MaterializePass::kLength:
        offsets[i] = v.valid ? v.len : 0;
        break;
      case MaterializePass::kChars:
        if (v.valid) {
          char* d = static_cast<char*>(data) + offsets[i];
          for (int64_t k = 0; k < v.len; ++k) d[k] = FoldChar(v.s[k], v.fold);
        }
        return;
    }
    if (validity != nullptr) validity[i] = v.valid ? 1 : 0;
  }
};

// The host's: MaterializeRow's work a block of kEvalBlock rows at a time
// (EvaluateBlock).
// Numbers of a program on numbers only (IsNumericProgram) by NumericBlock's
// typed loops.
struct MaterializeBlock {
  MaterializeRow row;
  int depth;
  int64_t n;
  bool numeric;  // row.pass is kNumber and the program IsNumericProgram
  void operator()(int64_t b) const {
    const int64_t first = b * kEvalBlock;
    const int64_t count = n - first < kEvalBlock ? n - first : kEvalBlock;
    if (numeric) {
      NumberBlock* stack = NumberStack(depth);
      NumericBlock(row.p, row.begin + first, count, stack);
      const NumberBlock& v = stack[0];
      if (v.constant) Spread(&stack[0], count);
      // Locals the stores below cannot alias, so that the loops vectorize.
      const uint8_t* valid = v.valid != nullptr ? v.valid : kAllValid.flags;
      const int64_t* ints = v.ints;
      const double* floats = v.floats;
      if (row.is_float) {
        double* out = static_cast<double*>(row.data) + first;
        for (int64_t r = 0; r < count; ++r) out[r] = valid[r] != 0 ? floats[r] : 0.0;
      } else {
        int64_t* out = static_cast<int64_t*>(row.data) + first;
        for (int64_t r = 0; r < count; ++r) out[r] = valid[r] != 0 ? ints[r] : 0;
      }
      if (row.validity != nullptr) {
        uint8_t* out = row.validity + first;
        for (int64_t r = 0; r < count; ++r) out[r] = valid[r] != 0 ? 1 : 0;
      }
      return;
    }
    Slot* stack = BlockStack(depth);
    EvaluateBlock(row.p, depth, row.begin + first, count, stack);
    for (int64_t r = 0; r < count; ++r) row.Write(first + r, stack[r * depth]);
  }
};

// Runs `row` for rows 0..n-1: by blocks on the host (kBlocked), else row by row.
template <bool kBlocked, typename Policy>
void ForEachValue(Policy&& policy, const MaterializeRow& row, int64_t n) {
  if constexpr (kBlocked) {
    const bool numeric = row.pass == MaterializePass::kNumber && IsNumericProgram(row.p);
    thrust::for_each_n(policy, RowIterator(0), (n + kEvalBlock - 1) / kEvalBlock,
                       MaterializeBlock{row, StackDepth(row.p), n, numeric});
  } else {
    thrust::for_each_n(policy, RowIterator(0), n, row);
  }
}

template <typename D>
Column MaterializeAlgo(const D& be, const ProgramView& p, int64_t begin, int64_t end, bool nullable,
                       const Exec& exec) {
  const int64_t n = end > begin ? end - begin : 0;
  Buffer data, offsets, validity;
  if (nullable) validity = Buffer(static_cast<size_t>(n), exec);
  uint8_t* valid = nullable ? validity.as<uint8_t>() : nullptr;
  if (p.result == ValueKind::kString) {
    offsets = Buffer(static_cast<size_t>(n + 1) * sizeof(int64_t), exec);
    int64_t* off = offsets.as<int64_t>();
    if (n > 0) {
      ForEachValue<D::kBlockedScans>(be.policy(exec),
                                     MaterializeRow{p, begin, MaterializePass::kLength, false, nullptr, off, valid}, n);
    }
    thrust::fill_n(be.policy(exec), off + n, 1, int64_t{0});
    thrust::exclusive_scan(be.policy(exec), off, off + n + 1, off);
    int64_t chars = 0;
    be.CopyToHostSync(&chars, off + n, sizeof(chars), exec);
    data = Buffer(static_cast<size_t>(chars), exec);
    if (chars > 0) {
      ForEachValue<D::kBlockedScans>(
          be.policy(exec), MaterializeRow{p, begin, MaterializePass::kChars, false, data.data(), off, nullptr}, n);
    }
    return Column::Adopt(PhysType::kVarChars, 0, nullable, n, std::move(data), std::move(offsets),
                         std::move(validity));
  }
  const bool is_float = p.result == ValueKind::kFloat;
  data = Buffer(static_cast<size_t>(n) * 8, exec);
  if (n > 0) {
    ForEachValue<D::kBlockedScans>(
        be.policy(exec), MaterializeRow{p, begin, MaterializePass::kNumber, is_float, data.data(), nullptr, valid}, n);
  }
  return Column::Adopt(is_float ? PhysType::kFloat64 : PhysType::kInt64, 0, nullable, n, std::move(data),
                       Buffer(), std::move(validity));
}

}  // namespace kernels::detail
