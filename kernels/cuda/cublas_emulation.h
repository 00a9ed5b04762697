// cublas<t>gemm emulated on the host exactly as cuBLAS reads its arguments: column-major storage (element (i, j)
// of a matrix with leading dimension ld at [i + j * ld]), an op code per operand, beta == 0 overwrites C (NaN in C
// included), sums in double in index order. The emulated device's GEMM (COMET_CUDA_EMULATE=1) and the test of the
// row-major -> column-major mapping (tests/kernels/test_cuda.cpp) run through it. Plain host code.
#pragma once
#include <algorithm>
#include <cstdint>

#include "core/error.h"
#include "kernels/cuda/cublas_mapping.h"

namespace comet::cuda {

// The leading dimensions cuBLAS accepts for c (it returns CUBLAS_STATUS_INVALID_VALUE otherwise).
template <class T>
void check_cublas_leading_dimensions(const CublasGemmArgs<T>& c) {
  COMET_CHECK(c.lda >= std::max<int64_t>(1, c.trans_a ? c.k : c.m) &&
                  c.ldb >= std::max<int64_t>(1, c.trans_b ? c.n : c.k) && c.ldc >= std::max<int64_t>(1, c.m),
              "cublas gemm (emulated): invalid leading dimensions lda={} ldb={} ldc={} for m={} n={} k={} "
              "trans_a={} trans_b={}", c.lda, c.ldb, c.ldc, c.m, c.n, c.k, c.trans_a, c.trans_b);
}

template <class T>
void cublas_gemm_emulated(const CublasGemmArgs<T>& c) {
  check_cublas_leading_dimensions(c);
  for (int64_t j = 0; j < c.n; ++j) {
    for (int64_t i = 0; i < c.m; ++i) {
      double acc = 0;
      for (int64_t p = 0; p < c.k; ++p) {
        const double a = c.trans_a ? c.a[p + i * c.lda] : c.a[i + p * c.lda];
        const double b = c.trans_b ? c.b[j + p * c.ldb] : c.b[p + j * c.ldb];
        acc += a * b;
      }
      T& out = c.c[i + j * c.ldc];
      out = static_cast<T>(c.alpha * acc + (c.beta == T(0) ? 0.0 : static_cast<double>(c.beta) * out));
    }
  }
}

}  // namespace comet::cuda
