// Bodies of the loss kernels on the device (launch seam: kernels/cuda/launch.h), the math of kernels/loss.h:
//   forwards: out[0] = alpha * (sum of the terms), a deterministic sum (run_sum, kernels/cuda/reduce_kernels.h)
//     of SquaredError's or BceWithLogits's terms, or the rows' cross-entropies (CrossEntropyOp, one block per row:
//     the max and the sum of exponentials as in SoftmaxOp, then logsumexp - x[label] per row);
//   backwards: LossBackwardKernel, a grid-stride loop over SquaredError's or BceWithLogits's gradients (the CPU's
//     per-element math), and the cross-entropy's gx = scale (softmax - onehot) as CrossEntropyOp's write;
//   the masked MSE's count of observed targets is a sum of ObservedTerms (exact: integers in double).
// Launchers: kernels/cuda/loss.cu. Test: tests/kernels/test_cuda_loss.cpp.
#pragma once
#include <cstdint>

#include "kernels/cuda/reduce_kernels.h"
#include "kernels/loss.h"

namespace comet::cuda {

// An elementwise loss of two inputs a, b: its terms, operator()(i) in double (summed by run_sum), and its
// gradients gradients(i, scale, ga, gb) in T (LossBackwardKernel), as the CPU rounds them.

// Terms m_i (a_i - b_i)^2 (mask null: m = 1); ga = 2 scale m (a - b), gb = -ga: pred a, target b.
template <class T>
struct SquaredError {
  const T* pred;
  const T* target;
  const T* mask;

  COMET_HD double operator()(int64_t i) const {
    const double d = double(pred[i]) - double(target[i]);
    return (mask ? double(mask[i]) : 1.0) * d * d;
  }
  COMET_HD void gradients(int64_t i, T scale, T& gp, T& gt) const {
    gp = T(2) * scale * (mask ? mask[i] : T(1)) * (pred[i] - target[i]);
    gt = -gp;
  }
};

// Terms bce_term(x_i, t_i); gx = scale (sigmoid(x) - t), gt = -scale x: logits a, targets b.
template <class T>
struct BceWithLogits {
  const T* x;
  const T* t;

  COMET_HD double operator()(int64_t i) const { return double(comet::bce_term<T>(x[i], t[i])); }
  COMET_HD void gradients(int64_t i, T scale, T& gx, T& gt) const {
    gx = scale * (unary_forward<T>(Unary::Sigmoid, x[i]) - t[i]);
    gt = -scale * x[i];
  }
};

// 1 where the mask observes the target (nonzero), else 0.
template <class T>
struct ObservedTerms {
  const T* mask;
  COMET_HD double operator()(int64_t i) const { return mask[i] != T(0) ? 1.0 : 0.0; }
};

// Both gradients of an elementwise loss (SquaredError, BceWithLogits); null outputs skipped.
template <class T, class Loss>
struct LossBackwardKernel : OnePhase<LossBackwardKernel<T, Loss>> {
  int64_t n;
  T scale;
  Loss loss;
  T* ga;
  T* gb;

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < n; i += t.grid_threads()) {
      T a, b;
      loss.gradients(i, scale, a, b);
      if (ga) ga[i] = a;
      if (gb) gb[i] = b;
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
