// Launchers of the elementwise CUDA kernels (see elementwise.h; bodies in elementwise_kernels.h).
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/elementwise_kernels.h"
#include "kernels/cuda/launch.cuh"

namespace comet::cuda {

template <class T>
void unary(Unary op, int64_t n, const T* x, T* y) {
  launch(UnaryKernel<T>{{}, op, n, x, y}, elementwise_launch(n), "cuda::unary");
}

template void unary<float>(Unary, int64_t, const float*, float*);
template void unary<double>(Unary, int64_t, const double*, double*);

}  // namespace comet::cuda
