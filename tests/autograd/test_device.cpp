// The device helpers of autograd/device.h on the CUDA device (or its host emulation; skipped without either): the
// finiteness check that brings one number back, assign onto a device tensor, host_item, and the errors of
// mixing devices.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "autograd/device.h"
#include "autograd/ops.h"
#include "test_util.h"

namespace comet::test {

TEST_CASE_TEMPLATE("all_finite_anywhere, assign and host_item on the device", T, float, double) {
  COMET_SKIP_WITHOUT_CUDA();
  Generator gen(5);
  const Tensor host = random_tensor({37, 5}, gen).to(dtype_of<T>());
  CHECK(ag::all_finite_anywhere(ag::copy_to(host, Device::CUDA)));
  CHECK(ag::all_finite_anywhere(ag::copy_to(Tensor::empty({0, 5}, dtype_of<T>()), Device::CUDA)));
  for (const double bad : {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN()}) {
    INFO(bad);
    Tensor t = host.clone();
    t.data<T>()[3 * 5 + 2] = static_cast<T>(bad);
    CHECK_FALSE(ag::all_finite_anywhere(ag::copy_to(t, Device::CUDA)));
  }
  Tensor on_device = ag::copy_to(Tensor::zeros({37, 5}, dtype_of<T>()), Device::CUDA);
  ag::assign(on_device, host);
  CHECK(on_device.device() == Device::CUDA);
  COMET_CHECK_CLOSE(ag::copy_to(on_device, Device::CPU), host, 0.0, std::numeric_limits<double>::min());
  CHECK(ag::host_item(on_device, 7) == host.item(7));
  CHECK_THROWS_WITH_AS(ag::assign(on_device, Tensor::zeros({5, 37}, dtype_of<T>())),
                       doctest::Contains("assign: [37, 5]"), Error);
}

}  // namespace comet::test
