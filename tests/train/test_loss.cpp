// Per-task losses on hand-worked cases: BCE with logits, MSE over the observed targets of a masked regression task
// (count = observed rows; masked rows get no gradient), multiclass cross-entropy, an all-masked batch (loss 0, count
// 0, zero gradient), a prediction of the wrong width refused with the message, and multitask_loss = the weighted sum.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include "train/loss.h"
#include "test_util.h"

namespace comet::train {
namespace {

using ag::Var;
using data::TaskKind;

// Values from a string: GCC 12.2 with -march=native has been seen to miscompile short braced lists of doubles in
// doctest cases (e.g. {1, 1, 0, 0} read as {1, 1, 1, 1}), so the hand-written constants of this file are parsed.
std::vector<double> values(const std::string& text) {
  std::istringstream in(text);
  std::vector<double> v;
  for (double x; in >> x;) v.push_back(x);
  return v;
}

Tensor tensor(const Shape& shape, const std::string& text, DType dtype = DType::F32) {
  const std::vector<double> v = values(text);
  Tensor t = Tensor::empty(shape, DType::F64);
  REQUIRE(static_cast<int64_t>(v.size()) == t.numel());
  for (size_t i = 0; i < v.size(); ++i) t.data<double>()[i] = v[i];
  return t.to(dtype);
}

// Two tasks (binary "click", regression "rating") or a multiclass one, with targets [B, T] and an optional mask.
data::Dataset batch(const std::vector<data::TaskSpec>& tasks, int64_t rows, const std::string& targets,
                    const std::string& mask = "") {
  data::Dataset d;
  d.tasks = tasks;
  const int64_t T = static_cast<int64_t>(tasks.size());
  d.targets = tensor({rows, T}, targets);
  if (!mask.empty()) d.mask = tensor({rows, T}, mask);
  d.dense = Tensor::zeros({rows, 1});
  d.validate("loss test batch");
  return d;
}


const data::TaskSpec kClick{"click", TaskKind::Binary, 0}, kRating{"rating", TaskKind::Regression, 0},
    kDigit{"digit", TaskKind::Multiclass, 3};

}  // namespace

TEST_CASE("BCE with logits on a hand-worked case") {
  for (DType dtype : {DType::F32, DType::F64}) {
    // Logits 0 (label 1) and ln 3 (label 0): log(1 + e^0) = ln 2 and log(1 + 3) = ln 4; mean 1.5 ln 2.
    const data::Dataset d = batch({kClick}, 2, "1 0");
    Var p(tensor({2, 1}, "0 0", dtype), true);
    if (dtype == DType::F64) p.value().data<double>()[1] = std::log(3.0);
    else p.value().data<float>()[1] = static_cast<float>(std::log(3.0));
    const TaskLoss l = task_loss(d, 0, p);
    CHECK(l.count == 2.0);
    CHECK(l.mean.dtype() == dtype);
    const double tol = dtype == DType::F64 ? 1e-14 : 1e-6;
    CHECK(std::fabs(l.mean.value().item() - 1.5 * std::log(2.0)) <= tol);
    // d/dz = (sigmoid(z) - y) / B: (0.5 - 1) / 2 and (0.75 - 0) / 2.
    ag::backward(l.mean);
    CHECK(std::fabs(p.grad().item(0) - (-0.25)) <= tol);
    CHECK(std::fabs(p.grad().item(1) - 0.375) <= tol);
  }
}

TEST_CASE("masked MSE counts and averages the observed targets only") {
  // Task 1 (rating): predictions 1 2 3 4 against 0 2 0 1 with row 1 masked: (1 + 9 + 9) / 3.
  const data::Dataset d = batch({kClick, kRating}, 4, "1 0  0 2  1 0  0 1", "1 1  1 0  1 1  1 1");
  for (DType dtype : {DType::F32, DType::F64}) {
    // A prediction whose masked row is far off: it must not count.
    Var p(tensor({4, 1}, "1 1000 3 4", dtype), true);
    const TaskLoss l = task_loss(d, 1, p);
    CHECK(l.count == 3.0);
    const double tol = dtype == DType::F64 ? 1e-13 : 1e-5;
    CHECK(std::fabs(l.mean.value().item() - 19.0 / 3.0) <= tol * 19.0 / 3.0);
    ag::backward(l.mean);
    // 2 (p - t) / 3 on observed rows, exactly 0 on the masked one.
    CHECK(std::fabs(p.grad().item(0) - 2.0 / 3.0) <= tol);
    CHECK(p.grad().item(1) == 0.0);
    CHECK(std::fabs(p.grad().item(2) - 2.0) <= tol);
    CHECK(std::fabs(p.grad().item(3) - 2.0) <= tol);
  }
  // The same task without a mask: every row counts.
  const data::Dataset full = batch({kClick, kRating}, 4, "1 0  0 2  1 0  0 1");
  const TaskLoss l = task_loss(full, 1, Var(tensor({4, 1}, "1 3 3 4", DType::F64), true));
  CHECK(l.count == 4.0);
  CHECK(std::fabs(l.mean.value().item() - 20.0 / 4.0) <= 1e-14);
  // The mask of task 1 does not touch task 0 (its column is all observed): count 4.
  CHECK(task_loss(d, 0, Var(tensor({4, 1}, "0 0 0 0", DType::F64), false)).count == 4.0);
}

TEST_CASE("an all-masked batch: loss 0, count 0, zero gradient") {
  const data::Dataset d = batch({kClick, kRating}, 3, "1 5  0 6  1 7", "1 0  1 0  1 0");
  Var p(tensor({3, 1}, "1 2 3", DType::F64), true);
  const TaskLoss l = task_loss(d, 1, p);
  CHECK(l.count == 0.0);
  CHECK(l.mean.value().item() == 0.0);
  ag::backward(l.mean);
  for (int64_t i = 0; i < 3; ++i) CHECK((p.grad().defined() ? p.grad().item(i) : 0.0) == 0.0);
}

TEST_CASE("multiclass cross-entropy on a hand-worked case") {
  // Row 0: logits 0 0 0, label 2 -> ln 3. Row 1: logits 0 ln2 0, label 1 -> -log(2 / 4) = ln 2. Mean ln 6 / 2.
  const data::Dataset d = batch({kDigit}, 2, "2 1");
  Var p(tensor({2, 3}, "0 0 0  0 0 0", DType::F64), true);
  p.value().data<double>()[4] = std::log(2.0);
  const TaskLoss l = task_loss(d, 0, p);
  CHECK(l.count == 2.0);
  CHECK(std::fabs(l.mean.value().item() - std::log(6.0) / 2.0) <= 1e-14);
  ag::backward(l.mean);
  // (softmax - onehot) / B.
  const std::vector<double> g = values("0.1666666666666667 0.1666666666666667 -0.3333333333333333 0.125 -0.25 0.125");
  for (int64_t i = 0; i < 6; ++i) CHECK(std::fabs(p.grad().item(i) - g[i]) <= 1e-14);
}

TEST_CASE("a prediction of the wrong width or task index is refused with the message") {
  const data::Dataset d = batch({kDigit, kClick}, 2, "2 1  0 0");
  CHECK(test::error_of([&] { task_loss(d, 0, Var(Tensor::zeros({2, 1}), false)); }) ==
        "task_loss: task 'digit' (multiclass) needs predictions [2, 3], got [2, 1]");
  CHECK(test::error_of([&] { task_loss(d, 1, Var(Tensor::zeros({2, 3}), false)); }) ==
        "task_loss: task 'click' (binary) needs predictions [2, 1], got [2, 3]");
  CHECK(test::error_of([&] { task_loss(d, 1, Var(Tensor::zeros({3, 1}), false)); }) ==
        "task_loss: task 'click' (binary) needs predictions [2, 1], got [3, 1]");
  CHECK(test::error_of([&] { task_loss(d, 2, Var(Tensor::zeros({2, 1}), false)); }) == "task_loss: task 2 of 2");
  CHECK(test::error_of([&] {
          multitask_loss({Var(Tensor::zeros({2, 3}), false)}, d, {1.0, 1.0});
        }) == "multitask_loss: 1 predictions and 2 weights for 2 tasks");
}

TEST_CASE("multitask_loss is the weighted sum of the task means") {
  const data::Dataset d = batch({kClick, kRating}, 4, "1 0  0 2  1 0  0 1", "1 1  1 0  1 1  1 1");
  Var p0(tensor({4, 1}, "0.5 -1 2 0", DType::F64), true), p1(tensor({4, 1}, "1 2 3 4", DType::F64), true);
  const double l0 = task_loss(d, 0, p0).mean.value().item(), l1 = task_loss(d, 1, p1).mean.value().item();
  CHECK(l1 == doctest::Approx(19.0 / 3.0).epsilon(1e-14));
  const Var total = multitask_loss({p0, p1}, d, {0.25, 2.0});
  CHECK(std::fabs(total.value().item() - (0.25 * l0 + 2.0 * l1)) <= 1e-14 * (0.25 * l0 + 2.0 * l1));
  // The gradient is weighted too: the rating rows scale by 2 (2 * 2 (p - t) / 3), the masked row stays 0.
  ag::backward(total);
  CHECK(std::fabs(p1.grad().item(0) - 4.0 / 3.0) <= 1e-14);
  CHECK(p1.grad().item(1) == 0.0);
  // Weight 0 removes a task.
  const Var only1 = multitask_loss({p0, p1}, d, {0.0, 1.0});
  CHECK(std::fabs(only1.value().item() - l1) <= 1e-14 * l1);
}

}  // namespace comet::train
