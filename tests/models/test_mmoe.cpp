// The multi-gate MoE on tiny sizes: the recommender model (id embeddings + dense input, MLP experts, a binary and a
// masked regression task) and the vision model (CNN experts on 1x12x12 images, two 3-class tasks; shared gate on and
// off), for every gate kind with local search none and learned: an end-to-end gradient check in F64 of the task loss
// plus the regularisers w.r.t. every model parameter (embeddings included); the sparse path equal to the dense path
// (outputs and every parameter gradient); stable unique parameter names; forward refusing wrong ids / dense shapes.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <algorithm>
#include <set>

#include "autograd/device.h"
#include "models/mmoe.h"
#include "train/loss.h"
#include "test_util.h"

namespace comet::models {
namespace {

using ag::Var;
using moe::GateKind;

const GateKind kAllGates[] = {GateKind::Softmax, GateKind::TopK, GateKind::Hash, GateKind::DSelectK, GateKind::Comet};
constexpr int64_t kBatch = 6, kExperts = 4;

enum class Preset { Recommender, Vision, VisionShared };
const char* preset_name(Preset p) {
  return p == Preset::Recommender ? "recommender" : p == Preset::Vision ? "vision" : "vision shared gate";
}

MmoeConfig make_config(Preset preset, GateKind kind, LocalSearch search) {
  MmoeConfig cfg;
  cfg.gate.kind = kind;
  cfg.gate.experts = kExperts;
  cfg.gate.k = kind == GateKind::Hash ? 1 : 2;
  cfg.gate.gamma = 1.0;
  cfg.gate.entropy = kind == GateKind::Comet || kind == GateKind::DSelectK ? 0.1 : 0.0;
  cfg.gate.hash_keys = 5;  // the user vocabulary
  cfg.local_search = search;
  cfg.permutation_window_steps = 1000;  // the soft (Sinkhorn) matrix throughout the checks
  cfg.permutation_zeta = 0.1;
  cfg.tower_hidden = {3};
  if (preset == Preset::Recommender) {
    cfg.id_vocab = {5, 7};
    cfg.embedding_dim = 3;
    cfg.dense_dim = 2;
    cfg.expert_sizes = {4};
    cfg.expert_options.relu_last = true;
    cfg.task_outputs = {1, 1};
  } else {
    cfg.expert_kind = ExpertKind::Cnn;
    cfg.dense_dim = 144;
    cfg.cnn.channels = 1;
    cfg.cnn.height = cfg.cnn.width = 12;
    cfg.cnn.kernel = 3;
    cfg.cnn.filters = {2};  // 12 -> 10 -> pool 5 (a second 3x3 block would leave an odd 3x3)
    cfg.cnn.dense = {4};
    cfg.task_outputs = {3, 3};
    cfg.shared_gate = preset == Preset::VisionShared;
  }
  return cfg;
}

// A batch fitting the preset: ids (user, item) in range (for the vision model the user column only serves as Hash
// key), dense features / pixels in `dtype`, targets, and a regression mask with unobserved rows.
struct Batch {
  data::Dataset data;
  ModelInput input;
};

Batch make_batch(Preset preset, int64_t rows, DType dtype, uint64_t seed) {
  Generator gen(seed);
  data::Dataset d;
  d.ids = Tensor::empty({rows, 2}, DType::I64);
  for (int64_t b = 0; b < rows; ++b) {
    d.ids.data<int64_t>()[2 * b] = (b * 3 + static_cast<int64_t>(seed)) % 5;
    d.ids.data<int64_t>()[2 * b + 1] = (b * 5 + 1) % 7;
  }
  d.id_names = {"user", "item"};
  d.vocab = {5, 7};
  d.key_column = 0;
  const int64_t D = preset == Preset::Recommender ? 2 : 144;
  d.dense = test::random_tensor({rows, D}, gen, -1.0, 1.0, DType::F32);
  d.targets = Tensor::empty({rows, 2});
  if (preset == Preset::Recommender) {
    d.tasks = {{"click", data::TaskKind::Binary, 0}, {"rating", data::TaskKind::Regression, 0}};
    d.mask = Tensor::full({rows, 2}, 1.0);
    for (int64_t b = 0; b < rows; ++b) {
      d.targets.data<float>()[2 * b] = static_cast<float>(b % 2);
      d.targets.data<float>()[2 * b + 1] = 0.5f * static_cast<float>(b) - 1.0f;
      d.mask.data<float>()[2 * b + 1] = b % 3 == 1 ? 0.0f : 1.0f;  // rows 1, 4 unobserved
    }
  } else {
    d.tasks = {{"left", data::TaskKind::Multiclass, 3}, {"right", data::TaskKind::Multiclass, 3}};
    d.image = {1, 12, 12};
    for (int64_t b = 0; b < rows; ++b) {
      d.targets.data<float>()[2 * b] = static_cast<float>(b % 3);
      d.targets.data<float>()[2 * b + 1] = static_cast<float>((b + 1) % 3);
    }
  }
  d.validate("test batch");
  Batch out{d, model_input(d)};
  out.input.dense = d.dense.to(dtype);
  if (preset != Preset::Recommender) out.input.ids = Tensor();  // no embeddings: the ids only give the Hash keys
  return out;
}

// Every parameter to F64, in place (a Var is a handle to the parameter's node, shared with the model). With
// `alive`, the biases of the experts and towers are redrawn in [0.05, 0.3] so that the tiny ReLU layers are not dead
// for the whole batch (a dead tower would leave its weights and the gate feeding it with zero gradients, and the
// check would compare nothing).
void to_f64(Mmoe& model, bool alive = true) {
  Generator gen(99);
  for (auto& [name, v] : model.named_params()) {
    Var handle = v;
    handle.value() = handle.value().to(DType::F64);
    const bool bias = name.find("bias") != std::string::npos || name.find(".b") != std::string::npos;
    if (alive && bias && (name.rfind("experts.", 0) == 0 || name.find(".tower.") != std::string::npos))
      gen.uniform(handle.value(), 0.05, 0.3);
  }
}

// The training objective: the task-weighted loss plus the gates' and the permutation's regularisers. A learned
// permutation is put back at the same window position first, so every evaluation uses the same Sinkhorn schedule.
Var objective(Mmoe& model, const Batch& batch) {
  if (model.config().local_search == LocalSearch::Learned) model.permutation().restore(model.permutation().hard(), 0);
  MmoeOutput out = model.forward(batch.input, true);
  Var loss = train::multitask_loss(out.predictions, batch.data, {0.7, 0.3});
  return out.regularization.defined() ? ag::add(loss, out.regularization) : loss;
}

struct CheckResult {
  bool ok = true;
  double worst = 0;
  std::string message;
};

// Central differences on the model's own parameters (perturbed in place) against the tape's gradients, with the
// rule of autograd/gradcheck.h: |a - n| <= atol + rtol max(|a|, |n|); up to max_coords seeded coordinates per tensor.
// Parameters named in `skip` are left out of the finite differences.
CheckResult model_gradcheck(Mmoe& model, const std::function<Var()>& loss, const std::set<std::string>& skip = {},
                            int64_t max_coords = 12, double eps = 1e-6, double rtol = 1e-4, double atol = 1e-8) {
  auto params = model.named_params();
  for (auto& [name, v] : params) {
    Var h = v;
    h.zero_grad();
  }
  const Var L = loss();
  REQUIRE(L.dtype() == DType::F64);
  REQUIRE(L.value().numel() == 1);
  ag::backward(L);
  std::vector<Tensor> grads;
  for (auto& [name, v] : params) grads.push_back(v.grad().defined() ? v.grad().clone() : zeros_like(v.value()));
  CheckResult r;
  Generator pick(4321);
  ag::NoGradGuard no_grad;
  for (size_t k = 0; k < params.size(); ++k) {
    if (skip.count(params[k].first)) continue;
    Var h = params[k].second;
    const int64_t n = h.value().numel();
    std::vector<int64_t> coords;
    if (n <= max_coords) {
      for (int64_t i = 0; i < n; ++i) coords.push_back(i);
    } else {
      auto perm = pick.permutation(n);
      coords.assign(perm.begin(), perm.begin() + max_coords);
    }
    double* x = h.value().data<double>();
    for (int64_t i : coords) {
      const double saved = x[i];
      x[i] = saved + eps;
      const double lp = loss().value().item();
      x[i] = saved - eps;
      const double lm = loss().value().item();
      x[i] = saved;
      const double numeric = (lp - lm) / (2 * eps), analytic = grads[k].item(i);
      const double err =
          std::fabs(analytic - numeric) / (atol + rtol * std::max(std::fabs(analytic), std::fabs(numeric)));
      if (!(err <= r.worst)) {
        r.worst = std::isnan(err) ? INFINITY : err;
        r.message = fmt::format("{} {} element {}: analytic {:.10g}, numeric {:.10g}", params[k].first,
                                shape_str(h.shape()), i, analytic, numeric);
      }
    }
  }
  r.ok = r.worst <= 1.0;
  return r;
}


std::string label(Preset p, GateKind kind, LocalSearch s) {
  return fmt::format("{} {} {}", preset_name(p), moe::gate_name(kind), local_search_name(s));
}

}  // namespace

TEST_CASE("end-to-end gradient check (F64) of the task loss w.r.t. every parameter, every gate") {
  for (Preset preset : {Preset::Recommender, Preset::Vision, Preset::VisionShared})
    for (GateKind kind : kAllGates)
      for (LocalSearch search : {LocalSearch::None, LocalSearch::Learned}) {
        const MmoeConfig cfg = make_config(preset, kind, search);
        Generator gen(17);
        Mmoe model(cfg, gen);
        to_f64(model);
        const Batch batch = make_batch(preset, kBatch, DType::F64, 3);
        // The learned permutation's scores are left out: moe/permutation.cpp returns its Sinkhorn matrix (and
        // regulariser) cast to f32, so a 1e-6 step of a score only moves the loss by f32 rounding steps and central
        // differences cannot resolve its gradient. Their gradient is required to be finite and non-zero below.
        const CheckResult r = model_gradcheck(model, [&] { return objective(model, batch); }, {"permutation.scores"});
        INFO(label(preset, kind, search) << ": worst " << r.worst << " at " << r.message);
        CHECK(r.ok);
        // Every parameter outside the experts takes part (an expert may get no sample under sparse routing): at
        // least one non-zero gradient entry per tensor, so the check above compared something.
        for (auto& [name, v] : model.named_params()) {
          if (name.rfind("experts.", 0) == 0 && kind != GateKind::Softmax) continue;
          double norm = 0;
          if (v.grad().defined())
            for (int64_t i = 0; i < v.grad().numel(); ++i) norm += std::fabs(v.grad().item(i));
          INFO(label(preset, kind, search) << " parameter " << name);
          CHECK(std::isfinite(norm));
          CHECK(norm > 0.0);
        }
      }
}

namespace {

// One training step's numbers of the model of `cfg` (F64, seed 23) on `device`, brought to the host: the loss, the
// predictions, the gate weights and every parameter's gradient.
std::vector<Tensor> step_outputs(const MmoeConfig& cfg, Preset preset, Device device) {
  Generator gen(23);
  Mmoe model(cfg, gen);
  to_f64(model);
  model.to(device);  // the batch stays on the host: forward brings the dense input over
  CHECK(model.device() == device);
  const Batch batch = make_batch(preset, 9, DType::F64, 4);
  if (cfg.local_search == LocalSearch::Learned) model.permutation().restore(model.permutation().hard(), 0);
  MmoeOutput out = model.forward(batch.input, true);
  Var loss = train::multitask_loss(out.predictions, batch.data, {0.4, 0.6});
  if (out.regularization.defined()) loss = ag::add(loss, out.regularization);
  ag::backward(loss);
  std::vector<Tensor> o{ag::copy_to(loss.value(), Device::CPU)};
  for (const Var& p : out.predictions) o.push_back(ag::copy_to(p.value(), Device::CPU));
  for (const Tensor& g : out.gate_weights) o.push_back(ag::copy_to(g, Device::CPU));
  for (auto& [name, v] : model.named_params()) {
    CHECK(v.value().device() == device);
    o.push_back(v.grad().defined() ? ag::copy_to(v.grad(), Device::CPU) : zeros_like(v.value()));
  }
  return o;
}

void check_same_outputs(const std::vector<Tensor>& got, const std::vector<Tensor>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("output " << i);
    COMET_CHECK_CLOSE(got[i], want[i], 1e-10, 1e-14 + 1e-10 * test::rms(want[i]));
  }
}

}  // namespace

