// Square SGEMM, C = A * B with n = 256 .. 2048 (row-major), for the engine's cpu::gemm and for Eigen's own
// product (Eigen::MatrixXf row-major maps, Eigen threaded with Eigen::setNbThreads for that benchmark only),
// both at comet::num_threads() threads (COMET_NUM_THREADS, default all cores). Counter FLOP/s = gemm_flops
// per iteration / time. In console format a table of ours / Eigen (medians when repeated) closes the run.
// Run: bench_gemm --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <Eigen/Core>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "bench_context.h"
#include "core/threading.h"
#include "kernels/gemm.h"

namespace comet::bench {
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

void set_flops(benchmark::State& state, int64_t n) {
  state.counters["FLOP/s"] = benchmark::Counter(gemm_flops(n, n, n), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_sgemm_comet(benchmark::State& state) {
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
  set_flops(state, s.n);
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
  set_flops(state, s.n);
}

BENCHMARK(BM_sgemm_comet)->RangeMultiplier(2)->Range(256, 2048)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_sgemm_eigen)->RangeMultiplier(2)->Range(256, 2048)->Unit(benchmark::kMillisecond)->UseRealTime();

// Console output plus, at the end, GFLOP/s of both implementations per n and their ratio (the median of the
// repetitions when there are aggregates, else the single run).
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      const auto it = r.counters.find("FLOP/s");
      if (it != r.counters.end()) gflops_[std::stoll(r.run_name.args)][r.run_name.function_name] = it->second.value / 1e9;
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    const double peak = fp32_peak_gflops(num_threads());
    std::printf("\nSGEMM GFLOP/s at %d threads (estimated fp32 peak %.0f)\n%8s %10s %10s %12s\n", num_threads(),
                peak, "n", "comet", "eigen", "comet/eigen");
    for (const auto& [n, by_impl] : gflops_) {
      const auto ours = by_impl.find("BM_sgemm_comet"), eigen = by_impl.find("BM_sgemm_eigen");
      if (ours == by_impl.end() || eigen == by_impl.end()) continue;
      std::printf("%8lld %10.1f %10.1f %12.3f\n", static_cast<long long>(n), ours->second, eigen->second, ours->second / eigen->second);
    }
  }

 private:
  std::map<int64_t, std::map<std::string, double>> gflops_;  // n -> benchmark -> GFLOP/s
};

}  // namespace
}  // namespace comet::bench

int main(int argc, char** argv) {
  comet::bench::RatioReporter reporter(comet::bench::console_options(argc, argv));
  return comet::bench::run_main(argc, argv, &reporter);
}
