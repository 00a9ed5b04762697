// The device helpers of autograd/device.h on the CUDA device (or its host emulation; skipped without either): the
// finiteness check that brings one number back (for a list of tensors: one copy per dtype, first_non_finite), assign
// onto a device tensor, host_item, and the errors of mixing devices.
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

namespace {

// Copies of `host` with element 7 set to `bad` (when given), as F32 or F64, on `device`.
Tensor variant(const Tensor& host, DType dtype, Device device, double bad = 0.0, bool set = false) {
  Tensor t = host.to(dtype).clone();
  if (set) {
    if (dtype == DType::F32) t.data<float>()[7] = static_cast<float>(bad);
    else t.data<double>()[7] = bad;
  }
  return ag::copy_to(t, device);
}

// first_non_finite over lists built on `device` (the CPU, or the device with some host tensors mixed in).
void check_first_non_finite(Device device) {
  Generator gen(9);
  const Tensor host = random_tensor({33, 4}, gen);
  const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
  CHECK(ag::first_non_finite({}) == -1);
  const std::vector<Tensor> finite{variant(host, DType::F32, device), Tensor(), variant(host, DType::F64, device),
                                   host, ag::copy_to(Tensor::empty({0, 3}), device)};
  CHECK(ag::first_non_finite(finite) == -1);
  for (size_t bad_at = 0; bad_at < 4; ++bad_at) {
    for (const double bad : {nan, inf, -inf}) {
      INFO("bad at " << bad_at << ": " << bad);
      std::vector<Tensor> list{variant(host, DType::F32, device), variant(host, DType::F64, device),
                               variant(host, DType::F32, device), variant(host, DType::F64, Device::CPU)};
      const DType dtype = list[bad_at].dtype();
      list[bad_at] = variant(host, dtype, list[bad_at].device(), bad, true);
      CHECK(ag::first_non_finite(list) == static_cast<int64_t>(bad_at));
      CHECK_FALSE(ag::all_finite_anywhere(list[bad_at]));
      // a later bad tensor does not hide the first one
      list[3] = variant(host, DType::F64, Device::CPU, nan, true);
      CHECK(ag::first_non_finite(list) == static_cast<int64_t>(bad_at));
    }
  }
}

}  // namespace

TEST_CASE("first_non_finite on the CPU: the position of the first tensor with a NaN or an infinity") {
  check_first_non_finite(Device::CPU);
}

TEST_CASE("first_non_finite on the device: the first bad tensor among device and host tensors of both dtypes") {
  COMET_SKIP_WITHOUT_CUDA();
  check_first_non_finite(Device::CUDA);
}

}  // namespace comet::test
