// The AVX2 + FMA SGEMM kernel (kernels/cpu/sgemm_tile.h on 8-float ymm vectors), compiled with -mavx2 -mfma and
// without AVX-512 (kernels/CMakeLists.txt). Tile 6 x 16: twelve ymm accumulators, two B vectors and one
// broadcast fill 15 of the 16 registers. kc = 256: the 256 x 16 panel of B is 16 KiB, half of a 32 KiB L1d.
// Tests: tests/kernels/test_isa.cpp.
#include "kernels/cpu/sgemm_tile.h"

namespace comet::cpu {

const SgemmKernel& sgemm_kernel_avx2() {
  static const SgemmKernel kernel = sgemm_tile::make_sgemm_kernel<simd::Avx2Vec, 6, 2>(Isa::avx2, 256);
  return kernel;
}

}  // namespace comet::cpu
