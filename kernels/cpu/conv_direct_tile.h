// The ISA-specific half of the direct single-channel convolution (kernels/cpu/conv_direct.h), written once as
// templates over a vector type V of kernels/cpu/simd.h. make_direct_conv_kernel<V, ...>() bundles them into the
// DirectConvKernel that kernels/cpu/conv.cpp runs. Included only by kernels/cpu/conv_direct_<isa>.cpp, each compiled
// for its ISA; everything here has internal linkage. Tests: tests/kernels/test_conv_direct.cpp.
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>

#include "kernels/cpu/conv_direct.h"
#include "kernels/cpu/simd.h"

namespace comet::cpu::conv_direct_tile {
namespace {

// OB output channels x CV vectors of columns of one output row, starting at column ox of row oy: every tap adds one
// broadcast weight times CV vectors of the image row it reads, after the bias. x points at the image, w and bias at
// the block's first channel, y at the block's first channel's output at (oy, ox).
template <class V, int64_t CV, int64_t OB>
void forward_block(const ConvGeom& g, const float* x, int64_t oy, int64_t ox, const float* w, const float* bias,
                   float* y, int64_t plane) {
  using T = typename V::type;
  constexpr int64_t W = V::width;
  const int64_t taps = g.kh * g.kw;
  T acc[OB][CV];
#pragma GCC unroll 16
  for (int64_t r = 0; r < OB; ++r)
#pragma GCC unroll 4
    for (int64_t v = 0; v < CV; ++v) acc[r][v] = bias ? V::set1(bias[r]) : V::zero();
  for (int64_t i = 0; i < g.kh; ++i) {
    const float* row = x + (oy + i) * g.width + ox;
    for (int64_t j = 0; j < g.kw; ++j) {
      T xv[CV];
#pragma GCC unroll 4
      for (int64_t v = 0; v < CV; ++v) xv[v] = V::loadu(row + j + v * W);
#pragma GCC unroll 16
      for (int64_t r = 0; r < OB; ++r) {
        const T wr = V::set1(w[r * taps + i * g.kw + j]);
#pragma GCC unroll 4
        for (int64_t v = 0; v < CV; ++v) acc[r][v] = V::fmadd(wr, xv[v], acc[r][v]);
      }
    }
  }
#pragma GCC unroll 16
  for (int64_t r = 0; r < OB; ++r)
#pragma GCC unroll 4
    for (int64_t v = 0; v < CV; ++v) V::storeu(y + r * plane + v * W, acc[r][v]);
}

// Columns past the last whole vector: one at a time, products rounded before each add.
void forward_column(const ConvGeom& g, const float* x, int64_t oy, int64_t ox, int64_t channels, const float* w,
                    const float* bias, float* y, int64_t plane) {
  const int64_t taps = g.kh * g.kw;
  for (int64_t r = 0; r < channels; ++r) {
    float s = bias ? bias[r] : 0.0f;
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) s += w[r * taps + i * g.kw + j] * x[(oy + i) * g.width + ox + j];
    y[r * plane] = s;
  }
}

// One output row of `channels` (1..OB) channels: blocks of CV vectors, then single vectors, then single columns.
template <class V, int64_t CV, int64_t OB>
void forward_row(const ConvGeom& g, const float* x, int64_t oy, const float* w, const float* bias, float* y,
                 int64_t plane) {
  constexpr int64_t W = V::width;
  const int64_t ow = g.out_w();
  int64_t ox = 0;
  for (; ox + CV * W <= ow; ox += CV * W) forward_block<V, CV, OB>(g, x, oy, ox, w, bias, y + ox, plane);
  for (; ox + W <= ow; ox += W) forward_block<V, 1, OB>(g, x, oy, ox, w, bias, y + ox, plane);
  for (; ox < ow; ++ox) forward_column(g, x, oy, ox, OB, w, bias, y + ox, plane);
}

// forward_row for a block of 1..MaxOB channels, chosen from a table so that each block size keeps exactly its
// accumulators in registers.
template <class V, int64_t CV, size_t... I>
void forward_rows(std::index_sequence<I...>, int64_t channels, const ConvGeom& g, const float* x, const float* w,
                  const float* bias, float* y) {
  using Row = void (*)(const ConvGeom&, const float*, int64_t, const float*, const float*, float*, int64_t);
  static constexpr Row rows[] = {&forward_row<V, CV, static_cast<int64_t>(I) + 1>...};
  const int64_t ow = g.out_w(), plane = g.out_h() * ow;
  for (int64_t oy = 0; oy < g.out_h(); ++oy) rows[channels - 1](g, x, oy, w, bias, y + oy * ow, plane);
}

// See DirectConvKernel::forward. The output channels go in near-equal blocks of at most MaxOB.
template <class V, int64_t CV, int64_t MaxOB>
void forward(const ConvGeom& g, int64_t samples, int64_t out_ch, const float* x, const float* w, const float* bias,
             float* y) {
  const int64_t blocks = (out_ch + MaxOB - 1) / MaxOB, plane = g.out_h() * g.out_w(), taps = g.kh * g.kw;
  for (int64_t s = 0; s < samples; ++s)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t o0 = out_ch * b / blocks, o1 = out_ch * (b + 1) / blocks;
      forward_rows<V, CV>(std::make_index_sequence<static_cast<size_t>(MaxOB)>(), o1 - o0, g, x + s * g.in_size(),
                          w + o0 * taps, bias ? bias + o0 : nullptr, y + (s * out_ch + o0) * plane);
    }
}

