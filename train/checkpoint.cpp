// MMoE checkpoints over core/io/safetensors.
#include "train/checkpoint.h"

#include <cmath>
#include <map>
#include <set>

#include "autograd/device.h"
#include "core/io/safetensors.h"
#include "core/mutation.h"
#include "moe/assignment.h"

namespace comet::train {
namespace {

constexpr const char* kModelFormat = "comet-moe mmoe v1";
constexpr const char* kTrainingFormat = "comet-moe mmoe training v1";

// Every setting of the model, gate settings included (a checkpoint loads only into the same model).
std::string architecture(const models::Mmoe& model) { return model.config().describe(); }

std::map<std::string, std::string> training_metadata(const models::Mmoe& model, const std::string& run) {
  return {{"format", kTrainingFormat}, {"architecture", architecture(model)}, {"run", run}};
}

Tensor i64(int64_t v) { return Tensor::from_vector<int64_t>({1}, {v}); }

// Every tensor only a training checkpoint holds is named "train.<...>", so a model checkpoint reader can skip them.
constexpr const char* kTrainingPrefix = "train.";
std::string optimizer_buffer(const std::string& param, int slot) {
  return fmt::format("train.optimizer.{}.{}", param, slot);
}
std::string block_steps_name(const std::string& param) { return fmt::format("train.optimizer.{}.block_steps", param); }
std::string noise_offset(int gate) { return fmt::format("train.task{}.gate.noise_offset", gate); }

// The model's tensors, aliasing its parameters.
io::NamedTensors model_tensors(models::Mmoe& model) {
  io::NamedTensors t;
  for (auto& [name, v] : model.named_params()) t.emplace_back(name, ag::copy_to(v.value(), Device::CPU));
  if (!COMET_MUTANT(checkpoint_no_buffers))
    for (auto& [name, buffer] : model.named_buffers()) t.emplace_back(name, *buffer);
  const moe::Permutation hard = model.permutation().hard();
  t.emplace_back("permutation.hard", Tensor::from_vector<int64_t>({static_cast<int64_t>(hard.size())}, hard));
  t.emplace_back("permutation.step", i64(model.permutation().step()));
  return t;
}

// Everything a training checkpoint holds: the model's tensors, then the "train.<...>" ones (the optimizer buffers
// alias the optimizer's state).
io::NamedTensors training_tensors(models::Mmoe& model, optim::Optimizer& opt, const TrainProgress& progress) {
  const auto named = model.named_params();
  COMET_CHECK(opt.params().size() == named.size(), "training checkpoint: the optimizer has {} parameters, the model {}",
              opt.params().size(), named.size());
  io::NamedTensors t = model_tensors(model);
  t.emplace_back("train.optimizer.step", i64(opt.steps()));
  for (size_t i = 0; i < named.size(); ++i) {
    COMET_CHECK(opt.params()[i].node() == named[i].second.node(),
                "training checkpoint: the optimizer's parameter {} is not the model's '{}'", i, named[i].first);
    for (int slot = 0; slot < opt.state_slots(); ++slot)
      t.emplace_back(optimizer_buffer(named[i].first, slot), ag::copy_to(opt.state(i, slot), Device::CPU));
    if (opt.block_steps(i).defined()) t.emplace_back(block_steps_name(named[i].first), opt.block_steps(i));
  }
  t.emplace_back("train.epoch", i64(progress.epoch));
  t.emplace_back("train.shuffle_offset", i64(static_cast<int64_t>(progress.shuffle_offset)));
  t.emplace_back("train.best_epoch", i64(progress.best_epoch));
  t.emplace_back("train.best_loss", Tensor::from_vector<double>({1}, {progress.best_loss}));
  // Without a best state (a reader's template) the model's own tensors stand in: only their shapes count.
  const io::NamedTensors best = progress.best_state.empty() ? model_tensors(model) : progress.best_state;
  for (const auto& [name, tensor] : best) t.emplace_back("train.best." + name, tensor);
  for (int gate = 0; gate < model.gate_count(); ++gate)
    if (const Generator* g = model.gate(gate).noise_generator())
      t.emplace_back(noise_offset(gate), i64(static_cast<int64_t>(g->offset())));
  t.emplace_back("train.dropout_offset", i64(static_cast<int64_t>(model.dropout_generator().offset())));
  return t;
}

// The key=value fields of a description ("gate=comet n=4 ..."), in order.
std::vector<std::pair<std::string, std::string>> fields(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string::npos) end = text.size();
    const std::string token = text.substr(pos, end - pos);
    const size_t eq = token.find('=');
    if (!token.empty()) out.emplace_back(token.substr(0, eq), eq == std::string::npos ? "" : token.substr(eq + 1));
    pos = end + 1;
  }
  return out;
}

