// Row reductions and row softmax on device buffers, with the signatures and numerics of kernels/reduce.h (sums
// in double, max-subtracted softmax) and a result that does not change from run to run: every sum is a fixed
// tree in a block, no atomics. Bodies and launch math: kernels/cuda/reduce_kernels.h. Default stream.
// Test: tests/kernels/test_cuda_reduce.cpp (host runs of the bodies; device runs skip without a GPU).
#pragma once
#include <cstdint>

#include "kernels/elementwise.h"

namespace comet::cuda {
// As ref::sum_to: Full (a scaled copy), Row (column sums), Col (row sums), Scalar (the total).
template <class T> void sum_to(Broadcast bc, int64_t rows, int64_t cols, T alpha, const T* x, T* y);
// As ref::softmax / ref::softmax_backward (log_space: log-softmax), each row of cols elements.
template <class T> void softmax(bool log_space, int64_t rows, int64_t cols, const T* x, T* y);
template <class T>
void softmax_backward(bool log_space, int64_t rows, int64_t cols, const T* y, const T* gy, T* gx);
}  // namespace comet::cuda
