// Tests of the analytical kernels (materialize, sort, group-by, aggregates,
// histogram) on every backend of this binary. Each test draws data with
// ties, nulls and special values (NaN, -0.0, extremes of every integer type,
// empty strings, shared prefixes, bytes >= 0x80) and checks the kernels
// against plain references computed here on host copies.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <map>
#include <new>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/detail/expr_eval.h"
#include "kernels/detail/ops.h"
#include "kernels/expr_program.h"
#include "kernels/filter.h"
#include "kernels/groupby.h"
#include "kernels/histogram.h"
#include "kernels/materialize.h"
#include "kernels/memory.h"
#include "kernels/sort.h"
#include "kernels/statistics.h"
#include "tests/kernels/kernels_test_util.h"

namespace kernels {
namespace {

using namespace test;  // NOLINT

// ---------------------------------------------------------------------------
// Data with ties and special values.

template <typename T>
std::string Raw(T v) {
  return BytesOf(v);
}

std::string Padded(std::string s, int32_t width) {
  s.resize(static_cast<size_t>(width), '\0');
  return s;
}

// A value of `type` as raw row bytes: specials first, then random ones.
std::vector<std::string> Specials(PhysType type, int32_t width) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  double negative_nan = -nan;
  uint64_t nan_bits;
  std::memcpy(&nan_bits, &negative_nan, 8);
  nan_bits |= 0x8000000000000123ull;  // another payload, sign set
  std::memcpy(&negative_nan, &nan_bits, 8);
  switch (type) {
    case PhysType::kInt8:
      return {Raw<int8_t>(-128), Raw<int8_t>(127), Raw<int8_t>(0), Raw<int8_t>(-1), Raw<int8_t>(1)};
    case PhysType::kInt16:
      return {Raw<int16_t>(-32768), Raw<int16_t>(32767), Raw<int16_t>(0), Raw<int16_t>(-1), Raw<int16_t>(1)};
    case PhysType::kInt32:
      return {Raw(std::numeric_limits<int32_t>::min()), Raw(std::numeric_limits<int32_t>::max()),
              Raw<int32_t>(0), Raw<int32_t>(-1), Raw<int32_t>(1)};
    case PhysType::kInt64:
      return {Raw(std::numeric_limits<int64_t>::min()), Raw(std::numeric_limits<int64_t>::max()),
              Raw<int64_t>(0), Raw<int64_t>(-1), Raw<int64_t>(1)};
    case PhysType::kFloat32:
      return {Raw(std::numeric_limits<float>::quiet_NaN()),
              Raw(static_cast<float>(negative_nan)),
              Raw(-0.0f),
              Raw(0.0f),
              Raw(std::numeric_limits<float>::infinity()),
              Raw(-std::numeric_limits<float>::infinity()),
              Raw(std::numeric_limits<float>::denorm_min()),
              Raw(-1.5f),
              Raw(1.5f)};
    case PhysType::kFloat64:
      return {Raw(nan),
              Raw(negative_nan),
              Raw(-0.0),
              Raw(0.0),
              Raw(inf),
              Raw(-inf),
              Raw(std::numeric_limits<double>::denorm_min()),
              Raw(-1.5),
              Raw(1.5)};
    case PhysType::kFixedChars: {
      std::vector<std::string> v;
      for (const char* s : {"", "a", "ab", "abc", "abd", "b", "zzzzzzzzzzzz", "\xff", "a\xff", "ab\x01"}) {
        v.push_back(Padded(s, width));
      }
      return v;
    }
    case PhysType::kVarChars:
      return {"", "a", "ab", "abc", "abcdefghijklmnop", "abd", "b", "\xff", "a\xff", "ab\x01"};
  }
  return {};
}

std::string RandomValue(PhysType type, int32_t width, std::mt19937_64& rng) {
  auto letters = [&rng](size_t n) {
    std::string s(n, 'a');
    for (char& c : s) c = static_cast<char>('a' + rng() % 4);  // few letters: shared prefixes
    return s;
  };
  switch (type) {
    case PhysType::kInt8:
      return Raw(static_cast<int8_t>(rng()));
    case PhysType::kInt16:
      return Raw(static_cast<int16_t>(rng()));
    case PhysType::kInt32:
      return Raw(static_cast<int32_t>(rng()));
    case PhysType::kInt64:
      return Raw(static_cast<int64_t>(rng()));
    case PhysType::kFloat32:
      return Raw(static_cast<float>(static_cast<int64_t>(rng() % 200001) - 100000) / 64.0f);
    case PhysType::kFloat64:
      return Raw(static_cast<double>(static_cast<int64_t>(rng() % 2000001) - 1000000) / 1024.0);
    case PhysType::kFixedChars:
      return Padded(letters(rng() % (width + 1)), width);
    case PhysType::kVarChars:
      return letters(rng() % 12);
  }
  return {};
}

// `rows` rows drawn from `distinct` values (specials first when `specials`),
// with about `null_fraction` of them null (no validity array when 0).
HostColumn Drawn(PhysType type, int64_t rows, int64_t distinct, uint64_t seed, double null_fraction,
                 bool specials = true, int32_t width = 6) {
  std::mt19937_64 rng(seed);
  HostColumn h;
  h.type = type;
  h.width = type == PhysType::kFixedChars ? width : 0;
  std::vector<std::string> pool;
  if (specials) pool = Specials(type, h.width);
  if (static_cast<int64_t>(pool.size()) > distinct) pool.resize(static_cast<size_t>(distinct));
  while (static_cast<int64_t>(pool.size()) < distinct) pool.push_back(RandomValue(type, h.width, rng));
  for (int64_t i = 0; i < rows; ++i) h.rows.push_back(pool[rng() % pool.size()]);
  if (null_fraction > 0) {
    std::uniform_real_distribution<double> u(0, 1);
    for (int64_t i = 0; i < rows; ++i) h.validity.push_back(u(rng) >= null_fraction ? 1 : 0);
  }
  return h;
}

// ---------------------------------------------------------------------------
// References.

int CompareNumbers(double x, double y) {
  const bool nx = std::isnan(x), ny = std::isnan(y);
  if (nx || ny) return nx == ny ? 0 : (nx ? 1 : -1);
  return x < y ? -1 : (y < x ? 1 : 0);
}

template <typename T>
int Compare3(T a, T b) {
  return a < b ? -1 : (b < a ? 1 : 0);
}

// Orders two rows of one key as the kernels do: null < numbers < NaN (NaNs
// equal, -0.0 == 0.0); strings bytewise, a charN up to its first zero byte.
int CompareKey(const HostColumn& h, int64_t a, int64_t b) {
  const bool va = h.valid(a), vb = h.valid(b);
  if (!va || !vb) return va == vb ? 0 : (va ? 1 : -1);
  switch (h.type) {
    case PhysType::kInt8:
      return Compare3(ValueAt<int8_t>(h, a), ValueAt<int8_t>(h, b));
    case PhysType::kInt16:
      return Compare3(ValueAt<int16_t>(h, a), ValueAt<int16_t>(h, b));
    case PhysType::kInt32:
      return Compare3(ValueAt<int32_t>(h, a), ValueAt<int32_t>(h, b));
    case PhysType::kInt64:
      return Compare3(ValueAt<int64_t>(h, a), ValueAt<int64_t>(h, b));
    case PhysType::kFloat32:
      return CompareNumbers(ValueAt<float>(h, a), ValueAt<float>(h, b));
    case PhysType::kFloat64:
      return CompareNumbers(ValueAt<double>(h, a), ValueAt<double>(h, b));
    default:
      return CompareStrings(StringAt(h, a), StringAt(h, b));
  }
}

struct RefKey {
  const HostColumn* column;
  bool descending;
};

int CompareTuple(const std::vector<RefKey>& keys, int64_t a, int64_t b) {
  for (const RefKey& k : keys) {
    const int c = CompareKey(*k.column, a, b);
    if (c != 0) return k.descending ? -c : c;
  }
  return 0;
}

std::vector<int64_t> ReferenceSort(const std::vector<RefKey>& keys, std::vector<int64_t> rows) {
  std::stable_sort(rows.begin(), rows.end(),
                   [&](int64_t a, int64_t b) { return CompareTuple(keys, a, b) < 0; });
  return rows;
}

struct RefGroups {
  std::vector<int64_t> order;
  std::vector<int64_t> starts;  // count + 1 entries
  int64_t count() const { return static_cast<int64_t>(starts.size()) - 1; }
};

RefGroups ReferenceGroups(const std::vector<const HostColumn*>& keys, const std::vector<int64_t>& rows) {
  std::vector<RefKey> ref;
  for (const HostColumn* k : keys) ref.push_back({k, false});
  RefGroups g;
  g.order = ReferenceSort(ref, rows);
  for (size_t i = 0; i < g.order.size(); ++i) {
    if (i == 0 || CompareTuple(ref, g.order[i - 1], g.order[i]) != 0)
      g.starts.push_back(static_cast<int64_t>(i));
  }
  g.starts.push_back(static_cast<int64_t>(g.order.size()));
  return g;
}

double NumberOf(const HostColumn& h, int64_t i) {
  switch (h.type) {
    case PhysType::kInt8:
      return ValueAt<int8_t>(h, i);
    case PhysType::kInt16:
      return ValueAt<int16_t>(h, i);
    case PhysType::kInt32:
      return ValueAt<int32_t>(h, i);
    case PhysType::kInt64:
      return static_cast<double>(ValueAt<int64_t>(h, i));
    case PhysType::kFloat32:
      return ValueAt<float>(h, i);
    case PhysType::kFloat64:
      return ValueAt<double>(h, i);
    default:
      return 0;
  }
}

int64_t IntegerOf(const HostColumn& h, int64_t i) {
  switch (h.type) {
    case PhysType::kInt8:
      return ValueAt<int8_t>(h, i);
    case PhysType::kInt16:
      return ValueAt<int16_t>(h, i);
    case PhysType::kInt32:
      return ValueAt<int32_t>(h, i);
    case PhysType::kInt64:
      return ValueAt<int64_t>(h, i);
    default:
      return 0;
  }
}

bool IsFloat(PhysType t) { return t == PhysType::kFloat32 || t == PhysType::kFloat64; }
bool IsString(PhysType t) { return t == PhysType::kFixedChars || t == PhysType::kVarChars; }

// A null row as the kernels write it: zero bytes, or an empty string.
std::string NullRow(const HostColumn& like) {
  if (like.type == PhysType::kVarChars) return "";
  return std::string(static_cast<size_t>(ValueWidth(like.type, like.width)), '\0');
}

const char* AggName(AggKind k) {
  switch (k) {
    case AggKind::kCount:
      return "count";
    case AggKind::kSum:
      return "sum";
    case AggKind::kMin:
      return "min";
    case AggKind::kMax:
      return "max";
    case AggKind::kMean:
      return "mean";
    case AggKind::kVarPop:
      return "var_pop";
    case AggKind::kVarSamp:
      return "var_samp";
    case AggKind::kStdPop:
      return "std_pop";
    case AggKind::kStdSamp:
      return "std_samp";
    case AggKind::kArgMin:
      return "arg_min";
    case AggKind::kArgMax:
      return "arg_max";
    case AggKind::kCountDistinct:
      return "count_distinct";
  }
  return "?";
}

const AggKind kAllAggs[] = {AggKind::kCount,   AggKind::kSum,    AggKind::kMin,     AggKind::kMax,
                            AggKind::kMean,    AggKind::kVarPop, AggKind::kVarSamp, AggKind::kStdPop,
                            AggKind::kStdSamp, AggKind::kArgMin, AggKind::kArgMax,  AggKind::kCountDistinct};

bool NeedsNumber(AggKind k) {
  return k == AggKind::kSum || k == AggKind::kMean || k == AggKind::kVarPop || k == AggKind::kVarSamp ||
         k == AggKind::kStdPop || k == AggKind::kStdSamp;
}

// The reference of one aggregate over groups (rows of each group in order).
// Float results that are not exact (mean, variances) go to `approx`.
HostColumn ReferenceAggregate(const std::vector<std::vector<int64_t>>& groups, AggKind kind,
                              const HostColumn* value, const HostColumn* target,
                              std::vector<double>* approx) {
  HostColumn out;
  const size_t count = groups.size();
  auto fixed = [&](PhysType type) {
    out.type = type;
    out.rows.assign(count, std::string(8, '\0'));
  };
  switch (kind) {
    case AggKind::kCount:
    case AggKind::kCountDistinct: {
      fixed(PhysType::kInt64);
      for (size_t g = 0; g < count; ++g) {
        std::vector<int64_t> valid;
        for (int64_t r : groups[g]) {
          if (value == nullptr || value->valid(r)) valid.push_back(r);
        }
        int64_t c = static_cast<int64_t>(valid.size());
        if (kind == AggKind::kCountDistinct) {
          std::stable_sort(valid.begin(), valid.end(),
                           [&](int64_t a, int64_t b) { return CompareKey(*value, a, b) < 0; });
          c = 0;
          for (size_t i = 0; i < valid.size(); ++i) {
            if (i == 0 || CompareKey(*value, valid[i - 1], valid[i]) != 0) ++c;
          }
        }
        out.rows[g] = Raw(c);
      }
      return out;
    }
    case AggKind::kSum: {
      const bool fl = IsFloat(value->type);
      fixed(fl ? PhysType::kFloat64 : PhysType::kInt64);
      out.validity.assign(count, 0);
      for (size_t g = 0; g < count; ++g) {
        uint64_t si = 0;
        double sf = 0;
        int64_t n = 0;
        for (int64_t r : groups[g]) {
          if (!value->valid(r)) continue;
          ++n;
          si += static_cast<uint64_t>(IntegerOf(*value, r));
          sf += NumberOf(*value, r);
        }
        if (n == 0) continue;
        out.validity[g] = 1;
        out.rows[g] = fl ? Raw(sf) : Raw(static_cast<int64_t>(si));
      }
      return out;
    }
    case AggKind::kMean:
    case AggKind::kVarPop:
    case AggKind::kVarSamp:
    case AggKind::kStdPop:
    case AggKind::kStdSamp: {
      fixed(PhysType::kFloat64);
      out.validity.assign(count, 0);
      approx->assign(count, 0.0);
      for (size_t g = 0; g < count; ++g) {
        std::vector<long double> v;
        for (int64_t r : groups[g]) {
          if (value->valid(r)) v.push_back(NumberOf(*value, r));
        }
        const size_t n = v.size();
        const size_t need = kind == AggKind::kVarSamp || kind == AggKind::kStdSamp ? 2 : 1;
        if (n < need) continue;
        long double mean = 0;
        for (long double x : v) mean += x;
        mean /= n;
        long double m2 = 0;
        for (long double x : v) m2 += (x - mean) * (x - mean);
        double r = 0;
        switch (kind) {
          case AggKind::kMean:
            r = static_cast<double>(mean);
            break;
          case AggKind::kVarPop:
            r = static_cast<double>(m2 / n);
            break;
          case AggKind::kVarSamp:
            r = static_cast<double>(m2 / (n - 1));
            break;
          case AggKind::kStdPop:
            r = std::sqrt(static_cast<double>(m2 / n));
            break;
          default:
            r = std::sqrt(static_cast<double>(m2 / (n - 1)));
            break;
        }
        out.validity[g] = 1;
        (*approx)[g] = r;
      }
      return out;
    }
    default: {  // min, max, arg_min, arg_max
      const bool greatest = kind == AggKind::kMax || kind == AggKind::kArgMax;
      const HostColumn& src = kind == AggKind::kArgMin || kind == AggKind::kArgMax ? *target : *value;
      out.type = src.type;
      out.width = src.width;
      out.rows.assign(count, NullRow(src));
      out.validity.assign(count, 0);
      for (size_t g = 0; g < count; ++g) {
        int64_t best = -1;
        for (int64_t r : groups[g]) {
          if (!value->valid(r)) continue;
          if (best < 0) {
            best = r;
            continue;
          }
          const int c = CompareKey(*value, r, best);
          if (greatest ? c > 0 : c < 0) best = r;
        }
        if (best < 0 || !src.valid(best)) continue;
        out.validity[g] = 1;
        out.rows[g] = src.rows[best];
      }
      return out;
    }
  }
}

std::vector<std::vector<int64_t>> GroupLists(const std::vector<int64_t>& order,
                                             const std::vector<int64_t>& starts) {
  std::vector<std::vector<int64_t>> groups;
  for (size_t g = 0; g + 1 < starts.size(); ++g) {
    groups.emplace_back(order.begin() + starts[g], order.begin() + starts[g + 1]);
  }
  return groups;
}

::testing::AssertionResult NearValues(const HostColumn& actual, const HostColumn& expected,
                                      const std::vector<double>& approx, double rel) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure() << "has " << actual.size() << " rows, expected " << expected.size();
  }
  for (int64_t i = 0; i < actual.size(); ++i) {
    if (actual.valid(i) != expected.valid(i)) {
      return ::testing::AssertionFailure() << "row " << i << " is " << (actual.valid(i) ? "valid" : "null");
    }
    const double a = ValueAt<double>(actual, i);
    if (!expected.valid(i)) {
      if (a != 0.0) return ::testing::AssertionFailure() << "null row " << i << " holds " << a;
      continue;
    }
    const double e = approx[i];
    if (!(std::fabs(a - e) <= rel * std::max(1.0, std::fabs(e)))) {
      return ::testing::AssertionFailure() << "row " << i << " holds " << a << ", expected " << e;
    }
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------
// The fixture.

// The grouping paths: SerialModes().
class AnalyticsTest : public SerialModesTest {
 protected:
  std::vector<int64_t> Order(const std::vector<SortKey>& keys, const std::vector<int64_t>* rows, int64_t n) {
    Buffer r;
    if (rows != nullptr) r = ToDevice(*rows, exec_);
    const Buffer out = SortOrder(keys, rows != nullptr ? r.as<int64_t>() : nullptr, n, exec_);
    return FromDevice<int64_t>(out.data(), n, exec_);
  }

  // Aggregates over `g` (made unordered with `options` from `key`'s n
  // rows) equal those over the same key's ordered groups: floats within
  // 1e-9, everything else exactly.
  void ExpectAggregatesAsOrdered(const Groups& g, const ColumnView& key, int64_t n, GroupOptions options,
                                 const std::vector<AggregateCall>& calls) {
    options.ordered = true;
    const Groups o = GroupRows({key}, nullptr, n, options, exec_);
    const std::vector<Column> got = Aggregates(g, calls, exec_), want = Aggregates(o, calls, exec_);
    for (size_t k = 0; k < calls.size(); ++k) {
      SCOPED_TRACE(AggName(calls[k].kind));
      const HostColumn expected = Host(want[k].view());
      if (expected.type == PhysType::kFloat64) {
        std::vector<double> approx;
        for (int64_t r = 0; r < expected.size(); ++r) approx.push_back(ValueAt<double>(expected, r));
        EXPECT_TRUE(NearValues(Host(got[k].view()), expected, approx, 1e-9));
      } else {
        EXPECT_TRUE(SameRows(Host(got[k].view()), expected));
      }
    }
  }

  // GroupRows on the device, checked against the reference; returns the groups.
  Groups CheckGroups(const std::vector<const HostColumn*>& keys, const std::vector<int64_t>* rows, int64_t n,
                     const GroupOptions& options, const Buffer* device_rows = nullptr) {
    std::vector<Column> cols;
    std::vector<ColumnView> views;
    for (const HostColumn* k : keys) {
      cols.push_back(Dev(*k));
      views.push_back(cols.back().view());
    }
    Buffer r;
    const int64_t* rp = nullptr;
    if (device_rows != nullptr) {
      rp = device_rows->as<int64_t>();
    } else if (rows != nullptr) {
      r = ToDevice(*rows, exec_);
      rp = r.as<int64_t>();
    }
    Groups g = GroupRows(views, rp, n, options, exec_);
    const RefGroups ref = ReferenceGroups(keys, rows != nullptr ? *rows : Iota(0, n));
    EXPECT_EQ(g.rows, n);
    EXPECT_EQ(g.count, ref.count());
    if (g.count != ref.count()) return g;
    EXPECT_EQ(FromDevice<int64_t>(g.starts.data(), g.count + 1, exec_), ref.starts);
    if (!options.ordered) {
      // Read through GroupFirstRows and Aggregate only: each group's first,
      // least and greatest row.
      const int64_t size = keys[0]->size();
      const Column position = Dev(Numbers<int64_t>(Iota(0, size)));
      const ColumnView pv = position.view();
      const HostColumn least = Host(Aggregate(g, AggKind::kMin, &pv, nullptr, exec_).view());
      const HostColumn most = Host(Aggregate(g, AggKind::kMax, &pv, nullptr, exec_).view());
      const std::vector<int64_t> first = FromDevice<int64_t>(GroupFirstRows(g, exec_).data(), g.count, exec_);
      for (int64_t k = 0; k < ref.count(); ++k) {
        const auto begin = ref.order.begin() + ref.starts[k], end = ref.order.begin() + ref.starts[k + 1];
        EXPECT_EQ(first[k], *begin) << "group " << k;
        EXPECT_EQ(ValueAt<int64_t>(least, k), *std::min_element(begin, end)) << "group " << k;
        EXPECT_EQ(ValueAt<int64_t>(most, k), *std::max_element(begin, end)) << "group " << k;
      }
      return g;
    }
    EXPECT_EQ(FromDevice<int64_t>(g.order.data(), n, exec_), ref.order);
    std::vector<int32_t> ids;
    for (int64_t k = 0; k < ref.count(); ++k) {
      for (int64_t i = ref.starts[k]; i < ref.starts[k + 1]; ++i) ids.push_back(static_cast<int32_t>(k));
    }
    EXPECT_EQ(FromDevice<int32_t>(g.ids.data(), n, exec_), ids);
    return g;
  }

  // Per group: (rows, least row, greatest row, first row in input order),
  // sorted, so that groups in any order compare; `positions` holds each
  // row's own index.
  using Summary = std::tuple<int64_t, int64_t, int64_t, int64_t>;
  std::vector<Summary> Summaries(const Groups& g, const ColumnView& positions) {
    const HostColumn counts = Host(Aggregate(g, AggKind::kCount, nullptr, nullptr, exec_).view());
    const HostColumn least = Host(Aggregate(g, AggKind::kMin, &positions, nullptr, exec_).view());
    const HostColumn most = Host(Aggregate(g, AggKind::kMax, &positions, nullptr, exec_).view());
    const std::vector<int64_t> first = FromDevice<int64_t>(GroupFirstRows(g, exec_).data(), g.count, exec_);
    std::vector<Summary> out;
    for (int64_t k = 0; k < g.count; ++k) {
      out.emplace_back(ValueAt<int64_t>(counts, k), ValueAt<int64_t>(least, k), ValueAt<int64_t>(most, k), first[k]);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::vector<Summary> Summaries(const RefGroups& ref) {
    std::vector<Summary> out;
    for (const std::vector<int64_t>& rows : GroupLists(ref.order, ref.starts)) {
      out.emplace_back(static_cast<int64_t>(rows.size()), *std::min_element(rows.begin(), rows.end()),
                       *std::max_element(rows.begin(), rows.end()), rows.front());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
};

INSTANTIATE_FOR_BACKENDS(AnalyticsTest);

using SortTest = AnalyticsTest;
INSTANTIATE_FOR_BACKENDS(SortTest);

using GroupTest = AnalyticsTest;
INSTANTIATE_FOR_BACKENDS(GroupTest);

using AggregateTest = AnalyticsTest;
INSTANTIATE_FOR_BACKENDS(AggregateTest);

using HistogramTest = AnalyticsTest;
INSTANTIATE_FOR_BACKENDS(HistogramTest);

using MaterializeTest = AnalyticsTest;
INSTANTIATE_FOR_BACKENDS(MaterializeTest);

// ===========================================================================
// SortOrder

TEST_P(SortTest, EveryTypeBothDirectionsWithNulls) {
  for (PhysType type : kAllTypes) {
    for (int64_t n : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{1000}, int64_t{30011}}) {
      for (double nulls : {0.0, 0.3}) {
        const HostColumn h = Drawn(type, n, n > 100 ? 300 : 5, static_cast<uint64_t>(n) * 7 + 1, nulls);
        const Column c = Dev(h);
        for (bool desc : {false, true}) {
          SCOPED_TRACE(testing::Message() << TypeName(type) << ", " << n << " rows, nulls " << nulls
                                          << (desc ? ", descending" : ", ascending"));
          EXPECT_EQ(Order({{c.view(), desc}}, nullptr, n), ReferenceSort({{&h, desc}}, Iota(0, n)));
        }
      }
    }
  }
}

TEST_P(SortTest, NullsNaNAndNegativeZeroPlaces) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const HostColumn h =
      Numbers<double>({2.0, nan, -0.0, 0.0, -1.0, 0.0, nan, 5.0, -0.0}, {1, 1, 1, 1, 0, 1, 1, 1, 1});
  const Column c = Dev(h);
  // Ascending: the null, then -0.0 and 0.0 as equals in input order, numbers, NaNs.
  EXPECT_EQ(Order({{c.view(), false}}, nullptr, 9), (std::vector<int64_t>{4, 2, 3, 5, 8, 0, 7, 1, 6}));
  // Descending: NaNs first, the null last; ties keep their input order.
  EXPECT_EQ(Order({{c.view(), true}}, nullptr, 9), (std::vector<int64_t>{1, 6, 7, 0, 2, 3, 5, 8, 4}));
}

TEST_P(SortTest, StringsWithSharedPrefixesAndEmpty) {
  const HostColumn v = VarChars({"ab", "", "a", "abc", "\xff", "ab", "b", "a\xff", "", "ab\x01"},
                                {1, 1, 1, 1, 1, 1, 0, 1, 1, 1});
  const Column c = Dev(v);
  // Unsigned bytes: "a\xff" sorts after "abc".
  EXPECT_EQ(Order({{c.view(), false}}, nullptr, 10), (std::vector<int64_t>{6, 1, 8, 2, 0, 5, 9, 3, 7, 4}));
  EXPECT_EQ(Order({{c.view(), true}}, nullptr, 10), (std::vector<int64_t>{4, 7, 3, 9, 0, 5, 2, 1, 8, 6}));
  // charN, narrow (radix) and wide (comparison), ending at the first zero byte.
  for (int32_t width : {3, 8, 11, 40}) {
    SCOPED_TRACE(testing::Message() << "char" << width);
    const HostColumn f = Drawn(PhysType::kFixedChars, 5003, 60, 99 + width, 0.2, true, width);
    const Column fc = Dev(f);
    for (bool desc : {false, true}) {
      EXPECT_EQ(Order({{fc.view(), desc}}, nullptr, 5003), ReferenceSort({{&f, desc}}, Iota(0, 5003)));
    }
  }
}

TEST_P(SortTest, MultipleKeysOfMixedTypes) {
  const int64_t n = 50021;
  struct Case {
    std::vector<PhysType> types;
    std::vector<bool> desc;
    std::vector<int64_t> distinct;
  };
  const std::vector<Case> cases = {
      {{PhysType::kInt16, PhysType::kVarChars, PhysType::kFloat64}, {false, true, false}, {7, 13, 50}},
      {{PhysType::kFixedChars, PhysType::kInt64, PhysType::kInt8}, {true, false, true}, {9, 30, 200}},
      {{PhysType::kFloat32, PhysType::kInt32, PhysType::kFixedChars}, {false, false, false}, {11, 5, 40}},
      // Many small keys: several fields share a radix word, then a new word.
      {{PhysType::kInt8, PhysType::kInt8, PhysType::kInt16, PhysType::kInt8, PhysType::kInt32,
        PhysType::kInt8},
       {false, true, false, true, false, true},
       {3, 4, 5, 3, 6, 2}},
  };
  for (const Case& c : cases) {
    for (double nulls : {0.0, 0.25}) {
      std::vector<HostColumn> hosts;
      for (size_t k = 0; k < c.types.size(); ++k) {
        hosts.push_back(Drawn(c.types[k], n, c.distinct[k], 1000 + k * 31, nulls));
      }
      std::vector<Column> cols;
      std::vector<SortKey> keys;
      std::vector<RefKey> ref;
      for (size_t k = 0; k < hosts.size(); ++k) {
        cols.push_back(Dev(hosts[k]));
        keys.push_back({cols.back().view(), c.desc[k]});
        ref.push_back({&hosts[k], c.desc[k]});
      }
      SCOPED_TRACE(testing::Message() << c.types.size() << " keys starting with " << TypeName(c.types[0])
                                      << ", nulls " << nulls);
      EXPECT_EQ(Order(keys, nullptr, n), ReferenceSort(ref, Iota(0, n)));
    }
  }
}

TEST_P(SortTest, RowsSubsetAndNoKeys) {
  const int64_t size = 20000;
  const HostColumn a = Drawn(PhysType::kInt32, size, 40, 5, 0.2);
  const HostColumn s = Drawn(PhysType::kVarChars, size, 40, 6, 0.2);
  const Column ca = Dev(a), cs = Dev(s);
  std::mt19937_64 rng(8);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < 7001; ++i) rows.push_back(static_cast<int64_t>(rng() % size));  // repeats allowed
  const int64_t n = static_cast<int64_t>(rows.size());
  EXPECT_EQ(Order({{ca.view(), false}, {cs.view(), true}}, &rows, n),
            ReferenceSort({{&a, false}, {&s, true}}, rows));
  EXPECT_EQ(Order({{cs.view(), false}}, &rows, n), ReferenceSort({{&s, false}}, rows));
  EXPECT_EQ(Order({}, &rows, n), rows);
  EXPECT_EQ(Order({}, nullptr, 5), Iota(0, 5));
}

// Strings of few distinct values over many rows sort as their values'
// ranks (sort.inl, kRankMinRows): the same order as the reference, both
// directions, nulls, beside other keys, over a subset of rows with
// repeats; wide charN too; and strings of many values (no ranks).
TEST_P(SortTest, StringsOfFewValuesSortAsRanks) {
  const int64_t n = 70001;
  const HostColumn s = Drawn(PhysType::kVarChars, n, 300, 181, 0.2);
  const HostColumn w = Drawn(PhysType::kFixedChars, n, 100, 182, 0.1, true, 40);
  const HostColumn a = Drawn(PhysType::kInt32, n, 7, 183, 0.0);
  const HostColumn many = Drawn(PhysType::kVarChars, n, 60000, 184, 0.0);
  const Column cs = Dev(s), cw = Dev(w), ca = Dev(a), cm = Dev(many);
  for (bool desc : {false, true}) {
    SCOPED_TRACE(desc ? "descending" : "ascending");
    EXPECT_EQ(Order({{cs.view(), desc}}, nullptr, n), ReferenceSort({{&s, desc}}, Iota(0, n)));
    EXPECT_EQ(Order({{cw.view(), desc}}, nullptr, n), ReferenceSort({{&w, desc}}, Iota(0, n)));
    EXPECT_EQ(Order({{ca.view(), false}, {cs.view(), desc}}, nullptr, n),
              ReferenceSort({{&a, false}, {&s, desc}}, Iota(0, n)));
    EXPECT_EQ(Order({{cm.view(), desc}}, nullptr, n), ReferenceSort({{&many, desc}}, Iota(0, n)));
  }
  std::mt19937_64 rng(185);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < 80000; ++i) rows.push_back(static_cast<int64_t>(rng() % n));  // repeats allowed
  const int64_t m = static_cast<int64_t>(rows.size());
  EXPECT_EQ(Order({{cs.view(), true}, {ca.view(), true}}, &rows, m), ReferenceSort({{&s, true}, {&a, true}}, rows));
  // The first k of a sort: a middle page's worth.
  const std::vector<int64_t> all = ReferenceSort({{&s, false}}, Iota(0, n));
  const Buffer top = TopKOrder({{cs.view(), false}}, nullptr, n, n / 2 + 100, exec_);
  EXPECT_EQ(FromDevice<int64_t>(top.data(), n / 2 + 100, exec_),
            std::vector<int64_t>(all.begin(), all.begin() + n / 2 + 100));
}

TEST_P(SortTest, LargeInputs) {
  const int64_t n = kLargeRows;
  const HostColumn a = Drawn(PhysType::kInt64, n, n, 12, 0.1, false);
  const HostColumn d = Drawn(PhysType::kFloat64, n, 1000, 13, 0.0);
  const Column ca = Dev(a), cd = Dev(d);
  EXPECT_EQ(Order({{ca.view(), false}}, nullptr, n), ReferenceSort({{&a, false}}, Iota(0, n)));
  EXPECT_EQ(Order({{cd.view(), true}, {ca.view(), false}}, nullptr, n),
            ReferenceSort({{&d, true}, {&a, false}}, Iota(0, n)));
  const int64_t m = 200003;
  const HostColumn s = Drawn(PhysType::kVarChars, m, 5000, 14, 0.1);
  const Column cs = Dev(s);
  EXPECT_EQ(Order({{cs.view(), false}}, nullptr, m), ReferenceSort({{&s, false}}, Iota(0, m)));
}

// Keys in order already skip the sort: sorted ascending with ties, sorted
// but for one row (first, last, or past the sample's stride), descending,
// and a row list whose keys come in order.
TEST_P(SortTest, KeysAlreadyInOrder) {
  const int64_t n = 100003;
  std::vector<int64_t> ascending(n);
  for (int64_t i = 0; i < n; ++i) ascending[i] = i / 3 - 1000;
  std::vector<std::vector<int64_t>> cases = {ascending};
  for (int64_t at : {int64_t{0}, n - 1, int64_t{98}, n / 2 + 1}) {
    std::vector<int64_t> v = ascending;
    v[at] = at == 0 ? n : -n;  // one row out of order
    cases.push_back(v);
  }
  cases.push_back(std::vector<int64_t>(ascending.rbegin(), ascending.rend()));
  for (const std::vector<int64_t>& v : cases) {
    const HostColumn h = Numbers<int64_t>(v);
    const Column c = Dev(h);
    for (bool desc : {false, true}) {
      SCOPED_TRACE(testing::Message() << "case " << (&v - cases.data()) << (desc ? ", descending" : ""));
      EXPECT_EQ(Order({{c.view(), desc}}, nullptr, n), ReferenceSort({{&h, desc}}, Iota(0, n)));
    }
  }
  const HostColumn h = Numbers<int64_t>(ascending);
  const Column c = Dev(h);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; i += 2) rows.push_back(i);
  EXPECT_EQ(Order({{c.view(), false}}, &rows, static_cast<int64_t>(rows.size())), ReferenceSort({{&h, false}}, rows));
}

