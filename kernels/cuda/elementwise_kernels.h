// Bodies of the elementwise CUDA kernels (launch seam: kernels/cuda/launch.h), each a grid-stride loop over n
// elements with the per-element math of the CPU kernels:
//   UnaryKernel       y = f(x), or gx = gy f'(x) when gy is set   (kernels/elementwise_math.h; cpu::unary)
//   BinaryKernel      c = a op b, b broadcast (Full, Row, Col, Scalar as kernels/elementwise.h), or
//                     ga = gc d(a op b)/da when gc is set; b's gradient is BinaryGradBTerms reduced onto b's shape
//                     by run_sum_to (kernels/cuda/reduce_kernels.h): no atomics
//   AxpyKernel        y (+)= alpha x over a strided rows x cols block, x broadcast: scale, axpy, expand (sum_to's
//                     adjoint) and copy_cols (concat / split) are its cases
//   SmoothStepKernel  y = S_gamma(x), or gx = gy S'_gamma(x) when gy is set   (kernels/gate_math.h; cpu::smooth_step)
//   AdamKernel        one Adam step on p, m, v from g   (cpu::AdamStep, the CPU vector loop's formula)
//   SgdKernel         one SGD step on p (and the velocity v) from g   (sgd_element, kernels/elementwise_math.h)
// Launchers: kernels/cuda/elementwise.cu. Test: tests/kernels/test_cuda_elementwise.cpp.
#pragma once
#include <cmath>

#include "kernels/cpu/vector_loops.h"
#include "kernels/cuda/launch.h"
#include "kernels/elementwise.h"
#include "kernels/elementwise_math.h"
#include "kernels/gate_math.h"

namespace comet::cuda {

template <class T>
struct UnaryKernel : OnePhase<UnaryKernel<T>> {
  Unary op;
  int64_t n;
  const T* x;
  T* out;                 // y, or gx when gy is set
  const T* y = nullptr;   // the backward's forward output
  const T* gy = nullptr;  // null: forward

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < n; i += t.grid_threads())
      out[i] = gy ? gy[i] * unary_derivative(op, x[i], y[i]) : unary_forward(op, x[i]);
  }
};

// Where b's element for c's element e is.
COMET_HD int64_t broadcast_at(Broadcast bc, int64_t e, int64_t cols) {
  return broadcast_index(bc, e / cols, e % cols, cols);
}

template <class T>
struct BinaryKernel : OnePhase<BinaryKernel<T>> {
  Binary op;
  Broadcast bc;
  int64_t rows, cols;
  const T* a;
  const T* b;
  T* out;                 // c, or ga when gc is set
  const T* gc = nullptr;  // null: forward

  COMET_HD void run(const Thread& t) const {
    for (int64_t e = t.global(); e < rows * cols; e += t.grid_threads()) {
      const T be = b[broadcast_at(bc, e, cols)];
      out[e] = gc ? gc[e] * binary_da(op, a[e], be) : binary_forward(op, a[e], be);
    }
  }
};

// y[r * ldy + j] = alpha x(r, j), or += when accumulate, for r < rows, j < cols; x(r, j) = x[r * ldx + j] when
// bc is Full, else x[broadcast_index(bc, r, j, cols)]. In T, as the CPU loops (alpha = 1 copies bit for bit).
template <class T>
struct AxpyKernel : OnePhase<AxpyKernel<T>> {
  int64_t rows, cols;
  T alpha;
  Broadcast bc;
  const T* x;
  int64_t ldx;
  T* y;
  int64_t ldy;
  bool accumulate;

  COMET_HD void run(const Thread& t) const {
    for (int64_t e = t.global(); e < rows * cols; e += t.grid_threads()) {
      const int64_t r = e / cols, j = e % cols;
      const T v = alpha * x[bc == Broadcast::Full ? r * ldx + j : broadcast_index(bc, r, j, cols)];
      T& out = y[r * ldy + j];
      out = accumulate ? out + v : v;
    }
  }
};

// The terms of b's gradient, gc d(a op b)/db at (i, j), before the sum onto b's shape.
template <class T>
struct BinaryGradBTerms {
  Binary op;
  Broadcast bc;
  int64_t cols;
  const T* a;
  const T* b;
  const T* gc;

  COMET_HD double operator()(int64_t i, int64_t j) const {
    const int64_t e = i * cols + j;
    return double(gc[e] * binary_db(op, a[e], b[broadcast_index(bc, i, j, cols)]));
  }
};

template <class T>
struct SmoothStepKernel : OnePhase<SmoothStepKernel<T>> {
  int64_t n;
  T gamma;
  const T* x;
  const T* gy;  // null: forward
  T* out;       // y, or gx when gy is set

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < n; i += t.grid_threads())
      out[i] = gy ? gy[i] * comet::smooth_step_derivative(x[i], gamma) : comet::smooth_step(x[i], gamma);
  }
};

// The operations in the CPU loop's order, so that a host run rounds exactly as it does.
template <class T>
struct AdamKernel : OnePhase<AdamKernel<T>> {
  int64_t n;
  cpu::AdamStep<T> s;
  T* p;
  const T* g;
  T* m;
  T* v;

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < n; i += t.grid_threads()) {
      const T gi = g[i] + s.l2 * p[i];
      m[i] = s.beta1 * m[i] + (T(1) - s.beta1) * gi;
      v[i] = s.beta2 * v[i] + (T(1) - s.beta2) * gi * gi;
      p[i] = s.decay * p[i] - s.step * m[i] / (std::sqrt(v[i] * s.inv_bc2) + s.eps);
    }
  }
};

template <class T>
struct SgdKernel : OnePhase<SgdKernel<T>> {
  int64_t n;
  SgdStep<T> s;
  T* p;
  const T* g;
  T* v;  // null: no momentum

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < n; i += t.grid_threads()) sgd_element(s, p[i], g[i], v ? v + i : nullptr);
  }
};

}  // namespace comet::cuda
