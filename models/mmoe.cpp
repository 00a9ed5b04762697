// MMoE model, multi-task loss and the discrete swap pass.
#include "models/mmoe.h"

namespace comet::models {

const char* local_search_name(LocalSearch s) {
  switch (s) {
    case LocalSearch::None: return "none";
    case LocalSearch::Learned: return "learned";
    case LocalSearch::Swap: return "swap";
  }
  return "?";
}

LocalSearch parse_local_search(const std::string& name) {
  for (LocalSearch s : {LocalSearch::None, LocalSearch::Learned, LocalSearch::Swap})
    if (name == local_search_name(s)) return s;
  throw Error(fmt::format("unknown local search '{}' (expected none, learned or swap)", name));
}

Mmoe::Mmoe(const MmoeConfig& cfg, Generator& gen)
    : cfg_(cfg), experts_(cfg.gate.experts, cfg.input_dim, cfg.expert_hidden, cfg.expert_out, gen) {
  COMET_CHECK(cfg.tasks >= 1, "Mmoe: need at least one task, got {}", cfg.tasks);
  for (int t = 0; t < cfg.tasks; ++t) {
    gates_.push_back(moe::make_gate(cfg.gate, cfg.input_dim, gen));
    towers_.emplace_back(std::vector<int64_t>{cfg.expert_out, cfg.tower_hidden, 1}, gen);
  }
  if (cfg.local_search == LocalSearch::Learned)
    perm_ = std::make_unique<moe::LearnedPermutation>(cfg.gate.experts, cfg.permutation_window_steps, cfg.permutation_zeta, gen);
  else
    perm_ = std::make_unique<moe::FixedPermutation>(cfg.gate.experts);
}

MmoeOutput Mmoe::forward(const ag::Var& x, const Tensor& keys, bool training) {
  const ag::Var p = perm_->matrix(training);
  MmoeOutput out;
  for (int t = 0; t < cfg_.tasks; ++t) {
    moe::GateOutput g = gates_[t]->forward({x, keys}, p.defined() ? &p : nullptr, training);
    out.predictions.push_back(towers_[t](moe::moe_forward(experts_, x, g.weights, cfg_.path)));
    out.gate_weights.push_back(g.weights.value());
    out.regularization = moe::add_defined(out.regularization, g.regularization);
  }
  if (training) out.regularization = moe::add_defined(out.regularization, perm_->regularization());
  return out;
}

std::vector<ag::Var> Mmoe::params() {
  std::vector<ag::Var> p;
  for (auto& [name, v] : named_params()) p.push_back(v);
  return p;
}

std::vector<std::pair<std::string, ag::Var>> Mmoe::named_params() {
  std::vector<std::pair<std::string, ag::Var>> out;
  const char* expert_names[] = {"experts.w1", "experts.b1", "experts.w2", "experts.b2"};
  const auto experts = experts_.params();
  for (size_t i = 0; i < experts.size(); ++i) out.emplace_back(expert_names[i], experts[i]);
  for (int t = 0; t < cfg_.tasks; ++t) {
    const auto gate = gates_[t]->params();
    for (size_t i = 0; i < gate.size(); ++i) out.emplace_back(fmt::format("task{}.gate.{}", t, i), gate[i]);
    const auto& layers = towers_[t].layers();
    for (size_t l = 0; l < layers.size(); ++l) {
      out.emplace_back(fmt::format("task{}.tower.{}.weight", t, l), layers[l].weight);
      out.emplace_back(fmt::format("task{}.tower.{}.bias", t, l), layers[l].bias);
    }
  }
  for (const ag::Var& v : perm_->params()) out.emplace_back("permutation.scores", v);
  return out;
}

ag::Var multitask_loss(const MmoeOutput& out, const Tensor& targets, const std::vector<double>& w, bool with_reg) {
  COMET_CHECK(targets.ndim() == 2 && targets.dim(1) == static_cast<int64_t>(out.predictions.size()) &&
                  w.size() == out.predictions.size(),
              "multitask_loss: targets {} and {} task weights for {} tasks", shape_str(targets.shape()), w.size(),
              out.predictions.size());
  const std::vector<ag::Var> columns =
      ag::split_cols(ag::constant(targets), std::vector<int64_t>(out.predictions.size(), 1));
  ag::Var loss;
  for (size_t t = 0; t < out.predictions.size(); ++t)
    loss = moe::add_defined(loss, ag::scale(ag::mse(out.predictions[t], columns[t]), w[t]));
  return with_reg ? moe::add_defined(loss, out.regularization) : loss;
}

std::vector<double> Mmoe::swap_pass(const Tensor& x, const Tensor& keys, const Tensor& targets,
                                    const std::vector<double>& task_weights, int max_moves) {
  COMET_CHECK(cfg_.local_search == LocalSearch::Swap, "Mmoe::swap_pass: the model uses local search '{}', not 'swap'",
              local_search_name(cfg_.local_search));
  ag::NoGradGuard no_grad;
  const int64_t n = cfg_.gate.experts;
  const ag::Var xv = ag::constant(x);
  std::vector<ag::Var> expert_out;  // computed once per pass
  for (int64_t e = 0; e < n; ++e) expert_out.push_back(experts_.forward_one(e, xv));
  std::vector<ag::Var> slots;  // the gates' slot weights, before any permutation
  for (auto& g : gates_) slots.push_back(g->forward({xv, keys}, nullptr, false).weights);
  moe::SwapObjective objective;
  objective.value = [&](const moe::Permutation& perm) {
    const ag::Var p = ag::constant(moe::permutation_matrix(perm));
    MmoeOutput out;
    for (int t = 0; t < cfg_.tasks; ++t) {
      const std::vector<ag::Var> g = ag::split_cols(ag::matmul(slots[t], p), std::vector<int64_t>(n, 1));
      ag::Var mix;
      for (int64_t e = 0; e < n; ++e) mix = moe::add_defined(mix, ag::mul(expert_out[e], g[e]));
      out.predictions.push_back(towers_[t](mix));
    }
    return multitask_loss(out, targets, task_weights, false).value().item();
  };
  auto& fixed = static_cast<moe::FixedPermutation&>(*perm_);
  moe::SwapSearchResult r = moe::swap_search(fixed.hard(), objective, max_moves);
  fixed.set(r.perm);
  return r.history;
}

}  // namespace comet::models
