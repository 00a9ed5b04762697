// MMoE training loop.
#include "train/train.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "train/checkpoint.h"
#include "optim/optimizer.h"

namespace comet::train {
namespace {

EpochReport evaluate(models::Mmoe& model, const data::MultiTaskData& val, int epoch) {
  ag::NoGradGuard no_grad;
  EpochReport r;
  r.epoch = epoch;
  const models::MmoeOutput out = model.forward(ag::constant(val.x), val.keys, false);
  for (size_t t = 0; t < out.predictions.size(); ++t) {
    std::vector<double> one(out.predictions.size(), 0.0);
    one[t] = 1.0;
    r.val_loss.push_back(models::multitask_loss(out, val.targets, one, false).value().item());
    r.routing.push_back(moe::routing_stats(out.gate_weights[t], model.config().gate.k));
  }
  return r;
}

// Throws, naming the split, the tensor and the position, unless every value of t is finite.
void check_finite(const char* split, const char* what, const Tensor& t) {
  const float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    COMET_CHECK(std::isfinite(p[i]), "train_mmoe: {} {} has a non-finite value ({}) at row {}, column {}", split, what,
                p[i], i / t.cols(), i % t.cols());
}

void check_data(const char* split, const data::MultiTaskData& d, const models::Mmoe& model) {
  const models::MmoeConfig& c = model.config();
  COMET_CHECK(d.x.ndim() == 2 && d.x.dim(1) == c.input_dim && d.targets.shape() == Shape({d.x.dim(0), c.tasks}),
              "train_mmoe: {} data x {} and targets {} do not fit a model with {} inputs and {} tasks", split,
              shape_str(d.x.shape()), shape_str(d.targets.shape()), c.input_dim, c.tasks);
  check_finite(split, "x", d.x);
  check_finite(split, "targets", d.targets);
}

// The settings a resumed run must share with the run that wrote the checkpoint.
std::string run_description(const TrainConfig& cfg, const data::MultiTaskData& train, const data::MultiTaskData& val) {
  std::string weights;
  for (double w : cfg.task_weights) weights += fmt::format("{}{}", weights.empty() ? "" : ",", w);
  return fmt::format("batch={} lr={} seed={} task_weights={} swap_samples={} swap_max_moves={} train_rows={} "
                     "val_rows={} {}",
                     cfg.batch, cfg.lr, cfg.seed, weights, cfg.swap_samples, cfg.swap_max_moves, train.x.dim(0),
                     val.x.dim(0), cfg.run_tag);
}

}  // namespace

std::vector<EpochReport> train_mmoe(models::Mmoe& model, const data::MultiTaskData& train, const data::MultiTaskData& val,
                                    const TrainConfig& cfg, const EpochCallback& on_epoch) {
  COMET_CHECK(cfg.epochs >= 0 && cfg.batch >= 1 && cfg.batch <= train.x.dim(0),
              "train_mmoe: need epochs >= 0 and 1 <= batch <= {} training samples (got {} and {})", train.x.dim(0),
              cfg.epochs, cfg.batch);
  COMET_CHECK(cfg.task_weights.size() == static_cast<size_t>(model.config().tasks),
              "train_mmoe: {} task weights for {} tasks", cfg.task_weights.size(), model.config().tasks);
  check_data("training", train, model);
  check_data("validation", val, model);
  optim::Adam opt(model.params(), optim::constant_lr(cfg.lr));
  Generator shuffle(cfg.seed);
  const std::string run = run_description(cfg, train, val);
  int done = 0;  // epochs completed before this call
  if (!cfg.checkpoint.empty() && std::filesystem::exists(cfg.checkpoint)) {
    const TrainProgress progress = load_training_checkpoint(cfg.checkpoint, model, opt, run);
    done = static_cast<int>(progress.epoch);
    shuffle.seek(progress.shuffle_offset);
  }
  // The swap pass scores on a held-out data::slice of the training data: its last rows, kept out of the batches.
  const bool swap = model.config().local_search == models::LocalSearch::Swap;
  const int64_t held_out = swap ? std::min<int64_t>(cfg.swap_samples, train.x.dim(0) - cfg.batch) : 0;
  const int64_t n = train.x.dim(0) - held_out;
  const data::MultiTaskData probe = data::slice(train, n, train.x.dim(0));
  std::vector<EpochReport> reports{evaluate(model, val, done)};
  reports.back().before_training = true;
  if (on_epoch) on_epoch(reports.back());
  for (int epoch = done + 1; epoch <= cfg.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto order = shuffle.permutation(n);
    double total = 0;
    int64_t batches = 0;
    for (int64_t b = 0; b + cfg.batch <= n; b += cfg.batch, ++batches) {
      const Tensor idx = Tensor::from_vector<int64_t>({cfg.batch}, {order.begin() + b, order.begin() + b + cfg.batch});
      data::MultiTaskData batch = data::gather(train, idx);
      const models::MmoeOutput out = model.forward(ag::constant(batch.x), batch.keys, true);
      const ag::Var task_loss = models::multitask_loss(out, batch.targets, cfg.task_weights, false);
      const ag::Var loss = moe::add_defined(task_loss, out.regularization);
      opt.zero_grad();
      ag::backward(loss);
      opt.step();
      total += task_loss.value().item();
    }
    int moves = 0;
    if (swap && held_out > 0) {
      moves = static_cast<int>(model.swap_pass(probe.x, probe.keys, probe.targets, cfg.task_weights,
                                               cfg.swap_max_moves).size()) - 1;
    }
    EpochReport r = evaluate(model, val, epoch);
    r.train_loss = total / static_cast<double>(batches);
    r.swap_moves = moves;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!cfg.checkpoint.empty())
      save_training_checkpoint(cfg.checkpoint, model, opt, {epoch, shuffle.offset()}, run);
    reports.push_back(r);
    if (on_epoch) on_epoch(r);
  }
  return reports;
}

}  // namespace comet::train
