#include "engine/expr/expression.h"

#include <pthread.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "kernels/detail/expr_eval.h"
#include "kernels/filter.h"
#include "kernels/memory.h"

namespace engine {
namespace {

using kernels::ValueKind;
using OptB = std::optional<bool>;
using OptI = std::optional<int64_t>;
using OptF = std::optional<double>;
using OptS = std::optional<std::string>;

constexpr int64_t kRows = 1000;
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

ColumnDef Def(std::string name, ColumnKind kind, bool nullable, int32_t char_width = 0) {
  ColumnDef c;
  c.name = std::move(name);
  c.kind = kind;
  c.nullable = nullable;
  c.char_width = char_width;
  return c;
}

// Reference semantics, written the plain way.
template <typename T, typename F>
auto Lift(std::optional<T> a, std::optional<T> b, F f) -> std::optional<decltype(f(*a, *b))> {
  if (!a || !b) return std::nullopt;
  return f(*a, *b);
}

OptF ToF(OptI v) { return v ? OptF(static_cast<double>(*v)) : std::nullopt; }

OptI Div(OptI a, OptI b) {
  if (!a || !b || *b == 0) return std::nullopt;
  return *a / *b;
}

OptI Mod(OptI a, OptI b) {
  if (!a || !b || *b == 0) return std::nullopt;
  return *a % *b;
}

OptB And(OptB a, OptB b) {
  if ((a && !*a) || (b && !*b)) return false;
  if (a && b) return true;
  return std::nullopt;
}

OptB Or(OptB a, OptB b) {
  if ((a && *a) || (b && *b)) return true;
  if (a && b) return false;
  return std::nullopt;
}

OptB Not(OptB a) { return a ? OptB(!*a) : std::nullopt; }

template <typename T>
OptB Truth(std::optional<T> v) {
  return v ? OptB(*v != 0) : std::nullopt;
}

template <typename T>
OptB Lt(std::optional<T> a, std::optional<T> b) {
  return Lift(a, b, [](const T& x, const T& y) { return x < y; });
}
template <typename T>
OptB Gt(std::optional<T> a, std::optional<T> b) {
  return Lift(a, b, [](const T& x, const T& y) { return x > y; });
}
template <typename T>
OptB Eq(std::optional<T> a, std::optional<T> b) {
  return Lift(a, b, [](const T& x, const T& y) { return x == y; });
}

// The stack effect of each op, checked against every program a test compiles.
int RefStackEffect(kernels::Op op) {
  using kernels::Op;
  switch (op) {
    case Op::kColumn:
    case Op::kConstInt:
    case Op::kConstFloat:
    case Op::kConstString:
    case Op::kConstNull: return 1;
    case Op::kIntToFloat:
    case Op::kNegI:
    case Op::kNegF:
    case Op::kTruthI:
    case Op::kTruthF:
    case Op::kNot:
    case Op::kIsNull:
    case Op::kInI:
    case Op::kInF:
    case Op::kInS:
    case Op::kUnknownIfFalse:
    case Op::kLike:
    case Op::kAbsI:
    case Op::kSignI:
    case Op::kMathF:
    case Op::kLength:
    case Op::kFold:
    case Op::kDatePart:
    case Op::kFloatToInt:
      return 0;
    case Op::kBetweenI:
    case Op::kBetweenF:
    case Op::kBetweenS:
    case Op::kIf:
    case Op::kSubstr: return -2;
    default: return -1;
  }
}

// True when `p` is well formed: operands always present, the stack within
// the VM's limit and one value left, every index in range.
bool WellFormed(const kernels::Program& p) {
  using kernels::Op;
  int depth = 0;
  for (const kernels::Instr& in : p.code) {
    const int effect = RefStackEffect(in.op);
    if (effect <= 0 && depth < 1 - effect) return false;
    depth += effect;
    if (depth > kernels::kMaxStackDepth) return false;
    const size_t arg = static_cast<size_t>(in.arg);
    if (in.op == Op::kColumn && arg >= p.columns.size()) return false;
    if (in.op == Op::kConstInt && arg >= p.ints.size()) return false;
    if (in.op == Op::kConstFloat && arg >= p.floats.size()) return false;
    if (in.op == Op::kConstString && arg + 1 >= p.string_offsets.size()) return false;
    if (in.op == Op::kLike && arg + 1 >= p.string_offsets.size()) return false;
    const size_t end = arg + static_cast<size_t>(in.arg2);
    if (in.op == Op::kInI && end > p.ints.size()) return false;
    if (in.op == Op::kInF && end > p.floats.size()) return false;
    if (in.op == Op::kInS && end + 1 > p.string_offsets.size()) return false;
  }
  return depth == 1 && kernels::IsWellFormed(p);
}

// Deepest the stack gets running `p`.
int MaxDepth(const kernels::Program& p) {
  int depth = 0, most = 0;
  for (const kernels::Instr& in : p.code) {
    depth += RefStackEffect(in.op);
    most = std::max(most, depth);
  }
  return most;
}

// --- References for the functions, written the plain way ---

// A string as read through a fold.
std::string Folded(std::string s, uint8_t fold) {
  for (char& c : s) {
    if (fold == kernels::kFoldLower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (fold == kernels::kFoldUpper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return s;
}
OptS Lower(OptS s) { return s ? OptS(Folded(*s, kernels::kFoldLower)) : std::nullopt; }
OptS Upper(OptS s) { return s ? OptS(Folded(*s, kernels::kFoldUpper)) : std::nullopt; }

// SQL like, by recursion: % any run, _ any one byte.
bool RefLike(absl::string_view s, absl::string_view p) {
  if (p.empty()) return s.empty();
  if (p[0] == '%') return RefLike(s, p.substr(1)) || (!s.empty() && RefLike(s.substr(1), p));
  if (s.empty()) return false;
  return (p[0] == '_' || p[0] == s[0]) && RefLike(s.substr(1), p.substr(1));
}
OptB Like(OptS s, const std::string& p) { return s ? OptB(RefLike(*s, p)) : std::nullopt; }

// Bytes at 1-based positions [start, start + len) of s.
OptS Substr(OptS s, OptI start, OptI len) {
  if (!s || !start || !len) return std::nullopt;
  std::string out;
  for (int64_t pos = 1; pos <= static_cast<int64_t>(s->size()); ++pos) {
    if (pos >= *start && static_cast<__int128>(pos) < static_cast<__int128>(*start) + *len) {
      out += (*s)[static_cast<size_t>(pos - 1)];
    }
  }
  return out;
}

// x in list, SQL: a match is true; else null when x or the list has null.
template <typename T>
OptB In(std::optional<T> x, const std::vector<std::optional<T>>& list) {
  if (!x) return std::nullopt;
  bool has_null = false;
  for (const auto& v : list) {
    if (!v) has_null = true;
    else if (*v == *x) return true;
  }
  return has_null ? OptB() : OptB(false);
}

template <typename T>
OptB Between(std::optional<T> x, std::optional<T> lo, std::optional<T> hi) {
  return And(Not(Lt(x, lo)), Not(Gt(x, hi)));
}

template <typename T>
std::optional<T> IfNull(std::optional<T> a, std::optional<T> b) {
  return a ? a : b;
}

template <typename T>
std::optional<T> NullIf(std::optional<T> a, std::optional<T> b) {
  return a && b && *a == *b ? std::nullopt : a;
}

// greatest/least: nulls are skipped; null when all are.
template <typename T>
std::optional<T> Greatest(const std::vector<std::optional<T>>& v, bool least = false) {
  std::optional<T> out;
  for (const auto& x : v) {
    if (x && (!out || (least ? *x < *out : *x > *out))) out = x;
  }
  return out;
}

OptF Fn(OptF x, double (*f)(double)) { return x ? OptF(f(*x)) : std::nullopt; }
OptF Sqrt(OptF x) { return x && *x < 0 ? std::nullopt : Fn(x, [](double v) { return std::sqrt(v); }); }
OptF Ln(OptF x) { return x && *x <= 0 ? std::nullopt : Fn(x, [](double v) { return std::log(v); }); }
OptF Log10(OptF x) {
  return x && *x <= 0 ? std::nullopt : Fn(x, [](double v) { return std::log10(v); });
}
OptF Pow(OptF x, OptF y) {
  if (!x || !y || (*x == 0 && *y < 0)) return std::nullopt;
  const double r = std::pow(*x, *y);
  if (std::isnan(r)) return std::nullopt;
  return r;
}
OptF RoundF(OptF x, OptI d) {
  if (!x || !d) return std::nullopt;
  // More digits than a double holds leave x; fewer than it holds give 0.
  const double p = std::pow(10.0, static_cast<double>(std::abs(*d)));
  if (*d >= 0) return std::isfinite(*x * p) ? std::round(*x * p) / p : *x;
  return std::isfinite(p) ? std::round(*x / p) * p : 0.0;
}
OptI RoundI(OptI x, OptI d) {
  if (!x || !d) return std::nullopt;
  if (*d >= 0) return x;
  __int128 p = 1;
  for (int64_t k = 0; k < -*d && k < 30; ++k) p *= 10;  // 10^30 rounds any int64 to 0
  __int128 q = *x / p;
  const __int128 r = *x % p;
  if (2 * (r < 0 ? -r : r) >= p) q += *x < 0 ? -1 : 1;
  return static_cast<int64_t>(static_cast<uint64_t>(static_cast<unsigned __int128>(q * p)));
}
OptI AbsI(OptI x) {
  return x ? OptI(static_cast<int64_t>(*x < 0 ? 0 - static_cast<uint64_t>(*x) : *x)) : std::nullopt;
}
OptI SignI(OptI x) { return x ? OptI(*x > 0 ? 1 : *x < 0 ? -1 : 0) : std::nullopt; }
OptF SignF(OptF x) { return x ? OptF(*x > 0 ? 1.0 : *x < 0 ? -1.0 : *x) : std::nullopt; }
OptF ModF(OptF a, OptF b) {
  return a && b && *b != 0 ? OptF(std::fmod(*a, *b)) : std::nullopt;
}

// Date parts of ms since the epoch, from the C library (gmtime_r).
enum Part { kYear, kMonth, kDay, kHour, kMinute, kSec };
OptI DatePart(OptI ms, Part part) {
  if (!ms) return std::nullopt;
  int64_t secs = *ms / 1000;
  if (*ms % 1000 < 0) --secs;
  const time_t t = static_cast<time_t>(secs);
  struct tm tm;
  if (gmtime_r(&t, &tm) == nullptr) return std::nullopt;
  switch (part) {
    case kYear: return tm.tm_year + int64_t{1900};
    case kMonth: return tm.tm_mon + 1;
    case kDay: return tm.tm_mday;
    case kHour: return tm.tm_hour;
    case kMinute: return tm.tm_min;
    case kSec: return tm.tm_sec;
  }
  return std::nullopt;
}

// A table of 1000 random rows with a column of every kind, on the host
// backend, and the same rows in host vectors for the reference.
class ExpressionTest : public ::testing::Test {
 protected:
  ExpressionTest() {
    std::vector<ColumnDef> defs = {
        Def("i", ColumnKind::kInt, false),        Def("l", ColumnKind::kLong, true),
        Def("f", ColumnKind::kFloat, true),       Def("d", ColumnKind::kDouble, false),
        Def("s", ColumnKind::kString, true),      Def("b", ColumnKind::kBytes, false),
        Def("i8", ColumnKind::kInt8, false),      Def("i16", ColumnKind::kInt16, true),
        Def("flag", ColumnKind::kBoolean, false), Def("ts", ColumnKind::kTimestamp, false),
        Def("c4", ColumnKind::kCharN, true, 4),   Def("Price", ColumnKind::kDouble, false),
        // Mixed case text with the pattern characters in it, a charN of it,
        // and timestamps from year 1 to 9999, many before 1970.
        Def("w", ColumnKind::kString, true),      Def("c8", ColumnKind::kCharN, false, 8),
        Def("tw", ColumnKind::kTimestamp, true),
    };
    type_ = TableType(defs, "test");
    std::mt19937_64 rng(42);
    auto uniform = [&](int64_t lo, int64_t hi) {
      return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
    };
    auto text = [&](absl::string_view alphabet, int max_len) {
      std::string out(static_cast<size_t>(uniform(0, max_len)), ' ');
      for (char& c : out) c = alphabet[static_cast<size_t>(uniform(0, alphabet.size() - 1))];
      return out;
    };
    for (const ColumnDef& def : defs) {
      Host& h = host_[def.name];
      for (int64_t r = 0; r < kRows; ++r) {
        h.valid.push_back(!def.nullable || uniform(0, 99) >= 20);
        switch (def.kind) {
          case ColumnKind::kInt: h.ints.push_back(uniform(-6, 6)); break;
          case ColumnKind::kLong: h.ints.push_back(uniform(-1000, 1000)); break;
          case ColumnKind::kInt8: h.ints.push_back(uniform(-128, 127)); break;
          case ColumnKind::kInt16: h.ints.push_back(uniform(-300, 300)); break;
          case ColumnKind::kBoolean: h.ints.push_back(uniform(0, 1)); break;
          case ColumnKind::kTimestamp:
            if (def.name != "tw") {
              h.ints.push_back(1700000000000 + uniform(0, 999));
            } else if (r % 3 == 0) {
              h.ints.push_back(uniform(-62135596800000, 253402300799999));  // years 1 to 9999
            } else if (r % 3 == 1) {
              h.ints.push_back(uniform(-3, 3) * 86400000 + uniform(-1, 1));  // around midnights
            } else {
              h.ints.push_back(uniform(-5000000000000, 5000000000000));
            }
            break;
          case ColumnKind::kFloat:
            h.floats.push_back(static_cast<double>(uniform(-32, 32)) / 4);
            break;
          case ColumnKind::kDouble:
            h.floats.push_back(
                uniform(0, 9) == 0 ? 0.0 : std::uniform_real_distribution<double>(-10, 10)(rng));
            break;
          case ColumnKind::kString:
            h.strings.push_back(def.name == "w" ? text("aAbB%_", 6) : text("ab", 3));
            break;
          case ColumnKind::kBytes:
            h.strings.push_back(text(absl::string_view("a\x01\xff", 3), 3));
            break;
          case ColumnKind::kCharN:
            h.strings.push_back(text(def.char_width == 8 ? "aAbB" : "ab", def.char_width));
            break;
        }
      }
      columns_.push_back(MakeColumn(def, h));
      views_.push_back(columns_.back().view());
    }
  }

  struct Host {
    std::vector<int64_t> ints;
    std::vector<double> floats;
    std::vector<std::string> strings;
    std::vector<bool> valid;
  };

  kernels::Buffer ToDevice(const void* data, size_t bytes) {
    kernels::Buffer b(bytes, exec_);
    kernels::CopyToDevice(b.data(), data, bytes, exec_);
    return b;
  }

  template <typename T>
  kernels::Buffer Fixed(const std::vector<int64_t>& ints, const std::vector<double>& floats) {
    std::vector<T> v;
    for (int64_t x : ints) v.push_back(static_cast<T>(x));
    for (double x : floats) v.push_back(static_cast<T>(x));
    return ToDevice(v.data(), v.size() * sizeof(T));
  }

  kernels::Column MakeColumn(const ColumnDef& def, const Host& h) {
    using kernels::PhysType;
    kernels::Buffer data, offsets, validity;
    switch (def.phys()) {
      case PhysType::kInt8: data = Fixed<int8_t>(h.ints, h.floats); break;
      case PhysType::kInt16: data = Fixed<int16_t>(h.ints, h.floats); break;
      case PhysType::kInt32: data = Fixed<int32_t>(h.ints, h.floats); break;
      case PhysType::kInt64: data = Fixed<int64_t>(h.ints, h.floats); break;
      case PhysType::kFloat32: data = Fixed<float>(h.ints, h.floats); break;
      case PhysType::kFloat64: data = Fixed<double>(h.ints, h.floats); break;
      case PhysType::kFixedChars: {
        std::string bytes(static_cast<size_t>(kRows * def.char_width), '\0');
        for (int64_t r = 0; r < kRows; ++r)
          bytes.replace(r * def.char_width, h.strings[r].size(), h.strings[r]);
        data = ToDevice(bytes.data(), bytes.size());
        break;
      }
      case PhysType::kVarChars: {
        std::string bytes;
        std::vector<int64_t> ends = {0};
        for (const std::string& s : h.strings) {
          bytes += s;
          ends.push_back(static_cast<int64_t>(bytes.size()));
        }
        data = ToDevice(bytes.data(), bytes.size());
        offsets = ToDevice(ends.data(), ends.size() * sizeof(int64_t));
        break;
      }
    }
    if (def.nullable) {
      std::vector<uint8_t> valid(h.valid.begin(), h.valid.end());
      validity = ToDevice(valid.data(), valid.size());
    }
    return kernels::Column::Adopt(def.phys(), def.char_width, def.nullable, kRows, std::move(data),
                                  std::move(offsets), std::move(validity));
  }

  // Host values of row `r` of a column, null as nullopt.
  OptI I(const std::string& name, int64_t r) const {
    const Host& h = host_.at(name);
    return h.valid[r] ? OptI(h.ints[r]) : std::nullopt;
  }
  OptF F(const std::string& name, int64_t r) const {
    const Host& h = host_.at(name);
    return h.valid[r] ? OptF(h.floats[r]) : std::nullopt;
  }
  OptS S(const std::string& name, int64_t r) const {
    const Host& h = host_.at(name);
    return h.valid[r] ? OptS(h.strings[r]) : std::nullopt;
  }

  absl::StatusOr<kernels::Program> Compile(absl::string_view text, ExprUse use) const {
    return CompileExpression(text, type_, views_, use);
  }

  // Compiles `text` for `use` and uploads it; fails the test on an error.
  std::optional<kernels::DeviceProgram> Build(absl::string_view text, ExprUse use,
                                              ValueKind result) {
    absl::StatusOr<kernels::Program> p = Compile(text, use);
    EXPECT_TRUE(p.ok()) << text << ": " << p.status();
    if (!p.ok()) return std::nullopt;
    EXPECT_TRUE(WellFormed(*p)) << text;
    EXPECT_EQ(p->result, result) << text;
    return kernels::Upload(*p, exec_);
  }

  std::string Error(absl::string_view text, ExprUse use = ExprUse::kValue) const {
    absl::StatusOr<kernels::Program> p = Compile(text, use);
    if (p.ok()) return "OK";
    EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << text;
    return std::string(p.status().message());
  }

  // Evaluates `text` on every row against `ref`: as an int, a float (within
  // 4 ULPs; NaN matches NaN) or a string (read through its fold).
  void ExpectInts(const std::string& text, const std::function<OptI(int64_t)>& ref) {
    SCOPED_TRACE(text);
    std::optional<kernels::DeviceProgram> p = Build(text, ExprUse::kValue, ValueKind::kInt);
    ASSERT_TRUE(p);
    for (int64_t r = 0; r < kRows; ++r) {
      const OptI want = ref(r);
      const kernels::Slot got = kernels::Evaluate(p->view, r);
      ASSERT_EQ(got.valid, want.has_value()) << "row " << r;
      if (want) {
        ASSERT_EQ(got.i, *want) << "row " << r;
      }
    }
  }

  void ExpectFloats(const std::string& text, const std::function<OptF(int64_t)>& ref) {
    SCOPED_TRACE(text);
    std::optional<kernels::DeviceProgram> p = Build(text, ExprUse::kValue, ValueKind::kFloat);
    ASSERT_TRUE(p);
    for (int64_t r = 0; r < kRows; ++r) {
      const OptF want = ref(r);
      const kernels::Slot got = kernels::Evaluate(p->view, r);
      ASSERT_EQ(got.valid, want.has_value()) << "row " << r;
      if (!want) continue;
      if (std::isnan(*want)) {
        ASSERT_TRUE(std::isnan(got.f)) << "row " << r << ": " << got.f;
      } else if (std::isinf(*want)) {
        ASSERT_EQ(got.f, *want) << "row " << r;
      } else {
        ASSERT_DOUBLE_EQ(got.f, *want) << "row " << r;
      }
    }
  }

  static std::string Read(const kernels::Slot& v) {
    std::string out(v.s, static_cast<size_t>(v.len));
    for (char& c : out) c = kernels::FoldChar(c, v.fold);
    return out;
  }

  void ExpectStrings(const std::string& text, const std::function<OptS(int64_t)>& ref) {
    SCOPED_TRACE(text);
    std::optional<kernels::DeviceProgram> p = Build(text, ExprUse::kValue, ValueKind::kString);
    ASSERT_TRUE(p);
    for (int64_t r = 0; r < kRows; ++r) {
      const OptS want = ref(r);
      const kernels::Slot got = kernels::Evaluate(p->view, r);
      ASSERT_EQ(got.valid, want.has_value()) << "row " << r;
      if (want) {
        ASSERT_EQ(Read(got), *want) << "row " << r;
      }
    }
  }

  // A condition: its three-valued value, and as a filter (EvaluatePredicate).
  void ExpectBools(const std::string& text, const std::function<OptB(int64_t)>& ref) {
    SCOPED_TRACE(text);
    std::optional<kernels::DeviceProgram> value = Build(text, ExprUse::kValue, ValueKind::kInt);
    std::optional<kernels::DeviceProgram> filter =
        Build(text, ExprUse::kPredicate, ValueKind::kInt);
    ASSERT_TRUE(value && filter);
    int64_t trues = 0;
    for (int64_t r = 0; r < kRows; ++r) {
      const OptB want = ref(r);
      const kernels::Slot got = kernels::Evaluate(value->view, r);
      ASSERT_EQ(got.valid, want.has_value()) << "row " << r;
      if (want) {
        ASSERT_EQ(got.i, *want ? 1 : 0) << "row " << r;
      }
      ASSERT_EQ(kernels::EvaluatePredicate(filter->view, r), want.value_or(false)) << "row " << r;
      trues += want.value_or(false);
    }
    checked_trues_ += trues;
  }

  int64_t checked_trues_ = 0;
  kernels::MemoryResource mr_{kernels::Backend::kHost, 0, "host:test", 0};
  kernels::Exec exec_{kernels::Backend::kHost, 0, nullptr, &mr_};
  TableType type_;
  std::map<std::string, Host> host_;
  std::vector<kernels::Column> columns_;
  std::vector<kernels::ColumnView> views_;
};

struct PredicateCase {
  std::string text;
  std::function<OptB(int64_t)> ref;
};

TEST_F(ExpressionTest, Predicates) {
  const std::vector<PredicateCase> cases = {
      {"i > 2", [&](int64_t r) { return Gt(I("i", r), OptI(2)); }},
      {"i + 2 * 3 > l",
       [&](int64_t r) { return Gt(Lift(I("i", r), OptI(6), std::plus<>()), I("l", r)); }},
      {"(i + 2) * 3 = l % 7",
       [&](int64_t r) { return Eq(OptI((*I("i", r) + 2) * 3), Mod(I("l", r), 7)); }},
      {"l / i > 1", [&](int64_t r) { return Gt(Div(I("l", r), I("i", r)), OptI(1)); }},
      {"l % i = 0", [&](int64_t r) { return Eq(Mod(I("l", r), I("i", r)), OptI(0)); }},
      {"i / 2 = 1", [&](int64_t r) { return Eq(Div(I("i", r), 2), OptI(1)); }},
      {"i / 2.0 = 1.5", [&](int64_t r) { return Eq(OptF(*I("i", r) / 2.0), OptF(1.5)); }},
      {"i % 4 = -1", [&](int64_t r) { return Eq(Mod(I("i", r), 4), OptI(-1)); }},
      {"d % 2.5 > 1", [&](int64_t r) { return Gt(OptF(std::fmod(*F("d", r), 2.5)), OptF(1)); }},
      {"f > d", [&](int64_t r) { return Gt(F("f", r), F("d", r)); }},
      {"i = 2.0", [&](int64_t r) { return Eq(ToF(I("i", r)), OptF(2)); }},
      {"l >= 3.5", [&](int64_t r) { return Not(Lt(ToF(I("l", r)), OptF(3.5))); }},
      {"f / 0 = 1 or is_null(f / 0)", [](int64_t) { return OptB(true); }},
      {"i / 0 > 0", [](int64_t) { return OptB(); }},
      {"s = 'ab'", [&](int64_t r) { return Eq(S("s", r), OptS("ab")); }},
      {"s < 'b'", [&](int64_t r) { return Lt(S("s", r), OptS("b")); }},
      {"s >= ''", [&](int64_t r) { return Not(Lt(S("s", r), OptS(""))); }},
      {"s <> c4", [&](int64_t r) { return Not(Eq(S("s", r), S("c4", r))); }},
      {"c4 = 'abab' or c4 = \"\"",
       [&](int64_t r) { return Or(Eq(S("c4", r), OptS("abab")), Eq(S("c4", r), OptS(""))); }},
      {"c4 > s", [&](int64_t r) { return Gt(S("c4", r), S("s", r)); }},
      {"b > 'a'", [&](int64_t r) { return Gt(S("b", r), OptS("a")); }},
      {"b != s", [&](int64_t r) { return Not(Eq(S("b", r), S("s", r))); }},
      {"'a''b' == \"a'b\" and \"x\"\"y\" = 'x\"y'", [](int64_t) { return OptB(true); }},
      {"s = null", [](int64_t) { return OptB(); }},
      {"l > 100 or is_null(l)",
       [&](int64_t r) { return Or(Gt(I("l", r), OptI(100)), OptB(!I("l", r))); }},
      {"not (l > 100)", [&](int64_t r) { return Not(Gt(I("l", r), OptI(100))); }},
      {"not l > 100", [&](int64_t r) { return Not(Gt(I("l", r), OptI(100))); }},
      {"! l > 100", [&](int64_t r) { return Not(Gt(I("l", r), OptI(100))); }},
      {"not not (l < 0)", [&](int64_t r) { return Lt(I("l", r), OptI(0)); }},
      {"!(i = 1)", [&](int64_t r) { return Not(Eq(I("i", r), OptI(1))); }},
      {"l > 0 and f > 0",
       [&](int64_t r) { return And(Gt(I("l", r), OptI(0)), Gt(F("f", r), OptF(0))); }},
      {"l > 0 or f > 0",
       [&](int64_t r) { return Or(Gt(I("l", r), OptI(0)), Gt(F("f", r), OptF(0))); }},
      {"l > 0 or f > 0 and i < 0",
       [&](int64_t r) {
         return Or(Gt(I("l", r), OptI(0)), And(Gt(F("f", r), OptF(0)), Lt(I("i", r), OptI(0))));
       }},
      {"(l > 0 or f > 0) and i < 0",
       [&](int64_t r) {
         return And(Or(Gt(I("l", r), OptI(0)), Gt(F("f", r), OptF(0))), Lt(I("i", r), OptI(0)));
       }},
      {"i and l", [&](int64_t r) { return And(Truth(I("i", r)), Truth(I("l", r))); }},
      {"f", [&](int64_t r) { return Truth(F("f", r)); }},
      {"not f or i16", [&](int64_t r) { return Or(Not(Truth(F("f", r))), Truth(I("i16", r))); }},
      {"f or null", [&](int64_t r) { return Or(Truth(F("f", r)), OptB()); }},
      {"null", [](int64_t) { return OptB(); }},
      {"null and i > 5", [&](int64_t r) { return And(OptB(), Gt(I("i", r), OptI(5))); }},
      {"null = null", [](int64_t) { return OptB(); }},
      {"i != null", [](int64_t) { return OptB(); }},
      {"is_null(null)", [](int64_t) { return OptB(true); }},
      {"l is null", [&](int64_t r) { return OptB(!I("l", r)); }},
      {"l IS NOT NULL and s is not null", [&](int64_t r) { return OptB(I("l", r) && S("s", r)); }},
      {"l + 1 is null or f > 0", [&](int64_t r) { return Or(OptB(!I("l", r)), Gt(F("f", r), OptF(0))); }},
      {"not s is null", [&](int64_t r) { return OptB(S("s", r).has_value()); }},
      {"i8 > 0x1F", [&](int64_t r) { return Gt(I("i8", r), OptI(31)); }},
      {"i8 < -0X1f", [&](int64_t r) { return Lt(I("i8", r), OptI(-31)); }},
      {"I > 1 AND Not flag Or IS_NULL(s)",
       [&](int64_t r) {
         return Or(And(Gt(I("i", r), OptI(1)), Not(Truth(I("flag", r)))), OptB(!S("s", r)));
       }},
      {"price > 5 OR NULL", [&](int64_t r) { return Or(Gt(F("Price", r), OptF(5)), OptB()); }},
      {"flag", [&](int64_t r) { return Truth(I("flag", r)); }},
      {"flag = 1 and i16 < 0",
       [&](int64_t r) { return And(Eq(I("flag", r), OptI(1)), Lt(I("i16", r), OptI(0))); }},
      {"i16 * i8 > 100",
       [&](int64_t r) {
         return Gt(Lift(I("i16", r), I("i8", r), std::multiplies<>()), OptI(100));
       }},
      {"ts > 1700000000000 + 500", [&](int64_t r) { return Gt(I("ts", r), OptI(1700000000500)); }},
      {"ts % 1000 < 250", [&](int64_t r) { return Lt(Mod(I("ts", r), 1000), OptI(250)); }},
      {"-i > 3", [&](int64_t r) { return Gt(OptI(-*I("i", r)), OptI(3)); }},
      {"- -i = i and +i = i", [](int64_t) { return OptB(true); }},
      {"not -f", [&](int64_t r) { return Not(Truth(F("f", r))); }},
      {"-f", [&](int64_t r) { return Truth(F("f", r)); }},
      {"-f or i < -100", [&](int64_t r) { return Truth(F("f", r)); }},
      {"-f < -1.5",
       [&](int64_t r) { return Lt(Lift(F("f", r), OptF(-1), std::multiplies<>()), OptF(-1.5)); }},
      {"d > 1e0 or d < .5 and d >= 2.5e-1",
       [&](int64_t r) {
         return Or(Gt(F("d", r), OptF(1)),
                   And(Lt(F("d", r), OptF(.5)), Not(Lt(F("d", r), OptF(.25)))));
       }},
      {"i<>1 and\ti<=3\nand i>=-2",
       [&](int64_t r) {
         const int64_t i = *I("i", r);
         return OptB(i != 1 && i <= 3 && i >= -2);
       }},
  };
  for (const PredicateCase& pc : cases) {
    SCOPED_TRACE(pc.text);
    // As a value, the three-valued result itself; as a filter, true or not.
    absl::StatusOr<kernels::Program> value = Compile(pc.text, ExprUse::kValue);
    ASSERT_TRUE(value.ok()) << value.status();
    ASSERT_TRUE(WellFormed(*value));
    const bool is_float = value->result == ValueKind::kFloat;
    const kernels::DeviceProgram value_program = kernels::Upload(*value, exec_);
    std::optional<kernels::DeviceProgram> filter =
        Build(pc.text, ExprUse::kPredicate, ValueKind::kInt);
    ASSERT_TRUE(filter);
    for (int64_t r = 0; r < kRows; ++r) {
      const OptB want = pc.ref(r);
      const kernels::Slot got = kernels::Evaluate(value_program.view, r);
      ASSERT_EQ(got.valid, want.has_value()) << "row " << r;
      if (want) {
        ASSERT_EQ(is_float ? got.f != 0 : got.i != 0, *want) << "row " << r;
      }
      ASSERT_EQ(kernels::EvaluatePredicate(filter->view, r), want.value_or(false)) << "row " << r;
    }
  }
}

TEST_F(ExpressionTest, IntValues) {
  const std::vector<std::pair<std::string, std::function<OptI(int64_t)>>> cases = {
      {"i + l * 2 - 3",
       [&](int64_t r) {
         return Lift(I("i", r), I("l", r), [](int64_t a, int64_t b) { return a + b * 2 - 3; });
       }},
      {"(i + l) * 2",
       [&](int64_t r) {
         return Lift(I("i", r), I("l", r), [](int64_t a, int64_t b) { return (a + b) * 2; });
       }},
      {"i - l - 3",
       [&](int64_t r) {
         return Lift(I("i", r), I("l", r), [](int64_t a, int64_t b) { return a - b - 3; });
       }},
      {"l / i", [&](int64_t r) { return Div(I("l", r), I("i", r)); }},
      {"l % i", [&](int64_t r) { return Mod(I("l", r), I("i", r)); }},
      {"-l % 7", [&](int64_t r) { return Mod(Lift(I("l", r), OptI(-1), std::multiplies<>()), 7); }},
      {"100 / i / 2", [&](int64_t r) { return Div(Div(100, I("i", r)), 2); }},
      {"0x1F + 0XfF", [](int64_t) { return OptI(31 + 255); }},
      {"i8 * i16", [&](int64_t r) { return Lift(I("i8", r), I("i16", r), std::multiplies<>()); }},
      {"is_null(l) + is_null(s) * 2", [&](int64_t r) { return OptI(!I("l", r) + 2 * !S("s", r)); }},
      {"ts - 1700000000000", [&](int64_t r) { return OptI(*I("ts", r) - 1700000000000); }},
      {"i > 2", [&](int64_t r) { return OptI(*I("i", r) > 2); }},
      {"flag + flag", [&](int64_t r) { return OptI(*I("flag", r) * 2); }},
      {"9223372036854775807 + 1", [](int64_t) { return OptI(kInt64Min); }},
      {"-9223372036854775808", [](int64_t) { return OptI(kInt64Min); }},
      {"-0x7fffffffffffffff - 1", [](int64_t) { return OptI(kInt64Min); }},
      {"-9223372036854775808 / -1", [](int64_t) { return OptI(kInt64Min); }},
      {"-9223372036854775808 % -1", [](int64_t) { return OptI(0); }},
      {"null + i", [](int64_t) { return OptI(); }},
      {"-null", [](int64_t) { return OptI(); }},
      {"7 / 0", [](int64_t) { return OptI(); }},
      {"7 % (i - i)", [](int64_t) { return OptI(); }},
  };
  for (const auto& [text, ref] : cases) {
    SCOPED_TRACE(text);
    std::optional<kernels::DeviceProgram> p = Build(text, ExprUse::kValue, ValueKind::kInt);
    ASSERT_TRUE(p);
    for (int64_t r = 0; r < kRows; ++r) {
      const OptI want = ref(r);
      const kernels::Slot got = kernels::Evaluate(p->view, r);
      ASSERT_EQ(got.valid, want.has_value()) << "row " << r;
      if (want) {
        ASSERT_EQ(got.i, *want) << "row " << r;
      }
    }
  }
}

TEST_F(ExpressionTest, FloatValues) {
  const std::vector<std::tuple<std::string, ExprUse, std::function<OptF(int64_t)>>> cases = {
      {"f * 2 + d", ExprUse::kValue,
       [&](int64_t r) {
         return Lift(F("f", r), F("d", r), [](double a, double b) { return a * 2 + b; });
       }},
      {"i / 4.0", ExprUse::kValue,
       [&](int64_t r) { return OptF(static_cast<double>(*I("i", r)) / 4.0); }},
      {"d % 3", ExprUse::kValue, [&](int64_t r) { return OptF(std::fmod(*F("d", r), 3.0)); }},
      {"-f", ExprUse::kValue,
       [&](int64_t r) { return Lift(F("f", r), OptF(-1), std::multiplies<>()); }},
      {"i + 0.5 - l", ExprUse::kValue,
       [&](int64_t r) {
         return Lift(ToF(I("i", r)), ToF(I("l", r)),
                     [](double a, double b) { return a + 0.5 - b; });
       }},
      {"d / f", ExprUse::kValue,
       [&](int64_t r) {
         return F("f", r) == OptF(0.0) ? OptF() : Lift(F("d", r), F("f", r), std::divides<>());
       }},
      {"1e3 + .5", ExprUse::kValue, [](int64_t) { return OptF(1000.5); }},
      {"i + l", ExprUse::kNumber,
       [&](int64_t r) { return ToF(Lift(I("i", r), I("l", r), std::plus<>())); }},
      {"l / i", ExprUse::kNumber, [&](int64_t r) { return ToF(Div(I("l", r), I("i", r))); }},
      {"d", ExprUse::kNumber, [&](int64_t r) { return F("d", r); }},
      {"is_null(s)", ExprUse::kNumber, [&](int64_t r) { return OptF(S("s", r) ? 0 : 1); }},
      {"null", ExprUse::kNumber, [](int64_t) { return OptF(); }},
  };
  for (const auto& [text, use, ref] : cases) {
    SCOPED_TRACE(text);
    std::optional<kernels::DeviceProgram> p = Build(text, use, ValueKind::kFloat);
    ASSERT_TRUE(p);
    for (int64_t r = 0; r < kRows; ++r) {
      const OptF want = ref(r);
      const kernels::Slot got = kernels::Evaluate(p->view, r);
      ASSERT_EQ(got.valid, want.has_value()) << "row " << r;
      if (want) {
        ASSERT_DOUBLE_EQ(got.f, *want) << "row " << r;
      }
    }
  }
}

TEST_F(ExpressionTest, StringValues) {
  const std::vector<std::pair<std::string, std::function<OptS(int64_t)>>> cases = {
      {"s", [&](int64_t r) { return S("s", r); }},
      {"c4", [&](int64_t r) { return S("c4", r); }},
      {"B", [&](int64_t r) { return S("b", r); }},
      {"'it''s'", [](int64_t) { return OptS("it's"); }},
      {"\"say \"\"hi\"\"\"", [](int64_t) { return OptS("say \"hi\""); }},
      {"''", [](int64_t) { return OptS(""); }},
      {"'caf\xc3\xa9'", [](int64_t) { return OptS("caf\xc3\xa9"); }},
  };
  for (const auto& [text, ref] : cases) {
    SCOPED_TRACE(text);
    std::optional<kernels::DeviceProgram> p = Build(text, ExprUse::kValue, ValueKind::kString);
    ASSERT_TRUE(p);
    for (int64_t r = 0; r < kRows; ++r) {
      const OptS want = ref(r);
      const kernels::Slot got = kernels::Evaluate(p->view, r);
      ASSERT_EQ(got.valid, want.has_value()) << "row " << r;
      if (want) {
        ASSERT_EQ(std::string(got.s, static_cast<size_t>(got.len)), *want) << "row " << r;
      }
    }
  }
}

TEST_F(ExpressionTest, SelectAndCount) {
  const std::string text = "l > 0 and s < 'b' or c4 = 'ab' and not is_null(f)";
  std::optional<kernels::DeviceProgram> p = Build(text, ExprUse::kPredicate, ValueKind::kInt);
  ASSERT_TRUE(p);
  auto want = [&](int64_t r) {
    return Or(And(Gt(I("l", r), OptI(0)), Lt(S("s", r), OptS("b"))),
              And(Eq(S("c4", r), OptS("ab")), OptB(F("f", r).has_value())))
        .value_or(false);
  };
  for (const auto& [begin, end] :
       std::vector<std::pair<int64_t, int64_t>>{{0, kRows}, {123, 777}, {5, 5}, {999, 1000}}) {
    std::vector<int64_t> expected;
    for (int64_t r = begin; r < end; ++r) {
      if (want(r)) expected.push_back(r);
    }
    EXPECT_EQ(kernels::Count(p->view, begin, end, exec_), static_cast<int64_t>(expected.size()));
    const kernels::Selection sel = kernels::Select(p->view, begin, end, exec_);
    ASSERT_EQ(sel.count, static_cast<int64_t>(expected.size()));
    const int64_t* rows = sel.indices.as<int64_t>();
    EXPECT_EQ(std::vector<int64_t>(rows, rows + sel.count), expected);
  }
  EXPECT_GT(kernels::Count(p->view, 0, kRows, exec_), 50);
}

TEST_F(ExpressionTest, EmitsTheExpectedCode) {
  using kernels::Op;
  auto code = [&](absl::string_view text, ExprUse use) {
    std::vector<std::pair<Op, int32_t>> out;
    absl::StatusOr<kernels::Program> p = Compile(text, use);
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok()) {
      for (const kernels::Instr& in : p->code) out.emplace_back(in.op, in.arg);
    }
    return out;
  };
  using Code = std::vector<std::pair<Op, int32_t>>;
  const int32_t gt = static_cast<int32_t>(kernels::Cmp::kGt);
  EXPECT_EQ(code("i + 2.5 > l", ExprUse::kPredicate), (Code{{Op::kColumn, 0},
                                                            {Op::kIntToFloat, 0},
                                                            {Op::kConstFloat, 0},
                                                            {Op::kAddF, 0},
                                                            {Op::kColumn, 1},
                                                            {Op::kIntToFloat, 0},
                                                            {Op::kCmpF, gt}}));
  EXPECT_EQ(code("i and not f", ExprUse::kPredicate), (Code{{Op::kColumn, 0},
                                                            {Op::kTruthI, 0},
                                                            {Op::kColumn, 1},
                                                            {Op::kTruthF, 0},
                                                            {Op::kNot, 0},
                                                            {Op::kAnd, 0}}));
  EXPECT_EQ(code("-i or is_null(s)", ExprUse::kValue), (Code{{Op::kColumn, 0},
                                                             {Op::kNegI, 0},
                                                             {Op::kTruthI, 0},
                                                             {Op::kColumn, 1},
                                                             {Op::kIsNull, 0},
                                                             {Op::kOr, 0}}));
  EXPECT_EQ(code("s > 'a'", ExprUse::kPredicate),
            (Code{{Op::kColumn, 0}, {Op::kConstString, 0}, {Op::kCmpS, gt}}));
  EXPECT_EQ(code("null", ExprUse::kPredicate), (Code{{Op::kConstNull, 0}}));
  EXPECT_EQ(code("i", ExprUse::kPredicate), (Code{{Op::kColumn, 0}, {Op::kTruthI, 0}}));
  EXPECT_EQ(code("d", ExprUse::kPredicate), (Code{{Op::kColumn, 0}, {Op::kTruthF, 0}}));
  EXPECT_EQ(code("i", ExprUse::kNumber), (Code{{Op::kColumn, 0}, {Op::kIntToFloat, 0}}));
  EXPECT_EQ(code("i % 3", ExprUse::kValue),
            (Code{{Op::kColumn, 0}, {Op::kConstInt, 0}, {Op::kModI, 0}}));
}

TEST_F(ExpressionTest, ColumnTableHoldsReferencedColumnsOnly) {
  absl::StatusOr<kernels::Program> p = Compile("d > i and I < 3 and d < 5", ExprUse::kPredicate);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->columns.size(), 2u);
  EXPECT_EQ(p->columns[0].data, views_[3].data);  // d
  EXPECT_EQ(p->columns[1].data, views_[0].data);  // i
  std::vector<int32_t> args;
  for (const kernels::Instr& in : p->code) {
    if (in.op == kernels::Op::kColumn) args.push_back(in.arg);
  }
  EXPECT_EQ(args, (std::vector<int32_t>{0, 1, 1, 0}));

  absl::StatusOr<kernels::Program> constant = Compile("1 + 2", ExprUse::kValue);
  ASSERT_TRUE(constant.ok());
  EXPECT_TRUE(constant->columns.empty());
}

TEST_F(ExpressionTest, ReferencedColumns) {
  absl::StatusOr<std::vector<std::string>> names =
      engine::ReferencedColumns("d > I and i < 3 or PRICE > 1 or is_null(c4) or d = 0", type_);
  ASSERT_TRUE(names.ok()) << names.status();
  EXPECT_EQ(*names, (std::vector<std::string>{"d", "i", "Price", "c4"}));
  names = engine::ReferencedColumns("1 = 1", type_);
  ASSERT_TRUE(names.ok());
  EXPECT_TRUE(names->empty());
  EXPECT_EQ(engine::ReferencedColumns("x > 1", type_).status().message(),
            "unknown column 'x' at position 1");
  EXPECT_EQ(engine::ReferencedColumns("s > 1", type_).status().message(),
            "cannot compare string with number at position 3");
  // A string value is fine when the use is not known.
  EXPECT_TRUE(engine::ReferencedColumns("s", type_).ok());
}

TEST_F(ExpressionTest, Errors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "expression is empty"},
      {"  \t\n", "expression is empty"},
      {"foo > 1", "unknown column 'foo' at position 1"},
      {"i + foo", "unknown column 'foo' at position 5"},
      {"i > 1 and (l < 2", "expected ')' at position 17"},
      {"s = 1", "cannot compare string with number at position 3"},
      {"1 = s", "cannot compare number with string at position 3"},
      {"s > f", "cannot compare string with number at position 3"},
      {"s = 1.5", "cannot compare string with number at position 3"},
      {"s + 1", "cannot use '+' on a string at position 3"},
      {"1 % c4", "cannot use '%' on a string at position 3"},
      {"s * 'a'", "cannot use '*' on a string at position 3"},
      {"-s", "cannot use '-' on a string at position 1"},
      {"+b", "cannot use '+' on a string at position 1"},
      {"s and i > 1", "cannot use a string as a condition at position 3"},
      {"i > 1 or s", "cannot use a string as a condition at position 7"},
      {"not c4", "cannot use a string as a condition at position 1"},
      {"i +", "unexpected end of expression at position 4"},
      {"i 1", "unexpected '1' at position 3"},
      {"i > 1 )", "unexpected ')' at position 7"},
      {"i = 'a' 'b'", "unexpected string at position 9"},
      {"(", "unexpected end of expression at position 2"},
      {"()", "unexpected ')' at position 2"},
      {"i > > 1", "unexpected '>' at position 5"},
      {"and", "unexpected 'and' at position 1"},
      {"i = not 1", "unexpected 'not' at position 5"},
      {"null(1)", "unexpected '(' at position 5"},
      {"i > 1 and", "unexpected end of expression at position 10"},
      {"'abc", "unterminated string at position 1"},
      {"s = 'it''s", "unterminated string at position 5"},
      {"s = \"x'", "unterminated string at position 5"},
      {"i # 2", "unexpected character '#' at position 3"},
      {"i && l", "unexpected character '&' at position 3"},
      {".", "unexpected character '.' at position 1"},
      {"i = 1\x01", "unexpected character '\\x01' at position 6"},
      {"i = '\xc3\xa9' and \xc3\xa9", "unexpected character '\\xc3\\xa9' at position 13"},
      {"'\xc3\xa9' = 1", "cannot compare string with number at position 5"},
      {"foo(1)", "unknown function 'foo' at position 1"},
      {"is_null()", "function 'is_null' takes 1 argument, not 0 at position 1"},
      {"IS_NULL(i, l)", "function 'is_null' takes 1 argument, not 2 at position 1"},
      {"is_null(i l)", "expected ',' or ')' at position 11"},
      {"is_null(i,)", "unexpected ')' at position 11"},
      {"is_null(zz)", "unknown column 'zz' at position 9"},
      {"1 < 2 < 3", "comparisons cannot be chained at position 7"},
      {"i is 1", "expected 'null' after 'is' at position 6"},
      {"i is not", "expected 'null' after 'is' at position 9"},
      {"i is null = 1", "comparisons cannot be chained at position 11"},
      {"i = 1 = 1", "comparisons cannot be chained at position 7"},
      {"0x", "invalid number at position 1"},
      {"0x1G", "invalid number at position 1"},
      {"i + 12abc", "invalid number at position 5"},
      {"1e", "invalid number at position 1"},
      {"i > 1e+", "invalid number at position 5"},
      {"1.2.3", "invalid number at position 1"},
      {"9223372036854775808", "integer is out of range at position 1"},
      {"i + 99999999999999999999999", "integer is out of range at position 5"},
      {"0x8000000000000000", "integer is out of range at position 1"},
      {"-9223372036854775809", "integer is out of range at position 2"},
      {"18446744073709551616", "integer is out of range at position 1"},
      {"0x10000000000000000", "integer is out of range at position 1"},
      {"1e999", "number is out of range at position 1"},
      {"i = 0x" + std::string(20, 'f'), "integer is out of range at position 5"},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_EQ(Error(text), message) << text;
  }
  EXPECT_EQ(Error("s", ExprUse::kPredicate), "expression must be a condition, not a string");
  EXPECT_EQ(Error("c4", ExprUse::kNumber), "expression must be a number, not a string");
  EXPECT_EQ(Error("s", ExprUse::kValue), "OK");
  EXPECT_EQ(Error(std::string(kMaxExpressionLength + 1, ' ')),
            "expression is too long (4194305 bytes; the limit is 4194304)");

