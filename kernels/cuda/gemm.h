// cuBLAS GEMM with the row-major GemmArgs interface of ref::gemm and cpu::gemm (kernels/gemm.h); a, b and c
// are device pointers. The row-major -> column-major mapping is kernels/cuda/cublas_mapping.h. Runs on the
// default stream (asynchronous to the host). Test: tests/kernels/test_cuda.cpp.
#pragma once
#include "kernels/gemm.h"

namespace comet::cuda {
template <class T> void gemm(const GemmArgs<T>& g);
// The GEMM of g on `batch` matrices in one call (cublas<t>gemmStridedBatched): C_i = alpha op(A_i) op(B_i) + beta C_i
// with X_i at g.x + i * stride_x: ag::bmm and its backward, as a loop of cpu::gemm calls on the CPU.
template <class T>
void gemm_batched(const GemmArgs<T>& g, int64_t batch, int64_t stride_a, int64_t stride_b, int64_t stride_c);
}  // namespace comet::cuda
