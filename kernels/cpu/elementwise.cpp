// Fast elementwise kernels: OpenMP over contiguous blocks, SIMD-friendly inner loops in the tensor's type.
// Broadcast reductions in the backward split the work by output element, so no float is accumulated across
// threads.
#include "kernels/elementwise.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/parallel.h"

namespace comet::cpu {

template <class T>
void unary(Unary op, int64_t n, const T* x, T* y) {
  parallel_for(n, 8, [&](int64_t b, int64_t e) {
    switch (op) {  // the switch sits outside the loop so each loop body vectorises
      case Unary::Relu:
#pragma omp simd
        for (int64_t i = b; i < e; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
        break;
      default:
        for (int64_t i = b; i < e; ++i) y[i] = unary_forward<T>(op, x[i]);
    }
  });
}

template <class T>
void unary_backward(Unary op, int64_t n, const T* x, const T* y, const T* gy, T* gx) {
  parallel_for(n, 8, [&](int64_t b, int64_t e) {
    switch (op) {  // the switch sits outside the loop so each loop body vectorises
      case Unary::Relu: {
        // Local copies of the captured pointers: read through the closure, GCC reloads gy every iteration and
        // leaves the loop scalar.
        const T *xs = x, *gys = gy;
        T* gxs = gx;
#pragma omp simd
        for (int64_t i = b; i < e; ++i) gxs[i] = xs[i] > T(0) ? gys[i] : T(0);
        break;
      }
      default:
        for (int64_t i = b; i < e; ++i) gx[i] = gy[i] * unary_derivative<T>(op, x[i], y[i]);
    }
  });
}

// c[j] = a[j] op b(j) over one row; the switch sits outside the loops so each loop vectorises.
template <class T, class B>
inline void row_binary(Binary op, int64_t n, const T* a, B b, T* c) {
  switch (op) {
    case Binary::Add:
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) c[j] = a[j] + b(j);
      break;
    case Binary::Sub:
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) c[j] = a[j] - b(j);
      break;
    case Binary::Mul:
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) c[j] = a[j] * b(j);
      break;
    case Binary::Div:
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) c[j] = a[j] / b(j);
      break;
  }
}

// Sum over one row of gc[j] * d(a[j] op b)/db for a b that is constant along the row (the Col broadcast). That
// derivative is 1, -1, a[j] or -a[j] / b^2, so the row needs only sum(gc) or sum(gc * a): two vectorised sums in
// double (the MoE layer's gate-weight gradient is one of these per (sample, expert) pair).
template <class T>
double row_grad_b(Binary op, int64_t n, const T* gc, const T* a, T b) {
  double s = 0;
  if (op == Binary::Add || op == Binary::Sub) {
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < n; ++j) s += double(gc[j]);
    return op == Binary::Add ? s : -s;
  }
#pragma omp simd reduction(+ : s)
  for (int64_t j = 0; j < n; ++j) s += double(gc[j]) * double(a[j]);
  return op == Binary::Mul ? s : -s / (double(b) * double(b));
}

template <class T>
void binary(Binary op, Broadcast bc, int64_t rows, int64_t cols, const T* a, const T* b, T* c) {
  parallel_for(rows, cols, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      if (bc == Broadcast::Full || bc == Broadcast::Row) {
        const T* bi = bc == Broadcast::Full ? b + i * cols : b;
        row_binary(op, cols, a + i * cols, [bi](int64_t j) { return bi[j]; }, c + i * cols);
      } else {
        const T s = bc == Broadcast::Col ? b[i] : b[0];
        row_binary(op, cols, a + i * cols, [s](int64_t) { return s; }, c + i * cols);
      }
    }
  });
}

template <class T>
void binary_backward(Binary op, Broadcast bc, int64_t rows, int64_t cols, const T* a, const T* b, const T* gc,
                     T* ga, T* gb) {
  if (ga) {  // da is 1 for add and sub, so ga = gc (+ 0); for mul ga = gc * b, for div ga = gc / b
    const Binary ga_op = op == Binary::Mul || op == Binary::Div ? op : Binary::Add;
    parallel_for(rows, cols, [&](int64_t r0, int64_t r1) {
      for (int64_t i = r0; i < r1; ++i) {
        const T* gci = gc + i * cols;
        if (ga_op == Binary::Add) {
          row_binary(ga_op, cols, gci, [](int64_t) { return T(0); }, ga + i * cols);
        } else if (bc == Broadcast::Full || bc == Broadcast::Row) {
          const T* bi = bc == Broadcast::Full ? b + i * cols : b;
          row_binary(ga_op, cols, gci, [bi](int64_t j) { return bi[j]; }, ga + i * cols);
        } else {
          const T s = bc == Broadcast::Col ? b[i] : b[0];
          row_binary(ga_op, cols, gci, [s](int64_t) { return s; }, ga + i * cols);
        }
      }
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
        const T *g = gc, *av = a;
        T* out = gb;
        switch (op) {
          case Binary::Add:
            std::copy(g + e0, g + e1, out + e0);
            break;
          case Binary::Sub:
#pragma omp simd
            for (int64_t e = e0; e < e1; ++e) out[e] = -g[e];
            break;
          case Binary::Mul:
#pragma omp simd
            for (int64_t e = e0; e < e1; ++e) out[e] = g[e] * av[e];
            break;
          case Binary::Div:
            for (int64_t e = e0; e < e1; ++e) out[e] = static_cast<T>(term(e / cols, e % cols));
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
          gb[i] = static_cast<T>(row_grad_b(op, cols, gc + i * cols, a + i * cols, b[i]));
      });
      break;
    case Broadcast::Scalar:
      gb[0] = static_cast<T>(deterministic_sum(rows * cols, [&](int64_t e) { return term(e / cols, e % cols); }));
      break;
  }
}

template <class T>
void scale(int64_t n, T alpha, const T* x, T* y) {
  parallel_for(n, 1, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) y[i] = alpha * x[i];
  });
}

template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y) {
  parallel_for(n, 1, [&](int64_t b, int64_t e) {
#pragma omp simd
    for (int64_t i = b; i < e; ++i) y[i] += alpha * x[i];
  });
}

COMET_INSTANTIATE_ELEMENTWISE(float)
COMET_INSTANTIATE_ELEMENTWISE(double)

}  // namespace comet::cpu
