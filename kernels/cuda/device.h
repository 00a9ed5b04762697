// CUDA device queries, device storage and host <-> device copies. Plain C++ (no CUDA headers), so code that is
// built without nvcc can include it; only comet_cuda (COMET_WITH_CUDA) defines these functions.
// Tensors on Device::CUDA hold cudaMalloc'd storage from a block cache (core/block_cache.h, the CPU allocator's
// policy: released blocks are reused, the cache holds at most the peak bytes in use), on one device per process;
// their data<T>() refuses access, use raw() for the device pointer. Test: tests/kernels/test_cuda.cpp.
#pragma once
#include <string>

#include "core/tensor.h"

namespace comet {

// Number of usable CUDA devices; 0 on any error (no driver, driver too old, no device).
int cuda_device_count();
// "ok (N devices)" or the CUDA error text that makes the device count 0, for skip messages.
std::string cuda_status();
bool cuda_available();

// An uninitialised tensor on the current CUDA device (the device of the process's first one).
Tensor cuda_empty(const Shape& shape, DType dtype = DType::F32);
// The device block cache's statistics, and every cached block back to the driver.
AllocatorStats cuda_allocator_stats();
void cuda_allocator_release_cache();

// A copy of t on device d (CPU -> CUDA or CUDA -> CPU); t itself when it already lives on d.
Tensor to_device(const Tensor& t, Device d);

}  // namespace comet
