// CPU caching allocator: blocks are rounded up to a size class and cached per class after release; the cache is
// bounded by the peak bytes in use (a block released beyond that goes back to the system).
#include "core/storage.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <vector>

#include "core/error.h"

namespace comet {
namespace {

constexpr size_t kAlign = 64;

struct Cache {
  std::mutex mu;
  std::multimap<size_t, void*> free_blocks;
  AllocatorStats stats;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: storages may outlive static destructors
  return *c;
}

// Multiples of 64 bytes up to 4 KiB, then 8 classes per power of two (at most 12.5% more than asked for). The
// sparse MoE asks for a different size almost every step (rows per expert vary), and exact-size caching kept every
// one of them: a MultiFashionMNIST run with Top-k gates grew to 24 GB before this.
size_t size_class(size_t bytes) {
  const size_t rounded = ((bytes ? bytes : 1) + kAlign - 1) / kAlign * kAlign;
  if (rounded <= 4096) return rounded;
  size_t octave = 4096;
  while (octave * 2 < rounded) octave *= 2;
  const size_t step = octave / 8;
  return (rounded + step - 1) / step * step;
}

void cpu_free(void* data, size_t bytes) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.in_use -= bytes;
  if (c.stats.cached + bytes > c.stats.peak) {  // the cache stays within the peak in use: at most 2x in total
    std::free(data);
    return;
  }
  c.free_blocks.emplace(bytes, data);
  c.stats.cached += bytes;
}

}  // namespace

std::shared_ptr<Storage> cpu_storage(size_t bytes) {
  const size_t size = size_class(bytes);
  Cache& c = cache();
  void* data = nullptr;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free_blocks.find(size);
    if (it != c.free_blocks.end()) {
      data = it->second;
      c.free_blocks.erase(it);
      c.stats.cached -= size;
    }
  }
  if (!data) {
    data = std::aligned_alloc(kAlign, size);
    COMET_CHECK(data, "cpu_storage: out of memory allocating {} bytes", size);
  }
  {
    std::lock_guard<std::mutex> lock(c.mu);
    c.stats.in_use += size;
    if (c.stats.in_use > c.stats.peak) c.stats.peak = c.stats.in_use;
  }
  return std::make_shared<Storage>(data, size, Device::CPU, &cpu_free);
}

AllocatorStats cpu_allocator_stats() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().stats;
}

void cpu_allocator_reset_peak() {
  std::lock_guard<std::mutex> lock(cache().mu);
  cache().stats.peak = cache().stats.in_use;
}

void cpu_allocator_release_cache() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto& [size, ptr] : c.free_blocks) std::free(ptr);
  c.free_blocks.clear();
  c.stats.cached = 0;
}

}  // namespace comet
