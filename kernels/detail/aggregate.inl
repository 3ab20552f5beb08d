// Aggregates over groups (Aggregate in groupby.h): per-row accumulators
// (count, sum, Welford's moments, extremes) merged per group, by
// thrust::reduce_by_key over all rows on a wide backend, by one loop per
// group or per-run partials on a backend with few threads; min/max and
// arg_min/arg_max then gather the extreme rows. Templates over a backend D
// (see AnalyticsAlgorithms in analytics_algorithms.inl for what D supplies).

#pragma once

#include <thrust/fill.h>
#include <thrust/for_each.h>
#include <thrust/scan.h>
#include <thrust/sequence.h>
#include <thrust/transform.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "kernels/column.h"
#include "kernels/detail/expr_block.h"
#include "kernels/detail/expr_eval.h"
#include "kernels/detail/group_reduce.inl"
#include "kernels/detail/groupby.inl"
#include "kernels/detail/materialize.inl"
#include "kernels/detail/row_values.h"
#include "kernels/detail/rows.h"
#include "kernels/detail/scan_blocks.h"
#include "kernels/detail/sort.inl"
#include "kernels/groupby.h"
#include "kernels/hd.h"
#include "kernels/memory.h"

namespace kernels::detail {

// Per-row accumulators, reduced per group with thrust::reduce_by_key.

// kCount: 1 for a non-null value. kCountDistinct (distinct == true): 1 where
// position i of `perm` (positions sorted by group, then value) starts a new
// non-null value.
struct CountAt {
  ColumnView col;
  const int64_t* order;
  bool distinct;
  const int64_t* perm;
  const int32_t* ids;
  KERNELS_HD int64_t operator()(int64_t i) const {
    if (!distinct) return col.is_valid(RowAt(order, i)) ? 1 : 0;
    const int64_t p = perm[i];
    const int64_t row = order[p];
    if (!col.is_valid(row)) return 0;
    if (i == 0) return 1;
    const int64_t q = perm[i - 1];
    if (ids[q] != ids[p]) return 1;
    return RowKeysEqual(col, order[q], row) ? 0 : 1;
  }
};

struct AddCounts {
  KERNELS_HD int64_t operator()(int64_t a, int64_t b) const { return a + b; }
};

// Count, mean and sum of squared deviations (Welford; merged as Chan et al.).
struct VarAcc {
  double n;
  double mean;
  double m2;
};

struct VarAt {
  ColumnView col;
  const int64_t* order;
  KERNELS_HD VarAcc operator()(int64_t pos) const {
    const int64_t row = RowAt(order, pos);
    if (!col.is_valid(row)) return VarAcc{0, 0, 0};
    return VarAcc{1, NumberAt(col, row), 0};
  }
};

struct MergeVars {
  KERNELS_HD VarAcc operator()(const VarAcc& a, const VarAcc& b) const {
    if (a.n == 0) return b;
    if (b.n == 0) return a;
    const double n = a.n + b.n;
    const double delta = b.mean - a.mean;
    return VarAcc{n, a.mean + delta * (b.n / n), a.m2 + b.m2 + delta * delta * (a.n * b.n / n)};
  }
};

// The extreme value seen so far: its order bits (fixed width) or its bytes
// (strings), and its position in the group order; pos < 0: none yet.
struct ExtremeAcc {
  uint64_t key;  // order bits, or the string's address
  int64_t len;
  int64_t pos;
};

struct ExtremeAt {
  ColumnView col;
  const int64_t* order;
  KERNELS_HD ExtremeAcc operator()(int64_t pos) const {
    const int64_t row = RowAt(order, pos);
    ExtremeAcc a{0, 0, -1};
    if (!col.is_valid(row)) return a;
    a.pos = pos;
    if (IsStringType(col.type)) {
      const char* s;
      StringAt(col, row, s, a.len);
      a.key = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(s));
    } else {
      a.key = OrderBits(col, row, 0, col.width < 8 ? col.width : 8);
    }
    return a;
  }
};

// Keeps the least (or greatest) value; ties go to the earlier position, so
// the merge is commutative and the first row with the extreme wins.
struct MergeExtremes {
  bool strings;
  bool greatest;
  KERNELS_HD ExtremeAcc operator()(const ExtremeAcc& a, const ExtremeAcc& b) const {
    if (a.pos < 0) return b;
    if (b.pos < 0) return a;
    int c;
    if (strings) {
      c = CompareBytes(reinterpret_cast<const char*>(static_cast<uintptr_t>(a.key)), a.len,
                       reinterpret_cast<const char*>(static_cast<uintptr_t>(b.key)), b.len);
    } else {
      c = a.key < b.key ? -1 : (a.key > b.key ? 1 : 0);
    }
    if (c == 0) return a.pos < b.pos ? a : b;
    return (greatest ? c > 0 : c < 0) ? a : b;
  }
};

// One loop per group: out[g] = the merge of load(i) over the group's
// positions, in order.
template <typename Load, typename Merge, typename Acc>
struct LoopGroup {
  const int64_t* starts;
  Load load;
  Merge merge;
  Acc* out;
  KERNELS_HD void operator()(int64_t g) const {
    const int64_t end = starts[g + 1];
    Acc acc = load(starts[g]);
    for (int64_t i = starts[g] + 1; i < end; ++i) acc = merge(acc, load(i));
    out[g] = acc;
  }
};

// Runs of input rows, each folded into its own row of partial
// accumulators (partial[c * count + g]), then merged per group in run order.
template <typename Load, typename Merge, typename Acc>
struct AccumulateRun {
  RowGroupOf row_group;
  int64_t n, chunk, count;
  Load load;
  Merge merge;
  Acc* partial;
  uint8_t* seen;
  KERNELS_HD void operator()(int64_t c) const {
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    Acc* p = partial + c * count;
    uint8_t* s = seen + c * count;
    for (int64_t i = c * chunk; i < end; ++i) {
      const int32_t g = row_group(i);
      const Acc a = load(i);
      p[g] = s[g] != 0 ? merge(p[g], a) : a;
      s[g] = 1;
    }
  }
};

template <typename Merge, typename Acc>
struct MergeRuns {
  int64_t chunks, count;
  Merge merge;
  const Acc* partial;
  const uint8_t* seen;
  Acc* out;
  KERNELS_HD void operator()(int64_t g) const {
    bool any = false;
    Acc acc = partial[g];
    for (int64_t c = 0; c < chunks; ++c) {
      if (seen[c * count + g] == 0) continue;
      acc = any ? merge(acc, partial[c * count + g]) : partial[c * count + g];
      any = true;
    }
    out[g] = acc;
  }
};

// The group of each position as the per-run paths read it: each input
// row's (Groups::row_groups) when `input_order`, else each position's of
// `order` (Groups::ids).
inline RowGroupOf RunGroupsOf(const Groups& groups, bool input_order) {
  return input_order ? RowGroupsOf(groups) : RowGroupOf{groups.ids.data(), nullptr, 4};
}

