// Gates against the spec's worked examples (comet.md sections 1, 2.7, 3.2, 3.4, to 1e-6), the leaf tables, and
// identities: Top-k with k = n equals Softmax; Hash is a fixed one-hot table.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

#include "core/threading.h"
#include "kernels/gate.h"
#include "moe/gates.h"
#include "test_util.h"

namespace comet::moe {
namespace {

constexpr double kSpecTol = 1e-6;  // the spec prints six decimals

void check_values(const Tensor& t, const std::vector<double>& want) {
  REQUIRE(t.numel() == static_cast<int64_t>(want.size()));
  for (size_t i = 0; i < want.size(); ++i) {
    const double got = t.item(static_cast<int64_t>(i));
    INFO("element " << i << ": got " << got << ", spec " << want[i]);
    CHECK(std::fabs(got - want[i]) <= kSpecTol);
  }
}

// Sets the gate's parameters (in parameter_slots order) to F64 tensors.
void set_params(Gate& gate, const std::vector<Tensor>& values) {
  auto slots = gate.parameter_slots();
  REQUIRE(slots.size() == values.size());
  for (size_t i = 0; i < slots.size(); ++i) {
    REQUIRE(slots[i]->shape() == values[i].shape());
    *slots[i] = ag::param(values[i]);
  }
}

Tensor f64(const Shape& s, const std::vector<double>& v) { return Tensor::from_vector<double>(s, v); }

}  // namespace

TEST_CASE("smooth-step values of spec section 1") {
  CHECK(smooth_step(-0.5, 1.0) == 0.0);
  CHECK(smooth_step(-0.7, 1.0) == 0.0);
  CHECK(smooth_step(0.0, 1.0) == 0.5);
  CHECK(smooth_step(0.25, 1.0) == 0.84375);
  CHECK(smooth_step(0.5, 1.0) == 1.0);
  CHECK(smooth_step(3.0, 1.0) == 1.0);
  CHECK(smooth_step_derivative(0.0, 2.0) == doctest::Approx(0.75));
  CHECK(smooth_step_derivative(1.0, 2.0) == 0.0);   // band edge: C^1
  CHECK(smooth_step_derivative(-1.5, 2.0) == 0.0);
  for (double t : {0.01, 0.1, 0.3, 0.49}) CHECK(smooth_step(-t, 1.0) == doctest::Approx(1.0 - smooth_step(t, 1.0)));
}

TEST_CASE("COMET leaf tables of spec 3.2 (n = 3, 5, 6, 9, 8, 16)") {
  // expert index -> "heap id:path", from the tree's own arrays.
  auto table = [](int32_t n) {
    const RoutingTree t = comet_tree(n);
    std::vector<std::string> out(n);
    std::function<void(int32_t, int32_t, std::string)> walk = [&](int32_t child, int32_t heap, std::string path) {
      if (RoutingTree::is_leaf(child)) {
        out[RoutingTree::leaf_of(child)] = std::to_string(heap) + ":" + path;
        return;
      }
      walk(t.left[child], 2 * heap + 1, path + "L");
      walk(t.right[child], 2 * heap + 2, path + "R");
    };
    walk(0, 0, "");
    return out;
  };
  CHECK(table(3) == std::vector<std::string>{"3:LL", "4:LR", "2:R"});
  CHECK(table(5) == std::vector<std::string>{"7:LLL", "8:LLR", "4:LR", "5:RL", "6:RR"});
  CHECK(table(6) == std::vector<std::string>{"7:LLL", "8:LLR", "9:LRL", "10:LRR", "5:RL", "6:RR"});
  CHECK(table(9) == std::vector<std::string>{"15:LLLL", "16:LLLR", "8:LLR", "9:LRL", "10:LRR", "11:RLL", "12:RLR",
                                             "13:RRL", "14:RRR"});
  for (int32_t n : {8, 16}) {
    const auto t = table(n);
    for (int32_t i = 0; i < n; ++i) {
      std::string path;
      for (int32_t bit = n / 2; bit >= 1; bit /= 2) path += (i & bit) ? "R" : "L";  // MSB first, 0 -> L
      CHECK(t[i].substr(t[i].find(':') + 1) == path);
    }
  }
}

TEST_CASE("DSelect-k worked example of spec 2.7 (static, n = 3, k = 2, gamma = 1)") {
  Generator gen(1);
  // The spec's static gate with the given regulariser weights: z = (0.2, -0.1 | -0.3, 0.4), alpha = (0.1, -0.2).
  auto make = [&gen](double entropy, double zeta) {
    GateConfig cfg;
    cfg.kind = GateKind::DSelectK;
    cfg.experts = 3;
    cfg.k = 2;
    cfg.gamma = 1.0;
    cfg.per_sample = false;
    cfg.entropy = entropy;
    cfg.zeta = zeta;
    auto gate = std::make_unique<DSelectGate>(cfg, 4, gen);
    set_params(*gate, {f64({1, 4}, {0.2, -0.1, -0.3, 0.4}), f64({1, 2}, {0.1, -0.2})});
    return gate;
  };
  const Tensor s = ag::smooth_step(ag::constant(f64({2, 2}, {0.2, -0.1, -0.3, 0.4})), 1.0).value();
  const Tensor r = ag::tree_probs(ag::constant(s), dselect_trie(3)).value();
  check_values(r, {0.139968, 0.076032, 0.508032, 0.025088, 0.870912, 0.002912});
  GateInput in{ag::constant(Tensor::zeros({1, 4}, DType::F64)), {}};
  check_values(make(0.0, 1.0)->forward(in, nullptr, false).weights.value(), {0.091080, 0.414299, 0.293074});
  // Regularisers (training only): entropy with lambda = 1, then the non-power-of-2 penalty with zeta = 1.
  auto with_entropy = make(1.0, 0.0);
  check_values(with_entropy->forward(in, nullptr, true).regularization.value(), {1.045002});
  CHECK(!with_entropy->forward(in, nullptr, false).regularization.defined());
  // The spec's 2.493610 = 1/0.724032 + 1/0.898912 is the official formula without epsilon; like COMET's copy we add
  // 1e-6 to each selector's mass (so a selector stuck on unreachable codes gives a finite loss).
  check_values(make(0.0, 1.0)->forward(in, nullptr, true).regularization.value(),
               {1 / (0.724032 + 1e-6) + 1 / (0.898912 + 1e-6)});
  CHECK(std::fabs(1 / 0.724032 + 1 / 0.898912 - 2.493610) <= kSpecTol);
}

TEST_CASE("COMET worked example of spec 3.4 (n = 3, k = 2, gamma = 1)") {
  GateConfig cfg;
  cfg.kind = GateKind::Comet;
  cfg.experts = 3;
  cfg.k = 2;
  cfg.gamma = 1.0;
  cfg.entropy = 0.5;
  Generator gen(1);
  CometGate gate(cfg, 2, gen);
  // Node columns: (tree 1, node 0), (tree 1, node 1), (tree 2, node 0), (tree 2, node 1).
  const Tensor node_w = f64({2, 4}, {1.0, 0.2, -0.4, 1.5, 0.5, -1.0, 0.8, 0.3});
  const Tensor node_b = f64({4}, {0.1, 0.0, 0.0, -0.1});
  // Leaf columns: tree 1 experts 0, 1, 2, then tree 2 experts 0, 1, 2.
  const Tensor leaf_w = f64({2, 6}, {0.5, -0.3, 0.7, 1.0, 0.0, 0.2, 0.5, 0.2, -0.6, -1.0, 0.4, 0.2});
  set_params(gate, {node_w, node_b, leaf_w, Tensor::zeros({6}, DType::F64)});
  const ag::Var x = ag::constant(f64({1, 2}, {0.3, -0.2}));

  const Tensor s = ag::smooth_step(ag::add(ag::matmul(x, ag::constant(node_w)), ag::constant(node_b)), 1.0).value();
  check_values(s, {0.896, 0.854848, 0.123904, 0.886222});
  const Tensor p = ag::tree_probs(ag::constant(s.reshape({2, 2})), comet_tree(3)).value();
  check_values(p, {0.765944, 0.130056, 0.104, 0.109806, 0.014098, 0.876096});
  const Tensor a = ag::matmul(x, ag::constant(leaf_w)).value();
  check_values(a, {0.05, -0.13, 0.33, 0.5, -0.08, 0.02});
  check_values(ag::prior_softmax(ag::constant(a), ag::constant(p.reshape({1, 6}))).value(),
               {0.374183, 0.053070, 0.067224, 0.084129, 0.006047, 0.415346});

  GateOutput out = gate.forward({x, {}}, nullptr, true);
  check_values(out.weights.value(), {0.458313, 0.059117, 0.482570});
  check_values(out.regularization.value(), {0.561722});
  // Slot 0 -> expert 1, slot 1 -> expert 2, slot 2 -> expert 0 (P rows [[0,1,0],[0,0,1],[1,0,0]]).
  const ag::Var perm = ag::constant(f64({3, 3}, {0, 1, 0, 0, 0, 1, 1, 0, 0}));
  check_values(gate.forward({x, {}}, &perm, false).weights.value(), {0.482570, 0.458313, 0.059117});
}

TEST_CASE("prior softmax: the shift is the largest logit where the prior is positive; an all-zero prior gives 0") {
  // Float rows of 4 slots. Row 0: a zero-prior slot holds a logit of 200, whose exp overflows a float; shifting by it
  // would underflow every other term to 0 and give 0 / 0. Row 1: the prior is all 0.
  const std::vector<float> a{0.5f, 200.0f, -1.0f, 3.0f, 1.0f, 2.0f, 3.0f, 4.0f};
  const std::vector<float> p{0.2f, 0.0f, 0.5f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
  const std::vector<float> g{1.0f, 2.0f, 3.0f, 4.0f, 1.0f, 1.0f, 1.0f, 1.0f};
  std::vector<float> w(8, std::nanf("")), ga(8, std::nanf("")), gp(8, std::nanf(""));  // must be overwritten
  cpu::prior_softmax<float>(2, 4, a.data(), p.data(), w.data());
  cpu::prior_softmax_backward<float>(2, 4, a.data(), p.data(), w.data(), g.data(), ga.data(), gp.data());
  const double e0 = 0.2 * std::exp(0.5), e2 = 0.5 * std::exp(-1.0), z = e0 + e2, u = (e0 * 1 + e2 * 3) / z;
  const std::vector<double> want_w{e0 / z, 0, e2 / z, 0, 0, 0, 0, 0};
  const std::vector<double> want_ga{e0 / z * (1 - u), 0, e2 / z * (3 - u), 0, 0, 0, 0, 0};
  const double m = 0.5;  // the shift: a at the positive-prior slots 0 and 2
  const std::vector<double> want_gp{std::exp(0.5 - m) / (z / std::exp(m)) * (1 - u), 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < 8; ++i) {
    INFO("slot ", i);
    CHECK(w[i] == doctest::Approx(want_w[i]).epsilon(1e-6));
    CHECK(ga[i] == doctest::Approx(want_ga[i]).epsilon(1e-6));
  }
  CHECK(gp[0] == doctest::Approx(want_gp[0]).epsilon(1e-6));
  CHECK(std::isinf(gp[1]));  // exp(200 - 0.5) / Z' overflows: the gradient for p there is that large
  CHECK(gp[2] == doctest::Approx(std::exp(-1.0 - m) / (z / std::exp(m)) * (3 - u)).epsilon(1e-6));
  CHECK(gp[3] == doctest::Approx(std::exp(3.0 - m) / (z / std::exp(m)) * (4 - u)).epsilon(1e-6));
  for (int i = 4; i < 8; ++i) CHECK(gp[i] == 0.0f);
}

TEST_CASE("Top-k with k = n equals the Softmax gate; Top-k keeps the k largest by index") {
  Generator gen(4);
  const Tensor x = test::random_tensor({33, 5}, gen);
  const Tensor w = test::random_tensor({5, 7}, gen), b = test::random_tensor({7}, gen);
  GateConfig cfg;
  cfg.experts = 7;
  cfg.k = 7;
  cfg.kind = GateKind::TopK;
  TopKGate topk(cfg, 5, gen);
  cfg.kind = GateKind::Softmax;
  SoftmaxGate softmax(cfg, 5, gen);
  set_params(topk, {w, b});
  set_params(softmax, {w, b});
  const GateInput in{ag::constant(x), {}};
  COMET_CHECK_CLOSE(topk.forward(in, nullptr, true).weights.value(), softmax.forward(in, nullptr, true).weights.value(),
                    1e-14, 1e-15);

  GateConfig two;
  two.kind = GateKind::TopK;
  two.experts = 4;
  two.k = 2;
  TopKGate top2(two, 2, gen);
  set_params(top2, {f64({2, 4}, {1, 0, 0, 0, 0, 0, 0, 0}), f64({4}, {0.5, 2.0, -1.0, 0.0})});
  // Logits for x = (1, 0): (1.5, 2, -1, 0) -> experts 0 and 1, softmax(1.5, 2).
  const Tensor g = top2.forward({ag::constant(f64({1, 2}, {1, 0})), {}}, nullptr, false).weights.value();
  const double e0 = std::exp(1.5), e1 = std::exp(2.0);
  check_values(g, {e0 / (e0 + e1), e1 / (e0 + e1), 0.0, 0.0});
  two.k = 5;
  CHECK_THROWS_WITH_AS(TopKGate(two, 2, gen), doctest::Contains("k = 5 must be in [1, n = 4]"), Error);
}

TEST_CASE("top_k_indices: each row's k largest logits, ties to the lower expert, experts ascending") {
  // Against a full stable sort of each row by logit, descending. Logits drawn from 4 values, so that most rows have
  // ties, including ties across the k-th place. 300 rows: from n = 16 up, blocks of rows run in parallel at 3 threads.
  Generator gen(12);
  const ThreadScope threads(3);
  for (const auto& [n, k] : {std::pair<int64_t, int64_t>{1, 1}, {4, 1}, {4, 2}, {7, 3}, {16, 2}, {16, 16}, {64, 4}}) {
    const int64_t rows = 300;
    Tensor draws = Tensor::empty({rows * n}, DType::I64);
    gen.randint(draws, 0, 4);
    std::vector<float> logits;
    for (const int64_t v : draws.to_vector<int64_t>()) logits.push_back(static_cast<float>(v) - 1.5f);
    const Tensor h = Tensor::from_vector<float>({rows, n}, logits);
    const std::vector<int64_t> got = top_k_indices(h, k);
    REQUIRE(static_cast<int64_t>(got.size()) == rows * k);
    for (int64_t b = 0; b < rows; ++b) {
      std::vector<int64_t> order(static_cast<size_t>(n));
      for (int64_t e = 0; e < n; ++e) order[e] = e;
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t x, int64_t y) { return h.item(b * n + x) > h.item(b * n + y); });
      std::vector<int64_t> want(order.begin(), order.begin() + k);
      std::sort(want.begin(), want.end());
      for (int64_t& e : want) e += b * n;
      INFO("n " << n << " k " << k << " row " << b);
      CHECK(std::vector<int64_t>(got.begin() + b * k, got.begin() + (b + 1) * k) == want);
    }
  }
}

