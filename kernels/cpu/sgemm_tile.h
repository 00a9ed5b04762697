// The ISA-specific half of the blocked SGEMM, written once as templates over a vector type V of
// kernels/cpu/simd.h and the micro-tile MR x (NV vectors): packing, the micro-kernel and the tile update.
// make_sgemm_kernel<V, MR, NV>() bundles them into the SgemmKernel (kernels/cpu/sgemm_kernel.h) that the driver
// in kernels/cpu/gemm.cpp runs. Included only by kernels/cpu/sgemm_kernel_<isa>.cpp, each compiled for its ISA;
// everything here has internal linkage, so each of those files gets its own copy built with its own flags.
// Tests: tests/kernels/test_isa.cpp.
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>

#include "kernels/cpu/simd.h"
#include "kernels/cpu/sgemm_kernel.h"

namespace comet::cpu::sgemm_tile {
namespace {

// Cache blocks, for the smallest caches among the CPUs this runs on (AMD Zen 3/4, Intel Skylake-X: 32 KiB L1d,
// 512 KiB to 1 MiB L2 per core; Zen 5 and Ice Lake or later have 48 KiB L1d and more L2):
// - kc, the depth of a k slice, is set per ISA by measurement: the C tile is read and written once per slice, so
//   deeper is better until the kc x NR panel of B, which every A panel of a block passes over, falls out of
//   the cache level that can feed the FMAs (AVX2: 256 x 16 floats = 16 KiB, in L1; AVX-512: 384 x 64 = 96 KiB,
//   in L2, which serves its 4 vector loads per 24 FMAs);
// - the mc x kc block of A stays in L2: at most 144 KiB, a quarter of Zen 3's L2 (the B panel streams through it
//   too);
// - the kc x nc slice of B stays in the L3: at most 4 MiB per thread.
constexpr int64_t kABlockFloats = 144 * 1024 / 4, kBSliceFloats = 4 * 1024 * 1024 / 4;

// See SgemmKernel::pack_a.
template <int64_t MR>
void pack_a(const GemmArgs<float>& g, int64_t i0, int64_t rows, int64_t p0, int64_t depth, float* dst) {
  for (int64_t ir = 0; ir < rows; ir += MR, dst += MR * depth) {
    const int64_t mr = std::min(MR, rows - ir);
    if (g.trans_a) {  // op(A)(i, p) = a[p * lda + i]: MR contiguous values per p
      const float* src = g.a + p0 * g.lda + i0 + ir;
      for (int64_t p = 0; p < depth; ++p, src += g.lda) {
        for (int64_t r = 0; r < mr; ++r) dst[p * MR + r] = src[r];
        for (int64_t r = mr; r < MR; ++r) dst[p * MR + r] = 0.0f;
      }
    } else {  // op(A)(i, p) = a[i * lda + p]: MR row streams read side by side, dst written in order (row by
              // row, every store strided by MR: 6% of a 2048-cube GEMM's time on a Xeon, now 2-3%)
      const float* src[MR];
      for (int64_t r = 0; r < MR; ++r) src[r] = g.a + (i0 + ir + std::min(r, mr - 1)) * g.lda + p0;
      if (mr == MR) {
        for (int64_t p = 0; p < depth; ++p)
#pragma GCC unroll 16
          for (int64_t r = 0; r < MR; ++r) dst[p * MR + r] = src[r][p];
      } else {
        for (int64_t p = 0; p < depth; ++p)
          for (int64_t r = 0; r < MR; ++r) dst[p * MR + r] = r < mr ? src[r][p] : 0.0f;
      }
    }
  }
}

#if defined(__AVX2__)
// The first two stages of a register transpose, the same on 256- and 512-bit vectors (their instructions work per
// 128-bit lane): for every group of 4 rows r[4q..4q+3], lane L of r[4q + c] then holds column 4L + c of those rows.
template <class T, class Unpack, class Shuffle>
inline void transpose_4x4_lanes(T* r, int n, Unpack unpack, Shuffle shuffle) {
  T t[16];
  for (int i = 0; i < n; i += 2) {
    t[i] = unpack(r[i], r[i + 1], false);
    t[i + 1] = unpack(r[i], r[i + 1], true);
  }
  for (int i = 0; i < n; i += 4) {
    r[i] = shuffle(t[i], t[i + 2], false);
    r[i + 1] = shuffle(t[i], t[i + 2], true);
    r[i + 2] = shuffle(t[i + 1], t[i + 3], false);
    r[i + 3] = shuffle(t[i + 1], t[i + 3], true);
  }
}

// Transposes the 8 x 8 block r[0..7] (8 floats each) in registers: r[c] then holds column c.
inline void transpose8(__m256 r[8]) {
  transpose_4x4_lanes(
      r, 8, [](__m256 a, __m256 b, bool hi) { return hi ? _mm256_unpackhi_ps(a, b) : _mm256_unpacklo_ps(a, b); },
      [](__m256 a, __m256 b, bool hi) { return hi ? _mm256_shuffle_ps(a, b, 0xEE) : _mm256_shuffle_ps(a, b, 0x44); });
  __m256 u[8];
  for (int i = 0; i < 8; ++i) u[i] = r[i];
  for (int i = 0; i < 4; ++i) {
    r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
    r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
  }
}
#endif

#if defined(__AVX512F__)
// The AVX-512 shuffles in their masked form with every lane selected: the same result, but GCC 12's unmasked forms
// start from _mm512_undefined_ps() and warn (-Wmaybe-uninitialized, GCC bug 105593) once inlined here.
constexpr __mmask16 kAll16 = 0xFFFF;
template <int Imm>
inline __m512 lanes_shuffle(__m512 a, __m512 b) { return _mm512_mask_shuffle_f32x4(a, kAll16, a, b, Imm); }

// Transposes the 16 x 16 block r[0..15] (16 floats each) in registers: r[c] then holds column c. After the lane
// stages, column 4L + c is lane L of r[c], r[4 + c], r[8 + c] and r[12 + c]: a 4 x 4 transpose of 128-bit lanes.
inline void transpose16(__m512 r[16]) {
  transpose_4x4_lanes(
      r, 16,
      [](__m512 a, __m512 b, bool hi) {
        return hi ? _mm512_mask_unpackhi_ps(a, kAll16, a, b) : _mm512_mask_unpacklo_ps(a, kAll16, a, b);
      },
      [](__m512 a, __m512 b, bool hi) {
        return hi ? _mm512_mask_shuffle_ps(a, kAll16, a, b, 0xEE) : _mm512_mask_shuffle_ps(a, kAll16, a, b, 0x44);
      });
  __m512 u[16];
  for (int i = 0; i < 16; ++i) u[i] = r[i];
  for (int c = 0; c < 4; ++c) {
    const __m512 lo01 = lanes_shuffle<0x44>(u[c], u[4 + c]), hi01 = lanes_shuffle<0xEE>(u[c], u[4 + c]);
    const __m512 lo23 = lanes_shuffle<0x44>(u[8 + c], u[12 + c]), hi23 = lanes_shuffle<0xEE>(u[8 + c], u[12 + c]);
    r[c] = lanes_shuffle<0x88>(lo01, lo23);
    r[4 + c] = lanes_shuffle<0xDD>(lo01, lo23);
    r[8 + c] = lanes_shuffle<0x88>(hi01, hi23);
    r[12 + c] = lanes_shuffle<0xDD>(hi01, hi23);
  }
}
#endif

// The register transpose for V's width: transpose16 (AVX-512), transpose8 (AVX2), nothing for one float.
template <class V>
inline void transpose_registers(typename V::type* r) {
#if defined(__AVX512F__)
  if constexpr (V::width == 16) return transpose16(r);
#endif
#if defined(__AVX2__)
  if constexpr (V::width == 8) return transpose8(r);
#endif
  static_assert(V::width == 1 || V::width == 8 || V::width == 16, "no register transpose for this width");
  (void)r;
}

// One group of kGroup columns of a transposed panel, whole kGroup x kGroup blocks through `block` (loads of kGroup
// rows of B, a register transpose, aligned stores), the k tail element by element.
template <int64_t NR, int64_t kGroup, class Block>
void pack_transposed_group(const float* const* rows, int64_t depth, float* d, Block block) {
  int64_t p = 0;
  for (; p + kGroup <= depth; p += kGroup) block(rows, p, d + p * NR);
  for (; p < depth; ++p)
    for (int64_t r = 0; r < kGroup; ++r) d[p * NR + r] = rows[r] ? rows[r][p] : 0.0f;
}

// The block function of pack_transposed_group for vectors V: from each of V::width rows of B (zeros for a missing
// row) V::width floats into registers, transposed there, and each column stored into its row of the panel.
template <class V, int64_t NR>
auto transposing_block() {
  return [](const float* const* src, int64_t p, float* out) {
    constexpr int64_t W = V::width;
    typename V::type blk[W];
    for (int64_t r = 0; r < W; ++r) blk[r] = src[r] ? V::loadu(src[r] + p) : V::zero();
    transpose_registers<V>(blk);
    for (int64_t c = 0; c < W; ++c) V::storeu(out + c * NR, blk[c]);
  };
}

// op(B) = B^T for one panel: d[p * NR + j] = b[(jq + j) * ldb + p0 + p] for j < cols, zero past cols. Groups of 16
// columns go through transpose16 with AVX-512, of 8 through transpose8 with AVX2 (one pass over contiguous rows of
// B, vector stores); the scalar path transposes element by element throughout.
template <int64_t NR>
void pack_b_panel_transposed(const GemmArgs<float>& g, int64_t p0, int64_t depth, int64_t jq, int64_t cols,
                             float* d) {
  static_assert(NR % 8 == 0 || NR < 8, "panel width: whole 8-column groups, or narrower than one");
#if defined(__AVX512F__)
  constexpr int64_t kGroup = NR % 16 == 0 ? 16 : NR < 8 ? NR : 8;
#else
  constexpr int64_t kGroup = NR < 8 ? NR : 8;
#endif
  for (int64_t h = 0; h < NR; h += kGroup) {
    const float* rows[kGroup];
    for (int64_t r = 0; r < kGroup; ++r) rows[r] = h + r < cols ? g.b + (jq + h + r) * g.ldb + p0 : nullptr;
    float* dh = d + h;
#if defined(__AVX512F__)
    if constexpr (kGroup == 16) {
      pack_transposed_group<NR, 16>(rows, depth, dh, transposing_block<simd::Avx512Vec, NR>());
      continue;
    }
#endif
#if defined(__AVX2__)
    if constexpr (kGroup == 8) {
      pack_transposed_group<NR, 8>(rows, depth, dh, transposing_block<simd::Avx2Vec, NR>());
      continue;
    }
#endif
    pack_transposed_group<NR, kGroup>(rows, depth, dh, [](const float* const* src, int64_t p, float* out) {
      for (int64_t c = 0; c < kGroup; ++c)
        for (int64_t r = 0; r < kGroup; ++r) out[c * NR + r] = src[r] ? src[r][p + c] : 0.0f;
    });
  }
}

// See SgemmKernel::pack_b. Untransposed B is read row by row across all the panels, so the reads stream through
// memory (panel by panel, they would stride by ldb and wait on every cache line).
template <int64_t NR>
void pack_b(const GemmArgs<float>& g, int64_t p0, int64_t depth, int64_t j0, int64_t cols, int64_t q0, int64_t q1,
            float* dst) {
  if (g.trans_b) {
    for (int64_t q = q0; q < q1; ++q) {
      const int64_t jq = j0 + q * NR;
      pack_b_panel_transposed<NR>(g, p0, depth, jq, std::min(NR, j0 + cols - jq), dst + (q - q0) * NR * depth);
    }
    return;
  }
  for (int64_t p = 0; p < depth; ++p) {
    const float* src = g.b + (p0 + p) * g.ldb + j0;
    for (int64_t q = q0; q < q1; ++q) {
      float* d = dst + (q - q0) * NR * depth + p * NR;
      const int64_t nr = std::min(NR, cols - q * NR);
      for (int64_t j = 0; j < nr; ++j) d[j] = src[q * NR + j];
      for (int64_t j = nr; j < NR; ++j) d[j] = 0.0f;
    }
  }
}

// See SgemmKernel::transpose. Whole W x W blocks (W = V::width) go through registers: W row loads, a register
// transpose, W row stores. Element by element, a C^T of 64 columns (a full expert's input gradient) took a fifth of
// its GEMM's time (10.6 of 50 us, AMD EPYC Zen 5, one thread): its column reads stride by 256 bytes and meet in a
// few cache sets.
template <class V>
void transpose(int64_t rows, int64_t cols, const float* src, int64_t lds, float* dst, int64_t ldd) {
  constexpr int64_t W = V::width;
  const int64_t rows_w = rows / W * W, cols_w = cols / W * W;
  for (int64_t i = 0; i < rows_w; i += W)
    for (int64_t j = 0; j < cols_w; j += W) {
      typename V::type block[W];
      for (int64_t r = 0; r < W; ++r) block[r] = V::loadu(src + (i + r) * lds + j);
      transpose_registers<V>(block);
      for (int64_t c = 0; c < W; ++c) V::storeu(dst + (j + c) * ldd + i, block[c]);
    }
  // The edges, row by row of dst: its rows past cols_w whole, the others past rows_w.
  for (int64_t j = 0; j < cols; ++j)
    for (int64_t i = j < cols_w ? rows_w : 0; i < rows; ++i) dst[j * ldd + i] = src[i * lds + j];
}

// out[r * ldo + j] = sum_p A(r, p) * b[p * ldb + j] over a full MR x NR tile, or in[r * ldi + j] + that sum when
// `in` is set (in = out, ldi = ldo: accumulate; ldi = 0: one row added to every row), for the first `last` columns
// of the last vector and all of the others (masked loads and stores: no column past them is read or written), with
// A(r, p) =
// a[p * lda + r] (k-major: a packed panel, lda = MR, or a transposed A read in place) or, when ARows,
// a[r * lda + p] (A's rows read in place). The MR x NV accumulators live in registers (the loops
// over them are unrolled completely); each k step is NV loads of B, MR broadcasts of A and MR * NV fused
// multiply-adds, so the A layout changes only the broadcasts' addresses. Kept out of line and free of float
// arguments so that the compiler gives the accumulators registers of their own (inlined next to alpha and beta,
// GCC 12 spilled one and the loop waited on a store-to-load round trip).
template <class V, int64_t MR, int64_t NV, bool ARows>
__attribute__((noinline)) void microkernel(int64_t depth, const float* __restrict a, int64_t lda,
                                           const float* __restrict b, int64_t ldb, const float* in, int64_t ldi,
                                           float* out, int64_t ldo, int64_t last) {
  using T = typename V::type;
  constexpr int64_t W = V::width;
  T acc[MR][NV];
#pragma GCC unroll 16
  for (int64_t r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int64_t v = 0; v < NV; ++v) acc[r][v] = V::zero();
#pragma GCC unroll 2
  for (int64_t p = 0; p < depth; ++p, a += ARows ? 1 : lda, b += ldb) {
    T bv[NV];
#pragma GCC unroll 8
    for (int64_t v = 0; v < NV; ++v) bv[v] = V::loadu(b + v * W);  // B read in place need not be aligned
#pragma GCC unroll 16
    for (int64_t r = 0; r < MR; ++r) {
      const T ar = V::set1(a[ARows ? r * lda : r]);
#pragma GCC unroll 8
      for (int64_t v = 0; v < NV; ++v) acc[r][v] = V::fmadd(ar, bv[v], acc[r][v]);
    }
  }
#pragma GCC unroll 16
  for (int64_t r = 0; r < MR; ++r)
#pragma GCC unroll 8
    for (int64_t v = 0; v < NV; ++v) {
      float* o = out + r * ldo + v * W;
      const float* i = in ? in + r * ldi + v * W : nullptr;
      if (v < NV - 1 || last == W) {
        V::storeu(o, in ? V::add(V::loadu(i), acc[r][v]) : acc[r][v]);
      } else {
        V::storeu_first(o, in ? V::add(V::loadu_first(i, last), acc[r][v]) : acc[r][v], last);
      }
    }
}

// c = alpha * acc + beta * c_in on the first `rows` rows and `nv` vectors of an MR x NR tile (acc: NR floats per
// row, aligned; c_in at row stride ldc_in, see SgemmKernel::tile); beta == 0 never reads c_in.
template <class V, int64_t MR, int64_t NV>
void update(const float* acc, float alpha, float beta, const float* c_in, int64_t ldc_in, float* c, int64_t ldc,
            int64_t rows, int64_t nv) {
  constexpr int64_t W = V::width, NR = NV * W;
  const typename V::type va = V::set1(alpha), vb = V::set1(beta);
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t v = 0; v < nv; ++v) {
      float* cp = c + r * ldc + v * W;
      const float* cin = c_in + r * ldc_in + v * W;
      const typename V::type x = V::load(acc + r * NR + v * W);
      if (beta == 0.0f) V::storeu(cp, V::mul(va, x));
      else if (beta == 1.0f) V::storeu(cp, V::fmadd(va, x, V::loadu(cin)));
      else V::storeu(cp, V::fmadd(va, x, V::mul(vb, V::loadu(cin))));
    }
  }
}