  const TableType twins({Def("ab", ColumnKind::kInt, false), Def("AB", ColumnKind::kInt, false)},
                        "");
  EXPECT_EQ(engine::ReferencedColumns("aB > 1", twins).status().message(),
            "ambiguous column 'aB' at position 1");
  EXPECT_TRUE(engine::ReferencedColumns("ab > 1 and AB > 1", twins).ok());

  EXPECT_EQ(CompileExpression("i", type_, {}, ExprUse::kValue).status().code(),
            absl::StatusCode::kInternal);
}

TEST_F(ExpressionTest, NestingIsBounded) {
  const int n = 10000;
  EXPECT_EQ(Error(std::string(n, '(') + "1" + std::string(n, ')')),
            "expression is nested too deeply at position 201");
  std::string nots;
  for (int k = 0; k < n; ++k) nots += "not ";
  EXPECT_EQ(Error(nots + "i"), "expression is nested too deeply at position 801");
  EXPECT_EQ(Error(std::string(n, '!') + "i"), "expression is nested too deeply at position 201");
  EXPECT_EQ(Error(std::string(n, '-') + "i"), "expression is nested too deeply at position 201");
  std::string calls;
  for (int k = 0; k < n / 2; ++k) calls += "is_null(";
  EXPECT_EQ(Error(calls + "i"), "expression is nested too deeply at position 1601");
  EXPECT_EQ(Error(std::string(n, '(')), "expression is nested too deeply at position 201");

  // Within the nesting limit, the VM's stack is the limit: 1+(1+(...)) needs
  // one slot per level.
  auto right_nested = [](int levels) {
    std::string s;
    for (int k = 0; k < levels; ++k) s += "1+(";
    s += "1";
    return s + std::string(levels, ')');
  };
  absl::StatusOr<kernels::Program> fits =
      Compile(right_nested(kernels::kMaxStackDepth - 1), ExprUse::kValue);
  ASSERT_TRUE(fits.ok()) << fits.status();
  EXPECT_TRUE(WellFormed(*fits));
  EXPECT_EQ(Error(right_nested(kernels::kMaxStackDepth)), "expression is too complex");
  EXPECT_EQ(Error(right_nested(90)), "expression is too complex");
  EXPECT_EQ(Error(right_nested(100)), "expression is nested too deeply at position 301");
  std::string parens = std::string(150, '(') + "i" + std::string(150, ')');
  EXPECT_EQ(Error(parens), "OK");
}

// Compiling at the nesting limit, or refusing deeper text, needs little
// stack: it works on a thread with a 1 MiB stack (a release build needs
// under 64 KiB; sanitizer and debug builds need several times more).
TEST_F(ExpressionTest, DeepestNestingFitsASmallStack) {
  const int n = kMaxExpressionNesting - 1;
  struct Job {
    const TableType* type;
    std::vector<std::string> texts;
    std::vector<std::string> results;
  } job{&type_, {}, {}};
  job.texts.push_back(std::string(n, '(') + "i" + std::string(n, ')'));
  job.texts.push_back(std::string(n, '-') + "i");
  std::string calls;
  for (int k = 0; k < n; ++k) calls += "is_null(";
  job.texts.push_back(calls + "i" + std::string(n, ')'));
  job.texts.push_back(std::string(10000, '(') + "i" + std::string(10000, ')'));
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  // 1 MiB; AddressSanitizer's frames (red zones) take a few times more.
#if defined(__SANITIZE_ADDRESS__)
  pthread_attr_setstacksize(&attr, 8 * 1024 * 1024);
#else
  pthread_attr_setstacksize(&attr, 1024 * 1024);
#endif
  pthread_t thread;
  auto run = [](void* arg) -> void* {
    Job* job = static_cast<Job*>(arg);
    for (const std::string& text : job->texts) {
      job->results.push_back(engine::ReferencedColumns(text, *job->type).status().ToString());
    }
    return nullptr;
  };
  ASSERT_EQ(pthread_create(&thread, &attr, run, &job), 0);
  pthread_join(thread, nullptr);
  pthread_attr_destroy(&attr);
  EXPECT_EQ(job.results, (std::vector<std::string>{
                             "OK", "OK", "OK",
                             "INVALID_ARGUMENT: expression is nested too deeply at position 201"}));
}

TEST_F(ExpressionTest, LongChainsNeedNoDepth) {
  // Left-associative chains keep the stack shallow however long they are.
  std::string ors = "i = 0";
  for (int k = 1; k < 3000; ++k) ors += " or i = " + std::to_string(k);
  std::optional<kernels::DeviceProgram> p = Build(ors, ExprUse::kPredicate, ValueKind::kInt);
  ASSERT_TRUE(p);
  for (int64_t r = 0; r < kRows; ++r) {
    ASSERT_EQ(kernels::EvaluatePredicate(p->view, r), *I("i", r) >= 0) << r;
  }
  std::string sum = "1";
  for (int k = 1; k < 20000; ++k) sum += k % 2 ? "+1" : "*1";
  ASSERT_LE(sum.size(), kMaxExpressionLength);
  p = Build(sum, ExprUse::kValue, ValueKind::kInt);
  ASSERT_TRUE(p);
  EXPECT_EQ(kernels::Evaluate(p->view, 0).i, 10001);
}

TEST_F(ExpressionTest, FuzzNeverCrashes) {
  const std::vector<std::string> vocabulary = {"i",        "l",
                                               "f",        "d",
                                               "s",        "c4",
                                               "b",        "i8",
                                               "flag",     "ts",
                                               "(",        ")",
                                               "+",        "-",
                                               "*",        "/",
                                               "%",        "=",
                                               "==",       "<",
                                               ">=",       "<>",
                                               "!=",       "!",
                                               "not",      "and",
                                               "or",       "NULL",
                                               "is_null",  "1",
                                               "0",        "2.5",
                                               "0x1F",     "'a'",
                                               "\"\"",     ",",
                                               "'",        "\"",
                                               "\xc3\xa9", "#",
                                               ".",        "1e",
                                               " ",        "zz",
                                               "9e999",    "99999999999999999999"};
  std::mt19937_64 rng(7);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  const ExprUse uses[] = {ExprUse::kPredicate, ExprUse::kNumber, ExprUse::kValue};
  int compiled = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text;
    if (iter % 4 == 0) {
      text.resize(static_cast<size_t>(uniform(0, 40)));
      for (char& c : text) c = static_cast<char>(uniform(0, 255));
    } else {
      const int64_t tokens = uniform(1, 30);
      for (int64_t k = 0; k < tokens; ++k) {
        text += vocabulary[static_cast<size_t>(uniform(0, vocabulary.size() - 1))];
        if (uniform(0, 1)) text += ' ';
      }
    }
    const ExprUse use = uses[iter % 3];
    absl::StatusOr<kernels::Program> p = Compile(text, use);
    absl::StatusOr<std::vector<std::string>> names = engine::ReferencedColumns(text, type_);
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << text;
      EXPECT_FALSE(p.status().message().empty());
      continue;
    }
    ++compiled;
    EXPECT_TRUE(names.ok()) << text;
    ASSERT_TRUE(WellFormed(*p)) << text;
    const kernels::DeviceProgram dp = kernels::Upload(*p, exec_);
    for (int64_t r = 0; r < 10; ++r) kernels::Evaluate(dp.view, r);
  }
  EXPECT_GT(compiled, 100);
}

