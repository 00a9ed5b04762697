// comet_train: the main job. Trains a two-task multi-gate MoE (shared experts, one gate per task, task towers) on the
// bundled synthetic multi-task data set (the MMoE generator, data/synthetic.h) and prints, per epoch, the loss,
// each gate's sparsity (experts per sample, share of samples within k) and expert usage.
// Default: COMET+ (COMET gates with the learned permutation) on the sparse path. Any gate runs with --gate.
// --save / --load write and read model checkpoints (safetensors); --checkpoint writes a training checkpoint after
// every epoch and, when the file exists, resumes from it exactly. Deterministic: the same --seed and --threads give
// the same numbers. Command-line tests: tests/tools/cli_tests.cmake.
#include <CLI/CLI.hpp>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>

#include "core/threading.h"
#include "train/checkpoint.h"
#include "data/synthetic.h"
#include "train/train.h"

using namespace comet;

namespace {

struct Options {
  std::string gate = "comet";
  std::string local_search = "learned";
  std::string path = "sparse";
  int64_t experts = 16;
  int64_t k = 2;
  double gamma = 1e-3;  // the narrow band (spec 6.4 grids reach 0.001) saturates the trees within a few epochs
  double entropy = 1.0;
  int perm_epochs = 2;
  int epochs = 12;
  int64_t batch = 512;
  double lr = 5e-3;
  int64_t samples = 65536;
  double relatedness = 0.5;
  uint64_t seed = 1;
  int threads = 0;  // 0: keep the engine default (all cores)
  std::string load;  // checkpoint to start from (empty: none)
  std::string save;  // checkpoint to write after training (empty: none)
  std::string checkpoint;  // training checkpoint: written every epoch, resumed from when it exists (empty: none)
};

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

// Fails before training when the file of `option` could not be written: its directory must exist, and it must not
// be a directory itself.
void check_output_path(const char* option, const std::string& path) {
  if (path.empty()) return;
  const std::filesystem::path dir = std::filesystem::absolute(path).parent_path();
  COMET_CHECK(std::filesystem::is_directory(dir), "{} {}: directory '{}' does not exist", option, path, dir.string());
  COMET_CHECK(!std::filesystem::is_directory(path), "{} {}: is a directory", option, path);
}

std::string usage_line(const moe::RoutingStats& r) {
  std::string s;
  for (double u : r.usage) s += fmt::format("{:3.0f}", 100 * u);
  return s;
}

void print_epoch(const train::EpochReport& r, int64_t k) {
  std::string line = r.before_training ? fmt::format("epoch {:2d} ({})", r.epoch, r.epoch == 0 ? "init" : "resumed")
                                       : fmt::format("epoch {:2d} train {:.4f}", r.epoch, r.train_loss);
  line += " | val";
  for (const train::TaskMetrics& t : r.val.tasks) line += fmt::format(" {:.4f}", t.loss);
  for (size_t g = 0; g < r.val.gates.size(); ++g)
    line += fmt::format(" | gate{} {:.2f} exp/sample, {:5.1f}% <= {}", g + 1, r.val.gates[g].routing.experts_per_sample,
                        100 * r.val.gates[g].routing.within_k, k);
  if (r.swap_moves) line += fmt::format(" | {} swaps", r.swap_moves);
  if (!r.before_training) line += fmt::format(" | {:.1f} s", r.seconds);
  std::printf("%s\n", line.c_str());
  for (size_t g = 0; g < r.val.gates.size(); ++g)
    std::printf("         gate%zu usage %%:%s\n", g + 1, usage_line(r.val.gates[g].routing).c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"COMET-MoE main job: train a two-task MoE on synthetic data (default COMET+)"};
  app.add_option("--gate", o.gate, "softmax, topk, hash, dselect or comet")->check(CLI::IsMember({"softmax", "topk", "hash", "dselect", "comet"}));
  app.add_option("--local-search", o.local_search, "none, learned (Sinkhorn, the paper's COMET+) or swap (discrete pass)")
      ->check(CLI::IsMember({"none", "learned", "swap"}));
  app.add_option("--path", o.path, "sparse (grouped experts) or dense (reference)")->check(CLI::IsMember({"sparse", "dense"}));
  app.add_option("--experts", o.experts, "number of experts n")->check(CLI::Range(1, 1024));
  app.add_option("--k", o.k, "experts per sample (trees / selectors); hash uses 1")->check(CLI::Range(1, 1024));
  app.add_option("--gamma", o.gamma, "smooth-step width (dselect, comet)")->check(finite_number(0, 1e6, false));
  app.add_option("--entropy", o.entropy, "entropy regulariser weight (dselect, comet)")->check(finite_number(0, 1e6, true));
  app.add_option("--perm-epochs", o.perm_epochs, "learned permutation: epochs of the Sinkhorn window (E_p)")->check(CLI::Range(1, 1000));
  app.add_option("--epochs", o.epochs, "training epochs")->check(CLI::Range(0, 100000));
  app.add_option("--batch", o.batch, "mini-batch size")->check(CLI::Range(1, 10000000));
  app.add_option("--lr", o.lr, "Adam learning rate")->check(finite_number(0, 1e3, false));
  app.add_option("--samples", o.samples, "training samples (validation: a quarter of it)")->check(CLI::Range(64, 10000000));
  app.add_option("--relatedness", o.relatedness, "task relatedness rho of the synthetic data")->check(finite_number(-1, 1, true));
  app.add_option("--seed", o.seed, "random seed (data, initialisation, shuffling)");
  app.add_option("--threads", o.threads, "threads (default 0: all cores)")->check(CLI::Range(0, 1024));
  app.add_option("--load", o.load, "start from this checkpoint (safetensors; same architecture options)")
      ->check(CLI::ExistingFile);
  app.add_option("--save", o.save, "write the trained model to this checkpoint (safetensors)");
  app.add_option("--checkpoint", o.checkpoint,
                 "training checkpoint (model, Adam state, progress) written after every epoch; if the file exists, "
                 "training resumes from it exactly (same options required) up to --epochs");
  CLI11_PARSE(app, argc, argv);
  try {
    COMET_CHECK(o.gate != "hash" || app.count("--k") == 0 || o.k == 1,
                "--k {}: hash routing sends each sample to one expert (k = 1)", o.k);
    check_output_path("--save", o.save);
    check_output_path("--checkpoint", o.checkpoint);
    COMET_CHECK(o.checkpoint.empty() || o.load.empty(), "--load and --checkpoint exclude each other: a training "
                "checkpoint already holds the model to start from");
    if (o.threads > 0) set_num_threads(o.threads);
    COMET_CHECK(o.batch <= o.samples, "--batch {} exceeds --samples {}", o.batch, o.samples);
    data::SyntheticConfig data_cfg;
    data_cfg.samples = o.samples + o.samples / 4;
    data_cfg.relatedness = o.relatedness;
    data_cfg.seed = o.seed;
    const data::Dataset all = data::make_synthetic_multitask(data_cfg);
    const data::Dataset train = data::slice(all, 0, o.samples);
    const data::Dataset val = data::slice(all, o.samples, data_cfg.samples);

    models::MmoeConfig cfg;
    cfg.dense_dim = data_cfg.dim;
    cfg.gate.kind = moe::parse_gate_kind(o.gate);
    cfg.gate.experts = o.experts;
    cfg.gate.k = cfg.gate.kind == moe::GateKind::Hash ? 1 : o.k;
    cfg.gate.gamma = o.gamma;
    cfg.gate.entropy = o.entropy;
    cfg.gate.hash_keys = data_cfg.num_keys;
    cfg.local_search = models::parse_local_search(o.local_search);
    cfg.permutation_window_steps = static_cast<int64_t>(o.perm_epochs) * (o.samples / o.batch);
    cfg.path = o.path == "dense" ? moe::MoePath::Dense : moe::MoePath::Sparse;
    Generator gen(o.seed + 1);
    models::Mmoe model(cfg, gen);
    train::TrainConfig train_cfg;
    train_cfg.epochs = o.epochs;
    train_cfg.batch = o.batch;
    train_cfg.lr = o.lr;
    train_cfg.seed = o.seed + 2;
    train_cfg.checkpoint = o.checkpoint;
    train_cfg.run_tag = fmt::format("synthetic seed={} rho={} local_search={} perm_epochs={}", o.seed, o.relatedness,
                                     o.local_search, o.perm_epochs);
    std::printf("comet_train: %s gate%s, n = %lld experts, k = %lld, %s path; %lld train / %lld val samples "
                "(synthetic, rho = %g), batch %lld, Adam lr %g, %d threads\n",
                o.gate.c_str(), o.local_search == "none" ? "" : (" + " + o.local_search + " permutation").c_str(),
                (long long)o.experts, (long long)cfg.gate.k, o.path.c_str(), (long long)o.samples,
                (long long)(data_cfg.samples - o.samples), o.relatedness, (long long)o.batch, o.lr, num_threads());
    if (!o.load.empty()) train::load_checkpoint(o.load, model);
    train::train_mmoe(model, train, val, train_cfg, [&](const train::EpochReport& r) { print_epoch(r, cfg.gate.k); });
    if (!o.save.empty()) {
      train::save_checkpoint(o.save, model);
      std::printf("saved %s\n", o.save.c_str());
    }
  } catch (const Error& e) {
    std::fprintf(stderr, "comet_train: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
