// The grouped expert GEMMs on the device, with the meaning of ref::grouped_linear and
// ref::grouped_linear_backward (kernels/grouped_gemm.h): x [rows, in], W [experts, in, out], b [experts, out],
// y [rows, out]; rows [offsets[e], offsets[e + 1]) belong to expert e. All pointers are device pointers, offsets
// included; `rows` (= offsets[experts], the dispatch plan's pairs) is passed by the host, which sizes the grid
// from it. Backward: null outputs are skipped, the others overwritten. Default stream. Plain C++.
// Bodies and launch math: kernels/cuda/grouped_gemm_kernels.h. Test: tests/kernels/test_cuda_grouped_gemm.cpp.
#pragma once
#include <cstdint>

namespace comet::cuda {

template <class T>
void grouped_linear(int64_t experts, const int64_t* offsets, int64_t rows, int64_t in, int64_t out, const T* x,
                    const T* w, const T* b, T* y);

template <class T>
void grouped_linear_backward(int64_t experts, const int64_t* offsets, int64_t rows, int64_t in, int64_t out,
                             const T* x, const T* w, const T* gy, T* gx, T* gw, T* gb);

}  // namespace comet::cuda
