// Checkpoints of a multi-task MoE as safetensors files (readable by PyTorch users' tools).
// Model checkpoints: every named parameter (models::Mmoe::named_params), the slot permutation ("permutation.hard" i64 [n],
// "permutation.step" i64 [1]) and the model configuration in the metadata ("architecture").
// Training checkpoints add what an exact resume needs, every such tensor named "train.<...>": the optimizer's step
// count and state buffers ("train.optimizer.step", "train.optimizer.<parameter name>.<slot>", e.g. Adam's m and v),
// the epochs done and the position of the batch-shuffling generator ("train.epoch", "train.shuffle_offset"), the
// best epoch so far, its validation loss and model state ("train.best_epoch", "train.best_loss",
// "train.best.<model tensor name>"), the
// noise generators of noisy Top-k gates ("train.task<t>.gate.noise_offset"), the experts' dropout generator
// ("train.dropout_offset"); and a description of the run in the
// metadata ("run": seed, batch, learning rate, data) that a resume must match. load_checkpoint reads the model part
// of either kind.
// Loading checks everything before changing anything: another architecture or run, a missing, extra or misshapen
// tensor is an error naming it, and the model and optimizer are left unchanged.
// Writes are atomic (temporary file + rename). Test: tests/train/test_checkpoint.cpp.
#pragma once
#include <string>

#include "core/io/safetensors.h"
#include "models/mmoe.h"
#include "optim/optimizer.h"

namespace comet::train {

void save_checkpoint(const std::string& path, models::Mmoe& model);
// The model configuration a checkpoint (model or training) was written for: a model can be rebuilt from the file
// alone, then loaded with load_checkpoint.
models::MmoeConfig read_model_config(const std::string& path);
void load_checkpoint(const std::string& path, models::Mmoe& model);

struct TrainProgress {
  int64_t epoch = 0;            // epochs completed
  uint64_t shuffle_offset = 0;  // Generator::offset() of the batch shuffling after those epochs
  int64_t best_epoch = 0;       // the epoch with the lowest validation loss so far, its loss and its model state
  double best_loss = 0;         // (model_state()): early stopping and restoring the best model
  io::NamedTensors best_state;
};

// A copy of the model's state: every named parameter and the slot permutation ("permutation.hard",
// "permutation.step"), which a model checkpoint holds too.
io::NamedTensors model_state(models::Mmoe& model);
// Puts a model_state() back (names and shapes checked, the model unchanged on error).
void restore_model_state(models::Mmoe& model, const io::NamedTensors& state);

// `opt` must be the optimizer over model.params() (in that order).
void save_training_checkpoint(const std::string& path, models::Mmoe& model, optim::Optimizer& opt,
                              const TrainProgress& progress, const std::string& run);
TrainProgress load_training_checkpoint(const std::string& path, models::Mmoe& model, optim::Optimizer& opt,
                                       const std::string& run);

}  // namespace comet::train
