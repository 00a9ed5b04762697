// The block cache (see block_cache.h).
#include "core/block_cache.h"

namespace comet {

BlockCache::BlockCache(SystemAlloc alloc, SystemFree free, size_t align)
    : system_alloc_(alloc), system_free_(free), align_(align) {}

// The sparse MoE asks for a different size almost every step (rows per expert vary), and exact-size caching kept
// every one of them: a MultiFashionMNIST run with Top-k gates grew to 24 GB before the classes.
size_t BlockCache::size_class(size_t bytes, size_t align) {
  const size_t rounded = ((bytes ? bytes : 1) + align - 1) / align * align;
  if (rounded <= 4096) return rounded;
  size_t octave = 4096;
  while (octave * 2 < rounded) octave *= 2;
  const size_t step = octave / 8;
  return (rounded + step - 1) / step * step;
}

void BlockCache::uncache(std::multimap<size_t, uint64_t>::iterator entry) {
  stats_.cached -= entry->first;
  by_age_.erase(entry->second);
  by_size_.erase(entry);
}

void BlockCache::evict_oldest() {
  const auto [release, block] = *by_age_.begin();
  auto entry = by_size_.find(block.size);
  while (entry->second != release) ++entry;
  uncache(entry);
  system_free_(block.data, block.size);
}

void* BlockCache::allocate(size_t bytes, size_t& size) {
  size = size_class(bytes, align_);
  void* data = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A cached block up to two classes larger (at most 25% unused) serves too: the sparse MoE's sizes move by a few
    // rows from step to step, and exact classes missed 13 times a step on MultiFashionMNIST.
    const auto entry = by_size_.lower_bound(size);
    if (entry != by_size_.end() && entry->first <= size + size / 4) {
      size = entry->first;
      data = by_age_.at(entry->second).data;
      uncache(entry);
    }
  }
  if (!data) data = system_alloc_(size);
  if (!data) {  // the cached blocks may be what the system is missing
    release_cache();
    data = system_alloc_(size);
  }
  if (!data) return nullptr;
  std::lock_guard<std::mutex> lock(mu_);
  stats_.in_use += size;
  if (stats_.in_use > stats_.peak) stats_.peak = stats_.in_use;
  return data;
}

void BlockCache::release(void* data, size_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.in_use -= size;
  const uint64_t release = releases_++;
  by_age_.emplace(release, Block{size, data});
  by_size_.emplace(size, release);
  stats_.cached += size;
  // The cache stays within the peak in use (at most 2x in total). Evicting the oldest blocks rather than refusing
  // the newest keeps the blocks of the current step's sizes: refusing them made a COMET epoch map a fresh 11 MB block
  // every step once the cache had filled with the evaluation's blocks.
  while (stats_.cached > stats_.peak) evict_oldest();
}

AllocatorStats BlockCache::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void BlockCache::reset_peak() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.peak = stats_.in_use;
}

void BlockCache::release_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  while (!by_age_.empty()) evict_oldest();
}

}  // namespace comet
