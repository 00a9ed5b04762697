// Several gates over the same experts (moe_forward with one weight matrix per gate, the MMoE's layer): each expert
// runs once on the union of the gates' pairs, with one dropout mask per (sample, expert); the sparse path equals
// the dense reference forward and backward; a gradient check (F64) through real gates; bad input refused.
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

// Experts that record the rows each grouped forward receives.
class CountingExperts : public Experts {
 public:
  explicit CountingExperts(MlpExperts& inner) : inner_(inner) {}
  int64_t count() const override { return inner_.count(); }
  int64_t output_dim() const override { return inner_.output_dim(); }
  Var forward_grouped(const Var& x, const std::vector<int64_t>& offsets, const ExpertMode& mode) override {
    grouped_calls.push_back(offsets);
    return inner_.forward_grouped(x, offsets, mode);
  }
  Var forward_one(int64_t e, const Var& x, const ExpertMode& mode) override {
    ++one_calls;
    return inner_.forward_one(e, x, mode);
  }
  std::vector<std::pair<std::string, Var>> named_params() const override { return inner_.named_params(); }

  std::vector<std::vector<int64_t>> grouped_calls;
  int one_calls = 0;

 private:
  MlpExperts& inner_;
};

// Gate weights [B, n] in F64 with the given support: entry (b, e) is non-zero where support(b, e).
template <class Support>
Tensor weights_on(int64_t B, int64_t n, Generator& gen, Support support) {
  Tensor g = test::random_tensor({B, n}, gen, 0.1, 1.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t e = 0; e < n; ++e)
      if (!support(b, e)) g.data<double>()[b * n + e] = 0.0;
  return g;
}

// Three gates over 5 experts and 7 samples: gate 0 routes sample b to experts b % 5 and (b + 1) % 5, gate 1 to
// b % 5 (overlapping gate 0) and (b + 3) % 5, gate 2 to expert 4 only; sample 6 is routed by no gate.
std::vector<Tensor> three_gates(Generator& gen) {
  const int64_t B = 7, n = 5;
  const auto routed = [](int64_t b) { return b != 6; };
  return {weights_on(B, n, gen, [&](int64_t b, int64_t e) { return routed(b) && (e == b % 5 || e == (b + 1) % 5); }),
          weights_on(B, n, gen, [&](int64_t b, int64_t e) { return routed(b) && (e == b % 5 || e == (b + 3) % 5); }),
          weights_on(B, n, gen, [&](int64_t b, int64_t e) { return routed(b) && e == 4; })};
}

int64_t union_pairs(const std::vector<Tensor>& gates) {
  int64_t pairs = 0;
  for (int64_t i = 0; i < gates[0].numel(); ++i) {
    bool any = false;
    for (const Tensor& g : gates) any = any || g.item(i) != 0.0;
    pairs += any;
  }
  return pairs;
}

}  // namespace

TEST_CASE("several gates: each expert runs once on the union of their pairs; sparse equals dense, forward and "
          "backward (F64)") {
  Generator gen(31);
  MlpExperts experts(5, {kIn, kHidden, kOut}, gen, {}, DType::F64);
  const Tensor x = test::random_tensor({7, kIn}, gen);
  const std::vector<Tensor> gates = three_gates(gen);
  std::vector<Tensor> outs[2];
  for (MoePath path : {MoePath::Sparse, MoePath::Dense}) {
    CountingExperts counting(experts);
    Var xv(x, true);
    std::vector<Var> gv;
    for (const Tensor& g : gates) gv.emplace_back(g, true);
    const std::vector<Var> y = moe_forward(counting, xv, gv, path);
    REQUIRE(y.size() == 3);
    if (path == MoePath::Sparse) {
      REQUIRE(counting.grouped_calls.size() == 1);  // one dispatch for all gates
      CHECK(counting.grouped_calls[0].back() == union_pairs(gates));
      CHECK(union_pairs(gates) < 6 * 2 + 6 * 2 + 6);  // the gates overlap: fewer rows than one dispatch per gate
      CHECK(counting.one_calls == 0);
    } else {
      CHECK(counting.one_calls == 5);  // each expert once, not once per gate
    }
    auto& out = outs[path == MoePath::Sparse ? 0 : 1];
    Var loss;
    Generator upstream(77);  // the same upstream gradient for both paths
    for (size_t t = 0; t < y.size(); ++t) {
      out.push_back(y[t].value());
      const Tensor w = test::random_tensor(y[t].shape(), upstream, 0.5, 1.5);
      const Var term = ag::sum(ag::mul(y[t], ag::constant(w)));
      loss = loss.defined() ? ag::add(loss, term) : term;
    }
    ag::backward(loss);
    out.push_back(xv.grad());
    for (Var p : experts.params()) {
      out.push_back(p.grad().clone());
      p.zero_grad();
    }
    // The gates' weights get the dense reference's gradient on the dispatched pairs and none elsewhere.
    for (const Var& g : gv) {
      Tensor grad = g.grad().clone();
      for (int64_t i = 0; i < grad.numel(); ++i) {
        bool any = false;
        for (const Tensor& h : gates) any = any || h.item(i) != 0.0;
        if (!any && path == MoePath::Sparse) CHECK(grad.item(i) == 0.0);
        if (!any) grad.data<double>()[i] = 0.0;
      }
      out.push_back(grad);
    }
  }
  for (int64_t j = 0; j < kOut; ++j) CHECK(outs[0][0].item(6 * kOut + j) == 0.0);  // sample 6: no expert
  REQUIRE(outs[0].size() == outs[1].size());
  for (size_t i = 0; i < outs[0].size(); ++i) {
    INFO("output " << i);
    COMET_CHECK_CLOSE(outs[0][i], outs[1][i], 1e-12, 1e-14);
  }
}