// ===========================================================================
// GroupRows and GroupFirstRows

GroupOptions Method(GroupMethod m, int64_t hash_max_groups = 0) {
  GroupOptions o;
  o.method = m;
  o.hash_max_groups = hash_max_groups;
  return o;
}

GroupOptions Unordered(GroupMethod m) {
  GroupOptions o = Method(m);
  o.ordered = false;
  return o;
}

TEST_P(GroupTest, EveryTypeAsKeyByHashAndBySort) {
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    SCOPED_TRACE(serial ? "serial paths" : "wide paths");
    for (PhysType type : kAllTypes) {
      for (int64_t n : {int64_t{1}, int64_t{2}, int64_t{1000}, int64_t{70001}}) {
        for (double nulls : {0.0, 0.3}) {
          const HostColumn h = Drawn(type, n, 300, static_cast<uint64_t>(n) + 3, nulls);
          for (GroupMethod m : {GroupMethod::kHash, GroupMethod::kSort, GroupMethod::kAuto}) {
            for (bool ordered : {true, false}) {
              SCOPED_TRACE(testing::Message() << TypeName(type) << ", " << n << " rows, nulls " << nulls << ", method "
                                              << static_cast<int>(m) << (ordered ? ", ordered" : ""));
              const Groups g = CheckGroups({&h}, nullptr, n, ordered ? Method(m) : Unordered(m));
              // Strings never hash; fixed-width keys hash when asked.
              const bool hashes = m == GroupMethod::kHash && type != PhysType::kVarChars;
              if (m != GroupMethod::kAuto) {
                EXPECT_EQ(g.method, hashes ? GroupMethod::kHash : GroupMethod::kSort);
              }
            }
          }
        }
      }
    }
  }
}

