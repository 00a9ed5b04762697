// The synthetic multi-task data set of Ma et al. (KDD 2018, MMoE), spec comet.md section 10.4: x ~ N(0, I_d);
// two orthonormal directions u1, u2; w1 = c u1, w2 = c (rho u1 + sqrt(1 - rho^2) u2), rho = task relatedness;
// y_t = w_t.x + sum_{i=1..10} sin(alpha_i w_t.x + beta_i) + eps, alpha_i = i, beta_i = i^2, eps ~ N(0, 0.01).
// Seeded: the same config regenerates the same data bit for bit. Test: tests/nn/test_mlp.cpp.
#pragma once
#include <cstdint>

#include "data/dataset.h"

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

// The data set: dense x [samples, dim], tasks t1 and t2 (regression, all observed), and one id column "key" in
// [0, num_keys) drawn uniformly, unrelated to x: the routing key of Hash gates (the data has no natural one).
Dataset make_synthetic_multitask(const SyntheticConfig& cfg);
// The task weight vectors w [2, dim] (f64) behind make_synthetic_multitask(cfg) (for tests).
Tensor synthetic_task_weights(const SyntheticConfig& cfg);

}  // namespace comet::data
