// The thread-count owner: set/get, scope restore, and OpenMP follows it.
#include <doctest/doctest.h>
#include <omp.h>

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

}  // namespace comet
