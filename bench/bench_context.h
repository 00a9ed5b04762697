// Context shared by every benchmark program: add_context() records the engine's thread count, the git commit
// the binary was built from, the CPU model and its clock as Google Benchmark custom context
// (printed in the console header and stored in --benchmark_out JSON). COMET_BENCHMARK_MAIN() is
// BENCHMARK_MAIN() plus that context; use it instead of BENCHMARK_MAIN() in bench/bench_*.cpp.
#pragma once
#include <benchmark/benchmark.h>

#include <string>

namespace comet::bench {

// Adds comet_threads, comet_commit, cpu_model and cpu_clock_ghz to the benchmark context (and cuda_device, the
// cuda_status() of kernels/cuda/device.h, in a build with the CUDA backend). No peak is estimated from the clock: FMA
// units per core and the width they run at differ by model (Zen 4 runs a 512-bit FMA as two halves, so "2 FMA/cycle
// x 16 lanes" claimed twice its peak); bench_gemm measures the FMA peak of each ISA path instead.
void add_context();

// Console reporter options as Google Benchmark would set them from --benchmark_color and
// --benchmark_counters_tabular, for programs that bring their own ConsoleReporter subclass.
benchmark::ConsoleReporter::OutputOptions console_options(int argc, char** argv);

// Initialize, add_context, run (with `display` as the console reporter if given and the output format is
// console), shut down.
int run_main(int argc, char** argv, benchmark::BenchmarkReporter* display = nullptr);

}  // namespace comet::bench

#define COMET_BENCHMARK_MAIN() \
  int main(int argc, char** argv) { return ::comet::bench::run_main(argc, argv); }