// The micro-kernel for A's layout (see SgemmKernel::tile) over `rows` <= MR rows and `nv` <= NV vectors of
// columns: a kernel with exactly that many accumulators, chosen from a table (index (rows - 1) NV + nv - 1), so
// that a short tile (an expert's last rows; a panel past the end of a narrow C, e.g. the 25 columns of a 5 x 5
// convolution's weight gradient) computes neither rows nor vectors that do not exist. Each element gets the same
// operations at any tile size.
template <class V, int64_t MR, int64_t NV, bool ARows, size_t... I>
void multiply_tile(std::index_sequence<I...>, int64_t rows, int64_t nv, int64_t depth, const float* a, int64_t lda,
                   const float* b, int64_t ldb, const float* in, int64_t ldi, float* out, int64_t ldo, int64_t last) {
  using Kernel = void (*)(int64_t, const float*, int64_t, const float*, int64_t, const float*, int64_t, float*,
                          int64_t, int64_t);
  static constexpr Kernel kernels[] = {
      &microkernel<V, static_cast<int64_t>(I) / NV + 1, static_cast<int64_t>(I) % NV + 1, ARows>...};
  kernels[(rows - 1) * NV + nv - 1](depth, a, lda, b, ldb, in, ldi, out, ldo, last);
}

template <class V, int64_t MR, int64_t NV>
void multiply(int64_t rows, int64_t nv, int64_t depth, const float* a, int64_t lda, bool a_rows, const float* b,
              int64_t ldb, const float* in, int64_t ldi, float* out, int64_t ldo, int64_t last = V::width) {
  constexpr auto sizes = std::make_index_sequence<static_cast<size_t>(MR * NV)>();
  if (a_rows) return multiply_tile<V, MR, NV, true>(sizes, rows, nv, depth, a, lda, b, ldb, in, ldi, out, ldo, last);
  multiply_tile<V, MR, NV, false>(sizes, rows, nv, depth, a, lda, b, ldb, in, ldi, out, ldo, last);
}

