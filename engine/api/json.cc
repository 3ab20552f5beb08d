#include "engine/api/json.h"

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

}  // namespace

std::string DumpJson(const Json& value) {
  // Invalid UTF-8 in strings is replaced rather than thrown on.
  if (!HasBinary(value)) return value.dump(-1, ' ', false, Json::error_handler_t::replace);
  return WithCodePoints(value).dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace engine
