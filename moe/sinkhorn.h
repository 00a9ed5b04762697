// Log-domain Sinkhorn relaxation of a permutation and its rounding, as in the released COMET+ code (spec
// comet.md 4.2, 10.5). Host only, double precision, no autograd (the differentiable op builds on this).
// Matrices are [n, n] with rows = gate slots and columns = experts. Test: tests/moe/test_sinkhorn.cpp.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace comet::moe {

// P = exp(X_T) with X_0 = log_alpha / tau and each of the `iterations` rounds first subtracting every row's
// logsumexp, then every column's logsumexp (the released order, so the columns of P sum to 1 exactly up to
// rounding, the rows only once converged). log_alpha: [n, n] finite, tau > 0, iterations >= 1; returns F64.
// At the paper's temperatures (tau <= 1e-3) P is not converged (spec 10.5): rows may sum to ~0 or ~2.
Tensor sinkhorn_log(const Tensor& log_alpha, double tau, int iterations);

// The hard permutation of a soft one: perm[row] = col maximising sum_row soft[row, perm[row]] (the released
// code runs the linear assignment on cost -P, not on log P).
std::vector<int64_t> round_permutation(const Tensor& soft);

// Temperature and iteration count of the permutation-learning window (released TF code, spec 4.2 step 2):
// log10(tau) goes linearly from -3 to -7 and the iteration count linearly from 20 to 150, truncated to an int,
// both clamped at the window ends.
struct SinkhornSchedule {
  double tau;
  int iterations;
};
inline constexpr double kSinkhornLog10TauStart = -3, kSinkhornLog10TauEnd = -7;
inline constexpr int kSinkhornItersStart = 20, kSinkhornItersEnd = 150;

// window_fraction = t / I_p: t the training-step counter and I_p = E_p * steps_per_epoch the window length.
// The released counter is incremented before it is read, so the first training step uses t = 1. Fractions
// outside [0, 1] are clamped; NaN is an error.
SinkhornSchedule sinkhorn_schedule(double window_fraction);

}  // namespace comet::moe
