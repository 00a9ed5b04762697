// Direct convolution of single-channel images (the first layer of the CNN experts: 36 x 36 images, 5 x 5 kernels),
// for the fast float conv2d of kernels/cpu/conv.cpp. im2col turns one such image into a column matrix 25 times its
// size, and the weight gradient then packs that matrix transposed for the GEMM: about two thirds of that layer's
// time went into writing and transposing it. Here the kernels read the image where it is: each output row block is
// a set of vector accumulators (output channels x vectors of columns) updated by one broadcast weight per tap, and
// each weight-gradient row (one output channel, one kernel row) keeps kw vectors of sums over the whole chunk of
// samples. Written once as templates (kernels/cpu/conv_direct_tile.h) and compiled per ISA
// (kernels/cpu/conv_direct_<isa>.cpp), as the SGEMM kernel is. Each element's sum runs in a fixed order for a given
// ISA (taps in row-major order after the bias; the weight gradient in vector lanes, then the lanes and the tail
// columns in order), so results do not depend on the thread count. Tests: tests/kernels/test_conv_direct.cpp.
#pragma once
#include <cstdint>

#include "kernels/conv.h"
#include "kernels/cpu/isa.h"

namespace comet::cpu {

// The widest kernel the direct weight gradient keeps sums for (kw vectors per row).
inline constexpr int64_t kDirectConvMaxKw = 8;

// Whether the direct kernels take this convolution: one input channel, no padding, kernels at most
// kDirectConvMaxKw wide.
inline bool direct_conv_applies(const ConvGeom& g) {
  return g.channels == 1 && g.pad == 0 && g.kw >= 1 && g.kw <= kDirectConvMaxKw && g.kh >= 1 && g.out_h() >= 1 &&
         g.out_w() >= 1;
}

struct DirectConvKernel {
  Isa isa;
  // y [samples, out_ch, OH, OW] = the convolution of x [samples, 1, H, W] with w [out_ch, 1, KH, KW], plus bias
  // (null: none). Null where im2col + GEMM is faster on this ISA.
  void (*forward)(const ConvGeom& g, int64_t samples, int64_t out_ch, const float* x, const float* w,
                  const float* bias, float* y);
  // gw [out_ch, 1, KH, KW] = the weight gradient summed over the samples (overwritten).
  void (*weight_grad)(const ConvGeom& g, int64_t samples, int64_t out_ch, const float* x, const float* gy,
                      float* gw);
};

// The kernels of `isa`, which this build must carry.
const DirectConvKernel& direct_conv_kernel(Isa isa);

// Per-ISA definitions, one translation unit each.
const DirectConvKernel& direct_conv_kernel_scalar();
const DirectConvKernel& direct_conv_kernel_avx2();
const DirectConvKernel& direct_conv_kernel_avx512();

}  // namespace comet::cpu
