// Bodies of the convolution's index kernels and of the 2x2 max-pool (stride 2) on the device (launch seam:
// kernels/cuda/launch.h), NCHW as in kernels/conv.h. The convolution is kernels/conv.h's im2col + GEMM, sample by
// sample, the GEMMs on cuBLAS (kernels/cuda/gemm.h):
//   Im2colKernel   col [patch, positions] of one sample, one thread per column entry (0 where it reads padding);
//   Col2imKernel   its adjoint, one thread per input element summing the entries that read it in the CPU
//                  col2im's order (kernel rows i, then columns j): no scatter, no atomics;
//   ConvBiasTerms  gy's terms of the bias gradient, summed per output channel by run_sum_to (reduce_kernels.h).
// The max-pool, with kernels/conv.h's window_argmax (the first maximum on ties):
//   MaxPoolKernel          y = each window's maximum, one thread per output element;
//   MaxPoolBackwardKernel  gx = gy at each window's argmax and 0 elsewhere (also the last row or column of an odd
//                          plane, which no window covers), one thread per input element: every gx element is
//                          written once, by its own thread, so no zero fill and no scatter.
// Launchers: kernels/cuda/conv.cu. Test: tests/kernels/test_cuda_conv.cpp.
#pragma once
#include <cstdint>

#include "kernels/conv.h"
#include "kernels/cuda/launch.h"

namespace comet::cuda {

template <class T>
struct Im2colKernel : OnePhase<Im2colKernel<T>> {
  ConvGeom g;
  const T* x;  // one sample [C, H, W]
  T* col;

  COMET_HD void run(const Thread& t) const {
    const int64_t oh = g.out_h(), ow = g.out_w();
    for (int64_t e = t.global(); e < g.patch() * oh * ow; e += t.grid_threads()) {
      const int64_t row = e / (oh * ow), oy = e / ow % oh, ox = e % ow;
      const int64_t c = row / (g.kh * g.kw), i = row / g.kw % g.kh, j = row % g.kw;
      const int64_t iy = oy + i - g.pad, ix = ox + j - g.pad;
      col[e] = iy >= 0 && iy < g.height && ix >= 0 && ix < g.width ? x[(c * g.height + iy) * g.width + ix] : T(0);
    }
  }
};

template <class T>
struct Col2imKernel : OnePhase<Col2imKernel<T>> {
  ConvGeom g;
  const T* col;
  T* x;  // one sample [C, H, W], overwritten

  COMET_HD void run(const Thread& t) const {
    const int64_t oh = g.out_h(), ow = g.out_w();
    for (int64_t e = t.global(); e < g.in_size(); e += t.grid_threads()) {
      const int64_t c = e / (g.height * g.width), iy = e / g.width % g.height, ix = e % g.width;
      T acc = T(0);
      for (int64_t i = 0; i < g.kh; ++i) {
        const int64_t oy = iy - i + g.pad;
        if (oy < 0 || oy >= oh) continue;
        for (int64_t j = 0; j < g.kw; ++j) {
          const int64_t ox = ix - j + g.pad;
          if (ox >= 0 && ox < ow) acc += col[(((c * g.kh + i) * g.kw + j) * oh + oy) * ow + ox];
        }
      }
      x[e] = acc;
    }
  }
};

// gy [batch, out_ch, positions] as out_ch rows of batch x positions terms: the bias gradient is their row sums.
template <class T>
struct ConvBiasTerms {
  int64_t out_ch, positions;
  const T* gy;
  COMET_HD double operator()(int64_t o, int64_t j) const {
    return gy[(j / positions * out_ch + o) * positions + j % positions];
  }
};

template <class T>
struct MaxPoolKernel : OnePhase<MaxPoolKernel<T>> {
  int64_t planes, h, w;
  const T* x;
  T* y;

  COMET_HD void run(const Thread& t) const {
    const int64_t oh = h / 2, ow = w / 2;
    for (int64_t e = t.global(); e < planes * oh * ow; e += t.grid_threads()) {
      const int64_t q = e / (oh * ow), oy = e / ow % oh, ox = e % ow;
      const T* top = x + (q * h + 2 * oy) * w + 2 * ox;
      y[e] = top[window_offset(window_argmax(top, w), w)];
    }
  }
};

template <class T>
struct MaxPoolBackwardKernel : OnePhase<MaxPoolBackwardKernel<T>> {
  int64_t planes, h, w;
  const T* x;
  const T* gy;
  T* gx;

  COMET_HD void run(const Thread& t) const {
    const int64_t oh = h / 2, ow = w / 2;
    for (int64_t e = t.global(); e < planes * h * w; e += t.grid_threads()) {
      const int64_t q = e / (h * w), iy = e / w % h, ix = e % w, oy = iy / 2, ox = ix / 2;
      T g = T(0);
      if (oy < oh && ox < ow) {
        const int64_t base = (q * h + 2 * oy) * w + 2 * ox;
        if (base + window_offset(window_argmax(x + base, w), w) == e) g = gy[(q * oh + oy) * ow + ox];
      }
      gx[e] = g;
    }
  }
};

}  // namespace comet::cuda
