// The avx2 direct single-channel convolution (kernels/cpu/conv_direct_tile.h) on 8-float ymm vectors. Forward blocks
// of 6 channels x 2 vectors (12 accumulators, 2 image vectors and a broadcast: 15 of 16 registers); weight-gradient
// rows of kw <= 8 accumulators.
// Tests: tests/kernels/test_conv_direct.cpp.
#include "kernels/cpu/conv_direct_tile.h"

namespace comet::cpu {

const DirectConvKernel& direct_conv_kernel_avx2() {
  static const DirectConvKernel kernel =
      conv_direct_tile::make_direct_conv_kernel<simd::Avx2Vec, 2, 6, 1>(Isa::avx2);
  return kernel;
}

}  // namespace comet::cpu