TEST_CASE("GateOutput::routing lists each sample's experts and weights, the non-zeros of g") {
  GateConfig cfg;
  cfg.kind = GateKind::TopK;
  cfg.experts = 4;
  cfg.k = 2;
  Generator gen(5);
  TopKGate gate(cfg, 2, gen);
  set_params(gate, {f64({2, 4}, {1, 0, 0, 0, 0, 0, 1, 0}), f64({4}, {0.5, 2.0, -1.0, 0.0})});
  // x = (1, 0): logits (1.5, 2, -1, 0) -> experts 0, 1; x = (0, 3): (0.5, 2, 2, 0) -> experts 1, 2 (equal logits).
  const SampleRouting r = gate.forward({ag::constant(f64({2, 2}, {1, 0, 0, 3})), {}}, nullptr, false).routing();
  const double e0 = std::exp(1.5), e1 = std::exp(2.0);
  CHECK(r.samples() == 2);
  CHECK(r.offsets == std::vector<int64_t>{0, 2, 4});
  CHECK(r.expert == std::vector<int64_t>{0, 1, 1, 2});
  const std::vector<double> want = {e0 / (e0 + e1), e1 / (e0 + e1), 0.5, 0.5};
  for (size_t i = 0; i < want.size(); ++i) CHECK(std::fabs(r.weight[i] - want[i]) <= 1e-15);

  // A row with no non-zero and a float matrix.
  const SampleRouting z = sample_routing(Tensor::from_vector<float>({3, 3}, {0, 0.25f, 0.75f, 0, 0, 0, 1, 0, 0}));
  CHECK(z.offsets == std::vector<int64_t>{0, 2, 2, 3});
  CHECK(z.expert == std::vector<int64_t>{1, 2, 0});
  CHECK(z.weight == std::vector<double>{0.25, 0.75, 1.0});
  CHECK(z.count(1) == 0);
  CHECK_THROWS_WITH_AS(sample_routing(Tensor::zeros({4})), doctest::Contains("must be [B, n], got [4]"), Error);
}

