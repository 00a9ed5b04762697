// MLP: gradient check of a whole network (F64), bit-identical training at a fixed seed and thread count.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>

#include "autograd/gradcheck.h"
#include "core/threading.h"
#include "nn/mlp.h"
#include "data/synthetic.h"
#include "optim/optimizer.h"
#include "test_util.h"

namespace comet::nn {
namespace {

using data::Dataset;
using data::SyntheticConfig;

// Trains a 100-64-64-2 MLP (dropout 0.1) for `steps` Adam steps on synthetic data; returns all weights concatenated.
std::vector<float> train_weights(int threads, int steps = 20) {
  ThreadScope scope(threads);
  SyntheticConfig cfg;
  cfg.samples = 512;
  cfg.seed = 9;
  const Dataset data = data::make_synthetic_multitask(cfg);
  Generator gen(5);
  Mlp net({cfg.dim, 64, 64, 2}, gen, 0.1);
  optim::Adam opt(net.params(), optim::constant_lr(1e-3));
  for (int step = 0; step < steps; ++step) {
    const int64_t b = (step * 128) % cfg.samples;
    const Dataset batch = data::slice(data, b, b + 128);
    ag::Var loss = ag::mse(net(ag::constant(batch.dense), &gen, true), ag::constant(batch.targets));
    opt.zero_grad();
    ag::backward(loss);
    opt.step();
  }
  std::vector<float> out;
  for (const ag::Var& p : net.params()) {
    const float* d = p.value().data<float>();
    out.insert(out.end(), d, d + p.value().numel());
  }
  return out;
}

bool bit_identical(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("MLP gradient check (F64, whole network)") {
  Generator gen(3);
  Mlp net({7, 33, 5}, gen, 0.0, DType::F64);
  Tensor x = test::random_tensor({9, 7}, gen);
  std::vector<Tensor> inputs{x};
  for (const ag::Var& p : net.params()) inputs.push_back(p.value());
  auto f = [](const std::vector<ag::Var>& v) {
    // Rebuild the network from the checked inputs: weight, bias, weight, bias.
    ag::Var h = ag::relu(ag::add(ag::matmul(v[0], v[1]), v[2]));
    return ag::add(ag::matmul(h, v[3]), v[4]);
  };
  const auto r = ag::gradcheck(f, inputs);
  INFO(r.message);
  CHECK(r.ok);
}

TEST_CASE("training twice with the same seed gives bit-identical weights, at 1 and at 2 threads") {
  const auto one_a = train_weights(1), one_b = train_weights(1);
  const auto two_a = train_weights(2), two_b = train_weights(2);
  CHECK(bit_identical(one_a, one_b));
  CHECK(bit_identical(two_a, two_b));
  // Our kernels split work so that no float sum depends on the thread count: 1 and 2 threads agree too.
  CHECK(bit_identical(one_a, two_a));
  CHECK(!bit_identical(one_a, train_weights(1, 0)));  // training moved the weights
}

}  // namespace comet::nn
