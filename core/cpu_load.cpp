#include "core/cpu_load.h"

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>

namespace comet {

int current_tid() { return static_cast<int>(syscall(SYS_gettid)); }

double run_delay_seconds(const std::vector<int>& tids) {
  double total = 0;
  for (int tid : tids) {
    std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/schedstat");
    unsigned long long run_ns = 0, wait_ns = 0;
    if (!(in >> run_ns >> wait_ns)) return -1;
    total += static_cast<double>(wait_ns) * 1e-9;
  }
  return total;
}

double idle_cpu_seconds() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) return -1;
  std::ifstream in("/proc/stat");
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  if (!in || tick <= 0) return -1;
  double idle = 0;
  bool any = false;
  for (std::string line; std::getline(in, line);) {
    // "cpuN user nice system idle iowait ...": the per-CPU lines (not the first "cpu " total) of allowed CPUs.
    if (line.compare(0, 3, "cpu") != 0 || line.size() < 4 || line[3] < '0' || line[3] > '9') continue;
    std::istringstream fields(line.substr(3));
    int cpu = -1;
    unsigned long long user, nice, system, idle_ticks, iowait;
    if (!(fields >> cpu >> user >> nice >> system >> idle_ticks >> iowait)) return -1;
    if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &allowed)) continue;
    idle += static_cast<double>(idle_ticks + iowait) / tick;
    any = true;
  }
  return any ? idle : -1;
}

int next_team(int team, int max_team, double wait_share, double idle_cores) {
  if (team > 1 && wait_share > kCrowdedShare) return team - 1;
  if (team < max_team && idle_cores >= kFreeCores) return team + 1;
  return std::clamp(team, 1, max_team);
}

}  // namespace comet