// Whether a backend with few, fat threads reads the positions in runs, each
// into its own partial accumulators: in input order (`input_order`), or in
// group order when the groups are fewer than the threads (one group per
// thread would leave the others idle: no GROUP BY is one group).
template <typename D>
bool ReduceByRuns(const D& be, const Groups& groups, bool input_order) {
  if constexpr (D::kHasSerialGroups) {
    return input_order || (groups.count < be.threads() && groups.ids.size() > 0);
  } else {
    return input_order;
  }
}

// Per-group reductions of a per-position accumulator. A backend with few,
// fat threads (SerialGroups: the host) reads the rows in runs into per-run
// partials (ReduceByRuns) when the groups came from the hash table (which
// keeps each input row's group) or are few, and otherwise loops over each
// group's rows in `order`; a wide one (CUDA) runs thrust::reduce_by_key over
// all rows, which keeps every thread busy however the rows fall into groups.
// `input_order` (serial only): `load` reads input positions
// (Groups::input_rows), not positions of `order`.
template <typename D, typename Load, typename Merge, typename Acc>
void ReduceEachGroup(const D& be, const Groups& groups, bool input_order, Load load, Merge merge, Acc* out,
                     const Exec& exec) {
  if (SerialGroups(be)) {
    if (ReduceByRuns(be, groups, input_order)) {
      const int64_t n = groups.rows, count = groups.count;
      const int64_t runs = RunsFor(n, count);
      Buffer partial(static_cast<size_t>(runs * count) * sizeof(Acc), exec);
      Buffer seen(static_cast<size_t>(runs * count), exec);
      be.Fill(seen.data(), 0, seen.size(), exec);
      thrust::for_each_n(
          be.policy(exec), RowIterator(0), runs,
          AccumulateRun<Load, Merge, Acc>{RunGroupsOf(groups, input_order), n, (n + runs - 1) / runs, count,
                                          load, merge, partial.as<Acc>(), seen.as<uint8_t>()});
      thrust::for_each_n(
          be.policy(exec), RowIterator(0), count,
          MergeRuns<Merge, Acc>{runs, count, merge, partial.as<Acc>(), seen.as<uint8_t>(), out});
      return;
    }
    thrust::for_each_n(be.policy(exec), RowIterator(0), groups.count,
                       LoopGroup<Load, Merge, Acc>{groups.starts.as<int64_t>(), load, merge, out});
    return;
  }
  Buffer keys_out(static_cast<size_t>(groups.count) * sizeof(int32_t), exec);
  ReduceGroups(be.policy(exec), groups.ids.as<int32_t>(), groups.rows, load, merge, keys_out.as<int32_t>(),
               out);
}

// Typed sums for a backend with few, fat threads (SerialGroups): per-run
// partials (input order; in lanes with few groups, see kSumLanes) or
// per-group loops (group order) like ReduceEachGroup's with SumAt and
// AddSums, without the per-row type switch and `seen` flags. Accumulators
// start at {0, -0.0, 0}, the identity of AddSums (-0.0 + x == x for every
// x, -0.0 and NaN included): a null row adds 0.0 to the double sum as
// SumAt's empty accumulator does. Only the field the result reads is kept
// (integer or double sum).
template <typename T, bool kFloat>
KERNELS_HD inline void AddSumValue(SumAcc& a, const ColumnView& col, int64_t row) {
  if (col.is_valid(row)) {
    const T v = static_cast<const T*>(col.data)[row];
    if constexpr (kFloat) {
      a.f += static_cast<double>(v);
    } else {
      a.i = static_cast<int64_t>(static_cast<uint64_t>(a.i) + static_cast<uint64_t>(static_cast<int64_t>(v)));
    }
    ++a.n;
  } else if constexpr (kFloat) {
    a.f += 0.0;
  }
}

// Running sums per group and lane: with few groups, consecutive rows of one
// group add into kSumLanes accumulators in turn (position i into lane i %
// lanes), so that the additions do not wait on each other's result (the
// latency of a floating-point add, not memory, bounded sums over few
// groups); the lanes are added in order when the runs merge. Every path
// that sums in input order (TypedSumRun, MultiSumRun) uses the same lanes,
// so a group's sum is the same however it is computed there.
constexpr int64_t kSumLanes = 4;
inline int64_t SumLanes(int64_t count) { return count <= 1024 ? kSumLanes : 1; }

// TypedSumRun's additions for one group over every position of [begin,
// end): position i into lane i % kSumLanes, a null adding 0.0 (as
// AddSumValue does), the lanes held in registers, four positions a step (the
// lanes' adds are independent: the compiler may pair them in vector
// registers, AVX2's in TypedSumRun's clone, without reordering a lane's).
// valid: null when kNulls is false.
template <typename T, bool kFloat, bool kNulls>
KERNELS_HD KERNELS_BLOCK_INLINE void OneGroupSum(const T* v, const uint8_t* valid, int64_t begin, int64_t end, SumAcc* lanes) {
  double f[kSumLanes] = {-0.0, -0.0, -0.0, -0.0};
  uint64_t u[kSumLanes] = {0, 0, 0, 0};
  int64_t seen[kSumLanes] = {0, 0, 0, 0};
  const auto add = [&](int64_t l, int64_t i) {
    const bool ok = !kNulls || valid[i] != 0;
    if constexpr (kFloat) {
      f[l] += ok ? static_cast<double>(v[i]) : 0.0;
    } else {
      u[l] += ok ? static_cast<uint64_t>(static_cast<int64_t>(v[i])) : 0;
    }
    seen[l] += ok ? 1 : 0;
  };
  int64_t i = begin;
  for (; i < end && (i % kSumLanes) != 0; ++i) add(i % kSumLanes, i);
  for (; i + kSumLanes <= end; i += kSumLanes) {
    for (int64_t l = 0; l < kSumLanes; ++l) add(l, i + l);
  }
  for (; i < end; ++i) add(i % kSumLanes, i);
  for (int64_t l = 0; l < kSumLanes; ++l) {
    lanes[l].n = seen[l];
    if constexpr (kFloat) {
      lanes[l].f = f[l];
    } else {
      lanes[l].i = static_cast<int64_t>(u[l]);
    }
  }
}

template <typename T, bool kFloat>
struct TypedSumRun {
  RowGroupOf row_group;
  const int64_t* rows;  // input position → row; null: the position itself
  ColumnView col;
  int64_t n, chunk, count, lanes;
  SumAcc* partial;  // runs x count x lanes
  KERNELS_HOST_CLONES KERNELS_HD void operator()(int64_t c) const {
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    SumAcc* p = partial + c * count * lanes;
    for (int64_t g = 0; g < count * lanes; ++g) p[g] = SumAcc{0, -0.0, 0};
    const int64_t lane = lanes - 1;
    if (rows == nullptr && count == 1 && lanes == kSumLanes) {
      const T* v = static_cast<const T*>(col.data);
      if (col.validity == nullptr) {
        OneGroupSum<T, kFloat, false>(v, nullptr, c * chunk, end, p);
      } else {
        OneGroupSum<T, kFloat, true>(v, col.validity, c * chunk, end, p);
      }
      return;
    }
    if (rows == nullptr && col.validity == nullptr) {
      const T* v = static_cast<const T*>(col.data);
      for (int64_t i = c * chunk; i < end; ++i) {
        SumAcc& a = p[row_group(i) * lanes + (i & lane)];
        if constexpr (kFloat) {
          a.f += static_cast<double>(v[i]);
        } else {
          a.i = static_cast<int64_t>(static_cast<uint64_t>(a.i) + static_cast<uint64_t>(static_cast<int64_t>(v[i])));
        }
        ++a.n;
      }
      return;
    }
    for (int64_t i = c * chunk; i < end; ++i)
      AddSumValue<T, kFloat>(p[row_group(i) * lanes + (i & lane)], col, rows != nullptr ? rows[i] : i);
  }
};

