// The scalar direct single-channel convolution (kernels/cpu/conv_direct_tile.h) on plain floats (no FMA: two
// roundings per multiply-add): the weight gradient only, in rows of kw x 8 sums. The compiler turns the scalar GEMM
// into SSE code, and im2col + GEMM ran the forward faster than any direct block tried (bench_conv on a Zen 5, 2
// threads: 3.9 ms against 5.3-7.5 for blocks of 1 to 8 channels x 16 to 1 columns); the direct weight gradient took
// 4.8 ms against 9.9.
// Tests: tests/kernels/test_conv_direct.cpp.
#include "kernels/cpu/conv_direct_tile.h"

namespace comet::cpu {

const DirectConvKernel& direct_conv_kernel_scalar() {
  static const DirectConvKernel kernel =
      conv_direct_tile::make_direct_conv_kernel<simd::ScalarVec, 1, 0, 8>(Isa::scalar);
  return kernel;
}

}  // namespace comet::cpu
