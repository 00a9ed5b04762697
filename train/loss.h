// The training objective of a batch: per task, the loss its kind calls for (spec comet.md 6.3) — BCE with logits
// (binary), MSE over the observed targets (regression; the mask of data::Dataset marks them), cross-entropy over
// the class logits (multiclass) — and their weighted sum. Test: tests/train/test_loss.cpp.
#pragma once
#include <vector>

#include "autograd/ops.h"
#include "data/dataset.h"

namespace comet::train {

struct TaskLoss {
  ag::Var mean;  // 0-d: the mean over the counted targets (0 when there are none)
  double count;  // targets counted: the batch rows, or the observed ones of a masked regression task
};

// Task t of `batch` against `prediction` [B, 1] (binary, regression) or [B, classes] (multiclass).
TaskLoss task_loss(const data::Dataset& batch, size_t t, const ag::Var& prediction);

// Per task (loss sum, targets counted) = (mean * count, count): the form that adds up over row subsets (the swap
// pass scores swaps on the rows they change).
std::vector<std::pair<double, double>> task_sums(const data::Dataset& batch, const std::vector<ag::Var>& predictions);

// sum_t weights[t] * task_loss(t).mean.
ag::Var multitask_loss(const std::vector<ag::Var>& predictions, const data::Dataset& batch,
                       const std::vector<double>& weights);

}  // namespace comet::train
