// cuBLAS GEMM (see gemm.h), through the library loaded on first use (cublas_loader.h). One cuBLAS handle per
// device, created on first use and never destroyed (cuBLAS calls may share a handle across host threads as long as
// its configuration does not change). Under COMET_CUDA_EMULATE=1 the same cuBLAS arguments go to the host emulation of cublas<t>gemm instead.
#include "kernels/cuda/gemm.h"

#include <array>
#include <limits>
#include <mutex>

#include "kernels/cuda/check.h"
#include "kernels/cuda/cublas_emulation.h"
#include "kernels/cuda/cublas_loader.h"
#include "kernels/cuda/cublas_mapping.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/elementwise.h"

namespace comet::cuda {
namespace {

constexpr int kMaxDevices = 64;

cublasHandle_t handle() {
  static std::mutex mu;
  static std::array<cublasHandle_t, kMaxDevices> handles{};
  int device = 0;
  COMET_CUDA_CHECK(cudaGetDevice(&device), "cuda::gemm: no current CUDA device");
  COMET_CHECK(device < kMaxDevices, "cuda::gemm: device {} out of range", device);
  std::lock_guard<std::mutex> lock(mu);
  if (!handles[device])
    COMET_CUBLAS_CHECK(cublas_api().create(&handles[device]), "cuda::gemm: cublasCreate on device {}", device);
  return handles[device];
}

cublasOperation_t op(bool trans) { return trans ? CUBLAS_OP_T : CUBLAS_OP_N; }

int as_int(int64_t v, const char* what) {
  COMET_CHECK(v <= std::numeric_limits<int>::max(), "cuda::gemm: {} = {} exceeds cuBLAS's int range", what, v);
  return static_cast<int>(v);
}

cublasStatus_t call(cublasHandle_t h, const CublasGemmArgs<float>& c) {
  return cublas_api().sgemm(h, op(c.trans_a), op(c.trans_b), as_int(c.m, "m"), as_int(c.n, "n"), as_int(c.k, "k"),
                     &c.alpha, c.a, as_int(c.lda, "lda"), c.b, as_int(c.ldb, "ldb"), &c.beta, c.c,
                     as_int(c.ldc, "ldc"));
}

cublasStatus_t call(cublasHandle_t h, const CublasGemmArgs<double>& c) {
  return cublas_api().dgemm(h, op(c.trans_a), op(c.trans_b), as_int(c.m, "m"), as_int(c.n, "n"), as_int(c.k, "k"),
                     &c.alpha, c.a, as_int(c.lda, "lda"), c.b, as_int(c.ldb, "ldb"), &c.beta, c.c,
                     as_int(c.ldc, "ldc"));
}

cublasStatus_t call_batched(cublasHandle_t h, const CublasGemmArgs<float>& c, const CublasStrides& s, int batch) {
  return cublas_api().sgemm_strided_batched(h, op(c.trans_a), op(c.trans_b), as_int(c.m, "m"), as_int(c.n, "n"),
                                   as_int(c.k, "k"), &c.alpha, c.a, as_int(c.lda, "lda"), s.a, c.b,
                                   as_int(c.ldb, "ldb"), s.b, &c.beta, c.c, as_int(c.ldc, "ldc"), s.c, batch);
}

cublasStatus_t call_batched(cublasHandle_t h, const CublasGemmArgs<double>& c, const CublasStrides& s, int batch) {
  return cublas_api().dgemm_strided_batched(h, op(c.trans_a), op(c.trans_b), as_int(c.m, "m"), as_int(c.n, "n"),
                                   as_int(c.k, "k"), &c.alpha, c.a, as_int(c.lda, "lda"), s.a, c.b,
                                   as_int(c.ldb, "ldb"), s.b, &c.beta, c.c, as_int(c.ldc, "ldc"), s.c, batch);
}

}  // namespace

// cuBLAS has no broadcast addend: a row bias is written into C first (the expand kernel), then added as beta = 1.
template <class T>
void gemm(const GemmArgs<T>& args) {
  COMET_CHECK(gemm_row_bias_valid(args), "cuda::gemm: row_bias needs beta = 0, got beta = {}", args.beta);
  if (args.m == 0 || args.n == 0) return;
  GemmArgs<T> g = args;
  if (g.row_bias) {
    COMET_CHECK(g.ldc == g.n, "cuda::gemm: row_bias needs contiguous rows of C (ldc = n), got ldc {} n {}", g.ldc, g.n);
    expand<T>(Broadcast::Row, g.m, g.n, T(1), g.row_bias, g.c);
    g.beta = T(1), g.row_bias = nullptr;
  }
  const CublasGemmArgs<T> c = to_cublas(g);
  if (cuda_emulated()) return cublas_gemm_emulated(c);
  COMET_CUBLAS_CHECK(call(handle(), c), "cuda::gemm: m={} n={} k={} trans_a={} trans_b={} lda={} ldb={} ldc={}", g.m,
                     g.n, g.k, g.trans_a, g.trans_b, g.lda, g.ldb, g.ldc);
}

template <class T>
void gemm_batched(const GemmArgs<T>& g, int64_t batch, int64_t stride_a, int64_t stride_b, int64_t stride_c) {
  COMET_CHECK(g.row_bias == nullptr, "cuda::gemm_batched: no row_bias (use gemm)");
  COMET_CHECK(batch >= 0 && stride_a >= 0 && stride_b >= 0 && stride_c >= 0,
              "cuda::gemm_batched: need batch and strides >= 0, got {} and {} {} {}", batch, stride_a, stride_b,
              stride_c);
  if (g.m == 0 || g.n == 0 || batch == 0) return;
  if (cuda_emulated()) {
    CublasGemmArgs<T> c = to_cublas(g);
    const CublasStrides s = to_cublas_strides(stride_a, stride_b, stride_c);
    for (int64_t i = 0; i < batch; ++i, c.a += s.a, c.b += s.b, c.c += s.c) cublas_gemm_emulated(c);
    return;
  }
  COMET_CUBLAS_CHECK(call_batched(handle(), to_cublas(g), to_cublas_strides(stride_a, stride_b, stride_c),
                                  as_int(batch, "batch")),
                     "cuda::gemm_batched: batch={} m={} n={} k={} trans_a={} trans_b={} strides {} {} {}", batch, g.m,
                     g.n, g.k, g.trans_a, g.trans_b, stride_a, stride_b, stride_c);
}

template void gemm<float>(const GemmArgs<float>&);
template void gemm<double>(const GemmArgs<double>&);
template void gemm_batched<float>(const GemmArgs<float>&, int64_t, int64_t, int64_t, int64_t);
template void gemm_batched<double>(const GemmArgs<double>&, int64_t, int64_t, int64_t, int64_t);

}  // namespace comet::cuda
