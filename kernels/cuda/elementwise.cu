// Launchers of the elementwise CUDA kernels (see elementwise.h; bodies in elementwise_kernels.h).
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/elementwise_kernels.h"
#include "kernels/cuda/launch.cuh"

namespace comet::cuda {

template <class T>
void unary(Unary op, int64_t n, const T* x, T* y) {
  launch(UnaryKernel<T>{{}, op, n, x, y}, elementwise_launch(n), "cuda::unary");
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
void adam(int64_t n, const cpu::AdamStep<T>& s, T* p, const T* g, T* m, T* v) {
  launch(AdamKernel<T>{{}, n, s, p, g, m, v}, elementwise_launch(n), "cuda::adam");
}

#define COMET_INSTANTIATE_CUDA_ELEMENTWISE(T)                                               \
  template void unary<T>(Unary, int64_t, const T*, T*);                                     \
  template void smooth_step<T>(int64_t, T, const T*, T*);                                   \
  template void smooth_step_backward<T>(int64_t, T, const T*, const T*, T*);                \
  template void adam<T>(int64_t, const cpu::AdamStep<T>&, T*, const T*, T*, T*);
COMET_INSTANTIATE_CUDA_ELEMENTWISE(float)
COMET_INSTANTIATE_CUDA_ELEMENTWISE(double)

}  // namespace comet::cuda
