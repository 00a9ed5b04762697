// The block cache (core/block_cache.h) over a counting fake of the system allocator: size classes by hand; a
// released block is handed out again for its class and for requests up to two classes smaller, not for smaller
// ones; the cache stays within the peak bytes in use, the oldest blocks going back first; release_cache returns
// every block, and so does destruction; a failing system allocation is retried once the cache is returned, and then
// reported as null.
#include <doctest/doctest.h>

#include <cstdlib>
#include <set>

#include "core/block_cache.h"

namespace comet {
namespace {

// The fake system: real memory (so blocks can be written), counted, and able to refuse once `budget` bytes are out.
struct FakeSystem {
  static inline size_t allocs = 0, frees = 0, out = 0, budget = SIZE_MAX;
  static inline std::set<void*> live;
  static void* alloc(size_t bytes) {
    if (out + bytes > budget) return nullptr;
    void* p = std::aligned_alloc(64, bytes);
    ++allocs;
    out += bytes;
    live.insert(p);
    return p;
  }
  static void free(void* p, size_t bytes) {
    REQUIRE(live.erase(p) == 1);  // only blocks it handed out, each once
    ++frees;
    out -= bytes;
    std::free(p);
  }
  static void reset() {
    allocs = frees = out = 0;
    budget = SIZE_MAX;
  }
};

struct Fixture {
  Fixture() { FakeSystem::reset(); }
  BlockCache cache{&FakeSystem::alloc, &FakeSystem::free, 64};
};

TEST_CASE("block cache: destroyed, it returns its cached blocks to the system") {
  FakeSystem::reset();
  {
    BlockCache cache{&FakeSystem::alloc, &FakeSystem::free, 64};
    size_t size = 0;
    void* a = cache.allocate(5000, size);
    cache.release(a, size);
    CHECK(FakeSystem::out == size);
  }
  CHECK(FakeSystem::out == 0);
  CHECK(FakeSystem::frees == FakeSystem::allocs);
}

}  // namespace

TEST_CASE("block cache: size classes are multiples of the alignment up to 4 KiB, then 8 per power of two") {
  CHECK(BlockCache::size_class(0, 64) == 64);
  CHECK(BlockCache::size_class(1, 64) == 64);
  CHECK(BlockCache::size_class(65, 64) == 128);
  CHECK(BlockCache::size_class(4096, 64) == 4096);
  CHECK(BlockCache::size_class(4097, 64) == 4608);  // octave 4096, steps of 512
  CHECK(BlockCache::size_class(8192, 64) == 8192);
  CHECK(BlockCache::size_class(8193, 64) == 9216);  // octave 8192, steps of 1024
  CHECK(BlockCache::size_class(1000, 256) == 1024);
}

TEST_CASE_FIXTURE(Fixture, "block cache: a released block serves its class and up to two classes smaller") {
  size_t size = 0;
  void* a = cache.allocate(100000, size);
  REQUIRE(a);
  CHECK(size == 106496);  // octave 65,536 in steps of 8,192
  CHECK(cache.stats().in_use == size);
  cache.release(a, size);
  CHECK(cache.stats().cached == size);
  size_t again = 0;
  CHECK(cache.allocate(100000, again) == a);  // the same class
  CHECK(again == size);
  cache.release(a, again);
  CHECK(cache.allocate(90000, again) == a);  // class 90,112, two below: 106,496 is 18% more
  CHECK(again == size);
  cache.release(a, again);
  void* b = cache.allocate(81000, again);  // class 81,920, three below (30% more): a fresh block
  CHECK(b != a);
  CHECK(FakeSystem::allocs == 2);
  cache.release(b, again);
}

TEST_CASE_FIXTURE(Fixture, "block cache: the cache stays within the peak in use, oldest blocks evicted first") {
  size_t s1 = 0, s2 = 0, s3 = 0;
  void* a = cache.allocate(1 << 20, s1);
  void* b = cache.allocate(1 << 20, s2);
  CHECK(cache.stats().peak == s1 + s2);
  cache.release(a, s1);
  cache.release(b, s2);
  CHECK(cache.stats().cached == s1 + s2);  // at the peak: kept
  cache.reset_peak();                       // nothing in use: the peak falls to 0
  void* c = cache.allocate(3 << 20, s3);    // no cached block fits: a fresh one; the peak is now s3
  CHECK(FakeSystem::allocs == 3);
  cache.release(c, s3);  // cached s1 + s2 + s3 > peak s3: the two oldest go back
  CHECK(FakeSystem::frees == 2);
  CHECK(FakeSystem::live.count(a) == 0);
  CHECK(FakeSystem::live.count(b) == 0);
  CHECK(cache.stats().cached == s3);
  cache.release_cache();
  CHECK(cache.stats().cached == 0);
  CHECK(FakeSystem::frees == FakeSystem::allocs);
  CHECK(FakeSystem::out == 0);
}

TEST_CASE_FIXTURE(Fixture, "block cache: a failed allocation returns the cache to the system and tries again") {
  size_t s1 = 0, s2 = 0;
  void* a = cache.allocate(1 << 20, s1);
  cache.release(a, s1);           // cached
  FakeSystem::budget = 2 << 20;   // room for 2 MiB in all, 1 MiB of it held by the cache
  void* b = cache.allocate(3 << 19, s2);  // 1.5 MiB: no cached block fits, the system has room only once a is back
  CHECK(b != nullptr);
  CHECK(FakeSystem::live.count(a) == 0);
  CHECK(cache.stats().in_use == s2);
  size_t s3 = 0;
  CHECK(cache.allocate(1 << 20, s3) == nullptr);  // no room at all: null, nothing counted
  CHECK(cache.stats().in_use == s2);
  cache.release(b, s2);
  cache.release_cache();
  CHECK(FakeSystem::out == 0);
}

}  // namespace comet
