// Mini-batch evaluation and early stopping on a tiny recommender model (user and item embeddings; a binary, a masked
// regression and a 3-class task): evaluate() with batches of 1, 3 and the whole split gives the same losses (to
// 1e-12 relative in F64; to F32 rounding for the default F32 model) and exactly the same AUC / accuracy / routing /
// sparsity, which equal the whole-batch values; train_mmoe with patience 1 stops when the validation loss stops
// improving, and with restore_best ends with the best epoch's model (its evaluation reproduced bit for bit).
// A resumed call that starts after the best epoch still reports that epoch's validation metrics (best_val).
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <unistd.h>

#include "train/loss.h"
#include "train/metrics.h"
#include "train/train.h"
#include "test_util.h"

namespace comet::train {
namespace {

using models::LocalSearch;
using models::Mmoe;
using models::MmoeConfig;
using moe::GateKind;

constexpr int64_t kUsers = 5, kItems = 7;

MmoeConfig recommender(GateKind kind, LocalSearch search = LocalSearch::None) {
  MmoeConfig cfg;
  cfg.id_vocab = {kUsers, kItems};
  cfg.embedding_dim = 3;
  cfg.dense_dim = 0;
  cfg.expert_sizes = {4};
  cfg.expert_options.relu_last = true;
  cfg.tower_hidden = {3};
  cfg.task_outputs = {1, 1, 3};
  cfg.gate.kind = kind;
  cfg.gate.experts = 4;
  cfg.gate.k = kind == GateKind::Hash ? 1 : 2;
  cfg.gate.gamma = 1.0;
  cfg.gate.hash_keys = kUsers;
  cfg.local_search = search;
  cfg.permutation_window_steps = 3;
  return cfg;
}

// rows of (user, item) pairs; click = (user + item) % 2 (flipped on rows where flip(b)), rating = user - item / 3
// observed on two rows of three, class = (user + 2 item) % 3.
data::Dataset ratings(int64_t rows, uint64_t seed, double flip_share = 0.0) {
  Generator gen(seed);
  data::Dataset d;
  d.ids = Tensor::empty({rows, 2}, DType::I64);
  Tensor u = Tensor::empty({rows}, DType::I64), it = Tensor::empty({rows}, DType::I64);
  gen.randint(u, 0, kUsers);
  gen.randint(it, 0, kItems);
  Tensor coin = Tensor::empty({rows}, DType::F64);
  gen.uniform(coin, 0.0, 1.0);
  d.id_names = {"user", "item"};
  d.vocab = {kUsers, kItems};
  d.key_column = 0;
  d.targets = Tensor::empty({rows, 3});
  d.mask = Tensor::full({rows, 3}, 1.0);
  d.tasks = {{"click", data::TaskKind::Binary, 0}, {"rating", data::TaskKind::Regression, 0},
             {"genre", data::TaskKind::Multiclass, 3}};
  for (int64_t b = 0; b < rows; ++b) {
    const int64_t user = u.data<int64_t>()[b], item = it.data<int64_t>()[b];
    d.ids.data<int64_t>()[2 * b] = user;
    d.ids.data<int64_t>()[2 * b + 1] = item;
    const bool flip = coin.data<double>()[b] < flip_share;
    float* t = d.targets.data<float>() + 3 * b;
    t[0] = static_cast<float>(((user + item) % 2) ^ (flip ? 1 : 0));
    t[1] = static_cast<float>(user) - static_cast<float>(item) / 3.0f;
    t[2] = static_cast<float>((user + 2 * item) % 3);
    d.mask.data<float>()[3 * b + 1] = b % 3 == 2 ? 0.0f : 1.0f;
  }
  d.validate("evaluate test data");
  return d;
}

void to_f64(Mmoe& model) {
  for (auto& [name, v] : model.named_params()) {
    ag::Var handle = v;
    handle.value() = handle.value().to(DType::F64);
  }
}

const std::vector<double> kWeights{0.5, 0.3, 0.2};

bool rel_close(double a, double b, double rtol) { return std::fabs(a - b) <= rtol * std::max(std::fabs(b), 1e-300); }

// The same evaluation: losses to rtol, everything else exactly.
void check_same(const Evaluation& a, const Evaluation& b, double rtol) {
  CHECK(rel_close(a.loss, b.loss, rtol));
  REQUIRE(a.tasks.size() == b.tasks.size());
  for (size_t t = 0; t < a.tasks.size(); ++t) {
    INFO("task " << t << ": loss " << a.tasks[t].loss << " vs " << b.tasks[t].loss);
    CHECK(rel_close(a.tasks[t].loss, b.tasks[t].loss, rtol));
    CHECK(a.tasks[t].auc.has_value() == b.tasks[t].auc.has_value());
    if (a.tasks[t].auc && b.tasks[t].auc) CHECK(*a.tasks[t].auc == *b.tasks[t].auc);
    CHECK(a.tasks[t].accuracy == b.tasks[t].accuracy);
    CHECK(a.tasks[t].mse.has_value() == b.tasks[t].mse.has_value());
    if (a.tasks[t].mse && b.tasks[t].mse) CHECK(rel_close(*a.tasks[t].mse, *b.tasks[t].mse, rtol));
  }
  REQUIRE(a.gates.size() == b.gates.size());
  for (size_t g = 0; g < a.gates.size(); ++g) {
    INFO("gate " << g);
    CHECK(a.gates[g].routing.experts_per_sample == b.gates[g].routing.experts_per_sample);
    CHECK(a.gates[g].routing.within_k == b.gates[g].routing.within_k);
    CHECK(a.gates[g].routing.usage == b.gates[g].routing.usage);
    CHECK(a.gates[g].sparsity == b.gates[g].sparsity);
  }
}

std::vector<Tensor> snapshot(Mmoe& model) {
  std::vector<Tensor> out;
  for (const ag::Var& p : model.params()) out.push_back(p.value().clone());
  return out;
}

bool bitwise_equal(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].shape() != b[i].shape() || a[i].dtype() != b[i].dtype()) return false;
    for (int64_t j = 0; j < a[i].numel(); ++j)
      if (a[i].item(j) != b[i].item(j)) return false;
  }
  return true;
}

