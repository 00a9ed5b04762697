// The sparse MoE's expert compute in isolation: cpu::grouped_linear (forward) and grouped_linear_backward (gx and
// gW, gb) over 1024 rows (batch 512 x k = 2) split evenly over n experts, in = out = 256, next to the same
// multiply-adds as one 1024 x 256 x 256 GEMM per pass (BM_OneGemm: y = x W, gx = gy W^T, gW = x^T gy), so the
// ratio grouped / one GEMM is what splitting the rows over n experts costs (packing each expert's W, short
// inner loops for gW). Counter FLOP/s = 2 x rows x in x out per pass (forward: 1 pass, backward: 2).
// Names: BM_GroupedLinear/<fwd|bwd>/n:<n>, BM_OneGemm/<fwd|bwd>. Run: bench_grouped --benchmark_repetitions=5
#include <vector>

#include "bench_context.h"
#include "kernels/gemm.h"
#include "kernels/grouped_gemm.h"

namespace comet::bench {
namespace {

constexpr int64_t kRows = 1024, kWidth = 256;

std::vector<float> filled(int64_t size, int salt) {
  std::vector<float> v(size);
  for (int64_t i = 0; i < size; ++i) v[i] = static_cast<float>((i * (5 + 2 * salt) % 11) - 5) / 16.0f;
  return v;
}

void set_flops(benchmark::State& state, int passes) {
  state.counters["FLOP/s"] = benchmark::Counter(passes * gemm_flops(kRows, kWidth, kWidth),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

void BM_GroupedLinear(benchmark::State& state, bool backward) {
  const int64_t n = state.range(0);
  std::vector<int64_t> offsets(n + 1);
  for (int64_t e = 0; e <= n; ++e) offsets[e] = kRows * e / n;
  const std::vector<float> x = filled(kRows * kWidth, 0), w = filled(n * kWidth * kWidth, 1),
                           b = filled(n * kWidth, 2), gy = filled(kRows * kWidth, 3);
  std::vector<float> y(kRows * kWidth), gx(kRows * kWidth), gw(n * kWidth * kWidth), gb(n * kWidth);
  const auto pass = [&] {
    if (backward)
      cpu::grouped_linear_backward(n, offsets.data(), kWidth, kWidth, x.data(), w.data(), gy.data(), gx.data(),
                                   gw.data(), gb.data());
    else cpu::grouped_linear(n, offsets.data(), kWidth, kWidth, x.data(), w.data(), b.data(), y.data());
  };
  pass();
  for (auto _ : state) {
    pass();
    benchmark::ClobberMemory();
  }
  set_flops(state, backward ? 2 : 1);
}

void BM_OneGemm(benchmark::State& state, bool backward) {
  const std::vector<float> x = filled(kRows * kWidth, 0), w = filled(kWidth * kWidth, 1), gy = filled(kRows * kWidth, 3);
  std::vector<float> y(kRows * kWidth), gx(kRows * kWidth), gw(kWidth * kWidth);
  GemmArgs<float> fwd, bx, bw;
  fwd.m = kRows, fwd.n = kWidth, fwd.k = kWidth, fwd.a = x.data(), fwd.lda = kWidth, fwd.b = w.data();
  fwd.ldb = kWidth, fwd.c = y.data(), fwd.ldc = kWidth;
  bx = fwd, bx.trans_b = true, bx.a = gy.data(), bx.c = gx.data();
  bw.trans_a = true, bw.m = kWidth, bw.n = kWidth, bw.k = kRows, bw.a = x.data(), bw.lda = kWidth;
  bw.b = gy.data(), bw.ldb = kWidth, bw.c = gw.data(), bw.ldc = kWidth;
  const auto pass = [&] {
    if (!backward) return cpu::gemm(fwd);
    cpu::gemm(bx);
    cpu::gemm(bw);
  };
  pass();
  for (auto _ : state) {
    pass();
    benchmark::ClobberMemory();
  }
  set_flops(state, backward ? 2 : 1);
}

BENCHMARK_CAPTURE(BM_GroupedLinear, fwd, false)->ArgName("n")->Arg(8)->Arg(16)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_GroupedLinear, bwd, true)->ArgName("n")->Arg(8)->Arg(16)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_OneGemm, fwd, false)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_OneGemm, bwd, true)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace comet::bench

COMET_BENCHMARK_MAIN();
