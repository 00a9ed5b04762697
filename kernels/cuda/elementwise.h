// CUDA elementwise kernels on device buffers, with the signatures of their CPU counterparts and the same
// per-element math (bodies: kernels/cuda/elementwise_kernels.h). Launched on the default stream.
// Test: tests/kernels/test_cuda_elementwise.cpp (host runs of the bodies; device runs skip without a GPU).
#pragma once
#include <cstdint>

#include "kernels/cpu/vector_loops.h"
#include "kernels/elementwise.h"

namespace comet::cuda {
// y[i] = f(x[i]) for i < n; x and y are device pointers (y may equal x). As ref::unary / cpu::unary.
template <class T> void unary(Unary op, int64_t n, const T* x, T* y);
// gx = gy f'(x) given y = f(x), as ref::unary_backward.
template <class T> void unary_backward(Unary op, int64_t n, const T* x, const T* y, const T* gy, T* gx);
// c = a op b with b broadcast over a rows x cols matrix, as ref::binary (kernels/elementwise.h).
template <class T> void binary(Binary op, Broadcast bc, int64_t rows, int64_t cols, const T* a, const T* b, T* c);
// ga (a's shape) and gb (b's, the terms summed in double in a fixed order), as ref::binary_backward; null skipped.
template <class T>
void binary_backward(Binary op, Broadcast bc, int64_t rows, int64_t cols, const T* a, const T* b, const T* gc, T* ga,
                     T* gb);
// As ref::smooth_step / cpu::smooth_step (kernels/gate.h).
template <class T> void smooth_step(int64_t n, T gamma, const T* x, T* y);
template <class T> void smooth_step_backward(int64_t n, T gamma, const T* x, const T* gy, T* gx);
// y = alpha x and y += alpha x on n elements, as cpu::scale / cpu::axpy (kernels/elementwise.h).
template <class T> void scale(int64_t n, T alpha, const T* x, T* y);
template <class T> void axpy(int64_t n, T alpha, const T* x, T* y);
// gx = alpha gy broadcast to rows x cols, as ref::expand (kernels/reduce.h; the adjoint of sum_to).
template <class T> void expand(Broadcast bc, int64_t rows, int64_t cols, T alpha, const T* gy, T* gx);
// dst[r, j] = src[r, j] (or += when accumulate) for r < rows, j < width, row strides lds / ldd: cpu::copy_cols
// (kernels/index.h), the concat and split of column blocks.
template <class T>
void copy_cols(int64_t rows, int64_t width, const T* src, int64_t lds, T* dst, int64_t ldd, bool accumulate);
// One Adam step on n elements, as cpu::VectorLoops::adam (four distinct device buffers).
template <class T> void adam(int64_t n, const cpu::AdamStep<T>& s, T* p, const T* g, T* m, T* v);
// One SGD step on n elements (sgd_element; v null: no momentum), as Sgd's CPU loop.
template <class T> void sgd(int64_t n, const SgdStep<T>& s, T* p, const T* g, T* v);
}  // namespace comet::cuda