// Early stopping on the tiny recommender: patience 1, a learning rate that overshoots, batches of 8.
TrainConfig early_stopping_run(bool restore_best) {
  TrainConfig tc;
  tc.epochs = 30;
  tc.batch = 8;
  tc.eval_batch = 5;
  tc.lr = 0.05;
  tc.task_weights = kWeights;
  tc.patience = 1;
  tc.restore_best = restore_best;
  tc.swap_samples = 16;
  return tc;
}

}  // namespace

TEST_CASE("evaluate: batches of 1, 3 and the whole split agree, and equal the whole-batch values (F64)") {
  for (GateKind kind : {GateKind::Softmax, GateKind::TopK, GateKind::Hash, GateKind::DSelectK, GateKind::Comet}) {
    INFO(std::string(moe::gate_name(kind)));
    Generator gen(7);
    Mmoe model(recommender(kind), gen);
    to_f64(model);
    const data::Dataset split = ratings(23, 5);
    const Evaluation whole = evaluate(model, split, kWeights, 4096);
    for (int64_t batch : {1, 3, 23}) {
      INFO("batch " << batch);
      check_same(evaluate(model, split, kWeights, batch), whole, 1e-12);
    }
    // The whole-batch values, computed here from one forward pass.
    ag::NoGradGuard no_grad;
    const models::MmoeOutput out = model.forward(models::model_input(split), false);
    double loss = 0;
    for (size_t t = 0; t < 3; ++t) {
      const TaskLoss l = task_loss(split, t, out.predictions[t]);
      CHECK(rel_close(whole.tasks[t].loss, l.mean.value().item(), 1e-12));
      loss += kWeights[t] * l.mean.value().item();
    }
    CHECK(rel_close(whole.loss, loss, 1e-12));
    CHECK(whole.tasks[1].mse.has_value());
    CHECK(whole.tasks[1].mse == whole.tasks[1].loss);
    std::vector<double> logits, labels;
    for (int64_t b = 0; b < split.rows(); ++b) {
      logits.push_back(out.predictions[0].value().item(b));
      labels.push_back(split.targets.item(3 * b));
    }
    REQUIRE(whole.tasks[0].auc.has_value());
    CHECK(*whole.tasks[0].auc == roc_auc(logits, labels));
    CHECK(*whole.tasks[0].accuracy == binary_accuracy(logits, labels));
    std::vector<int64_t> classes;
    for (int64_t b = 0; b < split.rows(); ++b) classes.push_back(static_cast<int64_t>(split.targets.item(3 * b + 2)));
    CHECK(*whole.tasks[2].accuracy == multiclass_accuracy(out.predictions[2].value(), classes));
    REQUIRE(whole.gates.size() == 3);  // one gate per task
    for (size_t g = 0; g < 3; ++g) {
      const moe::RoutingStats st = moe::routing_stats(out.gate_weights[g], model.config().gate.k);
      CHECK(whole.gates[g].routing.experts_per_sample == st.experts_per_sample);
      CHECK(whole.gates[g].routing.within_k == st.within_k);
      CHECK(whole.gates[g].routing.usage == st.usage);
      CHECK(whole.gates[g].sparsity == gate_sparsity(out.gate_weights[g]));
    }
  }
}

