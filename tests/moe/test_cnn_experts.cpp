// CNN experts on tiny images (1x14x14 with two 3x3 conv blocks {2, 3} filters and dense {4, 3}; 2x10x10 with one
// block): a gradient check (F64) of the whole MoE layer through the sparse and the dense path w.r.t. the input and
// every expert parameter; the sparse path equal to the dense path (forward and every gradient; F64 to 1e-10, F32 to
// 1e-5) for gate weights with exact zeros, an expert without rows (exactly zero gradients) and a batch that uses one
// expert only; feature_dim and the error for an image the 2x2 pool cannot halve. And the order the blocks compute
// in: max-pool then ReLU gives ReLU then max-pool's numbers, forward and backward, bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "autograd/gradcheck.h"
#include "moe/cnn_experts.h"
#include "moe/moe_layer.h"
#include "test_util.h"

namespace comet::moe {
namespace {

using ag::Var;

constexpr int64_t kExperts = 3;

CnnExpertsConfig config(bool two_channels) {
  CnnExpertsConfig cfg;
  cfg.kernel = 3;
  cfg.dense = {4, 3};
  if (two_channels) {
    cfg.channels = 2;
    cfg.height = cfg.width = 10;  // 10 -> 8 -> pool 4: 2 x 4 x 4 = 32 features
    cfg.filters = {2};
  } else {
    cfg.channels = 1;
    cfg.height = cfg.width = 14;  // 14 -> 12 -> 6 -> 4 -> 2: 3 x 2 x 2 = 12 features
    cfg.filters = {2, 3};
  }
  return cfg;
}

// Gate weights [B, n] with exact zeros. pattern 0: rows use one or two experts, expert 2 none (rows b % 3 == 0
// expert 0 only, == 1 experts 0 and 1, == 2 expert 1 only); pattern 1: every row uses expert 1 only.
Tensor gate_weights(int64_t B, int pattern, DType dtype, uint64_t seed) {
  Generator gen(seed);
  Tensor g = test::random_tensor({B, kExperts}, gen, 0.2, 1.0, DType::F64);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t e = 0; e < kExperts; ++e) {
      bool used;
      if (pattern == 1) used = e == 1;
      else used = (e == 0 && b % 3 != 2) || (e == 1 && b % 3 != 0);
      if (!used) g.data<double>()[b * kExperts + e] = 0.0;
    }
  return g.to(dtype);
}

// [x, conv weights and biases, dense weights and biases] of freshly drawn experts, in `dtype`.
std::vector<Tensor> inputs(const CnnExpertsConfig& cfg, int64_t B, DType dtype, uint64_t seed) {
  Generator gen(seed);
  CnnExperts drawn(kExperts, cfg, gen, DType::F64);
  std::vector<Tensor> in{test::random_tensor({B, cfg.channels * cfg.height * cfg.width}, gen, -1.0, 1.0)};
  for (auto& [name, v] : drawn.named_params()) {
    Tensor t = v.value().clone();
    // Positive dense biases keep the tiny ReLU layers alive (a dead unit would make its gradient trivially 0).
    if (name.rfind("dense.b", 0) == 0) gen.uniform(t, 0.05, 0.3);
    in.push_back(t);
  }
  for (Tensor& t : in) t = t.to(dtype);
  return in;
}

// The experts over the given parameter variables (vars[0] is the input).
CnnExperts bind_experts(const CnnExpertsConfig& cfg, const std::vector<Var>& v) {
  const size_t L = cfg.filters.size(), D = cfg.dense.size();
  std::vector<Var> cw, cb, dw, db;
  for (size_t l = 0; l < L; ++l) {
    cw.push_back(v[1 + 2 * l]);
    cb.push_back(v[2 + 2 * l]);
  }
  for (size_t l = 0; l < D; ++l) {
    dw.push_back(v[1 + 2 * L + 2 * l]);
    db.push_back(v[2 + 2 * L + 2 * l]);
  }
  return CnnExperts(cfg, cw, cb, dw, db);
}


}  // namespace

