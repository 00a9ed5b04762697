// Optimizer::update_in_backward (the fused update): a parameter read by two ops is updated once, right after the
// later op's backward (its value is then what a separate step gives, bit for bit, and other parameters still wait for
// step()); its gradient is released and step() does not update it again; a second backward before step() is refused;
// a non-finite gradient is left in place and not applied; the hook goes with the optimizer.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "core/rng.h"
#include "optim/optimizer.h"

namespace comet::optim {
namespace {

struct Model {
  ag::Var w, v;  // loss = sum(relu(x w) * (x w)) + sum(x v): w is read by two ops, v by one
};

Model make_model() {
  Generator gen(11);
  Tensor w = Tensor::empty({4, 3}), v = Tensor::empty({4, 3});
  gen.uniform(w, -1, 1);
  gen.uniform(v, -1, 1);
  return {ag::param(w), ag::param(v)};
}

ag::Var loss_of(const Model& m, double scale = 1.0) {
  Generator gen(12);
  Tensor x = Tensor::empty({5, 4});
  gen.uniform(x, -scale, scale);
  const ag::Var xv = ag::constant(x);
  // Two matmul nodes read w: its gradient is complete only after the second one's backward.
  const ag::Var h = ag::mul(ag::relu(ag::matmul(xv, m.w)), ag::matmul(xv, m.w));
  return ag::add(ag::sum(h), ag::sum(ag::matmul(xv, m.v)));
}

// Three steps with the usual separate update; returns both parameters' values.
std::vector<std::vector<float>> separate_steps() {
  Model m = make_model();
  Adam adam({m.w, m.v}, constant_lr(0.05));
  for (int s = 0; s < 3; ++s) {
    adam.zero_grad();
    ag::backward(loss_of(m));
    adam.step();
  }
  return {m.w.value().to_vector<float>(), m.v.value().to_vector<float>()};
}

}  // namespace

TEST_CASE("update in backward: the same bits as the separate step; the gradient released; step() skips it") {
  Model m = make_model();
  Adam adam({m.w, m.v}, constant_lr(0.05));
  adam.update_in_backward(0);
  const std::vector<float> v_before = m.v.value().to_vector<float>();
  for (int s = 0; s < 3; ++s) {
    adam.zero_grad();
    ag::backward(loss_of(m));
    CHECK_FALSE(m.w.grad().defined());  // applied and released inside backward
    CHECK(m.v.grad().defined());
    if (s == 0) CHECK(m.v.value().to_vector<float>() == v_before);  // v waits for step()
    adam.step();
  }
  const auto want = separate_steps();
  CHECK(m.w.value().to_vector<float>() == want[0]);
  CHECK(m.v.value().to_vector<float>() == want[1]);
}

TEST_CASE("update in backward: accumulation refused, a non-finite gradient kept and not applied, the hook removed") {
  Model m = make_model();
  {
    Adam adam({m.w, m.v}, constant_lr(0.05));
    adam.update_in_backward(0);
    CHECK_THROWS_WITH_AS(adam.update_in_backward(0),
                         "Optimizer::update_in_backward: parameter 0 already has a gradient hook", Error);
    ag::backward(loss_of(m));
    CHECK_THROWS_WITH_AS(ag::backward(loss_of(m)),
                         "Optimizer: parameter 0 is updated in backward, and a second backward pass ran before step() "
                         "(gradient accumulation needs the update in step())",
                         Error);
    adam.step();
    adam.zero_grad();
    // A huge input makes the loss and w's gradient overflow to infinity.
    const std::vector<float> w_before = m.w.value().to_vector<float>();
    ag::backward(loss_of(m, 1e30));
    REQUIRE(m.w.grad().defined());
    CHECK_FALSE(all_finite(m.w.grad()));
    CHECK(m.w.value().to_vector<float>() == w_before);
    adam.step();  // does not apply it either
    CHECK(m.w.value().to_vector<float>() == w_before);
  }
  CHECK_FALSE(m.w.node()->on_grad_ready);
}

}  // namespace comet::optim
