// One MoE training step per gate, execution path and routing regime: gate forward, moe_forward over
// MlpExperts(n, 256, 256, 256), MSE against a fixed random target (+ the gate's regulariser), backward, Adam over
// gate and expert parameters; batch 512, at comet::num_threads() threads (COMET_NUM_THREADS, default all cores).
// Names: BM_MoeStep/<gate>/<sparse|dense>[/<init|converged>]/n:<n>[/k:<k>][/fused|/interleaved_floor] (softmax has no k: it is dense;
// hash: k = 1; the regime only for the tree gates dselect and comet; fused: the experts' Adam update runs inside
// backward, Optimizer::update_in_backward, for Top-k and converged COMET at k = 2). "init" is the spec initialisation (smooth
// steps nearly linear, so nearly every expert is used); "converged" scales the node/selector weights and biases by
// kConvergedScale after construction so that the smooth steps saturate and a sample uses about k experts.
// Counters (measured on one untimed step after a warm-up step): experts_per_sample (moe::routing_stats of g),
// GFLOP/s (3 x 2 x pairs x (in hidden + hidden out) per step, pairs = (sample, expert) pairs with g != 0 on the
// sparse path and B n on the dense path), peak_MiB (allocator high-water mark during the step above the bytes in
// use before it; includes the parameter gradients, which are freed by zero_grad each step), grad_MiB (the
// parameter gradient bytes, for reference), median_step_ms and max_step_ms (over the timed steps).
// /interleaved_floor (Top-k and converged COMET, sparse, n = 16 and 64, k = 2): the step's floor timed after every
// step (InterleavedFloor; its Adam is the step's own, over the gate's and the experts' parameters), with the
// counters floor_ms, cold_floor_ms, over_floor (median of step / floor over the steps), over_floor_p10,
// over_floor_p90 and over_cold_floor; the row's own time is step and floor together.
// Select with --benchmark_filter, e.g. 'BM_MoeStep/comet/sparse/converged'.
// Device rows (a build with the CUDA backend and a device present): the same step with the model and the data on
// the GPU, named with a /cuda suffix (Top-k, converged COMET and DSelect-k sparse at k = 2, Top-k and Softmax dense;
// n = 16 and 64). The host waits for the device after every step, so a step's time includes its queued kernels;
// peak_MiB is the device allocator's. The context's cuda_device says what ran them: under COMET_CUDA_EMULATE=1 the
// host emulation, whose times mean nothing (it is there to check that the rows run).
// BM_GateStep/<topk|comet>[/converged]/n:<16|64>/k:2: the gate alone in the same step (forward, MSE of g against a
// fixed random [B, n] target, backward, Adam over the gate's parameters), to see what a gate adds to BM_MoeStep.
// BM_AdamStep/n:<n>/cold:<0|1> times the Adam update alone over the experts' parameters (its memory-bound floor),
// with its data left in the caches by the previous step (cold:0) or evicted first (cold:1, as in a training step);
// BM_AdamTraffic/n:<n> the same memory traffic without Adam's arithmetic.
// Run: build/bench/bench_moe (bench/run_moe_comparison.sh compares with PyTorch).
#include <algorithm>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include "autograd/device.h"
#include "bench_context.h"
#include "one_gemm.h"
#include "kernels/cpu/parallel.h"
#include "moe/gates.h"
#include "moe/moe_layer.h"
#include "optim/optimizer.h"

#ifdef COMET_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

namespace comet::bench {
namespace {

constexpr int64_t kBatch = 512, kWidth = 256, kHashKeys = 4096;
constexpr double kConvergedScale = 1000.0;
constexpr double kMiB = 1024.0 * 1024.0;

enum class Regime { None, Init, Converged };

struct Case {
  moe::GateKind gate;
  moe::MoePath path;
  Regime regime;
  int64_t n, k;
  bool fused = false;
  Device device = Device::CPU;
  bool gate_only = false;  // the gate's forward, backward and update alone (BM_GateStep)
  bool floor = false;      // the step's floor timed after every step (interleaved_floor)

