// The 2x2 max-pool (stride 2) on device buffers, with the signatures and tie rule of kernels/conv.h's
// maxpool2x2 (NCHW planes = N C). Default stream. Plain C++ (no CUDA headers).
// Bodies: kernels/cuda/conv_kernels.h. Test: tests/kernels/test_cuda_conv.cpp.
#pragma once
#include <cstdint>

namespace comet::cuda {
// y [planes, h / 2, w / 2]; gx [planes, h, w] gets gy at each window's argmax and 0 elsewhere (overwritten).
template <class T> void maxpool2x2(int64_t planes, int64_t h, int64_t w, const T* x, T* y);
template <class T> void maxpool2x2_backward(int64_t planes, int64_t h, int64_t w, const T* x, const T* gy, T* gx);
}  // namespace comet::cuda
