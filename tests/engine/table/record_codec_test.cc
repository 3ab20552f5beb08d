#include "engine/table/record_codec.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/api/avro.h"
#include "engine/api/json.h"
#include "engine/table/dates.h"
#include "engine/table/types.h"
#include "tests/common/table_type.h"

namespace engine {
namespace {

// ---------------------------------------------------------------------------
// Helpers

using gpudb_test::MustParse;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

Json Binary(absl::string_view bytes) {
  return Json::binary(std::vector<uint8_t>(bytes.begin(), bytes.end()));
}

std::string EncodeLong(int64_t v) {
  std::string out;
  AvroWriter(&out).Long(v);
  return out;
}

// Decodes `records` (binary) into fresh columns of `type`.
absl::Status DecodeAvro(const TableType& type, const Json& records, std::vector<HostColumn>* columns,
                        DecodeOptions options = {}) {
  *columns = MakeHostColumns(type);
  return DecodeAvroRecords(type, records, options, columns);
}

absl::Status DecodeJson(const TableType& type, const Json& records, std::vector<HostColumn>* columns,
                        DecodeOptions options = {}) {
  *columns = MakeHostColumns(type);
  return DecodeJsonRecords(type, records, options, columns);
}

void ExpectInvalid(const absl::Status& status, absl::string_view message) {
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_EQ(status.message(), message);
}

uint64_t DoubleBits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, 8);
  return b;
}

// Compares two columns of `def` value by value (bit-exact for reals), then
// byte by byte.
void ExpectSameColumn(const ColumnDef& def, const HostColumn& expected, const HostColumn& actual) {
  SCOPED_TRACE(def.name);
  ASSERT_EQ(actual.size, expected.size);
  ASSERT_EQ(actual.type, expected.type);
  ASSERT_EQ(actual.nullable, expected.nullable);
  for (int64_t r = 0; r < expected.size; ++r) {
    ASSERT_EQ(actual.IsValid(r), expected.IsValid(r)) << "row " << r;
    if (!expected.IsValid(r)) continue;
    if (def.is_integer()) {
      ASSERT_EQ(actual.IntAt(r), expected.IntAt(r)) << "row " << r;
    } else if (def.is_real()) {
      ASSERT_EQ(DoubleBits(actual.FloatAt(r)), DoubleBits(expected.FloatAt(r)))
          << "row " << r << ": " << actual.FloatAt(r) << " vs " << expected.FloatAt(r);
    } else {
      ASSERT_EQ(actual.StringAt(r), expected.StringAt(r)) << "row " << r;
    }
  }
  EXPECT_EQ(actual.data, expected.data);
  EXPECT_EQ(actual.offsets, expected.offsets);
  EXPECT_EQ(actual.validity, expected.validity);
}

// Every column kind, nullable and not.
constexpr char kEveryKind[] =
    R"([["i","int"],["l","long"],["f","float"],["d","double"],["s","string"],["by","bytes"],)"
    R"(["i8","int8"],["i16","int16"],["b","boolean"],["ts","timestamp"],["c1","char1"],["c16","char16"],)"
    R"(["ni","int","nullable"],["nl","long","nullable"],["nf","float","nullable"],)"
    R"(["nd","double","nullable"],["ns","string","nullable"],["nby","bytes","nullable"],)"
    R"(["ni8","int8","nullable"],["ni16","int16","nullable"],["nb","boolean","nullable"],)"
    R"(["nts","timestamp","nullable"],["nc","char4","nullable"]])";

template <typename T>
T PickInt(std::mt19937_64& rng) {
  std::uniform_int_distribution<int> which(0, 9);
  switch (which(rng)) {
    case 0: return std::numeric_limits<T>::min();
    case 1: return std::numeric_limits<T>::max();
    case 2: return 0;
    case 3: return -1;
    default:
      return static_cast<T>(std::uniform_int_distribution<int64_t>(std::numeric_limits<T>::min(),
                                                                   std::numeric_limits<T>::max())(rng));
  }
}

template <typename T>
T PickReal(std::mt19937_64& rng, bool finite_only) {
  using L = std::numeric_limits<T>;
  const T specials[] = {T(0), -T(0), L::min(), L::max(), L::lowest(), L::denorm_min(), T(0.1),
                        L::infinity(), -L::infinity(), L::quiet_NaN()};
  const int n_specials = finite_only ? 7 : 10;
  std::uniform_int_distribution<int> which(0, 3 * n_specials);
  const int w = which(rng);
  if (w < n_specials) return specials[w];
  return std::uniform_real_distribution<T>(T(-1e6), T(1e6))(rng);
}

std::string PickText(std::mt19937_64& rng, int max_len, bool any_byte) {
  const int len = std::uniform_int_distribution<int>(0, max_len)(rng);
  std::string s;
  for (int i = 0; i < len; ++i) {
    s.push_back(any_byte ? static_cast<char>(std::uniform_int_distribution<int>(0, 255)(rng))
                         : static_cast<char>(std::uniform_int_distribution<int>(' ', '~')(rng)));
  }
  return s;
}

// Appends one random value (or null) of `def`'s kind to `column`.
void AppendRandom(const ColumnDef& def, std::mt19937_64& rng, bool finite_only, HostColumn* column) {
  if (def.nullable && std::uniform_int_distribution<int>(0, 3)(rng) == 0) {
    column->AppendNull();
    return;
  }
  switch (def.kind) {
    case ColumnKind::kInt: column->AppendInt(PickInt<int32_t>(rng)); break;
    case ColumnKind::kLong:
    case ColumnKind::kTimestamp: column->AppendInt(PickInt<int64_t>(rng)); break;
    case ColumnKind::kInt8: column->AppendInt(PickInt<int8_t>(rng)); break;
    case ColumnKind::kInt16: column->AppendInt(PickInt<int16_t>(rng)); break;
    case ColumnKind::kBoolean: column->AppendInt(std::uniform_int_distribution<int>(0, 1)(rng)); break;
    case ColumnKind::kFloat: column->AppendFloat(PickReal<float>(rng, finite_only)); break;
    case ColumnKind::kDouble: column->AppendFloat(PickReal<double>(rng, finite_only)); break;
    case ColumnKind::kString: {
      if (std::uniform_int_distribution<int>(0, 9)(rng) == 0) {
        column->AppendString("h\xC3\xA9llo \xE2\x9C\x93");  // UTF-8 text
      } else {
        column->AppendString(PickText(rng, 40, false));
      }
      break;
    }
    case ColumnKind::kBytes: column->AppendString(PickText(rng, 40, true)); break;
    case ColumnKind::kCharN: column->AppendString(PickText(rng, def.char_width, false)); break;
  }
}

std::vector<HostColumn> RandomRows(const TableType& type, int rows, uint64_t seed, bool finite_only) {
  std::mt19937_64 rng(seed);
  std::vector<HostColumn> columns = MakeHostColumns(type);
  for (int r = 0; r < rows; ++r) {
    for (size_t c = 0; c < type.size(); ++c) AppendRandom(type.column(c), rng, finite_only, &columns[c]);
  }
  return columns;
}

// ---------------------------------------------------------------------------
// AvroWriter / AvroReader

