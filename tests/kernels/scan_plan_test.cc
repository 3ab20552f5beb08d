// Scan plans (kernels/scan_plan.h): which programs get one, and that filters
// and statistics run through a plan (host: by blocks of rows; CUDA: row by
// row) agree with the same program on the stack machine, at block
// boundaries, with nulls, for every numeric type and edge constants.

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "kernels/detail/scan_blocks.h"
#include "kernels/scan_plan.h"
#include "tests/kernels/kernels_test_util.h"

namespace kernels {
namespace test {
namespace {

using detail::kScanBlock;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const PhysType kNumericTypes[] = {PhysType::kInt8,  PhysType::kInt16,   PhysType::kInt32,
                                  PhysType::kInt64, PhysType::kFloat32, PhysType::kFloat64};

bool IsFloat(PhysType t) { return t == PhysType::kFloat32 || t == PhysType::kFloat64; }

const int64_t kSizes[] = {0, 1, kScanBlock - 1, kScanBlock, kScanBlock + 1, 3 * kScanBlock + 17, 100003};

PlanKind KindOf(const Program& p) { return CompileScanPlan(p).kind; }

// ---------------------------------------------------------------------------
// Which programs get a plan.

TEST(ScanPlanCompileTest, RecognisesConjunctionsOfSimpleTerms) {
  ColumnView i32{PhysType::kInt32, 0, 10, nullptr, nullptr, nullptr};
  ColumnView f64{PhysType::kFloat64, 0, 10, nullptr, nullptr, nullptr};
  ColumnView str{PhysType::kVarChars, 0, 10, nullptr, nullptr, nullptr};
  ProgramBuilder b({i32, f64, str});
  const Code gt = Compare(Op::kCmpI, Cmp::kGt, b.Col(0), b.Int(5));
  const Code lt = Compare(Op::kCmpF, Cmp::kLt, b.Col(1), b.Float(0.5));
  EXPECT_EQ(KindOf(b.Build(gt)), PlanKind::kPredicate);
  EXPECT_EQ(KindOf(b.Build(Compare(Op::kCmpI, Cmp::kGt, b.Int(5), b.Col(0)))), PlanKind::kPredicate);
  EXPECT_EQ(KindOf(b.Build(And(gt, lt))), PlanKind::kPredicate);
  EXPECT_EQ(KindOf(b.Build(And(And(gt, lt), Not(IsNull(b.Col(2)))))), PlanKind::kPredicate);
  EXPECT_EQ(KindOf(b.Build(Not(gt))), PlanKind::kPredicate);
  EXPECT_EQ(KindOf(b.Build(Unary(Op::kTruthI, b.Col(0)))), PlanKind::kPredicate);
  // x lo hi between.
  Code bt{{Instr{Op::kColumn, 0}}};
  bt.instrs.push_back(b.Int(1).instrs[0]);
  bt.instrs.push_back(b.Int(9).instrs[0]);
  bt.instrs.push_back(Instr{Op::kBetweenI, 0});
  EXPECT_EQ(KindOf(b.Build(bt)), PlanKind::kPredicate);
  EXPECT_EQ(KindOf(b.Build(Compare(Op::kCmpF, Cmp::kGe, Unary(Op::kIntToFloat, b.Col(0)), b.Float(2.5)))),
            PlanKind::kPredicate);

  // Other shapes run on the stack machine.
  EXPECT_EQ(KindOf(b.Build(Or(gt, lt))), PlanKind::kNone);
  EXPECT_EQ(KindOf(b.Build(Not(And(gt, lt)))), PlanKind::kNone);
  EXPECT_EQ(KindOf(b.Build(Compare(Op::kCmpS, Cmp::kEq, b.Col(2), b.Str("x")))), PlanKind::kNone);  // a varchar
  EXPECT_EQ(KindOf(b.Build(Compare(Op::kCmpI, Cmp::kGt, Binary(Op::kAddI, b.Col(0), b.Int(1)), b.Int(5)))),
            PlanKind::kNone);
  EXPECT_EQ(KindOf(b.Build(Compare(Op::kCmpI, Cmp::kGt, b.Col(0), b.Null()))), PlanKind::kNone);
  // Two columns of one type (kColumns terms; see ColumnComparisonsMatchTheStackMachine).
  EXPECT_EQ(KindOf(b.Build(Compare(Op::kCmpI, Cmp::kGt, b.Col(0), b.Col(0)))), PlanKind::kPredicate);
  // A float comparison of an unconverted int column is not well typed.
  EXPECT_EQ(KindOf(b.Build(Compare(Op::kCmpF, Cmp::kGt, b.Col(0), b.Float(1)))), PlanKind::kNone);
  Code many = gt;
  for (int k = 1; k < kMaxPlanTerms; ++k) many = And(many, gt);
  EXPECT_EQ(KindOf(b.Build(many)), PlanKind::kPredicate);
  EXPECT_EQ(KindOf(b.Build(And(many, gt))), PlanKind::kNone);  // one term too many

  // Values: one numeric column read as a float.
  EXPECT_EQ(KindOf(b.Build(b.Col(1), ValueKind::kFloat)), PlanKind::kValue);
  EXPECT_EQ(KindOf(b.Build(Unary(Op::kIntToFloat, b.Col(0)), ValueKind::kFloat)), PlanKind::kValue);
  EXPECT_EQ(KindOf(b.Build(Binary(Op::kMulF, b.Col(1), b.Col(1)), ValueKind::kFloat)), PlanKind::kNone);
  EXPECT_EQ(KindOf(b.Build(b.Col(0), ValueKind::kInt)), PlanKind::kNone);
}

// ---------------------------------------------------------------------------
// Plans against the stack machine.

class ScanPlanTest : public BackendTest {
 protected:
  // The program's upload with its plan, and the same memory without it.
  struct Both {
    DeviceProgram device;
    ProgramView vm;
  };
  Both UploadBoth(const Program& p) {
    Both b;
    b.device = Upload(p, exec_);
    b.vm = b.device.view;
    b.vm.plan = nullptr;
    b.vm.plan_kind = PlanKind::kNone;
    return b;
  }