// ---------------------------------------------------------------------------
// The full language: in, between, like, conditionals, math, strings, dates.

TEST_F(ExpressionTest, InLists) {
  using VI = std::vector<OptI>;
  using VF = std::vector<OptF>;
  using VS = std::vector<OptS>;
  ExpectBools("i in (1, 2, -3)", [&](int64_t r) { return In(I("i", r), VI{1, 2, -3}); });
  {
    // A long list, out of order, with duplicates.
    VI many;
    std::string list;
    for (int64_t k = 0; k < 5000; ++k) {
      many.push_back((k * 7919) % 3001 - 1500);
      absl::StrAppend(&list, k == 0 ? "" : ", ", *many.back());
    }
    ExpectBools(absl::StrCat("i in (", list, ")"), [&](int64_t r) { return In(I("i", r), many); });
  }
  ExpectBools("l in (5, -7, 1000, 0x10)",
              [&](int64_t r) { return In(I("l", r), VI{5, -7, 1000, 16}); });
  ExpectBools("l not in (1, 2)", [&](int64_t r) { return Not(In(I("l", r), VI{1, 2})); });
  ExpectBools("i in (1, null)", [&](int64_t r) { return In(I("i", r), VI{1, std::nullopt}); });
  ExpectBools("i NOT IN (1, null, 2)",
              [&](int64_t r) { return Not(In(I("i", r), VI{1, std::nullopt, 2})); });
  ExpectBools("i in (null)", [](int64_t) { return OptB(); });
  ExpectBools("i not in (null, null)", [](int64_t) { return OptB(); });
  ExpectBools("null in (1, 2)", [](int64_t) { return OptB(); });
  ExpectBools("null not in ('a')", [](int64_t) { return OptB(); });
  ExpectBools("i in (1.0, 2.5, -3)", [&](int64_t r) { return In(ToF(I("i", r)), VF{1, 2.5, -3}); });
  ExpectBools("f in (0.25, -1, 2, -(-1.5), +3)",
              [&](int64_t r) { return In(F("f", r), VF{0.25, -1, 2, 1.5, 3}); });
  ExpectBools("f not in (0.5, null)",
              [&](int64_t r) { return Not(In(F("f", r), VF{0.5, std::nullopt})); });
  ExpectBools("i8 in (-128, 127, 0, 5)",
              [&](int64_t r) { return In(I("i8", r), VI{-128, 127, 0, 5}); });
  ExpectBools("i16 in (-300, 300, 7)", [&](int64_t r) { return In(I("i16", r), VI{-300, 300, 7}); });
  ExpectBools("flag in (1)", [&](int64_t r) { return In(I("flag", r), VI{1}); });
  ExpectBools("ts in (1700000000000, 1700000000999)",
              [&](int64_t r) { return In(I("ts", r), VI{1700000000000, 1700000000999}); });
  ExpectBools("s in ('a', 'ab', '')", [&](int64_t r) { return In(S("s", r), VS{"a", "ab", ""}); });
  ExpectBools("s not in ('a', null)",
              [&](int64_t r) { return Not(In(S("s", r), VS{"a", std::nullopt})); });
  ExpectBools("c4 in ('abab', 'b', \"\")",
              [&](int64_t r) { return In(S("c4", r), VS{"abab", "b", ""}); });
  ExpectBools("b in ('a', 'aa')", [&](int64_t r) { return In(S("b", r), VS{"a", "aa"}); });
  ExpectBools("lower(w) in ('ab', 'a', 'AB')",
              [&](int64_t r) { return In(Lower(S("w", r)), VS{"ab", "a", "AB"}); });
  ExpectBools("upper(c8) not in ('AB', 'ABBA')",
              [&](int64_t r) { return Not(In(Upper(S("c8", r)), VS{"AB", "ABBA"})); });
  ExpectBools("i in (1) and l > 0 or i in (2)",
              [&](int64_t r) {
                return Or(And(In(I("i", r), VI{1}), Gt(I("l", r), OptI(0))), In(I("i", r), VI{2}));
              });
  ExpectBools("not i in (1, 2)", [&](int64_t r) { return Not(In(I("i", r), VI{1, 2})); });
  ExpectBools("i + 1 in (2, 3)", [&](int64_t r) { return In(OptI(*I("i", r) + 1), VI{2, 3}); });
  // A long list is one op.
  std::string list = "l in (0";
  VI values = {0};
  for (int k = 1; k < 500; ++k) {
    list += ", " + std::to_string(k * 3 - 700);
    values.push_back(k * 3 - 700);
  }
  ExpectBools(list + ")", [&](int64_t r) { return In(I("l", r), values); });
  EXPECT_GT(checked_trues_, 2000);
}

