// Launchers of the convolution and max-pool kernels (see conv.h; bodies in conv_kernels.h). The convolution runs
// sample by sample through one column buffer, as the CPU does: a batch-wide column matrix would be batch times
// larger.
#include "kernels/cuda/conv.h"
#include "kernels/cuda/conv_kernels.h"
#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/sum.cuh"

namespace comet::cuda {
namespace {

template <class T>
void launch_im2col(const ConvGeom& g, const T* x, T* col) {
  launch(Im2colKernel<T>{{}, g, x, col}, elementwise_launch(g.patch() * g.positions()), "cuda::conv2d (im2col)");
}

}  // namespace

template <class T>
void conv2d(const ConvGeom& g, int64_t batch, int64_t out_ch, const T* x, const T* w, const T* bias, T* y) {
  const int64_t p = g.positions(), k = g.patch();
  Tensor col = cuda_empty({k, p}, dtype_of<T>());
  T* cp = static_cast<T*>(col.raw());
  for (int64_t n = 0; n < batch; ++n) {
    T* yn = y + n * out_ch * p;
    launch_im2col(g, x + n * g.in_size(), cp);
    run_gemm<T>(&gemm<T>, false, false, out_ch, p, k, w, k, cp, p, T(0), yn, p);
    if (bias) binary(Binary::Add, Broadcast::Col, out_ch, p, yn, bias, yn);
  }
}

template <class T>
void conv2d_backward(const ConvGeom& g, int64_t batch, int64_t out_ch, const T* x, const T* w, const T* gy, T* gx,
                     T* gw, T* gb) {
  const int64_t p = g.positions(), k = g.patch();
  Tensor col = cuda_empty({k, p}, dtype_of<T>());
  T* cp = static_cast<T*>(col.raw());
  for (int64_t n = 0; n < batch; ++n) {
    const T* gyn = gy + n * out_ch * p;
    if (gw) {  // gw = sum over samples of gy_n col_n^T, accumulated by cuBLAS (beta 1 after the first sample)
      launch_im2col(g, x + n * g.in_size(), cp);
      run_gemm<T>(&gemm<T>, false, true, out_ch, k, p, gyn, p, cp, p, n == 0 ? T(0) : T(1), gw, k);
    }
    if (gx) {
      run_gemm<T>(&gemm<T>, true, false, k, p, out_ch, w, k, gyn, p, T(0), cp, p);
      launch(Col2imKernel<T>{{}, g, cp, gx + n * g.in_size()}, elementwise_launch(g.in_size()),
             "cuda::conv2d_backward (col2im)");
    }
  }
  if (gw && batch == 0) set_zero(gw, sizeof(T) * out_ch * k, "cuda::conv2d_backward: gw = 0");
  if (gb) {
    launch_sum_to(Broadcast::Col, out_ch, batch * p, T(1), ConvBiasTerms<T>{out_ch, p, gy}, gb,
                  "cuda::conv2d_backward (bias)");
  }
}

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
  template void conv2d<T>(const ConvGeom&, int64_t, int64_t, const T*, const T*, const T*, T*); \
  template void conv2d_backward<T>(const ConvGeom&, int64_t, int64_t, const T*, const T*, const T*, T*, T*, T*); \
  template void maxpool2x2<T>(int64_t, int64_t, int64_t, const T*, T*);                 \
  template void maxpool2x2_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, T*);
COMET_INSTANTIATE_CUDA_CONV(float)
COMET_INSTANTIATE_CUDA_CONV(double)

}  // namespace comet::cuda
