// Elementwise kernels on contiguous buffers: unary ops, binary ops with broadcasting of the second operand,
// scale and axpy. Broadcast modes for c[rows x cols] = a[rows x cols] op b:
//   Full: b is rows x cols;  Row: b is 1 x cols (bias add);  Col: b is rows x 1;  Scalar: b is one value.
// Backward writes gb reduced over the broadcast dimensions (overwrites gb). Null output pointers are skipped.
// Tests: tests/autograd/test_ops.cpp (reference vs fast, gradient checks), tests/kernels/test_vector_loops.cpp
// (every ISA path against the reference).
#pragma once
#include <cstdint>

#include "kernels/elementwise_math.h"

namespace comet {

enum class Broadcast { Full, Row, Col, Scalar };

#define COMET_ELEMENTWISE_DECLS                                                                            \
  template <class T> void unary(Unary op, int64_t n, const T* x, T* y);                                   \
  template <class T> void unary_backward(Unary op, int64_t n, const T* x, const T* y, const T* gy, T* gx); \
  template <class T>                                                                                       \
  void binary(Binary op, Broadcast bc, int64_t rows, int64_t cols, const T* a, const T* b, T* c);          \
  template <class T>                                                                                       \
  void binary_backward(Binary op, Broadcast bc, int64_t rows, int64_t cols, const T* a, const T* b,        \
                       const T* gc, T* ga, T* gb);                                                         \
  template <class T> void scale(int64_t n, T alpha, const T* x, T* y); /* y = alpha x */                  \
  template <class T> void axpy(int64_t n, T alpha, const T* x, T* y);  /* y += alpha x */

namespace ref { COMET_ELEMENTWISE_DECLS }
namespace cpu { COMET_ELEMENTWISE_DECLS }
#undef COMET_ELEMENTWISE_DECLS

// Index of b used for element (i, j) under a broadcast mode.
COMET_HD int64_t broadcast_index(Broadcast bc, int64_t i, int64_t j, int64_t cols) {
  switch (bc) {
    case Broadcast::Full: return i * cols + j;
    case Broadcast::Row: return j;
    case Broadcast::Col: return i;
    case Broadcast::Scalar: return 0;
  }
  return 0;
}

}  // namespace comet

// Explicit instantiations of every kernel above for one scalar type (used by the ref/ and cpu/ files).
#define COMET_INSTANTIATE_ELEMENTWISE(T)                                                                               \
  template void unary<T>(Unary, int64_t, const T*, T*);                                                   \
  template void unary_backward<T>(Unary, int64_t, const T*, const T*, const T*, T*);                      \
  template void binary<T>(Binary, Broadcast, int64_t, int64_t, const T*, const T*, T*);                   \
  template void binary_backward<T>(Binary, Broadcast, int64_t, int64_t, const T*, const T*, const T*, T*, T*); \
  template void scale<T>(int64_t, T, const T*, T*);                                                       \
  template void axpy<T>(int64_t, T, const T*, T*);
