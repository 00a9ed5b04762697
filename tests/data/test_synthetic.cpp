// The synthetic multi-task data generator (spec comet.md 10.4): seeded, task weights with the requested norm and
// relatedness, bad settings refused.
#include <doctest/doctest.h>

#include <cstring>

#include "data/synthetic.h"

namespace comet::data {

TEST_CASE("synthetic multi-task data: seeded, task weights with the requested relatedness") {
  SyntheticConfig cfg;
  cfg.samples = 100;
  cfg.relatedness = 0.3;
  cfg.scale = 2.0;
  const Dataset a = make_synthetic_multitask(cfg), b = make_synthetic_multitask(cfg);
  CHECK(std::memcmp(a.targets.raw(), b.targets.raw(), a.targets.nbytes()) == 0);
  const Tensor w_all = synthetic_task_weights(cfg);
  const double* w = w_all.data<double>();
  a.validate("synthetic");
  CHECK(a.keys().numel() == cfg.samples);
  double n1 = 0, n2 = 0, d12 = 0;
  for (int64_t i = 0; i < cfg.dim; ++i) {
    n1 += w[i] * w[i];
    n2 += w[cfg.dim + i] * w[cfg.dim + i];
    d12 += w[i] * w[cfg.dim + i];
  }
  CHECK(n1 == doctest::Approx(4.0).epsilon(1e-12));            // |w1| = c
  CHECK(n2 == doctest::Approx(4.0).epsilon(1e-12));            // |w2| = c
  CHECK(d12 / 4.0 == doctest::Approx(0.3).epsilon(1e-12));     // cos(w1, w2) = rho
  cfg.relatedness = 1.5;
  CHECK_THROWS_WITH_AS(make_synthetic_multitask(cfg), doctest::Contains("relatedness 1.5"), Error);
}

}  // namespace comet::data
