// The launch seam of the custom CUDA kernels (kernels/cuda/launch.h) on the host: the emulation runs every
// (block, thread) of a launch once with its coordinates, runs a block's phases one after the other as barriers
// would, refuses a barrier that only some threads of a block reach, shows a race within a phase as a difference
// between thread orders, and starts shared memory as garbage; and the elementwise launch math. Compiled only with
// COMET_WITH_CUDA, like the kernels it serves.
#ifdef COMET_WITH_CUDA
#include <vector>

#include "cuda_test_util.h"
#include "kernels/cuda/launch.h"

namespace comet {
namespace {

using cuda::Launch;
using cuda::Order;
using cuda::Thread;

// Records each thread's coordinates at its global index and counts its visits.
struct RecordKernel : cuda::OnePhase<RecordKernel> {
  Thread* seen;
  int* visits;

  void run(const Thread& t) const {
    seen[t.global()] = t;
    ++visits[t.global()];
  }
};

TEST_CASE("cuda emulation: every (block, thread) of a launch runs once, with its coordinates") {
  for (const Launch launch : {Launch{1, 1}, Launch{3, 32}, Launch{5, 7}}) {
    test::for_each_order([&](Order order) {
      const int64_t threads = launch.grid * launch.block;
      std::vector<Thread> seen(threads);
      std::vector<int> visits(threads, 0);
      cuda::emulate(RecordKernel{{}, seen.data(), visits.data()}, launch, order);
      for (int64_t i = 0; i < threads; ++i) {
        CAPTURE(i);
        CHECK(visits[i] == 1);
        CHECK(seen[i].block == i / launch.block);
        CHECK(seen[i].thread == i % launch.block);
        CHECK(seen[i].block_dim == launch.block);
        CHECK(seen[i].grid_dim == launch.grid);
        CHECK(seen[i].grid_threads() == threads);
      }
    });
  }
}

// Reverses each block's values through shared memory: phase 0 writes, phase 1 reads another thread's write.
struct ReverseKernel {
  const int* in;
  int* out;

  struct Shared {
    int v[64];
  };
  struct Local {};

  bool phase(int p, const Thread& t, Shared& s, Local&) const {
    if (p == 0) {
      s.v[t.thread] = in[t.global()];
      return true;
    }
    out[t.global()] = s.v[t.block_dim - 1 - t.thread];
    return false;
  }
};

TEST_CASE("cuda emulation: a phase sees every write of its block's previous phase (the barrier)") {
  const Launch launch{3, 5};
  std::vector<int> in(15), out(15, -1);
  for (int i = 0; i < 15; ++i) in[i] = i;
  test::for_each_order([&](Order order) {
    cuda::emulate(ReverseKernel{in.data(), out.data()}, launch, order);
    CHECK(out == std::vector<int>{4, 3, 2, 1, 0, 9, 8, 7, 6, 5, 14, 13, 12, 11, 10});
  });
}

// After phase 0, thread 0 alone asks for another phase: on a device, a barrier the other threads never reach.
struct DivergentKernel {
  struct Shared {};
  struct Local {};
  bool phase(int p, const Thread& t, Shared&, Local&) const { return p == 0 && t.thread == 0; }
};

TEST_CASE("cuda emulation: refuses a barrier that only some threads of a block reach") {
  CHECK_THROWS_WITH_AS(cuda::emulate(DivergentKernel{}, Launch{2, 4}),
                       doctest::Contains("disagrees on the next barrier"), Error);
  CHECK_NOTHROW(cuda::emulate(DivergentKernel{}, Launch{2, 1}));  // one thread: no disagreement
}

// A race: each thread reads the shared value another thread of the same phase writes.
struct RacyKernel {
  int* out;
  struct Shared {
    int last;
  };
  struct Local {};

  bool phase(int, const Thread& t, Shared& s, Local&) const {
    out[t.thread] = s.last;
    s.last = static_cast<int>(t.thread);
    return false;
  }
};

TEST_CASE("cuda emulation: a race within a phase gives different results in the two thread orders") {
  std::vector<int> forward(4), reverse(4);
  cuda::emulate(RacyKernel{forward.data()}, Launch{1, 4}, Order::Forward);
  cuda::emulate(RacyKernel{reverse.data()}, Launch{1, 4}, Order::Reverse);
  CHECK(forward != reverse);
  CHECK(forward[0] == static_cast<int>(0xA5A5A5A5));  // shared memory starts as garbage, not as zeros
}

TEST_CASE("cuda launch math: elementwise launches cover n with 256-thread blocks, at most kMaxGrid of them") {
  CHECK(cuda::ceil_div(0, 4) == 0);
  CHECK(cuda::ceil_div(1, 4) == 1);
  CHECK(cuda::ceil_div(8, 4) == 2);
  CHECK(cuda::ceil_div(9, 4) == 3);
  for (const int64_t n : {int64_t{1}, int64_t{255}, int64_t{256}, int64_t{257}, int64_t{1} << 20}) {
    CAPTURE(n);
    const Launch l = cuda::elementwise_launch(n);
    CHECK(l.block == cuda::kElementwiseThreads);
    CHECK(l.grid * l.block >= n);
    CHECK((l.grid - 1) * l.block < n);
  }
  CHECK(cuda::elementwise_launch(0).grid == 0);  // nothing to launch
  const int64_t huge = cuda::kMaxGrid * cuda::kElementwiseThreads * 3 + 1;
  CHECK(cuda::elementwise_launch(huge).grid == cuda::kMaxGrid);  // the grid-stride loop covers the rest
}

}  // namespace
}  // namespace comet
#endif  // COMET_WITH_CUDA
