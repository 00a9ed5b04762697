// The CNN experts' two convolutions (moe/cnn_experts.h: 1 x 36 x 36 -> 10 x 32 x 32, then 10 x 16 x 16 -> 20 x 12 x 12,
// 5 x 5 kernels) on one expert's rows (340: a batch of 512 at k = 2 over 6 experts, two gates), forward and backward
// (the weight and bias gradients; the input gradient for the second layer only, as in training), at
// comet::num_threads() threads:
//   BM_Conv2d/<layer>/<direction>: cpu::conv2d and cpu::conv2d_backward as they run (the first layer on the direct
//     single-channel kernels of kernels/cpu/conv_direct.h);
//   BM_Conv2dIm2col/<layer>/<direction>: the same layer by im2col + GEMM (kernels/conv.h's per-sample steps over the
//     same sample ranges and chunks), the route every layer took before the direct kernels: the baseline in the run.
// Counter GFLOP/s: 2 x the multiply-adds of the direction (forward: y; backward: gw, plus gx for the second layer).
// Run: build/bench/bench_conv
#include <string>
#include <vector>

#include "bench_context.h"
#include "core/rng.h"
#include "kernels/conv.h"
#include "kernels/cpu/parallel.h"

namespace comet::bench {
namespace {

constexpr int64_t kRows = 340;

struct Layer {
  ConvGeom g;
  int64_t out_ch;
  bool input_grad;
};

Layer layer(int first) {
  Layer l;
  l.g.channels = first ? 1 : 10;
  l.g.height = l.g.width = first ? 36 : 16;
  l.g.kh = l.g.kw = 5;
  l.out_ch = first ? 10 : 20;
  l.input_grad = !first;
  return l;
}

// im2col + GEMM over the samples, as cpu::conv2d runs it for layers the direct kernels do not take.
void im2col_forward(const Layer& l, const float* x, const float* w, const float* b, float* y) {
  const ConvGeom& g = l.g;
  cpu::parallel_for(kRows, l.out_ch * g.patch() * g.positions(), [&](int64_t n0, int64_t n1) {
    std::vector<float> col(g.patch() * g.positions());
    for (int64_t n = n0; n < n1; ++n)
      conv2d_sample<float>(&cpu::gemm<float>, g, l.out_ch, x + n * g.in_size(), w, b,
                           y + n * l.out_ch * g.positions(), col.data());
  });
}

// The weight (and input) gradient by im2col + GEMM in 16 fixed chunks of samples, as cpu::conv2d_backward runs it,
// without the chunks' final sum and the bias gradient (the same in both routes).
void im2col_backward(const Layer& l, const float* x, const float* w, const float* gy, float* gx, float* partial) {
  const ConvGeom& g = l.g;
  const int64_t chunks = 16, wsize = l.out_ch * g.patch(), ysize = l.out_ch * g.positions();
  cpu::parallel_for(chunks, (kRows / chunks) * 2 * wsize * g.positions(), [&](int64_t c0, int64_t c1) {
    std::vector<float> col(g.patch() * g.positions());
    for (int64_t c = c0; c < c1; ++c)
      for (int64_t n = kRows * c / chunks; n < kRows * (c + 1) / chunks; ++n)
        conv2d_sample_backward<float>(&cpu::gemm<float>, g, l.out_ch, x + n * g.in_size(), w, gy + n * ysize,
                                      gx ? gx + n * g.in_size() : nullptr, partial + c * wsize,
                                      n == kRows * c / chunks ? 0.0f : 1.0f, col.data());
  });
}

// direction 0: forward, 1: backward; route 0: as cpu:: runs it, 1: im2col + GEMM.
void run(benchmark::State& state, int first, int direction, int route) {
  const Layer l = layer(first);
  const ConvGeom& g = l.g;
  Generator gen(3);
  const auto buffer = [&](int64_t n) {
    Tensor t = Tensor::empty({n});
    gen.uniform(t, -1.0, 1.0);
    return t;
  };
  const Tensor x = buffer(kRows * g.in_size()), w = buffer(l.out_ch * g.patch()), b = buffer(l.out_ch);
  const Tensor gy = buffer(kRows * l.out_ch * g.positions());
  std::vector<float> y(static_cast<size_t>(kRows * l.out_ch * g.positions())), gw(w.numel()), gb(l.out_ch),
      gx(l.input_grad ? x.numel() : 0), partial(16 * w.numel());
  float* gxp = l.input_grad ? gx.data() : nullptr;
  const auto pass = [&] {
    if (direction == 0 && route == 0)
      cpu::conv2d<float>(g, kRows, l.out_ch, x.data<float>(), w.data<float>(), b.data<float>(), y.data());
    else if (direction == 0)
      im2col_forward(l, x.data<float>(), w.data<float>(), b.data<float>(), y.data());
    else if (route == 0)
      cpu::conv2d_backward<float>(g, kRows, l.out_ch, x.data<float>(), w.data<float>(), gy.data<float>(), gxp,
                                  gw.data(), gb.data());
    else
      im2col_backward(l, x.data<float>(), w.data<float>(), gy.data<float>(), gxp, partial.data());
  };
  pass();
  for (auto _ : state) pass();
  const double fma = double(kRows) * l.out_ch * g.patch() * g.positions();
  const double flops = 2 * fma * (direction == 0 ? 1 : l.input_grad ? 2 : 1);
  state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  for (int first : {1, 0})
    for (int direction : {0, 1})
      for (int route : {0, 1}) {
        const std::string name = std::string(route == 0 ? "BM_Conv2d/" : "BM_Conv2dIm2col/") +
                                 (first ? "first" : "second") + (direction == 0 ? "/fwd" : "/bwd");
        benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& s) { run(s, first, direction, route); })
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
}

const bool registered = (register_all(), true);

}  // namespace
}  // namespace comet::bench

COMET_BENCHMARK_MAIN();
