// The device side of the launch seam (kernels/cuda/launch.h): one __global__ wrapper that builds each thread's
// Thread from the CUDA builtins and runs the kernel's phases with __syncthreads() between them, and the launcher,
// which runs the host emulation instead under COMET_CUDA_EMULATE=1 (kernels/cuda/device.h). Included by the .cu
// files only.
#pragma once
#include "kernels/cuda/check.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/launch.h"

namespace comet::cuda {

template <class K>
__global__ void run_phases(K kernel) {
  __shared__ typename K::Shared shared;
  typename K::Local local;
  const Thread t{blockIdx.x, threadIdx.x, blockDim.x, gridDim.x};
  for (int p = 0; kernel.phase(p, t, shared, local); ++p) __syncthreads();
}

// Launches `kernel` on the default stream; `what` names it in the error message.
template <class K>
void launch(const K& kernel, const Launch& l, const char* what) {
  if (l.grid == 0) return;
  if (cuda_emulated()) {
    emulate(kernel, l);
    return;
  }
  run_phases<K><<<static_cast<unsigned>(l.grid), static_cast<unsigned>(l.block)>>>(kernel);
  COMET_CUDA_CHECK(cudaGetLastError(), "{}: launching {} blocks of {} threads", what, l.grid, l.block);
}

}  // namespace comet::cuda
