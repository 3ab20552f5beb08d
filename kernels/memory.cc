#include "kernels/memory.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "kernels/detail/ops.h"

namespace kernels {
namespace {

constexpr size_t kAlignment = 256;

size_t RoundUp(size_t bytes) { return (bytes + kAlignment - 1) / kAlignment * kAlignment; }

std::string Mib(size_t bytes) {
  return absl::StrCat(bytes / (1024 * 1024), ".", (bytes % (1024 * 1024)) * 10 / (1024 * 1024), " MiB");
}

}  // namespace

MemoryResource::MemoryResource(Backend backend, int device, std::string name, size_t limit)
    : backend_(backend), device_(device), name_(std::move(name)), limit_(limit) {}

void* MemoryResource::Allocate(size_t bytes, void* stream) {
  if (bytes == 0) return nullptr;
  const size_t rounded = RoundUp(bytes);
  size_t used = in_use_.load(std::memory_order_relaxed);
  do {
    if (limit_ != 0 && (rounded > limit_ || used > limit_ - rounded)) {
      throw OutOfMemory(absl::StrCat("out of device memory on ", name_, ": needs ", Mib(rounded),
                                     ", ", Mib(used), " of the ", Mib(limit_), " limit in use"));
    }
  } while (!in_use_.compare_exchange_weak(used, used + rounded, std::memory_order_relaxed));
  void* p = detail::OpsFor(backend_).Allocate(rounded, device_, stream);
  if (p == nullptr) {
    in_use_.fetch_sub(rounded, std::memory_order_relaxed);
    throw OutOfMemory(absl::StrCat("out of device memory on ", name_, ": the device could not supply ",
                                   Mib(rounded)));
  }
  // The peak counts only memory actually handed out.
  size_t peak = peak_.load(std::memory_order_relaxed);
  while (used + rounded > peak &&
         !peak_.compare_exchange_weak(peak, used + rounded, std::memory_order_relaxed)) {
  }
  return p;
}

void MemoryResource::Deallocate(void* p, size_t bytes, void* stream) noexcept {
  if (p == nullptr) return;
  detail::OpsFor(backend_).Deallocate(p, device_, stream);
  in_use_.fetch_sub(RoundUp(bytes), std::memory_order_relaxed);
}

Buffer::Buffer(size_t bytes, const Exec& exec)
    : data_(exec.mr->Allocate(bytes, exec.stream)), bytes_(bytes), mr_(exec.mr), stream_(exec.stream) {}

Buffer& Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    Reset();
    data_ = other.data_;
    bytes_ = other.bytes_;
    mr_ = other.mr_;
    stream_ = other.stream_;
    other.data_ = nullptr;
    other.bytes_ = 0;
    other.mr_ = nullptr;
  }
  return *this;
}

void Buffer::Reset() noexcept {
  if (mr_ != nullptr) mr_->Deallocate(data_, bytes_, stream_);
  data_ = nullptr;
  bytes_ = 0;
  mr_ = nullptr;
}

}  // namespace kernels
