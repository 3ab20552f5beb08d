#pragma once

#include <cstdint>

#include "kernels/backend.h"
#include "kernels/hd.h"
#include "kernels/memory.h"

namespace kernels {

// How a column's values are laid out in device memory.
//   kInt8 .. kFloat64: one fixed-width value per row.
//   kFixedChars: `width` bytes per row, zero-padded (charN).
//   kVarChars: `offsets` (size+1 int64) into a byte array (string, bytes).
enum class PhysType : uint8_t {
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFloat32,
  kFloat64,
  kFixedChars,
  kVarChars,
};

// Bytes per row of the values array; for kVarChars the offset width.
KERNELS_HD inline int ValueWidth(PhysType type, int32_t width) {
  switch (type) {
    case PhysType::kInt8: return 1;
    case PhysType::kInt16: return 2;
    case PhysType::kInt32: return 4;
    case PhysType::kInt64: return 8;
    case PhysType::kFloat32: return 4;
    case PhysType::kFloat64: return 8;
    case PhysType::kFixedChars: return width;
    case PhysType::kVarChars: return 8;
  }
  return 0;
}

// A non-owning view of a column in device memory. Trivially copyable, so it
// can be passed to kernels and copied to the device.
struct ColumnView {
  PhysType type = PhysType::kInt32;
  int32_t width = 0;                 // kFixedChars: bytes per row
  int64_t size = 0;                  // rows
  const void* data = nullptr;        // values; kVarChars: the bytes
  const int64_t* offsets = nullptr;  // kVarChars only: size + 1 entries
  const uint8_t* validity = nullptr; // null: no nulls; else 1 byte per row, 1 = valid

  KERNELS_HD bool is_valid(int64_t row) const { return validity == nullptr || validity[row] != 0; }
};

// Rows [begin, end) of `v` (its strings' offsets keep their values: Column::Append
// takes such a view).
KERNELS_HD inline ColumnView SliceRows(const ColumnView& v, int64_t begin, int64_t end) {
  ColumnView out = v;
  out.size = end - begin;
  if (v.type == PhysType::kVarChars) {
    out.offsets = v.offsets + begin;
  } else {
    out.data = static_cast<const char*>(v.data) + begin * static_cast<int64_t>(ValueWidth(v.type, v.width));
  }
  if (v.validity != nullptr) out.validity = v.validity + begin;
  return out;
}

// An owning column on a device: values, validity (when nullable) and, for
// strings, offsets. Rows can be appended; storage grows geometrically. A
// nullable column known to hold no null row views as one without validity
// (view().validity null), so that kernels take their paths for columns of
// no nulls: it knows so when its rows came without validity, from appends
// whose validity it counted, or after CountNulls.
class Column {
 public:
  Column() = default;
  // An empty column of the given layout.
  Column(PhysType type, int32_t width, bool nullable)
      : type_(type), width_(width), nullable_(nullable) {}

  PhysType type() const { return type_; }
  int32_t width() const { return width_; }
  bool nullable() const { return nullable_; }
  int64_t size() const { return size_; }
  // kVarChars: bytes of characters held; 0 for other types.
  int64_t chars() const { return chars_; }
  // Bytes held on the device (capacity, not size).
  size_t device_bytes() const { return data_.size() + offsets_.size() + validity_.size(); }
  // Bytes of the rows themselves.
  size_t used_bytes() const;

  // Its rows; validity null when no row is null (see above).
  ColumnView view() const;
  // Counts the null rows, so that a column adopted with validity (a
  // kernel's output) views without it when it holds none. One pass over the
  // validity; synchronizes on CUDA. Never fails: a count that cannot run
  // leaves the column as it was.
  void CountNulls(const Exec& exec) noexcept;

  // Storage grown to hold `rows` rows and, for strings, `chars` bytes, with
  // the column's rows already copied in. Buffers that need not grow are empty.
  struct Growth {
    Buffer data, offsets, validity;
  };
  // Allocates and fills the grown storage without changing the column; throws
  // OutOfMemory. Dropping the result returns the memory.
  Growth Grow(int64_t rows, int64_t chars, const Exec& exec) const;
  // Switches to grown storage; the old buffers are freed ordered on exec's stream.
  void Commit(Growth growth, const Exec& exec) noexcept;
  // Grow + Commit: afterwards `rows` rows and `chars` bytes fit without allocation.
  void Reserve(int64_t rows, int64_t chars, const Exec& exec) { Commit(Grow(rows, chars, exec), exec); }

  // Appends the rows of `src` (same type and width; on exec's device; not a
  // view of this column), reserving first. A non-nullable column ignores src's validity;
  // a nullable one of no null rows counts those of src (synchronizes on CUDA;
  // a count that cannot run marks the column as holding nulls).
  // Atomic: on an exception (OutOfMemory) the column is unchanged, and after a
  // successful Reserve for the combined size it cannot fail.
  void Append(const ColumnView& src, const Exec& exec);

  // Drops the rows from `rows` on, keeping the storage: undoes Appends made
  // since the column held `rows` rows and `chars` characters.
  // REQUIRES: rows <= size(), and `chars` was chars() then.
  void Truncate(int64_t rows, int64_t chars) {
    size_ = rows;
    chars_ = chars;
  }

  // Bytes of characters in `src` (kVarChars; 0 otherwise). Reads two offsets
  // back from the device.
  static int64_t CharCount(const ColumnView& src, const Exec& exec);

  // Takes ownership of freshly built buffers holding `size` rows (the
  // buffers may hold more: room to grow). REQUIRES: buffers laid out as
  // ColumnView describes; for kVarChars, offsets[0] == 0 and offsets[size] ==
  // `chars` (-1: all of `data`). A nullable column with `validity` may hold
  // nulls until CountNulls says otherwise.
  static Column Adopt(PhysType type, int32_t width, bool nullable, int64_t size,
                      Buffer data, Buffer offsets, Buffer validity, int64_t chars = -1);

 private:
  PhysType type_ = PhysType::kInt32;
  int32_t width_ = 0;
  bool nullable_ = false;
  int64_t size_ = 0;
  int64_t chars_ = 0;  // kVarChars: bytes used in data_
  Buffer data_;
  Buffer offsets_;
  Buffer validity_;       // nullable: a byte per row, always as the rows are
  bool no_nulls_ = true;  // nullable: no row is null (false: some may be)
};

}  // namespace kernels