  std::string name() const {
    std::string s = gate_only ? fmt::format("BM_GateStep/{}", moe::gate_name(gate))
                              : fmt::format("BM_MoeStep/{}/{}", moe::gate_name(gate),
                                            path == moe::MoePath::Sparse ? "sparse" : "dense");
    if (regime != Regime::None) s += regime == Regime::Init ? "/init" : "/converged";
    s += fmt::format("/n:{}", n);
    if (gate != moe::GateKind::Softmax) s += fmt::format("/k:{}", k);
    if (fused) s += "/fused";
    if (floor) s += "/interleaved_floor";
    if (device != Device::CPU) s += fmt::format("/{}", device_name(device));
    return s;
  }
};

// Scales the first two parameter slots (the node weights and biases of COMET, the selector weights and biases of
// per-sample DSelect-k) so that the smooth steps saturate.
void saturate_smooth_steps(moe::Gate& gate) {
  const std::vector<ag::Var*> slots = gate.parameter_slots();
  for (size_t i = 0; i < 2 && i < slots.size(); ++i) {
    Tensor& t = slots[i]->value();
    float* p = t.data<float>();
    for (int64_t j = 0; j < t.numel(); ++j) p[j] *= static_cast<float>(kConvergedScale);
  }
}

AllocatorStats allocator_stats(Device device) {
#ifdef COMET_WITH_CUDA
  if (device == Device::CUDA) return cuda_allocator_stats();
#endif
  (void)device;
  return cpu_allocator_stats();
}

void allocator_reset_peak(Device device) {
#ifdef COMET_WITH_CUDA
  if (device == Device::CUDA) return cuda_allocator_reset_peak();
#endif
  (void)device;
  cpu_allocator_reset_peak();
}

double param_bytes(const std::vector<ag::Var>& params) {
  double bytes = 0;
  for (const ag::Var& p : params) bytes += static_cast<double>(p.value().nbytes());
  return bytes;
}

// Adam over the parameters of MlpExperts(n, 256, 256, 256) with fixed random gradients: the update alone, the
// memory-bound part of the step that grows with n (7 float streams per parameter).
class ExpertAdam {
 public:
  ExpertAdam(int64_t n, Generator& gen)
      : experts_(n, {kWidth, kWidth, kWidth}, gen), params_(with_random_grads(experts_.params(), gen)),
        adam_(params_, optim::constant_lr(1e-3)) {
    adam_.step();  // allocates the moments
  }
  void step() { adam_.step(); }
  double parameters() const {
    double count = 0;
    for (const ag::Var& p : params_) count += static_cast<double>(p.value().numel());
    return count;
  }

