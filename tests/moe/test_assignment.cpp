// Exact linear assignment (moe/assignment.h): optimal against brute force over all n! permutations, a
// hand-worked 3x3, ties, deterministic results and input errors.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "brute_force_permutation.h"
#include "moe/assignment.h"
#include "test_util.h"

namespace comet::moe {

TEST_CASE("linear assignment: hand-worked 3x3") {
  // score = [[4 1 3] [2 0 5] [3 2 2]]: the six permutations score 6, 11, 5, 9, 7, 6 (lexicographic order).
  const Tensor s = Tensor::from_vector<double>({3, 3}, {4, 1, 3, 2, 0, 5, 3, 2, 2});
  CHECK(max_weight_assignment(s) == std::vector<int64_t>{0, 2, 1});
  CHECK(assignment_score(s, max_weight_assignment(s)) == 11);
  CHECK(min_cost_assignment(s) == std::vector<int64_t>{1, 0, 2});
  CHECK(assignment_score(s, min_cost_assignment(s)) == 5);
  // F32 input gives the same answer.
  CHECK(max_weight_assignment(s.to(DType::F32)) == std::vector<int64_t>{0, 2, 1});
}

TEST_CASE("linear assignment: optimal against brute force, n = 1..7") {
  Generator gen(1234);
  for (int64_t n = 1; n <= 7; ++n) {
    for (int rep = 0; rep < 30; ++rep) {
      // Half the cases have few distinct integer values, so that several permutations tie.
      Tensor s = test::random_tensor({n, n}, gen, -1.0, 1.0);
      if (rep % 2) {
        double* p = s.data<double>();
        for (int64_t i = 0; i < n * n; ++i) p[i] = std::round(2 * p[i]);
      }
      for (AssignmentSense sense : {AssignmentSense::Maximize, AssignmentSense::Minimize}) {
        const double sign = sense == AssignmentSense::Maximize ? -1.0 : 1.0;
        const auto best = test::brute_force_min(n, [&](const std::vector<int64_t>& perm) {
          return sign * assignment_score(s, perm);
        });
        const std::vector<int64_t> perm = linear_assignment(s, sense);
        check_permutation("test", perm, n);
        INFO("n = " << n << ", rep = " << rep);
        CHECK(std::fabs(sign * assignment_score(s, perm) - best.value) <= 1e-12);
        CHECK(linear_assignment(s, sense) == perm);  // deterministic
      }
    }
  }
}

TEST_CASE("linear assignment: ties and degenerate matrices") {
  for (int64_t n : {1, 2, 5}) {
    const Tensor flat = Tensor::full({n, n}, 0.25, DType::F64);
    const auto perm = max_weight_assignment(flat);
    check_permutation("test", perm, n);
    CHECK(assignment_score(flat, perm) == doctest::Approx(0.25 * n));
    CHECK(max_weight_assignment(flat) == perm);
  }
  // Two equal optima [0, 1] and [1, 0]: the answer is one of them, always the same one.
  const Tensor two = Tensor::from_vector<double>({2, 2}, {1, 1, 1, 1});
  const std::vector<int64_t> chosen = max_weight_assignment(two);
  CHECK((chosen == std::vector<int64_t>{0, 1} || chosen == std::vector<int64_t>{1, 0}));
  CHECK(assignment_score(two, chosen) == 2.0);
  CHECK(max_weight_assignment(two.clone()) == chosen);
  // Large magnitudes with a unique optimum.
  const Tensor big = Tensor::from_vector<double>({2, 2}, {1e150, -1e150, -1e150, 1e150});
  CHECK(max_weight_assignment(big) == std::vector<int64_t>{0, 1});
  CHECK(min_cost_assignment(big) == std::vector<int64_t>{1, 0});
}

TEST_CASE("linear assignment: input errors name the shape or the bad entry") {
  CHECK_THROWS_WITH_AS(max_weight_assignment(Tensor::zeros({2, 3}, DType::F64)),
                       doctest::Contains("square matrix [n, n], got shape [2, 3]"), Error);
  CHECK_THROWS_WITH_AS(max_weight_assignment(Tensor::zeros({0, 0}, DType::F64)),
                       doctest::Contains("got shape [0, 0]"), Error);
  CHECK_THROWS_WITH_AS(max_weight_assignment(Tensor::zeros({4}, DType::F64)), doctest::Contains("got shape [4]"),
                       Error);
  CHECK_THROWS_WITH_AS(max_weight_assignment(Tensor::zeros({2, 2}, DType::I64)),
                       doctest::Contains("expected a floating matrix, got"), Error);
  Tensor bad = Tensor::zeros({3, 3}, DType::F64);
  bad.data<double>()[5] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_WITH_AS(max_weight_assignment(bad), doctest::Contains("entry [1, 2] of the [3, 3] matrix is nan"),
                       Error);
  bad.data<double>()[5] = 0;
  bad.data<double>()[6] = -std::numeric_limits<double>::infinity();
  CHECK_THROWS_WITH_AS(min_cost_assignment(bad), doctest::Contains("entry [2, 0] of the [3, 3] matrix is -inf"),
                       Error);
  CHECK_THROWS_WITH_AS(assignment_score(Tensor::zeros({3, 3}, DType::F64), {0, 0, 1}),
                       doctest::Contains("entry 1 is 0"), Error);
  CHECK_THROWS_WITH_AS(check_permutation("op", {0, 1}, 3), doctest::Contains("op: expected a permutation of 3"),
                       Error);
}

}  // namespace comet::moe
