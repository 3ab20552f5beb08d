// Property tests of TopKOrder (sort.h): on every backend of this binary, its
// rows must be exactly the first k of SortOrder's (tested against a plain
// reference in analytics_test.cc), ties in input order, for every key type,
// both directions, nulls, NaN and -0.0, all-equal keys, many ties, strings
// sharing long prefixes, several keys, row lists, and every k from 0 past
// the row count; on the host both by its own histograms and by the CUDA
// backend's (atomic) ones.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/detail/ops.h"
#include "kernels/memory.h"
#include "kernels/sort.h"
#include "tests/kernels/kernels_test_util.h"

namespace kernels {
namespace {

using namespace test;  // NOLINT

// A value of `type`: from a small pool of specials (extremes, NaN, -0.0,
// infinities, empty strings) or random.
std::string DrawValue(PhysType type, int32_t width, std::mt19937_64& rng, bool special) {
  auto letters = [&rng](size_t n) {
    std::string s(n, 'a');
    for (char& c : s) c = static_cast<char>(rng() % 3 == 0 ? 0x80 + rng() % 128 : 'a' + rng() % 26);
    return s;
  };
  const uint64_t r = rng();
  switch (type) {
    case PhysType::kInt8: {
      const int8_t s[] = {-128, 127, 0, -1};
      return BytesOf<int8_t>(special ? s[r % 4] : static_cast<int8_t>(r));
    }
    case PhysType::kInt16: {
      const int16_t s[] = {-32768, 32767, 0, -1};
      return BytesOf<int16_t>(special ? s[r % 4] : static_cast<int16_t>(r));
    }
    case PhysType::kInt32: {
      const int32_t s[] = {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), 0, -1};
      // Half the random ones small: the high bits shared by most rows.
      return BytesOf<int32_t>(special ? s[r % 4] : (r & 1 ? static_cast<int32_t>(r >> 1) : static_cast<int32_t>(r % 1000)));
    }
    case PhysType::kInt64: {
      const int64_t s[] = {kInt64Min, kInt64Max, 0, -1};
      return BytesOf<int64_t>(special ? s[r % 4] : (r & 1 ? static_cast<int64_t>(r) : static_cast<int64_t>(r % 100000)));
    }
    case PhysType::kFloat32: {
      const float s[] = {std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(), -0.0f,
                         0.0f, std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
      return BytesOf<float>(special ? s[r % 6] : static_cast<float>(static_cast<int64_t>(r % 20001) - 10000) / 64.0f);
    }
    case PhysType::kFloat64: {
      const double s[] = {std::numeric_limits<double>::quiet_NaN(), -std::numeric_limits<double>::quiet_NaN(),
                          -0.0, 0.0, std::numeric_limits<double>::infinity(),
                          -std::numeric_limits<double>::infinity()};
      std::uniform_real_distribution<double> u(0, 1);
      return BytesOf<double>(special ? s[r % 6] : (r & 1 ? u(rng) : static_cast<double>(r % 2001) - 1000.0));
    }
    case PhysType::kFixedChars: {
      std::string s = special ? std::string() : letters(r % (width + 1));
      s.resize(static_cast<size_t>(width), '\0');
      return s;
    }
    case PhysType::kVarChars:
      // Long shared prefixes: the 8-byte prefixes tie.
      return special ? std::string() : (r % 2 ? "prefix__" : "") + letters(r % 12);
  }
  return {};
}

// `rows` rows from `distinct` values (0: each drawn anew), about
// `null_fraction` null (no validity array when 0).
HostColumn Draw(PhysType type, int64_t rows, int64_t distinct, uint64_t seed, double null_fraction,
                int32_t width = 6) {
  std::mt19937_64 rng(seed);
  HostColumn h;
  h.type = type;
  h.width = type == PhysType::kFixedChars ? width : 0;
  std::vector<std::string> pool;
  for (int64_t i = 0; i < distinct; ++i) pool.push_back(DrawValue(type, h.width, rng, i % 3 == 0));
  for (int64_t i = 0; i < rows; ++i) {
    h.rows.push_back(distinct > 0 ? pool[rng() % pool.size()] : DrawValue(type, h.width, rng, rng() % 50 == 0));
  }
  if (null_fraction > 0) {
    std::uniform_real_distribution<double> u(0, 1);
    for (int64_t i = 0; i < rows; ++i) h.validity.push_back(u(rng) >= null_fraction ? 1 : 0);
  }
  return h;
}

// SerialModes(): the host's own histograms, and the CUDA backend's (atomics)
// on the host.
class TopKTest : public SerialModesTest {
 protected:
  // Checks TopKOrder against SortOrder's first rows for every k in `ks`.
  void Check(const std::vector<SortKey>& keys, const std::vector<int64_t>* rows, int64_t n,
             const std::vector<int64_t>& ks) {
    Buffer r;
    if (rows != nullptr) r = ToDevice(*rows, exec_);
    const int64_t* rp = rows != nullptr ? r.as<int64_t>() : nullptr;
    const Buffer full = SortOrder(keys, rp, n, exec_);
    const std::vector<int64_t> expected = FromDevice<int64_t>(full.data(), n, exec_);
    for (bool serial : SerialModes()) {
      detail::SetHostSerialGroups(serial);
      for (int64_t k : ks) {
        SCOPED_TRACE(testing::Message() << "k " << k << (serial ? ", serial" : ", wide"));
        const int64_t kept = std::min(k, n);
        const Buffer top = TopKOrder(keys, rp, n, k, exec_);
        ASSERT_EQ(top.size(), static_cast<size_t>(std::max<int64_t>(kept, 0)) * sizeof(int64_t));
        const std::vector<int64_t> got = FromDevice<int64_t>(top.data(), kept, exec_);
        ASSERT_EQ(got, std::vector<int64_t>(expected.begin(), expected.begin() + kept));
      }
    }
    detail::SetHostSerialGroups(true);
  }

