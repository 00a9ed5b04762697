// The Bernoulli draw on the vector loops: whole Philox blocks split across threads (each element depends on its
// position alone, so the split does not matter), the last partial block here with the same integer test.
#include "kernels/cpu/random.h"

#include "core/error.h"
#include "core/philox.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/vector_loops.h"

namespace comet::cpu {

template <class T>
void bernoulli(Generator& gen, int64_t n, double p, T value, T* out) {
  COMET_CHECK(n >= 0 && p >= 0 && p <= 1, "cpu::bernoulli: need n >= 0 and p in [0, 1], got n {} p {}", n, p);
  const uint64_t base = gen.reserve(bernoulli_blocks(n));
  const uint64_t seed = gen.seed();
  const int64_t whole = n / 4;
  const uint32_t threshold = bernoulli_threshold_bits(p);
  const VectorLoops<T>& loops = active_vector_loops<T>();
  parallel_for(whole, 4, [&](int64_t b0, int64_t b1) {
    loops.bernoulli(b1 - b0, seed, base + static_cast<uint64_t>(b0), threshold, value, out + 4 * b0);
  });
  if (whole * 4 == n) return;
  const PhiloxWords w = philox_block(seed, static_cast<uint64_t>(PhiloxStream::Bernoulli),
                                     base + static_cast<uint64_t>(whole));
  for (int64_t i = 4 * whole; i < n; ++i) out[i] = (w.w[i - 4 * whole] >> 8) < threshold ? value : T(0);
}

template void bernoulli<float>(Generator&, int64_t, double, float, float*);
template void bernoulli<double>(Generator&, int64_t, double, double, double*);

}  // namespace comet::cpu
