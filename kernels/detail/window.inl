// Window functions (Window in window.h), written once over a backend D (see
// AnalyticsAlgorithms in analytics_algorithms.inl for what D supplies): the
// rows sorted by partition and order keys, where partitions and peer groups
// start found by comparing neighbours, those starts spread by max-scans,
// running aggregates by segmented scans (thrust::inclusive_scan_by_key),
// and each row's value read at its frame's end and written at its row.

#pragma once

#include <thrust/for_each.h>
#include <thrust/functional.h>
#include <thrust/iterator/reverse_iterator.h>
#include <thrust/scan.h>
#include <thrust/transform.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>

#include "kernels/detail/row_values.h"
#include "kernels/detail/rows.h"
#include "kernels/detail/sort.inl"
#include "kernels/window.h"

namespace kernels::detail {

constexpr int32_t kMaxWindowKeys = 8;

struct WindowKeys {
  ColumnView col[kMaxWindowKeys];
  int32_t count = 0;
};

// Sorted position i: i where its partition (pstart) or peer group (qstart)
// starts, else 0 (then spread by a max-scan).
struct WindowStarts {
  const int64_t* perm;
  WindowKeys part, peer;
  int64_t* pstart;
  int64_t* qstart;
  KERNELS_HD void operator()(int64_t i) const {
    bool new_part = i == 0, new_peer = i == 0;
    if (i > 0) {
      const int64_t a = perm[i - 1], b = perm[i];
      for (int32_t k = 0; k < part.count && !new_part; ++k) new_part = !RowKeysEqual(part.col[k], a, b);
      new_peer = new_part;
      for (int32_t k = 0; k < peer.count && !new_peer; ++k) new_peer = !RowKeysEqual(peer.col[k], a, b);
    }
    pstart[i] = new_part ? i : 0;
    qstart[i] = new_peer ? i : 0;
  }
};

// Sorted position i: i when it ends its segment (the last with its start),
// else the largest int64 (then spread from the right by a min-scan).
struct SegmentEnd {
  const int64_t* start;
  int64_t n;
  KERNELS_HD int64_t operator()(int64_t i) const {
    return i + 1 == n || start[i + 1] != start[i] ? i : INT64_MAX;
  }
};

// The inputs of the segmented scans at sorted position i.
struct WindowInputs {
  const int64_t* perm;
  const int64_t* qstart;
  ColumnView value;
  bool has_value, is_float;
  WindowKind kind;
  int64_t* counts;  // 1 for a non-null value (every row without a value); kDenseRank: 1 where a peer group starts
  int64_t* ints;    // integer values (sum, min, max)
  double* floats;   // float values (sum, min, max, mean)
  KERNELS_HD void operator()(int64_t i) const {
    if (kind == WindowKind::kDenseRank) {
      counts[i] = qstart[i] == i ? 1 : 0;
      return;
    }
    const int64_t row = perm[i];
    const bool valid = !has_value || value.is_valid(row);
    counts[i] = valid ? 1 : 0;
    if (ints == nullptr && floats == nullptr) return;  // a count reads no values
    if (is_float) {
      const double v = NumberAt(value, row);
      floats[i] = valid ? v
                  : kind == WindowKind::kMin ? INFINITY
                  : kind == WindowKind::kMax ? -INFINITY
                                             : 0.0;
    } else {
      const int64_t v = IntegerAt(value, row);
      ints[i] = valid ? v : kind == WindowKind::kMin ? INT64_MAX : kind == WindowKind::kMax ? INT64_MIN : 0;
    }
  }
};

struct MinI {
  KERNELS_HD int64_t operator()(int64_t a, int64_t b) const { return a < b ? a : b; }
};
struct MaxI {
  KERNELS_HD int64_t operator()(int64_t a, int64_t b) const { return a > b ? a : b; }
};
struct MinF {
  KERNELS_HD double operator()(double a, double b) const { return a < b || b != b ? a : b; }
};
struct MaxF {
  KERNELS_HD double operator()(double a, double b) const { return a > b || a != a ? a : b; }
};

// Row perm[i]'s value, from the scans at its frame's end.
struct WindowFinish {
  WindowKind kind;
  const int64_t* perm;
  const int64_t* pstart;
  const int64_t* qstart;
  const int64_t* end;  // the frame's last sorted position
  const int64_t* counts;
  const int64_t* ints;
  const double* floats;
  ColumnView value;
  bool is_float;
  int64_t offset, n;
  int64_t* out_ints;
  double* out_floats;
  uint8_t* valid;
  KERNELS_HD void operator()(int64_t i) const {
    const int64_t row = perm[i];
    bool ok = true;
    switch (kind) {
      case WindowKind::kRowNumber: out_ints[row] = i - pstart[i] + 1; break;
      case WindowKind::kRank: out_ints[row] = qstart[i] - pstart[i] + 1; break;
      case WindowKind::kDenseRank: out_ints[row] = counts[i]; break;
      case WindowKind::kLag:
      case WindowKind::kLead: {
        const int64_t j = kind == WindowKind::kLag ? i - offset : i + offset;
        ok = j >= 0 && j < n && pstart[j] == pstart[i] && value.is_valid(perm[j]);
        if (!ok) break;
        if (is_float) {
          out_floats[row] = NumberAt(value, perm[j]);
        } else {
          out_ints[row] = IntegerAt(value, perm[j]);
        }
        break;
      }
      case WindowKind::kCount: out_ints[row] = counts[end[i]]; break;
      case WindowKind::kMean:
        ok = counts[end[i]] > 0;
        if (ok) out_floats[row] = (is_float ? floats[end[i]] : static_cast<double>(ints[end[i]])) / counts[end[i]];
        break;
      default:  // kSum, kMin, kMax
        ok = counts[end[i]] > 0;
        if (!ok) break;
        if (is_float) {
          out_floats[row] = floats[end[i]];
        } else {
          out_ints[row] = ints[end[i]];
        }
        break;
    }
    if (valid != nullptr) valid[row] = ok ? 1 : 0;
  }
};

template <typename D>
Column WindowAlgo(const D& be, const WindowSpec& spec, int64_t n, const Exec& exec) {
  const WindowKind kind = spec.kind;
  const bool takes_value = kind == WindowKind::kLag || kind == WindowKind::kLead || kind == WindowKind::kSum ||
                           kind == WindowKind::kMin || kind == WindowKind::kMax || kind == WindowKind::kMean;
  if (spec.partition.size() > static_cast<size_t>(kMaxWindowKeys) ||
      spec.order.size() > static_cast<size_t>(kMaxWindowKeys)) {
    throw std::invalid_argument("Window: more than 8 partition or order keys");
  }
  if (takes_value && spec.value == nullptr) throw std::invalid_argument("Window: the function needs a value");
  const bool has_value = spec.value != nullptr && kind != WindowKind::kRowNumber && kind != WindowKind::kRank &&
                         kind != WindowKind::kDenseRank;
  // A count reads only whether values are null; the others read them.
  const bool reads = has_value && kind != WindowKind::kCount;
  if (reads && IsStringType(spec.value->type)) throw std::invalid_argument("Window: the value must be numeric");
  if (spec.offset < 0) throw std::invalid_argument("Window: a negative offset");
  const bool is_float = reads && IsFloatType(spec.value->type);
  const bool float_out = kind == WindowKind::kMean || (is_float && kind != WindowKind::kCount);
  const bool nullable = kind == WindowKind::kLag || kind == WindowKind::kLead || kind == WindowKind::kSum ||
                        kind == WindowKind::kMin || kind == WindowKind::kMax || kind == WindowKind::kMean;
  Buffer out(static_cast<size_t>(n) * 8, exec);
  Buffer valid(nullable ? static_cast<size_t>(n) : 0, exec);
  if (n <= 0) {
    return Column::Adopt(float_out ? PhysType::kFloat64 : PhysType::kInt64, 0, nullable, 0, std::move(out), Buffer(),
                         std::move(valid));
  }
  // The window's order: partition keys, then order keys.
  std::vector<SortKey> keys;
  WindowKeys part, peer;
  for (const ColumnView& c : spec.partition) {
    keys.push_back(SortKey{c, false});
    part.col[part.count++] = c;
  }
  for (const SortKey& k : spec.order) {
    keys.push_back(k);
    peer.col[peer.count++] = k.column;
  }
  Buffer perm = keys.empty() ? RowsOrIota(be, nullptr, n, exec) : SortOrderAlgo(be, keys, nullptr, n, exec);
  const int64_t* p = perm.as<int64_t>();
  auto policy = be.policy(exec);
  Buffer pstart(static_cast<size_t>(n) * sizeof(int64_t), exec);
  Buffer qstart(static_cast<size_t>(n) * sizeof(int64_t), exec);
  int64_t* ps = pstart.as<int64_t>();
  int64_t* qs = qstart.as<int64_t>();
  thrust::for_each_n(policy, RowIterator(0), n, WindowStarts{p, part, peer, ps, qs});
  thrust::inclusive_scan(policy, ps, ps + n, ps, thrust::maximum<int64_t>());
  thrust::inclusive_scan(policy, qs, qs + n, qs, thrust::maximum<int64_t>());
  // Frames end at the partition's last row, or (with order keys) the last peer.
  Buffer end(static_cast<size_t>(n) * sizeof(int64_t), exec);
  int64_t* e = end.as<int64_t>();
  thrust::transform(policy, RowIterator(0), RowIterator(n), e, SegmentEnd{spec.order.empty() ? ps : qs, n});
  thrust::inclusive_scan(policy, thrust::make_reverse_iterator(e + n), thrust::make_reverse_iterator(e),
                         thrust::make_reverse_iterator(e + n), MinI());
  // Running counts and values within partitions.
  Buffer counts(static_cast<size_t>(n) * sizeof(int64_t), exec);
  Buffer ints(reads && !is_float ? static_cast<size_t>(n) * sizeof(int64_t) : 0, exec);
  Buffer floats(is_float ? static_cast<size_t>(n) * sizeof(double) : 0, exec);
  int64_t* c = counts.as<int64_t>();
  int64_t* iv = ints.as<int64_t>();
  double* fv = floats.as<double>();
  const ColumnView value = has_value ? *spec.value : ColumnView{};
  thrust::for_each_n(policy, RowIterator(0), n, WindowInputs{p, qs, value, has_value, is_float, kind, c, iv, fv});
  if (kind != WindowKind::kRowNumber && kind != WindowKind::kRank && kind != WindowKind::kLag &&
      kind != WindowKind::kLead) {
    thrust::inclusive_scan_by_key(policy, ps, ps + n, c, c);
    if (iv != nullptr) {
      if (kind == WindowKind::kMin) {
        thrust::inclusive_scan_by_key(policy, ps, ps + n, iv, iv, thrust::equal_to<int64_t>(), MinI());
      } else if (kind == WindowKind::kMax) {
        thrust::inclusive_scan_by_key(policy, ps, ps + n, iv, iv, thrust::equal_to<int64_t>(), MaxI());
      } else {
        thrust::inclusive_scan_by_key(policy, ps, ps + n, iv, iv);
      }
    }
    if (fv != nullptr) {
      if (kind == WindowKind::kMin) {
        thrust::inclusive_scan_by_key(policy, ps, ps + n, fv, fv, thrust::equal_to<int64_t>(), MinF());
      } else if (kind == WindowKind::kMax) {
        thrust::inclusive_scan_by_key(policy, ps, ps + n, fv, fv, thrust::equal_to<int64_t>(), MaxF());
      } else {
        thrust::inclusive_scan_by_key(policy, ps, ps + n, fv, fv);
      }
    }
  }
  thrust::for_each_n(policy, RowIterator(0), n,
                     WindowFinish{kind, p, ps, qs, e, c, iv, fv, value, is_float, spec.offset, n,
                                  float_out ? nullptr : out.as<int64_t>(), float_out ? out.as<double>() : nullptr,
                                  nullable ? valid.as<uint8_t>() : nullptr});
  return Column::Adopt(float_out ? PhysType::kFloat64 : PhysType::kInt64, 0, nullable, n, std::move(out), Buffer(),
                       std::move(valid));
}

}  // namespace kernels::detail
