// FMA peak loop of the AVX-512 path (bench/fma_peak_loop.h): 24 zmm chains, as many as the GEMM tile's accumulators.
#include "fma_peak_loop.h"

namespace comet::bench {
FmaLoop fma_loop_avx512() { return make_fma_loop<cpu::simd::Avx512Vec, 24>(); }
}  // namespace comet::bench
