// Launchers of the grouped expert GEMMs (see grouped_gemm.h; bodies and launch math in grouped_gemm_kernels.h).
#include "kernels/cuda/grouped_gemm.h"
#include "kernels/cuda/grouped_gemm_kernels.h"
#include "kernels/cuda/launch.cuh"

namespace comet::cuda {

template <class T>
void grouped_linear(int64_t experts, const int64_t* offsets, int64_t rows, int64_t in, int64_t out, const T* x,
                    const T* w, const T* b, T* y) {
  const GroupedForward<T> problem{experts, in, out, offsets, x, w, b, y};
  launch(TiledGemmKernel<T, GroupedForward<T>>{problem}, segment_tiles_launch(rows, experts, out),
         "cuda::grouped_linear");
}

template <class T>
void grouped_linear_backward(int64_t experts, const int64_t* offsets, int64_t rows, int64_t in, int64_t out,
                             const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb) {
  if (gx) {
    const GroupedBackwardData<T> problem{experts, in, out, offsets, gy, w, gx};
    launch(TiledGemmKernel<T, GroupedBackwardData<T>>{problem}, segment_tiles_launch(rows, experts, in),
           "cuda::grouped_linear_backward (data)");
  }
  if (gw) {
    const GroupedBackwardWeight<T> problem{experts, in, out, offsets, x, gy, gw};
    launch(TiledGemmKernel<T, GroupedBackwardWeight<T>>{problem}, expert_tiles_launch(experts, in, out),
           "cuda::grouped_linear_backward (weight)");
  }
  if (gb) {
    launch(SegmentSumKernel<T>{{}, experts, out, offsets, nullptr, gy, gb}, elementwise_launch(experts * out),
           "cuda::grouped_linear_backward (bias)");
  }
}

#define COMET_INSTANTIATE_CUDA_GROUPED_GEMM(T)                                                                 \
  template void grouped_linear<T>(int64_t, const int64_t*, int64_t, int64_t, int64_t, const T*, const T*,      \
                                  const T*, T*);                                                               \
  template void grouped_linear_backward<T>(int64_t, const int64_t*, int64_t, int64_t, int64_t, const T*,        \
                                           const T*, const T*, T*, T*, T*);
COMET_INSTANTIATE_CUDA_GROUPED_GEMM(float)
COMET_INSTANTIATE_CUDA_GROUPED_GEMM(double)

}  // namespace comet::cuda
