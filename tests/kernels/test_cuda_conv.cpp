// The convolution's index kernels on the device (kernels/cuda/conv_kernels.h) against kernels/conv.h, exactly:
// im2col and col2im (the adjoint, summed in the CPU's order, so also bit for bit on random floats) of small
// integers for 1 and 3 channels, kernels 1x1, 3x3 and 2x3, paddings 0 to 2 (more padding than input: whole padding
// rows), inputs of 1 to 6 rows and columns;
// the bias gradient's sum equals ref::conv2d_backward's. The whole convolution (with cuBLAS) on the device only.
// The 2x2 max-pool on the device against ref::maxpool2x2 and its backward, exactly (nothing is computed, only
// chosen): planes of small integers, so that windows hold ties (the first maximum wins), odd heights and widths
// (the last row or column belongs to no window: gradient 0), planes smaller than a window (no output), no planes.
// Host runs emulate every thread of the launch math's launch, of one thread and of a grid smaller than the work,
// in both thread orders; device runs skip without a device.
#ifdef COMET_WITH_CUDA
#include <string>
#include <utility>
#include <vector>

#include "cuda_test_util.h"
#include "kernels/conv.h"
#include "kernels/cuda/conv.h"
#include "kernels/cuda/conv_kernels.h"
#include "kernels/cuda/reduce_kernels.h"

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

std::string describe(const ConvGeom& g) {
  return fmt::format("{} channels of {} x {}, kernel {} x {}, padding {}", g.channels, g.height, g.width, g.kh, g.kw,
                     g.pad);
}

std::vector<ConvGeom> geometries() {
  std::vector<ConvGeom> out;
  for (const int64_t channels : {int64_t{1}, int64_t{3}})
    for (const int64_t hw : {int64_t{1}, int64_t{5}, int64_t{6}})
      for (const auto& [kh, kw] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 3}, {2, 3}})
        for (const int64_t pad : {int64_t{0}, int64_t{1}, int64_t{2}}) {
          const ConvGeom g{channels, hw, hw + 1, kh, kw, pad};
          if (g.out_h() >= 1 && g.out_w() >= 1) out.push_back(g);
        }
  return out;
}

TEST_CASE_TEMPLATE("CUDA im2col, col2im and the bias gradient, emulated on the host over every thread, equal the CPU",
                   T, float, double) {
  Generator gen(89);
  const Launch one{1, 1};
  test::for_each_host_run({nullptr, &one, &test::kSmallLaunch}, [&](const Target& at, const Launch* launch) {
    for (const ConvGeom& g : geometries()) {
      INFO(describe(g));
      const int64_t batch = 2, out_ch = 3, p = g.positions();
      const Tensor x = test::small_integers<T>({g.in_size()}, gen), col = test::small_integers<T>({g.patch(), p}, gen);
      Tensor want_col = Tensor::zeros({g.patch(), p}, x.dtype()), want_x = Tensor::zeros({g.in_size()}, x.dtype());
      im2col(g, x.data<T>(), want_col.data<T>());
      col2im(g, col.data<T>(), want_x.data<T>());
      Tensor got_col = Tensor::full({g.patch(), p}, -7.0, x.dtype());
      Tensor got_x = Tensor::full({g.in_size()}, -7.0, x.dtype());
      test::emulate_on(at, cuda::Im2colKernel<T>{{}, g, x.data<T>(), got_col.data<T>()}, launch,
                       cuda::elementwise_launch(g.patch() * p));
      test::emulate_on(at, cuda::Col2imKernel<T>{{}, g, col.data<T>(), got_x.data<T>()}, launch,
                       cuda::elementwise_launch(g.in_size()));
      COMET_CHECK_EXACT(got_col, want_col);
      COMET_CHECK_EXACT(got_x, want_x);
      const Tensor fcol = test::random_tensor({g.patch(), p}, gen, -1, 1, x.dtype());  // sums that round: same order
      col2im(g, fcol.data<T>(), want_x.data<T>());
      test::emulate_on(at, cuda::Col2imKernel<T>{{}, g, fcol.data<T>(), got_x.data<T>()}, launch,
                       cuda::elementwise_launch(g.in_size()));
      COMET_CHECK_EXACT(got_x, want_x);

      const Tensor gy = test::small_integers<T>({batch, out_ch, p}, gen);
      Tensor want_gb = Tensor::zeros({out_ch}, x.dtype()), got_gb = Tensor::full({out_ch}, -7.0, x.dtype());
      const Tensor xs = test::small_integers<T>({batch, g.in_size()}, gen);  // read by no gradient asked for
      ref::conv2d_backward<T>(g, batch, out_ch, xs.data<T>(), nullptr, gy.data<T>(), nullptr, nullptr,
                              want_gb.data<T>());
      cuda::run_sum_to(
          Broadcast::Col, out_ch, batch * p, T(1), cuda::ConvBiasTerms<T>{out_ch, p, gy.data<T>()}, got_gb.data<T>(),
          nullptr, [&](const auto& kernel, const Launch& l) { cuda::emulate(kernel, l, at.order); }, launch);
      COMET_CHECK_EXACT(got_gb, want_gb);
    }
  });
}

TEST_CASE_TEMPLATE("CUDA convolution on the device equals the reference", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(97);
  for (const ConvGeom& g : geometries()) {
    INFO(describe(g));
    const int64_t batch = 2, out_ch = 3, p = g.positions();
    const Tensor x = test::small_integers<T>({batch, g.in_size()}, gen);
    const Tensor w = test::small_integers<T>({out_ch, g.patch()}, gen), b = test::small_integers<T>({out_ch}, gen);
    const Tensor gy = test::small_integers<T>({batch, out_ch, p}, gen);
    Tensor y = Tensor::zeros({batch, out_ch, p}, x.dtype()), gx = empty_like(x), gw = empty_like(w), gb = empty_like(b);
    ref::conv2d(g, batch, out_ch, x.data<T>(), w.data<T>(), b.data<T>(), y.data<T>());
    ref::conv2d_backward(g, batch, out_ch, x.data<T>(), w.data<T>(), gy.data<T>(), gx.data<T>(), gw.data<T>(),
                         gb.data<T>());
    const Tensor xd = to_device(x, Device::CUDA), wd = to_device(w, Device::CUDA), bd = to_device(b, Device::CUDA);
    const Tensor gyd = to_device(gy, Device::CUDA);
    Tensor yd = to_device(y, Device::CUDA), gxd = to_device(gx, Device::CUDA), gwd = to_device(gw, Device::CUDA);
    Tensor gbd = to_device(gb, Device::CUDA);
    cuda::conv2d(g, batch, out_ch, ptr<T>(xd), ptr<T>(wd), ptr<T>(bd), ptr<T>(yd));
    cuda::conv2d_backward(g, batch, out_ch, ptr<T>(xd), ptr<T>(wd), ptr<T>(gyd), ptr<T>(gxd), ptr<T>(gwd),
                          ptr<T>(gbd));
    const double rtol = test::kKernelRtol<T>;
    COMET_CHECK_CLOSE(to_device(yd, Device::CPU), y, rtol, rtol);
    COMET_CHECK_CLOSE(to_device(gxd, Device::CPU), gx, rtol, rtol);
    COMET_CHECK_CLOSE(to_device(gwd, Device::CPU), gw, rtol, rtol);
    COMET_CHECK_CLOSE(to_device(gbd, Device::CPU), gb, rtol, rtol);
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
