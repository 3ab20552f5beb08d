// JSON from clients (engine/api/json.h): ParseJson's values, errors, depth
// limit and linear objects; AppendMember and repeated members. Packed byte
// lists: built item by item and block by block, read back in either form by
// BytesListReader, written as the ordinary array by DumpJson and UnpackBytes.

#include "engine/api/json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "tests/common/avro.h"

namespace engine {
namespace {

using gpudb_test::Long;
using gpudb_test::Str;

Json Bytes(const std::string& s) { return Json::binary(Json::binary_t::container_type(s.begin(), s.end())); }

TEST(ParseJsonTest, ValuesComeBackAsWritten) {
  absl::StatusOr<Json> v = ParseJson(R"({"b": [1, -2, 3.5, true, null, "x\u00e9"], "a": {"c": {}}, "d": []})");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(v->dump(), R"({"b":[1,-2,3.5,true,null,"xé"],"a":{"c":{}},"d":[]})");
  EXPECT_EQ(ParseJson("7")->get<int>(), 7);
  EXPECT_EQ(ParseJson(" \"s\" ")->get<std::string>(), "s");
  EXPECT_EQ(ParseJson("18446744073709551615")->get<uint64_t>(), 18446744073709551615u);
}

TEST(ParseJsonTest, MalformedTextNamesTheByte) {
  for (const char* text : {"{\"a\": [", "", "{\"a\" 1}", "[1,]", "nul", "{} x"}) {
    absl::StatusOr<Json> v = ParseJson(text);
    ASSERT_FALSE(v.ok()) << text;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(v.status().message().find("malformed JSON at byte "), std::string::npos) << v.status();
  }
  EXPECT_NE(ParseJson("{\"a\" 1}").status().message().find("byte 6"), std::string::npos)
      << ParseJson("{\"a\" 1}").status();
}

TEST(ParseJsonTest, NestingPastTheLimitIsAnErrorNotACrash) {
  const auto nested = [](int depth, const std::string& open, const std::string& close) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += open;
    s += "1";
    for (int i = 0; i < depth; ++i) s += close;
    return s;
  };
  EXPECT_TRUE(ParseJson(nested(kMaxJsonDepth, "[", "]")).ok());
  EXPECT_TRUE(ParseJson(nested(kMaxJsonDepth, "{\"k\":", "}")).ok());
  // 100,000 levels crashed the server (a recursive copy of the value).
  for (int depth : {kMaxJsonDepth + 1, 100000, 1000000}) {
    for (const auto& [open, close] : {std::pair<std::string, std::string>{"[", "]"}, {"{\"k\":", "}"}}) {
      absl::StatusOr<Json> v = ParseJson(nested(depth, open, close));
      ASSERT_FALSE(v.ok()) << depth << open;
      EXPECT_EQ(v.status().message(), absl::StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels"));
    }
  }
  // Unclosed: the limit is met before the end of the text.
  EXPECT_FALSE(ParseJson(std::string(200000, '[')).ok());
}

TEST(ParseJsonTest, ObjectsOfManyMembersParseInLinearTime) {
  // 300,000 members: quadratic work (ordered_json's operator[]) took minutes.
  std::string text = "{";
  for (int i = 0; i < 300000; ++i) absl::StrAppend(&text, i == 0 ? "" : ",", "\"k", i, "\":", i);
  text += "}";
  absl::StatusOr<Json> v = ParseJson(text);
  ASSERT_TRUE(v.ok()) << v.status();
  ASSERT_EQ(v->size(), 300000u);
  EXPECT_EQ(v->begin().key(), "k0");
  EXPECT_EQ((*v)["k299999"].get<int>(), 299999);
}

TEST(ParseJsonTest, ARepeatedMemberKeepsItsFirstPlaceAndLastValue) {
  absl::StatusOr<Json> small = ParseJson(R"({"a":1,"b":2,"a":3})");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->dump(), R"({"a":3,"b":2})");
  // Past the size where repeats are found with a hash set.
  std::string text = "{";
  for (int i = 0; i < 40; ++i) absl::StrAppend(&text, "\"k", i, "\":", i, ",");
  text += R"("k3":"again","k39":null})";
  absl::StatusOr<Json> big = ParseJson(text);
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->size(), 40u);
  EXPECT_EQ((*big)["k3"], "again");
  EXPECT_TRUE((*big)["k39"].is_null());
  EXPECT_EQ(std::next(big->begin(), 3).key(), "k3");
}

