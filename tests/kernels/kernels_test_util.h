// Shared helpers of the kernels tests: host copies of columns, moving data
// to and from a backend, hand-built programs, and the fixture that runs a
// test once per backend (host always; CUDA when a GPU is visible).

#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <new>
#include <ostream>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/detail/ops.h"
#include "kernels/expr_program.h"
#include "kernels/filter.h"
#include "kernels/gather.h"
#include "kernels/memory.h"
#include "kernels/random.h"
#include "kernels/statistics.h"

namespace kernels {

// Names the backend in gtest's messages.
inline void PrintTo(Backend backend, std::ostream* os) { *os << BackendName(backend); }

namespace test {

constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
// Not a multiple of any block or tile size.
constexpr int64_t kLargeRows = (int64_t{1} << 20) + 3;

const PhysType kAllTypes[] = {PhysType::kInt8,    PhysType::kInt16,   PhysType::kInt32,
                              PhysType::kInt64,   PhysType::kFloat32, PhysType::kFloat64,
                              PhysType::kFixedChars, PhysType::kVarChars};

inline const char* TypeName(PhysType type) {
  switch (type) {
    case PhysType::kInt8: return "int8";
    case PhysType::kInt16: return "int16";
    case PhysType::kInt32: return "int32";
    case PhysType::kInt64: return "int64";
    case PhysType::kFloat32: return "float32";
    case PhysType::kFloat64: return "float64";
    case PhysType::kFixedChars: return "fixed chars";
    case PhysType::kVarChars: return "var chars";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// Host copies of columns.

// A column as plain host data. Every row is kept as its raw bytes: a number's
// in-memory bytes, a charN's `width` bytes (zero-padded), a string's bytes.
struct HostColumn {
  PhysType type = PhysType::kInt64;
  int32_t width = 0;              // kFixedChars only
  std::vector<std::string> rows;
  std::vector<uint8_t> validity;  // empty: no validity array, every row valid

  int64_t size() const { return static_cast<int64_t>(rows.size()); }
  bool valid(int64_t i) const { return validity.empty() || validity[i] != 0; }
};

template <typename T>
struct TypeOf;
template <> struct TypeOf<int8_t> { static constexpr PhysType value = PhysType::kInt8; };
template <> struct TypeOf<int16_t> { static constexpr PhysType value = PhysType::kInt16; };
template <> struct TypeOf<int32_t> { static constexpr PhysType value = PhysType::kInt32; };
template <> struct TypeOf<int64_t> { static constexpr PhysType value = PhysType::kInt64; };
template <> struct TypeOf<float> { static constexpr PhysType value = PhysType::kFloat32; };
template <> struct TypeOf<double> { static constexpr PhysType value = PhysType::kFloat64; };

template <typename T>
std::string BytesOf(T v) {
  return std::string(reinterpret_cast<const char*>(&v), sizeof(T));
}

template <typename T>
T ValueAt(const HostColumn& h, int64_t i) {
  T v;
  std::memcpy(&v, h.rows[i].data(), sizeof(T));
  return v;
}

// Row i of a numeric column as a double.
inline double AsDouble(const HostColumn& h, int64_t i) {
  switch (h.type) {
    case PhysType::kInt8: return ValueAt<int8_t>(h, i);
    case PhysType::kInt16: return ValueAt<int16_t>(h, i);
    case PhysType::kInt32: return ValueAt<int32_t>(h, i);
    case PhysType::kInt64: return static_cast<double>(ValueAt<int64_t>(h, i));
    case PhysType::kFloat32: return ValueAt<float>(h, i);
    default: return ValueAt<double>(h, i);
  }
}

// A string row as a kernel compares it: a charN ends at its first zero byte.
inline std::string StringAt(const HostColumn& h, int64_t i) {
  const std::string& r = h.rows[i];
  if (h.type == PhysType::kFixedChars) return r.substr(0, std::min(r.find('\0'), r.size()));
  return r;
}

template <typename T>
HostColumn Numbers(const std::vector<T>& values, std::vector<uint8_t> validity = {}) {
  HostColumn h;
  h.type = TypeOf<T>::value;
  for (T v : values) h.rows.push_back(BytesOf(v));
  h.validity = std::move(validity);
  return h;
}

inline HostColumn FixedChars(int32_t width, const std::vector<std::string>& values,
                      std::vector<uint8_t> validity = {}) {
  HostColumn h;
  h.type = PhysType::kFixedChars;
  h.width = width;
  for (std::string s : values) {
    s.resize(width, '\0');
    h.rows.push_back(s);
  }
  h.validity = std::move(validity);
  return h;
}

inline HostColumn VarChars(const std::vector<std::string>& values, std::vector<uint8_t> validity = {}) {
  HostColumn h;
  h.type = PhysType::kVarChars;
  h.rows = values;
  h.validity = std::move(validity);
  return h;
}

inline HostColumn EmptyLike(const HostColumn& h) {
  HostColumn e;
  e.type = h.type;
  e.width = h.width;
  return e;
}

constexpr int32_t kSampleWidth = 6;

// Deterministic sample data of any type: random bits for integers, values on
// a binary grid for floats (so references are exact), letters for strings
// (charN of every length 0..width, strings of length 0..10). With nulls,
// about a quarter of the rows are null.
inline HostColumn Sample(PhysType type, int64_t rows, uint64_t seed, bool with_nulls) {
  std::mt19937_64 rng(seed);
  HostColumn h;
  h.type = type;
  h.width = type == PhysType::kFixedChars ? kSampleWidth : 0;
  auto letters = [&rng](size_t n) {
    std::string s(n, 'a');
    for (char& c : s) c = static_cast<char>('a' + rng() % 26);
    return s;
  };
  for (int64_t i = 0; i < rows; ++i) {
    switch (type) {
      case PhysType::kInt8: h.rows.push_back(BytesOf(static_cast<int8_t>(rng()))); break;
      case PhysType::kInt16: h.rows.push_back(BytesOf(static_cast<int16_t>(rng()))); break;
      case PhysType::kInt32: h.rows.push_back(BytesOf(static_cast<int32_t>(rng()))); break;
      case PhysType::kInt64: h.rows.push_back(BytesOf(static_cast<int64_t>(rng()))); break;
      case PhysType::kFloat32:
        h.rows.push_back(BytesOf(static_cast<float>(static_cast<int64_t>(rng() % 200001) - 100000) / 64.0f));
        break;
      case PhysType::kFloat64:
        h.rows.push_back(BytesOf(static_cast<double>(static_cast<int64_t>(rng() % 2000001) - 1000000) / 1024.0));
        break;
      case PhysType::kFixedChars: {
        std::string s = letters(rng() % (kSampleWidth + 1));
        s.resize(kSampleWidth, '\0');
        h.rows.push_back(s);
        break;
      }
      case PhysType::kVarChars: h.rows.push_back(letters(rng() % 11)); break;
    }
  }
  if (with_nulls) {
    for (int64_t i = 0; i < rows; ++i) h.validity.push_back(rng() % 4 != 0 ? 1 : 0);
  }
  return h;
}

inline std::string Printable(const std::string& bytes) {
  std::ostringstream out;
  out << '"';
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f) {
      out << c;
    } else {
      const char* hex = "0123456789abcdef";
      out << "\\x" << hex[c >> 4] << hex[c & 15];
    }
  }
  out << '"';
  return out.str();
}

// Same rows, same bytes (null rows included) and same validity.
inline ::testing::AssertionResult SameRows(const HostColumn& actual, const HostColumn& expected) {
  if (actual.size() != expected.size()) {
    return ::testing::AssertionFailure()
           << "has " << actual.size() << " rows, expected " << expected.size();
  }
  for (int64_t i = 0; i < actual.size(); ++i) {
    if (actual.valid(i) != expected.valid(i)) {
      return ::testing::AssertionFailure() << "row " << i << " is " << (actual.valid(i) ? "valid" : "null")
                                           << ", expected " << (expected.valid(i) ? "valid" : "null");
    }
    if (actual.rows[i] != expected.rows[i]) {
      return ::testing::AssertionFailure() << "row " << i << " holds " << Printable(actual.rows[i])
                                           << ", expected " << Printable(expected.rows[i]);
    }
  }
  return ::testing::AssertionSuccess();
}

// ---------------------------------------------------------------------------
// Moving data between the host and a backend.

inline Buffer ToDevice(const void* src, size_t bytes, const Exec& exec) {
  Buffer b(bytes, exec);
  CopyToDevice(b.data(), src, bytes, exec);
  return b;
}

template <typename T>
Buffer ToDevice(const std::vector<T>& v, const Exec& exec) {
  return ToDevice(v.data(), v.size() * sizeof(T), exec);
}

template <typename T>
std::vector<T> FromDevice(const void* src, int64_t count, const Exec& exec) {
  std::vector<T> out(static_cast<size_t>(count));
  CopyToHostSync(out.data(), src, out.size() * sizeof(T), exec);
  return out;
}

// A device column holding `h`; nullable exactly when h has a validity array.
inline Column ToDevice(const HostColumn& h, const Exec& exec) {
  Buffer data, offsets, validity;
  if (h.type == PhysType::kVarChars) {
    std::string chars;
    std::vector<int64_t> off{0};
    for (const std::string& r : h.rows) {
      chars += r;
      off.push_back(static_cast<int64_t>(chars.size()));
    }
    data = ToDevice(chars.data(), chars.size(), exec);
    offsets = ToDevice(off, exec);
  } else {
    std::string bytes;
    for (const std::string& r : h.rows) bytes += r;
    data = ToDevice(bytes.data(), bytes.size(), exec);
  }
  const bool nullable = !h.validity.empty();
  if (nullable) validity = ToDevice(h.validity, exec);
  return Column::Adopt(h.type, h.width, nullable, h.size(), std::move(data), std::move(offsets),
                       std::move(validity));
}

inline HostColumn FromDevice(const ColumnView& v, const Exec& exec) {
  HostColumn h;
  h.type = v.type;
  h.width = v.width;
  if (v.size == 0) return h;
  if (v.type == PhysType::kVarChars) {
    const std::vector<int64_t> off = FromDevice<int64_t>(v.offsets, v.size + 1, exec);
    const std::vector<char> chars =
        FromDevice<char>(static_cast<const char*>(v.data) + off[0], off[v.size] - off[0], exec);
    for (int64_t i = 0; i < v.size; ++i) {
      h.rows.emplace_back(chars.data() + (off[i] - off[0]), chars.data() + (off[i + 1] - off[0]));
    }
  } else {
    const int w = ValueWidth(v.type, v.width);
    const std::vector<char> bytes = FromDevice<char>(v.data, v.size * w, exec);
    for (int64_t i = 0; i < v.size; ++i) h.rows.emplace_back(bytes.data() + i * w, w);
  }
  if (v.validity != nullptr) h.validity = FromDevice<uint8_t>(v.validity, v.size, exec);
  return h;
}

// Rows [begin, end) of a column, as a view into the same memory.
inline ColumnView Slice(ColumnView v, int64_t begin, int64_t end) {
  if (v.type == PhysType::kVarChars) {
    v.offsets += begin;
  } else {
    v.data = static_cast<const char*>(v.data) + begin * ValueWidth(v.type, v.width);
  }
  if (v.validity != nullptr) v.validity += begin;
  v.size = end - begin;
  return v;
}

// ---------------------------------------------------------------------------
// Hand-built programs.

// Postfix code for an expression; constants live in the ProgramBuilder that made it.
struct Code {
  std::vector<Instr> instrs;
};

class ProgramBuilder {
 public:
  // kColumn k reads columns[k].
  explicit ProgramBuilder(std::vector<ColumnView> columns) { program_.columns = std::move(columns); }

