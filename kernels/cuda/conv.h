// The 2-D convolution (stride 1, zero padding) and the 2x2 max-pool (stride 2) on device buffers, with the
// signatures of kernels/conv.h (NCHW; planes = N C) and its math: im2col + GEMM sample by sample (cuBLAS), col2im
// as a gather, the bias gradient a fixed-order sum; the max-pool's tie rule. Default stream. Plain C++ (no CUDA
// headers). Bodies: kernels/cuda/conv_kernels.h. Test: tests/kernels/test_cuda_conv.cpp.
#pragma once
#include <cstdint>

#include "kernels/conv.h"

namespace comet::cuda {
// y [batch, out_ch, OH, OW] = w [out_ch, C, KH, KW] * x [batch, C, H, W] + bias (null: none), as cpu::conv2d.
template <class T>
void conv2d(const ConvGeom& g, int64_t batch, int64_t out_ch, const T* x, const T* w, const T* bias, T* y);
// gx, gw, gb (null skipped, the others overwritten), as cpu::conv2d_backward.
template <class T>
void conv2d_backward(const ConvGeom& g, int64_t batch, int64_t out_ch, const T* x, const T* w, const T* gy, T* gx,
                     T* gw, T* gb);
// y [planes, h / 2, w / 2]; gx [planes, h, w] gets gy at each window's argmax and 0 elsewhere (overwritten).
template <class T> void maxpool2x2(int64_t planes, int64_t h, int64_t w, const T* x, T* y);
template <class T> void maxpool2x2_backward(int64_t planes, int64_t h, int64_t w, const T* x, const T* gy, T* gx);
}  // namespace comet::cuda
