// Linear and MLP.
#include "nn/mlp.h"

#include <cmath>

namespace comet::nn {

Linear::Linear(int64_t in, int64_t out, Generator& gen, DType dtype)
    : Linear(in, out, gen, 1.0 / std::sqrt(static_cast<double>(in > 0 ? in : 1)),
             1.0 / std::sqrt(static_cast<double>(in > 0 ? in : 1)), dtype) {}

Linear::Linear(int64_t in, int64_t out, Generator& gen, double weight_bound, double bias_bound, DType dtype) {
  COMET_CHECK(in > 0 && out > 0, "Linear: sizes must be positive, got {} -> {}", in, out);
  Tensor w = Tensor::empty({in, out}, dtype), b = Tensor::zeros({out}, dtype);
  gen.uniform(w, -weight_bound, weight_bound);
  if (bias_bound > 0) gen.uniform(b, -bias_bound, bias_bound);
  weight = ag::param(w);
  bias = ag::param(b);
}

Mlp::Mlp(const std::vector<int64_t>& sizes, Generator& gen, double dropout, DType dtype) : dropout_(dropout) {
  COMET_CHECK(sizes.size() >= 2, "Mlp: need at least input and output sizes, got {}", sizes.size());
  for (size_t i = 0; i + 1 < sizes.size(); ++i) layers_.emplace_back(sizes[i], sizes[i + 1], gen, dtype);
}

ag::Var Mlp::operator()(const ag::Var& x, Generator* dropout_gen, bool training) const {
  ag::Var h = x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    h = layers_[i](h);
    if (i + 1 == layers_.size()) break;
    h = ag::relu(h);
    if (dropout_ > 0 && training) {
      COMET_CHECK(dropout_gen, "Mlp: dropout in training needs a generator");
      h = ag::dropout(h, dropout_, *dropout_gen, training);
    }
  }
  return h;
}

std::vector<ag::Var> Mlp::params() const {
  std::vector<ag::Var> out;
  for (const Linear& l : layers_) {
    out.push_back(l.weight);
    out.push_back(l.bias);
  }
  return out;
}

}  // namespace comet::nn