TEST_P(GroupTest, HashTableOverflowFallsBackToSorting) {
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    SCOPED_TRACE(serial ? "serial paths" : "wide paths");
    const int64_t n = 30011;
    for (int64_t distinct : {int64_t{10}, int64_t{16}, int64_t{17}, int64_t{40}, int64_t{20000}}) {
      const HostColumn h = Drawn(PhysType::kInt32, n, distinct, 21 + distinct, 0.1);
      SCOPED_TRACE(testing::Message() << distinct << " distinct keys, table for 16 groups");
      for (bool ordered : {true, false}) {
        GroupOptions options = Method(GroupMethod::kHash, 16);
        options.ordered = ordered;
        const Groups g = CheckGroups({&h}, nullptr, n, options);
        // The null is a group too.
        EXPECT_EQ(g.method, g.count <= 16 ? GroupMethod::kHash : GroupMethod::kSort);
      }
    }
    // The default table: 1e5 groups sort, a few thousand hash.
    const HostColumn many = Drawn(PhysType::kInt64, 300007, 100000, 22, 0.0, false);
    EXPECT_EQ(CheckGroups({&many}, nullptr, 300007, Method(GroupMethod::kHash)).method, GroupMethod::kSort);
    const HostColumn few = Drawn(PhysType::kInt64, 300007, 3000, 23, 0.0, false);
    EXPECT_EQ(CheckGroups({&few}, nullptr, 300007, Method(GroupMethod::kHash)).method, GroupMethod::kHash);
    // kAuto: the sample shows many groups and sorts; few groups hash.
    EXPECT_EQ(CheckGroups({&many}, nullptr, 300007, Method(GroupMethod::kAuto)).method, GroupMethod::kSort);
    EXPECT_EQ(CheckGroups({&few}, nullptr, 300007, Method(GroupMethod::kAuto)).method, GroupMethod::kHash);
  }
}

// kAuto sizes its table from a sample of the rows: keys the sample missed
// (a run of 12,000 distinct keys among rows of 10) grow the table to the
// full size, and the rows still hash; bounds given (as a zone map gives
// them) size the directly mapped slots by their span instead.
TEST_P(GroupTest, TableSizedFromSampleGrowsForKeysItMissed) {
  const int64_t n = 300007;
  std::vector<int64_t> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = i >= 100000 && i < 112000 ? i - 100000 : (i * 7) % 10;
  const HostColumn h = Numbers<int64_t>(v);
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    SCOPED_TRACE(serial ? "serial paths" : "wide paths");
    for (bool bounded : {false, true}) {
      for (bool ordered : {true, false}) {
        SCOPED_TRACE(testing::Message() << (bounded ? "bounded" : "unbounded") << (ordered ? ", ordered" : ""));
        GroupOptions options = Method(GroupMethod::kAuto);
        options.ordered = ordered;
        if (bounded) {
          options.key_bounds = {{0, 11999}};
        }
        const Groups g = CheckGroups({&h}, nullptr, n, options);
        EXPECT_EQ(g.count, 12000);
        EXPECT_EQ(g.method, GroupMethod::kHash);
      }
    }
  }
}

// The sort path sorts one 64-bit word as 32 bits (less the least word)
// when the words span less than 2^32: spans just below and at 2^32, at
// both ends of the int64 range, and with nulls (the flag is in the word).
TEST_P(GroupTest, NarrowedSortWords) {
  const int64_t lo = std::numeric_limits<int64_t>::min(), hi = std::numeric_limits<int64_t>::max();
  const int64_t span = (int64_t{1} << 32) - 1;
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    SCOPED_TRACE(serial ? "serial paths" : "wide paths");
    for (int64_t base : {lo, int64_t{-7}, hi - span, hi - span - 1}) {
      for (int64_t top : {span, span + 1}) {
        std::vector<int64_t> v;
        for (int64_t i = 0; i < 3001; ++i) {
          const int64_t offset = i % 5 == 0 ? 0 : i % 5 == 1 ? top : (i * 7919) % 1000;
          v.push_back(static_cast<int64_t>(static_cast<uint64_t>(base) + static_cast<uint64_t>(offset)));
        }
        for (double nulls : {0.0, 0.2}) {
          std::vector<uint8_t> validity;
          if (nulls > 0) {
            for (int64_t i = 0; i < 3001; ++i) validity.push_back(i % 5 == 3 ? 0 : 1);
          }
          SCOPED_TRACE(testing::Message() << "base " << base << ", span " << top << ", nulls " << nulls);
          const HostColumn h = Numbers<int64_t>(v, validity);
          EXPECT_EQ(CheckGroups({&h}, nullptr, 3001, Method(GroupMethod::kSort)).method, GroupMethod::kSort);
        }
      }
    }
  }
}

// A table kept in key order (an order id): the sort path finds the keys
// sorted and groups them as they come; one row out of order sorts again.
TEST_P(GroupTest, KeysAlreadyInOrder) {
  const int64_t n = 200003;
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    for (int64_t misplaced : {int64_t{-1}, int64_t{5}, n - 1}) {
      std::vector<int32_t> v(n);
      for (int64_t i = 0; i < n; ++i) v[i] = static_cast<int32_t>(i / 4 + 1);
      if (misplaced >= 0) v[misplaced] = 3;
      SCOPED_TRACE(testing::Message() << (serial ? "serial" : "wide") << ", misplaced " << misplaced);
      const HostColumn h = Numbers<int32_t>(v);
      EXPECT_EQ(CheckGroups({&h}, nullptr, n, Method(GroupMethod::kAuto)).count, n / 4 + 1);
    }
  }
}

// Groups made without their order (GroupOptions::ordered false) give the
// same first rows and aggregates; the host's hash path leaves the order out.
TEST_P(GroupTest, UnorderedGroupsAggregateAlike) {
  const int64_t size = 50021;
  const HostColumn key = Drawn(PhysType::kInt64, size, 200, 141, 0.05);
  const HostColumn v = Sample(PhysType::kFloat64, size, 142, true);
  const HostColumn t = Drawn(PhysType::kVarChars, size, 700, 143, 0.1);
  const Column ck = Dev(key), cv = Dev(v), ct = Dev(t);
  const ColumnView vv = cv.view(), tv = ct.view();
  std::mt19937_64 rng(144);
  std::vector<int64_t> subset;
  for (int64_t i = 0; i < 30000; ++i) subset.push_back(static_cast<int64_t>(rng() % size));
  const Buffer dr = ToDevice(subset, exec_);
  for (bool serial : SerialModes()) {
    for (bool all : {true, false}) {
      const int64_t n = all ? size : static_cast<int64_t>(subset.size());
      const int64_t* rows = all ? nullptr : dr.as<int64_t>();
      const RefGroups ref = ReferenceGroups({&key}, all ? Iota(0, size) : subset);
      const std::vector<std::vector<int64_t>> lists = GroupLists(ref.order, ref.starts);
      std::vector<int64_t> first;
      for (int64_t k = 0; k < ref.count(); ++k) first.push_back(ref.order[ref.starts[k]]);
      for (GroupMethod m : {GroupMethod::kHash, GroupMethod::kAuto, GroupMethod::kSort}) {
        SCOPED_TRACE(testing::Message() << (serial ? "serial" : "wide") << (all ? ", all rows" : ", a subset")
                                        << ", method " << static_cast<int>(m));
        UseSerial(serial);
        const Groups g = GroupRows({ck.view()}, rows, n, Unordered(m), exec_);
        ASSERT_EQ(g.count, ref.count());
        EXPECT_EQ(FromDevice<int64_t>(g.starts.data(), g.count + 1, exec_), ref.starts);
        if (serial && g.method == GroupMethod::kHash) {
          EXPECT_EQ(g.order.size(), 0u);
          EXPECT_EQ(g.ids.size(), 0u);
        }
        EXPECT_EQ(FromDevice<int64_t>(GroupFirstRows(g, exec_).data(), g.count, exec_), first);
        // Aggregates on the paths the groups were made for, and (the host)
        // on the other ones.
        for (bool aggregate_serial : SerialModes()) {
          UseSerial(aggregate_serial);
          for (AggKind kind : kAllAggs) {
            SCOPED_TRACE(testing::Message() << AggName(kind) << (aggregate_serial ? ", serial" : ", wide"));
            std::vector<double> approx;
            const HostColumn expected = ReferenceAggregate(lists, kind, &v, &t, &approx);
            const HostColumn actual = Host(Aggregate(g, kind, &vv, &tv, exec_).view());
            if (kind == AggKind::kMean || kind == AggKind::kVarPop || kind == AggKind::kVarSamp ||
                kind == AggKind::kStdPop || kind == AggKind::kStdSamp) {
              EXPECT_TRUE(NearValues(actual, expected, approx, 1e-9));
            } else {
              EXPECT_TRUE(SameRows(actual, expected));
            }
          }
          EXPECT_TRUE(SameRows(Host(Aggregate(g, AggKind::kCount, nullptr, nullptr, exec_).view()),
                               ReferenceAggregate(lists, AggKind::kCount, nullptr, nullptr, nullptr)));
          // Every aggregate at once (the sums and means of several columns
          // in one pass on the host): the same values, bit for bit.
          std::vector<AggregateCall> calls;
          for (AggKind kind : kAllAggs) calls.push_back(AggregateCall{kind, &vv, &tv});
          const ColumnView kv = ck.view();
          calls.push_back(AggregateCall{AggKind::kSum, &kv, nullptr});
          calls.push_back(AggregateCall{AggKind::kMean, &kv, nullptr});
          calls.push_back(AggregateCall{AggKind::kCount, nullptr, nullptr});
          const std::vector<Column> together = Aggregates(g, calls, exec_);
          ASSERT_EQ(together.size(), calls.size());
          for (size_t c = 0; c < calls.size(); ++c) {
            SCOPED_TRACE(testing::Message() << "together: " << AggName(calls[c].kind) << " of call " << c);
            EXPECT_TRUE(SameRows(Host(together[c].view()),
                                 Host(Aggregate(g, calls[c].kind, calls[c].value, calls[c].target, exec_).view())));
          }
        }
      }
    }
  }
}

// The host's counted hash path keeps each row's slot in 1, 2 or 4 bytes
// (Groups::slot_bytes: the fewest that hold the table's slots): directly
// mapped keys of a small span, a table sized from its sample, the full
// table. The aggregates read through them (sums in one pass, the distinct
// count through the groups' order) equal those of ordered groups.
TEST_P(GroupTest, SlotsStoredNarrowAggregateAlike) {
  const int64_t size = 70001;
  // Keys k * stride for k in [0, distinct): given bounds, or bounds that
  // a pass over a key of few values finds (one byte a slot either way);
  // keys too far apart to index, hashed into the sample's table or (kHash)
  // the full one.
  struct Case {
    int64_t distinct;
    int64_t stride;
    bool bounded;
    GroupMethod method;
    int32_t slot_bytes;  // on the serial paths
  };
  for (const Case& c :
       {Case{60, 1, true, GroupMethod::kAuto, 1}, Case{60, 1, false, GroupMethod::kAuto, 1},
        Case{500, 1000003, false, GroupMethod::kAuto, 2}, Case{500, 1000003, false, GroupMethod::kHash, 4}}) {
    std::vector<int64_t> keys, values;
    std::vector<double> doubles;
    for (int64_t i = 0; i < size; ++i) {
      keys.push_back((i * 7919) % c.distinct * c.stride);
      values.push_back((i * 31) % 1009 - 500);
      doubles.push_back(static_cast<double>((i * 17) % 997) * 0.37 - 100.0);
    }
    const Column ck = Dev(Numbers<int64_t>(keys)), cv = Dev(Numbers<int64_t>(values));
    const ColumnView kv = ck.view(), vv = cv.view();
    const Column cd = Dev(Numbers<double>(doubles));
    const ColumnView dv = cd.view();
    const std::vector<AggregateCall> calls = {
        {AggKind::kSum, &vv, nullptr}, {AggKind::kSum, &dv, nullptr},           {AggKind::kMean, &dv, nullptr},
        {AggKind::kMin, &vv, nullptr}, {AggKind::kCountDistinct, &vv, nullptr}, {AggKind::kCount, nullptr, nullptr}};
    for (bool serial : SerialModes()) {
      SCOPED_TRACE(testing::Message() << c.distinct << " keys " << c.stride << " apart"
                                      << (c.bounded ? ", bounded" : "") << ", method " << static_cast<int>(c.method)
                                      << (serial ? ", serial" : ", wide"));
      UseSerial(serial);
      GroupOptions unordered = Unordered(c.method);
      if (c.bounded) {
        unordered.key_bounds = {{0, c.distinct - 1}};
      }
      const Groups g = GroupRows({kv}, nullptr, size, unordered, exec_);
      ASSERT_EQ(g.count, c.distinct);
      if (serial) {
        EXPECT_EQ(g.method, GroupMethod::kHash);
        EXPECT_EQ(g.slot_bytes, c.slot_bytes);
      }
      ExpectAggregatesAsOrdered(g, kv, size, unordered, calls);
    }
  }
}

