// MMoE synthetic data generator.
#include "data/synthetic.h"

#include <cmath>

#include "core/rng.h"

namespace comet::data {
namespace {

double dot(const double* a, const double* b, int64_t n) {
  double s = 0;
  for (int64_t i = 0; i < n; ++i) s += a[i] * b[i];
  return s;
}

// Two orthonormal vectors from Gram-Schmidt on two Gaussian draws.
Tensor orthonormal_pair(int64_t d, Generator& gen) {
  Tensor u = Tensor::empty({2, d}, DType::F64);
  gen.normal(u, 0, 1);
  double* u1 = u.data<double>();
  double* u2 = u1 + d;
  const double n1 = std::sqrt(dot(u1, u1, d));
  for (int64_t i = 0; i < d; ++i) u1[i] /= n1;
  const double p = dot(u1, u2, d);
  for (int64_t i = 0; i < d; ++i) u2[i] -= p * u1[i];
  const double n2 = std::sqrt(dot(u2, u2, d));
  for (int64_t i = 0; i < d; ++i) u2[i] /= n2;
  return u;
}

}  // namespace

namespace {

void check_config(const SyntheticConfig& cfg) {
  COMET_CHECK(cfg.samples > 0 && cfg.dim >= 2, "synthetic data: need samples > 0 and dim >= 2, got {} and {}",
              cfg.samples, cfg.dim);
  COMET_CHECK(cfg.relatedness >= -1.0 && cfg.relatedness <= 1.0, "synthetic data: relatedness {} not in [-1, 1]",
              cfg.relatedness);
  COMET_CHECK(cfg.num_keys >= 1, "synthetic data: num_keys must be >= 1, got {}", cfg.num_keys);
}

// w [2, dim]: the first draws of the data's generator.
Tensor task_weights(const SyntheticConfig& cfg, Generator& gen) {
  const int64_t d = cfg.dim;
  Tensor u = orthonormal_pair(d, gen);
  Tensor w = Tensor::empty({2, d}, DType::F64);
  const double rho = cfg.relatedness, sr = std::sqrt(1.0 - rho * rho);
  for (int64_t i = 0; i < d; ++i) {
    const double u1 = u.data<double>()[i], u2 = u.data<double>()[d + i];
    w.data<double>()[i] = cfg.scale * u1;
    w.data<double>()[d + i] = cfg.scale * (rho * u1 + sr * u2);
  }
  return w;
}

}  // namespace

Tensor synthetic_task_weights(const SyntheticConfig& cfg) {
  check_config(cfg);
  Generator gen(cfg.seed);
  return task_weights(cfg, gen);
}

Dataset make_synthetic_multitask(const SyntheticConfig& cfg) {
  check_config(cfg);
  Generator gen(cfg.seed);
  const int64_t d = cfg.dim, n = cfg.samples;
  const Tensor w = task_weights(cfg, gen);
  Tensor x = Tensor::empty({n, d}, DType::F64), noise = Tensor::empty({n, 2}, DType::F64);
  gen.normal(x, 0, 1);
  gen.normal(noise, 0, cfg.noise_std);
  Dataset out;
  out.targets = Tensor::empty({n, 2});
  for (int64_t s = 0; s < n; ++s) {
    for (int t = 0; t < 2; ++t) {
      const double z = dot(w.data<double>() + t * d, x.data<double>() + s * d, d);
      double y = z + noise.data<double>()[s * 2 + t];
      for (int i = 1; i <= 10; ++i) y += std::sin(i * z + i * i);
      out.targets.data<float>()[s * 2 + t] = static_cast<float>(y);
    }
  }
  out.dense = x.to(DType::F32);
  out.ids = Tensor::empty({n, 1}, DType::I64);
  gen.randint(out.ids, 0, cfg.num_keys);
  out.id_names = {"key"};
  out.vocab = {cfg.num_keys};
  out.key_column = 0;
  out.tasks = {{"t1", TaskKind::Regression, 0}, {"t2", TaskKind::Regression, 0}};
  return out;
}

}  // namespace comet::data
