// The concrete gates (interface in moe/gate.h). The order of parameter_slots() is part of each class's contract
// (tests and checkpoints set parameters through it). Tests: tests/moe/test_gates.cpp.
#pragma once
#include "moe/gate.h"
#include "nn/mlp.h"

namespace comet::moe {

// g = softmax(x W + b) over all n experts (spec 5.1). params: W [d, n], b [n].
class SoftmaxGate : public Gate {
 public:
  SoftmaxGate(const GateConfig& cfg, int64_t d, Generator& gen);
  GateOutput forward(const GateInput& in, const ag::Var* perm, bool training) override;
  std::vector<ag::Var*> parameter_slots() override { return {&logits_.weight, &logits_.bias}; }

 private:
  nn::Linear logits_;
};

// Top-k (spec 5.2): keep the k largest logits of x W + b (ties: lower expert index), softmax over them, mask by
// index. Optional Shazeer noise h += N(0,1) softplus(x W_noise) in training, optional importance loss
// load_balance * CV^2(sum over the batch of g). params: W [d, n], b [n] (+ W_noise [d, n], b_noise [n]).
// The Top-k gate's selection: flat indices b * n + e of the k largest entries of each row of h [B, n], ties to the
// lower expert index, experts ascending within a row (the reference of the CUDA kernel, kernels/cuda/gate_kernels.h).
std::vector<int64_t> top_k_indices(const Tensor& h, int64_t k);

class TopKGate : public Gate {
 public:
  TopKGate(const GateConfig& cfg, int64_t d, Generator& gen);
  GateOutput forward(const GateInput& in, const ag::Var* perm, bool training) override;
  std::vector<ag::Var*> parameter_slots() override;
  Generator* noise_generator() override { return noise_ ? &noise_gen_ : nullptr; }

 private:
  nn::Linear logits_;
  std::optional<nn::Linear> noise_;
  Generator noise_gen_;
};

// Hash routing (spec 5.3): a fixed table key -> expert drawn uniformly at construction; g = one-hot, k = 1.
class HashGate : public Gate {
 public:
  HashGate(const GateConfig& cfg, Generator& gen);
  GateOutput forward(const GateInput& in, const ag::Var* perm, bool training) override;
  std::vector<ag::Var*> parameter_slots() override { return {}; }
  std::vector<std::pair<std::string, Tensor*>> buffers() override { return {{"hash_table", &table_}}; }
  void check_buffer(const std::string& where, const std::string& name, const Tensor& value) const override;
  std::vector<int64_t> table() const { return table_.to_vector<int64_t>(); }

 private:
  Tensor table_;  // i64 [hash_keys]: each key's expert
};

// DSelect-k (spec 2): k selectors over m = ceil(log2 n) smooth-step bits (MSB first, bit 1 => S), mixed by
// softmax(alpha). Per-sample: z = x Wz + bz, alpha = x Wa + ba; static: z [k, m] and alpha [k] parameters.
// params: per-sample Wz [d, k m], bz [k m], Wa [d, k], ba [k]; static z [1, k m], alpha [1, k].
class DSelectGate : public Gate {
 public:
  DSelectGate(const GateConfig& cfg, int64_t d, Generator& gen);
  GateOutput forward(const GateInput& in, const ag::Var* perm, bool training) override;
  std::vector<ag::Var*> parameter_slots() override;
  int64_t bits() const { return tree_.num_activations; }

 private:
  RoutingTree tree_;
  std::optional<nn::Linear> z_, alpha_;     // per-sample
  ag::Var static_z_, static_alpha_;     // static
};

// COMET (spec 3): k soft binary trees in heap layout; node activations s = S_gamma(x W + b) [B, k, n-1]; leaf reach
// probabilities p [B, k, n]; leaf logits a = x V + c [B, k n]; one joint softmax of a + log p over all (tree, leaf)
// pairs; slots summed over trees through P (identity by default) and renormalised; entropy lambda mean_b sum -p log p.
// params: node W [d, k (n-1)], b [k (n-1)] (column j (n-1) + q: tree j, node q); leaf V [d, k n], c [k n]
// (column j n + i). A single expert (n = 1) has no nodes: params are then only V, c.
class CometGate : public Gate {
 public:
  CometGate(const GateConfig& cfg, int64_t d, Generator& gen);
  GateOutput forward(const GateInput& in, const ag::Var* perm, bool training) override;
  std::vector<ag::Var*> parameter_slots() override;

 private:
  RoutingTree tree_;
  std::optional<nn::Linear> nodes_;
  nn::Linear leaves_;
  Tensor tree_sum_;  // [k n, n]: sums the k trees' slots (vertical stack of k identities)
};

}  // namespace comet::moe
