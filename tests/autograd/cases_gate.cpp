// Op cases: bmm, transpose and the gate building blocks (smooth_step, tree_probs, prior_softmax).
// Smooth-step inputs stay 0.02 away from the band edges +-gamma/2 (the kinks of S'); tree activations include
// exact 0 and 1 (leaf probabilities are multilinear in s, so central differences are exact there too);
// prior_softmax priors with exact zeros are passed as constants (p -> -eps is outside the domain).
#include "autograd/device.h"
#include "op_cases.h"

namespace comet::test {
namespace {

using ag::Var;

// Values in the band (|t| < gamma/2 - 0.02) and outside it (|t| > gamma/2 + 0.02).
Tensor smooth_step_inputs(int64_t n, double gamma, Generator& gen) {
  Tensor t = random_tensor({n, 4}, gen, -gamma / 2 + 0.02, gamma / 2 - 0.02);
  double* p = t.data<double>();
  for (int64_t i = 0; i < n; ++i) {
    p[i * 4 + 2] = gamma / 2 + 0.02 + std::fabs(p[i * 4 + 2]);
    p[i * 4 + 3] = -gamma / 2 - 0.02 - std::fabs(p[i * 4 + 3]);
  }
  return t;
}

// Activations in (0.05, 0.95), with every 5th exactly 0 or 1.
Tensor tree_activations(const Shape& shape, Generator& gen) {
  Tensor s = random_tensor(shape, gen, 0.05, 0.95);
  double* p = s.data<double>();
  for (int64_t i = 0; i < s.numel(); i += 5) p[i] = (i / 5) % 2 ? 1.0 : 0.0;
  return s;
}

COMET_OP_CASES("bmm", [](int64_t n, Generator& gen) {
  auto f = [](const std::vector<Var>& v) { return ag::bmm(v[0], v[1]); };
  return std::vector<OpCase>{
      {"batch n", {random_tensor({n, 3, 4}, gen), random_tensor({n, 4, 2}, gen)}, f},
      {"inner n", {random_tensor({2, 3, n}, gen), random_tensor({2, n, 5}, gen)}, f},
  };
});

COMET_OP_CASES("transpose", [](int64_t n, Generator& gen) {
  return std::vector<OpCase>{
      {"[n,5]", {random_tensor({n, 5}, gen)}, [](const std::vector<Var>& v) { return ag::transpose(v[0]); }}};
});

COMET_OP_CASES("smooth_step", [](int64_t n, Generator& gen) {
  std::vector<OpCase> cases;
  for (double gamma : {0.1, 1.0, 10.0})
    cases.push_back({fmt::format("gamma {}", gamma), {smooth_step_inputs(n, gamma, gen)},
                     [gamma](const std::vector<Var>& v) { return ag::smooth_step(v[0], gamma); }});
  return cases;
});

COMET_OP_CASES("tree_probs", [](int64_t n, Generator& gen) {
  std::vector<OpCase> cases;
  for (int32_t experts : {1, 2, 3, 5, 6, 8, 9, 16}) {
    for (bool comet : {true, false}) {
      const RoutingTree tree = comet ? comet_tree(experts) : dselect_trie(experts);
      if (tree.num_activations == 0) continue;
      cases.push_back({fmt::format("{} n={}", comet ? "comet" : "dselect", experts),
                       {tree_activations({n, 2, tree.num_activations}, gen)},
                       [tree](const std::vector<Var>& v) { return ag::tree_probs(v[0], tree); }});
    }
  }
  return cases;
});

COMET_OP_CASES("prior_softmax", [](int64_t n, Generator& gen) {
  Tensor zeros_prior = random_tensor({n, 6}, gen, 0.0, 1.0);
  for (int64_t i = 0; i < zeros_prior.numel(); i += 3) zeros_prior.data<double>()[i] = 0.0;
  return std::vector<OpCase>{
      {"positive prior", {random_tensor({n, 6}, gen, -3, 3), random_tensor({n, 6}, gen, 0.05, 1.0)},
       [](const std::vector<Var>& v) { return ag::prior_softmax(v[0], v[1]); }},
      {"prior with exact zeros (constant)", {random_tensor({n, 6}, gen, -3, 3)},
       [zeros_prior](const std::vector<Var>& v) {
         const Tensor p = v[0].dtype() == DType::F64 ? zeros_prior : zeros_prior.to(v[0].dtype());
         return ag::prior_softmax(v[0], ag::constant(ag::copy_to(p, v[0].value().device())));  // on v's device
       }},
  };
});

}  // namespace
}  // namespace comet::test
