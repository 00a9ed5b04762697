#include "tools/cli/train_options.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace comet::cli {
namespace {

// A finite number above `lo` (or at least `lo` when lo_inclusive) and at most `hi`. CLI11's own number checks let
// NaN through (every comparison with it is false) and print DBL_MAX as the upper bound.
CLI::Validator finite_number(double lo, double hi, bool lo_inclusive) {
  const std::string range = fmt::format("{}{}, {}]", lo_inclusive ? "[" : "(", lo, hi);
  return CLI::Validator(
      [=](std::string& text) -> std::string {
        double v = NAN;
        try {
          size_t used = 0;
          v = std::stod(text, &used);
          if (used != text.size()) v = NAN;
        } catch (const std::exception&) {
        }
        const bool ok = std::isfinite(v) && (lo_inclusive ? v >= lo : v > lo) && v <= hi;
        return ok ? std::string() : fmt::format("{} is not a finite number in {}", text, range);
      },
      "NUMBER in " + range);
}

const char* kPaperDefault = " (default: the data set's paper setting; see --list-datasets)";

}  // namespace

void add_train_options(CLI::App& app, TrainOptions& o) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);  // the command line beats --config
  app.add_option("--dataset", o.dataset, "data set")->check(CLI::IsMember(data::dataset_names()))->capture_default_str();
  app.add_option("--data", o.data, "file or folder in the publisher's layout (default: the data set's location)");
  app.add_option("--train-rows", o.train_rows, "use a seeded random subset of this many training rows")
      ->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--val-rows", o.val_rows, "likewise for the validation split")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--test-rows", o.test_rows, "likewise for the test split")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--samples", o.samples, "synthetic: training samples (validation and test: a quarter each)")
      ->check(CLI::Range(64, 10000000))->capture_default_str();
  app.add_option("--relatedness", o.relatedness, "synthetic: task relatedness rho")
      ->check(finite_number(-1, 1, true))->capture_default_str();
  app.add_option("--gate", o.gate, "softmax, topk, hash, dselect or comet")
      ->check(CLI::IsMember({"softmax", "topk", "hash", "dselect", "comet"}))->capture_default_str();
  app.add_option("--local-search", o.local_search, "none, learned (Sinkhorn, the paper's COMET+) or swap (discrete pass)")
      ->check(CLI::IsMember({"none", "learned", "swap"}))->capture_default_str();
  app.add_option("--path", o.path, "sparse (grouped experts) or dense (reference)")
      ->check(CLI::IsMember({"sparse", "dense"}))->capture_default_str();
  app.add_option("--idle-experts", o.idle_experts,
                 "update: Adam steps every expert every batch; skip: not the experts that received no rows, as "
                 "PyTorch's per-expert dispatch (docs/expert_updates.md)")
      ->check(CLI::IsMember({"update", "skip"}))->capture_default_str();
  app.add_option("--expert-update", o.expert_update,
                 "step: the experts' Adam update runs in the optimizer step; backward: inside the backward pass, as soon "
                 "as their gradients are complete (fused; the same numbers; faster on the sparse path, where each block of the "
                 "MLP experts' weights is updated from cache as it is computed: docs/expert_updates.md)")
      ->check(CLI::IsMember({"step", "backward"}))->capture_default_str();
  app.add_option("--experts", o.experts, std::string("number of experts n") + kPaperDefault)->check(CLI::Range(1, 1024));
  app.add_option("--k", o.k, std::string("experts per sample (trees / selectors); hash uses 1") + kPaperDefault)
      ->check(CLI::Range(1, 1024));
  app.add_option("--gamma", o.gamma, std::string("smooth-step width (dselect, comet)") + kPaperDefault)
      ->check(finite_number(0, 1e6, false));
  app.add_option("--entropy", o.entropy, std::string("entropy regulariser weight (dselect, comet)") + kPaperDefault)
      ->check(finite_number(0, 1e6, true));
  app.add_option("--perm-epochs", o.perm_epochs, "learned permutation: epochs of the Sinkhorn window (E_p)")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  app.add_option("--epochs", o.epochs, std::string("maximum training epochs") + kPaperDefault)->check(CLI::Range(0, 100000));
  app.add_option("--patience", o.patience, std::string("early stopping: epochs without a better validation loss") +
                                                 kPaperDefault)->check(CLI::Range(1, 100000));
  app.add_option("--batch", o.batch, std::string("mini-batch size") + kPaperDefault)->check(CLI::Range(1, 10000000));
  app.add_option("--lr", o.lr, std::string("Adam learning rate") + kPaperDefault)->check(finite_number(0, 1e3, false));
  app.add_option("--task-weights", o.task_weights, std::string("loss weight per task") + kPaperDefault)
      ->check(finite_number(0, 1e6, true))->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)->delimiter(',');
  app.add_option("--seed", o.seed, "random seed (data split, initialisation, shuffling)")
      ->check(CLI::Validator(
          [](std::string& text) {  // CLI11 would wrap -1 to 2^64 - 1
            const bool digits = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
            return digits ? std::string() : text + " is not a non-negative integer";
          },
          "UINT"))
      ->capture_default_str();
  app.add_option("--threads", o.threads, "threads (0: every core, fewer while other programs keep cores busy)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--device", o.device, "where the model trains: cpu, or cuda (the first GPU; COMET_CUDA_EMULATE=1 "
                                       "emulates one on the host)")
      ->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  app.add_option("--progress", o.progress, "per-batch progress bar: auto (on a terminal), on or off")
      ->check(CLI::IsMember({"auto", "on", "off"}))->capture_default_str();
  app.add_option("--load", o.load, "start from this model checkpoint (safetensors); the model is the checkpoint's, "
                                   "and architecture options given must agree with it")
      ->check(CLI::ExistingFile);
  app.add_option("--save", o.save, "write the final model (the best weights) to this checkpoint");
  app.add_option("--checkpoint", o.checkpoint,
                 "training checkpoint written after every epoch; if the file exists, training resumes from it "
                 "exactly (same options required)");
  app.add_option("--out", o.out, "run directory: config.json, metrics.jsonl, summary.json, model.safetensors");
  app.add_option("--export-data", o.export_data,
                 "write the splits as .npy files into this folder (<split>_ids/dense/targets/mask.npy, meta.json) "
                 "for other frameworks, then stop");
  app.add_flag("--list-datasets", o.list_datasets, "list the data sets, their default locations and paper settings");
  app.add_option("--config", o.config, "options as a JSON object (keys: the long option names)")->check(CLI::ExistingFile);
}


