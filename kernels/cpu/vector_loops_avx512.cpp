// The AVX-512 vector loops (kernels/cpu/vector_loops_body.h on 16-float zmm vectors), compiled with -mavx512f
// -mavx512vl -mfma -mprefer-vector-width=512.
// Flags: cmake/CometLibrary.cmake. Tests: tests/kernels/test_vector_loops.cpp.
#include "kernels/cpu/vector_loops_body.h"

COMET_DEFINE_VECTOR_LOOPS(avx512)