// Sums and means of a program's values (AggregateCall::program) equal
// those of its materialized values, bit for bit: evaluated as they are
// added in the host's one pass of sums (groups of every row that keep their
// rows' groups), else materialized first (a subset of rows, groups in
// order, another backend). Programs of floats with nulls, of ints, and a
// constant.
TEST_P(GroupTest, ProgramSumsEqualSumsOfItsValues) {
  const int64_t size = 100003;
  std::vector<int64_t> keys, ints;
  std::vector<double> doubles;
  std::vector<uint8_t> valid;
  for (int64_t i = 0; i < size; ++i) {
    keys.push_back((i * 7919) % 100);
    ints.push_back((i * 31) % 1009 - 500);
    doubles.push_back(static_cast<double>((i * 17) % 997) * 0.37 - 100.0);
    valid.push_back(i % 11 == 3 ? 0 : 1);
  }
  const Column ck = Dev(Numbers<int64_t>(keys)), ci = Dev(Numbers<int64_t>(ints)),
               cx = Dev(Numbers<double>(doubles, valid));
  const ColumnView kv = ck.view();
  // x * (1 - k / 200.0); k * 3 + 1; 2.5.
  Program scaled;
  scaled.columns = {cx.view(), ci.view()};
  scaled.code = {{Op::kColumn, 0, 0},
                 {Op::kConstFloat, scaled.AddFloat(1), 0},
                 {Op::kColumn, 1, 0},
                 {Op::kIntToFloat, 0, 0},
                 {Op::kConstFloat, scaled.AddFloat(200), 0},
                 {Op::kDivF, 0, 0},
                 {Op::kSubF, 0, 0},
                 {Op::kMulF, 0, 0}};
  scaled.result = ValueKind::kFloat;
  Program linear;
  linear.columns = {ci.view()};
  linear.code = {{Op::kColumn, 0, 0},
                 {Op::kConstInt, linear.AddInt(3), 0},
                 {Op::kMulI, 0, 0},
                 {Op::kConstInt, linear.AddInt(1), 0},
                 {Op::kAddI, 0, 0}};
  linear.result = ValueKind::kInt;
  Program constant;
  constant.code = {{Op::kConstFloat, constant.AddFloat(2.5), 0}};
  constant.result = ValueKind::kFloat;
  const DeviceProgram ps = Upload(scaled, exec_), pl = Upload(linear, exec_), pc = Upload(constant, exec_);
  const Column ms = Materialize(ps.view, 0, size, true, exec_), ml = Materialize(pl.view, 0, size, true, exec_),
               mc = Materialize(pc.view, 0, size, true, exec_);
  const ColumnView vs = ms.view(), vl = ml.view(), vc = mc.view();
  const AggregateCall count{AggKind::kCount, nullptr, nullptr};
  const std::vector<std::vector<AggregateCall>> programs = {
      {{AggKind::kSum, nullptr, nullptr, &ps.view, size}},
      {{AggKind::kSum, nullptr, nullptr, &ps.view, size},
       {AggKind::kMean, nullptr, nullptr, &ps.view, size},
       {AggKind::kSum, nullptr, nullptr, &pl.view, size},
       {AggKind::kSum, nullptr, nullptr, &pc.view, size},
       count},
      {{AggKind::kMean, nullptr, nullptr, &pl.view, size}, {AggKind::kSum, &vl, nullptr}}};
  const std::vector<std::vector<AggregateCall>> values = {
      {{AggKind::kSum, &vs, nullptr}},
      {{AggKind::kSum, &vs, nullptr},
       {AggKind::kMean, &vs, nullptr},
       {AggKind::kSum, &vl, nullptr},
       {AggKind::kSum, &vc, nullptr},
       count},
      {{AggKind::kMean, &vl, nullptr}, {AggKind::kSum, &vl, nullptr}}};
  std::vector<int64_t> subset;  // enough rows to hash (kHashMinRows)
  for (int64_t i = 0; i < size; ++i) {
    if (i % 7 != 3) subset.push_back(i);
  }
  const Buffer dr = ToDevice(subset, exec_);
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    for (bool all : {true, false}) {
      for (bool ordered : {false, true}) {
        SCOPED_TRACE(testing::Message() << (serial ? "serial" : "wide") << (all ? ", all rows" : ", a subset")
                                        << (ordered ? ", ordered" : ""));
        GroupOptions options = Method(GroupMethod::kAuto);
        options.ordered = ordered;
        options.key_bounds = {{0, 99}};
        const int64_t n = all ? size : static_cast<int64_t>(subset.size());
        const Groups g = GroupRows({kv}, all ? nullptr : dr.as<int64_t>(), n, options, exec_);
        ASSERT_EQ(g.count, 100);
        for (size_t c = 0; c < programs.size(); ++c) {
          const std::vector<Column> got = Aggregates(g, programs[c], exec_);
          const std::vector<Column> want = Aggregates(g, values[c], exec_);
          ASSERT_EQ(got.size(), want.size());
          for (size_t k = 0; k < got.size(); ++k) {
            SCOPED_TRACE(testing::Message() << "calls " << c << ", " << AggName(programs[c][k].kind) << " " << k);
            EXPECT_EQ(got[k].type(), want[k].type());
            EXPECT_TRUE(SameRows(Host(got[k].view()), Host(want[k].view())));
          }
        }
      }
    }
  }
}

// GroupOptions::key_order false: keys of several sort passes (a string and
// a nullable long) grouped by their tuple's hash, in any order; the same
// groups as the reference (each group's rows, count and first row), and
// aggregates over them. One key of one word keeps the key order.
TEST_P(GroupTest, GroupsInAnyOrder) {
  const int64_t size = 70001;
  const HostColumn s = Drawn(PhysType::kVarChars, size, 700, 151, 0.1);
  const HostColumn l = Drawn(PhysType::kInt64, size, 3, 152, 0.2);
  HostColumn position = Numbers<int64_t>(Iota(0, size));
  const Column cs = Dev(s), cl = Dev(l), cp = Dev(position);
  const ColumnView pv = cp.view();
  std::mt19937_64 rng(153);
  std::vector<int64_t> subset;
  for (int64_t i = 0; i < 40000; ++i) subset.push_back(static_cast<int64_t>(rng() % size));
  const Buffer dr = ToDevice(subset, exec_);
  for (bool serial : SerialModes()) {
    for (bool all : {true, false}) {
      const std::vector<int64_t> input = all ? Iota(0, size) : subset;
      const RefGroups ref = ReferenceGroups({&s, &l}, input);
      const std::vector<Summary> want = Summaries(ref);
      for (GroupMethod m : {GroupMethod::kAuto, GroupMethod::kHash, GroupMethod::kSort}) {
        for (bool ordered : {true, false}) {
          SCOPED_TRACE(testing::Message() << (serial ? "serial" : "wide") << (all ? ", all rows" : ", a subset")
                                          << ", method " << static_cast<int>(m) << (ordered ? ", ordered" : ""));
          UseSerial(serial);
          GroupOptions options = Method(m);
          options.ordered = ordered;
          options.key_order = false;
          const Groups g = GroupRows({cs.view(), cl.view()}, all ? nullptr : dr.as<int64_t>(),
                                     static_cast<int64_t>(input.size()), options, exec_);
          EXPECT_FALSE(g.key_ordered);
          ASSERT_EQ(g.count, ref.count());
          EXPECT_EQ(Summaries(g, pv), want);
        }
      }
    }
  }
  // One key of one word: the key order, as always.
  GroupOptions any;
  any.key_order = false;
  EXPECT_TRUE(GroupRows({cl.view()}, nullptr, size, any, exec_).key_ordered);
}

// Many groups (3 or 4 rows each: past the one table's 1 per 100 rows, and
// 2 or more, where partitions beat the sort) of rows that need no order of
// either kind, in no order already: on the host the rows go by
// partitions (radix-partitioned by their word's hash, each partition
// grouped by its own table); two bounded int32 keys in one word, a double
// key with NaN and -0.0, a key of which half the rows hold one value (its
// partition's table grows), all rows or a subset: the groups of the
// reference, in any order, each group's first row its first in input order.
TEST_P(GroupTest, ManyGroupsByPartitions) {
  const int64_t size = 200003;
  std::mt19937_64 rng(171);
  std::vector<int32_t> a(size), b(size);
  std::vector<int64_t> skewed(size);
  for (int64_t i = 0; i < size; ++i) {
    a[i] = static_cast<int32_t>(rng() % 100);
    b[i] = static_cast<int32_t>(rng() % 500) - 250;
    skewed[i] = i % 2 == 0 ? 7 : static_cast<int64_t>(rng() % 90000);
  }
  const HostColumn ha = Numbers(a), hb = Numbers(b), hs = Numbers(skewed);
  const HostColumn hd = Drawn(PhysType::kFloat64, size, 70000, 172, 0.0);
  const HostColumn position = Numbers<int64_t>(Iota(0, size));
  const Column ca = Dev(ha), cb = Dev(hb), cs = Dev(hs), cd = Dev(hd), cp = Dev(position);
  const ColumnView pv = cp.view();
  std::vector<int64_t> subset;
  for (int64_t i = 0; i < 150000; ++i) subset.push_back(static_cast<int64_t>(rng() % size));
  const Buffer dr = ToDevice(subset, exec_);
  struct Case {
    const char* name;
    std::vector<const HostColumn*> keys;
    std::vector<ColumnView> views;
    std::vector<KeyBounds> bounds;
  };
  const std::vector<Case> cases = {
      {"two bounded int32 keys", {&ha, &hb}, {ca.view(), cb.view()}, {KeyBounds{0, 99}, KeyBounds{-250, 249}}},
      {"a double", {&hd}, {cd.view()}, {}},
      {"half the rows one key", {&hs}, {cs.view()}, {}}};
  for (bool serial : SerialModes()) {
    for (bool all : {true, false}) {
      const std::vector<int64_t> input = all ? Iota(0, size) : subset;
      for (const Case& c : cases) {
        SCOPED_TRACE(testing::Message() << c.name << (serial ? ", serial" : ", wide")
                                        << (all ? ", all rows" : ", a subset"));
        UseSerial(serial);
        GroupOptions options = Unordered(GroupMethod::kAuto);
        options.key_order = false;
        options.key_bounds = c.bounds;
        const Groups g =
            GroupRows(c.views, all ? nullptr : dr.as<int64_t>(), static_cast<int64_t>(input.size()), options, exec_);
        const RefGroups ref = ReferenceGroups(c.keys, input);
        ASSERT_GT(ref.count() * 100, static_cast<int64_t>(input.size()));
        ASSERT_EQ(g.count, ref.count());
        if (serial) {  // the partitions' groups: by hash, in no key order
          EXPECT_EQ(g.method, GroupMethod::kHash);
          EXPECT_FALSE(g.key_ordered);
        }
        EXPECT_EQ(Summaries(g, pv), Summaries(ref));
        // Sums through the groups of each row: the positions' per group.
        const HostColumn sums = Host(Aggregate(g, AggKind::kSum, &pv, nullptr, exec_).view());
        const std::vector<int64_t> first = FromDevice<int64_t>(GroupFirstRows(g, exec_).data(), g.count, exec_);
        std::map<int64_t, int64_t> sum_by_first, want_by_first;
        for (int64_t k = 0; k < g.count; ++k) sum_by_first[first[static_cast<size_t>(k)]] = ValueAt<int64_t>(sums, k);
        for (const std::vector<int64_t>& rows : GroupLists(ref.order, ref.starts))
          want_by_first[rows.front()] = std::accumulate(rows.begin(), rows.end(), int64_t{0});
        EXPECT_EQ(sum_by_first, want_by_first);
      }
    }
  }
}

// Key tuples grouped by hash: strings of 0 to 20 bytes that differ only
// past their first 8 or 16 bytes, or only in length (trailing "x"), beside a
// charN and a double with NaN and -0.0: the groups of the reference.
TEST_P(GroupTest, HashedTuplesOfLongAndShortStrings) {
  const int64_t n = 90001;
  std::vector<std::string> words;
  for (int len = 0; len <= 20; ++len) {
    for (char last : {'a', 'b'}) words.push_back(std::string(static_cast<size_t>(len), 'x') + last);
    words.push_back(std::string(static_cast<size_t>(len), 'x'));
  }
  std::mt19937_64 rng(171);
  HostColumn s, c;
  s.type = PhysType::kVarChars;
  c.type = PhysType::kFixedChars;
  c.width = 4;
  std::vector<double> d;
  for (int64_t i = 0; i < n; ++i) {
    s.rows.push_back(words[rng() % words.size()]);
    s.validity.push_back(rng() % 13 != 0 ? 1 : 0);
    const std::string code = std::string(1, static_cast<char>('p' + rng() % 3)) + (rng() % 2 ? "q" : "");
    c.rows.push_back(code + std::string(4 - code.size(), '\0'));
    const double specials[] = {std::nan(""), -0.0, 0.0, 1.5};
    d.push_back(specials[rng() % 4]);
  }
  const HostColumn dc = Numbers<double>(d);
  const Column cs = Dev(s), cc = Dev(c), cd = Dev(dc), cp = Dev(Numbers<int64_t>(Iota(0, n)));
  const ColumnView pv = cp.view();
  const RefGroups ref = ReferenceGroups({&s, &c, &dc}, Iota(0, n));
  const std::vector<Summary> want = Summaries(ref);
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    for (bool ordered : {true, false}) {
      SCOPED_TRACE(testing::Message() << (serial ? "serial" : "wide") << (ordered ? ", ordered" : ""));
      GroupOptions options = Method(GroupMethod::kAuto);
      options.ordered = ordered;
      options.key_order = false;
      const Groups g = GroupRows({cs.view(), cc.view(), cd.view()}, nullptr, n, options, exec_);
      EXPECT_FALSE(g.key_ordered);
      ASSERT_EQ(g.count, ref.count());
      EXPECT_EQ(Summaries(g, pv), want);
    }
  }
}

// One key's values as int64, as int64 with about one null in `null_every`,
// and as int32.
struct IntKeys {
  HostColumn wide, nullable, narrow;
};
IntKeys IntKeyColumns(const std::vector<int64_t>& values, uint64_t null_every, std::mt19937_64& rng) {
  IntKeys k{Numbers<int64_t>(values), Numbers<int64_t>(values),
            Numbers<int32_t>(std::vector<int32_t>(values.begin(), values.end()))};
  for (size_t i = 0; i < values.size(); ++i) k.nullable.validity.push_back(rng() % null_every != 0 ? 1 : 0);
  return k;
}

// GroupOptions::key_bounds of one key: integer keys within the bounds map to
// their slots directly; the same groups as the reference, in key order,
// nulls first, over all rows or a subset. Bounds that miss some keys (a
// wrong promise) still group right, by hashing.
TEST_P(GroupTest, KeyBoundsGroupAlike) {
  std::mt19937_64 rng(161);
  const int64_t n = 70001;
  std::vector<int64_t> values;
  for (int64_t i = 0; i < n; ++i) values.push_back(-50 + static_cast<int64_t>(rng() % 120));  // [-50, 69]
  const auto [wide, nullable, narrow] = IntKeyColumns(values, 7, rng);
  std::vector<int64_t> subset;
  for (int64_t i = 0; i < 30000; ++i) subset.push_back(static_cast<int64_t>(rng() % n));
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    for (const HostColumn* h : std::vector<const HostColumn*>{&wide, &nullable, &narrow}) {
      for (const auto& [lo, hi] : {std::pair<int64_t, int64_t>{-50, 69}, {-60, 100}, {-50, 60}, {0, 69}}) {
        for (GroupMethod m : {GroupMethod::kHash, GroupMethod::kAuto}) {
          SCOPED_TRACE(testing::Message() << (serial ? "serial" : "wide") << ", " << TypeName(h->type)
                                          << (h->validity.empty() ? "" : " with nulls") << ", bounds [" << lo << ", "
                                          << hi << "], method " << static_cast<int>(m));
          GroupOptions options = Unordered(m);
          options.key_bounds = {{lo, hi}};
          EXPECT_EQ(CheckGroups({h}, nullptr, n, options).method, GroupMethod::kHash);
          // kAuto sorts the subset: too few rows to hash.
          EXPECT_EQ(CheckGroups({h}, &subset, static_cast<int64_t>(subset.size()), options).method,
                    m == GroupMethod::kHash ? GroupMethod::kHash : GroupMethod::kSort);
        }
      }
    }
  }
}

