// Reference gate kernels: the shared row math with double accumulation, one row at a time.
#include <vector>

#include "kernels/gate.h"

namespace comet::ref {

template <class T>
void smooth_step(int64_t n, T gamma, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(comet::smooth_step<double>(x[i], gamma));
}

template <class T>
void smooth_step_backward(int64_t n, T gamma, const T* x, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i) gx[i] = static_cast<T>(double(gy[i]) * smooth_step_derivative<double>(x[i], gamma));
}

template <class T>
void tree_probs(const RoutingTree& tree, int64_t rows, const T* s, T* p) {
  std::vector<double> reach(tree.num_nodes() + 1);
  for (int64_t r = 0; r < rows; ++r)
    tree_forward_row<double>(tree, s + r * tree.num_activations, p + r * tree.num_leaves, reach.data());
}

template <class T>
void tree_probs_backward(const RoutingTree& tree, int64_t rows, const T* s, const T* gp, T* gs) {
  std::vector<double> reach(tree.num_nodes() + 1), below(tree.num_nodes() + 1);
  for (int64_t r = 0; r < rows; ++r)
    tree_backward_row<double>(tree, s + r * tree.num_activations, gp + r * tree.num_leaves,
                              gs + r * tree.num_activations, reach.data(), below.data());
}

template <class T>
void prior_softmax(int64_t rows, int64_t cols, const T* a, const T* p, T* w) {
  for (int64_t r = 0; r < rows; ++r) prior_softmax_row<double>(cols, a + r * cols, p + r * cols, w + r * cols);
}

template <class T>
void prior_softmax_backward(int64_t rows, int64_t cols, const T* a, const T* p, const T* w, const T* g, T* ga, T* gp) {
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t o = r * cols;
    prior_softmax_backward_row<double>(cols, a + o, p + o, w + o, g + o, ga ? ga + o : nullptr, gp ? gp + o : nullptr);
  }
}

COMET_INSTANTIATE_GATE(float)
COMET_INSTANTIATE_GATE(double)

}  // namespace comet::ref
