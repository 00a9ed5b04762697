// Run directories: metrics.jsonl gets one line per report; a resumed call (its first report before training at an
// epoch > 0) continues the lines of the call it resumes instead of starting the file anew, keeping the earlier line
// of its own epoch, and a fresh run over an old directory starts anew; epoch_seconds sums every kept epoch; a line
// that is not an epoch's object is refused, on resuming, naming the file and line.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "train/run_log.h"

namespace comet::train {
namespace {

namespace fs = std::filesystem;

std::string fresh_dir(const char* name) {
  const fs::path dir = fs::temp_directory_path() / fmt::format("comet_run_log_{}_{}", name, getpid());
  fs::remove_all(dir);
  return dir.string();
}

EpochReport report(int epoch, bool before_training, double seconds, double loss) {
  EpochReport r;
  r.epoch = epoch;
  r.before_training = before_training;
  r.seconds = seconds;
  r.train_loss = loss;
  r.val.loss = loss;
  return r;
}

std::vector<nlohmann::json> lines(const std::string& dir) {
  std::ifstream in(dir + "/metrics.jsonl");
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

std::vector<int> epochs(const std::string& dir) {
  std::vector<int> out;
  for (const nlohmann::json& j : lines(dir)) out.push_back(j["epoch"].get<int>());
  return out;
}

// Epochs 0 (the evaluation before training) to `last`, epoch e taking e seconds.
void first_call(const std::string& dir, int last) {
  RunDirectory run(dir, {{"epochs", last}}, {"t1"});
  run.append_epoch(report(0, true, 0.0, 1.0));
  for (int e = 1; e <= last; ++e) run.append_epoch(report(e, false, e, 1.0 / (e + 1)));
  CHECK(run.epoch_seconds() == last * (last + 1) / 2.0);
}

}  // namespace

TEST_CASE("run directory: a resumed call continues metrics.jsonl, keeping the earlier line of its epoch") {
  const std::string dir = fresh_dir("resume");
  first_call(dir, 3);
  CHECK(epochs(dir) == std::vector<int>{0, 1, 2, 3});
  RunDirectory resumed(dir, {{"epochs", 5}}, {"t1"});
  CHECK(epochs(dir) == std::vector<int>{0, 1, 2, 3});  // nothing is lost before the first report
  resumed.append_epoch(report(3, true, 0.0, 0.25));
  resumed.append_epoch(report(4, false, 10.0, 0.2));
  CHECK(epochs(dir) == std::vector<int>{0, 1, 2, 3, 4});
  const auto j = lines(dir);
  CHECK(j[3]["seconds"] == 3.0);  // the first call's line for epoch 3, with its training time
  CHECK(j[3]["train_loss"] == 0.25);
  CHECK(j[4]["seconds"] == 10.0);
  CHECK(resumed.epoch_seconds() == 1.0 + 2.0 + 3.0 + 10.0);
}

TEST_CASE("run directory: a resume from an earlier checkpoint drops later lines; a missing line comes from the report") {
  const std::string dir = fresh_dir("older");
  first_call(dir, 3);
  {
    RunDirectory resumed(dir, {}, {"t1"});
    resumed.append_epoch(report(1, true, 0.0, 0.5));
    CHECK(epochs(dir) == std::vector<int>{0, 1});
    CHECK(resumed.epoch_seconds() == 1.0);
  }
  // The checkpoint of epoch 2 was written but the process died before its line: the resumed report stands in.
  RunDirectory resumed(dir, {}, {"t1"});
  resumed.append_epoch(report(2, true, 0.0, 0.4));
  CHECK(epochs(dir) == std::vector<int>{0, 1, 2});
  CHECK(lines(dir)[2]["train_loss"].is_null());
  CHECK(resumed.epoch_seconds() == 1.0);
}

TEST_CASE("run directory: a fresh run over an old directory starts metrics.jsonl anew") {
  const std::string dir = fresh_dir("fresh");
  first_call(dir, 3);
  RunDirectory again(dir, {}, {"t1"});
  again.append_epoch(report(0, true, 0.0, 1.0));
  again.append_epoch(report(1, false, 7.0, 0.5));
  CHECK(epochs(dir) == std::vector<int>{0, 1});
  CHECK(lines(dir)[1]["seconds"] == 7.0);
  CHECK(again.epoch_seconds() == 7.0);
}

TEST_CASE("run directory: CRLF line ends are read; a line that is not an epoch's object is refused with its line") {
  const std::string dir = fresh_dir("bad");
  fs::create_directories(dir);
  {
    std::ofstream out(dir + "/metrics.jsonl", std::ios::binary);
    out << "{\"epoch\":0,\"seconds\":0}\r\n{\"epoch\":1,\"seconds\":2.5}\r\n";
  }
  {
    RunDirectory resumed(dir, {}, {"t1"});
    resumed.append_epoch(report(1, true, 0.0, 0.5));
    CHECK(epochs(dir) == std::vector<int>{0, 1});
    CHECK(resumed.epoch_seconds() == 2.5);
  }
  {
    std::ofstream out(dir + "/metrics.jsonl", std::ios::binary);
    out << "{\"epoch\":0}\n{\"epoch\":\"one\"}\n";
  }
  RunDirectory resumed(dir, {}, {"t1"});
  const std::string message = dir + "/metrics.jsonl' line 2 is not an epoch's JSON object";
  CHECK_THROWS_WITH(resumed.append_epoch(report(1, true, 0.0, 0.5)), doctest::Contains(message.c_str()));
  {
    std::ofstream out(dir + "/metrics.jsonl", std::ios::binary);
    out << "{\"epoch\":0}\n{\"epoch\":1,\n";
  }
  CHECK_THROWS_WITH(resumed.append_epoch(report(1, true, 0.0, 0.5)), doctest::Contains("metrics.jsonl' line 2 is not"));
  // A fresh run does not read the old file: it starts anew.
  resumed.append_epoch(report(0, true, 0.0, 1.0));
  CHECK(epochs(dir) == std::vector<int>{0});
}

}  // namespace comet::train
