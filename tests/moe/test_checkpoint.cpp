// MMoE checkpoints: a saved and reloaded model predicts bit for bit the same, with the same hard permutation;
// wrong architecture, missing, extra or misshapen tensors are refused with the name, and leave the model unchanged.
#include <doctest/doctest.h>

#include <filesystem>

#include "core/io/safetensors.h"
#include "moe/checkpoint.h"
#include "moe/train.h"

namespace comet::moe {
namespace {

MmoeConfig small_config(GateKind kind) {
  MmoeConfig cfg;
  cfg.input_dim = 100;
  cfg.gate.kind = kind;
  cfg.gate.experts = 6;
  cfg.gate.k = 2;
  cfg.gate.gamma = 1e-3;
  cfg.gate.entropy = 1.0;
  cfg.local_search = LocalSearch::Learned;
  cfg.permutation_window_steps = 3;
  return cfg;
}

Tensor predict(Mmoe& m, const MultiTaskData& d) {
  ag::NoGradGuard no_grad;
  return m.forward(ag::constant(d.x), d.keys, false).predictions[0].value();
}

std::string temp_path(const char* name) {
  return (std::filesystem::temp_directory_path() / (std::string("comet_ckpt_") + name + ".safetensors")).string();
}

}  // namespace

TEST_CASE("checkpoint round trip: same predictions and permutation after reload") {
  SyntheticConfig dc;
  dc.samples = 2048;
  const MultiTaskData data = make_synthetic_multitask(dc);
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
  SyntheticConfig dc;
  dc.samples = 64;
  const MultiTaskData data = make_synthetic_multitask(dc);
  Generator g1(1), g2(2);
  Mmoe a(small_config(GateKind::Comet), g1);
  const std::string path = temp_path("errors");
  save_checkpoint(path, a);

  Mmoe other(small_config(GateKind::TopK), g2);
  CHECK_THROWS_WITH_AS(load_checkpoint(path, other), doctest::Contains("written for 'gate=comet"), Error);

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

}  // namespace comet::moe
