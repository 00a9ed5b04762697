// The multi-gate MoE (MMoE, Ma et al. 2018; spec comet.md 5.5): n shared experts, one gate per task (own
// parameters, same kind), per-task mixtures of the expert outputs, one tower per task. One slot permutation is
// shared by all gates: none (identity), learned (the released COMET+ method) or a fixed one set by the discrete
// swap pass (swap_pass below). Test: tests/train/test_train_mmoe.cpp.
#pragma once
#include <memory>
#include <vector>

#include "moe/gate.h"
#include "nn/mlp.h"
#include "moe/moe_layer.h"
#include "moe/permutation.h"

namespace comet::models {

enum class LocalSearch { None, Learned, Swap };
const char* local_search_name(LocalSearch s);
LocalSearch parse_local_search(const std::string& name);  // "none", "learned", "swap"

struct MmoeConfig {
  int64_t input_dim = 100;
  int64_t expert_hidden = 64;
  int64_t expert_out = 32;
  int64_t tower_hidden = 32;
  int tasks = 2;
  moe::GateConfig gate;  // gate.experts is the number of experts
  LocalSearch local_search = LocalSearch::Learned;
  int64_t permutation_window_steps = 1;  // learned: the window I_p in training steps
  double permutation_zeta = 1e-4;
  moe::MoePath path = moe::MoePath::Sparse;
};

struct MmoeOutput {
  std::vector<ag::Var> predictions;  // per task [B, 1]
  std::vector<Tensor> gate_weights;  // per task g [B, n]
  ag::Var regularization;            // gates + permutation (undefined: none)
};

class Mmoe {
 public:
  Mmoe(const MmoeConfig& cfg, Generator& gen);
  MmoeOutput forward(const ag::Var& x, const Tensor& keys, bool training);
  std::vector<ag::Var> params();
  // Every parameter with a stable name ("experts.w1", "task0.gate.0", "task1.tower.1.bias", "permutation.scores").
  std::vector<std::pair<std::string, ag::Var>> named_params();
  const MmoeConfig& config() const { return cfg_; }
  moe::SlotPermutation& permutation() { return *perm_; }
  moe::Gate& gate(int task) { return *gates_.at(static_cast<size_t>(task)); }

  // The discrete local-search pass (spec 10.2): from the current hard permutation, expert outputs and the gates'
  // slot weights are computed once on (x, targets), then every swap of two experts is scored by re-mixing the cached
  // outputs and running the towers (no expert evaluation); the best improving swap is taken until none improves or
  // max_moves. Only for LocalSearch::Swap. Returns the objective history (non-increasing).
  std::vector<double> swap_pass(const Tensor& x, const Tensor& keys, const Tensor& targets,
                                const std::vector<double>& task_weights, int max_moves);

 private:
  MmoeConfig cfg_;
  moe::MlpExperts experts_;
  std::vector<std::unique_ptr<moe::Gate>> gates_;
  std::vector<nn::Mlp> towers_;
  std::unique_ptr<moe::SlotPermutation> perm_;
};

// sum_t w_t mse(prediction_t, targets[:, t]) (+ regularisation when given).
ag::Var multitask_loss(const MmoeOutput& out, const Tensor& targets, const std::vector<double>& task_weights,
                       bool with_regularization);

}  // namespace comet::models
