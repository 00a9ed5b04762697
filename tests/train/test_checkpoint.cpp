// MMoE checkpoints: a saved and reloaded model predicts bit for bit the same, with the same hard permutation;
// wrong architecture, missing, extra or misshapen tensors are refused with the name, and leave the model unchanged.
// Training checkpoints: training interrupted and resumed ends with exactly the parameters and reports of an
// uninterrupted run (COMET+ with the learned permutation; noisy Top-k with the swap pass); another run is refused.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>

#include "core/io/safetensors.h"
#include "moe/gates.h"
#include "train/checkpoint.h"
#include "data/synthetic.h"
#include "train/train.h"

namespace comet::train {
namespace {

using namespace comet::moe;
using namespace comet::models;
using namespace comet::data;

MmoeConfig small_config(GateKind kind) {
  MmoeConfig cfg;
  cfg.dense_dim = 100;
  cfg.gate.kind = kind;
  cfg.gate.experts = 6;
  cfg.gate.k = 2;
  cfg.gate.gamma = 1e-3;
  cfg.gate.entropy = 1.0;
  cfg.local_search = LocalSearch::Learned;
  cfg.permutation_window_steps = 3;
  return cfg;
}

Dataset synthetic(int64_t samples) {
  SyntheticConfig dc;
  dc.samples = samples;
  return make_synthetic_multitask(dc);
}

Tensor predict(Mmoe& m, const Dataset& d) {
  ag::NoGradGuard no_grad;
  return m.forward(model_input(d), false).predictions[0].value();
}

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string("comet_ckpt_") + name + ".safetensors")).string();
}

struct RunResult {
  std::vector<EpochReport> reports;
  std::vector<std::vector<float>> params;
};

// Trains a model built from seed 1 up to `epochs` (resuming from `checkpoint` when it exists).
RunResult train_run(const MmoeConfig& mc, TrainConfig tc, int epochs, const std::string& checkpoint,
                    const Dataset& data) {
  Generator gen(1);
  Mmoe model(mc, gen);
  tc.epochs = epochs;
  tc.checkpoint = checkpoint;
  RunResult r;
  r.reports = train_mmoe(model, slice(data, 0, 1536), slice(data, 1536, 2048), tc).reports;
  for (auto& [name, v] : model.named_params()) r.params.push_back(v.value().to_vector<float>());
  return r;
}

void check_resume_is_exact(const MmoeConfig& mc, const TrainConfig& tc, const char* name) {
  const Dataset data = synthetic(2048);
  const std::string path = temp_path(name);
  std::filesystem::remove(path);
  const RunResult straight = train_run(mc, tc, 4, "", data);
  const RunResult first = train_run(mc, tc, 2, path, data);
  const RunResult resumed = train_run(mc, tc, 4, path, data);
  REQUIRE(first.reports.size() == 3);
  REQUIRE(resumed.reports.size() == 3);  // the evaluation at epoch 2, then epochs 3 and 4
  CHECK(resumed.reports[0].before_training);
  CHECK(resumed.reports[0].epoch == 2);
  CHECK(resumed.reports[0].val.loss == straight.reports[2].val.loss);
  for (int e = 1; e <= 2; ++e) {
    INFO("epoch " << 2 + e);
    CHECK(resumed.reports[e].epoch == 2 + e);
    CHECK(resumed.reports[e].train_loss == straight.reports[2 + e].train_loss);
    CHECK(resumed.reports[e].val.loss == straight.reports[2 + e].val.loss);
    CHECK(resumed.reports[e].swap_moves == straight.reports[2 + e].swap_moves);
  }
  CHECK(resumed.params == straight.params);
  CHECK(first.params != straight.params);  // the comparison can fail: two more epochs change the parameters
  std::filesystem::remove(path);
}

}  // namespace

TEST_CASE("training checkpoint: COMET+ interrupted after 2 of 4 epochs and resumed equals the straight run") {
  TrainConfig tc;
  tc.batch = 256;  // 6 steps per epoch
  tc.lr = 3e-3;
  for (int64_t window : {9, 15}) {  // the Sinkhorn window ends before the interruption, or after it
    INFO("window " << window << " steps");
    MmoeConfig mc = small_config(GateKind::Comet);
    mc.permutation_window_steps = window;
    check_resume_is_exact(mc, tc, "resume_comet");
  }
}

TEST_CASE("training checkpoint: noisy Top-k with the swap pass resumes exactly (noise and swaps continue)") {
  MmoeConfig mc = small_config(GateKind::TopK);
  mc.gate.noisy_topk = true;
  mc.local_search = LocalSearch::Swap;
  TrainConfig tc;
  tc.batch = 256;
  tc.swap_samples = 256;
  check_resume_is_exact(mc, tc, "resume_topk");
}

