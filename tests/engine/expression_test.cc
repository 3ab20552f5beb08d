#include "engine/expression.h"

#include <pthread.h>

#include <cmath>
#include <cstdint>
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
int StackEffect(kernels::Op op) {
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
    case Op::kIsNull: return 0;
    default: return -1;
  }
}

// True when `p` is well formed: operands always present, the stack within
// the VM's limit and one value left, every index in range.
bool WellFormed(const kernels::Program& p) {
  using kernels::Op;
  int depth = 0;
  for (const kernels::Instr& in : p.code) {
    const int effect = StackEffect(in.op);
    if (effect <= 0 && depth < 1 - effect) return false;
    depth += effect;
    if (depth > kernels::kMaxStackDepth) return false;
    const size_t arg = static_cast<size_t>(in.arg);
    if (in.op == Op::kColumn && arg >= p.columns.size()) return false;
    if (in.op == Op::kConstInt && arg >= p.ints.size()) return false;
    if (in.op == Op::kConstFloat && arg >= p.floats.size()) return false;
    if (in.op == Op::kConstString && arg + 1 >= p.string_offsets.size()) return false;
  }
  return depth == 1;
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
          case ColumnKind::kTimestamp: h.ints.push_back(1700000000000 + uniform(0, 999)); break;
          case ColumnKind::kFloat:
            h.floats.push_back(static_cast<double>(uniform(-32, 32)) / 4);
            break;
          case ColumnKind::kDouble:
            h.floats.push_back(
                uniform(0, 9) == 0 ? 0.0 : std::uniform_real_distribution<double>(-10, 10)(rng));
            break;
          case ColumnKind::kString: h.strings.push_back(text("ab", 3)); break;
          case ColumnKind::kBytes:
            h.strings.push_back(text(absl::string_view("a\x01\xff", 3), 3));
            break;
          case ColumnKind::kCharN: h.strings.push_back(text("ab", 4)); break;
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
      {"i > 1 or ABS(i) > 2", "unknown function 'ABS' at position 10"},
      {"is_null()", "function 'is_null' takes 1 argument, not 0 at position 1"},
      {"IS_NULL(i, l)", "function 'is_null' takes 1 argument, not 2 at position 1"},
      {"is_null(i l)", "expected ',' or ')' at position 11"},
      {"is_null(i,)", "unexpected ')' at position 11"},
      {"is_null(zz)", "unknown column 'zz' at position 9"},
      {"1 < 2 < 3", "comparisons cannot be chained at position 7"},
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
            "expression is too long (65537 bytes; the limit is 65536)");

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
  pthread_attr_setstacksize(&attr, 1024 * 1024);
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

}  // namespace
}  // namespace engine
