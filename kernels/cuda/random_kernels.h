// Body and launch math of the Bernoulli draw on the device (launch seam: kernels/cuda/launch.h): the bits of
// Generator::bernoulli (core/rng.cpp) at the sequence positions a Generator reserved for it, through the same
// Philox block and word test (core/philox.h). Integer arithmetic and one exact product, so the device's mask is the
// CPU's exactly. Launcher: kernels/cuda/random.cu. Test: tests/kernels/test_cuda_random.cpp.
#pragma once
#include <cstdint>

#include "core/philox.h"
#include "kernels/cuda/launch.h"

namespace comet::cuda {

// out[i] = value where the draw is 1 (threshold = bernoulli_threshold(p)), else 0, for i < n: element i is word i % 4
// of the Philox block at position base + i / 4 of `seed`'s sequence. One thread per block of four elements. A
// dropout mask is value = 1 / (1 - p_drop) with p = 1 - p_drop: 1 * value, as the CPU's scaled mask.
template <class T>
struct BernoulliKernel : OnePhase<BernoulliKernel<T>> {
  int64_t n;
  uint64_t seed, base;
  double threshold;
  T value;
  T* out;

  COMET_HD void run(const Thread& t) const {
    const int64_t blocks = bernoulli_blocks(n);
    for (int64_t b = t.global(); b < blocks; b += t.grid_threads()) {
      const PhiloxWords w =
          philox_block(seed, static_cast<uint64_t>(PhiloxStream::Bernoulli), base + static_cast<uint64_t>(b));
      for (int64_t j = 0; j < 4 && 4 * b + j < n; ++j)
        out[4 * b + j] = philox_bernoulli(w.w[j], threshold) ? value : T(0);
    }
  }
};

// The launch: a grid-stride launch over the blocks of four.
inline Launch bernoulli_launch(int64_t n) { return elementwise_launch(bernoulli_blocks(n)); }

}  // namespace comet::cuda
