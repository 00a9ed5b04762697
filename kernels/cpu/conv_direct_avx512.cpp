// The avx512 direct single-channel convolution (kernels/cpu/conv_direct_tile.h) on 16-float zmm vectors. Forward
// blocks of 8 channels x 2 vectors (16 accumulators); weight-gradient rows of kw x 2 accumulators (at most 16).
// Tests: tests/kernels/test_conv_direct.cpp.
#include "kernels/cpu/conv_direct_tile.h"

namespace comet::cpu {

const DirectConvKernel& direct_conv_kernel_avx512() {
  static const DirectConvKernel kernel =
      conv_direct_tile::make_direct_conv_kernel<simd::Avx512Vec, 2, 8, 2>(Isa::avx512);
  return kernel;
}

}  // namespace comet::cpu
