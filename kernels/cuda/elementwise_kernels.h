// Bodies of the elementwise CUDA kernels (launch seam: kernels/cuda/launch.h), each a grid-stride loop over n
// elements with the per-element math of the CPU kernels:
//   UnaryKernel       y = f(x)                          (kernels/elementwise_math.h; cpu::unary)
// Launchers: kernels/cuda/elementwise.cu. Test: tests/kernels/test_cuda.cpp.
#pragma once
#include "kernels/cuda/launch.h"
#include "kernels/elementwise_math.h"

namespace comet::cuda {

template <class T>
struct UnaryKernel : OnePhase<UnaryKernel<T>> {
  Unary op;
  int64_t n;
  const T* x;
  T* y;

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < n; i += t.grid_threads()) y[i] = unary_forward(op, x[i]);
  }
};

}  // namespace comet::cuda
