// Log-domain Sinkhorn (moe/sinkhorn.h): doubly stochastic at moderate temperatures, finite and correctly
// rounded at the paper's temperatures (where it need not converge, spec comet.md 10.5), the released schedule.
#include <doctest/doctest.h>

#include <cmath>

#include "brute_force_permutation.h"
#include "moe/assignment.h"
#include "moe/sinkhorn.h"
#include "test_util.h"

namespace comet::moe {

namespace {

// Largest |sum - 1| over the rows (axis 1) or columns (axis 0) of an [n, n] matrix.
double max_sum_error(const Tensor& p, int axis) {
  const int64_t n = p.dim(0);
  double worst = 0;
  for (int64_t i = 0; i < n; ++i) {
    double s = 0;
    for (int64_t j = 0; j < n; ++j) s += axis == 1 ? p.item(i * n + j) : p.item(j * n + i);
    worst = std::max(worst, std::fabs(s - 1));
  }
  return worst;
}

}  // namespace

TEST_CASE("sinkhorn: doubly stochastic at moderate temperatures") {
  Generator gen(7);
  for (int64_t n : {1, 2, 5, 8, 16}) {
    for (double tau : {0.1, 0.3, 1.0}) {
      const Tensor l = test::random_tensor({n, n}, gen, -0.05, 0.05);
      const Tensor p = sinkhorn_log(l.to(DType::F32), tau, 200);
      CHECK(p.dtype() == DType::F64);
      CHECK(p.shape() == Shape{n, n});
      INFO("n = " << n << ", tau = " << tau);
      CHECK(max_sum_error(p, 0) <= 1e-12);  // the last normalisation is over columns
      CHECK(max_sum_error(p, 1) <= 1e-6);
    }
  }
  // A hand-checkable case: a 2x2 whose rows are the same is normalised in one round to all 1/2.
  const Tensor half = sinkhorn_log(Tensor::from_vector<double>({2, 2}, {0.3, -0.7, 0.3, -0.7}), 1.0, 1);
  COMET_CHECK_CLOSE(half, Tensor::full({2, 2}, 0.5, DType::F64), 1e-15, 1e-15);
}

TEST_CASE("sinkhorn: at the paper's temperatures the result is finite and rounds to its exact assignment") {
  Generator gen(11);
  int matches_hard_limit = 0, cases = 0;
  for (int64_t n = 2; n <= 6; ++n) {
    for (double tau : {1e-3, 1e-5, 1e-7}) {
      for (int iterations : {20, 85, 150}) {
        const Tensor l = test::random_tensor({n, n}, gen, -0.05, 0.05);
        const Tensor p = sinkhorn_log(l, tau, iterations);
        INFO("n = " << n << ", tau = " << tau << ", iterations = " << iterations);
        for (int64_t i = 0; i < p.numel(); ++i) {
          REQUIRE(std::isfinite(p.item(i)));
          CHECK(p.item(i) >= 0);
          CHECK(p.item(i) <= 1 + 1e-12);
        }
        CHECK(max_sum_error(p, 0) <= 1e-9);  // columns always sum to 1; rows need not (spec 10.5)
        const auto perm = round_permutation(p);
        const auto best = test::brute_force_min(n, [&](const std::vector<int64_t>& s) {
          return -assignment_score(p, s);
        });
        CHECK(std::fabs(assignment_score(p, perm) + best.value) <= 1e-12);
        // How often the rounded soft matrix is the zero-temperature limit, the max-weight matching of L
        // (measured: all misses are unconverged cases at tau <= 1e-5, whose rows sum to 0, 0.5 or 2).
        const bool hard_limit = assignment_score(l, perm) >= assignment_score(l, max_weight_assignment(l)) - 1e-15;
        matches_hard_limit += hard_limit;
        ++cases;
        if (tau == 1e-3 && iterations == 150) CHECK(hard_limit);  // converged: the zero-temperature limit
      }
    }
  }
  MESSAGE("rounded Sinkhorn equals the max-weight matching of L in " << matches_hard_limit << " of " << cases
                                                                     << " cases");
  CHECK(matches_hard_limit >= 30);  // measured 38 of 45 here; far fewer would mean a broken rounding
}

TEST_CASE("sinkhorn: input errors") {
  const Tensor l = Tensor::zeros({3, 3}, DType::F64);
  CHECK_THROWS_WITH_AS(sinkhorn_log(l, 0.0, 10), doctest::Contains("temperature must be positive"), Error);
  CHECK_THROWS_WITH_AS(sinkhorn_log(l, 1.0, 0), doctest::Contains("iterations must be >= 1, got 0"), Error);
  CHECK_THROWS_WITH_AS(sinkhorn_log(Tensor::zeros({3, 2}, DType::F64), 1.0, 5),
                       doctest::Contains("sinkhorn_log: expected a non-empty square matrix [n, n], got shape [3, 2]"),
                       Error);
  const Tensor big = Tensor::full({2, 2}, 1e300, DType::F64);
  CHECK_THROWS_WITH_AS(sinkhorn_log(big, 1e-10, 5), doctest::Contains("entry [0, 0] of log_alpha / tau overflows"),
                       Error);
}

TEST_CASE("sinkhorn schedule: geometric tau 1e-3 -> 1e-7, linear iterations 20 -> 150, clamped") {
  const SinkhornSchedule start = sinkhorn_schedule(0.0);
  CHECK(start.tau == doctest::Approx(1e-3).epsilon(1e-12));
  CHECK(start.iterations == 20);
  const SinkhornSchedule mid = sinkhorn_schedule(0.5);
  CHECK(mid.tau == doctest::Approx(1e-5).epsilon(1e-12));
  CHECK(mid.iterations == 85);
  const SinkhornSchedule quarter = sinkhorn_schedule(0.25);
  CHECK(quarter.tau == doctest::Approx(1e-4).epsilon(1e-12));
  CHECK(quarter.iterations == 52);  // 20 + 32.5, truncated
  const SinkhornSchedule end = sinkhorn_schedule(1.0);
  CHECK(end.tau == doctest::Approx(1e-7).epsilon(1e-12));
  CHECK(end.iterations == 150);
  CHECK(sinkhorn_schedule(-3.0).iterations == 20);
  CHECK(sinkhorn_schedule(7.0).tau == doctest::Approx(1e-7).epsilon(1e-12));
  CHECK_THROWS_WITH_AS(sinkhorn_schedule(std::nan("")), doctest::Contains("NaN"), Error);
}

}  // namespace comet::moe
