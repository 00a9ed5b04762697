// Storage: one owned buffer (64-byte aligned on the CPU) tagged with its device. CPU buffers come from a block
// cache (core/block_cache.h), because fresh large allocations page-fault on every training step. Other devices supply
// their own storage and deleter (kernels/cuda/). Test: tests/core/test_tensor.cpp.
#pragma once
#include <cstddef>
#include <memory>

#include "core/block_cache.h"
#include "core/dtype.h"

namespace comet {

struct Storage {
  using Deleter = void (*)(void* data, size_t bytes);
  Storage(void* data, size_t bytes, Device device, Deleter deleter)
      : data(data), bytes(bytes), device(device), deleter(deleter) {}
  ~Storage() { if (deleter) deleter(data, bytes); }
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data;
  size_t bytes;
  Device device;
  Deleter deleter;
};

// A CPU buffer of at least `bytes`, 64-byte aligned; its contents are unspecified.
std::shared_ptr<Storage> cpu_storage(size_t bytes);

// Statistics of the CPU caching allocator (bytes currently handed out, the high-water mark, cached).
AllocatorStats cpu_allocator_stats();
void cpu_allocator_reset_peak();
// Returns every cached block to the system.
void cpu_allocator_release_cache();

}  // namespace comet
