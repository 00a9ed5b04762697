// Random draws on device buffers with the bits of the CPU's Generator (core/rng.h): the positions come from a
// Generator's reserve(), so a draw made on the device continues the same sequence as one made on the host. Default
// stream. Plain C++ (no CUDA headers). Bodies and launch math: kernels/cuda/random_kernels.h.
// Test: tests/kernels/test_cuda_random.cpp.
#pragma once
#include <cstdint>

#include "core/rng.h"

namespace comet::cuda {
// out[i] = value with probability p, else 0, for i < n (device buffer): Generator::bernoulli(t, p) scaled by value,
// bit for bit, drawn from gen's sequence (which advances as the host draw would). value 1 is the Bernoulli draw;
// 1 / (1 - p_drop) with p = 1 - p_drop is the dropout mask of ag::dropout.
template <class T>
void bernoulli(Generator& gen, int64_t n, double p, T value, T* out);
}  // namespace comet::cuda
