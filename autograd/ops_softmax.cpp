// softmax and log_softmax along the last dimension (x seen as rows() x cols(), each row normalised),
// max-subtracted so that large inputs stay finite. The backward reads only the output:
// softmax: gx = y (gy - sum(gy y)); log_softmax: gx = gy - exp(y) sum(gy).
// Tests: tests/autograd/cases_reduce_loss.cpp, tests/kernels/test_reduce.cpp.
#include "autograd/ops.h"
#include "kernels/backend.h"
#include "kernels/reduce.h"

namespace comet::ag {
namespace {

Var row_softmax(const char* name, bool log_space, const Var& x) {
  const Tensor& X = x.value();
  COMET_CHECK(X.numel() > 0, "{}: empty input of shape {}", name, shape_str(X.shape()));
  Tensor Y = empty_like(X);
  COMET_DISPATCH_FLOAT(X.dtype(), name, [&] {
    COMET_KERNEL(softmax<scalar_t>)(log_space, X.rows(), X.cols(), X.data<scalar_t>(), Y.data<scalar_t>());
  });
  return record(name, Y, {x}, [log_space, Y](Node& self) {
    Tensor GX = empty_like(Y);
    COMET_DISPATCH_FLOAT(Y.dtype(), "softmax backward", [&] {
      COMET_KERNEL(softmax_backward<scalar_t>)(log_space, Y.rows(), Y.cols(), Y.data<scalar_t>(),
                                               self.grad.data<scalar_t>(), GX.data<scalar_t>());
    });
    accumulate_grad(*self.inputs[0], std::move(GX));
  });
}

}  // namespace

Var softmax(const Var& x) { return row_softmax("softmax", false, x); }
Var log_softmax(const Var& x) { return row_softmax("log_softmax", true, x); }

}  // namespace comet::ag
