// The MoE layer and the gates' gradients: gradient checks (F64) of every gate's parameters and of the whole layer,
// the sparse path against the dense reference (forward and backward, every gate, n not a power of two, experts
// without samples), an MoE with one expert equal to its expert.
#include <doctest/doctest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "moe/gates.h"
#include "moe/moe_layer.h"
#include "test_util.h"

namespace comet::moe {
namespace {

using ag::Var;

constexpr int64_t kIn = 5, kHidden = 6, kOut = 3;

struct Setup {
  std::unique_ptr<Gate> gate;
  MlpExperts experts;
  Tensor x, keys;
};

// A gate and experts in F64. `saturated` scales the tree gates' node weights so most smooth-steps sit at 0 or 1
// (converged routing); otherwise they start from the spec's initialisation (nearly dense).
Setup make_setup(GateKind kind, int64_t n, int64_t k, int64_t batch, bool saturated, uint64_t seed) {
  Generator gen(seed);
  GateConfig cfg;
  cfg.kind = kind;
  cfg.experts = n;
  cfg.k = kind == GateKind::Hash ? 1 : k;
  cfg.gamma = 1.0;
  cfg.entropy = kind == GateKind::Comet || kind == GateKind::DSelectK ? 0.1 : 0.0;
  cfg.hash_keys = 50;
  // A saturated DSelect-k selector stuck on an unreachable code (n not a power of two) has penalty 1 / 1e-6: its
  // gradient is 0 there (S' = 0) and the 1e6 offset swamps finite differences, so the penalty is checked in the
  // initial (in-band) regime only.
  if (saturated) cfg.zeta = 0.0;
  Setup s{make_gate(cfg, kIn, gen), MlpExperts(n, {kIn, kHidden, kOut}, gen, {}, DType::F64), {}, {}};
  for (Var* slot : s.gate->parameter_slots()) {
    Tensor v = slot->value().to(DType::F64);
    if (saturated || kind == GateKind::TopK || kind == GateKind::Softmax) gen.uniform(v, -3.0, 3.0);
    *slot = ag::param(v);
  }
  s.x = test::random_tensor({batch, kIn}, gen);
  s.keys = Tensor::empty({batch}, DType::I64);
  gen.randint(s.keys, 0, 50);
  return s;
}

// Runs gate + layer with the given parameter values (slots replaced by `vars`); returns y + regularisation
// (the regularisers only exist in training).
Var run(Setup& s, const std::vector<Var>& vars, MoePath path, bool training = true) {
  size_t i = 1;
  auto gate_slots = s.gate->parameter_slots();
  for (Var* slot : gate_slots) *slot = vars[i++];
  GateOutput g = s.gate->forward({vars[0], s.keys}, nullptr, training);
  MlpExperts bound({vars[i], vars[i + 2]}, {vars[i + 1], vars[i + 3]});  // the experts with the checked parameters
  Var y = moe_forward(bound, vars[0], g.weights, path);
  return g.regularization.defined() ? ag::add(y, g.regularization) : y;
}

std::vector<Tensor> all_inputs(Setup& s) {
  std::vector<Tensor> in{s.x};
  for (const Var& p : s.gate->params()) in.push_back(p.value());
  for (const Var& p : s.experts.params()) in.push_back(p.value());
  return in;
}

const GateKind kAllGates[] = {GateKind::Softmax, GateKind::TopK, GateKind::Hash, GateKind::DSelectK, GateKind::Comet};

}  // namespace

TEST_CASE("gradient check of every gate and of the whole MoE layer (F64)") {
  for (GateKind kind : kAllGates)
    for (int64_t n : {3, 6, 8})
      for (bool saturated : {false, true}) {
        Setup s = make_setup(kind, n, 2, 7, saturated, 11 + n);
        for (MoePath path : {MoePath::Sparse, MoePath::Dense}) {
          const auto r = ag::gradcheck([&](const std::vector<Var>& v) { return run(s, v, path); }, all_inputs(s));
          INFO(std::string(gate_name(kind)) << " n=" << n << (saturated ? std::string(" saturated ") : std::string(" initial "))
                               << (path == MoePath::Sparse ? std::string("sparse") : std::string("dense")) << ": " << r.message);
          CHECK(r.ok);
        }
      }
}

TEST_CASE("sparse path equals the dense reference, forward and backward, for every gate") {
  for (GateKind kind : kAllGates)
    for (int64_t n : {3, 5, 8, 9})
      for (bool saturated : {false, true}) {
        Setup s = make_setup(kind, n, 2, 33, saturated, 100 + n);
        std::vector<Tensor> outs[2];
        for (MoePath path : {MoePath::Sparse, MoePath::Dense}) {
          std::vector<Var> vars;
          for (const Tensor& t : all_inputs(s)) vars.emplace_back(t.to(DType::F32), true);
          Var y = run(s, vars, path);
          Tensor w = Tensor::empty(y.shape());
          Generator(3).uniform(w, 0.5, 1.5);
          ag::backward(y, w);
          auto& out = outs[path == MoePath::Sparse ? 0 : 1];
          out.push_back(y.value());
          for (const Var& v : vars) out.push_back(v.grad().defined() ? v.grad() : zeros_like(v.value()));
        }
        for (size_t i = 0; i < outs[0].size(); ++i) {
          INFO(std::string(gate_name(kind)) << " n=" << n << (saturated ? std::string(" saturated") : std::string(" initial")) << " output " << i);
          for (int64_t j = 0; j < outs[0][i].numel(); ++j) REQUIRE(std::isfinite(outs[0][i].item(j)));
          COMET_CHECK_CLOSE(outs[0][i], outs[1][i], 1e-5, 1e-7 + 1e-5 * test::rms(outs[1][i]));
        }
      }
}

TEST_CASE("experts that receive no sample: zero gradient, no NaN") {
  // Hash routing with 2 samples over 8 experts leaves at least 6 experts empty.
  Setup s = make_setup(GateKind::Hash, 8, 1, 2, false, 5);
  std::vector<Var> vars;
  for (const Tensor& t : all_inputs(s)) vars.emplace_back(t, true);
  Var y = run(s, vars, MoePath::Sparse);
  ag::backward(y, Tensor::full(y.shape(), 1.0, DType::F64));
  const Tensor g = s.gate->forward({vars[0], s.keys}, nullptr, false).weights.value();
  const Tensor& gw1 = vars[1].grad();  // hash has no parameters: vars[1] is W1 [n, in, hidden]
  int empty = 0;
  for (int64_t e = 0; e < 8; ++e) {
    const bool used = g.item(e) != 0 || g.item(8 + e) != 0;
    double norm = 0;
    for (int64_t j = 0; j < kIn * kHidden; ++j) {
      const double v = gw1.item(e * kIn * kHidden + j);
      REQUIRE(std::isfinite(v));
      norm += std::fabs(v);
    }
    if (!used) {
      ++empty;
      CHECK(norm == 0.0);
    } else {
      CHECK(norm > 0.0);
    }
  }
  CHECK(empty >= 6);
}

TEST_CASE("an MoE with one expert equals its expert") {
  for (GateKind kind : {GateKind::Softmax, GateKind::TopK, GateKind::Comet, GateKind::DSelectK, GateKind::Hash}) {
    Setup s = make_setup(kind, 1, 1, 9, false, 3);
    std::vector<Var> vars;
    for (const Tensor& t : all_inputs(s)) vars.emplace_back(t, false);
    const Tensor moe = run(s, vars, MoePath::Sparse, false).value();
    const auto p = s.experts.params();
    // relu(x W1[0] + b1[0]) W2[0] + b2[0] with plain matmuls.
    Var h = ag::relu(ag::add(ag::matmul(ag::constant(s.x), ag::reshape(p[0], {kIn, kHidden})), ag::reshape(p[1], {kHidden})));
    const Tensor mlp = ag::add(ag::matmul(h, ag::reshape(p[2], {kHidden, kOut})), ag::reshape(p[3], {kOut})).value();
    INFO(std::string(gate_name(kind)));
    COMET_CHECK_CLOSE(moe, mlp, 1e-12, 1e-14);
  }
}

TEST_CASE("routing statistics") {
  const Tensor g = Tensor::from_vector<float>({3, 4}, {0.5f, 0.5f, 0, 0, 1, 0, 0, 0, 0.2f, 0.3f, 0.5f, 0});
  const RoutingStats st = routing_stats(g, 2);
  CHECK(st.experts_per_sample == doctest::Approx(2.0));
  CHECK(st.within_k == doctest::Approx(2.0 / 3.0));
  CHECK(st.usage[0] == doctest::Approx(3.0 / 6.0));
  CHECK(st.usage[3] == 0.0);
}

}  // namespace comet::moe
