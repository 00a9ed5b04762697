// The multiply-adds of one pass over an expert layer as plain GEMMs, for the floors of bench_grouped (BM_OneGemm) and
// bench_moe (the interleaved floor): y = x W forward; gx = gy W^T and gW = x^T gy backward; x, gy [rows, width],
// W [width, width], on whichever device `gemm` runs.
#pragma once
#include <cstdint>

#include "kernels/gemm.h"

namespace comet::bench {

struct OneGemmArgs {
  GemmArgs<float> fwd, bx, bw;
  OneGemmArgs(int64_t rows, int64_t width, const float* x, const float* w, const float* gy, float* y, float* gx,
              float* gw) {
    fwd.m = rows, fwd.n = width, fwd.k = width, fwd.a = x, fwd.lda = width, fwd.b = w;
    fwd.ldb = width, fwd.c = y, fwd.ldc = width;
    bx = fwd, bx.trans_b = true, bx.a = gy, bx.c = gx;
    bw.trans_a = true, bw.m = width, bw.n = width, bw.k = rows, bw.a = x, bw.lda = width;
    bw.b = gy, bw.ldb = width, bw.c = gw, bw.ldc = width;
  }
};

}  // namespace comet::bench
