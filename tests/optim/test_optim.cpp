// Optimizers against steps worked out by hand (one scalar parameter, two steps), clipping, schedules.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "core/rng.h"
#include "core/threading.h"
#include "optim/optimizer.h"

namespace comet::optim {
namespace {

// Runs two steps on p = 1 with gradients 0.5 then -0.25 and returns p after each step.
std::vector<double> two_steps(const std::function<std::unique_ptr<Optimizer>(std::vector<ag::Var>)>& make) {
  ag::Var p = ag::param(Tensor::full({1}, 1.0, DType::F64));
  auto opt = make({p});
  std::vector<double> out;
  for (double g : {0.5, -0.25}) {
    p.grad() = Tensor::full({1}, g, DType::F64);
    opt->step();
    out.push_back(p.value().item());
  }
  return out;
}

}  // namespace

TEST_CASE("SGD with momentum, by hand") {
  // v1 = 0.5, p1 = 1 - 0.1*0.5 = 0.95; v2 = 0.9*0.5 - 0.25 = 0.2, p2 = 0.95 - 0.02 = 0.93.
  auto p = two_steps([](auto params) {
    return std::make_unique<Sgd>(params, constant_lr(0.1), SgdOptions{0.9, 0.0, false});
  });
  CHECK(p[0] == doctest::Approx(0.95).epsilon(1e-12));
  CHECK(p[1] == doctest::Approx(0.93).epsilon(1e-12));
  // Nesterov: d1 = 0.5 + 0.9*0.5 = 0.95 -> p1 = 0.905; v2 = 0.2, d2 = -0.25 + 0.18 = -0.07 -> p2 = 0.912.
  auto n = two_steps([](auto params) {
    return std::make_unique<Sgd>(params, constant_lr(0.1), SgdOptions{0.9, 0.0, true});
  });
  CHECK(n[0] == doctest::Approx(0.905).epsilon(1e-12));
  CHECK(n[1] == doctest::Approx(0.912).epsilon(1e-12));
}

TEST_CASE("Adam and AdamW with bias correction, by hand") {
  // Step 1: m = 0.05, v = 2.5e-4, m^ = 0.5, v^ = 0.25 -> p = 1 - 0.1 * 0.5 / (0.5 + 1e-8).
  // Step 2: m = 0.02, v = 3.1225e-4, bias corrections 0.19 and 0.001999.
  auto a = two_steps([](auto params) { return std::make_unique<Adam>(params, constant_lr(0.1)); });
  CHECK(a[0] == doctest::Approx(0.9000000019999999).epsilon(1e-12));
  CHECK(a[1] == doctest::Approx(0.8733662987078462).epsilon(1e-12));
  // AdamW, weight decay 0.1: p is first multiplied by 1 - lr * wd = 0.99.
  auto w = two_steps([](auto params) { return std::make_unique<Adam>(params, constant_lr(0.1), adamw_options(0.1)); });
  CHECK(w[0] == doctest::Approx(0.8900000019999998).epsilon(1e-12));
  CHECK(w[1] == doctest::Approx(0.8544662986878462).epsilon(1e-12));
}

TEST_CASE("optimizer state for checkpoints: slots by hand, and a copy continues like the original") {
  ag::Var p = ag::param(Tensor::full({1}, 1.0, DType::F64));
  Adam adam({p}, constant_lr(0.1));
  CHECK(adam.state_slots() == 2);
  CHECK(Sgd({p}, constant_lr(0.1)).state_slots() == 0);
  CHECK(Sgd({p}, constant_lr(0.1), SgdOptions{0.9, 0.0, false}).state_slots() == 1);
  p.grad() = Tensor::full({1}, 0.5, DType::F64);
  adam.step();
  CHECK(adam.state(0, 0).item() == doctest::Approx(0.05).epsilon(1e-15));   // m = 0.1 * 0.5
  CHECK(adam.state(0, 1).item() == doctest::Approx(2.5e-4).epsilon(1e-15));  // v = 0.001 * 0.25
  CHECK_THROWS_WITH_AS(adam.state(0, 2), doctest::Contains("parameter 0 slot 2 out of range"), Error);
  CHECK_THROWS_WITH_AS(adam.state(1, 0), doctest::Contains("parameter 1 slot 0 out of range"), Error);

  // A second optimizer given the first one's state and step count takes the same second step.
  ag::Var q = ag::param(p.value().clone());
  Adam copy({q}, constant_lr(0.1));
  copy.set_steps(adam.steps());
  for (int slot = 0; slot < 2; ++slot) copy.state(0, slot).copy_from(adam.state(0, slot));
  p.grad() = q.grad() = Tensor::full({1}, -0.25, DType::F64);
  adam.step();
  copy.step();
  CHECK(q.value().item() == p.value().item());
  CHECK(p.value().item() == doctest::Approx(0.8733662987078462).epsilon(1e-12));
  CHECK_THROWS_WITH_AS(copy.set_steps(-1), doctest::Contains("must be >= 0"), Error);
}

TEST_CASE("Adam over many tensors in one parallel region: every element as the formula, the same bits at 1 and 2 "
          "threads") {
  // Sizes around the step's 8192-element chunks, one tensor without a gradient (index 3), float parameters.
  const std::vector<int64_t> sizes = {1, 8191, 8192, 8193, 20000, 3};
  const auto draw = [&](Generator& gen) {
    std::vector<Tensor> t;
    for (int64_t n : sizes) {
      t.push_back(Tensor::empty({n}));
      gen.normal(t.back(), 0.0, 1.0);
    }
    return t;
  };
  Generator gen(11);
  const std::vector<Tensor> start = draw(gen), g1 = draw(gen), g2 = draw(gen);
  const auto run = [&](int threads, int steps) {
    ThreadScope scope(threads);
    std::vector<ag::Var> params;
    for (const Tensor& t : start) params.push_back(ag::param(t.clone()));
    Adam opt(params, constant_lr(0.01));
    for (int step = 0; step < steps; ++step) {
      for (size_t i = 0; i < params.size(); ++i)
        if (i != 3) params[i].grad() = (step == 0 ? g1 : g2)[i].clone();
      opt.step();
    }
    return params;
  };
  const std::vector<ag::Var> one = run(1, 2), two = run(2, 2);
  for (size_t i = 0; i < sizes.size(); ++i)
    CHECK(std::memcmp(one[i].value().raw(), two[i].value().raw(), one[i].value().nbytes()) == 0);
  // After one step m^ = g and v^ = g^2: p1 = p0 - lr * g / (|g| + eps), element by element (in double).
  const std::vector<ag::Var> first = run(2, 1);
  for (size_t i = 0; i < sizes.size(); ++i) {
    const float* p0 = start[i].data<float>();
    const float* p1 = first[i].value().data<float>();
    const float* g = g1[i].data<float>();
    for (int64_t j = 0; j < sizes[i]; ++j) {
      const double expect = i == 3 ? p0[j] : p0[j] - 0.01 * g[j] / (std::abs(double(g[j])) + 1e-8);
      REQUIRE(p1[j] == doctest::Approx(expect).epsilon(1e-6));
    }
  }
}

TEST_CASE("parameters without a gradient are left alone") {
  ag::Var p = ag::param(Tensor::full({2}, 3.0));
  Adam opt({p}, constant_lr(0.1));
  opt.step();
  CHECK(p.value().item(0) == 3.0);
}

TEST_CASE("clip_grad_norm scales by the global norm") {
  ag::Var a = ag::param(Tensor::zeros({2}, DType::F64)), b = ag::param(Tensor::zeros({1}, DType::F64));
  a.grad() = Tensor::from_vector<double>({2}, {3.0, 0.0});
  b.grad() = Tensor::from_vector<double>({1}, {4.0});
  CHECK(clip_grad_norm({a, b}, 10.0) == doctest::Approx(5.0));
  CHECK(a.grad().item(0) == 3.0);  // under the limit: untouched
  CHECK(clip_grad_norm({a, b}, 1.0) == doctest::Approx(5.0));
  CHECK(a.grad().item(0) == doctest::Approx(0.6).epsilon(1e-6));
  CHECK(b.grad().item(0) == doctest::Approx(0.8).epsilon(1e-6));
}

TEST_CASE("schedules: constant and warm-up + cosine, and the optimizer uses them") {
  auto s = warmup_cosine(1.0, 10, 110, 0.1);
  CHECK(s(5) == doctest::Approx(0.5));
  CHECK(s(10) == doctest::Approx(1.0));
  CHECK(s(60) == doctest::Approx(0.55));
  CHECK(s(110) == doctest::Approx(0.1));
  ag::Var p = ag::param(Tensor::full({1}, 0.0, DType::F64));
  Sgd opt({p}, [](int64_t step) { return 0.1 * step; });
  for (int i = 0; i < 3; ++i) {
    p.grad() = Tensor::full({1}, 1.0, DType::F64);
    opt.step();
  }
  CHECK(p.value().item() == doctest::Approx(-0.6));  // 0.1 + 0.2 + 0.3
  CHECK_THROWS_AS(warmup_cosine(1.0, 10, 5), Error);
}

}  // namespace comet::optim
