// cuBLAS GEMM with the row-major GemmArgs interface of ref::gemm and cpu::gemm (kernels/gemm.h); a, b and c
// are device pointers. The row-major -> column-major mapping is kernels/cuda/cublas_mapping.h. Runs on the
// default stream (asynchronous to the host). Test: tests/kernels/test_cuda.cpp.
#pragma once
#include "kernels/gemm.h"

namespace comet::cuda {
template <class T> void gemm(const GemmArgs<T>& g);
}  // namespace comet::cuda
