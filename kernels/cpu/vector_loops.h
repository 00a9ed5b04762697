// The per-ISA vector loops (kernels/cpu/isa.h) under the elementwise, reduction, row-index and max-pool kernels
// of kernels/cpu/ and the Adam update of optim/: each loop works on one contiguous run of elements, and the kernels
// around it own the threading (kernels/cpu/parallel.h), so a loop never decides how work is split. The loop
// bodies are written once (kernels/cpu/vector_loops_body.h) and compiled once per ISA with that ISA's flags
// (kernels/cpu/vector_loops_<isa>.cpp); the active ISA picks the set at run time, as for the SGEMM kernel.
// Elementwise loops round each operation as the scalar code does (no FMA contraction: -ffp-contract=off on the
// per-ISA files), so they give the same bits on every ISA; the double sums add in the vector width's lane order,
// so they are fixed for a given ISA and can differ between ISAs in the last bits of the double.
// Tests: tests/kernels/test_vector_loops.cpp.
#pragma once
#include <cstdint>

#include "kernels/cpu/isa.h"
#include "kernels/elementwise_math.h"

namespace comet::cpu {

// The scalars of one Adam step (optim/optimizer.h):
//   g' = g + l2 p;  m = b1 m + (1 - b1) g';  v = b2 v + (1 - b2) g'^2;
//   p = decay p - step m / (sqrt(v inv_bc2) + eps), step = lr / (1 - b1^t), inv_bc2 = 1 / (1 - b2^t).
template <class T>
struct AdamStep {
  T beta1, beta2, eps, step, inv_bc2, l2, decay;
};

template <class T>
struct VectorLoops {
  Isa isa;
  void (*relu)(int64_t n, const T* x, T* y);                            // y = max(x, 0)
  void (*relu_backward)(int64_t n, const T* x, const T* gy, T* gx);     // gx = x > 0 ? gy : 0
  void (*binary)(Binary op, int64_t n, const T* a, const T* b, T* c);   // c = a op b (c may be a or b)
  void (*binary_scalar)(Binary op, int64_t n, const T* a, T s, T* c);   // c = a op s (c may be a)
  void (*scale)(int64_t n, T alpha, const T* x, T* y);                  // y = alpha x (y may be x)
  void (*axpy)(int64_t n, T alpha, const T* x, T* y);                   // y += alpha x
  double (*sum)(int64_t n, const T* x);                                 // sum x, in double
  double (*dot)(int64_t n, const T* x, const T* y);                     // sum x y, in double
  void (*accumulate)(int64_t n, const T* x, double* acc);               // acc += x, in double
  T (*max)(int64_t n, const T* x);                                      // -inf when n == 0
  bool (*all_finite)(int64_t n, const T* x);                            // no inf or NaN among x
  // Bernoulli draws of `blocks` whole Philox blocks of Generator::bernoulli's stream (core/philox.h), the first at
  // sequence position `first`: out[4 b + j] = value where word j of block first + b, shifted right by 8, is below
  // threshold (bernoulli_threshold_bits), else 0.
  void (*bernoulli)(int64_t blocks, uint64_t seed, uint64_t first, uint32_t threshold, T value, T* out);
  // One Adam step on n elements (four distinct buffers).
  void (*adam)(int64_t n, const AdamStep<T>& s, T* p, const T* g, T* m, T* v);
  // One output row of a 2 x 2 max-pool over input rows `top` and `bottom` (2 ow elements each): out[o] = the first
  // maximum, in row-major order, of top[2o], top[2o + 1], bottom[2o], bottom[2o + 1]; the backward sends g[o] to
  // that element and 0 to the other three.
  void (*maxpool2x2_row)(int64_t ow, const T* top, const T* bottom, T* out);
  void (*maxpool2x2_row_backward)(int64_t ow, const T* top, const T* bottom, const T* g, T* gtop, T* gbottom);
};

// The loops of `isa`, which this build must carry (cpu_supports(isa) or a build-only check).
template <class T>
const VectorLoops<T>& vector_loops(Isa isa);

// The loops of active_isa().
template <class T>
const VectorLoops<T>& active_vector_loops() {
  return vector_loops<T>(active_isa());
}

// Per-ISA definitions, one translation unit each (float and double).
template <class T> const VectorLoops<T>& vector_loops_scalar();
template <class T> const VectorLoops<T>& vector_loops_avx2();
template <class T> const VectorLoops<T>& vector_loops_avx512();

}  // namespace comet::cpu
