// Reference grouped linear: per expert, the reference GEMM, then bias and column sums in double.
#include "kernels/gemm.h"
#include "kernels/grouped_gemm.h"

namespace comet::ref {

template <class T>
void grouped_linear(int64_t experts, const int64_t* offsets, int64_t in, int64_t out, const T* x, const T* w,
                    const T* b, T* y) {
  for (int64_t e = 0; e < experts; ++e)
    for (int64_t r = offsets[e]; r < offsets[e + 1]; ++r)
      for (int64_t j = 0; j < out; ++j) {
        double acc = b[e * out + j];
        for (int64_t p = 0; p < in; ++p) acc += double(x[r * in + p]) * w[(e * in + p) * out + j];
        y[r * out + j] = static_cast<T>(acc);
      }
}

template <class T>
void grouped_linear_backward(int64_t experts, const int64_t* offsets, int64_t in, int64_t out, const T* x,
                             const T* w, const T* gy, T* gx, T* gw, T* gb) {
  for (int64_t e = 0; e < experts; ++e) {
    const int64_t r0 = offsets[e], rows = offsets[e + 1] - offsets[e];
    if (gx && rows > 0) {
      GemmArgs<T> g;
      g.trans_b = true; g.m = rows; g.n = in; g.k = out;
      g.a = gy + r0 * out; g.lda = out; g.b = w + e * in * out; g.ldb = out; g.c = gx + r0 * in; g.ldc = in;
      gemm(g);
    }
    if (gw) {
      for (int64_t p = 0; p < in; ++p)
        for (int64_t j = 0; j < out; ++j) {
          double acc = 0;
          for (int64_t r = r0; r < r0 + rows; ++r) acc += double(x[r * in + p]) * gy[r * out + j];
          gw[(e * in + p) * out + j] = static_cast<T>(acc);
        }
    }
    if (gb) {
      for (int64_t j = 0; j < out; ++j) {
        double acc = 0;
        for (int64_t r = r0; r < r0 + rows; ++r) acc += gy[r * out + j];
        gb[e * out + j] = static_cast<T>(acc);
      }
    }
  }
}

COMET_INSTANTIATE_GROUPED_GEMM(float)
COMET_INSTANTIATE_GROUPED_GEMM(double)

}  // namespace comet::ref