// A dense key (one integer key whose bounds span at most one value per 8
// rows, and at most kDenseSlots) maps to its slots directly on the host's
// unordered path however many groups it has: 36,000 groups of 300,001
// rows hash (no sample, no table), where they used to sort; the same groups
// as the reference, nulls first, over all rows or a subset, and the same
// sums, means and distinct counts as ordered groups. Bounds that miss some
// keys still group right (by sorting, past the table's groups).
TEST_P(GroupTest, DenseKeysMapToSlotsWhateverTheGroups) {
  std::mt19937_64 rng(163);
  const int64_t n = 300001, lo = -20000, span = 36000;
  std::vector<int64_t> values;
  std::vector<double> doubles;
  for (int64_t i = 0; i < n; ++i) {
    values.push_back(lo + static_cast<int64_t>(rng() % span));
    doubles.push_back(static_cast<double>(rng() % 1000) * 0.25);
  }
  const auto [wide, nullable, narrow] = IntKeyColumns(values, 9, rng);
  std::vector<int64_t> subset;
  for (int64_t i = 0; i < 295000; ++i) subset.push_back(static_cast<int64_t>(rng() % n));
  const Column cd = Dev(Numbers<double>(doubles));
  const ColumnView dv = cd.view();
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    for (const HostColumn* h : std::vector<const HostColumn*>{&wide, &nullable, &narrow}) {
      {
        // count(DISTINCT) over one group of every row: the values grouped
        // by their own bounds (dense), nulls not counted.
        std::set<int64_t> distinct;
        for (int64_t i = 0; i < n; ++i)
          if (h->validity.empty() || h->validity[i] != 0) distinct.insert(values[i]);
        const Column key = Dev(*h);
        const ColumnView kv = key.view();
        const Groups one = GroupRows({}, nullptr, n, Unordered(GroupMethod::kAuto), exec_);
        EXPECT_EQ(ValueAt<int64_t>(Host(Aggregate(one, AggKind::kCountDistinct, &kv, nullptr, exec_).view()), 0),
                  static_cast<int64_t>(distinct.size()));
      }
      for (const KeyBounds b :
           {KeyBounds{lo, lo + span - 1}, KeyBounds{lo - 5, lo + span + 5}, KeyBounds{lo, lo + span - 1000}}) {
        const bool within = b.hi >= lo + span - 1;
        {
          SCOPED_TRACE(testing::Message()
                       << (serial ? "serial" : "wide") << ", " << TypeName(h->type)
                       << (h->validity.empty() ? "" : " with nulls") << ", bounds [" << b.lo << ", " << b.hi << "]");
          GroupOptions options = Unordered(GroupMethod::kAuto);
          options.key_bounds = {b};
          const Groups g = CheckGroups({h}, nullptr, n, options);
          if (serial && within) EXPECT_EQ(g.method, GroupMethod::kHash);
          const Groups s = CheckGroups({h}, &subset, static_cast<int64_t>(subset.size()), options);
          if (serial && within) EXPECT_EQ(s.method, GroupMethod::kHash);
          if (!within) continue;
          // The aggregates over the dense groups, against ordered groups'.
          const Column key = Dev(*h);
          const ColumnView kv = key.view();
          const std::vector<AggregateCall> calls = {{AggKind::kSum, &dv, nullptr},
                                                    {AggKind::kMean, &dv, nullptr},
                                                    {AggKind::kCountDistinct, &kv, nullptr},
                                                    {AggKind::kCount, nullptr, nullptr}};
          ExpectAggregatesAsOrdered(g, kv, n, options, calls);
        }
      }
    }
  }
}

// GroupOptions::key_bounds of several keys: bounded integer keys (nullable
// or not, of several widths, a dictionary's int32 codes among them) pack
// into one word, so the rows hash (on the host's unordered path, the word
// of few bits is its slot): the same groups as the reference, in key
// order, over all rows or a subset. Bounds too wide to pack group alike.
TEST_P(GroupTest, BoundedKeysPackIntoOneWord) {
  std::mt19937_64 rng(171);
  const int64_t n = 70001;
  std::vector<int64_t> wide;
  std::vector<int32_t> codes;
  std::vector<int8_t> small;
  std::vector<uint8_t> valid;
  for (int64_t i = 0; i < n; ++i) {
    wide.push_back(-10 + static_cast<int64_t>(rng() % 20));  // [-10, 9]
    codes.push_back(static_cast<int32_t>(rng() % 8));        // [0, 7]
    small.push_back(static_cast<int8_t>(6 + rng() % 3));     // [6, 8]: few groups, so kAuto hashes
    valid.push_back(rng() % 9 != 0 ? 1 : 0);
  }
  const HostColumn a = Numbers<int64_t>(wide), a_nulls = Numbers<int64_t>(wide, valid);
  const HostColumn b = Numbers<int32_t>(codes), c = Numbers<int8_t>(small);
  std::vector<int64_t> subset;
  for (int64_t i = 0; i < 30000; ++i) subset.push_back(static_cast<int64_t>(rng() % n));
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    for (const HostColumn* first : {&a, &a_nulls}) {
      for (bool packable : {true, false}) {
        for (bool ordered : {false, true}) {
          SCOPED_TRACE(testing::Message() << (serial ? "serial" : "wide") << (first == &a ? "" : ", nulls")
                                          << (packable ? ", packable" : ", too wide") << (ordered ? ", ordered" : ""));
          GroupOptions options = Unordered(GroupMethod::kAuto);
          options.ordered = ordered;
          options.key_bounds = {packable ? KeyBounds{-10, 9} : KeyBounds{std::numeric_limits<int64_t>::min(), 9},
                                KeyBounds{0, 7}, KeyBounds{6, 8}};
          const Groups g = CheckGroups({first, &b, &c}, nullptr, n, options);
          if (packable) EXPECT_EQ(g.method, GroupMethod::kHash);
          CheckGroups({first, &b, &c}, &subset, static_cast<int64_t>(subset.size()), options);
          options.method = GroupMethod::kHash;
          CheckGroups({first, &b, &c}, &subset, static_cast<int64_t>(subset.size()), options);
        }
      }
    }
  }
}

TEST_P(GroupTest, AllOnesWordHashes) {
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    SCOPED_TRACE(serial ? "serial paths" : "wide paths");
    // int64 max, ascending, encodes as the table's empty-slot marker.
    const int64_t big = std::numeric_limits<int64_t>::max();
    const HostColumn h = Numbers<int64_t>({big, 3, big, -5, 3, big, std::numeric_limits<int64_t>::min(), -5});
    for (bool ordered : {true, false}) {
      GroupOptions options = Method(GroupMethod::kHash);
      options.ordered = ordered;
      const Groups g = CheckGroups({&h}, nullptr, 8, options);
      EXPECT_EQ(g.method, GroupMethod::kHash);
      EXPECT_EQ(g.count, 4);
    }
    // Unsigned-looking doubles: NaN, infinities, both zeros.
    const HostColumn d = Drawn(PhysType::kFloat64, 5000, 9, 24, 0.2);
    EXPECT_EQ(CheckGroups({&d}, nullptr, 5000, Method(GroupMethod::kHash)).method, GroupMethod::kHash);
  }
}

TEST_P(GroupTest, MultipleKeysAndRowSubsets) {
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    SCOPED_TRACE(serial ? "serial paths" : "wide paths");
    const int64_t size = 40009;
    const HostColumn a = Drawn(PhysType::kInt8, size, 4, 31, 0.2);
    const HostColumn b = Drawn(PhysType::kFloat32, size, 6, 32, 0.2);
    const HostColumn c = Drawn(PhysType::kVarChars, size, 5, 33, 0.2);
    const HostColumn d = Drawn(PhysType::kFixedChars, size, 7, 34, 0.0);
    const HostColumn e = Drawn(PhysType::kInt64, size, 3, 35, 0.1);
    std::mt19937_64 rng(36);
    std::vector<int64_t> rows;
    for (int64_t i = 0; i < 12345; ++i) rows.push_back(static_cast<int64_t>(rng() % size));
    for (GroupMethod m : {GroupMethod::kHash, GroupMethod::kSort}) {
      SCOPED_TRACE(testing::Message() << "method " << static_cast<int>(m));
      // Fixed width, packing into one word (8 + 1 + 32 + 1 bits), so hashed when asked.
      CheckGroups({&a, &b}, nullptr, size, Method(m));
      EXPECT_EQ(CheckGroups({&a, &b}, &rows, static_cast<int64_t>(rows.size()), Method(m)).method,
                m == GroupMethod::kHash ? GroupMethod::kHash : GroupMethod::kSort);
      // 9 + 48 + 65 bits: three words, so sorted.
      EXPECT_EQ(CheckGroups({&a, &d, &e}, nullptr, size, Method(m)).method, GroupMethod::kSort);
      // A string among the keys: always sorted.
      EXPECT_EQ(CheckGroups({&a, &c, &b}, &rows, static_cast<int64_t>(rows.size()), Method(m)).method,
                GroupMethod::kSort);
    }
  }
}

TEST_P(GroupTest, EmptyOneRowNoKeysAndManyGroups) {
  const HostColumn h = Drawn(PhysType::kInt32, 10, 3, 41, 0.0);
  for (GroupMethod m : {GroupMethod::kHash, GroupMethod::kSort}) {
    const Groups empty = CheckGroups({&h}, nullptr, 0, Method(m));
    EXPECT_EQ(empty.count, 0);
    EXPECT_EQ(FromDevice<int64_t>(empty.starts.data(), 1, exec_), std::vector<int64_t>{0});
    EXPECT_EQ(CheckGroups({&h}, nullptr, 1, Method(m)).count, 1);
  }
  // No keys: one group of every row.
  const Groups all = GroupRows({}, nullptr, 7, exec_);
  EXPECT_EQ(all.count, 1);
  EXPECT_EQ(FromDevice<int64_t>(all.order.data(), 7, exec_), Iota(0, 7));
  EXPECT_EQ(FromDevice<int64_t>(all.starts.data(), 2, exec_), (std::vector<int64_t>{0, 7}));
  EXPECT_EQ(GroupRows({}, nullptr, 0, exec_).count, 0);
  // 1e5 groups among 1e5 + 7 rows: most groups of one row, by sorting.
  const int64_t n = 100007;
  HostColumn unique = Numbers<int64_t>(Iota(0, n));
  for (int64_t i = 0; i < n; ++i) unique.rows[i] = Raw<int64_t>((i * 7919) % 100000 - 50000);
  const Groups g = CheckGroups({&unique}, nullptr, n, Method(GroupMethod::kAuto));
  EXPECT_EQ(g.count, 100000);
  EXPECT_EQ(g.method, GroupMethod::kSort);
}

TEST_P(GroupTest, FirstRows) {
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    SCOPED_TRACE(serial ? "serial paths" : "wide paths");
    const int64_t n = 5003;
    const HostColumn s = Drawn(PhysType::kVarChars, n, 50, 51, 0.1);
    const HostColumn i = Drawn(PhysType::kInt16, n, 50, 52, 0.1);
    for (const HostColumn* h : {&s, &i}) {
      for (GroupMethod m : {GroupMethod::kHash, GroupMethod::kSort}) {
        const Groups g = CheckGroups({h}, nullptr, n, Method(m));
        const RefGroups ref = ReferenceGroups({h}, Iota(0, n));
        std::vector<int64_t> first;
        for (int64_t k = 0; k < ref.count(); ++k) first.push_back(ref.order[ref.starts[k]]);
        const Buffer f = GroupFirstRows(g, exec_);
        EXPECT_EQ(FromDevice<int64_t>(f.data(), g.count, exec_), first);
      }
    }
  }
}

TEST_P(GroupTest, EstimateDistinct) {
  // Small inputs are counted exactly, nulls as one value.
  const HostColumn few = Drawn(PhysType::kVarChars, 5003, 50, 53, 0.1);
  EXPECT_EQ(EstimateDistinct(ToDevice(few, exec_).view(), nullptr, 5003, exec_),
            ReferenceGroups({&few}, Iota(0, 5003)).count());
  EXPECT_EQ(EstimateDistinct(ToDevice(few, exec_).view(), nullptr, 0, exec_), 0);
  // Large ones from a sample: a key of 25 values is seen whole, a unique
  // key reads as unique, a key of 4 rows per value within a factor of 4.
  const int64_t n = 1000003;
  HostColumn nations = Numbers<int64_t>(Iota(0, n));
  HostColumn unique = nations, orders = nations;
  for (int64_t i = 0; i < n; ++i) {
    nations.rows[i] = Raw<int64_t>((i * 7919) % 25);
    unique.rows[i] = Raw<int64_t>((i * 7919) % n);
    orders.rows[i] = Raw<int64_t>(((i * 7919) % n) / 4);
  }
  EXPECT_EQ(EstimateDistinct(ToDevice(nations, exec_).view(), nullptr, n, exec_), 25);
  EXPECT_EQ(EstimateDistinct(ToDevice(unique, exec_).view(), nullptr, n, exec_), n);
  // Through `rows`: only the rows of 5 of the 25 values.
  std::vector<int64_t> five;
  for (int64_t i = 0; i < n; ++i) {
    if ((i * 7919) % 25 < 5) five.push_back(i);
  }
  const Buffer five_rows = ToDevice(five, exec_);
  EXPECT_EQ(EstimateDistinct(ToDevice(nations, exec_).view(), five_rows.as<int64_t>(),
                             static_cast<int64_t>(five.size()), exec_),
            5);
  const int64_t keys = EstimateDistinct(ToDevice(orders, exec_).view(), nullptr, n, exec_);
  EXPECT_GE(keys, n / 16);
  EXPECT_LE(keys, n);
}

// ===========================================================================
// Aggregate

// Rows grouped by an int32 key of ~37 values (and null); the rows with key 5
// have only null values, so that group's aggregates are null.
struct AggregateData {
  HostColumn key;
  std::vector<int64_t> rows;
};

AggregateData MakeAggregateData(int64_t size, uint64_t seed) {
  AggregateData d;
  d.key = Drawn(PhysType::kInt32, size, 37, seed, 0.05, false);
  for (int64_t i = 0; i < size; ++i) d.key.rows[i] = Raw<int32_t>(ValueAt<int32_t>(d.key, i) & 63);
  return d;
}

// A value column of `type` where rows with key 5 are null.
HostColumn AggregateValues(const HostColumn& key, PhysType type, uint64_t seed, bool specials) {
  const int64_t n = key.size();
  HostColumn v = specials ? Drawn(type, n, 25, seed, 0.2) : Sample(type, n, seed, true);
  for (int64_t i = 0; i < n; ++i) {
    if (key.valid(i) && ValueAt<int32_t>(key, i) == (5 & 63)) v.validity[i] = 0;
  }
  return v;
}

TEST_P(AggregateTest, EveryKindOverEveryType) {
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    SCOPED_TRACE(serial ? "serial paths" : "wide paths");
    const int64_t n = 20011;
    AggregateData d = MakeAggregateData(n, 61);
    // Force one key value to 5 so the all-null group exists.
    for (int64_t i = 0; i < n; i += 97) d.key.rows[i] = Raw<int32_t>(5);
    for (int64_t i = 0; i < n; i += 97) d.key.validity[i] = 1;
    const Column key = Dev(d.key);
    const RefGroups ref = ReferenceGroups({&d.key}, Iota(0, n));
    const std::vector<std::vector<int64_t>> lists = GroupLists(ref.order, ref.starts);
    for (GroupMethod m : {GroupMethod::kSort, GroupMethod::kHash, GroupMethod::kAuto}) {
      // kAuto here: the hash path, unordered (as the engine asks).
      const bool unordered = m == GroupMethod::kAuto;
      const Groups g = GroupRows({key.view()}, nullptr, n, unordered ? Unordered(GroupMethod::kHash) : Method(m),
                                 exec_);
      ASSERT_EQ(g.count, ref.count());
      ASSERT_EQ(g.method, unordered ? GroupMethod::kHash : m);
      // count(*)
      EXPECT_TRUE(SameRows(Host(Aggregate(g, AggKind::kCount, nullptr, nullptr, exec_).view()),
                           ReferenceAggregate(lists, AggKind::kCount, nullptr, nullptr, nullptr)));
      for (PhysType type : kAllTypes) {
        // Exact sums need values on a grid: the specials (NaN, inf, extremes) join min/max/distinct only.
        for (bool specials : {false, true}) {
          const HostColumn v = AggregateValues(d.key, type, 62 + static_cast<int>(type), specials);
          const HostColumn t = Drawn(PhysType::kVarChars, n, 1000, 63, 0.1);
          const Column cv = Dev(v), ct = Dev(t);
          const ColumnView vv = cv.view(), tv = ct.view();
          for (AggKind kind : kAllAggs) {
            if (NeedsNumber(kind) && (IsString(type) || specials)) continue;
            SCOPED_TRACE(testing::Message()
                         << AggName(kind) << " of " << TypeName(type) << (specials ? " with specials" : "")
                         << ", method " << static_cast<int>(m));
            const Column out = Aggregate(g, kind, &vv, &tv, exec_);
            std::vector<double> approx;
            const HostColumn expected = ReferenceAggregate(lists, kind, &v, &t, &approx);
            const HostColumn actual = Host(out.view());
            EXPECT_EQ(out.nullable(), kind != AggKind::kCount && kind != AggKind::kCountDistinct);
            if (kind == AggKind::kMean || kind == AggKind::kVarPop || kind == AggKind::kVarSamp ||
                kind == AggKind::kStdPop || kind == AggKind::kStdSamp) {
              EXPECT_EQ(actual.type, PhysType::kFloat64);
              EXPECT_TRUE(NearValues(actual, expected, approx, 1e-9));
            } else {
              EXPECT_EQ(actual.type, expected.type);
              EXPECT_EQ(actual.width, expected.width);
              EXPECT_TRUE(SameRows(actual, expected));
            }
          }
        }
      }
    }
  }
}

