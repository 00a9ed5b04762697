// A cache of released memory blocks in front of a system allocator (malloc/mmap for the CPU, cudaMalloc for a
// CUDA device): fresh large allocations page-fault (or synchronise the device) on every training step, so released
// blocks are kept per size class and handed out again. Sizes are rounded up to a class (within 12.5% of the size
// asked for); a cached block up to two classes larger serves too. The cache holds at most the peak bytes in use
// (so at most twice that in all), the least recently released blocks going back to the system first. Thread-safe.
// Users: core/storage.cpp (the CPU), kernels/cuda/device.cpp (CUDA). Test: tests/core/test_block_cache.cpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>

namespace comet {

// Bytes currently handed out, their high-water mark, and bytes cached.
struct AllocatorStats {
  size_t in_use = 0;
  size_t peak = 0;
  size_t cached = 0;
};

class BlockCache {
 public:
  using SystemAlloc = void* (*)(size_t bytes);  // null when the system has no memory left
  using SystemFree = void (*)(void* data, size_t bytes);

  // Blocks are multiples of `align` bytes (a power of two).
  BlockCache(SystemAlloc alloc, SystemFree free, size_t align);
  ~BlockCache() { release_cache(); }  // blocks still handed out are their holders' to release
  BlockCache(const BlockCache&) = delete;
  BlockCache& operator=(const BlockCache&) = delete;

  // A block of at least `bytes`, and its size in `size` (give it back to release()); null when the system is out
  // of memory even after the cache was returned to it.
  void* allocate(size_t bytes, size_t& size);
  void release(void* data, size_t size);

  AllocatorStats stats();
  void reset_peak();     // the peak becomes the bytes in use now
  void release_cache();  // every cached block back to the system

  // The size class of `bytes`: multiples of `align` up to 4 KiB, then 8 classes per power of two.
  static size_t size_class(size_t bytes, size_t align);

 private:
  struct Block {
    size_t size;
    void* data;
  };
  void uncache(std::multimap<size_t, uint64_t>::iterator entry);
  void evict_oldest();

  SystemAlloc system_alloc_;
  SystemFree system_free_;
  size_t align_;
  std::mutex mu_;
  uint64_t releases_ = 0;
  std::map<uint64_t, Block> by_age_;         // cached blocks by release number, oldest first
  std::multimap<size_t, uint64_t> by_size_;  // size -> release number
  AllocatorStats stats_;
};

}  // namespace comet
