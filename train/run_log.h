// A run directory: what a training run leaves behind for people and tools (tools/plot_run.py, the tuning driver).
//   config.json    every setting of the run (enough to rerun it: comet_train --config config.json)
//   metrics.jsonl  one JSON object per epoch, epoch 0 being the evaluation before training:
//                  {"epoch", "train_loss" (null at 0), "seconds", "best", "swap_moves",
//                   "val": {"loss", "tasks": {name: {"loss", "auc"|"accuracy"|"mse"...}}},
//                   "gates": [{"task", "experts_per_sample", "within_k", "sparsity", "usage": [...]}]};
//                  a run resumed from its training checkpoint continues the file of the call it resumes
//   summary.json   the best epoch, its validation metrics, the test metrics of the best weights (keys such as
//                  test.t1.auc are found as summary["test"]["tasks"]["t1"]["auc"]), sparsity, and times: "seconds"
//                  (this call's wall time), "epoch_seconds" (every epoch's, earlier calls' too) and
//                  "resumed_from_epoch" (0 for a run not resumed)
//   model.safetensors  the best model (train/checkpoint.h)
// Every file is written atomically (a temporary file renamed over it), so a crash never leaves a torn file.
// Test: tests/train/test_run_log.cpp.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "train/train.h"

namespace comet::train {

nlohmann::json to_json(const Evaluation& e, const std::vector<std::string>& gate_tasks);
nlohmann::json to_json(const EpochReport& r, const std::vector<std::string>& gate_tasks);

// One line of metrics.jsonl: its epoch, its "seconds" and its text.
struct MetricsLine {
  int epoch;
  double seconds;
  std::string text;
};

class RunDirectory {
 public:
  // Creates `dir` (and its parents) and writes config.json. gate_tasks names the task each gate serves.
  RunDirectory(std::string dir, const nlohmann::json& config, std::vector<std::string> gate_tasks);
  // Rewrites metrics.jsonl with one more line. The first report of a resumed call (before_training, epoch > 0)
  // keeps the lines an earlier call wrote up to that epoch instead of starting the file anew.
  void append_epoch(const EpochReport& r);
  void write_summary(const nlohmann::json& summary) const;
  // The summed "seconds" of every epoch in metrics.jsonl, earlier calls' included: a resumed run's training time.
  double epoch_seconds() const { return epoch_seconds_; }
  std::string model_path() const { return dir_ + "/model.safetensors"; }
  const std::string& dir() const { return dir_; }
  const std::vector<std::string>& gate_tasks() const { return gate_tasks_; }

 private:
  std::string dir_;
  std::vector<std::string> gate_tasks_;
  std::string metrics_;  // the lines written so far
  double epoch_seconds_ = 0;
};

void write_json_atomic(const std::string& path, const nlohmann::json& value);

}  // namespace comet::train
