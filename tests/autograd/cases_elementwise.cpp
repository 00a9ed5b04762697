// Op cases: matmul (all transpose combinations), linear, unary ops, broadcasting binary ops, scale, cast.
#include "op_cases.h"

namespace comet::test {
namespace {

using ag::Var;

std::vector<OpCase> unary_cases(Unary op, int64_t n, Generator& gen) {
  Tensor x;
  switch (op) {
    case Unary::Log: x = random_tensor({n, 3}, gen, 0.2, 2.0); break;
    case Unary::Relu: x = away_from_zero({n, 3}, gen); break;
    default: x = random_tensor({n, 3}, gen, -2.0, 2.0);
  }
  return {{"x [n,3]", {x}, [op](const std::vector<Var>& v) { return ag::unary(op, v[0]); }}};
}

std::vector<OpCase> binary_cases(Binary op, int64_t n, Generator& gen) {
  const double lo = op == Binary::Div ? 0.5 : 0.1;  // divisors away from 0
  auto f = [op](const std::vector<Var>& v) { return ag::binary(op, v[0], v[1]); };
  return {
      {"same shape", {random_tensor({n, 5}, gen), away_from_zero({n, 5}, gen, lo, 1.5)}, f},
      {"row broadcast [C] (bias add)", {random_tensor({5, n}, gen), away_from_zero({n}, gen, lo, 1.5)}, f},
      {"row broadcast [1,C]", {random_tensor({3, n}, gen), away_from_zero({1, n}, gen, lo, 1.5)}, f},
      {"column broadcast [R,1]", {random_tensor({n, 4}, gen), away_from_zero({n, 1}, gen, lo, 1.5)}, f},
      {"scalar", {random_tensor({n, 2}, gen), away_from_zero({1}, gen, lo, 1.5)}, f},
  };
}

COMET_OP_CASES("matmul", [](int64_t n, Generator& gen) {
  std::vector<OpCase> cases;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      const int64_t m = 5, k = n, p = 3;  // n is the inner size; a second case makes it the outer size
      Tensor a = ta ? random_tensor({k, m}, gen) : random_tensor({m, k}, gen);
      Tensor b = tb ? random_tensor({p, k}, gen) : random_tensor({k, p}, gen);
      auto f = [ta, tb](const std::vector<Var>& v) { return ag::matmul(v[0], v[1], ta, tb); };
      cases.push_back({fmt::format("inner n, ta={} tb={}", ta, tb), {a, b}, f});
      Tensor a2 = ta ? random_tensor({4, n}, gen) : random_tensor({n, 4}, gen);
      Tensor b2 = tb ? random_tensor({n, 4}, gen) : random_tensor({4, n}, gen);
      cases.push_back({fmt::format("outer n, ta={} tb={}", ta, tb), {a2, b2}, f});
    }
  return cases;
});

COMET_OP_CASES("linear", [](int64_t n, Generator& gen) {
  auto f = [](const std::vector<Var>& v) { return ag::linear(v[0], v[1], v[2]); };
  return std::vector<OpCase>{
      {"batch n", {random_tensor({n, 6}, gen), random_tensor({6, 5}, gen), random_tensor({5}, gen)}, f},
      {"in n", {random_tensor({4, n}, gen), random_tensor({n, 3}, gen), random_tensor({3}, gen)}, f},
      {"out n", {random_tensor({3, 5}, gen), random_tensor({5, n}, gen), random_tensor({n}, gen)}, f},
  };
});

COMET_OP_CASES("relu", [](int64_t n, Generator& g) { return unary_cases(Unary::Relu, n, g); });
COMET_OP_CASES("sigmoid", [](int64_t n, Generator& g) { return unary_cases(Unary::Sigmoid, n, g); });
COMET_OP_CASES("tanh", [](int64_t n, Generator& g) { return unary_cases(Unary::Tanh, n, g); });
COMET_OP_CASES("exp", [](int64_t n, Generator& g) { return unary_cases(Unary::Exp, n, g); });
COMET_OP_CASES("log", [](int64_t n, Generator& g) { return unary_cases(Unary::Log, n, g); });
COMET_OP_CASES("softplus", [](int64_t n, Generator& g) { return unary_cases(Unary::Softplus, n, g); });
COMET_OP_CASES("add", [](int64_t n, Generator& g) { return binary_cases(Binary::Add, n, g); });
COMET_OP_CASES("sub", [](int64_t n, Generator& g) { return binary_cases(Binary::Sub, n, g); });
COMET_OP_CASES("mul", [](int64_t n, Generator& g) { return binary_cases(Binary::Mul, n, g); });
COMET_OP_CASES("div", [](int64_t n, Generator& g) { return binary_cases(Binary::Div, n, g); });
COMET_OP_CASES("scale", [](int64_t n, Generator& gen) {
  return std::vector<OpCase>{
      {"x [n,3] * -1.7", {random_tensor({n, 3}, gen)}, [](const std::vector<Var>& v) { return ag::scale(v[0], -1.7); }}};
});

COMET_OP_CASES("cast", [](int64_t n, Generator& gen) {
  // Round trip through the other float type and back, so the case returns the input's dtype.
  return std::vector<OpCase>{{"to f32 and back", {random_tensor({n, 3}, gen)}, [](const std::vector<Var>& v) {
                                const DType other = v[0].dtype() == DType::F64 ? DType::F32 : DType::F64;
                                return ag::cast(ag::scale(ag::cast(v[0], other), 2.0), v[0].dtype());
                              },
                              // the F32 leg rounds: finite differences of the round trip need a larger step
                              ag::GradcheckOptions{1e-3, 1e-4, 1e-7, 96, 1234}}};
});

COMET_OP_CASES("to_device", [](int64_t n, Generator& gen) {
  // To the CPU: a no-op in the CPU runs; in the device runs of test_ops.cpp the inputs live on the device, so the
  // value comes to the host and the gradient goes back.
  return std::vector<OpCase>{{"to the CPU", {random_tensor({n, 3}, gen)}, [](const std::vector<Var>& v) {
                                return ag::to_device(ag::scale(v[0], 2.0), Device::CPU);
                              }}};
});

}  // namespace
}  // namespace comet::test