// A group's sum from the runs' partials: runs in order, each run's lanes in order.
struct MergeSumRuns {
  int64_t runs, count, lanes;
  const SumAcc* partial;
  SumAcc* out;
  KERNELS_HD void operator()(int64_t g) const {
    SumAcc acc{0, -0.0, 0};
    for (int64_t c = 0; c < runs; ++c) {
      for (int64_t l = 0; l < lanes; ++l) acc = AddSums{}(acc, partial[(c * count + g) * lanes + l]);
    }
    out[g] = acc;
  }
};

// Sums of several columns over a run of input positions, as TypedSumRun
// adds each (the same additions in the same order, lanes included), by
// blocks: a block's groups and rows are read once for all the columns.
// A column may be a numeric program's values (programs[k] non-null),
// evaluated by NumericBlock a block at a time (at the block's rows, gathered,
// when `rows` is given) and added as AddSumValue adds its materialized
// values.
// partial: columns x runs x count x lanes. Host only (`cols` and
// `programs` are host memory).
struct MultiSumRun {
  RowGroupOf row_group;
  const int64_t* rows;  // input position → row; null: the position itself
  const ColumnView* cols;
  const ProgramView* const* programs;  // per column, or null: none is
  int64_t ncols, runs, n, chunk, count, lanes;
  SumAcc* partial;

  template <typename T, bool kFloat>
  static void Add(const ColumnView& col, const int64_t* slots, const int64_t* rows, int64_t m, SumAcc* acc) {
    for (int64_t j = 0; j < m; ++j) AddSumValue<T, kFloat>(acc[slots[j]], col, rows[j]);
  }

  // The values of `p` at rows first..first+m-1, or at rows[0..m), into
  // acc[slots[j]].
  static void AddProgram(const ProgramView& p, int64_t first, const int64_t* rows, const int64_t* slots, int64_t m,
                         SumAcc* acc) {
    NumberBlock* stack = NumberStack(StackDepth(p));
    const bool is_float = p.result == ValueKind::kFloat;
    for (int64_t off = 0; off < m; off += kEvalBlock) {
      const int64_t count = m - off < kEvalBlock ? m - off : kEvalBlock;
      NumericBlock(p, first + off, count, stack, rows != nullptr ? rows + off : nullptr);
      NumberBlock& v = stack[0];
      if (v.constant) Spread(&v, count);
      const uint8_t* valid = v.valid != nullptr ? v.valid : kAllValid.flags;
      const int64_t* slot = slots + off;
      if (is_float) {
        const double* f = v.floats;
        for (int64_t r = 0; r < count; ++r) {
          SumAcc& a = acc[slot[r]];
          if (valid[r] != 0) {
            a.f += f[r];
            ++a.n;
          } else {
            a.f += 0.0;
          }
        }
      } else {
        const int64_t* x = v.ints;
        for (int64_t r = 0; r < count; ++r) {
          SumAcc& a = acc[slot[r]];
          if (valid[r] != 0) {
            a.i = static_cast<int64_t>(static_cast<uint64_t>(a.i) + static_cast<uint64_t>(x[r]));
            ++a.n;
          }
        }
      }
    }
  }

  void operator()(int64_t c) const {
    constexpr int64_t kBlock = 1024;
    const int64_t begin = c * chunk;
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    for (int64_t k = 0; k < ncols; ++k) {
      SumAcc* p = partial + (k * runs + c) * count * lanes;
      for (int64_t g = 0; g < count * lanes; ++g) p[g] = SumAcc{0, -0.0, 0};
    }
    int64_t slots[kBlock];  // group * lanes + lane
    int64_t at[kBlock];
    for (int64_t b = begin; b < end; b += kBlock) {
      const int64_t m = end - b < kBlock ? end - b : kBlock;
      for (int64_t j = 0; j < m; ++j) {
        slots[j] = row_group(b + j) * lanes + ((b + j) & (lanes - 1));
        at[j] = rows != nullptr ? rows[b + j] : b + j;
      }
      for (int64_t k = 0; k < ncols; ++k) {
        SumAcc* acc = partial + (k * runs + c) * count * lanes;
        if (programs != nullptr && programs[k] != nullptr) {
          AddProgram(*programs[k], b, rows != nullptr ? at : nullptr, slots, m, acc);
          continue;
        }
        switch (cols[k].type) {
          case PhysType::kInt8: Add<int8_t, false>(cols[k], slots, at, m, acc); break;
          case PhysType::kInt16: Add<int16_t, false>(cols[k], slots, at, m, acc); break;
          case PhysType::kInt32: Add<int32_t, false>(cols[k], slots, at, m, acc); break;
          case PhysType::kInt64: Add<int64_t, false>(cols[k], slots, at, m, acc); break;
          case PhysType::kFloat32: Add<float, true>(cols[k], slots, at, m, acc); break;
          case PhysType::kFloat64: Add<double, true>(cols[k], slots, at, m, acc); break;
          default: break;
        }
      }
    }
  }
};

template <typename T, bool kFloat>
struct TypedSumGroup {
  const int64_t* starts;
  const int64_t* order;
  ColumnView col;
  SumAcc* out;
  KERNELS_HD void operator()(int64_t g) const {
    SumAcc acc{0, -0.0, 0};
    for (int64_t i = starts[g]; i < starts[g + 1]; ++i) AddSumValue<T, kFloat>(acc, col, RowAt(order, i));
    out[g] = acc;
  }
};

template <typename D, typename T, bool kFloat>
void TypedSums(const D& be, const Groups& groups, bool input_order, const ColumnView& col,
               const int64_t* load_order, SumAcc* out, const Exec& exec) {
  const int64_t n = groups.rows, count = groups.count;
  if (!ReduceByRuns(be, groups, input_order)) {
    thrust::for_each_n(be.policy(exec), RowIterator(0), count,
                       TypedSumGroup<T, kFloat>{groups.starts.as<int64_t>(), load_order, col, out});
    return;
  }
  const int64_t runs = RunsFor(n, count), lanes = SumLanes(count);
  Buffer partial(static_cast<size_t>(runs * count * lanes) * sizeof(SumAcc), exec);
  thrust::for_each_n(be.policy(exec), RowIterator(0), runs,
                     TypedSumRun<T, kFloat>{RunGroupsOf(groups, input_order), load_order, col, n,
                                            (n + runs - 1) / runs, count, lanes, partial.as<SumAcc>()});
  thrust::for_each_n(be.policy(exec), RowIterator(0), count,
                     MergeSumRuns{runs, count, lanes, partial.as<SumAcc>(), out});
}

