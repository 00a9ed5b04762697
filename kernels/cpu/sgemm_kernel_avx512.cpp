// The AVX-512 SGEMM kernel (kernels/cpu/sgemm_tile.h on 16-float zmm vectors), compiled with -mavx512f
// -mavx512vl -mfma (cmake/CometLibrary.cmake). Tile 6 x 64: 24 zmm accumulators, four B vectors and one broadcast
// (of 32 registers); per k step 4 loads and 6 broadcasts feed 24 FMAs, the fewest loads per FMA of the tiles
// tried. kc = 384. Measured on AMD EPYC Zen 4, one thread, n = 256..2048: 6 x 64 at kc = 384 was the best or
// within 1% of it (104-110 GFLOP/s against an FMA peak of ~110); 12 x 32 and 14 x 32 were 2-5% slower, and kc =
// 128 up to 12% slower (the C tile is read and written once per k slice).
// A C of at most 16 columns (an expert's 16 rows on the transposed route of the input gradient, C^T = W gy^T; a gate's
// 16 logits) fills one vector of the 6 x 64 tile: 6 accumulator chains, too few to hide the multiply-add latency. It
// runs on a 12 x 16 tile instead (12 chains, 13 loads per 12 FMAs). Measured on AMD EPYC Zen 5, 2 threads,
// bench_grouped backward at 16 rows per expert (n = 64), best of 5, three interleaved runs: 1119 / 1237 / 1152 us
// against 1261 / 1449 / 1343 with the 6 x 64 tile; 16 x 16 gave 1265-1336, 24 x 16 was slower than both.
// Tests: tests/kernels/test_isa.cpp, tests/kernels/test_gemm.cpp.
#include "kernels/cpu/sgemm_tile.h"

namespace comet::cpu {

const SgemmKernel& sgemm_kernel_avx512() {
  static const SgemmKernel narrow = sgemm_tile::make_sgemm_kernel<simd::Avx512Vec, 12, 1>(Isa::avx512, 384);
  static const SgemmKernel kernel = sgemm_tile::make_sgemm_kernel<simd::Avx512Vec, 6, 4>(Isa::avx512, 384, &narrow);
  return kernel;
}

}  // namespace comet::cpu
