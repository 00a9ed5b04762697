// Discrete swap search (moe/swap_search.h): the incremental MoE scorer equals the full objective, the
// history never increases, the search ends at a local optimum, and how often it finds the brute-force optimum.
#include <doctest/doctest.h>

#include <cmath>
#include <numeric>

#include "brute_force_permutation.h"
#include "moe/swap_search.h"
#include "test_util.h"

namespace comet::moe {

namespace {

// Random cached outputs E [n, B, d], targets Y [B, d] and slot weights G [B, n]: each row of G is positive and
// sums to 1 (a dense softmax-like gate) or, when `sparse`, has two non-zero slots (a top-2 gate).
struct MoeCase {
  Tensor experts, weights, targets;
};

MoeCase random_case(int64_t n, int64_t batch, int64_t dim, bool sparse, Generator& gen) {
  MoeCase c{test::random_tensor({n, batch, dim}, gen), test::random_tensor({batch, n}, gen, 0.0, 1.0),
            test::random_tensor({batch, dim}, gen)};
  double* g = c.weights.data<double>();
  for (int64_t b = 0; b < batch; ++b) {
    double* row = g + b * n;
    if (sparse) {
      const auto order = gen.permutation(n);
      for (int64_t s = 2; s < n; ++s) row[order[static_cast<size_t>(s)]] = 0;
    }
    const double total = std::accumulate(row, row + n, 0.0);
    for (int64_t s = 0; s < n; ++s) row[s] /= total;
  }
  return c;
}

Permutation identity(int64_t n) {
  Permutation p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  return p;
}

}  // namespace

TEST_CASE("swap search: the incremental scorer equals the full objective") {
  Generator gen(42);
  for (bool sparse : {false, true}) {
    for (int64_t n : {2, 3, 5, 8}) {
      const MoeCase c = random_case(n, 13, 4, sparse, gen);
      MoeSwapObjective obj(c.experts, c.weights, c.targets);
      for (int rep = 0; rep < 20; ++rep) {
        Permutation perm = gen.permutation(n);
        obj.prepare(perm);
        const int64_t a = static_cast<int64_t>(gen.next_uniform() * n);
        const int64_t b = static_cast<int64_t>(gen.next_uniform() * n);
        std::swap(perm[a], perm[b]);
        INFO("n = " << n << ", sparse = " << sparse << ", swap (" << a << ", " << b << ")");
        CHECK(std::fabs(obj.swapped(a, b) - obj.value(perm)) <= 1e-12);
      }
    }
  }
}

TEST_CASE("swap search: mixture objective by hand") {
  // n = 2, B = 1, d = 1: E = [1, 3], G = [0.25, 0.75], Y = 2. Identity: 0.25 + 2.25 = 2.5, loss 0.25;
  // swapped: 0.75 + 0.75 = 1.5, loss 0.25. With Y = 1.5 only the swapped one is exact.
  const Tensor e = Tensor::from_vector<double>({2, 1, 1}, {1, 3});
  const Tensor g = Tensor::from_vector<double>({1, 2}, {0.25, 0.75});
  MoeSwapObjective obj(e, g, Tensor::from_vector<double>({1, 1}, {2.0}));
  CHECK(obj.value({0, 1}) == doctest::Approx(0.25));
  CHECK(obj.value({1, 0}) == doctest::Approx(0.25));
  MoeSwapObjective exact(e, g, Tensor::from_vector<double>({1, 1}, {1.5}));
  const SwapSearchResult r = swap_search({0, 1}, exact.objective(), 10);
  CHECK(r.perm == Permutation{1, 0});
  CHECK(r.moves == 1);
  CHECK(r.history.back() == 0);
}

TEST_CASE("swap search: monotone, ends at a local optimum, rate of reaching the brute-force optimum") {
  Generator gen(2024);
  const int cases = 50;
  int optimal = 0;
  std::vector<int> optimal_by_n(8, 0);
  for (int k = 0; k < cases; ++k) {
    const int64_t n = 3 + k % 5;  // 3..7, ten cases each
    const MoeCase c = random_case(n, 16, 3, k % 2 == 1, gen);
    MoeSwapObjective obj(c.experts, c.weights, c.targets);
    const SwapSearchResult r = swap_search(identity(n), obj.objective(), 1000);
    INFO("case " << k << ", n = " << n);
    CHECK(r.moves == static_cast<int>(r.history.size()) - 1);
    for (size_t i = 1; i < r.history.size(); ++i) CHECK(r.history[i] < r.history[i - 1]);
    CHECK(r.history.back() == obj.value(r.perm));
    // Local optimum: no single swap lowers the full objective.
    for (int64_t a = 0; a < n; ++a) {
      for (int64_t b = a + 1; b < n; ++b) {
        Permutation p = r.perm;
        std::swap(p[a], p[b]);
        CHECK(obj.value(p) >= r.history.back() - 1e-12);
      }
    }
    // The search without the scorer (full objective only) makes the same moves.
    const SwapSearchResult plain = swap_search(identity(n), SwapObjective{obj.objective().value, {}}, 1000);
    CHECK(plain.perm == r.perm);
    CHECK(plain.swap_evaluations == 0);
    CHECK(plain.full_evaluations == 1 + (plain.moves + 1) * n * (n - 1) / 2);
    const auto best = test::brute_force_min(n, [&](const Permutation& p) { return obj.value(p); });
    CHECK(r.history.back() >= best.value - 1e-12);
    const bool found = r.history.back() <= best.value + 1e-12;
    optimal += found;
    optimal_by_n[static_cast<size_t>(n)] += found;
  }
  MESSAGE("swap search reached the brute-force optimum in " << optimal << " of " << cases
          << " cases; of 10 each for n = 3..7: " << optimal_by_n[3] << ", " << optimal_by_n[4] << ", "
          << optimal_by_n[5] << ", " << optimal_by_n[6] << ", " << optimal_by_n[7]);
  CHECK(optimal >= 35);  // measured: 41 of 50 (seed 2024)
}

TEST_CASE("swap search: move budget, custom objectives and errors") {
  // Objective = number of displaced entries from a target; every swap can fix at most two entries.
  const Permutation target = {3, 0, 4, 1, 2};
  const auto displaced = [&](const Permutation& p) {
    double d = 0;
    for (size_t i = 0; i < p.size(); ++i) d += p[i] != target[i];
    return d;
  };
  const SwapSearchResult full = swap_search(identity(5), {displaced, {}}, 100);
  CHECK(full.perm == target);
  CHECK(full.history.back() == 0);
  const SwapSearchResult one = swap_search(identity(5), {displaced, {}}, 1);
  CHECK(one.moves == 1);
  CHECK(one.history.size() == 2);
  const SwapSearchResult none = swap_search(identity(5), {displaced, {}}, 0);
  CHECK(none.perm == identity(5));
  CHECK(none.history == std::vector<double>{5});
  // n = 1: nothing to swap.
  CHECK(swap_search({0}, {displaced, {}}, 10).moves == 0);

  CHECK_THROWS_WITH_AS(swap_search({0, 0, 1}, {displaced, {}}, 5), doctest::Contains("swap_search: not a permutation"),
                       Error);
  CHECK_THROWS_WITH_AS(swap_search({0, 1}, {}, 5), doctest::Contains("no value function"), Error);
  CHECK_THROWS_WITH_AS(swap_search({0, 1}, {displaced, {}}, -1), doctest::Contains("max_moves must be >= 0"), Error);
  Generator gen(3);
  const MoeCase c = random_case(3, 4, 2, false, gen);
  CHECK_THROWS_WITH_AS(MoeSwapObjective(c.experts, c.weights.slice_rows(0, 3), c.targets),
                       doctest::Contains("slot weights [B, n]"), Error);
  CHECK_THROWS_WITH_AS(MoeSwapObjective(c.experts, c.weights, c.targets.reshape({2, 4})),
                       doctest::Contains("targets [B, d]"), Error);
  MoeSwapObjective obj(c.experts, c.weights, c.targets);
  CHECK_THROWS_WITH_AS(obj.value({0, 1}), doctest::Contains("expected a permutation of 3 entries, got 2"), Error);
  CHECK_THROWS_WITH_AS(obj.swapped(0, 1), doctest::Contains("call prepare first"), Error);
}

}  // namespace comet::moe
