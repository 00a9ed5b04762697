// Register-only fp32 FMA throughput of each ISA path (kernels/cpu/isa.h), the ceiling that bench_gemm.cpp
// reports its GEMM rates against. One loop per ISA, each in its own translation unit compiled for that ISA
// (bench/fma_peak_<isa>.cpp, flags from cmake/CometLibrary.cmake).
#pragma once
#include <cstdint>

#include "kernels/cpu/isa.h"

namespace comet::bench {

struct FmaLoop {
  // `iterations` steps of independent multiply-add chains held in registers; writes their sum to *sink (so that
  // the work is not optimised away).
  void (*run)(int64_t iterations, float* sink);
  double flops_per_iteration;  // 2 per multiply-add
};

FmaLoop fma_loop(cpu::Isa isa);
FmaLoop fma_loop_scalar();
FmaLoop fma_loop_avx2();
FmaLoop fma_loop_avx512();

}  // namespace comet::bench
