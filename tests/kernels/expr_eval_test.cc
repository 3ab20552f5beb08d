// Tests of the expression evaluator (kernels/detail/expr_eval.h) with hand-assembled
// programs, on every backend of this binary: the host always, CUDA when a GPU
// is visible (skipped otherwise). Values are checked on the backend itself:
// each check is a program that compares the VM's result with an expected
// value, and Count / Select report the rows where they differ. The helpers in
// detail (like, date parts, rounding) are also checked directly on the host.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/detail/expr_eval.h"
#include "kernels/filter.h"
#include "kernels/memory.h"

namespace kernels {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// ---------------------------------------------------------------------------
// References, written the plain way.

// Whether s matches p: at[i][j] holds whether s[i..] matches p[j..].
bool RefLike(const std::string& s, const std::string& p) {
  std::vector<std::vector<bool>> at(s.size() + 1, std::vector<bool>(p.size() + 1, false));
  at[s.size()][p.size()] = true;
  for (size_t i = s.size() + 1; i-- > 0;) {
    for (size_t j = p.size(); j-- > 0;) {
      if (p[j] == '%') {
        at[i][j] = at[i][j + 1] || (i < s.size() && at[i + 1][j]);
      } else {
        at[i][j] = i < s.size() && (p[j] == '_' || p[j] == s[i]) && at[i + 1][j + 1];
      }
    }
  }
  return at[0][0];
}

std::string RefFold(std::string s, uint8_t fold) {
  for (char& c : s) {
    if (fold == kFoldLower && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (fold == kFoldUpper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
  }
  return s;
}

bool IsLeap(__int128 y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int DaysIn(__int128 y) { return IsLeap(y) ? 366 : 365; }
int DaysIn(__int128 y, int month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(y) ? 29 : kDays[month - 1];
}

// Year, month, day, hour, minute, second of `ms`: whole 400-year cycles of
// 146097 days first, then a walk by years and months.
std::vector<int64_t> RefCivil(int64_t ms) {
  const __int128 per_day = 86400000;
  __int128 days = ms / per_day;
  __int128 rem = ms % per_day;
  if (rem < 0) {
    rem += per_day;
    --days;
  }
  __int128 year = 1970 + days / 146097 * 400;
  days %= 146097;
  while (days < 0) days += DaysIn(--year);
  while (days >= DaysIn(year)) days -= DaysIn(year++);
  int month = 1;
  while (days >= DaysIn(year, month)) days -= DaysIn(year, month++);
  return {static_cast<int64_t>(year), month, static_cast<int64_t>(days) + 1,
          static_cast<int64_t>(rem / 3600000), static_cast<int64_t>(rem / 60000 % 60),
          static_cast<int64_t>(rem / 1000 % 60)};
}

// x rounded half away from zero to `digits` digits, exactly, then wrapped.
int64_t RefRound(int64_t x, int64_t digits) {
  if (digits >= 0) return x;
  __int128 p = 1;
  for (int64_t k = 0; k < -digits && k < 30; ++k) p *= 10;
  __int128 q = x / p;
  const __int128 r = x % p;
  if (2 * (r < 0 ? -r : r) >= p) q += x < 0 ? -1 : 1;
  return static_cast<int64_t>(static_cast<uint64_t>(static_cast<unsigned __int128>(q * p)));
}

std::string RefSubstr(const std::string& s, int64_t start, int64_t len) {
  std::string out;
  for (int64_t pos = 1; pos <= static_cast<int64_t>(s.size()); ++pos) {
    if (pos >= start && static_cast<__int128>(pos) < static_cast<__int128>(start) + len) {
      out += s[static_cast<size_t>(pos - 1)];
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Programs by hand.

class Asm {
 public:
  Asm& Col(int32_t k) { return Do(Op::kColumn, k); }
  Asm& Int(int64_t v) { return Do(Op::kConstInt, p_.AddInt(v)); }
  Asm& Float(double v) { return Do(Op::kConstFloat, p_.AddFloat(v)); }
  Asm& Str(const std::string& s) { return Do(Op::kConstString, p_.AddString(s)); }
  Asm& Null() { return Do(Op::kConstNull); }
  Asm& Do(Op op, int32_t arg = 0, int32_t arg2 = 0) {
    p_.code.push_back(Instr{op, arg, arg2});
    return *this;
  }
  Asm& Compare(Op op, Cmp c) { return Do(op, static_cast<int32_t>(c)); }
  Asm& Math(MathFn fn) { return Do(Op::kMathF, static_cast<int32_t>(fn)); }
  Asm& Part(DatePart part) { return Do(Op::kDatePart, static_cast<int32_t>(part)); }
  Asm& Like(const std::string& pattern) { return Do(Op::kLike, p_.AddString(pattern)); }
  Asm& Then(const Asm& other) {
    // Appends other's code, moving its constants into this program.
    for (Instr in : other.p_.code) {
      switch (in.op) {
        case Op::kConstInt: in.arg = p_.AddInt(other.p_.ints[in.arg]); break;
        case Op::kConstFloat: in.arg = p_.AddFloat(other.p_.floats[in.arg]); break;
        case Op::kConstString:
        case Op::kLike: in.arg = p_.AddString(other.StringAt(in.arg)); break;
        case Op::kInI:
        case Op::kInF:
        case Op::kInS: {
          // The list's constants, in order, from where this program's end.
          const int32_t first = in.op == Op::kInI   ? static_cast<int32_t>(p_.ints.size())
                                : in.op == Op::kInF ? static_cast<int32_t>(p_.floats.size())
                                                    : static_cast<int32_t>(p_.string_offsets.size() - 1);
          if (in.op == Op::kInI) {
            p_.AddIntSet(
                std::vector<int64_t>(other.p_.ints.begin() + in.arg, other.p_.ints.begin() + in.arg + in.arg2));
          }
          for (int32_t k = in.arg; k < in.arg + in.arg2; ++k) {
            if (in.op == Op::kInF) p_.AddFloat(other.p_.floats[k]);
            if (in.op == Op::kInS) p_.AddString(other.StringAt(k));
          }
          in.arg = first;
          break;
        }
        default: break;
      }
      p_.code.push_back(in);
    }
    return *this;
  }
  Program& program() { return p_; }
  std::string StringAt(int32_t k) const {
    return p_.chars.substr(p_.string_offsets[k], p_.string_offsets[k + 1] - p_.string_offsets[k]);
  }

 private:
  Program p_;
};

// ---------------------------------------------------------------------------
// The fixture: one backend per parameter.

class ExprVmTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kCuda && CudaDeviceCount() == 0) {
      GTEST_SKIP() << "no CUDA device visible to this process; the CUDA path runs on a GPU";
    }
    exec_.backend = GetParam();
    exec_.device = 0;
    BindThread(exec_);
    exec_.stream = CreateStream(GetParam(), 0);
    mr_ = std::make_unique<MemoryResource>(GetParam(), 0, std::string(BackendName(GetParam())) + ":0", 0);
    exec_.mr = mr_.get();
  }

  void TearDown() override {
    if (mr_ == nullptr) return;
    Synchronize(exec_);
    columns_.clear();
    DestroyStream(exec_.backend, exec_.device, exec_.stream);
  }

  Buffer ToDevice(const void* data, size_t bytes) {
    Buffer b(bytes == 0 ? 1 : bytes, exec_);
    if (bytes > 0) CopyToDevice(b.data(), data, bytes, exec_);
    return b;
  }

  Buffer Validity(const std::vector<bool>& valid) {
    std::vector<uint8_t> v(valid.begin(), valid.end());
    return ToDevice(v.data(), v.size());
  }

  // Adds a column to the table programs read; returns its index.
  int32_t AddInts(const std::vector<int64_t>& v, const std::vector<bool>& valid = {}) {
    Buffer data = ToDevice(v.data(), v.size() * sizeof(int64_t));
    return Add(Column::Adopt(PhysType::kInt64, 0, !valid.empty(), static_cast<int64_t>(v.size()),
                             std::move(data), Buffer(), valid.empty() ? Buffer() : Validity(valid)));
  }
  int32_t AddStrings(const std::vector<std::string>& v, const std::vector<bool>& valid = {}) {
    std::string bytes;
    std::vector<int64_t> ends = {0};
    for (const std::string& s : v) {
      bytes += s;
      ends.push_back(static_cast<int64_t>(bytes.size()));
    }
    Buffer data = ToDevice(bytes.data(), bytes.size());
    Buffer offsets = ToDevice(ends.data(), ends.size() * sizeof(int64_t));
    return Add(Column::Adopt(PhysType::kVarChars, 0, !valid.empty(), static_cast<int64_t>(v.size()),
                             std::move(data), std::move(offsets), valid.empty() ? Buffer() : Validity(valid)));
  }
  // charN: `width` bytes a row, zero-padded.
  int32_t AddChars(const std::vector<std::string>& v, int32_t width) {
    std::string bytes(v.size() * static_cast<size_t>(width), '\0');
    for (size_t r = 0; r < v.size(); ++r) bytes.replace(r * width, v[r].size(), v[r]);
    return Add(Column::Adopt(PhysType::kFixedChars, width, false, static_cast<int64_t>(v.size()),
                             ToDevice(bytes.data(), bytes.size()), Buffer(), Buffer()));
  }

  int32_t Add(Column c) {
    columns_.push_back(std::make_unique<Column>(std::move(c)));
    return static_cast<int32_t>(columns_.size() - 1);
  }

  DeviceProgram Load(Asm& a, ValueKind result = ValueKind::kInt) {
    Program& p = a.program();
    p.columns.clear();
    for (const auto& c : columns_) p.columns.push_back(c->view());
    p.result = result;
    EXPECT_TRUE(IsWellFormed(p));
    return Upload(p, exec_);
  }

  // Rows of [0, n) where `a` (a condition) is true, on the backend.
  std::vector<int64_t> Rows(Asm& a, int64_t n) {
    const DeviceProgram d = Load(a);
    const Selection s = Select(d.view, 0, n, exec_);
    std::vector<int64_t> rows(static_cast<size_t>(s.count));
    if (s.count > 0) CopyToHostSync(rows.data(), s.indices.data(), rows.size() * sizeof(int64_t), exec_);
    return rows;
  }
  int64_t CountTrue(Asm& a, int64_t n) {
    const DeviceProgram d = Load(a);
    return Count(d.view, 0, n, exec_);
  }

  // Rows of [0, n) where `value` and `expected` (programs of one value each,
  // compared with `cmp`, one of kCmpI/F/S) differ in value or in being null.
  std::vector<int64_t> Mismatches(const Asm& value, const Asm& expected, Op cmp, int64_t n) {
    Asm a;
    // null-ness differs, or both non-null and value != expected:
    // is_null(v) != is_null(e) or (v != e) -- the latter null when either is.
    a.Then(value).Do(Op::kIsNull).Then(expected).Do(Op::kIsNull).Compare(Op::kCmpI, Cmp::kNe);
    a.Then(value).Then(expected).Compare(cmp, Cmp::kNe).Do(Op::kOr);
    return Rows(a, n);
  }

  // Checks the one-row value of `value` (no columns needed) on the backend.
  void ExpectInt(const Asm& value, std::optional<int64_t> want, const std::string& what) {
    Asm e;
    if (want) e.Int(*want); else e.Null();
    EXPECT_EQ(Mismatches(value, e, Op::kCmpI, 1), std::vector<int64_t>{}) << what;
  }
  void ExpectFloat(const Asm& value, std::optional<double> want, const std::string& what) {
    Asm e;
    if (want) e.Float(*want); else e.Null();
    EXPECT_EQ(Mismatches(value, e, Op::kCmpF, 1), std::vector<int64_t>{}) << what;
  }
  void ExpectString(const Asm& value, std::optional<std::string> want, const std::string& what) {
    Asm e;
    if (want) e.Str(*want); else e.Null();
    EXPECT_EQ(Mismatches(value, e, Op::kCmpS, 1), std::vector<int64_t>{}) << what;
  }

  std::unique_ptr<MemoryResource> mr_;
  Exec exec_;
  std::vector<std::unique_ptr<Column>> columns_;
};

TEST_P(ExprVmTest, DatePartsMatchACivilWalk) {
  std::mt19937_64 rng(3);
  std::vector<int64_t> ms = {0, -1, 1, kMin, kMax, kMin + 1, kMax - 1, 86400000, -86400000,
                             -86400001, 951782400000, 951868799999, -62135596800000,
                             -62135596800001, 253402300799999, -2208988800000, 4107542400000};
  std::uniform_int_distribution<int64_t> any(kMin, kMax);
  std::uniform_int_distribution<int64_t> near(-400LL * 366 * 86400000, 400LL * 366 * 86400000);
  std::uniform_int_distribution<int64_t> days(-800000, 800000);
  // Every day (at its first and last millisecond) across both edges of
  // DatePartOf's 32-bit range: 0000-03-01 and 2^30 days after it.
  for (const int64_t edge : {int64_t{-719468}, (int64_t{1} << 30) - 719468}) {
    for (int64_t d = edge - 800; d < edge + 800; ++d) {
      ms.push_back(d * 86400000);
      ms.push_back(d * 86400000 + 86399999);
    }
  }
  while (ms.size() < 36000) {
    ms.push_back(any(rng));
    ms.push_back(near(rng));
    ms.push_back(days(rng) * 86400000 + static_cast<int64_t>(ms.size() % 3) - 1);
  }
  const int64_t n = static_cast<int64_t>(ms.size());
  std::vector<std::vector<int64_t>> want(6);
  for (int64_t v : ms) {
    const std::vector<int64_t> c = RefCivil(v);
    for (int k = 0; k < 6; ++k) want[k].push_back(c[k]);
    for (int k = 0; k < 6; ++k) ASSERT_EQ(detail::DatePartOf(v, k), c[k]) << v << " part " << k;
  }
  std::vector<bool> valid(ms.size());
  for (size_t r = 0; r < valid.size(); ++r) valid[r] = r % 7 != 3;
  const int32_t col = AddInts(ms, valid);
  for (int k = 0; k < 6; ++k) {
    const int32_t expected = AddInts(want[k], valid);
    Asm value, e;
    value.Col(col).Part(static_cast<DatePart>(k));
    e.Col(expected);
    EXPECT_EQ(Mismatches(value, e, Op::kCmpI, n), std::vector<int64_t>{}) << "part " << k;
  }
}

TEST_P(ExprVmTest, LikeMatchesTheReference) {
  std::mt19937_64 rng(5);
  auto text = [&](const std::string& alphabet, int max_len) {
    std::string s(std::uniform_int_distribution<size_t>(0, max_len)(rng), ' ');
    for (char& c : s) c = alphabet[std::uniform_int_distribution<size_t>(0, alphabet.size() - 1)(rng)];
    return s;
  };
  std::vector<std::string> strings;
  std::vector<bool> valid;
  for (int r = 0; r < 2000; ++r) {
    strings.push_back(text("abAB%_", 10));
    valid.push_back(r % 11 != 0);
  }
  const int64_t n = static_cast<int64_t>(strings.size());
  const int32_t col = AddStrings(strings, valid);
  std::vector<std::string> patterns = {"",   "%",  "_",    "%%",    "a%",    "%a",      "%a%b%", "a_b",   "_%_",
                                       "%_", "A%", "%%%b", "a%a%a", "ab%ba", "%ab%ba%", "a%%b",  "b%a%b", "abab"};
  while (patterns.size() < 120) patterns.push_back(text("ab%_A", 6));
  // Without '_': the host finds their literal runs (FindRun).
  while (patterns.size() < 200) patterns.push_back(text("ab%A", 7));
  for (const char* p : {"%bb%", "%abba%", "%aabaab%", "%bab%aab%b", "%babbab%abaaba%", "%bbbbbbbbbbbbbbbbbbbbb%"}) {
    patterns.push_back(p);
  }
  for (const std::string& p : patterns) {
    for (uint8_t fold : {kNoFold, kFoldLower, kFoldUpper}) {
      std::vector<int64_t> want;
      for (int64_t r = 0; r < n; ++r) {
        const std::string s = RefFold(strings[r], fold);
        if (valid[r] && RefLike(s, p)) want.push_back(r);
        ASSERT_EQ(detail::Like(strings[r].data(), static_cast<int64_t>(strings[r].size()), fold, p.data(),
                               static_cast<int64_t>(p.size())),
                  RefLike(s, p))
            << strings[r] << " like " << p;
      }
      Asm a;
      a.Col(col).Do(Op::kFold, fold).Like(p);
      ASSERT_EQ(Rows(a, n), want) << "pattern '" << p << "' fold " << int(fold);
    }
  }
  // Longer strings, where the host looks for a run sixteen places at a time
  // (a match in a block, across two, in the last places).
  for (int r = 0; r < 1000; ++r) {
    const std::string s = text("aab", 90);
    for (const std::string& p : patterns) {
      if (p.find('_') != std::string::npos) continue;
      ASSERT_EQ(
          detail::Like(s.data(), static_cast<int64_t>(s.size()), kNoFold, p.data(), static_cast<int64_t>(p.size())),
          RefLike(s, p))
          << s << " like " << p;
    }
  }
  // Worst cases for backtracking stay linear in the pattern's stars.
  const std::string long_a(20000, 'a');
  EXPECT_FALSE(detail::Like(long_a.data(), 20000, kNoFold, "%a%a%a%b", 8));
  EXPECT_TRUE(detail::Like(long_a.data(), 20000, kNoFold, "%a%a%a%", 7));
  EXPECT_TRUE(detail::Like(long_a.data(), 20000, kNoFold, "a%_", 3));
}

TEST_P(ExprVmTest, SubstrStaysInsideTheString) {
  std::mt19937_64 rng(9);
  const std::vector<int64_t> edges = {kMin, kMin + 1, -100, -1, 0, 1, 2, 3, 5, 8, 100, kMax - 1, kMax};
  std::vector<std::string> strings;
  std::vector<int64_t> starts, lens;
  std::vector<std::string> want;
  std::vector<bool> valid;
  for (int r = 0; r < 5000; ++r) {
    std::string s(std::uniform_int_distribution<size_t>(0, 8)(rng), 'x');
    for (char& c : s) c = static_cast<char>('a' + std::uniform_int_distribution<int>(0, 25)(rng));
    strings.push_back(s);
    auto value = [&]() {
      return r % 2 ? edges[std::uniform_int_distribution<size_t>(0, edges.size() - 1)(rng)]
                   : std::uniform_int_distribution<int64_t>(-3, 10)(rng);
    };
    starts.push_back(value());
    lens.push_back(value());
    valid.push_back(r % 13 != 0);
    want.push_back(RefSubstr(s, starts.back(), lens.back()));
  }
  const int64_t n = static_cast<int64_t>(strings.size());
  const int32_t s = AddStrings(strings, valid);
  const int32_t start = AddInts(starts);
  const int32_t len = AddInts(lens);
  const int32_t expected = AddStrings(want, valid);
  Asm value, e;
  value.Col(s).Col(start).Col(len).Do(Op::kSubstr);
  e.Col(expected);
  EXPECT_EQ(Mismatches(value, e, Op::kCmpS, n), std::vector<int64_t>{});
  // charN: the value is the bytes before the first zero.
  const int32_t chars = AddChars(strings, 8);
  Asm cvalue;
  cvalue.Col(chars).Col(start).Col(len).Do(Op::kSubstr);
  // Compared where `expected` is non-null (the charN column has no nulls).
  Asm cmp;
  cmp.Then(cvalue).Col(expected).Compare(Op::kCmpS, Cmp::kNe);
  EXPECT_EQ(Rows(cmp, n), std::vector<int64_t>{});
  if (GetParam() == Backend::kHost) {
    // The view never leaves the row's bytes.
    const DeviceProgram d = Load(value, ValueKind::kString);
    const ColumnView v = columns_[s]->view();
    for (int64_t r = 0; r < n; ++r) {
      const Slot got = Evaluate(d.view, r);
      if (!got.valid) continue;
      const char* begin = static_cast<const char*>(v.data) + v.offsets[r];
      const char* end = static_cast<const char*>(v.data) + v.offsets[r + 1];
      ASSERT_GE(got.len, 0);
      ASSERT_TRUE(got.len == 0 || (got.s >= begin && got.s + got.len <= end)) << r;
    }
  }
}

TEST_P(ExprVmTest, RoundToDigits) {
  std::mt19937_64 rng(13);
  std::vector<int64_t> xs = {kMin, kMax, 0, 5, -5, 15, -15, 4999999999999999999, -5000000000000000000};
  std::vector<int64_t> ds = {-19, -18, -1, -1, -1, -1, -1, -19, -19};
  std::uniform_int_distribution<int64_t> any(kMin, kMax);
  std::uniform_int_distribution<int64_t> digits(-22, 3);
  while (xs.size() < 20000) {
    xs.push_back(xs.size() % 2 ? any(rng) : any(rng) >> std::uniform_int_distribution<int>(0, 62)(rng));
    ds.push_back(digits(rng));
  }
  std::vector<int64_t> want;
  for (size_t k = 0; k < xs.size(); ++k) {
    want.push_back(RefRound(xs[k], ds[k]));
    ASSERT_EQ(detail::RoundDigits(xs[k], ds[k]), want.back()) << xs[k] << " " << ds[k];
  }
  const int64_t n = static_cast<int64_t>(xs.size());
  const int32_t x = AddInts(xs), d = AddInts(ds), w = AddInts(want);
  Asm value, e;
  value.Col(x).Col(d).Do(Op::kRoundI);
  e.Col(w);
  EXPECT_EQ(Mismatches(value, e, Op::kCmpI, n), std::vector<int64_t>{});

  EXPECT_EQ(detail::RoundDigits(2.5, int64_t{0}), 3.0);
  EXPECT_EQ(detail::RoundDigits(-2.5, int64_t{0}), -3.0);
  EXPECT_DOUBLE_EQ(detail::RoundDigits(1.2345, int64_t{2}), 1.23);
  EXPECT_DOUBLE_EQ(detail::RoundDigits(-1250.0, int64_t{-2}), -1300.0);
  EXPECT_EQ(detail::RoundDigits(1e300, int64_t{400}), 1e300);
  EXPECT_EQ(detail::RoundDigits(1e300, int64_t{-400}), 0.0);
  EXPECT_EQ(detail::RoundDigits(1.5, int64_t{kMax}), 1.5);
  EXPECT_EQ(detail::RoundDigits(1.5, int64_t{kMin}), 0.0);
  EXPECT_TRUE(std::isinf(detail::RoundDigits(std::numeric_limits<double>::infinity(), int64_t{-400})));
}

TEST_P(ExprVmTest, MathAndDomainErrors) {
  struct Case {
    MathFn fn;
    double x;
    std::optional<double> want;
  };
  const Case cases[] = {
      {MathFn::kSqrt, -1, std::nullopt}, {MathFn::kSqrt, 4, 2},     {MathFn::kSqrt, -0.0, -0.0},
      {MathFn::kLn, 0, std::nullopt},    {MathFn::kLn, -2, std::nullopt}, {MathFn::kLn, 1, 0},
      {MathFn::kLog10, 0, std::nullopt}, {MathFn::kLog10, 1, 0},   {MathFn::kCbrt, 0, 0},
      {MathFn::kExp, 0, 1},              {MathFn::kAbs, -2.5, 2.5}, {MathFn::kSign, -2.5, -1},
      {MathFn::kSign, 0, 0},             {MathFn::kSign, 3, 1},     {MathFn::kFloor, -2.5, -3},
      {MathFn::kCeil, -2.5, -2},         {MathFn::kRound, -2.5, -3}, {MathFn::kRound, 2.4999, 2},
  };
  for (const Case& c : cases) {
    Asm a;
    a.Float(c.x).Math(c.fn);
    ExpectFloat(a, c.want, "fn " + std::to_string(static_cast<int>(c.fn)) + " of " + std::to_string(c.x));
  }
  // Results a device's libm may round differently: within 1e-12.
  const Case near[] = {{MathFn::kLog10, 1000, 3}, {MathFn::kCbrt, -27, -3}, {MathFn::kLn, 10, std::log(10.0)},
                       {MathFn::kExp, 1, std::exp(1.0)}};
  for (const Case& c : near) {
    Asm a;
    a.Float(c.x).Math(c.fn).Float(*c.want).Do(Op::kSubF).Math(MathFn::kAbs).Float(1e-12).Compare(Op::kCmpF, Cmp::kLt);
    EXPECT_EQ(CountTrue(a, 1), 1) << "fn " << static_cast<int>(c.fn) << " of " << c.x;
  }
  // pow: a pole or a NaN from numbers is null.
  const std::vector<std::tuple<double, double, std::optional<double>>> pows = {
      {2, 10, 1024}, {0, -1, std::nullopt}, {-8, 1.0 / 3, std::nullopt}, {0, 0, 1}, {-2, 3, -8}, {4, 0.5, 2},
      {-1, 0.5, std::nullopt}};
  for (const auto& [x, y, want] : pows) {
    Asm a;
    a.Float(x).Float(y).Do(Op::kPowF);
    ExpectFloat(a, want, "pow");
  }
  // Division and modulo by zero; abs and sign of ints.
  ExpectInt(Asm().Int(7).Int(0).Do(Op::kDivI), std::nullopt, "7/0");
  ExpectInt(Asm().Int(7).Int(0).Do(Op::kModI), std::nullopt, "7%0");
  ExpectFloat(Asm().Float(7).Float(0).Do(Op::kModF), std::nullopt, "7.0%0");
  ExpectInt(Asm().Int(kMin).Do(Op::kAbsI), kMin, "abs(min) wraps");
  ExpectInt(Asm().Int(-7).Do(Op::kAbsI), 7, "abs");
  ExpectInt(Asm().Int(-7).Do(Op::kSignI), -1, "sign");
  ExpectInt(Asm().Int(0).Do(Op::kSignI), 0, "sign 0");
  ExpectInt(Asm().Null().Do(Op::kAbsI), std::nullopt, "abs null");
  ExpectFloat(Asm().Null().Math(MathFn::kSqrt), std::nullopt, "sqrt null");
  ExpectInt(Asm().Null().Part(DatePart::kYear), std::nullopt, "year null");
  ExpectInt(Asm().Null().Do(Op::kLength), std::nullopt, "length null");
}

TEST_P(ExprVmTest, ThreeValuedOps) {
  auto v = [](std::optional<int64_t> x) {
    Asm a;
    if (x) a.Int(*x); else a.Null();
    return a;
  };
  const std::optional<int64_t> N;
  // between: x >= lo and x <= hi, three-valued.
  const std::vector<std::tuple<std::optional<int64_t>, std::optional<int64_t>, std::optional<int64_t>,
                               std::optional<int64_t>>>
      between = {{2, 1, 3, 1}, {0, 1, 3, 0}, {4, 1, 3, 0}, {N, 1, 3, N}, {2, N, 3, N},
                 {5, N, 3, 0}, {0, 1, N, 0}, {2, 1, N, N}, {1, 1, 1, 1}, {2, 3, 1, 0}};
  for (const auto& [x, lo, hi, want] : between) {
    Asm a;
    a.Then(v(x)).Then(v(lo)).Then(v(hi)).Do(Op::kBetweenI);
    ExpectInt(a, want, "between");
  }
  ExpectInt(Asm().Str("b").Str("a").Str("c").Do(Op::kBetweenS), 1, "between strings");
  ExpectInt(Asm().Str("B").Do(Op::kFold, kFoldLower).Str("a").Str("c").Do(Op::kBetweenS), 1, "folded");
  ExpectInt(Asm().Float(0.5).Float(1).Float(2).Do(Op::kBetweenF), 0, "between floats");
  // if: a null condition takes the else branch.
  ExpectInt(Asm().Int(1).Int(10).Int(20).Do(Op::kIf), 10, "if true");
  ExpectInt(Asm().Int(0).Int(10).Int(20).Do(Op::kIf), 20, "if false");
  ExpectInt(Asm().Null().Int(10).Int(20).Do(Op::kIf), 20, "if null");
  ExpectInt(Asm().Int(1).Null().Int(20).Do(Op::kIf), N, "if to null");
  // ifnull, nullif, greatest and least.
  ExpectInt(Asm().Null().Int(3).Do(Op::kIfNull), 3, "ifnull");
  ExpectInt(Asm().Int(2).Int(3).Do(Op::kIfNull), 2, "ifnull non-null");
  ExpectInt(Asm().Int(2).Int(2).Do(Op::kNullIfI), N, "nullif equal");
  ExpectInt(Asm().Int(2).Null().Do(Op::kNullIfI), 2, "nullif null");
  ExpectString(Asm().Str("Ab").Do(Op::kFold, kFoldUpper).Str("AB").Do(Op::kNullIfS), std::nullopt, "nullif folded");
  ExpectInt(Asm().Null().Int(3).Do(Op::kMaxI), 3, "max skips null");
  ExpectInt(Asm().Int(4).Null().Do(Op::kMinI), 4, "min skips null");
  ExpectInt(Asm().Null().Null().Do(Op::kMaxI), N, "max of nulls");
  ExpectInt(Asm().Int(-4).Int(3).Do(Op::kMinI), -4, "min");
  ExpectFloat(Asm().Float(-4).Float(3).Do(Op::kMaxF), 3, "max float");
  ExpectString(Asm().Str("a").Str("B").Do(Op::kMaxS), "a", "max string bytewise");
  ExpectString(Asm().Str("a").Str("B").Do(Op::kFold, kFoldLower).Do(Op::kMaxS), "b", "max folded");
  // in-lists, with a null in the list.
  for (int64_t x : {1, 2, 5}) {
    Asm a;
    const int32_t first = a.program().AddInt(1);
    a.program().AddInt(2);
    a.Int(x).Do(Op::kInI, first, 2);
    ExpectInt(a, x <= 2 ? 1 : 0, "in");
    Asm b;
    const int32_t f2 = b.program().AddInt(1);
    b.program().AddInt(2);
    b.Int(x).Do(Op::kInI, f2, 2).Do(Op::kUnknownIfFalse);
    ExpectInt(b, x <= 2 ? std::optional<int64_t>(1) : N, "in with null");
  }
  {
    Asm a;
    const int32_t first = a.program().AddString("ab");
    a.program().AddString("cd");
    a.Str("CD").Do(Op::kFold, kFoldLower).Do(Op::kInS, first, 2);
    ExpectInt(a, 1, "in strings, folded");
    Asm b;
    b.Null().Do(Op::kInS, 0, 0);
    ExpectInt(b, N, "null in ()");
  }
  // Strings: length, fold, substr keep the fold.
  ExpectInt(Asm().Str("hello").Do(Op::kLength), 5, "length");
  ExpectString(Asm().Str("hello").Do(Op::kFold, kFoldUpper).Int(2).Int(3).Do(Op::kSubstr), "ELL", "substr folded");
  ExpectInt(Asm().Str("aBc").Do(Op::kFold, kFoldUpper).Str("ABC").Compare(Op::kCmpS, Cmp::kEq), 1, "folded =");
  ExpectInt(Asm().Str("aBc").Do(Op::kFold, kFoldLower).Str("ABC").Compare(Op::kCmpS, Cmp::kGt), 1, "folded >");
}

TEST(ExprVm, CompareBytesReadsThroughFolds) {
  EXPECT_EQ(detail::CompareBytes("abc", 3, kFoldUpper, "ABC", 3, kNoFold), 0);
  EXPECT_EQ(detail::CompareBytes("ABC", 3, kFoldLower, "abd", 3, kNoFold), -1);
  EXPECT_EQ(detail::CompareBytes("ab", 2, kFoldUpper, "AB", 2, kFoldLower), -1);  // 'A' < 'a'
  EXPECT_EQ(detail::CompareBytes("a[", 2, kFoldUpper, "A[", 2, kNoFold), 0);   // non-letters kept
  EXPECT_EQ(detail::CompareBytes("\xc3\xa9", 2, kFoldUpper, "\xc3\xa9", 2, kNoFold), 0);
  EXPECT_EQ(detail::CompareBytes("ab", 2, "abc", 3), -1);
  EXPECT_EQ(detail::CompareBytes("\xff", 1, "a", 1), 1);  // bytes compare unsigned
}

TEST(ExprVm, IsWellFormedRefusesBadPrograms) {
  auto program = [](std::vector<Instr> code) {
    Program p;
    p.code = std::move(code);
    p.AddInt(1);
    p.AddFloat(1);
    p.AddString("ab");
    p.AddString("c");
    p.columns.resize(2);
    return p;
  };
  EXPECT_TRUE(IsWellFormed(program({{Op::kConstInt, 0}})));
  EXPECT_TRUE(IsWellFormed(program({{Op::kColumn, 1}, {Op::kInS, 0, 2}})));
  EXPECT_TRUE(IsWellFormed(program({{Op::kColumn, 1}, {Op::kConstInt, 0}, {Op::kConstNull, 0}, {Op::kSubstr, 0}})));
  EXPECT_FALSE(IsWellFormed(program({})));                                        // no value
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstInt, 0}, {Op::kConstInt, 0}})));  // two values
  EXPECT_FALSE(IsWellFormed(program({{Op::kNot, 0}})));                              // underflow
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstInt, 0}, {Op::kAddI, 0}})));
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstInt, 0}, {Op::kConstInt, 0}, {Op::kIf, 0}})));
  EXPECT_FALSE(IsWellFormed(program({{Op::kColumn, 2}})));  // index out of range
  EXPECT_FALSE(IsWellFormed(program({{Op::kColumn, -1}})));
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstInt, 1}})));
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstFloat, 1}})));
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstString, 2}})));
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstInt, 0}, {Op::kInI, 0, 2}})));
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstInt, 0}, {Op::kInI, 1, -1}})));
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstString, 0}, {Op::kInS, 1, 2}})));
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstString, 0}, {Op::kLike, 2}})));
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstInt, 0}, {Op::kConstInt, 0}, {Op::kCmpI, 6}})));
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstFloat, 0}, {Op::kMathF, 10}})));
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstString, 0}, {Op::kFold, 3}})));
  EXPECT_FALSE(IsWellFormed(program({{Op::kConstInt, 0}, {Op::kDatePart, 6}})));
  EXPECT_FALSE(IsWellFormed(program({{static_cast<Op>(200), 0}})));
  // A long int list's hash table: every constant found, entries in range.
  {
    std::vector<int64_t> values;
    for (int64_t v = -40; v < 400; v += 11) values.push_back(v);
    Program p = program({});
    const int32_t first = p.AddIntSet(values);
    const int32_t count = static_cast<int32_t>(values.size());
    ASSERT_EQ(p.ints.size(), static_cast<size_t>(first + count + InTableSlots(count) + InFilterWords(count)));
    p.code = {{Op::kConstInt, 0}, {Op::kInI, first, count}};
    EXPECT_TRUE(IsWellFormed(p));
    for (int64_t v = -50; v < 420; ++v) {
      EXPECT_EQ(InIntSet(IntSetOf(p.ints.data(), first, count), v), (v + 40) % 11 == 0 && v >= -40 && v < 400) << v;
    }
    Program lost = p;  // an entry emptied: its constant is not found
    for (size_t s = static_cast<size_t>(first + count); s < static_cast<size_t>(first + count + InTableSlots(count));
         ++s) {
      if (lost.ints[s] >= 0) {
        lost.ints[s] = -1;
        break;
      }
    }
    EXPECT_FALSE(IsWellFormed(lost));
    Program wild = p;  // an entry past the list
    wild.ints[static_cast<size_t>(first + count + InTableSlots(count) - 1)] = count;
    EXPECT_FALSE(IsWellFormed(wild));
    Program unfiltered = p;  // the filter cleared: nothing is found
    for (int32_t w = 0; w < InFilterWords(count); ++w)
      unfiltered.ints[static_cast<size_t>(first + count + InTableSlots(count) + w)] = 0;
    EXPECT_FALSE(IsWellFormed(unfiltered));
    Program short_table = p;
    short_table.ints.pop_back();
    EXPECT_FALSE(IsWellFormed(short_table));
  }
  std::vector<Instr> deep(kMaxStackDepth, Instr{Op::kConstInt, 0});
  for (int k = 1; k < kMaxStackDepth; ++k) deep.push_back(Instr{Op::kAddI, 0});
  EXPECT_TRUE(IsWellFormed(program(deep)));
  deep.insert(deep.begin(), Instr{Op::kConstInt, 0});
  deep.push_back(Instr{Op::kAddI, 0});
  EXPECT_FALSE(IsWellFormed(program(deep)));  // one slot too deep
  Program bad = program({{Op::kConstString, 0}});
  bad.string_offsets.back() = 100;
  EXPECT_FALSE(IsWellFormed(bad));
  // Every op has an effect the compiler can count on.
  for (int op = 0; op <= static_cast<int>(Op::kDatePart); ++op) {
    const int e = StackEffect(static_cast<Op>(op));
    EXPECT_TRUE(e >= -2 && e <= 1) << op;
  }
}

std::string BackendParamName(const ::testing::TestParamInfo<Backend>& info) {
  return BackendName(info.param);
}

INSTANTIATE_TEST_SUITE_P(Backends, ExprVmTest, ::testing::Values(Backend::kHost, Backend::kCuda),
                         BackendParamName);

}  // namespace
}  // namespace kernels