// No GROUP BY: one group of every row (or of a row list), ordered or not;
// the host reads it in runs (typed for min and max) either way.
TEST_P(AggregateTest, OneGroupOfEveryRowByRuns) {
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    const int64_t n = 20011;
    AggregateData d = MakeAggregateData(n, 67);
    std::vector<int64_t> subset;
    for (int64_t i = n - 1; i >= 0; i -= 3) subset.push_back(i);
    const Buffer device_subset = ToDevice(subset, exec_);
    for (bool all : {true, false}) {
      for (bool ordered : {false, true}) {
        GroupOptions options;
        options.ordered = ordered;
        const int64_t m = all ? n : static_cast<int64_t>(subset.size());
        const Groups g = GroupRows({}, all ? nullptr : device_subset.as<int64_t>(), m, options, exec_);
        ASSERT_EQ(g.count, 1);
        EXPECT_EQ(FromDevice<int64_t>(GroupFirstRows(g, exec_).data(), 1, exec_)[0], all ? 0 : subset[0]);
        const std::vector<std::vector<int64_t>> lists = {all ? Iota(0, n) : subset};
        for (PhysType type : kAllTypes) {
          for (int variant = 0; variant < 4; ++variant) {
            // Plain values, with nulls; special values (ties, NaN, ±0.0,
            // extremes), with nulls; plain values without a validity array;
            // plain values whose first 5,000 rows are null.
            const bool specials = variant == 1;
            HostColumn v = AggregateValues(d.key, type, 68 + static_cast<int>(type), specials);
            if (variant == 2) v.validity.clear();
            if (variant == 3) std::fill(v.validity.begin(), v.validity.begin() + 5000, 0);
            const HostColumn t = Drawn(PhysType::kVarChars, n, 1000, 69, 0.1);
            const Column cv = Dev(v), ct = Dev(t);
            const ColumnView vv = cv.view(), tv = ct.view();
            if (!IsString(type)) {
              // A sum alone and a sum beside another (their pass shared)
              // make the same additions: the same bits (a NaN being a NaN,
              // whichever sign and payload the compiled code's order of
              // operands leaves it).
              const Column alone = Aggregate(g, AggKind::kSum, &vv, nullptr, exec_);
              const std::vector<Column> beside = Aggregates(g, {{AggKind::kSum, &vv}, {AggKind::kSum, &vv}}, exec_);
              const HostColumn a = Host(alone.view()), b = Host(beside[0].view());
              ASSERT_EQ(a.size(), 1);
              ASSERT_EQ(b.size(), 1);
              EXPECT_EQ(a.valid(0), b.valid(0));
              bool nans = false;
              if (a.type == PhysType::kFloat64) {
                double x, y;
                std::memcpy(&x, a.rows[0].data(), sizeof(x));
                std::memcpy(&y, b.rows[0].data(), sizeof(y));
                nans = std::isnan(x) && std::isnan(y);
              }
              if (!nans) EXPECT_EQ(a.rows, b.rows) << TypeName(type) << " " << variant;
            }
            for (AggKind kind : kAllAggs) {
              if (NeedsNumber(kind) && (IsString(type) || specials)) continue;
              SCOPED_TRACE(testing::Message()
                           << (serial ? "serial, " : "wide, ") << (all ? "all rows" : "a list")
                           << (ordered ? ", ordered, " : ", unordered, ") << AggName(kind) << " of " << TypeName(type)
                           << (specials ? " with specials" : "") << (v.validity.empty() ? ", no nulls" : ""));
              const Column out = Aggregate(g, kind, &vv, &tv, exec_);
              std::vector<double> approx;
              const HostColumn expected = ReferenceAggregate(lists, kind, &v, &t, &approx);
              const HostColumn actual = Host(out.view());
              if (kind == AggKind::kMean || kind == AggKind::kVarPop || kind == AggKind::kVarSamp ||
                  kind == AggKind::kStdPop || kind == AggKind::kStdSamp) {
                EXPECT_TRUE(NearValues(actual, expected, approx, 1e-9));
              } else {
                EXPECT_TRUE(SameRows(actual, expected));
              }
            }
          }
        }
      }
    }
  }
}

// The mean of an integer column of at most 32 bits is its exact sum over its
// count, one rounded division (a running mean would drift off it), alone or
// beside another sum, with nulls, over one group and over seven, ordered or
// not. Values near the type's bounds make the sums large.
TEST_P(AggregateTest, NarrowIntegerMeanIsTheExactSumOverTheCount) {
  std::mt19937_64 rng(173);
  const int64_t n = 30011;
  std::vector<int64_t> keys;
  std::vector<uint8_t> validity;
  std::vector<int64_t> raw;
  for (int64_t i = 0; i < n; ++i) {
    keys.push_back(static_cast<int64_t>(rng() % 7));
    validity.push_back(rng() % 9 != 0 ? 1 : 0);
    raw.push_back(static_cast<int64_t>(rng() % 5));  // 0..4 below the top (or above the bottom)
  }
  const Column key = Dev(Numbers<int64_t>(keys));
  for (PhysType type : {PhysType::kInt8, PhysType::kInt16, PhysType::kInt32}) {
    for (bool high : {true, false}) {
      std::vector<int64_t> values;
      for (int64_t r : raw) {
        const int64_t bound = type == PhysType::kInt8    ? (high ? INT8_MAX : INT8_MIN)
                              : type == PhysType::kInt16 ? (high ? INT16_MAX : INT16_MIN)
                                                         : (high ? INT32_MAX : INT32_MIN);
        values.push_back(high ? bound - r : bound + r);
      }
      HostColumn h;
      switch (type) {
        case PhysType::kInt8:
          h = Numbers(std::vector<int8_t>(values.begin(), values.end()), validity);
          break;
        case PhysType::kInt16:
          h = Numbers(std::vector<int16_t>(values.begin(), values.end()), validity);
          break;
        default:
          h = Numbers(std::vector<int32_t>(values.begin(), values.end()), validity);
          break;
      }
      const Column cv = Dev(h);
      const ColumnView vv = cv.view();
      for (bool serial : SerialModes()) {
        UseSerial(serial);
        for (bool grouped : {false, true}) {
          for (bool ordered : {false, true}) {
            SCOPED_TRACE(testing::Message()
                         << (serial ? "serial, " : "wide, ") << TypeName(type)
                         << (high ? " near the top" : " near the bottom") << (grouped ? ", 7 groups" : ", one group")
                         << (ordered ? ", ordered" : ", unordered"));
            GroupOptions options;
            options.ordered = ordered;
            const Groups g = grouped ? GroupRows({key.view()}, nullptr, n, options, exec_)
                                     : GroupRows({}, nullptr, n, options, exec_);
            const int64_t count = grouped ? 7 : 1;
            ASSERT_EQ(g.count, count);
            std::vector<int64_t> sum(count, 0), seen(count, 0);
            for (int64_t i = 0; i < n; ++i) {
              if (validity[i] == 0) continue;
              sum[grouped ? keys[i] : 0] += values[i];
              ++seen[grouped ? keys[i] : 0];
            }
            const HostColumn alone = Host(Aggregate(g, AggKind::kMean, &vv, nullptr, exec_).view());
            const std::vector<Column> beside = Aggregates(g, {{AggKind::kSum, &vv}, {AggKind::kMean, &vv}}, exec_);
            const HostColumn fused = Host(beside[1].view());
            for (int64_t at = 0; at < count; ++at) {
              ASSERT_GT(seen[at], 0);
              const double want = static_cast<double>(sum[at]) / static_cast<double>(seen[at]);
              EXPECT_EQ(ValueAt<double>(alone, at), want) << "group " << at;
              EXPECT_EQ(ValueAt<double>(fused, at), want) << "group " << at << ", beside a sum";
            }
          }
        }
      }
    }
  }
}

// min and max of strings whose first 8 bytes tie (charN wider than 8, and
// varchar): the prefix compare defers to the whole strings; shorter strings
// and the empty string order first; nulls are skipped. One group of every
// row and seven groups, ordered or not.
TEST_P(AggregateTest, StringExtremesWhosePrefixesTie) {
  const std::vector<std::string> words = {"requests",     "requests ", "requestsa", "request",   "",  "requests~~~",
                                          "requests\x01", "zzzzzzzz",  "zzzzzzzy",  "zzzzzzzzz", "a", "requestz"};
  std::mt19937_64 rng(171);
  const int64_t n = 5003;
  std::vector<std::string> values;
  std::vector<uint8_t> validity;
  std::vector<int64_t> keys;
  for (int64_t i = 0; i < n; ++i) {
    values.push_back(words[rng() % words.size()]);
    validity.push_back(rng() % 5 != 0 ? 1 : 0);
    keys.push_back(static_cast<int64_t>(rng() % 7));
  }
  const Column key = Dev(Numbers<int64_t>(keys));
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    for (const HostColumn& h : {FixedChars(12, values, validity), VarChars(values, validity)}) {
      const Column cv = Dev(h);
      const ColumnView vv = cv.view();
      for (bool grouped : {false, true}) {
        for (bool ordered : {false, true}) {
          SCOPED_TRACE(testing::Message()
                       << (serial ? "serial, " : "wide, ") << TypeName(h.type)
                       << (grouped ? ", 7 groups" : ", one group") << (ordered ? ", ordered" : ", unordered"));
          GroupOptions options;
          options.ordered = ordered;
          const Groups g =
              grouped ? GroupRows({key.view()}, nullptr, n, options, exec_) : GroupRows({}, nullptr, n, options, exec_);
          const int64_t count = grouped ? 7 : 1;
          ASSERT_EQ(g.count, count);
          std::vector<std::string> least(count), most(count);
          std::vector<bool> any(count, false);
          for (int64_t i = 0; i < n; ++i) {
            if (validity[i] == 0) continue;
            const int64_t at = grouped ? keys[i] : 0;
            if (!any[at] || values[i] < least[at]) least[at] = values[i];
            if (!any[at] || values[i] > most[at]) most[at] = values[i];
            any[at] = true;
          }
          const HostColumn lo = Host(Aggregate(g, AggKind::kMin, &vv, nullptr, exec_).view());
          const HostColumn hi = Host(Aggregate(g, AggKind::kMax, &vv, nullptr, exec_).view());
          for (int64_t at = 0; at < count; ++at) {
            ASSERT_TRUE(any[at]);
            EXPECT_EQ(StringAt(lo, at), least[at]) << "group " << at;
            EXPECT_EQ(StringAt(hi, at), most[at]) << "group " << at;
          }
        }
      }
    }
  }
}

TEST_P(AggregateTest, ArgExtremesReturnTargetsOfEveryType) {
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    SCOPED_TRACE(serial ? "serial paths" : "wide paths");
    const int64_t n = 9001;
    const AggregateData d = MakeAggregateData(n, 71);
    const Column key = Dev(d.key);
    const Groups g = GroupRows({key.view()}, nullptr, n, exec_);
    const RefGroups ref = ReferenceGroups({&d.key}, Iota(0, n));
    const std::vector<std::vector<int64_t>> lists = GroupLists(ref.order, ref.starts);
    // Few distinct values: ties, so the first row with the extreme must win.
    const HostColumn v = Drawn(PhysType::kFloat64, n, 6, 72, 0.2);
    const Column cv = Dev(v);
    const ColumnView vv = cv.view();
    for (PhysType type : kAllTypes) {
      const HostColumn t = Drawn(type, n, 500, 73, 0.1);
      const Column ct = Dev(t);
      const ColumnView tv = ct.view();
      for (AggKind kind : {AggKind::kArgMin, AggKind::kArgMax}) {
        SCOPED_TRACE(testing::Message() << AggName(kind) << " with a " << TypeName(type) << " target");
        EXPECT_TRUE(SameRows(Host(Aggregate(g, kind, &vv, &tv, exec_).view()),
                             ReferenceAggregate(lists, kind, &v, &t, nullptr)));
      }
    }
  }
}

TEST_P(AggregateTest, RowSubsetsByHashAndSort) {
  const int64_t size = 30011;
  const HostColumn key = Drawn(PhysType::kFloat64, size, 40, 131, 0.1);
  const HostColumn v = Sample(PhysType::kInt32, size, 132, true);
  const HostColumn t = Drawn(PhysType::kFixedChars, size, 900, 133, 0.1);
  const Column ck = Dev(key), cv = Dev(v), ct = Dev(t);
  const ColumnView vv = cv.view(), tv = ct.view();
  std::mt19937_64 rng(134);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < 20000; ++i) rows.push_back(static_cast<int64_t>(rng() % size));
  const Buffer dr = ToDevice(rows, exec_);
  const RefGroups ref = ReferenceGroups({&key}, rows);
  const std::vector<std::vector<int64_t>> lists = GroupLists(ref.order, ref.starts);
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    for (GroupMethod m : {GroupMethod::kHash, GroupMethod::kSort}) {
      const Groups g = GroupRows({ck.view()}, dr.as<int64_t>(), 20000, Method(m), exec_);
      ASSERT_EQ(g.count, ref.count());
      EXPECT_EQ(g.method, m);
      for (AggKind kind : kAllAggs) {
        SCOPED_TRACE(testing::Message() << AggName(kind) << (serial ? ", serial" : ", wide") << ", method "
                                        << static_cast<int>(m));
        std::vector<double> approx;
        const HostColumn expected = ReferenceAggregate(lists, kind, &v, &t, &approx);
        const HostColumn actual = Host(Aggregate(g, kind, &vv, &tv, exec_).view());
        if (actual.type == PhysType::kFloat64 && kind != AggKind::kSum) {
          EXPECT_TRUE(NearValues(actual, expected, approx, 1e-9));
        } else {
          EXPECT_TRUE(SameRows(actual, expected));
        }
      }
    }
  }
}

TEST_P(AggregateTest, SpecialValues) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  // One group: max is NaN, min -1; -0.0 and 0.0 are one distinct value, NaNs another.
  const HostColumn v = Numbers<double>({0.0, nan, -0.0, -1.0, nan, 3.0}, {1, 1, 1, 1, 1, 0});
  const HostColumn k = Numbers<int32_t>({1, 1, 1, 1, 1, 1});
  const Column cv = Dev(v), ck = Dev(k);
  const ColumnView vv = cv.view();
  const Groups g = GroupRows({ck.view()}, nullptr, 6, exec_);
  ASSERT_EQ(g.count, 1);
  auto one = [&](AggKind kind) { return Host(Aggregate(g, kind, &vv, &vv, exec_).view()); };
  EXPECT_TRUE(std::isnan(ValueAt<double>(one(AggKind::kMax), 0)));
  EXPECT_EQ(ValueAt<double>(one(AggKind::kMin), 0), -1.0);
  EXPECT_EQ(ValueAt<int64_t>(one(AggKind::kCountDistinct), 0), 3);
  EXPECT_EQ(ValueAt<int64_t>(one(AggKind::kCount), 0), 5);
  EXPECT_TRUE(std::isnan(ValueAt<double>(one(AggKind::kSum), 0)));
  // Integer sums wrap.
  const HostColumn big = Numbers<int64_t>({std::numeric_limits<int64_t>::max(), 2});
  const HostColumn k2 = Numbers<int32_t>({0, 0});
  const Column cb = Dev(big), ck2 = Dev(k2);
  const ColumnView bv = cb.view();
  const Groups g2 = GroupRows({ck2.view()}, nullptr, 2, exec_);
  EXPECT_EQ(ValueAt<int64_t>(Host(Aggregate(g2, AggKind::kSum, &bv, nullptr, exec_).view()), 0),
            std::numeric_limits<int64_t>::min() + 1);
  // A sample variance needs two values.
  const HostColumn one_value = Numbers<int16_t>({4, 9}, {1, 0});
  const Column co = Dev(one_value);
  const ColumnView ov = co.view();
  const HostColumn var = Host(Aggregate(g2, AggKind::kVarSamp, &ov, nullptr, exec_).view());
  EXPECT_FALSE(var.valid(0));
  const HostColumn pop = Host(Aggregate(g2, AggKind::kVarPop, &ov, nullptr, exec_).view());
  EXPECT_TRUE(pop.valid(0));
  EXPECT_EQ(ValueAt<double>(pop, 0), 0.0);
}

