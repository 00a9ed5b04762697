// The interface between the blocked SGEMM driver (kernels/cpu/gemm.cpp, written once) and the ISA-specific code
// it runs (kernels/cpu/sgemm_kernel_<isa>.cpp, all built from the templates of kernels/cpu/sgemm_tile.h): the
// micro-tile and cache-block sizes and the packing and tile functions of one ISA. Packed layouts: a block of op(A)
// is stored as mr-row panels, k-major (panel[p * mr + r]); a slice of op(B) as nr-column panels, k-major
// (panel[p * nr + j]), 64-byte aligned. Tests: tests/kernels/test_isa.cpp.
#pragma once
#include <cstdint>

#include "kernels/cpu/isa.h"
#include "kernels/gemm.h"

namespace comet::cpu {

struct SgemmKernel {
  Isa isa;
  int64_t mr, nr;      // micro-tile of C: mr rows x nr columns
  int64_t mc, kc, nc;  // cache blocks: rows of A, depth of k, columns of B (multiples of mr, -, nr)

  // op(A)[i0 : i0 + rows, p0 : p0 + depth] into mr-row panels at dst (panel q at dst + q * mr * depth), rows past
  // `rows` zero.
  void (*pack_a)(const GemmArgs<float>& g, int64_t i0, int64_t rows, int64_t p0, int64_t depth, float* dst);
  // nr-column panels [q0, q1) of op(B)[p0 : p0 + depth, j0 : j0 + cols] at dst (panel q at
  // dst + (q - q0) * nr * depth), columns past `cols` zero.
  void (*pack_b)(const GemmArgs<float>& g, int64_t p0, int64_t depth, int64_t j0, int64_t cols, int64_t q0,
                 int64_t q1, float* dst);
  // c = alpha * (A panel x B panel) + beta * c_in on a tile of rows <= mr, cols <= nr at c (row stride ldc), where
  // c_in is c itself (ldc_in = ldc) or a row added to every row (ldc_in = 0: a bias); beta == 0 never reads c_in. The A panel's mr rows are k-major, A(r, p) = a[p * lda + r] (lda = mr when packed, A's own lda
  // for a transposed A read in place), or with a_rows row-major, A(r, p) = a[r * lda + p] (A's rows read in place).
  // The B panel is k-major with row stride ldb: nr when packed, B's own ldb when read in place (nr valid columns
  // at every row). The tile reads only its `rows` rows of A; B read in place must hold nr columns. Each element gets
  // the same operations wherever the tile boundaries fall and whether A or B is packed or not.
  void (*tile)(int64_t depth, const float* a, int64_t lda, bool a_rows, const float* b, int64_t ldb, float alpha,
               float beta, const float* c_in, int64_t ldc_in, float* c, int64_t ldc, int64_t rows, int64_t cols);
  // dst[j * ldd + i] = src[i * lds + j] for i < rows, j < cols (C from C^T on the transposed route).
  void (*transpose)(int64_t rows, int64_t cols, const float* src, int64_t lds, float* dst, int64_t ldd);
  // The kernel for a C at most narrow->nr columns wide, or null: taller tiles of one vector, so that a narrow C
  // (an expert's few rows on the transposed route, a gate's 16 logits) keeps enough independent multiply-add chains
  // to hide their latency. Same kc, so every element gets the same operations as with this kernel.
  const SgemmKernel* narrow = nullptr;
};

// The kernel of `isa`, which this build must carry (cpu_supports(isa) or a build-only check).
const SgemmKernel& sgemm_kernel(Isa isa);

// Per-ISA definitions, one translation unit each.
const SgemmKernel& sgemm_kernel_scalar();
const SgemmKernel& sgemm_kernel_avx2();
const SgemmKernel& sgemm_kernel_avx512();

// The blocked driver: C = alpha * op(A) * op(B) + beta * C with `kernel`, threads from core/threading.h.
// Bit-identical at any thread count for a given kernel.
void blocked_sgemm(const GemmArgs<float>& g, const SgemmKernel& kernel);

}  // namespace comet::cpu
