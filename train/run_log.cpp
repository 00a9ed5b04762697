// Run directories.
#include "train/run_log.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/io/atomic_file.h"

namespace comet::train {
namespace {

// NaN and inf have no JSON form: null says "not measured".
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

void write_text_atomic(const std::string& path, const std::string& text) {
  io::write_file_atomic(path, {{text.data(), text.size()}}, "run directory");
}

// The lines of an existing metrics.jsonl with their epochs; a line that is not an epoch object is refused with its
// file and line number.
std::vector<MetricsLine> read_metrics_lines(const std::string& path) {
  std::ifstream in(path);
  COMET_CHECK(in.good(), "run directory: cannot read '{}'", path);
  std::vector<MetricsLine> lines;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    COMET_CHECK(j.is_object() && j.contains("epoch") && j["epoch"].is_number_integer(),
                "run directory: '{}' line {} is not an epoch's JSON object with an integer \"epoch\" (move the file "
                "away to start it anew)", path, number);
    const nlohmann::json& seconds = j.contains("seconds") ? j["seconds"] : nlohmann::json();
    lines.push_back({j["epoch"].get<int>(), seconds.is_number() ? seconds.get<double>() : 0.0, line});
  }
  return lines;
}

}  // namespace

void write_json_atomic(const std::string& path, const nlohmann::json& value) {
  write_text_atomic(path, value.dump(2) + "\n");
}

nlohmann::json to_json(const Evaluation& e, const std::vector<std::string>& gate_tasks) {
  nlohmann::json tasks = nlohmann::json::object();
  for (const TaskMetrics& t : e.tasks) {
    nlohmann::json m{{"loss", number(t.loss)}};
    if (t.auc) m["auc"] = number(*t.auc);
    if (t.accuracy) m["accuracy"] = number(*t.accuracy);
    if (t.mse) m["mse"] = number(*t.mse);
    tasks[t.name] = m;
  }
  nlohmann::json gates = nlohmann::json::array();
  for (size_t g = 0; g < e.gates.size(); ++g) {
    const GateMetrics& m = e.gates[g];
    gates.push_back({{"task", g < gate_tasks.size() ? gate_tasks[g] : fmt::format("gate{}", g)},
                     {"experts_per_sample", number(m.routing.experts_per_sample)},
                     {"within_k", number(m.routing.within_k)},
                     {"sparsity", number(m.sparsity)},
                     {"usage", m.routing.usage}});
  }
  return {{"loss", number(e.loss)}, {"tasks", tasks}, {"gates", gates}};
}

nlohmann::json to_json(const EpochReport& r, const std::vector<std::string>& gate_tasks) {
  nlohmann::json val = to_json(r.val, gate_tasks);
  nlohmann::json gates = val["gates"];
  val.erase("gates");
  return {{"epoch", r.epoch},
          {"train_loss", r.before_training ? nlohmann::json(nullptr) : number(r.train_loss)},
          {"seconds", r.seconds},
          {"best", r.best},
          {"swap_moves", r.swap_moves},
          {"val", val},
          {"gates", gates}};
}

RunDirectory::RunDirectory(std::string dir, const nlohmann::json& config, std::vector<std::string> gate_tasks)
    : dir_(std::move(dir)), gate_tasks_(std::move(gate_tasks)) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  COMET_CHECK(std::filesystem::is_directory(dir_), "run directory '{}' cannot be created{}", dir_,
              ec ? ": " + ec.message() : std::string());
  write_json_atomic(dir_ + "/config.json", config);
  const std::string metrics = dir_ + "/metrics.jsonl";
  // An earlier call's file is left as it is until the first report says whether this call resumes that run.
  if (!std::filesystem::exists(metrics)) write_text_atomic(metrics, metrics_);
}

void RunDirectory::append_epoch(const EpochReport& r) {
  if (r.before_training) {
    // A resumed call (epoch > 0) continues the earlier lines up to its epoch, whose own line, with its training loss
    // and time, beats the resumed evaluation of the same weights; a fresh run (epoch 0) starts the file anew.
    const std::string path = dir_ + "/metrics.jsonl";
    const std::vector<MetricsLine> previous =
        r.epoch > 0 && std::filesystem::exists(path) ? read_metrics_lines(path) : std::vector<MetricsLine>{};
    metrics_.clear();
    epoch_seconds_ = 0;
    bool have_epoch = false;
    for (const MetricsLine& m : previous) {
      if (m.epoch > r.epoch) continue;
      metrics_ += m.text + "\n";
      epoch_seconds_ += m.seconds;
      have_epoch = have_epoch || m.epoch == r.epoch;
    }
    if (have_epoch) return write_text_atomic(dir_ + "/metrics.jsonl", metrics_);
  }
  metrics_ += to_json(r, gate_tasks_).dump() + "\n";
  epoch_seconds_ += r.seconds;
  write_text_atomic(dir_ + "/metrics.jsonl", metrics_);
}

void RunDirectory::write_summary(const nlohmann::json& summary) const {
  write_json_atomic(dir_ + "/summary.json", summary);
}

}  // namespace comet::train
