// The Philox-4x32-10 block function (Salmon et al. 2011) and the word conversions of Generator's draws, shared by
// the host (core/rng.cpp) and device kernels (kernels/cuda/random_kernels.h), so that a draw made on the device has
// the CPU's bits. Integer arithmetic only. Tests: tests/core/test_rng.cpp, tests/kernels/test_cuda_random.cpp.
#pragma once
#include <cstdint>

#include "core/hd.h"

namespace comet {

struct PhiloxWords {
  uint32_t w[4];
};

// The Philox-4x32 rounds on the counter words c0..c3 under a 64-bit key. The high and the low half of each product
// are separate expressions (the high half of a 32 x 32 -> 64-bit product, and a wrapping 32-bit product), the forms
// a vectorising compiler maps to vector instructions. Tag: a type of internal linkage lets a translation unit compiled
// for one ISA have its own copy (kernels/cpu/vector_loops_body.h), which the linker cannot merge with another ISA's.
template <class Tag>
COMET_HD void philox_rounds(uint32_t& c0, uint32_t& c1, uint32_t& c2, uint32_t& c3, uint64_t key, int rounds) {
  constexpr uint32_t kMul0 = 0xD2511F53u, kMul1 = 0xCD9E8D57u, kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;
  uint32_t k0 = static_cast<uint32_t>(key), k1 = static_cast<uint32_t>(key >> 32);
  for (int round = 0; round < rounds; ++round) {
    const uint32_t hi0 = static_cast<uint32_t>((static_cast<uint64_t>(kMul0) * c0) >> 32), lo0 = kMul0 * c0;
    const uint32_t hi1 = static_cast<uint32_t>((static_cast<uint64_t>(kMul1) * c2) >> 32), lo1 = kMul1 * c2;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += kWeyl0;
    k1 += kWeyl1;
  }
}

// Four 32-bit words for a 128-bit counter under a 64-bit key, after `rounds` rounds (10; fewer only to test that a
// lost round is noticed).
template <class Tag = void>
COMET_HD PhiloxWords philox_block(uint64_t key, uint64_t counter_hi, uint64_t counter_lo, int rounds = 10) {
  uint32_t c0 = static_cast<uint32_t>(counter_lo), c1 = static_cast<uint32_t>(counter_lo >> 32);
  uint32_t c2 = static_cast<uint32_t>(counter_hi), c3 = static_cast<uint32_t>(counter_hi >> 32);
  philox_rounds<Tag>(c0, c1, c2, c3, key, rounds);
  return {{c0, c1, c2, c3}};
}

// The counter's high word of each kind of draw: the streams never overlap.
enum class PhiloxStream : uint64_t { Uniform = 0, Normal = 1, Randint = 2, Permutation = 3, Bernoulli = 4 };

// A word's top 24 bits as a uniform in [0, 1) (exact in float32).
COMET_HD double philox_unit(uint32_t word) { return (word >> 8) * (1.0 / 16777216.0); }

// Generator::bernoulli uses all four words of a block: element i is word i % 4 of block i / 4, so n elements take
// this many positions of the sequence.
COMET_HD int64_t bernoulli_blocks(int64_t n) { return (n + 3) / 4; }

// A word draws 1 for probability p when philox_bernoulli(word, bernoulli_threshold(p)): the same test as
// philox_unit(word) < p, on the word's 24 bits against p 2^24 (an exact product).
COMET_HD double bernoulli_threshold(double p) { return p * 16777216.0; }
COMET_HD bool philox_bernoulli(uint32_t word, double threshold) { return (word >> 8) < threshold; }
// The same test in integers, for vector loops: for an integer x, x < t exactly when x < ceil(t), so
// philox_bernoulli(word, bernoulli_threshold(p)) == ((word >> 8) < bernoulli_threshold_bits(p)) for p in [0, 1].
inline uint32_t bernoulli_threshold_bits(double p) {
  const double t = bernoulli_threshold(p);
  const auto floor = static_cast<uint32_t>(t);
  return floor + (static_cast<double>(floor) < t ? 1u : 0u);
}

}  // namespace comet
