#include "kernels/column.h"

#include <algorithm>

#include "kernels/detail/ops.h"

namespace kernels {
namespace {

constexpr int64_t kMinCapacity = 1024;

int64_t GrowTo(int64_t needed, int64_t current) {
  return std::max({needed, current * 2, kMinCapacity});
}

// Whether the n bytes at `validity` are all non-zero; false when the count
// fails (it may allocate), so that the column is only thought to hold nulls.
bool AllValid(const uint8_t* validity, int64_t n, const Exec& exec) noexcept {
  try {
    return detail::OpsFor(exec.backend).CountNonZero(validity, n, exec) == n;
  } catch (...) {
    return false;
  }
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
  v.validity = nullable_ && !no_nulls_ ? validity_.as<uint8_t>() : nullptr;
  return v;
}

void Column::CountNulls(const Exec& exec) noexcept {
  if (nullable_ && !no_nulls_) no_nulls_ = AllValid(validity_.as<uint8_t>(), size_, exec);
}

int64_t Column::CharCount(const ColumnView& src, const Exec& exec) {
  if (src.type != PhysType::kVarChars || src.size == 0) return 0;
  int64_t first = 0, last = 0;
  const auto& ops = detail::OpsFor(exec.backend);
  ops.CopyToHostSync(&first, src.offsets, sizeof(first), exec);
  ops.CopyToHostSync(&last, src.offsets + src.size, sizeof(last), exec);
  return last - first;
}

Column::Growth Column::Grow(int64_t rows, int64_t chars, const Exec& exec) const {
  const auto& ops = detail::OpsFor(exec.backend);
  const bool var = type_ == PhysType::kVarChars;
  const size_t width = static_cast<size_t>(ValueWidth(type_, width_));
  Growth g;
  if (var) {
    const int64_t cap_rows = std::max<int64_t>(static_cast<int64_t>(offsets_.size() / 8) - 1, 0);
    if (rows > cap_rows || offsets_.size() == 0) {
      g.offsets = Buffer((GrowTo(rows, cap_rows) + 1) * 8, exec);
      if (offsets_.size() > 0) {
        ops.CopyOnDevice(g.offsets.data(), offsets_.data(), (size_ + 1) * 8, exec);
      } else {
        ops.Fill(g.offsets.data(), 0, 8, exec);
      }
    }
    if (chars > static_cast<int64_t>(data_.size())) {
      g.data = Buffer(GrowTo(chars, static_cast<int64_t>(data_.size())), exec);
      ops.CopyOnDevice(g.data.data(), data_.data(), chars_, exec);
    }
  } else {
    const int64_t cap_rows = static_cast<int64_t>(data_.size() / width);
    if (rows > cap_rows) {
      g.data = Buffer(GrowTo(rows, cap_rows) * width, exec);
      ops.CopyOnDevice(g.data.data(), data_.data(), size_ * width, exec);
    }
  }
  if (nullable_ && rows > static_cast<int64_t>(validity_.size())) {
    g.validity = Buffer(GrowTo(rows, static_cast<int64_t>(validity_.size())), exec);
    ops.CopyOnDevice(g.validity.data(), validity_.data(), size_, exec);
  }
  return g;
}

void Column::Commit(Growth growth, const Exec& exec) noexcept {
  auto swap_in = [&exec](Buffer& current, Buffer& grown) {
    if (grown.size() == 0) return;
    current.ResetOn(exec.stream);
    current = std::move(grown);
  };
  swap_in(data_, growth.data);
  swap_in(offsets_, growth.offsets);
  swap_in(validity_, growth.validity);
}

void Column::Append(const ColumnView& src, const Exec& exec) {
  const int64_t n = src.size;
  if (n == 0) return;
  const auto& ops = detail::OpsFor(exec.backend);
  const bool var = type_ == PhysType::kVarChars;
  int64_t src_begin = 0, src_chars = 0;
  if (var) {
    ops.CopyToHostSync(&src_begin, src.offsets, sizeof(src_begin), exec);
    src_chars = CharCount(src, exec);
  }
  Reserve(size_ + n, chars_ + src_chars, exec);

  if (var) {
    ops.CopyOnDevice(data_.as<char>() + chars_, static_cast<const char*>(src.data) + src_begin,
                     src_chars, exec);
    int64_t* dst_offsets = offsets_.as<int64_t>() + size_ + 1;
    ops.CopyOnDevice(dst_offsets, src.offsets + 1, n * 8, exec);
    ops.AddToOffsets(dst_offsets, n, chars_ - src_begin, exec);
    chars_ += src_chars;
  } else {
    const size_t width = static_cast<size_t>(ValueWidth(type_, width_));
    ops.CopyOnDevice(data_.as<char>() + size_ * width, src.data, n * width, exec);
  }
  if (nullable_) {
    if (src.validity != nullptr) {
      ops.CopyOnDevice(validity_.as<uint8_t>() + size_, src.validity, n, exec);
      if (no_nulls_) no_nulls_ = AllValid(src.validity, n, exec);
    } else {
      ops.Fill(validity_.as<uint8_t>() + size_, 1, n, exec);
    }
  }
  size_ += n;
}

Column Column::Adopt(PhysType type, int32_t width, bool nullable, int64_t size, Buffer data,
                     Buffer offsets, Buffer validity, int64_t chars) {
  Column c(type, width, nullable);
  c.size_ = size;
  if (type == PhysType::kVarChars) c.chars_ = chars >= 0 ? chars : static_cast<int64_t>(data.size());
  c.data_ = std::move(data);
  c.offsets_ = std::move(offsets);
  c.validity_ = std::move(validity);
  c.no_nulls_ = c.validity_.size() == 0 || size == 0;
  return c;
}

}  // namespace kernels
