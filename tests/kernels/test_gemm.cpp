// cpu::gemm against ref::gemm (kernels/gemm.h) for float, on every ISA path (kernels/cpu/isa.h), and double: all
// four transpose combinations, shapes from 0 to past the cache blocks of the path's kernel (partial tiles, several
// k slices), leading dimensions wider than the matrices, alpha/beta cases and beta = 0 over a NaN-filled C.
// Integer-valued inputs make float GEMM exact, so those cases compare bit for bit (an indexing bug cannot hide
// inside a tolerance); random inputs use |a - b| <= 1e-5 (|ref| + rms(ref)). Results must be bit-identical at 1,
// 2 and 3 threads on each path, the transposed route (a short A times B^T) must give the direct route's bits, and a
// row bias the bits of the bias copied into C followed by beta = 1.
// Each float test case exists once per ISA; on a CPU without that ISA it is skipped (ctest counts it so).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/rng.h"
#include "core/threading.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/sgemm_kernel.h"
#include "kernels/gemm.h"
#include "test_util.h"

namespace comet {
namespace {

enum class Fill { Integer, Random };

// A GEMM problem with its own buffers; C's padding columns (ldc > n) must survive untouched.
template <class T>
struct Problem {
  GemmArgs<T> g;
  std::vector<T> a, b, c;

  Problem(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, T beta, int64_t pad, Fill fill,
          Generator& gen) {
    g.trans_a = ta, g.trans_b = tb, g.m = m, g.n = n, g.k = k, g.alpha = alpha, g.beta = beta;
    const int64_t a_rows = ta ? k : m, a_cols = ta ? m : k, b_rows = tb ? n : k, b_cols = tb ? k : n;
    g.lda = a_cols + pad, g.ldb = b_cols + pad, g.ldc = n + pad;
    a = values(a_rows * g.lda, fill, gen);
    b = values(b_rows * g.ldb, fill, gen);
    c = values(m * g.ldc, fill, gen);
  }

  static std::vector<T> values(int64_t count, Fill fill, Generator& gen) {
    std::vector<T> v(static_cast<size_t>(count));
    for (T& x : v) {
      const double u = gen.next_uniform();
      x = static_cast<T>(fill == Fill::Integer ? std::floor(7 * u) - 3 : 2 * u - 1);
    }
    return v;
  }

