// Gate kernels (math in kernels/gate_math.h), one signature for ref:: and cpu::. Row-major buffers:
//   smooth_step:    y = S_gamma(x) elementwise, n elements.
//   tree_probs:     s [rows, tree.num_activations] -> p [rows, tree.num_leaves] (rows = batch x trees).
//   prior_softmax:  a, p [rows, cols] -> w [rows, cols], w = p exp(a) / sum(p exp(a)) per row.
// Backward functions overwrite their outputs; a null output pointer is skipped.
// Tests: tests/autograd/cases_gate.cpp (via test_ops.cpp), tests/moe/test_gates.cpp.
#pragma once
#include <cstdint>

#include "kernels/gate_math.h"

namespace comet {

#define COMET_GATE_DECLS                                                                                       \
  template <class T> void smooth_step(int64_t n, T gamma, const T* x, T* y);                                  \
  template <class T> void smooth_step_backward(int64_t n, T gamma, const T* x, const T* gy, T* gx);           \
  template <class T> void tree_probs(const RoutingTree& tree, int64_t rows, const T* s, T* p);                \
  template <class T>                                                                                           \
  void tree_probs_backward(const RoutingTree& tree, int64_t rows, const T* s, const T* gp, T* gs);            \
  template <class T> void prior_softmax(int64_t rows, int64_t cols, const T* a, const T* p, T* w);            \
  template <class T>                                                                                           \
  void prior_softmax_backward(int64_t rows, int64_t cols, const T* a, const T* p, const T* w, const T* g,     \
                              T* ga, T* gp);

namespace ref { COMET_GATE_DECLS }
namespace cpu { COMET_GATE_DECLS }
#undef COMET_GATE_DECLS

}  // namespace comet

// Explicit instantiations of every kernel above for one scalar type (used by the ref/ and cpu/ files).
#define COMET_INSTANTIATE_GATE(T)                                                                        \
  template void smooth_step<T>(int64_t, T, const T*, T*);                                          \
  template void smooth_step_backward<T>(int64_t, T, const T*, const T*, T*);                       \
  template void tree_probs<T>(const RoutingTree&, int64_t, const T*, T*);                          \
  template void tree_probs_backward<T>(const RoutingTree&, int64_t, const T*, const T*, T*);       \
  template void prior_softmax<T>(int64_t, int64_t, const T*, const T*, T*);                        \
  template void prior_softmax_backward<T>(int64_t, int64_t, const T*, const T*, const T*, const T*, T*, T*);
