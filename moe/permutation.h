// The permutation between a gate's output slots and the experts (the "+" of COMET+, Top-k+, Hash+, DSelect-k+;
// spec comet.md 4). One SlotPermutation is shared by every gate of a model (the released configs use one).
//  - FixedPermutation: a hard permutation (identity by default), e.g. the result of the discrete swap pass.
//  - LearnedPermutation: the released method. Trainable scores L [n, n] ~ U(-0.05, 0.05); during the
//    window (the training-step counter, incremented first, below `window_steps`: window_steps - 1 steps, as the
//    released code) the gates use P = Sinkhorn(L / tau, T) (log domain, double precision, through
//    autograd ops, so the training loss trains L), with log10 tau from -3 to -7 and T from 20 to 150 over the window,
//    plus zeta [sum -P log(P + 1e-6) + sum -P^ log(P^ + 1e-6)] (P^ = P with rows renormalised); afterwards, and in
//    evaluation at any time, the exact assignment of the last soft matrix, frozen.
// Matrices are [n, n], rows = slots, columns = experts. Test: tests/moe/test_permutation.cpp.
#pragma once
#include <vector>

#include "autograd/ops.h"
#include "moe/swap_search.h"

namespace comet::moe {

class SlotPermutation {
 public:
  virtual ~SlotPermutation() = default;
  // The matrix for one forward pass; in training this also advances the step counter of a learned permutation.
  // An undefined Var means the identity.
  virtual ag::Var matrix(bool training) = 0;
  // The permutation's regulariser for the current step (undefined: none).
  virtual ag::Var regularization() { return {}; }
  virtual std::vector<ag::Var> params() { return {}; }
  // The hard permutation (perm[slot] = expert) used in evaluation.
  virtual Permutation hard() const = 0;
  // Training steps taken (a learned permutation's window position; 0 for a fixed one).
  virtual int64_t step() const { return 0; }
  // Restores the state saved in a checkpoint: the hard permutation and the step counter.
  virtual void restore(const Permutation& hard, int64_t step) = 0;
};

// The slot -> expert 0/1 matrix of a hard permutation.
Tensor permutation_matrix(const Permutation& perm, DType dtype = DType::F32);

class FixedPermutation : public SlotPermutation {
 public:
  explicit FixedPermutation(int64_t n);  // identity
  explicit FixedPermutation(Permutation perm);
  ag::Var matrix(bool training) override;
  Permutation hard() const override { return perm_; }
  void restore(const Permutation& hard, int64_t) override { set(hard); }
  void set(Permutation perm);

 private:
  Permutation perm_;
  bool identity_ = true;
};

class LearnedPermutation : public SlotPermutation {
 public:
  LearnedPermutation(int64_t n, int64_t window_steps, double zeta, Generator& gen);
  ag::Var matrix(bool training) override;
  ag::Var regularization() override { return regularization_; }
  std::vector<ag::Var> params() override { return {scores_}; }
  Permutation hard() const override { return hard_; }
  bool frozen() const { return step_ >= window_; }
  int64_t step() const override { return step_; }
  void restore(const Permutation& hard, int64_t step) override;
  const Tensor& last_soft() const { return last_soft_; }  // P_last [n, n] f64

 private:
  ag::Var sinkhorn(double tau, int iterations) const;

  ag::Var scores_;        // L [n, n] f32
  int64_t window_;        // I_p = E_p x steps per epoch
  double zeta_;
  int64_t step_ = 0;      // training forward calls so far
  Tensor last_soft_;      // P_last [n, n] f64
  Permutation hard_;      // the exact assignment of last_soft_
  ag::Var regularization_;
};

}  // namespace comet::moe
