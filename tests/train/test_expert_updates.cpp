// How the experts are updated. Skipping idle experts (TrainConfig::skip_idle_experts): experts_with_rows on a
// hand-worked case; over two training steps each expert's step count (in the training checkpoint) is the number of
// steps in which it received rows, an expert without rows keeps its weights bit for bit, and one with rows in the
// first step moves exactly as without the option (the first Adam step of either counts 1). The fused update
// (TrainConfig::fused_expert_update): training ends with the same bits as with the separate step, for MLP and CNN
// experts, sparse and dense paths, the learned permutation, idle experts skipped and one shared gate (the weights'
// gradients then come in pieces), at 1 and 2 threads.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "core/io/safetensors.h"
#include "core/threading.h"
#include "data/synthetic.h"
#include "moe/moe_layer.h"
#include "test_util.h"
#include "train/train.h"

namespace comet::train {
namespace {

using namespace comet::models;

// Expert e's block of every expert parameter ("experts.*", first dimension the expert), flattened in order.
std::vector<float> expert_block(Mmoe& model, int64_t e) {
  std::vector<float> out;
  for (auto& [name, v] : model.named_params()) {
    if (name.rfind("experts.", 0) != 0) continue;
    const int64_t size = v.value().numel() / v.shape()[0];
    const float* p = v.value().data<float>() + e * size;
    out.insert(out.end(), p, p + size);
  }
  return out;
}

}  // namespace

TEST_CASE("experts_with_rows: the union over the gates of the experts with a non-zero weight") {
  const Tensor g1 = Tensor::from_vector<float>({2, 4}, {0.5f, 0, 0.5f, 0, 1, 0, 0, 0});
  const Tensor g2 = Tensor::from_vector<float>({2, 4}, {0, 0, 0, 0, 0, 0, 0, -0.0f});
  CHECK(moe::experts_with_rows({g1}) == std::vector<uint8_t>{1, 0, 1, 0});
  const Tensor g3 = Tensor::from_vector<double>({1, 4}, {0, 0, 0, 1e-300});
  CHECK(moe::experts_with_rows({g1, g2, g3}) == std::vector<uint8_t>{1, 0, 1, 1});  // -0 is zero
  CHECK_THROWS_WITH_AS(moe::experts_with_rows({g1, Tensor::zeros({2, 3})}),
                       "experts_with_rows: gate weights [2, 3] among gate weights [B, 4]", Error);
}

TEST_CASE("idle experts: experts without rows keep their weights and step counts; the others step as usual") {
  data::SyntheticConfig dc;
  dc.samples = 48;
  const data::Dataset all = data::make_synthetic_multitask(dc);
  const data::Dataset train = data::slice(all, 0, 16), val = data::slice(all, 16, 48);
  MmoeConfig mc;
  mc.dense_dim = dc.dim;
  mc.gate.kind = moe::GateKind::TopK;
  mc.gate.experts = 16;
  mc.gate.k = 1;
  mc.local_search = LocalSearch::None;
  // One step per epoch on every training row, so which experts get rows does not depend on the shuffled order, and
  // the model after an epoch tells which experts the next step uses.
  const auto trained = [&](int epochs, bool skip, const std::string& checkpoint = "") {
    Generator gen(4);
    auto model = std::make_unique<Mmoe>(mc, gen);
    TrainConfig tc;
    tc.epochs = epochs;
    tc.batch = 16;
    tc.skip_idle_experts = skip;
    tc.checkpoint = checkpoint;
    if (epochs > 0) train_mmoe(*model, train, val, tc);
    return model;
  };
  const auto used_by = [&](Mmoe& m) { return moe::experts_with_rows(m.forward(model_input(train), true).gate_weights); };
  auto initial = trained(0, true), skipped1 = trained(1, true), updated1 = trained(1, false);
  const std::vector<uint8_t> used1 = used_by(*initial), used2 = used_by(*skipped1);
  const std::string path = (std::filesystem::temp_directory_path() / "comet_idle_steps.safetensors").string();
  std::filesystem::remove(path);
  auto skipped2 = trained(2, true, path);
  std::vector<int64_t> block_steps;
  for (auto& [name, t] : io::load_safetensors(path))
    if (name == "train.optimizer.experts.w1.block_steps") block_steps = t.to_vector<int64_t>();
  std::filesystem::remove(path);
  REQUIRE(block_steps.size() == 16);
  int idle = 0;
  for (int64_t e = 0; e < mc.gate.experts; ++e) {
    CAPTURE(e);
    CHECK(block_steps[e] == used1[e] + used2[e]);
    // Step 1: an expert with rows moves exactly as without the option (both count it as step 1); one without stays.
    if (used1[e]) {
      CHECK(expert_block(*skipped1, e) == expert_block(*updated1, e));
      CHECK(expert_block(*skipped1, e) != expert_block(*initial, e));
    } else {
      ++idle;
      CHECK(expert_block(*skipped1, e) == expert_block(*initial, e));
    }
    // Step 2: an expert without rows keeps the weights it had (without the option its momentum would move it).
    if (!used2[e]) CHECK(expert_block(*skipped2, e) == expert_block(*skipped1, e));
  }
  CHECK(idle >= 2);  // the case has idle experts to skip (16 rows, 16 experts, k = 1)
  CHECK(idle < mc.gate.experts);
}

TEST_CASE("fused expert update: the same parameters and losses, bit for bit, as the separate step") {
  struct Case {
    const char* name;
    moe::GateKind gate;
    LocalSearch search;
    moe::MoePath path;
    bool skip_idle, cnn, shared_gate = false;
  };
  const Case cases[] = {
      {"comet+ sparse", moe::GateKind::Comet, LocalSearch::Learned, moe::MoePath::Sparse, false, false},
      {"topk sparse, idle skipped", moe::GateKind::TopK, LocalSearch::None, moe::MoePath::Sparse, true, false},
      {"softmax dense path", moe::GateKind::Softmax, LocalSearch::None, moe::MoePath::Dense, false, false},
      {"dselect, CNN experts", moe::GateKind::DSelectK, LocalSearch::None, moe::MoePath::Sparse, false, true},
      // One gate: the experts' weights are read once per step, so their gradients come in pieces (Node::grad_pieces).
      {"topk sparse, one shared gate, idle skipped", moe::GateKind::TopK, LocalSearch::None, moe::MoePath::Sparse, true,
       false, true},
  };
  data::SyntheticConfig dc;
  dc.samples = 768;
  dc.dim = 64;  // an 8 x 8 image for the CNN experts
  const data::Dataset all = data::make_synthetic_multitask(dc);
  const data::Dataset train = data::slice(all, 0, 512), val = data::slice(all, 512, 768);
  for (const Case& c : cases)
    for (int threads : {1, 2}) {
      const std::string name = c.name;  // a string, so that a failure prints the case's name
      CAPTURE(name);
      CAPTURE(threads);
      const ThreadScope scope(threads);
      MmoeConfig mc;
      mc.dense_dim = dc.dim;
      mc.gate.kind = c.gate;
      mc.gate.experts = 6;
      mc.gate.k = 2;
      mc.gate.gamma = 1e-2;
      mc.local_search = c.search;
      mc.permutation_window_steps = 6;
      mc.path = c.path;
      mc.shared_gate = c.shared_gate;
      mc.expert_options.dropout = 0.25;
      if (c.cnn) {
        mc.expert_kind = ExpertKind::Cnn;
        mc.cnn = {1, 8, 8, {3}, 3, {8}};
      }
      const auto run = [&](bool fused) {
        Generator gen(9);
        Mmoe model(mc, gen);
        TrainConfig tc;
        tc.epochs = 2;
        tc.batch = 64;
        tc.lr = 3e-3;
        tc.skip_idle_experts = c.skip_idle;
        tc.fused_expert_update = fused;
        std::vector<double> losses;
        for (const EpochReport& r : train_mmoe(model, train, val, tc).reports) losses.push_back(r.val.loss);
        std::vector<std::vector<float>> params;
        for (auto& [name, v] : model.named_params()) params.push_back(v.value().to_vector<float>());
        return std::make_pair(losses, params);
      };
      const auto separate = run(false), fused = run(true);
      CHECK(fused.first == separate.first);
      CHECK(fused.second == separate.second);
    }
}

}  // namespace comet::train
