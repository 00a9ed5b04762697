// MMoE model and the discrete swap pass.
#include "models/mmoe.h"

#include <cstring>
#include <functional>
#include <stdexcept>

#include "autograd/device.h"
#include "core/mutation.h"

namespace comet::models {

const char* local_search_name(LocalSearch s) {
  switch (s) {
    case LocalSearch::None: return "none";
    case LocalSearch::Learned: return "learned";
    case LocalSearch::Swap: return "swap";
  }
  return "?";
}

LocalSearch parse_local_search(const std::string& name) {
  for (LocalSearch s : {LocalSearch::None, LocalSearch::Learned, LocalSearch::Swap})
    if (name == local_search_name(s)) return s;
  throw Error(fmt::format("unknown local search '{}' (expected none, learned or swap)", name));
}

int64_t MmoeConfig::input_dim() const {
  return (embedding_dim > 0 ? embedding_dim * static_cast<int64_t>(id_vocab.size()) : 0) + dense_dim;
}

namespace {

std::string list(const std::vector<int64_t>& v) { return fmt::format("{}", fmt::join(v, ",")); }

std::vector<int64_t> parse_list(const std::string& text) {
  std::vector<int64_t> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    out.push_back(std::stoll(text.substr(pos, end - pos)));
    pos = end + 1;
  }
  return out;
}

bool parse_bool(const std::string& text) {
  COMET_CHECK(text == "true" || text == "false", "'{}' is not true or false", text);
  return text == "true";
}

// One setting of MmoeConfig: its name in describe(), how to print it and how to read it back.
struct Field {
  const char* name;
  std::function<std::string(const MmoeConfig&)> print;
  std::function<void(MmoeConfig&, const std::string&)> read;
};

template <class T>
Field number(const char* name, T MmoeConfig::*member) {
  return {name, [member](const MmoeConfig& c) { return fmt::format("{}", c.*member); },
          [member](MmoeConfig& c, const std::string& t) { c.*member = static_cast<T>(std::stod(t)); }};
}

template <class T>
Field gate_number(const char* name, T moe::GateConfig::*member) {
  return {name, [member](const MmoeConfig& c) { return fmt::format("{}", c.gate.*member); },
          [member](MmoeConfig& c, const std::string& t) { c.gate.*member = static_cast<T>(std::stod(t)); }};
}

template <class Owner>
Field flag(const char* name, bool Owner::*member, Owner MmoeConfig::*owner) {
  return {name, [=](const MmoeConfig& c) { return fmt::format("{}", c.*owner.*member); },
          [=](MmoeConfig& c, const std::string& t) { c.*owner.*member = parse_bool(t); }};
}

Field sizes(const char* name, std::vector<int64_t> MmoeConfig::*member) {
  return {name, [member](const MmoeConfig& c) { return list(c.*member); },
          [member](MmoeConfig& c, const std::string& t) { c.*member = parse_list(t); }};
}

const std::vector<Field>& fields() {
  static const std::vector<Field> all = {
      sizes("ids", &MmoeConfig::id_vocab),
      number("embedding", &MmoeConfig::embedding_dim),
      number("dense", &MmoeConfig::dense_dim),
      {"experts", [](const MmoeConfig& c) { return std::string(c.expert_kind == ExpertKind::Mlp ? "mlp" : "cnn"); },
       [](MmoeConfig& c, const std::string& t) {
         COMET_CHECK(t == "mlp" || t == "cnn", "'{}' is not mlp or cnn", t);
         c.expert_kind = t == "mlp" ? ExpertKind::Mlp : ExpertKind::Cnn;
       }},
      sizes("sizes", &MmoeConfig::expert_sizes),
      {"relu_last", [](const MmoeConfig& c) { return fmt::format("{}", c.expert_options.relu_last); },
       [](MmoeConfig& c, const std::string& t) { c.expert_options.relu_last = parse_bool(t); }},
      {"dropout", [](const MmoeConfig& c) { return fmt::format("{}", c.expert_options.dropout); },
       [](MmoeConfig& c, const std::string& t) { c.expert_options.dropout = std::stod(t); }},
      {"cnn_image", [](const MmoeConfig& c) { return list({c.cnn.channels, c.cnn.height, c.cnn.width}); },
       [](MmoeConfig& c, const std::string& t) {
         const std::vector<int64_t> v = parse_list(t);
         COMET_CHECK(v.size() == 3, "'{}' is not C,H,W", t);
         c.cnn.channels = v[0], c.cnn.height = v[1], c.cnn.width = v[2];
       }},
      {"cnn_filters", [](const MmoeConfig& c) { return list(c.cnn.filters); },
       [](MmoeConfig& c, const std::string& t) { c.cnn.filters = parse_list(t); }},
      {"cnn_kernel", [](const MmoeConfig& c) { return fmt::format("{}", c.cnn.kernel); },
       [](MmoeConfig& c, const std::string& t) { c.cnn.kernel = std::stoll(t); }},
      {"cnn_dense", [](const MmoeConfig& c) { return list(c.cnn.dense); },
       [](MmoeConfig& c, const std::string& t) { c.cnn.dense = parse_list(t); }},
      sizes("towers", &MmoeConfig::tower_hidden),
      sizes("outputs", &MmoeConfig::task_outputs),
      {"shared_gate", [](const MmoeConfig& c) { return fmt::format("{}", c.shared_gate); },
       [](MmoeConfig& c, const std::string& t) { c.shared_gate = parse_bool(t); }},
      {"gate", [](const MmoeConfig& c) { return std::string(moe::gate_name(c.gate.kind)); },
       [](MmoeConfig& c, const std::string& t) { c.gate.kind = moe::parse_gate_kind(t); }},
      gate_number("n", &moe::GateConfig::experts),
      gate_number("k", &moe::GateConfig::k),
      gate_number("gamma", &moe::GateConfig::gamma),
      gate_number("entropy", &moe::GateConfig::entropy),
      gate_number("zeta", &moe::GateConfig::zeta),
      flag("per_sample", &moe::GateConfig::per_sample, &MmoeConfig::gate),
      flag("noisy", &moe::GateConfig::noisy_topk, &MmoeConfig::gate),
      gate_number("load_balance", &moe::GateConfig::load_balance),
      {"hash_keys", [](const MmoeConfig& c) { return fmt::format("{}", c.gate.hash_keys ? *c.gate.hash_keys : -1); },
       [](MmoeConfig& c, const std::string& t) {
         const int64_t v = std::stoll(t);
         c.gate.hash_keys = v < 0 ? std::nullopt : std::optional<int64_t>(v);
       }},
      {"local_search", [](const MmoeConfig& c) { return std::string(local_search_name(c.local_search)); },
       [](MmoeConfig& c, const std::string& t) { c.local_search = parse_local_search(t); }},
      number("window", &MmoeConfig::permutation_window_steps),
      number("perm_zeta", &MmoeConfig::permutation_zeta),
      {"path", [](const MmoeConfig& c) { return std::string(c.path == moe::MoePath::Dense ? "dense" : "sparse"); },
       [](MmoeConfig& c, const std::string& t) {
         COMET_CHECK(t == "dense" || t == "sparse", "'{}' is not dense or sparse", t);
         c.path = t == "dense" ? moe::MoePath::Dense : moe::MoePath::Sparse;
       }},
  };
  return all;
}

}  // namespace

