// Bodies of the 2x2 max-pool (stride 2) on the device (launch seam: kernels/cuda/launch.h), NCHW planes as in
// kernels/conv.h, with its window_argmax (the first maximum on ties):
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
