// Gate interface helpers: names, factory, permutation, renormalisation, entropy.
#include "moe/gate.h"

#include "autograd/device.h"
#include "moe/gates.h"

namespace comet::moe {

const char* gate_name(GateKind kind) {
  switch (kind) {
    case GateKind::Softmax: return "softmax";
    case GateKind::TopK: return "topk";
    case GateKind::Hash: return "hash";
    case GateKind::DSelectK: return "dselect";
    case GateKind::Comet: return "comet";
  }
  return "?";
}

GateKind parse_gate_kind(const std::string& name) {
  for (GateKind k : {GateKind::Softmax, GateKind::TopK, GateKind::Hash, GateKind::DSelectK, GateKind::Comet})
    if (name == gate_name(k)) return k;
  throw Error(fmt::format("unknown gate '{}' (expected softmax, topk, hash, dselect or comet)", name));
}

Gate::Gate(const GateConfig& cfg) : cfg_(cfg) {
  COMET_CHECK(cfg.experts >= 1, "{} gate: need at least one expert, got {}", gate_name(cfg.kind), cfg.experts);
  COMET_CHECK(cfg.k >= 1 && cfg.k <= cfg.experts, "{} gate: k = {} must be in [1, n = {}]", gate_name(cfg.kind),
              cfg.k, cfg.experts);
  COMET_CHECK(cfg.gamma > 0 && cfg.entropy >= 0 && cfg.zeta >= 0 && cfg.load_balance >= 0,
              "{} gate: gamma must be > 0 and entropy, zeta, load_balance >= 0 (got {}, {}, {}, {})",
              gate_name(cfg.kind), cfg.gamma, cfg.entropy, cfg.zeta, cfg.load_balance);
}

std::vector<ag::Var> Gate::params() {
  std::vector<ag::Var> out;
  for (ag::Var* slot : parameter_slots()) out.push_back(*slot);
  return out;
}

void Gate::check_buffer(const std::string& where, const std::string& name, const Tensor&) const {
  throw Error(fmt::format("{}: the {} gate has no buffer '{}'", where, gate_name(cfg_.kind), name));
}

std::unique_ptr<Gate> make_gate(const GateConfig& cfg, int64_t d, Generator& gen) {
  switch (cfg.kind) {
    case GateKind::Softmax: return std::make_unique<SoftmaxGate>(cfg, d, gen);
    case GateKind::TopK: return std::make_unique<TopKGate>(cfg, d, gen);
    case GateKind::Hash: return std::make_unique<HashGate>(cfg, gen);
    case GateKind::DSelectK: return std::make_unique<DSelectGate>(cfg, d, gen);
    case GateKind::Comet: return std::make_unique<CometGate>(cfg, d, gen);
  }
  throw Error("make_gate: unknown gate kind");
}

ag::Var apply_permutation(const ag::Var& g, const ag::Var* perm) {
  if (!perm) return g;
  COMET_CHECK(perm->shape() == Shape({g.shape()[1], g.shape()[1]}),
              "gate permutation: matrix {} does not fit gate weights {}", shape_str(perm->shape()),
              shape_str(g.shape()));
  return ag::matmul(g, ag::to_device(*perm, g.value().device()));  // a fixed matrix is made on the host
}

SampleRouting sample_routing(const Tensor& gate_weights) {
  const Tensor g = ag::copy_to(gate_weights, Device::CPU);
  COMET_CHECK(g.ndim() == 2, "sample_routing: gate weights must be [B, n], got {}", shape_str(g.shape()));
  const int64_t B = g.dim(0), n = g.dim(1);
  SampleRouting r;
  r.offsets.reserve(B + 1);
  r.offsets.push_back(0);
  COMET_DISPATCH_FLOAT(g.dtype(), "sample_routing", [&] {
    const scalar_t* w = g.data<scalar_t>();
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t e = 0; e < n; ++e) {
        if (w[b * n + e] == scalar_t(0)) continue;
        r.expert.push_back(e);
        r.weight.push_back(static_cast<double>(w[b * n + e]));
      }
      r.offsets.push_back(static_cast<int64_t>(r.expert.size()));
    }
  });
  return r;
}

ag::Var normalize_rows(const ag::Var& g) { return ag::div(g, ag::sum(g, ag::Over::Cols)); }

ag::Var entropy_penalty(const ag::Var& p, double lambda) {
  ag::Var eps = constant_like(p, Tensor::full({1}, 1e-6, p.dtype()));
  ag::Var plogp = ag::mul(p, ag::log(ag::add(p, eps)));
  return ag::scale(ag::sum(plogp), -lambda / static_cast<double>(p.shape()[0]));
}

ag::Var constant_like(const ag::Var& like, const Tensor& value) {
  return ag::constant(ag::copy_to(value, like.value().device()));
}

ag::Var add_defined(const ag::Var& a, const ag::Var& b) {
  if (!a.defined()) return b;
  if (!b.defined()) return a;
  return ag::add(a, b);
}

}  // namespace comet::moe
