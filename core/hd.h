// COMET_HD marks small functions shared by host code and CUDA kernels (index math, element math), so the
// logic a GPU kernel runs is the same code the CPU tests exercise.
#pragma once
#if defined(__CUDACC__)
#define COMET_HD __host__ __device__ inline
#else
#define COMET_HD inline
#endif
