// The one owner of the thread count, and the pool that runs the engine's parallel work. The default count is
// COMET_NUM_THREADS if it is a number, else the number of cores, fitted to the load. Eigen is pinned to one thread
// so that it never oversubscribes inside our own parallel work (our kernels split the work themselves).
// Tests: tests/core/test_threading.cpp, tests/core/test_cpu_load.cpp (the team fitted to the load).
#pragma once
#include <cstdint>
#include <functional>

namespace comet {

// A fixed count (set_num_threads, COMET_NUM_THREADS=N) turns the fitting to the load off; COMET_NUM_THREADS unset
// or "auto" starts with every core and fits the team to the load.
void set_num_threads(int n);
int num_threads();

// Whether parallel_chunks fits its team to the load (core/cpu_load.h): with other programs busy on the machine it
// runs on fewer than num_threads() threads, so that no thread of ours waits for a core while holding a chunk, and
// grows back when cores are idle. The bits of every result are the same at any team size.
void set_adaptive_threads(bool on);
bool adaptive_threads();

// Runs f(c) for every c in [0, chunks), on the calling thread and up to num_threads() - 1 pool workers. Chunks are
// claimed one at a time by whichever thread is running, and the call returns once every chunk is done, not once every
// worker has woken. So a worker that another process keeps off its core costs at most the chunk it holds, where a
// fixed share per thread (an OpenMP team) would wait for that worker's whole share. f must give the same result
// whichever thread runs a chunk (then the bits do not depend on the scheduling); an exception thrown by f is
// rethrown here after every chunk has run. Called inside a chunk, or while another thread uses the pool, it runs
// the chunks serially on the calling thread.
void parallel_chunks(int64_t chunks, const std::function<void(int64_t)>& f);

// The number of threads (caller included) that the pool's last job ran on: num_threads(), or fewer when the team
// is fitted to the load; 0 before the first job.
int parallel_team();

// Sets the thread count for a scope and restores the previous one after.
class ThreadScope {
 public:
  explicit ThreadScope(int n) : previous_(num_threads()), adaptive_(adaptive_threads()) { set_num_threads(n); }
  ~ThreadScope() {
    set_num_threads(previous_);
    set_adaptive_threads(adaptive_);
  }
  ThreadScope(const ThreadScope&) = delete;
  ThreadScope& operator=(const ThreadScope&) = delete;

 private:
  int previous_;
  bool adaptive_;
};

}  // namespace comet
