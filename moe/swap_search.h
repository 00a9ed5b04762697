// Discrete swap search over expert permutations (spec comet.md 10.2): from a permutation perm (perm[slot] =
// expert), score every pair swap (a b), i.e. perm with perm[a] and perm[b] exchanged, accept the best one that
// strictly lowers the objective, repeat until no swap improves or the move budget is spent. The objective comes
// from the caller (typically a loss over cached expert outputs, so no expert is re-evaluated); MoeSwapObjective
// is the one for a mixture whose slot weights are fixed. Host only, double precision.
// Test: tests/moe/test_swap_search.cpp.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "core/tensor.h"

namespace comet::moe {

using Permutation = std::vector<int64_t>;

// Optional incremental scorer: prepare(perm) caches what it needs for perm; swapped(a, b) then returns the
// objective of that perm with entries a and b exchanged, without changing the cache.
struct SwapScorer {
  std::function<void(const Permutation& perm)> prepare;
  std::function<double(int64_t a, int64_t b)> swapped;
};

struct SwapObjective {
  std::function<double(const Permutation& perm)> value;  // required
  std::optional<SwapScorer> scorer;                     // without it every candidate is scored with `value`
};

struct SwapSearchResult {
  Permutation perm;             // the final permutation
  std::vector<double> history;  // objective of the start and after each accepted move: strictly decreasing
  int moves = 0;                // accepted swaps (= history.size() - 1)
  int64_t full_evaluations = 0;  // calls of `value`
  int64_t swap_evaluations = 0;  // calls of `scorer->swapped`
};

// Steepest descent over single swaps. Per round: n(n-1)/2 candidates, the best (lowest; ties go to the first
// pair (a, b), a < b, in lexicographic order) is accepted if it is strictly below the current value. With a
// scorer, the accepted candidate is re-evaluated with `value` and accepted only if that is also strictly lower,
// so the history holds `value` results and never increases. Stops at a local optimum (no swap improves) or
// after max_moves (>= 0) accepted moves.
SwapSearchResult swap_search(Permutation perm, const SwapObjective& f, int max_moves);

// Mean squared error of a mixture with fixed slot weights over cached expert outputs:
//   pred[b] = sum_slot G[b, slot] * E[perm[slot], b],   loss(perm) = mean_{b, j} (pred[b, j] - Y[b, j])^2.
// E: [n, B, d] expert outputs, G: [B, n] slot weights (before the permutation), Y: [B, d] targets (any float
// dtype; stored as F64 copies). Costs: value O(n B d); prepare O(n B d) (caches the residual pred - Y for that
// perm); swapped(a, c) O(B d) worst case, since only the terms of slots a and c change: row r's residual moves
// by (G[r, a] - G[r, c]) (E[perm[c], r] - E[perm[a], r]), which is 0 where the two slots carry the same weight,
// so only rows with G[r, a] != G[r, c] are visited (with a sparse gate: few rows). A full round of swap_search
// therefore costs O(n B d) + n(n-1)/2 * O(B d) instead of n(n-1)/2 * O(n B d).
// objective() binds this object: it must outlive the returned SwapObjective.
class MoeSwapObjective {
 public:
  MoeSwapObjective(const Tensor& expert_outputs, const Tensor& slot_weights, const Tensor& targets);

  int64_t num_experts() const { return n_; }
  double value(const Permutation& perm) const;
  void prepare(const Permutation& perm);
  double swapped(int64_t a, int64_t b) const;
  SwapObjective objective();

 private:
  void predict(const Permutation& perm, std::vector<double>& residual) const;  // residual = pred - Y

  int64_t n_, batch_, dim_;
  Tensor experts_, weights_, targets_;  // F64 copies
  Permutation current_;                 // the perm of the last prepare
  std::vector<double> residual_;        // [B, d] residual of current_
  double base_sum_ = 0;                 // sum of residual_^2
};

}  // namespace comet::moe