TEST_P(AggregateTest, EmptyGroupsAndErrors) {
  const HostColumn k = Numbers<int32_t>({});
  const HostColumn s = VarChars({});
  const Column ck = Dev(k), cs = Dev(s);
  const ColumnView sv = cs.view(), kv = ck.view();
  const Groups g = GroupRows({kv}, nullptr, 0, exec_);
  ASSERT_EQ(g.count, 0);
  for (AggKind kind : kAllAggs) {
    const ColumnView* value = NeedsNumber(kind) ? &kv : &sv;
    const Column out = Aggregate(g, kind, value, &sv, exec_);
    EXPECT_EQ(out.size(), 0) << AggName(kind);
  }
  EXPECT_EQ(Aggregate(g, AggKind::kMin, &sv, nullptr, exec_).type(), PhysType::kVarChars);
  EXPECT_EQ(Aggregate(g, AggKind::kSum, &kv, nullptr, exec_).type(), PhysType::kInt64);
  EXPECT_THROW(Aggregate(g, AggKind::kSum, &sv, nullptr, exec_), std::invalid_argument);
  EXPECT_THROW(Aggregate(g, AggKind::kStdSamp, &sv, nullptr, exec_), std::invalid_argument);
  EXPECT_THROW(Aggregate(g, AggKind::kArgMax, &kv, nullptr, exec_), std::invalid_argument);
  EXPECT_THROW(Aggregate(g, AggKind::kMin, nullptr, nullptr, exec_), std::invalid_argument);
}

TEST_P(AggregateTest, ManyGroupsLarge) {
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    SCOPED_TRACE(serial ? "serial paths" : "wide paths");
    const int64_t n = 400009;
    HostColumn key = Drawn(PhysType::kInt64, n, 100000, 81, 0.01, false);
    const HostColumn v = Sample(PhysType::kFloat64, n, 82, true);
    const HostColumn s = Drawn(PhysType::kVarChars, n, 3000, 83, 0.1);
    const Column ck = Dev(key), cv = Dev(v), cs = Dev(s);
    const ColumnView vv = cv.view(), sv = cs.view();
    const Groups g = GroupRows({ck.view()}, nullptr, n, exec_);
    const RefGroups ref = ReferenceGroups({&key}, Iota(0, n));
    ASSERT_EQ(g.count, ref.count());
    EXPECT_GT(g.count, 90000);
    const std::vector<std::vector<int64_t>> lists = GroupLists(ref.order, ref.starts);
    for (AggKind kind : {AggKind::kCount, AggKind::kSum, AggKind::kMax}) {
      SCOPED_TRACE(AggName(kind));
      EXPECT_TRUE(SameRows(Host(Aggregate(g, kind, &vv, nullptr, exec_).view()),
                           ReferenceAggregate(lists, kind, &v, nullptr, nullptr)));
    }
    for (AggKind kind : {AggKind::kMin, AggKind::kCountDistinct}) {
      SCOPED_TRACE(AggName(kind));
      EXPECT_TRUE(SameRows(Host(Aggregate(g, kind, &sv, nullptr, exec_).view()),
                           ReferenceAggregate(lists, kind, &s, nullptr, nullptr)));
    }
  }
}

// ===========================================================================
// Histogram

std::vector<double> ReferenceHistogram(const HostColumn& v, const HostColumn* w,
                                       const std::vector<int64_t>& rows, double start, double end,
                                       double interval, int64_t bins) {
  std::vector<double> out(static_cast<size_t>(bins), 0.0);
  for (int64_t r : rows) {
    if (!v.valid(r)) continue;
    const double x = NumberOf(v, r);
    if (!(x >= start && x <= end)) continue;
    const double q = std::floor((x - start) / interval);
    const int64_t b = q >= static_cast<double>(bins - 1) ? bins - 1 : static_cast<int64_t>(q);
    if (w == nullptr) {
      out[b] += 1;
    } else if (w->valid(r)) {
      out[b] += NumberOf(*w, r);
    }
  }
  return out;
}

TEST_P(HistogramTest, CountsAndWeightsByBothMethods) {
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    SCOPED_TRACE(serial ? "serial paths" : "wide paths");
    const int64_t size = 100003;
    for (PhysType type :
         {PhysType::kInt8, PhysType::kInt32, PhysType::kInt64, PhysType::kFloat32, PhysType::kFloat64}) {
      const HostColumn v = type == PhysType::kInt8 || IsFloat(type) ? Drawn(type, size, 500, 91, 0.1) : [&] {
        HostColumn h = Drawn(type, size, 500, 91, 0.1);
        for (int64_t i = 0; i < size; ++i) {  // into a range the bins cover
          const int64_t x = IntegerOf(h, i) % 1000;
          h.rows[i] = type == PhysType::kInt32 ? Raw(static_cast<int32_t>(x)) : Raw(x);
        }
        return h;
      }();
      const HostColumn w = Sample(PhysType::kFloat64, size, 92, true);
      const Column cv = Dev(v), cw = Dev(w);
      const ColumnView wv = cw.view();
      std::mt19937_64 rng(93);
      std::vector<int64_t> rows;
      for (int64_t i = 0; i < 33333; ++i) rows.push_back(static_cast<int64_t>(rng() % size));
      const Buffer dr = ToDevice(rows, exec_);
      struct Range {
        double start, end, interval;
        int64_t bins;
      };
      for (const Range& r : {Range{-100, 100, 10, 20}, Range{-1000, 1000, 0.5, 4000}, Range{0, 127, 7, 19},
                             Range{-3, 3, 1, 1}, Range{-1e30, 1e30, 1e29, 20}}) {
        for (HistogramMethod m : {HistogramMethod::kAtomic, HistogramMethod::kSort, HistogramMethod::kAuto}) {
          SCOPED_TRACE(testing::Message() << TypeName(type) << " in [" << r.start << ", " << r.end << "] by "
                                          << r.interval << ", method " << static_cast<int>(m));
          EXPECT_EQ(
              Histogram(cv.view(), nullptr, nullptr, size, r.start, r.end, r.interval, r.bins, m, exec_),
              ReferenceHistogram(v, nullptr, Iota(0, size), r.start, r.end, r.interval, r.bins));
          EXPECT_EQ(Histogram(cv.view(), &wv, dr.as<int64_t>(), 33333, r.start, r.end, r.interval, r.bins, m,
                              exec_),
                    ReferenceHistogram(v, &w, rows, r.start, r.end, r.interval, r.bins));
        }
      }
    }
  }
}

TEST_P(HistogramTest, EdgesAndErrors) {
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    SCOPED_TRACE(serial ? "serial paths" : "wide paths");
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const HostColumn v = Numbers<double>({0.0, 10.0, 9.999, 10.5, -0.1, nan, 5.0, 2.5, 7.5, 10.0});
    const Column c = Dev(v);
    for (HistogramMethod m : {HistogramMethod::kAtomic, HistogramMethod::kSort}) {
      // 10 is the closed end of the last bin; 10.5, -0.1 and NaN are outside.
      EXPECT_EQ(Histogram(c.view(), nullptr, nullptr, 10, 0, 10, 2.5, 4, m, exec_),
                (std::vector<double>{1, 1, 1, 4}));
      EXPECT_EQ(Histogram(c.view(), nullptr, nullptr, 0, 0, 10, 2.5, 4, m, exec_),
                (std::vector<double>(4, 0.0)));
      EXPECT_EQ(Histogram(c.view(), nullptr, nullptr, 1, 0, 10, 2.5, 4, m, exec_),
                (std::vector<double>{1, 0, 0, 0}));
    }
    const HostColumn s = VarChars({"a"});
    const Column cs = Dev(s);
    EXPECT_THROW(Histogram(c.view(), nullptr, nullptr, 10, 0, 10, 2.5, 0, exec_), std::invalid_argument);
    EXPECT_THROW(Histogram(c.view(), nullptr, nullptr, 10, 0, 10, 0, 4, exec_), std::invalid_argument);
    EXPECT_THROW(Histogram(c.view(), nullptr, nullptr, 10, 10, 0, 1, 4, exec_), std::invalid_argument);
    EXPECT_THROW(Histogram(cs.view(), nullptr, nullptr, 1, 0, 10, 1, 4, exec_), std::invalid_argument);
  }
}

// ===========================================================================
// Materialize

TEST_P(MaterializeTest, IntegersFloatsAndNulls) {
  const int64_t n = 10007;
  const HostColumn a = Sample(PhysType::kInt32, n, 101, true);
  const HostColumn b = Sample(PhysType::kFloat64, n, 102, true);
  const Column ca = Dev(a), cb = Dev(b);
  ProgramBuilder pb({ca.view(), cb.view()});
  // a * 3 + 1, and b / a (null where a is 0 or null).
  const Program ints = pb.Build(Binary(Op::kAddI, Binary(Op::kMulI, pb.Col(0), pb.Int(3)), pb.Int(1)));
  const Program floats =
      pb.Build(Binary(Op::kDivF, pb.Col(1), Unary(Op::kIntToFloat, pb.Col(0))), ValueKind::kFloat);
  const DeviceProgram di = Upload(ints, exec_), df = Upload(floats, exec_);
  for (const auto& [begin, end] :
       std::vector<std::pair<int64_t, int64_t>>{{0, n}, {17, 5000}, {n, n}, {3, 4}}) {
    for (bool nullable : {true, false}) {
      SCOPED_TRACE(testing::Message() << "rows [" << begin << ", " << end << "), nullable " << nullable);
      HostColumn ei, ef;
      ei.type = PhysType::kInt64;
      ef.type = PhysType::kFloat64;
      for (int64_t r = begin; r < end; ++r) {
        const bool vi = a.valid(r);
        const int64_t x = ValueAt<int32_t>(a, r);
        ei.rows.push_back(Raw<int64_t>(vi ? x * 3 + 1 : 0));
        const bool vf = a.valid(r) && b.valid(r) && x != 0;
        ef.rows.push_back(Raw<double>(vf ? ValueAt<double>(b, r) / static_cast<double>(x) : 0.0));
        if (nullable) {
          ei.validity.push_back(vi);
          ef.validity.push_back(vf);
        }
      }
      const Column mi = Materialize(di.view, begin, end, nullable, exec_);
      const Column mf = Materialize(df.view, begin, end, nullable, exec_);
      EXPECT_EQ(mi.nullable(), nullable);
      EXPECT_TRUE(SameRows(Host(mi.view()), ei));
      EXPECT_TRUE(SameRows(Host(mf.view()), ef));
    }
  }
}

// Arithmetic on numbers only runs by typed blocks on the host
// (NumericBlock): the same values as row by row, nulls, wrapping, NaN,
// infinities and -0.0 included, over rows that cross blocks.
TEST_P(MaterializeTest, ArithmeticOfNumbersAsRowByRow) {
  const int64_t n = 1000;
  std::vector<int64_t> xs;
  std::vector<double> ys;
  std::vector<float> zs;
  std::vector<uint8_t> xv, yv;
  const double specials[] = {std::nan(""), HUGE_VAL, -HUGE_VAL, -0.0, 0.0, 1e308};
  for (int64_t r = 0; r < n; ++r) {
    xs.push_back(r % 50 == 0 ? INT64_MAX : r % 51 == 0 ? INT64_MIN : r * 37 - 500);
    ys.push_back(r % 13 == 0 ? specials[r % 6] : static_cast<double>(r) / 7.0 - 20.0);
    zs.push_back(static_cast<float>(r % 9) * 0.25f);
    xv.push_back(r % 11 == 3 ? 0 : 1);
    yv.push_back(r % 17 == 5 ? 0 : 1);
  }
  const Column cx = Dev(Numbers(xs, xv)), cy = Dev(Numbers(ys, yv)), cz = Dev(Numbers(zs));
  ProgramBuilder pb({cx.view(), cy.view(), cz.view()});
  // -(y * (1.5 - x)) + z * 2.5, and -(x * 7 - 3) + x.
  const Program floats = pb.Build(
      Binary(Op::kAddF,
             Unary(Op::kNegF,
                   Binary(Op::kMulF, pb.Col(1), Binary(Op::kSubF, pb.Float(1.5), Unary(Op::kIntToFloat, pb.Col(0))))),
             Binary(Op::kMulF, pb.Col(2), pb.Float(2.5))),
      ValueKind::kFloat);
  const Program ints = pb.Build(Binary(
      Op::kAddI, Unary(Op::kNegI, Binary(Op::kSubI, Binary(Op::kMulI, pb.Col(0), pb.Int(7)), pb.Int(3))), pb.Col(0)));
  const DeviceProgram df = Upload(floats, exec_), di = Upload(ints, exec_);
  HostColumn ef, ei;
  ef.type = PhysType::kFloat64;
  ei.type = PhysType::kInt64;
  for (int64_t r = 3; r < n; ++r) {
    const uint64_t x = static_cast<uint64_t>(xs[r]);
    const bool vf = xv[r] && yv[r];
    const double f = -(ys[r] * (1.5 - static_cast<double>(xs[r]))) + static_cast<double>(zs[r]) * 2.5;
    ef.rows.push_back(Raw<double>(vf ? f : 0.0));
    ef.validity.push_back(vf);
    ei.rows.push_back(Raw<int64_t>(xv[r] ? static_cast<int64_t>((0 - (x * 7 - 3)) + x) : 0));
    ei.validity.push_back(xv[r]);
  }
  // A NaN's sign is the arithmetic's business (the compiler may fold the
  // reference's negation into a subtraction): NaNs compare as NaNs.
  HostColumn got = Host(Materialize(df.view, 3, n, true, exec_).view());
  for (std::string& row : got.rows) {
    double v;
    std::memcpy(&v, row.data(), sizeof(v));
    if (v != v) row = Raw<double>(std::nan(""));
  }
  for (std::string& row : ef.rows) {
    double v;
    std::memcpy(&v, row.data(), sizeof(v));
    if (v != v) row = Raw<double>(std::nan(""));
  }
  EXPECT_TRUE(SameRows(got, ef));
  EXPECT_TRUE(SameRows(Host(Materialize(di.view, 3, n, true, exec_).view()), ei));
}

