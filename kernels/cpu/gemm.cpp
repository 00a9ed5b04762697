// Fast CPU GEMM on row-major buffers (signature and alpha/beta semantics in kernels/gemm.h).
// float: a GotoBLAS/BLIS-style blocked GEMM, this file's driver running the kernel of the active ISA
// (kernels/cpu/isa.h; kernels/cpu/sgemm_kernel.h: micro-tile mr x nr, blocks mc, kc, nc, packing and tile
// functions). Each thread owns a share of C's tiles (a run of rows, or of columns when C is short). For each
// nc-wide column block and each kc-deep slice of k it packs the op(B)[kc x nc] panels it needs into nr-wide
// k-major panels, then mc-row blocks of op(A) into mr-row panels, and runs the kernel's tile function over its
// tiles. Small operands are read in place instead of packed (kInPlaceRows, kInPlacePanels): the micro-kernel
// takes their strides. A short A times a transposed B runs as C^T = B A^T (transposed_sgemm), which packs the short
// operand. Packing buffers are thread-local and only grow (no allocation or page fault per call).
// Determinism: for a given kernel the tile grid and the k slices depend only on (m, n, k), every tile is computed
// by one thread and an element's k order is fixed (slices in order, k ascending within a slice), so the result
// is bit-identical at any thread count. Different ISAs round differently (tile shapes, k blocks, FMA or not).
// double: Eigen's product (single-threaded Eigen) over fixed row blocks of C, threaded by parallel_for (also
// bit-identical at any thread count).
// Tests: tests/kernels/test_gemm.cpp, tests/kernels/test_isa.cpp; benchmark: bench/bench_gemm.cpp.

#include <Eigen/Core>
#include <algorithm>
#include <cstdlib>
#include <type_traits>

#include "core/error.h"
#include "core/mutation.h"
#include "core/threading.h"
#include "kernels/cpu/isa_pick.h"
#include "kernels/cpu/parallel.h"
#include "kernels/cpu/sgemm_kernel.h"
#include "kernels/gemm.h"

namespace comet::cpu {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Map = Eigen::Map<Mat<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using CMap = Eigen::Map<const Mat<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

// Eigen path: C rows [r0, r1) of the product.
template <class T>
void eigen_rows(const GemmArgs<T>& g, int64_t r0, int64_t r1) {
  const int64_t rows = r1 - r0;
  Map<T> c(g.c + r0 * g.ldc, rows, g.n, Eigen::OuterStride<>(g.ldc));
  if (g.row_bias) c.rowwise() = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(g.row_bias, g.n);
  else if (g.beta == T(0)) c.setZero();
  else if (g.beta != T(1)) c *= g.beta;
  if (g.k == 0) return;
  const T* a0 = g.trans_a ? g.a + r0 : g.a + r0 * g.lda;
  auto run = [&](const auto& a) {
    if (g.trans_b) c.noalias() += g.alpha * a * CMap<T>(g.b, g.n, g.k, Eigen::OuterStride<>(g.ldb)).transpose();
    else c.noalias() += g.alpha * a * CMap<T>(g.b, g.k, g.n, Eigen::OuterStride<>(g.ldb));
  };
  if (g.trans_a) run(CMap<T>(a0, g.k, rows, Eigen::OuterStride<>(g.lda)).transpose());
  else run(CMap<T>(a0, rows, g.k, Eigen::OuterStride<>(g.lda)));
}

// Row blocks of a fixed height, so that Eigen's own blocking, and with it the rounding, never depends on the
// thread count.
template <class T>
void eigen_gemm(const GemmArgs<T>& g) {
  constexpr int64_t kRows = 64;
  parallel_for(ceil_div(g.m, kRows), 2 * kRows * g.n * g.k, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) eigen_rows(g, b * kRows, std::min(g.m, (b + 1) * kRows));
  });
}

constexpr double kParallelFlops = 1e6;  // below this a GEMM runs on one thread

int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// Splits `total` into ceil(total / max_block) near-equal blocks, each a multiple of `unit` (the last may
// be shorter): e.g. k = 257 gives slices 129 + 128 rather than 256 + 1.
int64_t balanced_block(int64_t total, int64_t max_block, int64_t unit) {
  return round_up(ceil_div(total, ceil_div(total, max_block)), unit);
}

