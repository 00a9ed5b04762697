// Optimizers over a list of parameters (ag::Var leaves): SGD with momentum, Adam and AdamW (bias-corrected),
// gradient clipping by global norm, and a learning-rate schedule hook. Parameters without a gradient are
// skipped. Updates run in the parameter's dtype; a step is one parallel region over all parameters (multi-tensor:
// each is cut into chunks and the threads share the chunks of every tensor, instead of waking the team once per
// tensor). Updates are elementwise (no reductions), so they are deterministic at any thread count. Parameters on a
// CUDA device are updated there, one kernel launch per parameter (or block) from the calling thread; clipping sums
// their squares there. Tests: tests/optim/test_optim.cpp (steps worked out by hand), tests/optim/test_on_device.cpp.
#pragma once
#include <array>
#include <functional>
#include <memory>
#include <mutex>
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
  virtual ~Optimizer();  // removes the hooks of update_in_backward
  Optimizer(const Optimizer&) = delete;  // the hooks hold this optimizer's address
  Optimizer& operator=(const Optimizer&) = delete;
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

  // Idle blocks (opt-in; an MoE's idle experts). A parameter whose first dimension indexes independent blocks (one
  // per expert) can be split into them: split_blocks(index, count), once, before the first step. Then
  // set_active_blocks(index, active) before a step lets that step update only the blocks with active[b] != 0; the
  // others keep their values and state buffers, and each block counts its own steps for the bias correction. This is
  // what PyTorch's Adam does with one tensor per expert whose gradient is None because the expert received no rows.
  // Without a mark, a step updates every block. A mark holds for one step.
  void split_blocks(size_t index, int64_t count);
  void set_active_blocks(size_t index, std::vector<uint8_t> active);
  // The steps taken by each block of params()[index], i64 [count] (undefined unless split): for checkpoints.
  Tensor& block_steps(size_t index);

  // Fused update (opt-in): params()[index] is updated inside ag::backward, as soon as its gradient is complete, with
  // the numbers the next step() would use (the same bits); its gradient is then released, and that step() skips it.
  // Where the only op that reads the parameter hands its gradient over in pieces (ag::Node::grad_pieces; the sparse
  // experts' weights in ag::grouped_linear on the CPU), each piece is applied as it comes, from the cache of the
  // thread that computed it, and the whole gradient is never written out (memory traffic and memory saved). What the
  // fused update cannot do:
  //  - gradient clipping by the global norm, or anything else that reads the gradients after backward (they are
  //    gone; clip_grad_norm would not see them);
  //  - gradient accumulation over several backward passes: a second backward before step() is refused;
  //  - a non-finite gradient is not applied: it stays in place for the caller's check, and step() does not update
  //    the parameter either. A gradient in pieces is checked piece by piece: the pieces with an inf or NaN are not
  //    applied, the others are (the step counts as taken), and the gradient left for the caller's check holds the
  //    non-finite pieces' values and zeros elsewhere.
  // Idle-block marks must be set before the backward pass.
  void update_in_backward(size_t index);

 protected:
  // Updates elements [begin, end) of params()[index] as its `step`-th update (1-based; the optimizer's step count, or
  // the block's own when the parameter is split into blocks), from their gradient at `grad` (the parameter's dtype and
  // device; grad points at element begin's). Called from inside the step's parallel region, or from the threads that
  // hand over a gradient in pieces; the state buffers exist already.
  virtual void update(size_t index, Tensor& param, const void* grad, double lr, int64_t step, int64_t begin,
                      int64_t end) = 0;
  static constexpr int kStateSlots = 2;  // the most any optimizer keeps

 private:
  std::vector<ag::Var> params_;
  Schedule lr_;
  int64_t step_ = 0;
  std::vector<std::array<Tensor, kStateSlots>> state_;
  struct Blocks {
    Tensor steps;                 // i64 [count]; undefined: the parameter is not split
    std::vector<uint8_t> active;  // the next step's mark; empty: every block
  };
  std::vector<Blocks> blocks_;
  std::vector<size_t> in_backward_;        // the parameters given to update_in_backward
  std::vector<uint8_t> updated_early_;    // per parameter: updated in this step's backward already

  // A gradient taken in pieces during this backward pass (update_in_backward).
  struct Pieces {
    bool taken = false;
    double lr = 0;
    std::vector<int64_t> block_step;  // the update's step number per block (one block unless split); 0: skipped
    int64_t block_size = 0;
    std::mutex bad_mutex;
    Tensor bad_grad;                  // the non-finite pieces, zeros elsewhere; undefined while every piece is finite
  };
  std::vector<std::unique_ptr<Pieces>> pieces_;

  struct Chunk {
    size_t index;
    int64_t step, begin, end;
  };
  // Appends the chunks of params()[index]'s update as the `step`-th (consuming its block mark), with its state
  // buffers allocated; nothing when it has no gradient.
  void plan(size_t index, int64_t step, std::vector<Chunk>& chunks);
  // The step number of each block of params()[index] in the `step`-th update (consuming its block mark), 0 for the
  // blocks the mark leaves out; one block when the parameter is not split.
  std::vector<int64_t> block_step_numbers(size_t index, int64_t step);
  void allocate_state(size_t index);
  void run(const std::vector<Chunk>& chunks, double lr);
  // Refuses a second backward pass before step() for a parameter updated in backward.
  void check_first_backward(size_t index);
  void update_early(size_t index);
  void begin_pieces(size_t index);
  void take_piece(size_t index, int64_t begin, int64_t end, const void* grad);
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
  void update(size_t index, Tensor& param, const void* grad, double lr, int64_t step, int64_t begin,
              int64_t end) override;
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
  void update(size_t index, Tensor& param, const void* grad, double lr, int64_t step, int64_t begin,
              int64_t end) override;
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
