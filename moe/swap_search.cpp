// Steepest-descent swap search over permutations and the cached-output MoE objective. See swap_search.h.
// Test: tests/moe/test_swap_search.cpp.
#include "moe/swap_search.h"

#include <utility>

#include "moe/assignment.h"

namespace comet::moe {

namespace {

struct Candidate {
  int64_t a = -1, b = -1;
  double value = 0;
};

// The lowest-valued swap of perm (first pair wins ties); scores with the scorer when there is one.
Candidate best_swap(Permutation& perm, const SwapObjective& f, SwapSearchResult& stats) {
  const int64_t n = static_cast<int64_t>(perm.size());
  Candidate best;
  for (int64_t a = 0; a < n; ++a) {
    for (int64_t b = a + 1; b < n; ++b) {
      double v;
      if (f.scorer) {
        v = f.scorer->swapped(a, b);
        ++stats.swap_evaluations;
      } else {
        std::swap(perm[a], perm[b]);
        v = f.value(perm);
        std::swap(perm[a], perm[b]);
        ++stats.full_evaluations;
      }
      if (best.a < 0 || v < best.value) best = {a, b, v};
    }
  }
  return best;
}

}  // namespace

SwapSearchResult swap_search(Permutation perm, const SwapObjective& f, int max_moves) {
  COMET_CHECK(static_cast<bool>(f.value), "swap_search: the objective has no value function");
  COMET_CHECK(!f.scorer || (f.scorer->prepare && f.scorer->swapped),
              "swap_search: the incremental scorer needs both prepare and swapped");
  COMET_CHECK(max_moves >= 0, "swap_search: max_moves must be >= 0, got {}", max_moves);
  check_permutation("swap_search", perm, static_cast<int64_t>(perm.size()));
  SwapSearchResult r;
  double current = f.value(perm);
  ++r.full_evaluations;
  r.history.push_back(current);
  while (r.moves < max_moves) {
    if (f.scorer) f.scorer->prepare(perm);
    const Candidate c = best_swap(perm, f, r);
    if (c.a < 0 || !(c.value < current)) break;
    std::swap(perm[c.a], perm[c.b]);
    double next = c.value;
    if (f.scorer) {  // confirm with the full objective so that rounding in the scorer cannot cycle
      next = f.value(perm);
      ++r.full_evaluations;
      if (!(next < current)) {
        std::swap(perm[c.a], perm[c.b]);
        break;
      }
    }
    current = next;
    r.history.push_back(current);
    ++r.moves;
  }
  r.perm = std::move(perm);
  return r;
}

MoeSwapObjective::MoeSwapObjective(const Tensor& expert_outputs, const Tensor& slot_weights,
                                   const Tensor& targets) {
  const char* op = "MoeSwapObjective";
  COMET_CHECK(expert_outputs.ndim() == 3 && expert_outputs.dim(0) >= 1,
              "{}: expert outputs must be [n, B, d] with n >= 1, got {}", op, shape_str(expert_outputs.shape()));
  n_ = expert_outputs.dim(0);
  batch_ = expert_outputs.dim(1);
  dim_ = expert_outputs.dim(2);
  COMET_CHECK(batch_ >= 1 && dim_ >= 1, "{}: expert outputs [n, B, d] need B, d >= 1, got {}", op,
              shape_str(expert_outputs.shape()));
  check_shape(op, slot_weights, {batch_, n_}, "slot weights [B, n]");
  check_shape(op, targets, {batch_, dim_}, "targets [B, d]");
  for (const Tensor* t : {&expert_outputs, &slot_weights, &targets})
    COMET_CHECK(t->dtype() == DType::F32 || t->dtype() == DType::F64, "{}: expected floating tensors, got {}", op,
                dtype_name(t->dtype()));
  experts_ = expert_outputs.to(DType::F64);
  weights_ = slot_weights.to(DType::F64);
  targets_ = targets.to(DType::F64);
}

void MoeSwapObjective::predict(const Permutation& perm, std::vector<double>& residual) const {
  check_permutation("MoeSwapObjective", perm, n_);
  const double* e = experts_.data<double>();
  const double* g = weights_.data<double>();
  const double* y = targets_.data<double>();
  residual.assign(static_cast<size_t>(batch_ * dim_), 0.0);
  for (int64_t b = 0; b < batch_; ++b) {
    double* res = residual.data() + b * dim_;
    for (int64_t s = 0; s < n_; ++s) {
      const double w = g[b * n_ + s];
      const double* out = e + (perm[static_cast<size_t>(s)] * batch_ + b) * dim_;
      for (int64_t j = 0; j < dim_; ++j) res[j] += w * out[j];
    }
    for (int64_t j = 0; j < dim_; ++j) res[j] -= y[b * dim_ + j];
  }
}

static double sum_squares(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x * x;
  return s;
}

double MoeSwapObjective::value(const Permutation& perm) const {
  std::vector<double> residual;
  predict(perm, residual);
  return sum_squares(residual) / static_cast<double>(batch_ * dim_);
}

void MoeSwapObjective::prepare(const Permutation& perm) {
  predict(perm, residual_);
  current_ = perm;
  base_sum_ = sum_squares(residual_);
}

double MoeSwapObjective::swapped(int64_t a, int64_t b) const {
  COMET_CHECK(!current_.empty(), "MoeSwapObjective::swapped: call prepare first");
  COMET_CHECK(a >= 0 && a < n_ && b >= 0 && b < n_, "MoeSwapObjective::swapped: slots ({}, {}) out of range [0, {})",
              a, b, n_);
  const double* e = experts_.data<double>();
  const double* g = weights_.data<double>();
  const int64_t ea = current_[static_cast<size_t>(a)], eb = current_[static_cast<size_t>(b)];
  double sum = base_sum_;
  // Slot a's weight moves from expert ea to eb and slot b's from eb to ea: the residual changes by
  // (G[row, a] - G[row, b]) * (E[eb] - E[ea]); sum (r + delta)^2 = sum r^2 + sum delta (2 r + delta).
  for (int64_t row = 0; row < batch_; ++row) {
    const double w = g[row * n_ + a] - g[row * n_ + b];
    if (w == 0) continue;
    const double* out_a = e + (ea * batch_ + row) * dim_;
    const double* out_b = e + (eb * batch_ + row) * dim_;
    const double* res = residual_.data() + row * dim_;
    for (int64_t j = 0; j < dim_; ++j) {
      const double delta = w * (out_b[j] - out_a[j]);
      sum += delta * (2 * res[j] + delta);
    }
  }
  return sum / static_cast<double>(batch_ * dim_);
}

SwapObjective MoeSwapObjective::objective() {
  SwapObjective f;
  f.value = [this](const Permutation& perm) { return value(perm); };
  f.scorer = SwapScorer{[this](const Permutation& perm) { prepare(perm); },
                        [this](int64_t a, int64_t b) { return swapped(a, b); }};
  return f;
}

}  // namespace comet::moe
