// Reductions and row softmax on contiguous buffers, x seen as a rows x cols row-major matrix.
// sum_to reduces x onto the shape of a broadcast operand (kernels/elementwise.h):
//   Scalar: y[0] = alpha * sum x;  Row: y[j] = alpha * sum_i x[i, j] (column sums, 1 x cols);
//   Col: y[i] = alpha * sum_j x[i, j] (row sums, rows x 1);  Full: y = alpha * x.
// expand is its adjoint: gx[i, j] = alpha * gy[broadcast_index(bc, i, j, cols)].
// softmax / log_softmax work along each row (max-subtracted); the backward takes the forward output y.
// Sums accumulate in double; the fast kernels split work by output element or in fixed-size chunks, so
// results do not depend on the thread count.
// Tests: tests/kernels/test_reduce.cpp (hand-worked values), tests/autograd/cases_reduce_loss.cpp,
// tests/kernels/test_vector_loops.cpp (every ISA path against the reference).
#pragma once
#include <cstdint>

#include "kernels/elementwise.h"

namespace comet {

#define COMET_REDUCE_DECLS                                                                                   \
  template <class T> void sum_to(Broadcast bc, int64_t rows, int64_t cols, T alpha, const T* x, T* y);      \
  template <class T> void expand(Broadcast bc, int64_t rows, int64_t cols, T alpha, const T* gy, T* gx);    \
  /* log_space: y = log_softmax(x) instead of softmax(x) */                                                  \
  template <class T> void softmax(bool log_space, int64_t rows, int64_t cols, const T* x, T* y);             \
  template <class T>                                                                                         \
  void softmax_backward(bool log_space, int64_t rows, int64_t cols, const T* y, const T* gy, T* gx);

namespace ref { COMET_REDUCE_DECLS }
namespace cpu { COMET_REDUCE_DECLS }
#undef COMET_REDUCE_DECLS

}  // namespace comet

// Explicit instantiations of every kernel above for one scalar type (used by the ref/ and cpu/ files).
#define COMET_INSTANTIATE_REDUCE(T)                                                             \
  template void sum_to<T>(Broadcast, int64_t, int64_t, T, const T*, T*);                \
  template void expand<T>(Broadcast, int64_t, int64_t, T, const T*, T*);                \
  template void softmax<T>(bool, int64_t, int64_t, const T*, T*);                       \
  template void softmax_backward<T>(bool, int64_t, int64_t, const T*, const T*, T*);
