// Square SGEMM, C = A * B with n = 256 .. 2048 (row-major): the engine's cpu::gemm on every ISA path this CPU
// supports (kernels/cpu/isa.h, each forced with an IsaScope), Eigen's own product (Eigen::MatrixXf row-major
// maps, Eigen threaded with Eigen::setNbThreads for that benchmark only; its instructions are this file's:
// -march=native under COMET_NATIVE, else the compiler's baseline) and each path's register-only FMA peak
// (bench/fma_peak.h), all at comet::num_threads() threads (COMET_NUM_THREADS, default all cores). Counter
// FLOP/s = gemm_flops per iteration / time. In console format a table closes the run: GFLOP/s per n and path,
// each path's share of its own measured peak, and ours / Eigen (medians when repeated).
// Run: bench_gemm --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <omp.h>

#include <fmt/format.h>

#include <Eigen/Core>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench_context.h"
#include "core/threading.h"
#include "fma_peak.h"
#include "kernels/cpu/isa.h"
#include "kernels/gemm.h"

namespace comet::bench {

FmaLoop fma_loop(cpu::Isa isa) {
#if defined(COMET_X86_KERNELS)
  if (isa == cpu::Isa::avx2) return fma_loop_avx2();
  if (isa == cpu::Isa::avx512) return fma_loop_avx512();
#endif
  return fma_loop_scalar();
}

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Square {
  int64_t n;
  std::vector<float> a, b, c;
  explicit Square(int64_t size) : n(size), a(size * size), b(size * size), c(size * size) {
    for (int64_t i = 0; i < n * n; ++i) {  // deterministic, O(1) values
      a[i] = static_cast<float>((i * 7 % 13) - 6) / 8.0f;
      b[i] = static_cast<float>((i * 5 % 11) - 5) / 8.0f;
    }
  }
};

void set_flops(benchmark::State& state, double flops) {
  state.counters["FLOP/s"] = benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_sgemm_comet(benchmark::State& state, cpu::Isa isa) {
  const cpu::IsaScope scope(isa);
  Square s(state.range(0));
  GemmArgs<float> g;
  g.m = g.n = g.k = s.n;
  g.a = s.a.data(), g.b = s.b.data(), g.c = s.c.data();
  g.lda = g.ldb = g.ldc = s.n;
  cpu::gemm(g);  // warm-up: packing buffers allocated and touched
  for (auto _ : state) {
    cpu::gemm(g);
    benchmark::ClobberMemory();
  }
  set_flops(state, gemm_flops(s.n, s.n, s.n));
}

void BM_sgemm_eigen(benchmark::State& state) {
  Square s(state.range(0));
  Eigen::Map<const RowMat> a(s.a.data(), s.n, s.n), b(s.b.data(), s.n, s.n);
  Eigen::Map<RowMat> c(s.c.data(), s.n, s.n);
  Eigen::setNbThreads(num_threads());
  c.noalias() = a * b;
  for (auto _ : state) {
    c.noalias() = a * b;
    benchmark::ClobberMemory();
  }
  Eigen::setNbThreads(1);  // the engine's invariant (core/threading.h)
  set_flops(state, gemm_flops(s.n, s.n, s.n));
}

// The path's FMA loop on every thread at once, 2^22 steps each (10-30 ms, so that one scheduler tick lost to
// another process, 4 ms here, costs a few percent rather than half: with 2^20 steps the AVX2 peak read half the
// AVX-512 one on a loaded Zen 4, where the two are equal).
void BM_fma_peak(benchmark::State& state, cpu::Isa isa) {
  constexpr int64_t kIterations = int64_t(1) << 22;
  const FmaLoop loop = fma_loop(isa);
  const int threads = num_threads();
  std::vector<float> sinks(static_cast<size_t>(threads) * 16);  // one cache line per thread
  for (auto _ : state) {
#pragma omp parallel num_threads(threads)
    loop.run(kIterations, &sinks[static_cast<size_t>(omp_get_thread_num()) * 16]);
  }
  set_flops(state, loop.flops_per_iteration * kIterations * threads);
}

void register_benchmarks() {
  for (cpu::Isa isa : cpu::supported_isas()) {
    const std::string name = cpu::isa_name(isa);
    benchmark::RegisterBenchmark(("BM_fma_peak_" + name).c_str(), BM_fma_peak, isa)->UseRealTime();
    benchmark::RegisterBenchmark(("BM_sgemm_comet_" + name).c_str(), BM_sgemm_comet, isa)
        ->RangeMultiplier(2)
        ->Range(256, 2048)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::RegisterBenchmark("BM_sgemm_eigen", BM_sgemm_eigen)
      ->RangeMultiplier(2)
      ->Range(256, 2048)
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

// Console output plus, at the end, GFLOP/s per n of every path and of Eigen, each path's share of its measured FMA
// peak and ours / Eigen (the median of the repetitions when there are aggregates, else the single run).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      const auto it = r.counters.find("FLOP/s");
      if (it == r.counters.end()) continue;
      const std::string& fn = r.run_name.function_name;
      if (r.run_name.args.empty()) peak_[fn] = it->second.value / 1e9;
      else gflops_[std::stoll(r.run_name.args)][fn] = it->second.value / 1e9;
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    std::printf("\nSGEMM GFLOP/s at %d threads; FMA peak measured by this run:", num_threads());
    for (cpu::Isa isa : cpu::supported_isas()) std::printf(" %s %.0f", cpu::isa_name(isa), peak(isa));
    std::printf("\n%6s", "n");
    for (cpu::Isa isa : cpu::supported_isas()) std::printf(" %9s", cpu::isa_name(isa));
    std::printf(" %9s", "eigen");
    for (cpu::Isa isa : cpu::supported_isas()) std::printf(" %11s", fmt::format("{}/peak", isa_name(isa)).c_str());
    for (cpu::Isa isa : cpu::supported_isas()) std::printf(" %12s", fmt::format("{}/eigen", isa_name(isa)).c_str());
    std::printf("\n");
    for (const auto& [n, by_fn] : gflops_) {
      const auto eigen = by_fn.find("BM_sgemm_eigen");
      const double eigen_gflops = eigen == by_fn.end() ? 0.0 : eigen->second;
      std::printf("%6lld", static_cast<long long>(n));
      for (cpu::Isa isa : cpu::supported_isas()) std::printf(" %9.1f", ours(by_fn, isa));
      std::printf(" %9.1f", eigen_gflops);
      for (cpu::Isa isa : cpu::supported_isas()) std::printf(" %11.3f", ours(by_fn, isa) / peak(isa));
      for (cpu::Isa isa : cpu::supported_isas()) std::printf(" %12.3f", ours(by_fn, isa) / eigen_gflops);
      std::printf("\n");
    }
  }

 private:
  // GFLOP/s of the run, 0 when it did not run (e.g. left out by --benchmark_filter).
  static double find(const std::map<std::string, double>& by_fn, const std::string& fn) {
    const auto it = by_fn.find(fn);
    return it == by_fn.end() ? 0.0 : it->second;
  }
  double ours(const std::map<std::string, double>& by_fn, cpu::Isa isa) const {
    return find(by_fn, std::string("BM_sgemm_comet_") + cpu::isa_name(isa));
  }
  double peak(cpu::Isa isa) const { return find(peak_, std::string("BM_fma_peak_") + cpu::isa_name(isa)); }

  std::map<int64_t, std::map<std::string, double>> gflops_;  // n -> benchmark -> GFLOP/s
  std::map<std::string, double> peak_;                       // FMA peak benchmark -> GFLOP/s
};

}  // namespace
}  // namespace comet::bench

int main(int argc, char** argv) {
  comet::bench::register_benchmarks();
  comet::bench::RatioReporter reporter(comet::bench::console_options(argc, argv));
  return comet::bench::run_main(argc, argv, &reporter);
}
