// Op cases: sum and mean (every Over mode), softmax and log_softmax, and the losses mse, masked_mse,
// bce_with_logits and cross_entropy; the size n is used both as the row count and as the column count.
#include "op_cases.h"

namespace comet::test {
namespace {

using ag::Over;
using ag::Var;

// Shapes with n as rows, as columns, inside a 3-D tensor, and alone.
std::vector<std::pair<std::string, Shape>> shapes(int64_t n) {
  return {{"[n,3]", {n, 3}}, {"[3,n]", {3, n}}, {"[2,n,3]", {2, n, 3}}, {"[n]", {n}}};
}

std::vector<OpCase> reduce_cases(bool average, int64_t n, Generator& gen) {
  const std::pair<const char*, Over> modes[] = {{"All", Over::All}, {"Rows", Over::Rows}, {"Cols", Over::Cols}};
  std::vector<OpCase> cases;
  for (const auto& [mode_name, over] : modes)
    for (const auto& [shape_name, shape] : shapes(n)) {
      auto f = [average, over = over](const std::vector<Var>& v) {
        return average ? ag::mean(v[0], over) : ag::sum(v[0], over);
      };
      cases.push_back({fmt::format("Over::{} of {}", mode_name, shape_name), {random_tensor(shape, gen)}, f});
    }
  return cases;
}

std::vector<OpCase> softmax_cases(bool log_space, int64_t n, Generator& gen) {
  auto f = [log_space](const std::vector<Var>& v) { return log_space ? ag::log_softmax(v[0]) : ag::softmax(v[0]); };
  Tensor shifted = random_tensor({n, 4}, gen, 40.0, 43.0);  // max subtraction keeps these finite
  std::vector<OpCase> cases{
      {"[n,5]", {random_tensor({n, 5}, gen, -3.0, 3.0)}, f},
      {"[4,n]", {random_tensor({4, n}, gen, -3.0, 3.0)}, f},
      {"[2,3,n]", {random_tensor({2, 3, n}, gen, -3.0, 3.0)}, f},
      {"[n,4] in [40, 43]", {shifted}, f},
  };
  // The checked sum(w * y) runs over every output while each gradient entry is small (softmax) or the outputs
  // are large (log_softmax ~ -log(cols)), so its rounding (~1e-11 at n = 257) would swamp a 1e-6 central
  // difference; a wider step keeps the check at rtol 1e-4 (the functions are smooth).
  for (OpCase& c : cases) c.grad.eps = 1e-4;
  return cases;
}

// Pairs (prediction, target) with n as rows and as columns.
std::vector<OpCase> pair_cases(const ag::VarFn& f, int64_t n, Generator& gen, double lo, double hi) {
  return {
      {"[n,3]", {random_tensor({n, 3}, gen, lo, hi), random_tensor({n, 3}, gen)}, f},
      {"[3,n]", {random_tensor({3, n}, gen, lo, hi), random_tensor({3, n}, gen)}, f},
  };
}

OpCase masked_case(const std::string& label, const Shape& shape, double p_keep, Generator& gen) {
  Tensor mask = Tensor::empty(shape, DType::F32);  // an F32 mask is converted to the prediction's dtype
  gen.bernoulli(mask, p_keep);
  return {label, {random_tensor(shape, gen), random_tensor(shape, gen)},
          [mask](const std::vector<Var>& v) { return ag::masked_mse(v[0], v[1], mask); }};
}

OpCase cross_entropy_case(const std::string& label, int64_t rows, int64_t cols, DType label_dtype, Generator& gen) {
  Tensor labels = Tensor::empty({rows}, label_dtype);
  gen.randint(labels, 0, cols);
  return {label, {random_tensor({rows, cols}, gen, -3.0, 3.0), labels},
          [](const std::vector<Var>& v) { return ag::cross_entropy(v[0], v[1].value()); }};
}

COMET_OP_CASES("sum", [](int64_t n, Generator& gen) { return reduce_cases(false, n, gen); });
COMET_OP_CASES("mean", [](int64_t n, Generator& gen) { return reduce_cases(true, n, gen); });
COMET_OP_CASES("softmax", [](int64_t n, Generator& gen) { return softmax_cases(false, n, gen); });
COMET_OP_CASES("log_softmax", [](int64_t n, Generator& gen) { return softmax_cases(true, n, gen); });

COMET_OP_CASES("mse", [](int64_t n, Generator& gen) {
  return pair_cases([](const std::vector<Var>& v) { return ag::mse(v[0], v[1]); }, n, gen, -1.0, 1.0);
});

COMET_OP_CASES("masked_mse", [](int64_t n, Generator& gen) {
  return std::vector<OpCase>{
      masked_case("[n,4], half masked", {n, 4}, 0.5, gen),
      masked_case("[3,n], half masked", {3, n}, 0.5, gen),
      masked_case("[n,3], all ones", {n, 3}, 1.0, gen),
      masked_case("[n,3], all zero (loss 0, gradient 0)", {n, 3}, 0.0, gen),
  };
});

COMET_OP_CASES("bce_with_logits", [](int64_t n, Generator& gen) {
  auto f = [](const std::vector<Var>& v) { return ag::bce_with_logits(v[0], v[1]); };
  auto cases = pair_cases(f, n, gen, -4.0, 4.0);
  for (OpCase& c : cases) {  // targets: probabilities in [0, 1]
    c.inputs[1] = random_tensor(c.inputs[1].shape(), gen, 0.0, 1.0);
    c.label += ", soft targets";
  }
  return cases;
});

COMET_OP_CASES("cross_entropy", [](int64_t n, Generator& gen) {
  return std::vector<OpCase>{
      cross_entropy_case("[n,5], i64 labels", n, 5, DType::I64, gen),
      cross_entropy_case("[3,n], i32 labels", 3, n, DType::I32, gen),
  };
});

}  // namespace
}  // namespace comet::test
