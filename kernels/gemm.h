// GEMM on row-major buffers, one signature for every backend (ref/, cpu/, cuda/):
//   C[m x n] = alpha * op(A) * op(B) + beta * C,  op(X) = X or X^T,
// where A is m x k (k x m if trans_a) with leading dimension lda, B is k x n (n x k if trans_b) with ldb.
// beta == 0 overwrites C (NaN in C does not propagate). With row_bias set (and beta == 0), C = alpha * op(A) * op(B)
// + row_bias instead, the n values of row_bias added to every row: a linear layer's bias, added where C is written
// rather than copied into C beforehand (the same values as that copy followed by beta = 1, without the extra pass
// over C). Tests: tests/kernels/test_gemm.cpp.
#pragma once
#include <cstdint>

namespace comet {

template <class T>
struct GemmArgs {
  bool trans_a = false, trans_b = false;
  int64_t m = 0, n = 0, k = 0;
  T alpha = 1;
  const T* a = nullptr;
  int64_t lda = 0;
  const T* b = nullptr;
  int64_t ldb = 0;
  T beta = 0;
  T* c = nullptr;
  int64_t ldc = 0;
  const T* row_bias = nullptr;  // n values, or null
};

// The argument check every backend's gemm makes: row_bias replaces beta * C, so it needs beta == 0.
template <class T>
bool gemm_row_bias_valid(const GemmArgs<T>& g) {
  return g.row_bias == nullptr || g.beta == T(0);
}

// FLOPs of one GEMM (multiply and add counted separately), the figure every benchmark reports.
inline double gemm_flops(int64_t m, int64_t n, int64_t k) { return 2.0 * m * n * k; }

namespace ref {
// Plain triple loop, double accumulation, no threads.
template <class T> void gemm(const GemmArgs<T>& g);
}  // namespace ref

namespace cpu {
// Fast CPU GEMM (threads from core/threading.h).
template <class T> void gemm(const GemmArgs<T>& g);
}  // namespace cpu

}  // namespace comet
