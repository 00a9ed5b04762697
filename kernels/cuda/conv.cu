// Launchers of the max-pool kernels (see conv.h; bodies in conv_kernels.h).
#include "kernels/cuda/conv.h"
#include "kernels/cuda/conv_kernels.h"
#include "kernels/cuda/launch.cuh"

namespace comet::cuda {

template <class T>
void maxpool2x2(int64_t planes, int64_t h, int64_t w, const T* x, T* y) {
  launch(MaxPoolKernel<T>{{}, planes, h, w, x, y}, elementwise_launch(planes * (h / 2) * (w / 2)), "cuda::maxpool2x2");
}

template <class T>
void maxpool2x2_backward(int64_t planes, int64_t h, int64_t w, const T* x, const T* gy, T* gx) {
  launch(MaxPoolBackwardKernel<T>{{}, planes, h, w, x, gy, gx}, elementwise_launch(planes * h * w),
         "cuda::maxpool2x2_backward");
}

#define COMET_INSTANTIATE_CUDA_CONV(T)                                                  \
  template void maxpool2x2<T>(int64_t, int64_t, int64_t, const T*, T*);                 \
  template void maxpool2x2_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, T*);
COMET_INSTANTIATE_CUDA_CONV(float)
COMET_INSTANTIATE_CUDA_CONV(double)

}  // namespace comet::cuda
