// The choice among the per-ISA vector loops (kernels/cpu/vector_loops.h).
#include "kernels/cpu/vector_loops.h"

#include "kernels/cpu/isa_pick.h"

namespace comet::cpu {

template <class T>
const VectorLoops<T>& vector_loops(Isa isa) {
  return COMET_PICK_ISA(isa, vector_loops, <T>);
}

template const VectorLoops<float>& vector_loops<float>(Isa);
template const VectorLoops<double>& vector_loops<double>(Isa);

}  // namespace comet::cpu
