// Training loop of the multi-task MoE on an in-memory data set: shuffled mini-batches, Adam, the multi-task loss
// plus the gates' and the permutation's regularisers, per-epoch validation and routing statistics, and the
// discrete swap pass when the model uses it. Deterministic for a fixed seed and thread count.
// Test: tests/train/test_train_mmoe.cpp.
#pragma once
#include <functional>
#include <vector>

#include "models/mmoe.h"
#include "data/synthetic.h"

namespace comet::train {

struct TrainConfig {
  int epochs = 20;
  int64_t batch = 256;
  double lr = 1e-3;
  uint64_t seed = 1;
  std::vector<double> task_weights{0.5, 0.5};
  int64_t swap_samples = 1024;  // swap pass: rows held out at the end of the training split to score on
  int swap_max_moves = 8;
  // A training checkpoint (train/checkpoint.h) written after every epoch. When the file exists at the start, training
  // resumes from it and continues up to `epochs`, with the same numbers as an uninterrupted run; it must have been
  // written for the same model architecture and the same run (the fields above except epochs, the data's row
  // counts, and run_tag).
  std::string checkpoint;
  std::string run_tag;  // anything else a resume must match (the data's origin, settings outside this struct)
};

struct EpochReport {
  int epoch = 0;                          // epochs completed
  bool before_training = false;           // the evaluation before this call trained (epoch 0, or a resumed epoch)
  double train_loss = 0;                  // mean task loss over the epoch's batches (without regularisers)
  std::vector<double> val_loss;           // per task
  std::vector<moe::RoutingStats> routing;      // per gate, on the validation split, evaluation mode
  int swap_moves = 0;
  double seconds = 0;
};

using EpochCallback = std::function<void(const EpochReport&)>;

// Trains in place; returns one report per epoch, the first before training (epoch 0, or the epoch resumed from).
std::vector<EpochReport> train_mmoe(models::Mmoe& model, const data::MultiTaskData& train, const data::MultiTaskData& val,
                                    const TrainConfig& cfg, const EpochCallback& on_epoch = {});

}  // namespace comet::train
