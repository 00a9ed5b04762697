// Benchmark context (see bench_context.h). The commit comes from COMET_GIT_COMMIT, set by bench/CMakeLists.txt.
#include "bench_context.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdint>
#include <ctime>
#include <fstream>
#include <string>

#include "core/threading.h"

#ifdef COMET_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

#ifndef COMET_GIT_COMMIT
#define COMET_GIT_COMMIT "unknown"
#endif

namespace comet::bench {
namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

double thread_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

// Core clock in GHz: a chain of dependent adds, one per cycle on any x86 core since 2000, timed in this
// thread's CPU time so that other processes on a busy machine do not skew it.
double clock_ghz() {
#if defined(__x86_64__)
  constexpr int64_t kIters = 4'000'000, kAddsPerIter = 16;
  uint64_t x = 0;
  const double start = thread_seconds();
  for (int64_t i = 0; i < kIters; ++i) {
    asm volatile(
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
        "add $1, %0\n\tadd $1, %0"
        : "+r"(x));
  }
  return kIters * kAddsPerIter / (thread_seconds() - start) / 1e9;
#else
  return 0.0;
#endif
}


// The value of --name=value in argv (the last one wins, as in Google Benchmark), or `fallback`.
std::string flag_value(int argc, char** argv, const std::string& name, const std::string& fallback) {
  const std::string prefix = "--" + name + "=";
  std::string value = fallback;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind(prefix, 0) == 0) value = arg.substr(prefix.size());
  }
  return value;
}

bool flag_true(const std::string& v) { return v == "true" || v == "yes" || v == "1"; }

}  // namespace

void add_context() {
  benchmark::AddCustomContext("comet_threads", std::to_string(num_threads()));
  benchmark::AddCustomContext("comet_commit", COMET_GIT_COMMIT);
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("cpu_clock_ghz", fmt::format("{:.2f} (timed add chain)", clock_ghz()));
#ifdef COMET_WITH_CUDA
  benchmark::AddCustomContext("cuda_device", cuda_status());
#endif
}

benchmark::ConsoleReporter::OutputOptions console_options(int argc, char** argv) {
  const std::string color = flag_value(argc, argv, "benchmark_color", "auto");
  const bool use_color = color == "auto" ? isatty(STDOUT_FILENO) != 0 : flag_true(color);
  const bool tabular = flag_true(flag_value(argc, argv, "benchmark_counters_tabular", "false"));
  return static_cast<benchmark::ConsoleReporter::OutputOptions>(
      (use_color ? benchmark::ConsoleReporter::OO_Color : 0) | (tabular ? benchmark::ConsoleReporter::OO_Tabular : 0));
}

int run_main(int argc, char** argv, benchmark::BenchmarkReporter* display) {
  const bool console = flag_value(argc, argv, "benchmark_format", "console") == "console";
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  add_context();
  if (display != nullptr && console) benchmark::RunSpecifiedBenchmarks(display);
  else benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace comet::bench
