// The sparse MoE's expert compute in isolation: cpu::grouped_linear (forward) and grouped_linear_backward (gx and
// gW, gb) over 1024 rows (batch 512 x k = 2) split over n experts, in = out = 256, next to the same
// multiply-adds as one 1024 x 256 x 256 GEMM per pass (BM_OneGemm: y = x W, gx = gy W^T, gW = x^T gy), so the
// ratio grouped / one GEMM is what splitting the rows over n experts costs (packing each expert's W, short
// inner loops for gW). Counter FLOP/s = 2 x rows x in x out per pass (forward: 1 pass, backward: 2).
// Names: BM_GroupedLinear/<fwd|bwd>[/uneven]/n:<n>, BM_OneGemm/<fwd|bwd>; uneven: experts' row counts 0.75-1.25x the
// mean, as a gate routes them, instead of equal. Run: bench_grouped --benchmark_repetitions=5
// Device rows (a build with the CUDA backend and a device present): cuda::grouped_linear(_backward) against the
// cuBLAS GEMMs of the same shapes (cuda::gemm), BM_GroupedLinear/cuda/<fwd|bwd>/rows:<r>/width:<w>/n:<n> and
// BM_OneGemm/cuda/<fwd|bwd>/rows:<r>/width:<w>, at the step's size (1024 x 256) and at a GPU-sized one
// (16384 x 1024); the host waits for the device after every pass. The ratio of their FLOP/s is the grouped GEMM's
// share of cuBLAS's dense throughput at equal FLOPs.
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "bench_context.h"
#include "one_gemm.h"
#include "kernels/gemm.h"
#include "kernels/grouped_gemm.h"

#ifdef COMET_WITH_CUDA
#include "kernels/cuda/device.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/grouped_gemm.h"
#endif