TEST(AvroTest, LongIsZigZagVarint) {
  EXPECT_EQ(EncodeLong(0), Bytes({0x00}));
  EXPECT_EQ(EncodeLong(-1), Bytes({0x01}));
  EXPECT_EQ(EncodeLong(1), Bytes({0x02}));
  EXPECT_EQ(EncodeLong(63), Bytes({0x7e}));
  EXPECT_EQ(EncodeLong(-64), Bytes({0x7f}));
  EXPECT_EQ(EncodeLong(64), Bytes({0x80, 0x01}));
  EXPECT_EQ(EncodeLong(300), Bytes({0xd8, 0x04}));
  EXPECT_EQ(EncodeLong(INT64_MAX), Bytes({0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
  EXPECT_EQ(EncodeLong(INT64_MIN), Bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}));
}

TEST(AvroTest, LongRoundTripsAtBoundaries) {
  std::vector<int64_t> values = {0, -1, 1, 63, -64, 64, -65, INT32_MAX, INT32_MIN, int64_t{INT32_MAX} + 1,
                                 int64_t{INT32_MIN} - 1, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1};
  std::mt19937_64 rng(7);
  for (int i = 0; i < 1000; ++i) values.push_back(static_cast<int64_t>(rng()));
  std::string data;
  AvroWriter w(&data);
  for (int64_t v : values) w.Long(v);
  AvroReader r(data);
  for (int64_t v : values) {
    int64_t got = 0;
    ASSERT_TRUE(r.Long(&got).ok()) << v;
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(r.at_end());
  EXPECT_EQ(r.position(), data.size());
  EXPECT_EQ(r.remaining(), 0u);
}

TEST(AvroTest, VarintOfElevenBytesIsRefused) {
  const std::string data = std::string(10, '\x80') + std::string(1, '\x00');
  AvroReader r(data);
  int64_t v = 0;
  ExpectInvalid(r.Long(&v), "number longer than 10 bytes at byte 10");
}

TEST(AvroTest, TenthVarintByteBeyondBit63IsRefused) {
  // Nine continuation bytes leave one bit: a tenth byte above 1 overflows.
  const std::string ok = std::string(9, '\xff') + std::string(1, '\x01');
  AvroReader r1(ok);
  int64_t v = 0;
  ASSERT_TRUE(r1.Long(&v).ok());
  EXPECT_EQ(v, INT64_MIN);
  const std::string data = std::string(9, '\xff') + std::string(1, '\x02');
  AvroReader r2(data);
  ExpectInvalid(r2.Long(&v), "number does not fit 64 bits at byte 9");
}

TEST(AvroTest, TruncatedVarintIsRefused) {
  int64_t v = 0;
  AvroReader empty("");
  ExpectInvalid(empty.Long(&v), "data ends inside a number at byte 0");
  const std::string data = Bytes({0x02, 0x80, 0x80});
  AvroReader r(data);
  ASSERT_TRUE(r.Long(&v).ok());
  EXPECT_EQ(v, 1);
  ExpectInvalid(r.Long(&v), "data ends inside a number at byte 3");
}

TEST(AvroTest, IntChecksThe32BitRange) {
  std::string data;
  AvroWriter w(&data);
  w.Int(INT32_MAX);
  w.Int(INT32_MIN);
  w.Long(int64_t{INT32_MAX} + 1);
  w.Long(int64_t{INT32_MIN} - 1);
  AvroReader r(data);
  int32_t v = 0;
  ASSERT_TRUE(r.Int(&v).ok());
  EXPECT_EQ(v, INT32_MAX);
  ASSERT_TRUE(r.Int(&v).ok());
  EXPECT_EQ(v, INT32_MIN);
  ExpectInvalid(r.Int(&v), "value 2147483648 does not fit a 32-bit int");
  ExpectInvalid(r.Int(&v), "value -2147483649 does not fit a 32-bit int");
}

TEST(AvroTest, FloatAndDoubleAreLittleEndian) {
  std::string data;
  AvroWriter w(&data);
  w.Float(1.0f);
  w.Double(1.0);
  EXPECT_EQ(data, Bytes({0x00, 0x00, 0x80, 0x3f, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}));
  AvroReader r(data);
  float f = 0;
  double d = 0;
  ASSERT_TRUE(r.Float(&f).ok());
  ASSERT_TRUE(r.Double(&d).ok());
  EXPECT_EQ(f, 1.0f);
  EXPECT_EQ(d, 1.0);
  EXPECT_TRUE(r.at_end());
}

TEST(AvroTest, TruncatedFloatDoubleAndBooleanAreRefused) {
  float f = 0;
  double d = 0;
  bool b = false;
  const std::string three = Bytes({0, 0, 0});
  AvroReader r1(three);
  ExpectInvalid(r1.Float(&f), "data ends inside a float at byte 0");
  const std::string seven = Bytes({0x02, 0, 0, 0, 0, 0, 0, 0});
  AvroReader r2(seven);
  int64_t v = 0;
  ASSERT_TRUE(r2.Long(&v).ok());
  ExpectInvalid(r2.Double(&d), "data ends inside a double at byte 1");
  AvroReader r3("");
  ExpectInvalid(r3.Boolean(&b), "data ends inside a boolean at byte 0");
}

TEST(AvroTest, BooleanIsOneByteZeroOrOne) {
  std::string data;
  AvroWriter w(&data);
  w.Boolean(true);
  w.Boolean(false);
  EXPECT_EQ(data, Bytes({1, 0}));
  data.push_back(2);
  AvroReader r(data);
  bool b = false;
  ASSERT_TRUE(r.Boolean(&b).ok());
  EXPECT_TRUE(b);
  ASSERT_TRUE(r.Boolean(&b).ok());
  EXPECT_FALSE(b);
  ExpectInvalid(r.Boolean(&b), "boolean byte 2 is not 0 or 1");
}

TEST(AvroTest, BytesAreLengthThenContent) {
  std::string data;
  AvroWriter w(&data);
  w.Bytes("");
  w.String("abc");
  w.Bytes(absl::string_view("\0\xff", 2));
  EXPECT_EQ(data, Bytes({0x00, 0x06, 'a', 'b', 'c', 0x04, 0x00, 0xff}));
  AvroReader r(data);
  absl::string_view v;
  ASSERT_TRUE(r.Bytes(&v).ok());
  EXPECT_EQ(v, "");
  ASSERT_TRUE(r.String(&v).ok());
  EXPECT_EQ(v, "abc");
  EXPECT_EQ(v.data(), data.data() + 2);  // a view into the reader's buffer
  ASSERT_TRUE(r.Bytes(&v).ok());
  EXPECT_EQ(v, absl::string_view("\0\xff", 2));
  EXPECT_TRUE(r.at_end());
}

TEST(AvroTest, BytesLengthBeyondTheDataOrNegativeIsRefused) {
  absl::string_view v;
  const std::string too_long = EncodeLong(5) + "abc";
  AvroReader r1(too_long);
  ExpectInvalid(r1.Bytes(&v), "length 5 exceeds the 3 bytes left");
  const std::string giant = EncodeLong(INT64_MAX);
  AvroReader r2(giant);
  ExpectInvalid(r2.Bytes(&v), "length 9223372036854775807 exceeds the 0 bytes left");
  const std::string negative = EncodeLong(-1) + "abc";
  AvroReader r3(negative);
  ExpectInvalid(r3.Bytes(&v), "negative length -1");
}

TEST(AvroTest, UnionIndexIsCheckedAgainstTheBranches) {
  std::string data;
  AvroWriter w(&data);
  w.UnionIndex(0);
  w.UnionIndex(1);
  w.UnionIndex(2);
  w.UnionIndex(-1);
  EXPECT_EQ(data, Bytes({0x00, 0x02, 0x04, 0x01}));
  AvroReader r(data);
  int64_t branch = -5;
  ASSERT_TRUE(r.UnionIndex(2, &branch).ok());
  EXPECT_EQ(branch, 0);
  ASSERT_TRUE(r.UnionIndex(2, &branch).ok());
  EXPECT_EQ(branch, 1);
  ExpectInvalid(r.UnionIndex(2, &branch), "union branch 2 is not 0..1");
  ExpectInvalid(r.UnionIndex(2, &branch), "union branch -1 is not 0..1");
}

// ---------------------------------------------------------------------------
// Avro records

TEST(AvroRecordsTest, EncodeWritesFieldsInTypeOrderWithNullableUnions) {
  const TableType type = MustParse(R"([["a","int"],["b","string","nullable"],["c","double"]])");
  std::vector<HostColumn> columns = MakeHostColumns(type);
  columns[0].AppendInt(-1);
  columns[1].AppendNull();
  columns[2].AppendFloat(1.0);
  columns[0].AppendInt(300);
  columns[1].AppendString("hi");
  columns[2].AppendFloat(0.0);
  EXPECT_EQ(EncodeAvroRecord(type, columns, 0), Bytes({0x01, 0x02, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f}));
  EXPECT_EQ(EncodeAvroRecord(type, columns, 1), Bytes({0xd8, 0x04, 0x00, 0x04, 'h', 'i', 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(AvroRecordsTest, RandomRowsOfEveryKindRoundTrip) {
  const TableType type = MustParse(kEveryKind);
  ASSERT_EQ(type.size(), 23u);
  const int kRows = 1500;
  const std::vector<HostColumn> expected = RandomRows(type, kRows, 42, /*finite_only=*/false);
  Json records = Json::array();
  for (int r = 0; r < kRows; ++r) records.push_back(Binary(EncodeAvroRecord(type, expected, r)));

  std::vector<HostColumn> decoded;
  ASSERT_TRUE(DecodeAvro(type, records, &decoded).ok());
  ASSERT_EQ(decoded.size(), type.size());
  int nulls = 0;
  for (size_t c = 0; c < type.size(); ++c) {
    ExpectSameColumn(type.column(c), expected[c], decoded[c]);
    for (int64_t r = 0; r < kRows; ++r) nulls += expected[c].IsValid(r) ? 0 : 1;
  }
  EXPECT_GT(nulls, 0);  // the data really had nulls in it
}

TEST(AvroRecordsTest, DecodeAppendsToExistingRowsAndEmptyListAppendsNothing) {
  const TableType type = MustParse(R"([["a","long"],["s","string","nullable"]])");
  std::vector<HostColumn> columns;
  ASSERT_TRUE(DecodeAvro(type, Json::array(), &columns).ok());
  EXPECT_EQ(columns[0].size, 0);
  EXPECT_EQ(columns[1].size, 0);

  std::vector<HostColumn> source = MakeHostColumns(type);
  source[0].AppendInt(5);
  source[1].AppendString("x");
  source[0].AppendInt(6);
  source[1].AppendNull();
  const Json records = Json::array({Binary(EncodeAvroRecord(type, source, 0)), Binary(EncodeAvroRecord(type, source, 1))});
  ASSERT_TRUE(DecodeAvroRecords(type, records, {}, &columns).ok());
  ASSERT_TRUE(DecodeAvroRecords(type, records, {}, &columns).ok());
  ASSERT_EQ(columns[0].size, 4);
  EXPECT_EQ(columns[0].IntAt(2), 5);
  EXPECT_EQ(columns[0].IntAt(3), 6);
  EXPECT_EQ(columns[1].StringAt(2), "x");
  EXPECT_FALSE(columns[1].IsValid(3));
}

TEST(AvroRecordsTest, BytesColumnKeepsEveryByteValue) {
  const TableType type = MustParse(R"([["by","bytes"],["nby","bytes","nullable"]])");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::vector<HostColumn> source = MakeHostColumns(type);
  source[0].AppendString(all);
  source[1].AppendString(absl::string_view("\0\0", 2));
  source[0].AppendString("");
  source[1].AppendNull();
  Json records = Json::array({Binary(EncodeAvroRecord(type, source, 0)), Binary(EncodeAvroRecord(type, source, 1))});
  std::vector<HostColumn> decoded;
  ASSERT_TRUE(DecodeAvro(type, records, &decoded).ok());
  EXPECT_EQ(decoded[0].StringAt(0), all);
  EXPECT_EQ(decoded[1].StringAt(0), absl::string_view("\0\0", 2));
  EXPECT_EQ(decoded[0].StringAt(1), "");
  EXPECT_FALSE(decoded[1].IsValid(1));
}

// A type for the error cases: a = 300, n = 5, s = "abc" encodes as below.
constexpr char kErrType[] = R"([["a","int"],["n","int8","nullable"],["s","string"]])";
const std::string kGood = Bytes({0xd8, 0x04, 0x00, 0x0a, 0x06, 'a', 'b', 'c'});

TEST(AvroRecordsTest, GoodRecordForTheErrorCasesDecodes) {
  const TableType type = MustParse(kErrType);
  std::vector<HostColumn> columns;
  ASSERT_TRUE(DecodeAvro(type, Json::array({Binary(kGood)}), &columns).ok());
  EXPECT_EQ(columns[0].IntAt(0), 300);
  EXPECT_EQ(columns[1].IntAt(0), 5);
  EXPECT_EQ(columns[2].StringAt(0), "abc");
}

TEST(AvroRecordsTest, TruncatedRecordNamesRecordAndColumn) {
  const TableType type = MustParse(kErrType);
  std::vector<HostColumn> columns;
  ExpectInvalid(DecodeAvro(type, Json::array({Binary(kGood), Binary(kGood.substr(0, 1))}), &columns),
                "list[1]: column 'a': data ends inside a number at byte 1");
  ExpectInvalid(DecodeAvro(type, Json::array({Binary(kGood), Binary(kGood.substr(0, 2))}), &columns),
                "list[1]: column 'n': data ends inside a number at byte 2");
  ExpectInvalid(DecodeAvro(type, Json::array({Binary(kGood), Binary(kGood.substr(0, 7))}), &columns),
                "list[1]: column 's': length 3 exceeds the 2 bytes left");
  ExpectInvalid(DecodeAvro(type, Json::array({Binary("")}), &columns),
                "list[0]: column 'a': data ends inside a number at byte 0");
}

TEST(AvroRecordsTest, TrailingBytesAreRefused) {
  const TableType type = MustParse(kErrType);
  std::vector<HostColumn> columns;
  ExpectInvalid(DecodeAvro(type, Json::array({Binary(kGood), Binary(kGood), Binary(kGood + "zz")}), &columns),
                "list[2]: 2 bytes left after the last column");
}

TEST(AvroRecordsTest, GiantOrNegativeLengthPrefixIsRefused) {
  const TableType type = MustParse(kErrType);
  std::vector<HostColumn> columns;
  const std::string head = kGood.substr(0, 4);
  ExpectInvalid(DecodeAvro(type, Json::array({Binary(head + EncodeLong(int64_t{1} << 62) + "abc")}), &columns),
                "list[0]: column 's': length 4611686018427387904 exceeds the 3 bytes left");
  ExpectInvalid(DecodeAvro(type, Json::array({Binary(head + EncodeLong(INT64_MAX))}), &columns),
                "list[0]: column 's': length 9223372036854775807 exceeds the 0 bytes left");
  ExpectInvalid(DecodeAvro(type, Json::array({Binary(head + EncodeLong(-3) + "abc")}), &columns),
                "list[0]: column 's': negative length -3");
}

TEST(AvroRecordsTest, BadUnionIndexIsRefused) {
  const TableType type = MustParse(kErrType);
  std::vector<HostColumn> columns;
  ExpectInvalid(DecodeAvro(type, Json::array({Binary(Bytes({0xd8, 0x04, 0x04, 0x0a, 0x06, 'a', 'b', 'c'}))}), &columns),
                "list[0]: column 'n': union branch 2 is not 0..1");
  ExpectInvalid(DecodeAvro(type, Json::array({Binary(kGood), Binary(Bytes({0x00, 0x01, 0x00}))}), &columns),
                "list[1]: column 'n': union branch -1 is not 0..1");
  // Branch 1 is null: the value is absent.
  ASSERT_TRUE(DecodeAvro(type, Json::array({Binary(Bytes({0x00, 0x02, 0x00}))}), &columns).ok());
  EXPECT_FALSE(columns[1].IsValid(0));
  EXPECT_EQ(columns[2].StringAt(0), "");
}

TEST(AvroRecordsTest, ValuesOutOfTheColumnsRangeAreRefused) {
  const TableType type = MustParse(kErrType);
  std::vector<HostColumn> columns;
  ExpectInvalid(DecodeAvro(type, Json::array({Binary(Bytes({0x00, 0x00}) + EncodeLong(200) + Bytes({0x00}))}), &columns),
                "list[0]: column 'n': value 200 is out of range for int8 [-128, 127]");
  ExpectInvalid(DecodeAvro(type, Json::array({Binary(EncodeLong(int64_t{1} << 31) + Bytes({0x02, 0x00}))}), &columns),
                "list[0]: column 'a': value 2147483648 does not fit a 32-bit int");
  const TableType boolean = MustParse(R"([["flag","boolean"],["small","int16"]])");
  ExpectInvalid(DecodeAvro(boolean, Json::array({Binary(EncodeLong(2) + EncodeLong(0))}), &columns),
                "list[0]: column 'flag': value 2 is out of range for boolean [0, 1]");
  ExpectInvalid(DecodeAvro(boolean, Json::array({Binary(EncodeLong(1) + EncodeLong(-32769))}), &columns),
                "list[0]: column 'small': value -32769 is out of range for int16 [-32768, 32767]");
}

TEST(AvroRecordsTest, EntryThatIsNotBytesIsRefused) {
  const TableType type = MustParse(kErrType);
  std::vector<HostColumn> columns;
  ExpectInvalid(DecodeAvro(type, Json::array({Binary(kGood), "abc"}), &columns), "list[1]: expected bytes");
}

TEST(AvroRecordsTest, CharNTooLongIsRefusedOrTruncated) {
  const TableType type = MustParse(R"([["c","char4"]])");
  std::string record;
  AvroWriter(&record).String("abcdef");
  std::vector<HostColumn> columns;
  ExpectInvalid(DecodeAvro(type, Json::array({Binary(record)}), &columns),
                "list[0]: column 'c': string of 6 bytes is longer than char4 allows");
  DecodeOptions truncate;
  truncate.truncate_strings = true;
  ASSERT_TRUE(DecodeAvro(type, Json::array({Binary(record)}), &columns, truncate).ok());
  EXPECT_EQ(columns[0].StringAt(0), "abcd");
  // Exactly the width fits without truncation.
  record.clear();
  AvroWriter(&record).String("wxyz");
  ASSERT_TRUE(DecodeAvro(type, Json::array({Binary(record)}), &columns).ok());
  EXPECT_EQ(columns[0].StringAt(0), "wxyz");
}

// ---------------------------------------------------------------------------
// AvroRecordsDecoder: the loop /insert/records decodes with, against the
// reference (DecodeAvroRecord, value by value), over packed lists and arrays.

Json Packed(const std::vector<std::string>& records) {
  PackedBytesBuilder builder;
  for (const std::string& r : records) builder.Add(r);
  return builder.Finish();
}

Json ArrayOf(const std::vector<std::string>& records) {
  Json out = Json::array();
  for (const std::string& r : records) out.push_back(Binary(r));
  return out;
}

// Every record of `columns` in Avro.
std::vector<std::string> EncodeAll(const TableType& type, const std::vector<HostColumn>& columns) {
  std::vector<std::string> out;
  for (int64_t r = 0; r < (columns.empty() ? 0 : columns[0].size); ++r) out.push_back(EncodeAvroRecord(type, columns, r));
  return out;
}

// Decodes `records` with AvroRecordsDecoder in chunks of `chunk`.
absl::Status DecodeInChunks(const TableType& type, const Json& records, size_t chunk, std::vector<HostColumn>* columns,
                            DecodeOptions options = {}) {
  *columns = MakeHostColumns(type);
  AvroRecordsDecoder decoder(type, records, options);
  while (decoder.decoded() < decoder.size()) {
    const size_t before = decoder.decoded();
    if (absl::Status s = decoder.Next(chunk, columns); !s.ok()) return s;
    EXPECT_EQ(decoder.decoded(), std::min(decoder.size(), before + chunk));
  }
  return absl::OkStatus();
}

TEST(AvroRecordsDecoderTest, EveryKindInChunksOfAnySizeFromEitherForm) {
  const TableType type = MustParse(kEveryKind);
  const int kRows = 1000;
  const std::vector<HostColumn> expected = RandomRows(type, kRows, 5, /*finite_only=*/false);
  const std::vector<std::string> records = EncodeAll(type, expected);
  for (const Json& list : {Packed(records), ArrayOf(records)}) {
    for (size_t chunk : {size_t{1}, size_t{7}, size_t{999}, size_t{1000}, size_t{16384}}) {
      SCOPED_TRACE(absl::StrCat(IsPackedBytes(list) ? "packed" : "array", ", chunks of ", chunk));
      std::vector<HostColumn> decoded;
      absl::Status s = DecodeInChunks(type, list, chunk, &decoded);
      ASSERT_TRUE(s.ok()) << s;
      for (size_t c = 0; c < type.size(); ++c) ExpectSameColumn(type.column(c), expected[c], decoded[c]);
    }
  }
}

TEST(AvroRecordsDecoderTest, EmptyListsAndOneRecord) {
  const TableType type = MustParse(R"([["a","long"],["s","string","nullable"]])");
  std::vector<HostColumn> columns;
  ASSERT_TRUE(DecodeInChunks(type, Packed({}), 16, &columns).ok());
  EXPECT_EQ(columns[0].size, 0);
  EXPECT_EQ(columns[1].offsets, std::vector<int64_t>({0}));
  std::vector<HostColumn> one = MakeHostColumns(type);
  one[0].AppendInt(-7);
  one[1].AppendString("x");
  ASSERT_TRUE(DecodeInChunks(type, Packed(EncodeAll(type, one)), 16, &columns).ok());
  for (size_t c = 0; c < type.size(); ++c) ExpectSameColumn(type.column(c), one[c], columns[c]);
}

// A date is a string on the wire (YYYY-MM-DD) and its day in the column.
// The loop read it as an Avro int (found by fuzzing, tests/fuzz/records):
// a record of Kinetica's clients failed, or worse, decoded into other values.
TEST(AvroRecordsDecoderTest, DatesAreStringsOnTheWire) {
  const TableType type =
      MustParse(R"([["x","int"],["d","string","date"],["nd","string","date","nullable"],["y","int"]])");
  std::vector<HostColumn> rows;
  ASSERT_TRUE(DecodeJson(type,
                         Json::array({R"({"x": 1, "d": "2024-01-15", "nd": null, "y": 2})",
                                      R"({"x": 3, "d": "1969-12-31", "nd": "2000-02-29", "y": 4})"}),
                         &rows)
                  .ok());
  const std::vector<std::string> avro = EncodeAll(type, rows);
  std::vector<HostColumn> decoded;
  ASSERT_TRUE(DecodeInChunks(type, ArrayOf(avro), 16, &decoded).ok());
  ASSERT_EQ(decoded[0].size, 2);
  EXPECT_EQ(RecordToJson(type, decoded, 0).dump(), R"({"x":1,"d":"2024-01-15","nd":null,"y":2})");
  EXPECT_EQ(RecordToJson(type, decoded, 1).dump(), R"({"x":3,"d":"1969-12-31","nd":"2000-02-29","y":4})");
  // Not a date: refused, naming the record and column.
  std::string bad = avro[0];
  bad.replace(bad.find("2024-01-15"), 10, "2024-13-15");
  const absl::Status s = DecodeInChunks(type, ArrayOf({avro[1], bad}), 16, &decoded);
  EXPECT_EQ(s.message(), "list[1]: column 'd': '2024-13-15' is not a date (YYYY-MM-DD)");
}

// Values of string subtypes (subtypes.h) are checked as they are read, in
// JSON and on the wire (the decoder's loop too), and refused naming the
// record, the column and the form.
TEST(AvroRecordsDecoderTest, SubtypesAreChecked) {
  const TableType type = MustParse(
      R"([["dt","string","datetime"],["u","string","uuid","nullable"],["ip","string","ipv4"],["n","string","decimal"]])");
  std::vector<HostColumn> refused;
  const absl::Status json = DecodeJson(
      type, Json::array({R"({"dt": "2024-01-15 10:20:30", "u": null, "ip": "10.0.0.256", "n": "1"})"}), &refused);
  EXPECT_EQ(json.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(json.message().find("'10.0.0.256' is not an ipv4 address"), std::string::npos) << json;
  EXPECT_NE(json.message().find("ip"), std::string::npos) << json;
  std::vector<HostColumn> rows;
  ASSERT_TRUE(DecodeJson(type,
                         Json::array({R"({"dt": "2024-01-15 10:20:30.123", "u": null, "ip": "10.0.0.1", "n": "-1.5"})",
                                      R"({"dt": "2024-01-15", "u": "123e4567-e89b-12d3-a456-426614174000",)"
                                      R"( "ip": "255.255.255.255", "n": "42"})"}),
                         &rows)
                  .ok());
  const std::vector<std::string> avro = EncodeAll(type, rows);
  std::vector<HostColumn> decoded;
  ASSERT_TRUE(DecodeInChunks(type, ArrayOf(avro), 16, &decoded).ok());
  EXPECT_EQ(RecordToJson(type, decoded, 1).dump(),
            R"({"dt":"2024-01-15","u":"123e4567-e89b-12d3-a456-426614174000","ip":"255.255.255.255","n":"42"})");
  std::string bad = avro[1];
  bad.replace(bad.find("123e4567"), 8, "123x4567");
  const absl::Status s = DecodeInChunks(type, ArrayOf({avro[0], bad}), 16, &decoded);
  EXPECT_EQ(
      s.message(),
      "list[1]: column 'u': '123x4567-e89b-12d3-a456-426614174000' is not a uuid (8-4-4-4-12 hexadecimal digits)");
}

// Every date read is written back as it reads: years before 1000 keep four
// digits (absl wrote "999-12-31", which no reader took back).
TEST(AvroRecordsDecoderTest, DatesRoundTripThroughTheirText) {
  for (const char* text : {"0999-12-31", "0001-01-01", "1000-01-01", "1970-01-01", "2900-12-31", "9999-12-31"}) {
    const std::optional<int32_t> day = ParseDate(text);
    ASSERT_TRUE(day.has_value()) << text;
    EXPECT_EQ(FormatDate(*day), text);
  }
  // Only digits in the number fields: a signed year (a fuzz find, written
  // back as "-24-01-15", which no reader took back) or month is no date.
  for (const char* text : {"-024-01-15", "+024-01-15", "2024-+1-15", "2024-01--5", "2024-01- 5", " 024-01-15"}) {
    EXPECT_FALSE(ParseDate(text).has_value()) << text;
  }
}

TEST(AvroRecordsDecoderTest, AppendsAfterRowsAlreadyThere) {
  const TableType type = MustParse(R"([["a","long"],["s","string","nullable"],["c","char4","nullable"]])");
  const std::vector<HostColumn> first = RandomRows(type, 50, 1, true);
  const std::vector<HostColumn> second = RandomRows(type, 70, 2, true);
  // Expected: both, row by row.
  std::vector<HostColumn> expected = MakeHostColumns(type);
  std::vector<std::string> all = EncodeAll(type, first);
  for (const std::string& r : EncodeAll(type, second)) all.push_back(r);
  ASSERT_TRUE(DecodeAvroRecords(type, ArrayOf(all), {}, &expected).ok());
  // Decoded: the first rows by the reference, then the rest by the loop.
  std::vector<HostColumn> columns = MakeHostColumns(type);
  size_t i = 0;
  for (const std::string& r : EncodeAll(type, first)) ASSERT_TRUE(DecodeAvroRecord(type, {}, i++, r, &columns).ok());
  for (HostColumn& c : columns) c.Reserve(70);
  const Json list = Packed(EncodeAll(type, second));
  AvroRecordsDecoder decoder(type, list, {});
  ASSERT_TRUE(decoder.Next(30, &columns).ok());
  ASSERT_TRUE(decoder.Next(100, &columns).ok());
  for (size_t c = 0; c < type.size(); ++c) ExpectSameColumn(type.column(c), expected[c], columns[c]);
}

// The outcome of one record by the reference and by the loop must agree:
// both accept it with the same row, or both refuse it with the same message.
void ExpectSameVerdict(const TableType& type, const std::string& record, const DecodeOptions& options) {
  std::vector<HostColumn> reference = MakeHostColumns(type);
  const absl::Status expected = DecodeAvroRecord(type, options, 0, record, &reference);
  for (const Json& list : {Packed({record}), ArrayOf({record})}) {
    std::vector<HostColumn> columns = MakeHostColumns(type);
    const absl::Status got = DecodeAvroRecords(type, list, options, &columns);
    ASSERT_EQ(got.ok(), expected.ok()) << got << " vs the reference's " << expected;
    if (!expected.ok()) {
      EXPECT_EQ(got, expected);
      continue;
    }
    for (size_t c = 0; c < type.size(); ++c) ExpectSameColumn(type.column(c), reference[c], columns[c]);
  }
}

TEST(AvroRecordsDecoderTest, AgreesWithTheReferenceOnDamagedRecords) {
  const TableType type = MustParse(kEveryKind);
  const std::vector<HostColumn> rows = RandomRows(type, 300, 11, /*finite_only=*/false);
  std::mt19937_64 rng(3);
  int refused = 0;
  for (const std::string& good : EncodeAll(type, rows)) {
    std::vector<std::string> variants = {good, good + "x", good.substr(0, rng() % good.size())};
    std::string flipped = good;
    for (int k = 0; k < 3; ++k) flipped[rng() % flipped.size()] = static_cast<char>(rng());
    variants.push_back(flipped);
    for (const std::string& v : variants) {
      ExpectSameVerdict(type, v, {});
      std::vector<HostColumn> scratch = MakeHostColumns(type);
      refused += DecodeAvroRecord(type, {}, 0, v, &scratch).ok() ? 0 : 1;
    }
  }
  EXPECT_GT(refused, 600);  // the damage was seen
}

TEST(AvroRecordsDecoderTest, AgreesWithTheReferenceOnEdgeValues) {
  // Each column's values at and past its limits, one column at a time.
  struct Case {
    const char* type;
    std::string record;
  };
  const std::vector<Case> cases = {
      {R"([["v","int8"]])", EncodeLong(127)},
      {R"([["v","int8"]])", EncodeLong(-128)},
      {R"([["v","int8"]])", EncodeLong(128)},
      {R"([["v","int16"]])", EncodeLong(-32769)},
      {R"([["v","boolean"]])", EncodeLong(1)},
      {R"([["v","boolean"]])", EncodeLong(-1)},
      {R"([["v","int"]])", EncodeLong(INT32_MIN)},
      {R"([["v","int"]])", EncodeLong(int64_t{INT32_MAX} + 1)},
      {R"([["v","long"]])", EncodeLong(INT64_MIN)},
      {R"([["v","timestamp"]])", EncodeLong(INT64_MAX)},
      {R"([["v","long"]])", std::string(9, '\xff') + "\x01"},        // ten bytes, bit 63
      {R"([["v","long"]])", std::string(9, '\xff') + "\x02"},        // ten bytes, too wide
      {R"([["v","long"]])", std::string(10, '\x80') + std::string(1, '\0')},  // eleven bytes
      {R"([["v","long"]])", Bytes({0x80, 0x00})},                      // an overlong zero
      {R"([["v","float"]])", "abc"},
      {R"([["v","double"]])", "abcdefg"},
      {R"([["v","string"]])", EncodeLong(-1)},
      {R"([["v","string"]])", EncodeLong(4) + "abc"},
      {R"([["v","bytes"]])", EncodeLong(0)},
      {R"([["v","char4"]])", EncodeLong(4) + "abcd"},
      {R"([["v","char4"]])", EncodeLong(5) + "abcde"},
      {R"([["v","char4"]])", EncodeLong(6) + "ab\xc3\xa9xy"},
      {R"([["v","int","nullable"]])", EncodeLong(1)},
      {R"([["v","int","nullable"]])", EncodeLong(2)},
      {R"([["v","int","nullable"]])", EncodeLong(-1)},
      {R"([["v","string","nullable"]])", EncodeLong(0) + EncodeLong(2) + "hi"},
      {R"([["v","char4","nullable"]])", EncodeLong(0) + EncodeLong(2) + "hi"},
      {R"([["v","double","nullable"]])", EncodeLong(1) + "x"},
  };
  DecodeOptions truncate;
  truncate.truncate_strings = true;
  for (const Case& k : cases) {
    SCOPED_TRACE(absl::StrCat(k.type, " ", absl::CEscape(k.record)));
    const TableType type = MustParse(k.type);
    ExpectSameVerdict(type, k.record, {});
    ExpectSameVerdict(type, k.record, truncate);
  }
}

TEST(AvroRecordsDecoderTest, ErrorsNameTheRecordOfTheWholeList) {
  const TableType type = MustParse(kErrType);
  std::vector<std::string> records(40000, kGood);
  records[20001] = Bytes({0xd8, 0x04, 0x04, 0x0a, 0x06, 'a', 'b', 'c'});
  std::vector<HostColumn> columns;
  for (const Json& list : {Packed(records), ArrayOf(records)}) {
    ExpectInvalid(DecodeInChunks(type, list, 16384, &columns), "list[20001]: column 'n': union branch 2 is not 0..1");
    ExpectInvalid(DecodeAvroRecords(type, list, {}, &columns, 20000, 30000),
                  "list[20001]: column 'n': union branch 2 is not 0..1");
    columns = MakeHostColumns(type);
    ASSERT_TRUE(DecodeAvroRecords(type, list, {}, &columns, 20002).ok());
    EXPECT_EQ(columns[0].size, 40000 - 20002);
  }
  records[20001] = kGood + "zz";
  ExpectInvalid(DecodeInChunks(type, Packed(records), 1000, &columns), "list[20001]: 2 bytes left after the last column");
  Json mixed = ArrayOf({kGood, kGood});
  mixed[1] = "x";
  ExpectInvalid(DecodeInChunks(type, mixed, 16, &columns), "list[1]: expected bytes");
}

TEST(AvroRecordsDecoderTest, TruncatesCharNAtACharacterBoundaryWhenAsked) {
  const TableType type = MustParse(R"([["c","char4"],["n","char4","nullable"]])");
  std::string record;
  AvroWriter w(&record);
  w.String("ab\xc3\xa9x");  // 'é' would be cut at byte 4
  w.UnionIndex(0);
  w.String("wxyz");
  std::vector<HostColumn> columns;
  ExpectInvalid(DecodeInChunks(type, Packed({record}), 16, &columns),
                "list[0]: column 'c': string of 5 bytes is longer than char4 allows");
  DecodeOptions truncate;
  truncate.truncate_strings = true;
  ASSERT_TRUE(DecodeInChunks(type, Packed({record}), 16, &columns, truncate).ok());
  EXPECT_EQ(columns[0].StringAt(0), "ab\xc3\xa9");
  EXPECT_EQ(columns[1].StringAt(0), "wxyz");
}

// ---------------------------------------------------------------------------
// JSON records

constexpr char kJsonType[] =
    R"([["b","boolean"],["i8","int8"],["i","int"],["l","long"],["f","float"],["d","double"],)"
    R"(["s","string"],["c","char4"],["by","bytes"],["n","int","nullable"],["ns","string","nullable"]])";

TEST(JsonRecordsTest, HandWrittenRecordsDecode) {
  const TableType type = MustParse(kJsonType);
  const Json records = Json::array({
      R"({"b":true,"i8":-128,"i":7.0,"l":-5,"f":1.5,"d":2.25,"s":"x","c":"abcd","by":"\u0000\u00ffA","n":null,"ns":"q"})",
      R"({"b":false,"i8":127,"i":-2147483648,"l":9223372036854775807,"f":-3,"d":1e300,"s":"","c":"","by":"","n":3,"ns":null})",
      R"({"ns":"last","b":1,"i8":0,"i":2147483647,"l":-9223372036854775808,"f":0.1,"d":-0.5,"s":"h\u00e9","c":"ab","by":"\u0080"})",
      R"({"b":0,"i8":1,"i":-4.0,"l":1e3,"f":0,"d":0,"s":"z","c":"z","by":"z"})",
  });
  std::vector<HostColumn> c;
  absl::Status s = DecodeJson(type, records, &c);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_EQ(c[0].size, 4);
  // boolean: true/false and 1/0
  EXPECT_EQ(c[0].IntAt(0), 1);
  EXPECT_EQ(c[0].IntAt(1), 0);
  EXPECT_EQ(c[0].IntAt(2), 1);
  EXPECT_EQ(c[0].IntAt(3), 0);
  // int8 bounds
  EXPECT_EQ(c[1].IntAt(0), -128);
  EXPECT_EQ(c[1].IntAt(1), 127);
  // integral floats for ints
  EXPECT_EQ(c[2].IntAt(0), 7);
  EXPECT_EQ(c[2].IntAt(1), INT32_MIN);
  EXPECT_EQ(c[2].IntAt(2), INT32_MAX);
  EXPECT_EQ(c[2].IntAt(3), -4);
  EXPECT_EQ(c[3].IntAt(1), INT64_MAX);
  EXPECT_EQ(c[3].IntAt(2), INT64_MIN);
  EXPECT_EQ(c[3].IntAt(3), 1000);
  // reals
  EXPECT_EQ(c[4].FloatAt(0), 1.5);
  EXPECT_EQ(c[4].FloatAt(1), -3.0);
  EXPECT_EQ(c[4].FloatAt(2), static_cast<double>(0.1f));
  EXPECT_EQ(c[5].FloatAt(1), 1e300);
  EXPECT_EQ(c[5].FloatAt(2), -0.5);
  // strings
  EXPECT_EQ(c[6].StringAt(0), "x");
  EXPECT_EQ(c[6].StringAt(1), "");
  EXPECT_EQ(c[6].StringAt(2), "h\xC3\xA9");
  EXPECT_EQ(c[7].StringAt(0), "abcd");
  EXPECT_EQ(c[7].StringAt(2), "ab");
  // bytes as code points 0-255
  EXPECT_EQ(c[8].StringAt(0), absl::string_view("\0\xff" "A", 3));
  EXPECT_EQ(c[8].StringAt(1), "");
  EXPECT_EQ(c[8].StringAt(2), "\x80");
  // nullable: explicit null, value, missing → null
  EXPECT_FALSE(c[9].IsValid(0));
  EXPECT_TRUE(c[9].IsValid(1));
  EXPECT_EQ(c[9].IntAt(1), 3);
  EXPECT_FALSE(c[9].IsValid(2));
  EXPECT_FALSE(c[9].IsValid(3));
  EXPECT_EQ(c[10].StringAt(0), "q");
  EXPECT_FALSE(c[10].IsValid(1));
  EXPECT_EQ(c[10].StringAt(2), "last");
  EXPECT_FALSE(c[10].IsValid(3));
}

TEST(JsonRecordsTest, WideRecordsInAnyOrderDecode) {
  // 2,000 columns; records with every column in order, shuffled, and with
  // the nullable ones left out (10,000 columns took 71 ms a record).
  constexpr int kColumns = 2000;
  Json def = Json::array();
  for (int i = 0; i < kColumns; ++i) {
    def.push_back(i % 2 == 0 ? Json::array({absl::StrCat("c", i), "int"})
                             : Json::array({absl::StrCat("c", i), "int", "nullable"}));
  }
  const TableType type = MustParse(def.dump());
  std::vector<int> order(kColumns);
  for (int i = 0; i < kColumns; ++i) order[static_cast<size_t>(i)] = i;
  std::mt19937 rng(7);
  Json in_order = Json::object(), shuffled = Json::object(), evens = Json::object();
  for (int i : order) AppendMember(in_order, absl::StrCat("c", i), i);
  std::shuffle(order.begin(), order.end(), rng);
  for (int i : order) AppendMember(shuffled, absl::StrCat("c", i), i + 1);
  for (int i : order) {
    if (i % 2 == 0) AppendMember(evens, absl::StrCat("c", i), i + 2);
  }
  std::vector<HostColumn> c;
  absl::Status s = DecodeJson(type, Json::array({in_order.dump(), shuffled.dump(), evens.dump()}), &c);
  ASSERT_TRUE(s.ok()) << s;
  for (int i = 0; i < kColumns; ++i) {
    ASSERT_EQ(c[static_cast<size_t>(i)].IntAt(0), i);
    ASSERT_EQ(c[static_cast<size_t>(i)].IntAt(1), i + 1);
    if (i % 2 == 0) {
      ASSERT_EQ(c[static_cast<size_t>(i)].IntAt(2), i + 2);
    } else {
      ASSERT_FALSE(c[static_cast<size_t>(i)].IsValid(2)) << i;
    }
  }
  // An unknown column among many is named.
  shuffled["zz"] = 1;
  ExpectInvalid(DecodeJson(type, Json::array({shuffled.dump()}), &c), "list_str[0]: unknown column 'zz'");
  evens.erase("c1000");
  ExpectInvalid(DecodeJson(type, Json::array({evens.dump()}), &c), "list_str[0]: column 'c1000' is missing");
}

// Timestamps as SQL and JSON write them: midnight of a date, minutes,
// seconds, a fraction cut to ms, 'T' and 'Z'; the epoch's both sides.
TEST(JsonRecordsTest, TimestampsAsTextAreTheirMilliseconds) {
  const std::vector<std::pair<std::string, int64_t>> cases = {
      {"1970-01-01", 0},
      {"1970-01-01 00:00:00.001", 1},
      {"2024-01-05 10:00:00", 1704448800000},
      {"2024-01-05T10:00", 1704448800000},
      {" 2024-02-10 23:59:59Z ", 1707609599000},
      {"2024-02-10 23:59:59.5", 1707609599500},
      {"2024-02-10 23:59:59.123456789", 1707609599123},
      {"1969-12-31 23:59:59", -1000},
      {"0001-01-01 00:00:00", -62135596800000},
  };
  for (const auto& [text, ms] : cases) EXPECT_EQ(ParseTimestamp(text), std::optional<int64_t>(ms)) << text;
  for (const char* text : {"", "2024-01-05 x", "2024-01-05 10", "2024-01-05 24:00", "2024-01-05 10:60",
                           "2024-01-05 10:00:61", "2024-01-05 10:00:00.", "2024-01-05 10:00:00.1234567890",
                           "2024-01-05x10:00", "2024-13-05 10:00", "1704448800000", "2024-01-05 1:00"}) {
    EXPECT_FALSE(ParseTimestamp(text).has_value()) << text;
  }
  // In a JSON record: text or ms; other text is refused by name.
  const TableType type = MustParse(R"([["t","long","timestamp","nullable"]])");
  std::vector<HostColumn> c;
  ASSERT_TRUE(
      DecodeJson(type, Json::array({R"({"t":"2024-01-05 10:00:00"})", R"({"t":1704448800001})", R"({"t":null})"}), &c)
          .ok());
  ASSERT_EQ(c[0].size, 3);
  EXPECT_EQ(c[0].IntAt(0), 1704448800000);
  EXPECT_EQ(c[0].IntAt(1), 1704448800001);
  EXPECT_FALSE(c[0].IsValid(2));
  const absl::Status bad = DecodeJson(type, Json::array({R"({"t":"yesterday"})"}), &c);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(bad.message(), "column 't': 'yesterday' is not a timestamp")) << bad;
}

TEST(JsonRecordsTest, MissingNonNullableColumnIsRefused) {
  const TableType type = MustParse(R"([["a","int"],["b","string"],["n","long","nullable"]])");
  std::vector<HostColumn> c;
  ExpectInvalid(DecodeJson(type, Json::array({R"({"a":1,"b":"x"})", R"({"a":1})"}), &c),
                "list_str[1]: column 'b' is missing");
}

TEST(JsonRecordsTest, NullInNonNullableColumnIsRefused) {
  const TableType type = MustParse(R"([["a","int"],["b","string"]])");
  std::vector<HostColumn> c;
  ExpectInvalid(DecodeJson(type, Json::array({R"({"a":null,"b":"x"})"}), &c),
                "list_str[0]: column 'a': null in a column that is not nullable");
}

TEST(JsonRecordsTest, UnknownColumnIsRefused) {
  const TableType type = MustParse(R"([["a","int"],["n","int","nullable"]])");
  std::vector<HostColumn> c;
  ExpectInvalid(DecodeJson(type, Json::array({R"({"a":1})", R"({"a":1,"zz":2})"}), &c),
                "list_str[1]: unknown column 'zz'");
  // Also when a nullable column is missing, so the count of known keys differs.
  ExpectInvalid(DecodeJson(type, Json::array({R"({"a":1,"N":2})"}), &c), "list_str[0]: unknown column 'N'");
}

TEST(JsonRecordsTest, OutOfRangeIntegersNameRecordAndColumn) {
  const TableType type = MustParse(R"([["i8","int8"],["i16","int16"],["i","int"],["l","long"],["b","boolean"]])");
  const std::string ok = R"({"i8":1,"i16":1,"i":1,"l":1,"b":1})";
  std::vector<HostColumn> c;
  ASSERT_TRUE(DecodeJson(type, Json::array({ok}), &c).ok());
  struct Case {
    const char* record;
    const char* message;
  } cases[] = {
      {R"({"i8":128,"i16":1,"i":1,"l":1,"b":1})", "list_str[1]: column 'i8': value 128 is out of range for int8 [-128, 127]"},
      {R"({"i8":-129,"i16":1,"i":1,"l":1,"b":1})", "list_str[1]: column 'i8': value -129 is out of range for int8 [-128, 127]"},
      {R"({"i8":1,"i16":32768,"i":1,"l":1,"b":1})", "list_str[1]: column 'i16': value 32768 is out of range for int16 [-32768, 32767]"},
      {R"({"i8":1,"i16":1,"i":2147483648,"l":1,"b":1})",
       "list_str[1]: column 'i': value 2147483648 is out of range for int [-2147483648, 2147483647]"},
      {R"({"i8":1,"i16":1,"i":-2147483649.0,"l":1,"b":1})",
       "list_str[1]: column 'i': value -2147483649 is out of range for int [-2147483648, 2147483647]"},
      {R"({"i8":1,"i16":1,"i":1,"l":9223372036854775808,"b":1})",
       "list_str[1]: column 'l': value 9223372036854775808 is out of range for long"},
      {R"({"i8":1,"i16":1,"i":1,"l":18446744073709551615,"b":1})",
       "list_str[1]: column 'l': value 18446744073709551615 is out of range for long"},
      {R"({"i8":1,"i16":1,"i":9223372036854775808,"l":1,"b":1})",
       "list_str[1]: column 'i': value 9223372036854775808 is out of range for int"},
      {R"({"i8":1,"i16":1,"i":1,"l":1,"b":2})", "list_str[1]: column 'b': value 2 is out of range for boolean [0, 1]"},
      {R"({"i8":1,"i16":1,"i":1,"l":1,"b":-1})", "list_str[1]: column 'b': value -1 is out of range for boolean [0, 1]"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.record);
    ExpectInvalid(DecodeJson(type, Json::array({ok, k.record}), &c), k.message);
  }
}

TEST(JsonRecordsTest, WrongJsonTypesAreRefused) {
  const TableType type = MustParse(R"([["i","int"],["b","boolean"],["d","double"],["s","string"],["by","bytes"]])");
  std::vector<HostColumn> c;
  struct Case {
    const char* record;
    const char* message;
  } cases[] = {
      {R"({"i":1.5,"b":1,"d":1,"s":"","by":""})", "list_str[0]: column 'i': expected integer, got number"},
      {R"({"i":"5","b":1,"d":1,"s":"","by":""})", "list_str[0]: column 'i': expected integer, got string"},
      {R"({"i":true,"b":1,"d":1,"s":"","by":""})", "list_str[0]: column 'i': expected integer, got boolean"},
      {R"({"i":1e19,"b":1,"d":1,"s":"","by":""})", "list_str[0]: column 'i': expected integer, got number"},
      {R"({"i":1,"b":"true","d":1,"s":"","by":""})", "list_str[0]: column 'b': expected boolean, got string"},
      {R"({"i":1,"b":0.5,"d":1,"s":"","by":""})", "list_str[0]: column 'b': expected boolean, got number"},
      {R"({"i":1,"b":1,"d":"1","s":"","by":""})", "list_str[0]: column 'd': expected number, got string"},
      {R"({"i":1,"b":1,"d":1,"s":5,"by":""})", "list_str[0]: column 's': expected string, got number"},
      {R"({"i":1,"b":1,"d":1,"s":["a"],"by":""})", "list_str[0]: column 's': expected string, got array"},
      {R"({"i":1,"b":1,"d":1,"s":"","by":"\u0100"})", "list_str[0]: column 'by': bytes must be code points 0-255"},
      {R"({"i":1,"b":1,"d":1,"s":"","by":1})", "list_str[0]: column 'by': expected string, got number"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.record);
    ExpectInvalid(DecodeJson(type, Json::array({k.record}), &c), k.message);
  }
}

TEST(JsonRecordsTest, EntriesThatAreNotJsonObjectStringsAreRefused) {
  const TableType type = MustParse(R"([["i","int"]])");
  std::vector<HostColumn> c;
  ExpectInvalid(DecodeJson(type, Json::array({R"({"i":1})", 5}), &c), "list_str[1]: expected a JSON string");
  ExpectInvalid(DecodeJson(type, Json::array({R"({"i":1)"}), &c),
                "list_str[0]: malformed JSON at byte 7: unexpected end of input; expected '}'");
  ExpectInvalid(DecodeJson(type, Json::array({"[1]"}), &c), "list_str[0]: not a JSON object");
}

TEST(JsonRecordsTest, CharNTooLongIsRefusedOrTruncated) {
  const TableType type = MustParse(R"([["c","char4"]])");
  std::vector<HostColumn> c;
  ExpectInvalid(DecodeJson(type, Json::array({R"({"c":"abcd"})", R"({"c":"abcde"})"}), &c),
                "list_str[1]: column 'c': string of 5 bytes is longer than char4 allows");
  DecodeOptions truncate;
  truncate.truncate_strings = true;
  ASSERT_TRUE(DecodeJson(type, Json::array({R"({"c":"abcd"})", R"({"c":"abcde"})"}), &c, truncate).ok());
  ASSERT_EQ(c[0].size, 2);
  EXPECT_EQ(c[0].StringAt(0), "abcd");
  EXPECT_EQ(c[0].StringAt(1), "abcd");
}

TEST(JsonRecordsTest, TruncationKeepsWholeUtf8Characters) {
  const TableType type = MustParse(R"([["c","char4"]])");
  std::vector<HostColumn> c;
  DecodeOptions truncate;
  truncate.truncate_strings = true;
  // "ab" then 'é' (2 bytes) then 'x': 5 bytes; four would split the 'é'.
  ASSERT_TRUE(DecodeJson(type, Json::array({"{\"c\":\"ab\u00e9x\"}", "{\"c\":\"a\u00e9\u00e9\"}"}), &c,
                         truncate).ok());
  EXPECT_EQ(c[0].StringAt(0), "ab\xc3\xa9");
  EXPECT_EQ(c[0].StringAt(1), "a\xc3\xa9");
}

TEST(JsonRecordsTest, RandomRowsOfEveryKindRoundTripThroughJsonText) {
  const TableType type = MustParse(kEveryKind);
  const int kRows = 500;
  // JSON has no infinities or NaN.
  const std::vector<HostColumn> expected = RandomRows(type, kRows, 99, /*finite_only=*/true);
  Json records = Json::array();
  for (int r = 0; r < kRows; ++r) records.push_back(DumpJson(RecordToJson(type, expected, r)));
  std::vector<HostColumn> decoded;
  absl::Status s = DecodeJson(type, records, &decoded);
  ASSERT_TRUE(s.ok()) << s;
  for (size_t c = 0; c < type.size(); ++c) ExpectSameColumn(type.column(c), expected[c], decoded[c]);
}

TEST(JsonRecordsTest, RecordToJsonGivesNumbersStringsNullsAndBinaryBytes) {
  const TableType type = MustParse(
      R"([["i","int"],["f","float"],["s","char8"],["by","bytes"],["n","double","nullable"],["b","boolean"]])");
  std::vector<HostColumn> c = MakeHostColumns(type);
  c[0].AppendInt(-3);
  c[1].AppendFloat(0.1f);
  c[2].AppendString("ab");
  c[3].AppendString(absl::string_view("\0\xff", 2));
  c[4].AppendNull();
  c[5].AppendInt(1);
  const Json record = RecordToJson(type, c, 0);
  EXPECT_EQ(record["i"], -3);
  EXPECT_EQ(record["f"].get<double>(), 0.1);  // the float's shortest decimal form
  EXPECT_EQ(record["s"], "ab");
  ASSERT_TRUE(record["by"].is_binary());
  EXPECT_EQ(record["by"].get_binary(), std::vector<uint8_t>({0x00, 0xff}));
  EXPECT_TRUE(record["n"].is_null());
  EXPECT_EQ(record["b"], 1);
  EXPECT_EQ(DumpJson(record), R"({"i":-3,"f":0.1,"s":"ab","by":"\u0000ÿ","n":null,"b":1})");
}

TEST(JsonTest, CodePointsRoundTripEveryByte) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  const std::string text = ToCodePoints(all);
  EXPECT_EQ(text.size(), 128u + 2u * 128u);
  std::string back;
  ASSERT_TRUE(FromCodePoints(text, &back));
  EXPECT_EQ(back, all);
  EXPECT_FALSE(FromCodePoints("\xC4\x80", &back));  // U+0100
  EXPECT_FALSE(FromCodePoints("\xC3", &back));      // cut UTF-8
  EXPECT_FALSE(FromCodePoints("\xE2\x9C\x93", &back));
}

}  // namespace
}  // namespace engine
