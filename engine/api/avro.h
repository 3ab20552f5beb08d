#pragma once

// Avro binary encoding as Kinetica uses it (spec §7): no header, no schema id,
// fields in record order. int/long are zig-zag varints, float and double
// little-endian, boolean one byte, string/bytes a long length then the bytes,
// a union a long branch index then the value; arrays and maps are blocks of
// (long count, items) ended by a 0 count.

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace engine {

// Appends encoded values to a string.
class AvroWriter {
 public:
  explicit AvroWriter(std::string* out) : out_(out) {}

  void Long(int64_t v);
  void Int(int32_t v) { Long(v); }
  void Float(float v);
  void Double(double v);
  void Boolean(bool v) { out_->push_back(v ? 1 : 0); }
  void Bytes(absl::string_view v);
  void String(absl::string_view v) { Bytes(v); }
  void UnionIndex(int64_t branch) { Long(branch); }

 private:
  std::string* out_;
};

// Reads encoded values from a buffer. Every method returns InvalidArgument on
// truncated or malformed input (a varint over 10 bytes, an int out of 32-bit
// range, a length beyond the bytes left); the message describes the problem
// and the caller adds which field it was reading.
class AvroReader {
 public:
  explicit AvroReader(absl::string_view data) : data_(data) {}

  absl::Status Long(int64_t* v);
  absl::Status Int(int32_t* v);
  absl::Status Float(float* v);
  absl::Status Double(double* v);
  absl::Status Boolean(bool* v);
  // The bytes stay in the reader's buffer.
  absl::Status Bytes(absl::string_view* v);
  absl::Status String(absl::string_view* v) { return Bytes(v); }
  // Reads a union branch index and checks it is below `branches`.
  absl::Status UnionIndex(int branches, int64_t* branch);

  bool at_end() const { return pos_ == data_.size(); }
  size_t position() const { return pos_; }
  size_t remaining() const { return data_.size() - pos_; }

 private:
  absl::string_view data_;
  size_t pos_ = 0;
};

}  // namespace engine
