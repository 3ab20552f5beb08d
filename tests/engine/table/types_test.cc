#include "engine/table/types.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "absl/strings/match.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/api/json.h"

namespace engine {
namespace {

using Properties = std::map<std::string, std::vector<std::string>>;

absl::StatusOr<TableType> Parse(absl::string_view definition, const Properties& properties = {},
                                std::string label = "") {
  return ParseTypeDefinition(definition, properties, std::move(label));
}

// An Avro record schema with one field `name` of Avro type `type` (JSON text).
std::string OneField(absl::string_view name, absl::string_view type) {
  return absl::StrCat(R"({"type":"record","name":"r","fields":[{"name":")", name, R"(","type":)", type,
                      "}]}");
}

// Asserts that `definition` is refused with InvalidArgument and exactly `message`.
void ExpectError(absl::string_view definition, const Properties& properties, absl::string_view message) {
  absl::StatusOr<TableType> type = Parse(definition, properties);
  ASSERT_FALSE(type.ok()) << definition;
  EXPECT_EQ(type.status().code(), absl::StatusCode::kInvalidArgument) << definition;
  EXPECT_EQ(type.status().message(), message) << definition;
}

void ExpectError(absl::string_view definition, absl::string_view message) {
  ExpectError(definition, {}, message);
}

TEST(ParseTypeDefinitionTest, CompactFormGivesColumnsInOrderWithTheirProperties) {
  absl::StatusOr<TableType> type =
      Parse(R"([["id","int","primary_key"],["name","char16","nullable"],["ts","timestamp"]])", {}, "lbl");
  ASSERT_TRUE(type.ok()) << type.status();
  ASSERT_EQ(type->size(), 3u);
  EXPECT_EQ(type->label(), "lbl");

  const ColumnDef& id = type->column(0);
  EXPECT_EQ(id.name, "id");
  EXPECT_EQ(id.kind, ColumnKind::kInt);
  EXPECT_FALSE(id.nullable);
  EXPECT_EQ(id.properties, std::vector<std::string>({"primary_key"}));

  const ColumnDef& name = type->column(1);
  EXPECT_EQ(name.name, "name");
  EXPECT_EQ(name.kind, ColumnKind::kCharN);
  EXPECT_EQ(name.char_width, 16);
  EXPECT_TRUE(name.nullable);
  EXPECT_EQ(name.properties, std::vector<std::string>({"char16", "nullable"}));

  const ColumnDef& ts = type->column(2);
  EXPECT_EQ(ts.name, "ts");
  EXPECT_EQ(ts.kind, ColumnKind::kTimestamp);
  EXPECT_FALSE(ts.nullable);
  EXPECT_EQ(ts.properties, std::vector<std::string>({"timestamp"}));

  EXPECT_EQ(type->Find("id"), 0);
  EXPECT_EQ(type->Find("ts"), 2);
  EXPECT_EQ(type->Find("missing"), -1);
  EXPECT_EQ(type->Find("ID"), -1);
}

TEST(ParseTypeDefinitionTest, AvroRecordFormGivesColumnsInOrder) {
  absl::StatusOr<TableType> type = Parse(
      R"({"type":"record","name":"t","fields":[{"name":"x","type":"double"},{"name":"n","type":["string","null"]}]})");
  ASSERT_TRUE(type.ok()) << type.status();
  ASSERT_EQ(type->size(), 2u);
  EXPECT_EQ(type->column(0).name, "x");
  EXPECT_EQ(type->column(0).kind, ColumnKind::kDouble);
  EXPECT_FALSE(type->column(0).nullable);
  EXPECT_TRUE(type->column(0).properties.empty());
  EXPECT_EQ(type->column(1).name, "n");
  EXPECT_EQ(type->column(1).kind, ColumnKind::kString);
  EXPECT_TRUE(type->column(1).nullable);
  EXPECT_EQ(type->column(1).properties, std::vector<std::string>({"nullable"}));
}

TEST(ParseTypeDefinitionTest, AvroFieldTypeMayBeAnObjectWithAType) {
  absl::StatusOr<TableType> type = Parse(OneField("a", R"({"type":"long"})"));
  ASSERT_TRUE(type.ok()) << type.status();
  EXPECT_EQ(type->column(0).kind, ColumnKind::kLong);
}

struct KindCase {
  const char* base;       // Avro base type
  const char* property;   // storage property, or "" for none
  ColumnKind kind;
  kernels::PhysType phys;
  const char* type_name;
  int value_width;        // bytes per row on the device (offset width for var-length)
};

const KindCase kKinds[] = {
    {"int", "", ColumnKind::kInt, kernels::PhysType::kInt32, "int", 4},
    {"long", "", ColumnKind::kLong, kernels::PhysType::kInt64, "long", 8},
    {"float", "", ColumnKind::kFloat, kernels::PhysType::kFloat32, "float", 4},
    {"double", "", ColumnKind::kDouble, kernels::PhysType::kFloat64, "double", 8},
    {"string", "", ColumnKind::kString, kernels::PhysType::kVarChars, "string", 8},
    {"bytes", "", ColumnKind::kBytes, kernels::PhysType::kVarChars, "bytes", 8},
    {"int", "int8", ColumnKind::kInt8, kernels::PhysType::kInt8, "int8", 1},
    {"int", "int16", ColumnKind::kInt16, kernels::PhysType::kInt16, "int16", 2},
    {"int", "boolean", ColumnKind::kBoolean, kernels::PhysType::kInt8, "boolean", 1},
    {"long", "timestamp", ColumnKind::kTimestamp, kernels::PhysType::kInt64, "timestamp", 8},
    {"string", "char32", ColumnKind::kCharN, kernels::PhysType::kFixedChars, "char32", 32},
};

void ExpectKind(const ColumnDef& c, const KindCase& k) {
  EXPECT_EQ(c.kind, k.kind);
  EXPECT_EQ(c.phys(), k.phys);
  EXPECT_STREQ(c.avro_type(), k.base);
  EXPECT_EQ(c.type_name(), k.type_name);
  EXPECT_EQ(kernels::ValueWidth(c.phys(), c.char_width), k.value_width);
  const bool integer = k.kind == ColumnKind::kInt || k.kind == ColumnKind::kLong ||
                       k.kind == ColumnKind::kInt8 || k.kind == ColumnKind::kInt16 ||
                       k.kind == ColumnKind::kBoolean || k.kind == ColumnKind::kTimestamp;
  const bool real = k.kind == ColumnKind::kFloat || k.kind == ColumnKind::kDouble;
  EXPECT_EQ(c.is_integer(), integer);
  EXPECT_EQ(c.is_real(), real);
  EXPECT_EQ(c.is_string(), !integer && !real);
}

TEST(ParseTypeDefinitionTest, EveryColumnKindFromTheCompactForm) {
  for (const KindCase& k : kKinds) {
    SCOPED_TRACE(k.type_name);
    // The storage property as the type ("int8"), and as a property of the base type.
    const std::string as_type = absl::StrCat(R"([["a",")", *k.property ? k.property : k.base, R"("]])");
    absl::StatusOr<TableType> type = Parse(as_type);
    ASSERT_TRUE(type.ok()) << type.status();
    ExpectKind(type->column(0), k);
    if (*k.property) {
      const std::string as_property = absl::StrCat(R"([["a",")", k.base, R"(",")", k.property, R"("]])");
      type = Parse(as_property);
      ASSERT_TRUE(type.ok()) << type.status();
      ExpectKind(type->column(0), k);
      EXPECT_EQ(type->column(0).properties, std::vector<std::string>({k.property}));
    }
  }
}

TEST(ParseTypeDefinitionTest, EveryColumnKindFromTheAvroFormWithPropertyMap) {
  for (const KindCase& k : kKinds) {
    SCOPED_TRACE(k.type_name);
    Properties props;
    if (*k.property) props["a"] = {k.property};
    absl::StatusOr<TableType> type = Parse(OneField("a", absl::StrCat("\"", k.base, "\"")), props);
    ASSERT_TRUE(type.ok()) << type.status();
    ExpectKind(type->column(0), k);
    EXPECT_FALSE(type->column(0).nullable);
  }
}

TEST(ParseTypeDefinitionTest, CharNAcceptsEveryPowerOfTwoFrom1To256) {
  for (int n = 1; n <= 256; n *= 2) {
    SCOPED_TRACE(n);
    absl::StatusOr<TableType> type = Parse(absl::StrCat(R"([["c","char)", n, R"("]])"));
    ASSERT_TRUE(type.ok()) << type.status();
    EXPECT_EQ(type->column(0).kind, ColumnKind::kCharN);
    EXPECT_EQ(type->column(0).char_width, n);
    EXPECT_EQ(type->column(0).type_name(), absl::StrCat("char", n));
    EXPECT_EQ(kernels::ValueWidth(type->column(0).phys(), type->column(0).char_width), n);

    type = Parse(OneField("c", "\"string\""), {{"c", {absl::StrCat("char", n)}}});
    ASSERT_TRUE(type.ok()) << type.status();
    EXPECT_EQ(type->column(0).char_width, n);
  }
}

TEST(ParseTypeDefinitionTest, CharNRefusesOtherWidths) {
  for (const char* bad : {"char0", "char3", "char6", "char100", "char255", "char512", "char", "char-4",
                          "char04", "char+4", "char 4", "char4 ", "char4x", "Char4"}) {
    SCOPED_TRACE(bad);
    ExpectError(absl::StrCat(R"([["c",")", bad, R"("]])"),
                absl::StrCat("type_definition: column 'c': unknown type '", bad, "'"));
    ExpectError(absl::StrCat(R"([["c","string",")", bad, R"("]])"),
                absl::StrCat("type_definition: column 'c': unknown property '", bad, "'"));
  }
}

TEST(ParseTypeDefinitionTest, DatesAreStringsStoredAsDays) {
  for (const auto& [text, properties] :
       std::vector<std::pair<std::string, std::map<std::string, std::vector<std::string>>>>{
           {R"([["d","date"]])", {}}, {OneField("d", "\"string\""), {{"d", {"date"}}}}}) {
    absl::StatusOr<TableType> type = Parse(text, properties);
    ASSERT_TRUE(type.ok()) << type.status();
    EXPECT_EQ(type->column(0).kind, ColumnKind::kDate);
    EXPECT_EQ(type->column(0).phys(), kernels::PhysType::kInt32);
    EXPECT_STREQ(type->column(0).avro_type(), "string");  // clients see strings
    EXPECT_EQ(type->column(0).type_name(), "date");
  }
  ExpectError(R"([["d","int","date"]])",
              "type_definition: column 'd': property 'date' applies to string columns, not int");
}

TEST(ParseTypeDefinitionTest, StringSubtypesKeepVariableLengthStorage) {
  for (const char* subtype : {"time", "datetime", "decimal", "ulong", "uuid", "ipv4"}) {
    SCOPED_TRACE(subtype);
    absl::StatusOr<TableType> type = Parse(absl::StrCat(R"([["s",")", subtype, R"("]])"));
    ASSERT_TRUE(type.ok()) << type.status();
    EXPECT_EQ(type->column(0).kind, ColumnKind::kString);
    EXPECT_EQ(type->column(0).phys(), kernels::PhysType::kVarChars);
    EXPECT_EQ(type->column(0).type_name(), "string");
    EXPECT_EQ(type->column(0).properties, std::vector<std::string>({subtype}));

    type = Parse(OneField("s", "\"string\""), {{"s", {subtype}}});
    ASSERT_TRUE(type.ok()) << type.status();
    EXPECT_EQ(type->column(0).kind, ColumnKind::kString);

    ExpectError(absl::StrCat(R"([["s","int",")", subtype, R"("]])"),
                absl::StrCat("type_definition: column 's': property '", subtype,
                             "' applies to string columns, not int"));
  }
}

TEST(ParseTypeDefinitionTest, KeyPropertiesAreKeptAndDoNotChangeStorage) {
  absl::StatusOr<TableType> type =
      Parse(R"([["k","long","primary_key","shard_key"],["d","string","dict"],["t","char8","text_search"]])");
  ASSERT_TRUE(type.ok()) << type.status();
  EXPECT_EQ(type->column(0).kind, ColumnKind::kLong);
  EXPECT_EQ(type->column(0).properties, std::vector<std::string>({"primary_key", "shard_key"}));
  EXPECT_EQ(type->column(1).kind, ColumnKind::kString);
  EXPECT_EQ(type->column(1).properties, std::vector<std::string>({"dict"}));
  EXPECT_EQ(type->column(2).kind, ColumnKind::kCharN);
  EXPECT_EQ(type->column(2).properties, std::vector<std::string>({"char8", "text_search"}));
}

TEST(ParseTypeDefinitionTest, NullableByUnionInEitherOrder) {
  for (const char* union_type : {R"(["int","null"])", R"(["null","int"])"}) {
    SCOPED_TRACE(union_type);
    absl::StatusOr<TableType> type = Parse(OneField("a", union_type));
    ASSERT_TRUE(type.ok()) << type.status();
    EXPECT_EQ(type->column(0).kind, ColumnKind::kInt);
    EXPECT_TRUE(type->column(0).nullable);
    EXPECT_EQ(type->column(0).properties, std::vector<std::string>({"nullable"}));
  }
}

TEST(ParseTypeDefinitionTest, NullableByProperty) {
  absl::StatusOr<TableType> type = Parse(R"([["a","int8","nullable"],["b","long"]])");
  ASSERT_TRUE(type.ok()) << type.status();
  EXPECT_EQ(type->column(0).kind, ColumnKind::kInt8);
  EXPECT_TRUE(type->column(0).nullable);
  EXPECT_FALSE(type->column(1).nullable);

  // Through the properties map, for both forms.
  type = Parse(R"([["a","int"],["b","long"]])", {{"b", {"nullable"}}});
  ASSERT_TRUE(type.ok()) << type.status();
  EXPECT_FALSE(type->column(0).nullable);
  EXPECT_TRUE(type->column(1).nullable);
  EXPECT_EQ(type->column(1).properties, std::vector<std::string>({"nullable"}));

  type = Parse(OneField("a", "\"double\""), {{"a", {"nullable"}}});
  ASSERT_TRUE(type.ok()) << type.status();
  EXPECT_TRUE(type->column(0).nullable);
  EXPECT_EQ(type->column(0).properties, std::vector<std::string>({"nullable"}));

  // A union and the property together: nullable once.
  type = Parse(OneField("a", R"(["double","null"])"), {{"a", {"nullable"}}});
  ASSERT_TRUE(type.ok()) << type.status();
  EXPECT_TRUE(type->column(0).nullable);
  EXPECT_EQ(type->column(0).properties, std::vector<std::string>({"nullable"}));
}

TEST(ParseTypeDefinitionTest, CompactEntryPropertiesAndMapPropertiesCombine) {
  absl::StatusOr<TableType> type = Parse(R"([["a","int","primary_key"]])", {{"a", {"int16", "nullable"}}});
  ASSERT_TRUE(type.ok()) << type.status();
  EXPECT_EQ(type->column(0).kind, ColumnKind::kInt16);
  EXPECT_TRUE(type->column(0).nullable);
  EXPECT_EQ(type->column(0).properties, std::vector<std::string>({"primary_key", "int16", "nullable"}));
}

TEST(ParseTypeDefinitionTest, UnknownTypeNamesColumnAndType) {
  ExpectError(R"([["a","int"],["b","integer"]])", "type_definition: column 'b': unknown type 'integer'");
  ExpectError(OneField("x", "\"varchar\""), "type_definition: column 'x': unknown type 'varchar'");
  ExpectError(OneField("x", R"(["varchar","null"])"), "type_definition: column 'x': unknown type 'varchar'");
  ExpectError(OneField("x", R"({"type":"array","items":"int"})"),
              "type_definition: column 'x': unknown type 'array'");
  ExpectError(OneField("x", "5"), "type_definition: column 'x': type must be a primitive Avro type");
}

TEST(ParseTypeDefinitionTest, UnknownPropertyNamesColumnAndProperty) {
  ExpectError(R"([["a","int","fast"]])", "type_definition: column 'a': unknown property 'fast'");
  ExpectError(OneField("a", "\"int\""), {{"a", {"primary_key", "Nullable"}}},
              "type_definition: column 'a': unknown property 'Nullable'");
}

TEST(ParseTypeDefinitionTest, StoragePropertyOnTheWrongBaseType) {
  ExpectError(R"([["a","long","int8"]])",
              "type_definition: column 'a': property 'int8' applies to int columns, not long");
  ExpectError(R"([["a","string","int16"]])",
              "type_definition: column 'a': property 'int16' applies to int columns, not string");
  ExpectError(R"([["a","double","boolean"]])",
              "type_definition: column 'a': property 'boolean' applies to int columns, not double");
  ExpectError(R"([["a","int","timestamp"]])",
              "type_definition: column 'a': property 'timestamp' applies to long columns, not int");
  ExpectError(R"([["a","bytes","char8"]])",
              "type_definition: column 'a': property 'char8' applies to string columns, not bytes");
  ExpectError(OneField("f", "\"float\""), {{"f", {"char4"}}},
              "type_definition: column 'f': property 'char4' applies to string columns, not float");
}

TEST(ParseTypeDefinitionTest, TwoStoragePropertiesAreRefused) {
  ExpectError(R"([["a","int","int8","int16"]])",
              "type_definition: column 'a': more than one storage property ('int16')");
  ExpectError(R"([["a","int8","boolean"]])",
              "type_definition: column 'a': more than one storage property ('boolean')");
  ExpectError(R"([["a","char16","char32"]])",
              "type_definition: column 'a': more than one storage property ('char32')");
  ExpectError(R"([["a","char16","date"]])",
              "type_definition: column 'a': more than one storage property ('date')");
  ExpectError(OneField("a", "\"int\""), {{"a", {"boolean", "int8"}}},
              "type_definition: column 'a': more than one storage property ('int8')");
}

TEST(ParseTypeDefinitionTest, DuplicateColumnIsRefused) {
  ExpectError(R"([["a","int"],["b","long"],["a","double"]])", "type_definition: column 'a' appears twice");
  ExpectError(
      R"({"type":"record","name":"r","fields":[{"name":"x","type":"int"},{"name":"x","type":"int"}]})",
      "type_definition: column 'x' appears twice");
}

TEST(ParseTypeDefinitionTest, BadColumnNameIsRefused) {
  for (const char* bad : {"1a", "a b", "a-b", "a.b", "", "é"}) {
    SCOPED_TRACE(bad);
    const std::string message = absl::StrCat(
        "type_definition: column name '", bad,
        "' is not valid (letters, digits and '_', not starting with a digit)");
    ExpectError(absl::StrCat(R"([["ok","int"],[")", bad, R"(","int"]])"), message);
    ExpectError(OneField(bad, "\"int\""), message);
  }
  // Letters, digits and '_' are fine, also leading '_'.
  EXPECT_TRUE(Parse(R"([["_a1","int"],["B_2","int"]])").ok());
}

TEST(ParseTypeDefinitionTest, MalformedJsonIsRefused) {
  for (const char* bad : {"", "[[\"a\",\"int\"]", "{\"type\":\"record\",", "not json", "[[\"a\" \"int\"]]"}) {
    SCOPED_TRACE(bad);
    absl::StatusOr<TableType> type = Parse(bad, {});
    ASSERT_FALSE(type.ok());
    EXPECT_EQ(type.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(type.status().message(), "type_definition: malformed JSON at byte ")) << type.status();
  }
  ExpectError("[[\"a\" \"int\"]]",
              "type_definition: malformed JSON at byte 11: unexpected string literal; expected ']'");
  ExpectError(std::string(100000, '[') + std::string(100000, ']'),
              "type_definition: JSON nested deeper than 64 levels");
}

TEST(ParseTypeDefinitionTest, UnionThatIsNotTypeAndNullIsRefused) {
  for (const char* bad : {R"(["int","long"])", R"(["int","null","long"])", R"(["null","null"])", R"(["int"])",
                          R"([])", R"(["null"])"}) {
    SCOPED_TRACE(bad);
    ExpectError(OneField("u", bad), R"(type_definition: column 'u': a union must be [type, "null"])");
  }
}

TEST(ParseTypeDefinitionTest, PropertiesForAMissingColumnAreRefused) {
  ExpectError(R"([["a","int"]])", {{"b", {"nullable"}}},
              "properties: no column named 'b' in the type definition");
  ExpectError(OneField("a", "\"int\""), {{"a", {"nullable"}}, {"zz", {"int8"}}},
              "properties: no column named 'zz' in the type definition");
}

TEST(ParseTypeDefinitionTest, MalformedStructureIsRefused) {
  ExpectError("[]", "type_definition: a type needs at least one column");
  ExpectError(R"({"type":"record","name":"r","fields":[]})", "type_definition: a type needs at least one column");
  ExpectError(R"({"type":"int"})", "type_definition: an Avro schema must be a record with a 'fields' array");
  ExpectError(R"({"type":"record","name":"r"})",
              "type_definition: an Avro schema must be a record with a 'fields' array");
  ExpectError("5", "type_definition: an Avro schema must be a record with a 'fields' array");
  ExpectError(R"({"type":"record","name":"r","fields":[{"type":"int"}]})",
              "type_definition: every field needs a string 'name' and a 'type'");
  ExpectError(R"({"type":"record","name":"r","fields":[{"name":"a"}]})",
              "type_definition: every field needs a string 'name' and a 'type'");
  ExpectError(R"([["a","int"],["b"]])",
              "type_definition: column 1 must be [name, type, properties...] with string entries");
  ExpectError(R"([["a",5]])", "type_definition: column 0 must be [name, type, properties...] with string entries");
  ExpectError(R"(["a","int"])", "type_definition: column 0 must be [name, type, properties...] with string entries");
  ExpectError(R"([["a","int",7]])", "type_definition: column 'a': properties must be strings");
}

// A type with every kind, nullable and not, with key properties too.
constexpr char kEveryKind[] =
    R"([["i","int","primary_key"],["l","long","shard_key"],["f","float"],["d","double"],)"
    R"(["s","string","dict"],["by","bytes"],["i8","int8"],["i16","int16"],["b","boolean"],)"
    R"(["ts","timestamp"],["c1","char1"],["c256","char256"],["dt","date"],)"
    R"(["ni","int","nullable"],["nl","long","nullable"],["nf","float","nullable"],)"
    R"(["nd","double","nullable"],["ns","string","nullable"],["nby","bytes","nullable"],)"
    R"(["ni8","int8","nullable"],["ni16","int16","nullable"],["nb","boolean","nullable"],)"
    R"(["nts","timestamp","nullable"],["nc","char8","nullable"]])";

TEST(TableTypeTest, AvroSchemaWritesNullableColumnsAsUnions) {
  absl::StatusOr<TableType> type = Parse(R"([["a","int8"],["b","char4","nullable"],["c","timestamp"]])");
  ASSERT_TRUE(type.ok()) << type.status();
  EXPECT_EQ(Json::parse(type->AvroSchema("my_rec")),
            Json::parse(R"({"type":"record","name":"my_rec","fields":[)"
                        R"({"name":"a","type":"int"},{"name":"b","type":["string","null"]},)"
                        R"({"name":"c","type":"long"}]})"));
}

TEST(TableTypeTest, AvroSchemaAndPropertyMapRoundTripThroughParse) {
  absl::StatusOr<TableType> type = Parse(kEveryKind, {}, "every");
  ASSERT_TRUE(type.ok()) << type.status();
  absl::StatusOr<TableType> again = Parse(type->AvroSchema("rec"), type->PropertyMap(), "every");
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->size(), type->size());
  for (size_t i = 0; i < type->size(); ++i) {
    SCOPED_TRACE(type->column(i).name);
    EXPECT_EQ(again->column(i).name, type->column(i).name);
    EXPECT_EQ(again->column(i).kind, type->column(i).kind);
    EXPECT_EQ(again->column(i).char_width, type->column(i).char_width);
    EXPECT_EQ(again->column(i).nullable, type->column(i).nullable);
    EXPECT_EQ(again->column(i).properties, type->column(i).properties);
  }
  EXPECT_EQ(again->TypeId(), type->TypeId());
  EXPECT_EQ(again->AvroSchema("rec"), type->AvroSchema("rec"));
}

TEST(TableTypeTest, PropertyMapListsOnlyColumnsWithProperties) {
  absl::StatusOr<TableType> type = Parse(R"([["a","int"],["b","char8","nullable"],["c","long","primary_key"]])");
  ASSERT_TRUE(type.ok()) << type.status();
  const Properties expected = {{"b", {"char8", "nullable"}}, {"c", {"primary_key"}}};
  EXPECT_EQ(type->PropertyMap(), expected);
}

TEST(TableTypeTest, SameDefinitionGivesSameTypeId) {
  absl::StatusOr<TableType> a = Parse(kEveryKind, {}, "x");
  absl::StatusOr<TableType> b = Parse(kEveryKind, {}, "x");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->TypeId(), b->TypeId());
  EXPECT_FALSE(a->TypeId().empty());
  for (char ch : a->TypeId()) EXPECT_TRUE(ch >= '0' && ch <= '9') << a->TypeId();
  // A copy has the same id as well.
  TableType copy = *a;
  EXPECT_EQ(copy.TypeId(), a->TypeId());
}

