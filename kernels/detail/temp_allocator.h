#pragma once

#include <cstddef>

#include "kernels/memory.h"

namespace kernels::detail {

// Routes Thrust's temporary storage through a device's MemoryResource, so
// temporaries count against the device's limit like every other allocation.
struct TempAllocator {
  using value_type = char;
  MemoryResource* mr;
  void* stream;

  char* allocate(std::ptrdiff_t bytes) {
    return static_cast<char*>(mr->Allocate(static_cast<size_t>(bytes), stream));
  }
  void deallocate(char* p, size_t bytes) { mr->Deallocate(p, bytes, stream); }
};

}  // namespace kernels::detail
