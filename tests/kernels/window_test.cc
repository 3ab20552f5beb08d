// Window against a reference that sorts the rows and walks them.

#include <map>
#include <optional>
#include <tuple>

#include "kernels/window.h"
#include "tests/kernels/kernels_test_util.h"

namespace kernels {
namespace test {
namespace {

using WindowTest = BackendTest;
INSTANTIATE_FOR_BACKENDS(WindowTest);

// Rows: a nullable int partition key with few values, a string key, a
// double order key with ties and nulls, and nullable int and double values.
struct Data {
  std::vector<int32_t> p;
  std::vector<uint8_t> pv;
  std::vector<std::string> s;
  std::vector<double> o;
  std::vector<uint8_t> ov;
  std::vector<int64_t> vi;
  std::vector<uint8_t> vv;
  std::vector<double> vf;
};

Data MakeData(int64_t n) {
  Data d;
  std::mt19937_64 rng(7);
  for (int64_t i = 0; i < n; ++i) {
    d.p.push_back(static_cast<int32_t>(rng() % 5));
    d.pv.push_back(rng() % 9 == 0 ? 0 : 1);
    d.s.push_back(rng() % 2 ? "a" : "b");
    d.o.push_back(static_cast<double>(rng() % 20) / 2);
    d.ov.push_back(rng() % 11 == 0 ? 0 : 1);
    d.vi.push_back(static_cast<int64_t>(rng() % 1000) - 500);
    d.vv.push_back(rng() % 7 == 0 ? 0 : 1);
    d.vf.push_back(static_cast<double>(rng() % 1000) / 8);
  }
  return d;
}

// The reference: rows in window order, then each function by walking them.
std::vector<std::optional<double>> Reference(const Data& d, WindowKind kind, bool by_partition, bool ordered,
                                             bool descending, bool floats, int64_t offset) {
  const int64_t n = static_cast<int64_t>(d.p.size());
  // Partition keys (nulls first), then the order key (nulls first ascending, last descending).
  const auto part_key = [&](int64_t r) {
    return by_partition ? std::make_tuple(d.pv[r] ? 1 : 0, d.pv[r] ? d.p[r] : 0, d.s[r])
                        : std::make_tuple(0, 0, std::string());
  };
  const auto order_key = [&](int64_t r) {
    if (!ordered) return std::make_pair(0, 0.0);
    return std::make_pair(d.ov[r] ? 1 : 0, d.ov[r] ? d.o[r] : 0.0);
  };
  std::vector<int64_t> rows(n);
  for (int64_t i = 0; i < n; ++i) rows[i] = i;
  std::stable_sort(rows.begin(), rows.end(), [&](int64_t a, int64_t b) {
    if (part_key(a) != part_key(b)) return part_key(a) < part_key(b);
    return descending ? order_key(b) < order_key(a) : order_key(a) < order_key(b);
  });
  const auto valid = [&](int64_t r) { return d.vv[r] != 0; };
  const auto value = [&](int64_t r) { return floats ? d.vf[r] : static_cast<double>(d.vi[r]); };
  std::vector<std::optional<double>> out(n);
  for (int64_t i = 0; i < n;) {
    int64_t end = i;
    while (end < n && part_key(rows[end]) == part_key(rows[i])) ++end;
    int64_t rank = 0, dense = 0;
    for (int64_t j = i; j < end; ++j) {
      const bool new_peer = j == i || order_key(rows[j]) != order_key(rows[j - 1]);
      if (new_peer) {
        rank = j - i + 1;
        ++dense;
      }
      int64_t last = end - 1;  // the frame's end
      if (ordered) {
        last = j;
        while (last + 1 < end && order_key(rows[last + 1]) == order_key(rows[j])) ++last;
      }
      std::optional<double> v;
      int64_t count = 0;
      double sum = 0, lo = INFINITY, hi = -INFINITY;
      for (int64_t k = i; k <= last; ++k) {
        if (!valid(rows[k])) continue;
        ++count;
        sum += value(rows[k]);
        lo = std::min(lo, value(rows[k]));
        hi = std::max(hi, value(rows[k]));
      }
      switch (kind) {
        case WindowKind::kRowNumber:
          v = static_cast<double>(j - i + 1);
          break;
        case WindowKind::kRank:
          v = static_cast<double>(rank);
          break;
        case WindowKind::kDenseRank:
          v = static_cast<double>(dense);
          break;
        case WindowKind::kLag:
        case WindowKind::kLead: {
          const int64_t k = kind == WindowKind::kLag ? j - offset : j + offset;
          if (k >= i && k < end && valid(rows[k])) v = value(rows[k]);
          break;
        }
        case WindowKind::kCount:
          v = static_cast<double>(count);
          break;
        case WindowKind::kSum:
          if (count > 0) v = sum;
          break;
        case WindowKind::kMin:
          if (count > 0) v = lo;
          break;
        case WindowKind::kMax:
          if (count > 0) v = hi;
          break;
        case WindowKind::kMean:
          if (count > 0) v = sum / count;
          break;
      }
      out[rows[j]] = v;
    }
    i = end;
  }
  return out;
}

TEST_P(WindowTest, MatchesAReferenceForEveryFunctionWithAndWithoutPartitionsAndOrder) {
  const int64_t n = 3001;
  const Data d = MakeData(n);
  const Column p = Dev(Numbers(d.p, d.pv)), s = Dev(VarChars(d.s)), o = Dev(Numbers(d.o, d.ov));
  const Column vi = Dev(Numbers(d.vi, d.vv)), vf = Dev(Numbers(d.vf, d.vv));
  const WindowKind kinds[] = {WindowKind::kRowNumber, WindowKind::kRank,  WindowKind::kDenseRank, WindowKind::kLag,
                              WindowKind::kLead,      WindowKind::kCount, WindowKind::kSum,       WindowKind::kMin,
                              WindowKind::kMax,       WindowKind::kMean};
  for (const WindowKind kind : kinds) {
    for (int shape = 0; shape < 8; ++shape) {
      const bool by_partition = shape & 1, ordered = shape & 2, floats = shape & 4;
      for (const bool descending : {false, true}) {
        if (!ordered && descending) continue;
        WindowSpec spec;
        spec.kind = kind;
        if (by_partition) spec.partition = {p.view(), s.view()};
        if (ordered) spec.order = {SortKey{o.view(), descending}};
        const ColumnView value = floats ? vf.view() : vi.view();
        spec.value = &value;
        spec.offset = 2;
        const Column got = Window(spec, n, exec_);
        const HostColumn h = Host(got.view());
        const auto want = Reference(d, kind, by_partition, ordered, descending, floats, 2);
        ASSERT_EQ(h.size(), n);
        int64_t wrong = 0;
        for (int64_t r = 0; r < n; ++r) {
          const bool has = h.valid(r);
          const double v = has ? AsDouble(h, r) : 0;
          if (has != want[r].has_value() || (has && std::abs(v - *want[r]) > 1e-9 * std::max(1.0, std::abs(v)))) {
            if (wrong++ < 3) {
              ADD_FAILURE() << "kind " << static_cast<int>(kind) << " shape " << shape << " desc " << descending
                            << " row " << r << ": got " << (has ? std::to_string(v) : "null") << ", want "
                            << (want[r] ? std::to_string(*want[r]) : "null");
            }
          }
        }
        EXPECT_EQ(wrong, 0);
      }
    }
  }
}

TEST_P(WindowTest, NoRowsAndBadArguments) {
  WindowSpec spec;
  spec.kind = WindowKind::kRowNumber;
  EXPECT_EQ(Window(spec, 0, exec_).size(), 0);
  spec.kind = WindowKind::kSum;
  EXPECT_THROW(Window(spec, 3, exec_), std::invalid_argument);  // no value
  const Column strings = Dev(VarChars({"a", "b", "c"}, {1, 0, 1}));
  const ColumnView v = strings.view();
  spec.value = &v;
  EXPECT_THROW(Window(spec, 3, exec_), std::invalid_argument);  // not numeric
  spec.kind = WindowKind::kCount;                               // a count of strings reads only their nulls
  const HostColumn counted = Host(Window(spec, 3, exec_).view());
  for (int64_t r = 0; r < 3; ++r) EXPECT_EQ(AsDouble(counted, r), 2.0) << r;
}

}  // namespace
}  // namespace test
}  // namespace kernels
