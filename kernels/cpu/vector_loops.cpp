// The choice among the per-ISA vector loops (kernels/cpu/vector_loops.h).
#include "kernels/cpu/vector_loops.h"

#include "core/error.h"

namespace comet::cpu {

template <class T>
const VectorLoops<T>& vector_loops(Isa isa) {
#if defined(COMET_X86_KERNELS)
  if (isa == Isa::avx2) return vector_loops_avx2<T>();
  if (isa == Isa::avx512) return vector_loops_avx512<T>();
#endif
  COMET_CHECK(isa == Isa::scalar, "vector_loops: this build has no {} path", isa_name(isa));
  return vector_loops_scalar<T>();
}

template const VectorLoops<float>& vector_loops<float>(Isa);
template const VectorLoops<double>& vector_loops<double>(Isa);

}  // namespace comet::cpu
