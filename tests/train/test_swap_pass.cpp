// The production swap pass (Mmoe::swap_pass with its incremental scorer): on a case built to need moves — targets
// that the model predicts exactly under a known permutation sigma* — it makes moves and reaches sigma*, the brute-force
// optimum over all n! permutations, with objective 0; its history is the full objective of each accepted permutation.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>

#include "data/synthetic.h"
#include "models/mmoe.h"
#include "moe/permutation.h"
#include "train/loss.h"

namespace comet::train {
namespace {

using namespace comet::models;

struct Case {
  data::Dataset data;
  std::unique_ptr<Mmoe> model;
};

// Top-2 gates over 5 experts; the targets are the model's own predictions under sigma*, so sigma* has objective 0.
Case built_case(const moe::Permutation& sigma) {
  data::SyntheticConfig sc;
  sc.samples = 256;
  Case c{data::make_synthetic_multitask(sc), nullptr};
  MmoeConfig cfg;
  cfg.gate.kind = moe::GateKind::TopK;
  cfg.gate.experts = 5;
  cfg.gate.k = 2;
  cfg.local_search = LocalSearch::Swap;
  Generator gen(12);
  c.model = std::make_unique<Mmoe>(cfg, gen);
  auto& fixed = static_cast<moe::FixedPermutation&>(c.model->permutation());
  fixed.set(sigma);
  ag::NoGradGuard no_grad;
  const MmoeOutput out = c.model->forward(model_input(c.data), false);
  c.data.targets = ag::concat_cols(out.predictions).value();
  fixed.set({0, 1, 2, 3, 4});
  return c;
}

double objective(Mmoe& model, const data::Dataset& d, const moe::Permutation& perm) {
  static_cast<moe::FixedPermutation&>(model.permutation()).set(perm);
  ag::NoGradGuard no_grad;
  return multitask_loss(model.forward(model_input(d), false).predictions, d, {0.5, 0.5}).value().item();
}

}  // namespace

TEST_CASE("swap pass: on a case built to need moves it reaches the brute-force optimum") {
  const moe::Permutation sigma{1, 0, 2, 4, 3};  // two transpositions away from the identity
  Case c = built_case(sigma);
  // Brute force over all 120 permutations: sigma is the unique optimum, at 0.
  moe::Permutation perm{0, 1, 2, 3, 4}, best;
  double best_value = 1e300;
  do {
    const double v = objective(*c.model, c.data, perm);
    if (v < best_value) best_value = v, best = perm;
  } while (std::next_permutation(perm.begin(), perm.end()));
  REQUIRE(best == sigma);
  CHECK(best_value < 1e-10);

  static_cast<moe::FixedPermutation&>(c.model->permutation()).set({0, 1, 2, 3, 4});
  const double start = objective(*c.model, c.data, {0, 1, 2, 3, 4});
  static_cast<moe::FixedPermutation&>(c.model->permutation()).set({0, 1, 2, 3, 4});
  const auto loss = [&](const Tensor& rows, const std::vector<ag::Var>& p) {
    return task_sums(data::gather(c.data, rows), p);
  };
  const moe::SwapSearchResult r = c.model->swap_pass(model_input(c.data), loss, {0.5, 0.5}, 10);
  const std::vector<double>& history = r.history;
  CHECK(history.size() == 3);  // two moves
  // Candidates (10 pairs a round; 3 rounds: two moves, then the local optimum) are scored incrementally; the full
  // objective runs only at the start and to confirm each accepted move (1 + 2), against 1 + 3 * 10 without a scorer.
  CHECK(r.swap_evaluations == 3 * 10);
  CHECK(r.full_evaluations == 1 + 2);
  CHECK(history.front() == doctest::Approx(start).epsilon(1e-9));
  for (size_t i = 1; i < history.size(); ++i) CHECK(history[i] < history[i - 1]);
  CHECK(c.model->permutation().hard() == sigma);
  CHECK(history.back() < 1e-10);
  // The history holds full objectives: the last one is the objective of the final permutation.
  CHECK(objective(*c.model, c.data, sigma) == doctest::Approx(history.back()).epsilon(1e-6));
}

}  // namespace comet::train
