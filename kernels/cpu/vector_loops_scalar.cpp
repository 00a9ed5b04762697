// The portable vector loops (kernels/cpu/vector_loops_body.h), compiled with -mno-avx: the target's baseline
// (SSE2 on x86-64), for CPUs without AVX2 + FMA and for architectures other than x86.
// Flags: cmake/CometLibrary.cmake. Tests: tests/kernels/test_vector_loops.cpp.
#include "kernels/cpu/vector_loops_body.h"

COMET_DEFINE_VECTOR_LOOPS(scalar)
