// The tape itself: gradient accumulation across backward calls, gradients only where needed, the no-grad scope,
// the graph freed after backward, shared subexpressions, clear errors, and a leaf's gradient taken in pieces
// (Node::grad_pieces) only from its sole reader.
#include <doctest/doctest.h>

#include <mutex>

#include "autograd/ops.h"
#include "core/rng.h"

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

namespace {

// A leaf that records the gradient pieces handed to it.
struct PieceRecorder {
  int begins = 0, takes = 0;
  std::vector<float> grad;
  std::mutex mutex;

  void attach(Var& w) {
    grad.assign(static_cast<size_t>(w.value().numel()), 0.0f);
    w.node()->grad_pieces.begin = [this](Node&) { ++begins; };
    w.node()->grad_pieces.take = [this](int64_t b, int64_t e, const void* g) {
      const std::lock_guard<std::mutex> lock(mutex);
      ++takes;
      for (int64_t i = b; i < e; ++i) grad[static_cast<size_t>(i)] += static_cast<const float*>(g)[i - b];
    };
  }
};

}  // namespace

TEST_CASE("a leaf's gradient in pieces: only from its sole reader, the whole gradient; otherwise accumulated") {
  Generator gen(5);
  Tensor x = Tensor::empty({300, 16}), w = Tensor::empty({3, 16, 8}), b = Tensor::empty({3, 8});
  for (Tensor* t : {&x, &w, &b}) gen.normal(*t, 0.0, 1.0);
  const std::vector<int64_t> offsets{0, 120, 120, 300};
  const Var xv = constant(x), bv = param(b);
  Var wv = param(w);
  const auto layer = [&] { return grouped_linear(xv, wv, bv, offsets); };
  backward(sum(mul(layer(), layer())));  // the reference: wv is read twice, accumulated as usual
  const std::vector<float> want = wv.grad().to_vector<float>();
  wv.zero_grad();

  // Read once (the product of one node with itself: the same gradient): the gradient comes in pieces, none of it
  // accumulated into grad.
  PieceRecorder pieces;
  pieces.attach(wv);
  const auto square = [&] {
    const Var y = layer();
    return sum(mul(y, y));
  };
  backward(square());
  CHECK(pieces.begins == 1);
  CHECK(pieces.takes >= 1);
  CHECK_FALSE(wv.grad().defined());
  CHECK(pieces.grad == want);
  CHECK_FALSE(wv.node()->pieces_allowed);

  // Read twice, or with a gradient there already: no pieces, the usual accumulation.
  for (bool twice : {true, false}) {
    INFO((twice ? "read twice" : "a gradient there already"));
    wv.zero_grad();
    if (!twice) wv.grad() = Tensor::zeros(w.shape());
    pieces.begins = pieces.takes = 0;
    backward(twice ? sum(mul(layer(), layer())) : square());
    CHECK(pieces.begins + pieces.takes == 0);
    REQUIRE(wv.grad().defined());
    if (twice) CHECK(wv.grad().to_vector<float>() == want);
  }
}

}  // namespace comet::ag
