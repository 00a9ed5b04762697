// libFuzzer target: train/checkpoint.h load_checkpoint of arbitrary bytes into a small MMoE (COMET gates, learned
// permutation). A refused checkpoint must leave the model's state (parameters, permutation) bit for bit unchanged;
// a loaded one is undone before the next input. Set COMET_FUZZ_WRITE_SEED=FILE to write this model's checkpoint
// (the seed of fuzz/corpus/fuzz_checkpoint).
#include <cstring>

#include "fuzz/fuzz_common.h"
#include "models/mmoe.h"
#include "train/checkpoint.h"

namespace {

using namespace comet;

models::Mmoe& model() {
  static models::Mmoe* m = [] {
    models::MmoeConfig cfg;
    cfg.dense_dim = 3;
    cfg.expert_sizes = {2};
    cfg.tower_hidden = {2};
    cfg.task_outputs = {1, 1};
    cfg.gate.kind = moe::GateKind::Comet;
    cfg.gate.experts = 4;
    cfg.gate.k = 2;
    cfg.gate.gamma = 1e-3;
    cfg.local_search = models::LocalSearch::Learned;
    cfg.permutation_window_steps = 3;
    Generator gen(1);
    return new models::Mmoe(cfg, gen);
  }();
  return *m;
}

const io::NamedTensors& original_state() {
  static const io::NamedTensors s = train::model_state(model());
  return s;
}

bool same_state(const io::NamedTensors& a, const io::NamedTensors& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const Tensor& x = a[i].second;
    const Tensor& y = b[i].second;
    if (a[i].first != b[i].first || x.shape() != y.shape() || x.dtype() != y.dtype()) return false;
    if (std::memcmp(x.raw(), y.raw(), x.nbytes()) != 0) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)original_state();
  if (const char* seed = std::getenv("COMET_FUZZ_WRITE_SEED")) train::save_checkpoint(seed, model());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = fuzz::write_file("input.safetensors", data, size);
  bool loaded = false;
  fuzz::expect_only_comet_errors([&] {
    train::load_checkpoint(path, model());
    loaded = true;
  });
  if (loaded) {
    train::restore_model_state(model(), original_state());
  } else if (!same_state(train::model_state(model()), original_state())) {
    std::fprintf(stderr, "fuzz: a refused checkpoint changed the model\n");
    std::abort();
  }
  return 0;
}
