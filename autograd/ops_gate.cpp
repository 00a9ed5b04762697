// Gate building blocks: smooth-step, routing-tree leaf probabilities, joint softmax with a prior.
// Forward and backward side by side; kernels in kernels/gate.h.
#include <memory>

#include "autograd/device.h"
#include "autograd/ops.h"
#include "kernels/gate.h"

namespace comet::ag {

Var smooth_step(const Var& x, double gamma) {
  COMET_CHECK(gamma > 0, "smooth_step: gamma must be positive, got {}", gamma);
  const Tensor& X = x.value();
  Tensor Y = empty_as(X);
  COMET_DISPATCH_FLOAT(X.dtype(), "smooth_step", [&] {
    COMET_KERNEL_ON(X.device(), smooth_step<scalar_t>)(X.numel(), scalar_t(gamma), X.ptr<scalar_t>(),
                                                       Y.ptr<scalar_t>());
  });
  return record("smooth_step", Y, {x}, [gamma](Node& self) {
    const Tensor& X = self.inputs[0]->value;
    Tensor GX = empty_as(X);
    COMET_DISPATCH_FLOAT(X.dtype(), "smooth_step backward", [&] {
      COMET_KERNEL_ON(X.device(), smooth_step_backward<scalar_t>)(X.numel(), scalar_t(gamma), X.ptr<scalar_t>(),
                                                                  self.grad.ptr<scalar_t>(), GX.ptr<scalar_t>());
    });
    accumulate_grad(*self.inputs[0], std::move(GX));
  });
}

Var tree_probs(const Var& s, const RoutingTree& tree_in) {
  const Tensor& S = s.value();
  COMET_CHECK(S.ndim() >= 1 && S.cols() == tree_in.num_activations,
              "tree_probs: activations of shape {} do not match a tree with {} activations", shape_str(S.shape()),
              tree_in.num_activations);
  auto tree = std::make_shared<const RoutingTree>(tree_in);
  Shape out_shape = S.shape();
  out_shape.back() = tree->num_leaves;
  Tensor P = empty_on(S.device(), out_shape, S.dtype());
  COMET_DISPATCH_FLOAT(S.dtype(), "tree_probs", [&] {
    COMET_KERNEL_ON(S.device(), tree_probs<scalar_t>)(*tree, S.rows(), S.ptr<scalar_t>(), P.ptr<scalar_t>());
  });
  return record("tree_probs", P, {s}, [tree](Node& self) {
    const Tensor& S = self.inputs[0]->value;
    Tensor GS = empty_as(S);
    COMET_DISPATCH_FLOAT(S.dtype(), "tree_probs backward", [&] {
      COMET_KERNEL_ON(S.device(), tree_probs_backward<scalar_t>)(*tree, S.rows(), S.ptr<scalar_t>(),
                                                                 self.grad.ptr<scalar_t>(),
                                                  GS.ptr<scalar_t>());
    });
    accumulate_grad(*self.inputs[0], std::move(GS));
  });
}

Var prior_softmax(const Var& a, const Var& p) {
  const Tensor &A = a.value(), &P = p.value();
  COMET_CHECK(A.same_shape(P) && A.dtype() == P.dtype() && A.ndim() >= 1,
              "prior_softmax: logits {} {} and prior {} {} must have one shape and dtype", shape_str(A.shape()),
              dtype_name(A.dtype()), shape_str(P.shape()), dtype_name(P.dtype()));
  Tensor W = empty_on(common_device("prior_softmax", {&A, &P}), A.shape(), A.dtype());
  COMET_DISPATCH_FLOAT(A.dtype(), "prior_softmax", [&] {
    COMET_KERNEL_ON(A.device(), prior_softmax<scalar_t>)(A.rows(), A.cols(), A.ptr<scalar_t>(), P.ptr<scalar_t>(),
                                          W.ptr<scalar_t>());
  });
  return record("prior_softmax", W, {a, p}, [W](Node& self) {
    const Tensor &A = self.inputs[0]->value, &P = self.inputs[1]->value;
    Tensor GA = self.needs(0) ? empty_as(A) : Tensor();
    Tensor GP = self.needs(1) ? empty_as(P) : Tensor();
    COMET_DISPATCH_FLOAT(A.dtype(), "prior_softmax backward", [&] {
      COMET_KERNEL_ON(A.device(), prior_softmax_backward<scalar_t>)(
          A.rows(), A.cols(), A.ptr<scalar_t>(), P.ptr<scalar_t>(), W.ptr<scalar_t>(), self.grad.ptr<scalar_t>(),
          GA.defined() ? GA.ptr<scalar_t>() : nullptr, GP.defined() ? GP.ptr<scalar_t>() : nullptr);
    });
    if (GA.defined()) accumulate_grad(*self.inputs[0], std::move(GA));
    if (GP.defined()) accumulate_grad(*self.inputs[1], std::move(GP));
  });
}

}  // namespace comet::ag
