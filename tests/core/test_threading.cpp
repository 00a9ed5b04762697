// The thread-count owner: set/get, scope restore, and OpenMP follows it; the chunk pool (parallel_chunks): every
// chunk once at any thread count, nested calls and concurrent callers, exceptions.
#include <doctest/doctest.h>
#include <omp.h>

#include <atomic>
#include <thread>
#include <vector>

#include "core/error.h"
#include "core/threading.h"

namespace comet {

TEST_CASE("thread count scope sets OpenMP and restores") {
  const int before = num_threads();
  {
    ThreadScope scope(1);
    CHECK(num_threads() == 1);
    int seen = 0;
#pragma omp parallel
    {
#pragma omp single
      seen = omp_get_num_threads();
    }
    CHECK(seen == 1);
  }
  CHECK(num_threads() == before);
  CHECK_THROWS_AS(set_num_threads(0), Error);
}

TEST_CASE("parallel_chunks: every chunk exactly once, at 1, 2 and 4 threads, for any chunk count") {
  for (int threads : {1, 2, 4}) {
    ThreadScope scope(threads);
    for (int64_t chunks : {0, 1, 2, 7, 1000}) {
      CAPTURE(threads);
      CAPTURE(chunks);
      std::vector<std::atomic<int>> runs(static_cast<size_t>(chunks));
      parallel_chunks(chunks, [&](int64_t c) { runs[static_cast<size_t>(c)].fetch_add(1); });
      for (const auto& r : runs) CHECK(r.load() == 1);
    }
  }
}

TEST_CASE("parallel_chunks: a nested call and a second caller run serially and complete; an exception is rethrown") {
  ThreadScope scope(2);
  std::atomic<int64_t> total{0};
  parallel_chunks(8, [&](int64_t c) {  // nested: each outer chunk runs 10 inner chunks on its own thread
    parallel_chunks(10, [&](int64_t i) { total.fetch_add(c * 10 + i); });
  });
  CHECK(total.load() == 79 * 80 / 2);
  // Two threads of the caller's own use the pool at once: one gets it, the other runs its chunks itself.
  std::vector<int64_t> a(5000, 0), b(5000, 0);
  std::thread other([&] { parallel_chunks(5000, [&](int64_t c) { b[c] = 2 * c; }); });
  parallel_chunks(5000, [&](int64_t c) { a[c] = 3 * c; });
  other.join();
  for (int64_t c = 0; c < 5000; ++c) {
    CHECK(a[c] == 3 * c);
    CHECK(b[c] == 2 * c);
  }
  // Every chunk runs even when one throws; the first exception reaches the caller.
  std::atomic<int> ran{0};
  CHECK_THROWS_WITH_AS(parallel_chunks(50, [&](int64_t c) {
                         ran.fetch_add(1);
                         if (c == 17) throw Error("chunk 17 failed");
                       }),
                       "chunk 17 failed", Error);
  CHECK(ran.load() == 50);
}

}  // namespace comet
