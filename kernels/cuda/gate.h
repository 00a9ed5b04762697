// The gate kernels on device buffers: the Top-k gate's selection and COMET's tree gate (leaf probabilities of
// the smooth-stepped node activations, the joint softmax with that prior), forward and backward, with the
// signatures and row math of kernels/gate.h (the smooth-step itself: kernels/cuda/elementwise.h). Default stream.
// Plain C++ (no CUDA headers). Bodies and launch math: kernels/cuda/gate_kernels.h.
// Test: tests/kernels/test_cuda_gate.cpp (host runs of the bodies; device runs skip without a GPU).
#pragma once
#include <cstdint>

#include "kernels/gate_math.h"

namespace comet::cuda {
// index [rows, k] (device int64): r * n + e for the k largest logits e of each row of h [rows, n], experts
// ascending, a tie going to the lower expert (the Top-k gate's rule); 1 <= k <= n.
template <class T> void top_k(int64_t rows, int64_t n, int64_t k, const T* h, int64_t* index);
// As cpu::tree_probs / cpu::tree_probs_backward; the tree is on the host, its arrays are copied to the device.
template <class T> void tree_probs(const RoutingTree& tree, int64_t rows, const T* s, T* p);
template <class T> void tree_probs_backward(const RoutingTree& tree, int64_t rows, const T* s, const T* gp, T* gs);
// As cpu::prior_softmax / cpu::prior_softmax_backward (null ga or gp skipped).
template <class T> void prior_softmax(int64_t rows, int64_t cols, const T* a, const T* p, T* w);
template <class T>
void prior_softmax_backward(int64_t rows, int64_t cols, const T* a, const T* p, const T* w, const T* g, T* ga, T* gp);
}  // namespace comet::cuda
