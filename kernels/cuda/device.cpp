// CUDA device queries, cached cudaMalloc'd storage and host <-> device copies, or their host emulation (see
// device.h).
#include "kernels/cuda/device.h"

#include <cstdlib>
#include <cstring>

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

bool emulation_from_environment() {
  const char* env = std::getenv("COMET_CUDA_EMULATE");
  if (!env || std::strcmp(env, "0") == 0) return false;
  COMET_CHECK(std::strcmp(env, "1") == 0, "COMET_CUDA_EMULATE={}: expected 1 (emulate the device) or 0", env);
  return true;
}

thread_local cudaError_t last_malloc_error = cudaSuccess;

// 256 bytes: cudaMalloc's own alignment, which the kernels' vector loads may rely on.
constexpr size_t kDeviceAlign = 256;

void* cuda_malloc(size_t bytes) {
  void* data = nullptr;
  last_malloc_error = cudaMalloc(&data, bytes);
  if (last_malloc_error == cudaSuccess) return data;
  cudaGetLastError();  // an allocation failure is not sticky: clear it so later calls report their own errors
  return nullptr;
}

void cuda_free(void* data, size_t /*bytes*/) { cudaFree(data); }  // errors cannot be reported from a deleter

// The emulated device's memory: host blocks with the device's alignment (sizes are multiples of it).
void* emulated_malloc(size_t bytes) {
  void* data = std::aligned_alloc(kDeviceAlign, bytes);
  last_malloc_error = data ? cudaSuccess : cudaErrorMemoryAllocation;
  return data;
}

void emulated_free(void* data, size_t /*bytes*/) { std::free(data); }

BlockCache& device_cache() {
  static BlockCache* c = cuda_emulated() ? new BlockCache(&emulated_malloc, &emulated_free, kDeviceAlign)
                                         : new BlockCache(&cuda_malloc, &cuda_free, kDeviceAlign);
  return *c;  // never destroyed (see storage.cpp)
}

void cuda_release(void* data, size_t bytes) { device_cache().release(data, bytes); }

// The cache serves one device: a block cached on one device must not be handed out on another. `what` names the
// allocation for the messages.
void check_one_device(const std::string& what) {
  if (cuda_emulated()) return;
  int now = 0;
  const cudaError_t err = cudaGetDevice(&now);
  if (err != cudaSuccess) cudaGetLastError();
  COMET_CHECK(err == cudaSuccess, "cuda_empty: cannot allocate {}: no current CUDA device: {} ({})", what,
              cudaGetErrorString(err), cudaGetErrorName(err));
  static const int first = now;
  COMET_CHECK(now == first, "cuda_empty: cannot allocate {} on device {}: the CUDA caching allocator serves device "
              "{} only (one device per process for now)", what, now, first);
}

void copy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, const std::string& what) {
  if (bytes == 0) return;
  if (cuda_emulated()) {
    std::memcpy(dst, src, bytes);
    return;
  }
  COMET_CUDA_CHECK(cudaMemcpy(dst, src, bytes, kind), "{}", what);
}

}  // namespace

bool cuda_emulated() {
  static const bool emulated = emulation_from_environment();
  return emulated;
}

int cuda_device_count() {
  if (cuda_emulated()) return 1;
  int count = 0;
  device_count_error(&count);
  return count;
}

std::string cuda_status() {
  if (cuda_emulated()) return "host emulation (COMET_CUDA_EMULATE=1)";
  int count = 0;
  const cudaError_t err = device_count_error(&count);
  if (err != cudaSuccess) return fmt::format("{} ({})", cudaGetErrorString(err), cudaGetErrorName(err));
  if (count == 0) return "no CUDA device found";
  cudaDeviceProp first{};
  if (cudaGetDeviceProperties(&first, 0) != cudaSuccess) {
    cudaGetLastError();
    return fmt::format("ok ({} device{})", count, count == 1 ? "" : "s");
  }
  return fmt::format("ok ({} device{}; the first: {}, compute capability {}.{})", count, count == 1 ? "" : "s",
                     first.name, first.major, first.minor);
}

bool cuda_available() { return cuda_device_count() > 0; }

Tensor cuda_empty(const Shape& shape, DType dtype) {
  const size_t bytes = static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype);
  const std::string what =
      fmt::format("{} bytes for a {} tensor of shape {}", bytes, dtype_name(dtype), shape_str(shape));
  check_one_device(what);
  size_t size = 0;
  void* data = device_cache().allocate(bytes, size);
  COMET_CHECK(data, "cuda_empty: cannot allocate {}: {} ({})", what, cudaGetErrorString(last_malloc_error),
              cudaGetErrorName(last_malloc_error));
  // Device memory starts as garbage; the emulation makes it NaN (and -1 for integers), so that a kernel reading
  // what nothing wrote shows up in the results.
  if (cuda_emulated()) std::memset(data, 0xFF, bytes);
  return Tensor(std::make_shared<Storage>(data, size, Device::CUDA, &cuda_release), shape, dtype);
}

AllocatorStats cuda_allocator_stats() { return device_cache().stats(); }

void cuda_allocator_reset_peak() { device_cache().reset_peak(); }

void cuda_allocator_release_cache() { device_cache().release_cache(); }

Tensor to_device(const Tensor& t, Device d) {
  COMET_CHECK(t.defined(), "to_device: undefined tensor");
  if (t.device() == d) return t;
  const bool upload = d == Device::CUDA;
  Tensor out = upload ? cuda_empty(t.shape(), t.dtype()) : Tensor::empty(t.shape(), t.dtype());
  copy(out.raw(), t.raw(), t.nbytes(), upload ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost,
       fmt::format("to_device: copying a {} tensor of shape {} from {} to {}", dtype_name(t.dtype()),
                   shape_str(t.shape()), device_name(t.device()), device_name(d)));
  return out;
}

namespace cuda {

void copy_to_host(void* dst, const void* src, size_t bytes, const char* what) {
  copy(dst, src, bytes, cudaMemcpyDeviceToHost, what);
}

void set_zero(void* dst, size_t bytes, const char* what) {
  if (bytes == 0) return;
  if (cuda_emulated()) {
    std::memset(dst, 0, bytes);
    return;
  }
  COMET_CUDA_CHECK(cudaMemset(dst, 0, bytes), "{}", what);
}

void synchronize(const char* what) {
  if (cuda_emulated()) return;
  COMET_CUDA_CHECK(cudaDeviceSynchronize(), "{}", what);
}

}  // namespace cuda

}  // namespace comet
