// Fixed and learned slot permutations.
#include "moe/permutation.h"

#include <numeric>

#include "autograd/device.h"
#include "core/mutation.h"
#include "moe/assignment.h"
#include "moe/sinkhorn.h"

namespace comet::moe {

Tensor permutation_matrix(const Permutation& perm, DType dtype) {
  const int64_t n = static_cast<int64_t>(perm.size());
  check_permutation("permutation_matrix", perm, n);
  Tensor m = Tensor::zeros({n, n}, dtype);
  COMET_DISPATCH_FLOAT(dtype, "permutation_matrix", [&] {
    for (int64_t i = 0; i < n; ++i) m.data<scalar_t>()[i * n + perm[i]] = scalar_t(1);
  });
  return m;
}

FixedPermutation::FixedPermutation(int64_t n) : perm_(n) { std::iota(perm_.begin(), perm_.end(), 0); }

FixedPermutation::FixedPermutation(Permutation perm) : perm_(std::move(perm)) { set(perm_); }

void FixedPermutation::set(Permutation perm) {
  check_permutation("FixedPermutation", perm, static_cast<int64_t>(perm.size()));
  perm_ = std::move(perm);
  identity_ = true;
  for (size_t i = 0; i < perm_.size(); ++i) identity_ = identity_ && perm_[i] == static_cast<int64_t>(i);
}

ag::Var FixedPermutation::matrix(bool) { return identity_ ? ag::Var() : ag::constant(permutation_matrix(perm_)); }

LearnedPermutation::LearnedPermutation(int64_t n, int64_t window_steps, double zeta, Generator& gen)
    : window_(window_steps), zeta_(zeta) {
  COMET_CHECK(n >= 1 && window_steps >= 1 && zeta >= 0,
              "LearnedPermutation: need n >= 1, window_steps >= 1, zeta >= 0 (got {}, {}, {})", n, window_steps, zeta);
  Tensor l = Tensor::empty({n, n});
  gen.uniform(l, -0.05, 0.05);
  scores_ = ag::param(l);
  // Before the first training step, evaluation uses the rounding of the window's first soft matrix.
  const SinkhornSchedule first = sinkhorn_schedule(0.0);
  last_soft_ = sinkhorn_log(scores_.value(), first.tau, first.iterations);
  hard_ = round_permutation(last_soft_);
}

void LearnedPermutation::restore(const Permutation& hard, int64_t step) {
  check_permutation("LearnedPermutation::restore", hard, scores_.shape()[0]);
  COMET_CHECK(step >= 0, "LearnedPermutation::restore: negative step {}", step);
  hard_ = hard;
  step_ = step;
  last_soft_ = permutation_matrix(hard, DType::F64);
}

ag::Var LearnedPermutation::sinkhorn(double tau, int iterations) const {
  // Rows then columns in log space, in double precision (1 / tau reaches 1e7).
  ag::Var x = ag::scale(ag::cast(scores_, DType::F64), 1.0 / tau);
  for (int i = 0; i < iterations; ++i) x = ag::transpose(ag::log_softmax(ag::transpose(ag::log_softmax(x))));
  return ag::exp(x);
}

ag::Var LearnedPermutation::matrix(bool training) {
  regularization_ = ag::Var();
  if (!training || frozen()) return ag::constant(permutation_matrix(hard_));
  // The released counter is incremented before it is read, and the soft matrix is used while it is below the window
  // (spec 4.2): I_p - 1 soft steps, then the rounding of the last soft matrix, frozen.
  ++step_;
  const bool extra_soft_step = COMET_MUTANT(permutation_window_long) && step_ == window_;
  if (frozen() && !extra_soft_step) return ag::constant(permutation_matrix(hard_));
  const SinkhornSchedule s = sinkhorn_schedule(static_cast<double>(step_) / static_cast<double>(window_));
  ag::Var p = sinkhorn(s.tau, s.iterations);
  const Device device = p.value().device();
  last_soft_ = device == Device::CPU ? p.value().clone() : ag::copy_to(p.value(), Device::CPU);  // rounded on the host
  hard_ = round_permutation(last_soft_);
  if (zeta_ > 0) {
    const auto constant = [device](double v) { return ag::constant(ag::full_on(device, {1}, v, DType::F64)); };
    const auto entropy = [&constant](const ag::Var& m) {
      return ag::scale(ag::sum(ag::mul(m, ag::log(ag::add(m, constant(1e-6))))), -1.0);
    };
    // At the paper's temperatures a row of P can sum to exactly 0 (spec 10.5): the 1e-300 keeps P^ finite (0 there).
    ag::Var row_sums = ag::add(ag::sum(p, ag::Over::Cols), constant(1e-300));
    ag::Var rows = ag::div(p, row_sums);
    regularization_ = ag::cast(ag::scale(ag::add(entropy(p), entropy(rows)), zeta_), DType::F32);
  }
  return ag::cast(p, DType::F32);
}

}  // namespace comet::moe
