// One dense MLP training step: batch 512, nn::Mlp({256, 256, 256}) (Linear-ReLU-Linear), MSE against a fixed
// random target, backward, Adam step, at comet::num_threads() threads (COMET_NUM_THREADS, default all cores).
// Counters: ms/step (real time) and GFLOP/s over 3 x the forward GEMM flops (forward + two backward GEMMs).
// BM_DropoutMask: the dropout mask per ISA against the scalar reference draw.
// Run: build/bench/bench_mlp
#include "bench_context.h"
#include "kernels/backend.h"
#include "kernels/cpu/isa.h"
#include "kernels/gemm.h"
#include "nn/mlp.h"
#include "optim/optimizer.h"

namespace comet::bench {
namespace {

constexpr int64_t kBatch = 512, kWidth = 256;

void BM_MlpStep(benchmark::State& state) {
  Generator gen(1);
  nn::Mlp mlp({kWidth, kWidth, kWidth}, gen);
  Tensor x = Tensor::empty({kBatch, kWidth}), target = Tensor::empty({kBatch, kWidth});
  gen.normal(x, 0.0, 1.0);
  gen.normal(target, 0.0, 1.0);
  const ag::Var input = ag::constant(x), goal = ag::constant(target);
  optim::Adam adam(mlp.params(), optim::constant_lr(1e-3));
  const auto step = [&] {
    adam.zero_grad();
    ag::backward(ag::mse(mlp(input), goal));
    adam.step();
  };
  step();  // warm-up: Adam state and the allocator cache
  for (auto _ : state) step();
  const double forward = 2 * gemm_flops(kBatch, kWidth, kWidth);
  state.counters["GFLOP/s"] = benchmark::Counter(3 * forward / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_MlpStep)->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);

// The dropout mask of a [2048, 256] activation (p_drop 0.25) on an ISA's vector loops (cpu::bernoulli), and the
// scalar draw followed by the scale (Generator::bernoulli, the reference) in the same run: Melem/s.
void dropout_mask(benchmark::State& state, Generator& gen, Tensor& mask) {
  for (auto _ : state) {
    ag::Var y = ag::dropout(ag::constant(mask), 0.25, gen, true);
    benchmark::DoNotOptimize(y.value().data<float>());
  }
  state.counters["Melem/s"] = benchmark::Counter(static_cast<double>(mask.numel()) / 1e6,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void BM_DropoutMask(benchmark::State& state, cpu::Isa isa) {
  if (!cpu::cpu_supports(isa)) return state.SkipWithError("this CPU does not support the ISA");
  const cpu::IsaScope scope(isa);
  Generator gen(3);
  Tensor x = Tensor::full({2048, kWidth}, 1.0);
  dropout_mask(state, gen, x);
}

void BM_DropoutMaskReference(benchmark::State& state) {
  const KernelSetScope scope(KernelSet::Reference);
  Generator gen(3);
  Tensor x = Tensor::full({2048, kWidth}, 1.0);
  dropout_mask(state, gen, x);
}

BENCHMARK_CAPTURE(BM_DropoutMask, scalar, cpu::Isa::scalar)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_DropoutMask, avx2, cpu::Isa::avx2)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK_CAPTURE(BM_DropoutMask, avx512, cpu::Isa::avx512)->Unit(benchmark::kMicrosecond)->UseRealTime();
BENCHMARK(BM_DropoutMaskReference)->Unit(benchmark::kMicrosecond)->UseRealTime();

}  // namespace
}  // namespace comet::bench

COMET_BENCHMARK_MAIN();
