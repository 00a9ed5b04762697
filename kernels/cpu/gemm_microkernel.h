// AVX2 + FMA micro-kernel of the blocked SGEMM in kernels/cpu/gemm.cpp: one kMR x kNR (6 x 16) tile of C,
//   C_tile = alpha * (A_panel * B_panel) + beta * C_tile   (beta == 0: C_tile is overwritten, never read),
// where A_panel is packed k-major with kMR values per k step (a[p * kMR + r]) and B_panel k-major with kNR
// values per k step (b[p * kNR + j], 32-byte aligned). Twelve ymm accumulators hold the tile; each k step
// is 2 loads of B, 6 broadcasts of A and 12 FMAs. Partial tiles at the edges of C are updated with the same
// rounding as full ones, so an element's value never depends on where the tile boundaries fall.
// Tested through cpu::gemm in tests/kernels/test_gemm.cpp.
#pragma once
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include <cmath>
#include <cstdint>

namespace comet::cpu::gemm_detail {

constexpr int64_t kMR = 6;
constexpr int64_t kNR = 16;

// out[r * ldo + j] = sum_p a[p * kMR + r] * b[p * kNR + j], or out[r * ldo + j] += that sum when `accumulate`.
// Kept out of line and free of float arguments so that the compiler gives the twelve accumulators registers of
// their own (inlined next to alpha and beta, GCC 12 spills one and the loop waits on a store-to-load round trip).
__attribute__((noinline)) inline void microkernel(int64_t kc, const float* __restrict a, const float* __restrict b,
                                                  float* __restrict out, int64_t ldo, bool accumulate) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
  __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    __m256 ar = _mm256_broadcast_ss(a + 0);
    c00 = _mm256_fmadd_ps(ar, b0, c00);
    c01 = _mm256_fmadd_ps(ar, b1, c01);
    ar = _mm256_broadcast_ss(a + 1);
    c10 = _mm256_fmadd_ps(ar, b0, c10);
    c11 = _mm256_fmadd_ps(ar, b1, c11);
    ar = _mm256_broadcast_ss(a + 2);
    c20 = _mm256_fmadd_ps(ar, b0, c20);
    c21 = _mm256_fmadd_ps(ar, b1, c21);
    ar = _mm256_broadcast_ss(a + 3);
    c30 = _mm256_fmadd_ps(ar, b0, c30);
    c31 = _mm256_fmadd_ps(ar, b1, c31);
    ar = _mm256_broadcast_ss(a + 4);
    c40 = _mm256_fmadd_ps(ar, b0, c40);
    c41 = _mm256_fmadd_ps(ar, b1, c41);
    ar = _mm256_broadcast_ss(a + 5);
    c50 = _mm256_fmadd_ps(ar, b0, c50);
    c51 = _mm256_fmadd_ps(ar, b1, c51);
    a += kMR;
    b += kNR;
  }
  const __m256 rows[kMR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  for (int r = 0; r < kMR; ++r) {
    float* o = out + r * ldo;
    _mm256_storeu_ps(o, accumulate ? _mm256_add_ps(_mm256_loadu_ps(o), rows[r][0]) : rows[r][0]);
    _mm256_storeu_ps(o + 8, accumulate ? _mm256_add_ps(_mm256_loadu_ps(o + 8), rows[r][1]) : rows[r][1]);
  }
}

// c = alpha * acc + beta * c on an mr x nr tile; beta == 0 never reads c. The vector path (full-width rows)
// and the scalar path (narrow edge tiles) round identically: one fused multiply-add, or one multiply.
inline void update(const float* acc, float alpha, float beta, float* c, int64_t ldc, int64_t mr, int64_t nr) {
  if (nr == kNR) {
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int64_t r = 0; r < mr; ++r) {
      for (int h = 0; h < kNR; h += 8) {
        float* cp = c + r * ldc + h;
        const __m256 x = _mm256_load_ps(acc + r * kNR + h);
        if (beta == 0.0f) _mm256_storeu_ps(cp, _mm256_mul_ps(va, x));
        else if (beta == 1.0f) _mm256_storeu_ps(cp, _mm256_fmadd_ps(va, x, _mm256_loadu_ps(cp)));
        else _mm256_storeu_ps(cp, _mm256_fmadd_ps(va, x, _mm256_mul_ps(vb, _mm256_loadu_ps(cp))));
      }
    }
    return;
  }
  for (int64_t r = 0; r < mr; ++r) {
    for (int64_t j = 0; j < nr; ++j) {
      float& cv = c[r * ldc + j];
      const float x = acc[r * kNR + j];
      cv = beta == 0.0f ? alpha * x : std::fma(alpha, x, beta == 1.0f ? cv : beta * cv);
    }
  }
}

// Any tile of mr <= kMR rows and nr <= kNR columns at c (row stride ldc). A full tile with alpha = 1 and
// beta = 0 or 1 is written by the micro-kernel itself (c = sum, or c + sum: the same roundings as update's
// 1 * x and fma(1, x, c)), which saves the round trip through acc that costs as much as the arithmetic when
// k is short (an expert's weight gradient over its few rows).
inline void tile(int64_t kc, const float* a, const float* b, float alpha, float beta, float* c, int64_t ldc,
                 int64_t mr, int64_t nr) {
  for (int64_t r = 0; r < mr; ++r) {  // C arrives while the k loop runs
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + nr - 1), _MM_HINT_T0);
  }
  if (mr == kMR && nr == kNR && alpha == 1.0f && (beta == 0.0f || beta == 1.0f))
    return microkernel(kc, a, b, c, ldc, beta == 1.0f);
  alignas(32) float acc[kMR * kNR];
  microkernel(kc, a, b, acc, kNR, false);
  update(acc, alpha, beta, c, ldc, mr, nr);
}

}  // namespace comet::cpu::gemm_detail
#endif