TEST_CASE("Top-k options: Shazeer noise only in training, importance loss = weight * CV^2 of per-expert sums") {
  GateConfig cfg;
  cfg.kind = GateKind::TopK;
  cfg.experts = 4;
  cfg.k = 1;
  cfg.load_balance = 0.5;
  Generator gen(6);
  TopKGate gate(cfg, 2, gen);
  // Logits x W + b with W = 0: every sample picks the largest bias; k = 1 gives weight 1.
  set_params(gate, {Tensor::zeros({2, 4}, DType::F64), f64({4}, {0.0, 1.0, 0.5, 0.2})});
  const GateInput in{ag::constant(Tensor::zeros({3, 2}, DType::F64)), {}};
  const GateOutput out = gate.forward(in, nullptr, true);
  check_values(out.weights.value(), {0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0});
  // Importance (0, 3, 0, 0): mean 0.75, variance (3 * 0.5625 + 5.0625) / 4 = 1.6875, CV^2 = 3, loss 1.5.
  check_values(out.regularization.value(), {1.5});
  CHECK(!gate.forward(in, nullptr, false).regularization.defined());

  cfg.noisy_topk = true;
  cfg.load_balance = 0.0;
  TopKGate noisy(cfg, 2, gen);
  // Noise scale softplus(x W_noise + b_noise) = softplus(0) = log 2 at initialisation: training draws differ.
  set_params(noisy, {Tensor::zeros({2, 4}, DType::F64), Tensor::zeros({4}, DType::F64), Tensor::zeros({2, 4}, DType::F64),
                     Tensor::zeros({4}, DType::F64)});
  const GateInput many{ag::constant(Tensor::zeros({64, 2}, DType::F64)), {}};
  const Tensor eval = noisy.forward(many, nullptr, false).weights.value();
  const Tensor train = noisy.forward(many, nullptr, true).weights.value();
  int eval_first = 0, train_first = 0;
  for (int64_t b = 0; b < 64; ++b) {
    eval_first += eval.item(b * 4) == 1.0;  // equal logits: ties go to expert 0
    train_first += train.item(b * 4) == 1.0;
  }
  CHECK(eval_first == 64);
  CHECK(train_first < 40);
}

