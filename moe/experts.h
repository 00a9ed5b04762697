// Experts of an MoE layer. The layer needs two things from them: a grouped forward over expert-contiguous rows
// (the sparse path) and one expert's forward on a whole batch (the dense reference path). MlpExperts are n
// two-layer ReLU MLPs with stacked weights W1 [n, in, hidden], W2 [n, hidden, out], run as grouped GEMMs; other
// expert kinds (e.g. small CNNs) implement the same interface. Test: tests/moe/test_moe_layer.cpp.
#pragma once
#include <vector>

#include "autograd/ops.h"

namespace comet::moe {

class Experts {
 public:
  virtual ~Experts() = default;
  virtual int64_t count() const = 0;
  virtual int64_t output_dim() const = 0;
  // rows [offsets[e], offsets[e+1]) of x go through expert e; returns [rows, output_dim].
  virtual ag::Var forward_grouped(const ag::Var& x, const std::vector<int64_t>& offsets) = 0;
  // Expert e on every row of x.
  virtual ag::Var forward_one(int64_t e, const ag::Var& x) = 0;
  virtual std::vector<ag::Var> params() const = 0;
};

class MlpExperts : public Experts {
 public:
  // Weights ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) as nn.Linear, drawn from gen.
  MlpExperts(int64_t count, int64_t in, int64_t hidden, int64_t out, Generator& gen, DType dtype = DType::F32);
  // Experts over given parameters: w1 [n, in, hidden], b1 [n, hidden], w2 [n, hidden, out], b2 [n, out].
  MlpExperts(ag::Var w1, ag::Var b1, ag::Var w2, ag::Var b2);
  int64_t count() const override { return w1_.shape()[0]; }
  int64_t output_dim() const override { return w2_.shape()[2]; }
  ag::Var forward_grouped(const ag::Var& x, const std::vector<int64_t>& offsets) override;
  ag::Var forward_one(int64_t e, const ag::Var& x) override;
  std::vector<ag::Var> params() const override { return {w1_, b1_, w2_, b2_}; }

 private:
  ag::Var w1_, b1_, w2_, b2_;
};

}  // namespace comet::moe
