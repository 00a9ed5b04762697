// Hand-worked values for the reductions, row softmax and losses (kernels/reduce.h, kernels/loss.h), run
// through the autograd ops under both kernel sets; shape and label errors; thread-count independence of the
// fast reductions.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "autograd/ops.h"
#include "core/threading.h"
#include "kernels/backend.h"
#include "kernels/cpu/parallel.h"
#include "kernels/reduce.h"
#include "test_util.h"

namespace comet::test {
namespace {

using ag::Over;
using ag::Var;

const KernelSet kSets[] = {KernelSet::Fast, KernelSet::Reference};

Tensor f64(const Shape& shape, const std::vector<double>& v) { return Tensor::from_vector(shape, v); }

void check_values(const Tensor& got, const Shape& shape, const std::vector<double>& want, double tol = 1e-12) {
  REQUIRE(got.shape() == shape);
  COMET_CHECK_CLOSE(got, f64(shape, want), tol, tol);
}

// Runs `body` once with each kernel set, naming the set on failure.
template <class F>
void for_each_set(F body) {
  for (KernelSet set : kSets) {
    INFO("kernel set: " << (set == KernelSet::Fast ? "fast" : "reference"));
    KernelSetScope scope(set);
    body();
  }
}

TEST_CASE("sum and mean of [[1, 2, 3], [4, 5, 6]] over all, rows and columns") {
  for_each_set([] {
    const Tensor x = f64({2, 3}, {1, 2, 3, 4, 5, 6});
    check_values(ag::sum(ag::constant(x), Over::All).value(), {}, {21});
    check_values(ag::sum(ag::constant(x), Over::Rows).value(), {1, 3}, {5, 7, 9});
    check_values(ag::sum(ag::constant(x), Over::Cols).value(), {2, 1}, {6, 15});
    check_values(ag::mean(ag::constant(x), Over::All).value(), {}, {3.5});
    check_values(ag::mean(ag::constant(x), Over::Rows).value(), {1, 3}, {2.5, 3.5, 4.5});
    check_values(ag::mean(ag::constant(x), Over::Cols).value(), {2, 1}, {2, 5});
    // Backward spreads the output gradient: d mean_cols / dx[i, j] = g[i] / 3.
    Var p = ag::param(x);
    ag::backward(ag::mean(p, Over::Cols), f64({2, 1}, {3, 6}));
    check_values(p.grad(), {2, 3}, {1, 1, 1, 2, 2, 2});
  });
}

TEST_CASE("softmax of a known row and log_softmax of large values") {
  for_each_set([] {
    check_values(ag::softmax(ag::constant(f64({1, 3}, {1, 2, 3}))).value(), {1, 3},
                 {0.09003057317038046, 0.24472847105479764, 0.6652409557748219});
    // 1000 would overflow exp without the max subtraction.
    check_values(ag::log_softmax(ag::constant(f64({2, 3}, {1000, 1001, 1002, -1000, -1000, -1000}))).value(), {2, 3},
                 {-2.4076059644443806, -1.4076059644443806, -0.40760596444438063, -std::log(3.0), -std::log(3.0),
                  -std::log(3.0)});
    const Tensor big = ag::softmax(ag::constant(Tensor::from_vector<float>({2}, {1000.f, 1000.f}))).value();
    CHECK(big.item(0) == 0.5);
    CHECK(big.item(1) == 0.5);
    // A constant gradient through softmax vanishes (rows sum to 1).
    Var p = ag::param(f64({1, 3}, {0.3, -1, 2}));
    ag::backward(ag::softmax(p), Tensor::full({1, 3}, 2.0, DType::F64));
    check_values(p.grad(), {1, 3}, {0, 0, 0}, 1e-12);
  });
}

TEST_CASE("cross_entropy of a hand-computed case, scaled by the incoming gradient") {
  for_each_set([] {
    Var logits = ag::param(f64({2, 3}, {1, 2, 3, 1, 1, 1}));
    // Row 0: -log softmax([1, 2, 3])[2]; row 1: log 3. Labels {2, 0} as i32 and as i64.
    for (const Tensor& l : {Tensor::from_vector<int32_t>({2}, {2, 0}), Tensor::from_vector<int64_t>({2}, {2, 0})})
      check_values(ag::cross_entropy(logits, l).value(), {}, {(0.40760596444438063 + std::log(3.0)) / 2});
    Var loss = ag::cross_entropy(logits, Tensor::from_vector<int64_t>({2}, {2, 0}));
    ag::backward(loss, Tensor::full({}, 4.0, DType::F64));  // d/dx = 4 (softmax - onehot) / 2
    const double s0 = 0.09003057317038046, s1 = 0.24472847105479764, s2 = 0.6652409557748219;
    check_values(logits.grad(), {2, 3}, {2 * s0, 2 * s1, 2 * (s2 - 1), 2 * (1 / 3.0 - 1), 2 / 3.0, 2 / 3.0});
  });
}

TEST_CASE("cross_entropy names a bad label and bad shapes") {
  const Var logits = ag::constant(Tensor::zeros({2, 3}));
  CHECK_THROWS_WITH(ag::cross_entropy(logits, Tensor::from_vector<int64_t>({2}, {0, 5})),
                    doctest::Contains("label 5 at row 1 is out of range [0, 3)"));
  CHECK_THROWS_WITH(ag::cross_entropy(logits, Tensor::from_vector<int32_t>({2}, {-1, 0})),
                    doctest::Contains("label -1 at row 0"));
  CHECK_THROWS_WITH(ag::cross_entropy(logits, Tensor::from_vector<int64_t>({3}, {0, 0, 0})),
                    doctest::Contains("[3]"));
  CHECK_THROWS_WITH(ag::cross_entropy(logits, Tensor::zeros({2})), doctest::Contains("i32/i64"));
  CHECK_THROWS_WITH(ag::cross_entropy(ag::constant(Tensor::zeros({6})), Tensor::from_vector<int64_t>({1}, {0})),
                    doctest::Contains("[B, C]"));
}

TEST_CASE("mse and masked_mse: hand values, all-zero mask, incoming gradient") {
  for_each_set([] {
    Var pred = ag::param(f64({2, 2}, {1, 2, 3, 4}));
    Var target = ag::param(f64({2, 2}, {0, 0, 0, 1}));
    Var loss = ag::mse(pred, target);
    check_values(loss.value(), {}, {(1 + 4 + 9 + 9) / 4.0});
    ag::backward(loss, Tensor::full({}, 3.0, DType::F64));  // 3 * 2 (p - t) / 4
    check_values(pred.grad(), {2, 2}, {1.5, 3, 4.5, 4.5});
    check_values(target.grad(), {2, 2}, {-1.5, -3, -4.5, -4.5});

    pred.zero_grad();
    const Tensor mask = Tensor::from_vector<float>({2, 2}, {1, 0, 1, 0});
    Var masked = ag::masked_mse(pred, ag::constant(f64({2, 2}, {0, 0, 0, 0})), mask);
    check_values(masked.value(), {}, {(1 + 9) / 2.0});
    ag::backward(masked);
    check_values(pred.grad(), {2, 2}, {1, 0, 3, 0});

    pred.zero_grad();
    Var empty = ag::masked_mse(pred, target, Tensor::zeros({2, 2}));
    check_values(empty.value(), {}, {0});
    ag::backward(empty);
    check_values(pred.grad(), {2, 2}, {0, 0, 0, 0});
  });
  CHECK_THROWS_WITH(ag::mse(ag::constant(Tensor::zeros({2, 3})), ag::constant(Tensor::zeros({3, 2}))),
                    doctest::Contains("[2, 3]"));
  CHECK_THROWS_WITH(ag::masked_mse(ag::constant(Tensor::zeros({2})), ag::constant(Tensor::zeros({2})), Tensor::zeros({3})),
                    doctest::Contains("mask of shape [3]"));
  CHECK_THROWS_WITH(ag::masked_mse(ag::constant(Tensor::zeros({2})), ag::constant(Tensor::zeros({2})),
                                   Tensor::full({2}, 0.5)),
                    doctest::Contains("not 0 or 1"));
}

TEST_CASE("bce_with_logits stays finite at large logits") {
  for_each_set([] {
    Var x = ag::param(f64({4}, {0, 1000, -1000, 2}));
    const Tensor t = f64({4}, {1, 1, 1, 0.25});
    Var loss = ag::bce_with_logits(x, ag::constant(t));
    const double last = 2 - 2 * 0.25 + std::log1p(std::exp(-2.0));
    check_values(loss.value(), {}, {(std::log(2.0) + 0 + 1000 + last) / 4});
    ag::backward(loss, Tensor::full({}, 2.0, DType::F64));  // 2 (sigmoid(x) - t) / 4
    const double sig2 = 1 / (1 + std::exp(-2.0));
    check_values(x.grad(), {4}, {0.5 * (0.5 - 1), 0, 0.5 * -1, 0.5 * (sig2 - 0.25)});
  });
}

TEST_CASE("fast reductions are bit-identical for 1 and 2 threads") {
  Generator gen(7);
  for (const Shape& shape : {Shape{3000, 5}, Shape{20, 700}, Shape{2, 40000}, Shape{600, 600}}) {
    const Tensor x = random_tensor(shape, gen, -1, 1, DType::F32);
    for (Broadcast bc : {Broadcast::Scalar, Broadcast::Row, Broadcast::Col}) {
      INFO("shape " << shape_str(shape) << ", mode " << int(bc));
      const int64_t rows = shape[0], cols = shape[1];
      std::vector<float> one(rows * cols), two(rows * cols), ref(rows * cols);
      {
        ThreadScope t(1);
        cpu::sum_to<float>(bc, rows, cols, 1.f, x.data<float>(), one.data());
      }
      {
        ThreadScope t(2);
        cpu::sum_to<float>(bc, rows, cols, 1.f, x.data<float>(), two.data());
      }
      ref::sum_to<float>(bc, rows, cols, 1.f, x.data<float>(), ref.data());
      CHECK(one == two);
      const int64_t outs = bc == Broadcast::Scalar ? 1 : bc == Broadcast::Row ? cols : rows;
      for (int64_t k = 0; k < outs; ++k) CHECK(std::fabs(one[k] - ref[k]) <= 1e-5 * (1 + std::fabs(ref[k])));
    }
  }
}

// deterministic_sum (kernels/cpu/parallel.h; losses, the gradient norm): n across the lane and chunk boundaries.
// Integer terms sum exactly, so any term dropped or counted twice shows; random terms must give the same bits at 1, 2
// and 3 threads and stay within 1e-12 relative of a plain running sum.
TEST_CASE("deterministic_sum: exact on integers, the same bits at 1, 2 and 3 threads") {
  Generator gen(8);
  for (const int64_t n : {0, 1, 7, 8, 9, 4095, 4096, 4097, 40003}) {
    INFO("n " << n);
    const Tensor x = random_tensor({std::max<int64_t>(n, 1)}, gen, -1, 1, DType::F64);
    const double* v = x.data<double>();
    const auto integer = [](int64_t i) { return double(i % 13) - 6; };
    double exact = 0, plain = 0;
    for (int64_t i = 0; i < n; ++i) exact += integer(i), plain += v[i];
    std::vector<double> sums;
    for (const int threads : {1, 2, 3}) {
      ThreadScope t(threads);
      CHECK(cpu::deterministic_sum(n, integer) == exact);
      sums.push_back(cpu::deterministic_sum(n, [&](int64_t i) { return v[i]; }));
    }
    CHECK(std::memcmp(&sums[0], &sums[1], sizeof(double)) == 0);
    CHECK(std::memcmp(&sums[0], &sums[2], sizeof(double)) == 0);
    CHECK(std::fabs(sums[0] - plain) <= 1e-12 * (1 + std::fabs(plain)));
  }
}

}  // namespace
}  // namespace comet::test
