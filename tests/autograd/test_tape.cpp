// The tape itself: gradient accumulation across backward calls, gradients only where needed, the no-grad scope,
// the graph freed after backward, shared subexpressions, and clear errors.
#include <doctest/doctest.h>

#include "autograd/ops.h"

namespace comet::ag {
namespace {
Tensor vec(std::vector<double> v) { return Tensor::from_vector<double>({static_cast<int64_t>(v.size())}, v); }
}  // namespace

TEST_CASE("gradients accumulate across backward calls until zero_grad") {
  Var x = param(vec({1.0, 2.0}));
  for (int i = 0; i < 2; ++i) backward(sum(mul(x, x)));  // d/dx sum(x^2) = 2x, twice
  CHECK(x.grad().item(0) == 4.0);
  CHECK(x.grad().item(1) == 8.0);
  x.zero_grad();
  backward(sum(scale(x, 3.0)));
  CHECK(x.grad().item(1) == 3.0);
}

TEST_CASE("only inputs that require a gradient get one; constants record nothing") {
  Var x = param(vec({1.0, 2.0}));
  Var c = constant(vec({5.0, 7.0}));
  Var y = mul(x, c);
  CHECK(y.requires_grad());
  backward(sum(y));
  CHECK(x.grad().item(0) == 5.0);
  CHECK(!c.grad().defined());
  Var z = mul(c, c);
  CHECK(!z.requires_grad());
  CHECK(z.node()->inputs.empty());  // no graph kept for constants
  CHECK_THROWS_WITH_AS(backward(sum(z)), doctest::Contains("does not require a gradient"), Error);
}

TEST_CASE("no-grad scope records nothing and restores") {
  Var x = param(vec({1.0}));
  {
    NoGradGuard guard;
    CHECK(!grad_enabled());
    Var y = exp(x);
    CHECK(!y.requires_grad());
    CHECK(y.node()->inputs.empty());
  }
  CHECK(grad_enabled());
  CHECK(exp(x).requires_grad());
}

TEST_CASE("the graph is freed after backward; shared subexpressions get both contributions") {
  Var x = param(vec({3.0}));
  Var h = mul(x, x);          // used twice below
  Var y = add(h, scale(h, 2.0));  // 3 x^2
  std::weak_ptr<Node> h_node = h.node();
  const std::weak_ptr<Storage> saved = h.value().storage();
  backward(sum(y));
  CHECK(x.grad().item() == doctest::Approx(18.0));  // 6x
  CHECK(h.node()->inputs.empty());
  CHECK(!h.node()->backward);
  h = Var();
  y = Var();
  CHECK(h_node.expired());  // nothing holds the intermediate any more
  CHECK(saved.expired());
}

TEST_CASE("a non-scalar root needs a seed of its shape") {
  Var x = param(vec({1.0, 2.0}));
  Var y = scale(x, 2.0);
  CHECK_THROWS_WITH_AS(backward(y), doctest::Contains("not a scalar"), Error);
  CHECK_THROWS_WITH_AS(backward(y, vec({1.0})), doctest::Contains("does not match"), Error);
  backward(y, vec({1.0, 10.0}));
  CHECK(x.grad().item(1) == 20.0);
}

}  // namespace comet::ag
