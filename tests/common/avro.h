#pragma once

// Avro binary (spec §7), written and read here from the spec, independently
// of the engine's and the server's codecs: zigzag varint longs, little-endian
// floats and doubles, length-prefixed bytes and strings.

#include <cstdint>
#include <cstring>
#include <string>

namespace gpudb_test {

inline void PutLong(std::string* out, int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out->push_back(static_cast<char>((z & 0x7f) | 0x80));
    z >>= 7;
  }
  out->push_back(static_cast<char>(z));
}
inline void PutFloat(std::string* out, float v) {
  char b[4];
  std::memcpy(b, &v, 4);  // little-endian host
  out->append(b, 4);
}
inline void PutDouble(std::string* out, double v) {
  char b[8];
  std::memcpy(b, &v, 8);  // little-endian host
  out->append(b, 8);
}
// Bytes and strings alike: the length, then the bytes.
inline void PutBytes(std::string* out, const std::string& s) {
  PutLong(out, static_cast<int64_t>(s.size()));
  out->append(s);
}

// The same as values, to write a body as a sum: Str("t") + Long(0).
inline std::string Long(int64_t v) {
  std::string out;
  PutLong(&out, v);
  return out;
}
inline std::string Double(double v) {
  std::string out;
  PutDouble(&out, v);
  return out;
}
inline std::string Str(const std::string& s) {
  std::string out;
  PutBytes(&out, s);
  return out;
}

// Reads Avro binary; each read is false (and reads nothing sensible after)
// when the data ends or is malformed.
class AvroIn {
 public:
  explicit AvroIn(const std::string& data) : data_(data) {}
  bool Long(int64_t* v) {
    uint64_t z = 0;
    for (int shift = 0; shift < 70; shift += 7) {
      if (pos_ >= data_.size()) return false;
      const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      z |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
        return true;
      }
    }
    return false;
  }
  bool Double(double* v) { return Fixed(v, 8); }
  bool Float(float* v) { return Fixed(v, 4); }
  bool Bytes(std::string* s) {
    int64_t n = 0;
    if (!Long(&n) || n < 0 || static_cast<size_t>(n) > data_.size() - pos_) return false;
    s->assign(data_, pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return true;
  }
  bool AtEnd() const { return pos_ == data_.size(); }
  size_t pos() const { return pos_; }

 private:
  bool Fixed(void* v, size_t n) {
    if (data_.size() - pos_ < n) return false;
    std::memcpy(v, data_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  const std::string data_;  // a copy: callers pass temporaries
  size_t pos_ = 0;
};

}  // namespace gpudb_test
