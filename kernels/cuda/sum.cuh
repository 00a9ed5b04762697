// The device runs of the deterministic sums of kernels/cuda/reduce_kernels.h (run_sum: a total; run_sum_to: onto a
// broadcast operand's shape) with the partial sums in a temporary device buffer; shared by the reduction, loss and
// elementwise launchers. Included by .cu files only.
#pragma once
#include "kernels/cuda/device.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/reduce_kernels.h"

namespace comet::cuda {

// out[0] = alpha * sum of terms(i), i < n; `what` names the caller in error messages.
template <class Terms, class Out>
void launch_sum(int64_t n, double alpha, const Terms& terms, Out* out, const char* what) {
  Tensor partials = cuda_empty({sum_launch(n).chunks}, DType::F64);
  run_sum(n, alpha, terms, out, static_cast<double*>(partials.raw()),
          [what](const auto& kernel, const Launch& l) { launch(kernel, l, what); });
}

// y = alpha * terms(i, j) reduced onto bc's shape (run_sum_to).
template <class T, class Terms>
void launch_sum_to(Broadcast bc, int64_t rows, int64_t cols, T alpha, const Terms& terms, T* y, const char* what) {
  Tensor partials;  // only a total needs them
  if (bc == Broadcast::Scalar) partials = cuda_empty({sum_launch(rows * cols).chunks}, DType::F64);
  run_sum_to(bc, rows, cols, alpha, terms, y, partials.defined() ? static_cast<double*>(partials.raw()) : nullptr,
             [what](const auto& kernel, const Launch& l) { launch(kernel, l, what); });
}

}  // namespace comet::cuda