std::string MmoeConfig::describe() const {
  std::string out;
  for (const Field& f : fields()) {
    if (COMET_MUTANT(checkpoint_gate_settings_unrecorded) && (std::strcmp(f.name, "gamma") == 0 ||
                                                              std::strcmp(f.name, "entropy") == 0))
      continue;
    out += fmt::format("{}{}={}", out.empty() ? "" : " ", f.name, f.print(*this));
  }
  return out;
}

MmoeConfig MmoeConfig::parse(const std::string& text) {
  MmoeConfig c;
  size_t pos = 0;
  for (const Field& f : fields()) {
    const std::string key = std::string(f.name) + "=";
    COMET_CHECK(text.compare(pos, key.size(), key) == 0, "model description: expected '{}' at character {} of '{}'",
                f.name, pos, text);
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string value = text.substr(pos + key.size(), end - pos - key.size());
    try {
      f.read(c, value);
    } catch (const std::logic_error&) {  // std::stod / stoll
      throw Error(fmt::format("model description: field '{}' has the value '{}', not a number", f.name, value));
    } catch (const Error& e) {
      throw Error(fmt::format("model description: field '{}': {}", f.name, e.what()));
    }
    pos = end + 1;
  }
  COMET_CHECK(pos >= text.size(), "model description: unexpected text after the last field: '{}'", text.substr(pos));
  return c;
}

