// Random draws into CPU buffers with the bits of Generator's draws (core/rng.h), on the active ISA's vector loops:
// the CPU twin of kernels/cuda/random.h. Generator::bernoulli is the scalar reference these must equal.
// Test: tests/kernels/test_cpu_random.cpp.
#pragma once
#include <cstdint>

#include "core/rng.h"

namespace comet::cpu {
// out[i] = value with probability p, else 0, for i < n: Generator::bernoulli(t, p) scaled by value, bit for bit,
// drawn from gen's sequence (which advances as Generator::bernoulli would). value 1 / (1 - p_drop) with
// p = 1 - p_drop is the dropout mask of ag::dropout.
template <class T>
void bernoulli(Generator& gen, int64_t n, double p, T value, T* out);
}  // namespace comet::cpu
