// Copies that change a buffer's layout or type on the device: the transpose of a row-major matrix and the cast
// between float and double, as the CPU's transpose op and Tensor::to. Default stream. Plain C++ (no CUDA
// headers). Bodies: kernels/cuda/layout_kernels.h. Test: tests/kernels/test_cuda_layout.cpp.
#pragma once
#include <cstdint>

namespace comet::cuda {
// out [cols, rows] = x [rows, cols]^T; distinct buffers.
template <class T> void transpose(int64_t rows, int64_t cols, const T* x, T* out);
// y[i] = To(x[i]) for i < n (float <-> double, rounding to nearest as on the CPU).
template <class From, class To> void cast(int64_t n, const From* x, To* y);
}  // namespace comet::cuda
