// Gradient checker (a library feature, used by every op and layer test): compares the tape's gradients of
// L = sum(w * f(inputs)) (w fixed random weights, so every output element matters) with central finite
// differences, in double precision. Inputs must be F64; integer inputs (indices) are passed through as
// constants. Large inputs are checked on a seeded random subset of coordinates.
// A coordinate passes if |analytic - numeric| <= atol + rtol * max(|analytic|, |numeric|).
// Test: tests/autograd/test_ops.cpp (every op), tests/moe/test_moe_layer.cpp (whole layers).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/var.h"

namespace comet::ag {

struct GradcheckOptions {
  double eps = 1e-6;
  double rtol = 1e-4;
  double atol = 1e-7;
  int64_t max_coords_per_input = 96;
  uint64_t seed = 1234;
};

struct GradcheckResult {
  bool ok = true;
  double worst_error = 0;  // largest |a - n| / (atol + rtol * max(|a|, |n|)); <= 1 passes
  std::string message;     // the worst coordinate: input, index, analytic, numeric
};

using VarFn = std::function<Var(const std::vector<Var>& inputs)>;

GradcheckResult gradcheck(const VarFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& opt = {});

}  // namespace comet::ag
