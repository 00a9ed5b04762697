// How many threads this process should run its parallel work on when other programs use the machine too. With one
// busy process on 2 cores, two threads of ours shared the cores three ways: whichever the kernel descheduled held
// its chunk for a whole time slice, so single MoE steps took 4-6x their quiet median, while one thread ran the
// step as fast and never above 2.7x (bench/README.md, "Under load"). The pool (core/threading.cpp) therefore
// watches two things the kernel counts:
// - the time our threads spent runnable but waiting for a CPU (the second field of /proc/<tid>/schedstat): a large
//   share means more threads are runnable than there are cores, so the team shrinks by one;
// - the idle time of the CPUs this process may run on (/proc/stat): a free core means the team can grow by one.
// The decision (next_team) is a pure function; the readers return a negative value where the kernel does not
// provide the counters, and the team then stays as configured. Results do not depend on the team size (every
// kernel gives the same bits at any thread count), only the speed does.
// Test: tests/core/test_cpu_load.cpp.
#pragma once
#include <vector>

namespace comet {

// The kernel's id of the calling thread.
int current_tid();

// Seconds that the threads `tids` of this process have spent waiting on a run queue since they started, summed;
// negative when a counter cannot be read.
double run_delay_seconds(const std::vector<int>& tids);

// Seconds that the CPUs this process may run on (its affinity mask) have been idle since boot, summed over them;
// negative when /proc/stat cannot be read.
double idle_cpu_seconds();

// Thresholds of next_team: the team shrinks when its threads waited for a CPU for more than kCrowdedShare of the
// time, and grows when the machine had at least kFreeCores idle cores on average.
constexpr double kCrowdedShare = 0.15, kFreeCores = 0.6;

// The team for the next interval, given the current one (1 <= team <= max_team), the share of the interval that
// its threads spent waiting for a CPU (wait seconds / (team x interval seconds)) and the average number of idle
// cores over the interval.
int next_team(int team, int max_team, double wait_share, double idle_cores);

}  // namespace comet