TEST_CASE("several gates with dropout: one mask per (sample, expert), shared by every gate") {
  Generator gen(5);
  MlpExperts experts(4, {kIn, 16, kOut}, gen, {/*relu_last=*/true, /*dropout=*/0.5}, DType::F64);
  const Tensor x = test::random_tensor({40, kIn}, gen);
  const Tensor g = weights_on(40, 4, gen, [](int64_t b, int64_t e) { return e == b % 4 || e == (b + 1) % 4; });
  for (MoePath path : {MoePath::Sparse, MoePath::Dense}) {
    Generator masks(9);
    const std::vector<Var> y = moe_forward(experts, ag::constant(x), {ag::constant(g), ag::constant(g.clone())}, path,
                                           {true, &masks});
    int64_t differ_from_eval = 0;
    const Tensor eval = moe_forward(experts, ag::constant(x), ag::constant(g), path).value();
    for (int64_t i = 0; i < y[0].value().numel(); ++i) {
      CHECK(y[0].value().item(i) == y[1].value().item(i));  // equal gates, equal mixtures: the same masks
      differ_from_eval += y[0].value().item(i) != eval.item(i);
    }
    CHECK(differ_from_eval > 0);  // dropout did act
  }
}

TEST_CASE("several gates: gradient check (F64) through two real gates of each kind") {
  for (GateKind kind : {GateKind::TopK, GateKind::Comet, GateKind::DSelectK, GateKind::Softmax}) {
    Generator gen(41);
    GateConfig cfg;
    cfg.kind = kind;
    cfg.experts = 5;
    cfg.k = 2;
    cfg.gamma = 1.0;
    std::vector<std::unique_ptr<Gate>> gates;
    for (int t = 0; t < 2; ++t) gates.push_back(make_gate(cfg, kIn, gen));
    MlpExperts experts(5, {kIn, kHidden, kOut}, gen, {}, DType::F64);
    std::vector<Tensor> inputs{test::random_tensor({6, kIn}, gen)};
    for (auto& gate : gates)
      for (Var* slot : gate->parameter_slots()) {
        Tensor v = slot->value().to(DType::F64);
        gen.uniform(v, -3.0, 3.0);  // saturated tree gates: converged, sparse routing
        inputs.push_back(v);
      }
    for (const Var& p : experts.params()) inputs.push_back(p.value());
    for (MoePath path : {MoePath::Sparse, MoePath::Dense}) {
      const auto f = [&](const std::vector<Var>& v) {
        size_t i = 1;
        std::vector<Var> weights;
        for (auto& gate : gates) {
          for (Var* slot : gate->parameter_slots()) *slot = v[i++];
          weights.push_back(gate->forward({v[0], Tensor()}, nullptr, false).weights);
        }
        MlpExperts bound({v[i], v[i + 2]}, {v[i + 1], v[i + 3]});
        const std::vector<Var> y = moe_forward(bound, v[0], weights, path);
        return ag::add(y[0], ag::mul(y[1], y[1]));  // both mixtures, told apart
      };
      const auto r = ag::gradcheck(f, inputs);
      INFO(gate_name(kind) << (path == MoePath::Sparse ? " sparse: " : " dense: ") << r.message);
      CHECK(r.ok);
    }
  }
}

TEST_CASE("several gates: no gates, a gate of another shape or dtype, and NaN in any gate are refused") {
  Generator gen(3);
  MlpExperts experts(3, {kIn, kOut}, gen, {}, DType::F64);
  const Var x = ag::constant(test::random_tensor({4, kIn}, gen));
  const Var good = ag::constant(test::random_tensor({4, 3}, gen, 0.1, 1.0));
  CHECK_THROWS_WITH(moe_forward(experts, x, std::vector<Var>{}), "moe_forward: no gate weights");
  CHECK_THROWS_WITH(moe_forward(experts, x, {good, ag::constant(test::random_tensor({4, 4}, gen))}),
                    doctest::Contains("gate weights [4, 4] f64 do not fit 3 experts"));
  CHECK_THROWS_WITH(moe_forward(experts, x, {good, ag::cast(good, DType::F32)}),
                    doctest::Contains("gate weights [4, 3] f32 do not fit 3 experts"));
  Tensor nan = good.value().clone();
  nan.data<double>()[5] = std::nan("");  // where the first gate's weight is non-zero
  CHECK_THROWS_WITH(moe_forward(experts, x, {good, ag::constant(nan)}),
                    "plan_dispatch: gate weight of sample 1 expert 2 is NaN");
}

}  // namespace comet::moe
