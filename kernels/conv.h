// Spatial kernels on NCHW buffers: 2-D convolution (stride 1, zero padding) by im2col + GEMM, and 2x2 max-pool
// with stride 2. The index math (im2col, col2im, the pooling argmax) and the per-sample GEMM steps are plain
// functions here, shared by the reference (ref::gemm, serial) and fast (cpu::gemm, parallel over the batch)
// kernels, which differ only in the GEMM they use and in how they loop over the batch.
// Shapes: x [N, C, H, W], w [O, C, KH, KW], bias [O], y [N, O, OH, OW] with OH = H + 2 pad - KH + 1 (OW alike);
// the column matrix of one sample is [C KH KW, OH OW]. Backward outputs are overwritten; null ones are skipped.
// Tests: tests/kernels/test_index_conv.cpp (hand values, threads), tests/autograd/cases_index_nn.cpp.
#pragma once
#include <algorithm>
#include <cstdint>

#include "kernels/gemm.h"
#include "core/hd.h"

namespace comet {

struct ConvGeom {
  int64_t channels = 0, height = 0, width = 0;  // one input sample
  int64_t kh = 0, kw = 0, pad = 0;
  COMET_HD int64_t out_h() const { return height + 2 * pad - kh + 1; }
  COMET_HD int64_t out_w() const { return width + 2 * pad - kw + 1; }
  COMET_HD int64_t patch() const { return channels * kh * kw; }     // rows of the column matrix
  COMET_HD int64_t positions() const { return out_h() * out_w(); }  // columns of the column matrix
  COMET_HD int64_t in_size() const { return channels * height * width; }
};

#define COMET_CONV_DECLS                                                                                     \
  template <class T>                                                                                         \
  void conv2d(const ConvGeom& g, int64_t batch, int64_t out_ch, const T* x, const T* w, const T* bias, T* y); \
  template <class T>                                                                                         \
  void conv2d_backward(const ConvGeom& g, int64_t batch, int64_t out_ch, const T* x, const T* w, const T* gy, \
                       T* gx, T* gw, T* gb);                                                                 \
  /* planes = N C; y [planes, h / 2, w / 2]; gx gets gy at each window's argmax and 0 elsewhere (an odd h's */ \
  /* last row and an odd w's last column belong to no window). */                                            \
  template <class T> void maxpool2x2(int64_t planes, int64_t h, int64_t w, const T* x, T* y);               \
  template <class T>                                                                                         \
  void maxpool2x2_backward(int64_t planes, int64_t h, int64_t w, const T* x, const T* gy, T* gx);

namespace ref { COMET_CONV_DECLS }
namespace cpu { COMET_CONV_DECLS }
#undef COMET_CONV_DECLS

// Calls f(col_offset, x_offset, len) for every run of len entries of one sample's column matrix that read
// in-bounds input elements: col[col_offset + t] <-> x[x_offset + t]. Entries outside every run are padding.
template <class F>
void for_each_conv_run(const ConvGeom& g, F f) {
  const int64_t oh = g.out_h(), ow = g.out_w();
  for (int64_t c = 0; c < g.channels; ++c)
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t row = (c * g.kh + i) * g.kw + j;
        const int64_t ox0 = std::max<int64_t>(0, g.pad - j), ox1 = std::min(ow, g.width + g.pad - j);
        if (ox1 <= ox0) continue;
        for (int64_t oy = 0; oy < oh; ++oy) {
          const int64_t iy = oy + i - g.pad;
          if (iy < 0 || iy >= g.height) continue;
          f((row * oh + oy) * ow + ox0, (c * g.height + iy) * g.width + ox0 + j - g.pad, ox1 - ox0);
        }
      }
}

// dst[t] = src[t] for t < len, as an inline vector loop: the runs are as short as the output width (12 and 32 floats
// in the paper's CNN experts), and a library call per run (std::copy_n, or a plain loop, which GCC turns into one)
// cost more than the copying, 8% of a MultiFashionMNIST epoch. The simd loop is not turned into a call.
template <class T>
void copy_run(const T* src, int64_t len, T* dst) {
#pragma omp simd
  for (int64_t t = 0; t < len; ++t) dst[t] = src[t];
}

