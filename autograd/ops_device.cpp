// to_device: a copy of x on another device; the gradient is copied back to x's device.
#include "autograd/device.h"
#include "autograd/ops.h"

namespace comet::ag {

Var to_device(const Var& x, Device device) {
  if (x.value().device() == device) return x;
  return record("to_device", copy_to(x.value(), device), {x}, [](Node& self) {
    accumulate_grad(*self.inputs[0], copy_to(self.grad, self.inputs[0]->value.device()));
  });
}

}  // namespace comet::ag
