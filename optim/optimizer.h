// Optimizers over a list of parameters (ag::Var leaves): SGD with momentum, Adam and AdamW (bias-corrected),
// gradient clipping by global norm, and a learning-rate schedule hook. Parameters without a gradient are
// skipped. Updates run in the parameter's dtype; a step is one parallel region over all parameters (multi-tensor:
// each is cut into chunks and the threads share the chunks of every tensor, instead of waking the team once per
// tensor). Updates are elementwise (no reductions), so they are deterministic at any thread count. Tests: tests/optim/test_optim.cpp (steps worked out by hand).
#pragma once
#include <array>
#include <functional>
#include <vector>

#include "autograd/var.h"

namespace comet::optim {

// Learning rate as a function of the step about to be taken (1-based).
using Schedule = std::function<double(int64_t step)>;
Schedule constant_lr(double lr);
// Linear warm-up over `warmup` steps, then cosine decay to `final_lr` at `total` steps.
Schedule warmup_cosine(double lr, int64_t warmup, int64_t total, double final_lr = 0.0);

class Optimizer {
 public:
  Optimizer(std::vector<ag::Var> params, Schedule lr) : params_(std::move(params)), lr_(std::move(lr)) {}
  virtual ~Optimizer() = default;
  // One update from the current gradients; step() counts from 1.
  void step();
  void zero_grad();
  int64_t steps() const { return step_; }
  double current_lr() const { return lr_(step_ < 1 ? 1 : step_); }
  void set_schedule(Schedule lr) { lr_ = std::move(lr); }
  const std::vector<ag::Var>& params() const { return params_; }

  // For checkpoints (an exact resume needs them): the state buffers each parameter keeps (Adam: m and v; SGD: the
  // velocity when momentum is on), buffer `slot` of params()[index] (zeros until its first update), and the step
  // count to continue from.
  virtual int state_slots() const = 0;
  Tensor& state(size_t index, int slot);
  void set_steps(int64_t steps);

 protected:
  // Updates elements [begin, end) of params()[index] (called from inside the step's parallel region; the state
  // buffers exist already).
  virtual void update(size_t index, Tensor& param, const Tensor& grad, double lr, int64_t begin, int64_t end) = 0;
  static constexpr int kStateSlots = 2;  // the most any optimizer keeps

 private:
  std::vector<ag::Var> params_;
  Schedule lr_;
  int64_t step_ = 0;
  std::vector<std::array<Tensor, kStateSlots>> state_;
};

struct SgdOptions {
  double momentum = 0.0;
  double weight_decay = 0.0;  // L2 added to the gradient
  bool nesterov = false;
};

// v = momentum v + (g + wd p); p -= lr * v   (nesterov: p -= lr * (g + wd p + momentum v)).
class Sgd : public Optimizer {
 public:
  Sgd(std::vector<ag::Var> params, Schedule lr, SgdOptions opt = {});
  int state_slots() const override { return opt_.momentum != 0.0 ? 1 : 0; }

 private:
  void update(size_t index, Tensor& param, const Tensor& grad, double lr, int64_t begin, int64_t end) override;
  SgdOptions opt_;
};

struct AdamOptions {
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled = false;  // false: Adam with L2 in the gradient; true: AdamW (p -= lr * wd * p)
};

// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
class Adam : public Optimizer {
 public:
  Adam(std::vector<ag::Var> params, Schedule lr, AdamOptions opt = {});
  int state_slots() const override { return 2; }

 private:
  void update(size_t index, Tensor& param, const Tensor& grad, double lr, int64_t begin, int64_t end) override;
  AdamOptions opt_;
};

inline AdamOptions adamw_options(double weight_decay) {
  AdamOptions o;
  o.weight_decay = weight_decay;
  o.decoupled = true;
  return o;
}

// Scales every gradient by min(1, max_norm / global_norm); returns the global L2 norm before clipping.
double clip_grad_norm(const std::vector<ag::Var>& params, double max_norm);

}  // namespace comet::optim