std::vector<std::string> config_arguments(const std::string& text, const std::string& path, const CLI::App& app) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(fmt::format("--config {}: not valid JSON: {}", path, e.what()));
  }
  COMET_CHECK(j.is_object(), "--config {}: expected a JSON object of options", path);
  std::vector<std::string> args;
  for (const auto& [key, value] : j.items()) {
    if (key == "tasks" || key == "source" || key == "command") continue;  // what a run's config.json records besides
    COMET_CHECK(app.get_option_no_throw("--" + key) != nullptr && key != "config",
                "--config {}: unknown option '{}'", path, key);
    if (value.is_null()) continue;
    const auto text_of = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    if (value.is_array()) {
      std::string list;
      for (const auto& v : value) list += (list.empty() ? "" : ",") + text_of(v);
      args.insert(args.end(), {"--" + key, list});
    } else {
      args.insert(args.end(), {"--" + key, text_of(value)});
    }
  }
  return args;
}

void parse_train_arguments(CLI::App& app, std::vector<std::string> args) {
  const auto config = std::find(args.begin(), args.end(), "--config");
  if (config != args.end() && config + 1 != args.end()) {
    const std::string path = *(config + 1);
    std::ifstream in(path, std::ios::binary);
    COMET_CHECK(in.good(), "--config {}: cannot read the file", path);
    std::ostringstream text;
    text << in.rdbuf();
    const std::vector<std::string> from_file = config_arguments(text.str(), path, app);
    args.insert(args.begin(), from_file.begin(), from_file.end());
  }
  std::reverse(args.begin(), args.end());  // CLI11 parses a vector from its back
  app.parse(args);
}

namespace {

// Fails before training when the file of `option` could not be written: its directory must exist, and it must not
// be a directory itself.
void check_output_path(const char* option, const std::string& path) {
  if (path.empty()) return;
  const std::filesystem::path dir = std::filesystem::absolute(path).parent_path();
  COMET_CHECK(std::filesystem::is_directory(dir), "{} {}: directory '{}' does not exist", option, path, dir.string());
  COMET_CHECK(!std::filesystem::is_directory(path), "{} {}: is a directory", option, path);
}

}  // namespace

void check_train_options(const TrainOptions& o, const CLI::App& app) {
  const bool synthetic = o.dataset == "synthetic";
  for (const char* opt : {"--samples", "--relatedness"})
    COMET_CHECK(synthetic || app.count(opt) == 0, "{} applies to --dataset synthetic only, not {}", opt, o.dataset);
  COMET_CHECK(!synthetic || o.data.empty(), "--data: the synthetic data set is generated, it reads no files");
  COMET_CHECK(o.gate != "hash" || !o.k || *o.k == 1, "--k {}: hash routing sends each sample to one expert (k = 1)",
              o.k ? *o.k : 0);
  COMET_CHECK(o.gate != "softmax" || !o.k, "--k applies to sparse gates; the softmax gate weighs every expert");
  for (const char* opt : {"--gamma", "--entropy"})
    COMET_CHECK(app.count(opt) == 0 || o.gate == "comet" || o.gate == "dselect",
                "{} applies to the comet and dselect gates, not {}", opt, o.gate);
  COMET_CHECK(app.count("--perm-epochs") == 0 || o.local_search == "learned",
              "--perm-epochs applies to --local-search learned, not {}", o.local_search);
  check_output_path("--save", o.save);
  check_output_path("--checkpoint", o.checkpoint);
  COMET_CHECK(o.checkpoint.empty() || o.load.empty(), "--load and --checkpoint exclude each other: a training "
              "checkpoint already holds the model to start from");
  if (!o.out.empty()) {
    const std::filesystem::path parent = std::filesystem::absolute(o.out).parent_path();
    COMET_CHECK(std::filesystem::is_directory(parent), "--out {}: directory '{}' does not exist", o.out, parent.string());
    COMET_CHECK(!std::filesystem::exists(o.out) || std::filesystem::is_directory(o.out), "--out {}: is a file", o.out);
  }
}

data::PaperSettings train_settings(const data::DatasetKind& kind, const TrainOptions& o) {
  data::PaperSettings s = kind.paper;
  s.experts = o.experts.value_or(s.experts);
  s.k = o.gate == "hash" ? 1 : o.gate == "softmax" ? s.experts : o.k.value_or(s.k);
  s.gamma = o.gamma.value_or(s.gamma);
  s.entropy = o.entropy.value_or(s.entropy);
  s.batch = o.batch.value_or(s.batch);
  s.lr = o.lr.value_or(s.lr);
  s.epochs = o.epochs.value_or(s.epochs);
  s.patience = o.patience.value_or(s.patience);
  if (!o.task_weights.empty()) s.task_weights = o.task_weights;
  return s;
}

}  // namespace comet::cli