 private:
  static std::vector<ag::Var> with_random_grads(std::vector<ag::Var> params, Generator& gen) {
    for (ag::Var& p : params) {
      p.grad() = Tensor::empty(p.shape());
      gen.normal(p.grad(), 0.0, 1.0);
    }
    return params;
  }
  moe::MlpExperts experts_;
  std::vector<ag::Var> params_;
  optim::Adam adam_;
};

double ms_of(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The step's floor, timed right after each step (Case::floor), so that the floor and the step meet the same phase of
// a shared host: the floor's parts timed in runs of their own (bench/run_moe_comparison.sh) fell in other phases,
// and the step's ratio to them spread over 1.15-1.60 across the rounds of one run (AMD EPYC Zen 5). The parts: the
// step's multiply-adds as plain GEMMs over its pairs as rows, two layers of BM_OneGemm's forward and backward (after
// an untimed pass, so at the GEMM's best rate), and the step's own Adam update run again on its own parameters and
// gradients, twice: first as it finds its data after the GEMMs (cold), then again at once (warm). An Adam over
// parameters of its own evicted the step's data between steps and made the steps after it slower.
class InterleavedFloor {
 public:
  InterleavedFloor(int64_t rows, std::function<void()> update)
      : x_(rows * kWidth, 0.5f), w_(kWidth * kWidth, 0.25f), gy_(rows * kWidth, 0.125f), y_(rows * kWidth),
        gx_(rows * kWidth), gw_(kWidth * kWidth), gemms_(rows, kWidth, x_.data(), w_.data(), gy_.data(), y_.data(),
                                                         gx_.data(), gw_.data()),
        update_(std::move(update)) {}

  void time() {
    const auto layers = [&] {
      for (int layer = 0; layer < 2; ++layer)
        for (const GemmArgs<float>* g : {&gemms_.fwd, &gemms_.bx, &gemms_.bw}) cpu::gemm(*g);
    };
    layers();
    gemm_ms.push_back(ms_of(layers));
    cold_adam_ms.push_back(ms_of(update_));
    warm_adam_ms.push_back(ms_of(update_));
  }
  std::vector<double> gemm_ms, cold_adam_ms, warm_adam_ms;

 private:
  std::vector<float> x_, w_, gy_, y_, gx_, gw_;
  OneGemmArgs gemms_;
  std::function<void()> update_;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[static_cast<size_t>(q * static_cast<double>(v.size() - 1))];
}

// Counters of the interleaved floor: floor_ms (GEMMs + warm Adam) and cold_floor_ms (GEMMs + cold Adam), medians over
// the steps; over_floor and over_cold_floor, the medians of each step's ms over the floor timed after it, with
// over_floor_p10 and over_floor_p90.
void floor_counters(benchmark::State& state, const std::vector<double>& step_ms, const InterleavedFloor& f) {
  std::vector<double> floor, cold, over, over_cold;
  for (size_t i = 0; i < step_ms.size(); ++i) {
    floor.push_back(f.gemm_ms[i] + f.warm_adam_ms[i]);
    cold.push_back(f.gemm_ms[i] + f.cold_adam_ms[i]);
    over.push_back(step_ms[i] / floor.back());
    over_cold.push_back(step_ms[i] / cold.back());
  }
  state.counters["floor_ms"] = median(floor);
  state.counters["cold_floor_ms"] = median(cold);
  state.counters["over_floor"] = median(over);
  state.counters["over_floor_p10"] = quantile(over, 0.1);
  state.counters["over_floor_p90"] = quantile(over, 0.9);
  state.counters["over_cold_floor"] = median(over_cold);
}

void run_case(benchmark::State& state, const Case& c) {
  Generator gen(7);
  moe::GateConfig cfg;
  cfg.kind = c.gate;
  cfg.experts = c.n;
  cfg.k = c.k;
  if (c.gate == moe::GateKind::Hash) cfg.hash_keys = kHashKeys;
  std::unique_ptr<moe::Gate> gate = moe::make_gate(cfg, kWidth, gen);
  if (c.regime == Regime::Converged) saturate_smooth_steps(*gate);
  moe::MlpExperts experts(c.n, {kWidth, kWidth, kWidth}, gen);

  Tensor x = Tensor::empty({kBatch, kWidth}), target = Tensor::empty({kBatch, kWidth});
  gen.normal(x, 0.0, 1.0);
  gen.normal(target, 0.0, 1.0);
  x = ag::copy_to(x, c.device);
  target = ag::copy_to(target, c.device);
  moe::GateInput in{ag::constant(x), Tensor()};
  if (c.gate == moe::GateKind::Hash) {
    in.keys = Tensor::empty({kBatch}, DType::I64);
    gen.randint(in.keys, 0, kHashKeys);
  }
  const ag::Var goal = ag::constant(target);
  Tensor gate_target = Tensor::empty({kBatch, c.n});
  gen.uniform(gate_target, 0.0, 1.0);
  const ag::Var gate_goal = ag::constant(ag::copy_to(gate_target, c.device));
  std::vector<ag::Var> params = gate->params();
  if (!c.gate_only)
    for (const ag::Var& p : experts.params()) params.push_back(p);
  for (ag::Var& p : params) p.value() = ag::copy_to(p.value(), c.device);  // the handles share the modules' values
  optim::Adam adam(params, optim::constant_lr(1e-3));
  if (c.fused)
    for (size_t i = gate->params().size(); i < params.size(); ++i) adam.update_in_backward(i);

  Tensor g;  // the last step's gate weights
  const auto step = [&] {
    adam.zero_grad();
    const moe::GateOutput route = gate->forward(in, nullptr, true);
    g = route.weights.value();
    ag::Var loss = c.gate_only ? ag::mse(route.weights, gate_goal)
                               : ag::mse(moe::moe_forward(experts, in.x, route.weights, c.path), goal);
    if (route.regularization.defined()) loss = ag::add(loss, route.regularization);
    ag::backward(loss);
    adam.step();
    ag::synchronize(c.device);
  };
  step();  // warm-up: Adam state and the allocator cache
  adam.zero_grad();
  const size_t before = allocator_stats(c.device).in_use;
  allocator_reset_peak(c.device);
  step();
  const double peak = static_cast<double>(allocator_stats(c.device).peak - before);
  const moe::RoutingStats routing = moe::routing_stats(ag::copy_to(g, Device::CPU), c.k);

  std::unique_ptr<InterleavedFloor> floor;
  if (c.floor)
    floor = std::make_unique<InterleavedFloor>(std::llround(routing.experts_per_sample * kBatch), [&] { adam.step(); });
  std::vector<double> step_ms;  // every timed step, for the spread under load (bench/run_moe_under_load.sh)
  for (auto _ : state) {
    step_ms.push_back(ms_of(step));
    if (floor) floor->time();
  }
  if (floor) floor_counters(state, step_ms, *floor);
  std::sort(step_ms.begin(), step_ms.end());

  const double pairs = c.path == moe::MoePath::Sparse ? routing.experts_per_sample * kBatch : double(kBatch * c.n);
  const double flops = 3.0 * 2.0 * pairs * (kWidth * kWidth + kWidth * kWidth);
  if (!c.gate_only)  // the experts' multiply-adds: a gate alone has none
    state.counters["GFLOP/s"] = benchmark::Counter(flops / 1e9, benchmark::Counter::kIsIterationInvariantRate);
  state.counters["experts_per_sample"] = routing.experts_per_sample;
  state.counters["peak_MiB"] = peak / kMiB;
  state.counters["grad_MiB"] = param_bytes(params) / kMiB;
  state.counters["median_step_ms"] = step_ms[step_ms.size() / 2];
  state.counters["max_step_ms"] = step_ms.back();
}

// Bytes that a read of evicts the last-level cache: twice its size (64 MiB when the system does not say).
size_t eviction_bytes() {
  const long l3 = sysconf(_SC_LEVEL3_CACHE_SIZE);
  return 2 * static_cast<size_t>(l3 > 0 ? l3 : 32L << 20);
}

// Adam alone over the parameters of MlpExperts(n, 256, 256, 256) with fixed gradients: the memory-bound part of
// the step that grows with n (7 float streams per parameter), timed on its own as a floor for BM_MoeStep.
// warm (cold = 0): step after step, so that parameters, gradients and moments stay in the caches as far as they fit;
// cold (cold = 1): each step after a read of twice the last-level cache (untimed), as in a training step, where the
// forward and backward passes run between two updates. Counter GB/s = 7 x 4 bytes x parameters per step.
void BM_AdamStep(benchmark::State& state) {
  Generator gen(7);
  ExpertAdam adam(state.range(0), gen);
  const double count = adam.parameters();
  const bool cold = state.range(1) != 0;
  std::vector<int64_t> other(cold ? eviction_bytes() / sizeof(int64_t) : 0, 1);
  int64_t sink = 0;
  for (auto _ : state) {
    if (cold) {
      state.PauseTiming();
      for (int64_t v : other) sink += v;  // clean lines: nothing to write back during the step
      benchmark::DoNotOptimize(sink);
      state.ResumeTiming();
    }
    adam.step();
  }
  state.counters["GB/s"] = benchmark::Counter(7.0 * 4.0 * count / 1e9, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AdamStep)->ArgNames({"n", "cold"})->ArgsProduct({{8, 16, 64}, {0}})->Unit(benchmark::kMillisecond)->UseRealTime();
// A fixed count: each cold step waits for an eviction of tens of MiB, which a time budget would multiply.
BENCHMARK(BM_AdamStep)->ArgNames({"n", "cold"})->ArgsProduct({{8, 16, 64}, {1}})->Iterations(100)
    ->Unit(benchmark::kMillisecond)->UseRealTime();

// Adam's memory traffic without its arithmetic: the same seven float streams over the same parameter count (read p,
// g, m, v; write p, m, v), with multiply-adds only (no square root, no division), on the engine's threads. What the
// memory gives Adam on this machine: BM_AdamStep / BM_AdamTraffic near 1 means Adam is bound by memory, not by its
// square roots and divisions. Counter GB/s as BM_AdamStep's.
void BM_AdamTraffic(benchmark::State& state) {
  const int64_t count = state.range(0) * (2 * kWidth * kWidth + 2 * kWidth);  // MlpExperts(n, 256, 256, 256)
  std::vector<float> p(count, 0.5f), g(count, 0.25f), m(count, 0.125f), v(count, 0.0625f);
  const auto pass = [&] {
    cpu::parallel_for(count, 7, [&](int64_t i0, int64_t i1) {
      float *pp = p.data(), *mp = m.data(), *vp = v.data();
      const float* gp = g.data();
#pragma omp simd
      for (int64_t i = i0; i < i1; ++i) {
        mp[i] = 0.9f * mp[i] + 0.1f * gp[i];
        vp[i] = 0.999f * vp[i] + 0.001f * gp[i] * gp[i];
        pp[i] = pp[i] - 1e-3f * mp[i] * vp[i];
      }
    });
  };
  pass();
  for (auto _ : state) {
    pass();
    benchmark::ClobberMemory();
  }
  state.counters["GB/s"] = benchmark::Counter(7.0 * 4.0 * static_cast<double>(count) / 1e9,
                                              benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_AdamTraffic)->ArgName("n")->Arg(8)->Arg(16)->Arg(64)->Unit(benchmark::kMillisecond)->UseRealTime();

std::vector<Case> grid() {
  using moe::GateKind;
  std::vector<Case> cases;
  for (moe::MoePath path : {moe::MoePath::Sparse, moe::MoePath::Dense}) {
    for (int64_t n : {8, 16, 64}) {
      cases.push_back({GateKind::Softmax, path, Regime::None, n, 1});
      cases.push_back({GateKind::Hash, path, Regime::None, n, 1});
      for (int64_t k : {1, 2, 4}) {
        cases.push_back({GateKind::TopK, path, Regime::None, n, k});
        for (GateKind tree : {GateKind::DSelectK, GateKind::Comet})
          for (Regime r : {Regime::Init, Regime::Converged}) cases.push_back({tree, path, r, n, k});
      }
    }
  }
  for (int64_t n : {16, 64}) {
    cases.push_back({GateKind::TopK, moe::MoePath::Sparse, Regime::None, n, 2, true});
    cases.push_back({GateKind::Comet, moe::MoePath::Sparse, Regime::Converged, n, 2, true});
  }
  for (int64_t n : {16, 64}) {
    cases.push_back({GateKind::TopK, moe::MoePath::Sparse, Regime::None, n, 2, false, Device::CPU, true});
    cases.push_back({GateKind::Comet, moe::MoePath::Sparse, Regime::Converged, n, 2, false, Device::CPU, true});
  }
  for (int64_t n : {16, 64}) {
    cases.push_back({GateKind::TopK, moe::MoePath::Sparse, Regime::None, n, 2, false, Device::CPU, false, true});
    cases.push_back({GateKind::Comet, moe::MoePath::Sparse, Regime::Converged, n, 2, false, Device::CPU, false, true});
  }
#ifdef COMET_WITH_CUDA
  if (cuda_available()) {
    for (int64_t n : {16, 64}) {
      const Device gpu = Device::CUDA;
      cases.push_back({GateKind::TopK, moe::MoePath::Sparse, Regime::None, n, 2, false, gpu});
      cases.push_back({GateKind::Comet, moe::MoePath::Sparse, Regime::Converged, n, 2, false, gpu});
      cases.push_back({GateKind::DSelectK, moe::MoePath::Sparse, Regime::Converged, n, 2, false, gpu});
      cases.push_back({GateKind::TopK, moe::MoePath::Dense, Regime::None, n, 2, false, gpu});
      cases.push_back({GateKind::Softmax, moe::MoePath::Dense, Regime::None, n, 1, false, gpu});
    }
  }
#endif
  return cases;
}

const bool registered = [] {
  for (const Case& c : grid()) {
    benchmark::RegisterBenchmark(c.name().c_str(), [c](benchmark::State& s) { run_case(s, c); })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(c.floor ? 1.5 : 0.3);  // a floor after every step: enough steps for its quantiles
  }
  return true;
}();

}  // namespace
}  // namespace comet::bench

COMET_BENCHMARK_MAIN();
