#include "kernels/gather.h"

#include "kernels/detail/ops.h"
#include "kernels/filter.h"

namespace kernels {

Column Gather(const ColumnView& src, const int64_t* indices, int64_t count, bool nullable,
              const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  Buffer data, offsets, validity;
  if (src.type == PhysType::kVarChars) {
    offsets = Buffer(static_cast<size_t>(count + 1) * sizeof(int64_t), exec);
    ops.GatherOffsets(src.offsets, indices, count, offsets.as<int64_t>(), exec);
    int64_t chars = 0;
    ops.CopyToHostSync(&chars, offsets.as<int64_t>() + count, sizeof(chars), exec);
    data = Buffer(static_cast<size_t>(chars), exec);
    ops.GatherChars(src.offsets, static_cast<const char*>(src.data), indices, count,
                    offsets.as<int64_t>(), data.as<char>(), exec);
  } else {
    const int32_t width = ValueWidth(src.type, src.width);
    data = Buffer(static_cast<size_t>(count) * width, exec);
    ops.GatherFixed(src.data, width, indices, count, data.data(), exec);
  }
  if (nullable) {
    validity = Buffer(static_cast<size_t>(count), exec);
    if (src.validity != nullptr) {
      ops.GatherFixed(src.validity, 1, indices, count, validity.data(), exec);
    } else {
      ops.Fill(validity.data(), 1, static_cast<size_t>(count), exec);
    }
  }
  return Column::Adopt(src.type, src.width, nullable, count, std::move(data), std::move(offsets),
                       std::move(validity));
}

Buffer RowsNotIn(const int64_t* removed, int64_t count, int64_t n, const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  Buffer mask(static_cast<size_t>(n), exec);
  ops.Fill(mask.data(), 1, static_cast<size_t>(n), exec);
  ops.ScatterByte(removed, count, 0, mask.as<uint8_t>(), exec);
  return Compact(mask.as<uint8_t>(), 0, n, exec).indices;
}

Selection RowsIn(const int64_t* rows, int64_t count, int64_t n, const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  Buffer mask(static_cast<size_t>(n), exec);
  ops.Fill(mask.data(), 0, static_cast<size_t>(n), exec);
  ops.ScatterByte(rows, count, 1, mask.as<uint8_t>(), exec);
  return Compact(mask.as<uint8_t>(), 0, n, exec);
}

Column ReplaceRows(const ColumnView& src, const int64_t* rows, int64_t count, const ColumnView& values, bool nullable,
                   const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  const int64_t n = src.size;
  if (src.type == PhysType::kVarChars) {
    Column both(src.type, src.width, nullable);
    both.Reserve(n + count, Column::CharCount(src, exec) + Column::CharCount(values, exec), exec);
    both.Append(src, exec);
    both.Append(values, exec);
    Buffer order = ReplacementOrder(rows, count, n, exec);
    return Gather(both.view(), order.as<int64_t>(), n, nullable, exec);
  }
  const int32_t width = ValueWidth(src.type, src.width);
  Buffer data(static_cast<size_t>(n) * width, exec), validity;
  if (n > 0) ops.CopyOnDevice(data.data(), src.data, static_cast<size_t>(n) * width, exec);
  ops.ScatterFixed(values.data, width, rows, count, data.data(), exec);
  if (nullable) {
    validity = Buffer(static_cast<size_t>(n), exec);
    if (src.validity != nullptr) {
      if (n > 0) ops.CopyOnDevice(validity.data(), src.validity, static_cast<size_t>(n), exec);
    } else {
      ops.Fill(validity.data(), 1, static_cast<size_t>(n), exec);
    }
    if (values.validity != nullptr) {
      ops.ScatterFixed(values.validity, 1, rows, count, validity.data(), exec);
    } else {
      ops.ScatterByte(rows, count, 1, validity.as<uint8_t>(), exec);
    }
  }
  return Column::Adopt(src.type, src.width, nullable, n, std::move(data), Buffer(), std::move(validity));
}

Buffer ReplacementOrder(const int64_t* updated, int64_t count, int64_t n, const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  Buffer order(static_cast<size_t>(n) * sizeof(int64_t), exec);
  ops.Positions(0, n, order.as<int64_t>(), exec);
  ops.ScatterPositions(updated, count, n, order.as<int64_t>(), exec);
  return order;
}

}  // namespace kernels