// col [patch, positions] = the input patches of x [C, H, W] (zeros where they read the padding; without padding
// the runs cover every entry).
template <class T>
void im2col(const ConvGeom& g, const T* x, T* col) {
  if (g.pad != 0) std::fill_n(col, g.patch() * g.positions(), T(0));
  for_each_conv_run(g, [&](int64_t co, int64_t xo, int64_t len) { copy_run(x + xo, len, col + co); });
}

// x [C, H, W] = the sum of the column entries that read each input element (the adjoint of im2col).
template <class T>
void col2im(const ConvGeom& g, const T* col, T* x) {
  std::fill_n(x, g.in_size(), T(0));
  for_each_conv_run(g, [&](int64_t co, int64_t xo, int64_t len) {
    for (int64_t t = 0; t < len; ++t) x[xo + t] += col[co + t];
  });
}

template <class T>
using GemmFn = void (*)(const GemmArgs<T>&);

template <class T>
void run_gemm(GemmFn<T> gemm, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda,
              const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  GemmArgs<T> args;
  args.trans_a = ta; args.trans_b = tb; args.m = m; args.n = n; args.k = k;
  args.a = a; args.lda = lda; args.b = b; args.ldb = ldb; args.beta = beta; args.c = c; args.ldc = ldc;
  gemm(args);
}

// One sample's forward: y [O, positions] = w [O, patch] col + bias. col: scratch of patch x positions.
template <class T>
void conv2d_sample(GemmFn<T> gemm, const ConvGeom& g, int64_t out_ch, const T* x, const T* w, const T* bias, T* y,
                   T* col) {
  const int64_t p = g.positions(), k = g.patch();
  im2col(g, x, col);
  run_gemm<T>(gemm, false, false, out_ch, p, k, w, k, col, p, T(0), y, p);
  if (bias)
    for (int64_t o = 0; o < out_ch; ++o)
      for (int64_t t = 0; t < p; ++t) y[o * p + t] += bias[o];
}

// One sample's backward: gw = gy col^T + beta gw (when gw), gx = col2im(w^T gy) (when gx).
template <class T>
void conv2d_sample_backward(GemmFn<T> gemm, const ConvGeom& g, int64_t out_ch, const T* x, const T* w, const T* gy,
                            T* gx, T* gw, T beta, T* col) {
  const int64_t p = g.positions(), k = g.patch();
  if (gw) {
    im2col(g, x, col);
    run_gemm<T>(gemm, false, true, out_ch, k, p, gy, p, col, p, beta, gw, k);
  }
  if (gx) {
    run_gemm<T>(gemm, true, false, k, p, out_ch, w, k, gy, p, T(0), col, p);
    col2im(g, col, gx);
  }
}

// Bias gradient of output channel o: the sum of gy[n, o, :] over the batch, in double, in a fixed order.
template <class T>
double conv_bias_grad(int64_t batch, int64_t out_ch, int64_t positions, const T* gy, int64_t o) {
  double s = 0;
  for (int64_t n = 0; n < batch; ++n)
    for (int64_t t = 0; t < positions; ++t) s += gy[(n * out_ch + o) * positions + t];
  return s;
}

// The window of output (oy, ox) starts at x + 2 oy w + 2 ox; returns the position (0..3, row-major) of its
// maximum, the first one on ties.
template <class T>
COMET_HD int window_argmax(const T* top, int64_t w) {
  const T v[4] = {top[0], top[1], top[w], top[w + 1]};
  int best = 0;
  for (int k = 1; k < 4; ++k)
    if (v[k] > v[best]) best = k;
  return best;
}

COMET_HD int64_t window_offset(int k, int64_t w) { return (k >> 1) * w + (k & 1); }

}  // namespace comet

// Explicit instantiations of every kernel above for one scalar type (used by the ref/ and cpu/ files).
#define COMET_INSTANTIATE_CONV(T)                                                                                    \
  template void conv2d<T>(const ConvGeom&, int64_t, int64_t, const T*, const T*, const T*, T*);                \
  template void conv2d_backward<T>(const ConvGeom&, int64_t, int64_t, const T*, const T*, const T*, T*, T*, T*); \
  template void maxpool2x2<T>(int64_t, int64_t, int64_t, const T*, T*);                                       \
  template void maxpool2x2_backward<T>(int64_t, int64_t, int64_t, const T*, const T*, T*);