// The weight gradient of one output channel's kernel row i, KW taps wide, summed over the samples: KW x CV vector
// sums (lane l of sum j holds the products of the columns = l mod the block), then single vectors, then the
// remaining columns one at a time; at the end each tap's lanes are added in order, then its column sum.
template <class V, int64_t CV, int64_t KW>
void weight_grad_row(const ConvGeom& g, int64_t samples, int64_t out_ch, int64_t o, int64_t i, const float* x,
                     const float* gy, float* gw) {
  using T = typename V::type;
  constexpr int64_t W = V::width;
  const int64_t oh = g.out_h(), ow = g.out_w(), plane = oh * ow;
  T acc[KW][CV];
#pragma GCC unroll 8
  for (int64_t j = 0; j < KW; ++j)
#pragma GCC unroll 4
    for (int64_t v = 0; v < CV; ++v) acc[j][v] = V::zero();
  float column[KW] = {};
  for (int64_t s = 0; s < samples; ++s)
    for (int64_t oy = 0; oy < oh; ++oy) {
      const float* xr = x + s * g.in_size() + (oy + i) * g.width;
      const float* gr = gy + (s * out_ch + o) * plane + oy * ow;
      int64_t ox = 0;
      for (; ox + CV * W <= ow; ox += CV * W) {
        T gv[CV];
#pragma GCC unroll 4
        for (int64_t v = 0; v < CV; ++v) gv[v] = V::loadu(gr + ox + v * W);
#pragma GCC unroll 8
        for (int64_t j = 0; j < KW; ++j)
#pragma GCC unroll 4
          for (int64_t v = 0; v < CV; ++v) acc[j][v] = V::fmadd(gv[v], V::loadu(xr + ox + j + v * W), acc[j][v]);
      }
      for (; ox + W <= ow; ox += W) {
        const T gv = V::loadu(gr + ox);
#pragma GCC unroll 8
        for (int64_t j = 0; j < KW; ++j) acc[j][0] = V::fmadd(gv, V::loadu(xr + ox + j), acc[j][0]);
      }
      for (; ox < ow; ++ox)
        for (int64_t j = 0; j < KW; ++j) column[j] += gr[ox] * xr[ox + j];
    }
  for (int64_t j = 0; j < KW; ++j) {
    alignas(64) float lanes[CV * W];
    for (int64_t v = 0; v < CV; ++v) V::storeu(lanes + v * W, acc[j][v]);
    float sum = 0.0f;
    for (int64_t l = 0; l < CV * W; ++l) sum += lanes[l];
    gw[j] = sum + column[j];
  }
}

// See DirectConvKernel::weight_grad: weight_grad_row for every channel and kernel row, the row's width chosen from a
// table of 1..kDirectConvMaxKw.
template <class V, int64_t CV, size_t... I>
void weight_grad_rows(std::index_sequence<I...>, const ConvGeom& g, int64_t samples, int64_t out_ch, const float* x,
                      const float* gy, float* gw) {
  using Row = void (*)(const ConvGeom&, int64_t, int64_t, int64_t, int64_t, const float*, const float*, float*);
  static constexpr Row rows[] = {&weight_grad_row<V, CV, static_cast<int64_t>(I) + 1>...};
  for (int64_t o = 0; o < out_ch; ++o)
    for (int64_t i = 0; i < g.kh; ++i) rows[g.kw - 1](g, samples, out_ch, o, i, x, gy, gw + (o * g.kh + i) * g.kw);
}

template <class V, int64_t CV>
void weight_grad(const ConvGeom& g, int64_t samples, int64_t out_ch, const float* x, const float* gy, float* gw) {
  weight_grad_rows<V, CV>(std::make_index_sequence<static_cast<size_t>(kDirectConvMaxKw)>(), g, samples, out_ch, x,
                          gy, gw);
}

// The kernels for vector type V: forward blocks of at most MaxOB channels x ForwardCV vectors (MaxOB = 0: no
// forward, im2col + GEMM runs it), weight-gradient rows of kw x GradCV vectors.
template <class V, int64_t ForwardCV, int64_t MaxOB, int64_t GradCV>
DirectConvKernel make_direct_conv_kernel(Isa isa) {
  if constexpr (MaxOB == 0) return DirectConvKernel{isa, nullptr, &weight_grad<V, GradCV>};
  else return DirectConvKernel{isa, &forward<V, ForwardCV, MaxOB>, &weight_grad<V, GradCV>};
}

}  // namespace
}  // namespace comet::cpu::conv_direct_tile
