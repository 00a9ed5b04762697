// Fitting the pool's team to the load (core/cpu_load.h): the decision on hand-worked cases, the kernel counters it
// reads, the pool shrinking its team while more threads are busy than there are cores, and results with the same
// bits whatever the team (a GEMM and a deterministic sum, from kernels/, as the workload).
#include <doctest/doctest.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <chrono>
#include <thread>
#include <vector>

#include "core/cpu_load.h"
#include "core/threading.h"
#include "kernels/cpu/parallel.h"
#include "kernels/gemm.h"
#include "test_util.h"

namespace comet {
namespace {

int allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  return sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set) : 1;
}

// Threads that spin until destroyed: one more than the cores this process may use, so that threads wait for a core.
class Crowd {
 public:
  Crowd() {
    for (int i = 0; i <= std::min(allowed_cpus(), kMaxThreads - 1); ++i)
      threads_.emplace_back([this, i] {
        tids_[i].store(current_tid());
        while (!stop_.load()) {
        }
      });
  }
  ~Crowd() {
    stop_.store(true);
    for (auto& t : threads_) t.join();
  }
  std::vector<int> tids() const {
    std::vector<int> t;
    for (size_t i = 0; i < threads_.size(); ++i)
      while (t.size() <= i) {
        if (const int tid = tids_[i].load()) t.push_back(tid);
      }
    return t;
  }

 private:
  std::atomic<bool> stop_{false};
  static constexpr int kMaxThreads = 512;
  std::atomic<int> tids_[kMaxThreads] = {};
  std::vector<std::thread> threads_;
};

// A GEMM of 192 x 192 matrices and a deterministic sum over its product, both split across the pool.
std::vector<float> workload() {
  constexpr int64_t n = 192;
  std::vector<float> a(n * n), b(n * n), c(n * n + 1);
  for (int64_t i = 0; i < n * n; ++i) {
    a[i] = static_cast<float>((i * 7919) % 1009) / 1009.0f - 0.5f;
    b[i] = static_cast<float>((i * 104729) % 997) / 997.0f - 0.5f;
  }
  GemmArgs<float> g;
  g.m = g.n = g.k = n;
  g.a = a.data(), g.lda = n, g.b = b.data(), g.ldb = n, g.c = c.data(), g.ldc = n;
  cpu::gemm(g);
  c[n * n] = static_cast<float>(cpu::deterministic_sum(n * n, [&](int64_t i) { return double(c[i]) * c[i]; }));
  return c;
}

}  // namespace

TEST_CASE("next_team: shrinks by one when its threads waited for a core, grows by one onto idle cores") {
  CHECK(next_team(2, 2, kCrowdedShare + 0.01, 0.0) == 1);
  CHECK(next_team(2, 2, 0.33, 0.0) == 1);
  CHECK(next_team(1, 2, 0.9, 0.0) == 1);               // never below one thread
  CHECK(next_team(2, 2, kCrowdedShare, 0.0) == 2);     // at the threshold: stays
  CHECK(next_team(1, 2, 0.0, kFreeCores) == 2);
  CHECK(next_team(1, 2, 0.0, kFreeCores - 0.01) == 1);
  CHECK(next_team(2, 2, 0.0, 1.5) == 2);               // never above the configured count
  CHECK(next_team(3, 4, 0.5, 1.0) == 2);               // waiting outweighs idle time (another process's bursts)
  CHECK(next_team(8, 16, 0.0, 3.0) == 9);              // one step at a time
}

TEST_CASE("run_delay_seconds and idle_cpu_seconds read the kernel's counters") {
  if (run_delay_seconds({current_tid()}) < 0 || idle_cpu_seconds() < 0)
    COMET_SKIP_TEST("this kernel provides no /proc/<tid>/schedstat or /proc/stat");
  CHECK(run_delay_seconds({0}) < 0);  // no such thread: unreadable, not zero
  const double idle0 = idle_cpu_seconds();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  CHECK(idle_cpu_seconds() >= idle0);
  // More spinning threads than cores: together they wait on the run queues (each of the n + 1 threads gets at
  // most n / (n + 1) of a core).
  Crowd crowd;
  const std::vector<int> tids = crowd.tids();
  const double wait0 = run_delay_seconds(tids);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const double waited = run_delay_seconds(tids) - wait0;
  CAPTURE(waited);
  CHECK(waited > 0.03);
}

TEST_CASE("parallel_chunks in adaptive mode: the team shrinks while more threads are busy than there are cores") {
  if (run_delay_seconds({current_tid()}) < 0 || idle_cpu_seconds() < 0)
    COMET_SKIP_TEST("this kernel provides no /proc/<tid>/schedstat or /proc/stat");
  ThreadScope scope(2);
  set_adaptive_threads(true);
  CHECK(adaptive_threads());
  std::atomic<int64_t> sink{0};
  const auto job = [&] { parallel_chunks(64, [&](int64_t c) { sink.fetch_add(c); }); };
  job();
  CHECK(parallel_team() >= 1);
  CHECK(parallel_team() <= 2);
  int smallest = 2;
  {
    Crowd crowd;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (smallest > 1 && std::chrono::steady_clock::now() < until) {
      job();
      smallest = std::min(smallest, parallel_team());
    }
  }
  CHECK(smallest == 1);
  // A fixed count turns the fitting off: the team is the count again.
  set_num_threads(2);
  CHECK_FALSE(adaptive_threads());
  job();
  CHECK(parallel_team() == 2);
}

TEST_CASE("the fitted team gives the same bits as the fixed one") {
  if (run_delay_seconds({current_tid()}) < 0 || idle_cpu_seconds() < 0)
    COMET_SKIP_TEST("this kernel provides no /proc/<tid>/schedstat or /proc/stat");
  ThreadScope scope(2);
  const std::vector<float> fixed = workload();
  CHECK(parallel_team() == 2);
  set_adaptive_threads(true);
  std::vector<float> fitted;
  {
    Crowd crowd;  // until the team has shrunk to one thread
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    do fitted = workload();
    while (parallel_team() > 1 && std::chrono::steady_clock::now() < until);
  }
  CHECK(parallel_team() == 1);
  REQUIRE(fitted.size() == fixed.size());
  CHECK(std::memcmp(fitted.data(), fixed.data(), fixed.size() * sizeof(float)) == 0);
}

}  // namespace comet
