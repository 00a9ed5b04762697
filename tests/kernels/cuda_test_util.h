// Helpers of the CUDA backend's tests (tests/kernels/test_cuda*.cpp): device tests that skip without a device,
// exact comparison, issue 11's tolerances, where a kernel runs (host emulation in either thread order and with
// several launches, or the device), typed buffer pointers of tensors on either side.
#pragma once
#include <limits>
#include <type_traits>
#include <vector>

#include "kernels/cuda/device.h"
#include "kernels/cuda/launch.h"
#include "kernels/elementwise.h"
#include "test_util.h"

// Bit-for-bit equality through the project's comparison (an atol of 0 would divide 0 by 0).
#define COMET_CHECK_EXACT(GOT, WANT) COMET_CHECK_CLOSE(GOT, WANT, 0.0, std::numeric_limits<double>::min())

namespace comet::test {

// Relative tolerance of a kernel's float math against the double reference: 1e-5 in float, 1e-6 in double.
template <class T>
constexpr double kKernelRtol = std::is_same_v<T, float> ? 1e-5 : 1e-6;

// check(order) for both thread orders of the host emulation: the device runs a phase's threads in no particular
// order, so a body whose result depends on the order has a race.
template <class Check>
void for_each_order(Check check) {
  for (const cuda::Order order : {cuda::Order::Forward, cuda::Order::Reverse}) {
    CAPTURE(order == cuda::Order::Forward ? "forward" : "reverse");
    check(order);
  }
}

// Where a test runs a kernel: its body emulated on the host in `order`, or the device through its launcher.
// put() gives a tensor the kernel can read and write there (a copy), get() brings a result back to the CPU.
struct Target {
  bool device = false;
  cuda::Order order = cuda::Order::Forward;

  Tensor put(const Tensor& t) const { return device ? to_device(t, Device::CUDA) : t.clone(); }
  Tensor get(const Tensor& t) const { return device ? to_device(t, Device::CPU) : t; }
};

inline const Target kDevice{true};

// check(target) for the host emulation in both thread orders.
template <class Check>
void for_each_host_target(Check check) {
  for_each_order([&](cuda::Order order) { check(Target{false, order}); });
}

// A launch with fewer threads than most test sizes: the grid-stride loops wrap.
inline const cuda::Launch kSmallLaunch{3, 32};

// check(target, launch) for the host emulation in both thread orders with each of `launches`, where null stands
// for the kernel's own launch math.
template <class Check>
void for_each_host_run(const std::vector<const cuda::Launch*>& launches, Check check) {
  for (const cuda::Launch* launch : launches) {
    INFO("launch: " << (launch ? launch->grid : -1) << " blocks of " << (launch ? launch->block : -1) << " threads");
    for_each_host_target([&](const Target& at) { check(at, launch); });
  }
}

// Emulates `kernel` on the host in at's thread order with *launch, or with `own` (its launch math's) when null.
template <class K>
void emulate_on(const Target& at, const K& kernel, const cuda::Launch* launch, const cuda::Launch& own) {
  cuda::emulate(kernel, launch ? *launch : own, at.order);
}

// The shape of a broadcast operand of a rows x cols matrix (kernels/elementwise.h), as a sum onto it writes it.
inline Shape broadcast_shape(Broadcast bc, int64_t rows, int64_t cols) {
  switch (bc) {
    case Broadcast::Full: return {rows, cols};
    case Broadcast::Row: return {cols};
    case Broadcast::Col: return {rows};
    case Broadcast::Scalar: return {1};
  }
  return {};
}

// The buffer of a tensor on either device, typed.
template <class T>
T* ptr(Tensor& t) {
  return static_cast<T*>(t.raw());
}

template <class T>
const T* ptr(const Tensor& t) {
  return static_cast<const T*>(t.raw());
}

// Small integers in [-3, 3] as dtype T: sums of products of a few hundred of them are exact in float, so an index
// or tile bug is an exact mismatch.
template <class T>
Tensor small_integers(const Shape& shape, Generator& gen) {
  Tensor t = Tensor::empty(shape, DType::I64);
  gen.randint(t, -3, 4);
  return t.to(dtype_of<T>());
}

}  // namespace comet::test
