// Fast loss kernels: OpenMP over elements or rows; sums in double in fixed chunks or in row order, so the
// loss does not depend on the thread count. Cross-entropy goes through the row softmax kernel.
#include "kernels/loss.h"

#include <vector>

#include "core/mutation.h"
#include "kernels/cpu/parallel.h"
#include "kernels/reduce.h"

namespace comet::cpu {

template <class T>
void squared_error(int64_t n, T alpha, const T* pred, const T* target, const T* mask, T* out) {
  const double s = deterministic_sum(n, [&](int64_t i) {
    const double d = double(pred[i]) - double(target[i]);
    return (mask ? double(mask[i]) : 1.0) * d * d;
  });
  out[0] = static_cast<T>(double(alpha) * s);
}

template <class T>
void squared_error_backward(int64_t n, T scale, const T* pred, const T* target, const T* mask, T* gp, T* gt) {
  const T two_scale = T(2) * scale;
  parallel_for(n, 2, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const T g = two_scale * (mask && !COMET_MUTANT(masked_mse_no_mask_grad) ? mask[i] : T(1)) * (pred[i] - target[i]);
      if (gp) gp[i] = g;
      if (gt) gt[i] = -g;
    }
  });
}

template <class T>
void bce_with_logits(int64_t n, T alpha, const T* x, const T* t, T* out) {
  const double s = deterministic_sum(n, [&](int64_t i) { return double(bce_term<T>(x[i], t[i])); });
  out[0] = static_cast<T>(double(alpha) * s);
}

template <class T>
void bce_with_logits_backward(int64_t n, T scale, const T* x, const T* t, T* gx, T* gt) {
  const T gx_scale = COMET_MUTANT(bce_grad_unscaled) ? T(1) : scale;
  parallel_for(n, 8, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      if (gx) gx[i] = gx_scale * (unary_forward<T>(Unary::Sigmoid, x[i]) - t[i]);
      if (gt) gt[i] = -scale * x[i];
    }
  });
}

template <class T>
void cross_entropy(int64_t rows, int64_t cols, T alpha, const T* x, const int64_t* labels, T* out) {
  std::vector<T> logp(rows * cols);
  softmax(true, rows, cols, x, logp.data());
  double s = 0;  // rows in order
  for (int64_t b = 0; b < rows; ++b) s -= double(logp[b * cols + labels[b]]);
  out[0] = static_cast<T>(double(alpha) * s);
}

template <class T>
void cross_entropy_backward(int64_t rows, int64_t cols, T scale, const T* x, const int64_t* labels, T* gx) {
  softmax(false, rows, cols, x, gx);
  parallel_for(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t b = r0; b < r1; ++b) {
      T* gb = gx + b * cols;
#pragma omp simd
      for (int64_t j = 0; j < cols; ++j) gb[j] *= scale;
      if (!COMET_MUTANT(cross_entropy_label_grad)) gb[labels[b]] -= scale;
    }
  });
}

COMET_INSTANTIATE_LOSS(float)
COMET_INSTANTIATE_LOSS(double)

}  // namespace comet::cpu
