// The multi-gate MoE (MMoE, Ma et al. 2018; spec comet.md 5.5 and 6.2) for every task of the paper:
//   input   = [embedding of each id column (when embedding_dim > 0), dense features]  (the gate input too)
//   experts = n shared MlpExperts or CnnExperts on that input (sparse or dense path), each run once on each sample
//             that some gate routes to it (one dropout mask per sample and expert, as in the paper's models)
//   per task: a gate (own parameters, same kind; or one gate shared by all tasks), the mixture of the experts'
//             outputs, and a tower MLP ending in the task's outputs (1 logit / value, or C class logits).
// Presets: recommender (user and item embeddings, Dense + ReLU + Dropout experts), vision (CNN experts on the
// flattened image), synthetic (the bundled MMoE data). One slot permutation is shared by all gates: none
// (identity), learned (the released COMET+ method) or a fixed one set by the discrete swap pass (swap_pass below).
// Tests: tests/models/test_mmoe.cpp, tests/train/test_train_mmoe.cpp.
#pragma once
#include <functional>
#include <memory>
#include <vector>

#include "data/dataset.h"
#include "moe/cnn_experts.h"
#include "moe/gate.h"
#include "moe/moe_layer.h"
#include "moe/permutation.h"
#include "moe/swap_search.h"
#include "nn/mlp.h"

namespace comet::models {

enum class LocalSearch { None, Learned, Swap };
const char* local_search_name(LocalSearch s);
LocalSearch parse_local_search(const std::string& name);  // "none", "learned", "swap"

enum class ExpertKind { Mlp, Cnn };

struct MmoeConfig {
  // Input: one embedding table per id column (vocabulary sizes id_vocab) when embedding_dim > 0, concatenated
  // with dense_dim dense features. With embedding_dim = 0 the ids only serve as Hash keys.
  std::vector<int64_t> id_vocab;
  int64_t embedding_dim = 0;
  int64_t dense_dim = 100;
  ExpertKind expert_kind = ExpertKind::Mlp;
  std::vector<int64_t> expert_sizes{64, 32};  // Mlp: the layer widths after the input
  moe::MlpExpertsOptions expert_options;       // Mlp: ReLU after the last layer, dropout
  moe::CnnExpertsConfig cnn;                   // Cnn: image shape and layer sizes
  std::vector<int64_t> tower_hidden{32};       // ReLU layers of each tower before its output layer
  std::vector<int64_t> task_outputs{1, 1};     // per task: 1 (binary logit, regression value) or the class count
  bool shared_gate = false;                    // one gate for every task (the single-gate variant)
  moe::GateConfig gate;                        // gate.experts is the number of experts
  LocalSearch local_search = LocalSearch::Learned;
  int64_t permutation_window_steps = 1;  // learned: the window I_p in training steps
  double permutation_zeta = 1e-4;
  moe::MoePath path = moe::MoePath::Sparse;

  int tasks() const { return static_cast<int>(task_outputs.size()); }
  int64_t input_dim() const;  // width of the experts' and gates' input
  // Every setting as space-separated key=value fields (checkpoints store it and compare it field by field), and
  // the inverse: parse(describe()) is an equal config. parse throws naming the field it cannot read.
  std::string describe() const;
  static MmoeConfig parse(const std::string& text);
};

// What the model reads of a batch: ids [B, F] i64 (or undefined), dense [B, D] f32 (or undefined), keys [B] for
// Hash routing (or undefined).
struct ModelInput {
  Tensor ids, dense, keys;
};
ModelInput model_input(const data::Dataset& batch);

struct MmoeOutput {
  std::vector<ag::Var> predictions;  // per task [B, outputs]
  std::vector<Tensor> gate_weights;  // per gate g [B, n]
  ag::Var regularization;            // gates + permutation (undefined: none)
};

class Mmoe {
 public:
  Mmoe(const MmoeConfig& cfg, Generator& gen);
  MmoeOutput forward(const ModelInput& in, bool training);
  std::vector<ag::Var> params();
  // Every parameter with a stable name ("embedding.0", "experts.w1", "task0.gate.0", "task1.tower.1.bias",
  // "permutation.scores").
  std::vector<std::pair<std::string, ag::Var>> named_params();
  // The gates' buffers ("task0.gate.hash_table"): state that checkpoints hold besides the parameters.
  std::vector<std::pair<std::string, Tensor*>> named_buffers();
  // Moves every parameter to `device` (in place: every handle to a parameter sees it there). The buffers and the
  // ids stay on the host, where they are read; forward brings the dense input to the parameters' device.
  void to(Device device);
  Device device() const;  // where the parameters live
  const MmoeConfig& config() const { return cfg_; }
  moe::SlotPermutation& permutation() { return *perm_; }
  int gate_count() const { return static_cast<int>(gates_.size()); }
  moe::Gate& gate(int g) { return *gates_.at(static_cast<size_t>(g)); }
  // The generator of the experts' dropout masks: its position is part of a training checkpoint.
  Generator& dropout_generator() { return dropout_gen_; }

  // The discrete local-search pass (spec 10.2): from the current hard permutation, expert outputs and the gates'
  // slot weights are computed once on `in`; the objective of a permutation is sum_t weights[t] * sum_t / count_t,
  // with the per-task loss sums and counts from `loss` (of the rows given, for the predictions of those rows; the
  // counts must not depend on the predictions). Each swap of two experts is scored incrementally: only rows whose
  // two slot weights differ change, so only their mixtures are updated and only they go through the towers and
  // `loss` (with a sparse gate: few rows per swap); accepted swaps are re-scored in full. The best improving swap
  // is taken until none improves or max_moves. Only for LocalSearch::Swap. Returns the search's result: the
  // objective history (strictly decreasing), the moves and how many full and incremental evaluations it made.
  using TaskSums = std::vector<std::pair<double, double>>;  // per task (loss sum, targets counted)
  using RowLoss = std::function<TaskSums(const Tensor& rows, const std::vector<ag::Var>& predictions)>;
  moe::SwapSearchResult swap_pass(const ModelInput& in, const RowLoss& loss, const std::vector<double>& weights,
                                  int max_moves);

 private:
  ag::Var encode(const ModelInput& in) const;  // the experts' and gates' input [B, input_dim]

  MmoeConfig cfg_;
  std::vector<ag::Var> embeddings_;  // [vocab_f, embedding_dim] per id column
  std::unique_ptr<moe::Experts> experts_;
  std::vector<std::unique_ptr<moe::Gate>> gates_;
  std::vector<nn::Mlp> towers_;
  std::unique_ptr<moe::SlotPermutation> perm_;
  Generator dropout_gen_;
};

}  // namespace comet::models