// Per-group sums of a numeric `col` into `out`: typed loops on a backend
// with few, fat threads, else ReduceEachGroup.
template <typename D>
void SumEachGroup(const D& be, const Groups& groups, bool input_order, const ColumnView& col,
                  const int64_t* load_order, SumAcc* out, const Exec& exec) {
  if constexpr (D::kHasSerialGroups) {
    if (SerialGroups(be)) {
      switch (col.type) {
        case PhysType::kInt8:
          return TypedSums<D, int8_t, false>(be, groups, input_order, col, load_order, out, exec);
        case PhysType::kInt16:
          return TypedSums<D, int16_t, false>(be, groups, input_order, col, load_order, out, exec);
        case PhysType::kInt32:
          return TypedSums<D, int32_t, false>(be, groups, input_order, col, load_order, out, exec);
        case PhysType::kInt64:
          return TypedSums<D, int64_t, false>(be, groups, input_order, col, load_order, out, exec);
        case PhysType::kFloat32:
          return TypedSums<D, float, true>(be, groups, input_order, col, load_order, out, exec);
        case PhysType::kFloat64:
          return TypedSums<D, double, true>(be, groups, input_order, col, load_order, out, exec);
        default:
          break;
      }
    }
  }
  ReduceEachGroup(be, groups, input_order, SumAt{col, load_order}, AddSums{}, out, exec);
}

struct GroupSizes {
  const int64_t* starts;
  KERNELS_HD int64_t operator()(int64_t g) const { return starts[g + 1] - starts[g]; }
};

struct FinishSums {
  const SumAcc* acc;
  bool is_float;
  void* data;
  uint8_t* validity;
  KERNELS_HD void operator()(int64_t g) const {
    const SumAcc a = acc[g];
    validity[g] = a.n > 0 ? 1 : 0;
    if (is_float) {
      static_cast<double*>(data)[g] = a.n > 0 ? a.f : 0.0;
    } else {
      static_cast<int64_t*>(data)[g] = a.n > 0 ? a.i : 0;
    }
  }
};

// Whether a mean of `t` is its sum over its count (MeanBySum): floats, as
// SQL engines compute it, and integers of at most 32 bits, whose int64 sum
// is exact (it cannot wrap below 2^32 rows), so that their mean is the exact
// sum's one rounded division. 64-bit integers keep Welford's running mean
// (their sum may wrap).
inline bool MeanBySum(PhysType t) {
  return IsFloatType(t) || t == PhysType::kInt8 || t == PhysType::kInt16 || t == PhysType::kInt32;
}

// A mean as the sum over the count: the double sum's (floats) or the
// integer sum's.
struct FinishMeans {
  const SumAcc* acc;
  bool is_float;
  double* data;
  uint8_t* validity;
  KERNELS_HD void operator()(int64_t g) const {
    const SumAcc a = acc[g];
    validity[g] = a.n > 0 ? 1 : 0;
    const double sum = is_float ? a.f : static_cast<double>(a.i);
    data[g] = a.n > 0 ? sum / static_cast<double>(a.n) : 0.0;
  }
};

struct FinishVars {
  const VarAcc* acc;
  AggKind kind;
  double* data;
  uint8_t* validity;
  KERNELS_HD void operator()(int64_t g) const {
    const VarAcc a = acc[g];
    double v = 0;
    bool valid = a.n > 0;
    switch (kind) {
      case AggKind::kMean:
        v = a.mean;
        break;
      case AggKind::kVarPop:
        v = a.m2 / a.n;
        break;
      case AggKind::kStdPop:
        v = sqrt(a.m2 / a.n);
        break;
      case AggKind::kVarSamp:
        valid = a.n > 1;
        v = a.m2 / (a.n - 1);
        break;
      default:  // kStdSamp
        valid = a.n > 1;
        v = sqrt(a.m2 / (a.n - 1));
        break;
    }
    data[g] = valid ? v : 0.0;
    validity[g] = valid ? 1 : 0;
  }
};

// The row holding each group's extreme (0 where none), and whether there is one.
struct ExtremeRows {
  const ExtremeAcc* acc;
  const int64_t* order;
  int64_t* rows;
  uint8_t* has;
  KERNELS_HD void operator()(int64_t g) const {
    const int64_t pos = acc[g].pos;
    rows[g] = pos >= 0 ? RowAt(order, pos) : 0;
    has[g] = pos >= 0 ? 1 : 0;
  }
};

// Masked gathers: row g takes src[rows[g]] where has[g] and the source row
// is valid; otherwise null, holding zero bytes or an empty string.
struct MaskedValid {
  ColumnView src;
  const int64_t* rows;
  const uint8_t* has;
  KERNELS_HD uint8_t operator()(int64_t g) const { return has[g] != 0 && src.is_valid(rows[g]) ? 1 : 0; }
};

struct MaskedBytes {
  const char* src;
  int32_t width;
  const int64_t* rows;
  const uint8_t* valid;
  char* dst;
  KERNELS_HD void operator()(int64_t g) const {
    const char* s = src + rows[g] * static_cast<int64_t>(width);
    char* d = dst + g * static_cast<int64_t>(width);
    const bool v = valid[g] != 0;
    for (int32_t k = 0; k < width; ++k) d[k] = v ? s[k] : 0;
  }
};

struct MaskedLength {
  const int64_t* offsets;
  const int64_t* rows;
  const uint8_t* valid;
  KERNELS_HD int64_t operator()(int64_t g) const {
    return valid[g] != 0 ? offsets[rows[g] + 1] - offsets[rows[g]] : 0;
  }
};

template <typename D>
Column MaskedGather(const D& be, const ColumnView& src, const int64_t* rows, const uint8_t* has,
                    int64_t count, const Exec& exec) {
  Buffer data, offsets;
  Buffer validity(static_cast<size_t>(count), exec);
  uint8_t* valid = validity.as<uint8_t>();
  thrust::transform(be.policy(exec), RowIterator(0), RowIterator(count), valid, MaskedValid{src, rows, has});
  if (src.type == PhysType::kVarChars) {
    offsets = Buffer(static_cast<size_t>(count + 1) * sizeof(int64_t), exec);
    int64_t* off = offsets.as<int64_t>();
    thrust::transform(be.policy(exec), RowIterator(0), RowIterator(count), off,
                      MaskedLength{src.offsets, rows, valid});
    thrust::fill_n(be.policy(exec), off + count, 1, int64_t{0});
    thrust::exclusive_scan(be.policy(exec), off, off + count + 1, off);
    int64_t chars = 0;
    be.CopyToHostSync(&chars, off + count, sizeof(chars), exec);
    data = Buffer(static_cast<size_t>(chars), exec);
    // Null rows have length 0, so copying them copies nothing.
    be.GatherChars(src.offsets, static_cast<const char*>(src.data), rows, count, off, data.as<char>(), exec);
  } else {
    const int32_t width = ValueWidth(src.type, src.width);
    data = Buffer(static_cast<size_t>(count) * width, exec);
    thrust::for_each_n(be.policy(exec), RowIterator(0), count,
                       MaskedBytes{static_cast<const char*>(src.data), width, rows, valid, data.as<char>()});
  }
  return Column::Adopt(src.type, src.width, true, count, std::move(data), std::move(offsets),
                       std::move(validity));
}