TEST_CASE("Hash gate: fixed seeded table, one-hot weights, key errors") {
  GateConfig cfg;
  cfg.kind = GateKind::Hash;
  cfg.experts = 5;
  cfg.k = 1;
  cfg.hash_keys = 100;
  Generator g1(8), g2(8);
  HashGate a(cfg, g1), b(cfg, g2);
  CHECK(a.table() == b.table());
  const Tensor keys = Tensor::from_vector<int64_t>({3}, {7, 99, 7});
  const Tensor g = a.forward({ag::constant(Tensor::zeros({3, 2})), keys}, nullptr, true).weights.value();
  for (int64_t r = 0; r < 3; ++r)
    for (int64_t e = 0; e < 5; ++e)
      CHECK(g.item(r * 5 + e) == (e == a.table()[keys.item(r)] ? 1.0 : 0.0));
  const Tensor bad = Tensor::from_vector<int64_t>({1}, {100});
  CHECK_THROWS_WITH_AS(a.forward({ag::constant(Tensor::zeros({1, 2})), bad}, nullptr, true),
                       doctest::Contains("key 100 of sample 0 not in [0, 100)"), Error);
  cfg.hash_keys.reset();
  CHECK_THROWS_WITH_AS(HashGate(cfg, g1), doctest::Contains("hash_keys"), Error);
}


TEST_CASE("noisy Top-k: each gate of a model draws noise from its own stream") {
  GateConfig cfg;
  cfg.kind = GateKind::TopK;
  cfg.experts = 4;
  cfg.k = 2;
  cfg.noisy_topk = true;
  Generator gen(7);
  auto a = make_gate(cfg, 3, gen), b = make_gate(cfg, 3, gen);
  REQUIRE(a->noise_generator() != nullptr);
  CHECK(a->noise_generator()->seed() != b->noise_generator()->seed());
  // The same noise for the same logits would pick the same experts in both gates; draw it and compare.
  Tensor za = Tensor::empty({64}), zb = Tensor::empty({64});
  a->noise_generator()->normal(za, 0, 1);
  b->noise_generator()->normal(zb, 0, 1);
  CHECK(za.to_vector<float>() != zb.to_vector<float>());
  // Rebuilt from the same seed, the streams are the same again (reproducible).
  Generator again(7);
  auto a2 = make_gate(cfg, 3, again);
  CHECK(a2->noise_generator()->seed() == a->noise_generator()->seed());
}

}  // namespace comet::moe