TEST_F(ExpressionTest, OrChainsOfEqualitiesAnswerAsWritten) {
  // A column equal to several literals in one OR chain is searched as an IN
  // list (below): the truth values must stay those of the chain as written,
  // nulls included, whatever else the chain holds and wherever it stands.
  using VI = std::vector<OptI>;
  ExpectBools("i = 1 or i = 2 or i = -3", [&](int64_t r) { return In(I("i", r), VI{1, 2, -3}); });
  ExpectBools("1 = i or i = 2", [&](int64_t r) { return In(I("i", r), VI{1, 2}); });
  ExpectBools("i = 1 or l > 3 or i = 2 or l = 5 or l = -7", [&](int64_t r) {
    return Or(
        Or(Or(Or(Eq(I("i", r), OptI(1)), Gt(I("l", r), OptI(3))), Eq(I("i", r), OptI(2))), Eq(I("l", r), OptI(5))),
        Eq(I("l", r), OptI(-7)));
  });
  ExpectBools("i = 1 or (i = 2 or (f = 0.5 or i = 3))", [&](int64_t r) {
    return Or(In(I("i", r), VI{1, 2, 3}), Eq(F("f", r), OptF(0.5)));
  });
  ExpectBools("i = 1.5 or i = 2 or i = -(3)", [&](int64_t r) {
    return In(ToF(I("i", r)), std::vector<OptF>{1.5, 2, -3});
  });
  ExpectBools("s = 'a' or s = '' or s = 'ab' or i = 1", [&](int64_t r) {
    return Or(In(S("s", r), std::vector<OptS>{"a", "", "ab"}), Eq(I("i", r), OptI(1)));
  });
  ExpectBools("i = null or i = 1 or i = 2", [&](int64_t r) { return Or(OptB(), In(I("i", r), VI{1, 2})); });
  ExpectBools("not (i = 1 or i = 2) and l > 0", [&](int64_t r) {
    return And(Not(In(I("i", r), VI{1, 2})), Gt(I("l", r), OptI(0)));
  });
  ExpectBools("i = 1 or i", [&](int64_t r) { return Or(Eq(I("i", r), OptI(1)), Truth(I("i", r))); });
  // 3,000 terms: one search a row, not 3,000 comparisons.
  std::string chain = "l = 0";
  VI values = {0};
  for (int k = 1; k < 3000; ++k) {
    absl::StrAppend(&chain, " or l = ", k * 3 - 4000);
    values.push_back(k * 3 - 4000);
  }
  ExpectBools(chain, [&](int64_t r) { return In(I("l", r), values); });
  absl::StatusOr<kernels::Program> p = Compile(chain, ExprUse::kPredicate);
  ASSERT_TRUE(p.ok()) << p.status();
  ASSERT_EQ(p->code.size(), 2u);
  EXPECT_EQ(p->code[1].op, kernels::Op::kInI);
  EXPECT_EQ(p->code[1].arg2, 3000);
  EXPECT_GT(checked_trues_, 1000);
}

