// The AVX-512 SGEMM kernel (kernels/cpu/sgemm_tile.h on 16-float zmm vectors), compiled with -mavx512f
// -mavx512vl -mfma (cmake/CometLibrary.cmake). Tile 6 x 64: 24 zmm accumulators, four B vectors and one broadcast
// (of 32 registers); per k step 4 loads and 6 broadcasts feed 24 FMAs, the fewest loads per FMA of the tiles
// tried. kc = 384. Measured on AMD EPYC Zen 4, one thread, n = 256..2048: 6 x 64 at kc = 384 was the best or
// within 1% of it (104-110 GFLOP/s against an FMA peak of ~110); 12 x 32 and 14 x 32 were 2-5% slower, and kc =
// 128 up to 12% slower (the C tile is read and written once per k slice).
// Tests: tests/kernels/test_isa.cpp.
#include "kernels/cpu/sgemm_tile.h"

namespace comet::cpu {

const SgemmKernel& sgemm_kernel_avx512() {
  static const SgemmKernel kernel = sgemm_tile::make_sgemm_kernel<simd::Avx512Vec, 6, 4>(Isa::avx512, 384);
  return kernel;
}

}  // namespace comet::cpu
