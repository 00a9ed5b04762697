// The MoE dispatch on the device (kernels/cuda/dispatch_kernels.h) against the CPU, exactly:
// - the dispatch plan (count, scan, scatter) equals plan_dispatch (offsets, sample, flat) and its inverse index
//   pair_of, for empty and odd batches, experts with no rows, an all-zero gate, any rows per block (batch not a
//   multiple of it), block sizes below and above the expert count, scan blocks of 1, 3 and 256 threads;
// - a NaN gate weight raises the flag the launcher refuses;
// - the dispatch launch math;
// - the gather equals cpu::gather_rows and the combine equals the CPU's scatter_add_rows of the weighted rows
//   (the same summation order, so the same bits on the host);
// - the combine's backward equals the gradients of the MoE layer's CPU combine (autograd's gather of the gate
//   weights, mul and scatter-add, as moe/moe_layer.cpp builds it) exactly for small integers, experts with no
//   rows and empty batches included.
// Host runs emulate every block and thread in both thread orders; device runs skip without a device.
#ifdef COMET_WITH_CUDA
#include <algorithm>
#include <cmath>
#include <vector>

#include "cuda_test_util.h"
#include "autograd/ops.h"
#include "kernels/cuda/dispatch.h"
#include "kernels/cuda/dispatch_kernels.h"
#include "kernels/dispatch.h"
#include "kernels/index.h"

