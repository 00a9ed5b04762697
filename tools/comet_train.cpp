// comet_train: trains a multi-gate MoE on one of the paper's data sets (data/registry.h: movielens, jester, books,
// multimnist, multifashionmnist, the bundled synthetic data) with any gate and local search, evaluates it on the
// validation split every epoch (early stopping, best weights restored) and on the test split at the end, and writes
// a run directory (--out; train/run_log.h). Settings not given take the data set's paper setting; --config FILE.json
// gives options as a JSON object (keys are the long option names; a run's config.json is such a file), and options
// on the command line override it. --save / --load write and read model checkpoints; --checkpoint writes a training
// checkpoint every epoch and resumes from it exactly. Deterministic: the same seed and --threads give the same
// numbers. Command-line tests: tests/tools/cli_tests.cmake.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "core/io/npy.h"
#include "core/threading.h"
#include "data/registry.h"
#include "models/presets.h"
#include "train/checkpoint.h"
#include "train/run_log.h"
#include "train/train.h"

using namespace comet;

namespace {

struct Options {
  std::string dataset = "synthetic";
  std::string data;  // file or folder (empty: the data set's default)
  std::optional<int64_t> train_rows, val_rows, test_rows;
  int64_t samples = 65536;  // synthetic only
  double relatedness = 0.5;  // synthetic only
  std::string gate = "comet";
  std::string local_search = "learned";
  std::string path = "sparse";
  std::optional<int64_t> experts, k, batch;
  std::optional<double> gamma, entropy, lr;
  std::optional<int> epochs, patience;
  std::vector<double> task_weights;  // empty: the data set's
  int perm_epochs = 2;
  uint64_t seed = 1;
  int threads = 0;  // 0: keep the engine default (all cores)
  std::string progress = "auto";
  std::string load, save, checkpoint, out, config, export_data;
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

const char* kPaperDefault = " (default: the data set's paper setting; see --list-datasets)";

void add_options(CLI::App& app, Options& o) {
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
  app.add_option("--threads", o.threads, "threads (0: all cores)")->check(CLI::Range(0, 1024))->capture_default_str();
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
}

// The splits as .npy files and a meta.json describing them (tasks, vocabularies, image shape), e.g. for the
// PyTorch twin of bench/, so that both frameworks train on the same rows.
void export_splits(const std::string& dir, const data::Splits& splits) {
  std::filesystem::create_directories(dir);
  const std::pair<const char*, const data::Dataset*> parts[] = {
      {"train", &splits.train}, {"val", &splits.val}, {"test", &splits.test}};
  for (const auto& [name, d] : parts) {
    const std::pair<const char*, const Tensor*> tensors[] = {
        {"ids", &d->ids}, {"dense", &d->dense}, {"targets", &d->targets}, {"mask", &d->mask}};
    for (const auto& [what, t] : tensors)
      if (t->defined()) io::save_npy(fmt::format("{}/{}_{}.npy", dir, name, what), *t);
  }
  nlohmann::json tasks = nlohmann::json::array();
  for (const data::TaskSpec& t : splits.train.tasks)
    tasks.push_back({{"name", t.name}, {"kind", task_kind_name(t.kind)}, {"classes", t.classes}});
  train::write_json_atomic(dir + "/meta.json", {{"tasks", tasks}, {"id_names", splits.train.id_names},
                                                {"vocab", splits.train.vocab}, {"image", splits.train.image},
                                                {"source", splits.source}});
}

// --config FILE.json: its keys become options placed before the command line's, which therefore win.
std::vector<std::string> config_arguments(const std::string& path, const CLI::App& app) {
  std::ifstream in(path);
  COMET_CHECK(in.good(), "--config {}: cannot read the file", path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
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
    const auto text = [](const nlohmann::json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); };
    if (value.is_array()) {
      std::string list;
      for (const auto& v : value) list += (list.empty() ? "" : ",") + text(v);
      args.insert(args.end(), {"--" + key, list});
    } else {
      args.insert(args.end(), {"--" + key, text(value)});
    }
  }
  return args;
}

// Fails before training when the file of `option` could not be written: its directory must exist, and it must not
// be a directory itself.
void check_output_path(const char* option, const std::string& path) {
  if (path.empty()) return;
  const std::filesystem::path dir = std::filesystem::absolute(path).parent_path();
  COMET_CHECK(std::filesystem::is_directory(dir), "{} {}: directory '{}' does not exist", option, path, dir.string());
  COMET_CHECK(!std::filesystem::is_directory(path), "{} {}: is a directory", option, path);
}

void check_options(const Options& o, const CLI::App& app) {
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

// The data set's paper settings with the command line's overrides.
data::PaperSettings settings(const data::DatasetKind& kind, const Options& o) {
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

// Every setting, resolved: a run's config.json, and --config's input.
nlohmann::json resolved_config(const Options& o, const data::PaperSettings& s, const data::Splits& splits) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const data::TaskSpec& t : splits.train.tasks) tasks.push_back({{"name", t.name}, {"kind", task_kind_name(t.kind)}});
  const auto opt = [](const std::optional<int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json c{{"dataset", o.dataset}, {"data", o.data}, {"train-rows", opt(o.train_rows)},
                   {"val-rows", opt(o.val_rows)}, {"test-rows", opt(o.test_rows)}, {"gate", o.gate},
                   {"local-search", o.local_search}, {"path", o.path}, {"experts", s.experts}, {"k", s.k},
                   {"epochs", s.epochs}, {"patience", s.patience}, {"batch", s.batch}, {"lr", s.lr},
                   {"task-weights", s.task_weights}, {"seed", o.seed}, {"threads", num_threads()},
                   {"tasks", tasks}, {"source", splits.source}};
  if (o.gate == "comet" || o.gate == "dselect") c.update({{"gamma", s.gamma}, {"entropy", s.entropy}});
  if (o.local_search == "learned") c["perm-epochs"] = o.perm_epochs;
  if (o.dataset == "synthetic") c.update({{"samples", o.samples}, {"relatedness", o.relatedness}});
  return c;
}

std::string usage_line(const moe::RoutingStats& r) {
  std::string s;
  for (double u : r.usage) s += fmt::format("{:3.0f}", 100 * u);
  return s;
}

std::string metrics_line(const train::Evaluation& e) {
  std::string line;
  for (const train::TaskMetrics& t : e.tasks) {
    line += fmt::format(" {} loss {:.4f}", t.name, t.loss);
    if (t.auc) line += fmt::format(" auc {:.4f}", *t.auc);
    if (t.accuracy) line += fmt::format(" acc {:.4f}", *t.accuracy);
  }
  return line;
}

void print_epoch(const train::EpochReport& r, int64_t k) {
  std::string line = r.before_training ? fmt::format("epoch {:2d} ({})", r.epoch, r.epoch == 0 ? "init" : "resumed")
                                       : fmt::format("epoch {:2d} train {:.4f}", r.epoch, r.train_loss);
  line += " | val" + metrics_line(r.val);
  for (size_t g = 0; g < r.val.gates.size(); ++g)
    line += fmt::format(" | gate{} {:.2f} exp/sample, {:5.1f}% <= {}", g + 1,
                        r.val.gates[g].routing.experts_per_sample, 100 * r.val.gates[g].routing.within_k, k);
  if (r.swap_moves) line += fmt::format(" | {} swaps", r.swap_moves);
  if (!r.before_training) line += fmt::format(" | {:.1f} s{}", r.seconds, r.best ? " *" : "");
  std::printf("%s\n", line.c_str());
  for (size_t g = 0; g < r.val.gates.size(); ++g)
    std::printf("         gate%zu usage %%:%s\n", g + 1, usage_line(r.val.gates[g].routing).c_str());
  std::fflush(stdout);
}

// A one-line bar redrawn in place on a terminal: batches done, rows per second, time left in the epoch.
class ProgressBar {
 public:
  ProgressBar(bool enabled, int64_t batch) : enabled_(enabled), batch_(batch) {}
  void operator()(int64_t done, int64_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (done == 1) start_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = done > 1 && seconds > 0 ? static_cast<double>((done - 1) * batch_) / seconds : 0.0;
    const int width = 30, filled = static_cast<int>(width * done / std::max<int64_t>(total, 1));
    const double eta = rate > 0 ? static_cast<double>((total - done) * batch_) / rate : 0.0;
    std::fprintf(stdout, "\r[%s%s] %lld/%lld batches  %.0f rows/s  ETA %.0f s   ", std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), static_cast<long long>(done),
                 static_cast<long long>(total), rate, eta);
    if (done == total) std::fprintf(stdout, "\r%*s\r", width + 60, "");
    std::fflush(stdout);
  }

 private:
  bool enabled_;
  int64_t batch_;
  std::chrono::steady_clock::time_point start_;
};

void list_datasets() {
  for (const data::DatasetKind& k : data::dataset_kinds()) {
    const data::PaperSettings& p = k.paper;
    std::printf("%-18s %s\n%18s default --data: %s; paper settings: n = %lld, k = %lld, batch %lld, lr %g, "
                "gamma %g, entropy %g, epochs %d, patience %d\n",
                k.name.c_str(), k.description.c_str(), "", k.default_path.empty() ? "(none)" : k.default_path.c_str(),
                (long long)p.experts, (long long)p.k, (long long)p.batch, p.lr, p.gamma, p.entropy, p.epochs,
                p.patience);
  }
}

// With --load the model is the checkpoint's (no architecture options needed); the options given on the command line
// still count, so that the load refuses a checkpoint that disagrees with them, naming the field.
models::MmoeConfig model_of_checkpoint(const std::string& path, const models::MmoeConfig& from_options,
                                       const CLI::App& app) {
  models::MmoeConfig c = train::read_model_config(path);
  const auto given = [&](const char* option) { return app.count(option) > 0; };
  if (given("--gate")) c.gate.kind = from_options.gate.kind;
  if (given("--experts")) c.gate.experts = from_options.gate.experts;
  if (given("--k")) c.gate.k = from_options.gate.k;
  if (given("--gamma")) c.gate.gamma = from_options.gate.gamma;
  if (given("--entropy")) c.gate.entropy = from_options.gate.entropy;
  if (given("--local-search")) c.local_search = from_options.local_search;
  if (given("--perm-epochs")) c.permutation_window_steps = from_options.permutation_window_steps;
  if (given("--path")) c.path = from_options.path;
  return c;
}

int run(const Options& o, const CLI::App& app, const std::string& command) {
  check_options(o, app);
  if (o.threads > 0) set_num_threads(o.threads);
  const auto t0 = std::chrono::steady_clock::now();
  const data::DatasetKind& kind = data::find_dataset(o.dataset);
  data::ReadRequest request{o.data, o.seed, o.train_rows, o.val_rows, o.test_rows, o.samples, o.relatedness};
  const data::Splits splits = data::read_dataset(kind, request);
  if (!o.export_data.empty()) {
    export_splits(o.export_data, splits);
    std::printf("exported %s (%lld / %lld / %lld rows) to %s\n", splits.source.c_str(), (long long)splits.train.rows(),
                (long long)splits.val.rows(), (long long)splits.test.rows(), o.export_data.c_str());
    return 0;
  }
  const data::PaperSettings s = settings(kind, o);
  COMET_CHECK(s.batch <= splits.train.rows(), "--batch {} exceeds the {} training rows", s.batch, splits.train.rows());
  COMET_CHECK(s.task_weights.size() == splits.train.tasks.size(), "--task-weights: {} weights for {} tasks",
              s.task_weights.size(), splits.train.tasks.size());

  models::MmoeConfig cfg = models::paper_model(splits.train, kind.family, s);
  cfg.gate.kind = moe::parse_gate_kind(o.gate);
  cfg.local_search = models::parse_local_search(o.local_search);
  cfg.permutation_window_steps = static_cast<int64_t>(o.perm_epochs) * (splits.train.rows() / s.batch);
  cfg.path = o.path == "dense" ? moe::MoePath::Dense : moe::MoePath::Sparse;
  if (!o.load.empty()) cfg = model_of_checkpoint(o.load, cfg, app);
  COMET_CHECK(cfg.gate.kind != moe::GateKind::Hash || cfg.gate.hash_keys,
              "--gate hash needs a routing key (a user id), which --dataset {} does not have", o.dataset);
  Generator gen = Generator(o.seed).split();  // the model's stream, apart from the data's
  models::Mmoe model(cfg, gen);
  if (!o.load.empty()) train::load_checkpoint(o.load, model);

  train::TrainConfig tc;
  tc.epochs = s.epochs;
  tc.patience = s.patience;
  tc.restore_best = true;
  tc.batch = s.batch;
  tc.lr = s.lr;
  tc.seed = o.seed + 2;
  tc.task_weights = s.task_weights;
  tc.checkpoint = o.checkpoint;
  tc.run_tag = fmt::format("dataset={} data={} source={} local_search={} perm_epochs={}", o.dataset, o.data,
                           splits.source, o.local_search, o.perm_epochs);
  ProgressBar bar(o.progress == "on" || (o.progress == "auto" && isatty(fileno(stdout))), s.batch);
  tc.on_batch = [&bar](int64_t done, int64_t total) { bar(done, total); };

  nlohmann::json config = resolved_config(o, s, splits);
  config["command"] = command;
  std::vector<std::string> gate_tasks;
  for (size_t t = 0; t < splits.train.tasks.size(); ++t)
    if (!cfg.shared_gate || t == 0) gate_tasks.push_back(splits.train.tasks[t].name);
  std::optional<train::RunDirectory> run_dir;
  if (!o.out.empty()) run_dir.emplace(o.out, config, gate_tasks);

  const std::string search = models::local_search_name(cfg.local_search);
  std::printf("comet_train: %s: %s\n  %s gate%s, n = %lld, k = %lld, %s path; %lld / %lld / %lld rows; batch %lld, "
              "Adam lr %g, up to %d epochs (patience %d), %d threads\n",
              o.dataset.c_str(), splits.source.c_str(), moe::gate_name(cfg.gate.kind),
              search == "none" ? "" : (" + " + search + " permutation").c_str(), (long long)cfg.gate.experts,
              (long long)cfg.gate.k, cfg.path == moe::MoePath::Dense ? "dense" : "sparse", (long long)splits.train.rows(),
              (long long)splits.val.rows(), (long long)splits.test.rows(), (long long)s.batch, s.lr, s.epochs,
              s.patience, num_threads());
  const train::TrainResult result = train::train_mmoe(model, splits.train, splits.val, tc, [&](const train::EpochReport& r) {
    print_epoch(r, cfg.gate.k);
    if (!run_dir) return;
    run_dir->append_epoch(r);
    if (r.best) train::save_checkpoint(run_dir->model_path(), model);
  });
  const train::Evaluation test = train::evaluate(model, splits.test, s.task_weights, tc.eval_batch);
  const train::EpochReport& best = result.reports[static_cast<size_t>(result.best_epoch - result.reports.front().epoch)];
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("best epoch %d%s | test%s | %.1f s\n", result.best_epoch, result.stopped_early ? " (stopped early)" : "",
              metrics_line(test).c_str(), seconds);
  if (run_dir) {
    double sparsity = 0;
    for (const train::GateMetrics& g : test.gates) sparsity += g.sparsity / static_cast<double>(test.gates.size());
    run_dir->write_summary({{"best_epoch", result.best_epoch},
                            {"stopped_early", result.stopped_early},
                            {"val", train::to_json(best.val, gate_tasks)},
                            {"test", train::to_json(test, gate_tasks)},
                            {"sparsity", sparsity},
                            {"seconds", seconds}});
    std::printf("run directory: %s\n", run_dir->dir().c_str());
  }
  if (!o.save.empty()) {
    train::save_checkpoint(o.save, model);
    std::printf("saved %s\n", o.save.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"COMET-MoE: train a multi-gate MoE on the paper's data sets (default: COMET+ on synthetic data)"};
  add_options(app, o);
  bool list = false;
  app.add_flag("--list-datasets", list, "list the data sets, their default locations and paper settings");
  app.add_option("--config", o.config, "options as a JSON object (keys: the long option names)")->check(CLI::ExistingFile);
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  try {
    std::vector<std::string> args(argv + 1, argv + argc);
    const auto config = std::find(args.begin(), args.end(), "--config");
    if (config != args.end() && config + 1 != args.end()) {
      std::vector<std::string> from_file = config_arguments(*(config + 1), app);
      args.insert(args.begin(), from_file.begin(), from_file.end());
    }
    std::reverse(args.begin(), args.end());  // CLI11 parses a vector from its back
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::fprintf(stderr, "comet_train: error: %s\n", e.what());
    return 1;
  }
  if (list) {
    list_datasets();
    return 0;
  }
  try {
    return run(o, app, command);
  } catch (const Error& e) {
    std::fprintf(stderr, "\ncomet_train: error: %s\n", e.what());
    return 1;
  }
}
