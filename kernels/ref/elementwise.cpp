// Reference elementwise kernels: one element at a time, in double.
#include "kernels/elementwise.h"

#include <vector>

namespace comet::ref {

template <class T>
void unary(Unary op, int64_t n, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(unary_forward<double>(op, x[i]));
}

template <class T>
void unary_backward(Unary op, int64_t n, const T* x, const T* y, const T* gy, T* gx) {
  for (int64_t i = 0; i < n; ++i)
    gx[i] = static_cast<T>(double(gy[i]) * unary_derivative<double>(op, x[i], y[i]));
}

template <class T>
void binary(Binary op, Broadcast bc, int64_t rows, int64_t cols, const T* a, const T* b, T* c) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      c[i * cols + j] = static_cast<T>(binary_forward<double>(op, a[i * cols + j], b[broadcast_index(bc, i, j, cols)]));
}

template <class T>
void binary_backward(Binary op, Broadcast bc, int64_t rows, int64_t cols, const T* a, const T* b, const T* gc,
                     T* ga, T* gb) {
  const int64_t nb = bc == Broadcast::Full ? rows * cols : bc == Broadcast::Row ? cols : bc == Broadcast::Col ? rows : 1;
  std::vector<double> acc(nb, 0.0);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t e = i * cols + j, k = broadcast_index(bc, i, j, cols);
      if (ga) ga[e] = static_cast<T>(double(gc[e]) * binary_da<double>(op, a[e], b[k]));
      acc[k] += double(gc[e]) * binary_db<double>(op, a[e], b[k]);
    }
  }
  if (gb)
    for (int64_t k = 0; k < nb; ++k) gb[k] = static_cast<T>(acc[k]);
}

template <class T>
void scale(int64_t n, T alpha, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(double(alpha) * x[i]);
}

template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(double(y[i]) + double(alpha) * x[i]);
}

COMET_INSTANTIATE_ELEMENTWISE(float)
COMET_INSTANTIATE_ELEMENTWISE(double)

}  // namespace comet::ref
