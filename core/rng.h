// Counter-based random numbers (Philox-4x32-10, Salmon et al. 2011; the block function: core/philox.h). Value i
// of a draw depends only on (seed, position of the draw in the generator's sequence, i), never on the thread that
// computes it, so the same seed gives the same numbers at any thread count. Test: tests/core/test_rng.cpp.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "core/tensor.h"

namespace comet {

// The Philox-4x32-10 block function: four 32-bit words for a 128-bit counter under a 64-bit key.
std::array<uint32_t, 4> philox4x32(uint64_t key, uint64_t counter_hi, uint64_t counter_lo);

class Generator {
 public:
  explicit Generator(uint64_t seed) : seed_(seed) {}
  uint64_t seed() const { return seed_; }
  uint64_t offset() const { return offset_; }
  // Continues the sequence from position `offset` (a checkpointed offset() resumes the same draws).
  void seek(uint64_t offset) { offset_ = offset; }

  // Each draw consumes numel positions of the sequence (bernoulli: one per four elements).
  void uniform(Tensor& t, double lo, double hi);   // [lo, hi)
  void normal(Tensor& t, double mean, double stddev);
  void bernoulli(Tensor& t, double p);             // 1 with probability p, else 0 (any float dtype)
  void randint(Tensor& t, int64_t lo, int64_t hi);  // integers in [lo, hi) (i32/i64)
  std::vector<int64_t> permutation(int64_t n);     // a uniformly random permutation of 0..n-1
  double next_uniform();                           // one value in [0, 1)
  // Reserves `positions` of the sequence for a draw made elsewhere (a device kernel, kernels/cuda/random.h) and
  // returns the first: the same positions the host draw of that size would take.
  uint64_t reserve(int64_t positions) { return take(positions); }
  // A generator of its own stream, keyed by this generator's seed and current position (which advances by one):
  // e.g. each gate's noise or a model's dropout, distinct per draw position and reproducible from the parent seed.
  Generator split();

 private:
  uint64_t take(int64_t n) { const uint64_t o = offset_; offset_ += static_cast<uint64_t>(n); return o; }
  uint64_t seed_;
  uint64_t offset_ = 0;
};

// The value at sequence position `pos`: uniform in [0, 1) with 24 random bits (exact in float32),
// and a standard normal (Box-Muller over the first two words).
double philox_uniform(uint64_t seed, uint64_t pos);
double philox_normal(uint64_t seed, uint64_t pos);

}  // namespace comet
