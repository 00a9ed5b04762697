// Maps a row-major GEMM (kernels/gemm.h) onto column-major cuBLAS. A row-major matrix with leading dimension
// ld is, read column-major with the same ld, its transpose; so C = op(A) op(B) in row-major is computed as
// C^T = op(B)^T op(A)^T in column-major: B's buffer goes first with B's transpose flag, A's second with A's,
// and m and n swap. Plain host code, so the mapping is tested without a GPU by a column-major CPU emulation
// of cuBLAS in tests/kernels/test_cuda.cpp.
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/gemm.h"

namespace comet::cuda {

// Arguments of cublas<t>gemm, in its order and with its (column-major) meaning:
//   C[m x n] = alpha * op(A) * op(B) + beta * C, op(A) m x k, op(B) k x n, op(X) = X^T when trans_X.
template <class T>
struct CublasGemmArgs {
  bool trans_a = false, trans_b = false;  // CUBLAS_OP_T when true, CUBLAS_OP_N when false
  int64_t m = 0, n = 0, k = 0;
  T alpha = 1;
  const T* a = nullptr;
  int64_t lda = 0;
  const T* b = nullptr;
  int64_t ldb = 0;
  T beta = 0;
  T* c = nullptr;
  int64_t ldc = 0;
};

// cuBLAS rejects a leading dimension below 1 even for an empty matrix.
inline int64_t cublas_ld(int64_t ld) { return std::max<int64_t>(ld, 1); }

template <class T>
CublasGemmArgs<T> to_cublas(const GemmArgs<T>& g) {
  CublasGemmArgs<T> c;
  c.trans_a = g.trans_b;
  c.trans_b = g.trans_a;
  c.m = g.n;
  c.n = g.m;
  c.k = g.k;
  c.alpha = g.alpha;
  c.a = g.b;
  c.lda = cublas_ld(g.ldb);
  c.b = g.a;
  c.ldb = cublas_ld(g.lda);
  c.beta = g.beta;
  c.c = g.c;
  c.ldc = cublas_ld(g.ldc);
  return c;
}

// The strides of a strided-batched call: the operands swap, as to_cublas swaps them.
struct CublasStrides {
  int64_t a = 0, b = 0, c = 0;
};

inline CublasStrides to_cublas_strides(int64_t stride_a, int64_t stride_b, int64_t stride_c) {
  return {stride_b, stride_a, stride_c};
}

}  // namespace comet::cuda
