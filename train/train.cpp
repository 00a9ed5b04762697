// MMoE training loop.
#include "train/train.h"

#include <chrono>
#include <cmath>
#include <filesystem>

#include "autograd/device.h"
#include "core/mutation.h"
#include "train/checkpoint.h"
#include "train/loss.h"
#include "optim/optimizer.h"

namespace comet::train {
namespace {

void check_data(const char* split, const data::Dataset& d, const models::Mmoe& model) {
  d.validate(fmt::format("train_mmoe: {} data", split));
  const models::MmoeConfig& c = model.config();
  COMET_CHECK(static_cast<int>(d.tasks.size()) == c.tasks() && d.dense_dim() == c.dense_dim &&
                  (c.embedding_dim == 0 || d.vocab == c.id_vocab),
              "train_mmoe: {} data ({} tasks, {} dense features, vocabularies {}) do not fit a model with {} tasks, "
              "{} dense features and vocabularies {}", split, d.tasks.size(), d.dense_dim(), shape_str(d.vocab),
              c.tasks(), c.dense_dim, shape_str(c.id_vocab));
}

// The settings a resumed run must share with the run that wrote the checkpoint.
std::string run_description(const TrainConfig& cfg, const data::Dataset& train, const data::Dataset& val) {
  // idle_experts=skip only when on, so that checkpoints written before the option existed still resume.
  return fmt::format("batch={} lr={} seed={} task_weights={} patience={} restore_best={} swap_samples={} "
                     "swap_max_moves={} train_rows={} val_rows={} {}{}",
                     cfg.batch, cfg.lr, cfg.seed, fmt::join(cfg.task_weights, ","), cfg.patience ? *cfg.patience : -1,
                     cfg.restore_best, cfg.swap_samples, cfg.swap_max_moves, train.rows(), val.rows(), cfg.run_tag,
                     cfg.skip_idle_experts ? " idle_experts=skip" : "");
}

// Stops a diverging run before the optimizer writes non-finite values, naming the step and the first parameter
// (in named_params() order) whose gradient is not finite.
void check_step(models::Mmoe& model, const ag::Var& loss, int epoch, int64_t batch, int64_t batches) {
  const double value = ag::host_item(loss.value());
  const auto named = model.named_params();
  std::vector<Tensor> grads;
  for (auto& [name, p] : named) grads.push_back(p.grad());
  const int64_t first = ag::first_non_finite(grads);  // one wait for a device, not one per gradient
  const std::string culprit = first < 0 ? std::string() : named[static_cast<size_t>(first)].first;
  if ((std::isfinite(value) && culprit.empty()) || COMET_MUTANT(divergence_unchecked)) return;
  throw Error(fmt::format("train_mmoe: training diverged at epoch {}, batch {} of {}: the loss is {}{}; the last "
                          "checkpoint (if any) is from before this epoch. Lower the learning rate?",
                          epoch, batch + 1, batches, value,
                          culprit.empty() ? "" : fmt::format(", and the gradient of '{}' is not finite", culprit)));
}

// The indices in params() of the experts' parameters (named "experts.*"; their first dimension is the expert).
std::vector<size_t> expert_param_indices(models::Mmoe& model) {
  std::vector<size_t> out;
  const auto named = model.named_params();
  for (size_t i = 0; i < named.size(); ++i)
    if (named[i].first.rfind("experts.", 0) == 0) out.push_back(i);
  return out;
}

// The validation metrics of the best epoch: its report, or, when it came before the epoch this call resumed from,
// the best weights evaluated again (the same numbers at the same thread count; the model is left as it was).
Evaluation best_validation(models::Mmoe& model, const data::Dataset& val, const TrainConfig& cfg,
                           const TrainProgress& progress, const std::vector<EpochReport>& reports) {
  for (const EpochReport& r : reports)
    if (r.epoch == progress.best_epoch) return r.val;
  const io::NamedTensors current = model_state(model);
  restore_model_state(model, progress.best_state);
  Evaluation best = evaluate(model, val, cfg.task_weights, cfg.eval_batch);
  restore_model_state(model, current);
  return best;
}

}  // namespace

TrainResult train_mmoe(models::Mmoe& model, const data::Dataset& train, const data::Dataset& val,
                       const TrainConfig& cfg, const EpochCallback& on_epoch) {
  COMET_CHECK(cfg.epochs >= 0 && cfg.batch >= 1 && cfg.batch <= train.rows(),
              "train_mmoe: need epochs >= 0 and 1 <= batch <= {} training samples (got {} and {})", train.rows(),
              cfg.epochs, cfg.batch);
  COMET_CHECK(!cfg.patience || *cfg.patience >= 1, "train_mmoe: patience must be >= 1, got {}", *cfg.patience);
  COMET_CHECK(cfg.task_weights.size() == static_cast<size_t>(model.config().tasks()),
              "train_mmoe: {} task weights for {} tasks", cfg.task_weights.size(), model.config().tasks());
  check_data("training", train, model);
  check_data("validation", val, model);
  optim::Adam opt(model.params(), optim::constant_lr(cfg.lr));
  const std::vector<size_t> expert_params = expert_param_indices(model);
  for (size_t i : expert_params) {
    if (cfg.skip_idle_experts) opt.split_blocks(i, model.config().gate.experts);
    if (cfg.fused_expert_update) opt.update_in_backward(i);
  }
  Generator shuffle(cfg.seed);
  const std::string run = run_description(cfg, train, val);
  TrainProgress progress;
  if (!cfg.checkpoint.empty() && std::filesystem::exists(cfg.checkpoint)) {
    progress = load_training_checkpoint(cfg.checkpoint, model, opt, run);
    shuffle.seek(progress.shuffle_offset);
  }
  // The swap pass scores on a held-out slice of the training data: its last rows, kept out of the batches.
  const bool swap = model.config().local_search == models::LocalSearch::Swap;
  const int64_t held_out = swap ? std::min<int64_t>(cfg.swap_samples, train.rows() - cfg.batch) : 0;
  const int64_t n = train.rows() - held_out;
  const data::Dataset probe = data::slice(train, n, train.rows());
  const auto probe_loss = [&](const Tensor& rows, const std::vector<ag::Var>& predictions) {
    return task_sums(data::gather(probe, rows), predictions);
  };
  const int64_t batches = n / cfg.batch;

  TrainResult result;
  EpochReport first;
  first.epoch = static_cast<int>(progress.epoch);
  first.before_training = true;
  first.val = evaluate(model, val, cfg.task_weights, cfg.eval_batch);
  if (progress.epoch == 0) {
    progress.best_epoch = 0;
    progress.best_loss = first.val.loss;
    progress.best_state = model_state(model);
    first.best = true;
  }
  result.reports.push_back(first);
  if (on_epoch) on_epoch(result.reports.back());
  for (int epoch = static_cast<int>(progress.epoch) + 1; epoch <= cfg.epochs; ++epoch) {
    if (cfg.patience && epoch - progress.best_epoch > *cfg.patience) {
      result.stopped_early = true;
      break;
    }
    const auto t0 = std::chrono::steady_clock::now();
    const auto order = shuffle.permutation(n);
    double total = 0;
    for (int64_t b = 0; b < batches; ++b) {
      const Tensor idx = Tensor::from_vector<int64_t>(
          {cfg.batch}, {order.begin() + b * cfg.batch, order.begin() + (b + 1) * cfg.batch});
      const data::Dataset batch = data::gather(train, idx);
      const models::MmoeOutput out = model.forward(models::model_input(batch), true);
      const ag::Var task_loss = multitask_loss(out.predictions, batch, cfg.task_weights);
      const ag::Var loss = moe::add_defined(task_loss, out.regularization);
      opt.zero_grad();
      if (cfg.skip_idle_experts) {  // marked before backward, where a fused update reads them
        const std::vector<uint8_t> active = moe::experts_with_rows(out.gate_weights);
        for (size_t i : expert_params) opt.set_active_blocks(i, active);
      }
      ag::backward(loss);
      check_step(model, loss, epoch, b, batches);
      opt.step();
      total += ag::host_item(task_loss.value());
      if (cfg.on_batch) cfg.on_batch(b + 1, batches);
    }
    int moves = 0;
    if (swap && held_out > 0)
      moves = model.swap_pass(models::model_input(probe), probe_loss, cfg.task_weights, cfg.swap_max_moves).moves;
    EpochReport r;
    r.epoch = epoch;
    r.val = evaluate(model, val, cfg.task_weights, cfg.eval_batch);
    r.train_loss = total / static_cast<double>(batches);
    r.swap_moves = moves;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (r.val.loss < progress.best_loss) {
      progress.best_epoch = epoch;
      progress.best_loss = r.val.loss;
      progress.best_state = model_state(model);
      r.best = true;
    }
    progress.epoch = epoch;
    progress.shuffle_offset = shuffle.offset();
    if (!cfg.checkpoint.empty()) save_training_checkpoint(cfg.checkpoint, model, opt, progress, run);
    result.reports.push_back(r);
    if (on_epoch) on_epoch(r);
  }
  result.best_epoch = static_cast<int>(progress.best_epoch);
  result.best_val = best_validation(model, val, cfg, progress, result.reports);
  // The best state includes the slot permutation (a learned one's hard permutation and window position, the swap
  // pass's fixed one): the best weights under the last epoch's permutation would be another model.
  if (cfg.restore_best && !progress.best_state.empty()) restore_model_state(model, progress.best_state);
  return result;
}

}  // namespace comet::train
