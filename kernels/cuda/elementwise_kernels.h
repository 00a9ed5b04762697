// Bodies of the elementwise CUDA kernels (launch seam: kernels/cuda/launch.h), each a grid-stride loop over n
// elements with the per-element math of the CPU kernels:
//   UnaryKernel       y = f(x)                          (kernels/elementwise_math.h; cpu::unary)
//   SmoothStepKernel  y = S_gamma(x), or gx = gy S'_gamma(x) when gy is set   (kernels/gate_math.h; cpu::smooth_step)
//   AdamKernel        one Adam step on p, m, v from g   (cpu::AdamStep, the CPU vector loop's formula)
// Launchers: kernels/cuda/elementwise.cu. Test: tests/kernels/test_cuda_elementwise.cpp.
#pragma once
#include <cmath>

#include "kernels/cpu/vector_loops.h"
#include "kernels/cuda/launch.h"
#include "kernels/elementwise_math.h"
#include "kernels/gate_math.h"

namespace comet::cuda {

template <class T>
struct UnaryKernel : OnePhase<UnaryKernel<T>> {
  Unary op;
  int64_t n;
  const T* x;
  T* y;

  COMET_HD void run(const Thread& t) const {
    for (int64_t i = t.global(); i < n; i += t.grid_threads()) y[i] = unary_forward(op, x[i]);
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

}  // namespace comet::cuda
