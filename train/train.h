// Training loop of the multi-task MoE on in-memory splits: shuffled mini-batches, Adam, the task-weighted loss
// (train/loss.h) plus the gates' and the permutation's regularisers; after every epoch a mini-batch evaluation on
// the validation split (train/evaluate.h), the discrete swap pass when the model uses it, and early stopping on the
// task-weighted validation loss (patience; the best weights restored at the end). Deterministic for a fixed seed
// and thread count; a training checkpoint resumes a run exactly. Test: tests/train/test_train_mmoe.cpp.
#pragma once
#include <functional>
#include <optional>
#include <vector>

#include "data/dataset.h"
#include "models/mmoe.h"
#include "train/evaluate.h"

namespace comet::train {

struct TrainConfig {
  int epochs = 20;
  int64_t batch = 256;
  // Rows per evaluation batch. The experts run at once on every pair that some gate routes (up to k pairs per row
  // and gate), so this bounds evaluation's activations. Peak resident memory of one epoch (AMD Zen 5, 2 threads):
  // MovieLens 192 / 137 / 134 MB at 4096 / 2048 / 1024 rows, MultiFashionMNIST 651 / 567 MB at 2048 / 1024, each
  // at the same speed.
  int64_t eval_batch = 1024;
  double lr = 1e-3;
  uint64_t seed = 1;
  std::vector<double> task_weights{0.5, 0.5};
  // Early stopping: stop after this many epochs without a lower validation loss. Unset: train every epoch.
  std::optional<int> patience;
  bool restore_best = false;  // end with the weights of the epoch with the lowest validation loss
  int64_t swap_samples = 1024;  // swap pass: rows held out at the end of the training split to score on
  int swap_max_moves = 8;
  // Idle experts: skip the Adam update of every expert that received no rows in a step (no gate gave it a non-zero
  // weight), as PyTorch's per-expert dispatch does, where such an expert's gradient is None. Its weights and Adam
  // moments stay as they are and it counts its own steps for the bias correction. Off (the default): every expert is
  // updated every step, and an idle one keeps moving by its momentum.
  bool skip_idle_experts = false;
  // Fused update: the experts' parameters are updated inside the backward pass, as soon as their gradients are
  // complete (Optimizer::update_in_backward), with the same bits as the separate step; their gradients are released
  // early. No gradient clipping or accumulation can apply to them (this loop does neither).
  bool fused_expert_update = false;
  // A training checkpoint (train/checkpoint.h) written after every epoch. When the file exists at the start, training
  // resumes from it and continues up to `epochs`, with the same numbers as an uninterrupted run; it must have been
  // written for the same model and the same run (the fields above except epochs, the data's row counts, run_tag).
  std::string checkpoint;
  std::string run_tag;  // anything else a resume must match (the data's origin, settings outside this struct)
  // Called after every training batch with (batches done, batches per epoch): progress display.
  std::function<void(int64_t, int64_t)> on_batch;
};

struct EpochReport {
  int epoch = 0;               // epochs completed
  bool before_training = false;  // the evaluation before this call trained (epoch 0, or a resumed epoch)
  double train_loss = 0;       // mean task-weighted loss over the epoch's batches (without regularisers)
  Evaluation val;
  bool best = false;           // the lowest validation loss so far
  int swap_moves = 0;
  double seconds = 0;
};

struct TrainResult {
  std::vector<EpochReport> reports;  // the first before training (epoch 0, or the epoch resumed from)
  int best_epoch = 0;
  Evaluation best_val;  // the best epoch's validation metrics (that epoch may come before a resumed call's reports)
  bool stopped_early = false;
};

using EpochCallback = std::function<void(const EpochReport&)>;

// Trains in place. on_epoch runs after each report (e.g. to log it, or to save the model when report.best).
TrainResult train_mmoe(models::Mmoe& model, const data::Dataset& train, const data::Dataset& val,
                       const TrainConfig& cfg, const EpochCallback& on_epoch = {});

}  // namespace comet::train
