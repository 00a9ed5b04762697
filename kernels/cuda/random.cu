// Launcher of the Bernoulli draw (see random.h; body and launch math in random_kernels.h).
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/random.h"
#include "kernels/cuda/random_kernels.h"

namespace comet::cuda {

template <class T>
void bernoulli(Generator& gen, int64_t n, double p, T value, T* out) {
  COMET_CHECK(n >= 0 && p >= 0 && p <= 1, "cuda::bernoulli: need n >= 0 and p in [0, 1], got n {} p {}", n, p);
  const uint64_t base = gen.reserve(bernoulli_blocks(n));
  launch(BernoulliKernel<T>{{}, n, gen.seed(), base, bernoulli_threshold(p), value, out}, bernoulli_launch(n),
         "cuda::bernoulli");
}

template void bernoulli<float>(Generator&, int64_t, double, float, float*);
template void bernoulli<double>(Generator&, int64_t, double, double, double*);

}  // namespace comet::cuda