namespace comet {
namespace {

using cuda::Launch;
using test::ptr;
using test::Target;

struct Plan {
  std::vector<int64_t> offsets, sample, flat, pair_of;
};

// The CPU plan, with pair_of as the inverse of flat.
template <class T>
Plan cpu_plan(const Tensor& g) {
  const int64_t batch = g.dim(0), experts = g.dim(1);
  const DispatchPlan p = plan_dispatch(batch, experts, g.data<T>());
  Plan out{p.offsets, p.sample, p.flat, std::vector<int64_t>(batch * experts, -1)};
  for (int64_t i = 0; i < p.pairs(); ++i) out.pair_of[p.flat[i]] = i;
  return out;
}

// How a host run cuts the work: rows of g per block, threads of the count and scatter blocks, of the scan block.
struct HostShape {
  int64_t rows_per_block, threads, scan_threads;
};

// The three plan kernels emulated on the host; nan_seen reports the count kernel's flag.
template <class T>
Plan host_plan(const Tensor& g, const HostShape& hs, cuda::Order order, int64_t* nan_seen) {
  const int64_t batch = g.dim(0), experts = g.dim(1);
  cuda::DispatchGrid grid = cuda::dispatch_grid(batch, experts, hs.rows_per_block);
  grid.threads = hs.threads;
  std::vector<int64_t> counts(grid.cells(), -7);
  Plan p{std::vector<int64_t>(experts + 1, -7), {}, {}, std::vector<int64_t>(batch * experts, -7)};
  *nan_seen = 0;
  cuda::emulate(cuda::DispatchCountKernel<T>{{}, batch, experts, grid.rows_per_block, g.data<T>(), counts.data(),
                                             nan_seen},
                grid.launch(), order);
  cuda::emulate(cuda::ExclusiveScanKernel{grid.cells(), grid.blocks, counts.data(), p.offsets.data()},
                Launch{1, hs.scan_threads}, order);
  p.sample.assign(p.offsets[experts], -7);
  p.flat.assign(p.offsets[experts], -7);
  cuda::emulate(cuda::DispatchScatterKernel<T>{{}, batch, experts, grid.rows_per_block, g.data<T>(), counts.data(),
                                               p.sample.data(), p.flat.data(), p.pair_of.data()},
                grid.launch(), order);
  return p;
}

template <class T>
Plan device_plan(const Tensor& g) {
  const Tensor gd = to_device(g, Device::CUDA);
  const cuda::DeviceDispatchPlan d = cuda::plan_dispatch(g.dim(0), g.dim(1), ptr<T>(gd));
  CHECK(d.pairs == d.sample.numel());
  auto host = [](const Tensor& t) { return to_device(t, Device::CPU).to_vector<int64_t>(); };
  return {host(d.offsets), host(d.sample), host(d.flat), host(d.pair_of)};
}

void check_plan(const Plan& got, const Plan& want) {
  CHECK(got.offsets == want.offsets);
  CHECK(got.sample == want.sample);
  CHECK(got.flat == want.flat);
  CHECK(got.pair_of == want.pair_of);
}

// A gate matrix [batch, experts] with about a third of its weights nonzero (in (0, 1]) and, from 3 experts on,
// expert 1 never chosen (an expert with no rows).
template <class T>
Tensor sparse_gate(int64_t batch, int64_t experts, Generator& gen) {
  Tensor g = test::random_tensor({batch, experts}, gen, 0.0, 1.0, dtype_of<T>());
  T* v = g.data<T>();
  for (int64_t i = 0; i < g.numel(); ++i) {
    const bool chosen = v[i] < T(1) / 3 && !(experts >= 3 && i % experts == 1);
    v[i] = chosen ? T(3) * v[i] + T(1e-3) : T(0);
  }
  return g;
}

const std::vector<int64_t> kBatches = {0, 1, 5, 64, 100, 257};
const std::vector<int64_t> kExperts = {1, 3, 8, 40};

TEST_CASE_TEMPLATE("CUDA dispatch plan, emulated on the host over every thread, equals plan_dispatch", T, float,
                   double) {
  Generator gen(17);
  for (const int64_t batch : kBatches) {
    for (const int64_t experts : kExperts) {
      for (const bool all_zero : {false, true}) {
        const Tensor g =
            all_zero ? Tensor::zeros({batch, experts}, dtype_of<T>()) : sparse_gate<T>(batch, experts, gen);
        const Plan want = cpu_plan<T>(g);
        for (const int64_t rows_per_block : {int64_t{1}, int64_t{7}, cuda::kDispatchRowsPerBlock}) {
          const int64_t own_threads = cuda::dispatch_grid(batch, experts, rows_per_block).threads;
          for (const HostShape hs : {HostShape{rows_per_block, 1, 1}, HostShape{rows_per_block, 5, 3},
                                     HostShape{rows_per_block, own_threads, cuda::kScanThreads}}) {
            CAPTURE(batch);
            CAPTURE(experts);
            CAPTURE(all_zero);
            CAPTURE(hs.rows_per_block);
            CAPTURE(hs.threads);
            CAPTURE(hs.scan_threads);
            test::for_each_order([&](cuda::Order order) {
              int64_t nan_seen = -1;
              check_plan(host_plan<T>(g, hs, order, &nan_seen), want);
              CHECK(nan_seen == 0);
            });
          }
        }
      }
    }
  }
}

TEST_CASE("CUDA dispatch plan: a NaN gate weight raises the flag (emulated on the host)") {
  Tensor g = Tensor::zeros({70, 3});
  g.data<float>()[69 * 3 + 2] = std::nanf("");  // the last row block's last weight
  int64_t nan_seen = 0;
  host_plan<float>(g, HostShape{cuda::kDispatchRowsPerBlock, 32, cuda::kScanThreads}, cuda::Order::Forward,
                   &nan_seen);
  CHECK(nan_seen == 1);
}

TEST_CASE("CUDA dispatch launch math: row blocks cover the batch once, threads cover the experts in whole warps") {
  for (const int64_t batch : kBatches) {
    for (const int64_t experts : {int64_t{1}, int64_t{8}, int64_t{33}, int64_t{1000}}) {
      for (const int64_t rows_per_block : {int64_t{1}, int64_t{7}, cuda::kDispatchRowsPerBlock}) {
        CAPTURE(batch);
        CAPTURE(experts);
        CAPTURE(rows_per_block);
        const cuda::DispatchGrid grid = cuda::dispatch_grid(batch, experts, rows_per_block);
        CHECK(grid.blocks >= 1);  // an empty batch still writes its offsets
        CHECK(grid.cells() == experts * grid.blocks);
        CHECK(grid.launch().grid == grid.blocks);
        int64_t next = 0;  // rows of consecutive blocks follow each other
        for (int64_t b = 0; b < grid.blocks; ++b) {
          const cuda::RowRange r = cuda::block_rows(batch, rows_per_block, b);
          CHECK(r.first == next);
          CHECK((r.last > r.first || batch == 0));  // no empty block, except the one of an empty batch
          next = r.last;
        }
        CHECK(next == batch);
        CHECK(grid.threads % 32 == 0);
        CHECK(grid.threads <= 256);
        CHECK(grid.threads >= std::min<int64_t>(experts, 256));
      }
    }
  }
}

TEST_CASE_TEMPLATE("CUDA dispatch plan on the device equals plan_dispatch", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(17);
  for (const int64_t batch : {int64_t{0}, int64_t{5}, int64_t{257}, int64_t{5000}}) {
    for (const int64_t experts : kExperts) {
      CAPTURE(batch);
      CAPTURE(experts);
      const Tensor g = sparse_gate<T>(batch, experts, gen);
      check_plan(device_plan<T>(g), cpu_plan<T>(g));
    }
  }
  Tensor g = Tensor::zeros({70, 3}, dtype_of<T>());
  g.data<T>()[5] = std::nan("");
  CHECK_THROWS_WITH_AS(device_plan<T>(g), doctest::Contains("a gate weight is NaN"), Error);
}

// xs = x[sample] and y = combine(ys) with the plan of g on `at`; returns {xs, y}.
template <class T>
std::vector<Tensor> gather_combine_on(const Target& at, const Launch* launch, const Tensor& g, const Plan& plan,
                                      const Tensor& x, const Tensor& ys) {
  const int64_t batch = g.dim(0), experts = g.dim(1), d = x.dim(1), pairs = ys.dim(0);
  auto index = [&](const std::vector<int64_t>& v, const Shape& s) { return at.put(Tensor::from_vector(s, v)); };
  const Tensor sample = index(plan.sample, {pairs}), pair_of = index(plan.pair_of, {batch, experts});
  const Tensor gd = at.put(g), xd = at.put(x), ysd = at.put(ys);
  Tensor xs = at.put(Tensor::zeros({pairs, d}, x.dtype())), y = at.put(Tensor::zeros({batch, d}, x.dtype()));
  if (at.device) {
    cuda::gather_rows(pairs, d, ptr<T>(xd), ptr<int64_t>(sample), ptr<T>(xs));
    cuda::combine_rows(batch, experts, d, ptr<int64_t>(pair_of), ptr<T>(gd), ptr<T>(ysd), ptr<T>(y));
  } else {
    const Launch gather = launch ? *launch : cuda::elementwise_launch(pairs * d);
    const Launch combine = launch ? *launch : cuda::elementwise_launch(batch * d);
    cuda::emulate(cuda::GatherRowsKernel<T>{{}, pairs, d, ptr<T>(xd), ptr<int64_t>(sample), ptr<T>(xs)}, gather,
                  at.order);
    cuda::emulate(cuda::CombineKernel<T>{{}, batch, experts, d, ptr<int64_t>(pair_of), ptr<T>(gd), ptr<T>(ysd),
                                         ptr<T>(y)},
                  combine, at.order);
  }
  return {at.get(xs), at.get(y)};
}

// The CPU's {xs, y}: cpu::gather_rows, and cpu::scatter_add_rows of ys weighted by g[flat] (the MoE layer's
// combine).
template <class T>
std::vector<Tensor> cpu_gather_combine(const Tensor& g, const Plan& plan, const Tensor& x, const Tensor& ys) {
  const int64_t pairs = ys.dim(0), d = x.dim(1);
  Tensor xs = Tensor::empty({pairs, d}, x.dtype()), weighted = ys.clone(), y = Tensor::empty({g.dim(0), d}, x.dtype());
  cpu::gather_rows(pairs, d, x.data<T>(), plan.sample.data(), xs.data<T>());
  for (int64_t p = 0; p < pairs; ++p)
    for (int64_t j = 0; j < d; ++j) weighted.data<T>()[p * d + j] *= g.data<T>()[plan.flat[p]];
  cpu::scatter_add_rows(pairs, d, weighted.data<T>(), plan.sample.data(), g.dim(0), y.data<T>());
  return {xs, y};
}

// Gather and combine on `at` against the CPU: exact on the host (the same products and order of sums), within
// the tolerance on the device (which may fuse the multiply-adds).
template <class T>
void check_gather_combine(const Target& at, const Launch* launch, Generator& gen) {
  for (const int64_t batch : {int64_t{0}, int64_t{1}, int64_t{100}}) {
    for (const int64_t experts : {int64_t{1}, int64_t{3}, int64_t{8}}) {
      for (const int64_t d : {int64_t{1}, int64_t{3}, int64_t{17}}) {
        CAPTURE(batch);
        CAPTURE(experts);
        CAPTURE(d);
        const Tensor g = sparse_gate<T>(batch, experts, gen);
        const Plan plan = cpu_plan<T>(g);
        const int64_t pairs = static_cast<int64_t>(plan.sample.size());
        const Tensor x = test::random_tensor({batch, d}, gen, -1, 1, dtype_of<T>());
        const Tensor ys = test::random_tensor({pairs, d}, gen, -1, 1, dtype_of<T>());
        const std::vector<Tensor> got = gather_combine_on<T>(at, launch, g, plan, x, ys);
        const std::vector<Tensor> want = cpu_gather_combine<T>(g, plan, x, ys);
        COMET_CHECK_EXACT(got[0], want[0]);
        if (at.device) COMET_CHECK_CLOSE(got[1], want[1], test::kKernelRtol<T>, test::kKernelRtol<T>);
        else COMET_CHECK_EXACT(got[1], want[1]);
      }
    }
  }
}

TEST_CASE_TEMPLATE("CUDA gather and combine, emulated on the host over every thread, equal the CPU", T, float,
                   double) {
  Generator gen(19);
  test::for_each_host_run({nullptr, &test::kSmallLaunch},
                          [&](const Target& at, const Launch* launch) { check_gather_combine<T>(at, launch, gen); });
}

TEST_CASE_TEMPLATE("CUDA gather and combine on the device equal the CPU", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(19);
  check_gather_combine<T>(test::kDevice, nullptr, gen);
}

// {gys, gg} of the combine y = sum over b's pairs of g[b, e] ys[p] for the output gradient gy, on `at`.
template <class T>
std::vector<Tensor> combine_backward_on(const Target& at, const Launch* launch, const Tensor& g, const Plan& plan,
                                        const Tensor& ys, const Tensor& gy) {
  const int64_t batch = g.dim(0), experts = g.dim(1), d = gy.dim(1), pairs = ys.dim(0);
  auto index = [&](const std::vector<int64_t>& v, const Shape& s) { return at.put(Tensor::from_vector(s, v)); };
  const Tensor sample = index(plan.sample, {pairs}), flat = index(plan.flat, {pairs});
  const Tensor pair_of = index(plan.pair_of, {batch, experts});
  const Tensor gd = at.put(g), ysd = at.put(ys), gyd = at.put(gy);
  Tensor gys = at.put(Tensor::zeros({pairs, d}, g.dtype())), gg = at.put(Tensor::zeros(g.shape(), g.dtype()));
  if (at.device) {
    cuda::combine_rows_backward(batch, experts, d, pairs, ptr<int64_t>(sample), ptr<int64_t>(flat),
                                ptr<int64_t>(pair_of), ptr<T>(gd), ptr<T>(ysd), ptr<T>(gyd), ptr<T>(gys), ptr<T>(gg));
  } else {
    test::emulate_on(at,
                     cuda::GatherRowsKernel<T>{{}, pairs, d, ptr<T>(gyd), ptr<int64_t>(sample), ptr<T>(gys),
                                               ptr<T>(gd), ptr<int64_t>(flat)},
                     launch, cuda::elementwise_launch(pairs * d));
    test::emulate_on(at,
                     cuda::CombineGateGradKernel<T>{{}, batch, experts, d, ptr<int64_t>(pair_of), ptr<T>(ysd),
                                                    ptr<T>(gyd), ptr<T>(gg)},
                     launch, cuda::elementwise_launch(batch * experts));
  }
  return {at.get(gys), at.get(gg)};
}

// The same gradients from the CPU combine of the MoE layer (moe/moe_layer.cpp's sparse path) through autograd.
std::vector<Tensor> cpu_combine_backward(const Tensor& g, const Plan& plan, const Tensor& ys, const Tensor& gy) {
  const int64_t batch = g.dim(0), experts = g.dim(1), pairs = ys.dim(0);
  const Tensor sample = Tensor::from_vector({pairs}, plan.sample), flat = Tensor::from_vector({pairs}, plan.flat);
  ag::Var gv(g.clone(), true), ysv(ys.clone(), true);
  const ag::Var weight = ag::gather_rows(ag::reshape(gv, {batch * experts, 1}), flat);
  ag::backward(ag::scatter_add_rows(ag::mul(ysv, weight), sample, batch), gy);
  auto grad = [](const ag::Var& v) { return v.grad().defined() ? v.grad() : Tensor::zeros(v.shape(), v.dtype()); };
  return {grad(ysv), grad(gv)};
}

template <class T>
void check_combine_backward(const Target& at, const Launch* launch, Generator& gen) {
  for (const int64_t batch : {int64_t{0}, int64_t{1}, int64_t{100}}) {
    for (const int64_t experts : {int64_t{1}, int64_t{3}, int64_t{8}}) {
      for (const int64_t d : {int64_t{1}, int64_t{17}}) {
        CAPTURE(batch);
        CAPTURE(experts);
        CAPTURE(d);
        Tensor g = sparse_gate<T>(batch, experts, gen);
        const Plan plan = cpu_plan<T>(g);
        for (int64_t i = 0; i < g.numel(); ++i)  // small integer weights where chosen: every product exact
          if (g.data<T>()[i] != T(0)) g.data<T>()[i] = std::ceil(g.data<T>()[i] * T(3));
        const int64_t pairs = static_cast<int64_t>(plan.sample.size());
        const Tensor ys = test::small_integers<T>({pairs, d}, gen), gy = test::small_integers<T>({batch, d}, gen);
        const std::vector<Tensor> got = combine_backward_on<T>(at, launch, g, plan, ys, gy);
        const std::vector<Tensor> want = cpu_combine_backward(g, plan, ys, gy);
        COMET_CHECK_EXACT(got[0], want[0]);
        COMET_CHECK_EXACT(got[1], want[1]);
      }
    }
  }
}

TEST_CASE_TEMPLATE("CUDA combine backward, emulated on the host over every thread, equals the CPU combine's", T,
                   float, double) {
  Generator gen(61);
  test::for_each_host_run({nullptr, &test::kSmallLaunch},
                          [&](const Target& at, const Launch* launch) { check_combine_backward<T>(at, launch, gen); });
}

TEST_CASE_TEMPLATE("CUDA combine backward on the device equals the CPU combine's", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(61);
  check_combine_backward<T>(test::kDevice, nullptr, gen);
}

}  // namespace
}  // namespace comet
#endif  // COMET_WITH_CUDA