TEST_CASE("the sparse path equals the dense path on the models: outputs and every gradient (F64)") {
  for (Preset preset : {Preset::Recommender, Preset::Vision, Preset::VisionShared})
    for (GateKind kind : kAllGates)
      for (LocalSearch search : {LocalSearch::None, LocalSearch::Learned}) {
        INFO(label(preset, kind, search));
        MmoeConfig cfg = make_config(preset, kind, search);
        cfg.path = moe::MoePath::Sparse;
        const std::vector<Tensor> sparse = step_outputs(cfg, preset, Device::CPU);
        cfg.path = moe::MoePath::Dense;
        check_same_outputs(sparse, step_outputs(cfg, preset, Device::CPU));
      }
}

TEST_CASE("the models on the device equal the CPU: outputs, gate weights and every gradient (F64), every gate") {
  COMET_SKIP_WITHOUT_CUDA();
  for (Preset preset : {Preset::Recommender, Preset::Vision, Preset::VisionShared})
    for (GateKind kind : kAllGates)
      for (LocalSearch search : {LocalSearch::None, LocalSearch::Learned}) {
        INFO(label(preset, kind, search));
        const MmoeConfig cfg = make_config(preset, kind, search);
        check_same_outputs(step_outputs(cfg, preset, Device::CUDA), step_outputs(cfg, preset, Device::CPU));
      }
}

