#include "engine/api/json.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace engine {

std::string ToCodePoints(absl::string_view bytes) {
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

bool FromCodePoints(absl::string_view utf8, std::string* bytes) {
  bytes->clear();
  bytes->reserve(utf8.size());
  for (size_t i = 0; i < utf8.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(utf8[i]);
    if (c < 0x80) {
      bytes->push_back(static_cast<char>(c));
    } else if ((c == 0xC2 || c == 0xC3) && i + 1 < utf8.size() &&
               (static_cast<unsigned char>(utf8[i + 1]) & 0xC0) == 0x80) {
      bytes->push_back(static_cast<char>(((c & 0x03) << 6) | (utf8[++i] & 0x3F)));
    } else {
      return false;
    }
  }
  return true;
}

namespace {

Json WithCodePoints(const Json& value) {
  switch (value.type()) {
    case Json::value_t::binary: {
      if (IsPackedBytes(value)) return WithCodePoints(UnpackBytes(value));
      const auto& b = value.get_binary();
      return ToCodePoints(absl::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
    }
    case Json::value_t::array: {
      Json out = Json::array();
      for (const auto& v : value) out.push_back(WithCodePoints(v));
      return out;
    }
    case Json::value_t::object: {
      Json out = Json::object();
      for (auto it = value.begin(); it != value.end(); ++it) out[it.key()] = WithCodePoints(it.value());
      return out;
    }
    default:
      return value;
  }
}

bool HasBinary(const Json& value) {
  if (value.is_binary()) return true;
  if (value.is_array() || value.is_object()) {
    for (const auto& v : value) {
      if (HasBinary(v)) return true;
    }
  }
  return false;
}

constexpr size_t kCountBytes = 8;

void PutCount(uint64_t count, uint8_t* out) {
  for (size_t i = 0; i < kCountBytes; ++i) out[i] = static_cast<uint8_t>(count >> (8 * i));
}

uint64_t GetCount(const uint8_t* in) {
  uint64_t count = 0;
  for (size_t i = 0; i < kCountBytes; ++i) count |= static_cast<uint64_t>(in[i]) << (8 * i);
  return count;
}

}  // namespace

std::string DumpJson(const Json& value) {
  // Invalid UTF-8 in strings is replaced rather than thrown on.
  if (!HasBinary(value)) return value.dump(-1, ' ', false, Json::error_handler_t::replace);
  return WithCodePoints(value).dump(-1, ' ', false, Json::error_handler_t::replace);
}

bool IsPackedBytes(const Json& value) {
  return value.is_binary() && value.get_binary().has_subtype() &&
         value.get_binary().subtype() == kPackedBytesSubtype && value.get_binary().size() >= kCountBytes;
}

PackedBytesBuilder::PackedBytesBuilder() : bytes_(kCountBytes, 0) {}

void PackedBytesBuilder::Add(absl::string_view item) {
  // The length as Avro writes a long: zig-zag (a length is never negative),
  // then 7 bits a byte, low first.
  uint64_t z = static_cast<uint64_t>(item.size()) << 1;
  uint8_t head[10];
  size_t n = 0;
  while (z >= 0x80) {
    head[n++] = static_cast<uint8_t>((z & 0x7F) | 0x80);
    z >>= 7;
  }
  head[n++] = static_cast<uint8_t>(z);
  bytes_.insert(bytes_.end(), head, head + n);
  bytes_.insert(bytes_.end(), item.begin(), item.end());
  ++count_;
}

void PackedBytesBuilder::AddEncoded(absl::string_view items, uint64_t count) {
  bytes_.insert(bytes_.end(), items.begin(), items.end());
  count_ += count;
}

Json PackedBytesBuilder::Finish() {
  PutCount(count_, bytes_.data());
  Json out = Json::binary(std::move(bytes_), kPackedBytesSubtype);
  bytes_.assign(kCountBytes, 0);
  count_ = 0;
  return out;
}

BytesListReader::BytesListReader(const Json& list) {
  if (list.is_array()) {
    array_ = &list;
    size_ = list.size();
  } else if (IsPackedBytes(list)) {
    const auto& b = list.get_binary();
    size_ = GetCount(b.data());
    next_ = b.data() + kCountBytes;
    end_ = b.data() + b.size();
  }
}

absl::Status BytesListReader::NextElement(absl::string_view* item) {
  const Json& element = (*array_)[index_++];
  if (!element.is_binary()) return absl::InvalidArgumentError("expected bytes");
  const auto& b = element.get_binary();
  *item = absl::string_view(reinterpret_cast<const char*>(b.data()), b.size());
  return absl::OkStatus();
}

absl::Status BytesListReader::NextPacked(absl::string_view* item) {
  uint64_t z = 0;
  const uint8_t* p = next_;
  for (int shift = 0;; shift += 7) {
    if (p == end_ || shift > 63) return absl::InvalidArgumentError("packed list: an item's length is cut short");
    const uint8_t b = *p++;
    z |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) break;
  }
  const int64_t n = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
  if (n < 0 || static_cast<uint64_t>(n) > static_cast<uint64_t>(end_ - p)) {
    return absl::InvalidArgumentError(
        absl::StrCat("packed list: item length ", n, " exceeds the ", end_ - p, " bytes left"));
  }
  *item = absl::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
  next_ = p + n;
  ++index_;
  return absl::OkStatus();
}

absl::Status BytesListReader::Skip(size_t n) {
  n = std::min(n, size_ - index_);
  if (array_ != nullptr) {
    index_ += n;
    return absl::OkStatus();
  }
  absl::string_view item;
  for (size_t i = 0; i < n; ++i) {
    if (absl::Status s = Next(&item); !s.ok()) return s;
  }
  return absl::OkStatus();
}

Json UnpackBytes(const Json& list) {
  if (!IsPackedBytes(list)) return list;
  BytesListReader reader(list);
  Json out = Json::array();
  out.get_ref<Json::array_t&>().reserve(reader.size());
  absl::string_view item;
  while (!reader.done() && reader.Next(&item).ok()) {
    out.push_back(Json::binary(Json::binary_t::container_type(item.begin(), item.end())));
  }
  return out;
}

}  // namespace engine
