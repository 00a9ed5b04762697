// Optimizer::update_in_backward on the sparse experts' weights, whose gradient ag::grouped_linear hands over in pieces
// (one per tile, applied from the cache of the thread that computed it): the same bits as the separate step, at 1 and
// 2 threads, with and without idle-expert marks; a piece with an inf or NaN is kept for the caller's check and not
// applied while the finite ones are; a second backward before step() is refused.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "autograd/ops.h"
#include "core/rng.h"
#include "core/threading.h"
#include "optim/optimizer.h"

namespace comet::optim {
namespace {

constexpr int64_t kExperts = 4, kIn = 16, kHidden = 12, kOut = 6;
const std::vector<int64_t> kOffsets{0, 150, 150, 260, 400};  // expert 1 gets no rows
// Idle marks per step (expert 1 always idle: it has no rows; expert 3 idle on the second step).
const std::vector<std::vector<uint8_t>> kActive = {{1, 0, 1, 1}, {1, 0, 1, 0}, {1, 0, 1, 1}};

struct Experts {
  ag::Var w1, b1, w2, b2;
  std::vector<ag::Var> params() const { return {w1, b1, w2, b2}; }
};

Experts make_experts() {
  Generator gen(31);
  auto random = [&](Shape shape) {
    Tensor t = Tensor::empty(shape);
    gen.uniform(t, -0.5, 0.5);
    return ag::param(t);
  };
  return {random({kExperts, kIn, kHidden}), random({kExperts, kHidden}), random({kExperts, kHidden, kOut}),
          random({kExperts, kOut})};
}

// Rows of expert `huge` (if any) scaled by 1e30, so that its gradients overflow.
ag::Var loss_of(const Experts& m, int64_t huge = -1) {
  Generator gen(32);
  Tensor x = Tensor::empty({kOffsets.back(), kIn});
  gen.normal(x, 0.0, 1.0);
  if (huge >= 0)
    for (int64_t i = kOffsets[huge] * kIn; i < kOffsets[huge + 1] * kIn; ++i) x.data<float>()[i] *= 1e30f;
  const ag::Var h = ag::relu(ag::grouped_linear(ag::constant(x), m.w1, m.b1, kOffsets));
  const ag::Var y = ag::grouped_linear(h, m.w2, m.b2, kOffsets);
  return ag::sum(ag::mul(y, y));
}

// Three Adam steps; `fused`: every parameter updated in backward (the weights in pieces, the biases whole).
std::vector<std::vector<float>> train(bool fused, bool marks, int threads) {
  const ThreadScope scope(threads);
  Experts m = make_experts();
  Adam adam(m.params(), constant_lr(0.01));
  for (size_t i = 0; i < 4; ++i) {
    if (marks) adam.split_blocks(i, kExperts);
    if (fused) adam.update_in_backward(i);
  }
  for (size_t s = 0; s < kActive.size(); ++s) {
    adam.zero_grad();
    if (marks)
      for (size_t i = 0; i < 4; ++i) adam.set_active_blocks(i, kActive[s]);
    ag::backward(loss_of(m));
    if (fused) CHECK_FALSE(m.w1.grad().defined());
    adam.step();
  }
  std::vector<std::vector<float>> out;
  for (const ag::Var& p : m.params()) out.push_back(p.value().to_vector<float>());
  for (size_t i = 0; i < 4; ++i)
    for (int slot = 0; slot < 2; ++slot) out.push_back(adam.state(i, slot).to_vector<float>());
  return out;
}

std::vector<float> block(const std::vector<float>& v, int64_t b, int64_t size) {
  return {v.begin() + b * size, v.begin() + (b + 1) * size};
}

}  // namespace

TEST_CASE("update in pieces: the same bits as the separate step, at 1 and 2 threads, with and without idle marks") {
  for (bool marks : {false, true}) {
    const auto want = train(false, marks, 1);
    for (int threads : {1, 2}) {
      INFO("marks " << marks << ", threads " << threads);
      CHECK(train(true, marks, threads) == want);
    }
  }
}

TEST_CASE("update in pieces: a non-finite piece kept for the check and not applied; a second backward refused") {
  // The gradient a separate step would see, with expert 2's part overflowed.
  Experts ref = make_experts();
  ag::backward(loss_of(ref, 2));
  const std::vector<float> grad = ref.w1.grad().to_vector<float>();
  const int64_t size = kIn * kHidden;

  Experts m = make_experts();
  Adam adam(m.params(), constant_lr(0.01));
  adam.update_in_backward(0);
  const std::vector<float> before = m.w1.value().to_vector<float>();
  ag::backward(loss_of(m, 2));
  // Left for the check: expert 2's pieces as computed, zeros elsewhere; expert 2 not updated, the others updated.
  REQUIRE(m.w1.grad().defined());
  const std::vector<float> left = m.w1.grad().to_vector<float>();
  const std::vector<float> after = m.w1.value().to_vector<float>();
  CHECK_FALSE(all_finite(m.w1.grad()));
  CHECK(std::memcmp(block(left, 2, size).data(), block(grad, 2, size).data(), size * sizeof(float)) == 0);
  CHECK(block(after, 2, size) == block(before, 2, size));
  // The finite experts took the step a separate Adam takes on the same gradient (expert 1's gradient is 0: it moves
  // by nothing on a first step, which is still an update of its block).
  Experts sep = make_experts();
  Adam separate({sep.w1}, constant_lr(0.01));
  sep.w1.grad() = ref.w1.grad();
  separate.split_blocks(0, kExperts);
  separate.set_active_blocks(0, {1, 1, 0, 1});
  separate.step();
  for (int64_t e : {0, 1, 3}) {
    INFO("expert " << e);
    CHECK(block(left, e, size) == std::vector<float>(size, 0.0f));
    CHECK(block(after, e, size) == block(sep.w1.value().to_vector<float>(), e, size));
  }
  CHECK(block(after, 0, size) != block(before, 0, size));
  adam.step();  // does not apply the kept gradient either
  CHECK(m.w1.value().to_vector<float>() == after);

  // A second backward before step(): refused when the first piece comes.
  adam.zero_grad();
  ag::backward(loss_of(m));
  CHECK_THROWS_WITH_AS(ag::backward(loss_of(m)),
                       "Optimizer: parameter 0 is updated in backward, and a second backward pass ran before step() "
                       "(gradient accumulation needs the update in step())",
                       Error);
  CHECK_FALSE(m.w1.node()->pieces_allowed);  // reset when the op's backward throws
}

}  // namespace comet::optim
