// Which kernel set the autograd ops call: the fast CPU kernels (default) or the scalar references. A test
// runs the same op or the same network under both and compares; nothing else should switch it.
#pragma once

namespace comet {

enum class KernelSet { Fast, Reference };

KernelSet kernel_set();

class KernelSetScope {
 public:
  explicit KernelSetScope(KernelSet s);
  ~KernelSetScope();
  KernelSetScope(const KernelSetScope&) = delete;
  KernelSetScope& operator=(const KernelSetScope&) = delete;

 private:
  KernelSet previous_;
};

}  // namespace comet

// COMET_KERNEL(gemm<float>)(args...) calls ref::gemm or cpu::gemm according to kernel_set().
#define COMET_KERNEL(FN) (::comet::kernel_set() == ::comet::KernelSet::Reference ? &::comet::ref::FN : &::comet::cpu::FN)