TEST(AppendMemberTest, AppendsInOrderAndRepeatsAreFound) {
  Json o;
  AppendMember(o, "z", 1);
  AppendMember(o, "a", 2);
  EXPECT_EQ(RepeatedMember(o), nullptr);
  Json& slot = AppendMember(o, "z", 3);
  slot = 4;
  ASSERT_NE(RepeatedMember(o), nullptr);
  EXPECT_EQ(*RepeatedMember(o), "z");
  MergeRepeatedMembers(o);
  EXPECT_EQ(o.dump(), R"({"z":4,"a":2})");
}

TEST(AppendMemberTest, GrowingKeepsEveryMemberInPlaceAndOrder) {
  // AppendMember grows the members itself (moving their values: the
  // vector's own growth copies them, which made a tree built member by
  // member cost the square of its depth; benchmarks/sql_bench measures it).
  Json o;
  AppendMember(o, "first", Json::array({1, 2, 3}));
  for (int i = 0; i < 1000; ++i) AppendMember(o, absl::StrCat("k", i), Json::array({i}));
  ASSERT_EQ(o.size(), 1001u);
  EXPECT_EQ(o.begin().key(), "first");
  EXPECT_EQ(o["first"], Json::array({1, 2, 3}));
  int i = -1;
  for (const auto& [key, value] : o.items()) {
    if (i >= 0) {
      EXPECT_EQ(key, absl::StrCat("k", i));
      EXPECT_EQ(value, Json::array({i}));
    }
    ++i;
  }
  absl::StatusOr<Json> v = ParseJson(R"({"a":{"b":[1]},"c":1,"d":2,"e":3,"f":4,"g":5})");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->dump(), R"({"a":{"b":[1]},"c":1,"d":2,"e":3,"f":4,"g":5})");
}

TEST(ParseJsonTest, ADeeperLimitCanBeGiven) {
  std::string deep(5000, '[');
  deep += std::string(5000, ']');
  EXPECT_FALSE(ParseJson(deep).ok());
  absl::StatusOr<Json> v = ParseJson(deep, SIZE_MAX, 5000);
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_TRUE(v->is_array());
  EXPECT_EQ(ParseJson(deep, SIZE_MAX, 4999).status().message(), "JSON nested deeper than 4999 levels");
}

// Items whose lengths take one, two and three varint bytes, and none.
std::vector<std::string> SampleItems() {
  std::vector<std::string> items = {"", "a", std::string(63, 'x'), std::string(64, 'y'), std::string("\0\xff", 2),
                                    std::string(300, 'z'), std::string(20000, '\x80')};
  for (int i = 0; i < 100; ++i) items.push_back(std::string(static_cast<size_t>(i % 7), static_cast<char>(i)));
  return items;
}

Json Pack(const std::vector<std::string>& items) {
  PackedBytesBuilder builder;
  for (const std::string& item : items) builder.Add(item);
  return builder.Finish();
}

// Every item of `list`, read with a BytesListReader.
std::vector<std::string> ReadAll(const Json& list) {
  std::vector<std::string> out;
  BytesListReader reader(list);
  while (!reader.done()) {
    absl::string_view item;
    absl::Status s = reader.Next(&item);
    EXPECT_TRUE(s.ok()) << "item " << reader.index() - 1 << ": " << s;
    if (!s.ok()) break;
    out.emplace_back(item);
  }
  return out;
}

TEST(PackedBytesTest, ItemsComeBackInOrderWithTheirLengths) {
  const std::vector<std::string> items = SampleItems();
  const Json packed = Pack(items);
  EXPECT_TRUE(IsPackedBytes(packed));
  EXPECT_EQ(BytesListReader(packed).size(), items.size());
  EXPECT_EQ(ReadAll(packed), items);
}

TEST(PackedBytesTest, EmptyAndOneItemLists) {
  const Json empty = Pack({});
  EXPECT_TRUE(IsPackedBytes(empty));
  BytesListReader reader(empty);
  EXPECT_EQ(reader.size(), 0u);
  EXPECT_TRUE(reader.done());
  EXPECT_EQ(UnpackBytes(empty), Json::array());
  EXPECT_EQ(DumpJson(Json{{"list", empty}}), R"({"list":[]})");
  EXPECT_EQ(ReadAll(Pack({"only"})), std::vector<std::string>({"only"}));
}

TEST(PackedBytesTest, ItemsAreAvroArrayItems) {
  // The content after the 8-byte count is exactly Avro's (length, bytes) pairs.
  const Json packed = Pack({"a", "", std::string(64, 'q')});
  const auto& b = packed.get_binary();
  const std::string items(b.begin() + 8, b.end());
  EXPECT_EQ(items, Str("a") + Str("") + Str(std::string(64, 'q')));
  EXPECT_EQ(b[0], 3);
  for (int i = 1; i < 8; ++i) EXPECT_EQ(b[i], 0);
}

