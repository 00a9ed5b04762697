// The tree gates: DSelect-k (spec 2) and COMET (spec 3). Both route through kernels/gate_math.h's routing trees.
#include "moe/gates.h"

namespace comet::moe {
namespace {

bool power_of_two(int64_t n) { return (n & (n - 1)) == 0; }

Tensor stacked_identities(int64_t copies, int64_t n, DType dtype) {
  Tensor t = Tensor::zeros({copies * n, n}, dtype);
  COMET_DISPATCH_FLOAT(dtype, "stacked_identities", [&] {
    for (int64_t j = 0; j < copies; ++j)
      for (int64_t i = 0; i < n; ++i) t.data<scalar_t>()[(j * n + i) * n + i] = scalar_t(1);
  });
  return t;
}

std::optional<nn::Linear> comet_nodes(const GateConfig& cfg, int64_t d, Generator& gen) {
  if (cfg.experts == 1) return std::nullopt;  // a single leaf: no internal node
  return nn::Linear(d, cfg.k * (cfg.experts - 1), gen, cfg.gamma / 100, cfg.gamma / 100);
}

ag::Var uniform_param(const Shape& shape, double bound, Generator& gen) {
  Tensor t = Tensor::empty(shape);
  gen.uniform(t, -bound, bound);
  return ag::param(t);
}

}  // namespace

// ---------------------------------------------------------------- DSelect-k

DSelectGate::DSelectGate(const GateConfig& cfg, int64_t d, Generator& gen)
    : Gate(cfg), tree_(dselect_trie(static_cast<int32_t>(cfg.experts))) {
  const int64_t km = cfg.k * bits();
  if (cfg.per_sample) {
    if (km > 0) z_.emplace(d, km, gen, cfg.gamma / 100, cfg.gamma / 100);
    alpha_.emplace(d, cfg.k, gen, 0.05, 0.05);
  } else {
    if (km > 0) static_z_ = uniform_param({1, km}, cfg.gamma / 100, gen);
    static_alpha_ = uniform_param({1, cfg.k}, 0.05, gen);
  }
}

std::vector<ag::Var*> DSelectGate::parameter_slots() {
  if (!cfg_.per_sample) {
    if (static_z_.defined()) return {&static_z_, &static_alpha_};
    return {&static_alpha_};
  }
  std::vector<ag::Var*> p;
  if (z_) p = {&z_->weight, &z_->bias};
  p.push_back(&alpha_->weight);
  p.push_back(&alpha_->bias);
  return p;
}

GateOutput DSelectGate::forward(const GateInput& in, const ag::Var* perm, bool training) {
  const int64_t B = in.x.shape()[0], n = cfg_.experts, k = cfg_.k, m = bits();
  const int64_t rows = cfg_.per_sample ? B : 1;  // static selectors are shared by every sample
  ag::Var r;  // selector outputs [rows * k, n]
  if (m == 0) {
    r = constant_like(in.x, Tensor::full({rows * k, 1}, 1.0, in.x.dtype()));
  } else {
    ag::Var z = cfg_.per_sample ? (*z_)(in.x) : static_z_;
    r = ag::tree_probs(ag::reshape(ag::smooth_step(z, cfg_.gamma), {rows * k, m}), tree_);
  }
  ag::Var reg;
  if (training && cfg_.entropy > 0) reg = entropy_penalty(ag::reshape(r, {rows, k * n}), cfg_.entropy);
  if (training && cfg_.zeta > 0 && !power_of_two(n)) {  // unreachable codes: push the mass onto real experts
    ag::Var mass = ag::add(ag::sum(r, ag::Over::Cols), constant_like(r, Tensor::full({1}, 1e-6, r.dtype())));
    ag::Var inverse = ag::div(constant_like(r, Tensor::full(mass.shape(), 1.0, r.dtype())), mass);
    reg = add_defined(reg, ag::scale(ag::sum(inverse), cfg_.zeta / static_cast<double>(rows)));
  }
  ag::Var rp = apply_permutation(r, perm);
  ag::Var alpha = ag::softmax(cfg_.per_sample ? (*alpha_)(in.x) : static_alpha_);  // [rows, k]
  ag::Var q = ag::reshape(ag::bmm(ag::reshape(alpha, {rows, 1, k}), ag::reshape(rp, {rows, k, n})), {rows, n});
  if (!cfg_.per_sample) q = ag::add(constant_like(q, Tensor::zeros({B, n}, q.dtype())), q);  // row broadcast
  return {q, reg};
}

// ---------------------------------------------------------------- COMET

CometGate::CometGate(const GateConfig& cfg, int64_t d, Generator& gen)
    : Gate(cfg),
      tree_(comet_tree(static_cast<int32_t>(cfg.experts))),
      nodes_(comet_nodes(cfg, d, gen)),
      leaves_(d, cfg.k * cfg.experts, gen, 0.05, 0.05),
      tree_sum_(stacked_identities(cfg.k, cfg.experts, DType::F32)) {}

std::vector<ag::Var*> CometGate::parameter_slots() {
  std::vector<ag::Var*> p;
  if (nodes_) p = {&nodes_->weight, &nodes_->bias};
  p.push_back(&leaves_.weight);
  p.push_back(&leaves_.bias);
  return p;
}

GateOutput CometGate::forward(const GateInput& in, const ag::Var* perm, bool training) {
  const int64_t B = in.x.shape()[0], n = cfg_.experts, k = cfg_.k;
  ag::Var p;  // leaf reach probabilities [B, k n]
  if (nodes_) {
    ag::Var s = ag::smooth_step((*nodes_)(in.x), cfg_.gamma);
    p = ag::reshape(ag::tree_probs(ag::reshape(s, {B * k, n - 1}), tree_), {B, k * n});
  } else {
    p = constant_like(in.x, Tensor::full({B, k}, 1.0, in.x.dtype()));
  }
  ag::Var w = ag::prior_softmax(leaves_(in.x), p);  // joint softmax over the k n (tree, leaf) slots
  if (perm) w = ag::reshape(apply_permutation(ag::reshape(w, {B * k, n}), perm), {B, k * n});
  const Tensor sum = tree_sum_.dtype() == w.dtype() ? tree_sum_ : tree_sum_.to(w.dtype());
  ag::Var g = normalize_rows(ag::matmul(w, constant_like(w, sum)));
  ag::Var reg;
  if (training && cfg_.entropy > 0) reg = entropy_penalty(p, cfg_.entropy);
  return {g, reg};
}

}  // namespace comet::moe