// " (field 'gamma': 0.001 in the file, 1 here)" for the first field that differs, or "" when none can be named.
std::string first_difference(const std::string& have, const std::string& want) {
  const auto a = fields(have), b = fields(want);
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i)
    if (a[i] != b[i])
      return a[i].first == b[i].first
                 ? fmt::format(" (field '{}': {} in the file, {} here)", a[i].first, a[i].second, b[i].second)
                 : "";
  return "";
}

// The file's tensors after checking its metadata against `want` (field by field) and its tensors against
// `expected` (names, shapes, dtypes; nothing missing; nothing else, except "train.<...>" tensors when
// `training_allowed`, which a model checkpoint reader skips).
std::map<std::string, Tensor> read_checked(const std::string& path, const io::NamedTensors& expected,
                                           const std::map<std::string, std::string>& want,
                                           bool training_allowed) {
  const auto meta = io::load_safetensors_metadata(path);
  for (const auto& [key, value] : want) {
    const auto it = meta.find(key);
    const std::string have = it == meta.end() ? std::string("(none)") : it->second;
    const std::string field = first_difference(have, value);
    COMET_CHECK(have == value, "checkpoint '{}': written for another {}{}: '{}'; this one is '{}'", path, key, field,
                have, value);
  }
  std::map<std::string, Tensor> file;
  for (auto& [name, t] : io::load_safetensors(path)) file.emplace(name, t);
  std::set<std::string> wanted;
  for (const auto& [name, t] : expected) {
    wanted.insert(name);
    const auto it = file.find(name);
    COMET_CHECK(it != file.end(), "checkpoint '{}': tensor '{}' is missing", path, name);
    COMET_CHECK(it->second.dtype() == t.dtype() && it->second.shape() == t.shape(),
                "checkpoint '{}': tensor '{}' is {} {}, this model needs {} {}", path, name,
                shape_str(it->second.shape()), dtype_name(it->second.dtype()), shape_str(t.shape()), dtype_name(t.dtype()));
  }
  for (const auto& [name, t] : file)
    COMET_CHECK(wanted.count(name) || (training_allowed && name.rfind(kTrainingPrefix, 0) == 0),
                "checkpoint '{}': unexpected tensor '{}'", path, name);
  return file;
}

int64_t counter(const std::map<std::string, Tensor>& file, const std::string& name) {
  return file.at(name).data<int64_t>()[0];
}

// A block's step count outside [0, the optimizer's steps] would make Adam's bias correction zero or worse.
void check_block_steps(const std::string& path, const std::map<std::string, Tensor>& file, const std::string& name) {
  const int64_t total = counter(file, "train.optimizer.step");
  const int64_t* steps = file.at(name).data<int64_t>();
  for (int64_t b = 0; b < file.at(name).numel(); ++b)
    COMET_CHECK(steps[b] >= 0 && steps[b] <= total, "checkpoint '{}': {}[{}] = {} is outside [0, {}] (the optimizer's steps)",
                path, name, b, steps[b], total);
}

// Checks the permutation fields of `file`, then copies the model's tensors in.
// Checks every value first (permutation, step, gate buffers, finite parameters), then copies: a file that fails a
// check leaves the model as it was.
void apply_model(const std::string& path, const std::map<std::string, Tensor>& file, models::Mmoe& model) {
  const std::string where = fmt::format("checkpoint '{}'", path);
  const moe::Permutation hard = file.at("permutation.hard").to_vector<int64_t>();
  moe::check_permutation((where + ": permutation.hard").c_str(), hard, model.config().gate.experts);
  const int64_t step = counter(file, "permutation.step");
  COMET_CHECK(step >= 0, "{}: permutation.step is negative ({})", where, step);
  for (int g = 0; g < model.gate_count(); ++g)
    for (auto& [name, buffer] : model.gate(g).buffers())
      model.gate(g).check_buffer(where, name, file.at(fmt::format("task{}.gate.{}", g, name)));
  for (auto& [name, v] : model.named_params()) {
    const Tensor& t = file.at(name);
    for (int64_t i = 0; i < t.numel(); ++i)
      COMET_CHECK(std::isfinite(t.item(i)), "{}: tensor '{}' holds a non-finite value ({}) at element {}", where, name,
                  t.item(i), i);
  }
  for (auto& [name, v] : model.named_params()) ag::assign(v.value(), file.at(name));
  for (auto& [name, buffer] : model.named_buffers()) buffer->copy_from(file.at(name));
  model.permutation().restore(hard, step);
}

}  // namespace