  static std::vector<int64_t> Ks(int64_t n) {
    return {0, 1, 2, 7, 64, 255, n / 64, n / 4, n / 2, n - 1, n, n + 5};
  }
};

INSTANTIATE_FOR_BACKENDS(TopKTest);

TEST_P(TopKTest, EveryTypeBothDirectionsNullsTies) {
  const int64_t n = 5003;
  for (PhysType type : kAllTypes) {
    for (int64_t distinct : {int64_t{1}, int64_t{3}, int64_t{40}, int64_t{0}}) {
      for (double nulls : {0.0, 0.3}) {
        const HostColumn h = Draw(type, n, distinct, 17 + distinct * 5 + static_cast<int>(type), nulls);
        const Column c = Dev(h);
        for (bool desc : {false, true}) {
          SCOPED_TRACE(testing::Message() << TypeName(type) << ", distinct " << distinct << ", nulls " << nulls
                                          << (desc ? ", descending" : ", ascending"));
          Check({{c.view(), desc}}, nullptr, n, Ks(n));
        }
      }
    }
  }
}

TEST_P(TopKTest, RowListsInAnyOrder) {
  const int64_t n = 9001;
  std::mt19937_64 rng(5);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i) {
    if (rng() % 3 != 0) rows.push_back(i);
  }
  std::shuffle(rows.begin(), rows.end(), rng);
  const int64_t m = static_cast<int64_t>(rows.size());
  for (PhysType type : {PhysType::kInt64, PhysType::kFloat64, PhysType::kFloat32, PhysType::kVarChars}) {
    for (int64_t distinct : {int64_t{1}, int64_t{5}, int64_t{0}}) {
      const HostColumn h = Draw(type, n, distinct, 99 + distinct, 0.2);
      const Column c = Dev(h);
      for (bool desc : {false, true}) {
        SCOPED_TRACE(testing::Message() << TypeName(type) << ", distinct " << distinct
                                        << (desc ? ", descending" : ", ascending"));
        Check({{c.view(), desc}}, &rows, m, Ks(m));
      }
    }
  }
}

TEST_P(TopKTest, SeveralKeys) {
  const int64_t n = 6007;
  struct Case {
    std::vector<PhysType> types;
    std::vector<bool> desc;
    std::vector<int64_t> distinct;
  };
  const std::vector<Case> cases = {
      {{PhysType::kInt16, PhysType::kFloat64}, {true, false}, {3, 0}},
      {{PhysType::kInt8, PhysType::kVarChars, PhysType::kInt32}, {false, true, false}, {4, 6, 0}},
      {{PhysType::kVarChars, PhysType::kInt64}, {true, true}, {5, 0}},
      {{PhysType::kFixedChars, PhysType::kInt8}, {false, true}, {7, 3}},
      // More radix words than the selection keeps: ties of its words are
      // not ties of the key.
      {{PhysType::kInt64, PhysType::kInt64, PhysType::kInt64, PhysType::kInt64, PhysType::kInt64},
       {false, true, false, true, false},
       {2, 2, 2, 2, 0}},
      // Several fields in one word, all tying: the first rows by position.
      {{PhysType::kInt8, PhysType::kInt8, PhysType::kInt16}, {true, false, true}, {1, 1, 2}},
  };
  for (const Case& c : cases) {
    for (double nulls : {0.0, 0.25}) {
      std::vector<HostColumn> hosts;
      for (size_t k = 0; k < c.types.size(); ++k) {
        hosts.push_back(Draw(c.types[k], n, c.distinct[k], 300 + k * 13, nulls));
      }
      std::vector<Column> cols;
      std::vector<SortKey> keys;
      for (size_t k = 0; k < hosts.size(); ++k) {
        cols.push_back(Dev(hosts[k]));
        keys.push_back({cols.back().view(), c.desc[k]});
      }
      SCOPED_TRACE(testing::Message() << c.types.size() << " keys starting with " << TypeName(c.types[0])
                                      << ", nulls " << nulls);
      Check(keys, nullptr, n, Ks(n));
    }
  }
}

TEST_P(TopKTest, WideCharNAndLongSharedPrefixes) {
  const int64_t n = 4099;
  for (int32_t width : {3, 8, 11, 40}) {
    SCOPED_TRACE(testing::Message() << "char" << width);
    const HostColumn f = Draw(PhysType::kFixedChars, n, 0, 7 + width, 0.1, width);
    const Column fc = Dev(f);
    for (bool desc : {false, true}) Check({{fc.view(), desc}}, nullptr, n, Ks(n));
  }
  // Every string shares its first 8 bytes: the prefix selects nothing.
  HostColumn s = VarChars({});
  std::mt19937_64 rng(3);
  for (int64_t i = 0; i < n; ++i) s.rows.push_back("same_prefix_" + std::to_string(rng() % 500));
  const Column sc = Dev(s);
  for (bool desc : {false, true}) Check({{sc.view(), desc}}, nullptr, n, Ks(n));
}

// Past the size where the selection keeps its rows in a list and narrows it
// round by round; and where too many rows tie to keep them in one.
TEST_P(TopKTest, LargeRows) {
  const int64_t n = kLargeRows / 4;
  std::mt19937_64 rng(11);
  std::vector<double> uniform(n), few(n), clustered(n);
  std::uniform_real_distribution<double> u(0, 1);
  for (int64_t i = 0; i < n; ++i) {
    uniform[i] = u(rng);
    few[i] = static_cast<double>(rng() % 4);
    // Differ only in their lowest bits.
    clustered[i] = 1.0 + static_cast<double>(rng() % 5000) * std::numeric_limits<double>::epsilon();
  }
  const std::vector<int64_t> ks = {1, 10, 1000, 4097, n / 64, n / 4};
  for (const std::vector<double>* v : {&uniform, &few, &clustered}) {
    const Column c = Dev(Numbers<double>(*v));
    for (bool desc : {false, true}) Check({{c.view(), desc}}, nullptr, n, ks);
  }
}

// Small k over many rows: a threshold from a strided sample (every
// n / samples-th row; 16 rows apart here for k <= 256), then one pass that
// keeps the rows at or past it. Adversarial samples: the sampled rows hold
// the best keys (a tight threshold, about as many survivors as samples) or
// the worst (a loose one: every row survives, the radix path takes over);
// all-equal keys and many ties at the threshold; nulls, NaN, -0.0 and
// infinities (specials); row lists.
TEST_P(TopKTest, ThresholdFromASample) {
  const int64_t n = 262144;  // 8 x 16384 samples: the smallest n that filters
  const int64_t stride = 16;
  std::mt19937_64 rng(23);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> best_sampled(n), worst_sampled(n), ties(n), equal(n, 2.5);
  for (int64_t i = 0; i < n; ++i) {
    const double r = u(rng);
    best_sampled[i] = i % stride == 0 ? 2.0 + r : r;
    worst_sampled[i] = i % stride == 0 ? -1.0 - r : r;
    // A few best values, each shared by many rows, below them a spread.
    ties[i] = rng() % 64 == 0 ? static_cast<double>(rng() % 3) + 10.0 : r;
  }
  const std::vector<int64_t> ks = {1, 2, 10, 100, 255, 256, 2048, 8192};
  for (const std::vector<double>* v : {&best_sampled, &worst_sampled, &ties, &equal}) {
    const Column c = Dev(Numbers<double>(*v));
    for (bool desc : {false, true}) {
      SCOPED_TRACE(testing::Message() << "case " << (v - &best_sampled) << (desc ? ", descending" : ", ascending"));
      Check({{c.view(), desc}}, nullptr, n, ks);
    }
  }
  // Every type with specials and nulls; both directions.
  for (PhysType type : kAllTypes) {
    for (int64_t distinct : {int64_t{2}, int64_t{0}}) {
      const HostColumn h = Draw(type, n, distinct, 41 + distinct + static_cast<int>(type), 0.1);
      const Column c = Dev(h);
      for (bool desc : {false, true}) {
        SCOPED_TRACE(testing::Message() << TypeName(type) << ", distinct " << distinct
                                        << (desc ? ", descending" : ", ascending"));
        Check({{c.view(), desc}}, nullptr, n, {1, 10, 256});
      }
    }
  }
  // Without nulls (float64 and int64 read directly).
  for (PhysType type : {PhysType::kFloat64, PhysType::kInt64}) {
    const Column c = Dev(Draw(type, n, 0, 51 + static_cast<int>(type), 0.0));
    for (bool desc : {false, true}) {
      SCOPED_TRACE(testing::Message() << TypeName(type) << ", no nulls" << (desc ? ", descending" : ", ascending"));
      Check({{c.view(), desc}}, nullptr, n, {1, 10, 256});
    }
  }
  // Two keys (ties of the first broken by the second), and a row list in
  // any order (ties in its order).
  const HostColumn a = Draw(PhysType::kInt16, n, 5, 61, 0.1), b = Draw(PhysType::kFloat64, n, 0, 62, 0.1);
  const Column ca = Dev(a), cb = Dev(b);
  Check({{ca.view(), true}, {cb.view(), false}}, nullptr, n, {1, 10, 256});
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i) {
    if (rng() % 5 != 0) rows.push_back(i);
  }
  for (int64_t i = 0; i < 4; ++i) rows.push_back(static_cast<int64_t>(rng() % n));  // repeated rows
  std::shuffle(rows.begin(), rows.end(), rng);
  const int64_t m = static_cast<int64_t>(rows.size());
  Check({{cb.view(), true}}, &rows, m, {1, 10, 100});
  Check({{ca.view(), false}}, &rows, m, {1, 10, 100});
}

