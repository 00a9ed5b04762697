// One dense MLP training step: batch 512, nn::Mlp({256, 256, 256}) (Linear-ReLU-Linear), MSE against a fixed
// random target, backward, Adam step, at comet::num_threads() threads (COMET_NUM_THREADS, default all cores).
// Counters: ms/step (real time) and GFLOP/s over 3 x the forward GEMM flops (forward + two backward GEMMs).
// Run: build/bench/bench_mlp
#include "bench_context.h"
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

}  // namespace
}  // namespace comet::bench

COMET_BENCHMARK_MAIN();
