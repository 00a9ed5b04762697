// A run directory: what a training run leaves behind for people and tools (tools/plot_run.py, the tuning driver).
//   config.json    every setting of the run (enough to rerun it: comet_train --config config.json)
//   metrics.jsonl  one JSON object per epoch, epoch 0 being the evaluation before training:
//                  {"epoch", "train_loss" (null at 0), "seconds", "best", "swap_moves",
//                   "val": {"loss", "tasks": {name: {"loss", "auc"|"accuracy"|"mse"...}}},
//                   "gates": [{"task", "experts_per_sample", "within_k", "sparsity", "usage": [...]}]}
//   summary.json   the best epoch, its validation metrics, the test metrics of the best weights (keys such as
//                  test.t1.auc are found as summary["test"]["tasks"]["t1"]["auc"]), sparsity and wall time
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

class RunDirectory {
 public:
  // Creates `dir` (and its parents) and writes config.json. gate_tasks names the task each gate serves.
  RunDirectory(std::string dir, const nlohmann::json& config, std::vector<std::string> gate_tasks);
  void append_epoch(const EpochReport& r);  // rewrites metrics.jsonl with one more line
  void write_summary(const nlohmann::json& summary) const;
  std::string model_path() const { return dir_ + "/model.safetensors"; }
  const std::string& dir() const { return dir_; }
  const std::vector<std::string>& gate_tasks() const { return gate_tasks_; }

 private:
  std::string dir_;
  std::vector<std::string> gate_tasks_;
  std::string metrics_;  // the lines written so far
};

void write_json_atomic(const std::string& path, const nlohmann::json& value);

}  // namespace comet::train
