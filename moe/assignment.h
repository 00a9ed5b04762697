// Exact linear assignment on a square score matrix (host, double precision): the O(n^3) shortest augmenting
// path method with dual potentials (Kuhn-Munkres as refined by Jonker-Volgenant). A permutation is a vector
// `perm` with perm[row] = col (for the MoE permutation: perm[slot] = expert, spec comet.md 4.1); its score is
// sum_row score[row, perm[row]]. Tie-breaking is deterministic: the same matrix always gives the same
// permutation (among equal reduced costs the lowest column index wins). Test: tests/moe/test_assignment.cpp.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace comet::moe {

enum class AssignmentSense { Maximize, Minimize };

// The permutation that maximises (or minimises) sum_row score[row, perm[row]]. score: [n, n], n >= 1, any
// floating dtype (computed in F64), every entry finite; errors name the shape or the position of a bad value.
std::vector<int64_t> linear_assignment(const Tensor& score, AssignmentSense sense);
inline std::vector<int64_t> max_weight_assignment(const Tensor& score) {
  return linear_assignment(score, AssignmentSense::Maximize);
}
inline std::vector<int64_t> min_cost_assignment(const Tensor& cost) {
  return linear_assignment(cost, AssignmentSense::Minimize);
}

// sum_row score[row, perm[row]] (checks that perm is a permutation of the right size).
double assignment_score(const Tensor& score, const std::vector<int64_t>& perm);

// Throws "<op>: ..." unless perm is a permutation of 0..n-1.
void check_permutation(const char* op, const std::vector<int64_t>& perm, int64_t n);

// The CPU F64 copy of a square [n, n] matrix with n >= 1 and only finite entries (shared input check of the
// permutation code); errors start with `op`.
Tensor checked_square_f64(const char* op, const Tensor& m);

}  // namespace comet::moe
