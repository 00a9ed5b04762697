// Tests of train/metrics: ROC AUC on hand-worked cases (ties count 1/2), against a pairwise count, and against
// scikit-learn's roc_auc_score to 1e-12 on random cases with many ties (N from 10 to 10^6, unbalanced labels too;
// through tests/train/metrics_sklearn.py when a Python with numpy and sklearn is found); error messages; accuracy,
// masked MSE, BCE from logits, gate sparsity and TaskScores on hand-worked cases.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/io/npy.h"
#include "test_util.h"
#include "train/metrics.h"

namespace comet::train {
namespace {

namespace fs = std::filesystem;
using V = std::vector<double>;

#define CHECK_METRIC_ERROR(EXPR, TEXT) CHECK_THROWS_WITH_AS(EXPR, doctest::Contains(TEXT), comet::Error)

// AUC by counting every (positive, negative) pair: 1 when the positive scores higher, 1/2 on a tie.
double pairwise_auc(const V& scores, const V& labels) {
  double wins = 0, pairs = 0;
  for (size_t i = 0; i < scores.size(); ++i)
    for (size_t j = 0; j < scores.size(); ++j)
      if (labels[i] == 1 && labels[j] == 0) {
        wins += scores[i] > scores[j] ? 1.0 : scores[i] == scores[j] ? 0.5 : 0.0;
        pairs += 1;
      }
  return wins / pairs;
}

// A random binary case: labels 1 with probability `positive_rate` (entries 0 and 1 forced to 1 and 0, so both
// classes occur), scores uniform + 0.3 label rounded to `decimals` (many ties; decimals < 0: not rounded).
struct Case {
  V scores, labels;
};
Case random_case(uint64_t seed, int64_t n, double positive_rate, int decimals) {
  Generator gen(seed);
  Case c;
  const double scale = std::pow(10.0, decimals);
  for (int64_t i = 0; i < n; ++i) {
    const double label = i == 0 ? 1.0 : i == 1 ? 0.0 : gen.next_uniform() < positive_rate ? 1.0 : 0.0;
    const double s = gen.next_uniform() + 0.3 * label;
    c.labels.push_back(label);
    c.scores.push_back(decimals < 0 ? s : std::round(s * scale) / scale);
  }
  return c;
}

std::vector<Case> random_cases() {
  std::vector<Case> cases;
  uint64_t seed = 1;
  for (int64_t n : {10, 100, 1000, 10000, 100000})
    for (double rate : {0.5, 0.05, 0.97})
      for (int decimals : {1, 2}) cases.push_back(random_case(seed++, n, rate, decimals));
  cases.push_back(random_case(seed++, 1000000, 0.3, 2));
  cases.push_back(random_case(seed++, 1000000, 0.02, 3));
  cases.push_back(random_case(seed++, 100000, 0.5, -1));  // distinct scores
  return cases;
}


Tensor vector_tensor(const V& v) { return Tensor::from_vector<double>({static_cast<int64_t>(v.size())}, v); }

TEST_CASE("roc_auc: hand-worked cases, ties across classes count one half") {
  // No labels {1, 1, 0, 0} here: GCC 12.2 at -O2/-O3 with AVX-512 (-march=native on this machine) builds that braced
  // list as {1, 1, 1, 1} in this file (the SLP vectorizer broadcasts 1.0); reversed cases reverse the scores instead.
  struct HandCase {
    V scores, labels;
    double auc;
  };
  const std::vector<HandCase> cases = {
      {{0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}, 0.75},
      // The positive at 0.5 beats 0.2 and ties the negative at 0.5: 1.5; the positive at 0.9 beats both: 2.
      {{0.2, 0.5, 0.5, 0.9}, {0, 0, 1, 1}, 3.5 / 4},
      {{1, 2, 3, 4, 5}, {0, 1, 0, 1, 1}, 5.0 / 6},  // wins 1 + 2 + 2 of 3 x 2 pairs
      {{0.3, 0.3, 0.3, 0.3, 0.3}, {0, 1, 1, 0, 1}, 0.5},
      {{-3, -2, 5, 7}, {0, 0, 1, 1}, 1.0},
      {{7, 5, -2, -3}, {0, 0, 1, 1}, 0.0},
      {{0.0, -0.0}, {1, 0}, 0.5},  // -0 and +0 are the same score
      {{1e300, -1e300}, {1, 0}, 1.0},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    CHECK(roc_auc(cases[i].scores, cases[i].labels) == cases[i].auc);
    CHECK(pairwise_auc(cases[i].scores, cases[i].labels) == cases[i].auc);
  }
}

TEST_CASE("roc_auc: equals the pairwise count on random cases with ties") {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    const Case c = random_case(seed, 2 + static_cast<int64_t>(seed * 37 % 300), seed % 3 ? 0.5 : 0.1, seed % 2);
    INFO("seed " << seed << ", N " << c.scores.size());
    CHECK(roc_auc(c.scores, c.labels) == doctest::Approx(pairwise_auc(c.scores, c.labels)).epsilon(1e-14));
  }
}

TEST_CASE("roc_auc: errors name the function, the counts and the bad entry") {
  CHECK_METRIC_ERROR(roc_auc({0.1, 0.2, 0.3}, {0, 1}), "roc_auc: scores has 3 entries but labels has 2");
  CHECK_METRIC_ERROR(roc_auc({0.1, 0.2, 0.3}, {0, 0, 0}),
                     "roc_auc: needs both classes, got 0 positive and 3 negative labels of 3");
  CHECK_METRIC_ERROR(roc_auc({0.1, 0.2}, {1, 1}), "got 2 positive and 0 negative labels of 2");
  CHECK_METRIC_ERROR(roc_auc({}, {}), "got 0 positive and 0 negative labels of 0");
  CHECK_METRIC_ERROR(roc_auc({0.1, NAN, 0.3}, {0, 1, 0}), "roc_auc: score 1 of 3 is NaN");
  CHECK_METRIC_ERROR(roc_auc({0.1, 0.2, INFINITY}, {0, 1, 0}), "roc_auc: score 2 of 3 is inf; scores must be finite");
  CHECK_METRIC_ERROR(roc_auc({0.1, 0.2, 0.3}, {2, 1, 0}), "roc_auc: label 0 of 3 is 2; must be 0 or 1");
  CHECK_METRIC_ERROR(roc_auc({0.1, 0.2}, {0, 0.5}), "roc_auc: label 1 of 2 is 0.5; must be 0 or 1");
}

TEST_CASE("roc_auc: agrees with scikit-learn's roc_auc_score to 1e-12 (N 10 to 10^6, ties, unbalanced)") {
  const std::string py = test::find_python("numpy, sklearn");
  if (py.empty()) COMET_SKIP_TEST("neither python3 nor /usr/bin/python3 can import numpy and sklearn");
  const std::vector<Case> cases = random_cases();
  test::TempDir tmp;
  for (size_t i = 0; i < cases.size(); ++i) {
    io::save_npy(tmp / fmt::format("scores_{}.npy", i), vector_tensor(cases[i].scores));
    io::save_npy(tmp / fmt::format("labels_{}.npy", i), vector_tensor(cases[i].labels));
  }
  const std::string cmd = fmt::format("{} '{}/tests/train/metrics_sklearn.py' '{}' {}", py, COMET_SOURCE_DIR,
                                      tmp.dir.string(), cases.size());
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream in(tmp / "sklearn_auc.txt");
  for (size_t i = 0; i < cases.size(); ++i) {
    double want = NAN;
    REQUIRE(static_cast<bool>(in >> want));
    const double got = roc_auc(cases[i].scores, cases[i].labels);
    INFO("case " << i << ", N " << cases[i].scores.size() << ": got " << fmt::format("{:.17g}", got)
                 << ", sklearn " << fmt::format("{:.17g}", want));
    CHECK(std::fabs(got - want) <= 1e-12);
  }
}

TEST_CASE("binary_accuracy and binary_cross_entropy_with_logits: hand-worked cases") {
  // Predictions 0, 0, 1, 1 (logit 0 predicts 0): right, right, wrong, right.
  CHECK(binary_accuracy({-1, 0, 0.5, 2}, {0, 0, 0, 1}) == 0.75);
  CHECK(std::isnan(binary_accuracy({}, {})));
  CHECK_METRIC_ERROR(binary_accuracy({1, 2}, {0}), "binary_accuracy: logits has 2 entries but labels has 1");
  CHECK_METRIC_ERROR(binary_accuracy({1, NAN}, {0, 1}), "binary_accuracy: logit 1 of 2 is NaN");

  CHECK(binary_cross_entropy_with_logits({0}, {1}) == doctest::Approx(std::log(2.0)).epsilon(1e-15));
  // Mean of -log(sigmoid(2)) and -log(1 - sigmoid(1)).
  const double want = 0.5 * (std::log1p(std::exp(-2.0)) + std::log1p(std::exp(1.0)));
  CHECK(binary_cross_entropy_with_logits({2, 1}, {1, 0}) == doctest::Approx(want).epsilon(1e-15));
  CHECK(binary_cross_entropy_with_logits({-1000}, {1}) == 1000);  // stable: no overflow to inf
  CHECK(binary_cross_entropy_with_logits({100, -100}, {1, 0}) == doctest::Approx(std::exp(-100.0)).epsilon(1e-12));
  CHECK_METRIC_ERROR(binary_cross_entropy_with_logits({1}, {-1}),
                     "binary_cross_entropy_with_logits: label 0 of 1 is -1; must be 0 or 1");
}

TEST_CASE("multiclass_accuracy: argmax with ties to the lowest class, f32 and f64") {
  // Row argmaxes 1 (tie of classes 1 and 2), 0, 0 (all tied), 0 (tie of 0 and 1); labels 1, 0, 0, 1.
  const V z = {1, 3, 3, 5, 1, 0, 0, 0, 0, 2, 2, -1};
  const std::vector<int64_t> labels = {1, 0, 0, 1};
  CHECK(multiclass_accuracy(Tensor::from_vector<double>({4, 3}, z), labels) == 0.75);
  CHECK(multiclass_accuracy(Tensor::from_vector<double>({4, 3}, z).to(DType::F32), labels) == 0.75);
  CHECK(std::isnan(multiclass_accuracy(Tensor::zeros({0, 3}), {})));
  CHECK_METRIC_ERROR(multiclass_accuracy(Tensor::zeros({4, 3}), {0, 1, 3, 0}),
                     "multiclass_accuracy: label 2 of 4 is 3; must be in [0, C = 3)");
  CHECK_METRIC_ERROR(multiclass_accuracy(Tensor::zeros({4, 3}), {0, 1}),
                     "multiclass_accuracy: logits has 4 entries but labels has 2");
  CHECK_METRIC_ERROR(multiclass_accuracy(Tensor::zeros({12}), {0}),
                     "multiclass_accuracy: expected logits [N, C], got [12]");
  CHECK_METRIC_ERROR(multiclass_accuracy(Tensor::zeros({1, 2}, DType::I64), {0}),
                     "multiclass_accuracy: expected an f32 or f64 tensor, got i64 [1, 2]");
  CHECK_METRIC_ERROR(multiclass_accuracy(Tensor::from_vector<double>({1, 2}, {0, NAN}), {0}),
                     "multiclass_accuracy: logit 1 of 2 is NaN");
}

TEST_CASE("mean_squared_error: mean over the masked entries, NaN when none counts") {
  const V pred = {1, 2, 3, 4}, target = {1, 0, 5, 0};
  const V mask = {1, 0, 1, 0}, none = {0, 0, 0, 0};
  CHECK(mean_squared_error(pred, target) == 6.0);          // (0 + 4 + 4 + 16) / 4
  CHECK(mean_squared_error(pred, target, &mask) == 2.0);   // (0 + 4) / 2
  CHECK(std::isnan(mean_squared_error(pred, target, &none)));
  CHECK(std::isnan(mean_squared_error({}, {})));
  const V nan_outside = {1, NAN, 3, NAN};
  CHECK(mean_squared_error(nan_outside, target, &mask) == 2.0);  // masked-out entries are not read
  CHECK_METRIC_ERROR(mean_squared_error(nan_outside, target), "mean_squared_error: pred 1 of 4 is NaN");
  CHECK_METRIC_ERROR(mean_squared_error(pred, {1, 2}), "mean_squared_error: pred has 4 entries but target has 2");
  const V short_mask = {1, 1};
  CHECK_METRIC_ERROR(mean_squared_error(pred, target, &short_mask),
                     "mean_squared_error: pred has 4 entries but mask has 2");
  const V half = {1, 0.5, 1, 1};
  CHECK_METRIC_ERROR(mean_squared_error(pred, target, &half), "mean_squared_error: mask entry 1 of 4 is 0.5");
}

TEST_CASE("gate_sparsity: share of gate entries strictly below the threshold, in the tensor's precision") {
  // Below 1e-5: the two zeros of row 0; 9.99e-6 and 0 of row 1 (1e-5 itself is not below).
  const V g = {0.5, 0.5, 0, 0, 1e-5, 9.99e-6, 1 - 1e-5 - 9.99e-6, 0};
  CHECK(gate_sparsity(Tensor::from_vector<double>({2, 4}, g)) == 0.5);
  CHECK(gate_sparsity(Tensor::from_vector<double>({2, 4}, g).to(DType::F32)) == 0.5);  // float(1e-5) not below
  CHECK(gate_sparsity(Tensor::from_vector<double>({2, 4}, g), 0.6) == 0.875);  // all but 1 - 1e-5 - 9.99e-6
  CHECK(gate_sparsity(Tensor::from_vector<double>({2, 4}, g), 0.0) == 0.0);
  CHECK(std::isnan(gate_sparsity(Tensor::zeros({0, 4}))));
  CHECK_METRIC_ERROR(gate_sparsity(Tensor::zeros({8})), "gate_sparsity: expected gate weights [B, n], got [8]");
  CHECK_METRIC_ERROR(gate_sparsity(Tensor::from_vector<double>({1, 2}, {0.5, NAN})),
                     "gate_sparsity: gate weight 1 of 2 is NaN");
}

TEST_CASE("TaskScores: appends mini-batches of any shape and keeps the observed entries") {
  TaskScores ts;
  const Tensor mask = Tensor::from_vector<float>({2, 1}, {1, 0});
  ts.append(Tensor::from_vector<float>({2, 1}, {0.5f, -1}), Tensor::from_vector<float>({2, 1}, {1, 0}), &mask);
  ts.append(Tensor::from_vector<double>({1}, {2}), Tensor::from_vector<double>({1}, {0}));
  CHECK(ts.size() == 3);
  CHECK(ts.score == V{0.5, -1, 2});
  CHECK(ts.mask == V{1, 0, 1});
  const TaskScores seen = ts.observed();
  CHECK(seen.score == V{0.5, 2});
  CHECK(seen.label == V{1, 0});
  CHECK(roc_auc(seen.score, seen.label) == 0.0);
  CHECK_METRIC_ERROR(ts.append(Tensor::zeros({3}), Tensor::zeros({2})),
                     "TaskScores::append: score has 3 entries but label has 2");
  ts.clear();
  CHECK(ts.size() == 0);
}

}  // namespace
}  // namespace comet::train
