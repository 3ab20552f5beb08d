#include "engine/api/avro.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace engine {

void AvroWriter::Long(int64_t v) {
  uint64_t z = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (z >= 0x80) {
    out_->push_back(static_cast<char>((z & 0x7F) | 0x80));
    z >>= 7;
  }
  out_->push_back(static_cast<char>(z));
}

void AvroWriter::Float(float v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out_->append(b, 4);
}

void AvroWriter::Double(double v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out_->append(b, 8);
}

void AvroWriter::Bytes(absl::string_view v) {
  Long(static_cast<int64_t>(v.size()));
  out_->append(v.data(), v.size());
}

absl::Status AvroReader::Long(int64_t* v) {
  uint64_t z = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= data_.size()) {
      return absl::InvalidArgumentError(absl::StrCat("data ends inside a number at byte ", pos_));
    }
    const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
    if (shift == 63 && (b & 0x7E) != 0) {
      return absl::InvalidArgumentError(absl::StrCat("number does not fit 64 bits at byte ", pos_ - 1));
    }
    z |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) {
      *v = static_cast<int64_t>(z >> 1) ^ -static_cast<int64_t>(z & 1);
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError(absl::StrCat("number longer than 10 bytes at byte ", pos_));
}

absl::Status AvroReader::Int(int32_t* v) {
  int64_t wide = 0;
  if (absl::Status s = Long(&wide); !s.ok()) return s;
  if (wide < INT32_MIN || wide > INT32_MAX) {
    return absl::InvalidArgumentError(absl::StrCat("value ", wide, " does not fit a 32-bit int"));
  }
  *v = static_cast<int32_t>(wide);
  return absl::OkStatus();
}

absl::Status AvroReader::Float(float* v) {
  if (remaining() < 4) return absl::InvalidArgumentError(absl::StrCat("data ends inside a float at byte ", pos_));
  std::memcpy(v, data_.data() + pos_, 4);
  pos_ += 4;
  return absl::OkStatus();
}

absl::Status AvroReader::Double(double* v) {
  if (remaining() < 8) return absl::InvalidArgumentError(absl::StrCat("data ends inside a double at byte ", pos_));
  std::memcpy(v, data_.data() + pos_, 8);
  pos_ += 8;
  return absl::OkStatus();
}

absl::Status AvroReader::Boolean(bool* v) {
  if (remaining() < 1) return absl::InvalidArgumentError(absl::StrCat("data ends inside a boolean at byte ", pos_));
  const uint8_t b = static_cast<uint8_t>(data_[pos_++]);
  if (b > 1) return absl::InvalidArgumentError(absl::StrCat("boolean byte ", int{b}, " is not 0 or 1"));
  *v = b == 1;
  return absl::OkStatus();
}

absl::Status AvroReader::Bytes(absl::string_view* v) {
  int64_t n = 0;
  if (absl::Status s = Long(&n); !s.ok()) return s;
  if (n < 0) return absl::InvalidArgumentError(absl::StrCat("negative length ", n));
  if (static_cast<uint64_t>(n) > remaining()) {
    return absl::InvalidArgumentError(
        absl::StrCat("length ", n, " exceeds the ", remaining(), " bytes left"));
  }
  *v = data_.substr(pos_, static_cast<size_t>(n));
  pos_ += static_cast<size_t>(n);
  return absl::OkStatus();
}

absl::Status AvroReader::UnionIndex(int branches, int64_t* branch) {
  if (absl::Status s = Long(branch); !s.ok()) return s;
  if (*branch < 0 || *branch >= branches) {
    return absl::InvalidArgumentError(absl::StrCat("union branch ", *branch, " is not 0..", branches - 1));
  }
  return absl::OkStatus();
}

}  // namespace engine
