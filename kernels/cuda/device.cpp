// CUDA device queries, cudaMalloc'd storage and host <-> device copies (see device.h).
#include "kernels/cuda/device.h"

#include "kernels/cuda/check.h"

namespace comet {
namespace {

cudaError_t device_count_error(int* count) {
  *count = 0;
  const cudaError_t err = cudaGetDeviceCount(count);
  if (err != cudaSuccess) {
    cudaGetLastError();  // reset the last-error state so later calls report their own errors
    *count = 0;
  }
  return err;
}

void cuda_free(void* data, size_t /*bytes*/) { cudaFree(data); }  // errors cannot be reported from a deleter

}  // namespace

int cuda_device_count() {
  int count = 0;
  device_count_error(&count);
  return count;
}

std::string cuda_status() {
  int count = 0;
  const cudaError_t err = device_count_error(&count);
  if (err != cudaSuccess) return fmt::format("{} ({})", cudaGetErrorString(err), cudaGetErrorName(err));
  if (count == 0) return "no CUDA device found";
  return fmt::format("ok ({} device{})", count, count == 1 ? "" : "s");
}

bool cuda_available() { return cuda_device_count() > 0; }

Tensor cuda_empty(const Shape& shape, DType dtype) {
  const size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  void* data = nullptr;
  COMET_CUDA_CHECK(cudaMalloc(&data, bytes), "cuda_empty: cannot allocate {} bytes for a {} tensor of shape {}",
                   bytes, dtype_name(dtype), shape_str(shape));
  return Tensor(std::make_shared<Storage>(data, bytes, Device::CUDA, &cuda_free), shape, dtype);
}

Tensor to_device(const Tensor& t, Device d) {
  COMET_CHECK(t.defined(), "to_device: undefined tensor");
  if (t.device() == d) return t;
  const bool upload = d == Device::CUDA;
  Tensor out = upload ? cuda_empty(t.shape(), t.dtype()) : Tensor::empty(t.shape(), t.dtype());
  if (t.nbytes() > 0) {
    COMET_CUDA_CHECK(cudaMemcpy(out.raw(), t.raw(), t.nbytes(), upload ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost),
                     "to_device: copying a {} tensor of shape {} from {} to {}", dtype_name(t.dtype()),
                     shape_str(t.shape()), device_name(t.device()), device_name(d));
  }
  return out;
}

}  // namespace comet
