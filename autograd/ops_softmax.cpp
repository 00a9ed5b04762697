// softmax and log_softmax along the last dimension (x seen as rows() x cols(), each row normalised),
// max-subtracted so that large inputs stay finite. The backward reads only the output:
// softmax: gx = y (gy - sum(gy y)); log_softmax: gx = gy - exp(y) sum(gy).
// Tests: tests/autograd/cases_reduce_loss.cpp, tests/kernels/test_reduce.cpp.
#include "autograd/device.h"
#include "autograd/ops.h"

namespace comet::ag {
namespace {

Var row_softmax(const char* name, bool log_space, const Var& x) {
  const Tensor& X = x.value();
  COMET_CHECK(X.numel() > 0, "{}: empty input of shape {}", name, shape_str(X.shape()));
  Tensor Y = empty_as(X);
  COMET_DISPATCH_FLOAT(X.dtype(), name, [&] {
    COMET_KERNEL_ON(X.device(), softmax<scalar_t>)(log_space, X.rows(), X.cols(), X.ptr<scalar_t>(),
                                                   Y.ptr<scalar_t>());
  });
  return record(name, Y, {x}, [log_space, Y](Node& self) {
    Tensor GX = empty_as(Y);
    COMET_DISPATCH_FLOAT(Y.dtype(), "softmax backward", [&] {
      COMET_KERNEL_ON(Y.device(), softmax_backward<scalar_t>)(log_space, Y.rows(), Y.cols(), Y.ptr<scalar_t>(),
                                                              self.grad.ptr<scalar_t>(), GX.ptr<scalar_t>());
    });
    accumulate_grad(*self.inputs[0], std::move(GX));
  });
}

}  // namespace

Var softmax(const Var& x) { return row_softmax("softmax", false, x); }
Var log_softmax(const Var& x) { return row_softmax("log_softmax", true, x); }

}  // namespace comet::ag
