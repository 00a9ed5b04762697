// CUDA elementwise kernels on device buffers, with the signatures of ref::unary / cpu::unary
// (kernels/elementwise.h) and the same per-element math (kernels/elementwise_math.h, COMET_HD). Launched on
// the default stream. Test: tests/kernels/test_cuda.cpp.
#pragma once
#include <cstdint>

#include "kernels/elementwise_math.h"

namespace comet::cuda {
// y[i] = f(x[i]) for i < n; x and y are device pointers (y may equal x).
template <class T> void unary(Unary op, int64_t n, const T* x, T* y);
}  // namespace comet::cuda
