// The portable SGEMM kernel (kernels/cpu/sgemm_tile.h on plain floats, which the compiler may vectorise for the
// target's baseline, e.g. SSE2), for CPUs without AVX2 + FMA and for architectures other than x86. Compiled
// with -mno-avx (cmake/CometLibrary.cmake), so that even under COMET_NATIVE it holds no AVX, AVX2, FMA or AVX-512
// instruction. Tile 4 x 8, kc = 256 (on Zen 4, 15-25% faster than 4 x 4, 2 x 8 or 6 x 8).
// Tests: tests/kernels/test_isa.cpp.
#include "kernels/cpu/sgemm_tile.h"

namespace comet::cpu {

const SgemmKernel& sgemm_kernel_scalar() {
  static const SgemmKernel kernel = sgemm_tile::make_sgemm_kernel<simd::ScalarVec, 4, 8>(Isa::scalar, 256);
  return kernel;
}

}  // namespace comet::cpu
