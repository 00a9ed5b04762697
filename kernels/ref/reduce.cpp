// Reference reductions and row softmax: plain loops, double accumulation, no threads.
#include "kernels/reduce.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace comet::ref {
namespace {

int64_t reduced_size(Broadcast bc, int64_t rows, int64_t cols) {
  switch (bc) {
    case Broadcast::Full: return rows * cols;
    case Broadcast::Row: return cols;
    case Broadcast::Col: return rows;
    case Broadcast::Scalar: return 1;
  }
  return 1;
}

}  // namespace

template <class T>
void sum_to(Broadcast bc, int64_t rows, int64_t cols, T alpha, const T* x, T* y) {
  std::vector<double> acc(reduced_size(bc, rows, cols), 0.0);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) acc[broadcast_index(bc, i, j, cols)] += double(x[i * cols + j]);
  for (size_t k = 0; k < acc.size(); ++k) y[k] = static_cast<T>(double(alpha) * acc[k]);
}

template <class T>
void expand(Broadcast bc, int64_t rows, int64_t cols, T alpha, const T* gy, T* gx) {
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      gx[i * cols + j] = static_cast<T>(double(alpha) * double(gy[broadcast_index(bc, i, j, cols)]));
}

template <class T>
void softmax(bool log_space, int64_t rows, int64_t cols, const T* x, T* y) {
  for (int64_t i = 0; i < rows; ++i) {
    const T* xi = x + i * cols;
    double m = -INFINITY, s = 0;
    for (int64_t j = 0; j < cols; ++j) m = std::max(m, double(xi[j]));
    for (int64_t j = 0; j < cols; ++j) s += std::exp(double(xi[j]) - m);
    const double log_s = std::log(s);
    for (int64_t j = 0; j < cols; ++j) {
      const double z = double(xi[j]) - m;
      y[i * cols + j] = static_cast<T>(log_space ? z - log_s : std::exp(z) / s);
    }
  }
}

template <class T>
void softmax_backward(bool log_space, int64_t rows, int64_t cols, const T* y, const T* gy, T* gx) {
  for (int64_t i = 0; i < rows; ++i) {
    const T *yi = y + i * cols, *gi = gy + i * cols;
    double s = 0;  // log_softmax: sum gy; softmax: sum gy * y
    for (int64_t j = 0; j < cols; ++j) s += log_space ? double(gi[j]) : double(gi[j]) * yi[j];
    for (int64_t j = 0; j < cols; ++j)
      gx[i * cols + j] = static_cast<T>(log_space ? gi[j] - std::exp(double(yi[j])) * s : yi[j] * (gi[j] - s));
  }
}

COMET_INSTANTIATE_REDUCE(float)
COMET_INSTANTIATE_REDUCE(double)

}  // namespace comet::ref
