// Reference row-index kernels: plain loops, scatter-add accumulated in double, no threads.
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

COMET_INSTANTIATE_INDEX(float)
COMET_INSTANTIATE_INDEX(double)

}  // namespace comet::ref
