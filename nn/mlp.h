// Dense layers: Linear (x W + b) and a ReLU MLP, the building blocks of experts, towers and the bundled
// main job. Weights [in, out] so a batch [B, in] maps to [B, out]; initialised U(-1/sqrt(in), 1/sqrt(in))
// (PyTorch's nn.Linear default). Test: tests/nn/test_mlp.cpp.
#pragma once
#include <vector>

#include "autograd/ops.h"

namespace comet::nn {

struct Linear {
  ag::Var weight;  // [in, out]
  ag::Var bias;    // [out]
  Linear(int64_t in, int64_t out, Generator& gen, DType dtype = DType::F32);
  // Weight ~ U(-weight_bound, weight_bound), bias ~ U(-bias_bound, bias_bound) (0: zeros).
  Linear(int64_t in, int64_t out, Generator& gen, double weight_bound, double bias_bound, DType dtype = DType::F32);
  ag::Var operator()(const ag::Var& x) const { return ag::linear(x, weight, bias); }
};

// sizes = {in, hidden..., out}; ReLU between layers, none after the last; optional dropout after each ReLU.
class Mlp {
 public:
  Mlp(const std::vector<int64_t>& sizes, Generator& gen, double dropout = 0.0, DType dtype = DType::F32);
  ag::Var operator()(const ag::Var& x, Generator* dropout_gen = nullptr, bool training = false) const;
  std::vector<ag::Var> params() const;
  const std::vector<Linear>& layers() const { return layers_; }

 private:
  std::vector<Linear> layers_;
  double dropout_;
};

}  // namespace comet::nn
