#include "kernels/random.h"

#include "kernels/detail/ops.h"

namespace kernels {

Column RandomColumn(PhysType type, int32_t width, bool nullable, int64_t rows,
                    const RandomSpec& spec, const Exec& exec) {
  const auto& ops = detail::OpsFor(exec.backend);
  Buffer data, offsets, validity;
  if (type == PhysType::kVarChars) {
    offsets = Buffer(static_cast<size_t>(rows + 1) * sizeof(int64_t), exec);
    ops.RandomOffsets(rows, spec, offsets.as<int64_t>(), exec);
    int64_t chars = 0;
    ops.CopyToHostSync(&chars, offsets.as<int64_t>() + rows, sizeof(chars), exec);
    data = Buffer(static_cast<size_t>(chars), exec);
    ops.RandomChars(rows, spec, offsets.as<int64_t>(), data.as<char>(), exec);
  } else {
    data = Buffer(static_cast<size_t>(rows) * ValueWidth(type, width), exec);
    ops.RandomFixed(type, width, rows, spec, data.data(), exec);
  }
  if (nullable) {
    validity = Buffer(static_cast<size_t>(rows), exec);
    ops.RandomValidity(rows, spec, validity.as<uint8_t>(), exec);
  }
  return Column::Adopt(type, width, nullable, rows, std::move(data), std::move(offsets),
                       std::move(validity));
}

}  // namespace kernels