TEST_F(ExpressionTest, IntegerConstantsOfAChainAreAddedOnce) {
  // Integers wrap, so a chain's integer constants sum to one addition with
  // the values of the chain as written; floats keep their order (rounding).
  const auto wrap = [](OptI x, uint64_t c) {
    return x ? OptI(static_cast<int64_t>(static_cast<uint64_t>(*x) + c)) : OptI();
  };
  ExpectInts("((l + 0) + 1) - 3 + 10", [&](int64_t r) { return wrap(I("l", r), 8); });
  ExpectInts("l + 9223372036854775807 + 2",
             [&](int64_t r) { return wrap(wrap(I("l", r), 9223372036854775807ull), 2); });
  ExpectInts("1 + i + 2", [&](int64_t r) { return wrap(I("i", r), 3); });
  ExpectInts("l - 5 + i - 2", [&](int64_t r) { return wrap(Lift(wrap(I("l", r), -5), I("i", r), std::plus<>()), -2); });
  ExpectInts("(i * 2 + 3) + 4 - 7", [&](int64_t r) { return Lift(I("i", r), OptI(2), std::multiplies<>()); });
  ExpectFloats("((d + 0.1) + 0.2) - 0.3", [&](int64_t r) {
    const OptF d = F("d", r);
    return d ? OptF(((*d + 0.1) + 0.2) - 0.3) : OptF();
  });
  ExpectFloats("(i + 1) + 0.5", [&](int64_t r) { return Lift(ToF(wrap(I("i", r), 1)), OptF(0.5), std::plus<>()); });
  // 90 nested additions of constants: one addition a row.
  std::string chain = "l";
  for (int k = 0; k < 90; ++k) chain = absl::StrCat("(", chain, " + ", k, ")");
  ExpectBools(chain + " > 100000", [&](int64_t r) { return Gt(wrap(I("l", r), 4005), OptI(100000)); });
  absl::StatusOr<kernels::Program> p = Compile(chain + " > 100000", ExprUse::kPredicate);
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->code.size(), 5u);  // l, 4005, +, 100000, >
}

TEST_F(ExpressionTest, Between) {
  ExpectBools("i between -2 and 3", [&](int64_t r) { return Between(I("i", r), OptI(-2), OptI(3)); });
  ExpectBools("l not between -100 and 100",
              [&](int64_t r) { return Not(Between(I("l", r), OptI(-100), OptI(100))); });
  ExpectBools("f between l and i",
              [&](int64_t r) { return Between(F("f", r), ToF(I("l", r)), ToF(I("i", r))); });
  ExpectBools("i between null and 3",
              [&](int64_t r) { return Between(I("i", r), OptI(), OptI(3)); });
  ExpectBools("i not between 0 and null",
              [&](int64_t r) { return Not(Between(I("i", r), OptI(0), OptI())); });
  ExpectBools("null between 1 and 2", [](int64_t) { return OptB(); });
  ExpectBools("d between 1 and 0", [](int64_t) { return OptB(false); });
  ExpectBools("d between -2.5 and 2.5",
              [&](int64_t r) { return Between(F("d", r), OptF(-2.5), OptF(2.5)); });
  ExpectBools("i8 between i16 and 100",
              [&](int64_t r) { return Between(I("i8", r), I("i16", r), OptI(100)); });
  ExpectBools("s between 'a' and 'b'", [&](int64_t r) { return Between(S("s", r), OptS("a"), OptS("b")); });
  ExpectBools("c4 not between s and 'b'",
              [&](int64_t r) { return Not(Between(S("c4", r), S("s", r), OptS("b"))); });
  ExpectBools("lower(w) between 'a' and 'b'",
              [&](int64_t r) { return Between(Lower(S("w", r)), OptS("a"), OptS("b")); });
  ExpectBools("ts between 1700000000000 + 100 and 1700000000000 + 200",
              [&](int64_t r) { return Between(I("ts", r), OptI(1700000000100), OptI(1700000000200)); });
  // The bounds bind tighter than and: this is (between) and (l > 0).
  ExpectBools("i between 1 and 3 and l > 0",
              [&](int64_t r) { return And(Between(I("i", r), OptI(1), OptI(3)), Gt(I("l", r), OptI(0))); });
  ExpectBools("i between -i and i + 1 or flag",
              [&](int64_t r) {
                const OptI i = I("i", r);
                return Or(Between(i, OptI(-*i), OptI(*i + 1)), Truth(I("flag", r)));
              });
}

TEST_F(ExpressionTest, Like) {
  const std::vector<std::string> patterns = {"",     "%",    "_",    "__",     "a%",   "%a",
                                             "%a%b%", "a_b", "%%",   "A%",     "%_%",  "_%_",
                                             "%b",   "ab",   "%A_",  "a%a%a", "%\xff", "%%%_"};
  for (const std::string& p : patterns) {
    const std::string quoted = "'" + p + "'";
    ExpectBools("w like " + quoted, [&](int64_t r) { return Like(S("w", r), p); });
    ExpectBools("w not like " + quoted, [&](int64_t r) { return Not(Like(S("w", r), p)); });
    ExpectBools("s like " + quoted, [&](int64_t r) { return Like(S("s", r), p); });
    ExpectBools("c4 like " + quoted, [&](int64_t r) { return Like(S("c4", r), p); });
    ExpectBools("b like " + quoted, [&](int64_t r) { return Like(S("b", r), p); });
    // Case-insensitive by folding the operand.
    ExpectBools("upper(w) like " + quoted, [&](int64_t r) { return Like(Upper(S("w", r)), p); });
    ExpectBools("lower(c8) like " + quoted, [&](int64_t r) { return Like(Lower(S("c8", r)), p); });
  }
  ExpectBools("upper(w) like 'A%'",
              [&](int64_t r) {
                const OptS w = S("w", r);
                return w ? OptB(!w->empty() && ((*w)[0] == 'a' || (*w)[0] == 'A')) : std::nullopt;
              });
  ExpectBools("w like null", [](int64_t) { return OptB(); });
  ExpectBools("w not like null", [](int64_t) { return OptB(); });
  ExpectBools("null like 'a'", [](int64_t) { return OptB(); });
  ExpectBools("'%_' like '\\%_'", [](int64_t) { return OptB(false); });  // no escapes
  ExpectBools("'a' like 'a' and 'abc' like 'a%c' and 'ab' not like 'a'",
              [](int64_t) { return OptB(true); });
  EXPECT_GT(checked_trues_, 10000);
}

TEST_F(ExpressionTest, Conditionals) {
  ExpectFloats("if(i > 0, l, f)",
               [&](int64_t r) { return *I("i", r) > 0 ? ToF(I("l", r)) : F("f", r); });
  ExpectInts("if(i, i8, i16)", [&](int64_t r) { return *I("i", r) != 0 ? I("i8", r) : I("i16", r); });
  ExpectInts("if(f, 1, 2)", [&](int64_t r) { return OptI(Truth(F("f", r)).value_or(false) ? 1 : 2); });
  ExpectInts("if(l > 0, null, 7)",
             [&](int64_t r) { return Gt(I("l", r), OptI(0)).value_or(false) ? OptI() : OptI(7); });
  ExpectInts("if(null, 1, 2)", [](int64_t) { return OptI(2); });
  ExpectStrings("if(l > 0, s, c4)",
                [&](int64_t r) { return Gt(I("l", r), OptI(0)).value_or(false) ? S("s", r) : S("c4", r); });
  ExpectStrings("if(flag, upper(w), lower(w))",
                [&](int64_t r) { return *I("flag", r) ? Upper(S("w", r)) : Lower(S("w", r)); });
  ExpectBools("if(i > 0, l > 0, f > 0)",
              [&](int64_t r) { return *I("i", r) > 0 ? Gt(I("l", r), OptI(0)) : Gt(F("f", r), OptF(0)); });

  ExpectInts("ifnull(l, -1)", [&](int64_t r) { return IfNull(I("l", r), OptI(-1)); });
  ExpectFloats("nvl(f, i)", [&](int64_t r) { return IfNull(F("f", r), ToF(I("i", r))); });
  ExpectFloats("NVL(i, f)", [&](int64_t r) { return ToF(I("i", r)); });
  ExpectStrings("ifnull(s, 'none')", [&](int64_t r) { return IfNull(S("s", r), OptS("none")); });
  ExpectInts("ifnull(l, i16)", [&](int64_t r) { return IfNull(I("l", r), I("i16", r)); });
  ExpectInts("ifnull(null, null)", [](int64_t) { return OptI(); });
  ExpectFloats("coalesce(l, i16, f, 0)",
               [&](int64_t r) {
                 return IfNull(IfNull(ToF(I("l", r)), ToF(I("i16", r))), IfNull(F("f", r), OptF(0)));
               });
  ExpectStrings("coalesce(s, c4)", [&](int64_t r) { return IfNull(S("s", r), S("c4", r)); });
  ExpectStrings("coalesce(null, lower(w), s, 'x')",
                [&](int64_t r) { return IfNull(IfNull(Lower(S("w", r)), S("s", r)), OptS("x")); });
  ExpectInts("coalesce(l)", [&](int64_t r) { return I("l", r); });
  ExpectInts("coalesce(null)", [](int64_t) { return OptI(); });

  ExpectInts("nullif(i, 2)", [&](int64_t r) { return NullIf(I("i", r), OptI(2)); });
  ExpectInts("nullif(l, i16)", [&](int64_t r) { return NullIf(I("l", r), I("i16", r)); });
  ExpectInts("nullif(l, null)", [&](int64_t r) { return I("l", r); });
  ExpectFloats("nullif(i, 2.0)", [&](int64_t r) { return NullIf(ToF(I("i", r)), OptF(2)); });
  ExpectFloats("nullif(f, d)", [&](int64_t r) { return NullIf(F("f", r), F("d", r)); });
  ExpectStrings("nullif(s, c4)", [&](int64_t r) { return NullIf(S("s", r), S("c4", r)); });
  ExpectStrings("nullif(lower(w), 'ab')", [&](int64_t r) { return NullIf(Lower(S("w", r)), OptS("ab")); });

  ExpectInts("greatest(i, l, i16)",
             [&](int64_t r) { return Greatest<int64_t>({I("i", r), I("l", r), I("i16", r)}); });
  ExpectInts("least(i, l, i16, i8)",
             [&](int64_t r) { return Greatest<int64_t>({I("i", r), I("l", r), I("i16", r), I("i8", r)}, true); });
  ExpectFloats("least(i, f)", [&](int64_t r) { return Greatest<double>({ToF(I("i", r)), F("f", r)}, true); });
  ExpectFloats("greatest(f, l, 0.5)",
               [&](int64_t r) { return Greatest<double>({F("f", r), ToF(I("l", r)), OptF(0.5)}); });
  ExpectStrings("greatest(s, c4, 'b')",
                [&](int64_t r) { return Greatest<std::string>({S("s", r), S("c4", r), OptS("b")}); });
  ExpectStrings("least(upper(w), s)",
                [&](int64_t r) { return Greatest<std::string>({Upper(S("w", r)), S("s", r)}, true); });
  ExpectInts("least(l, null)", [&](int64_t r) { return I("l", r); });
  ExpectInts("greatest(null, null)", [](int64_t) { return OptI(); });
  ExpectInts("greatest(i)", [&](int64_t r) { return I("i", r); });
  ExpectBools("greatest(l, i16) > 100",
              [&](int64_t r) { return Gt(Greatest<int64_t>({I("l", r), I("i16", r)}), OptI(100)); });
}

