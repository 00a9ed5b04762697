// Fast gate kernels: the shared row math in the tensor's type, rows split across threads (each row is
// independent, so results do not depend on the thread count).
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/gate.h"

namespace comet::cpu {

template <class T>
void smooth_step(int64_t n, T gamma, const T* x, T* y) {
  parallel_for(n, 4, [&](int64_t b, int64_t e) {
    const T* xs = x;  // local copies of the captured values, so that the loop vectorises
    T* ys = y;
    const T g = gamma;
#pragma omp simd
    for (int64_t i = b; i < e; ++i) ys[i] = comet::smooth_step<T>(xs[i], g);
  });
}

template <class T>
void smooth_step_backward(int64_t n, T gamma, const T* x, const T* gy, T* gx) {
  parallel_for(n, 4, [&](int64_t b, int64_t e) {
    const T *xs = x, *gys = gy;
    T* gxs = gx;
    const T g = gamma;
#pragma omp simd
    for (int64_t i = b; i < e; ++i) gxs[i] = gys[i] * smooth_step_derivative<T>(xs[i], g);
  });
}

template <class T>
void tree_probs(const RoutingTree& tree, int64_t rows, const T* s, T* p) {
  parallel_for(rows, 4 * tree.num_leaves, [&](int64_t r0, int64_t r1) {
    std::vector<T> reach(tree.num_nodes() + 1);
    for (int64_t r = r0; r < r1; ++r)
      tree_forward_row<T>(tree, s + r * tree.num_activations, p + r * tree.num_leaves, reach.data());
  });
}

template <class T>
void tree_probs_backward(const RoutingTree& tree, int64_t rows, const T* s, const T* gp, T* gs) {
  parallel_for(rows, 8 * tree.num_leaves, [&](int64_t r0, int64_t r1) {
    std::vector<T> reach(tree.num_nodes() + 1), below(tree.num_nodes() + 1);
    for (int64_t r = r0; r < r1; ++r)
      tree_backward_row<T>(tree, s + r * tree.num_activations, gp + r * tree.num_leaves,
                           gs + r * tree.num_activations, reach.data(), below.data());
  });
}

template <class T>
void prior_softmax(int64_t rows, int64_t cols, const T* a, const T* p, T* w) {
  parallel_for(rows, 8 * cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) prior_softmax_row<T>(cols, a + r * cols, p + r * cols, w + r * cols);
  });
}

template <class T>
void prior_softmax_backward(int64_t rows, int64_t cols, const T* a, const T* p, const T* w, const T* g, T* ga, T* gp) {
  parallel_for(rows, 8 * cols, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t o = r * cols;
      prior_softmax_backward_row<T>(cols, a + o, p + o, w + o, g + o, ga ? ga + o : nullptr, gp ? gp + o : nullptr);
    }
  });
}

COMET_INSTANTIATE_GATE(float)
COMET_INSTANTIATE_GATE(double)

}  // namespace comet::cpu
