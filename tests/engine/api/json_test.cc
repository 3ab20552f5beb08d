// Packed byte lists (engine/api/json.h): built item by item and block by
// block, read back in either form by BytesListReader, written as the
// ordinary array by DumpJson and UnpackBytes.

#include "engine/api/json.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/common/avro.h"

namespace engine {
namespace {

using gpudb_test::Long;
using gpudb_test::Str;

Json Bytes(const std::string& s) { return Json::binary(Json::binary_t::container_type(s.begin(), s.end())); }

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
