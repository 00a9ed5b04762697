// sum and mean over all elements, down each column (Over::Rows -> [1, C]) or along each row
// (Over::Cols -> [R, 1]), x seen as rows() x cols(). The result has the shape of a broadcast operand
// (kernels/elementwise.h), so the forward is kernels' sum_to and the backward its adjoint expand.
// Tests: tests/autograd/cases_reduce_loss.cpp, tests/kernels/test_reduce.cpp.
#include "autograd/device.h"
#include "autograd/ops.h"
#include "kernels/reduce.h"

namespace comet::ag {
namespace {

Broadcast reduced_mode(Over over) {
  switch (over) {
    case Over::All: return Broadcast::Scalar;
    case Over::Rows: return Broadcast::Row;
    case Over::Cols: return Broadcast::Col;
  }
  return Broadcast::Scalar;
}

Shape reduced_shape(const Tensor& x, Over over) {
  switch (over) {
    case Over::All: return {};
    case Over::Rows: return {1, x.cols()};
    case Over::Cols: return {x.rows(), 1};
  }
  return {};
}

// Number of elements that each output element sums.
int64_t reduced_count(const Tensor& x, Over over) {
  return over == Over::All ? x.numel() : over == Over::Rows ? x.rows() : x.cols();
}

Var reduce(const char* name, const Var& x, Over over, bool average) {
  const Tensor& X = x.value();
  COMET_CHECK(X.numel() > 0, "{}: empty input of shape {}", name, shape_str(X.shape()));
  const Broadcast bc = reduced_mode(over);
  const double alpha = average ? 1.0 / double(reduced_count(X, over)) : 1.0;
  Tensor Y = empty_on(X.device(), reduced_shape(X, over), X.dtype());
  COMET_DISPATCH_FLOAT(X.dtype(), name, [&] {
    COMET_KERNEL_ON(X.device(), sum_to<scalar_t>)(bc, X.rows(), X.cols(), scalar_t(alpha), X.ptr<scalar_t>(),
                                                  Y.ptr<scalar_t>());
  });
  return record(name, Y, {x}, [bc, alpha](Node& self) {
    const Tensor& X = self.inputs[0]->value;
    Tensor GX = empty_as(X);
    COMET_DISPATCH_FLOAT(X.dtype(), "sum/mean backward", [&] {
      COMET_KERNEL_ON(X.device(), expand<scalar_t>)(bc, X.rows(), X.cols(), scalar_t(alpha), self.grad.ptr<scalar_t>(),
                                                    GX.ptr<scalar_t>());
    });
    accumulate_grad(*self.inputs[0], std::move(GX));
  });
}

}  // namespace

Var sum(const Var& x, Over over) { return reduce("sum", x, over, false); }
Var mean(const Var& x, Over over) { return reduce("mean", x, over, true); }

}  // namespace comet::ag
