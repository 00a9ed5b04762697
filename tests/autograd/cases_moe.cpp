// Op cases: grouped_linear with uneven segments, including experts with no rows (first, middle and last);
// combine_rows over sparse gates with a sample and an expert that have no pairs.
#include "op_cases.h"

namespace comet::test {
namespace {

COMET_OP_CASES("grouped_linear", [](int64_t n, Generator& gen) {
  std::vector<OpCase> cases;
  // n rows split over 5 experts: [0, a), [a, a), [a, b), [b, n), [n, n) -> experts 1 and 4 empty (and more when n = 1).
  const int64_t a = n / 3, b = n - n / 4;
  const std::vector<int64_t> offsets{0, a, a, b, n, n};
  auto f = [offsets](const std::vector<ag::Var>& v) { return ag::grouped_linear(v[0], v[1], v[2], offsets); };
  cases.push_back({"rows n over 5 experts", {random_tensor({n, 4}, gen), random_tensor({5, 4, 3}, gen),
                                              random_tensor({5, 3}, gen)}, f});
  // Wide layers: in = n, out = 7, all rows in the middle expert of 3.
  const std::vector<int64_t> one{0, 0, 6, 6};
  cases.push_back({"in n, one busy expert", {random_tensor({6, n}, gen), random_tensor({3, n, 7}, gen),
                                             random_tensor({3, 7}, gen)},
                   [one](const std::vector<ag::Var>& v) { return ag::grouped_linear(v[0], v[1], v[2], one); }});
  return cases;
});

// g [batch, experts] with about `density` of its entries routed (away from 0) and the rest exactly 0, and the rows of
// ys for its plan; a sample without any pair and an expert without any are forced in.
OpCase combine_case(const char* label, int64_t batch, int64_t experts, int64_t d, double density, Generator& gen) {
  Tensor g = away_from_zero({batch, experts}, gen), keep = Tensor::empty({batch, experts}, DType::F64);
  gen.bernoulli(keep, density);
  for (int64_t i = 0; i < g.numel(); ++i)
    if (keep.data<double>()[i] == 0 || i / experts == 0 || i % experts == experts - 1) g.data<double>()[i] = 0;
  const DispatchPlan plan = plan_dispatch(batch, experts, g.data<double>());
  return {label, {random_tensor({plan.pairs(), d}, gen), g},
          [plan](const std::vector<ag::Var>& v) { return ag::combine_rows(v[0], v[1], plan); }};
}

COMET_OP_CASES("combine_rows", [](int64_t n, Generator& gen) {
  return std::vector<OpCase>{combine_case("batch n + 2, 5 experts, d 3, half routed", n + 2, 5, 3, 0.5, gen),
                             combine_case("batch 6, 4 experts, d n, most routed", 6, 4, n, 0.8, gen)};
});

}  // namespace
}  // namespace comet::test
