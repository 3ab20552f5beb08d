#include "engine/api/json.h"

#include <algorithm>
#include <cstring>

#include "absl/container/flat_hash_map.h"
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

namespace {

// Builds the value as nlohmann's own DOM parser does, except that members are
// appended (repeats merged when the object ends) and nesting is bounded.
class Builder {
 public:
  using number_integer_t = Json::number_integer_t;
  using number_unsigned_t = Json::number_unsigned_t;
  using number_float_t = Json::number_float_t;
  using string_t = Json::string_t;
  using binary_t = Json::binary_t;

  Builder(size_t max_bytes, int max_depth) : left_(max_bytes), max_bytes_(max_bytes), max_depth_(max_depth) {}

  bool null() { return Put(Json()); }
  bool boolean(bool v) { return Put(Json(v)); }
  bool number_integer(number_integer_t v) { return Put(Json(v)); }
  bool number_unsigned(number_unsigned_t v) { return Put(Json(v)); }
  bool number_float(number_float_t v, const string_t&) { return Put(Json(v)); }
  bool string(string_t& v) { return Charge(StringBytes(v.size())) && Put(Json(std::move(v))); }
  bool binary(binary_t& v) { return Charge(StringBytes(v.size())) && Put(Json::binary(std::move(v))); }
  bool start_object(size_t) { return Open(Json::object()); }
  bool key(string_t& k) {
    if (!Charge(StringBytes(k.size()))) return false;
    member_ = &AppendMember(*open_.back(), std::move(k), Json());
    return true;
  }
  bool end_object() {
    MergeRepeatedMembers(*open_.back());
    open_.pop_back();
    return true;
  }
  bool start_array(size_t) { return Open(Json::array()); }
  bool end_array() {
    open_.pop_back();
    return true;
  }
  bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception& e) {
    // nlohmann's message: "[json.exception.parse_error.101] parse error at
    // line 1, column 3: syntax error while parsing value - invalid literal; ..."
    std::string what = e.what();
    if (size_t dash = what.find(" - "); dash != std::string::npos) what = what.substr(dash + 3);
    error_ = absl::InvalidArgumentError(absl::StrCat("malformed JSON at byte ", position, ": ", what));
    return false;
  }

  // The value, or the error that stopped the parse.
  absl::StatusOr<Json> Finish(bool parsed) {
    if (!error_.ok()) return error_;
    if (!parsed) return absl::InvalidArgumentError("malformed JSON");
    return std::move(root_);
  }

 private:
  bool Charge(size_t bytes) {
    if (bytes <= left_) {
      left_ -= bytes;
      return true;
    }
    error_ = absl::InvalidArgumentError(absl::StrCat("JSON decodes to more than ", max_bytes_, " bytes of memory"));
    return false;
  }

  // Places a scalar, or a container that Open pushes.
  bool Put(Json value) {
    if (!Charge(kValueBytes)) return false;
    if (open_.empty()) {
      root_ = std::move(value);
    } else if (open_.back()->is_array()) {
      open_.back()->get_ref<Json::array_t&>().push_back(std::move(value));
    } else {
      *member_ = std::move(value);
    }
    return true;
  }
  bool Open(Json empty) {
    if (open_.size() >= static_cast<size_t>(max_depth_)) {
      error_ = absl::InvalidArgumentError(absl::StrCat("JSON nested deeper than ", max_depth_, " levels"));
      return false;
    }
    if (!Charge(kContainerBytes) || !Put(std::move(empty))) return false;
    Json* opened = open_.empty()              ? &root_
                   : open_.back()->is_array() ? &open_.back()->get_ref<Json::array_t&>().back()
                                              : member_;
    open_.push_back(opened);
    return true;
  }

  Json root_;
  std::vector<Json*> open_;  // the arrays and objects not yet closed, outermost first
  Json* member_ = nullptr;   // the value of the newest key of the innermost object
  absl::Status error_;
  size_t left_;  // of the budget
  const size_t max_bytes_;
  const int max_depth_;
};

}  // namespace

absl::StatusOr<Json> ParseJson(absl::string_view text, size_t max_bytes, int max_depth) {
  Builder builder(max_bytes, max_depth);
  const bool parsed = Json::sax_parse(text.begin(), text.end(), &builder, nlohmann::detail::input_format_t::json,
                                      /*strict=*/true);
  return builder.Finish(parsed);
}

void GrowMembers(Json::object_t::Container& members) {
  Json::object_t::Container grown;
  grown.reserve(std::max<size_t>(4, 2 * members.size()));
  for (auto& m : members) grown.emplace_back(m.first, std::move(m.second));
  members.swap(grown);
}

const std::string* RepeatedMember(const Json& object) {
  const auto& members = object.get_ref<const Json::object_t&>();
  const size_t n = members.size();
  if (n <= 16) {  // a hash set costs more than the few comparisons
    for (auto i = members.begin(); i != members.end(); ++i) {
      for (auto j = i + 1; j != members.end(); ++j) {
        if (i->first == j->first) return &i->first;
      }
    }
    return nullptr;
  }
  absl::flat_hash_map<absl::string_view, const std::string*> seen;
  seen.reserve(n);
  for (const auto& m : members) {
    auto [it, added] = seen.try_emplace(m.first, &m.first);
    if (!added) return it->second;
  }
  return nullptr;
}

void MergeRepeatedMembers(Json& object) {
  if (RepeatedMember(object) == nullptr) return;
  auto& members = object.get_ref<Json::object_t&>();
  absl::flat_hash_map<std::string, size_t> place;  // key -> its place in `merged`
  Json::object_t merged;
  merged.reserve(members.size());  // never grown: growing copies the values
  for (auto& m : members) {
    auto [it, added] = place.try_emplace(m.first, merged.size());
    if (added) {
      merged.Json::object_t::Container::emplace_back(m.first, std::move(m.second));
    } else {
      (merged.begin() + it->second)->second = std::move(m.second);
    }
  }
  members = std::move(merged);
}

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