// The result of a kSum of `value`, or a kMean of `value` (MeanBySum), from
// its groups' sums.
template <typename D>
Column SumColumn(const D& be, AggKind kind, const ColumnView& value, const SumAcc* acc, int64_t count,
                 const Exec& exec) {
  Buffer data(static_cast<size_t>(count) * 8, exec);
  Buffer validity(static_cast<size_t>(count), exec);
  if (kind == AggKind::kMean) {
    thrust::for_each_n(be.policy(exec), RowIterator(0), count,
                       FinishMeans{acc, IsFloatType(value.type), data.as<double>(), validity.as<uint8_t>()});
    return Column::Adopt(PhysType::kFloat64, 0, true, count, std::move(data), Buffer(), std::move(validity));
  }
  const PhysType type = IsFloatType(value.type) ? PhysType::kFloat64 : PhysType::kInt64;
  thrust::for_each_n(be.policy(exec), RowIterator(0), count,
                     FinishSums{acc, type == PhysType::kFloat64, data.data(), validity.as<uint8_t>()});
  return Column::Adopt(type, 0, true, count, std::move(data), Buffer(), std::move(validity));
}

// The order-preserving image of a numeric value, as ExtremeAt compares it.
template <typename T>
KERNELS_HD inline uint64_t ExtremeBits(T v) {
  if constexpr (std::is_same_v<T, double>) {
    return DoubleOrderBits(v);
  } else if constexpr (std::is_same_v<T, float>) {
    return FloatOrderBits(v);
  } else {
    using U = std::make_unsigned_t<T>;
    return static_cast<U>(static_cast<U>(v) ^ (U{1} << (8 * sizeof(T) - 1)));
  }
}

// TypedExtremeRun's partial for one group over every position of [begin,
// end): each block's extreme without a branch, in eight lanes of keys of
// T's width (32 bits for T of at most 4 bytes; BlockKey), so that the loop
// vectorizes (a null row masked to the worst key, which stands only when
// the block has no valid row); then, where it beats the best so far, the
// block's first valid position holding it. valid: null when kNulls is false.
constexpr int64_t kExtremeBlock = 2048;

template <typename T>
using ExtremeKey = std::conditional_t<sizeof(T) <= 4, uint32_t, uint64_t>;

// A value's key within OneGroupExtreme's block loop. Integers: ExtremeBits.
// Floats: fewer operations than ExtremeBits (no test for zero): the bits
// with the sign flipped (all of them when negative), every NaN read as
// ExtremeBits' NaN, so that -0.0 orders just below 0.0 here; BlockExtremeBits
// makes a block's extreme ExtremeBits' again, where the zeros tie, and the
// block's first position holding it is looked for by ExtremeBits.
template <typename T>
KERNELS_HD inline ExtremeKey<T> BlockKey(T v) {
  using K = ExtremeKey<T>;
  if constexpr (std::is_floating_point_v<T>) {
    constexpr int kBits = 8 * sizeof(T);
    constexpr K kSign = static_cast<K>(K{1} << (kBits - 1));
    constexpr K kInfTwice = sizeof(T) == 8 ? static_cast<K>(0xFFE0000000000000ull) : static_cast<K>(0xFF000000u);
    K b;
    memcpy(&b, &v, sizeof(b));
    const bool nan = static_cast<K>(b << 1) > kInfTwice;  // exponent all ones, fraction not zero
    const K negative = static_cast<K>(static_cast<std::make_signed_t<K>>(b) >> (kBits - 1));  // all ones or zero
    const K key = static_cast<K>(b ^ static_cast<K>(negative | kSign));
    return nan ? static_cast<K>(ExtremeBits<T>(static_cast<T>(NAN))) : key;
  } else {
    return static_cast<K>(ExtremeBits<T>(v));  // ExtremeBits fits T's width
  }
}

template <typename T>
KERNELS_HD inline uint64_t BlockExtremeBits(ExtremeKey<T> key) {
  if constexpr (std::is_floating_point_v<T>) {
    using K = ExtremeKey<T>;
    constexpr K kSign = static_cast<K>(K{1} << (8 * sizeof(T) - 1));
    const K b = (key & kSign) != 0 ? static_cast<K>(key ^ kSign) : static_cast<K>(~key);
    T v;
    memcpy(&v, &b, sizeof(v));
    return ExtremeBits<T>(v);
  } else {
    return key;
  }
}

template <typename T, bool kGreatest, bool kNulls>
KERNELS_HD KERNELS_BLOCK_INLINE ExtremeAcc OneGroupExtreme(const T* values, const uint8_t* valid, int64_t begin,
                                                           int64_t end) {
  using K = ExtremeKey<T>;
  constexpr K kWorst = kGreatest ? K{0} : static_cast<K>(~K{0});
  constexpr int kLanes = 8;
  const auto key_at = [&](int64_t i) {
    K key = BlockKey<T>(values[i]);
    if constexpr (kNulls) {
      const K ones = static_cast<K>(K{0} - static_cast<K>(valid[i] != 0));  // all ones where valid
      key = kGreatest ? static_cast<K>(key & ones) : static_cast<K>(key | static_cast<K>(~ones));
    }
    return key;
  };
  ExtremeAcc a{0, 0, -1};
  for (int64_t b = begin; b < end; b += kExtremeBlock) {
    const int64_t e = b + kExtremeBlock < end ? b + kExtremeBlock : end;
    K lane[kLanes];
    for (int l = 0; l < kLanes; ++l) lane[l] = kWorst;
    int64_t i = b;
    for (; i + kLanes <= e; i += kLanes) {
      for (int l = 0; l < kLanes; ++l) {
        const K key = key_at(i + l);
        lane[l] = (kGreatest ? key > lane[l] : key < lane[l]) ? key : lane[l];
      }
    }
    for (; i < e; ++i) {
      const K key = key_at(i);
      lane[0] = (kGreatest ? key > lane[0] : key < lane[0]) ? key : lane[0];
    }
    K m = lane[0];
    for (int l = 1; l < kLanes; ++l) m = (kGreatest ? lane[l] > m : lane[l] < m) ? lane[l] : m;
    int64_t valids = e - b;
    if constexpr (kNulls) {
      for (int64_t j = b; j < e; ++j) valids -= valid[j] == 0 ? 1 : 0;
    }
    if (valids == 0) continue;
    const uint64_t best = BlockExtremeBits<T>(m);
    if (a.pos < 0 || (kGreatest ? best > a.key : best < a.key)) {
      int64_t j = b;
      while ((kNulls && valid[j] == 0) || ExtremeBits<T>(values[j]) != best) ++j;
      a = ExtremeAcc{best, 0, j};
    }
  }
  return a;
}

