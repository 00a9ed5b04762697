// CPU caching allocator: blocks are rounded up to a size class and cached per class after release; the cache is
// bounded by the peak bytes in use, the least recently released blocks going back to the system first.
#include "core/storage.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>

#include "core/error.h"

namespace comet {
namespace {

constexpr size_t kAlign = 64;

struct Block {
  size_t size;
  void* data;
};

struct Cache {
  std::mutex mu;
  uint64_t releases = 0;
  std::map<uint64_t, Block> by_age;              // cached blocks by release number, oldest first
  std::multimap<size_t, uint64_t> by_size;       // size class -> release number
  AllocatorStats stats;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: storages may outlive static destructors
  return *c;
}

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

void uncache(Cache& c, std::multimap<size_t, uint64_t>::iterator entry) {
  c.stats.cached -= entry->first;
  c.by_age.erase(entry->second);
  c.by_size.erase(entry);
}

// The oldest cached block goes back to the system.
void evict_oldest(Cache& c) {
  const auto [release, block] = *c.by_age.begin();
  auto entry = c.by_size.find(block.size);
  while (entry->second != release) ++entry;
  uncache(c, entry);
  system_free(block.data, block.size);
}

void cpu_free(void* data, size_t bytes) {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.stats.in_use -= bytes;
  const uint64_t release = c.releases++;
  c.by_age.emplace(release, Block{bytes, data});
  c.by_size.emplace(bytes, release);
  c.stats.cached += bytes;
  // The cache stays within the peak in use (at most 2x in total). Evicting the oldest blocks rather than refusing
  // the newest keeps the blocks of the current step's sizes: refusing them made a COMET epoch map a fresh 11 MB block
  // every step once the cache had filled with the evaluation's blocks.
  while (c.stats.cached > c.stats.peak) evict_oldest(c);
}

}  // namespace

std::shared_ptr<Storage> cpu_storage(size_t bytes) {
  size_t size = size_class(bytes);
  Cache& c = cache();
  void* data = nullptr;
  {
    std::lock_guard<std::mutex> lock(c.mu);
    // A cached block up to two classes larger (at most 25% unused) serves too: the sparse MoE's sizes move by a few
    // rows from step to step, and exact classes missed 13 times a step on MultiFashionMNIST.
    const auto entry = c.by_size.lower_bound(size);
    if (entry != c.by_size.end() && entry->first <= size + size / 4) {
      size = entry->first;
      data = c.by_age.at(entry->second).data;
      uncache(c, entry);
    }
  }
  if (!data) {
    data = system_alloc(size);
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
  while (!c.by_age.empty()) evict_oldest(c);
}

}  // namespace comet
