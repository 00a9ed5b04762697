// Thread-count owner and the chunk pool. OpenMP (still used by `omp simd` loops and by tools) gets our count with
// one active level; Eigen gets one thread.
#include "core/threading.h"

#include <omp.h>

#include <Eigen/Core>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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

namespace {

thread_local bool t_in_chunk = false;  // this thread is running a chunk: nested calls run serially

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Waits until done() holds: spins a little (the common case is a wait of microseconds), then yields the core, which
// a descheduled worker of ours may need.
template <class Done>
void wait_until(Done done) {
  for (int spin = 0; !done(); ++spin) {
    if (spin < 4096) cpu_relax();
    else std::this_thread::yield();
  }
}

// One job at a time (the caller that holds run_mu_). Workers join a job by raising active_ and checking that it is
// still open and still the same generation; the caller closes the job once every chunk is done and then waits only
// for workers that joined, so a worker that wakes late never touches a finished job's function.
class ChunkPool {
 public:
  static ChunkPool& instance() {
    static ChunkPool* pool = new ChunkPool;  // never destroyed: workers may outlive static destructors
    return *pool;
  }

  void run(int64_t chunks, int workers, const std::function<void(int64_t)>& f) {
    std::unique_lock<std::mutex> exclusive(run_mu_, std::try_to_lock);
    if (!exclusive.owns_lock()) return serial(chunks, f);
    start_workers(workers);
    fn_ = &f;
    chunks_ = chunks;
    max_workers_ = workers;
    error_ = nullptr;
    next_.store(0);
    done_.store(0);
    open_.store(true);
    generation_.fetch_add(1);
    { std::lock_guard<std::mutex> lock(sleep_mu_); }  // a worker between its check and its wait sees the new generation
    wake_.notify_all();
    work();
    wait_until([&] { return done_.load(std::memory_order_acquire) == chunks_; });
    open_.store(false);
    wait_until([&] { return active_.load() == 0; });
    if (error_) std::rethrow_exception(error_);
  }

  static void serial(int64_t chunks, const std::function<void(int64_t)>& f) {
    for (int64_t c = 0; c < chunks; ++c) f(c);
  }

 private:
  void start_workers(int count) {
    while (static_cast<int>(threads_.size()) < count) {
      const int index = static_cast<int>(threads_.size());
      threads_.emplace_back([this, index] { worker(index); });
      threads_.back().detach();
    }
  }

  // Claims and runs chunks until none is left.
  void work() {
    t_in_chunk = true;
    for (int64_t c; (c = next_.fetch_add(1)) < chunks_;) {
      try {
        (*fn_)(c);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mu_);
        if (!error_) error_ = std::current_exception();
      }
      done_.fetch_add(1, std::memory_order_release);
    }
    t_in_chunk = false;
  }

  void worker(int index) {
    uint64_t seen = generation_.load();
    for (;;) {
      // A new job usually follows within microseconds (the kernels of one training step): wait awake for a while
      // first. 5 ms, about libgomp's default spin: at 200 us the workers fell asleep between a step's kernels, and
      // waking them cost the MoE step about 20% (2 threads, AMD EPYC Zen 4). After the first 50 us the wait yields
      // the core at every turn, so that on a busy machine it does not take the time of the caller or another process.
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; generation_.load() == seen; ++i) {
        if ((i & 63) != 0) {
          cpu_relax();
          continue;
        }
        const auto waited = std::chrono::steady_clock::now() - start;
        if (waited < std::chrono::microseconds(50)) continue;
        if (waited < std::chrono::milliseconds(5)) {
          std::this_thread::yield();
          continue;
        }
        std::unique_lock<std::mutex> lock(sleep_mu_);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
      }
      const uint64_t g = generation_.load();
      seen = g;
      active_.fetch_add(1);
      if (open_.load() && generation_.load() == g && index < max_workers_) work();
      active_.fetch_sub(1);
    }
  }

  std::mutex run_mu_, sleep_mu_, error_mu_;
  std::condition_variable wake_;
  std::vector<std::thread> threads_;
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> open_{false};
  std::atomic<int> active_{0};
  std::atomic<int64_t> next_{0}, done_{0};
  // The open job: written before open_ and the generation are raised, read only by workers that joined it.
  const std::function<void(int64_t)>* fn_ = nullptr;
  int64_t chunks_ = 0;
  int max_workers_ = 0;
  std::exception_ptr error_;
};

}  // namespace

void parallel_chunks(int64_t chunks, const std::function<void(int64_t)>& f) {
  const int threads = num_threads();
  if (chunks <= 1 || threads <= 1 || t_in_chunk) return ChunkPool::serial(chunks, f);
  ChunkPool::instance().run(chunks, threads - 1, f);
}

}  // namespace comet