io::NamedTensors model_state(models::Mmoe& model) {
  io::NamedTensors state = model_tensors(model);
  for (auto& [name, t] : state) t = t.clone();
  return state;
}

void restore_model_state(models::Mmoe& model, const io::NamedTensors& state) {
  const io::NamedTensors expected = model_tensors(model);
  COMET_CHECK(state.size() == expected.size(), "restore_model_state: {} tensors for a model of {}", state.size(),
              expected.size());
  std::map<std::string, Tensor> by_name;
  for (size_t i = 0; i < state.size(); ++i) {
    COMET_CHECK(state[i].first == expected[i].first && state[i].second.shape() == expected[i].second.shape() &&
                    state[i].second.dtype() == expected[i].second.dtype(),
                "restore_model_state: tensor {} is '{}' {}, the model's '{}' {}", i, state[i].first,
                shape_str(state[i].second.shape()), expected[i].first, shape_str(expected[i].second.shape()));
    by_name.emplace(state[i].first, state[i].second);
  }
  apply_model("(model state)", by_name, model);
}

models::MmoeConfig read_model_config(const std::string& path) {
  const auto meta = io::load_safetensors_metadata(path);
  const auto it = meta.find("architecture");
  COMET_CHECK(it != meta.end(), "checkpoint '{}': no 'architecture' in its metadata (not a comet-moe checkpoint)", path);
  try {
    return models::MmoeConfig::parse(it->second);
  } catch (const Error& e) {
    throw Error(fmt::format("checkpoint '{}': {}", path, e.what()));
  }
}

void save_checkpoint(const std::string& path, models::Mmoe& model) {
  io::save_safetensors(path, model_tensors(model), {{"format", kModelFormat}, {"architecture", architecture(model)}});
}

void load_checkpoint(const std::string& path, models::Mmoe& model) {
  const auto file = read_checked(path, model_tensors(model), {{"architecture", architecture(model)}}, true);
  apply_model(path, file, model);
}

void save_training_checkpoint(const std::string& path, models::Mmoe& model, optim::Optimizer& opt,
                              const TrainProgress& progress, const std::string& run) {
  io::save_safetensors(path, training_tensors(model, opt, progress), training_metadata(model, run));
}

TrainProgress load_training_checkpoint(const std::string& path, models::Mmoe& model, optim::Optimizer& opt,
                                       const std::string& run) {
  const auto file = read_checked(path, training_tensors(model, opt, {}), training_metadata(model, run), false);
  TrainProgress progress;
  progress.epoch = counter(file, "train.epoch");
  progress.shuffle_offset = static_cast<uint64_t>(counter(file, "train.shuffle_offset"));
  progress.best_epoch = counter(file, "train.best_epoch");
  progress.best_loss = file.at("train.best_loss").data<double>()[0];
  COMET_CHECK(progress.epoch >= 0 && counter(file, "train.optimizer.step") >= 0,
              "checkpoint '{}': negative train.epoch or train.optimizer.step", path);
  const auto named = model.named_params();
  for (size_t i = 0; i < named.size(); ++i)  // checked before anything is copied
    if (opt.block_steps(i).defined()) check_block_steps(path, file, block_steps_name(named[i].first));
  apply_model(path, file, model);
  opt.set_steps(counter(file, "train.optimizer.step"));
  for (size_t i = 0; i < named.size(); ++i) {
    for (int slot = 0; slot < opt.state_slots(); ++slot)
      ag::assign(opt.state(i, slot), file.at(optimizer_buffer(named[i].first, slot)));
    if (opt.block_steps(i).defined()) opt.block_steps(i).copy_from(file.at(block_steps_name(named[i].first)));
  }
  for (int gate = 0; gate < model.gate_count(); ++gate)
    if (Generator* g = model.gate(gate).noise_generator())
      g->seek(static_cast<uint64_t>(counter(file, noise_offset(gate))));
  model.dropout_generator().seek(static_cast<uint64_t>(counter(file, "train.dropout_offset")));
  for (const auto& [name, tensor] : model_tensors(model))
    progress.best_state.emplace_back(name, file.at("train.best." + name).clone());
  return progress;
}

}  // namespace comet::train
