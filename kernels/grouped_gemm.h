// Grouped linear layer over expert segments (the sparse MoE's expert compute): rows [offsets[e], offsets[e+1]) of x
// belong to expert e, and
//   y[r] = x[r] W_e + b_e,          x [M, in], W [n, in, out], b [n, out], y [M, out].
// Backward (null outputs skipped; every output overwritten):
//   gx[r] = gy[r] W_e^T,  gW_e = x_e^T gy_e (inner size = the expert's row count; 0 for an empty segment),
//   gb_e = sum of gy_e's rows.
// The fast kernel splits the work into tiles (expert x block of rows, or of W's rows for gW), each computed by
// one thread with a serial GEMM, so no float sum crosses threads. Tests: tests/kernels/test_dispatch.cpp,
// tests/autograd/cases_moe.cpp.
#pragma once
#include <cstdint>
#include <functional>

namespace comet {

#define COMET_GROUPED_DECLS                                                                                  \
  template <class T>                                                                                         \
  void grouped_linear(int64_t experts, const int64_t* offsets, int64_t in, int64_t out, const T* x, const T* w, \
                      const T* b, T* y);                                                                     \
  template <class T>                                                                                         \
  void grouped_linear_backward(int64_t experts, const int64_t* offsets, int64_t in, int64_t out, const T* x,    \
                               const T* w, const T* gy, T* gx, T* gw, T* gb);

namespace ref { COMET_GROUPED_DECLS }
namespace cpu {
COMET_GROUPED_DECLS

// The weight gradient handed over in pieces instead of written out (the optimizer's update inside backward,
// optim/optimizer.h): take(begin, end, g) receives elements [begin, end) of gW (row-major [n, in, out]) in g, a buffer
// of the calling thread, still in its cache. It is called from the worker threads, once per tile; the pieces are
// disjoint and cover gW, each within one expert's block. gx and gb as in grouped_linear_backward; gW's values are those
// that grouped_linear_backward writes, bit for bit.
template <class T>
using GradPiece = std::function<void(int64_t begin, int64_t end, const T* g)>;
template <class T>
void grouped_linear_backward_pieces(int64_t experts, const int64_t* offsets, int64_t in, int64_t out, const T* x,
                                    const T* w, const T* gy, T* gx, const GradPiece<T>& take, T* gb);
}  // namespace cpu
#undef COMET_GROUPED_DECLS

}  // namespace comet

// Explicit instantiations of both kernels for one scalar type (used by the ref/ and cpu/ files).
#define COMET_INSTANTIATE_GROUPED_GEMM(T)                                                                       \
  template void grouped_linear<T>(int64_t, const int64_t*, int64_t, int64_t, const T*, const T*, const T*, T*);  \
  template void grouped_linear_backward<T>(int64_t, const int64_t*, int64_t, int64_t, const T*, const T*,        \
                                           const T*, T*, T*, T*);
