// Smooth-step is header-only (shared with CUDA kernels); this unit checks it compiles for both float types.
#include "moe/smooth_step.h"

namespace comet::moe {
template float smooth_step<float>(float, float);
template double smooth_step<double>(double, double);
template float smooth_step_derivative<float>(float, float);
template double smooth_step_derivative<double>(double, double);
}  // namespace comet::moe
