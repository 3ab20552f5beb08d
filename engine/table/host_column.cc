#include "engine/table/host_column.h"

#include <cstring>
#include <memory>
#include <type_traits>

namespace engine {

using kernels::PhysType;

void HostColumn::MarkValid(bool valid) {
  if (nullable) validity.push_back(valid ? 1 : 0);
  ++size;
}

void HostColumn::AppendInt(int64_t v) {
  const int w = kernels::ValueWidth(type, width);
  const size_t at = data.size();
  data.resize(at + w);
  switch (type) {
    case PhysType::kInt8: { const int8_t x = static_cast<int8_t>(v); std::memcpy(&data[at], &x, 1); break; }
    case PhysType::kInt16: { const int16_t x = static_cast<int16_t>(v); std::memcpy(&data[at], &x, 2); break; }
    case PhysType::kInt32: { const int32_t x = static_cast<int32_t>(v); std::memcpy(&data[at], &x, 4); break; }
    default: std::memcpy(&data[at], &v, 8); break;
  }
  MarkValid(true);
}

void HostColumn::AppendFloat(double v) {
  const size_t at = data.size();
  if (type == PhysType::kFloat32) {
    const float x = static_cast<float>(v);
    data.resize(at + 4);
    std::memcpy(&data[at], &x, 4);
  } else {
    data.resize(at + 8);
    std::memcpy(&data[at], &v, 8);
  }
  MarkValid(true);
}

void HostColumn::AppendString(absl::string_view v) {
  if (type == PhysType::kFixedChars) {
    const size_t at = data.size();
    data.resize(at + width, '\0');
    std::memcpy(&data[at], v.data(), v.size());
  } else {
    data.insert(data.end(), v.begin(), v.end());
    offsets.push_back(static_cast<int64_t>(data.size()));
  }
  MarkValid(true);
}

void HostColumn::AppendRowOf(const HostColumn& src, int64_t row) {
  if (!src.IsValid(row)) {
    AppendNull();
    return;
  }
  if (type == PhysType::kVarChars) {
    AppendString(src.StringAt(row));
    return;
  }
  const int w = kernels::ValueWidth(type, width);
  data.insert(data.end(), src.data.begin() + row * w, src.data.begin() + (row + 1) * w);
  MarkValid(true);
}

void HostColumn::AppendNull() {
  if (type == PhysType::kVarChars) {
    offsets.push_back(static_cast<int64_t>(data.size()));
  } else {
    data.resize(data.size() + kernels::ValueWidth(type, width), '\0');
  }
  validity.push_back(0);
  ++size;
}

void HostColumn::Reserve(int64_t rows) {
  const size_t n = static_cast<size_t>(size + rows);
  if (type == PhysType::kVarChars) {
    offsets.reserve(n + 1);
  } else {
    data.reserve(n * kernels::ValueWidth(type, width));
  }
  if (nullable) validity.reserve(n);
}

int64_t HostColumn::IntAt(int64_t row) const {
  const char* p = data.data() + row * kernels::ValueWidth(type, width);
  switch (type) {
    case PhysType::kInt8: { int8_t x; std::memcpy(&x, p, 1); return x; }
    case PhysType::kInt16: { int16_t x; std::memcpy(&x, p, 2); return x; }
    case PhysType::kInt32: { int32_t x; std::memcpy(&x, p, 4); return x; }
    default: { int64_t x; std::memcpy(&x, p, 8); return x; }
  }
}

double HostColumn::FloatAt(int64_t row) const {
  if (type == PhysType::kFloat32) {
    float x;
    std::memcpy(&x, data.data() + row * 4, 4);
    return x;
  }
  double x;
  std::memcpy(&x, data.data() + row * 8, 8);
  return x;
}

absl::string_view HostColumn::StringAt(int64_t row) const {
  if (type == PhysType::kFixedChars) {
    const char* p = data.data() + row * static_cast<int64_t>(width);
    size_t n = 0;
    while (n < static_cast<size_t>(width) && p[n] != '\0') ++n;
    return absl::string_view(p, n);
  }
  return absl::string_view(data.data() + offsets[row], static_cast<size_t>(offsets[row + 1] - offsets[row]));
}

kernels::ColumnView HostColumn::view() const {
  kernels::ColumnView v;
  v.type = type;
  v.width = width;
  v.size = size;
  v.data = data.data();
  v.offsets = type == PhysType::kVarChars ? offsets.data() : nullptr;
  v.validity = nullable ? validity.data() : nullptr;
  return v;
}

kernels::Column ToDevice(const HostColumn& column, const kernels::Exec& exec) {
  kernels::Buffer data(column.data.size(), exec);
  kernels::CopyToDevice(data.data(), column.data.data(), column.data.size(), exec);
  kernels::Buffer offsets, validity;
  if (column.type == PhysType::kVarChars) {
    offsets = kernels::Buffer(column.offsets.size() * sizeof(int64_t), exec);
    kernels::CopyToDevice(offsets.data(), column.offsets.data(), offsets.size(), exec);
  }
  if (column.nullable) {
    validity = kernels::Buffer(column.validity.size(), exec);
    kernels::CopyToDevice(validity.data(), column.validity.data(), column.validity.size(), exec);
  }
  return kernels::Column::Adopt(column.type, column.width, column.nullable, column.size,
                                std::move(data), std::move(offsets), std::move(validity));
}

kernels::Column ToDevice(HostColumn&& column, const kernels::Exec& exec) {
  HostColumn taken = std::move(column);
  column = HostColumn(taken.type, taken.width, taken.nullable);
  if (exec.backend != kernels::Backend::kHost) return ToDevice(taken, exec);
  auto adopt = [&exec](auto& values) {
    if (values.capacity() == 0) return kernels::Buffer();
    auto owner = std::make_shared<std::decay_t<decltype(values)>>(std::move(values));
    return kernels::Buffer::Adopt(owner->data(), owner->capacity() * sizeof(owner->front()), owner, exec);
  };
  const bool var = taken.type == PhysType::kVarChars;
  const int64_t chars = var ? taken.offsets[taken.size] : 0;
  kernels::Buffer data = adopt(taken.data);
  kernels::Buffer offsets = var ? adopt(taken.offsets) : kernels::Buffer();
  kernels::Buffer validity = taken.nullable ? adopt(taken.validity) : kernels::Buffer();
  return kernels::Column::Adopt(taken.type, taken.width, taken.nullable, taken.size, std::move(data),
                                std::move(offsets), std::move(validity), chars);
}

std::vector<kernels::ColumnView> DeviceViews(const std::vector<HostColumn>& columns, const kernels::Exec& exec,
                                             std::vector<kernels::Column>* staged) {
  std::vector<kernels::ColumnView> views;
  views.reserve(columns.size());
  if (exec.backend == kernels::Backend::kHost) {
    for (const HostColumn& c : columns) views.push_back(c.view());
    return views;
  }
  staged->clear();
  staged->reserve(columns.size());
  for (const HostColumn& c : columns) staged->push_back(ToDevice(c, exec));
  for (const kernels::Column& c : *staged) views.push_back(c.view());
  return views;
}

HostColumn ToHost(const kernels::ColumnView& column, bool nullable, int64_t begin, int64_t end,
                  const kernels::Exec& exec) {
  HostColumn out(column.type, column.width, nullable);
  const int64_t n = end - begin;
  if (n <= 0) return out;
  out.size = n;
  if (column.type == PhysType::kVarChars) {
    out.offsets.resize(n + 1);
    kernels::CopyToHostSync(out.offsets.data(), column.offsets + begin, (n + 1) * sizeof(int64_t), exec);
    const int64_t first = out.offsets[0];
    out.data.resize(out.offsets[n] - first);
    kernels::CopyToHostSync(out.data.data(), static_cast<const char*>(column.data) + first,
                            out.data.size(), exec);
    for (int64_t& o : out.offsets) o -= first;
  } else {
    const int w = kernels::ValueWidth(column.type, column.width);
    out.data.resize(static_cast<size_t>(n) * w);
    kernels::CopyToHostSync(out.data.data(), static_cast<const char*>(column.data) + begin * w,
                            out.data.size(), exec);
  }
  if (nullable) {
    if (column.validity != nullptr) {
      out.validity.resize(n);
      kernels::CopyToHostSync(out.validity.data(), column.validity + begin, n, exec);
    } else {
      out.validity.assign(n, 1);
    }
  }
  return out;
}

}  // namespace engine
