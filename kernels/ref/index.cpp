// Reference row-index kernels: plain loops, sums (scatter-add, combine and its gate gradient) in double, no threads.
#include <vector>

#include "kernels/index.h"

namespace comet::ref {

template <class T>
void gather_rows(int64_t m, int64_t d, const T* x, const int64_t* index, T* out) {
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < d; ++j) out[i * d + j] = x[index[i] * d + j];
}

template <class T>
void scatter_add_rows(int64_t m, int64_t d, const T* src, const int64_t* index, int64_t num_rows, T* out) {
  std::vector<double> acc(num_rows * d, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < d; ++j) acc[index[i] * d + j] += src[i * d + j];
  for (int64_t e = 0; e < num_rows * d; ++e) out[e] = static_cast<T>(acc[e]);
}

template <class T>
void copy_cols(int64_t rows, int64_t width, const T* src, int64_t lds, T* dst, int64_t ldd, bool accumulate) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < width; ++j)
      dst[r * ldd + j] = accumulate ? static_cast<T>(double(dst[r * ldd + j]) + src[r * lds + j]) : src[r * lds + j];
}

template <class T>
void combine_rows(int64_t batch, int64_t experts, int64_t d, const int64_t* pair_of, const T* g, const T* ys, T* y) {
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t j = 0; j < d; ++j) {
      double acc = 0;
      for (int64_t e = 0; e < experts; ++e) {
        const int64_t p = pair_of[b * experts + e];
        if (p >= 0) acc += double(g[b * experts + e]) * ys[p * d + j];
      }
      y[b * d + j] = static_cast<T>(acc);
    }
}

template <class T>
void combine_rows_backward(int64_t batch, int64_t experts, int64_t d, int64_t pairs, const int64_t* sample,
                           const int64_t* flat, const int64_t* pair_of, const T* g, const T* ys, const T* gy, T* gys,
                           T* gg) {
  for (int64_t p = 0; p < pairs && gys; ++p)
    for (int64_t j = 0; j < d; ++j) gys[p * d + j] = static_cast<T>(double(gy[sample[p] * d + j]) * g[flat[p]]);
  for (int64_t c = 0; c < batch * experts && gg; ++c) {
    double acc = 0;
    for (int64_t j = 0; pair_of[c] >= 0 && j < d; ++j) acc += double(gy[c / experts * d + j]) * ys[pair_of[c] * d + j];
    gg[c] = static_cast<T>(acc);
  }
}

COMET_INSTANTIATE_INDEX(float)
COMET_INSTANTIATE_INDEX(double)

}  // namespace comet::ref