ModelInput model_input(const data::Dataset& batch) { return {batch.ids, batch.dense, batch.keys()}; }

namespace {

std::unique_ptr<moe::Experts> make_experts(const MmoeConfig& cfg, Generator& gen) {
  if (cfg.expert_kind == ExpertKind::Cnn) {
    COMET_CHECK(cfg.cnn.channels * cfg.cnn.height * cfg.cnn.width == cfg.input_dim(),
                "Mmoe: CNN experts read {}x{}x{} images, but the input has {} features", cfg.cnn.channels,
                cfg.cnn.height, cfg.cnn.width, cfg.input_dim());
    return std::make_unique<moe::CnnExperts>(cfg.gate.experts, cfg.cnn, gen);
  }
  std::vector<int64_t> sizes{cfg.input_dim()};
  sizes.insert(sizes.end(), cfg.expert_sizes.begin(), cfg.expert_sizes.end());
  return std::make_unique<moe::MlpExperts>(cfg.gate.experts, sizes, gen, cfg.expert_options);
}

}  // namespace

Mmoe::Mmoe(const MmoeConfig& cfg, Generator& gen) : cfg_(cfg), dropout_gen_(0) {
  COMET_CHECK(cfg.tasks() >= 1, "Mmoe: need at least one task");
  COMET_CHECK(cfg.input_dim() >= 1, "Mmoe: the input is empty (no embedded ids and no dense features)");
  if (cfg.embedding_dim > 0)
    for (int64_t vocab : cfg.id_vocab) {
      COMET_CHECK(vocab >= 1, "Mmoe: id vocabularies must be non-empty, got {}", shape_str(cfg.id_vocab));
      Tensor table = Tensor::empty({vocab, cfg.embedding_dim});
      gen.uniform(table, -0.05, 0.05);  // Keras' default embedding initialiser, as the released models use
      embeddings_.push_back(ag::param(table));
    }
  experts_ = make_experts(cfg, gen);
  for (int t = 0; t < cfg.tasks(); ++t) {
    COMET_CHECK(cfg.task_outputs[t] >= 1, "Mmoe: task {} has {} outputs", t, cfg.task_outputs[t]);
    if (t == 0 || !cfg.shared_gate) gates_.push_back(moe::make_gate(cfg.gate, cfg.input_dim(), gen));
    std::vector<int64_t> sizes{experts_->output_dim()};
    sizes.insert(sizes.end(), cfg.tower_hidden.begin(), cfg.tower_hidden.end());
    sizes.push_back(cfg.task_outputs[t]);
    towers_.emplace_back(sizes, gen);
  }
  if (cfg.local_search == LocalSearch::Learned)
    perm_ = std::make_unique<moe::LearnedPermutation>(cfg.gate.experts, cfg.permutation_window_steps,
                                                      cfg.permutation_zeta, gen);
  else
    perm_ = std::make_unique<moe::FixedPermutation>(cfg.gate.experts);
  dropout_gen_ = gen.split();
}