TEST_CASE("CNN experts: gradient check (F64) of the MoE layer w.r.t. the input and every expert parameter") {
  for (bool two_channels : {false, true})
    for (int pattern : {0, 1})
      for (MoePath path : {MoePath::Sparse, MoePath::Dense}) {
        const CnnExpertsConfig cfg = config(two_channels);
        const int64_t B = 5;
        const Tensor g = gate_weights(B, pattern, DType::F64, 7);
        const std::vector<Tensor> in = inputs(cfg, B, DType::F64, 11 + pattern);
        REQUIRE(in.size() == 1 + 2 * cfg.filters.size() + 2 * cfg.dense.size());
        const auto r = ag::gradcheck(
            [&](const std::vector<Var>& v) {
              CnnExperts experts = bind_experts(cfg, v);
              return moe_forward(experts, v[0], ag::constant(g), path);
            },
            in);
        INFO((two_channels ? "2x10x10" : "1x14x14")
             << " pattern " << pattern << (path == MoePath::Sparse ? " sparse: " : " dense: ") << r.message);
        CHECK(r.ok);
      }
}

TEST_CASE("CNN experts: the sparse path equals the dense path, forward and every gradient") {
  for (DType dtype : {DType::F64, DType::F32})
    for (bool two_channels : {false, true})
      for (int pattern : {0, 1}) {
        const CnnExpertsConfig cfg = config(two_channels);
        const int64_t B = 7;
        const double rtol = dtype == DType::F64 ? 1e-10 : 1e-5;
        std::vector<Tensor> outs[2];
        for (MoePath path : {MoePath::Sparse, MoePath::Dense}) {
          std::vector<Var> vars;
          for (const Tensor& t : inputs(cfg, B, dtype, 21)) vars.emplace_back(t, true);
          Var g(gate_weights(B, pattern, dtype, 8), true);
          CnnExperts experts = bind_experts(cfg, vars);
          Var y = moe_forward(experts, vars[0], g, path);
          Tensor w = Tensor::empty(y.shape(), dtype);
          Generator(3).uniform(w, 0.5, 1.5);
          ag::backward(y, w);
          auto& out = outs[path == MoePath::Sparse ? 0 : 1];
          out.push_back(y.value());
          for (const Var& v : vars) out.push_back(v.grad().defined() ? v.grad() : zeros_like(v.value()));
          // The gate's gradient on its non-zero entries (where g = 0 the sparse path has no pair to differentiate).
          Tensor gg = g.grad().defined() ? g.grad().to(DType::F64) : Tensor::zeros(g.shape(), DType::F64);
          for (int64_t i = 0; i < gg.numel(); ++i)
            if (g.value().item(i) == 0.0) gg.data<double>()[i] = 0.0;
          out.push_back(gg);
          // Experts without rows: every conv and dense gradient of theirs is exactly zero, on both paths.
          for (int64_t e = 0; e < kExperts; ++e) {
            bool used = false;
            for (int64_t b = 0; b < B; ++b) used = used || g.value().item(b * kExperts + e) != 0.0;
            for (size_t k = 1; k < vars.size(); ++k) {
              const Tensor& gr = vars[k].grad();
              const int64_t block = vars[k].value().numel() / kExperts;
              double norm = 0;
              for (int64_t j = 0; j < block; ++j) {
                const double v = gr.defined() ? gr.item(e * block + j) : 0.0;
                REQUIRE(std::isfinite(v));
                norm += std::fabs(v);
              }
              INFO("expert " << e << " input " << k << (path == MoePath::Sparse ? " sparse" : " dense"));
              if (used) CHECK(norm > 0.0);
              else CHECK(norm == 0.0);
            }
          }
        }
        REQUIRE(outs[0].size() == outs[1].size());
        for (size_t i = 0; i < outs[0].size(); ++i) {
          INFO(dtype_name(dtype) << (two_channels ? " 2x10x10" : " 1x14x14") << " pattern " << pattern << " output "
                                 << i);
          COMET_CHECK_CLOSE(outs[0][i], outs[1][i], rtol, rtol * 1e-3 + rtol * test::rms(outs[1][i]));
        }
      }
}

TEST_CASE("CNN experts: forward_one is expert e's network, and grouped rows go to their expert") {
  const CnnExpertsConfig cfg = config(false);
  Generator gen(5);
  CnnExperts experts(kExperts, cfg, gen, DType::F64);
  const Tensor x = test::random_tensor({6, 196}, gen);
  // Rows 0-1 -> expert 0, none -> expert 1, rows 2-5 -> expert 2: each block equals forward_one on it.
  const Tensor y = experts.forward_grouped(ag::constant(x), {0, 2, 2, 6}, {}).value();
  CHECK(y.shape() == Shape({6, 3}));
  const Tensor y0 = experts.forward_one(0, ag::constant(x), {}).value();
  const Tensor y2 = experts.forward_one(2, ag::constant(x), {}).value();
  for (int64_t b = 0; b < 6; ++b)
    for (int64_t j = 0; j < 3; ++j) {
      const double ref = (b < 2 ? y0 : y2).item(b * 3 + j);
      CHECK(std::fabs(y.item(b * 3 + j) - ref) <= 1e-12 * (1 + std::fabs(ref)));
    }
  CHECK(experts.output_dim() == 3);
  CHECK(experts.count() == kExperts);
}

