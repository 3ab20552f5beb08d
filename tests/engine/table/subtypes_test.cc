#include "engine/table/subtypes.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/common/table_type.h"

namespace engine {
namespace {

struct Case {
  const char* subtype;
  std::vector<const char*> good;
  std::vector<const char*> bad;
};

// Each subtype takes its form and refuses near misses.
TEST(SubtypesTest, EachTakesItsFormOnly) {
  const std::vector<Case> cases = {
      {"datetime",
       {"2024-01-15 10:20:30", "2024-01-15 10:20:30.123", "2024-01-15T23:59:59.999999", "2024-01-15",
        "1000-01-01 00:00:00.000"},
       {"", "2024-01-15 24:00:00", "2024-02-30 10:00:00", "2024-01-15 10:20", "2024-01-15 10:20:30.", "2024/01/15",
        "2024-01-15  10:20:30", "2024-01-15 10:20:30.1234567", "abc", "2024-01-15 10:60:00"}},
      {"time",
       {"00:00:00", "23:59:59.999", "12:30:45.5"},
       {"", "24:00:00", "12:60:00", "1:02:03", "12:30", "12:30:45.x"}},
      {"decimal",
       {"0", "-1.5", "+3.1415", "123456789012345.6789", ".5", "7."},
       {"", "-", ".", "1.23456", "1234567890123456", "1e5", "1,5", "--1", " 1"}},
      {"ulong", {"0", "18446744073709551615", "0042"}, {"", "-1", "18446744073709551616", "+1", "1.0", " 1"}},
      {"uuid",
       {"123e4567-e89b-12d3-a456-426614174000", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF"},
       {"", "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400",
        "g23e4567-e89b-12d3-a456-426614174000"}},
      {"ipv4",
       {"0.0.0.0", "192.168.1.1", "255.255.255.255"},
       {"", "256.1.1.1", "1.2.3", "1.2.3.4.5", "1..3.4", "a.b.c.d", "1.2.3.4 ", "0001.2.3.4"}},
  };
  for (const Case& c : cases) {
    for (const char* text : c.good) EXPECT_TRUE(CheckSubtype(c.subtype, text).ok()) << c.subtype << " '" << text << "'";
    for (const char* text : c.bad) {
      const absl::Status s = CheckSubtype(c.subtype, text);
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.subtype << " '" << text << "'";
      EXPECT_NE(s.message().find(std::string("'") + text + "' is not "), std::string::npos) << s;
    }
  }
  // Plain strings take anything.
  EXPECT_TRUE(CheckSubtype("", "anything").ok());
}

TEST(SubtypesTest, SubtypeOfAColumnComesFromItsProperties) {
  const TableType type = gpudb_test::MustParse(
      R"([["a","string","datetime"],["b","string","nullable","uuid"],["c","string"],["d","char16"],["e","string","date"]])");
  EXPECT_EQ(StringSubtype(type.column(0)), "datetime");
  EXPECT_EQ(StringSubtype(type.column(1)), "uuid");
  EXPECT_EQ(StringSubtype(type.column(2)), "");
  EXPECT_EQ(StringSubtype(type.column(3)), "");
  EXPECT_EQ(StringSubtype(type.column(4)), "");  // a date is a column kind of its own
}

// The values /insert/records/random makes have their subtype's form.
TEST(SubtypesTest, MadeValuesHaveTheirForm) {
  std::mt19937_64 rng(17);
  for (const char* subtype : {"datetime", "time", "decimal", "ulong", "uuid", "ipv4"}) {
    for (int i = 0; i < 2000; ++i) {
      const uint64_t word = i < 3 ? (i == 0 ? 0 : i == 1 ? ~uint64_t{0} : uint64_t{9'000'000'000'000'000}) : rng();
      const std::string v = SubtypeValue(subtype, word);
      EXPECT_TRUE(CheckSubtype(subtype, v).ok()) << subtype << " " << word << " -> '" << v << "'";
    }
  }
}

}  // namespace
}  // namespace engine
