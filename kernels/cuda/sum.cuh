// The device run of a deterministic sum of n terms (run_sum in kernels/cuda/reduce_kernels.h) with its partial
// sums in a temporary device buffer; shared by the reduction and loss launchers. Included by .cu files only.
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

}  // namespace comet::cuda
