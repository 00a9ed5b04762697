// The 2x2 max-pool on the device (kernels/cuda/conv_kernels.h) against ref::maxpool2x2 and its backward, exactly
// (nothing is computed, only chosen): planes of small integers, so that windows hold ties (the first maximum
// wins), odd heights and widths (the last row or column belongs to no window: gradient 0), planes smaller than a
// window (no output), no planes. (cpu::maxpool2x2 takes the planes' rows in pairs across plane boundaries, so it
// differs from ref:: for odd heights with several planes; the autograd op admits even heights and widths only.) Host runs emulate every thread of the launch math's launch, of one thread and
// of a grid smaller than the work, in both thread orders; device runs skip without a device.
#ifdef COMET_WITH_CUDA
#include <vector>

#include "cuda_test_util.h"
#include "kernels/conv.h"
#include "kernels/cuda/conv.h"
#include "kernels/cuda/conv_kernels.h"

namespace comet {
namespace {

using cuda::Launch;
using test::ptr;
using test::Target;

// {y, gx} of the max-pool of x [planes, h, w] and its backward for gy on `at`.
template <class T>
std::vector<Tensor> maxpool_on(const Target& at, const Launch* launch, const Tensor& x, const Tensor& gy) {
  const int64_t planes = x.dim(0), h = x.dim(1), w = x.dim(2);
  const Tensor xd = at.put(x), gyd = at.put(gy);
  Tensor y = at.put(Tensor::zeros(gy.shape(), x.dtype())), gx = at.put(Tensor::zeros(x.shape(), x.dtype()));
  if (at.device) {
    cuda::maxpool2x2(planes, h, w, ptr<T>(xd), ptr<T>(y));
    cuda::maxpool2x2_backward(planes, h, w, ptr<T>(xd), ptr<T>(gyd), ptr<T>(gx));
  } else {
    test::emulate_on(at, cuda::MaxPoolKernel<T>{{}, planes, h, w, ptr<T>(xd), ptr<T>(y)}, launch,
                     cuda::elementwise_launch(gy.numel()));
    test::emulate_on(at, cuda::MaxPoolBackwardKernel<T>{{}, planes, h, w, ptr<T>(xd), ptr<T>(gyd), ptr<T>(gx)},
                     launch, cuda::elementwise_launch(x.numel()));
  }
  return {at.get(y), at.get(gx)};
}

template <class T>
void check_maxpool(const Target& at, const Launch* launch, Generator& gen) {
  for (const int64_t planes : {int64_t{0}, int64_t{1}, int64_t{3}}) {
    for (const int64_t h : {int64_t{1}, int64_t{2}, int64_t{5}, int64_t{8}}) {
      for (const int64_t w : {int64_t{1}, int64_t{4}, int64_t{7}}) {
        CAPTURE(planes);
        CAPTURE(h);
        CAPTURE(w);
        const Tensor x = test::small_integers<T>({planes, h, w}, gen);
        const Tensor gy = test::small_integers<T>({planes, h / 2, w / 2}, gen);
        Tensor y = Tensor::zeros(gy.shape(), x.dtype()), gx = Tensor::zeros(x.shape(), x.dtype());
        ref::maxpool2x2(planes, h, w, x.data<T>(), y.data<T>());
        ref::maxpool2x2_backward(planes, h, w, x.data<T>(), gy.data<T>(), gx.data<T>());
        const std::vector<Tensor> got = maxpool_on<T>(at, launch, x, gy);
        COMET_CHECK_EXACT(got[0], y);
        COMET_CHECK_EXACT(got[1], gx);
      }
    }
  }
}

TEST_CASE_TEMPLATE("CUDA max-pool, emulated on the host over every thread, equals the reference", T, float, double) {
  Generator gen(83);
  const Launch one{1, 1};
  test::for_each_host_run({nullptr, &one, &test::kSmallLaunch},
                          [&](const Target& at, const Launch* launch) { check_maxpool<T>(at, launch, gen); });
}

TEST_CASE_TEMPLATE("CUDA max-pool on the device equals the reference", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(83);
  check_maxpool<T>(test::kDevice, nullptr, gen);
}

}  // namespace
}  // namespace comet
#endif  // COMET_WITH_CUDA