  std::vector<uint8_t> MaskOf(const ProgramView& v, int64_t begin, int64_t end) {
    if (end <= begin) return {};
    Buffer mask(static_cast<size_t>(end - begin), exec_);
    EvaluateMask(v, begin, end, mask.as<uint8_t>(), exec_);
    return FromDevice<uint8_t>(mask.data(), end - begin, exec_);
  }

  std::vector<int64_t> SelectOf(const ProgramView& v, int64_t begin, int64_t end) {
    const Selection s = Select(v, begin, end, exec_);
    return FromDevice<int64_t>(s.indices.data(), s.count, exec_);
  }

  // Count, mask and selection of `p` through its plan equal the stack
  // machine's, over the whole column and over an unaligned sub-range.
  void ExpectSameAsVm(const Program& p, int64_t n, const std::string& what) {
    SCOPED_TRACE(what);
    Both b = UploadBoth(p);
    ASSERT_EQ(b.device.view.plan_kind, PlanKind::kPredicate);
    std::vector<std::pair<int64_t, int64_t>> ranges = {{0, n}};
    if (n > 2) ranges.push_back({n / 3 + 1, n - 1});
    for (const auto& [begin, end] : ranges) {
      SCOPED_TRACE(testing::Message() << "rows [" << begin << ", " << end << ")");
      const int64_t expected = Count(b.vm, begin, end, exec_);
      EXPECT_EQ(Count(b.device.view, begin, end, exec_), expected);
      EXPECT_EQ(MaskOf(b.device.view, begin, end), MaskOf(b.vm, begin, end));
      EXPECT_EQ(SelectOf(b.device.view, begin, end), SelectOf(b.vm, begin, end));
      if (GetParam() == Backend::kHost) {
        // The row-at-a-time path (CUDA's), run here on host memory.
        const ScanPlan plan = CompileScanPlan(p);
        int64_t rows = 0;
        for (int64_t r = begin; r < end; ++r) rows += PlanPredicateRow(plan, r) ? 1 : 0;
        EXPECT_EQ(rows, expected);
      }
    }
  }
};
INSTANTIATE_FOR_BACKENDS(ScanPlanTest);

// A sample column with NaN, infinities and signed zeros among float values.
HostColumn SampleWithSpecials(PhysType type, int64_t n, uint64_t seed, bool with_nulls) {
  HostColumn h = Sample(type, n, seed, with_nulls);
  if (!IsFloat(type)) return h;
  const double specials[] = {kNaN, kInf, -kInf, 0.0, -0.0, 1.0};
  for (int64_t i = 0; i < n; i += 7) {
    const double v = specials[(i / 7) % 6];
    h.rows[i] = type == PhysType::kFloat32 ? BytesOf(static_cast<float>(v)) : BytesOf(v);
  }
  return h;
}

int64_t AsInt(const HostColumn& h, int64_t i) {
  switch (h.type) {
    case PhysType::kInt8: return ValueAt<int8_t>(h, i);
    case PhysType::kInt16: return ValueAt<int16_t>(h, i);
    case PhysType::kInt32: return ValueAt<int32_t>(h, i);
    default: return ValueAt<int64_t>(h, i);
  }
}

// Every comparison and edge constant at one size of several blocks and a
// tail; at the other sizes (block boundaries, 0, 1, large) a few of them.
TEST_P(ScanPlanTest, ComparisonsMatchTheStackMachine) {
  const int64_t kFullSize = 2 * kScanBlock + 5;
  std::vector<int64_t> sizes(std::begin(kSizes), std::end(kSizes));
  sizes.push_back(kFullSize);
  for (PhysType type : kNumericTypes) {
    for (bool nulls : {false, true}) {
      for (int64_t n : sizes) {
        const bool full = n == kFullSize;
        const std::vector<Cmp> cmps =
            full ? std::vector<Cmp>(std::begin(kAllCmps), std::end(kAllCmps)) : std::vector<Cmp>{Cmp::kGt, Cmp::kNe};
        SCOPED_TRACE(testing::Message() << TypeName(type) << (nulls ? " with nulls, " : ", ") << n << " rows");
        const HostColumn h = SampleWithSpecials(type, n, 17 + n, nulls);
        const Column col = Dev(h);
        const Column other = Dev(Sample(PhysType::kInt32, n, 99 + n, true));
        ProgramBuilder b({col.view(), other.view()});
        const Code third = Compare(Op::kCmpI, Cmp::kNe, b.Col(1), b.Int(0));
        if (IsFloat(type)) {
          std::vector<double> ks = {0.0, -0.0, 0.5, 1.0, 100.25, -100.5, kInf, -kInf, kNaN, 1e300, -1e300};
          if (n > 0) ks.push_back(AsDouble(h, n / 2));
          if (!full) ks = {0.5, kNaN};
          for (double k : ks) {
            for (Cmp cmp : cmps) {
              const std::string what = std::string("x ") + CmpName(cmp) + " " + std::to_string(k);
              ExpectSameAsVm(b.Build(Compare(Op::kCmpF, cmp, b.Col(0), b.Float(k))), n, what);
              ExpectSameAsVm(b.Build(Not(Compare(Op::kCmpF, cmp, b.Float(k), b.Col(0)))), n, "not k op x: " + what);
            }
          }
          ExpectSameAsVm(b.Build(Compare(Op::kCmpF, Cmp::kLe, b.Col(0), Unary(Op::kIntToFloat, b.Int(3)))), n,
                         "x <= float(3)");
          ExpectSameAsVm(b.Build(Unary(Op::kTruthF, b.Col(0))), n, "truth");
          Code bt = b.Col(0);
          bt.instrs.push_back(b.Float(-50.0).instrs[0]);
          bt.instrs.push_back(b.Float(kInf).instrs[0]);
          bt.instrs.push_back(Instr{Op::kBetweenF, 0});
          ExpectSameAsVm(b.Build(bt), n, "between");
          ExpectSameAsVm(b.Build(And(Not(bt), third)), n, "not between and third");
        } else {
          std::vector<int64_t> ks = {0, 1, -1, 127, -128, 128, -129, 32767, -32769, 2147483647, -2147483648LL,
                                     int64_t{1} << 40, kInt64Min, kInt64Max};
          if (n > 0) ks.push_back(AsInt(h, n / 2));
          if (!full) ks = {1, kInt64Max};
          for (int64_t k : ks) {
            for (Cmp cmp : cmps) {
              const std::string what = std::string("x ") + CmpName(cmp) + " " + std::to_string(k);
              ExpectSameAsVm(b.Build(Compare(Op::kCmpI, cmp, b.Col(0), b.Int(k))), n, what);
              ExpectSameAsVm(b.Build(And(Compare(Op::kCmpI, cmp, b.Int(k), b.Col(0)), third)), n,
                             "k op x and third: " + what);
            }
          }
          for (double k : {0.5, -0.5, 1e19, -1e19, kNaN}) {
            ExpectSameAsVm(
                b.Build(Compare(Op::kCmpF, Cmp::kGt, Unary(Op::kIntToFloat, b.Col(0)), b.Float(k))), n,
                "float(x) > " + std::to_string(k));
            ExpectSameAsVm(
                b.Build(Compare(Op::kCmpF, Cmp::kNe, Unary(Op::kIntToFloat, b.Col(0)), b.Float(k))), n,
                "float(x) != " + std::to_string(k));
          }
          ExpectSameAsVm(b.Build(Unary(Op::kTruthI, b.Col(0))), n, "truth");
          ExpectSameAsVm(b.Build(Not(Unary(Op::kTruthI, b.Col(0)))), n, "not truth");
          for (auto [lo, hi] : {std::pair<int64_t, int64_t>{-20, 20}, {5, -5}, {kInt64Min, 0}, {200, kInt64Max}}) {
            Code bt = b.Col(0);
            bt.instrs.push_back(b.Int(lo).instrs[0]);
            bt.instrs.push_back(b.Int(hi).instrs[0]);
            bt.instrs.push_back(Instr{Op::kBetweenI, 0});
            ExpectSameAsVm(b.Build(bt), n, "between " + std::to_string(lo) + " and " + std::to_string(hi));
            ExpectSameAsVm(b.Build(And(third, Not(bt))), n, "third and not between");
          }
        }
        ExpectSameAsVm(b.Build(IsNull(b.Col(0))), n, "is null");
        ExpectSameAsVm(b.Build(And(Not(IsNull(b.Col(0))), IsNull(b.Col(1)))), n, "is not null and is null");
      }
    }
  }
}

// Two columns of one type compared (kColumns terms): every comparison,
// either way round, negated and beside another term, with nulls on either
// side and (floats) NaN, infinities and signed zeros; columns of two types,
// or ints compared as doubles, get no such term.
TEST_P(ScanPlanTest, ColumnComparisonsMatchTheStackMachine) {
  for (PhysType type : kNumericTypes) {
    for (int64_t n : {int64_t{0}, int64_t{1}, kScanBlock + 1, 2 * kScanBlock + 5}) {
      SCOPED_TRACE(testing::Message() << TypeName(type) << ", " << n << " rows");
      // Few distinct values, so that equal pairs occur.
      HostColumn x = SampleWithSpecials(type, n, 31 + n, true), y = SampleWithSpecials(type, n, 37 + n, true);
      for (int64_t i = 0; i < n; i += 3) y.rows[i] = x.rows[i];
      const Column cx = Dev(x), cy = Dev(y);
      const Column other = Dev(Sample(PhysType::kInt32, n, 41 + n, true));
      ProgramBuilder b({cx.view(), cy.view(), other.view()});
      const Op op = IsFloat(type) ? Op::kCmpF : Op::kCmpI;
      const Code third = Compare(Op::kCmpI, Cmp::kNe, b.Col(2), b.Int(0));
      for (Cmp cmp : kAllCmps) {
        const std::string what = std::string("x ") + std::to_string(static_cast<int>(cmp)) + " y";
        ExpectSameAsVm(b.Build(Compare(op, cmp, b.Col(0), b.Col(1))), n, what);
        ExpectSameAsVm(b.Build(Not(Compare(op, cmp, b.Col(1), b.Col(0)))), n, "not y op x: " + what);
        ExpectSameAsVm(b.Build(And(third, Compare(op, cmp, b.Col(0), b.Col(1)))), n, "third and " + what);
      }
      if (!IsFloat(type)) {
        EXPECT_EQ(KindOf(b.Build(Compare(Op::kCmpF, Cmp::kLt, Unary(Op::kIntToFloat, b.Col(0)),
                                         Unary(Op::kIntToFloat, b.Col(1))))),
                  PlanKind::kNone);
        EXPECT_EQ(KindOf(b.Build(Compare(Op::kCmpI, Cmp::kLt, b.Col(0), b.Col(2)))),
                  type == PhysType::kInt32 ? PlanKind::kPredicate : PlanKind::kNone);
      }
    }
  }
}

// charN = 'k', <> 'k', in (...) and not in (...) through kChars terms, with
// nulls, short values, values that are another's prefix and constants that
// cannot match (too long: left to the stack machine).
TEST_P(ScanPlanTest, FixedCharsMatchTheStackMachine) {
  const std::vector<std::string> words = {"AIR", "AIR REG", "MAIL", "", "SHIP", "AI", "TRUCK", "RAIL"};
  for (int32_t width : {4, 8, 16, 32}) {
    for (int64_t n : {int64_t{0}, int64_t{1}, kScanBlock + 1, 3 * kScanBlock + 17}) {
      SCOPED_TRACE(testing::Message() << "char" << width << ", " << n << " rows");
      std::vector<std::string> values;
      std::vector<uint8_t> valid;
      for (int64_t i = 0; i < n; ++i) {
        std::string w = words[(i * 7 + i / 3) % words.size()];
        values.push_back(w.substr(0, width));
        valid.push_back(i % 11 == 0 ? 0 : 1);
      }
      const Column col = Dev(FixedChars(width, values, valid));
      const Column other = Dev(Sample(PhysType::kInt32, n, 5 + n, true));
      ProgramBuilder b({col.view(), other.view()});
      const Code third = Compare(Op::kCmpI, Cmp::kNe, b.Col(1), b.Int(0));
      for (const std::string& k : {std::string("AIR"), std::string("MAIL"), std::string(""), std::string("AI")}) {
        if (k.size() > static_cast<size_t>(width)) continue;
        ExpectSameAsVm(b.Build(Compare(Op::kCmpS, Cmp::kEq, b.Col(0), b.Str(k))), n, "x = " + k);
        ExpectSameAsVm(b.Build(Compare(Op::kCmpS, Cmp::kNe, b.Str(k), b.Col(0))), n, "k <> x: " + k);
        ExpectSameAsVm(b.Build(And(Not(Compare(Op::kCmpS, Cmp::kEq, b.Col(0), b.Str(k))), third)), n,
                       "not x = k and third: " + k);
      }
      Code in = b.Col(0);
      const int32_t first = b.Str("AIR").instrs[0].arg;
      b.Str(width >= 7 ? "AIR REG" : "RAIL");
      b.Str("SHIP");
      in.instrs.push_back(Instr{Op::kInS, first, 3});
      ExpectSameAsVm(b.Build(in), n, "x in (...)");
      ExpectSameAsVm(b.Build(And(third, Not(in))), n, "third and x not in (...)");
      // A constant longer than the column: no plan (the stack machine says no row).
      EXPECT_EQ(KindOf(b.Build(Compare(Op::kCmpS, Cmp::kEq, b.Col(0), b.Str(std::string(width + 1, 'A'))))),
                PlanKind::kNone);
    }
  }
}

// x in (k, k + 1, ..., k + m) of an int column runs as a range term (a
// dictionary's codes for neighbouring values, a `like 'ab%'`): for every int
// type, negated, beside another term, with nulls and bounds past the type's
// range; a list with a gap, or of a float column, is left to the stack
// machine.
TEST_P(ScanPlanTest, ConsecutiveIntInListsMatchTheStackMachine) {
  for (PhysType type : {PhysType::kInt8, PhysType::kInt16, PhysType::kInt32, PhysType::kInt64}) {
    for (int64_t n : {int64_t{0}, int64_t{1}, kScanBlock + 1, 3 * kScanBlock + 17}) {
      SCOPED_TRACE(testing::Message() << TypeName(type) << ", " << n << " rows");
      HostColumn x = Sample(type, n, 53 + n, true);
      for (int64_t i = 0; i < n; ++i) {  // small values, so that the lists match rows
        const int64_t v = (i * 7 + i / 5) % 12 - 3;
        switch (type) {
          case PhysType::kInt8:
            x.rows[i] = BytesOf(static_cast<int8_t>(v));
            break;
          case PhysType::kInt16:
            x.rows[i] = BytesOf(static_cast<int16_t>(v));
            break;
          case PhysType::kInt32:
            x.rows[i] = BytesOf(static_cast<int32_t>(v));
            break;
          default:
            x.rows[i] = BytesOf(v);
            break;
        }
      }
      const Column cx = Dev(x);
      const Column other = Dev(Sample(PhysType::kInt32, n, 59 + n, true));
      ProgramBuilder b({cx.view(), other.view()});
      const Code third = Compare(Op::kCmpI, Cmp::kNe, b.Col(1), b.Int(0));
      const std::vector<std::vector<int64_t>> lists = {
          {2}, {-1, 0, 1}, {3, 4, 5, 6}, {-200, -199}, {126, 127, 128, 129}, {std::numeric_limits<int64_t>::max()}};
      for (const std::vector<int64_t>& list : lists) {
        const std::string what = "x in [" + std::to_string(list.front()) + ", " + std::to_string(list.back()) + "]";
        ExpectSameAsVm(b.Build(b.In(b.Col(0), list)), n, what);
        ExpectSameAsVm(b.Build(And(third, Not(b.In(b.Col(0), list)))), n, "third and not " + what);
      }
      EXPECT_EQ(KindOf(b.Build(b.In(b.Col(0), std::vector<int64_t>{1, 3}))), PlanKind::kNone);
      EXPECT_EQ(KindOf(b.Build(b.In(b.Col(0), std::vector<int64_t>{std::numeric_limits<int64_t>::min(), 0}))),
                PlanKind::kNone);
    }
  }
}

// ---------------------------------------------------------------------------
// Statistics through a plan against the stack machine.

::testing::AssertionResult Close(double a, double e, double scale) {
  if (std::isnan(e)) {
    if (std::isnan(a)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << a << " is not NaN";
  }
  if (std::isinf(e)) {
    if (a == e) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << a << " != " << e;
  }
  if (std::fabs(a - e) <= 1e-9 * std::max({std::fabs(e), scale, 1e-300})) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << a << " vs " << e;
}

// Two passes in long double over the valid rows of [begin, end).
Moments TwoPass(const HostColumn& h, int64_t begin, int64_t end) {
  return TwoPassMoments(
      begin, end, [&](int64_t i) { return h.valid(i); }, [&](int64_t i) { return AsDouble(h, i); });
}

// Count, min and max as the stack machine's; sums and moments as a two-pass
// reference in long double.
TEST_P(ScanPlanTest, MomentsMatchTheStackMachine) {
  for (PhysType type : kNumericTypes) {
    for (bool nulls : {false, true}) {
      for (int64_t n : kSizes) {
        SCOPED_TRACE(testing::Message() << TypeName(type) << (nulls ? " with nulls, " : ", ") << n << " rows");
        HostColumn h = Sample(type, n, 5 + n, nulls);
        if (type == PhysType::kFloat64) {
          // Values near 1e6 with a spread of 1: a naive sum of squares fails here.
          for (int64_t i = 0; i < n; ++i) h.rows[i] = BytesOf(1e6 + AsDouble(h, i) / 1000.0);
        }
        const Column col = Dev(h);
        ProgramBuilder b({col.view()});
        const Program p = IsFloat(type) ? b.Build(b.Col(0), ValueKind::kFloat)
                                        : b.Build(Unary(Op::kIntToFloat, b.Col(0)), ValueKind::kFloat);
        Both both = UploadBoth(p);
        ASSERT_EQ(both.device.view.plan_kind, PlanKind::kValue);
        std::vector<std::pair<int64_t, int64_t>> ranges = {{0, n}};
        if (n > 2) ranges.push_back({n / 3 + 1, n - 1});
        for (const auto& [begin, end] : ranges) {
          SCOPED_TRACE(testing::Message() << "rows [" << begin << ", " << end << ")");
          const Moments a = ComputeMoments(both.device.view, begin, end, exec_);
          const Moments vm = ComputeMoments(both.vm, begin, end, exec_);
          const Moments e = TwoPass(h, begin, end);
          ASSERT_EQ(a.count, vm.count);
          ASSERT_EQ(a.count, e.count);
          if (e.count == 0) continue;
          EXPECT_EQ(a.min, vm.min);
          EXPECT_EQ(a.max, vm.max);
          EXPECT_EQ(a.min, e.min);
          EXPECT_EQ(a.max, e.max);
          const double magnitude = std::max(std::fabs(e.min), std::fabs(e.max));
          const double sigma = std::sqrt(e.m2 / static_cast<double>(e.count));
          const double cnt = static_cast<double>(e.count);
          EXPECT_TRUE(Close(a.sum, e.sum, magnitude * cnt)) << "sum";
          EXPECT_TRUE(Close(a.mean, e.mean, magnitude)) << "mean";
          EXPECT_TRUE(Close(a.m2, e.m2, 0)) << "m2";
          const double spread = std::max(sigma, magnitude * 1e-7);
          EXPECT_TRUE(Close(a.m3, e.m3, cnt * spread * spread * spread)) << "m3";
          EXPECT_TRUE(Close(a.m4, e.m4, cnt * spread * spread * spread * spread)) << "m4";
        }
      }
    }
  }
}

// A block holding an infinity or NaN gives what the row-at-a-time merge gives.
TEST_P(ScanPlanTest, MomentsWithInfinitiesAndNaN) {
  const int64_t n = 3 * kScanBlock + 5;
  for (double special : {kInf, -kInf, kNaN}) {
    SCOPED_TRACE(testing::Message() << special);
    std::vector<double> v(n);
    for (int64_t i = 0; i < n; ++i) v[i] = static_cast<double>(i % 100) / 8.0;
    v[kScanBlock + 3] = special;
    const Column col = Dev(Numbers(v));
    ProgramBuilder b({col.view()});
    Both both = UploadBoth(b.Build(b.Col(0), ValueKind::kFloat));
    const Moments a = ComputeMoments(both.device.view, 0, n, exec_);
    const Moments e = ComputeMoments(both.vm, 0, n, exec_);
    EXPECT_EQ(a.count, e.count);
    EXPECT_TRUE(Close(a.sum, e.sum, 0)) << "sum";
    EXPECT_TRUE(Close(a.mean, e.mean, 0)) << "mean";
    if (!std::isnan(special)) {
      EXPECT_EQ(a.min, e.min);
      EXPECT_EQ(a.max, e.max);
    }
    // The block without the special value is unaffected.
    const Moments first = ComputeMoments(both.device.view, 0, kScanBlock, exec_);
    EXPECT_TRUE(Close(first.mean, ComputeMoments(both.vm, 0, kScanBlock, exec_).mean, 10)) << "first block";
  }
}

}  // namespace
}  // namespace test
}  // namespace kernels
