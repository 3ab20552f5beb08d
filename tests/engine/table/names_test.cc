// Table and schema names (engine/table/names.h): checks, resolution against
// the default schema, and the names the scheduler orders jobs by.

#include "engine/table/names.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace engine {
namespace {

TEST(ValidateTableNameTest, AllowsOneDotBetweenASchemaAndATable) {
  EXPECT_TRUE(ValidateTableName("s1.t-2", "table_name").ok());
  EXPECT_EQ(ValidateTableName("a.b.c", "view_name").message(),
            "view_name: 'a.b.c' has more than one '.'; name a table as schema.table");
  EXPECT_EQ(ValidateTableName(".t", "table_name").message(), "table_name: '.t' lacks the schema name around its '.'");
  EXPECT_EQ(ValidateTableName("s.", "table_name").message(), "table_name: 's.' lacks the table name around its '.'");
  EXPECT_EQ(ValidateTableName(".", "table_name").code(), absl::StatusCode::kInvalidArgument);
}

TEST(ValidateSchemaNameTest, LettersDigitsUnderscoreDash) {
  for (const std::string& name : {std::string("ki_home"), std::string("S-1"), std::string(256, 's')}) {
    EXPECT_TRUE(ValidateSchemaName(name, "schema_name").ok()) << name;
  }
  EXPECT_EQ(ValidateSchemaName("", "schema_name").message(), "schema_name: the name is empty");
  EXPECT_EQ(ValidateSchemaName(std::string(257, 's'), "schema_name").message(),
            "schema_name: the name is longer than 256 characters");
  for (const char* bad : {"a.b", "a b", "~s", "a*"}) {
    EXPECT_EQ(
        ValidateSchemaName(bad, "options.collection_name").message(),
        std::string("options.collection_name: '") + bad + "' has characters other than letters, digits, '_' and '-'");
  }
}

TEST(TableNameTest, ABareNameIsInTheDefaultSchema) {
  EXPECT_EQ(SplitTableName("t").schema, "ki_home");
  EXPECT_EQ(SplitTableName("t").table, "t");
  EXPECT_EQ(SplitTableName("s1.t").schema, "s1");
  EXPECT_EQ(SplitTableName("s1.t").table, "t");
  EXPECT_EQ(QualifiedTableName("t"), "ki_home.t");
  EXPECT_EQ(QualifiedTableName("ki_home.t"), "ki_home.t");
  EXPECT_EQ(QualifiedTableName("s1.t"), "s1.t");
  EXPECT_EQ(DisplayTableName("ki_home.t"), "t");
  EXPECT_EQ(DisplayTableName("t"), "t");
  EXPECT_EQ(DisplayTableName("s1.t"), "s1.t");
}

std::vector<std::string> Names(const std::vector<Access>& accesses) {
  std::vector<std::string> out;
  for (const Access& a : accesses) out.push_back(a.name + (a.write ? " w" : " r"));
  return out;
}

TEST(SchedulerAccessesTest, OneNamePerTableAndTheSchemaOutsideTheDefault) {
  EXPECT_EQ(Names(SchedulerAccesses({{"t", true}, {"ki_home.u", false}})),
            (std::vector<std::string>{"ki_home.t w", "ki_home.u r"}));
  EXPECT_EQ(Names(SchedulerAccesses({{"s1.t", true}, {SchemaAccessName("s2"), true}})),
            (std::vector<std::string>{"s1.t w", "~s1 r", "~s2 w"}));
  // A schema's name sorts after every table name.
  for (const char* table : {"zz.z", "ki_home.zzz", "Z", "_", "9", "-"}) {
    EXPECT_LT(std::string(table), SchemaAccessName("a")) << table;
  }
}

}  // namespace
}  // namespace engine
