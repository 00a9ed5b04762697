// comet_train's command line (tools/comet_train.cpp): the options, --config FILE.json, and the checks that refuse
// options that do not apply or outputs that cannot be written, before any data are read. A library of its own so
// that the fuzz target fuzz/fuzz_train_config.cpp runs the same parsing on arbitrary JSON.
#pragma once
#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/registry.h"

namespace comet::cli {

struct TrainOptions {
  std::string dataset = "synthetic";
  std::string data;  // file or folder (empty: the data set's default)
  std::optional<int64_t> train_rows, val_rows, test_rows;
  int64_t samples = 65536;  // synthetic only
  double relatedness = 0.5;  // synthetic only
  std::string gate = "comet";
  std::string local_search = "learned";
  std::string path = "sparse";
  std::string idle_experts = "update";
  std::string expert_update = "step";
  std::optional<int64_t> experts, k, batch;
  std::optional<double> gamma, entropy, lr;
  std::optional<int> epochs, patience;
  std::vector<double> task_weights;  // empty: the data set's
  int perm_epochs = 2;
  uint64_t seed = 1;
  int threads = 0;  // 0: keep the engine default (all cores)
  std::string device = "cpu";
  std::string progress = "auto";
  std::string load, save, checkpoint, out, config, export_data;
  bool list_datasets = false;
};

// Registers every option of comet_train on `app`, writing into `o` (including --config and --list-datasets).
void add_train_options(CLI::App& app, TrainOptions& o);

// The options a --config file gives, as command-line arguments: its keys are long option names; a run's config.json
// (which also records "tasks", "source" and "command") is such a file. `text` is the file's content, `path` names
// it in errors. Throws comet::Error for invalid JSON, a non-object or an unknown key.
std::vector<std::string> config_arguments(const std::string& text, const std::string& path, const CLI::App& app);

// Parses argv-style arguments (without the program name), with --config's options placed before the command line's,
// which therefore win. Throws CLI::ParseError for what CLI11 refuses, comet::Error for a bad --config file.
void parse_train_arguments(CLI::App& app, std::vector<std::string> args);

// Refuses options that do not apply to the chosen data set or gate, and output paths that cannot be written.
void check_train_options(const TrainOptions& o, const CLI::App& app);

// The data set's paper settings with the command line's overrides.
data::PaperSettings train_settings(const data::DatasetKind& kind, const TrainOptions& o);

}  // namespace comet::cli
