// FMA peak loop of the AVX2 path (bench/fma_peak_loop.h): 12 ymm chains, 2 registers for the operands.
#include "fma_peak_loop.h"

namespace comet::bench {
FmaLoop fma_loop_avx2() { return make_fma_loop<cpu::simd::Avx2Vec, 12>(); }
}  // namespace comet::bench
