// Bodies of the copies that change a buffer's layout or type on the device (launch seam: kernels/cuda/launch.h),
// grid-stride loops with one output element per thread:
//   TransposeKernel  out [cols, rows] = x [rows, cols]^T (the transpose op; its backward is a transpose too)
//   CastKernel       y[i] = To(x[i]) (the cast op, f32 <-> f64; its backward is the cast back)
// Launchers: kernels/cuda/layout.cu. Test: tests/kernels/test_cuda_layout.cpp.
#pragma once
#include <cstdint>

#include "kernels/cuda/launch.h"

namespace comet::cuda {

template <class T>
struct TransposeKernel : OnePhase<TransposeKernel<T>> {
  int64_t rows, cols;
  const T* x;
  T* out;

  COMET_HD void run(const Thread& t) const {
    for (int64_t e = t.global(); e < rows * cols; e += t.grid_threads()) {
      const int64_t j = e / rows, i = e % rows;  // out[j, i]: consecutive threads write consecutive elements
      out[e] = x[i * cols + j];
    }
  }
};

template <class From, class To>
struct CastKernel : OnePhase<CastKernel<From, To>> {
  int64_t n;
  const From* x;
  To* y;

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < n; i += t.grid_threads()) y[i] = static_cast<To>(x[i]);
  }
};

}  // namespace comet::cuda
