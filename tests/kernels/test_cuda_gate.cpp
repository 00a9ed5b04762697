// The gate kernels on the device (kernels/cuda/gate_kernels.h) against the CPU:
// - Top-k selection equals the Top-k gate's own (moe::top_k_indices: larger logit first, ties to the lower expert,
//   experts ascending) exactly, on rows of small integers full of ties, for k = 1, 2 and n (all selected);
// - COMET's tree probabilities (and DSelect-k's trie, the same row functions) forward and backward equal
//   cpu::tree_probs / cpu::tree_probs_backward bit for bit on the host (the same row functions in the same type),
//   with activations saturated at exactly 0 and 1 (the smooth-step's outputs) and one-leaf trees;
// - the joint softmax with a prior forward and backward equals cpu::prior_softmax(_backward) bit for bit on the
//   host, for priors with zeros and all-zero rows (w = 0), and with ga or gp skipped.
// The device may fuse multiply-adds, so device runs compare within 1e-5 relative in float, 1e-6 in double. Host
// runs emulate every thread of the launch math's launch, of one thread, and of a grid smaller than the rows, in
// both thread orders; device runs skip without a device.
#ifdef COMET_WITH_CUDA
#include <algorithm>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/cuda/gate.h"
#include "kernels/cuda/gate_kernels.h"
#include "kernels/gate.h"
#include "moe/gates.h"