ag::Var Mmoe::encode(const ModelInput& in) const {
  std::vector<ag::Var> parts;
  if (!embeddings_.empty()) {
    const int64_t F = static_cast<int64_t>(embeddings_.size());
    COMET_CHECK(in.ids.defined() && in.ids.ndim() == 2 && in.ids.dim(1) == F && in.ids.dtype() == DType::I64,
                "Mmoe: expected ids i64 [B, {}], got {}", F, in.ids.defined() ? shape_str(in.ids.shape()) : "none");
    const int64_t B = in.ids.dim(0);
    for (int64_t f = 0; f < F; ++f) {
      Tensor column = Tensor::empty({B}, DType::I64);
      for (int64_t b = 0; b < B; ++b) column.data<int64_t>()[b] = in.ids.data<int64_t>()[b * F + f];
      parts.push_back(ag::embedding(embeddings_[f], column));
    }
  }
  if (cfg_.dense_dim > 0) {
    COMET_CHECK(in.dense.defined() && in.dense.ndim() == 2 && in.dense.dim(1) == cfg_.dense_dim,
                "Mmoe: expected dense features [B, {}], got {}", cfg_.dense_dim,
                in.dense.defined() ? shape_str(in.dense.shape()) : "none");
    COMET_CHECK(embeddings_.empty() || in.dense.dim(0) == in.ids.dim(0),
                "Mmoe: {} rows of ids but {} rows of dense features", in.ids.dim(0), in.dense.dim(0));
    parts.push_back(ag::constant(ag::copy_to(in.dense, device())));
  }
  return parts.size() == 1 ? parts[0] : ag::concat_cols(parts);
}

MmoeOutput Mmoe::forward(const ModelInput& in, bool training) {
  const ag::Var x = encode(in);
  // The permutation and its regulariser come in f32; an f64 model (e.g. under a gradient check) needs them in f64.
  ag::Var p = perm_->matrix(training);
  if (p.defined() && p.dtype() != x.dtype()) p = ag::cast(p, x.dtype());
  const moe::ExpertMode mode{training, &dropout_gen_};
  MmoeOutput out;
  std::vector<ag::Var> weights;
  for (auto& gate : gates_) {
    moe::GateOutput routed = gate->forward({x, in.keys}, p.defined() ? &p : nullptr, training);
    weights.push_back(routed.weights);
    out.gate_weights.push_back(routed.weights.value());
    out.regularization = moe::add_defined(out.regularization, routed.regularization);
  }
  // The experts run once on each sample some gate routes to them, and every gate mixes those outputs.
  const std::vector<ag::Var> mixed = moe::moe_forward(*experts_, x, weights, cfg_.path, mode);
  for (int t = 0; t < cfg_.tasks(); ++t) out.predictions.push_back(towers_[t](mixed[cfg_.shared_gate ? 0 : t]));
  if (training) {
    ag::Var r = perm_->regularization();
    if (r.defined() && r.dtype() != x.dtype()) r = ag::cast(r, x.dtype());
    out.regularization = moe::add_defined(out.regularization, r);
  }
  return out;
}

void Mmoe::to(Device device) {
  for (auto& [name, v] : named_params()) {
    ag::Var handle = v;
    handle.value() = ag::copy_to(handle.value(), device);
  }
}

Device Mmoe::device() const { return experts_->params().front().value().device(); }

std::vector<ag::Var> Mmoe::params() {
  std::vector<ag::Var> p;
  for (auto& [name, v] : named_params()) p.push_back(v);
  return p;
}

