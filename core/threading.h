// The one owner of the thread count. Every OpenMP region in the engine runs with num_threads(); Eigen is
// pinned to one thread so that it never oversubscribes inside our own parallel regions (our kernels split
// the work themselves). The default is COMET_NUM_THREADS if set, else the number of cores.
// Test: tests/core/test_threading.cpp.
#pragma once

namespace comet {

void set_num_threads(int n);
int num_threads();

// Sets the thread count for a scope and restores the previous one after.
class ThreadScope {
 public:
  explicit ThreadScope(int n) : previous_(num_threads()) { set_num_threads(n); }
  ~ThreadScope() { set_num_threads(previous_); }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_;
};

}  // namespace comet
