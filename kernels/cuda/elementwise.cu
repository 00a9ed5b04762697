// Launchers of the elementwise CUDA kernels (see elementwise.h; bodies in elementwise_kernels.h).
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/elementwise_kernels.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/sum.cuh"

namespace comet::cuda {

template <class T>
void unary(Unary op, int64_t n, const T* x, T* y) {
  launch(UnaryKernel<T>{{}, op, n, x, y}, elementwise_launch(n), "cuda::unary");
}

template <class T>
void unary_backward(Unary op, int64_t n, const T* x, const T* y, const T* gy, T* gx) {
  launch(UnaryKernel<T>{{}, op, n, x, gx, y, gy}, elementwise_launch(n), "cuda::unary_backward");
}

template <class T>
void binary(Binary op, Broadcast bc, int64_t rows, int64_t cols, const T* a, const T* b, T* c) {
  launch(BinaryKernel<T>{{}, op, bc, rows, cols, a, b, c}, elementwise_launch(rows * cols), "cuda::binary");
}

template <class T>
void binary_backward(Binary op, Broadcast bc, int64_t rows, int64_t cols, const T* a, const T* b, const T* gc, T* ga,
                     T* gb) {
  if (ga) {
    launch(BinaryKernel<T>{{}, op, bc, rows, cols, a, b, ga, gc}, elementwise_launch(rows * cols),
           "cuda::binary_backward (a)");
  }
  if (gb) {
    launch_sum_to(bc, rows, cols, T(1), BinaryGradBTerms<T>{op, bc, cols, a, b, gc}, gb,
                  "cuda::binary_backward (b)");
  }
}

template <class T>
void smooth_step(int64_t n, T gamma, const T* x, T* y) {
  launch(SmoothStepKernel<T>{{}, n, gamma, x, nullptr, y}, elementwise_launch(n), "cuda::smooth_step");
}

template <class T>
void smooth_step_backward(int64_t n, T gamma, const T* x, const T* gy, T* gx) {
  launch(SmoothStepKernel<T>{{}, n, gamma, x, gy, gx}, elementwise_launch(n), "cuda::smooth_step_backward");
}

template <class T>
void scale(int64_t n, T alpha, const T* x, T* y) {
  launch(AxpyKernel<T>{{}, 1, n, alpha, Broadcast::Full, x, n, y, n, false}, elementwise_launch(n), "cuda::scale");
}

template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y) {
  launch(AxpyKernel<T>{{}, 1, n, alpha, Broadcast::Full, x, n, y, n, true}, elementwise_launch(n), "cuda::axpy");
}

template <class T>
void expand(Broadcast bc, int64_t rows, int64_t cols, T alpha, const T* gy, T* gx) {
  launch(AxpyKernel<T>{{}, rows, cols, alpha, bc, gy, cols, gx, cols, false}, elementwise_launch(rows * cols),
         "cuda::expand");
}

template <class T>
void copy_cols(int64_t rows, int64_t width, const T* src, int64_t lds, T* dst, int64_t ldd, bool accumulate) {
  launch(AxpyKernel<T>{{}, rows, width, T(1), Broadcast::Full, src, lds, dst, ldd, accumulate},
         elementwise_launch(rows * width), "cuda::copy_cols");
}

template <class T>
void adam(int64_t n, const cpu::AdamStep<T>& s, T* p, const T* g, T* m, T* v) {
  launch(AdamKernel<T>{{}, n, s, p, g, m, v}, elementwise_launch(n), "cuda::adam");
}

template <class T>
void sgd(int64_t n, const SgdStep<T>& s, T* p, const T* g, T* v) {
  launch(SgdKernel<T>{{}, n, s, p, g, v}, elementwise_launch(n), "cuda::sgd");
}

#define COMET_INSTANTIATE_CUDA_ELEMENTWISE(T)                                               \
  template void unary<T>(Unary, int64_t, const T*, T*);                                     \
  template void unary_backward<T>(Unary, int64_t, const T*, const T*, const T*, T*);        \
  template void binary<T>(Binary, Broadcast, int64_t, int64_t, const T*, const T*, T*);     \
  template void binary_backward<T>(Binary, Broadcast, int64_t, int64_t, const T*, const T*, const T*, T*, T*); \
  template void smooth_step<T>(int64_t, T, const T*, T*);                                   \
  template void smooth_step_backward<T>(int64_t, T, const T*, const T*, T*);                \
  template void scale<T>(int64_t, T, const T*, T*);                                         \
  template void axpy<T>(int64_t, T, const T*, T*);                                          \
  template void expand<T>(Broadcast, int64_t, int64_t, T, const T*, T*);                   \
  template void copy_cols<T>(int64_t, int64_t, const T*, int64_t, T*, int64_t, bool);       \
  template void adam<T>(int64_t, const cpu::AdamStep<T>&, T*, const T*, T*, T*);            \
  template void sgd<T>(int64_t, const SgdStep<T>&, T*, const T*, T*);
COMET_INSTANTIATE_CUDA_ELEMENTWISE(float)
COMET_INSTANTIATE_CUDA_ELEMENTWISE(double)

}  // namespace comet::cuda
