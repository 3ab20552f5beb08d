#pragma once

// The engine's in-memory form of every request and response record: an
// ordered JSON value whose fields carry the spec's names in the spec's order.
// Transports convert to and from it (protobuf, Avro, JSON text); handlers read
// requests and build responses in it. `bytes` fields hold binary values.

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace engine {

using Json = nlohmann::ordered_json;

// How deeply JSON from a client may nest (arrays and objects). Kinetica's
// records nest three or four levels; the limit keeps a hostile request from
// building a value whose copy or comparison recurses off the stack.
inline constexpr int kMaxJsonDepth = 64;

// Host memory a value takes, as the decoders of requests count it against a
// request's budget: every value its Json, a string or binary value its bytes
// (and their container), an array or object its container, a member its key.
inline constexpr size_t kValueBytes = sizeof(Json);
inline constexpr size_t kContainerBytes = 48;
inline size_t StringBytes(size_t size) { return kValueBytes + kContainerBytes + size; }

// Parses JSON text from a client in time linear in its length (objects of
// many members and deep nesting included) and without recursion.
// InvalidArgument: "malformed JSON at byte N: <what>", "JSON nested deeper
// than `max_depth` levels", or "JSON decodes to more than `max_bytes` bytes of
// memory" (counted as above). A member named twice keeps its first place and
// its last value.
absl::StatusOr<Json> ParseJson(absl::string_view text, size_t max_bytes = SIZE_MAX, int max_depth = kMaxJsonDepth);

// Makes room for at least one more member in `members`, moving their values.
// (A vector of pair<const string, Json> copies its elements when it grows,
// values and all: a tree built member by member would cost the square of its
// depth.)
void GrowMembers(Json::object_t::Container& members);

// Appends member `key` to `object` (an object, or null: made an empty object)
// without searching for it, in constant amortized time: ordered_json's
// operator[] compares the key with every member (an object of n members costs
// n*n/2 comparisons) and copies the members' values when it grows.
// REQUIRES: `object` has no member `key`, or MergeRepeatedMembers follows.
inline Json& AppendMember(Json& object, std::string key, Json value) {
  if (object.is_null()) object = Json::object();
  Json::object_t::Container& members = object.get_ref<Json::object_t&>();
  if (members.size() == members.capacity()) GrowMembers(members);
  members.emplace_back(std::move(key), std::move(value));
  return members.back().second;
}

// The first key of `object` that a later member repeats, or null. Linear time.
const std::string* RepeatedMember(const Json& object);

// Keeps each member of `object` once, at its first place with its last value
// (what operator[] assignments would have left). Linear time.
void MergeRepeatedMembers(Json& object);

// Kinetica's JSON mode carries `bytes` as a string of code points 0-255, one
// per byte. These convert between the two; FromCodePoints fails (returns
// false) on a code point above 255 or malformed UTF-8.
std::string ToCodePoints(absl::string_view bytes);
bool FromCodePoints(absl::string_view utf8, std::string* bytes);

// JSON text of `value`, with every binary value written as a code-point
// string (the only way JSON can carry bytes here), and every packed byte list
// as an array of them.
std::string DumpJson(const Json& value);

// ---------------------------------------------------------------------------
// Packed byte lists.
//
// An array<bytes> field of a request (insert_records_request.list: one Avro
// record per row) may hold millions of items; as a JSON array each item is a
// value of its own, an allocation and a copy per row. The transports decode
// requests with such fields packed instead (BinaryCodec::DecodePacked): the
// whole list is one binary value with subtype kPackedBytesSubtype, holding
// the item count (8 bytes, little-endian), then the items as Avro writes an
// array<bytes> block's items: each a zig-zag varint length, then its bytes.
// Normalize accepts a packed list wherever an array<bytes> is expected;
// handlers read either form through BytesListReader; DumpJson and the
// transports' encoders write it as the ordinary array.

inline constexpr uint64_t kPackedBytesSubtype = 0x6b636170;  // "pack"

// True when `value` is a packed byte list.
bool IsPackedBytes(const Json& value);

// Builds a packed byte list, item by item or block by block.
class PackedBytesBuilder {
 public:
  PackedBytesBuilder();
  // Room for `bytes` more bytes of encoded items (a hint).
  void Reserve(size_t bytes) { bytes_.reserve(bytes_.size() + bytes); }
  // Appends one item.
  void Add(absl::string_view item);
  // Appends `count` items already encoded as Avro's (length, bytes) pairs.
  // REQUIRES: `items` is exactly that, checked by the caller.
  void AddEncoded(absl::string_view items, uint64_t count);
  // The packed list; the builder is left empty.
  Json Finish();

 private:
  std::vector<uint8_t> bytes_;  // the count's 8 bytes, then the items
  uint64_t count_ = 0;
};

// Reads the items of a list of byte strings in either form, a JSON array of
// binary values or a packed byte list, in order. A view: `list` must outlive
// the reader. Any other value reads as an empty list.
class BytesListReader {
 public:
  explicit BytesListReader(const Json& list);
  explicit BytesListReader(Json&& list) = delete;

  size_t size() const { return size_; }
  // The index of the next item; size() when all have been read.
  size_t index() const { return index_; }
  bool done() const { return index_ == size_; }

  // Reads the next item into `item` (a view into the list). REQUIRES:
  // !done(). InvalidArgument, without the item's index (index() - 1 is it):
  // "expected bytes" for an array element of another type; a packed item
  // cut short (which DecodePacked never produces).
  absl::Status Next(absl::string_view* item) {
    if (array_ != nullptr) return NextElement(item);
    // Packed: a varint length, then the bytes. A one-byte length (an item
    // under 64 bytes) is the common case; anything else takes the careful
    // path.
    const uint8_t* p = next_;
    if (p < end_ && *p < 0x80) {
      const size_t n = *p >> 1;
      if ((*p & 1) == 0 && n <= static_cast<size_t>(end_ - p - 1)) {
        *item = absl::string_view(reinterpret_cast<const char*>(p + 1), n);
        next_ = p + 1 + n;
        ++index_;
        return absl::OkStatus();
      }
    }
    return NextPacked(item);
  }

  // Passes over the next `n` items (fewer at the end) without looking at
  // them, except for a packed list's lengths: errors as Next.
  absl::Status Skip(size_t n);

 private:
  absl::Status NextElement(absl::string_view* item);
  absl::Status NextPacked(absl::string_view* item);

  const Json* array_ = nullptr;  // the array form
  const uint8_t* next_ = nullptr;  // the packed form: the next item
  const uint8_t* end_ = nullptr;
  size_t size_ = 0;
  size_t index_ = 0;
};

// The ordinary form of a list: a packed one as a JSON array of binary
// values; anything else as it is.
Json UnpackBytes(const Json& list);

}  // namespace engine
