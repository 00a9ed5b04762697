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

#include "autograd/device.h"
#include "core/io/npy.h"
#include "core/threading.h"
#include "data/registry.h"
#include "models/presets.h"
#include "tools/cli/train_options.h"
#include "train/checkpoint.h"
#include "train/run_log.h"
#include "train/train.h"

using namespace comet;
using cli::TrainOptions;

namespace {

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

// Every setting, resolved: a run's config.json, and --config's input.
nlohmann::json resolved_config(const TrainOptions& o, const data::PaperSettings& s, const data::Splits& splits) {
  nlohmann::json tasks = nlohmann::json::array();
  for (const data::TaskSpec& t : splits.train.tasks) tasks.push_back({{"name", t.name}, {"kind", task_kind_name(t.kind)}});
  const auto opt = [](const std::optional<int64_t>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); };
  nlohmann::json c{{"dataset", o.dataset}, {"data", o.data}, {"train-rows", opt(o.train_rows)},
                   {"val-rows", opt(o.val_rows)}, {"test-rows", opt(o.test_rows)}, {"gate", o.gate},
                   {"local-search", o.local_search}, {"path", o.path}, {"idle-experts", o.idle_experts},
                   {"expert-update", o.expert_update}, {"experts", s.experts}, {"k", s.k},
                   {"epochs", s.epochs}, {"patience", s.patience}, {"batch", s.batch}, {"lr", s.lr},
                   {"task-weights", s.task_weights}, {"seed", o.seed}, {"threads", num_threads()},
                   {"device", o.device},
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

int run(const TrainOptions& o, const CLI::App& app, const std::string& command) {
  cli::check_train_options(o, app);
  if (o.device == "cuda") ag::require_device(Device::CUDA, "--device cuda");  // before the data are read
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
  const data::PaperSettings s = cli::train_settings(kind, o);
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
  if (o.device == "cuda") model.to(Device::CUDA);

  train::TrainConfig tc;
  tc.epochs = s.epochs;
  tc.patience = s.patience;
  tc.restore_best = true;
  tc.batch = s.batch;
  tc.lr = s.lr;
  tc.seed = o.seed + 2;
  tc.task_weights = s.task_weights;
  tc.checkpoint = o.checkpoint;
  tc.skip_idle_experts = o.idle_experts == "skip";
  tc.fused_expert_update = o.expert_update == "backward";
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
              "Adam lr %g, up to %d epochs (patience %d), %d threads, on the %s\n",
              o.dataset.c_str(), splits.source.c_str(), moe::gate_name(cfg.gate.kind),
              search == "none" ? "" : (" + " + search + " permutation").c_str(), (long long)cfg.gate.experts,
              (long long)cfg.gate.k, cfg.path == moe::MoePath::Dense ? "dense" : "sparse", (long long)splits.train.rows(),
              (long long)splits.val.rows(), (long long)splits.test.rows(), (long long)s.batch, s.lr, s.epochs,
              s.patience, num_threads(), o.device == "cuda" ? "CUDA device" : "CPU");
  const train::TrainResult result = train::train_mmoe(model, splits.train, splits.val, tc, [&](const train::EpochReport& r) {
    print_epoch(r, cfg.gate.k);
    if (!run_dir) return;
    run_dir->append_epoch(r);
    if (r.best) train::save_checkpoint(run_dir->model_path(), model);
  });
  const train::Evaluation test = train::evaluate(model, splits.test, s.task_weights, tc.eval_batch);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("best epoch %d%s | test%s | %.1f s\n", result.best_epoch, result.stopped_early ? " (stopped early)" : "",
              metrics_line(test).c_str(), seconds);
  if (run_dir) {
    double sparsity = 0;
    for (const train::GateMetrics& g : test.gates) sparsity += g.sparsity / static_cast<double>(test.gates.size());
    run_dir->write_summary({{"best_epoch", result.best_epoch},
                            {"stopped_early", result.stopped_early},
                            {"val", train::to_json(result.best_val, gate_tasks)},
                            {"test", train::to_json(test, gate_tasks)},
                            {"sparsity", sparsity},
                            {"seconds", seconds},
                            {"epoch_seconds", run_dir->epoch_seconds()},
                            {"resumed_from_epoch", result.reports.front().epoch}});
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
  TrainOptions o;
  CLI::App app{"COMET-MoE: train a multi-gate MoE on the paper's data sets (default: COMET+ on synthetic data)"};
  cli::add_train_options(app, o);
  std::string command;
  for (int i = 0; i < argc; ++i) command += (i ? " " : "") + std::string(argv[i]);
  try {
    cli::parse_train_arguments(app, std::vector<std::string>(argv + 1, argv + argc));
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const Error& e) {
    std::fprintf(stderr, "comet_train: error: %s\n", e.what());
    return 1;
  }
  if (o.list_datasets) {
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
