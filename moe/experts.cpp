// MLP experts as grouped linear layers.
#include "moe/experts.h"

#include <cmath>

namespace comet::moe {
ag::Var uniform_param(const Shape& shape, double bound, Generator& gen, DType dtype) {
  Tensor t = Tensor::empty(shape, dtype);
  gen.uniform(t, -bound, bound);
  return ag::param(t);
}

std::vector<ag::Var> Experts::params() const {
  std::vector<ag::Var> out;
  for (auto& [name, v] : named_params()) out.push_back(v);
  return out;
}

MlpExperts::MlpExperts(int64_t count, const std::vector<int64_t>& sizes, Generator& gen, const MlpExpertsOptions& opts,
                       DType dtype)
    : opts_(opts) {
  bool positive = count >= 1 && sizes.size() >= 2;
  for (int64_t s : sizes) positive = positive && s >= 1;
  COMET_CHECK(positive, "MlpExperts: need count >= 1 and at least two positive sizes, got count {} and sizes {}",
              count, shape_str(sizes));
  for (size_t l = 0; l + 1 < sizes.size(); ++l) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(sizes[l]));
    weights_.push_back(uniform_param({count, sizes[l], sizes[l + 1]}, bound, gen, dtype));
    biases_.push_back(uniform_param({count, sizes[l + 1]}, bound, gen, dtype));
  }
}

MlpExperts::MlpExperts(std::vector<ag::Var> weights, std::vector<ag::Var> biases, const MlpExpertsOptions& opts)
    : weights_(std::move(weights)), biases_(std::move(biases)), opts_(opts) {
  COMET_CHECK(!weights_.empty() && weights_.size() == biases_.size(), "MlpExperts: {} weights and {} biases",
              weights_.size(), biases_.size());
  const int64_t n = weights_[0].shape().size() == 3 ? weights_[0].shape()[0] : -1;
  for (size_t l = 0; l < weights_.size(); ++l) {
    const Shape &w = weights_[l].shape(), &b = biases_[l].shape();
    const bool chained = l == 0 || (w.size() == 3 && w[1] == weights_[l - 1].shape()[2]);
    COMET_CHECK(n >= 1 && w.size() == 3 && w[0] == n && chained && b == Shape({n, w[2]}),
                "MlpExperts: layer {} weight {} and bias {} do not fit [n, in, out] and [n, out] after the layer before",
                l + 1, shape_str(w), shape_str(b));
  }
}

ag::Var MlpExperts::activation(size_t layer, const ag::Var& h, const ExpertMode& mode) const {
  if (layer + 1 == weights_.size() && !opts_.relu_last) return h;
  const ag::Var r = ag::relu(h);
  if (opts_.dropout == 0.0 || !mode.training) return r;
  COMET_CHECK(mode.dropout_gen != nullptr, "MlpExperts: training with dropout {} needs a dropout generator",
              opts_.dropout);
  return ag::dropout(r, opts_.dropout, *mode.dropout_gen, true);
}

ag::Var MlpExperts::forward_grouped(const ag::Var& x, const std::vector<int64_t>& offsets, const ExpertMode& mode) {
  ag::Var h = x;
  for (size_t l = 0; l < weights_.size(); ++l)
    h = activation(l, ag::grouped_linear(h, weights_[l], biases_[l], offsets), mode);
  return h;
}

ag::Var MlpExperts::forward_one(int64_t e, const ag::Var& x, const ExpertMode& mode) {
  // Plain matmuls on expert e's weights (independent of the grouped kernels the sparse path uses); select() puts the
  // gradient in expert e's block only, so the dense path costs O(n), not O(n^2).
  COMET_CHECK(e >= 0 && e < count(), "MlpExperts: expert {} out of range [0, {})", e, count());
  ag::Var h = x;
  for (size_t l = 0; l < weights_.size(); ++l)
    h = activation(l, ag::linear(h, ag::select(weights_[l], e), ag::select(biases_[l], e)), mode);
  return h;
}

std::vector<std::pair<std::string, ag::Var>> MlpExperts::named_params() const {
  std::vector<std::pair<std::string, ag::Var>> out;
  for (size_t l = 0; l < weights_.size(); ++l) {
    out.emplace_back(fmt::format("w{}", l + 1), weights_[l]);
    out.emplace_back(fmt::format("b{}", l + 1), biases_[l]);
  }
  return out;
}

}  // namespace comet::moe