TEST_F(ExpressionTest, Math) {
  ExpectInts("abs(i)", [&](int64_t r) { return AbsI(I("i", r)); });
  ExpectInts("abs(l)", [&](int64_t r) { return AbsI(I("l", r)); });
  ExpectInts("abs(i8) + abs(i16)", [&](int64_t r) { return Lift(AbsI(I("i8", r)), AbsI(I("i16", r)), std::plus<>()); });
  ExpectInts("abs(-9223372036854775808)", [](int64_t) { return OptI(kInt64Min); });  // wraps
  ExpectFloats("abs(f)", [&](int64_t r) { return Fn(F("f", r), [](double v) { return std::fabs(v); }); });
  ExpectInts("sign(l)", [&](int64_t r) { return SignI(I("l", r)); });
  ExpectInts("sign(i8)", [&](int64_t r) { return SignI(I("i8", r)); });
  ExpectFloats("sign(f)", [&](int64_t r) { return SignF(F("f", r)); });
  ExpectFloats("sign(d)", [&](int64_t r) { return SignF(F("d", r)); });
  ExpectFloats("sqrt(d)", [&](int64_t r) { return Sqrt(F("d", r)); });
  ExpectFloats("sqrt(l)", [&](int64_t r) { return Sqrt(ToF(I("l", r))); });
  ExpectFloats("sqrt(-0.0)", [](int64_t) { return OptF(-0.0); });
  ExpectFloats("cbrt(d)", [&](int64_t r) { return Fn(F("d", r), [](double v) { return std::cbrt(v); }); });
  ExpectFloats("cbrt(i16)", [&](int64_t r) { return Fn(ToF(I("i16", r)), [](double v) { return std::cbrt(v); }); });
  ExpectFloats("exp(f)", [&](int64_t r) { return Fn(F("f", r), [](double v) { return std::exp(v); }); });
  ExpectFloats("exp(1000)", [](int64_t) { return OptF(std::numeric_limits<double>::infinity()); });
  ExpectFloats("ln(d)", [&](int64_t r) { return Ln(F("d", r)); });
  ExpectFloats("ln(i)", [&](int64_t r) { return Ln(ToF(I("i", r))); });
  ExpectFloats("log10(l)", [&](int64_t r) { return Log10(ToF(I("l", r))); });
  ExpectFloats("log10(f)", [&](int64_t r) { return Log10(F("f", r)); });
  ExpectFloats("pow(f, i)", [&](int64_t r) { return Pow(F("f", r), ToF(I("i", r))); });
  ExpectFloats("pow(d, 0.5)", [&](int64_t r) { return Pow(F("d", r), OptF(0.5)); });
  ExpectFloats("pow(i, 2)", [&](int64_t r) { return Pow(ToF(I("i", r)), OptF(2)); });
  ExpectFloats("pow(0, -1)", [](int64_t) { return OptF(); });
  ExpectFloats("pow(-8, 1.0 / 3)", [](int64_t) { return OptF(); });
  ExpectFloats("pow(0, 0)", [](int64_t) { return OptF(1); });
  ExpectFloats("floor(d)", [&](int64_t r) { return Fn(F("d", r), [](double v) { return std::floor(v); }); });
  ExpectFloats("ceil(f)", [&](int64_t r) { return Fn(F("f", r), [](double v) { return std::ceil(v); }); });
  ExpectFloats("round(f)", [&](int64_t r) { return Fn(F("f", r), [](double v) { return std::round(v); }); });
  ExpectFloats("round(d)", [&](int64_t r) { return Fn(F("d", r), [](double v) { return std::round(v); }); });
  // long(x): a float rounded to a whole number, halves to even; null for NaN or past int64.
  const auto to_long = [](std::optional<double> v) -> std::optional<int64_t> {
    if (!v || !(*v >= -9.2e18 && *v <= 9.2e18)) return std::nullopt;
    return static_cast<int64_t>(std::nearbyint(*v));
  };
  ExpectInts("long(d)", [&](int64_t r) { return to_long(F("d", r)); });
  ExpectInts("long(f * 3)",
             [&](int64_t r) { return to_long(F("f", r) ? std::optional<double>(*F("f", r) * 3) : std::nullopt); });
  ExpectInts("long(2.5) + long(-2.5) * 10 + long(3.5) * 100", [](int64_t) { return OptI(2 - 20 + 400); });
  ExpectInts("long(l)", [&](int64_t r) { return I("l", r); });
  ExpectInts("long(1e300)", [](int64_t) { return OptI(); });
  ExpectInts("floor(i)", [&](int64_t r) { return I("i", r); });
  ExpectInts("ceil(l)", [&](int64_t r) { return I("l", r); });
  ExpectInts("round(l)", [&](int64_t r) { return I("l", r); });
  ExpectFloats("round(d, 2)", [&](int64_t r) { return RoundF(F("d", r), OptI(2)); });
  ExpectFloats("round(d, -1)", [&](int64_t r) { return RoundF(F("d", r), OptI(-1)); });
  ExpectFloats("round(f, i)", [&](int64_t r) { return RoundF(F("f", r), I("i", r)); });
  ExpectFloats("round(d, l)", [&](int64_t r) { return RoundF(F("d", r), I("l", r)); });
  ExpectFloats("round(d, l - 300)", [&](int64_t r) { return RoundF(F("d", r), Lift(I("l", r), OptI(300), std::minus<>())); });
  ExpectFloats("round(d * 1e300, l / 3 + 9)", [&](int64_t r) { return RoundF(OptF(*F("d", r) * 1e300), Div(I("l", r), 3) ? OptI(*Div(I("l", r), 3) + 9) : OptI()); });
  ExpectInts("round(l, -2)", [&](int64_t r) { return RoundI(I("l", r), OptI(-2)); });
  ExpectInts("round(l, i)", [&](int64_t r) { return RoundI(I("l", r), I("i", r)); });
  ExpectInts("round(l * 1000000000000000, -i - 12)",
             [&](int64_t r) {
               return RoundI(Lift(I("l", r), OptI(1000000000000000), std::multiplies<>()), OptI(-*I("i", r) - 12));
             });
  ExpectInts("round(9223372036854775807, -1)", [](int64_t) { return RoundI(OptI(INT64_MAX), OptI(-1)); });
  ExpectInts("round(-9223372036854775808, -19)", [](int64_t) { return RoundI(OptI(kInt64Min), OptI(-19)); });
  ExpectInts("round(5, -1) + round(-5, -1) * 10 + round(15, null)", [](int64_t) { return OptI(); });
  ExpectInts("round(5, -1) + round(-5, -1) * 10 + round(14, -1) * 100", [](int64_t) { return OptI(10 - 100 + 1000); });
  ExpectInts("mod(l, i)", [&](int64_t r) { return Mod(I("l", r), I("i", r)); });
  ExpectInts("mod(l, 0)", [](int64_t) { return OptI(); });
  ExpectFloats("mod(d, 2.5)", [&](int64_t r) { return ModF(F("d", r), OptF(2.5)); });
  ExpectFloats("mod(i, f)", [&](int64_t r) { return ModF(ToF(I("i", r)), F("f", r)); });
  ExpectFloats("sqrt(abs(d)) * sign(d) + ln(exp(1))",
               [&](int64_t r) {
                 const double d = *F("d", r);
                 return OptF(std::sqrt(std::fabs(d)) * (d > 0 ? 1.0 : d < 0 ? -1.0 : d) + 1);
               });
}

TEST_F(ExpressionTest, Strings) {
  for (const std::string c : {"s", "c4", "b", "w", "c8"}) {
    ExpectInts("length(" + c + ")",
               [&](int64_t r) { return S(c, r) ? OptI(static_cast<int64_t>(S(c, r)->size())) : OptI(); });
    ExpectStrings("lower(" + c + ")", [&](int64_t r) { return Lower(S(c, r)); });
    ExpectStrings("UPPER(" + c + ")", [&](int64_t r) { return Upper(S(c, r)); });
    ExpectStrings("substr(" + c + ", 2, 2)", [&](int64_t r) { return Substr(S(c, r), 2, 2); });
  }
  ExpectInts("length(lower(w))", [&](int64_t r) { return S("w", r) ? OptI(static_cast<int64_t>(S("w", r)->size())) : OptI(); });
  ExpectInts("length('caf\xc3\xa9')", [](int64_t) { return OptI(5); });  // bytes
  ExpectInts("length(null)", [](int64_t) { return OptI(); });
  ExpectStrings("upper(lower(w))", [&](int64_t r) { return Upper(S("w", r)); });
  ExpectStrings("lower(upper(w))", [&](int64_t r) { return Lower(S("w", r)); });
  ExpectStrings("lower('MiXeD 1!')", [](int64_t) { return OptS("mixed 1!"); });
  ExpectStrings("upper('caf\xc3\xa9')", [](int64_t) { return OptS("CAF\xc3\xa9"); });  // ASCII only
  // Folded comparisons.
  ExpectBools("lower(w) = 'ab'", [&](int64_t r) { return Eq(Lower(S("w", r)), OptS("ab")); });
  ExpectBools("upper(w) = 'AB'", [&](int64_t r) { return Eq(Upper(S("w", r)), OptS("AB")); });
  ExpectBools("lower(w) = 'AB'", [&](int64_t r) { return S("w", r) ? OptB(false) : OptB(); });
  ExpectBools("lower(w) = lower(c8)", [&](int64_t r) { return Eq(Lower(S("w", r)), Lower(S("c8", r))); });
  ExpectBools("upper(w) < lower(c8)", [&](int64_t r) { return Lt(Upper(S("w", r)), Lower(S("c8", r))); });
  ExpectBools("lower(w) > w", [&](int64_t r) { return Gt(Lower(S("w", r)), S("w", r)); });
  ExpectBools("upper(s) <> 'A'", [&](int64_t r) { return Not(Eq(Upper(S("s", r)), OptS("A"))); });
  // substr: 1-based, clipped, never outside the string.
  const std::vector<std::pair<int64_t, int64_t>> ranges = {
      {1, 3}, {0, 2}, {-1, 3}, {-100, 200}, {2, 100}, {3, 0}, {2, -1}, {6, 1}, {7, 1}, {100, 5},
      {kInt64Min, INT64_MAX}, {INT64_MAX, INT64_MAX}, {2, INT64_MAX}, {kInt64Min, 3}};
  for (const auto& [start, len] : ranges) {
    const std::string args = std::to_string(start) + ", " + std::to_string(len);
    ExpectStrings("substr(w, " + args + ")", [&](int64_t r) { return Substr(S("w", r), start, len); });
    ExpectStrings("substr(c8, " + args + ")", [&](int64_t r) { return Substr(S("c8", r), start, len); });
  }
  for (int64_t start : {-3, 0, 1, 2, 6, 7, 100}) {
    ExpectStrings("substr(w, " + std::to_string(start) + ")",
                  [&](int64_t r) { return Substr(S("w", r), start, INT64_MAX); });
  }
  ExpectStrings("substr(w, i, l)", [&](int64_t r) { return Substr(S("w", r), I("i", r), I("l", r)); });
  ExpectStrings("substr(w, i8 % 8, i)", [&](int64_t r) { return Substr(S("w", r), Mod(I("i8", r), 8), I("i", r)); });
  ExpectStrings("substr(upper(w), 2)", [&](int64_t r) { return Substr(Upper(S("w", r)), 2, INT64_MAX); });
  ExpectStrings("upper(substr(w, 2, 3))", [&](int64_t r) { return Upper(Substr(S("w", r), 2, 3)); });
  ExpectStrings("substr(w, null)", [](int64_t) { return OptS(); });
  ExpectStrings("substr(w, 1, null)", [](int64_t) { return OptS(); });
  ExpectStrings("substr('hello', 2, 3)", [](int64_t) { return OptS("ell"); });
  ExpectBools("substr(lower(w), 1, 1) = 'a'",
              [&](int64_t r) { return Eq(Substr(Lower(S("w", r)), 1, 1), OptS("a")); });
  ExpectInts("length(substr(w, 3))",
             [&](int64_t r) { return S("w", r) ? OptI(static_cast<int64_t>(Substr(S("w", r), 3, INT64_MAX)->size())) : OptI(); });
}

