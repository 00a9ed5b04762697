// The AVX2 vector loops (kernels/cpu/vector_loops_body.h on 8-float ymm vectors), compiled with -mavx2 -mfma
// and without AVX-512.
// Flags: cmake/CometLibrary.cmake. Tests: tests/kernels/test_vector_loops.cpp.
#include "kernels/cpu/vector_loops_body.h"

COMET_DEFINE_VECTOR_LOOPS(avx2)
