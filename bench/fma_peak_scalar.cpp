// FMA peak loop of the scalar path (bench/fma_peak_loop.h): multiply then add, as that path's kernel does.
#include "fma_peak_loop.h"

namespace comet::bench {
FmaLoop fma_loop_scalar() { return make_fma_loop<cpu::simd::ScalarVec, 8>(); }
}  // namespace comet::bench
