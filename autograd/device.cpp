// Allocation and copies on an op's device (see device.h).
#include "autograd/device.h"

#include <string>

#ifdef COMET_WITH_CUDA
#include "kernels/cuda/device.h"
#endif

namespace comet::ag {

Tensor empty_on(Device device, const Shape& shape, DType dtype) {
  if (device == Device::CPU) return Tensor::empty(shape, dtype);
#ifdef COMET_WITH_CUDA
  return cuda_empty(shape, dtype);
#else
  throw Error(fmt::format("cannot allocate a {} tensor of shape {} on {}: this build has no CUDA backend",
                          dtype_name(dtype), shape_str(shape), device_name(device)));
#endif
}

Tensor copy_to(const Tensor& t, Device device) {
  if (t.device() == device) return t;
#ifdef COMET_WITH_CUDA
  return to_device(t, device);
#else
  throw Error(fmt::format("cannot copy a tensor of shape {} from {} to {}: this build has no CUDA backend",
                          shape_str(t.shape()), device_name(t.device()), device_name(device)));
#endif
}

void require_device(Device device, const std::string& who) {
  if (device == Device::CPU) return;
#ifdef COMET_WITH_CUDA
  COMET_CHECK(cuda_available(), "{}: no usable CUDA device ({}); COMET_CUDA_EMULATE=1 runs the device code on the "
              "host emulation instead", who, cuda_status());
#else
  throw Error(fmt::format("{}: this build has no CUDA backend (configure it where a CUDA compiler is found, or with "
                          "-DCOMET_CUDA=ON)", who));
#endif
}

void synchronize(Device device) {
#ifdef COMET_WITH_CUDA
  if (device == Device::CUDA) cuda::synchronize("synchronize: waiting for the device's queued work");
#else
  (void)device;
#endif
}

double host_item(const Tensor& t, int64_t i) {
  return t.device() == Device::CPU ? t.item(i) : copy_to(t, Device::CPU).item(i);
}

namespace {

// Whether the device computes t's finiteness (a float tensor with elements on the device) instead of the host.
bool checked_on_device(const Tensor& t) {
  return t.device() != Device::CPU && t.numel() > 0 && (t.dtype() == DType::F32 || t.dtype() == DType::F64);
}

// For each of `tensors` (all on one device, all of one float dtype): whether every element is finite. 0 * x is 0 for a
// finite x and NaN for an infinite or NaN one, so the sum of 0 * t is 0 exactly when t is finite; the sums are written
// side by side on the device and come back in one copy.
std::vector<bool> finite_on_device(const std::vector<const Tensor*>& tensors) {
  const Tensor& first = *tensors.front();
  Tensor totals = empty_on(first.device(), {static_cast<int64_t>(tensors.size())}, first.dtype());
  COMET_DISPATCH_FLOAT(first.dtype(), "first_non_finite", [&] {
    for (size_t i = 0; i < tensors.size(); ++i) {
      const Tensor& t = *tensors[i];
      Tensor zeros = empty_as(t);
      COMET_KERNEL_ON(t.device(), scale<scalar_t>)(t.numel(), scalar_t(0), t.ptr<scalar_t>(), zeros.ptr<scalar_t>());
      COMET_KERNEL_ON(t.device(), sum_to<scalar_t>)(Broadcast::Scalar, 1, t.numel(), scalar_t(1),
                                                    zeros.ptr<scalar_t>(), totals.ptr<scalar_t>() + i);
    }
  });
  const Tensor host = copy_to(totals, Device::CPU);
  std::vector<bool> finite(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) finite[i] = host.item(static_cast<int64_t>(i)) == 0.0;
  return finite;
}

}  // namespace

int64_t first_non_finite(const std::vector<Tensor>& tensors) {
  std::vector<bool> finite(tensors.size(), true);
  std::vector<const Tensor*> by_dtype[2];  // the tensors checked on the device: F32, F64
  std::vector<size_t> at[2];               // and their positions in `tensors`
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (!t.defined()) continue;
    if (!checked_on_device(t)) {
      finite[i] = all_finite(copy_to(t, Device::CPU));
      continue;
    }
    const int d = t.dtype() == DType::F64;
    by_dtype[d].push_back(&t);
    at[d].push_back(i);
  }
  for (int d = 0; d < 2; ++d) {
    if (by_dtype[d].empty()) continue;
    const std::vector<bool> result = finite_on_device(by_dtype[d]);
    for (size_t j = 0; j < result.size(); ++j) finite[at[d][j]] = result[j];
  }
  for (size_t i = 0; i < finite.size(); ++i)
    if (!finite[i]) return static_cast<int64_t>(i);
  return -1;
}

bool all_finite_anywhere(const Tensor& t) { return first_non_finite({t}) < 0; }

void assign(Tensor& dst, const Tensor& src) {
  COMET_CHECK(dst.shape() == src.shape() && dst.dtype() == src.dtype(), "assign: {} {} from {} {}",
              shape_str(dst.shape()), dtype_name(dst.dtype()), shape_str(src.shape()), dtype_name(src.dtype()));
  if (dst.device() == Device::CPU) dst.copy_from(copy_to(src, Device::CPU));
  else dst = copy_to(src, dst.device());
}

Tensor clone_on_device(const Tensor& t) {
  if (t.device() == Device::CPU) return t.clone();
  Tensor out = empty_as(t);
  COMET_DISPATCH_FLOAT(t.dtype(), "clone_on_device", [&] {
    COMET_KERNEL_ON(t.device(), scale<scalar_t>)(t.numel(), scalar_t(1), t.ptr<scalar_t>(), out.ptr<scalar_t>());
  });
  return out;
}

Tensor full_on(Device device, const Shape& shape, double value, DType dtype) {
  return copy_to(Tensor::full(shape, value, dtype), device);
}

Device common_device(const char* op, const std::vector<const Tensor*>& tensors) {
  const Device first = tensors.front()->device();
  bool mixed = false;
  for (const Tensor* t : tensors) mixed = mixed || t->device() != first;
  if (!mixed) return first;
  std::string list;
  for (const Tensor* t : tensors) {
    list += fmt::format("{}{} on {}", list.empty() ? "" : ", ", shape_str(t->shape()), device_name(t->device()));
  }
  throw Error(fmt::format("{}: inputs on different devices ({}); move them to one with to_device", op, list));
}

}  // namespace comet::ag
