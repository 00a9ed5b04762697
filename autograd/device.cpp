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

bool all_finite_anywhere(const Tensor& t) {
  if (t.device() == Device::CPU || t.numel() == 0 || (t.dtype() != DType::F32 && t.dtype() != DType::F64)) {
    return all_finite(copy_to(t, Device::CPU));
  }
  // On the device: 0 * x is 0 for a finite x and NaN for an infinite or NaN one, so the sum of 0 * t is 0 exactly when
  // every element is finite; one number comes back instead of the tensor.
  Tensor zeros = empty_as(t), total = empty_on(t.device(), {}, t.dtype());
  COMET_DISPATCH_FLOAT(t.dtype(), "all_finite", [&] {
    COMET_KERNEL_ON(t.device(), scale<scalar_t>)(t.numel(), scalar_t(0), t.ptr<scalar_t>(), zeros.ptr<scalar_t>());
    COMET_KERNEL_ON(t.device(), sum_to<scalar_t>)(Broadcast::Scalar, 1, t.numel(), scalar_t(1), zeros.ptr<scalar_t>(),
                                                  total.ptr<scalar_t>());
  });
  return host_item(total) == 0.0;
}

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
