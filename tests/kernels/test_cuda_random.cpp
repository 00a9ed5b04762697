// The Bernoulli draw on the device (kernels/cuda/random_kernels.h) against Generator::bernoulli, exactly: sizes that
// are and are not multiples of the four words of a Philox block (0, 1, 3, 4, 5, 1,001, 4,099), probabilities 0, 0.3,
// 0.5 and 1, after earlier draws (a sequence position other than 0), with the value 1 (the draw) and 1 / (1 - p_drop)
// (the dropout mask, as ag::dropout scales the CPU's draw); the generator ends at the same position either way.
// Host runs emulate every block and thread in both thread orders, with the kernel's own launch and a small one
// whose threads loop; device runs skip without a device.
#ifdef COMET_WITH_CUDA
#include <vector>

#include "core/philox.h"
#include "cuda_test_util.h"
#include "kernels/cuda/random.h"
#include "kernels/cuda/random_kernels.h"
#include "used_generator.h"

namespace comet {
namespace {

using cuda::Launch;
using test::ptr;
using test::Target;

const std::vector<int64_t> kSizes = {0, 1, 3, 4, 5, 1001, 4099};
const std::vector<double> kProbabilities = {0.0, 0.3, 0.5, 1.0};

// The draw of n values on `at`, scaled by value; the generator's position afterwards is returned in `offset`.
template <class T>
Tensor draw_on(const Target& at, const Launch* launch, int64_t n, double p, T value, uint64_t& offset) {
  Generator gen = test::used_generator();
  Tensor out = at.put(Tensor::full({n}, -7.0, dtype_of<T>()));
  if (at.device) {
    cuda::bernoulli<T>(gen, n, p, value, ptr<T>(out));
  } else {
    const uint64_t base = gen.reserve(bernoulli_blocks(n));
    test::emulate_on(at, cuda::BernoulliKernel<T>{{}, n, gen.seed(), base, bernoulli_threshold(p), value, ptr<T>(out)},
                     launch, cuda::bernoulli_launch(n));
  }
  offset = gen.offset();
  return at.get(out);
}

template <class T>
void check_draws(const Target& at, const Launch* launch) {
  for (const int64_t n : kSizes) {
    for (const double p : kProbabilities) {
      CAPTURE(n);
      CAPTURE(p);
      Generator gen = test::used_generator();
      Tensor want = Tensor::empty({n}, dtype_of<T>());
      gen.bernoulli(want, p);
      uint64_t offset = 0;
      COMET_CHECK_EXACT(draw_on<T>(at, launch, n, p, T(1), offset), want);
      CHECK(offset == gen.offset());
      // The dropout mask: the CPU's draw times 1 / (1 - p_drop), p_drop = 1 - p (p = 0 has no such mask).
      if (p == 0.0) continue;
      const T scale = static_cast<T>(1 / p);
      Tensor mask = want.clone();
      for (int64_t i = 0; i < n; ++i) mask.data<T>()[i] *= scale;
      COMET_CHECK_EXACT(draw_on<T>(at, launch, n, p, scale, offset), mask);
    }
  }
}

TEST_CASE_TEMPLATE("CUDA Bernoulli draw, emulated on the host over every thread, equals Generator::bernoulli", T,
                   float, double) {
  test::for_each_host_run({nullptr, &test::kSmallLaunch},
                          [&](const Target& at, const Launch* launch) { check_draws<T>(at, launch); });
}

TEST_CASE("CUDA Bernoulli draw: the launch covers every block of four") {
  for (const int64_t n : kSizes) {
    CAPTURE(n);
    const Launch l = cuda::bernoulli_launch(n);
    CHECK(l.grid * l.block >= std::min<int64_t>(bernoulli_blocks(n), cuda::kMaxGrid * l.block));
    CHECK((n == 0) == (l.grid == 0));
  }
}

TEST_CASE_TEMPLATE("CUDA Bernoulli draw on the device equals Generator::bernoulli", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  check_draws<T>(test::kDevice, nullptr);
}

}  // namespace
}  // namespace comet
#endif  // COMET_WITH_CUDA