// ExtremeAt and MergeExtremes over a run of positions (ReduceByRuns) with
// the type and the direction fixed: a compare per row. Each run's partial
// per group starts empty (pos -1); ties keep the earlier position. Its loops
// are compiled for AVX2 too (KERNELS_HOST_CLONES).
template <typename T, bool kGreatest>
struct TypedExtremeRun {
  RowGroupOf row_group;
  const int64_t* order;
  ColumnView col;
  int64_t n, chunk, count;
  ExtremeAcc* partial;
  KERNELS_HOST_CLONES KERNELS_HD void operator()(int64_t c) const {
    ExtremeAcc* p = partial + c * count;
    for (int64_t g = 0; g < count; ++g) p[g] = ExtremeAcc{0, 0, -1};
    const T* values = static_cast<const T*>(col.data);
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    if (count == 1 && order == nullptr) {
      p[0] = col.validity == nullptr ? OneGroupExtreme<T, kGreatest, false>(values, nullptr, c * chunk, end)
                                     : OneGroupExtreme<T, kGreatest, true>(values, col.validity, c * chunk, end);
      return;
    }
    // The current group's accumulator is held here while its rows follow
    // one another (group order: each group's rows are one stretch).
    int32_t g = -1;
    ExtremeAcc a{0, 0, -1};
    for (int64_t i = c * chunk; i < end; ++i) {
      const int64_t row = RowAt(order, i);
      if (!col.is_valid(row)) continue;
      const int32_t at = row_group(i);
      if (at != g) {
        if (g >= 0) p[g] = a;
        g = at;
        a = p[g];
      }
      const uint64_t key = ExtremeBits<T>(values[row]);
      if (a.pos < 0 || (kGreatest ? key > a.key : key < a.key)) a = ExtremeAcc{key, 0, i};
    }
    if (g >= 0) p[g] = a;
  }
};

// The per-group extremes of a numeric `value` (ExtremeAt's positions) by
// runs of typed compares, on a backend with few, fat threads.
template <typename D, typename T, bool kGreatest>
void TypedExtremes(const D& be, const Groups& groups, bool input_order, const ColumnView& value,
                   const int64_t* load_order, ExtremeAcc* out, const Exec& exec) {
  const int64_t n = groups.rows, count = groups.count;
  const int64_t runs = RunsFor(n, count);
  Buffer partial(static_cast<size_t>(runs * count) * sizeof(ExtremeAcc), exec);
  Buffer seen(static_cast<size_t>(runs * count), exec);
  be.Fill(seen.data(), 1, seen.size(), exec);  // empty partials merge as nothing
  thrust::for_each_n(be.policy(exec), RowIterator(0), runs,
                     TypedExtremeRun<T, kGreatest>{RunGroupsOf(groups, input_order), load_order, value, n,
                                                   (n + runs - 1) / runs, count, partial.as<ExtremeAcc>()});
  thrust::for_each_n(be.policy(exec), RowIterator(0), count,
                     MergeRuns<MergeExtremes, ExtremeAcc>{runs, count, MergeExtremes{false, kGreatest},
                                                          partial.as<ExtremeAcc>(), seen.as<uint8_t>(), out});
}

// The first 8 bytes of s[0, len) as a big-endian number, zeros past its
// end: where two strings' prefixes differ, they order as the strings do.
inline uint64_t StringPrefix8(const char* s, int64_t len) {
  unsigned char b[8] = {};
  if (len > 0) std::memcpy(b, s, static_cast<size_t>(len < 8 ? len : 8));  // s may be null when empty
  uint64_t v = 0;
  for (unsigned char c : b) v = (v << 8) | c;
  return v;
}

// TypedExtremeRun for strings (charN or varchar): bytewise compares, the
// first 8 bytes as one number first (most rows differ there from the best
// so far). A charN string's length is looked for only where its prefix
// ties with the best's, or it becomes the best.
template <bool kGreatest>
struct StringExtremeRun {
  RowGroupOf row_group;
  const int64_t* order;
  ColumnView col;
  int64_t n, chunk, count;
  ExtremeAcc* partial;
  void operator()(int64_t c) const {
    ExtremeAcc* p = partial + c * count;
    for (int64_t g = 0; g < count; ++g) p[g] = ExtremeAcc{0, 0, -1};
    const int64_t end = (c + 1) * chunk < n ? (c + 1) * chunk : n;
    int32_t g = -1;
    ExtremeAcc a{0, 0, -1};
    uint64_t a_prefix = 0;
    const bool fixed = col.type == PhysType::kFixedChars;
    for (int64_t i = c * chunk; i < end; ++i) {
      const int64_t row = RowAt(order, i);
      if (!col.is_valid(row)) continue;
      const int32_t at = row_group(i);
      if (at != g) {
        if (g >= 0) p[g] = a;
        g = at;
        a = p[g];
        if (a.pos >= 0) a_prefix = StringPrefix8(reinterpret_cast<const char*>(static_cast<uintptr_t>(a.key)), a.len);
      }
      const char* s;
      int64_t len = -1;  // charN: not looked for yet
      uint64_t prefix;
      if (fixed) {
        s = static_cast<const char*>(col.data) + row * static_cast<int64_t>(col.width);
        prefix = StringPrefix8(s, col.width);  // the cell, zero-padded: no search for its end
      } else {
        StringAt(col, row, s, len);
        prefix = StringPrefix8(s, len);
      }
      int cmp = 1;
      if (a.pos >= 0) {
        if (prefix != a_prefix) {
          cmp = prefix < a_prefix ? -1 : 1;
        } else {
          if (len < 0) StringAt(col, row, s, len);
          cmp = CompareBytes(s, len, reinterpret_cast<const char*>(static_cast<uintptr_t>(a.key)), a.len);
        }
        if (!kGreatest) cmp = -cmp;
      }
      if (cmp > 0) {
        if (len < 0) StringAt(col, row, s, len);
        a = ExtremeAcc{static_cast<uint64_t>(reinterpret_cast<uintptr_t>(s)), len, i};
        a_prefix = prefix;
      }
    }
    if (g >= 0) p[g] = a;
  }
};

template <typename D, bool kGreatest>
void StringExtremes(const D& be, const Groups& groups, bool input_order, const ColumnView& value,
                    const int64_t* load_order, ExtremeAcc* out, const Exec& exec) {
  const int64_t n = groups.rows, count = groups.count;
  const int64_t runs = RunsFor(n, count);
  Buffer partial(static_cast<size_t>(runs * count) * sizeof(ExtremeAcc), exec);
  Buffer seen(static_cast<size_t>(runs * count), exec);
  be.Fill(seen.data(), 1, seen.size(), exec);  // empty partials merge as nothing
  thrust::for_each_n(be.policy(exec), RowIterator(0), runs,
                     StringExtremeRun<kGreatest>{RunGroupsOf(groups, input_order), load_order, value, n,
                                                 (n + runs - 1) / runs, count, partial.as<ExtremeAcc>()});
  thrust::for_each_n(be.policy(exec), RowIterator(0), count,
                     MergeRuns<MergeExtremes, ExtremeAcc>{runs, count, MergeExtremes{true, kGreatest},
                                                          partial.as<ExtremeAcc>(), seen.as<uint8_t>(), out});
}

