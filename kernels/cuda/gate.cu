// Launchers of the gate kernels (see gate.h; bodies and launch math in gate_kernels.h).
#include "kernels/cuda/device.h"
#include "kernels/cuda/gate.h"
#include "kernels/cuda/gate_kernels.h"
#include "kernels/cuda/launch.cuh"

namespace comet::cuda {
namespace {

template <class Op>
void launch_rows(int64_t rows, const Op& op, const char* what) {
  launch(PerRowKernel<Op>{{}, rows, op}, elementwise_launch(rows), what);
}

// The tree's arrays on the device (tree_arrays's layout) and the row functions' scratch for `rows` rows.
struct DeviceTree {
  Tensor arrays, scratch;
  RoutingTreeView view;

  DeviceTree(const RoutingTree& tree, int64_t rows, DType dtype, int64_t scratch_arrays) {
    const std::vector<int32_t> a = tree_arrays(tree);
    arrays = to_device(Tensor::from_vector<int32_t>({static_cast<int64_t>(a.size())}, a), Device::CUDA);
    view = tree_view(tree, static_cast<const int32_t*>(arrays.raw()));
    scratch = cuda_empty({scratch_arrays, rows, view.scratch()}, dtype);
  }
  template <class T>
  T* scratch_array(int64_t i, int64_t rows) {
    return static_cast<T*>(scratch.raw()) + i * rows * view.scratch();
  }
};

}  // namespace

template <class T>
void top_k(int64_t rows, int64_t n, int64_t k, const T* h, int64_t* index) {
  COMET_CHECK(k >= 1 && k <= n, "cuda::top_k: k = {} for {} experts", k, n);
  launch_rows(rows, TopKRowOp<T>{n, k, h, index}, "cuda::top_k");
}

template <class T>
void tree_probs(const RoutingTree& tree, int64_t rows, const T* s, T* p) {
  DeviceTree d(tree, rows, dtype_of<T>(), 1);
  launch_rows(rows, TreeProbsOp<T>{d.view, s, p, d.scratch_array<T>(0, rows)}, "cuda::tree_probs");
}

template <class T>
void tree_probs_backward(const RoutingTree& tree, int64_t rows, const T* s, const T* gp, T* gs) {
  DeviceTree d(tree, rows, dtype_of<T>(), 2);
  launch_rows(rows, TreeProbsBackwardOp<T>{d.view, s, gp, gs, d.scratch_array<T>(0, rows), d.scratch_array<T>(1, rows)},
              "cuda::tree_probs_backward");
}

template <class T>
void prior_softmax(int64_t rows, int64_t cols, const T* a, const T* p, T* w) {
  launch_rows(rows, PriorSoftmaxOp<T>{cols, a, p, w}, "cuda::prior_softmax");
}

template <class T>
void prior_softmax_backward(int64_t rows, int64_t cols, const T* a, const T* p, const T* w, const T* g, T* ga,
                            T* gp) {
  launch_rows(rows, PriorSoftmaxBackwardOp<T>{cols, a, p, w, g, ga, gp}, "cuda::prior_softmax_backward");
}

#define COMET_INSTANTIATE_CUDA_GATE(T)                                                                    \
  template void top_k<T>(int64_t, int64_t, int64_t, const T*, int64_t*);                                  \
  template void tree_probs<T>(const RoutingTree&, int64_t, const T*, T*);                                 \
  template void tree_probs_backward<T>(const RoutingTree&, int64_t, const T*, const T*, T*);              \
  template void prior_softmax<T>(int64_t, int64_t, const T*, const T*, T*);                               \
  template void prior_softmax_backward<T>(int64_t, int64_t, const T*, const T*, const T*, const T*, T*, T*);
COMET_INSTANTIATE_CUDA_GATE(float)
COMET_INSTANTIATE_CUDA_GATE(double)

}  // namespace comet::cuda
