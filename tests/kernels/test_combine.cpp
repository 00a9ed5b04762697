// The MoE's weighted combine (combine_rows, kernels/index.h; the op ag::combine_rows) against the composition it
// replaced in the sparse MoE layer, scatter_add_rows(mul(ys, gather_rows(reshape(g, [B n, 1]), flat)), sample, B):
// the same bits forward and backward (ys's and g's gradients) through the fast kernels, on every ISA path this CPU
// has, at 1 and 2 threads; the reference kernels within the tolerance; and a hand-worked case.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <utility>

#include "autograd/ops.h"
#include "core/threading.h"
#include "kernels/backend.h"
#include "kernels/cpu/isa.h"
#include "kernels/dispatch.h"
#include "test_util.h"

namespace comet::test {
namespace {

using ag::Var;

bool bit_equal(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() && std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// A gate [batch, experts] with about half its entries routed (random, away from 0) and sample 0 unrouted.
Tensor sparse_gate(int64_t batch, int64_t experts, DType dtype, Generator& gen) {
  Tensor g = random_tensor({batch, experts}, gen, 0.05, 1.0), keep = Tensor::empty({batch, experts}, DType::F64);
  gen.bernoulli(keep, 0.5);
  for (int64_t i = 0; i < g.numel(); ++i)
    if (keep.data<double>()[i] == 0 || i < experts) g.data<double>()[i] = 0;
  return g.to(dtype);
}

struct Result {
  Tensor y, gys, gg;
};

// y and the gradients of sum(y * seed) through `combine` (fused or composed) for ys, g.
template <class Combine>
Result run(Combine combine, const Tensor& ys, const Tensor& g, const Tensor& seed) {
  Var ysv(ys.clone(), true), gv(g.clone(), true);
  const Var y = combine(ysv, gv);
  ag::backward(y, seed);
  return {y.value(), ysv.grad(), gv.grad()};
}

Result fused(const Tensor& ys, const Tensor& g, const DispatchPlan& plan, const Tensor& seed) {
  return run([&](const Var& a, const Var& b) { return ag::combine_rows(a, b, plan); }, ys, g, seed);
}

Result composed(const Tensor& ys, const Tensor& g, const DispatchPlan& plan, const Tensor& seed) {
  const Tensor sample = Tensor::from_vector<int64_t>({plan.pairs()}, plan.sample);
  const Tensor flat = Tensor::from_vector<int64_t>({plan.pairs()}, plan.flat);
  return run(
      [&](const Var& a, const Var& b) {
        const Var weight = ag::gather_rows(ag::reshape(b, {plan.batch * plan.experts, 1}), flat);
        return ag::scatter_add_rows(ag::mul(a, weight), sample, plan.batch);
      },
      ys, g, seed);
}

template <class F>
void for_each_problem(DType dtype, F f) {
  Generator gen(41);
  for (const int64_t batch : {1, 7, 300})
    for (const int64_t experts : {1, 3, 16})
      for (const int64_t d : {1, 5, 64, 257}) {
        const Tensor g = sparse_gate(batch, experts, dtype, gen);
        const DispatchPlan plan = dtype == DType::F32 ? plan_dispatch(batch, experts, g.data<float>())
                                                      : plan_dispatch(batch, experts, g.data<double>());
        const Tensor ys = random_tensor({plan.pairs(), d}, gen, -1, 1, dtype);
        const Tensor seed = random_tensor({batch, d}, gen, -1, 1, dtype);
        INFO("batch " << batch << " experts " << experts << " d " << d << " pairs " << plan.pairs());
        f(ys, g, plan, seed);
      }
}

void check_same_bits(const Result& got, const Result& want) {
  CHECK(bit_equal(got.y, want.y));
  CHECK(bit_equal(got.gys, want.gys));
  CHECK(bit_equal(got.gg, want.gg));
}

TEST_CASE_TEMPLATE("combine_rows gives the composition's bits, forward and backward, on every ISA and thread count", T,
                   float, double) {
  for (const cpu::Isa isa : cpu::supported_isas()) {
    const cpu::IsaScope isa_scope(isa);
    for (const int threads : {1, 2}) {
      const ThreadScope thread_scope(threads);
      INFO("isa " << cpu::isa_name(isa) << " threads " << threads);
      for_each_problem(dtype_of<T>(), [](const Tensor& ys, const Tensor& g, const DispatchPlan& plan, const Tensor& seed) {
        check_same_bits(fused(ys, g, plan, seed), composed(ys, g, plan, seed));
      });
    }
  }
}

TEST_CASE("combine_rows: the reference kernels agree with the fast ones") {
  for_each_problem(DType::F32, [](const Tensor& ys, const Tensor& g, const DispatchPlan& plan, const Tensor& seed) {
    const Result fast = fused(ys, g, plan, seed);
    const KernelSetScope reference(KernelSet::Reference);
    const Result ref = fused(ys, g, plan, seed);
    // The project's rule for float kernels: 1e-5 relative, with a floor of 1e-5 of the result's RMS.
    for (const auto& [got, want] : {std::pair{fast.y, ref.y}, {fast.gys, ref.gys}, {fast.gg, ref.gg}})
      COMET_CHECK_CLOSE(got, want, 1e-5, std::max(1e-5 * rms(want), 1e-30));
  });
}

// Two samples, three experts: sample 0 on experts 0 and 2 (weights 0.5, 2), sample 1 on none, and the rows of ys in
// the plan's order (expert 0's pair, then expert 2's).
TEST_CASE("combine_rows on a hand-worked case, and a plan that does not fit") {
  const Tensor g = Tensor::from_vector<float>({2, 3}, {0.5f, 0, 2, 0, 0, 0});
  const DispatchPlan plan = plan_dispatch(2, 3, g.data<float>());
  REQUIRE(plan.pairs() == 2);
  const Tensor ys = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  for (const KernelSet set : {KernelSet::Fast, KernelSet::Reference}) {
    const KernelSetScope scope(set);
    const Result r = fused(ys, g, plan, Tensor::from_vector<float>({2, 2}, {1, -1, 5, 5}));
    CHECK(bit_equal(r.y, Tensor::from_vector<float>({2, 2}, {0.5f * 1 + 2 * 3, 0.5f * 2 + 2 * 4, 0, 0})));
    CHECK(bit_equal(r.gys, Tensor::from_vector<float>({2, 2}, {0.5f, -0.5f, 2, -2})));
    // gg[0, e] = seed[0] . ys[pair]: (1 - 2) for expert 0, (3 - 4) for expert 2; 0 elsewhere.
    CHECK(bit_equal(r.gg, Tensor::from_vector<float>({2, 3}, {-1, 0, -1, 0, 0, 0})));
  }
  Var ysv(Tensor::zeros({3, 2}), true), gv(g.clone(), true);
  CHECK_THROWS_WITH_AS(ag::combine_rows(ysv, gv, plan), doctest::Contains("do not fit the plan"), Error);
}

}  // namespace
}  // namespace comet::test
