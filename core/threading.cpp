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

#include "core/cpu_load.h"
#include "core/error.h"

namespace comet {
namespace {

// COMET_NUM_THREADS: a count fixes the team; unset or "auto" gives every core, with the team fitted to the load.
const char* threads_env() { return std::getenv("COMET_NUM_THREADS"); }

bool initial_adaptive() {
  const char* env = threads_env();
  return env == nullptr || std::string(env) == "auto";
}

int initial_threads() {
  if (initial_adaptive()) return omp_get_num_procs();
  const char* env = threads_env();
  const int n = std::atoi(env);
  COMET_CHECK(n >= 1, "COMET_NUM_THREADS must be a positive integer or 'auto', got '{}'", env);
  return n;
}

std::atomic<bool>& adaptive() {
  static std::atomic<bool> on{initial_adaptive()};
  return on;
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
  adaptive().store(false);
  current() = n;
  omp_set_num_threads(n);
  Eigen::setNbThreads(1);
}

int num_threads() { return current(); }

void set_adaptive_threads(bool on) { adaptive().store(on); }

bool adaptive_threads() { return adaptive().load(); }

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
    if (adaptive_threads()) workers = fit_team(workers + 1) - 1;
    last_team_.store(workers + 1);
    if (workers == 0) return serial(chunks, f);
    start_workers(workers);
    fn_ = &f;
    chunks_ = chunks;
    max_workers_.store(workers);
    error_ = nullptr;
    next_.store(0);
    done_.store(0);
    open_.store(true);
    generation_.fetch_add(1);
    // A worker of the team that is going to sleep has set its bit in asleep_ before it tests the generation under
    // sleep_mu_: either it sees the new generation, or this sees its bit and wakes it under the same mutex. Workers
    // outside the team are not woken, so that they stay off the cores.
    if (asleep_.load() & team_bits(workers)) {
      std::lock_guard<std::mutex> lock(sleep_mu_);
      wake_.notify_all();
    }
    work();
    wait_until([&] { return done_.load(std::memory_order_acquire) == chunks_; });
    open_.store(false);
    wait_until([&] { return active_.load() == 0; });
    if (error_) std::rethrow_exception(error_);
  }

  static void serial(int64_t chunks, const std::function<void(int64_t)>& f) {
    for (int64_t c = 0; c < chunks; ++c) f(c);
  }

  int last_team() const { return last_team_.load(); }

  // The team size for the next job, caller included, at most `wanted` (core/cpu_load.h). The counters are read
  // at most every kSampleInterval; in between, and where they cannot be read, the last decision holds. Called only
  // by the holder of run_mu_.
  int fit_team(int wanted) {
    const auto now = std::chrono::steady_clock::now();
    const int tid = current_tid_cached();
    const bool reconfigured = wanted != team_max_;
    if (reconfigured) {  // start from the full team
      team_max_ = wanted;
      team_ = wanted;
    }
    if (reconfigured || tid != team_caller_) {  // another team's or thread's counters: a new baseline
      team_caller_ = tid;
      sample_at_ = now - kSampleInterval;
      sampled_ = false;
    }
    if (now - sample_at_ < kSampleInterval) return team_;
    const double idle = idle_cpu_seconds();
    double wait = run_delay_seconds(team_tids());
    if (sampled_ && wait >= 0 && idle >= 0) {
      const double seconds = std::chrono::duration<double>(now - sample_at_).count();
      const int team = next_team(team_, team_max_, (wait - wait_at_) / (team_ * seconds), (idle - idle_at_) / seconds);
      if (team != team_) {  // the next interval's baseline is the new team's threads
        team_ = team;
        wait = run_delay_seconds(team_tids());
      }
    }
    wait_at_ = wait;
    idle_at_ = idle;
    sampled_ = wait_at_ >= 0 && idle_at_ >= 0;
    sample_at_ = now;
    return team_;
  }

 private:
  void start_workers(int count) {
    while (static_cast<int>(threads_.size()) < count) {
      const int index = static_cast<int>(threads_.size());
      threads_.emplace_back([this, index] { worker(index); });
      threads_.back().detach();
    }
  }

  // The caller's and the team's workers' thread ids (0 for a worker not started yet: then unreadable).
  std::vector<int> team_tids() const {
    std::vector<int> tids{team_caller_};
    for (int i = 0; i < team_ - 1 && i < kTrackedWorkers; ++i) tids.push_back(worker_tids_[i].load());
    return tids;
  }

  static int current_tid_cached() {
    thread_local const int tid = current_tid();
    return tid;
  }

  static uint64_t team_bits(int workers) { return workers >= 64 ? ~uint64_t(0) : (uint64_t(1) << workers) - 1; }

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
    if (index < kTrackedWorkers) worker_tids_[index].store(current_tid());
    const uint64_t bit = uint64_t(1) << std::min(index, 63);
    uint64_t seen = generation_.load();
    const auto wanted = [&] { return generation_.load() != seen && index < max_workers_.load(); };
    for (;;) {
      // A new job usually follows within microseconds (the kernels of one training step): wait awake for a while
      // first. 5 ms, about libgomp's default spin: at 200 us the workers fell asleep between a step's kernels, and
      // waking them cost the MoE step about 20% (2 threads, AMD EPYC Zen 4). After the first 50 us the wait yields
      // the core at every turn, so that on a busy machine it does not take the time of the caller or another process.
      // A worker outside the team (core/cpu_load.h) sleeps at once.
      const auto start = std::chrono::steady_clock::now();
      for (int i = 0; !wanted(); ++i) {
        const bool in_team = index < max_workers_.load();
        if ((i & 63) != 0 && in_team) {
          cpu_relax();
          continue;
        }
        const auto waited = std::chrono::steady_clock::now() - start;
        if (in_team) {
          if (waited < std::chrono::microseconds(50)) continue;
          if (waited < std::chrono::milliseconds(5)) {
            std::this_thread::yield();
            continue;
          }
        }
        asleep_.fetch_or(bit);
        {
          std::unique_lock<std::mutex> lock(sleep_mu_);
          wake_.wait(lock, wanted);
        }
        asleep_.fetch_and(~bit);
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
  std::atomic<int> active_{0}, max_workers_{0}, last_team_{0};
  std::atomic<int64_t> next_{0}, done_{0};
  std::atomic<uint64_t> asleep_{0};  // bit i: worker i (i >= 63: bit 63) sleeps on wake_
  // The workers' kernel thread ids, for the team fitting (fit_team); 0 until a worker has started.
  static constexpr int kTrackedWorkers = 64;
  std::atomic<int> worker_tids_[kTrackedWorkers] = {};
  // fit_team's state, under run_mu_.
  static constexpr std::chrono::milliseconds kSampleInterval{50};
  int team_max_ = 0, team_ = 0, team_caller_ = 0;
  bool sampled_ = false;
  std::chrono::steady_clock::time_point sample_at_;
  double wait_at_ = 0, idle_at_ = 0;
  // The open job: written before open_ and the generation are raised, read only by workers that joined it.
  const std::function<void(int64_t)>* fn_ = nullptr;
  int64_t chunks_ = 0;
  std::exception_ptr error_;
};

}  // namespace

int parallel_team() { return ChunkPool::instance().last_team(); }

void parallel_chunks(int64_t chunks, const std::function<void(int64_t)>& f) {
  const int threads = num_threads();
  if (chunks <= 1 || threads <= 1 || t_in_chunk) return ChunkPool::serial(chunks, f);
  ChunkPool::instance().run(chunks, threads - 1, f);
}

}  // namespace comet
