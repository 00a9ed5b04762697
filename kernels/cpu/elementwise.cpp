// Fast elementwise kernels: OpenMP over contiguous blocks; the vectorisable loops run on the active ISA's vector
// loops (kernels/cpu/vector_loops.h). Broadcast reductions in the backward split the work by output element, so
// no float is accumulated across threads.
#include "kernels/elementwise.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vector_loops.h"

namespace comet::cpu {

template <class T>
void unary(Unary op, int64_t n, const T* x, T* y) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  parallel_for(n, 8, [&](int64_t b, int64_t e) {
    if (op == Unary::Relu) loops.relu(e - b, x + b, y + b);
    else
      for (int64_t i = b; i < e; ++i) y[i] = unary_forward<T>(op, x[i]);
  });
}

template <class T>
void unary_backward(Unary op, int64_t n, const T* x, const T* y, const T* gy, T* gx) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  parallel_for(n, 8, [&](int64_t b, int64_t e) {
    if (op == Unary::Relu) loops.relu_backward(e - b, x + b, gy + b, gx + b);
    else
      for (int64_t i = b; i < e; ++i) gx[i] = gy[i] * unary_derivative<T>(op, x[i], y[i]);
  });
}

// c = a op b over one row of `cols` elements, b's row broadcast as `bc` says.
template <class T>
void row_binary(const VectorLoops<T>& loops, Binary op, Broadcast bc, int64_t i, int64_t cols, const T* a,
                const T* b, T* c) {
  if (bc == Broadcast::Full) loops.binary(op, cols, a, b + i * cols, c);
  else if (bc == Broadcast::Row) loops.binary(op, cols, a, b, c);
  else loops.binary_scalar(op, cols, a, bc == Broadcast::Col ? b[i] : b[0], c);
}

// Sum over one row of gc[j] * d(a[j] op b)/db for a b that is constant along the row (the Col broadcast). That
// derivative is 1, -1, a[j] or -a[j] / b^2, so the row needs only sum(gc) or sum(gc * a): two vectorised sums in
// double (the MoE layer's gate-weight gradient is one of these per (sample, expert) pair).
template <class T>
double row_grad_b(const VectorLoops<T>& loops, Binary op, int64_t n, const T* gc, const T* a, T b) {
  if (op == Binary::Add || op == Binary::Sub) {
    const double s = loops.sum(n, gc);
    return op == Binary::Add ? s : -s;
  }
  const double s = loops.dot(n, gc, a);
  return op == Binary::Mul ? s : -s / (double(b) * double(b));
}

template <class T>
void binary(Binary op, Broadcast bc, int64_t rows, int64_t cols, const T* a, const T* b, T* c) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  parallel_for(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) row_binary(loops, op, bc, i, cols, a + i * cols, b, c + i * cols);
  });
}

template <class T>
void binary_backward(Binary op, Broadcast bc, int64_t rows, int64_t cols, const T* a, const T* b, const T* gc,
                     T* ga, T* gb) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  if (ga) {  // da is 1 for add and sub, so ga = gc; for mul ga = gc * b, for div ga = gc / b
    parallel_for(rows, cols, [&](int64_t r0, int64_t r1) {
      if (op == Binary::Add || op == Binary::Sub) std::copy(gc + r0 * cols, gc + r1 * cols, ga + r0 * cols);
      else
        for (int64_t i = r0; i < r1; ++i) row_binary(loops, op, bc, i, cols, gc + i * cols, b, ga + i * cols);
    });
  }
  if (!gb) return;
  auto term = [&](int64_t i, int64_t j) {
    const int64_t e = i * cols + j;
    return double(gc[e]) * binary_db<double>(op, a[e], b[broadcast_index(bc, i, j, cols)]);
  };
  switch (bc) {
    case Broadcast::Full:  // gb = gc * d(a op b)/db element by element: gc, -gc or gc * a, exact in T
      parallel_for(rows, cols, [&](int64_t r0, int64_t r1) {
        const int64_t e0 = r0 * cols, e1 = r1 * cols;
        switch (op) {
          case Binary::Add:
            std::copy(gc + e0, gc + e1, gb + e0);
            break;
          case Binary::Sub:
            loops.scale(e1 - e0, T(-1), gc + e0, gb + e0);
            break;
          case Binary::Mul:
            loops.binary(Binary::Mul, e1 - e0, gc + e0, a + e0, gb + e0);
            break;
          case Binary::Div:
            for (int64_t e = e0; e < e1; ++e) gb[e] = static_cast<T>(term(e / cols, e % cols));
            break;
        }
      });
      break;
    case Broadcast::Row:  // threads own blocks of columns and walk the rows in order (row-major reads)
      parallel_for(cols, rows, [&](int64_t c0, int64_t c1) {
        std::vector<double> acc(c1 - c0, 0.0);
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t j = c0; j < c1; ++j) acc[j - c0] += term(i, j);
        for (int64_t j = c0; j < c1; ++j) gb[j] = static_cast<T>(acc[j - c0]);
      });
      break;
    case Broadcast::Col:
      parallel_for(rows, cols, [&](int64_t r0, int64_t r1) {
        for (int64_t i = r0; i < r1; ++i)
          gb[i] = static_cast<T>(row_grad_b(loops, op, cols, gc + i * cols, a + i * cols, b[i]));
      });
      break;
    case Broadcast::Scalar:
      gb[0] = static_cast<T>(deterministic_sum(rows * cols, [&](int64_t e) { return term(e / cols, e % cols); }));
      break;
  }
}

template <class T>
void scale(int64_t n, T alpha, const T* x, T* y) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  parallel_for(n, 1, [&](int64_t b, int64_t e) { loops.scale(e - b, alpha, x + b, y + b); });
}

template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y) {
  const VectorLoops<T>& loops = active_vector_loops<T>();
  parallel_for(n, 1, [&](int64_t b, int64_t e) { loops.axpy(e - b, alpha, x + b, y + b); });
}

COMET_INSTANTIATE_ELEMENTWISE(float)
COMET_INSTANTIATE_ELEMENTWISE(double)

}  // namespace comet::cpu
