// Stand-ins for the kernels' device side, for fuzz targets built without
// the kernels (scripts/fuzz.sh): engine/table/host_column.cc also copies
// columns to and from a device, which no target reaches. Each traps, so a
// target that did reach one would stop there and be reported.

#include "kernels/backend.h"
#include "kernels/column.h"
#include "kernels/memory.h"

namespace kernels {

Buffer::Buffer(size_t, const Exec&) { __builtin_trap(); }
Buffer Buffer::Adopt(void*, size_t, std::shared_ptr<void>, const Exec&) { __builtin_trap(); }
Buffer& Buffer::operator=(Buffer&&) noexcept { __builtin_trap(); }
void Buffer::Reset() noexcept {
  if (data_ != nullptr) __builtin_trap();
}
Column Column::Adopt(PhysType, int32_t, bool, int64_t, Buffer, Buffer, Buffer, int64_t) { __builtin_trap(); }
ColumnView Column::view() const { __builtin_trap(); }
void CopyToDevice(void*, const void*, size_t, const Exec&) { __builtin_trap(); }
void CopyToHostSync(void*, const void*, size_t, const Exec&) { __builtin_trap(); }

}  // namespace kernels
