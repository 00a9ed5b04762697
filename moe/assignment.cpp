// Exact linear assignment (shortest augmenting paths with dual potentials, O(n^3)). See assignment.h.
// Test: tests/moe/test_assignment.cpp.
#include "moe/assignment.h"

#include <cmath>
#include <limits>

namespace comet::moe {

Tensor checked_square_f64(const char* op, const Tensor& m) {
  COMET_CHECK(m.defined(), "{}: matrix is undefined", op);
  COMET_CHECK(m.device() == Device::CPU, "{}: expected a CPU matrix, got a {} one", op, device_name(m.device()));
  COMET_CHECK(m.dtype() == DType::F32 || m.dtype() == DType::F64, "{}: expected a floating matrix, got {}", op,
              dtype_name(m.dtype()));
  COMET_CHECK(m.ndim() == 2 && m.dim(0) == m.dim(1) && m.dim(0) >= 1,
              "{}: expected a non-empty square matrix [n, n], got shape {}", op, shape_str(m.shape()));
  Tensor d = m.to(DType::F64);
  const int64_t n = d.dim(0);
  const double* p = d.data<double>();
  for (int64_t i = 0; i < n * n; ++i)
    COMET_CHECK(std::isfinite(p[i]), "{}: entry [{}, {}] of the {} matrix is {}", op, i / n, i % n,
                shape_str(m.shape()), p[i]);
  return d;
}

void check_permutation(const char* op, const std::vector<int64_t>& perm, int64_t n) {
  COMET_CHECK(static_cast<int64_t>(perm.size()) == n, "{}: expected a permutation of {} entries, got {}", op, n,
              perm.size());
  std::vector<bool> seen(static_cast<size_t>(n), false);
  for (size_t i = 0; i < perm.size(); ++i) {
    const int64_t v = perm[i];
    COMET_CHECK(v >= 0 && v < n && !seen[static_cast<size_t>(v)],
                "{}: not a permutation of 0..{}: entry {} is {} (out of range or repeated)", op, n - 1, i, v);
    seen[static_cast<size_t>(v)] = true;
  }
}

double assignment_score(const Tensor& score, const std::vector<int64_t>& perm) {
  const Tensor s = checked_square_f64("assignment_score", score);
  const int64_t n = s.dim(0);
  check_permutation("assignment_score", perm, n);
  const double* p = s.data<double>();
  double total = 0;
  for (int64_t r = 0; r < n; ++r) total += p[r * n + perm[static_cast<size_t>(r)]];
  return total;
}

// Minimum-cost assignment of cost[n*n] (row-major). Rows are added one at a time; each addition runs a
// Dijkstra-like search over columns on reduced costs cost - u[row] - v[col] >= 0 and augments along the
// shortest path. Indices are 1-based inside, column 0 being the virtual start of each search.
static std::vector<int64_t> min_cost_assignment_raw(const double* cost, int64_t n) {
  const double inf = std::numeric_limits<double>::infinity();
  const size_t m = static_cast<size_t>(n) + 1;
  std::vector<double> u(m, 0.0), v(m, 0.0);
  std::vector<int64_t> row_of_col(m, 0), way(m, 0);  // row_of_col[j]: row matched to column j (0 = none)
  for (int64_t row = 1; row <= n; ++row) {
    row_of_col[0] = row;
    int64_t j0 = 0;
    std::vector<double> min_v(m, inf);
    std::vector<bool> used(m, false);
    do {
      used[j0] = true;
      const int64_t i0 = row_of_col[j0];
      double delta = inf;
      int64_t j1 = 0;
      for (int64_t j = 1; j <= n; ++j) {
        if (used[j]) continue;
        const double reduced = cost[(i0 - 1) * n + (j - 1)] - u[i0] - v[j];
        if (reduced < min_v[j]) { min_v[j] = reduced; way[j] = j0; }
        if (min_v[j] < delta) { delta = min_v[j]; j1 = j; }
      }
      COMET_CHECK(j1 != 0, "linear_assignment: reduced costs overflowed (entries too large in magnitude)");
      for (int64_t j = 0; j <= n; ++j) {
        if (used[j]) { u[row_of_col[j]] += delta; v[j] -= delta; }
        else min_v[j] -= delta;
      }
      j0 = j1;
    } while (row_of_col[j0] != 0);
    do {  // augment: shift the matching back along the path
      const int64_t j1 = way[j0];
      row_of_col[j0] = row_of_col[j1];
      j0 = j1;
    } while (j0 != 0);
  }
  std::vector<int64_t> perm(static_cast<size_t>(n));
  for (int64_t j = 1; j <= n; ++j) perm[static_cast<size_t>(row_of_col[j] - 1)] = j - 1;
  return perm;
}

std::vector<int64_t> linear_assignment(const Tensor& score, AssignmentSense sense) {
  Tensor cost = checked_square_f64("linear_assignment", score);
  if (sense == AssignmentSense::Maximize) {
    double* p = cost.data<double>();
    for (int64_t i = 0; i < cost.numel(); ++i) p[i] = -p[i];
  }
  return min_cost_assignment_raw(cost.data<double>(), cost.dim(0));
}

}  // namespace comet::moe
