// CUDA device queries, device storage and host <-> device copies. Plain C++ (no CUDA headers), so code that is
// built without nvcc can include it; only comet_cuda (COMET_WITH_CUDA) defines these functions.
// Tensors on Device::CUDA hold cudaMalloc'd storage from a block cache (core/block_cache.h, the CPU allocator's
// policy: released blocks are reused, the cache holds at most the peak bytes in use), on one device per process;
// their data<T>() refuses access, use raw() for the device pointer.
// With COMET_CUDA_EMULATE=1 in the environment (read once per process), the backend runs on a host emulation of
// one device instead of a GPU: Device::CUDA tensors hold host memory, kernels run their bodies through
// cuda::emulate (kernels/cuda/launch.h), cuBLAS calls run a column-major host GEMM that reads its arguments as
// cuBLAS does (kernels/cuda/cublas_emulation.h). It needs neither a driver nor a GPU, so that every launcher and
// the code above it runs in tests on machines without one; it says nothing about speed or device-only faults.
// Test: tests/kernels/test_cuda.cpp (ctest also runs the device tests under emulation: kernels/emulated-device/).
#pragma once
#include <string>

#include "core/tensor.h"

namespace comet {

// Whether the host emulation stands in for the device (COMET_CUDA_EMULATE=1).
bool cuda_emulated();

// Number of usable CUDA devices (1 under emulation); 0 on any error (no driver, driver too old, no device).
int cuda_device_count();
// "ok (N devices; the first: <name>, compute capability M.m)", "host emulation (COMET_CUDA_EMULATE=1)" or the CUDA error text that makes the device count 0,
// for skip messages.
std::string cuda_status();
bool cuda_available();

// An uninitialised tensor on the current CUDA device (the device of the process's first one).
Tensor cuda_empty(const Shape& shape, DType dtype = DType::F32);
// The device block cache's statistics, its peak reset to the bytes in use now, and every cached block back to the
// driver.
AllocatorStats cuda_allocator_stats();
void cuda_allocator_reset_peak();
void cuda_allocator_release_cache();

// A copy of t on device d (CPU -> CUDA or CUDA -> CPU); t itself when it already lives on d.
Tensor to_device(const Tensor& t, Device d);

namespace cuda {
// cudaMemcpy from device to host and cudaMemset of device memory to zero (or their emulation); `what` names the
// caller in the error message.
void copy_to_host(void* dst, const void* src, size_t bytes, const char* what);
void set_zero(void* dst, size_t bytes, const char* what);
// Waits until the device has finished all queued work (cudaDeviceSynchronize; nothing to wait for under emulation);
// a kernel's asynchronous error surfaces here, named with `what`.
void synchronize(const char* what);
}  // namespace cuda

}  // namespace comet
