// The choice among per-ISA definitions name_scalar(), name_avx2() and name_avx512() (one translation unit each,
// kernels/cpu/*_<isa>.cpp): COMET_PICK_ISA(isa, name) is the one of `isa`, COMET_PICK_ISA(isa, name, <T>) the same
// for templates. The one list of paths behind sgemm_kernel(), vector_loops() and direct_conv_kernel(). Only for the
// files of comet_kernels, which know whether the x86 paths are built (COMET_X86_KERNELS); a path this build lacks is
// an error that names it. Tests: tests/kernels/test_isa.cpp.
#pragma once
#include "core/error.h"
#include "kernels/cpu/isa.h"

namespace comet::cpu {

// `scalar`, when `isa` is the scalar path; otherwise the error for a path this build does not carry.
template <class T>
const T& scalar_path(Isa isa, const char* what, const T& scalar) {
  COMET_CHECK(isa == Isa::scalar, "{}: this build has no {} path", what, isa_name(isa));
  return scalar;
}

}  // namespace comet::cpu

#if defined(COMET_X86_KERNELS)
#define COMET_PICK_ISA(isa, name, ...)                                \
  ((isa) == ::comet::cpu::Isa::avx512 ? name##_avx512 __VA_ARGS__() \
   : (isa) == ::comet::cpu::Isa::avx2 ? name##_avx2 __VA_ARGS__()   \
                                      : ::comet::cpu::scalar_path(isa, #name, name##_scalar __VA_ARGS__()))
#else
#define COMET_PICK_ISA(isa, name, ...) ::comet::cpu::scalar_path(isa, #name, name##_scalar __VA_ARGS__())
#endif