TEST_CASE("CNN experts: feature_dim, names and the error for an image the 2x2 pool cannot halve") {
  CHECK(CnnExperts::feature_dim(config(false)) == 12);
  CHECK(CnnExperts::feature_dim(config(true)) == 32);
  CHECK(CnnExperts::feature_dim(CnnExpertsConfig{}) == 720);  // MultiMNIST's 36x36, 5x5 {10, 20}
  CnnExpertsConfig bad = config(false);
  bad.height = bad.width = 12;  // 12 -> 10 -> pool 5 -> conv 3x3 -> 3: odd
  const std::string message =
      "CnnExperts: conv block 2 (3x3 kernel) leaves 3x3 from a 12x12 image; the 2x2 pool needs an even size of at "
      "least 2";
  CHECK(test::error_of([&] { CnnExperts::feature_dim(bad); }) == message);
  Generator gen(1);
  CHECK(test::error_of([&] { CnnExperts(2, bad, gen); }) == message);
  bad = config(false);
  bad.width = 13;  // the first block leaves 12x11
  CHECK(test::error_of([&] { CnnExperts::feature_dim(bad); }) ==
        "CnnExperts: conv block 1 (3x3 kernel) leaves 12x11 from a 14x13 image; the 2x2 pool needs an even size of at "
        "least 2");

  CnnExperts experts(kExperts, config(false), gen);
  std::vector<std::string> names;
  for (auto& [name, v] : experts.named_params()) names.push_back(name);
  const std::vector<std::string> expected{"conv1.weight", "conv1.bias", "conv2.weight", "conv2.bias",
                                          "dense.w1",     "dense.b1",   "dense.w2",     "dense.b2"};
  CHECK(names == expected);
  CHECK(experts.named_params()[2].second.shape() == Shape({kExperts, 3, 2, 3, 3}));
  CHECK(experts.named_params()[4].second.shape() == Shape({kExperts, 12, 4}));

  // The constructor over given parameters checks their shapes.
  std::vector<Var> v;
  for (const Tensor& t : inputs(config(false), 2, DType::F64, 1)) v.emplace_back(t, true);
  std::swap(v[1], v[3]);  // conv1 and conv2 weights swapped
  CHECK(test::error_of([&] { bind_experts(config(false), v); }) ==
        "CnnExperts: conv block 1 weight [3, 3, 2, 3, 3] and bias [3, 2] are not [3, 2, 1, 3, 3] and [3, 2]");
}

TEST_CASE("CNN experts: max-pool then ReLU gives ReLU then max-pool's numbers, forward and backward, bit for bit") {
  // Small integers (ties within windows, windows whose maximum is 0 or negative) and random floats.
  Generator gen(17);
  for (bool integers : {true, false}) {
    Tensor x = Tensor::empty({3, 2, 6, 8}), gy = Tensor::empty({3, 2, 3, 4});
    gen.normal(x, 0.0, 1.0);
    gen.normal(gy, 0.0, 1.0);
    if (integers)
      for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = std::round(2 * x.data<float>()[i]);
    auto run = [&](bool pool_first) {
      Var xv = ag::param(x.clone());
      const Var y = pool_first ? ag::relu(ag::maxpool2x2(xv)) : ag::maxpool2x2(ag::relu(xv));
      ag::backward(y, gy);
      return std::make_pair(y.value().to_vector<float>(), xv.grad().to_vector<float>());
    };
    const auto want = run(false), got = run(true);
    INFO((integers ? "integers" : "floats"));
    REQUIRE(got.first.size() == want.first.size());
    REQUIRE(got.second.size() == want.second.size());
    CHECK(std::memcmp(got.first.data(), want.first.data(), want.first.size() * sizeof(float)) == 0);
    CHECK(std::memcmp(got.second.data(), want.second.data(), want.second.size() * sizeof(float)) == 0);
  }
}

}  // namespace comet::moe
