// Reference loss kernels: plain loops, double accumulation, no threads.
#include "kernels/loss.h"

#include <cmath>
#include <vector>

#include "kernels/reduce.h"

namespace comet::ref {

template <class T>
void squared_error(int64_t n, T alpha, const T* pred, const T* target, const T* mask, T* out) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double d = double(pred[i]) - double(target[i]);
    s += (mask ? double(mask[i]) : 1.0) * d * d;
  }
  out[0] = static_cast<T>(double(alpha) * s);
}

template <class T>
void squared_error_backward(int64_t n, T scale, const T* pred, const T* target, const T* mask, T* gp, T* gt) {
  for (int64_t i = 0; i < n; ++i) {
    const double g = 2.0 * double(scale) * (mask ? double(mask[i]) : 1.0) * (double(pred[i]) - double(target[i]));
    if (gp) gp[i] = static_cast<T>(g);
    if (gt) gt[i] = static_cast<T>(-g);
  }
}

template <class T>
void bce_with_logits(int64_t n, T alpha, const T* x, const T* t, T* out) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += bce_term<double>(x[i], t[i]);
  out[0] = static_cast<T>(double(alpha) * s);
}

template <class T>
void bce_with_logits_backward(int64_t n, T scale, const T* x, const T* t, T* gx, T* gt) {
  for (int64_t i = 0; i < n; ++i) {
    if (gx) gx[i] = static_cast<T>(double(scale) * (unary_forward<double>(Unary::Sigmoid, x[i]) - double(t[i])));
    if (gt) gt[i] = static_cast<T>(-double(scale) * double(x[i]));
  }
}

// Both directions go through the row softmax kernel: log-probabilities forward, probabilities backward.
template <class T>
void cross_entropy(int64_t rows, int64_t cols, T alpha, const T* x, const int64_t* labels, T* out) {
  std::vector<T> logp(rows * cols);
  softmax(true, rows, cols, x, logp.data());
  double s = 0;
  for (int64_t b = 0; b < rows; ++b) s -= double(logp[b * cols + labels[b]]);
  out[0] = static_cast<T>(double(alpha) * s);
}

template <class T>
void cross_entropy_backward(int64_t rows, int64_t cols, T scale, const T* x, const int64_t* labels, T* gx) {
  softmax(false, rows, cols, x, gx);
  for (int64_t b = 0; b < rows; ++b)
    for (int64_t j = 0; j < cols; ++j)
      gx[b * cols + j] = static_cast<T>(double(scale) * (double(gx[b * cols + j]) - (j == labels[b] ? 1.0 : 0.0)));
}

COMET_INSTANTIATE_LOSS(float)
COMET_INSTANTIATE_LOSS(double)

}  // namespace comet::ref