TEST_CASE("the sparse path equals the dense path in F32 (the default models)") {
  for (Preset preset : {Preset::Recommender, Preset::Vision})
    for (GateKind kind : kAllGates) {
      std::vector<Tensor> outs[2];
      for (moe::MoePath path : {moe::MoePath::Sparse, moe::MoePath::Dense}) {
        MmoeConfig cfg = make_config(preset, kind, LocalSearch::None);
        cfg.path = path;
        Generator gen(29);
        Mmoe model(cfg, gen);
        const Batch batch = make_batch(preset, 11, DType::F32, 5);
        MmoeOutput out = model.forward(batch.input, false);
        for (const Var& p : out.predictions) outs[path == moe::MoePath::Sparse ? 0 : 1].push_back(p.value());
      }
      for (size_t i = 0; i < outs[0].size(); ++i) {
        INFO(preset_name(preset) << " " << moe::gate_name(kind) << " task " << i);
        COMET_CHECK_CLOSE(outs[0][i], outs[1][i], 1e-5, 1e-6 * test::rms(outs[1][i]));
      }
    }
}

TEST_CASE("parameter names: unique, stable, and one gate's parameters with a shared gate") {
  auto names = [](Mmoe& m) {
    std::vector<std::string> n;
    for (auto& [name, v] : m.named_params()) n.push_back(name);
    return n;
  };
  auto count_prefix = [](const std::vector<std::string>& n, const std::string& prefix) {
    int c = 0;
    for (const std::string& s : n) c += s.rfind(prefix, 0) == 0;
    return c;
  };
  for (GateKind kind : kAllGates) {
    INFO(moe::gate_name(kind));
    Generator g1(1), g2(2);
    Mmoe a(make_config(Preset::Recommender, kind, LocalSearch::Learned), g1);
    Mmoe b(make_config(Preset::Recommender, kind, LocalSearch::Learned), g2);
    const auto na = names(a);
    CHECK(std::set<std::string>(na.begin(), na.end()).size() == na.size());
    CHECK(names(a) == na);  // the same on a second call
    CHECK(names(b) == na);  // and on another model of the same config
    // The same nodes on a second call (the names point at the model's parameters, not copies).
    const auto p1 = a.named_params(), p2 = a.named_params();
    for (size_t i = 0; i < p1.size(); ++i) CHECK(p1[i].second.node().get() == p2[i].second.node().get());
    REQUIRE(na.size() >= 8);
    CHECK(na[0] == "embedding.0");
    CHECK(na[1] == "embedding.1");
    CHECK(na[2] == "experts.w1");
    CHECK(na[3] == "experts.b1");
    CHECK(na.back() == "permutation.scores");
    const int gate_params = static_cast<int>(a.gate(0).params().size());
    CHECK(a.gate_count() == 2);
    CHECK(count_prefix(na, "task0.gate.") == gate_params);
    CHECK(count_prefix(na, "task1.gate.") == gate_params);
    if (gate_params > 0) CHECK(std::count(na.begin(), na.end(), "task0.gate.0") == 1);
    for (const char* n : {"task0.tower.0.weight", "task0.tower.0.bias", "task0.tower.1.weight", "task1.tower.1.bias"})
      CHECK(std::count(na.begin(), na.end(), std::string(n)) == 1);
    // Embedding tables [vocab, dim].
    CHECK(p1[0].second.shape() == Shape({5, 3}));
    CHECK(p1[1].second.shape() == Shape({7, 3}));
  }
  for (bool shared : {false, true}) {
    Generator gen(3);
    Mmoe m(make_config(shared ? Preset::VisionShared : Preset::Vision, GateKind::Comet, LocalSearch::None), gen);
    const auto n = names(m);
    INFO("shared " << shared);
    CHECK(std::set<std::string>(n.begin(), n.end()).size() == n.size());
    const std::vector<std::string> expert_names{"experts.conv1.weight", "experts.conv1.bias", "experts.dense.w1",
                                                "experts.dense.b1"};
    REQUIRE(n.size() >= 4);
    CHECK(std::vector<std::string>(n.begin(), n.begin() + 4) == expert_names);
    CHECK(m.gate_count() == (shared ? 1 : 2));
    const int gate_params = static_cast<int>(m.gate(0).params().size());
    REQUIRE(gate_params > 0);
    CHECK(count_prefix(n, "task0.gate.") == gate_params);
    CHECK(count_prefix(n, "task1.gate.") == (shared ? 0 : gate_params));
    CHECK(count_prefix(n, "embedding.") == 0);
    CHECK(count_prefix(n, "permutation.") == 0);  // no learned permutation
    CHECK(count_prefix(n, "task1.tower.") == 4);
  }
}

