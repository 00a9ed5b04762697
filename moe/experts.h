// Experts of an MoE layer. The layer needs two things from them: a grouped forward over expert-contiguous rows
// (the sparse path) and one expert's forward on a whole batch (the dense reference path); both see the same
// ExpertMode (training or not, and the generator of dropout masks).
// MlpExperts are n ReLU MLPs of the same sizes {in, h_1, ..., h_L} with stacked weights W_l [n, h_{l-1}, h_l],
// b_l [n, h_l], run as grouped GEMMs; ReLU between layers and optionally after the last, dropout after each ReLU.
// CnnExperts (moe/cnn_experts.h) implement the same interface. Test: tests/moe/test_moe_layer.cpp.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "autograd/ops.h"

namespace comet::moe {

// A trainable tensor ~ U(-bound, bound) drawn from gen (the experts' nn.Linear-style initialisation).
ag::Var uniform_param(const Shape& shape, double bound, Generator& gen, DType dtype);

struct ExpertMode {
  bool training = false;
  Generator* dropout_gen = nullptr;  // required when training with dropout
};

class Experts {
 public:
  virtual ~Experts() = default;
  virtual int64_t count() const = 0;
  virtual int64_t output_dim() const = 0;
  // rows [offsets[e], offsets[e+1]) of x go through expert e; returns [rows, output_dim].
  virtual ag::Var forward_grouped(const ag::Var& x, const std::vector<int64_t>& offsets, const ExpertMode& mode) = 0;
  // Expert e on every row of x.
  virtual ag::Var forward_one(int64_t e, const ag::Var& x, const ExpertMode& mode) = 0;
  // Every parameter with a stable name, relative to the experts (e.g. "w1", "conv1.weight").
  virtual std::vector<std::pair<std::string, ag::Var>> named_params() const = 0;
  std::vector<ag::Var> params() const;
};

struct MlpExpertsOptions {
  bool relu_last = false;  // ReLU after the last layer too (the paper's experts end in Dense + ReLU)
  double dropout = 0.0;    // inverted dropout after each ReLU, training only
};

class MlpExperts : public Experts {
 public:
  // sizes = {in, h_1, ..., h_L}; weights ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as nn.Linear, drawn from gen.
  MlpExperts(int64_t count, const std::vector<int64_t>& sizes, Generator& gen, const MlpExpertsOptions& opts = {},
             DType dtype = DType::F32);
  // Experts over given parameters: weights[l] [n, in_l, out_l], biases[l] [n, out_l].
  MlpExperts(std::vector<ag::Var> weights, std::vector<ag::Var> biases, const MlpExpertsOptions& opts = {});
  int64_t count() const override { return weights_.front().shape()[0]; }
  int64_t output_dim() const override { return weights_.back().shape()[2]; }
  ag::Var forward_grouped(const ag::Var& x, const std::vector<int64_t>& offsets, const ExpertMode& mode) override;
  ag::Var forward_one(int64_t e, const ag::Var& x, const ExpertMode& mode) override;
  std::vector<std::pair<std::string, ag::Var>> named_params() const override;  // "w1", "b1", "w2", ...

 private:
  // ReLU and dropout after layer l (all but the last, and the last too when relu_last).
  ag::Var activation(size_t layer, const ag::Var& h, const ExpertMode& mode) const;

  std::vector<ag::Var> weights_, biases_;
  MlpExpertsOptions opts_;
};

}  // namespace comet::moe