std::vector<std::pair<std::string, ag::Var>> Mmoe::named_params() {
  std::vector<std::pair<std::string, ag::Var>> out;
  for (size_t f = 0; f < embeddings_.size(); ++f) out.emplace_back(fmt::format("embedding.{}", f), embeddings_[f]);
  for (auto& [name, v] : experts_->named_params()) out.emplace_back("experts." + name, v);
  for (int t = 0; t < cfg_.tasks(); ++t) {
    if (t < gate_count()) {
      const auto gate = gates_[t]->params();
      for (size_t i = 0; i < gate.size(); ++i) out.emplace_back(fmt::format("task{}.gate.{}", t, i), gate[i]);
    }
    const auto& layers = towers_[t].layers();
    for (size_t l = 0; l < layers.size(); ++l) {
      out.emplace_back(fmt::format("task{}.tower.{}.weight", t, l), layers[l].weight);
      out.emplace_back(fmt::format("task{}.tower.{}.bias", t, l), layers[l].bias);
    }
  }
  for (const ag::Var& v : perm_->params()) out.emplace_back("permutation.scores", v);
  return out;
}

std::vector<std::pair<std::string, Tensor*>> Mmoe::named_buffers() {
  std::vector<std::pair<std::string, Tensor*>> out;
  for (size_t g = 0; g < gates_.size(); ++g)
    for (auto& [name, t] : gates_[g]->buffers()) out.emplace_back(fmt::format("task{}.gate.{}", g, name), t);
  return out;
}

namespace {

// The state of the swap pass: cached expert outputs and slot weights, and for the prepared permutation the
// mixtures, predictions and loss sums, from which a swap's objective is computed on the rows it changes.
class SwapState {
 public:
  using Towers = std::function<std::vector<ag::Var>(const std::vector<ag::Var>& mixtures)>;
  SwapState(std::vector<ag::Var> experts, std::vector<ag::Var> slots, Towers towers, Mmoe::RowLoss loss,
            std::vector<double> weights)
      : experts_(std::move(experts)), slots_(std::move(slots)), towers_(std::move(towers)), loss_(std::move(loss)),
        weights_(std::move(weights)) {
    const int64_t B = slots_[0].shape()[0];
    std::vector<int64_t> all(static_cast<size_t>(B));
    for (int64_t r = 0; r < B; ++r) all[r] = r;
    all_rows_ = Tensor::from_vector<int64_t>({B}, all);
    for (const ag::Var& s : slots_) host_slots_.push_back(ag::copy_to(s.value(), Device::CPU));  // compared per row
  }

  double value(const moe::Permutation& perm) const { return objective(loss_(all_rows_, towers_(mixtures(perm)))); }

  void prepare(const moe::Permutation& perm) {
    perm_ = perm;
    mixtures_ = mixtures(perm);
    predictions_ = towers_(mixtures_);
    sums_ = loss_(all_rows_, predictions_);
  }

  double swapped(int64_t a, int64_t b) const {
    const std::vector<int64_t> changed = rows_where_slots_differ(a, b);
    if (changed.empty()) return objective(sums_);
    const Tensor rows = Tensor::from_vector<int64_t>({static_cast<int64_t>(changed.size())}, changed);
    // Slot a now carries expert perm[b] and slot b expert perm[a]: mix += (g_a - g_b) (E[perm[b]] - E[perm[a]]).
    const ag::Var delta = ag::sub(ag::gather_rows(experts_[perm_[b]], rows), ag::gather_rows(experts_[perm_[a]], rows));
    std::vector<ag::Var> mixtures;
    for (size_t g = 0; g < slots_.size(); ++g) {
      const std::vector<ag::Var> w = ag::split_cols(ag::gather_rows(slots_[g], rows),
                                                    std::vector<int64_t>(static_cast<size_t>(slots_[g].shape()[1]), 1));
      mixtures.push_back(ag::add(ag::gather_rows(mixtures_[g], rows), ag::mul(delta, ag::sub(w[a], w[b]))));
    }
    std::vector<ag::Var> before;
    for (const ag::Var& p : predictions_) before.push_back(ag::gather_rows(p, rows));
    const Mmoe::TaskSums old_part = loss_(rows, before), new_part = loss_(rows, towers_(mixtures));
    Mmoe::TaskSums sums = sums_;
    for (size_t t = 0; t < sums.size(); ++t) sums[t].first += new_part[t].first - old_part[t].first;
    return objective(sums);
  }

