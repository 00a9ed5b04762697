// The instruction sets the CPU kernels have a path for, and which one runs. Every build carries all the paths its
// architecture allows (the x86 ones are compiled with their own target flags, see kernels/CMakeLists.txt); one is
// chosen at run time: the best this CPU supports, or the one COMET_ISA=scalar|avx2|avx512 names, or, inside a
// test or benchmark, the one an IsaScope forces. Tests: tests/kernels/test_isa.cpp.
#pragma once
#include <string>
#include <vector>

namespace comet::cpu {

// Ordered from the least to the most capable.
//   scalar: portable C++, no vector intrinsics (the compiler's baseline for the target);
//   avx2:   AVX2 + FMA (Haswell, Zen 1 and later);
//   avx512: AVX-512 F + VL, with FMA (Skylake-X, Zen 4 and later).
enum class Isa { scalar, avx2, avx512 };
inline constexpr Isa kAllIsas[] = {Isa::scalar, Isa::avx2, Isa::avx512};

const char* isa_name(Isa isa);

// Whether `isa` can run here: the CPU reports the instructions, the operating system saves the registers they
// use (XCR0, read with XGETBV) and this build carries the path. Always true for scalar.
bool cpu_supports(Isa isa);

// The ISAs cpu_supports, in kAllIsas order.
std::vector<Isa> supported_isas();

// Comma-separated names, e.g. "scalar, avx2, avx512".
std::string isa_names(const std::vector<Isa>& isas);

// The ISA for COMET_ISA's value `setting` (nullptr or "" when unset) on a CPU that supports `supported`: the
// named one, or the last (best) of `supported` when unset. Throws comet::Error naming the value and the
// supported ISAs when the name is unknown or not among them.
Isa choose_isa(const char* setting, const std::vector<Isa>& supported);

// The ISA the kernels use now: the innermost IsaScope's, else COMET_ISA's, else the best the CPU supports.
// COMET_ISA is read once, on first use; a bad value stops the program with choose_isa's message.
Isa active_isa();

// Forces `isa` for the kernels while it lives (tests and benchmarks; not thread-local: OpenMP workers of the
// calling thread see it too). Throws comet::Error when the CPU does not support `isa`.
class IsaScope {
 public:
  explicit IsaScope(Isa isa);
  ~IsaScope();
  IsaScope(const IsaScope&) = delete;
  IsaScope& operator=(const IsaScope&) = delete;

 private:
  int previous_;
};

}  // namespace comet::cpu
