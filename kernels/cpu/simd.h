// Vector types of the ISA paths (kernels/cpu/isa.h): one struct per ISA with the few operations the SGEMM tile
// code (kernels/cpu/sgemm_tile.h) and the FMA-peak benchmark need, on `width` floats at a time (loadu_first and
// storeu_first: only the first `count` floats, 1 <= count <= width, the others neither read nor written). A struct exists
// only in translation units compiled for its ISA (flags per file: cmake/CometLibrary.cmake), and everything here
// has internal linkage, so no function compiled for one ISA can be linked into another's path.
#pragma once
#include <cstdint>

#if defined(__AVX2__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace comet::cpu::simd {
namespace {

// Plain floats. fmadd rounds twice (a * b, then + c): the portable path assumes no FMA unit, and -ffp-contract=off
// on the per-ISA files (cmake/CometLibrary.cmake) keeps the compiler from fusing it.
struct ScalarVec {
  using type = float;
  static constexpr int64_t width = 1;
  static type zero() { return 0.0f; }
  static type load(const float* p) { return *p; }
  static type loadu(const float* p) { return *p; }
  static void storeu(float* p, type v) { *p = v; }
  static type loadu_first(const float* p, int64_t) { return *p; }  // width 1: the first element is all of it
  static void storeu_first(float* p, type v, int64_t) { *p = v; }
  static type set1(float x) { return x; }
  static type fmadd(type a, type b, type c) { return a * b + c; }
  static type mul(type a, type b) { return a * b; }
  static type add(type a, type b) { return a + b; }
};

#if defined(__AVX2__) && defined(__FMA__)
struct Avx2Vec {
  using type = __m256;
  static constexpr int64_t width = 8;
  static type zero() { return _mm256_setzero_ps(); }
  static type load(const float* p) { return _mm256_load_ps(p); }
  static type loadu(const float* p) { return _mm256_loadu_ps(p); }
  static void storeu(float* p, type v) { _mm256_storeu_ps(p, v); }
  static __m256i first(int64_t count) {  // lanes [0, count) set
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static type loadu_first(const float* p, int64_t count) { return _mm256_maskload_ps(p, first(count)); }
  static void storeu_first(float* p, type v, int64_t count) { _mm256_maskstore_ps(p, first(count), v); }
  static type set1(float x) { return _mm256_set1_ps(x); }
  static type fmadd(type a, type b, type c) { return _mm256_fmadd_ps(a, b, c); }
  static type mul(type a, type b) { return _mm256_mul_ps(a, b); }
  static type add(type a, type b) { return _mm256_add_ps(a, b); }
};
#endif

#if defined(__AVX512F__)
struct Avx512Vec {
  using type = __m512;
  static constexpr int64_t width = 16;
  static type zero() { return _mm512_setzero_ps(); }
  static type load(const float* p) { return _mm512_load_ps(p); }
  static type loadu(const float* p) { return _mm512_loadu_ps(p); }
  static void storeu(float* p, type v) { _mm512_storeu_ps(p, v); }
  static __mmask16 first(int64_t count) { return static_cast<__mmask16>((1u << count) - 1); }  // lanes [0, count)
  static type loadu_first(const float* p, int64_t count) { return _mm512_maskz_loadu_ps(first(count), p); }
  static void storeu_first(float* p, type v, int64_t count) { _mm512_mask_storeu_ps(p, first(count), v); }
  static type set1(float x) { return _mm512_set1_ps(x); }
  static type fmadd(type a, type b, type c) { return _mm512_fmadd_ps(a, b, c); }
  static type mul(type a, type b) { return _mm512_mul_ps(a, b); }
  static type add(type a, type b) { return _mm512_add_ps(a, b); }
};
#endif

}  // namespace
}  // namespace comet::cpu::simd
