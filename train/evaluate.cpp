// Mini-batch evaluation.
#include "train/evaluate.h"

#include <cmath>

#include "autograd/device.h"
#include "train/loss.h"
#include "train/metrics.h"

namespace comet::train {
namespace {

// Sums over the batches of one task.
struct TaskSums {
  double loss = 0, count = 0, correct = 0;
  std::vector<double> logits, labels;  // binary tasks: every row, for the exact ROC AUC
};

// Counts over the batches of one gate.
struct GateSums {
  int64_t samples = 0, pairs = 0, within_k = 0, below = 0, entries = 0;
  std::vector<int64_t> usage;
};

void add_task(TaskSums& s, const data::Dataset& batch, size_t t, const ag::Var& prediction) {
  const TaskLoss l = task_loss(batch, t, prediction);
  s.loss += ag::host_item(l.mean.value()) * l.count;
  s.count += l.count;
  const data::TaskSpec& task = batch.tasks[t];
  const Tensor p = ag::copy_to(prediction.value(), Device::CPU);
  const int64_t B = batch.rows(), T = static_cast<int64_t>(batch.tasks.size());
  const float* y = batch.targets.data<float>();
  if (task.kind == data::TaskKind::Binary) {
    for (int64_t b = 0; b < B; ++b) {
      s.logits.push_back(p.item(b));  // f32 or f64 predictions
      s.labels.push_back(y[b * T + static_cast<int64_t>(t)]);
    }
  } else if (task.kind == data::TaskKind::Multiclass) {
    std::vector<int64_t> labels(static_cast<size_t>(B));
    for (int64_t b = 0; b < B; ++b) labels[b] = static_cast<int64_t>(y[b * T + static_cast<int64_t>(t)]);
    s.correct += static_cast<double>(std::llround(multiclass_accuracy(p, labels) * static_cast<double>(B)));
  }
}

void add_gate(GateSums& s, const Tensor& weights, int64_t k) {
  const Tensor g = ag::copy_to(weights, Device::CPU);
  const moe::SampleRouting r = moe::sample_routing(g);
  s.usage.resize(static_cast<size_t>(g.dim(1)), 0);
  s.samples += r.samples();
  s.pairs += static_cast<int64_t>(r.expert.size());
  for (int64_t b = 0; b < r.samples(); ++b) s.within_k += r.count(b) <= k;
  for (int64_t e : r.expert) ++s.usage[e];
  s.below += std::llround(gate_sparsity(g) * static_cast<double>(g.numel()));
  s.entries += g.numel();
}

TaskMetrics finish(const TaskSums& s, const data::TaskSpec& task, int64_t rows) {
  TaskMetrics m;
  m.name = task.name;
  m.kind = task.kind;
  m.loss = s.count > 0 ? s.loss / s.count : 0.0;
  if (task.kind == data::TaskKind::Binary) {
    m.accuracy = binary_accuracy(s.logits, s.labels);
    double positives = 0;
    for (double l : s.labels) positives += l;
    if (positives > 0 && positives < static_cast<double>(s.labels.size())) m.auc = roc_auc(s.logits, s.labels);
  } else if (task.kind == data::TaskKind::Multiclass) {
    m.accuracy = rows ? s.correct / static_cast<double>(rows) : 0.0;
  } else {
    m.mse = m.loss;
  }
  return m;
}

GateMetrics finish(const GateSums& s) {
  GateMetrics m;
  m.routing.experts_per_sample = s.samples ? static_cast<double>(s.pairs) / s.samples : 0.0;
  m.routing.within_k = s.samples ? static_cast<double>(s.within_k) / s.samples : 0.0;
  for (int64_t u : s.usage) m.routing.usage.push_back(s.pairs ? static_cast<double>(u) / s.pairs : 0.0);
  m.sparsity = s.entries ? static_cast<double>(s.below) / s.entries : 0.0;
  return m;
}

}  // namespace

Evaluation evaluate(models::Mmoe& model, const data::Dataset& split, const std::vector<double>& task_weights,
                    int64_t batch) {
  COMET_CHECK(batch >= 1 && split.rows() >= 1, "evaluate: need batch >= 1 and a non-empty split (got {} and {} rows)",
              batch, split.rows());
  COMET_CHECK(task_weights.size() == split.tasks.size(), "evaluate: {} task weights for {} tasks",
              task_weights.size(), split.tasks.size());
  ag::NoGradGuard no_grad;
  std::vector<TaskSums> tasks(split.tasks.size());
  std::vector<GateSums> gates(static_cast<size_t>(model.gate_count()));
  for (int64_t begin = 0; begin < split.rows(); begin += batch) {
    const data::Dataset part = data::slice(split, begin, std::min(split.rows(), begin + batch));
    const models::MmoeOutput out = model.forward(models::model_input(part), false);
    for (size_t t = 0; t < tasks.size(); ++t) add_task(tasks[t], part, t, out.predictions[t]);
    for (size_t g = 0; g < gates.size(); ++g) add_gate(gates[g], out.gate_weights[g], model.config().gate.k);
  }
  Evaluation e;
  for (size_t t = 0; t < tasks.size(); ++t) {
    e.tasks.push_back(finish(tasks[t], split.tasks[t], split.rows()));
    e.loss += task_weights[t] * e.tasks.back().loss;
  }
  for (const GateSums& g : gates) e.gates.push_back(finish(g));
  return e;
}

}  // namespace comet::train
