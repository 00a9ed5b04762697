// CNN experts (the paper's vision experts, spec comet.md 6.2): per expert, conv blocks [conv k x k (valid) + ReLU +
// 2x2 max-pool] with the given filter counts, then a ReLU MLP on the flattened features (ReLU after its last layer
// too). Inputs are images flattened row-major: x [rows, C H W]. Conv weights are stacked per expert
// (conv<l>.weight [n, O, C, k, k], conv<l>.bias [n, O]) so that expert e's block is a select() view; the dense part
// is an MlpExperts run as grouped GEMMs over the expert-contiguous rows. Default sizes: MultiMNIST's
// 36x36 -> conv 5x5/10 -> pool -> conv 5x5/20 -> pool -> 720 -> 50 -> 50. Test: tests/moe/test_cnn_experts.cpp.
#pragma once
#include "moe/experts.h"

namespace comet::moe {

struct CnnExpertsConfig {
  int64_t channels = 1, height = 36, width = 36;  // input image
  std::vector<int64_t> filters{10, 20};           // one conv block per entry
  int64_t kernel = 5;
  std::vector<int64_t> dense{50, 50};             // the MLP after the conv blocks
};

class CnnExperts : public Experts {
 public:
  CnnExperts(int64_t count, const CnnExpertsConfig& cfg, Generator& gen, DType dtype = DType::F32);
  // Experts over given parameters (e.g. the inputs of a gradient check): conv_weights[l] [n, O_l, C_l, k, k],
  // conv_biases[l] [n, O_l] with O_l = cfg.filters[l]; dense_weights / dense_biases as MlpExperts(weights, biases)
  // over feature_dim(cfg) -> cfg.dense (ReLU after the last layer).
  CnnExperts(const CnnExpertsConfig& cfg, std::vector<ag::Var> conv_weights, std::vector<ag::Var> conv_biases,
             std::vector<ag::Var> dense_weights, std::vector<ag::Var> dense_biases);
  int64_t count() const override { return dense_.count(); }
  int64_t output_dim() const override { return dense_.output_dim(); }
  ag::Var forward_grouped(const ag::Var& x, const std::vector<int64_t>& offsets, const ExpertMode& mode) override;
  ag::Var forward_one(int64_t e, const ag::Var& x, const ExpertMode& mode) override;
  std::vector<std::pair<std::string, ag::Var>> named_params() const override;  // conv1.weight, ..., dense.w1, ...

  // Width of the flattened features after the conv blocks (throws if a block does not fit the image).
  static int64_t feature_dim(const CnnExpertsConfig& cfg);

 private:
  // Expert e's conv blocks on rows of x [m, C H W] -> [m, feature_dim].
  ag::Var features(int64_t e, const ag::Var& x) const;

  struct Convs {
    std::vector<ag::Var> weights, biases;
  };
  static Convs make_convs(int64_t count, const CnnExpertsConfig& cfg, Generator& gen, DType dtype);

  CnnExpertsConfig cfg_;
  Convs convs_;  // drawn from the generator before the dense layers (members initialise in this order)
  MlpExperts dense_;
};

}  // namespace comet::moe