TEST(TableTypeTest, DifferentDefinitionsGiveDifferentTypeIds) {
  const std::string base = R"([["a","int"],["b","string"]])";
  const std::vector<std::string> variants = {
      R"([["a","int"],["c","string"]])",              // a column renamed
      R"([["a","long"],["b","string"]])",             // a column's type
      R"([["a","int8"],["b","string"]])",             // storage property
      R"([["a","int"],["b","char16"]])",              // charN
      R"([["a","int"],["b","char32"]])",              // another width
      R"([["a","int","nullable"],["b","string"]])",   // nullability
      R"([["a","int","primary_key"],["b","string"]])",// key property
      R"([["b","string"],["a","int"]])",              // column order
      R"([["a","int"]])",                             // a column fewer
      R"([["a","int"],["b","string"],["c","int"]])",  // a column more
  };
  absl::StatusOr<TableType> reference = Parse(base, {}, "l");
  ASSERT_TRUE(reference.ok());
  std::set<std::string> ids = {reference->TypeId()};
  for (const std::string& v : variants) {
    absl::StatusOr<TableType> other = Parse(v, {}, "l");
    ASSERT_TRUE(other.ok()) << v << ": " << other.status();
    EXPECT_TRUE(ids.insert(other->TypeId()).second) << v;
  }
  // The label is part of the definition.
  absl::StatusOr<TableType> relabeled = Parse(base, {}, "other");
  ASSERT_TRUE(relabeled.ok());
  EXPECT_NE(relabeled->TypeId(), reference->TypeId());
}

}  // namespace
}  // namespace engine
