// The synthetic multi-task data set of Ma et al. (KDD 2018, MMoE), spec comet.md section 10.4: x ~ N(0, I_d);
// two orthonormal directions u1, u2; w1 = c u1, w2 = c (rho u1 + sqrt(1 - rho^2) u2), rho = task relatedness;
// y_t = w_t.x + sum_{i=1..10} sin(alpha_i w_t.x + beta_i) + eps, alpha_i = i, beta_i = i^2, eps ~ N(0, 0.01).
// Seeded: the same config regenerates the same data bit for bit. Test: tests/nn/test_mlp.cpp.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace comet::data {

struct SyntheticConfig {
  int64_t samples = 8192;
  int64_t dim = 100;
  double relatedness = 0.5;  // rho in [-1, 1]
  double scale = 1.0;        // c
  double noise_std = 0.1;    // sqrt(0.01)
  int64_t num_keys = 1000;   // keys (user ids) for Hash routing: drawn uniformly, unrelated to x
  uint64_t seed = 1;
};

struct MultiTaskData {
  Tensor x;        // [samples, dim] f32
  Tensor targets;  // [samples, 2] f32, column t is task t
  Tensor keys;     // [samples] i64 in [0, num_keys): the routing key of Hash gates (the data has no natural one)
  Tensor w;        // [2, dim] f64, the task weight vectors (for tests)
};

MultiTaskData make_synthetic_multitask(const SyntheticConfig& cfg);

// Rows [begin, end) of a data set (views, no copy).
MultiTaskData slice(const MultiTaskData& d, int64_t begin, int64_t end);
// The rows listed in index (i64 [m]), copied.
MultiTaskData gather(const MultiTaskData& d, const Tensor& index);

}  // namespace comet::data
