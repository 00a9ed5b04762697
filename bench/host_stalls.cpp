// How long this machine keeps a runnable thread off its CPU when nothing of ours competes for it: one thread per CPU
// of the affinity mask, pinned there, spins for a while reading the monotonic clock and records every gap between
// two reads longer than 1 ms (the hypervisor running another guest on the vCPU, the host's interrupts, another
// tenant). A training step can be no steadier than this: bench/run_moe_under_load.sh prints it beside its quiet run,
// where the step targets speak of the slowest step. Not a Google Benchmark program: it measures the machine.
// Usage: host_stalls [seconds, default 10]. One line per CPU, then the longest gap over all of them.
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr double kGapMs = 1.0;

struct Stalls {
  int cpu = 0;
  long gaps = 0;           // gaps longer than kGapMs
  double longest_ms = 0;   // the longest gap of all
  double total_ms = 0;     // the time lost in gaps longer than kGapMs
};

void spin(Stalls& s, double seconds) {
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(s.cpu, &one);
  pthread_setaffinity_np(pthread_self(), sizeof(one), &one);  // unpinned (as allowed) if refused
  const Clock::time_point end = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                   std::chrono::duration<double>(seconds));
  Clock::time_point last = Clock::now();
  while (last < end) {
    const Clock::time_point now = Clock::now();
    const double gap = std::chrono::duration<double, std::milli>(now - last).count();
    s.longest_ms = std::max(s.longest_ms, gap);
    if (gap > kGapMs) {
      ++s.gaps;
      s.total_ms += gap;
    }
    last = now;
  }
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 10;
  if (argc > 2 || (argc == 2 && !(std::strtod(argv[1], nullptr) > 0))) {
    std::fprintf(stderr, "usage: host_stalls [seconds > 0, default 10]\n");
    return 2;
  }
  if (argc == 2) seconds = std::strtod(argv[1], nullptr);
  cpu_set_t mask;
  CPU_ZERO(&mask);
  if (sched_getaffinity(0, sizeof(mask), &mask) != 0) {
    std::perror("host_stalls: sched_getaffinity");
    return 1;
  }
  std::vector<Stalls> stalls;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu)
    if (CPU_ISSET(cpu, &mask)) stalls.push_back(Stalls{cpu});
  std::vector<std::thread> threads;
  for (Stalls& s : stalls) threads.emplace_back(spin, std::ref(s), seconds);
  for (std::thread& t : threads) t.join();
  double longest = 0;
  for (const Stalls& s : stalls) {
    std::printf("cpu %d: %ld gaps over %.0f ms in %.0f s, %.1f ms lost, the longest %.2f ms\n", s.cpu, s.gaps, kGapMs,
                seconds, s.total_ms, s.longest_ms);
    longest = std::max(longest, s.longest_ms);
  }
  std::printf("longest gap on any CPU: %.2f ms\n", longest);
  return 0;
}