TEST_CASE("forward refuses ids and dense features of the wrong shape, with the message") {
  Generator gen(5);
  Mmoe model(make_config(Preset::Recommender, GateKind::Softmax, LocalSearch::None), gen);
  Batch batch = make_batch(Preset::Recommender, 4, DType::F32, 1);
  CHECK(model.forward(batch.input, false).predictions.size() == 2);  // the right shapes pass

  ModelInput in = batch.input;
  in.ids = Tensor::zeros({4, 3}, DType::I64);
  CHECK(test::error_of([&] { model.forward(in, false); }) == "Mmoe: expected ids i64 [B, 2], got [4, 3]");
  in.ids = Tensor();
  CHECK(test::error_of([&] { model.forward(in, false); }) == "Mmoe: expected ids i64 [B, 2], got none");
  in.ids = batch.input.ids.to(DType::F32);
  CHECK(test::error_of([&] { model.forward(in, false); }).find("Mmoe: expected ids i64 [B, 2]") == 0);

  in = batch.input;
  in.dense = Tensor::zeros({4, 5});
  CHECK(test::error_of([&] { model.forward(in, false); }) == "Mmoe: expected dense features [B, 2], got [4, 5]");
  in.dense = Tensor();
  CHECK(test::error_of([&] { model.forward(in, false); }) == "Mmoe: expected dense features [B, 2], got none");
  in = batch.input;
  in.dense = Tensor::zeros({3, 2});  // rows that do not match the ids'
  CHECK(test::error_of([&] { model.forward(in, false); }) == "Mmoe: 4 rows of ids but 3 rows of dense features");
  in = batch.input;
  in.ids = in.ids.clone();
  in.ids.data<int64_t>()[1] = 7;  // item id of row 0 outside the vocabulary of 7
  CHECK(test::error_of([&] { model.forward(in, false); }) ==
        "embedding: id 7 at position 0 is out of range [0, 7) (vocabulary of table [7, 3])");
  // Hash routing needs one key per sample.
  Generator g2(5);
  Mmoe hash(make_config(Preset::Recommender, GateKind::Hash, LocalSearch::None), g2);
  in = batch.input;
  in.keys = Tensor();
  CHECK(test::error_of([&] { hash.forward(in, false); }) == "hash gate: needs one key per sample ([4]), got none");
  in.keys = Tensor::zeros({3}, DType::I64);
  CHECK(test::error_of([&] { hash.forward(in, false); }) == "hash gate: needs one key per sample ([4]), got [3]");
}

