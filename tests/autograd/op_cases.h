// The op case table: for each op name of autograd/op_list.h, a maker that builds cases (F64 inputs, the function
// under test, gradcheck options) at a size parameter from test::kOddSizes. test_ops.cpp runs every case
// through the gradient checker (F64) and through the fast and reference kernels (F32, forward and backward).
// Inputs are drawn away from kinks (ReLU at 0, max-pool ties, log near 0, division by ~0).
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "test_util.h"

namespace comet::test {

struct OpCase {
  std::string label;
  std::vector<Tensor> inputs;  // float inputs F64; index inputs i32/i64
  ag::VarFn fn;
  ag::GradcheckOptions grad{};
  bool compare_kernels = true;  // false only where the two kernel sets legitimately differ (none today)
};

using CaseMaker = std::function<std::vector<OpCase>(int64_t size, Generator& gen)>;

std::map<std::string, CaseMaker>& op_cases();

struct RegisterOpCases {
  RegisterOpCases(const char* name, CaseMaker maker) { op_cases()[name] = std::move(maker); }
};

// Uniform values with |v| in [lo, hi] and a random sign (keeps inputs away from 0).
inline Tensor away_from_zero(const Shape& shape, Generator& gen, double lo = 0.1, double hi = 1.0) {
  Tensor t = random_tensor(shape, gen, lo, hi);
  Tensor s = Tensor::empty(shape, DType::F64);
  gen.bernoulli(s, 0.5);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] *= s.data<double>()[i] > 0 ? 1.0 : -1.0;
  return t;
}

}  // namespace comet::test

#define COMET_CONCAT_INNER(a, b) a##b
#define COMET_CONCAT(a, b) COMET_CONCAT_INNER(a, b)
// COMET_OP_CASES("name", [](int64_t n, Generator& gen) { return std::vector<OpCase>{...}; });
#define COMET_OP_CASES(NAME, ...) \
  static ::comet::test::RegisterOpCases COMET_CONCAT(comet_op_cases_, __LINE__)(NAME, __VA_ARGS__)