template <typename D, bool kGreatest>
bool TypedExtremesOf(const D& be, const Groups& groups, bool input_order, const ColumnView& value,
                     const int64_t* load_order, ExtremeAcc* out, const Exec& exec) {
  switch (value.type) {
    case PhysType::kInt8: TypedExtremes<D, int8_t, kGreatest>(be, groups, input_order, value, load_order, out, exec); return true;
    case PhysType::kInt16: TypedExtremes<D, int16_t, kGreatest>(be, groups, input_order, value, load_order, out, exec); return true;
    case PhysType::kInt32: TypedExtremes<D, int32_t, kGreatest>(be, groups, input_order, value, load_order, out, exec); return true;
    case PhysType::kInt64: TypedExtremes<D, int64_t, kGreatest>(be, groups, input_order, value, load_order, out, exec); return true;
    case PhysType::kFloat32: TypedExtremes<D, float, kGreatest>(be, groups, input_order, value, load_order, out, exec); return true;
    case PhysType::kFloat64: TypedExtremes<D, double, kGreatest>(be, groups, input_order, value, load_order, out, exec); return true;
    case PhysType::kFixedChars:
    case PhysType::kVarChars: StringExtremes<D, kGreatest>(be, groups, input_order, value, load_order, out, exec); return true;
    default: return false;
  }
}

template <typename D>
Column AggregateAlgo(const D& be, const Groups& groups, AggKind kind, const ColumnView* value,
                     const ColumnView* target, const Exec& exec) {
  const int64_t count = groups.count;
  const int64_t n = groups.rows;
  if (kind == AggKind::kCount && value == nullptr) {
    Buffer data(static_cast<size_t>(count) * sizeof(int64_t), exec);
    if (count > 0) {
      thrust::transform(be.policy(exec), RowIterator(0), RowIterator(count), data.as<int64_t>(),
                        GroupSizes{groups.starts.as<int64_t>()});
    }
    return Column::Adopt(PhysType::kInt64, 0, false, count, std::move(data), Buffer(), Buffer());
  }
  if (value == nullptr) throw std::invalid_argument("Aggregate: this aggregate needs a value column");
  const bool needs_number = kind == AggKind::kSum || kind == AggKind::kMean || kind == AggKind::kVarPop ||
                            kind == AggKind::kVarSamp || kind == AggKind::kStdPop ||
                            kind == AggKind::kStdSamp;
  if (needs_number && !IsNumericType(value->type)) {
    throw std::invalid_argument("Aggregate: sum, mean, variance and deviation need a numeric value");
  }
  const bool arg = kind == AggKind::kArgMin || kind == AggKind::kArgMax;
  if (arg && target == nullptr)
    throw std::invalid_argument("Aggregate: arg_min and arg_max need a target column");

  // The result's layout.
  PhysType type = PhysType::kFloat64;
  int32_t width = 0;
  bool nullable = true;
  switch (kind) {
    case AggKind::kCount:
    case AggKind::kCountDistinct:
      type = PhysType::kInt64;
      nullable = false;
      break;
    case AggKind::kSum:
      type = IsFloatType(value->type) ? PhysType::kFloat64 : PhysType::kInt64;
      break;
    case AggKind::kMin:
    case AggKind::kMax:
      type = value->type;
      width = value->width;
      break;
    case AggKind::kArgMin:
    case AggKind::kArgMax:
      type = target->type;
      width = target->width;
      break;
    default:
      break;
  }
  if (count == 0) return Column(type, width, nullable);

  if (kind == AggKind::kCountDistinct && count == 1) {
    // One group (no GROUP BY): the distinct values are the groups of the
    // value column over the group's rows (hashed where that pays), less the
    // group of nulls, which comes first (key order).
    const int64_t* rows = groups.row_groups.size() > 0 ? groups.input_rows.as<int64_t>() : groups.order.as<int64_t>();
    GroupOptions options;
    options.ordered = false;
    if constexpr (D::kHasSerialGroups) {
      // The values' bounds let an integer value of few enough distinct
      // values take the dense path (no table, no sort).
      if (SerialGroups(be)) options.key_bounds = {KeyBoundsOf(be, *value, rows, n, exec)};
    }
    const Groups distinct = GroupRowsAlgo(be, {*value}, rows, n, options, exec);
    int64_t values = distinct.count;
    if (value->validity != nullptr && values > 0) {
      const Buffer first = GroupFirstRowsAlgo(be, distinct, exec);
      int64_t row = 0;
      uint8_t valid = 1;
      be.CopyToHostSync(&row, first.data(), sizeof(row), exec);
      be.CopyToHostSync(&valid, value->validity + row, 1, exec);
      if (valid == 0) --values;
    }
    Buffer data(sizeof(int64_t), exec);
    thrust::fill_n(be.policy(exec), data.as<int64_t>(), 1, values);
    return Column::Adopt(type, 0, false, 1, std::move(data), Buffer(), Buffer());
  }

  // Groups made without their order (GroupOptions::ordered) read in input
  // order; what needs the order (count_distinct, or a backend that does not
  // read in input order) gets it made here.
  if (groups.order.size() == 0 && (kind == AggKind::kCountDistinct || !SerialGroups(be))) {
    const Groups ordered = OrderedGroups(be, groups, exec);  // no row_groups: read through the order
    return AggregateAlgo(be, ordered, kind, value, target, exec);
  }

  const int64_t* order = groups.order.as<int64_t>();
  const int32_t* ids = groups.ids.as<int32_t>();
  // Groups that keep each input row's group are read in input order.
  const bool input_order = groups.row_groups.size() > 0 && SerialGroups(be);
  const int64_t* load_order = input_order ? groups.input_rows.as<int64_t>() : order;
  switch (kind) {
    case AggKind::kCount: {
      Buffer data(static_cast<size_t>(count) * sizeof(int64_t), exec);
      ReduceEachGroup(be, groups, input_order, CountAt{*value, load_order, false, nullptr, nullptr},
                      AddCounts{}, data.as<int64_t>(), exec);
      return Column::Adopt(type, 0, false, count, std::move(data), Buffer(), Buffer());
    }
    case AggKind::kCountDistinct: {
      // Positions sorted by (group, value), then count where the value changes.
      Buffer perm(static_cast<size_t>(n) * sizeof(int64_t), exec);
      thrust::sequence(be.policy(exec), perm.as<int64_t>(), perm.as<int64_t>() + n);
      ColumnView id_col;
      id_col.type = PhysType::kInt32;
      id_col.size = n;
      id_col.data = ids;
      int32_t bits = 1;
      while (bits < 31 && (int64_t{1} << bits) < count) ++bits;
      std::vector<SortColumn> cols(2);
      cols[0].col = id_col;
      cols[0].known_bits = bits;
      cols[1].col = *value;
      cols[1].index = order;
      RunSortPlan(be, PlanSort(cols), perm.as<int64_t>(), n, exec);
      Buffer data(static_cast<size_t>(count) * sizeof(int64_t), exec);
      ReduceEachGroup(be, groups, false, CountAt{*value, order, true, perm.as<int64_t>(), ids}, AddCounts{},
                      data.as<int64_t>(), exec);
      return Column::Adopt(type, 0, false, count, std::move(data), Buffer(), Buffer());
    }
    case AggKind::kSum: {
      Buffer acc(static_cast<size_t>(count) * sizeof(SumAcc), exec);
      SumEachGroup(be, groups, input_order, *value, load_order, acc.as<SumAcc>(), exec);
      return SumColumn(be, kind, *value, acc.as<SumAcc>(), count, exec);
    }
    case AggKind::kMean:
      if (MeanBySum(value->type)) {
        Buffer acc(static_cast<size_t>(count) * sizeof(SumAcc), exec);
        SumEachGroup(be, groups, input_order, *value, load_order, acc.as<SumAcc>(), exec);
        return SumColumn(be, kind, *value, acc.as<SumAcc>(), count, exec);
      }
      [[fallthrough]];
    case AggKind::kVarPop:
    case AggKind::kVarSamp:
    case AggKind::kStdPop:
    case AggKind::kStdSamp: {
      Buffer acc(static_cast<size_t>(count) * sizeof(VarAcc), exec);
      ReduceEachGroup(be, groups, input_order, VarAt{*value, load_order}, MergeVars{}, acc.as<VarAcc>(),
                      exec);
      Buffer data(static_cast<size_t>(count) * 8, exec);
      Buffer validity(static_cast<size_t>(count), exec);
      thrust::for_each_n(be.policy(exec), RowIterator(0), count,
                         FinishVars{acc.as<VarAcc>(), kind, data.as<double>(), validity.as<uint8_t>()});
      return Column::Adopt(type, 0, true, count, std::move(data), Buffer(), std::move(validity));
    }
    default: {  // kMin, kMax, kArgMin, kArgMax
      const bool greatest = kind == AggKind::kMax || kind == AggKind::kArgMax;
      Buffer acc(static_cast<size_t>(count) * sizeof(ExtremeAcc), exec);
      bool typed = false;
      if constexpr (D::kHasSerialGroups) {
        if (SerialGroups(be) && ReduceByRuns(be, groups, input_order)) {
          typed = greatest ? TypedExtremesOf<D, true>(be, groups, input_order, *value, load_order,
                                                      acc.as<ExtremeAcc>(), exec)
                           : TypedExtremesOf<D, false>(be, groups, input_order, *value, load_order,
                                                       acc.as<ExtremeAcc>(), exec);
        }
      }
      if (!typed) {
        ReduceEachGroup(be, groups, input_order, ExtremeAt{*value, load_order},
                        MergeExtremes{IsStringType(value->type), greatest}, acc.as<ExtremeAcc>(), exec);
      }
      Buffer rows(static_cast<size_t>(count) * sizeof(int64_t), exec);
      Buffer has(static_cast<size_t>(count), exec);
      thrust::for_each_n(
          be.policy(exec), RowIterator(0), count,
          ExtremeRows{acc.as<ExtremeAcc>(), load_order, rows.as<int64_t>(), has.as<uint8_t>()});
      acc.Reset();
      return MaskedGather(be, arg ? *target : *value, rows.as<int64_t>(), has.as<uint8_t>(), count, exec);
    }
  }
}

