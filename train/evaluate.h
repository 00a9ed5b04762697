// Evaluation of a model on a split, in mini-batches (memory flat in the split's size): per task the loss and the
// metrics of its kind (binary: ROC AUC and accuracy; regression: MSE over observed targets; multiclass: accuracy),
// the task-weighted loss, and per gate the routing (experts per sample, share within k, expert usage) and the
// paper's sparsity (share of gate entries below 1e-5). Test: tests/train/test_evaluate.cpp.
#pragma once
#include <optional>
#include <vector>

#include "data/dataset.h"
#include "models/mmoe.h"

namespace comet::train {

struct TaskMetrics {
  std::string name;
  data::TaskKind kind = data::TaskKind::Regression;
  double loss = 0;
  std::optional<double> auc, accuracy, mse;
};

struct GateMetrics {
  moe::RoutingStats routing;
  double sparsity = 0;  // share of g's entries below 1e-5
};

struct Evaluation {
  double loss = 0;  // sum_t w_t loss_t
  std::vector<TaskMetrics> tasks;
  std::vector<GateMetrics> gates;
};

Evaluation evaluate(models::Mmoe& model, const data::Dataset& split, const std::vector<double>& task_weights,
                    int64_t batch = 4096);

}  // namespace comet::train
