// The launch seam of the custom CUDA kernels: every kernel is a small struct (its arguments) whose body runs on
// the GPU and, unchanged, on the host, so that the host tests run the real per-thread logic over the real launch
// grid (every block and thread of a small launch) and compare it with the CPU reference.
//
// A kernel K provides
//   K::Shared  the block's shared memory (trivial type; __shared__ on the device),
//   K::Local   one thread's state that lives across phases (trivial type; registers on the device),
//   COMET_HD bool phase(int p, const Thread& t, K::Shared&, K::Local&) const
// and runs as phases 0, 1, 2, ... with a block barrier (__syncthreads) between consecutive phases; a phase returns
// whether another follows, and every thread of a block must return the same answer (a barrier that only some
// threads reach would hang the device: the emulation refuses it). Kernels without block cooperation derive from
// OnePhase. The device wrapper and launcher are kernels/cuda/launch.cuh; emulate() below is the host's run.
// Launch math (grid and block sizes) is plain host code here too. Test: tests/kernels/test_cuda_launch.cpp.
#pragma once
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/error.h"
#include "core/hd.h"

namespace comet::cuda {

// One thread of a 1-D launch: blockIdx.x, threadIdx.x, blockDim.x and gridDim.x. Elementwise bodies loop
// i = global(), global() + grid_threads(), ... (a grid-stride loop), so any grid covers any size.
struct Thread {
  int64_t block, thread, block_dim, grid_dim;

  COMET_HD int64_t global() const { return block * block_dim + thread; }
  COMET_HD int64_t grid_threads() const { return grid_dim * block_dim; }
};

// A 1-D launch configuration; grid == 0 launches nothing (CUDA refuses an empty grid).
struct Launch {
  int64_t grid = 0, block = 0;
};

// Base of the kernels whose threads never cooperate: one phase, no shared memory, no state across phases.
// Such a kernel defines `COMET_HD void run(const Thread&) const`.
template <class K>
struct OnePhase {
  struct Shared {};
  struct Local {};
  COMET_HD bool phase(int, const Thread& t, Shared&, Local&) const {
    static_cast<const K*>(this)->run(t);
    return false;
  }
};

constexpr int64_t kElementwiseThreads = 256;
constexpr int64_t kMaxGrid = 65535;  // grid-stride kernels need no more blocks to keep the device busy

COMET_HD int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// An elementwise (grid-stride) launch over n elements: 256 threads a block, at most kMaxGrid blocks.
inline Launch elementwise_launch(int64_t n) {
  const int64_t blocks = ceil_div(n, kElementwiseThreads);
  return {blocks < kMaxGrid ? blocks : kMaxGrid, kElementwiseThreads};
}

// Thread order of the host emulation. The device runs a phase's threads (and the blocks) concurrently, in no
// order; a body whose result changes between the two orders has a race within a phase.
enum class Order { Forward, Reverse };

// Host emulation of `kernel` over the launch: block by block, each phase for every thread of the block before
// the next phase. Shared memory and thread state start as garbage (0xA5 bytes), as on the device.
template <class K>
void emulate(const K& kernel, const Launch& launch, Order order = Order::Forward) {
  using Shared = typename K::Shared;
  using Local = typename K::Local;
  static_assert(std::is_trivially_copyable_v<Shared> && std::is_trivially_copyable_v<Local>,
                "shared memory and thread state are plain data on the device");
  auto at = [order](int64_t i, int64_t count) { return order == Order::Forward ? i : count - 1 - i; };
  std::vector<Local> local(launch.block);
  Shared shared;
  for (int64_t bi = 0; bi < launch.grid; ++bi) {
    const int64_t block = at(bi, launch.grid);
    std::memset(static_cast<void*>(&shared), 0xA5, sizeof shared);
    std::memset(static_cast<void*>(local.data()), 0xA5, sizeof(Local) * local.size());
    for (int p = 0;; ++p) {
      bool more = false;
      for (int64_t ti = 0; ti < launch.block; ++ti) {
        const int64_t thread = at(ti, launch.block);
        const bool m = kernel.phase(p, Thread{block, thread, launch.block, launch.grid}, shared, local[thread]);
        COMET_CHECK(ti == 0 || m == more, "emulate: block {} phase {}: thread {} disagrees on the next barrier",
                    block, p, thread);
        more = m;
      }
      if (!more) break;
    }
  }
}

}  // namespace comet::cuda
