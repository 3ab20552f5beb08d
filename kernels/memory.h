#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <new>
#include <string>
#include <utility>

#include "kernels/backend.h"

namespace kernels {

// Thrown when an allocation would pass a device's byte limit, or the device
// itself is out of memory. The message names the device, the request and the
// space left. Derives from std::bad_alloc so Thrust's own failures and ours
// are caught alike.
class OutOfMemory : public std::bad_alloc {
 public:
  explicit OutOfMemory(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

// A device's memory pool: every byte a job uses on a device comes from here.
// Allocations are counted against a limit; in_use() and peak() report the
// accounting. Thread-safe.
//
// Host pools hand out aligned host memory; CUDA pools use stream-ordered
// allocation (cudaMallocAsync) from the device's memory pool.
class MemoryResource {
 public:
  // `limit` is in bytes; 0 means no limit beyond the device's own memory.
  MemoryResource(Backend backend, int device, std::string name, size_t limit);
  MemoryResource(const MemoryResource&) = delete;
  MemoryResource& operator=(const MemoryResource&) = delete;

  // Returns at least `bytes` bytes (256-byte aligned), ordered on `stream`.
  // Zero bytes returns null. Throws OutOfMemory.
  void* Allocate(size_t bytes, void* stream);
  // REQUIRES: p came from Allocate(bytes, ...) of this resource.
  void Deallocate(void* p, size_t bytes, void* stream) noexcept;

  Backend backend() const { return backend_; }
  int device() const { return device_; }
  const std::string& name() const { return name_; }
  size_t limit() const { return limit_; }
  size_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
  size_t peak() const { return peak_.load(std::memory_order_relaxed); }

 private:
  const Backend backend_;
  const int device_;
  const std::string name_;
  const size_t limit_;
  std::atomic<size_t> in_use_{0};
  std::atomic<size_t> peak_{0};
};

// An owning, untyped allocation from a MemoryResource. Move-only; frees on
// destruction, ordered on the stream it was allocated on.
class Buffer {
 public:
  Buffer() = default;
  Buffer(size_t bytes, const Exec& exec);
  ~Buffer() { Reset(); }
  Buffer(Buffer&& other) noexcept { *this = std::move(other); }
  Buffer& operator=(Buffer&& other) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  void* data() { return data_; }
  const void* data() const { return data_; }
  template <typename T>
  T* as() { return static_cast<T*>(data_); }
  template <typename T>
  const T* as() const { return static_cast<const T*>(data_); }
  size_t size() const { return bytes_; }
  void Reset() noexcept;
  // Frees now, ordered on `stream` rather than the allocating stream: for a
  // buffer last used by work on another stream.
  void ResetOn(void* stream) noexcept {
    stream_ = stream;
    Reset();
  }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
  MemoryResource* mr_ = nullptr;
  void* stream_ = nullptr;
};

}  // namespace kernels
