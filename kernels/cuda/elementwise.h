// CUDA elementwise kernels on device buffers, with the signatures of their CPU counterparts and the same
// per-element math (bodies: kernels/cuda/elementwise_kernels.h). Launched on the default stream.
// Test: tests/kernels/test_cuda_elementwise.cpp (host runs of the bodies; device runs skip without a GPU).
#pragma once
#include <cstdint>

#include "kernels/cpu/vector_loops.h"
#include "kernels/elementwise_math.h"

namespace comet::cuda {
// y[i] = f(x[i]) for i < n; x and y are device pointers (y may equal x). As ref::unary / cpu::unary.
template <class T> void unary(Unary op, int64_t n, const T* x, T* y);
// As ref::smooth_step / cpu::smooth_step (kernels/gate.h).
template <class T> void smooth_step(int64_t n, T gamma, const T* x, T* y);
template <class T> void smooth_step_backward(int64_t n, T gamma, const T* x, const T* gy, T* gx);
// One Adam step on n elements, as cpu::VectorLoops::adam (four distinct device buffers).
template <class T> void adam(int64_t n, const cpu::AdamStep<T>& s, T* p, const T* g, T* m, T* v);
}  // namespace comet::cuda
