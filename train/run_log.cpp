// Run directories.
#include "train/run_log.h"

#include <cmath>
#include <filesystem>

#include "core/io/atomic_file.h"

namespace comet::train {
namespace {

// NaN and inf have no JSON form: null says "not measured".
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

void write_text_atomic(const std::string& path, const std::string& text) {
  io::write_file_atomic(path, {{text.data(), text.size()}}, "run directory");
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
  write_text_atomic(dir_ + "/metrics.jsonl", metrics_);
}

void RunDirectory::append_epoch(const EpochReport& r) {
  metrics_ += to_json(r, gate_tasks_).dump() + "\n";
  write_text_atomic(dir_ + "/metrics.jsonl", metrics_);
}

void RunDirectory::write_summary(const nlohmann::json& summary) const {
  write_json_atomic(dir_ + "/summary.json", summary);
}

}  // namespace comet::train