namespace comet::bench {
namespace {

constexpr int64_t kRows = 1024, kWidth = 256;

std::vector<float> filled(int64_t size, int salt) {
  std::vector<float> v(size);
  for (int64_t i = 0; i < size; ++i) v[i] = static_cast<float>((i * (5 + 2 * salt) % 11) - 5) / 16.0f;
  return v;
}

void set_flops(benchmark::State& state, int passes, int64_t rows = kRows, int64_t width = kWidth) {
  state.counters["FLOP/s"] = benchmark::Counter(passes * gemm_flops(rows, width, width),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

// Expert offsets over kRows rows: equal segments, or uneven ones as a gate routes them (expert e's share in
// proportion to 1 + sin(2.4 e) / 4, so segments of 0.75-1.25x the mean: 48-80 rows at n = 16), which cross the
// GEMM's row thresholds (kernels/cpu/gemm.cpp: B read in place, the transposed route) that equal segments sit on.
std::vector<int64_t> expert_offsets(int64_t n, bool uneven) {
  std::vector<double> share(n);
  for (int64_t e = 0; e < n; ++e) share[e] = uneven ? 1 + std::sin(2.4 * double(e)) / 4 : 1;
  double total = 0;
  for (double v : share) total += v;
  std::vector<int64_t> offsets(n + 1, 0);
  double sum = 0;
  for (int64_t e = 0; e < n; ++e) offsets[e + 1] = std::llround(kRows * ((sum += share[e]) / total));
  offsets[n] = kRows;
  return offsets;
}

void BM_GroupedLinear(benchmark::State& state, bool backward, bool uneven) {
  const int64_t n = state.range(0);
  const std::vector<int64_t> offsets = expert_offsets(n, uneven);
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
  const OneGemmArgs g(kRows, kWidth, x.data(), w.data(), gy.data(), y.data(), gx.data(), gw.data());
  const auto pass = [&] {
    if (!backward) return cpu::gemm(g.fwd);
    cpu::gemm(g.bx);
    cpu::gemm(g.bw);
  };
  pass();
  for (auto _ : state) {
    pass();
    benchmark::ClobberMemory();
  }
  set_flops(state, backward ? 2 : 1);
}

#ifdef COMET_WITH_CUDA
Tensor on_device(const std::vector<float>& values) {
  return to_device(Tensor::from_vector<float>({static_cast<int64_t>(values.size())}, values), Device::CUDA);
}

// Runs `pass` (device work) once untimed, then per iteration with a wait for the device.
template <class Pass>
void time_on_device(benchmark::State& state, const Pass& pass) {
  pass();
  cuda::synchronize("bench_grouped");
  for (auto _ : state) {
    pass();
    cuda::synchronize("bench_grouped");
  }
}

void BM_GroupedLinearCuda(benchmark::State& state, bool backward) {
  const int64_t rows = state.range(0), width = state.range(1), n = state.range(2);
  std::vector<int64_t> host_offsets(n + 1);
  for (int64_t e = 0; e <= n; ++e) host_offsets[e] = rows * e / n;
  const Tensor offsets = to_device(Tensor::from_vector<int64_t>({n + 1}, host_offsets), Device::CUDA);
  const Tensor x = on_device(filled(rows * width, 0)), w = on_device(filled(n * width * width, 1)),
               b = on_device(filled(n * width, 2)), gy = on_device(filled(rows * width, 3));
  Tensor y = cuda_empty({rows, width}), gx = cuda_empty({rows, width}), gw = cuda_empty({n, width, width}),
         gb = cuda_empty({n, width});
  const int64_t* o = offsets.ptr<int64_t>();
  time_on_device(state, [&] {
    if (backward)
      cuda::grouped_linear_backward(n, o, rows, width, width, x.ptr<float>(), w.ptr<float>(), gy.ptr<float>(),
                                    gx.ptr<float>(), gw.ptr<float>(), gb.ptr<float>());
    else cuda::grouped_linear(n, o, rows, width, width, x.ptr<float>(), w.ptr<float>(), b.ptr<float>(), y.ptr<float>());
  });
  set_flops(state, backward ? 2 : 1, rows, width);
}

void BM_OneGemmCuda(benchmark::State& state, bool backward) {
  const int64_t rows = state.range(0), width = state.range(1);
  const Tensor x = on_device(filled(rows * width, 0)), w = on_device(filled(width * width, 1)),
               gy = on_device(filled(rows * width, 3));
  Tensor y = cuda_empty({rows, width}), gx = cuda_empty({rows, width}), gw = cuda_empty({width, width});
  const OneGemmArgs g(rows, width, x.ptr<float>(), w.ptr<float>(), gy.ptr<float>(), y.ptr<float>(), gx.ptr<float>(),
                      gw.ptr<float>());
  time_on_device(state, [&] {
    if (!backward) return cuda::gemm(g.fwd);
    cuda::gemm(g.bx);
    cuda::gemm(g.bw);
  });
  set_flops(state, backward ? 2 : 1, rows, width);
}

const bool device_rows_registered = [] {
  if (!cuda_available()) return false;
  for (bool backward : {false, true}) {
    const std::string pass = backward ? "bwd" : "fwd";
    auto* one = benchmark::RegisterBenchmark(("BM_OneGemm/cuda/" + pass).c_str(), BM_OneGemmCuda, backward);
    auto* grouped =
        benchmark::RegisterBenchmark(("BM_GroupedLinear/cuda/" + pass).c_str(), BM_GroupedLinearCuda, backward);
    one->ArgNames({"rows", "width"});
    grouped->ArgNames({"rows", "width", "n"});
    for (const auto& [rows, width] : {std::pair<int64_t, int64_t>{1024, 256}, {16384, 1024}}) {
      one->Args({rows, width});
      for (int64_t n : {16, 64}) grouped->Args({rows, width, n});
    }
    for (auto* b : {one, grouped}) b->Unit(benchmark::kMicrosecond)->UseRealTime();
  }
  return true;
}();
#endif

const bool grouped_rows_registered = [] {
  for (const bool uneven : {false, true})
    for (const bool backward : {false, true}) {
      const std::string name =
          std::string("BM_GroupedLinear/") + (backward ? "bwd" : "fwd") + (uneven ? "/uneven" : "");
      benchmark::RegisterBenchmark(name.c_str(), BM_GroupedLinear, backward, uneven)
          ->ArgName("n")->Arg(8)->Arg(16)->Arg(64)->Unit(benchmark::kMicrosecond)->UseRealTime();
    }
  return true;
}();
BENCHMARK_CAPTURE(BM_OneGemm, fwd, false)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_OneGemm, bwd, true)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace comet::bench

COMET_BENCHMARK_MAIN();
