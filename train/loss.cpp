// Task losses.
#include "train/loss.h"

#include "autograd/device.h"

namespace comet::train {
namespace {

// Column t of a [B, T] f32 tensor as [B, 1].
Tensor column(const Tensor& m, size_t t) {
  const int64_t B = m.dim(0), T = m.dim(1);
  Tensor c = Tensor::empty({B, 1});
  for (int64_t b = 0; b < B; ++b) c.data<float>()[b] = m.data<float>()[b * T + static_cast<int64_t>(t)];
  return c;
}

Tensor labels(const Tensor& target_column) {
  Tensor l = Tensor::empty({target_column.dim(0)}, DType::I64);
  for (int64_t b = 0; b < target_column.dim(0); ++b)
    l.data<int64_t>()[b] = static_cast<int64_t>(target_column.data<float>()[b]);
  return l;
}

}  // namespace

TaskLoss task_loss(const data::Dataset& batch, size_t t, const ag::Var& prediction) {
  COMET_CHECK(t < batch.tasks.size(), "task_loss: task {} of {}", t, batch.tasks.size());
  const data::TaskSpec& task = batch.tasks[t];
  const int64_t B = batch.rows();
  const int64_t outputs = task.kind == data::TaskKind::Multiclass ? task.classes : 1;
  COMET_CHECK(prediction.shape() == Shape({B, outputs}), "task_loss: task '{}' ({}) needs predictions [{}, {}], got {}",
              task.name, data::task_kind_name(task.kind), B, outputs, shape_str(prediction.shape()));
  const Tensor target = column(batch.targets, t);
  // The data's f32 targets in the prediction's dtype (an f64 model, e.g. under a gradient check) and on its device.
  const ag::Var target_var = ag::constant(ag::copy_to(target.to(prediction.dtype()), prediction.value().device()));
  switch (task.kind) {
    case data::TaskKind::Binary:
      return {ag::bce_with_logits(prediction, target_var), static_cast<double>(B)};
    case data::TaskKind::Multiclass:
      return {ag::cross_entropy(prediction, labels(target)), static_cast<double>(B)};
    case data::TaskKind::Regression:
      if (!batch.mask.defined()) return {ag::mse(prediction, target_var), static_cast<double>(B)};
      const Tensor mask = column(batch.mask, t);
      double observed = 0;
      for (int64_t b = 0; b < B; ++b) observed += mask.data<float>()[b];
      return {ag::masked_mse(prediction, target_var, mask), observed};
  }
  throw Error("task_loss: unknown task kind");
}

std::vector<std::pair<double, double>> task_sums(const data::Dataset& batch, const std::vector<ag::Var>& predictions) {
  COMET_CHECK(predictions.size() == batch.tasks.size(), "task_sums: {} predictions for {} tasks", predictions.size(),
              batch.tasks.size());
  std::vector<std::pair<double, double>> sums;
  for (size_t t = 0; t < predictions.size(); ++t) {
    const TaskLoss l = task_loss(batch, t, predictions[t]);
    sums.emplace_back(ag::host_item(l.mean.value()) * l.count, l.count);
  }
  return sums;
}

ag::Var multitask_loss(const std::vector<ag::Var>& predictions, const data::Dataset& batch,
                       const std::vector<double>& weights) {
  COMET_CHECK(predictions.size() == batch.tasks.size() && weights.size() == batch.tasks.size(),
              "multitask_loss: {} predictions and {} weights for {} tasks", predictions.size(), weights.size(),
              batch.tasks.size());
  ag::Var loss;
  for (size_t t = 0; t < predictions.size(); ++t) {
    const ag::Var term = ag::scale(task_loss(batch, t, predictions[t]).mean, weights[t]);
    loss = loss.defined() ? ag::add(loss, term) : term;
  }
  return loss;
}

}  // namespace comet::train