TEST_F(ExpressionTest, DateParts) {
  const std::vector<std::pair<std::string, Part>> parts = {{"year", kYear},     {"month", kMonth},
                                                           {"day", kDay},       {"hour", kHour},
                                                           {"minute", kMinute}, {"sec", kSec}};
  int64_t before_1970 = 0;
  for (int64_t r = 0; r < kRows; ++r) before_1970 += I("tw", r).value_or(0) < 0;
  EXPECT_GT(before_1970, 300);
  for (const auto& [name, part] : parts) {
    ExpectInts(name + "(tw)", [&](int64_t r) { return DatePart(I("tw", r), part); });
    ExpectInts(name + "(ts)", [&](int64_t r) { return DatePart(I("ts", r), part); });
    ExpectInts(name + "(tw + 86399999)",
               [&](int64_t r) { return DatePart(Lift(I("tw", r), OptI(86399999), std::plus<>()), part); });
    ExpectInts(name + "(null)", [](int64_t) { return OptI(); });
  }
  // Around the epoch, and leap days.
  const std::vector<std::tuple<std::string, int64_t>> cases = {
      {"year(0)", 1970},           {"year(-1)", 1969},          {"month(-1)", 12},
      {"day(-1)", 31},             {"hour(-1)", 23},            {"minute(-1)", 59},
      {"sec(-1)", 59},             {"sec(-1000)", 59},          {"sec(-1001)", 58},
      {"day(951782400000)", 29},   {"month(951782400000)", 2},  {"year(951782400000)", 2000},
      {"day(-2203891200000)", 1},  {"month(-2203891200000)", 3}, {"year(-62135596800000)", 1},
      {"year(-62135596800001)", 0}, {"month(-62135596800001)", 12}, {"day(253402300799999)", 31},
      {"hour(1700000000000)", 22}, {"minute(1700000000000)", 13}, {"sec(1700000000000)", 20},
  };
  for (const auto& [text, want] : cases) {
    ExpectInts(text, [want = want](int64_t) { return OptI(want); });
  }
  // The extremes of int64 stay in range (-292275055 and 292278994).
  ExpectInts("year(-9223372036854775808)", [](int64_t) { return OptI(-292275055); });
  ExpectInts("year(9223372036854775807)", [](int64_t) { return OptI(292278994); });
  ExpectInts("month(9223372036854775807) * 100 + day(9223372036854775807)",
             [](int64_t) { return OptI(817); });
}

TEST_F(ExpressionTest, NewOpsThroughSelectAndCount) {
  const std::vector<std::pair<std::string, std::function<bool(int64_t)>>> cases = {
      {"lower(w) like '%a%b%' and l not in (1, 2, 3)",
       [&](int64_t r) {
         return And(Like(Lower(S("w", r)), "%a%b%"), Not(In(I("l", r), std::vector<OptI>{1, 2, 3})))
             .value_or(false);
       }},
      {"year(tw) between 1900 and 1999 or coalesce(f, d) > 5",
       [&](int64_t r) {
         return Or(Between(DatePart(I("tw", r), kYear), OptI(1900), OptI(1999)),
                   Gt(IfNull(F("f", r), F("d", r)), OptF(5)))
             .value_or(false);
       }},
      {"if(i > 0, sqrt(d), abs(l)) > 2 and substr(c8, 2, 1) in ('a', 'B')",
       [&](int64_t r) {
         const OptF v = *I("i", r) > 0 ? Sqrt(F("d", r)) : ToF(AbsI(I("l", r)));
         return And(Gt(v, OptF(2)), In(Substr(S("c8", r), 2, 1), std::vector<OptS>{"a", "B"}))
             .value_or(false);
       }},
  };
  for (const auto& [text, want] : cases) {
    SCOPED_TRACE(text);
    std::optional<kernels::DeviceProgram> p = Build(text, ExprUse::kPredicate, ValueKind::kInt);
    ASSERT_TRUE(p);
    for (const auto& [begin, end] :
         std::vector<std::pair<int64_t, int64_t>>{{0, kRows}, {123, 777}, {5, 5}, {999, 1000}}) {
      std::vector<int64_t> expected;
      for (int64_t r = begin; r < end; ++r) {
        if (want(r)) expected.push_back(r);
      }
      EXPECT_EQ(kernels::Count(p->view, begin, end, exec_), static_cast<int64_t>(expected.size()));
      const kernels::Selection sel = kernels::Select(p->view, begin, end, exec_);
      ASSERT_EQ(sel.count, static_cast<int64_t>(expected.size()));
      const int64_t* rows = sel.indices.as<int64_t>();
      EXPECT_EQ(std::vector<int64_t>(rows, rows + sel.count), expected);
    }
    EXPECT_GT(kernels::Count(p->view, 0, kRows, exec_), 20);
  }
}

TEST_F(ExpressionTest, NewErrors) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      // Arity.
      {"abs()", "function 'abs' takes 1 argument, not 0 at position 1"},
      {"i > 0 and SQRT(1, 2) > 0", "function 'sqrt' takes 1 argument, not 2 at position 11"},
      {"pow(2)", "function 'pow' takes 2 arguments, not 1 at position 1"},
      {"round(d, 1, 2)", "function 'round' takes 1 to 2 arguments, not 3 at position 1"},
      {"substr(s)", "function 'substr' takes 2 to 3 arguments, not 1 at position 1"},
      {"coalesce()", "function 'coalesce' takes at least 1 argument, not 0 at position 1"},
      {"greatest()", "function 'greatest' takes at least 1 argument, not 0 at position 1"},
      {"if(1, 2)", "function 'if' takes 3 arguments, not 2 at position 1"},
      {"nullif(1)", "function 'nullif' takes 2 arguments, not 1 at position 1"},
      {"Nvl(1, 2, 3)", "function 'nvl' takes 2 arguments, not 3 at position 1"},
      {"year(ts, 1)", "function 'year' takes 1 argument, not 2 at position 1"},
      // Unknown names.
      {"i > 1 or ABSX(i) > 2", "unknown function 'ABSX' at position 10"},
      {"lenght(s)", "unknown function 'lenght' at position 1"},
      {"length(zz)", "unknown column 'zz' at position 8"},
      {"i in (1, 2) and zz like 'a'", "unknown column 'zz' at position 17"},
      // Argument types.
      {"sqrt(s)", "argument 1 of 'sqrt' must be a number, not a string at position 6"},
      {"pow(2, s)", "argument 2 of 'pow' must be a number, not a string at position 8"},
      {"abs(c4)", "argument 1 of 'abs' must be a number, not a string at position 5"},
      {"mod(1, upper(s))", "argument 2 of 'mod' must be a number, not a string at position 8"},
      {"length(i)", "argument 1 of 'length' must be a string, not a number at position 8"},
      {"lower(1.5)", "argument 1 of 'lower' must be a string, not a number at position 7"},
      {"substr(s, 1.5)", "argument 2 of 'substr' must be an int, not a float at position 11"},
      {"substr(s, 1, 'a')", "argument 3 of 'substr' must be an int, not a string at position 14"},
      {"substr(i, 1)", "argument 1 of 'substr' must be a string, not a number at position 8"},
      {"round(d, 1.5)", "argument 2 of 'round' must be an int, not a float at position 10"},
      {"round(s)", "argument 1 of 'round' must be a number, not a string at position 7"},
      {"year(d)", "argument 1 of 'year' must be a timestamp, not a float at position 6"},
      {"sec( s )", "argument 1 of 'sec' must be a timestamp, not a string at position 6"},
      {"if(s, 1, 2)", "cannot use a string as a condition at position 4"},
      {"if(i > 0, 1, 'a')", "cannot mix number and string in 'if' at position 14"},
      {"coalesce(s, 1)", "cannot mix string and number in 'coalesce' at position 13"},
      {"greatest(i, null, s)", "cannot mix number and string in 'greatest' at position 19"},
      {"least(null, 'a', 2.5)", "cannot mix string and number in 'least' at position 18"},
      {"nullif('a', 1)", "cannot mix string and number in 'nullif' at position 13"},
      {"ifnull(l, c4)", "cannot mix number and string in 'ifnull' at position 11"},
      {"upper(s) + 1", "cannot use '+' on a string at position 10"},
      {"-lower(s)", "cannot use '-' on a string at position 1"},
      {"length(s) = 'a'", "cannot compare number with string at position 11"},
      {"if(1, 2, 3) and upper(s)", "cannot use a string as a condition at position 13"},
      // in, between, like.
      {"i in (1, 'a')", "cannot compare number with string at position 10"},
      {"s in ('a', 2)", "cannot compare string with number at position 12"},
      {"s not in (null, -2.5)", "cannot compare string with number at position 17"},
      {"null in (1, 'a')", "cannot compare number with string at position 13"},
      {"i in (l)", "expected a literal in the 'in' list at position 7"},
      {"i in (1, 1 + 1)", "expected a literal in the 'in' list at position 10"},
      {"i in (-s)", "expected a literal in the 'in' list at position 7"},
      {"i in (abs(1))", "expected a literal in the 'in' list at position 7"},
      {"i in 1", "expected '(' at position 6"},
      {"i in (1", "expected ',' or ')' at position 8"},
      {"i in (1 2)", "expected ',' or ')' at position 9"},
      {"i in ()", "unexpected ')' at position 7"},
      {"i in", "expected '(' at position 5"},
      {"i not in 1", "expected '(' at position 10"},
      {"i between 1", "expected 'and' at position 12"},
      {"i between 1 or 2", "expected 'and' at position 13"},
      {"i between 1 and", "unexpected end of expression at position 16"},
      {"s between 1 and 2", "cannot compare string with number at position 3"},
      {"i between 'a' and 'b'", "cannot compare number with string at position 3"},
      {"i not between 1 and s", "cannot compare number with string at position 7"},
      {"i like 'a'", "cannot use 'like' on a number at position 3"},
      {"d not like '%'", "cannot use 'like' on a number at position 7"},
      {"s like c4", "expected a string literal as the 'like' pattern at position 8"},
      {"s like lower('a')", "expected a string literal as the 'like' pattern at position 8"},
      {"s like", "unexpected end of expression at position 7"},
      {"i in (1) = 1", "comparisons cannot be chained at position 10"},
      {"i = 1 not in (1)", "comparisons cannot be chained at position 7"},
      {"s like 'a' like 'b'", "comparisons cannot be chained at position 12"},
      {"i between 1 and 2 between 3 and 4", "comparisons cannot be chained at position 19"},
      {"i not 1", "unexpected 'not' at position 3"},
      {"between > 1", "unexpected 'between' at position 1"},
      {"in(1)", "unexpected 'in' at position 1"},
      {"i in (1) or like", "unexpected 'like' at position 13"},
  };
  for (const auto& [text, message] : cases) {
    EXPECT_EQ(Error(text), message) << text;
  }
  // The same errors whatever the use, and from ReferencedColumns.
  EXPECT_EQ(engine::ReferencedColumns("i in (l)", type_).status().message(),
            "expected a literal in the 'in' list at position 7");
  EXPECT_EQ(Error("lower(s)", ExprUse::kPredicate), "expression must be a condition, not a string");
  EXPECT_EQ(Error("substr(s, 1)", ExprUse::kNumber), "expression must be a number, not a string");
  EXPECT_EQ(Error("length(s)", ExprUse::kNumber), "OK");
}

TEST_F(ExpressionTest, NewOpsKeepTheStackBound) {
  // Variadic functions fold pairwise: two slots however many arguments.
  for (const std::string f : {"coalesce", "greatest", "least"}) {
    std::string text = f + "(l";
    for (int k = 0; k < 2000; ++k) text += k % 2 ? ", i" : ", null";
    absl::StatusOr<kernels::Program> p = Compile(text + ")", ExprUse::kValue);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_TRUE(WellFormed(*p));
    EXPECT_EQ(MaxDepth(*p), 2) << f;
  }
  // Right-nested calls take one slot per level; the VM's bound is checked
  // when compiling.
  auto nested = [](const std::string& open, int levels) {
    std::string s;
    for (int k = 0; k < levels; ++k) s += open;
    return s + "1" + std::string(levels, ')');
  };
  const int n = kernels::kMaxStackDepth;
  for (const std::string open : {"greatest(1, ", "coalesce(null, ", "nullif(3, ", "mod(7, "}) {
    absl::StatusOr<kernels::Program> fits = Compile(nested(open, n - 1), ExprUse::kValue);
    ASSERT_TRUE(fits.ok()) << open << fits.status();
    EXPECT_TRUE(WellFormed(*fits));
    EXPECT_EQ(MaxDepth(*fits), n);
    EXPECT_EQ(Error(nested(open, n)), "expression is too complex") << open;
  }
  // if and between hold two slots per level, substr three.
  EXPECT_EQ(Error(nested("if(1, 2, ", n / 2)), "expression is too complex");
  EXPECT_EQ(Error(nested("if(1, 2, ", n / 2 - 1)), "OK");
  std::string between = "1";
  for (int k = 0; k < n / 2; ++k) between = "1 between 0 and (" + between + ")";
  EXPECT_EQ(Error(between), "expression is too complex");
  // An in-list needs one slot for the operand however long it is.
  std::string list = "i in (0";
  for (int k = 1; k < 5000; ++k) list += ", " + std::to_string(k);
  absl::StatusOr<kernels::Program> p = Compile(list + ")", ExprUse::kPredicate);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(MaxDepth(*p), 1);
  EXPECT_EQ(p->code.size(), 2u);
}

