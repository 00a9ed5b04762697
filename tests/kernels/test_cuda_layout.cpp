// The layout copies on the device (kernels/cuda/layout_kernels.h) against the CPU, exactly: the transpose of
// random matrices (one row, one column, sizes not multiples of a block) against the plain loop of the transpose
// op, and the casts float -> double -> float against Tensor::to (the same rounding). Host runs emulate every thread
// of the launch math's launch, of one thread and of a grid smaller than the work, in both thread orders; device
// runs skip without a device.
#ifdef COMET_WITH_CUDA
#include <vector>

#include "cuda_test_util.h"
#include "kernels/cuda/layout.h"
#include "kernels/cuda/layout_kernels.h"

namespace comet {
namespace {

using cuda::Launch;
using test::ptr;
using test::Target;

template <class T>
Tensor transpose_on(const Target& at, const Launch* launch, const Tensor& x) {
  const int64_t rows = x.dim(0), cols = x.dim(1);
  const Tensor xd = at.put(x);
  Tensor out = at.put(Tensor::zeros({cols, rows}, x.dtype()));
  if (at.device) cuda::transpose(rows, cols, ptr<T>(xd), ptr<T>(out));
  else test::emulate_on(at, cuda::TransposeKernel<T>{{}, rows, cols, ptr<T>(xd), ptr<T>(out)}, launch,
                        cuda::elementwise_launch(rows * cols));
  return at.get(out);
}

template <class From, class To>
Tensor cast_on(const Target& at, const Launch* launch, const Tensor& x) {
  const Tensor xd = at.put(x);
  Tensor y = at.put(Tensor::zeros(x.shape(), dtype_of<To>()));
  if (at.device) cuda::cast(x.numel(), ptr<From>(xd), ptr<To>(y));
  else test::emulate_on(at, cuda::CastKernel<From, To>{{}, x.numel(), ptr<From>(xd), ptr<To>(y)}, launch,
                        cuda::elementwise_launch(x.numel()));
  return at.get(y);
}

template <class T>
void check_layout(const Target& at, const Launch* launch, Generator& gen) {
  for (const int64_t rows : {int64_t{0}, int64_t{1}, int64_t{7}, int64_t{40}}) {
    for (const int64_t cols : {int64_t{1}, int64_t{9}, int64_t{33}}) {
      CAPTURE(rows);
      CAPTURE(cols);
      const Tensor x = test::random_tensor({rows, cols}, gen, -1, 1, dtype_of<T>());
      Tensor want = Tensor::zeros({cols, rows}, x.dtype());
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) want.data<T>()[j * rows + i] = x.data<T>()[i * cols + j];
      COMET_CHECK_EXACT(transpose_on<T>(at, launch, x), want);
    }
  }
  const Tensor d = test::random_tensor({257}, gen, -1e3, 1e3, DType::F64);  // most need rounding to float
  const Tensor f = d.to(DType::F32);
  const Tensor to_float = cast_on<double, float>(at, launch, d), to_double = cast_on<float, double>(at, launch, f);
  COMET_CHECK_EXACT(to_float, f);
  COMET_CHECK_EXACT(to_double, f.to(DType::F64));
}

TEST_CASE_TEMPLATE("CUDA transpose and cast, emulated on the host over every thread, equal the CPU", T, float,
                   double) {
  Generator gen(101);
  const Launch one{1, 1};
  test::for_each_host_run({nullptr, &one, &test::kSmallLaunch},
                          [&](const Target& at, const Launch* launch) { check_layout<T>(at, launch, gen); });
}

TEST_CASE_TEMPLATE("CUDA transpose and cast on the device equal the CPU", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(101);
  check_layout<T>(test::kDevice, nullptr, gen);
}

}  // namespace
}  // namespace comet
#endif  // COMET_WITH_CUDA
