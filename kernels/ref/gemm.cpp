// Reference GEMM: triple loop with double accumulation.
#include "kernels/gemm.h"

#include "core/error.h"
#include "core/mutation.h"

namespace comet::ref {

template <class T>
void gemm(const GemmArgs<T>& g) {
  COMET_CHECK(gemm_row_bias_valid(g), "ref::gemm: row_bias needs beta = 0, got beta = {}", g.beta);
  const double alpha = COMET_MUTANT(ref_gemm_alpha_ignored) ? 1.0 : static_cast<double>(g.alpha);
  for (int64_t i = 0; i < g.m; ++i) {
    for (int64_t j = 0; j < g.n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < g.k; ++p) {
        const double a = g.trans_a ? g.a[p * g.lda + i] : g.a[i * g.lda + p];
        const double b = g.trans_b ? g.b[j * g.ldb + p] : g.b[p * g.ldb + j];
        acc += a * b;
      }
      T& c = g.c[i * g.ldc + j];
      const double addend = g.row_bias ? static_cast<double>(g.row_bias[j])
                            : g.beta == T(0) ? 0.0 : static_cast<double>(g.beta) * c;
      c = static_cast<T>(alpha * acc + addend);
    }
  }
}

template void gemm<float>(const GemmArgs<float>&);
template void gemm<double>(const GemmArgs<double>&);

}  // namespace comet::ref