  Code Col(int32_t k) const { return {{Instr{Op::kColumn, k}}}; }
  Code Int(int64_t v) { return {{Instr{Op::kConstInt, program_.AddInt(v)}}}; }
  Code Float(double v) { return {{Instr{Op::kConstFloat, program_.AddFloat(v)}}}; }
  Code Str(const std::string& s) { return {{Instr{Op::kConstString, program_.AddString(s)}}}; }
  Code Null() const { return {{Instr{Op::kConstNull, 0}}}; }
  // x in (values): ints (kInI, a hash table past kInHashMin) or floats
  // (kInF); the values distinct and ascending.
  Code In(Code x, const std::vector<int64_t>& values) {
    x.instrs.push_back(Instr{Op::kInI, program_.AddIntSet(values), static_cast<int32_t>(values.size())});
    return x;
  }
  Code In(Code x, const std::vector<std::string>& values) {  // kInS: ascending, distinct
    const int32_t first = static_cast<int32_t>(program_.string_offsets.size() - 1);
    for (const std::string& v : values) program_.AddString(v);
    x.instrs.push_back(Instr{Op::kInS, first, static_cast<int32_t>(values.size())});
    return x;
  }
  Code Like(Code x, const std::string& pattern) {
    x.instrs.push_back(Instr{Op::kLike, program_.AddString(pattern)});
    return x;
  }
  Code In(Code x, const std::vector<double>& values) {
    const int32_t first = static_cast<int32_t>(program_.floats.size());
    for (double v : values) program_.AddFloat(v);
    x.instrs.push_back(Instr{Op::kInF, first, static_cast<int32_t>(values.size())});
    return x;
  }

