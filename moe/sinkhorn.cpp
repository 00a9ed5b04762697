// Log-domain Sinkhorn, rounding and the released tau / iteration schedule. See sinkhorn.h.
// Test: tests/moe/test_sinkhorn.cpp.
#include "moe/sinkhorn.h"

#include <algorithm>
#include <cmath>

#include "core/mutation.h"
#include "moe/assignment.h"

namespace comet::moe {

namespace {

// x[i * stride] -= logsumexp_i x[i * stride] over n entries (all finite, so the max is finite).
void subtract_logsumexp(double* x, int64_t n, int64_t stride) {
  double mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = std::max(mx, x[i * stride]);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += std::exp(x[i * stride] - mx);
  const double lse = mx + std::log(sum);
  for (int64_t i = 0; i < n; ++i) x[i * stride] -= lse;
}

}  // namespace

Tensor sinkhorn_log(const Tensor& log_alpha, double tau, int iterations) {
  COMET_CHECK(tau > 0 && std::isfinite(tau), "sinkhorn_log: temperature must be positive and finite, got {}", tau);
  COMET_CHECK(iterations >= 1, "sinkhorn_log: iterations must be >= 1, got {}", iterations);
  Tensor x = checked_square_f64("sinkhorn_log", log_alpha);
  const int64_t n = x.dim(0);
  double* p = x.data<double>();
  for (int64_t i = 0; i < n * n; ++i) {
    p[i] /= tau;
    COMET_CHECK(std::isfinite(p[i]), "sinkhorn_log: entry [{}, {}] of log_alpha / tau overflows (tau = {})", i / n,
                i % n, tau);
  }
  for (int it = 0; it < iterations; ++it) {
    for (int64_t r = 0; r < n; ++r) subtract_logsumexp(p + r * n, n, 1);
    if (COMET_MUTANT(sinkhorn_iteration_lost) && it + 1 == iterations) break;
    for (int64_t c = 0; c < n; ++c) subtract_logsumexp(p + c, n, n);
  }
  for (int64_t i = 0; i < n * n; ++i) p[i] = std::exp(p[i]);
  return x;
}

std::vector<int64_t> round_permutation(const Tensor& soft) { return max_weight_assignment(soft); }

SinkhornSchedule sinkhorn_schedule(double window_fraction) {
  COMET_CHECK(!std::isnan(window_fraction), "sinkhorn_schedule: window fraction is NaN");
  const double f = std::clamp(window_fraction, 0.0, 1.0);
  const double log10_tau = kSinkhornLog10TauStart + f * (kSinkhornLog10TauEnd - kSinkhornLog10TauStart);
  const double iters = kSinkhornItersStart + f * (kSinkhornItersEnd - kSinkhornItersStart);
  return {std::pow(10.0, log10_tau), static_cast<int>(iters)};
}

}  // namespace comet::moe
