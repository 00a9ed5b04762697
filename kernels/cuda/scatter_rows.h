// The scatter-add of rows on device buffers, cpu::scatter_add_rows's signature and summation order (each
// destination row sums its sources in increasing source order): the backward of gather_rows
// (kernels/cuda/dispatch.h), so of the embedding, whose forward is gather_rows(ids, table). Integer bucketing,
// no atomics: the same bits every run. Default stream. Plain C++ (no CUDA headers).
// Bodies and launch math: kernels/cuda/scatter_rows_kernels.h. Test: tests/kernels/test_cuda_scatter_rows.cpp.
#pragma once
#include <cstdint>

namespace comet::cuda {
// out[r, :] = sum of src[i, :] over i < m with index[i] == r, for r < num_rows (overwrites out); index: m device
// int64 values in [0, num_rows) (checked by the caller, as on the CPU).
template <class T>
void scatter_add_rows(int64_t m, int64_t d, const T* src, const int64_t* index, int64_t num_rows, T* out);
}  // namespace comet::cuda
