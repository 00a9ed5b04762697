// CPU storage: 64-byte aligned blocks from the block cache (core/block_cache.h) in front of malloc and mmap.
#include "core/storage.h"

#include <sys/mman.h>

#include <cstdlib>

#include "core/block_cache.h"
#include "core/error.h"

namespace comet {
namespace {

constexpr size_t kAlign = 64;

// Blocks from this size on are mapped from the system directly and unmapped when released, so a released block
// always returns its memory. From malloc, they did not: glibc raises its mmap threshold after such frees, later
// large blocks come from the heap, and the heap fragmented as the sparse MoE's sizes varied from step to step: a
// MovieLens COMET run grew by about 150 MB of resident memory per epoch while the blocks in use stayed at 52 MB.
constexpr size_t kMapFrom = size_t{256} << 10;

void* system_alloc(size_t size) {
  if (size < kMapFrom) return std::aligned_alloc(kAlign, size);
  void* data = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return data == MAP_FAILED ? nullptr : data;  // page-aligned, so kAlign-aligned
}

void system_free(void* data, size_t size) {
  if (size < kMapFrom)
    std::free(data);
  else
    munmap(data, size);
}

BlockCache& cache() {
  static BlockCache* c = new BlockCache(&system_alloc, &system_free, kAlign);  // never destroyed: storages may
  return *c;                                                                  // outlive static destructors
}

void cpu_release(void* data, size_t bytes) { cache().release(data, bytes); }

}  // namespace

std::shared_ptr<Storage> cpu_storage(size_t bytes) {
  size_t size = 0;
  void* data = cache().allocate(bytes, size);
  COMET_CHECK(data, "cpu_storage: out of memory allocating {} bytes", BlockCache::size_class(bytes, kAlign));
  return std::make_shared<Storage>(data, size, Device::CPU, &cpu_release);
}

AllocatorStats cpu_allocator_stats() { return cache().stats(); }

void cpu_allocator_reset_peak() { cache().reset_peak(); }

void cpu_allocator_release_cache() { cache().release_cache(); }

}  // namespace comet