TEST_CASE("evaluate: batch sizes agree on the default F32 model (losses to f32 rounding, metrics exactly)") {
  for (GateKind kind : {GateKind::TopK, GateKind::Comet}) {
    INFO(std::string(moe::gate_name(kind)));
    Generator gen(8);
    Mmoe model(recommender(kind), gen);
    const data::Dataset split = ratings(31, 6);
    const Evaluation whole = evaluate(model, split, kWeights, 31);
    // Each batch's mean is rounded to f32 before it is weighted by its count: a few f32 ulps apart.
    for (int64_t batch : {1, 3}) check_same(evaluate(model, split, kWeights, batch), whole, 1e-6);
  }
}

TEST_CASE("train_mmoe: early stopping with patience 1, and restore_best ends with the best epoch's model") {
  // The validation clicks disagree with the training clicks on 40% of the rows: fitting the training data soon stops
  // helping the validation loss.
  const data::Dataset train = ratings(64, 11), val = ratings(32, 12, 0.4);
  for (LocalSearch search : {LocalSearch::None, LocalSearch::Learned, LocalSearch::Swap})
    for (int64_t window : {3, 200})
    for (bool restore_best : {false, true}) {
      if (window == 200 && search != LocalSearch::Learned) continue;
      INFO(std::string(models::local_search_name(search)) << " window " << window << " restore_best " << restore_best);
      Generator gen(21);
      MmoeConfig mc = recommender(GateKind::Softmax, search);
      mc.permutation_window_steps = window;  // learned: frozen during epoch 1 (3 steps) or still soft at the stop
      Mmoe model(mc, gen);
      const TrainConfig tc = early_stopping_run(restore_best);
      std::vector<Tensor> best_params, last_params;
      Evaluation best_eval;
      int calls = 0;
      const TrainResult r = train_mmoe(model, train, val, tc, [&](const EpochReport& rep) {
        ++calls;
        last_params = snapshot(model);
        if (rep.best) {
          best_params = last_params;
          best_eval = rep.val;
        }
      });
      CHECK(r.stopped_early);
      REQUIRE(r.reports.size() < static_cast<size_t>(tc.epochs + 1));
      CHECK(calls == static_cast<int>(r.reports.size()));
      // It stops after `patience` epochs without a lower validation loss, and no report beats the best.
      CHECK(r.reports.back().epoch == r.best_epoch + *tc.patience);
      CHECK(r.reports[r.best_epoch].best);
      for (const EpochReport& rep : r.reports) CHECK(rep.val.loss >= r.reports[r.best_epoch].val.loss);
      CHECK(r.best_epoch >= 1);  // training helped at first (the check is not about the initial model only)
      const Evaluation now = evaluate(model, val, kWeights, tc.eval_batch);
      if (restore_best) {
        CHECK(bitwise_equal(snapshot(model), best_params));
        CHECK(now.loss == best_eval.loss);  // the best epoch's model, bit for bit (its routing state too)
        check_same(now, best_eval, 0.0);
      } else {
        CHECK(bitwise_equal(snapshot(model), last_params));
        CHECK(now.loss == r.reports.back().val.loss);
        CHECK(now.loss > best_eval.loss);
      }
    }
}

}  // namespace comet::train

