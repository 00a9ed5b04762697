// Idle blocks (Optimizer::split_blocks / set_active_blocks, the MoE's idle experts): a stacked parameter whose
// blocks are marked idle on some steps ends bit for bit where one Adam per block ends when each block's optimizer
// steps only on its active steps (PyTorch's per-expert tensors with a None gradient), at 1 and 2 threads; without
// marks, an idle block with a zero gradient still moves (the momentum); misuse refused with its message.
#include <doctest/doctest.h>

#include <memory>
#include <vector>

#include "core/rng.h"
#include "core/threading.h"
#include "optim/optimizer.h"
#include "test_util.h"

namespace comet::optim {
namespace {

constexpr int64_t kBlocks = 3, kBlockSize = 5, kSteps = 6;
// active[step][block]: block 1 idle on steps 2 and 3, block 2 idle until step 3 (its first update is its own step 1).
const std::vector<std::vector<uint8_t>> kActive = {{1, 1, 0}, {1, 0, 0}, {1, 0, 1}, {1, 1, 1}, {0, 1, 1}, {1, 1, 1}};

// Gradient of block b at a step (the same numbers for the stacked and the per-block runs).
std::vector<Tensor> gradients(uint64_t seed) {
  Generator gen(seed);
  std::vector<Tensor> out;
  for (int64_t s = 0; s < kSteps; ++s) {
    Tensor g = Tensor::empty({kBlocks, kBlockSize});
    gen.normal(g, 0.0, 1.0);
    out.push_back(g);
  }
  return out;
}

Tensor initial_values() {
  Generator gen(7);
  Tensor t = Tensor::empty({kBlocks, kBlockSize});
  gen.uniform(t, -1.0, 1.0);
  return t;
}

Tensor block_of(const Tensor& t, int64_t b) {
  return Tensor::from_vector<float>({kBlockSize}, {t.data<float>() + b * kBlockSize, t.data<float>() + (b + 1) * kBlockSize});
}

// The stacked parameter, split into blocks and marked every step; `mark` false: no marks (every block updated).
Tensor stacked_run(bool mark) {
  ag::Var p = ag::param(initial_values().clone());
  Adam adam({p}, constant_lr(0.01));
  adam.split_blocks(0, kBlocks);
  const std::vector<Tensor> grads = gradients(3);
  for (int64_t s = 0; s < kSteps; ++s) {
    Tensor g = grads[s].clone();
    for (int64_t b = 0; b < kBlocks; ++b)  // an idle expert's gradient is exactly zero
      if (!kActive[s][b])
        for (int64_t i = 0; i < kBlockSize; ++i) g.data<float>()[b * kBlockSize + i] = 0.0f;
    p.grad() = g;
    if (mark) adam.set_active_blocks(0, kActive[s]);
    adam.step();
  }
  if (mark) {
    const int64_t* steps = adam.block_steps(0).data<int64_t>();
    CHECK(steps[0] == 5);
    CHECK(steps[1] == 4);
    CHECK(steps[2] == 4);
  }
  return p.value();
}

// One tensor and one Adam per block, stepped only when the block is active.
std::vector<Tensor> per_block_run() {
  const Tensor init = initial_values();
  const std::vector<Tensor> grads = gradients(3);
  std::vector<Tensor> out;
  for (int64_t b = 0; b < kBlocks; ++b) {
    ag::Var p = ag::param(block_of(init, b));
    Adam adam({p}, constant_lr(0.01));
    for (int64_t s = 0; s < kSteps; ++s) {
      if (!kActive[s][b]) continue;
      p.grad() = block_of(grads[s], b);
      adam.step();
    }
    out.push_back(p.value());
  }
  return out;
}

}  // namespace

TEST_CASE("idle blocks: a stacked parameter ends where one Adam per block ends, at 1 and 2 threads") {
  const std::vector<Tensor> want = per_block_run();
  for (int threads : {1, 2}) {
    CAPTURE(threads);
    const ThreadScope scope(threads);
    const Tensor got = stacked_run(true);
    for (int64_t b = 0; b < kBlocks; ++b) {
      CAPTURE(b);
      const Tensor block = block_of(got, b);
      for (int64_t i = 0; i < kBlockSize; ++i) CHECK(block.data<float>()[i] == want[b].data<float>()[i]);
    }
  }
}

TEST_CASE("idle blocks: without marks an idle block with a zero gradient still moves") {
  // The documented effect of the option: plain Adam keeps stepping an expert that received no rows, by its momentum.
  // Block 0 is idle on the fifth step only: unmarked, that step moves it, so its values differ from the marked run's.
  const Tensor skipped = stacked_run(true), stepped = stacked_run(false), init = initial_values();
  bool moved_while_idle = false;
  for (int64_t i = 0; i < kBlockSize; ++i)
    moved_while_idle = moved_while_idle || skipped.data<float>()[i] != stepped.data<float>()[i];
  CHECK(moved_while_idle);
  // Before block 2's first active step, a zero gradient leaves it in place either way (m = v = 0).
  ag::Var p = ag::param(init.clone());
  Adam adam({p}, constant_lr(0.01));
  p.grad() = Tensor::zeros({kBlocks, kBlockSize});
  adam.step();
  for (int64_t i = 0; i < p.value().numel(); ++i) CHECK(p.value().data<float>()[i] == init.data<float>()[i]);
}

TEST_CASE("idle blocks: misuse refused with the message") {
  ag::Var p = ag::param(Tensor::zeros({4, 2}));
  Adam adam({p}, constant_lr(0.01));
  CHECK_THROWS_WITH_AS(adam.split_blocks(0, 3), "Optimizer::split_blocks: parameter 0 of shape [4, 2] does not "
                                                   "split into 3 blocks along its first dimension", Error);
  CHECK_THROWS_WITH_AS(adam.split_blocks(1, 4), "Optimizer::split_blocks: parameter 1 out of range (1 parameters)", Error);
  CHECK_THROWS_WITH_AS(adam.set_active_blocks(0, {1, 1, 1, 1}), "Optimizer::set_active_blocks: parameter 0 is split into 0 blocks, 4 marks given", Error);
  adam.split_blocks(0, 4);
  CHECK_THROWS_WITH_AS(adam.set_active_blocks(0, {1, 0}), "Optimizer::set_active_blocks: parameter 0 is split into 4 blocks, 2 marks given", Error);
  p.grad() = Tensor::zeros({4, 2});
  adam.step();
  CHECK_THROWS_WITH_AS(adam.split_blocks(0, 4), "Optimizer::split_blocks: parameter 0 split after 1 steps (only before the first)", Error);
}

}  // namespace comet::optim