// Partial cells (runs x groups x columns) past which sums are not fused.
constexpr int64_t kMaxFusedSumCells = int64_t{1} << 20;

// A typed stand-in for a program's values: what SumColumn and the result
// layouts read of a value column.
inline ColumnView ProgramValues(const ProgramView& p) {
  ColumnView v;
  v.type = p.result == ValueKind::kFloat ? PhysType::kFloat64 : PhysType::kInt64;
  return v;
}

template <typename D>
std::vector<Column> AggregatesAlgo(const D& be, const Groups& groups, const std::vector<AggregateCall>& calls,
                                   const Exec& exec) {
  std::vector<Column> out(calls.size());
  std::vector<size_t> fused;  // calls whose sums go through one MultiSumRun pass
  if constexpr (D::kHasSerialGroups) {
    const int64_t count = groups.count;
    if (SerialGroups(be) && groups.row_groups.size() > 0 && count > 0) {
      bool programs = false;
      for (size_t i = 0; i < calls.size(); ++i) {
        const AggregateCall& c = calls[i];
        if (c.program != nullptr) {
          // Evaluated at the groups' rows (their input positions when
          // GroupRows had every row).
          if ((groups.input_rows.size() == 0 && groups.rows > c.program_rows) || !IsNumericProgram(*c.program)) {
            continue;
          }
          if (c.kind == AggKind::kSum || (c.kind == AggKind::kMean && c.program->result == ValueKind::kFloat)) {
            fused.push_back(i);
            programs = true;
          }
          continue;
        }
        // One group: a column's own pass (TypedSumRun's register lanes) is
        // faster, there being no group ids to share.
        if (c.value == nullptr || !IsNumericType(c.value->type) || count == 1) continue;
        if (c.kind == AggKind::kSum || (c.kind == AggKind::kMean && MeanBySum(c.value->type))) fused.push_back(i);
      }
      const int64_t runs = RunsFor(groups.rows, count), lanes = SumLanes(count);
      const int64_t cells = runs * count * lanes * static_cast<int64_t>(fused.size());
      if ((fused.size() < 2 && !programs) || cells > kMaxFusedSumCells) fused.clear();
      if (!fused.empty()) {
        const int64_t n = groups.rows, ncols = static_cast<int64_t>(fused.size());
        std::vector<ColumnView> cols;
        std::vector<const ProgramView*> program_of;
        for (size_t i : fused) {
          const AggregateCall& c = calls[i];
          cols.push_back(c.program != nullptr ? ProgramValues(*c.program) : *c.value);
          program_of.push_back(c.program);
        }
        Buffer partial(static_cast<size_t>(cells) * sizeof(SumAcc), exec);
        thrust::for_each_n(be.policy(exec), RowIterator(0), runs,
                           MultiSumRun{RowGroupsOf(groups), groups.input_rows.as<int64_t>(), cols.data(),
                                       programs ? program_of.data() : nullptr, ncols, runs, n,
                                       (n + runs - 1) / runs, count, lanes, partial.as<SumAcc>()});
        Buffer acc(static_cast<size_t>(count) * sizeof(SumAcc), exec);
        for (int64_t k = 0; k < ncols; ++k) {
          thrust::for_each_n(be.policy(exec), RowIterator(0), count,
                             MergeSumRuns{runs, count, lanes, partial.as<SumAcc>() + k * runs * count * lanes,
                                          acc.as<SumAcc>()});
          const size_t i = fused[static_cast<size_t>(k)];
          out[i] = SumColumn(be, calls[i].kind, cols[static_cast<size_t>(k)], acc.as<SumAcc>(), count, exec);
        }
      }
    }
  }
  for (size_t i = 0; i < calls.size(); ++i) {
    if (std::find(fused.begin(), fused.end(), i) != fused.end()) continue;
    const AggregateCall& c = calls[i];
    if (c.program != nullptr) {
      const Column values = MaterializeAlgo(be, *c.program, 0, c.program_rows, true, exec);
      const ColumnView v = values.view();
      out[i] = AggregateAlgo(be, groups, c.kind, &v, c.target, exec);
      continue;
    }
    out[i] = AggregateAlgo(be, groups, c.kind, c.value, c.target, exec);
  }
  return out;
}

}  // namespace kernels::detail