 private:
  std::vector<ag::Var> mixtures(const moe::Permutation& perm) const {
    std::vector<ag::Var> out;
    for (const ag::Var& slots : slots_) {
      const int64_t n = slots.shape()[1];
      const std::vector<ag::Var> w = ag::split_cols(slots, std::vector<int64_t>(static_cast<size_t>(n), 1));
      ag::Var mix;
      for (int64_t slot = 0; slot < n; ++slot) mix = moe::add_defined(mix, ag::mul(experts_[perm[slot]], w[slot]));
      out.push_back(mix);
    }
    return out;
  }

  std::vector<int64_t> rows_where_slots_differ(int64_t a, int64_t b) const {
    std::vector<int64_t> rows;
    const int64_t B = slots_[0].shape()[0];
    for (int64_t r = 0; r < B; ++r) {
      bool differ = false;
      for (const Tensor& s : host_slots_) {
        const int64_t n = s.dim(1);
        differ = differ || s.item(r * n + a) != s.item(r * n + b);
      }
      if (differ) rows.push_back(r);
    }
    return rows;
  }

  double objective(const Mmoe::TaskSums& sums) const {
    double v = 0;
    for (size_t t = 0; t < sums.size(); ++t) v += weights_[t] * (sums[t].second > 0 ? sums[t].first / sums[t].second : 0.0);
    return v;
  }

  std::vector<ag::Var> experts_, slots_;
  std::vector<Tensor> host_slots_;  // the slot weights on the host
  Towers towers_;
  Mmoe::RowLoss loss_;
  std::vector<double> weights_;
  Tensor all_rows_;
  moe::Permutation perm_;
  std::vector<ag::Var> mixtures_, predictions_;
  Mmoe::TaskSums sums_;
};

}  // namespace

moe::SwapSearchResult Mmoe::swap_pass(const ModelInput& in, const RowLoss& loss, const std::vector<double>& weights,
                                    int max_moves) {
  COMET_CHECK(cfg_.local_search == LocalSearch::Swap, "Mmoe::swap_pass: the model uses local search '{}', not 'swap'",
              local_search_name(cfg_.local_search));
  COMET_CHECK(static_cast<int>(weights.size()) == cfg_.tasks(), "Mmoe::swap_pass: {} weights for {} tasks",
              weights.size(), cfg_.tasks());
  ag::NoGradGuard no_grad;
  const ag::Var x = encode(in);
  std::vector<ag::Var> expert_out;  // computed once per pass
  for (int64_t e = 0; e < cfg_.gate.experts; ++e) expert_out.push_back(experts_->forward_one(e, x, {}));
  std::vector<ag::Var> slots;  // the gates' slot weights, before any permutation
  for (auto& g : gates_) slots.push_back(g->forward({x, in.keys}, nullptr, false).weights);
  const auto towers = [this](const std::vector<ag::Var>& mixtures) {
    std::vector<ag::Var> predictions;
    for (size_t g = 0; g < mixtures.size(); ++g) {
      const int last = cfg_.shared_gate ? cfg_.tasks() - 1 : static_cast<int>(g);
      for (int t = static_cast<int>(g); t <= last; ++t) predictions.push_back(towers_[t](mixtures[g]));
    }
    return predictions;
  };
  SwapState state(expert_out, slots, towers, loss, weights);
  moe::SwapObjective objective;
  objective.value = [&](const moe::Permutation& perm) { return state.value(perm); };
  objective.scorer = moe::SwapScorer{[&](const moe::Permutation& perm) { state.prepare(perm); },
                                     [&](int64_t a, int64_t b) { return state.swapped(a, b); }};
  auto& fixed = static_cast<moe::FixedPermutation&>(*perm_);
  moe::SwapSearchResult r = moe::swap_search(fixed.hard(), objective, max_moves);
  fixed.set(r.perm);
  return r;
}

}  // namespace comet::models