  // C after the GEMM, by the reference or the fast kernel.
  std::vector<T> run(bool fast) const {
    std::vector<T> out = c;
    GemmArgs<T> args = g;
    args.a = a.data(), args.b = b.data(), args.c = out.data();
    if (fast) cpu::gemm(args);
    else ref::gemm(args);
    return out;
  }
};

template <class T>
std::string describe(const GemmArgs<T>& g) {
  return fmt::format("trans_a {} trans_b {} m {} n {} k {} alpha {} beta {} lda {} ldb {} ldc {}", g.trans_a,
                     g.trans_b, g.m, g.n, g.k, g.alpha, g.beta, g.lda, g.ldb, g.ldc);
}

// Exact: every element (padding included) identical. Otherwise: the m x n part within the project's
// tolerance rule and the padding identical.
template <class T>
void check(const Problem<T>& p, const std::vector<T>& got, const std::vector<T>& want, bool exact) {
  INFO(describe(p.g));
  if (exact) {
    int64_t bad = -1;
    for (size_t i = 0; i < got.size() && bad < 0; ++i)
      if (!(got[i] == want[i])) bad = static_cast<int64_t>(i);
    INFO(fmt::format("first mismatch at {}: got {} want {}", bad, bad < 0 ? 0 : got[bad], bad < 0 ? 0 : want[bad]));
    CHECK(bad < 0);
    return;
  }
  std::vector<double> g_part, w_part;
  bool padding_ok = true;
  for (int64_t i = 0; i < p.g.m; ++i) {
    for (int64_t j = 0; j < p.g.ldc; ++j) {
      const size_t at = static_cast<size_t>(i * p.g.ldc + j);
      if (j < p.g.n) g_part.push_back(got[at]), w_part.push_back(want[at]);
      else padding_ok = padding_ok && (got[at] == want[at] || (std::isnan(got[at]) && std::isnan(want[at])));
    }
  }
  CHECK(padding_ok);
  if (g_part.empty()) return;
  const Shape shape{p.g.m, p.g.n};
  const Tensor got_t = Tensor::from_vector(shape, g_part), want_t = Tensor::from_vector(shape, w_part);
  // The floor keeps an all-zero result (rms 0) comparable.
  COMET_CHECK_CLOSE(got_t, want_t, 1e-5, std::max(1e-5 * test::rms(want_t), 1e-30));
}

struct Scalars {
  double alpha, beta;
};
// Powers of two and small integers keep integer-valued cases exact.
const std::vector<Scalars> kScalars = {{1, 0}, {1, 1}, {2, -1}, {-0.5, 0.5}, {0, 2}};
const std::vector<int64_t> kDims = {0, 1, 7, 33, 257};

template <class T>
void check_all_shapes(Fill fill) {
  Generator gen(fill == Fill::Integer ? 11 : 12);
  for (int t = 0; t < 4; ++t) {
    for (int64_t m : kDims)
      for (int64_t n : kDims)
        for (int64_t k : kDims) {
          const Scalars s = kScalars[(m + 3 * n + 5 * k + t) % kScalars.size()];
          const int64_t pad = (m + n + k) % 3;  // leading dimensions wider than the matrix, sometimes
          const Problem<T> p(t & 1, t & 2, m, n, k, T(s.alpha), T(s.beta), pad, fill, gen);
          check(p, p.run(true), p.run(false), fill == Fill::Integer);
        }
  }
}

// One test case per ISA running BODY under an IsaScope for it, skipped where the CPU lacks the ISA.
#define GEMM_ISA_TEST_CASE(ISA, NAME, BODY)                                                 \
  TEST_CASE("gemm [" #ISA "]: " NAME) {                                                     \
    if (!cpu::cpu_supports(cpu::Isa::ISA)) COMET_SKIP_TEST("this CPU does not support " #ISA); \
    const cpu::IsaScope isa_scope(cpu::Isa::ISA);                                            \
    BODY(cpu::sgemm_kernel(cpu::Isa::ISA));                                                   \
  }
#define GEMM_ALL_ISAS_TEST_CASE(NAME, BODY)  \
  GEMM_ISA_TEST_CASE(scalar, NAME, BODY)     \
  GEMM_ISA_TEST_CASE(avx2, NAME, BODY)       \
  GEMM_ISA_TEST_CASE(avx512, NAME, BODY)

void integer_shapes(const cpu::SgemmKernel&) { check_all_shapes<float>(Fill::Integer); }
void random_shapes(const cpu::SgemmKernel&) { check_all_shapes<float>(Fill::Random); }
GEMM_ALL_ISAS_TEST_CASE("float, integer-valued inputs, all transposes and shapes 0..257: exact", integer_shapes)
GEMM_ALL_ISAS_TEST_CASE("float, random inputs, all transposes and shapes 0..257: close", random_shapes)

TEST_CASE("gemm: double, random inputs, all transposes and shapes 0..257: close") {
  check_all_shapes<double>(Fill::Random);
}

struct Shape3 {
  int64_t m, n, k;
};

// Shapes past the cache blocks of `kernel` (mc rows, kc deep, nc columns) and at their edges, one exact tile.
std::vector<Shape3> block_shapes(const cpu::SgemmKernel& kernel) {
  const int64_t mc = kernel.mc, kc = kernel.kc, nc = kernel.nc;
  return {{mc + 1, 17, 2 * kc + 1}, {400, 33, 300}, {7, nc + 20, 600},           {kernel.mr, kernel.nr, kc},
          {13, nc + 1, 5},          {300, 300, 1},  {1, 600, 300},               {2 * mc + 2, 95, kc + 1}};
}

void block_edges(const cpu::SgemmKernel& kernel) {
  Generator gen(13);
  for (const Shape3& sh : block_shapes(kernel))
    for (int t = 0; t < 4; ++t)
      for (const Scalars& s : kScalars) {
        const Problem<float> p(t & 1, t & 2, sh.m, sh.n, sh.k, float(s.alpha), float(s.beta), t, Fill::Integer,
                               gen);
        check(p, p.run(true), p.run(false), true);
      }
}
GEMM_ALL_ISAS_TEST_CASE("float, shapes across the cache blocks, all alpha/beta cases: exact", block_edges)

void nan_overwritten(const cpu::SgemmKernel&) {
  Generator gen(14);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const Shape3& sh : {Shape3{7, 33, 257}, Shape3{257, 33, 7}, Shape3{33, 257, 0}, Shape3{300, 300, 300}})
    for (int t = 0; t < 4; ++t) {
      Problem<float> p(t & 1, t & 2, sh.m, sh.n, sh.k, 2.0f, 0.0f, 1, Fill::Integer, gen);
      for (float& x : p.c) x = nan;
      const std::vector<float> got = p.run(true);
      bool finite = true;
      for (int64_t i = 0; i < sh.m; ++i)
        for (int64_t j = 0; j < sh.n; ++j) finite = finite && std::isfinite(got[i * p.g.ldc + j]);
      INFO(describe(p.g));
      CHECK(finite);
      check(p, got, p.run(false), false);
    }
}
GEMM_ALL_ISAS_TEST_CASE("beta = 0 overwrites a NaN-filled C", nan_overwritten)

// C = A B^T with a short A takes the transposed route (C^T = B A^T, kernels/cpu/gemm.cpp); it must give the bits of
// the direct route, which the same product takes with B^T given as a plain matrix. Random inputs, so that any other
// summation order or rounding shows.
void transposed_route_bits(const cpu::SgemmKernel&) {
  Generator gen(16);
  // {20, 300, 700}: C^T is copied into C in whole register blocks and edges of rows and columns on every ISA.
  for (const Shape3& sh : {Shape3{1, 256, 256}, Shape3{16, 256, 256}, Shape3{7, 300, 700}, Shape3{64, 257, 129},
                           Shape3{33, 1000, 1200}, Shape3{5, 40, 2000}, Shape3{20, 300, 700}})
    for (bool ta : {false, true})
      for (float alpha : {1.0f, -0.75f}) {
        Problem<float> p(ta, true, sh.m, sh.n, sh.k, alpha, 0.0f, 3, Fill::Random, gen);
        Problem<float> plain = p;  // the same product with B^T stored as a plain [k, n] matrix
        plain.g.trans_b = false, plain.g.ldb = sh.n + 1;
        plain.b.assign(static_cast<size_t>(sh.k * plain.g.ldb), 0.0f);
        for (int64_t j = 0; j < sh.n; ++j)
          for (int64_t q = 0; q < sh.k; ++q) plain.b[q * plain.g.ldb + j] = p.b[j * p.g.ldb + q];
        for (int threads : {1, 2}) {
          ThreadScope scope(threads);
          INFO("threads ", threads);
          check(p, p.run(true), plain.run(true), true);
        }
      }
}
GEMM_ALL_ISAS_TEST_CASE("A B^T with a short A: the transposed route gives the direct route's bits", transposed_route_bits)

// A C at most narrow->nr columns wide runs on the ISA's narrow kernel (taller tiles of one vector). Every element must
// get the operations of the wide kernel run alone: the same bits, for random inputs, every transpose, k across
// several kc slices, beta 0, 1 and neither, at 1 and 2 threads.
void narrow_kernel_bits(const cpu::SgemmKernel& kernel) {
  REQUIRE(kernel.narrow != nullptr);
  CHECK(kernel.narrow->kc == kernel.kc);
  cpu::SgemmKernel wide = kernel;
  wide.narrow = nullptr;
  const auto run = [](const Problem<float>& p, const cpu::SgemmKernel& k) {
    std::vector<float> out = p.c;
    GemmArgs<float> args = p.g;
    args.a = p.a.data(), args.b = p.b.data(), args.c = out.data();
    cpu::blocked_sgemm(args, k);
    return out;
  };
  Generator gen(17);
  for (const Shape3& sh : {Shape3{1, 1, 1}, Shape3{5, 16, 300}, Shape3{12, 16, 385}, Shape3{37, 7, 800},
                           Shape3{256, 16, 256}, Shape3{1000, 13, 900}, Shape3{13, 3, 2}})
    for (int t = 0; t < 4; ++t)
      for (const Scalars s : {Scalars{1, 0}, Scalars{1, 1}, Scalars{-0.75, 0.5}})
        for (int threads : {1, 2}) {
          ThreadScope scope(threads);
          INFO("threads ", threads);
          const Problem<float> p(t & 1, t & 2, sh.m, sh.n, sh.k, float(s.alpha), float(s.beta), 2, Fill::Random, gen);
          check(p, run(p, kernel), run(p, wide), true);
        }
}
// Only AVX-512 has a narrow kernel: 16 columns are one of its vectors (AVX2's 6 x 16 tile already has 12 chains).
GEMM_ISA_TEST_CASE(avx512, "a C one narrow tile wide gives the wide kernel's bits", narrow_kernel_bits)

// A row bias (GemmArgs::row_bias, beta = 0) must give the bits of the bias copied into every row of C followed by
// beta = 1 (how a linear layer added it before), for random inputs, every transpose, shapes across the cache blocks
// and the narrow kernel (a short A with B^T too: the transposed route cannot take a bias), k = 0 (C = the bias), at 1
// and 2 threads; and the reference must agree within the tolerance. Without beta = 0 it is an error.
template <class T>
void row_bias_bits(const std::vector<Shape3>& shapes) {
  Generator gen(18);
  for (const Shape3& sh : shapes)
    for (int t = 0; t < 4; ++t)
      for (T alpha : {T(1), T(-0.75)}) {
        Problem<T> p(t & 1, t & 2, sh.m, sh.n, sh.k, alpha, T(0), 2, Fill::Random, gen);
        const std::vector<T> bias = Problem<T>::values(sh.n, Fill::Random, gen);
        Problem<T> copied = p;  // the bias copied into C's rows, then beta = 1
        copied.g.beta = T(1);
        for (int64_t i = 0; i < sh.m; ++i) std::copy(bias.begin(), bias.end(), copied.c.begin() + i * p.g.ldc);
        p.g.row_bias = bias.data();
        for (int threads : {1, 2}) {
          ThreadScope scope(threads);
          INFO("threads ", threads);
          const std::vector<T> got = p.run(true), want = copied.run(true);
          check(p, got, want, true);
          check(p, got, p.run(false), false);
        }
      }
  Problem<T> p(false, false, 3, 4, 5, T(1), T(1), 0, Fill::Random, gen);
  p.g.row_bias = p.c.data();
  CHECK_THROWS_WITH_AS(p.run(true), doctest::Contains("row_bias needs beta = 0"), Error);
  CHECK_THROWS_WITH_AS(p.run(false), doctest::Contains("row_bias needs beta = 0"), Error);
}

void float_row_bias(const cpu::SgemmKernel& kernel) {
  std::vector<Shape3> shapes = block_shapes(kernel);
  for (const Shape3& sh : {Shape3{16, 256, 256}, Shape3{64, 256, 256}, Shape3{5, 16, 300}, Shape3{37, 7, 800},
                           Shape3{9, 33, 0}, Shape3{1, 1, 1}})
    shapes.push_back(sh);
  row_bias_bits<float>(shapes);
}
GEMM_ALL_ISAS_TEST_CASE("a row bias gives the bits of the bias copied into C and beta = 1", float_row_bias)

TEST_CASE("gemm: double, a row bias gives the bits of the bias copied into C and beta = 1") {
  row_bias_bits<double>({{257, 33, 300}, {7, 100, 64}, {9, 33, 0}, {65, 1, 3}});
}

template <class T>
void check_thread_independence() {
  Generator gen(15);
  const std::vector<Shape3> shapes = {{257, 257, 33}, {7, 1000, 257}, {300, 301, 700}, {513, 64, 64}};
  for (const Shape3& sh : shapes)
    for (int t = 0; t < 4; ++t) {
      const Problem<T> p(t & 1, t & 2, sh.m, sh.n, sh.k, T(1.5), T(0.25), 2, Fill::Random, gen);
      std::vector<T> one;
      {
        ThreadScope scope(1);
        one = p.run(true);
      }
      for (int threads : {2, 3}) {
        ThreadScope scope(threads);
        INFO(describe(p.g), " threads ", threads);
        CHECK(p.run(true) == one);
      }
    }
}

void float_thread_independence(const cpu::SgemmKernel&) { check_thread_independence<float>(); }
GEMM_ALL_ISAS_TEST_CASE("float results are bit-identical at 1, 2 and 3 threads", float_thread_independence)

TEST_CASE("gemm: double results are bit-identical at 1, 2 and 3 threads") { check_thread_independence<double>(); }

}  // namespace
}  // namespace comet
