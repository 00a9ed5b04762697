// The MoE dispatch on the device: the dispatch plan of a dense gate matrix (kernels/dispatch.h's plan_dispatch,
// the same offsets, samples and flat indices, plus the inverse index the combine reads), the gather of the
// dispatched rows, the weighted combine back and its backward. Device buffers, default stream. Plain C++ (no CUDA
// headers). Bodies and launch math: kernels/cuda/dispatch_kernels.h. Test: tests/kernels/test_cuda_dispatch.cpp.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace comet::cuda {

// DispatchPlan with its index arrays in I64 device tensors; pairs is known to the host (it sizes the buffers).
struct DeviceDispatchPlan {
  int64_t batch = 0, experts = 0, pairs = 0;
  Tensor offsets;  // [experts + 1]
  Tensor sample;   // [pairs]: the sample of each pair, expert-major, in sample order within an expert
  Tensor flat;     // [pairs]: sample * experts + expert
  Tensor pair_of;  // [batch, experts]: the pair of (sample, expert), -1 where the gate weight is 0
};

// g [batch, experts] on the device; throws on a NaN gate weight, as plan_dispatch does. Waits for the device:
// the host needs the pair count.
template <class T> DeviceDispatchPlan plan_dispatch(int64_t batch, int64_t experts, const T* g);

// out[i, :] = x[index[i], :] for i < m, rows of d elements (as cpu::gather_rows): xs = x[plan.sample].
template <class T> void gather_rows(int64_t m, int64_t d, const T* x, const int64_t* index, T* out);

// y[b, :] = sum of g[b, e] * ys[p, :] over b's pairs p = pair_of[b, e] in expert order (0 when b has none):
// the CPU's scatter_add_rows(ys * g[flat], sample) with its summation order.
template <class T>
void combine_rows(int64_t batch, int64_t experts, int64_t d, const int64_t* pair_of, const T* g, const T* ys, T* y);

// The combine's backward (null outputs skipped): gys[p, :] = gy[sample[p], :] * g[flat[p]] for the plan's pairs,
// and gg[b, e] = gy[b, :] . ys[pair_of[b, e], :] (0 where the gate weight is 0), as the CPU's gather, mul and
// scatter-add backward.
template <class T>
void combine_rows_backward(int64_t batch, int64_t experts, int64_t d, int64_t pairs, const int64_t* sample,
                           const int64_t* flat, const int64_t* pair_of, const T* g, const T* ys, const T* gy, T* gys,
                           T* gg);

}  // namespace comet::cuda
