// The loops of kernels/cpu/vector_loops.h, written once as plain OpenMP SIMD loops for the compiler to vectorise
// with the flags of the translation unit that includes this header: kernels/cpu/vector_loops_<isa>.cpp, one per
// ISA (cmake/CometLibrary.cmake sets the flags). Everything here has internal linkage, and nothing here calls a
// function of external linkage that could be compiled for one ISA and linked into another's path (hence no
// std::max, and the builtin square root rather than std::sqrt, which an unoptimised build would call). The switch
// over an operation sits outside each loop, so every loop body vectorises.
// COMET_DEFINE_VECTOR_LOOPS(isa) defines vector_loops_<isa>() in the including file.
// Tests: tests/kernels/test_vector_loops.cpp.
#pragma once
#include <cmath>  // INFINITY
#include <cstdint>

#include "core/mutation.h"
#include "core/philox.h"
#include "kernels/cpu/vector_loops.h"

namespace comet::cpu::vector_loops_body {
namespace {

template <class T>
void relu(int64_t n, const T* x, T* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
}

template <class T>
void relu_backward(int64_t n, const T* x, const T* gy, T* gx) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) gx[i] = x[i] > T(0) ? gy[i] : T(0);
}

// c[j] = a[j] op b(j).
template <class T, class B>
void binary_loop(Binary op, int64_t n, const T* a, B b, T* c) {
  switch (op) {
    case Binary::Add:
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) c[j] = a[j] + b(j);
      break;
    case Binary::Sub:
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) c[j] = a[j] - b(j);
      break;
    case Binary::Mul:
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) c[j] = a[j] * b(j);
      break;
    case Binary::Div:
#pragma omp simd
      for (int64_t j = 0; j < n; ++j) c[j] = a[j] / b(j);
      break;
  }
}

template <class T>
void binary(Binary op, int64_t n, const T* a, const T* b, T* c) {
  binary_loop(op, n, a, [b](int64_t j) { return b[j]; }, c);
}

template <class T>
void binary_scalar(Binary op, int64_t n, const T* a, T s, T* c) {
  binary_loop(op, n, a, [s](int64_t) { return s; }, c);
}

template <class T>
void scale(int64_t n, T alpha, const T* x, T* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = alpha * x[i];
}

template <class T>
void axpy(int64_t n, T alpha, const T* x, T* y) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

template <class T>
double sum(int64_t n, const T* x) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += double(x[i]);
  return s;
}

template <class T>
double dot(int64_t n, const T* x, const T* y) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += double(x[i]) * double(y[i]);
  return s;
}

template <class T>
void accumulate(int64_t n, const T* x, double* acc) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) acc[i] += double(x[i]);
}

template <class T>
T max(int64_t n, const T* x) {
  T m = -INFINITY;
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// x * 0 is 0 for a finite x and NaN for inf or NaN, so the sum is 0 exactly when every element is finite; a sum
// rather than an early exit, so that the loop vectorises. The same answer as core's all_finite (core/tensor.h, which
// tests exponent bits on whole tensors at the baseline ISA), for runs checked in a hot loop (the fused update's
// pieces).
template <class T>
bool all_finite(int64_t n, const T* x) {
  T z = T(0);
#pragma omp simd reduction(+ : z)
  for (int64_t i = 0; i < n; ++i) z += x[i] * T(0);
  return z == T(0);
}

// A type of internal linkage: philox_rounds<ThisIsa> is this translation unit's own copy, compiled for its ISA.
struct ThisIsa {};

// Philox over independent counters, one per loop iteration, so that the rounds vectorise across blocks.
template <class T>
void bernoulli(int64_t blocks, uint64_t seed, uint64_t first, uint32_t threshold, T value, T* out) {
  const uint64_t stream = static_cast<uint64_t>(PhiloxStream::Bernoulli);
  const int swap = COMET_MUTANT(bernoulli_words_swapped) ? 1 : 0;
#pragma omp simd
  for (int64_t b = 0; b < blocks; ++b) {
    const uint64_t counter = first + static_cast<uint64_t>(b);
    uint32_t w[4] = {static_cast<uint32_t>(counter), static_cast<uint32_t>(counter >> 32),
                     static_cast<uint32_t>(stream), static_cast<uint32_t>(stream >> 32)};
    philox_rounds<ThisIsa>(w[0], w[1], w[2], w[3], seed, 10);
    // Four statements with constant word indices (not a loop over j), so that the words stay in registers.
    out[4 * b] = (w[0 ^ swap] >> 8) < threshold ? value : T(0);
    out[4 * b + 1] = (w[1 ^ swap] >> 8) < threshold ? value : T(0);
    out[4 * b + 2] = (w[2 ^ swap] >> 8) < threshold ? value : T(0);
    out[4 * b + 3] = (w[3 ^ swap] >> 8) < threshold ? value : T(0);
  }
}

template <class T>
T square_root(T x) {
  if constexpr (sizeof(T) == sizeof(float)) return __builtin_sqrtf(x);
  else return __builtin_sqrt(x);
}

// Four distinct buffers (restrict) and no branches: the loop vectorises (sqrt and divide included).
template <class T>
void adam(int64_t n, const AdamStep<T>& s, T* __restrict p, const T* __restrict g, T* __restrict m,
          T* __restrict v) {
  const T b1 = s.beta1, b2 = s.beta2, eps = s.eps, step = s.step, inv_bc2 = s.inv_bc2, l2 = s.l2, decay = s.decay;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const T gi = g[i] + l2 * p[i];
    m[i] = b1 * m[i] + (T(1) - b1) * gi;
    v[i] = b2 * v[i] + (T(1) - b2) * gi * gi;
    p[i] = decay * p[i] - step * m[i] / (square_root(v[i] * inv_bc2) + eps);
  }
}

