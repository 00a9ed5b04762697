// Thread-local selection of the kernel set.
#include "kernels/backend.h"

namespace comet {
namespace {
thread_local KernelSet g_set = KernelSet::Fast;
}
KernelSet kernel_set() { return g_set; }
KernelSetScope::KernelSetScope(KernelSet s) : previous_(g_set) { g_set = s; }
KernelSetScope::~KernelSetScope() { g_set = previous_; }
}  // namespace comet