// SQL's ORDER BY x DESC LIMIT k over a group-by's result: "(x is null)"
// first (zero in every row), x nullable without a null, then the group key.
// Words the same in every row are left out of the selection; a column
// constant but for one row the sample misses still orders that row; every
// key constant leaves the rows in input order.
TEST_P(TopKTest, KeysTheSameInEveryRow) {
  for (int64_t n : {int64_t{3001}, int64_t{262144}}) {
    std::mt19937_64 rng(31);
    std::uniform_real_distribution<double> u(0, 1);
    std::vector<int64_t> zero(n, 0), almost(n, 0);
    std::vector<double> x(n);
    std::vector<int32_t> key(n);
    for (int64_t i = 0; i < n; ++i) {
      x[i] = u(rng);
      key[i] = static_cast<int32_t>(n - i);
    }
    almost[n - 3] = -1;  // off the sample's stride: only the full pass sees it
    const std::vector<uint8_t> valid(n, 1);
    const Column is_null = Dev(Numbers<int64_t>(zero, valid)), cx = Dev(Numbers<double>(x, valid)),
                 ck = Dev(Numbers<int32_t>(key, valid)), ca = Dev(Numbers<int64_t>(almost));
    SCOPED_TRACE(testing::Message() << "rows " << n);
    Check({{is_null.view(), true}, {cx.view(), true}, {ck.view(), false}}, nullptr, n, {1, 5, 10, 256});
    Check({{ca.view(), false}, {cx.view(), true}}, nullptr, n, {1, 5, 10});
    Check({{is_null.view(), false}}, nullptr, n, {1, 5, 300});
    std::vector<int64_t> rows;
    for (int64_t i = n - 1; i >= 0; i -= 3) rows.push_back(i);
    Check({{is_null.view(), true}, {cx.view(), true}}, &rows, static_cast<int64_t>(rows.size()), {1, 7});
    Check({{is_null.view(), true}}, &rows, static_cast<int64_t>(rows.size()), {1, 7});
  }
}

TEST_P(TopKTest, RejectsNegativeK) {
  const Column c = Dev(Numbers<int32_t>({3, 1, 2}));
  EXPECT_THROW(TopKOrder({{c.view(), false}}, nullptr, 3, -1, exec_), std::invalid_argument);
}

}  // namespace
}  // namespace kernels
