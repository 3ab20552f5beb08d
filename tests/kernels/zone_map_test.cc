// Zone maps (zone_map.h) on every backend of this binary: each zone's bounds
// are the order images of its smallest and largest value (NaN above +inf,
// -0.0 equal to 0.0) and its counts of values and nulls; extending a map
// over appended rows gives the map built whole; and top-k over the zones
// TopKZones keeps gives exactly the first rows of the whole order.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/detail/row_values.h"
#include "kernels/expr_program.h"
#include "kernels/filter.h"
#include "kernels/memory.h"
#include "kernels/sort.h"
#include "kernels/zone_map.h"
#include "tests/kernels/kernels_test_util.h"

namespace kernels {
namespace {

using namespace test;  // NOLINT

const PhysType kNumericTypes[] = {PhysType::kInt8,  PhysType::kInt16,   PhysType::kInt32,
                                  PhysType::kInt64, PhysType::kFloat32, PhysType::kFloat64};

// Some float rows made NaN, -0.0 or an infinity (integers unchanged).
void AddSpecials(HostColumn* h, uint64_t seed) {
  if (h->type != PhysType::kFloat32 && h->type != PhysType::kFloat64) return;
  std::mt19937_64 rng(seed);
  for (std::string& row : h->rows) {
    if (rng() % 97 != 0) continue;
    const double specials[] = {std::numeric_limits<double>::quiet_NaN(), -0.0, std::numeric_limits<double>::infinity(),
                               -std::numeric_limits<double>::infinity()};
    const double v = specials[rng() % 4];
    row = h->type == PhysType::kFloat32 ? BytesOf(static_cast<float>(v)) : BytesOf(v);
  }
}

// Row i's order image, as the sort has it.
uint64_t Bits(const HostColumn& h, int64_t i) {
  ColumnView v;
  v.type = h.type;
  v.size = 1;
  v.data = h.rows[static_cast<size_t>(i)].data();
  return detail::OrderBits(v, 0, 0, 0);
}

// Whether row a's value comes before row b's ascending (NaN last).
bool Before(const HostColumn& h, int64_t a, int64_t b) {
  if (h.type == PhysType::kFloat32 || h.type == PhysType::kFloat64) {
    const double x = AsDouble(h, a), y = AsDouble(h, b);
    if (std::isnan(x) || std::isnan(y)) return !std::isnan(x) && std::isnan(y);
    return x < y;
  }
  if (h.type == PhysType::kInt64) return ValueAt<int64_t>(h, a) < ValueAt<int64_t>(h, b);
  return AsDouble(h, a) < AsDouble(h, b);
}

void ExpectZonesOf(const HostColumn& h, const ZoneMap& map) {
  const int64_t n = h.size();
  ASSERT_EQ(map.rows, n);
  ASSERT_EQ(static_cast<int64_t>(map.zones.size()), (n + kZoneRows - 1) / kZoneRows);
  for (size_t z = 0; z < map.zones.size(); ++z) {
    SCOPED_TRACE(testing::Message() << "zone " << z);
    const int64_t begin = static_cast<int64_t>(z) * kZoneRows, end = std::min(begin + kZoneRows, n);
    int64_t lo = -1, hi = -1, values = 0;
    for (int64_t r = begin; r < end; ++r) {
      if (!h.valid(r)) continue;
      ++values;
      if (lo < 0 || Before(h, r, lo)) lo = r;
      if (hi < 0 || Before(h, hi, r)) hi = r;
    }
    const Zone& got = map.zones[z];
    EXPECT_EQ(got.values, values);
    EXPECT_EQ(got.nulls, end - begin - values);
    if (values > 0) {
      EXPECT_EQ(got.lo, Bits(h, lo));
      EXPECT_EQ(got.hi, Bits(h, hi));
    } else {
      EXPECT_GT(got.lo, got.hi);
    }
  }
}

class ZoneMapTest : public BackendTest {};
INSTANTIATE_FOR_BACKENDS(ZoneMapTest);

TEST_P(ZoneMapTest, BoundsAreEachZonesSmallestAndLargestValue) {
  for (PhysType type : kNumericTypes) {
    for (bool nulls : {false, true}) {
      for (int64_t n : {int64_t{0}, int64_t{1}, kZoneRows - 1, kZoneRows, kZoneRows + 1, 3 * kZoneRows + 17}) {
        SCOPED_TRACE(testing::Message() << TypeName(type) << (nulls ? ", nulls" : "") << ", rows " << n);
        HostColumn h = Sample(type, n, 11 + n, nulls);
        AddSpecials(&h, n);
        // A zone of nulls only.
        if (nulls && n > kZoneRows) {
          for (int64_t r = kZoneRows; r < 2 * kZoneRows; ++r) h.validity[static_cast<size_t>(r)] = 0;
        }
        const Column c = Dev(h);
        ZoneMap map;
        ExtendZoneMap(c.view(), &map, exec_);
        ExpectZonesOf(h, map);
        // An integer column's least and greatest value over all zones.
        int64_t lo = 0, hi = 0;
        const bool bounded = ZoneMapIntBounds(map, &lo, &hi);
        if (type == PhysType::kFloat32 || type == PhysType::kFloat64) {
          EXPECT_FALSE(bounded);
          continue;
        }
        std::vector<int64_t> values;
        for (int64_t r = 0; r < n; ++r) {
          if (!h.valid(r)) continue;
          values.push_back(type == PhysType::kInt64 ? ValueAt<int64_t>(h, r) : static_cast<int64_t>(AsDouble(h, r)));
        }
        ASSERT_EQ(bounded, !values.empty());
        if (bounded) {
          EXPECT_EQ(lo, *std::min_element(values.begin(), values.end()));
          EXPECT_EQ(hi, *std::max_element(values.begin(), values.end()));
        }
      }
    }
  }
  // Extremes of each width keep their sign.
  const HostColumn extremes = Numbers<int32_t>({std::numeric_limits<int32_t>::min(), -1, 0, 7});
  const Column ce = Dev(extremes);
  ZoneMap map;
  ExtendZoneMap(ce.view(), &map, exec_);
  int64_t lo = 0, hi = 0;
  ASSERT_TRUE(ZoneMapIntBounds(map, &lo, &hi));
  EXPECT_EQ(lo, std::numeric_limits<int32_t>::min());
  EXPECT_EQ(hi, 7);
  EXPECT_FALSE(HasZoneMap(PhysType::kVarChars));
  EXPECT_FALSE(HasZoneMap(PhysType::kFixedChars));
}

TEST_P(ZoneMapTest, ExtendingOverAppendedRowsEqualsBuildingWhole) {
  const int64_t n = 5 * kZoneRows + 100;
  for (PhysType type : {PhysType::kInt32, PhysType::kFloat64}) {
    HostColumn h = Sample(type, n, 3, true);
    AddSpecials(&h, 4);
    const Column c = Dev(h);
    for (int64_t step : {int64_t{1000}, kZoneRows, int64_t{7777}}) {
      SCOPED_TRACE(testing::Message() << TypeName(type) << ", " << step << " rows at a time");
      ZoneMap map;
      for (int64_t m = std::min(step, n);; m = std::min(n, m + step)) {
        ExtendZoneMap(SliceRows(c.view(), 0, m), &map, exec_);
        if (m == n) break;
      }
      ExpectZonesOf(h, map);
    }
  }
}

// Values that rise with the row (clustered: zones differ), fall, are all
// equal, or are random; some null; shape 4 rises, with half the zones
// (from the third on) null throughout.
HostColumn Shaped(int shape, int64_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> values;
  std::vector<uint8_t> valid;
  for (int64_t i = 0; i < n; ++i) {
    const double noise = static_cast<double>(rng() % 512);
    switch (shape) {
      case 0:
      case 4:
        values.push_back(static_cast<double>(i) + noise);
        break;
      case 1:
        values.push_back(static_cast<double>(n - i) + noise);
        break;
      case 2:
        values.push_back(5.0);
        break;
      default:
        values.push_back(static_cast<double>(rng() % 100000) / 8.0);
        break;
    }
    const bool null_zone = shape == 4 && i >= 2 * kZoneRows && i < (2 + n / kZoneRows / 2) * kZoneRows;
    valid.push_back(rng() % 20 != 0 && !null_zone ? 1 : 0);
  }
  return Numbers(values, valid);
}

TEST_P(ZoneMapTest, TopKOverTheKeptZonesIsTheTopKOfAll) {
  const int64_t n = 40 * kZoneRows + 333;
  for (int shape = 0; shape < 5; ++shape) {
    const HostColumn h = Shaped(shape, n, 20 + shape);
    const Column c = Dev(h);
    ZoneMap map;
    ExtendZoneMap(c.view(), &map, exec_);
    // A second key for ties, and a null flag (1: null) that puts nulls
    // where the sort's own order does not (as SQL's NULLS FIRST/LAST).
    const Column second = Dev(Sample(PhysType::kInt16, n, 9, false));
    std::vector<int8_t> flags;
    for (int64_t r = 0; r < n; ++r) flags.push_back(h.valid(r) ? 0 : 1);
    const Column null_flag = Dev(Numbers(flags));
    for (bool desc : {true, false}) {
      for (bool nulls_first : {!desc, desc}) {
        std::vector<SortKey> keys;
        if (nulls_first == desc) keys.push_back({null_flag.view(), nulls_first});
        keys.push_back({c.view(), desc});
        for (int64_t k : {int64_t{1}, int64_t{10}, int64_t{17}, int64_t{40}, int64_t{41}}) {
          SCOPED_TRACE(testing::Message() << "shape " << shape << (desc ? ", descending" : ", ascending")
                                          << (nulls_first ? ", nulls first" : ", nulls last") << ", k " << k);
          RankBound bound;
          const std::vector<int64_t> zones = TopKZones(map, desc, nulls_first, k, &bound);
          if (k > static_cast<int64_t>(map.zones.size())) {
            EXPECT_TRUE(zones.empty());
            continue;
          }
          // Rising or falling values, nulls last: few zones are read. (With
          // nulls first, every zone with a null holds a first row.)
          if ((shape < 2 || shape == 4) && !nulls_first && k <= 17) {
            EXPECT_FALSE(zones.empty());
            EXPECT_LE(static_cast<int64_t>(zones.size()), k + 1);
          }
          if (zones.empty()) continue;
          for (size_t i = 1; i < zones.size(); ++i) EXPECT_LT(zones[i - 1], zones[i]);
          // The rows of those zones up to the bound, as a plain loop finds them.
          std::vector<int64_t> want;
          for (int64_t z : zones) {
            for (int64_t r = z * kZoneRows; r < std::min((z + 1) * kZoneRows, n); ++r) {
              if (RankAtMost(bound, h.valid(r), h.valid(r) ? Bits(h, r) : 0)) want.push_back(r);
            }
          }
          int64_t count = 0;
          const Buffer rows = ZoneRowsAtMost(c.view(), zones, bound, &count, exec_);
          ASSERT_GE(count, k);
          ASSERT_EQ(FromDevice<int64_t>(rows.data(), count, exec_), want);
          for (bool tiebreak : {false, true}) {
            std::vector<SortKey> all_keys = keys;
            if (tiebreak) all_keys.push_back({second.view(), !desc});
            const Buffer all = TopKOrder(all_keys, nullptr, n, k, exec_);
            const Buffer kept = TopKOrder(all_keys, rows.as<int64_t>(), count, k, exec_);
            EXPECT_EQ(FromDevice<int64_t>(kept.data(), k, exec_), FromDevice<int64_t>(all.data(), k, exec_));
          }
        }
      }
    }
  }
}

// Row i of an integer column as an int64.
int64_t ValueAt64(const HostColumn& h, int64_t i) {
  return h.type == PhysType::kInt64 ? ValueAt<int64_t>(h, i) : static_cast<int64_t>(AsDouble(h, i));
}

// Values rising with the row over most of `type`'s range (zones differ),
// about one row in 7 null, one whole zone null, floats with a few NaN, -0.0
// and infinities.
HostColumn Rising(PhysType type, int64_t n) {
  HostColumn h;
  h.type = type;
  std::mt19937_64 rng(static_cast<uint64_t>(type) + 1);
  for (int64_t i = 0; i < n; ++i) {
    const double f = static_cast<double>(i) / static_cast<double>(n);  // [0, 1)
    switch (type) {
      case PhysType::kInt8:
        h.rows.push_back(BytesOf(static_cast<int8_t>(f * 250 - 125)));
        break;
      case PhysType::kInt16:
        h.rows.push_back(BytesOf(static_cast<int16_t>(f * 60000 - 30000)));
        break;
      case PhysType::kInt32:
        h.rows.push_back(BytesOf(static_cast<int32_t>(f * 4e9 - 2e9)));
        break;
      case PhysType::kInt64:
        h.rows.push_back(BytesOf(static_cast<int64_t>(f * 1.8e19 - 9e18)));
        break;
      case PhysType::kFloat32:
        h.rows.push_back(BytesOf(static_cast<float>(f * 2000 - 1000)));
        break;
      default:
        h.rows.push_back(BytesOf(f * 2000 - 1000));
        break;
    }
    h.validity.push_back(rng() % 7 != 0 && (i < 2 * kZoneRows || i >= 3 * kZoneRows) ? 1 : 0);
  }
  AddSpecials(&h, 5);
  return h;
}

// For each numeric type and tests of each kind (ranges, negated, between,
// null tests, conjunctions, an integer column compared as a float): no row
// of a kNone zone passes, every row of a kAll zone does, and both occur.
TEST_P(ZoneMapTest, PlanVerdictsAgreeWithTheRowsOfEachZone) {
  const int64_t n = 20 * kZoneRows + 100;
  for (PhysType type : kNumericTypes) {
    const HostColumn h = Rising(type, n);
    const Column c = Dev(h);
    ZoneMap map;
    ExtendZoneMap(c.view(), &map, exec_);
    // Constants a quarter and three quarters along the values.
    const int64_t a = type == PhysType::kInt8    ? -60
                      : type == PhysType::kInt16 ? -15000
                      : type == PhysType::kInt32 ? -1000000000
                      : type == PhysType::kInt64 ? -4500000000000000000
                                                 : -500;
    const int64_t b = -a;
    const bool is_float = type == PhysType::kFloat32 || type == PhysType::kFloat64;
    ProgramBuilder pb({c.view()});
    const Op cmp = is_float ? Op::kCmpF : Op::kCmpI;
    const auto konst = [&](int64_t v) { return is_float ? pb.Float(static_cast<double>(v)) : pb.Int(v); };
    Code between{{Instr{Op::kColumn, 0}}};
    between.instrs.push_back(konst(a).instrs[0]);
    between.instrs.push_back(konst(b).instrs[0]);
    between.instrs.push_back(Instr{is_float ? Op::kBetweenF : Op::kBetweenI, 0});
    std::vector<std::pair<std::string, Code>> tests = {
        {"x > b", Compare(cmp, Cmp::kGt, pb.Col(0), konst(b))},
        {"x <= a", Compare(cmp, Cmp::kLe, pb.Col(0), konst(a))},
        {"not x < b", Not(Compare(cmp, Cmp::kLt, pb.Col(0), konst(b)))},
        {"x != a", Compare(cmp, Cmp::kNe, pb.Col(0), konst(a))},
        {"x between a and b", between},
        {"x >= a and x < b",
         And(Compare(cmp, Cmp::kGe, pb.Col(0), konst(a)), Compare(cmp, Cmp::kLt, pb.Col(0), konst(b)))},
        {"x is null", IsNull(pb.Col(0))},
        {"x is not null", Not(IsNull(pb.Col(0)))},
        {"x > b and x is null", And(Compare(cmp, Cmp::kGt, pb.Col(0), konst(b)), IsNull(pb.Col(0)))},
    };
    // Constants equal to a zone's largest finite value: that zone holds a
    // row of x >= m and of x <= m.
    int64_t im = std::numeric_limits<int64_t>::min();
    double fm = -std::numeric_limits<double>::infinity();
    for (int64_t r = 5 * kZoneRows; r < 6 * kZoneRows; ++r) {
      if (!h.valid(r)) continue;
      if (is_float && std::isfinite(AsDouble(h, r))) fm = std::max(fm, AsDouble(h, r));
      if (!is_float) im = std::max(im, ValueAt64(h, r));
    }
    const Code m = is_float ? pb.Float(fm) : pb.Int(im);
    tests.push_back({"x >= m", Compare(cmp, Cmp::kGe, pb.Col(0), m)});
    tests.push_back({"x <= m", Compare(cmp, Cmp::kLe, pb.Col(0), m)});
    if (!is_float) {
      tests.push_back({"float(x) >= b + 0.5", Compare(Op::kCmpF, Cmp::kGe, Unary(Op::kIntToFloat, pb.Col(0)),
                                                      pb.Float(static_cast<double>(b) + 0.5))});
    }
    for (const auto& [text, code] : tests) {
      SCOPED_TRACE(testing::Message() << TypeName(type) << ": " << text);
      const Program program = pb.Build(code);
      const ScanPlan plan = CompileScanPlan(program);
      ASSERT_EQ(plan.kind, PlanKind::kPredicate);
      const std::vector<const ZoneMap*> maps(static_cast<size_t>(plan.terms), &map);
      const std::vector<ZoneVerdict> verdicts = PlanZoneVerdicts(plan, maps, n);
      ASSERT_EQ(verdicts.size(), map.zones.size());
      const DeviceProgram device = Upload(program, exec_);
      int none = 0, all = 0;
      for (size_t z = 0; z < verdicts.size(); ++z) {
        const int64_t begin = static_cast<int64_t>(z) * kZoneRows, end = std::min(begin + kZoneRows, n);
        const int64_t passing = Count(device.view, begin, end, exec_);
        if (verdicts[z] == ZoneVerdict::kNone) {
          ++none;
          EXPECT_EQ(passing, 0) << "zone " << z;
        } else if (verdicts[z] == ZoneVerdict::kAll) {
          ++all;
          EXPECT_EQ(passing, end - begin) << "zone " << z;
        }
      }
      // Every test leaves whole zones out, except "x is null" (a null in
      // every zone), which takes the zone of nulls whole.
      if (text == "x is null") {
        EXPECT_EQ(none, 0);
        EXPECT_EQ(all, 1);
      } else {
        EXPECT_GT(none, 0);
      }
      // Unknown bounds: every zone may hold some.
      const std::vector<const ZoneMap*> unknown(static_cast<size_t>(plan.terms), nullptr);
      for (ZoneVerdict v : PlanZoneVerdicts(plan, unknown, n)) EXPECT_EQ(v, ZoneVerdict::kSome);
    }
  }
}

}  // namespace
}  // namespace kernels