TEST_CASE("training checkpoint: skipping idle experts resumes exactly (each expert's step count is saved)") {
  MmoeConfig mc = small_config(GateKind::TopK);
  mc.gate.experts = 12;
  mc.gate.k = 1;
  mc.local_search = LocalSearch::None;
  TrainConfig tc;
  tc.batch = 16;  // few rows per step, so that experts go idle
  tc.skip_idle_experts = true;
  check_resume_is_exact(mc, tc, "resume_idle");
  // Another setting of the option is another run.
  const Dataset data = synthetic(2048);
  const std::string path = temp_path("resume_idle_mismatch");
  std::filesystem::remove(path);
  train_run(mc, tc, 1, path, data);
  TrainConfig other = tc;
  other.skip_idle_experts = false;
  CHECK_THROWS_WITH_AS(train_run(mc, other, 2, path, data), doctest::Contains("idle_experts=skip'"), Error);
  // A step count outside [0, the optimizer's steps] is refused naming the tensor.
  io::NamedTensors tensors = io::load_safetensors(path);
  for (auto& [name, t] : tensors)
    if (name == "train.optimizer.experts.w1.block_steps") t.data<int64_t>()[5] = -1;
  io::save_safetensors(path, tensors, io::load_safetensors_metadata(path));
  CHECK_THROWS_WITH_AS(train_run(mc, tc, 2, path, data),
                       doctest::Contains("train.optimizer.experts.w1.block_steps[5] = -1 is outside [0, 96]"), Error);
  std::filesystem::remove(path);
}

TEST_CASE("training checkpoint: the best epoch's model (weights and permutation) survives a resume") {
  // A learning rate this high makes the validation loss bounce, so the best epoch lies before the interruption
  // (checked below) and the restored model must come from the checkpoint's best state.
  MmoeConfig mc = small_config(GateKind::Comet);
  mc.permutation_window_steps = 9;
  TrainConfig tc;
  tc.batch = 256;
  tc.lr = 0.05;
  tc.restore_best = true;
  const Dataset data = synthetic(2048);
  const std::string path = temp_path("resume_best");
  std::filesystem::remove(path);
  const RunResult straight = train_run(mc, tc, 4, "", data);
  int best = 0;
  for (const EpochReport& r : straight.reports) best = r.best ? r.epoch : best;
  REQUIRE(best >= 1);
  REQUIRE(best <= 2);
  train_run(mc, tc, 2, path, data);
  const RunResult resumed = train_run(mc, tc, 4, path, data);
  CHECK(resumed.params == straight.params);
  std::filesystem::remove(path);
}

TEST_CASE("training checkpoint: another run or a model-only file is refused before anything changes") {
  const Dataset data = synthetic(2048);
  const MmoeConfig mc = small_config(GateKind::Comet);
  const std::string path = temp_path("run_mismatch");
  std::filesystem::remove(path);
  TrainConfig tc;
  tc.batch = 256;
  train_run(mc, tc, 1, path, data);
  TrainConfig other = tc;
  other.lr = 2e-3;
  CHECK_THROWS_WITH_AS(train_run(mc, other, 2, path, data), doctest::Contains("written for another run (field 'lr': 0.001 in the file, 0.002 here)"),
                       Error);
  other = tc;
  other.run_tag = "another data set";
  CHECK_THROWS_WITH_AS(train_run(mc, other, 2, path, data), doctest::Contains("this one is 'batch=256 lr=0.001"),
                       Error);
  // The model part of a training checkpoint loads as a model checkpoint; a model checkpoint is no training one.
  Generator gen(5);
  Mmoe model(mc, gen);
  load_checkpoint(path, model);
  save_checkpoint(path, model);
  CHECK_THROWS_WITH_AS(train_run(mc, tc, 2, path, data), doctest::Contains("written for another format: 'comet-moe mmoe v1'"),
                       Error);
  std::filesystem::remove(path);
}

TEST_CASE("checkpoint round trip: same predictions and permutation after reload") {
  const Dataset data = synthetic(2048);
  Generator g1(1), g2(2);
  Mmoe trained(small_config(GateKind::Comet), g1), fresh(small_config(GateKind::Comet), g2);
  TrainConfig tc;
  tc.epochs = 1;
  tc.batch = 512;
  train_mmoe(trained, slice(data, 0, 1536), slice(data, 1536, 2048), tc);
  const std::string path = temp_path("roundtrip");
  save_checkpoint(path, trained);
  CHECK(predict(fresh, data).to_vector<float>() != predict(trained, data).to_vector<float>());
  load_checkpoint(path, fresh);
  CHECK(fresh.permutation().hard() == trained.permutation().hard());
  CHECK(fresh.permutation().step() == trained.permutation().step());
  CHECK(predict(fresh, data).to_vector<float>() == predict(trained, data).to_vector<float>());
  std::filesystem::remove(path);
}