  Program Build(const Code& code, ValueKind result = ValueKind::kInt) const {
    Program p = program_;
    p.code = code.instrs;
    p.result = result;
    return p;
  }

 private:
  Program program_;
};

inline Code Unary(Op op, Code a, int32_t arg = 0) {
  a.instrs.push_back(Instr{op, arg});
  return a;
}

inline Code Binary(Op op, Code a, const Code& b, int32_t arg = 0) {
  a.instrs.insert(a.instrs.end(), b.instrs.begin(), b.instrs.end());
  a.instrs.push_back(Instr{op, arg});
  return a;
}

inline Code Ternary(Op op, Code a, const Code& b, const Code& c, int32_t arg = 0) {
  a.instrs.insert(a.instrs.end(), b.instrs.begin(), b.instrs.end());
  return Binary(op, std::move(a), c, arg);
}

inline Code Compare(Op op, Cmp cmp, Code a, const Code& b) {
  return Binary(op, std::move(a), b, static_cast<int32_t>(cmp));
}
inline Code And(Code a, const Code& b) { return Binary(Op::kAnd, std::move(a), b); }
inline Code Or(Code a, const Code& b) { return Binary(Op::kOr, std::move(a), b); }
inline Code Not(Code a) { return Unary(Op::kNot, std::move(a)); }
inline Code IsNull(Code a) { return Unary(Op::kIsNull, std::move(a)); }

const Cmp kAllCmps[] = {Cmp::kEq, Cmp::kNe, Cmp::kLt, Cmp::kLe, Cmp::kGt, Cmp::kGe};

inline const char* CmpName(Cmp c) {
  switch (c) {
    case Cmp::kEq: return "==";
    case Cmp::kNe: return "!=";
    case Cmp::kLt: return "<";
    case Cmp::kLe: return "<=";
    case Cmp::kGt: return ">";
    case Cmp::kGe: return ">=";
  }
  return "?";
}

template <typename T>
bool ApplyCmpRef(Cmp c, const T& a, const T& b) {
  switch (c) {
    case Cmp::kEq: return a == b;
    case Cmp::kNe: return a != b;
    case Cmp::kLt: return a < b;
    case Cmp::kLe: return a <= b;
    case Cmp::kGt: return a > b;
    case Cmp::kGe: return a >= b;
  }
  return false;
}

// Byte-wise (unsigned) string order, as the kernels compare.
inline int CompareStrings(const std::string& a, const std::string& b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (c != 0) return c < 0 ? -1 : 1;
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

inline std::vector<int64_t> RowsWhere(int64_t begin, int64_t end, const std::function<bool(int64_t)>& pred) {
  std::vector<int64_t> rows;
  for (int64_t i = begin; i < end; ++i) {
    if (pred(i)) rows.push_back(i);
  }
  return rows;
}

inline std::vector<int64_t> Iota(int64_t begin, int64_t end) {
  std::vector<int64_t> v(static_cast<size_t>(std::max<int64_t>(end - begin, 0)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = begin + static_cast<int64_t>(i);
  return v;
}

// Reference moments of value(i) over the rows i of [begin, end) where
// valid(i): two passes in long double, the mean first, then powers of
// deviations from it.
template <typename Valid, typename ValueOf>
Moments TwoPassMoments(int64_t begin, int64_t end, Valid valid, ValueOf value) {
  Moments m;
  long double sum = 0;
  for (int64_t i = begin; i < end; ++i) {
    if (!valid(i)) continue;
    const double v = value(i);
    if (m.count == 0 || v < m.min) m.min = v;
    if (m.count == 0 || v > m.max) m.max = v;
    ++m.count;
    sum += v;
  }
  if (m.count == 0) return m;
  const long double mean = sum / m.count;
  long double m2 = 0, m3 = 0, m4 = 0;
  for (int64_t i = begin; i < end; ++i) {
    if (!valid(i)) continue;
    const long double d = value(i) - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m.sum = static_cast<double>(sum);
  m.mean = static_cast<double>(mean);
  m.m2 = static_cast<double>(m2);
  m.m3 = static_cast<double>(m3);
  m.m4 = static_cast<double>(m4);
  return m;
}

// ---------------------------------------------------------------------------
// The fixture: one backend per parameter, with a stream and an unlimited pool.

class BackendTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kCuda && CudaDeviceCount() == 0) {
      GTEST_SKIP() << "no CUDA device visible to this process ("
                   << (CudaCompiledIn() ? "CUDA backend built in" : "built without the CUDA backend")
                   << "); the CUDA path runs on a machine with a GPU";
    }
    exec_.backend = GetParam();
    exec_.device = 0;
    BindThread(exec_);
    exec_.stream = CreateStream(GetParam(), 0);
    mr_ = std::make_unique<MemoryResource>(GetParam(), 0, DeviceName(), 0);
    exec_.mr = mr_.get();
  }

  void TearDown() override {
    if (mr_ == nullptr) return;
    Synchronize(exec_);
    DestroyStream(exec_.backend, exec_.device, exec_.stream);
  }

  std::string DeviceName() const { return std::string(BackendName(GetParam())) + ":0"; }

  // exec_ drawing memory from `mr` instead.
  Exec ExecOn(MemoryResource* mr) const {
    Exec e = exec_;
    e.mr = mr;
    return e;
  }

  Column Dev(const HostColumn& h) { return ToDevice(h, exec_); }
  HostColumn Host(const ColumnView& v) { return FromDevice(v, exec_); }

  std::vector<int64_t> SelectRows(const Program& p, int64_t begin, int64_t end) {
    const DeviceProgram d = Upload(p, exec_);
    const Selection s = Select(d.view, begin, end, exec_);
    return FromDevice<int64_t>(s.indices.data(), s.count, exec_);
  }

  int64_t CountRows(const Program& p, int64_t begin, int64_t end) {
    const DeviceProgram d = Upload(p, exec_);
    return Count(d.view, begin, end, exec_);
  }

  Moments MomentsOf(const Program& p, int64_t begin, int64_t end) {
    const DeviceProgram d = Upload(p, exec_);
    return ComputeMoments(d.view, begin, end, exec_);
  }

  // Rows of [0, n) where `actual` and `expected` differ, in value (compared
  // with the kCmp* op `cmp`) or in being null. Runs on the backend.
  std::vector<int64_t> Mismatches(ProgramBuilder& b, const Code& actual, const Code& expected, Op cmp,
                                  int64_t n) {
    const Code same = Or(Compare(cmp, Cmp::kEq, actual, expected), And(IsNull(actual), IsNull(expected)));
    const Code differ = Or(IsNull(same), Not(same));
    return SelectRows(b.Build(differ), 0, n);
  }

  std::unique_ptr<MemoryResource> mr_;
  Exec exec_;
};

// A backend fixture for kernels with two grouping paths: the host has its own
// (serial) ones and runs the CUDA backend's (wide) ones too, so that both are
// tested without a GPU. Each test leaves the host's default (serial) set.
class SerialModesTest : public BackendTest {
 protected:
  void TearDown() override {
    detail::SetHostSerialGroups(true);
    BackendTest::TearDown();
  }
  // The paths to test on this backend.
  std::vector<bool> SerialModes() const {
    return GetParam() == Backend::kHost ? std::vector<bool>{true, false} : std::vector<bool>{false};
  }
  static void UseSerial(bool serial) { detail::SetHostSerialGroups(serial); }
};

inline std::string BackendParamName(const ::testing::TestParamInfo<Backend>& info) {
  return BackendName(info.param);
}

#define INSTANTIATE_FOR_BACKENDS(Suite)                                                     \
  INSTANTIATE_TEST_SUITE_P(Backends, Suite, ::testing::Values(Backend::kHost, Backend::kCuda), \
                           BackendParamName)

}  // namespace test
}  // namespace kernels