TEST_F(ExpressionTest, EmitsTheExpectedCodeForNewOps) {
  using kernels::Op;
  using Code = std::vector<std::tuple<Op, int32_t, int32_t>>;
  auto code = [&](absl::string_view text, ExprUse use) {
    Code out;
    absl::StatusOr<kernels::Program> p = Compile(text, use);
    EXPECT_TRUE(p.ok()) << p.status();
    if (p.ok()) {
      for (const kernels::Instr& in : p->code) out.emplace_back(in.op, in.arg, in.arg2);
    }
    return out;
  };
  EXPECT_EQ(code("i not in (1, null, 3)", ExprUse::kPredicate),
            (Code{{Op::kColumn, 0, 0}, {Op::kInI, 0, 2}, {Op::kUnknownIfFalse, 0, 0}, {Op::kNot, 0, 0}}));
  EXPECT_EQ(code("i in (1, 2.5)", ExprUse::kPredicate),
            (Code{{Op::kColumn, 0, 0}, {Op::kIntToFloat, 0, 0}, {Op::kInF, 0, 2}}));
  EXPECT_EQ(code("s in ('a', 'b')", ExprUse::kPredicate), (Code{{Op::kColumn, 0, 0}, {Op::kInS, 0, 2}}));
  // IN constants ascending and each once (the kernels search them by halves).
  EXPECT_EQ(code("i in (5, 1, 5, 3, 1)", ExprUse::kPredicate), (Code{{Op::kColumn, 0, 0}, {Op::kInI, 0, 3}}));
  absl::StatusOr<kernels::Program> sorted = Compile("s in ('b', 'a', 'ab', 'b', '')", ExprUse::kPredicate);
  ASSERT_TRUE(sorted.ok()) << sorted.status();
  EXPECT_EQ(sorted->chars, "aabb");
  EXPECT_EQ(sorted->string_offsets, (std::vector<int64_t>{0, 0, 1, 3, 4}));
  EXPECT_EQ(code("i between 1 and 2.5", ExprUse::kPredicate),
            (Code{{Op::kColumn, 0, 0},
                  {Op::kIntToFloat, 0, 0},
                  {Op::kConstInt, 0, 0},
                  {Op::kIntToFloat, 0, 0},
                  {Op::kConstFloat, 0, 0},
                  {Op::kBetweenF, 0, 0}}));
  EXPECT_EQ(code("upper(s) not like 'A%'", ExprUse::kPredicate),
            (Code{{Op::kColumn, 0, 0}, {Op::kFold, kernels::kFoldUpper, 0}, {Op::kLike, 0, 0}, {Op::kNot, 0, 0}}));
  EXPECT_EQ(code("coalesce(l, i, 2)", ExprUse::kValue),
            (Code{{Op::kColumn, 0, 0}, {Op::kColumn, 1, 0}, {Op::kIfNull, 0, 0}, {Op::kConstInt, 0, 0}, {Op::kIfNull, 0, 0}}));
  EXPECT_EQ(code("if(f, i, 2.5)", ExprUse::kValue),
            (Code{{Op::kColumn, 0, 0},
                  {Op::kTruthF, 0, 0},
                  {Op::kColumn, 1, 0},
                  {Op::kIntToFloat, 0, 0},
                  {Op::kConstFloat, 0, 0},
                  {Op::kIf, static_cast<int32_t>(kernels::ValueKind::kFloat), 0}}));
  EXPECT_EQ(code("substr(s, 2)", ExprUse::kValue),
            (Code{{Op::kColumn, 0, 0}, {Op::kConstInt, 0, 0}, {Op::kConstInt, 1, 0}, {Op::kSubstr, 0, 0}}));
  EXPECT_EQ(code("floor(i) + round(l)", ExprUse::kValue),
            (Code{{Op::kColumn, 0, 0}, {Op::kColumn, 1, 0}, {Op::kAddI, 0, 0}}));
  EXPECT_EQ(code("sqrt(i)", ExprUse::kValue),
            (Code{{Op::kColumn, 0, 0},
                  {Op::kIntToFloat, 0, 0},
                  {Op::kMathF, static_cast<int32_t>(kernels::MathFn::kSqrt), 0}}));
  EXPECT_EQ(code("month(ts)", ExprUse::kValue),
            (Code{{Op::kColumn, 0, 0}, {Op::kDatePart, static_cast<int32_t>(kernels::DatePart::kMonth), 0}}));
  EXPECT_EQ(code("greatest(s, 'a')", ExprUse::kValue),
            (Code{{Op::kColumn, 0, 0}, {Op::kConstString, 0, 0}, {Op::kMaxS, 0, 0}}));
  EXPECT_EQ(code("s like null", ExprUse::kPredicate),
            (Code{{Op::kColumn, 0, 0},
                  {Op::kIsNull, 0, 0},
                  {Op::kConstNull, 0, 0},
                  {Op::kConstNull, 0, 0},
                  {Op::kIf, 0, 0}}));
  EXPECT_EQ(*engine::ReferencedColumns("c4 not like null", type_), std::vector<std::string>{"c4"});
}

// Token soup over the whole language, and random expression trees (often
// ill-typed, sometimes too deep): compiling never crashes, errors are
// InvalidArgument with a message, and every compiled program is well formed,
// stays within the VM's stack and evaluates on every row.
TEST_F(ExpressionTest, FuzzFullLanguage) {
  const std::vector<std::string> columns = {"i", "l", "f", "d", "s", "b", "i8", "i16",
                                            "flag", "ts", "c4", "w", "c8", "tw"};
  const std::vector<std::string> functions = {
      "is_null", "if",    "ifnull", "nvl",   "coalesce", "nullif", "abs",    "sign",
      "sqrt",    "cbrt",  "exp",    "ln",    "log10",    "pow",    "floor",  "ceil",
      "round",   "mod",   "greatest", "least", "length", "lower",  "upper",  "substr",
      "year",    "month", "day",    "hour",  "minute",   "sec",    "nope"};
  std::vector<std::string> vocabulary = {
      "(",  ")",   ",",       "+",    "-",     "*",  "/",   "%",     "=",   "<",       ">=",
      "<>", "!",   "not",     "and",  "or",    "in", "not in", "between", "like", "not like",
      "null", "1", "0",       "-3",   "2.5",   "'a%'", "'_b'", "''",   "'ab'", "1e308",
      "9223372036854775807",  "-9223372036854775808", "'",   "#",     "0x",  " "};
  for (const std::string& c : columns) vocabulary.push_back(c);
  for (const std::string& f : functions) vocabulary.push_back(f + "(");

  std::mt19937_64 rng(11);
  auto uniform = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  auto pick = [&](const std::vector<std::string>& v) {
    return v[static_cast<size_t>(uniform(0, static_cast<int64_t>(v.size()) - 1))];
  };
  const std::vector<std::string> literals = {"null", "0", "1", "-1", "7", "2.5", "-0.5", "'a'",
                                             "'ab%'", "''", "1e300", "-9223372036854775808"};
  const std::vector<std::string> binary = {"+", "-", "*", "/", "%", "=", "<>", "<", ">=", "and", "or"};
  int budget = 0;  // nodes left for the tree being built
  std::function<std::string(int)> tree = [&](int depth) -> std::string {
    const int64_t choice = depth <= 0 || --budget <= 0 ? uniform(0, 1) : uniform(0, 9);
    switch (choice) {
      case 0: return pick(columns);
      case 1: return pick(literals);
      case 2: return "(" + tree(depth - 1) + " " + pick(binary) + " " + tree(depth - 1) + ")";
      case 3: return (uniform(0, 1) ? "-" : "not ") + tree(depth - 1);
      case 4: {
        std::string list = tree(depth - 1) + (uniform(0, 1) ? " in (" : " not in (");
        const int64_t n = uniform(0, 4);
        for (int64_t k = 0; k < n; ++k) list += (k ? ", " : "") + pick(literals);
        return "(" + list + "))";
      }
      case 5:
        return "(" + tree(depth - 1) + (uniform(0, 1) ? " between " : " not between ") +
               tree(depth - 1) + " and " + tree(depth - 1) + ")";
      case 6: return "(" + tree(depth - 1) + " like " + pick({"'a%'", "'%_'", "''", "null", "1"}) + ")";
      default: {
        std::string call = pick(functions) + "(";
        const int64_t n = uniform(0, 4);
        for (int64_t k = 0; k < n; ++k) call += (k ? ", " : "") + tree(depth - 1);
        return call + ")";
      }
    }
  };

  const ExprUse uses[] = {ExprUse::kPredicate, ExprUse::kNumber, ExprUse::kValue};
  int compiled = 0, too_complex = 0;
  for (int iter = 0; iter < 30000; ++iter) {
    std::string text;
    if (iter % 2 == 0) {
      const int64_t tokens = uniform(1, 30);
      for (int64_t k = 0; k < tokens; ++k) {
        text += pick(vocabulary);
        if (uniform(0, 1)) text += ' ';
      }
    } else if (iter % 10 != 1) {
      budget = 40;
      text = tree(static_cast<int>(uniform(0, 6)));
    } else {
      // A right spine of numbers, each level holding operands on the stack.
      const std::vector<std::string> numbers = {"i", "l", "f", "d", "i8", "tw", "null", "2"};
      text = pick(numbers);
      for (int64_t k = uniform(10, 40); k > 0; --k) {
        switch (uniform(0, 6)) {
          case 0: text = pick(numbers) + " " + pick(binary) + " (" + text + ")"; break;
          case 1: text = "if(" + pick(numbers) + ", " + pick(numbers) + ", " + text + ")"; break;
          case 2: text = pick(numbers) + " between " + pick(numbers) + " and (" + text + ")"; break;
          case 3: text = pick({"pow", "mod", "greatest", "nullif"}) + "(" + pick(numbers) + ", " + text + ")"; break;
          case 4: text = "length(substr(w, " + pick(numbers) + ", " + text + "))"; break;
          case 5: text = "round(" + pick(numbers) + ", year(" + text + "))"; break;
          default: text = "coalesce(" + pick(numbers) + ", " + pick(numbers) + ", " + text + ")"; break;
        }
      }
    }
    const ExprUse use = uses[iter % 3];
    absl::StatusOr<kernels::Program> p = Compile(text, use);
    if (!p.ok()) {
      ASSERT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument) << text << p.status();
      ASSERT_FALSE(p.status().message().empty());
      too_complex += p.status().message() == "expression is too complex";
      continue;
    }
    ++compiled;
    ASSERT_TRUE(engine::ReferencedColumns(text, type_).ok()) << text;
    ASSERT_TRUE(WellFormed(*p)) << text;
    ASSERT_LE(MaxDepth(*p), kernels::kMaxStackDepth) << text;
    const kernels::DeviceProgram dp = kernels::Upload(*p, exec_);
    for (int64_t r = 0; r < kRows; r += 37) {
      const kernels::Slot v = kernels::Evaluate(dp.view, r);
      if (v.valid && p->result == ValueKind::kString) {
        // A string result lies inside a column or the constants.
        ASSERT_GE(v.len, 0) << text;
        ASSERT_FALSE(Read(v).size() != static_cast<size_t>(v.len)) << text;
      }
    }
  }
  EXPECT_GT(compiled, 3000);
  EXPECT_GT(too_complex, 0);
}

// The functions over every numeric column kind, nulls included.
TEST_F(ExpressionTest, EveryNumericColumnKind) {
  for (const std::string c : {"i", "l", "i8", "i16", "flag", "ts", "tw"}) {
    auto x = [&](int64_t r) { return I(c, r); };
    ExpectInts("abs(" + c + ")", [&](int64_t r) { return AbsI(x(r)); });
    ExpectInts("sign(" + c + ")", [&](int64_t r) { return SignI(x(r)); });
    ExpectInts("floor(" + c + ") - ceil(" + c + ") + round(" + c + ")", [&](int64_t r) { return x(r); });
    ExpectInts("round(" + c + ", -1)", [&](int64_t r) { return RoundI(x(r), OptI(-1)); });
    ExpectInts("mod(" + c + ", 3)", [&](int64_t r) { return Mod(x(r), 3); });
    ExpectInts("greatest(" + c + ", 0)", [&](int64_t r) { return Greatest<int64_t>({x(r), OptI(0)}); });
    ExpectInts("least(" + c + ", 0, null)", [&](int64_t r) { return Greatest<int64_t>({x(r), OptI(0)}, true); });
    ExpectInts("coalesce(" + c + ", 7)", [&](int64_t r) { return IfNull(x(r), OptI(7)); });
    ExpectInts("nullif(" + c + ", 1)", [&](int64_t r) { return NullIf(x(r), OptI(1)); });
    ExpectInts("if(" + c + ", 1, 0)", [&](int64_t r) { return OptI(Truth(x(r)).value_or(false) ? 1 : 0); });
    ExpectFloats("sqrt(" + c + ")", [&](int64_t r) { return Sqrt(ToF(x(r))); });
    ExpectFloats("ln(" + c + ")", [&](int64_t r) { return Ln(ToF(x(r))); });
    ExpectFloats("pow(" + c + ", 2)", [&](int64_t r) { return Pow(ToF(x(r)), OptF(2)); });
    ExpectBools(c + " in (0, 1, -5)", [&](int64_t r) { return In(x(r), std::vector<OptI>{0, 1, -5}); });
    ExpectBools(c + " between -1 and 1", [&](int64_t r) { return Between(x(r), OptI(-1), OptI(1)); });
    ExpectInts("year(" + c + ") + month(" + c + ") + sec(" + c + ")",
               [&](int64_t r) {
                 const OptI y = DatePart(x(r), kYear);
                 return y ? OptI(*y + *DatePart(x(r), kMonth) + *DatePart(x(r), kSec)) : OptI();
               });
  }
  for (const std::string c : {"f", "d", "Price"}) {
    auto x = [&](int64_t r) { return F(c, r); };
    ExpectFloats("abs(" + c + ")", [&](int64_t r) { return Fn(x(r), [](double v) { return std::fabs(v); }); });
    ExpectFloats("sign(" + c + ")", [&](int64_t r) { return SignF(x(r)); });
    ExpectFloats("floor(" + c + ")", [&](int64_t r) { return Fn(x(r), [](double v) { return std::floor(v); }); });
    ExpectFloats("ceil(" + c + ")", [&](int64_t r) { return Fn(x(r), [](double v) { return std::ceil(v); }); });
    ExpectFloats("round(" + c + ", 1)", [&](int64_t r) { return RoundF(x(r), OptI(1)); });
    ExpectFloats("mod(" + c + ", 3)", [&](int64_t r) { return ModF(x(r), OptF(3)); });
    ExpectFloats("greatest(" + c + ", 0)", [&](int64_t r) { return Greatest<double>({x(r), OptF(0)}); });
    ExpectFloats("least(" + c + ", i)", [&](int64_t r) { return Greatest<double>({x(r), ToF(I("i", r))}, true); });
    ExpectFloats("coalesce(" + c + ", l)", [&](int64_t r) { return IfNull(x(r), ToF(I("l", r))); });
    ExpectFloats("nullif(" + c + ", 0.5)", [&](int64_t r) { return NullIf(x(r), OptF(0.5)); });
    ExpectFloats("sqrt(" + c + ")", [&](int64_t r) { return Sqrt(x(r)); });
    ExpectFloats("log10(" + c + ")", [&](int64_t r) { return Log10(x(r)); });
    ExpectFloats("cbrt(" + c + ") + exp(" + c + ")",
                 [&](int64_t r) { return x(r) ? OptF(std::cbrt(*x(r)) + std::exp(*x(r))) : OptF(); });
    ExpectBools(c + " in (0.5, -1, 2.25)", [&](int64_t r) { return In(x(r), std::vector<OptF>{0.5, -1, 2.25}); });
    ExpectBools(c + " not between -1 and 1.5",
                [&](int64_t r) { return Not(Between(x(r), OptF(-1), OptF(1.5))); });
  }
}

}  // namespace
}  // namespace engine
