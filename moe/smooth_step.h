// Smooth-step S_gamma (Hazimeh et al. 2020; spec comet.md section 1), the routing non-linearity of DSelect-k
// and COMET: exactly 0 for t <= -gamma/2, exactly 1 for t >= gamma/2, a cubic in between, C^1 everywhere.
// Test: tests/moe/test_smooth_step.cpp.
#pragma once
#include "kernels/hd.h"

namespace comet::moe {

template <class T>
COMET_HD T smooth_step(T t, T gamma) {
  if (t <= -gamma / 2) return T(0);
  if (t >= gamma / 2) return T(1);
  return T(-2) * t * t * t / (gamma * gamma * gamma) + T(3) * t / (T(2) * gamma) + T(0.5);
}

// dS/dt: 0 outside the open band (-gamma/2, gamma/2).
template <class T>
COMET_HD T smooth_step_derivative(T t, T gamma) {
  if (t <= -gamma / 2 || t >= gamma / 2) return T(0);
  return T(3) / (T(2) * gamma) - T(6) * t * t / (gamma * gamma * gamma);
}

}  // namespace comet::moe
