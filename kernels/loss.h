// Loss kernels on contiguous buffers. Each forward writes one value, out[0] = alpha * sum of per-element
// (or per-row) terms, where alpha is 1 / (number of terms) chosen by the caller; each backward takes
// scale = (incoming gradient) * alpha and overwrites the input gradients (null outputs are skipped).
//   squared_error:   terms m_i (p_i - t_i)^2, mask m null means all ones; gp = 2 scale m (p - t), gt = -gp.
//   bce_with_logits: terms max(x,0) - x t + log1p(exp(-|x|)); gx = scale (sigmoid(x) - t), gt = -scale x.
//   cross_entropy:   x [rows x cols] logits, labels [rows] (i64) in [0, cols) (checked by the caller);
//                    terms logsumexp(x_b) - x_b[label_b]; gx = scale (softmax(x_b) - onehot(label_b)).
// Sums accumulate in double in an order that does not depend on the thread count.
// Tests: tests/kernels/test_reduce.cpp (hand-worked values), tests/autograd/cases_reduce_loss.cpp.
#pragma once
#include <cmath>
#include <cstdint>

#include "kernels/elementwise_math.h"

namespace comet {

// One term of the stable binary cross-entropy with logits.
template <class T>
COMET_HD T bce_term(T x, T t) {
  return (x > T(0) ? x : T(0)) - x * t + std::log1p(std::exp(-std::fabs(x)));
}

#define COMET_LOSS_DECLS                                                                                      \
  template <class T>                                                                                          \
  void squared_error(int64_t n, T alpha, const T* pred, const T* target, const T* mask, T* out);              \
  template <class T>                                                                                          \
  void squared_error_backward(int64_t n, T scale, const T* pred, const T* target, const T* mask, T* gp, T* gt); \
  template <class T> void bce_with_logits(int64_t n, T alpha, const T* x, const T* t, T* out);                \
  template <class T>                                                                                          \
  void bce_with_logits_backward(int64_t n, T scale, const T* x, const T* t, T* gx, T* gt);                    \
  template <class T>                                                                                 \
  void cross_entropy(int64_t rows, int64_t cols, T alpha, const T* x, const int64_t* labels, T* out);               \
  template <class T>                                                                                 \
  void cross_entropy_backward(int64_t rows, int64_t cols, T scale, const T* x, const int64_t* labels, T* gx);

namespace ref { COMET_LOSS_DECLS }
namespace cpu { COMET_LOSS_DECLS }
#undef COMET_LOSS_DECLS

}  // namespace comet

// Explicit instantiations of every kernel above for one scalar type (used by the ref/ and cpu/ files).
#define COMET_INSTANTIATE_LOSS(T)                                                                       \
  template void squared_error<T>(int64_t, T, const T*, const T*, const T*, T*);                   \
  template void squared_error_backward<T>(int64_t, T, const T*, const T*, const T*, T*, T*);      \
  template void bce_with_logits<T>(int64_t, T, const T*, const T*, T*);                           \
  template void bce_with_logits_backward<T>(int64_t, T, const T*, const T*, T*, T*);              \
  template void cross_entropy<T>(int64_t, int64_t, T, const T*, const int64_t*, T*);               \
  template void cross_entropy_backward<T>(int64_t, int64_t, T, const T*, const int64_t*, T*);
