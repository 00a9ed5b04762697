// Launchers of the layout copies (see layout.h; bodies in layout_kernels.h).
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/layout.h"
#include "kernels/cuda/layout_kernels.h"

namespace comet::cuda {

template <class T>
void transpose(int64_t rows, int64_t cols, const T* x, T* out) {
  launch(TransposeKernel<T>{{}, rows, cols, x, out}, elementwise_launch(rows * cols), "cuda::transpose");
}

template <class From, class To>
void cast(int64_t n, const From* x, To* y) {
  launch(CastKernel<From, To>{{}, n, x, y}, elementwise_launch(n), "cuda::cast");
}

template void transpose<float>(int64_t, int64_t, const float*, float*);
template void transpose<double>(int64_t, int64_t, const double*, double*);
template void cast<float, double>(int64_t, const float*, double*);
template void cast<double, float>(int64_t, const double*, float*);

}  // namespace comet::cuda