namespace comet {
namespace {

using cuda::Launch;
using test::ptr;
using test::Target;

const std::vector<int64_t> kRows = {0, 1, 7, 70};

// The launches a host run emulates for `rows` rows.
std::vector<Launch> host_launches(int64_t rows) {
  return {cuda::elementwise_launch(rows), Launch{1, 1}, Launch{2, 16}};
}

// Runs op on every row, on `at`: emulated with `launch`, or on the device through `device_run`.
template <class Op, class DeviceRun>
void rows_on(const Target& at, const Launch& launch, int64_t rows, const Op& op, DeviceRun device_run) {
  if (at.device) device_run();
  else cuda::emulate(cuda::PerRowKernel<Op>{{}, rows, op}, launch, at.order);
}

// Compares a kernel's result with cpu::'s: bit for bit on the host, within the tolerance on the device.
template <class T>
void check_against_cpu(const Target& at, const Tensor& got, const Tensor& want) {
  if (at.device) COMET_CHECK_CLOSE(got, want, test::kKernelRtol<T>, test::kKernelRtol<T>);
  else COMET_CHECK_EXACT(got, want);
}

TEST_CASE_TEMPLATE("CUDA top-k, emulated on the host over every thread, selects as the Top-k gate", T, float,
                   double) {
  Generator gen(67);
  for (const int64_t rows : kRows) {
    for (const int64_t n : {int64_t{1}, int64_t{3}, int64_t{8}, int64_t{33}}) {
      const Tensor h = test::small_integers<T>({rows, n}, gen);  // 7 values: ties in every row of 8 or more
      for (const int64_t k : {int64_t{1}, std::min<int64_t>(2, n), n}) {
        const std::vector<int64_t> want = moe::top_k_indices(h, k);
        for (const Launch& launch : host_launches(rows)) {
          CAPTURE(rows);
          CAPTURE(n);
          CAPTURE(k);
          CAPTURE(launch.grid);
          CAPTURE(launch.block);
          test::for_each_order([&](cuda::Order order) {
            std::vector<int64_t> got(rows * k, -7);
            cuda::emulate(cuda::PerRowKernel<cuda::TopKRowOp<T>>{{}, rows, {n, k, h.data<T>(), got.data()}}, launch,
                          order);
            CHECK(got == want);
          });
        }
      }
    }
  }
}

TEST_CASE_TEMPLATE("CUDA top-k on the device selects as the Top-k gate", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(67);
  const Tensor h = test::small_integers<T>({70, 33}, gen);
  const Tensor hd = to_device(h, Device::CUDA);
  for (const int64_t k : {int64_t{1}, int64_t{2}, int64_t{33}}) {
    CAPTURE(k);
    Tensor index = cuda_empty({70, k}, DType::I64);
    cuda::top_k(70, 33, k, ptr<T>(hd), ptr<int64_t>(index));
    CHECK(to_device(index, Device::CPU).to_vector<int64_t>() == moe::top_k_indices(h, k));
  }
}

// Activations in [0, 1], about a quarter of them exactly 0 or 1 (a saturated smooth-step).
template <class T>
Tensor activations(const Shape& shape, Generator& gen) {
  Tensor s = test::random_tensor(shape, gen, -0.25, 1.25, dtype_of<T>());
  T* v = s.data<T>();
  for (int64_t i = 0; i < s.numel(); ++i) v[i] = std::clamp(v[i], T(0), T(1));
  return s;
}

// {p, gs} of tree_probs and its backward on `at`.
template <class T>
std::vector<Tensor> tree_on(const Target& at, const Launch& launch, const RoutingTree& tree, const Tensor& s,
                            const Tensor& gp) {
  const int64_t rows = s.dim(0);
  const Tensor sd = at.put(s), gpd = at.put(gp);
  Tensor p = at.put(Tensor::zeros({rows, tree.num_leaves}, s.dtype()));
  Tensor gs = at.put(Tensor::zeros(s.shape(), s.dtype()));
  const std::vector<int32_t> arrays = cuda::tree_arrays(tree);
  const cuda::RoutingTreeView view = cuda::tree_view(tree, arrays.data());
  std::vector<T> reach(rows * view.scratch()), below(rows * view.scratch());
  rows_on(at, launch, rows, cuda::TreeProbsOp<T>{view, ptr<T>(sd), ptr<T>(p), reach.data()},
          [&] { cuda::tree_probs(tree, rows, ptr<T>(sd), ptr<T>(p)); });
  rows_on(at, launch, rows,
          cuda::TreeProbsBackwardOp<T>{view, ptr<T>(sd), ptr<T>(gpd), ptr<T>(gs), reach.data(), below.data()},
          [&] { cuda::tree_probs_backward(tree, rows, ptr<T>(sd), ptr<T>(gpd), ptr<T>(gs)); });
  return {at.get(p), at.get(gs)};
}

template <class T>
void check_trees(const Target& at, const Launch* launch, Generator& gen) {
  for (const int32_t experts : {1, 2, 3, 5, 8, 16}) {
    for (const bool trie : {false, true}) {
      const RoutingTree tree = trie ? dselect_trie(experts) : comet_tree(experts);
      for (const int64_t rows : kRows) {
        CAPTURE(experts);
        CAPTURE(trie);
        CAPTURE(rows);
        const Tensor s = activations<T>({rows, tree.num_activations}, gen);
        const Tensor gp = test::random_tensor({rows, tree.num_leaves}, gen, -1, 1, dtype_of<T>());
        Tensor p = Tensor::zeros({rows, tree.num_leaves}, s.dtype()), gs = Tensor::zeros(s.shape(), s.dtype());
        cpu::tree_probs(tree, rows, s.data<T>(), p.data<T>());
        cpu::tree_probs_backward(tree, rows, s.data<T>(), gp.data<T>(), gs.data<T>());
        const std::vector<Tensor> got = tree_on<T>(at, launch ? *launch : cuda::elementwise_launch(rows), tree, s, gp);
        check_against_cpu<T>(at, got[0], p);
        check_against_cpu<T>(at, got[1], gs);
      }
    }
  }
}

// {w, ga, gp} of prior_softmax and its backward on `at`; skip: 0 none, 1 ga, 2 gp.
template <class T>
std::vector<Tensor> prior_softmax_on(const Target& at, const Launch& launch, const Tensor& a, const Tensor& p,
                                     const Tensor& g, int skip) {
  const int64_t rows = a.dim(0), cols = a.dim(1);
  const Tensor ad = at.put(a), pd = at.put(p), gd = at.put(g);
  Tensor w = at.put(Tensor::zeros(a.shape(), a.dtype())), ga = at.put(Tensor::zeros(a.shape(), a.dtype()));
  Tensor gp = at.put(Tensor::zeros(a.shape(), a.dtype()));
  T* gap = skip == 1 ? nullptr : ptr<T>(ga);
  T* gpp = skip == 2 ? nullptr : ptr<T>(gp);
  rows_on(at, launch, rows, cuda::PriorSoftmaxOp<T>{cols, ptr<T>(ad), ptr<T>(pd), ptr<T>(w)},
          [&] { cuda::prior_softmax(rows, cols, ptr<T>(ad), ptr<T>(pd), ptr<T>(w)); });
  rows_on(at, launch, rows,
          cuda::PriorSoftmaxBackwardOp<T>{cols, ptr<T>(ad), ptr<T>(pd), ptr<T>(w), ptr<T>(gd), gap, gpp},
          [&] { cuda::prior_softmax_backward(rows, cols, ptr<T>(ad), ptr<T>(pd), ptr<T>(w), ptr<T>(gd), gap, gpp); });
  return {at.get(w), at.get(ga), at.get(gp)};
}

template <class T>
void check_prior_softmax(const Target& at, const Launch* launch, Generator& gen) {
  for (const int64_t rows : kRows) {
    for (const int64_t cols : {int64_t{1}, int64_t{4}, int64_t{33}}) {
      for (const int skip : {0, 1, 2}) {
        CAPTURE(rows);
        CAPTURE(cols);
        CAPTURE(skip);
        const Tensor a = test::random_tensor({rows, cols}, gen, -4, 4, dtype_of<T>());
        const Tensor g = test::random_tensor({rows, cols}, gen, -1, 1, dtype_of<T>());
        Tensor p = activations<T>({rows, cols}, gen);  // zeros in the prior
        if (rows > 1)
          for (int64_t j = 0; j < cols; ++j) p.data<T>()[cols + j] = T(0);  // row 1: all zero, w = 0
        Tensor w = Tensor::zeros(a.shape(), a.dtype()), ga = Tensor::zeros(a.shape(), a.dtype());
        Tensor gp = Tensor::zeros(a.shape(), a.dtype());
        cpu::prior_softmax(rows, cols, a.data<T>(), p.data<T>(), w.data<T>());
        cpu::prior_softmax_backward(rows, cols, a.data<T>(), p.data<T>(), w.data<T>(), g.data<T>(),
                                    skip == 1 ? nullptr : ga.data<T>(), skip == 2 ? nullptr : gp.data<T>());
        const std::vector<Tensor> got =
            prior_softmax_on<T>(at, launch ? *launch : cuda::elementwise_launch(rows), a, p, g, skip);
        check_against_cpu<T>(at, got[0], w);
        check_against_cpu<T>(at, got[1], ga);
        check_against_cpu<T>(at, got[2], gp);
      }
    }
  }
}

TEST_CASE_TEMPLATE("CUDA COMET tree gate, emulated on the host over every thread, equals the CPU", T, float,
                   double) {
  Generator gen(71);
  const Launch one{1, 1}, small{2, 16};  // 32 threads: fewer than 70 rows
  test::for_each_host_run({nullptr, &one, &small}, [&](const Target& at, const Launch* launch) {
    check_trees<T>(at, launch, gen);
    check_prior_softmax<T>(at, launch, gen);
  });
}

TEST_CASE_TEMPLATE("CUDA COMET tree gate on the device equals the CPU", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(71);
  check_trees<T>(test::kDevice, nullptr, gen);
  check_prior_softmax<T>(test::kDevice, nullptr, gen);
}

}  // namespace
}  // namespace comet
#endif  // COMET_WITH_CUDA
