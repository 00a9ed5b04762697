// MMoE checkpoints over core/io/safetensors.
#include "moe/checkpoint.h"

#include <map>
#include <set>

#include "core/io/safetensors.h"
#include "moe/assignment.h"

namespace comet::moe {
namespace {

std::string architecture(const Mmoe& model) {
  const MmoeConfig& c = model.config();
  return fmt::format("gate={} n={} k={} in={} hidden={} out={} tower={} tasks={} local_search={}", gate_name(c.gate.kind),
                     c.gate.experts, c.gate.k, c.input_dim, c.expert_hidden, c.expert_out, c.tower_hidden, c.tasks,
                     local_search_name(c.local_search));
}

}  // namespace

void save_checkpoint(const std::string& path, Mmoe& model) {
  io::NamedTensors tensors;
  for (auto& [name, v] : model.named_params()) tensors.emplace_back(name, v.value());
  const Permutation hard = model.permutation().hard();
  tensors.emplace_back("permutation.hard", Tensor::from_vector<int64_t>({static_cast<int64_t>(hard.size())}, hard));
  tensors.emplace_back("permutation.step", Tensor::from_vector<int64_t>({1}, {model.permutation().step()}));
  io::save_safetensors(path, tensors, {{"format", "comet-moe mmoe v1"}, {"architecture", architecture(model)}});
}

void load_checkpoint(const std::string& path, Mmoe& model) {
  const auto meta = io::load_safetensors_metadata(path);
  const auto arch = meta.find("architecture");
  COMET_CHECK(arch != meta.end() && arch->second == architecture(model),
              "checkpoint '{}': written for '{}', this model is '{}'", path,
              arch == meta.end() ? std::string("(no architecture field)") : arch->second, architecture(model));
  std::map<std::string, Tensor> file;
  for (auto& [name, t] : io::load_safetensors(path)) file.emplace(name, t);
  std::set<std::string> expected{"permutation.hard", "permutation.step"};
  auto params = model.named_params();
  for (auto& [name, v] : params) {  // check everything before changing anything
    expected.insert(name);
    const auto it = file.find(name);
    COMET_CHECK(it != file.end(), "checkpoint '{}': tensor '{}' is missing", path, name);
    COMET_CHECK(it->second.shape() == v.shape() && it->second.dtype() == v.dtype(),
                "checkpoint '{}': tensor '{}' is {} {}, the model needs {} {}", path, name,
                shape_str(it->second.shape()), dtype_name(it->second.dtype()), shape_str(v.shape()),
                dtype_name(v.dtype()));
  }
  for (const auto& [name, t] : file)
    COMET_CHECK(expected.count(name), "checkpoint '{}': unexpected tensor '{}'", path, name);
  for (const char* name : {"permutation.hard", "permutation.step"})
    COMET_CHECK(file.count(name) && file.at(name).dtype() == DType::I64, "checkpoint '{}': '{}' missing or not i64",
                path, name);
  const Permutation hard = file.at("permutation.hard").to_vector<int64_t>();
  check_permutation(fmt::format("checkpoint '{}': permutation.hard", path).c_str(), hard, model.config().gate.experts);
  COMET_CHECK(file.at("permutation.step").numel() == 1, "checkpoint '{}': permutation.step must hold one value", path);
  for (auto& [name, v] : params) v.value().copy_from(file.at(name));
  model.permutation().restore(hard, file.at("permutation.step").data<int64_t>()[0]);
}

}  // namespace comet::moe