// See SgemmKernel::tile. A tile with alpha = 1 and beta = 0 or 1 is written by the micro-kernel of its size itself
// (c = sum, or c_in + sum: the same roundings as update's 1 * x and fmadd(1, x, c_in)), its last vector through
// masked loads and stores when the columns end inside it. That saves the round trip through acc, which costs as much
// as the arithmetic when k is short (an expert's weight gradient over its few rows), and for a last vector partly
// filled (an expert's 20 rows on the transposed route, a COMET gate's 126 node logits) the copy of the edge element by
// element. Other tiles are updated through a full-size copy, so their elements get exactly a full tile's operations.
template <class V, int64_t MR, int64_t NV>
void tile(int64_t depth, const float* a, int64_t lda, bool a_rows, const float* b, int64_t ldb, float alpha,
          float beta, const float* c_in, int64_t ldc_in, float* c, int64_t ldc, int64_t rows, int64_t cols) {
  constexpr int64_t W = V::width, NR = NV * W;
  for (int64_t r = 0; r < rows; ++r) {  // C's cache lines arrive while the k loop runs
    for (int64_t j = 0; j < cols; j += 16) __builtin_prefetch(c + r * ldc + j);
    __builtin_prefetch(c + r * ldc + cols - 1);
  }
  const int64_t nv = (cols + W - 1) / W;  // the vectors that hold the tile's columns
  if (alpha == 1.0f && (beta == 0.0f || beta == 1.0f))
    return multiply<V, MR, NV>(rows, nv, depth, a, lda, a_rows, b, ldb, beta == 1.0f ? c_in : nullptr, ldc_in, c, ldc,
                               cols - (nv - 1) * W);
  alignas(64) float acc[MR * NR];
  multiply<V, MR, NV>(rows, nv, depth, a, lda, a_rows, b, ldb, nullptr, 0, acc, NR);
  if (cols == nv * W) return update<V, MR, NV>(acc, alpha, beta, c_in, ldc_in, c, ldc, rows, nv);
  alignas(64) float edge[MR * NR] = {};
  for (int64_t r = 0; r < rows && beta != 0.0f; ++r)
    for (int64_t j = 0; j < cols; ++j) edge[r * NR + j] = c_in[r * ldc_in + j];
  update<V, MR, NV>(acc, alpha, beta, edge, NR, edge, NR, rows, nv);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) c[r * ldc + j] = edge[r * NR + j];
}

// The kernel for vector type V with an MR x (NV vectors) micro-tile and k blocks of `kc`.
template <class V, int64_t MR, int64_t NV>
SgemmKernel make_sgemm_kernel(Isa isa, int64_t kc, const SgemmKernel* narrow = nullptr) {
  constexpr int64_t NR = NV * V::width;
  const int64_t mc = std::max(MR, kABlockFloats / kc / MR * MR), nc = std::max(NR, kBSliceFloats / kc / NR * NR);
  return SgemmKernel{isa, MR, NR, mc, kc, nc, &pack_a<MR>, &pack_b<NR>, &tile<V, MR, NV>, &transpose<V>, narrow};
}

}  // namespace
}  // namespace comet::cpu::sgemm_tile
