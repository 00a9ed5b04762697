// Evaluation metrics of the experiments (spec §6.5): exact ROC AUC, binary and multiclass accuracy, masked MSE,
// binary cross-entropy from logits, and the gate sparsity the paper logs; plus an accumulator of per-batch scores.
// Labels of binary tasks are 0/1. A NaN in an entry that counts is an error everywhere; ROC AUC also refuses ±inf
// scores, as scikit-learn does. Errors name the function and the sizes. Test: tests/train/test_metrics.cpp.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace comet::train {

// Exact area under the ROC curve: the Mann–Whitney U statistic over (#positives × #negatives), where a positive
// scored above a negative counts 1 and a tie counts 1/2 (the rank-sum with tied scores given their average rank).
// O(N log N); the count is kept in integers (exact), so the only rounding is the final division. Throws when sizes
// differ, when a class is absent (naming both counts), on a non-finite score or a label other than 0/1.
double roc_auc(const std::vector<double>& scores, const std::vector<double>& labels);

// Share of samples whose prediction (logit > 0 predicts 1) equals the 0/1 label. NaN when there are no samples.
double binary_accuracy(const std::vector<double>& logits, const std::vector<double>& labels);

// Share of rows of logits [N, C] (f32 or f64) whose argmax equals the label in [0, C); ties go to the lowest class.
// NaN when N = 0.
double multiclass_accuracy(const Tensor& logits, const std::vector<int64_t>& labels);

// Mean of (pred - target)^2 over the entries whose mask is 1 (all entries without a mask); mask entries are 0 or 1,
// and masked-out entries are not read. Returns NaN when no entry counts (an empty input or an all-zero mask);
// nlohmann::json writes that NaN as null.
double mean_squared_error(const std::vector<double>& pred, const std::vector<double>& target,
                          const std::vector<double>* mask = nullptr);

// Mean binary cross-entropy of 0/1 labels given logits z, computed stably as max(z, 0) - z y + log(1 + e^-|z|).
// NaN when there are no samples.
double binary_cross_entropy_with_logits(const std::vector<double>& logits, const std::vector<double>& labels);

// Share of the entries of the gate weights g [B, n] (f32 or f64) strictly below `threshold`, as the paper logs
// sparsity (threshold 1e-5). Compared in g's precision (an f32 g against float(threshold), as TensorFlow compares
// float32 tensors), so a weight equal to the threshold is never counted. NaN when g has no entries.
double gate_sparsity(const Tensor& g, double threshold = 1e-5);

// One task's outputs gathered over evaluation mini-batches. append() takes three tensors with the same number of
// elements (any shape, f32 or f64): the model's output (logit or prediction), the target and the mask (1 = observed);
// without a mask every entry counts. observed() keeps the entries whose mask is 1.
struct TaskScores {
  std::vector<double> score, label, mask;

  void append(const Tensor& score, const Tensor& label, const Tensor* mask = nullptr);
  void clear();
  size_t size() const { return score.size(); }
  // The scores and labels of the observed entries (for roc_auc and the accuracies, which take no mask).
  TaskScores observed() const;
};

}  // namespace comet::train