// A 64-byte aligned float buffer that only grows, so steady-state calls neither allocate nor page-fault.
class PackBuffer {
 public:
  ~PackBuffer() { std::free(data_); }
  float* get(int64_t floats) {
    if (floats > capacity_) {
      std::free(data_);
      const int64_t bytes = round_up(floats * int64_t(sizeof(float)), 64);
      data_ = static_cast<float*>(std::aligned_alloc(64, static_cast<size_t>(bytes)));
      COMET_CHECK(data_ != nullptr, "gemm: cannot allocate a {}-byte packing buffer", bytes);
      capacity_ = floats;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  int64_t capacity_ = 0;
};

// Each thread's own buffers: kind 0 holds a packed block of A, kind 1 a packed slice of B, kind 2 C^T of the
// transposed route.
float* pack_buffer(int kind, int64_t floats) {
  thread_local PackBuffer buffers[3];
  return buffers[kind].get(floats);
}

// The part of one (column block, k slice) step that a thread owns: C rows [i0, i1) (i0 a multiple of mr)
// x nr-wide panels [q0, q1) of the column block, whose packed B is at bpack.
struct Step {
  int64_t i0, i1, q0, q1;  // thread's share
  int64_t j0, nc, p0, kc;  // column block and k slice
  float beta;              // g.beta for the first k slice, 1 after
  bool a_in_place;         // A read where it is, not packed (each tile reads only its own rows)
  bool b_in_place;         // full panels of B read where they are (only a last, partial panel is packed)
};

// B is read in place, not packed, when a part has at most this many rows of C: packing a slice of B then costs about
// as much as the multiply-adds it serves (an expert's weight over its few rows). A transposed B is always packed.
constexpr int64_t kInPlaceRows = 64;

// A is read in place, not packed, when a block of it serves at most this many B panels (C at most 4 panels wide:
// every expert GEMM of the MoE step at width 256): packing it then reads and writes A as often as the tiles read it.
constexpr int64_t kInPlacePanels = 4;

// Where op(A)[i, p0] is in A itself.
const float* a_in_place(const GemmArgs<float>& g, int64_t i, int64_t p0) {
  return g.trans_a ? g.a + p0 * g.lda + i : g.a + i * g.lda + p0;
}

void compute(const GemmArgs<float>& g, const SgemmKernel& kern, const Step& s, const float* bpack) {
  const int64_t mr = kern.mr, nr = kern.nr, mc_max = balanced_block(s.i1 - s.i0, kern.mc, mr);
  float* apack = pack_buffer(0, mc_max * s.kc);
  for (int64_t ic = s.i0; ic < s.i1; ic += mc_max) {
    const int64_t mc = std::min(mc_max, s.i1 - ic);
    if (!s.a_in_place) kern.pack_a(g, ic, mc, s.p0, s.kc, apack);
    for (int64_t q = s.q0; q < s.q1; ++q) {
      const int64_t jq = s.j0 + q * nr, cols = std::min(nr, s.j0 + s.nc - jq);
      const bool in_place = s.b_in_place && cols == nr;
      const float* bp = in_place ? g.b + s.p0 * g.ldb + jq : bpack + (q - s.q0) * nr * s.kc;
      for (int64_t ir = 0; ir < mc; ir += mr) {
        const bool a_here = s.a_in_place;
        float* c = g.c + (ic + ir) * g.ldc + jq;
        // A row bias enters as the first k slice's beta * C, so C gets the bits of the bias copied in and beta = 1.
        const bool bias_in = g.row_bias && s.p0 == 0;
        kern.tile(s.kc, a_here ? a_in_place(g, ic + ir, s.p0) : apack + ir * s.kc, a_here ? g.lda : mr,
                  a_here && !g.trans_a, bp, in_place ? g.ldb : nr, g.alpha, bias_in ? 1.0f : s.beta,
                  bias_in ? g.row_bias + jq : c, bias_in ? 0 : g.ldc, c, g.ldc, std::min(mr, mc - ir), cols);
      }
    }
  }
}

// C = beta * C or the row bias (the k == 0 case; beta == 0 writes zeros).
void scale_c(const GemmArgs<float>& g) {
  for (int64_t i = 0; i < g.m; ++i) {
    float* c = g.c + i * g.ldc;
    for (int64_t j = 0; j < g.n; ++j) c[j] = g.row_bias ? g.row_bias[j] : g.beta == 0.0f ? 0.0f : g.beta * c[j];
  }
}

// Everything part t of nt computes. Parts own either a contiguous run of row tiles or (when there are too few of
// those) of column panels; each packs the B panels it needs itself, so parts never wait on each other.
void run_part(const GemmArgs<float>& g, const SgemmKernel& kern, bool split_rows, int t, int nt) {
  const int64_t mr = kern.mr, nr = kern.nr;
  const int64_t kc_max = balanced_block(g.k, kern.kc, 1), nc_max = balanced_block(g.n, kern.nc, nr);
  const int64_t row_tiles = ceil_div(g.m, mr);
  const int64_t i0 = split_rows ? std::min(g.m, row_tiles * t / nt * mr) : 0;
  const int64_t i1 = split_rows ? std::min(g.m, row_tiles * (t + 1) / nt * mr) : g.m;
  if (i1 <= i0) return;
  float* bpack = pack_buffer(1, kc_max * nc_max);
  for (int64_t j0 = 0; j0 < g.n; j0 += nc_max) {
    const int64_t nc = std::min(nc_max, g.n - j0), panels = ceil_div(nc, nr);
    const int64_t q0 = split_rows ? 0 : panels * t / nt, q1 = split_rows ? panels : panels * (t + 1) / nt;
    if (q1 <= q0) continue;
    const bool in_place = !g.trans_b && i1 - i0 <= kInPlaceRows, a_in_place = q1 - q0 <= kInPlacePanels;
    // In place, only a last panel narrower than nr is packed (at its own position in bpack).
    const int64_t pack_from = in_place ? std::max(q0, q1 - (nc % nr != 0 && q1 == panels ? 1 : 0)) : q0;
    for (int64_t p0 = 0; p0 < g.k; p0 += kc_max) {
      const int64_t kc = std::min(kc_max, g.k - p0);
      if (pack_from < q1) kern.pack_b(g, p0, kc, j0, nc, pack_from, q1, bpack + (pack_from - q0) * nr * kc);
      compute(g, kern, Step{i0, i1, q0, q1, j0, nc, p0, kc, p0 == 0 ? g.beta : 1.0f, a_in_place, in_place}, bpack);
    }
  }
}

// C = A B^T with a short A (an expert's few rows times its transposed weight, in the input gradient) is computed as
// C^T = B A^T into a scratch block, then copied into C transposed (in register blocks, SgemmKernel::transpose). The
// direct route packs all of the large B (transposing it), which costs as much as the multiply-adds; this one packs the
// short A and copies C. Every element gets the same operations in the same k order either way (the micro-kernels
// treat every element alike, and the k slices depend on k alone), so the result has the same bits. Only for beta = 0
// and no row bias: C is overwritten, not read. Taken when B holds more than 1.5 times A and C together: one expert's
// 64 rows at width 256 then go this way, 10% faster than the direct route (AMD EPYC Zen 5, AVX-512, one thread).
constexpr int64_t kTransposedRows = 64;

bool transposed_route(const GemmArgs<float>& g) {
  return g.trans_b && g.beta == 0.0f && !g.row_bias && g.m <= kTransposedRows &&
         2 * g.n * g.k > 3 * g.m * (g.n + g.k);
}

void transposed_sgemm(const GemmArgs<float>& g, const SgemmKernel& kernel) {
  float* ct = pack_buffer(2, g.n * g.m);
  GemmArgs<float> t;
  t.m = g.n, t.n = g.m, t.k = g.k, t.alpha = g.alpha, t.beta = 0.0f;
  t.a = g.b, t.lda = g.ldb;                         // op(B)^T = B, [n, k]
  t.trans_b = !g.trans_a, t.b = g.a, t.ldb = g.lda;  // op(A)^T
  t.c = ct, t.ldc = g.m;
  blocked_sgemm(t, kernel);
  kernel.transpose(g.n, g.m, ct, g.m, g.c, g.ldc);
}

}  // namespace

const SgemmKernel& sgemm_kernel(Isa isa) { return COMET_PICK_ISA(isa, sgemm_kernel); }

void blocked_sgemm(const GemmArgs<float>& g, const SgemmKernel& kernel) {
  if (g.k == 0) return scale_c(g);
  if (kernel.narrow && g.n <= kernel.narrow->nr) return blocked_sgemm(g, *kernel.narrow);
  if (transposed_route(g)) return transposed_sgemm(g, kernel);
  const int64_t row_tiles = ceil_div(g.m, kernel.mr), col_tiles = ceil_div(g.n, kernel.nr);
  const int threads = gemm_flops(g.m, g.n, g.k) < kParallelFlops
                          ? 1
                          : static_cast<int>(std::min<int64_t>(num_threads(), std::max(row_tiles, col_tiles)));
  // Rows unless there are too few row tiles to go round: then every thread packs all of (the small) A.
  const bool split_rows = row_tiles >= 4 * threads || row_tiles >= col_tiles;
  if (threads == 1) return run_part(g, kernel, split_rows, 0, 1);
  // One part per thread (each part packs its B panels: more parts would pack B more often), claimed by whichever
  // thread is free, so a thread that another process holds up before it starts costs nothing (core/threading.h).
  const int64_t parts = threads;
  parallel_chunks(parts, [&](int64_t part) { run_part(g, kernel, split_rows, static_cast<int>(part), static_cast<int>(parts)); });
}

template <class T>
void gemm(const GemmArgs<T>& args) {
  COMET_CHECK(gemm_row_bias_valid(args), "gemm: row_bias needs beta = 0, got beta = {}", args.beta);
  GemmArgs<T> g = args;
  if (COMET_MUTANT(gemm_last_k_dropped) && g.k > 1) --g.k;
  if (COMET_MUTANT(gemm_beta_ignored) && g.beta == T(1)) g.beta = T(0);
  if (g.m == 0 || g.n == 0) return;
  if constexpr (std::is_same_v<T, float>) return blocked_sgemm(g, sgemm_kernel(active_isa()));
  eigen_gemm(g);
}

template void gemm<float>(const GemmArgs<float>&);
template void gemm<double>(const GemmArgs<double>&);

}  // namespace comet::cpu