TEST_CASE("model description: parse(describe()) gives the same config, and bad fields are named") {
  MmoeConfig a;
  a.id_vocab = {943, 1682};
  a.embedding_dim = 16;
  a.dense_dim = 0;
  a.expert_sizes = {32};
  a.expert_options = {true, 0.5};
  a.gate.kind = moe::GateKind::DSelectK;
  a.gate.gamma = 0.1;
  a.gate.entropy = 0.05;
  a.gate.hash_keys = 943;
  a.local_search = LocalSearch::Swap;
  a.path = moe::MoePath::Dense;
  MmoeConfig b;
  b.expert_kind = ExpertKind::Cnn;
  b.cnn.height = b.cnn.width = 28;
  b.dense_dim = 784;
  b.task_outputs = {10, 10};
  b.shared_gate = true;
  b.gate.gamma = 1.0 / 3.0;  // needs every digit to round-trip
  for (const MmoeConfig& c : {a, b, MmoeConfig()}) {
    const MmoeConfig back = MmoeConfig::parse(c.describe());
    CHECK(back.describe() == c.describe());
    CHECK(back.gate.gamma == c.gate.gamma);
  }
  std::string text = a.describe();
  text.replace(text.find("k=2"), 3, "k=two");
  CHECK_THROWS_WITH_AS(MmoeConfig::parse(text), doctest::Contains("field 'k' has the value 'two', not a number"),
                       Error);
  CHECK_THROWS_WITH_AS(MmoeConfig::parse("gate=comet"), doctest::Contains("expected 'ids' at character 0"), Error);
}

}  // namespace comet::models