namespace comet::train {

TEST_CASE("train_mmoe: restore_best also restores the slot permutation of the best epoch (learned, swap)") {
  // Runs (seeds found by a scan) whose permutation changes after the best epoch: a learned one still in its window,
  // and the swap pass. Before the fix, restore_best put back the best weights under the last epoch's permutation.
  const data::Dataset train = ratings(64, 11), val = ratings(32, 12, 0.4);
  const std::pair<LocalSearch, uint64_t> runs[] = {{LocalSearch::Learned, 52}, {LocalSearch::Swap, 33}};
  for (auto [search, seed] : runs) {
    INFO(std::string(models::local_search_name(search)) << " seed " << seed);
    Generator gen(seed);
    MmoeConfig mc = recommender(GateKind::Softmax, search);
    mc.permutation_window_steps = 200;
    Mmoe model(mc, gen);
    const TrainConfig tc = early_stopping_run(true);
    moe::Permutation best_perm, last_perm;
    int64_t best_step = -1;
    std::vector<Tensor> best_params;
    Evaluation best_eval;
    const TrainResult r = train_mmoe(model, train, val, tc, [&](const EpochReport& rep) {
      last_perm = model.permutation().hard();
      if (rep.best) {
        best_perm = last_perm;
        best_step = model.permutation().step();
        best_params = snapshot(model);
        best_eval = rep.val;
      }
    });
    CHECK(r.stopped_early);
    REQUIRE(last_perm != best_perm);  // the case this test is about
    CHECK(model.permutation().hard() == best_perm);
    CHECK(model.permutation().step() == best_step);
    CHECK(bitwise_equal(snapshot(model), best_params));
    check_same(evaluate(model, val, kWeights, tc.eval_batch), best_eval, 0.0);
  }
}

}  // namespace comet::train

namespace comet::train {

TEST_CASE("train_mmoe: best_val is the best epoch's evaluation, also when a resumed call starts after that epoch") {
  const data::Dataset train = ratings(64, 11), val = ratings(32, 12, 0.4);
  const std::string checkpoint =
      (std::filesystem::temp_directory_path() / fmt::format("comet_best_val_{}.ckpt", getpid())).string();
  for (bool restore_best : {false, true}) {
    INFO("restore_best " << restore_best);
    const MmoeConfig mc = recommender(GateKind::TopK, LocalSearch::Learned);
    TrainConfig tc = early_stopping_run(restore_best);
    Generator gen(21);
    Mmoe straight_model(mc, gen);
    const TrainResult straight = train_mmoe(straight_model, train, val, tc);
    REQUIRE(straight.stopped_early);
    check_same(straight.best_val, straight.reports[static_cast<size_t>(straight.best_epoch)].val, 0.0);

    // Interrupted one epoch after the best, then resumed: the resumed call's reports no longer hold the best epoch.
    std::filesystem::remove(checkpoint);
    tc.checkpoint = checkpoint;
    const int stop = straight.best_epoch + *tc.patience;
    for (int epochs : {stop, tc.epochs}) {
      Generator gen2(21);
      Mmoe model(mc, gen2);
      tc.epochs = epochs;
      const TrainResult part = train_mmoe(model, train, val, tc);
      if (epochs == stop) continue;
      REQUIRE(part.reports.front().epoch == stop);
      REQUIRE(part.reports.front().before_training);
      CHECK(part.stopped_early);
      CHECK(part.best_epoch == straight.best_epoch);
      check_same(part.best_val, straight.best_val, 0.0);
      // The model ends as the straight run's: the best weights, or the last ones (the evaluation left them alone).
      CHECK(bitwise_equal(snapshot(model), snapshot(straight_model)));
    }
    std::filesystem::remove(checkpoint);
  }
}

}  // namespace comet::train