// Random programs on numbers (what the host runs by typed blocks,
// NumericBlock): every row's value and validity as the row-by-row
// evaluator gives them, and the rows a filter of them keeps.
TEST_P(MaterializeTest, RandomNumberProgramsAsRowByRow) {
  if (GetParam() != Backend::kHost) GTEST_SKIP() << "the reference reads the columns on the host";
  const int64_t n = 777;
  std::mt19937_64 rng(2026);
  std::vector<int64_t> l(n);
  std::vector<int32_t> k(n);
  std::vector<double> d(n);
  std::vector<float> f(n);
  std::vector<uint8_t> lv(n), dv(n);
  const double specials[] = {std::nan(""), HUGE_VAL, -HUGE_VAL, -0.0, 0.0};
  for (int64_t r = 0; r < n; ++r) {
    l[r] = r % 31 == 0 ? (r % 2 ? INT64_MAX : INT64_MIN) : static_cast<int64_t>(rng() % 41) - 20;
    k[r] = static_cast<int32_t>(rng() % 7) - 3;
    d[r] = r % 17 == 0 ? specials[r % 5] : static_cast<double>(static_cast<int64_t>(rng() % 2001) - 1000) / 8;
    f[r] = static_cast<float>(rng() % 9) - 4.0f;
    lv[r] = rng() % 6 != 0;
    dv[r] = rng() % 5 != 0;
  }
  // Strings, tested against constants: a nullable varchar and a char4
  // (which ends at its first zero byte).
  // (The long words take LIKE's sixteen-place search.)
  const std::vector<std::string> words = {"",
                                          "a",
                                          "ab",
                                          "abc",
                                          "b",
                                          "ba",
                                          "abcdefghij",
                                          "abcdefghik",
                                          "zzzzzzzzzzzzzzzzzzzzzzabcdefghij",
                                          "abcdefghiabcdefghijabcdefghijkbcdefghiab"};
  HostColumn vs, cs;
  vs.type = PhysType::kVarChars;
  cs.type = PhysType::kFixedChars;
  cs.width = 4;
  for (int64_t r = 0; r < n; ++r) {
    vs.rows.push_back(words[rng() % words.size()]);
    vs.validity.push_back(rng() % 5 != 0);
    const std::string w = words[rng() % 6];
    cs.rows.push_back(w + std::string(4 - w.size(), '\0'));
  }
  const Column cl = Dev(Numbers(l, lv)), ck = Dev(Numbers(k)), cd = Dev(Numbers(d, dv)), cf = Dev(Numbers(f));
  const Column cv = Dev(vs), cc = Dev(cs);
  for (int round = 0; round < 1000; ++round) {
    ProgramBuilder b({cl.view(), ck.view(), cd.view(), cf.view(), cv.view(), cc.view()});
    std::function<Code(bool, int)> gen;
    // x in a list of 1 to 40 numbers (short ones tested by equalities,
    // long ones searched, long int lists hashed), maybe then null for no
    // match (a null in the list), maybe negated.
    const auto in_list = [&](int depth) {
      const bool floats = rng() % 2 == 0;
      const size_t count = std::vector<size_t>{1, 3, 8, 9, 16, 17, 40}[rng() % 7];
      std::set<int64_t> picked;
      while (picked.size() < count) picked.insert(static_cast<int64_t>(rng() % 61) - 30);
      Code c = floats ? b.In(gen(true, depth - 1),
                             [&] {
                               std::vector<double> v;
                               for (int64_t x : picked) v.push_back(static_cast<double>(x) / 4);
                               return v;
                             }())
                      : b.In(gen(false, depth - 1), std::vector<int64_t>(picked.begin(), picked.end()));
      if (rng() % 3 == 0) c = Unary(Op::kUnknownIfFalse, std::move(c));
      return rng() % 3 == 0 ? Unary(Op::kNot, std::move(c)) : c;
    };
    // A string column = or <> a word, in a list of words, or LIKE a
    // pattern (literal runs between '%'s, or with '_').
    const std::vector<std::string> patterns = {"%",  "a%",  "%b",   "%ab%",        "ab",         "%a%b%",
                                               "a_", "_b%", "%bc%", "abcdefghij%", "%defghijk%", "%efghi%",
                                               "%j", "%%",  "b%a",  "%cdefghi%j"};
    const auto string_test = [&]() {
      const Code col = b.Col(rng() % 2 ? 4 : 5);
      if (rng() % 3 == 0) return b.Like(col, patterns[rng() % patterns.size()]);
      if (rng() % 2)
        return Compare(Op::kCmpS, rng() % 2 ? Cmp::kEq : Cmp::kNe, col, b.Str(words[rng() % words.size()]));
      std::set<std::string> picked;
      const size_t count = rng() % 2 ? 1 + rng() % 3 : 9 + rng() % 3;  // an equality each, or a search
      while (picked.size() < std::min(count, words.size())) picked.insert(words[rng() % words.size()]);
      return b.In(col, std::vector<std::string>(picked.begin(), picked.end()));
    };
    const int32_t int_kind = static_cast<int32_t>(ValueKind::kInt);
    const int32_t float_kind = static_cast<int32_t>(ValueKind::kFloat);
    // An int (is_float false) or float expression of at most `depth` levels.
    gen = [&](bool is_float, int depth) -> Code {
      const uint64_t pick = rng() % (depth <= 0 ? 3 : 12);
      if (is_float) {
        switch (pick) {
          case 0:
            return b.Col(rng() % 2 ? 2 : 3);
          case 1:
            return rng() % 4 ? b.Float(static_cast<double>(static_cast<int64_t>(rng() % 21) - 10) / 4) : b.Null();
          case 2:
            return Unary(Op::kIntToFloat, depth <= 0 ? b.Col(0) : gen(false, depth - 1));
          case 3:
            return Unary(Op::kNegF, gen(true, depth - 1));
          case 4:  // sqrt, ln, exp, round, ... (domain errors null)
            return Unary(Op::kMathF, gen(true, depth - 1), static_cast<int32_t>(rng() % 10));
          case 5: {  // pow, greatest, least, nullif, ifnull
            const Op ops[] = {Op::kPowF, Op::kMaxF, Op::kMinF, Op::kNullIfF, Op::kIfNull};
            const Op op = ops[rng() % 5];
            return Binary(op, gen(true, depth - 1), gen(true, depth - 1), op == Op::kIfNull ? float_kind : 0);
          }
          case 6:  // round to -2..2 digits
            return Binary(Op::kRoundF, gen(true, depth - 1), b.Int(static_cast<int64_t>(rng() % 5) - 2));
          case 7:
            return Ternary(Op::kIf, gen(false, depth - 1), gen(true, depth - 1), gen(true, depth - 1), float_kind);
          default: {
            const Op ops[] = {Op::kAddF, Op::kSubF, Op::kMulF, Op::kDivF, Op::kModF};
            return Binary(ops[rng() % 5], gen(true, depth - 1), gen(true, depth - 1));
          }
        }
      }
      switch (pick) {
        case 0:
          return b.Col(rng() % 2 ? 0 : 1);
        case 1:
          return rng() % 4 ? b.Int(static_cast<int64_t>(rng() % 11) - 5) : b.Null();
        case 2:
          return rng() % 2 ? b.Col(1) : rng() % 4 ? string_test() : Unary(Op::kLength, b.Col(rng() % 2 ? 4 : 5));
        case 3: {
          const uint64_t unary = rng() % 3;
          if (unary < 2) return Unary(unary ? Op::kNegI : Op::kNot, gen(false, depth - 1));
          // A date part of an int made ms (days of about 97 years apart).
          Code c = Binary(Op::kMulI, gen(false, depth - 1), b.Int(int64_t{86'400'000} * 35'431 + 12'345'678));
          c.instrs.push_back(Instr{Op::kDatePart, static_cast<int32_t>(rng() % 6)});
          return c;
        }
        case 4:
          return Compare(Op::kCmpF, static_cast<Cmp>(rng() % 6), gen(true, depth - 1), gen(true, depth - 1));
        case 5:
          return Compare(Op::kCmpI, static_cast<Cmp>(rng() % 6), gen(false, depth - 1), gen(false, depth - 1));
        case 6:
          return Binary(rng() % 2 ? Op::kAnd : Op::kOr, gen(false, depth - 1), gen(false, depth - 1));
        case 7:
          return rng() % 2 ? Unary(Op::kTruthF, gen(true, depth - 1)) : in_list(depth);
        case 8: {  // abs, sign, is null, a float made an int (null past int64)
          const Op ops[] = {Op::kAbsI, Op::kSignI, Op::kIsNull, Op::kFloatToInt};
          const Op op = ops[rng() % 4];
          return Unary(op, gen(op == Op::kFloatToInt, depth - 1));
        }
        case 9: {  // greatest, least, nullif, ifnull, round to -3..1 digits
          const Op ops[] = {Op::kMaxI, Op::kMinI, Op::kNullIfI, Op::kIfNull, Op::kRoundI};
          const Op op = ops[rng() % 5];
          if (op == Op::kRoundI) return Binary(op, gen(false, depth - 1), b.Int(static_cast<int64_t>(rng() % 5) - 3));
          return Binary(op, gen(false, depth - 1), gen(false, depth - 1), op == Op::kIfNull ? int_kind : 0);
        }
        case 10: {  // if, between of ints or of floats
          const uint64_t which = rng() % 3;
          if (which == 0)
            return Ternary(Op::kIf, gen(false, depth - 1), gen(false, depth - 1), gen(false, depth - 1), int_kind);
          const bool floats = which == 2;
          return Ternary(floats ? Op::kBetweenF : Op::kBetweenI, gen(floats, depth - 1), gen(floats, depth - 1),
                         gen(floats, depth - 1));
        }
        default: {
          const Op ops[] = {Op::kAddI, Op::kSubI, Op::kMulI, Op::kDivI, Op::kModI};
          return Binary(ops[rng() % 5], gen(false, depth - 1), gen(false, depth - 1));
        }
      }
    };
    const bool is_float = rng() % 2 == 0;
    const Program program = b.Build(gen(is_float, 4), is_float ? ValueKind::kFloat : ValueKind::kInt);
    const DeviceProgram dp = Upload(program, exec_);
    const int64_t begin = static_cast<int64_t>(rng() % 300);
    const Column m = Materialize(dp.view, begin, n, true, exec_);
    const HostColumn got = Host(m.view());
    std::vector<int64_t> trues;
    bool same = true;
    for (int64_t r = begin; r < n && same; ++r) {
      const Slot want = Evaluate(dp.view, r);
      const size_t at = static_cast<size_t>(r - begin);
      const bool valid = got.valid(static_cast<int64_t>(at));
      if (valid != want.valid) {
        same = false;
      } else if (valid && is_float) {
        double v;
        std::memcpy(&v, got.rows[at].data(), sizeof(v));
        same = (v != v && want.f != want.f) || std::memcmp(&v, &want.f, sizeof(v)) == 0;
      } else if (valid) {
        int64_t v;
        std::memcpy(&v, got.rows[at].data(), sizeof(v));
        same = v == want.i;
      }
      if (!same) {
        std::string code;
        for (const Instr& in : program.code)
          code += std::to_string(static_cast<int>(in.op)) + ":" + std::to_string(in.arg) + " ";
        double gv = 0;
        int64_t gi = 0;
        std::memcpy(&gv, got.rows[at].data(), 8);
        std::memcpy(&gi, got.rows[at].data(), 8);
        ADD_FAILURE() << "round " << round << ", row " << r << " valid " << valid << "/" << want.valid << " got " << gv
                      << "/" << gi << " want " << want.f << "/" << want.i << " code " << code << " l=" << l[r]
                      << " k=" << k[r] << " d=" << d[r] << " f=" << f[r] << " lv=" << int(lv[r])
                      << " dv=" << int(dv[r]);
      }
      if (IsTrue(dp.view, want)) trues.push_back(r);
    }
    ASSERT_TRUE(same);
    const Selection kept = Select(dp.view, begin, n, exec_);
    ASSERT_EQ(FromDevice<int64_t>(kept.indices.data(), kept.count, exec_), trues) << "round " << round;
  }
}

TEST_P(MaterializeTest, StringsWithFolds) {
  const int64_t n = 5003;
  HostColumn v = Drawn(PhysType::kVarChars, n, 200, 111, 0.2);
  for (int64_t i = 0; i < n; i += 3) v.rows[i] = "MiXeD-" + v.rows[i] + "Z";
  const HostColumn f = Drawn(PhysType::kFixedChars, n, 50, 112, 0.1);
  const Column cv = Dev(v), cf = Dev(f);
  ProgramBuilder pb({cv.view(), cf.view()});
  struct Case {
    Code code;
    const HostColumn* src;
    uint8_t fold;
  };
  const std::vector<Case> cases = {
      {pb.Col(0), &v, kNoFold},
      {Code{{Instr{Op::kColumn, 0}, Instr{Op::kFold, kFoldUpper}}}, &v, kFoldUpper},
      {Code{{Instr{Op::kColumn, 0}, Instr{Op::kFold, kFoldLower}}}, &v, kFoldLower},
      {pb.Col(1), &f, kNoFold},
      {Code{{Instr{Op::kColumn, 1}, Instr{Op::kFold, kFoldUpper}}}, &f, kFoldUpper},
  };
  for (const Case& c : cases) {
    const DeviceProgram d = Upload(pb.Build(c.code, ValueKind::kString), exec_);
    for (bool nullable : {true, false}) {
      SCOPED_TRACE(testing::Message() << TypeName(c.src->type) << ", fold " << static_cast<int>(c.fold)
                                      << ", nullable " << nullable);
      HostColumn e;
      e.type = PhysType::kVarChars;
      for (int64_t r = 10; r < n; ++r) {
        std::string s = c.src->valid(r) ? StringAt(*c.src, r) : "";
        for (char& ch : s) ch = FoldChar(ch, c.fold);
        e.rows.push_back(s);
        if (nullable) e.validity.push_back(c.src->valid(r));
      }
      const Column m = Materialize(d.view, 10, n, nullable, exec_);
      EXPECT_EQ(m.type(), PhysType::kVarChars);
      EXPECT_TRUE(SameRows(Host(m.view()), e));
    }
  }
  // A constant, and nothing at all.
  const DeviceProgram k = Upload(pb.Build(pb.Str("const"), ValueKind::kString), exec_);
  const HostColumn ks = Host(Materialize(k.view, 0, 3, false, exec_).view());
  EXPECT_EQ(ks.rows, (std::vector<std::string>{"const", "const", "const"}));
  EXPECT_EQ(Materialize(k.view, 5, 5, true, exec_).size(), 0);
}

// ===========================================================================
// Out of memory: every kernel either succeeds or throws, and leaves the
// pool's accounting where it was.

TEST_P(AnalyticsTest, OutOfMemoryLeavesAccountingUnchanged) {
  for (bool serial : SerialModes()) {
    UseSerial(serial);
    SCOPED_TRACE(serial ? "serial paths" : "wide paths");
    const int64_t n = 50021;
    const HostColumn a = Drawn(PhysType::kInt64, n, 100, 121, 0.1);
    const HostColumn many = Drawn(PhysType::kInt32, n, 20000, 122, 0.1, false);
    const HostColumn s = Drawn(PhysType::kVarChars, n, 300, 123, 0.1);
    const Column ca = Dev(a), cm = Dev(many), cs = Dev(s);
    const ColumnView av = ca.view(), mv = cm.view(), sv = cs.view();
    const Program prog = [&] {
      ProgramBuilder pb({sv});
      return pb.Build(Code{{Instr{Op::kColumn, 0}, Instr{Op::kFold, kFoldUpper}}}, ValueKind::kString);
    }();
    const DeviceProgram dp = Upload(prog, exec_);

    struct Kernel {
      const char* name;
      std::function<std::vector<std::string>(const Exec&)> run;  // a digest of the result
    };
    auto digest = [this](const Column& c) {
      const HostColumn h = Host(c.view());
      std::vector<std::string> d = h.rows;
      for (uint8_t v : h.validity) d.push_back(std::to_string(v));
      return d;
    };
    auto ints = [](const Buffer& b, int64_t count, const Exec& e) {
      std::vector<std::string> d;
      for (int64_t v : FromDevice<int64_t>(b.data(), count, e)) d.push_back(std::to_string(v));
      return d;
    };
    const std::vector<Kernel> kernels_under_test = {
        {"sort int64",
         [&](const Exec& e) {
           return ints(SortOrder({{av, true}}, nullptr, n, e), n, e);
         }},
        {"sort strings",
         [&](const Exec& e) {
           return ints(SortOrder({{sv, false}, {av, false}}, nullptr, n, e), n, e);
         }},
        {"group by hash",
         [&](const Exec& e) {
           const Groups g = GroupRows({av}, nullptr, n, Method(GroupMethod::kHash), e);
           EXPECT_EQ(g.method, GroupMethod::kHash);
           return ints(g.order, n, e);
         }},
        {"group by hash, overflowing",
         [&](const Exec& e) {
           return ints(GroupRows({mv}, nullptr, n, Method(GroupMethod::kHash), e).order, n, e);
         }},
        {"group by sort",
         [&](const Exec& e) {
           return ints(GroupRows({sv, av}, nullptr, n, Method(GroupMethod::kSort), e).starts, 1, e);
         }},
        {"aggregates",
         [&](const Exec& e) {
           const Groups g = GroupRows({av}, nullptr, n, e);
           std::vector<std::string> d;
           for (AggKind kind : kAllAggs) {
             const ColumnView* value = NeedsNumber(kind) ? &av : &sv;
             for (const std::string& x : digest(Aggregate(g, kind, value, &sv, e))) d.push_back(x);
           }
           return d;
         }},
        {"histogram",
         [&](const Exec& e) {
           std::vector<std::string> d;
           for (HistogramMethod m : {HistogramMethod::kAtomic, HistogramMethod::kSort}) {
             for (double x : Histogram(av, nullptr, nullptr, n, -1e19, 1e19, 1e17, 200, m, e)) {
               d.push_back(std::to_string(x));
             }
           }
           return d;
         }},
        {"materialize", [&](const Exec& e) { return digest(Materialize(dp.view, 0, n, true, e)); }},
    };
    for (const Kernel& k : kernels_under_test) {
      SCOPED_TRACE(k.name);
      MemoryResource unlimited(GetParam(), 0, "unlimited", 0);
      const std::vector<std::string> expected = k.run(ExecOn(&unlimited));
      EXPECT_EQ(unlimited.in_use(), 0u);
      const size_t peak = unlimited.peak();
      ASSERT_GT(peak, 0u);
      int failed = 0, succeeded = 0;
      for (double fraction : {0.0, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 1.0}) {
        const size_t limit =
            std::max<size_t>(256, static_cast<size_t>(static_cast<double>(peak) * fraction) / 256 * 256);
        MemoryResource limited(GetParam(), 0, "limited", limit);
        try {
          const std::vector<std::string> got = k.run(ExecOn(&limited));
          EXPECT_EQ(got, expected) << "limit " << limit;
          ++succeeded;
        } catch (const std::bad_alloc&) {
          ++failed;
        }
        EXPECT_EQ(limited.in_use(), 0u) << "limit " << limit;
      }
      EXPECT_GT(failed, 0);
      EXPECT_GT(succeeded, 0);  // the peak itself fits
    }
  }
}

}  // namespace
}  // namespace kernels