TEST_CASE("checkpoint errors name the problem and leave the model unchanged") {
  const Dataset data = synthetic(64);
  Generator g1(1), g2(2);
  Mmoe a(small_config(GateKind::Comet), g1);
  const std::string path = temp_path("errors");
  save_checkpoint(path, a);

  Mmoe other(small_config(GateKind::TopK), g2);
  CHECK_THROWS_WITH_AS(load_checkpoint(path, other), doctest::Contains("written for another architecture (field 'gate': comet in the file, topk here)"), Error);

  Mmoe b(small_config(GateKind::Comet), g2);
  const auto before = predict(b, data).to_vector<float>();
  // Same architecture string, one tensor with the wrong shape.
  io::NamedTensors tensors = io::load_safetensors(path);
  const auto meta = io::load_safetensors_metadata(path);
  for (auto& [name, t] : tensors)
    if (name == "experts.b2") t = Tensor::zeros({1, 2});
  io::save_safetensors(path, tensors, meta);
  CHECK_THROWS_WITH_AS(load_checkpoint(path, b), doctest::Contains("tensor 'experts.b2' is [1, 2] f32"), Error);
  CHECK(predict(b, data).to_vector<float>() == before);
  // An extra tensor.
  tensors = io::load_safetensors(path);
  for (auto& [name, t] : tensors)
    if (name == "experts.b2") t = a.named_params()[3].second.value();
  tensors.emplace_back("stray", Tensor::zeros({1}));
  io::save_safetensors(path, tensors, meta);
  CHECK_THROWS_WITH_AS(load_checkpoint(path, b), doctest::Contains("unexpected tensor 'stray'"), Error);
  CHECK_THROWS_WITH_AS(load_checkpoint(path + ".missing", b), doctest::Contains(".missing"), Error);
  std::filesystem::remove(path);
}

TEST_CASE("checkpoint: the Hash gate's table is saved, so a model built from another seed routes as the saved one") {
  MmoeConfig mc = small_config(GateKind::Hash);
  mc.gate.k = 1;
  mc.gate.hash_keys = 1000;
  const Dataset data = synthetic(64);
  Generator g1(1), g2(2);
  Mmoe saved(mc, g1), loaded(mc, g2);
  REQUIRE(static_cast<HashGate&>(saved.gate(0)).table() != static_cast<HashGate&>(loaded.gate(0)).table());
  const std::string path = temp_path("hash");
  save_checkpoint(path, saved);
  load_checkpoint(path, loaded);
  CHECK(static_cast<HashGate&>(loaded.gate(0)).table() == static_cast<HashGate&>(saved.gate(0)).table());
  CHECK(predict(loaded, data).to_vector<float>() == predict(saved, data).to_vector<float>());
  // A table sending a key outside [0, n) is refused, and the model is left as it was.
  io::NamedTensors tensors = io::load_safetensors(path);
  for (auto& [name, t] : tensors)
    if (name == "task1.gate.hash_table") t.data<int64_t>()[7] = 6;
  io::save_safetensors(path, tensors, io::load_safetensors_metadata(path));
  Generator g3(3);
  Mmoe fresh(mc, g3);
  const auto before = predict(fresh, data).to_vector<float>();
  CHECK_THROWS_WITH_AS(load_checkpoint(path, fresh), doctest::Contains("hash_table sends key 7 to expert 6, outside [0, 6)"),
                       Error);
  CHECK(predict(fresh, data).to_vector<float>() == before);
  std::filesystem::remove(path);
}

TEST_CASE("checkpoint: gate settings are part of the model (gamma, entropy), refused naming the field") {
  Generator g1(1), g2(1);
  Mmoe narrow(small_config(GateKind::Comet), g1);
  MmoeConfig wide_config = small_config(GateKind::Comet);
  wide_config.gate.gamma = 1.0;
  Mmoe wide(wide_config, g2);
  const std::string path = temp_path("gamma");
  save_checkpoint(path, narrow);
  CHECK_THROWS_WITH_AS(load_checkpoint(path, wide), doctest::Contains("(field 'gamma': 0.001 in the file, 1 here)"),
                       Error);
  std::filesystem::remove(path);
}

TEST_CASE("checkpoint: a NaN anywhere is refused naming the tensor, and nothing is copied before that check") {
  const Dataset data = synthetic(64);
  Generator g1(1), g2(2);
  Mmoe a(small_config(GateKind::Comet), g1), b(small_config(GateKind::Comet), g2);
  const std::string path = temp_path("nan");
  save_checkpoint(path, a);
  io::NamedTensors tensors = io::load_safetensors(path);
  for (auto& [name, t] : tensors)  // the last parameter, so that every other one would be copied by then
    if (name == "permutation.scores") t.data<float>()[3] = std::nanf("");
  io::save_safetensors(path, tensors, io::load_safetensors_metadata(path));
  const auto before = predict(b, data).to_vector<float>();
  CHECK_THROWS_WITH_AS(load_checkpoint(path, b),
                       doctest::Contains("tensor 'permutation.scores' holds a non-finite value (nan) at element 3"), Error);
  CHECK(predict(b, data).to_vector<float>() == before);
  std::filesystem::remove(path);
}

}  // namespace comet::train
