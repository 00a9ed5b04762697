// Slot permutations: the learned permutation's window (soft, trainable, regularised), its rounding and freezing,
// evaluation always hard; the fixed permutation's matrix.
#include <doctest/doctest.h>

#include <cmath>

#include "moe/assignment.h"
#include "moe/permutation.h"
#include "moe/sinkhorn.h"

namespace comet::moe {

TEST_CASE("learned permutation: soft and trainable in the window, then the frozen exact assignment") {
  Generator gen(2);
  LearnedPermutation perm(5, 3, 1e-4, gen);
  for (int step = 1; step <= 2; ++step) {  // the window I_p = 3: soft while the counter, incremented first, is < 3
    ag::Var p = perm.matrix(true);
    CHECK(p.requires_grad());
    CHECK(perm.regularization().defined());
    // Columns of the released Sinkhorn order sum to 1; the hard permutation is the assignment of this soft matrix.
    for (int64_t c = 0; c < 5; ++c) {
      double s = 0;
      for (int64_t r = 0; r < 5; ++r) s += p.value().item(r * 5 + c);
      CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
    }
    CHECK(perm.hard() == max_weight_assignment(perm.last_soft()));
    for (int64_t i = 0; i < 25; ++i) CHECK(p.value().item(i) == static_cast<float>(perm.last_soft().item(i)));
    ag::Var loss = ag::add(ag::sum(ag::mul(p, ag::constant(Tensor::full({5, 5}, 0.1)))), perm.regularization());
    ag::backward(loss);
    CHECK(perm.params()[0].grad().defined());
    // Evaluation inside the window uses the hard permutation and does not advance the counter.
    ag::Var eval = perm.matrix(false);
    CHECK(!eval.requires_grad());
    CHECK(perm.step() == step);
  }
  CHECK(!perm.frozen());
  const Permutation hard = perm.hard();
  ag::Var after = perm.matrix(true);  // step 3 = I_p: the rounding of the last soft matrix, from now on
  CHECK(perm.frozen());
  CHECK(perm.step() == 3);
  CHECK(!after.requires_grad());
  CHECK(!perm.regularization().defined());
  CHECK(perm.hard() == hard);
  for (int64_t r = 0; r < 5; ++r)
    for (int64_t c = 0; c < 5; ++c) CHECK(after.value().item(r * 5 + c) == (hard[r] == c ? 1.0 : 0.0));
}

TEST_CASE("learned permutation: stays finite through the whole schedule (tau down to 1e-7)") {
  Generator gen(9);
  LearnedPermutation perm(16, 20, 1e-4, gen);
  for (int step = 1; step < 20; ++step) {  // the 19 soft steps of a 20-step window
    ag::Var p = perm.matrix(true);
    for (int64_t i = 0; i < p.value().numel(); ++i) REQUIRE(std::isfinite(p.value().item(i)));
    REQUIRE(std::isfinite(perm.regularization().value().item()));
  }
}

TEST_CASE("fixed permutation: identity is no matrix, a set permutation is its 0/1 matrix") {
  FixedPermutation perm(3);
  CHECK(!perm.matrix(true).defined());
  perm.set({2, 0, 1});
  const Tensor m = perm.matrix(false).value();
  CHECK(m.to_vector<float>() == std::vector<float>{0, 0, 1, 1, 0, 0, 0, 1, 0});
  CHECK_THROWS_AS(perm.set({0, 0, 1}), Error);
}

}  // namespace comet::moe
