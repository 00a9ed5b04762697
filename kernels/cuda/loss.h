// The losses on device buffers, with the signatures and math of kernels/loss.h (each forward writes
// out[0] = alpha * sum of the terms; each backward takes scale = incoming gradient * alpha and skips null outputs),
// summed in double in an order fixed by the size: the same bits on every run, no atomics. Default stream.
// Bodies: kernels/cuda/loss_kernels.h. Test: tests/kernels/test_cuda_loss.cpp (host runs; device runs skip).
#pragma once
#include <cstdint>

namespace comet::cuda {
template <class T> void squared_error(int64_t n, T alpha, const T* pred, const T* target, const T* mask, T* out);
template <class T>
void squared_error_backward(int64_t n, T scale, const T* pred, const T* target, const T* mask, T* gp, T* gt);
// The masked MSE's count: the mask's nonzero entries (the observed targets), so that alpha = 1 / count. Waits for
// the device: the host needs the count.
template <class T> int64_t count_observed(int64_t n, const T* mask);
template <class T> void bce_with_logits(int64_t n, T alpha, const T* x, const T* t, T* out);
template <class T> void bce_with_logits_backward(int64_t n, T scale, const T* x, const T* t, T* gx, T* gt);
// labels: rows int64 device values in [0, cols) (checked by the caller, as on the CPU).
template <class T>
void cross_entropy(int64_t rows, int64_t cols, T alpha, const T* x, const int64_t* labels, T* out);
template <class T>
void cross_entropy_backward(int64_t rows, int64_t cols, T scale, const T* x, const int64_t* labels, T* gx);
}  // namespace comet::cuda
