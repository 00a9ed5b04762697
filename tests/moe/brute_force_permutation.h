// Test oracle shared by the permutation tests: the best objective over all n! permutations (n <= 8).
#pragma once
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace comet::test {

struct BruteForceBest {
  std::vector<int64_t> perm;  // the first best permutation in lexicographic order
  double value = 0;
};

// The permutation of 0..n-1 with the lowest f (pass a negated objective to maximise).
template <class F>
BruteForceBest brute_force_min(int64_t n, F&& f) {
  std::vector<int64_t> perm(static_cast<size_t>(n));
  std::iota(perm.begin(), perm.end(), int64_t{0});
  BruteForceBest best{perm, f(perm)};
  while (std::next_permutation(perm.begin(), perm.end())) {
    const double v = f(perm);
    if (v < best.value) best = {perm, v};
  }
  return best;
}

}  // namespace comet::test
