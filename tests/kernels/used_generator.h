// The generator the random-draw tests start from (tests/kernels/test_cpu_random.cpp, test_cuda_random.cpp).
#pragma once
#include "core/rng.h"

namespace comet::test {

// A generator that has made two earlier draws, so that the positions under test are not the first.
inline Generator used_generator() {
  Generator gen(2026);
  Tensor t = Tensor::empty({7});
  gen.uniform(t, 0, 1);
  gen.bernoulli(t, 0.5);
  return gen;
}

}  // namespace comet::test
