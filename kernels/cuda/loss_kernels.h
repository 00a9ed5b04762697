// Bodies of the loss kernels on the device (launch seam: kernels/cuda/launch.h), the math of kernels/loss.h:
//   forwards: out[0] = alpha * (sum of the terms), a deterministic sum (run_sum, kernels/cuda/reduce_kernels.h)
//     of SquaredErrorTerms, BceTerms, or the rows' cross-entropies (CrossEntropyOp, one block per row: the max and
//     the sum of exponentials as in SoftmaxOp, then logsumexp - x[label] per row);
//   backwards: SquaredErrorBackwardKernel and BceBackwardKernel are grid-stride loops with the CPU's per-element
//     math, the cross-entropy's gx = scale (softmax - onehot) is CrossEntropyOp's write;
//   the masked MSE's count of observed targets is a sum of ObservedTerms (exact: integers in double).
// Launchers: kernels/cuda/loss.cu. Test: tests/kernels/test_cuda_loss.cpp.
#pragma once
#include <cstdint>

#include "kernels/cuda/reduce_kernels.h"
#include "kernels/loss.h"

namespace comet::cuda {

// m_i (p_i - t_i)^2 in double; mask null: m = 1.
template <class T>
struct SquaredErrorTerms {
  const T* pred;
  const T* target;
  const T* mask;

  COMET_HD double operator()(int64_t i) const {
    const double d = double(pred[i]) - double(target[i]);
    return (mask ? double(mask[i]) : 1.0) * d * d;
  }
};

template <class T>
struct BceTerms {
  const T* x;
  const T* t;
  COMET_HD double operator()(int64_t i) const { return double(comet::bce_term<T>(x[i], t[i])); }
};

// 1 where the mask observes the target (nonzero), else 0.
template <class T>
struct ObservedTerms {
  const T* mask;
  COMET_HD double operator()(int64_t i) const { return mask[i] != T(0) ? 1.0 : 0.0; }
};

// gp = 2 scale m (p - t), gt = -gp (null outputs skipped), rounded as cpu::squared_error_backward.
template <class T>
struct SquaredErrorBackwardKernel : OnePhase<SquaredErrorBackwardKernel<T>> {
  int64_t n;
  T scale;
  const T* pred;
  const T* target;
  const T* mask;
  T* gp;
  T* gt;

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < n; i += t.grid_threads()) {
      const T g = T(2) * scale * (mask ? mask[i] : T(1)) * (pred[i] - target[i]);
      if (gp) gp[i] = g;
      if (gt) gt[i] = -g;
    }
  }
};

// gx = scale (sigmoid(x) - t), gt = -scale x (null outputs skipped), as cpu::bce_with_logits_backward.
template <class T>
struct BceBackwardKernel : OnePhase<BceBackwardKernel<T>> {
  int64_t n;
  T scale;
  const T* x;
  const T* target;
  T* gx;
  T* gt;

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < n; i += t.grid_threads()) {
      if (gx) gx[i] = scale * (unary_forward<T>(Unary::Sigmoid, x[i]) - target[i]);
      if (gt) gt[i] = -scale * x[i];
    }
  }
};

// A row of logits x [rows, cols] with its label: the softmax's max and sum of exponentials (SoftmaxOp's passes),
// then either the row's loss log s - (x[label] - m) into row_loss (gx null) or gx = scale (softmax - onehot).
template <class T>
struct CrossEntropyOp {
  static constexpr int kPasses = SoftmaxOp<T>::kPasses;
  SoftmaxOp<T> softmax;  // its y is unused
  const int64_t* labels;
  double* row_loss;
  T scale;
  T* gx;

  COMET_HD static Combine combine(int pass) { return SoftmaxOp<T>::combine(pass); }
  COMET_HD int64_t length(int64_t) const { return softmax.cols; }
  COMET_HD double term(int pass, int64_t i, int64_t j, const double* r) const { return softmax.term(pass, i, j, r); }
  COMET_HD void write_row(int64_t i, const double* r) const {
    if (!gx) row_loss[i] = std::log(r[1]) - double(softmax.shifted(i, labels[i], r));
  }
  COMET_HD void write(int64_t i, int64_t j, const double* r) const {
    if (!gx) return;
    const T p = std::exp(softmax.shifted(i, j, r)) * static_cast<T>(1.0 / r[1]);
    gx[i * softmax.cols + j] = static_cast<T>(double(scale) * (double(p) - (j == labels[i] ? 1.0 : 0.0)));
  }
};

}  // namespace comet::cuda
