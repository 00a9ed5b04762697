// Fast CPU GEMM. Currently Eigen's product on row-major maps, parallelised by us over row blocks of C
// (Eigen itself runs single-threaded, see core/threading.h).
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>

#include "core/threading.h"
#include "kernels/gemm.h"

namespace comet::cpu {
namespace {

template <class T>
using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using Map = Eigen::Map<Mat<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <class T>
using CMap = Eigen::Map<const Mat<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

// C rows [r0, r1) of the product.
template <class T>
void gemm_rows(const GemmArgs<T>& g, int64_t r0, int64_t r1) {
  const int64_t rows = r1 - r0;
  Map<T> c(g.c + r0 * g.ldc, rows, g.n, Eigen::OuterStride<>(g.ldc));
  if (g.beta == T(0)) c.setZero();
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

}  // namespace

template <class T>
void gemm(const GemmArgs<T>& g) {
  if (g.m == 0 || g.n == 0) return;
  const int threads = static_cast<int>(std::min<int64_t>(num_threads(), std::max<int64_t>(1, g.m / 16)));
  const bool parallel = threads > 1 && gemm_flops(g.m, g.n, g.k) > 2e6;
  if (!parallel) return gemm_rows(g, 0, g.m);
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), nt = omp_get_num_threads();
    const int64_t r0 = g.m * t / nt, r1 = g.m * (t + 1) / nt;
    if (r1 > r0) gemm_rows(g, r0, r1);
  }
}

template void gemm<float>(const GemmArgs<float>&);
template void gemm<double>(const GemmArgs<double>&);

}  // namespace comet::cpu
