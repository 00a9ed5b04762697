// Central-difference gradient checker.
#include "autograd/gradcheck.h"

#include <cmath>

#include "core/rng.h"

namespace comet::ag {
namespace {

bool is_float(const Tensor& t) { return t.dtype() == DType::F32 || t.dtype() == DType::F64; }

// L(inputs) = sum(w * f(inputs)); with `params`, the float inputs require gradients.
double objective(const VarFn& f, const std::vector<Tensor>& inputs, Tensor& w, bool with_grad,
                 std::vector<Var>* vars_out) {
  std::vector<Var> vars;
  for (const Tensor& t : inputs) vars.emplace_back(t, with_grad && is_float(t));
  Var y = f(vars);
  COMET_CHECK(y.dtype() == DType::F64, "gradcheck: the function must return F64, got {}", dtype_name(y.dtype()));
  if (!w.defined()) {
    w = Tensor::empty(y.shape(), DType::F64);
    Generator(977).uniform(w, 0.5, 1.5);
  }
  const double* yp = y.value().data<double>();
  const double* wp = w.data<double>();
  double L = 0;
  for (int64_t i = 0; i < y.value().numel(); ++i) L += wp[i] * yp[i];
  if (with_grad && y.requires_grad()) backward(y, w);
  if (vars_out) *vars_out = vars;
  return L;
}

}  // namespace

GradcheckResult gradcheck(const VarFn& f, const std::vector<Tensor>& inputs_in, const GradcheckOptions& opt) {
  std::vector<Tensor> inputs;
  for (const Tensor& t : inputs_in) {
    COMET_CHECK(!is_float(t) || t.dtype() == DType::F64, "gradcheck: float inputs must be F64, got {} of shape {}",
                dtype_name(t.dtype()), shape_str(t.shape()));
    inputs.push_back(t.clone());
  }
  Tensor w;
  std::vector<Var> vars;
  objective(f, inputs, w, true, &vars);

  GradcheckResult result;
  Generator pick(opt.seed);
  for (size_t k = 0; k < inputs.size(); ++k) {
    if (!is_float(inputs[k])) continue;
    Tensor& x = inputs[k];
    const int64_t n = x.numel();
    const Tensor& g = vars[k].grad();
    std::vector<int64_t> coords;
    if (n <= opt.max_coords_per_input) {
      for (int64_t i = 0; i < n; ++i) coords.push_back(i);
    } else {
      auto perm = pick.permutation(n);
      coords.assign(perm.begin(), perm.begin() + opt.max_coords_per_input);
    }
    double* xp = x.data<double>();
    for (int64_t i : coords) {
      const double saved = xp[i];
      xp[i] = saved + opt.eps;
      const double lp = objective(f, inputs, w, false, nullptr);
      xp[i] = saved - opt.eps;
      const double lm = objective(f, inputs, w, false, nullptr);
      xp[i] = saved;
      const double numeric = (lp - lm) / (2 * opt.eps);
      const double analytic = g.defined() ? g.data<double>()[i] : 0.0;
      const double err = std::fabs(analytic - numeric) /
                         (opt.atol + opt.rtol * std::max(std::fabs(analytic), std::fabs(numeric)));
      if (!(err <= result.worst_error)) {  // also catches NaN
        result.worst_error = std::isnan(err) ? INFINITY : err;
        result.message = fmt::format("input {} {} element {}: analytic {:.10g}, numeric {:.10g}", k,
                                     shape_str(x.shape()), i, analytic, numeric);
      }
    }
  }
  result.ok = result.worst_error <= 1.0;
  return result;
}

}  // namespace comet::ag
