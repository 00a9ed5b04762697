// The loop behind FmaLoop (bench/fma_peak.h), over a vector type V of kernels/cpu/simd.h: kChains independent
// chains acc = acc * m + a, enough to cover the FMA latency on every FMA port (4 cycles x 2 ports = 8 in flight),
// and few enough to stay in registers. Included only by bench/fma_peak_<isa>.cpp; internal linkage.
#pragma once
#include "fma_peak.h"
#include "kernels/cpu/simd.h"

namespace comet::bench {
namespace {

template <class V, int kChains>
void fma_chains(int64_t iterations, float* sink) {
  using T = typename V::type;
  T acc[kChains];
#pragma GCC unroll 32
  for (int c = 0; c < kChains; ++c) acc[c] = V::set1(0.01f * c);
  const T m = V::set1(0.999f), a = V::set1(1e-4f);  // converges to 0.1: no overflow, no denormals
  for (int64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 32
    for (int c = 0; c < kChains; ++c) acc[c] = V::fmadd(acc[c], m, a);
  }
  alignas(64) float lanes[V::width];
  T sum = acc[0];
  for (int c = 1; c < kChains; ++c) sum = V::add(sum, acc[c]);
  V::storeu(lanes, sum);
  float total = 0.0f;
  for (float x : lanes) total += x;
  *sink = total;
}

template <class V, int kChains>
FmaLoop make_fma_loop() {
  return FmaLoop{&fma_chains<V, kChains>, 2.0 * kChains * V::width};
}

}  // namespace
}  // namespace comet::bench
