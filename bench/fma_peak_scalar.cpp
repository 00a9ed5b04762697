// FMA peak loop of the scalar path (bench/fma_peak_loop.h): multiply then add, as that path's kernel does. 48
// chains, which the compiler packs four to an SSE register (12 of the 16), enough to keep the multiply and add
// units busy through their latency; with 8 chains the loop was latency-bound at a sixth of that (9 against 55
// GFLOP/s on one Zen 4 core), below what the scalar GEMM itself reaches.
#include "fma_peak_loop.h"

namespace comet::bench {
FmaLoop fma_loop_scalar() { return make_fma_loop<cpu::simd::ScalarVec, 48>(); }
}  // namespace comet::bench
