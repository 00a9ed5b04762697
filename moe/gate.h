// The gate interface shared by every gate (Softmax, Top-k, Hash, DSelect-k, COMET; spec comet.md sections 2, 3, 5).
// A gate maps the routing input of a batch to the dense weight matrix g [B, n] (exact zeros where a sample does not
// use an expert; the MoE layer's sparse path extracts the non-zeros as its routing, and GateOutput::routing() lists
// them per sample) and its regularisation loss.
// An optional permutation matrix P [n, n] sits between the gate's output slots and the experts (the "+" of COMET+,
// spec 4.1): slot i's weight goes to expert l in proportion to P[i, l]. Tests: tests/moe/test_gates.cpp.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "autograd/ops.h"

namespace comet::moe {

enum class GateKind { Softmax, TopK, Hash, DSelectK, Comet };
const char* gate_name(GateKind kind);
GateKind parse_gate_kind(const std::string& name);  // "softmax", "topk", "hash", "dselect", "comet"

struct GateConfig {
  GateKind kind = GateKind::Comet;
  int64_t experts = 16;        // n
  int64_t k = 2;               // experts per sample (trees for COMET, selectors for DSelect-k); Hash: 1
  double gamma = 1.0;          // smooth-step width (DSelect-k, COMET)
  double entropy = 0.0;        // lambda of the entropy regulariser (DSelect-k, COMET)
  double zeta = 1.0;           // DSelect-k's penalty weight for n not a power of two
  bool per_sample = true;      // DSelect-k: per-sample (true) or static (false) selectors
  bool noisy_topk = false;     // Top-k: Shazeer-style noise (training only)
  double load_balance = 0.0;   // Top-k: weight of the importance (CV^2) load-balancing loss
  std::optional<int64_t> hash_keys;  // Hash: number of distinct keys (e.g. user ids)
};

struct GateInput {
  ag::Var x;    // [B, d] routing input
  Tensor keys;  // [B] i32/i64 keys for Hash routing (undefined for the other gates)
};

// Per-sample routing in compressed rows: sample b uses experts expert[offsets[b] .. offsets[b + 1]) (ascending) with
// the matching weights, the non-zeros of its row of g.
struct SampleRouting {
  std::vector<int64_t> offsets;  // [B + 1]
  std::vector<int64_t> expert;   // [pairs]
  std::vector<double> weight;    // [pairs]

  int64_t samples() const { return static_cast<int64_t>(offsets.size()) - 1; }
  int64_t count(int64_t b) const { return offsets[b + 1] - offsets[b]; }
};
// The routing of g [B, n] (f32 or f64).
SampleRouting sample_routing(const Tensor& g);

struct GateOutput {
  ag::Var weights;         // g [B, n]: the dense matrix (what the dense path and the gradients run on)
  ag::Var regularization;  // 0-d; undefined when the gate adds nothing

  // Which experts each sample uses and with what weights (at most k each once a tree gate has converged).
  SampleRouting routing() const { return sample_routing(weights.value()); }
};

class Gate {
 public:
  virtual ~Gate() = default;
  // perm: the slot-to-expert matrix [n, n], or null for the identity.
  virtual GateOutput forward(const GateInput& in, const ag::Var* perm, bool training) = 0;
  // The gate's trainable parameters, as slots that can be read or replaced (e.g. by a gradient check).
  virtual std::vector<ag::Var*> parameter_slots() = 0;
  // The generator of the gate's training noise (noisy Top-k), or null: its position is part of a training checkpoint.
  virtual Generator* noise_generator() { return nullptr; }
  // State that defines the gate besides its parameters (the Hash gate's key -> expert table), by name: checkpoints
  // save it and load it back. check_buffer throws, naming `where`, unless `value` may replace buffer `name`.
  virtual std::vector<std::pair<std::string, Tensor*>> buffers() { return {}; }
  virtual void check_buffer(const std::string& where, const std::string& name, const Tensor& value) const;
  std::vector<ag::Var> params();
  const GateConfig& config() const { return cfg_; }

 protected:
  explicit Gate(const GateConfig& cfg);
  GateConfig cfg_;
};

// Builds a gate for routing inputs of width `input_dim`, initialised as in the spec from `gen`.
std::unique_ptr<Gate> make_gate(const GateConfig& cfg, int64_t input_dim, Generator& gen);

// Shared pieces of the gates.
// g [B, n] @ P, or g itself when perm is null.
ag::Var apply_permutation(const ag::Var& g, const ag::Var* perm);
// g / (row sums of g): the renormalisation after a (possibly soft) permutation.
ag::Var normalize_rows(const ag::Var& g);
// lambda * mean over rows of sum_{cols} -p log(p + 1e-6), for p [B, C] (0-d).
ag::Var entropy_penalty(const ag::Var& p, double lambda);
// a + b where an undefined operand counts as none (optional losses, running sums).
ag::Var add_defined(const ag::Var& a, const ag::Var& b);
// A constant holding `value` on the device of `like` (the gates' fixed tensors follow their input's device).
ag::Var constant_like(const ag::Var& like, const Tensor& value);

}  // namespace comet::moe