TEST(PackedBytesTest, EncodedBlocksAndSingleItemsMix) {
  PackedBytesBuilder builder;
  builder.Add("first");
  builder.AddEncoded(Str("b1") + Str("") + Str(std::string(200, 'c')), 3);
  builder.AddEncoded("", 0);
  builder.Add("last");
  const Json packed = builder.Finish();
  EXPECT_EQ(ReadAll(packed), std::vector<std::string>({"first", "b1", "", std::string(200, 'c'), "last"}));
  // The builder starts over after Finish.
  builder.Add("again");
  EXPECT_EQ(ReadAll(builder.Finish()), std::vector<std::string>({"again"}));
}

TEST(PackedBytesTest, ArraysOfBinaryValuesReadTheSame) {
  const std::vector<std::string> items = SampleItems();
  Json array = Json::array();
  for (const std::string& item : items) array.push_back(Bytes(item));
  EXPECT_FALSE(IsPackedBytes(array));
  EXPECT_EQ(BytesListReader(array).size(), items.size());
  EXPECT_EQ(ReadAll(array), items);
  EXPECT_EQ(UnpackBytes(Pack(items)), array);
  EXPECT_EQ(UnpackBytes(array), array);  // the ordinary form as it is
}

TEST(PackedBytesTest, AnArrayElementThatIsNotBytesIsAnError) {
  const Json array = Json::array({Bytes("a"), "text", Bytes("c")});
  BytesListReader reader(array);
  absl::string_view item;
  ASSERT_TRUE(reader.Next(&item).ok());
  const absl::Status s = reader.Next(&item);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "expected bytes");
  EXPECT_EQ(reader.index(), 2u);
}

TEST(PackedBytesTest, APackedItemCutShortIsAnErrorNotACrash) {
  // A count of 2 but one item whose length runs past the end.
  std::string content = std::string("\x02\0\0\0\0\0\0\0", 8) + Long(10) + "abc";
  const Json cut = Json::binary(Json::binary_t::container_type(content.begin(), content.end()), kPackedBytesSubtype);
  ASSERT_TRUE(IsPackedBytes(cut));
  BytesListReader reader(cut);
  absl::string_view item;
  const absl::Status s = reader.Next(&item);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "packed list: item length 10 exceeds the 3 bytes left");
  // A negative length, and a length whose varint never ends.
  for (const std::string& bad : {Long(-1), std::string(3, '\x80')}) {
    content = std::string("\x01\0\0\0\0\0\0\0", 8) + bad;
    const Json list = Json::binary(Json::binary_t::container_type(content.begin(), content.end()), kPackedBytesSubtype);
    BytesListReader broken(list);
    EXPECT_EQ(broken.Next(&item).code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST(PackedBytesTest, PlainBinaryValuesAndOtherValuesAreNotPacked) {
  const Json plain = Bytes("0123456789");
  const Json short_packed = Json::binary(Json::binary_t::container_type{1, 2}, kPackedBytesSubtype);  // no count
  const Json text = "text";
  EXPECT_FALSE(IsPackedBytes(plain));
  EXPECT_FALSE(IsPackedBytes(short_packed));
  EXPECT_FALSE(IsPackedBytes(text));
  EXPECT_EQ(BytesListReader(text).size(), 0u);
  EXPECT_EQ(BytesListReader(plain).size(), 0u);
}

TEST(PackedBytesTest, SkipPassesOverItemsInEitherForm) {
  const std::vector<std::string> items = SampleItems();
  Json array = Json::array();
  for (const std::string& item : items) array.push_back(Bytes(item));
  const Json packed = Pack(items);
  for (const Json* list : {static_cast<const Json*>(&array), &packed}) {
    BytesListReader reader(*list);
    ASSERT_TRUE(reader.Skip(5).ok());
    EXPECT_EQ(reader.index(), 5u);
    absl::string_view item;
    ASSERT_TRUE(reader.Next(&item).ok());
    EXPECT_EQ(item, items[5]);
    ASSERT_TRUE(reader.Skip(1000).ok());  // past the end: stops there
    EXPECT_TRUE(reader.done());
  }
}

TEST(PackedBytesTest, DumpJsonWritesTheOrdinaryArray) {
  const std::vector<std::string> items = {"a", std::string("\0\xff", 2), ""};
  Json array = Json::array();
  for (const std::string& item : items) array.push_back(Bytes(item));
  const Json packed = Json{{"table_name", "t"}, {"list", Pack(items)}};
  const Json ordinary = Json{{"table_name", "t"}, {"list", array}};
  EXPECT_EQ(DumpJson(packed), DumpJson(ordinary));
  EXPECT_EQ(DumpJson(packed), R"({"table_name":"t","list":["a","\u0000ÿ",""]})");
}

}  // namespace
}  // namespace engine
