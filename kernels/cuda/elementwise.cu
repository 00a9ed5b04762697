// CUDA elementwise kernels and their launchers (see elementwise.h): a grid-stride loop over the buffer.
#include <algorithm>

#include "kernels/cuda/check.h"
#include "kernels/cuda/elementwise.h"

namespace comet::cuda {
namespace {

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65535;

template <class T>
__global__ void unary_kernel(Unary op, int64_t n, const T* x, T* y) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride) {
    y[i] = unary_forward(op, x[i]);
  }
}

unsigned blocks_for(int64_t n) { return static_cast<unsigned>(std::min((n + kThreads - 1) / kThreads, kMaxBlocks)); }

}  // namespace

template <class T>
void unary(Unary op, int64_t n, const T* x, T* y) {
  if (n <= 0) return;
  unary_kernel<T><<<blocks_for(n), kThreads>>>(op, n, x, y);
  COMET_CUDA_CHECK(cudaGetLastError(), "cuda::unary: launching on {} elements", n);
}

template void unary<float>(Unary, int64_t, const float*, float*);
template void unary<double>(Unary, int64_t, const double*, double*);

}  // namespace comet::cuda