// The window's first maximum as a chain of selects: the reference's argmax order, without branches (on data that
// is not sorted they mispredict about half the time), so the loop vectorises.
template <class T>
void maxpool2x2_row(int64_t ow, const T* top, const T* bottom, T* out) {
#pragma omp simd
  for (int64_t o = 0; o < ow; ++o) {
    T m = top[2 * o];
    m = top[2 * o + 1] > m ? top[2 * o + 1] : m;
    m = bottom[2 * o] > m ? bottom[2 * o] : m;
    m = bottom[2 * o + 1] > m ? bottom[2 * o + 1] : m;
    out[o] = m;
  }
}

// The same select chain, each step moving the gradient to the new winner by selects on single comparisons, as the
// forward's: kept as an index (or as masks combined with && or &), the winner made GCC 12 compile the stores as
// branches, which mispredict on most windows, and it did not vectorise the loop (the backward took 10% of a
// MultiFashionMNIST epoch against 1% for the forward).
template <class T>
void maxpool2x2_row_backward(int64_t ow, const T* top, const T* bottom, const T* g, T* gtop, T* gbottom) {
  const bool ties_to_last = COMET_MUTANT(maxpool_last_max);
#pragma omp simd
  for (int64_t o = 0; o < ow; ++o) {
    const T a = top[2 * o], b = top[2 * o + 1], c = bottom[2 * o], d = bottom[2 * o + 1], gv = g[o], zero = T(0);
    const bool c1 = b > a;
    const T m1 = c1 ? b : a;
    T g0 = c1 ? zero : gv, g1 = c1 ? gv : zero;
    const bool c2 = c > m1;
    const T m2 = c2 ? c : m1;
    g0 = c2 ? zero : g0;
    g1 = c2 ? zero : g1;
    T g2 = c2 ? gv : zero;
    const bool c3 = ties_to_last ? d >= m2 : d > m2;
    gtop[2 * o] = c3 ? zero : g0;
    gtop[2 * o + 1] = c3 ? zero : g1;
    gbottom[2 * o] = c3 ? zero : g2;
    gbottom[2 * o + 1] = c3 ? gv : zero;
  }
}

template <class T>
VectorLoops<T> make_vector_loops(Isa isa) {
  return {isa,    relu<T>, relu_backward<T>, binary<T>,     binary_scalar<T>, scale<T>,
          axpy<T>, sum<T>, dot<T>,           accumulate<T>, max<T>,           all_finite<T>, bernoulli<T>, adam<T>,
          maxpool2x2_row<T>, maxpool2x2_row_backward<T>};
}

}  // namespace
}  // namespace comet::cpu::vector_loops_body

#define COMET_DEFINE_VECTOR_LOOPS(ISA)                                                                \
  namespace comet::cpu {                                                                              \
  template <class T>                                                                                  \
  const VectorLoops<T>& vector_loops_##ISA() {                                                        \
    static const VectorLoops<T> loops = vector_loops_body::make_vector_loops<T>(Isa::ISA);            \
    return loops;                                                                                     \
  }                                                                                                   \
  template const VectorLoops<float>& vector_loops_##ISA<float>();                                     \
  template const VectorLoops<double>& vector_loops_##ISA<double>();                                   \
  }
