// A row's value in a ColumnView, read in KERNELS_HD code on both backends:
// type tests, string bytes, numbers, order-preserving unsigned images
// (OrderBits) and key equality (RowKeysEqual: null == null, NaN == NaN,
// -0.0 == 0.0). Shared by sort, group-by, aggregates, histograms and top-k.

#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/column.h"
#include "kernels/detail/expr_eval.h"
#include "kernels/hd.h"

namespace kernels::detail {

KERNELS_HD inline bool IsStringType(PhysType t) {
  return t == PhysType::kFixedChars || t == PhysType::kVarChars;
}
KERNELS_HD inline bool IsFloatType(PhysType t) { return t == PhysType::kFloat32 || t == PhysType::kFloat64; }
inline bool IsNumericType(PhysType t) { return !IsStringType(t); }
inline bool IsIntegerType(PhysType t) {
  return t == PhysType::kInt8 || t == PhysType::kInt16 || t == PhysType::kInt32 || t == PhysType::kInt64;
}

// The bytes of a string row; a charN ends at its first zero byte.
KERNELS_HD inline void StringAt(const ColumnView& c, int64_t row, const char*& s, int64_t& len) {
  if (c.type == PhysType::kVarChars) {
    s = static_cast<const char*>(c.data) + c.offsets[row];
    len = c.offsets[row + 1] - c.offsets[row];
  } else {
    s = static_cast<const char*>(c.data) + row * static_cast<int64_t>(c.width);
    len = FixedCharsLength(s, c.width);
  }
}

KERNELS_HD inline double NumberAt(const ColumnView& c, int64_t row) {
  switch (c.type) {
    case PhysType::kInt8:
      return static_cast<const int8_t*>(c.data)[row];
    case PhysType::kInt16:
      return static_cast<const int16_t*>(c.data)[row];
    case PhysType::kInt32:
      return static_cast<const int32_t*>(c.data)[row];
    case PhysType::kInt64:
      return static_cast<double>(static_cast<const int64_t*>(c.data)[row]);
    case PhysType::kFloat32:
      return static_cast<const float*>(c.data)[row];
    case PhysType::kFloat64:
      return static_cast<const double*>(c.data)[row];
    default:
      return 0;
  }
}

KERNELS_HD inline int64_t IntegerAt(const ColumnView& c, int64_t row) {
  switch (c.type) {
    case PhysType::kInt8:
      return static_cast<const int8_t*>(c.data)[row];
    case PhysType::kInt16:
      return static_cast<const int16_t*>(c.data)[row];
    case PhysType::kInt32:
      return static_cast<const int32_t*>(c.data)[row];
    case PhysType::kInt64:
      return static_cast<const int64_t*>(c.data)[row];
    default:
      return 0;
  }
}

// Order-preserving unsigned images of floats: NaN (any payload) above +inf,
// -0.0 equal to 0.0.
KERNELS_HD inline uint64_t FloatOrderBits(float x) {
  if (x != x) return 0xFFC00000u;
  if (x == 0.0f) x = 0.0f;
  uint32_t b;
  memcpy(&b, &x, sizeof(b));
  return (b >> 31) != 0 ? static_cast<uint32_t>(~b) : (b | 0x80000000u);
}

KERNELS_HD inline uint64_t DoubleOrderBits(double x) {
  if (x != x) return 0xFFF8000000000000ull;
  if (x == 0.0) x = 0.0;
  uint64_t b;
  memcpy(&b, &x, sizeof(b));
  return (b >> 63) != 0 ? ~b : (b | 0x8000000000000000ull);
}

// The order-preserving unsigned image of a fixed-width value (bytewise for
// charN: bytes [offset, offset + bytes) big-endian, zero after the string's end).
KERNELS_HD inline uint64_t OrderBits(const ColumnView& c, int64_t row, int32_t offset, int32_t bytes) {
  switch (c.type) {
    case PhysType::kInt8:
      return static_cast<uint8_t>(static_cast<const int8_t*>(c.data)[row]) ^ 0x80u;
    case PhysType::kInt16:
      return static_cast<uint16_t>(static_cast<const int16_t*>(c.data)[row]) ^ 0x8000u;
    case PhysType::kInt32:
      return static_cast<uint32_t>(static_cast<const int32_t*>(c.data)[row]) ^ 0x80000000u;
    case PhysType::kInt64:
      return static_cast<uint64_t>(static_cast<const int64_t*>(c.data)[row]) ^ 0x8000000000000000ull;
    case PhysType::kFloat32:
      return FloatOrderBits(static_cast<const float*>(c.data)[row]);
    case PhysType::kFloat64:
      return DoubleOrderBits(static_cast<const double*>(c.data)[row]);
    case PhysType::kFixedChars: {
      const unsigned char* p =
          static_cast<const unsigned char*>(c.data) + row * static_cast<int64_t>(c.width);
      for (int32_t k = 0; k < offset; ++k) {
        if (p[k] == 0) return 0;
      }
      uint64_t v = 0;
      bool ended = false;
      for (int32_t k = 0; k < bytes; ++k) {
        const unsigned b = ended ? 0u : p[offset + k];
        ended = ended || b == 0;
        v = (v << 8) | b;
      }
      return v;
    }
    case PhysType::kVarChars:
      return 0;
  }
  return 0;
}

// Whether two rows hold equal keys: null == null, NaN == NaN, -0.0 == 0.0.
KERNELS_HD inline bool RowKeysEqual(const ColumnView& c, int64_t a, int64_t b) {
  const bool va = c.is_valid(a), vb = c.is_valid(b);
  if (va != vb) return false;
  if (!va) return true;
  if (c.type == PhysType::kFixedChars) {
    // Rows of the same bytes are equal (the common case: a group's rows),
    // without finding where each string ends.
    const char* ra = static_cast<const char*>(c.data) + a * static_cast<int64_t>(c.width);
    const char* rb = static_cast<const char*>(c.data) + b * static_cast<int64_t>(c.width);
    bool same = true;
    if (c.width % 8 == 0) {
      for (int32_t k = 0; k < c.width / 8 && same; ++k) {
        same = reinterpret_cast<const uint64_t*>(ra)[k] == reinterpret_cast<const uint64_t*>(rb)[k];
      }
    } else {
      for (int32_t k = 0; k < c.width && same; ++k) same = ra[k] == rb[k];
    }
    if (same) return true;
  }
  if (IsStringType(c.type)) {
    const char *sa, *sb;
    int64_t na, nb;
    StringAt(c, a, sa, na);
    StringAt(c, b, sb, nb);
    return CompareBytes(sa, na, sb, nb) == 0;
  }
  return OrderBits(c, a, 0, 0) == OrderBits(c, b, 0, 0);
}

}  // namespace kernels::detail
