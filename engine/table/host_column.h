#pragma once

// Rows of one column in host memory, laid out as kernels::ColumnView
// describes. Used to stage inserted records before they go to a device, and
// to hold rows read back from a device for encoding.

#include <cstdint>
#include <vector>

#include "absl/strings/string_view.h"
#include "kernels/backend.h"
#include "kernels/column.h"

namespace engine {

struct HostColumn {
  HostColumn(kernels::PhysType type, int32_t width, bool nullable)
      : type(type), width(width), nullable(nullable) {}

  kernels::PhysType type;
  int32_t width;  // kFixedChars: bytes per row
  bool nullable;
  int64_t size = 0;
  std::vector<char> data;            // values; kVarChars: the characters
  std::vector<int64_t> offsets{0};   // kVarChars only
  std::vector<uint8_t> validity;     // nullable only

  // REQUIRES: an integer type; the value fits it (callers check ranges).
  void AppendInt(int64_t v);
  // REQUIRES: kFloat32 or kFloat64.
  void AppendFloat(double v);
  // REQUIRES: kFixedChars (v.size() <= width) or kVarChars.
  void AppendString(absl::string_view v);
  // REQUIRES: nullable. Appends a zero value marked null.
  void AppendNull();
  // Appends row `row` of `src` (same type and width) as it is; a null row
  // of a nullable src becomes a null (REQUIRES: nullable then).
  void AppendRowOf(const HostColumn& src, int64_t row);
  // Room for `rows` more rows without reallocating: values (all but their
  // characters, for kVarChars), offsets and validity.
  void Reserve(int64_t rows);

  bool IsValid(int64_t row) const { return !nullable || validity[row] != 0; }
  int64_t IntAt(int64_t row) const;
  double FloatAt(int64_t row) const;
  absl::string_view StringAt(int64_t row) const;

  // A view of these host rows (pointers into host memory).
  kernels::ColumnView view() const;

 private:
  void MarkValid(bool valid);
};

// Copies host rows to a new column on exec's device.
kernels::Column ToDevice(const HostColumn& column, const kernels::Exec& exec);
// Moves host rows to a new column on exec's device, leaving `column` empty:
// on a host device its memory itself, counted by the device's pool from now
// on (kernels::Buffer::Adopt: no copy), else a copy as above. Throws
// OutOfMemory.
kernels::Column ToDevice(HostColumn&& column, const kernels::Exec& exec);

// `columns` as views on exec's device, for Table::Append: on a host device
// the host columns themselves (host memory is that device's memory), else
// copies made with ToDevice into `*staged`, which must outlive the views.
std::vector<kernels::ColumnView> DeviceViews(const std::vector<HostColumn>& columns, const kernels::Exec& exec,
                                             std::vector<kernels::Column>* staged);

// Copies rows [begin, end) of a device column to the host.
// `nullable` says whether the result keeps validity.
HostColumn ToHost(const kernels::ColumnView& column, bool nullable, int64_t begin, int64_t end,
                  const kernels::Exec& exec);

}  // namespace engine
