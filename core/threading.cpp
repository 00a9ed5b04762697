// Thread-count owner: OpenMP gets our count (one active level: no nested teams), Eigen gets one thread.
#include "core/threading.h"

#include <omp.h>

#include <Eigen/Core>
#include <cstdlib>
#include <string>

#include "core/error.h"

namespace comet {
namespace {

int initial_threads() {
  if (const char* env = std::getenv("COMET_NUM_THREADS")) {
    const int n = std::atoi(env);
    COMET_CHECK(n >= 1, "COMET_NUM_THREADS must be a positive integer, got '{}'", env);
    return n;
  }
  return omp_get_num_procs();
}

int& current() {
  static int n = [] {
    const int t = initial_threads();
    omp_set_num_threads(t);
    omp_set_max_active_levels(1);  // kernels called inside our parallel regions run serially
    Eigen::setNbThreads(1);
    return t;
  }();
  return n;
}

}  // namespace

void set_num_threads(int n) {
  COMET_CHECK(n >= 1, "set_num_threads: need at least one thread, got {}", n);
  current() = n;
  omp_set_num_threads(n);
  Eigen::setNbThreads(1);
}

int num_threads() { return current(); }

}  // namespace comet
