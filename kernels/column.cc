#include "kernels/column.h"

#include <algorithm>

#include "kernels/detail/ops.h"

namespace kernels {
namespace {

constexpr int64_t kMinCapacity = 1024;

int64_t GrowTo(int64_t needed, int64_t current) {
  return std::max({needed, current * 2, kMinCapacity});
}

}  // namespace

size_t Column::used_bytes() const {
  size_t bytes = nullable_ ? static_cast<size_t>(size_) : 0;
  if (type_ == PhysType::kVarChars) return bytes + static_cast<size_t>(chars_) + (size_ + 1) * 8;
  return bytes + static_cast<size_t>(size_) * ValueWidth(type_, width_);
}

ColumnView Column::view() const {
  ColumnView v;
  v.type = type_;
  v.width = width_;
  v.size = size_;
  v.data = data_.data();
  v.offsets = type_ == PhysType::kVarChars ? offsets_.as<int64_t>() : nullptr;
  v.validity = nullable_ ? validity_.as<uint8_t>() : nullptr;
  return v;
}

void Column::Append(const ColumnView& src, const Exec& exec) {
  const int64_t n = src.size;
  if (n == 0) return;
  const auto& ops = detail::OpsFor(exec.backend);
  const int64_t rows = size_ + n;
  const bool var = type_ == PhysType::kVarChars;

  // Characters of src, for strings.
  int64_t src_begin = 0, src_chars = 0;
  if (var) {
    int64_t ends[2];
    ops.CopyToHostSync(&ends[0], src.offsets, 8, exec);
    ops.CopyToHostSync(&ends[1], src.offsets + n, 8, exec);
    src_begin = ends[0];
    src_chars = ends[1] - ends[0];
  }

  // Allocate everything that must grow before changing anything.
  const size_t width = static_cast<size_t>(ValueWidth(type_, width_));
  Buffer data, offsets, validity;
  if (var) {
    const int64_t cap_rows = static_cast<int64_t>(offsets_.size() / 8) - 1;
    if (rows > cap_rows) offsets = Buffer((GrowTo(rows, cap_rows) + 1) * 8, exec);
    if (chars_ + src_chars > static_cast<int64_t>(data_.size())) {
      data = Buffer(GrowTo(chars_ + src_chars, static_cast<int64_t>(data_.size())), exec);
    }
  } else {
    const int64_t cap_rows = static_cast<int64_t>(data_.size() / width);
    if (rows > cap_rows) data = Buffer(GrowTo(rows, cap_rows) * width, exec);
  }
  if (nullable_ && rows > static_cast<int64_t>(validity_.size())) {
    validity = Buffer(GrowTo(rows, static_cast<int64_t>(validity_.size())), exec);
  }

  // Move existing rows into grown buffers.
  if (data.size() > 0) {
    ops.CopyOnDevice(data.data(), data_.data(), var ? chars_ : size_ * width, exec);
    data_ = std::move(data);
  }
  if (offsets.size() > 0) {
    if (size_ > 0 || offsets_.size() > 0) {
      ops.CopyOnDevice(offsets.data(), offsets_.data(), (size_ + 1) * 8, exec);
    } else {
      ops.Fill(offsets.data(), 0, 8, exec);
    }
    offsets_ = std::move(offsets);
  }
  if (validity.size() > 0) {
    ops.CopyOnDevice(validity.data(), validity_.data(), size_, exec);
    validity_ = std::move(validity);
  }

  // Append src.
  if (var) {
    ops.CopyOnDevice(data_.as<char>() + chars_, static_cast<const char*>(src.data) + src_begin,
                     src_chars, exec);
    int64_t* dst_offsets = offsets_.as<int64_t>() + size_ + 1;
    ops.CopyOnDevice(dst_offsets, src.offsets + 1, n * 8, exec);
    ops.AddToOffsets(dst_offsets, n, chars_ - src_begin, exec);
    chars_ += src_chars;
  } else {
    ops.CopyOnDevice(data_.as<char>() + size_ * width, src.data, n * width, exec);
  }
  if (nullable_) {
    if (src.validity != nullptr) {
      ops.CopyOnDevice(validity_.as<uint8_t>() + size_, src.validity, n, exec);
    } else {
      ops.Fill(validity_.as<uint8_t>() + size_, 1, n, exec);
    }
  }
  size_ = rows;
}

Column Column::Adopt(PhysType type, int32_t width, bool nullable, int64_t size, Buffer data,
                     Buffer offsets, Buffer validity) {
  Column c(type, width, nullable);
  c.size_ = size;
  c.chars_ = type == PhysType::kVarChars ? static_cast<int64_t>(data.size()) : 0;
  c.data_ = std::move(data);
  c.offsets_ = std::move(offsets);
  c.validity_ = std::move(validity);
  return c;
}

}  // namespace kernels
